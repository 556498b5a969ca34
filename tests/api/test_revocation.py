"""Revocation reaches what is open (api.accounts.revocation): the streams and cached credentials of this
worker at once, those of another worker through Redis pub/sub, and — when no message arrives (a
revocation by the ``rufbus`` command without Redis) — an open stream at its next re-check."""

from __future__ import annotations

import asyncio
import secrets
import time

from sqlmodel import Session
from starlette.websockets import WebSocketDisconnect

from api.accounts.revocation import Revocation, RevocationBoard
from api.auth import EVERYTHING, KEY, KeyCache, create_user, revoke_key
from api.db.models import User, UserRole
from tests.api.conftest import AppSetup, open_client


def person(user_id: int) -> User:
    return User(id=user_id, name=f"u{user_id}", role=UserRole.RIDER)


def test_a_revocation_ends_only_what_it_names():
    """In one process: revoking session s1 of user 7 ends the stream of s1 and forgets its cached token,
    not those of s2 or of user 8; revoking everything of user 7 ends the stream opened with the key."""
    keys = KeyCache(60)
    board = RevocationBoard(keys)
    keys.put("t1", person(7), "s1")
    keys.put("t2", person(7), "s2")
    keys.put("t8", person(8), "s1")

    async def scenario() -> list[bool]:
        watches = [board.watch(7, "s1"), board.watch(7, "s2"), board.watch(8, "s1"), board.watch(7, KEY)]
        board.announce(Revocation(7, "s1"))
        await asyncio.sleep(0)
        first = [w.ended.is_set() for w in watches]
        board.announce(Revocation(7, EVERYTHING))
        await asyncio.sleep(0)
        return first + [w.ended.is_set() for w in watches]

    assert asyncio.run(scenario()) == [True, False, False, False, True, True, False, True]
    assert (keys.caller("t1"), keys.caller("t2")) == (None, None) and keys.caller("t8") is not None


def test_a_revocation_announced_by_one_worker_reaches_another_through_redis(redis_url):
    """Two workers' boards on one Redis (an area of their own): worker A announces the end of session
    s1; worker B's stream of s1 is told within a second and B forgets the session's cached token."""
    area = f"test-revocation-{secrets.token_hex(4)}"
    keys_b = KeyCache(60)
    keys_b.put("token", person(7), "s1")
    a, b = (RevocationBoard(KeyCache(60), redis_url=redis_url, area=area),
            RevocationBoard(keys_b, redis_url=redis_url, area=area))
    a.start()
    b.start()
    try:
        async def scenario() -> float:
            watch = b.watch(7, "s1")
            started = time.monotonic()
            await asyncio.to_thread(a.announce, Revocation(7, "s1"))
            await asyncio.wait_for(watch.ended.wait(), timeout=5)
            return time.monotonic() - started

        assert asyncio.run(scenario()) < 1.0
        assert keys_b.caller("token") is None
    finally:
        a.stop()
        b.stop()


def test_a_stream_notices_a_revocation_it_was_not_told_of_at_its_re_check(tmp_path):
    """A key revoked in the database only (as ``rufbus key revoke`` does without Redis) closes the
    driver's stream it opened within the re-check interval (0.5 s here), with 4401."""
    setup = AppSetup({"demo_buses": 1, "reoptimize_every_s": 0, "stream_recheck_s": 0.5})
    with open_client(tmp_path, setup) as client:
        with Session(client.app.state.engine) as session:
            driver, key = create_user(session, name="Dana", role="driver", vehicle_id="bus-1")
        auth = {"Authorization": f"Bearer {key}"}
        with client.websocket_connect("/v1/driver/stream", headers=auth) as socket:
            assert socket.receive_json()["kind"] == "route"
            with Session(client.app.state.engine) as session:
                revoke_key(session, session.get(User, driver.id))
            started = time.monotonic()
            try:
                while True:
                    socket.receive_json()
            except WebSocketDisconnect as closed:
                assert closed.code == 4401
            assert time.monotonic() - started < 5
