"""The cache of authenticated API keys and access tokens (api.auth.KeyCache) on its own, and as the app
uses it (api.deps.get_current_user): a deactivated user keeps access at most ``auth_cache_s``, an expiring
token no longer than it is valid, a revoked session not at all; a failing key is looked up every time and
never kept."""

from __future__ import annotations

import time
from contextlib import AbstractContextManager

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

import api.deps
from api.auth import EVERYTHING, KeyCache, create_user
from api.db.models import User, UserRole
from api.settings import Settings
from tests.api.conftest import AppSetup, open_client


def user(name: str) -> User:
    """A user that lives only in memory."""
    return User(name=name, role=UserRole.RIDER, api_key_hash=f"hash-{name}")


# --- KeyCache on its own ------------------------------------------------------------------------------

def test_a_kept_user_is_returned_until_the_ttl_has_passed():
    """Within ttl_s the key gives back the very user kept; once ttl_s has passed it gives None."""
    cache, alice = KeyCache(0.2), user("alice")
    cache.put("key-a", alice)
    assert cache.get("key-a") is alice
    time.sleep(0.3)
    assert cache.get("key-a") is None
    assert cache.get("key-a") is None  # the expired entry was dropped, not resurrected


def test_an_unknown_key_gives_none():
    """A key never put gives None, even when others are kept."""
    cache = KeyCache(60)
    cache.put("key-a", user("alice"))
    assert cache.get("key-b") is None


def test_putting_a_key_again_replaces_its_user_and_its_expiry():
    """A second put of the same key keeps the newer user, with a fresh ttl."""
    cache, old, new = KeyCache(0.4), user("old"), user("new")
    cache.put("key", old)
    time.sleep(0.25)
    cache.put("key", new)
    time.sleep(0.25)  # past the first put's expiry, within the second's
    assert cache.get("key") is new


def test_a_credential_expiring_sooner_is_kept_only_until_it_expires():
    """An access token valid 0.1 s more is not trusted from the cache after that, though ttl_s is 60."""
    cache, alice = KeyCache(60), user("alice")
    cache.put("at_short", alice, "session-1", valid_s=0.1)
    cache.put("at_long", alice, "session-2", valid_s=30)
    time.sleep(0.2)
    assert cache.get("at_short") is None and cache.get("at_long") is alice


def test_forgetting_a_session_drops_only_its_credentials():
    """forget(user, session) drops that session's tokens; the user's other session and key stay;
    forget(user, EVERYTHING) drops them all."""
    cache, alice = KeyCache(60), user("alice")
    alice.id = 1
    cache.put("at_1", alice, "s1")
    cache.put("at_2", alice, "s2")
    cache.put("key", alice)
    cache.forget(1, "s1")
    assert (cache.get("at_1"), cache.get("at_2"), cache.get("key")) == (None, alice, alice)
    cache.forget(1, EVERYTHING)
    assert (cache.get("at_2"), cache.get("key")) == (None, None)


@pytest.mark.parametrize("ttl_s", [0, -1])
def test_a_ttl_of_zero_or_less_keeps_nothing(ttl_s):
    """With ttl_s <= 0 put is a no-op: get gives None right away."""
    cache = KeyCache(ttl_s)
    cache.put("key-a", user("alice"))
    assert cache.get("key-a") is None


def test_beyond_capacity_the_least_recently_put_goes_first():
    """Capacity 2: putting a third key evicts the first one put; the other two stay."""
    cache = KeyCache(60, capacity=2)
    a, b, c = user("a"), user("b"), user("c")
    cache.put("a", a)
    cache.put("b", b)
    cache.put("c", c)
    assert cache.get("a") is None
    assert (cache.get("b"), cache.get("c")) == (b, c)


def test_a_get_makes_a_key_the_most_recently_used():
    """Capacity 2: reading the older key before a third is put makes the other one the one evicted."""
    cache = KeyCache(60, capacity=2)
    a, b, c = user("a"), user("b"), user("c")
    cache.put("a", a)
    cache.put("b", b)
    assert cache.get("a") is a  # a is now more recent than b
    cache.put("c", c)
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c")) == (a, c)


def test_putting_an_existing_key_again_makes_it_the_most_recently_used():
    """Capacity 2: putting the older key anew protects it from the next eviction."""
    cache = KeyCache(60, capacity=2)
    a, b, c = user("a"), user("b"), user("c")
    cache.put("a", a)
    cache.put("b", b)
    cache.put("a", a)
    cache.put("c", c)
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c")) == (a, c)


# --- through the app ----------------------------------------------------------------------------------

def make_client(tmp_path, auth_cache_s: float) -> AbstractContextManager[TestClient]:
    """The app with one bus, no background rounds, keys cached ``auth_cache_s``; no users."""
    return open_client(tmp_path, AppSetup({"demo_buses": 1, "reoptimize_every_s": 0,
                                           "auth_cache_s": auth_cache_s}))


