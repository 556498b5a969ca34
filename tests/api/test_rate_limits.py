"""Riders' rate limits (api/rate_limits.py): through the API in process (memory counts), and two
workers' limiters sharing their counts in a real Redis server."""

from __future__ import annotations

import asyncio
import threading
import uuid

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlmodel import Session, func, select

from api.auth import create_user
from api.db.models import DemandRecord, Event
from api.db.session import create_db_engine
from api.errors import TooManyRequests
from api.rate_limits import Action, ActionLimits, RateLimits, RefusedUntil
from api.settings import Settings
from tests.api import test_live_workers as live_workers
from tests.api.conftest import NOW, SCHAAN, VADUZ, AppSetup

USERS = (("ann", "rider", None), ("bob", "rider", None), ("op", "operator", None))
NONE = {"quote_rate_per_address": "", "booking_rate_per_account": "", "booking_rate_per_address": ""}
# Two workers behind Redis and PostgreSQL: a fresh schema and area per test (tests/api/test_live_workers.py).
database, area, two_workers = live_workers.database, live_workers.area, live_workers.two_workers
CLIENT = AppSetup(settings={**NONE, "quote_rate_per_account": "3/minute"}, users=USERS)


def trip(hour: int = 9) -> dict:
    """A quote body: Vaduz → Schaan, leave after hour:00 today."""
    return {"origin": VADUZ, "destination": SCHAAN, "time_type": "leave_after",
            "time": NOW.replace(hour=hour).isoformat(), "seats": 1, "wheelchairs": 0}


def ask(client: TestClient, name: str):
    """A quote asked by user ``name``; the answer."""
    return client.post("/v1/quotes", json=trip(), headers=client.keys[name])  # type: ignore[attr-defined]


def create_user_key(database_url: str, name: str) -> str:
    """The API key of a new rider ``name`` in the database at ``database_url``."""
    engine = create_db_engine(database_url)
    try:
        with Session(engine) as session:
            return create_user(session, name=name, role="rider")[1]
    finally:
        engine.dispose()


