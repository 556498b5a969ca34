"""api.busy_retry: a request SQLite refused for lock contention runs again with the same body."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from api.busy_retry import RetryLockedDatabase
from api.errors import install_error_handlers


def contended_app(refusals: int) -> tuple[FastAPI, list[bytes]]:
    """An app whose one route is refused with SQLite's "database is locked" ``refusals`` times, then
    answers; the bodies it saw, in order."""
    app = FastAPI()
    app.add_middleware(RetryLockedDatabase, attempts=3, pause_s=0.001)
    install_error_handlers(app)
    seen: list[bytes] = []

    @app.post("/write")
    async def write(request: Request) -> dict:
        seen.append(await request.body())
        if len(seen) <= refusals:
            raise OperationalError("INSERT …", {}, Exception("database is locked"))
        return {"attempts": len(seen)}

    @app.post("/down")
    async def down() -> dict:
        raise OperationalError("connect", {}, Exception("connection refused"))

    return app, seen


def test_a_request_refused_for_lock_contention_runs_again_with_its_body_and_succeeds() -> None:
    app, seen = contended_app(refusals=2)
    answer = TestClient(app).post("/write", json={"seats": 2})
    assert answer.status_code == 200 and answer.json() == {"attempts": 3}
    assert seen == [b'{"seats":2}'] * 3


def test_contention_that_outlasts_the_attempts_is_a_503_to_try_later() -> None:
    app, seen = contended_app(refusals=5)
    answer = TestClient(app).post("/write", json={"seats": 2})
    assert answer.status_code == 503 and answer.json()["code"] == "database_unavailable"
    assert answer.headers["Retry-After"] == "5"
    assert len(seen) == 3


def test_a_database_that_is_down_is_not_retried() -> None:
    app, _ = contended_app(refusals=0)
    answer = TestClient(app).post("/down", json={})
    assert answer.status_code == 503 and answer.json()["code"] == "database_unavailable"