@pytest.fixture
def look_ups(monkeypatch) -> list[str]:
    """The keys api.deps looked up in the database, in order (the real look-up still runs)."""
    seen: list[str] = []
    real = api.deps._look_up

    def counting(engine, key, now):
        seen.append(key)
        return real(engine, key, now)

    monkeypatch.setattr(api.deps, "_look_up", counting)
    return seen


def new_rider(client: TestClient, name: str = "rider") -> tuple[int, str]:
    with Session(client.app.state.engine) as session:
        made, key = create_user(session, name=name, role="rider")
        return made.id, key


def deactivate(client: TestClient, user_id: int) -> None:
    with Session(client.app.state.engine) as session:
        row = session.get(User, user_id)
        row.active = False
        session.add(row)
        session.commit()


def me(client: TestClient, key: str):
    return client.get("/v1/me", headers={"Authorization": f"Bearer {key}"})


def test_the_app_builds_its_key_cache_from_the_settings(tmp_path):
    """app.state.keys is a KeyCache whose ttl is Settings.auth_cache_s; the default is 5 s, read from
    RUFBUS_AUTH_CACHE_S."""
    with make_client(tmp_path, 0.5) as client:
        assert isinstance(client.app.state.keys, KeyCache) and client.app.state.keys.ttl_s == 0.5
    assert Settings(database_url="sqlite://").auth_cache_s == 5.0


def test_the_auth_cache_is_read_from_the_environment(monkeypatch):
    """RUFBUS_AUTH_CACHE_S sets auth_cache_s; negative values are refused."""
    monkeypatch.setenv("RUFBUS_AUTH_CACHE_S", "0.5")
    assert Settings(database_url="sqlite://").auth_cache_s == 0.5
    monkeypatch.setenv("RUFBUS_AUTH_CACHE_S", "-1")
    with pytest.raises(ValueError):
        Settings(database_url="sqlite://")


def test_a_cached_key_is_looked_up_in_the_database_once(tmp_path, look_ups):
    """Three requests with one valid key within the ttl: one database look-up, three 200 answers."""
    with make_client(tmp_path, 30) as client:
        user_id, key = new_rider(client)
        answers = [me(client, key) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert {a.json()["id"] for a in answers} == {user_id}
    assert look_ups == [key]


def test_a_deactivated_user_keeps_access_while_cached_then_gets_401(tmp_path, look_ups):
    """With auth_cache_s=0.5: after a successful request the user is deactivated in the database; the
    next request (within the ttl) still succeeds from the cache, with no database look-up; once the ttl
    has passed the key is looked up again and refused with 401 unauthenticated."""
    with make_client(tmp_path, 0.5) as client:
        user_id, key = new_rider(client)
        assert me(client, key).status_code == 200
        deactivate(client, user_id)
        cached = me(client, key)
        assert cached.status_code == 200 and cached.json()["id"] == user_id
        assert look_ups == [key]
        time.sleep(0.6)
        refused = me(client, key)
    assert refused.status_code == 401 and refused.json()["code"] == "unauthenticated"
    assert refused.headers["www-authenticate"] == "Bearer"
    assert look_ups == [key, key]


def test_without_a_cache_deactivation_takes_effect_on_the_next_request(tmp_path, look_ups):
    """With auth_cache_s=0 every request reads the database: the request right after deactivation is
    401, and the cache holds nothing."""
    with make_client(tmp_path, 0) as client:
        user_id, key = new_rider(client)
        assert me(client, key).status_code == 200
        assert me(client, key).status_code == 200
        assert client.app.state.keys.get(key) is None
        deactivate(client, user_id)
        assert me(client, key).status_code == 401
    assert look_ups == [key, key, key]


@pytest.mark.parametrize("which", ["wrong", "inactive"])
def test_a_failing_key_is_refused_every_time_and_never_cached(tmp_path, look_ups, which):
    """A key no user holds, or the key of an inactive user, is refused with 401 on each of three
    requests, each time after a database look-up; nothing is kept for it in the cache, while a valid
    key used alongside is kept."""
    with make_client(tmp_path, 30) as client:
        _, good = new_rider(client, "good")
        if which == "wrong":
            key = "not-a-key"
        else:
            user_id, key = new_rider(client, "inactive")
            deactivate(client, user_id)
        answers = [me(client, key) for _ in range(3)]
        assert me(client, good).status_code == 200
        keys = client.app.state.keys
        assert keys.get(key) is None
        assert keys.get(good) is not None
    assert [a.status_code for a in answers] == [401, 401, 401]
    assert all(a.json()["code"] == "unauthenticated" for a in answers)
    assert look_ups == [key, key, key, good]