def test_a_burst_of_quotes_is_refused_with_retry_after_and_other_riders_go_on(client):
    """With 3 quotes a minute per account, ann's first three are answered (offers) and the next ones
    429 ``rate_limited`` with a Retry-After of at most a minute; bob, asking meanwhile, gets his offer."""
    answers = [ask(client, "ann") for _ in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    refused = answers[3]
    assert refused.json()["code"] == "rate_limited" and "3 per 1 minute" in refused.json()["message"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert ask(client, "bob").status_code == 200


def test_a_rider_known_to_be_over_the_limit_is_refused_at_the_door(client):
    """Once the limiter refused ann, her next quotes are answered 429 before anything reads them — a body
    that is not even JSON (else 422) too — with a Retry-After; bob's malformed body still gets its 422, and
    an operator's request is never held at the door."""
    for _ in range(3):
        assert ask(client, "ann").status_code == 200
    assert ask(client, "ann").status_code == 429  # the limiter's refusal: now known
    broken = {**client.keys["ann"], "Content-Type": "application/json"}  # type: ignore[attr-defined]
    door = client.post("/v1/quotes", content=b"{not json", headers=broken)
    assert door.status_code == 429 and door.json()["code"] == "rate_limited"
    assert 1 <= int(door.headers["Retry-After"]) <= 60
    assert door.headers["X-Content-Type-Options"] == "nosniff"  # the security headers still go round it
    other = {**client.keys["bob"], "Content-Type": "application/json"}  # type: ignore[attr-defined]
    assert client.post("/v1/quotes", content=b"{not json", headers=other).status_code == 422
    assert client.post("/v1/quotes", json=trip(), headers=client.keys["op"]).status_code == 200  # type: ignore[attr-defined]


def test_the_door_lets_a_rider_in_again_when_the_window_moves_on():
    """The door holds a refused identity only until the limiter would let it in again, and forgets it."""
    moments = iter([100.0, 100.5, 101.0, 101.0])
    door = RefusedUntil(clock=lambda: next(moments))
    door.refused(Action.QUOTE, "account", "7", until=101.0)
    assert door.wait_s(Action.QUOTE, account="7", address=None) == 1.0
    assert door.wait_s(Action.QUOTE, account="7", address="10.0.0.1") == 0.5
    assert door.wait_s(Action.BOOKING, account="7", address=None) == 0.0  # another action: not refused
    assert door.wait_s(Action.QUOTE, account="7", address=None) == 0.0  # the window moved on


def test_refused_quotes_write_nothing(client):
    """A rate-limited quote leaves no demand record and no event: rejection comes before any work."""
    def rows() -> tuple[int, int]:
        with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
            return (session.exec(select(func.count()).select_from(DemandRecord)).one(),
                    session.exec(select(func.count()).select_from(Event)).one())

    for _ in range(3):
        ask(client, "ann")
    before = rows()
    assert [ask(client, "ann").status_code for _ in range(10)] == [429] * 10
    assert rows() == before


def test_the_limit_is_checked_before_the_dispatch_lock(client):
    """While another request holds the dispatch lock, a quote over the limit is refused at once instead of
    waiting for the lock."""
    for _ in range(3):
        ask(client, "ann")
    answers = []
    live = client.app.state.dispatch  # type: ignore[attr-defined]
    with live.lock:
        worker = threading.Thread(target=lambda: answers.append(ask(client, "ann")))
        worker.start()
        worker.join(timeout=30)
        assert not worker.is_alive(), "the refusal waited for the dispatch lock"
    assert answers[0].status_code == 429


def test_the_address_limit_counts_every_account_from_one_address(client_factory):
    """With 3 quotes a minute per address and none per account, ann's two quotes and bob's first from the
    same address use it up: bob's second is refused 429 as well."""
    with client_factory(quote_rate_per_account="", quote_rate_per_address="3/minute") as client:
        assert [ask(client, "ann").status_code for _ in range(2)] == [200, 200]
        assert ask(client, "bob").status_code == 200
        refused = ask(client, "bob")
        assert refused.status_code == 429 and "address" in refused.json()["message"]


def test_bookings_have_their_own_limit(client_factory):
    """With one booking a minute per account, ann's second booking (another quote) is refused 429; the
    quotes' limit does not count bookings."""
    with client_factory(quote_rate_per_account="", booking_rate_per_account="1/minute") as client:
        auth = client.keys["ann"]  # type: ignore[attr-defined]
        ids = [ask(client, "ann").json()["quote_id"] for _ in range(2)]
        first = client.post("/v1/bookings", json={"quote_id": ids[0]},
                            headers={**auth, "Idempotency-Key": "a"})
        second = client.post("/v1/bookings", json={"quote_id": ids[1]},
                             headers={**auth, "Idempotency-Key": "b"})
        assert (first.status_code, second.status_code) == (201, 429)
        assert "Retry-After" in second.headers


def test_operators_are_not_rate_limited(client):
    """An operator quoting for a caller five times in a row, over the riders' 3 a minute, is never 429."""
    op = client.keys["op"]  # type: ignore[attr-defined]
    rider = client.get("/v1/operator/riders", params={"q": "ann"}, headers=op).json()[0]["id"]
    statuses = {client.post(f"/v1/operator/riders/{rider}/quotes", json=trip(), headers=op).status_code
                for _ in range(5)}
    assert statuses == {200}
    assert {client.post("/v1/quotes", json=trip(), headers=op).status_code for _ in range(5)} == {200}


def test_a_limit_that_cannot_be_read_is_refused_at_start():
    """``RUFBUS_QUOTE_RATE_PER_ACCOUNT=lots`` is a settings error naming the expected form."""
    with pytest.raises(ValidationError, match="2/second;30/minute"):
        Settings(quote_rate_per_account="lots")


@pytest.mark.redis
def test_two_workers_share_their_counts_in_redis(redis_url):
    """Two workers' limiters on one Redis server (3 quotes a minute per account): two quotes counted by
    one and one by the other use up the account's minute on both; another account is unaffected; and
    once the counts are gone (the window passed, here: the keys deleted) it may ask again."""
    import redis

    name = f"test-{uuid.uuid4().hex[:8]}"
    rules = {Action.QUOTE: ActionLimits("3/minute", "")}

    async def scenario() -> None:
        first = RateLimits.create(rules, redis_url=redis_url, area=name)
        second = RateLimits.create(rules, redis_url=redis_url, area=name)
        await first.check(Action.QUOTE, account=1, address="10.0.0.1")
        await first.check(Action.QUOTE, account=1, address="10.0.0.1")
        await second.check(Action.QUOTE, account=1, address="10.0.0.2")
        for limiter in (first, second):
            with pytest.raises(TooManyRequests) as refused:
                await limiter.check(Action.QUOTE, account=1, address="10.0.0.3")
            assert 1 <= refused.value.retry_after_s <= 60
        await second.check(Action.QUOTE, account=2, address="10.0.0.1")

    asyncio.run(scenario())
    client = redis.Redis.from_url(redis_url)
    try:
        keys = client.keys(f"rufbus:{name}:limits*")
        assert keys, "the counts live in Redis under the area's prefix"
        client.delete(*keys)
    finally:
        client.close()

    async def again() -> None:
        await RateLimits.create(rules, redis_url=redis_url, area=name).check(Action.QUOTE, account=1,
                                                                             address="10.0.0.1")

    asyncio.run(again())


def test_redis_out_of_reach_lets_requests_through():
    """Limits whose Redis cannot be reached do not refuse anybody (fair use must not take the service
    down): ten quotes over a limit of one pass."""
    limits = RateLimits.create({Action.QUOTE: ActionLimits("1/minute", "")},
                               redis_url="redis://127.0.0.1:1/0", area="nowhere")

    async def burst() -> None:
        for _ in range(10):
            await limits.check(Action.QUOTE, account=1, address=None)

    asyncio.run(burst())


@pytest.mark.postgres
@pytest.mark.redis
def test_two_workers_count_each_client_address_through_forwarding(database, redis_url, area, monkeypatch):
    """Two uvicorn workers behind Redis and PostgreSQL, 3 quotes a minute per address: ann's quotes from
    10.0.0.1 (``X-Forwarded-For`` from the trusted 127.0.0.1) through the worker that forwards are counted
    as 10.0.0.1's by the dispatching one — her fourth, through either worker, is refused 429 — while bob
    from 10.0.0.2 goes on, even claiming to be 10.0.0.1 in the forwarding's own header."""
    monkeypatch.setenv("RUFBUS_QUOTE_RATE_PER_ADDRESS", "3/minute")
    with two_workers(database, redis_url, area) as workers:
        keys = [create_user_key(database, name) for name in ("ann", "bob")]
        follower = next(w for w in workers if not w.dispatches())
        leader = next(w for w in workers if w.dispatches())

        def ask_via(worker, key: str, address: str, **extra: str) -> int:
            headers = {"Authorization": f"Bearer {key}", "X-Forwarded-For": address, **extra}
            return worker.http.post("/v1/quotes", json=trip(), headers=headers).status_code

        assert [ask_via(follower, keys[0], "10.0.0.1") for _ in range(3)] == [200, 200, 200]
        assert ask_via(follower, keys[0], "10.0.0.1") == 429
        assert ask_via(leader, keys[0], "10.0.0.1") == 429
        assert ask_via(follower, keys[1], "10.0.0.2", **{"x-rufbus-client": "10.0.0.1"}) == 200
