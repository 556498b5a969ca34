"""Two worker processes behind one Redis and one PostgreSQL database, as ``uvicorn --workers`` would run
them: one dispatches (holds the lease), the other forwards; route pushes reach a driver on either
worker; when the dispatching worker is killed the other takes over within the lease and nothing booked
is lost. Real uvicorn processes on 127.0.0.1, the real Redis and PostgreSQL servers.

Each test has its own PostgreSQL schema and its own area name (so its own Redis keys and channels)."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import redis
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import Session
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from api.auth import create_user
from api.db.session import create_db_engine
from tests.api.conftest import SCHAAN, VADUZ
from tests.api.test_recovery import REPO, free_port
from tests.api.test_rider_api import trip

LEASE_S = 1.5
SERVER = """
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import uvicorn

from api.app import create_app
from api.clock import ServiceClock
from api.settings import Settings

database_url, port, redis_url, area, lease_s = sys.argv[1:]
zone = ZoneInfo("Europe/Vaduz")
now = datetime(2026, 11, 23, 8, 0, tzinfo=zone)
settings = Settings(database_url=database_url, redis_url=redis_url, area=area, lease_s=float(lease_s),
                    forward_timeout_s=10, demo_buses=1)
app = create_app(settings, clock=ServiceClock(zone, lambda: now))
uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning")
"""


@pytest.fixture
def database(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL URL whose tables live in a fresh schema, dropped afterwards."""
    schema = f"rufbus_live_{secrets.token_hex(6)}"
    admin = create_db_engine(postgres_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield (
            make_url(postgres_url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def area(redis_url: str) -> Iterator[str]:
    """An area name of this test's own; its Redis keys are deleted afterwards."""
    name = f"test-{secrets.token_hex(4)}"
    yield name
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"rufbus:{name}:*"))
    if keys:
        client.delete(*keys)
    client.close()


class Worker:
    """One service process and an HTTP client for it."""

    def __init__(self, database: str, redis_url: str, area: str) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER, database, str(self.port), redis_url, area, str(LEASE_S)],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)

    def wait_ready(self) -> None:
        """Until /health answers (at most 120 s)."""
        deadline = time.monotonic() + 120
        while True:
            assert self.process.poll() is None, "the worker exited during start"
            try:
                if self.http.get("/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the worker did not start within 120 s"
            time.sleep(0.2)

    def dispatches(self) -> bool:
        """Whether this worker holds the dispatcher lease, by its /health."""
        return bool(self.http.get("/health").json()["live"]["dispatcher"])

    def stream(self, path: str, key: str) -> ClientConnection:
        """A WebSocket to ``path`` on this worker with ``key``."""
        return connect(
            f"ws://127.0.0.1:{self.port}{path}",
            additional_headers={"Authorization": f"Bearer {key}"},
            open_timeout=10,
        )

    def kill(self) -> None:
        """SIGKILL: no shutdown, the lease is not handed back."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.http.close()


@contextmanager
def two_workers(database: str, redis_url: str, area: str) -> Iterator[list[Worker]]:
    """Two workers on one database, Redis and area, both ready; killed at the end."""
    workers = [Worker(database, redis_url, area) for _ in range(2)]
    try:
        for worker in workers:
            worker.wait_ready()
        yield workers
    finally:
        for worker in workers:
            if worker.process.poll() is None:
                worker.kill()


def users(database: str) -> dict[str, str]:
    """API keys of a rider, of bus-1's driver and of an operator, written into the shared database."""
    engine = create_db_engine(database)
    try:
        with Session(engine) as session:
            return {
                "rider": create_user(session, name="Rider", role="rider")[1],
                "driver": create_user(session, name="Driver", role="driver", vehicle_id="bus-1")[1],
                "operator": create_user(session, name="Operator", role="operator")[1],
            }
    finally:
        engine.dispose()


def book(worker: Worker, key: str, idempotency_key: str, **kwargs) -> dict:
    """Quote and book through ``worker``; the booking."""
    headers = {"Authorization": f"Bearer {key}"}
    offer = worker.http.post("/v1/quotes", json=trip(**kwargs), headers=headers)
    assert offer.status_code == 200, offer.text
    booked = worker.http.post(
        "/v1/bookings",
        json={"quote_id": offer.json()["quote_id"]},
        headers=headers | {"Idempotency-Key": idempotency_key},
    )
    assert booked.status_code == 201, booked.text
    return booked.json()


def next_route(websocket: ClientConnection, booking_id: str) -> dict:
    """The next message carrying a route with ``booking_id`` on it (within 10 s)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        message = json.loads(websocket.recv(timeout=max(0.1, deadline - time.monotonic())))
        route = message.get("route") or {}
        if any(stop["booking_id"] == booking_id for stop in route.get("stops", [])):
            return message
    raise AssertionError(f"no route with {booking_id} pushed within 10 s")


def test_exactly_one_worker_dispatches_and_pushes_reach_both(database, redis_url, area):
    """Of two workers exactly one dispatches. A driver connected to each receives the route pushed
    after a booking made through the worker that does not dispatch (its request forwarded), and the
    booking reads back the same through both workers."""
    with two_workers(database, redis_url, area) as workers:
        assert sorted(w.dispatches() for w in workers) == [False, True]
        follower = next(w for w in workers if not w.dispatches())
        keys = users(database)
        with (
            workers[0].stream("/v1/driver/stream", keys["driver"]) as first,
            workers[1].stream("/v1/driver/stream", keys["driver"]) as second,
        ):
            for websocket in (first, second):
                assert json.loads(websocket.recv(timeout=10))["kind"] == "route"
            booking = book(follower, keys["rider"], "k-1")
            pushed = [next_route(websocket, booking["id"]) for websocket in (first, second)]
        assert {p["plan_version"] for p in pushed} == {pushed[0]["plan_version"]}
        for worker in workers:
            read = worker.http.get(
                f"/v1/bookings/{booking['id']}", headers={"Authorization": f"Bearer {keys['rider']}"}
            )
            assert read.status_code == 200 and read.json()["status"] == "booked", read.text


def test_the_lease_moves_when_the_dispatching_worker_is_killed(database, redis_url, area):
    """Kill -9 the dispatching worker: within a few lease times the other dispatches, the booking made
    before is in its plan (its driver's route comes back with it), the bus resumes from the position it
    last reported (not its depot), a retry of that booking with the same Idempotency-Key books nothing
    twice, and a new trip can be booked."""
    with two_workers(database, redis_url, area) as workers:
        keys = users(database)
        leader = next(w for w in workers if w.dispatches())
        survivor = next(w for w in workers if w is not leader)
        before = book(survivor, keys["rider"], "k-before", hour=9)
        report = {"positions": [{**SCHAAN, "at": "2026-11-23T08:00:00+01:00"}]}
        driver = {"Authorization": f"Bearer {keys['driver']}"}
        assert survivor.http.post("/v1/driver/positions", json=report, headers=driver).status_code == 202
        with survivor.stream("/v1/driver/stream", keys["driver"]) as websocket:
            assert json.loads(websocket.recv(timeout=10))["kind"] == "route"
            leader.kill()
            killed_at = time.monotonic()
            while not survivor.dispatches():
                assert time.monotonic() - killed_at < 4 * LEASE_S, "no take-over within four lease times"
                time.sleep(0.1)
            takeover_s = time.monotonic() - killed_at
            refreshed = next_route(websocket, before["id"])
        assert refreshed["kind"] == "route_changed" and takeover_s < 4 * LEASE_S
        operator = {"Authorization": f"Bearer {keys['operator']}"}
        bus = next(
            v for v in survivor.http.get("/v1/operator/fleet", headers=operator).json() if v["id"] == "bus-1"
        )
        assert bus["position"]["lat"] == pytest.approx(SCHAAN["lat"], abs=0.005)
        assert bus["position"]["lon"] == pytest.approx(SCHAAN["lon"], abs=0.005)
        rider = {"Authorization": f"Bearer {keys['rider']}"}
        read = survivor.http.get(f"/v1/bookings/{before['id']}", headers=rider)
        assert read.status_code == 200 and read.json()["status"] == "booked", read.text
        offer = survivor.http.post(
            "/v1/quotes", json=trip(hour=11, origin=SCHAAN, destination=VADUZ), headers=rider
        )
        assert offer.status_code == 200, offer.text
        retry = survivor.http.post(
            "/v1/bookings", json={"quote_id": before["id"]}, headers=rider | {"Idempotency-Key": "k-before"}
        )
        assert retry.status_code == 200 and retry.json()["id"] == before["id"], retry.text
        after = survivor.http.post(
            "/v1/bookings",
            json={"quote_id": offer.json()["quote_id"]},
            headers=rider | {"Idempotency-Key": "k-after"},
        )
        assert after.status_code == 201, after.text


def test_revoking_a_drivers_key_closes_their_streams_on_both_workers(database, redis_url, area):
    """The driver's tablet streams from each worker with its API key; an operator signs the driver out
    everywhere through one worker: both streams close with 4401 within two seconds (the other worker is
    told through Redis; streams re-check on their own only every 30 s), and the key is refused."""
    with two_workers(database, redis_url, area) as workers:
        keys = users(database)
        driver = {"Authorization": f"Bearer {keys['driver']}"}
        driver_id = workers[0].http.get("/v1/me", headers=driver).json()["id"]
        with (
            workers[0].stream("/v1/driver/stream", keys["driver"]) as first,
            workers[1].stream("/v1/driver/stream", keys["driver"]) as second,
        ):
            for websocket in (first, second):
                assert json.loads(websocket.recv(timeout=10))["kind"] == "route"
            revoked = workers[0].http.post(f"/v1/operator/users/{driver_id}/revoke",
                                           headers={"Authorization": f"Bearer {keys['operator']}"})
            assert revoked.status_code == 204, revoked.text
            started = time.monotonic()
            for websocket in (first, second):
                with pytest.raises(ConnectionClosed) as closed:
                    while True:
                        websocket.recv(timeout=max(0.1, 2 - (time.monotonic() - started)))
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
        for worker in workers:
            assert worker.http.get("/v1/me", headers=driver).status_code == 401
