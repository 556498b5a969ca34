"""Restart safety: the service is killed mid-day (SIGKILL, no shutdown) and started again on the same
SQLite file; the bookings and routes come back from the database (api.services.recovery).

The service runs as a real uvicorn process with one 8-seat bus and the clock standing at 08:00 local on
23 November 2026; the client sends a rider's API key."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, create_engine

from api.app import create_app
from api.auth import create_user
from api.clock import ServiceClock
from api.services.recovery import recover_plan
from api.settings import Settings
from dispatch.dispatcher import Dispatcher
from tests.api.conftest import SCHAAN, VADUZ, ZONE
from tests.api.test_rider_api import trip

REPO = Path(__file__).resolve().parents[2]
SERVER = """
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import uvicorn

from api.app import create_app
from api.clock import ServiceClock
from api.settings import Settings

zone = ZoneInfo("Europe/Vaduz")
now = datetime(2026, 11, 23, 8, 0, tzinfo=zone)
app = create_app(Settings(database_url=sys.argv[1], demo_buses=1), clock=ServiceClock(zone, lambda: now))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def service(database: Path) -> Iterator[httpx.Client]:
    """The service in its own process on ``database``, killed with SIGKILL when the block ends."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", SERVER, f"sqlite:///{database}", str(port)], cwd=REPO,
                               env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            deadline = time.monotonic() + 120
            while True:
                assert process.poll() is None, "the service exited during start"
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the service did not start within 120 s"
                time.sleep(0.2)
            yield client
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)


def rider_key(database: Path) -> str:
    """A new rider's API key, written straight into the service's database."""
    engine = create_engine(f"sqlite:///{database}")
    try:
        with Session(engine) as session:
            return create_user(session, name="Rider", role="rider")[1]
    finally:
        engine.dispose()


def book(client: httpx.Client, key: str, **kwargs) -> dict:
    """Quote and book a trip that must get an offer; the booking."""
    offer = client.post("/v1/quotes", json=trip(**kwargs))
    assert offer.status_code == 200, offer.text
    booked = client.post("/v1/bookings", json={"quote_id": offer.json()["quote_id"]},
                         headers={"Idempotency-Key": key})
    assert booked.status_code == 201, booked.text
    return booked.json()


def test_bookings_survive_a_killed_service(tmp_path):
    """Book a full bus (8 seats, Vaduz → Schaan at 09:00) and a second trip, kill the service, start it
    again: both bookings read back with their promised windows and a planned pickup inside them, the
    second can be cancelled, and a new full-bus trip at 09:00 is not put on board with the first."""
    database = tmp_path / "rufbus.sqlite3"
    with service(database) as client:
        key = rider_key(database)
        client.headers["Authorization"] = f"Bearer {key}"
        full = book(client, "k-full", hour=9, seats=8)
        other = book(client, "k-other", hour=11, origin=SCHAAN, destination=VADUZ)

    with service(database) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        for before in (full, other):
            read = client.get(f"/v1/bookings/{before['id']}")
            assert read.status_code == 200, read.text
            after = read.json()
            assert after["status"] == "booked" and after["vehicle_id"] == before["vehicle_id"]
            assert after["pickup_window"] == before["pickup_window"]
            window = after["pickup_window"]
            assert after["planned_pickup"] is not None
            assert window["start"] <= after["planned_pickup"] <= window["end"]

        cancelled = client.delete(f"/v1/bookings/{other['id']}")
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"

        offer = client.post("/v1/quotes", json=trip(hour=9, seats=8))
        if offer.status_code == 200:  # the one bus may take it before or after the first: never both at once
            second = client.post("/v1/bookings", json={"quote_id": offer.json()["quote_id"]},
                                 headers={"Idempotency-Key": "k-second"})
            assert second.status_code == 201, second.text
            second_read = client.get(f"/v1/bookings/{second.json()['id']}").json()
            first_read = client.get(f"/v1/bookings/{full['id']}").json()
            assert first_read["pickup_window"] == full["pickup_window"]
            assert (second_read["estimated_arrival"] <= first_read["planned_pickup"]
                    or first_read["estimated_arrival"] <= second_read["planned_pickup"])
        else:
            assert offer.status_code == 422 and offer.json()["code"] == "no_vehicle_in_time", offer.text



@contextmanager
def app_with_a_rider(tmp_path: Path) -> Iterator[tuple[FastAPI, TestClient, ServiceClock]]:
    """The app in process with one bus on its own SQLite file, its clock at 08:00 local; the client
    sends a new rider's key."""
    clock = ServiceClock(ZONE, lambda: datetime(2026, 11, 23, 8, 0, tzinfo=ZONE))
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'rufbus.sqlite3'}", demo_buses=1),
                     clock=clock)
    with TestClient(app) as client:
        with Session(app.state.engine) as session:
            client.headers["Authorization"] = f"Bearer {create_user(session, name='R', role='rider')[1]}"
        yield app, client, clock


def test_a_plan_for_a_vehicle_no_longer_in_service_is_reported(tmp_path):
    """Restored into a dispatcher without the booked bus, the saved stops and the booking are not
    dropped silently: each comes back as a problem naming it."""
    with app_with_a_rider(tmp_path) as (app, client, clock):
        booking = book(client, "k-1", hour=9)
        live = app.state.dispatch
        empty = Dispatcher([], live.dispatcher.rules, live.network, clock.now())
        with Session(app.state.engine) as session:
            problems = recover_plan(session, dispatcher=empty, clock=clock, now=clock.now())
    assert problems == ["bus-1: 2 planned stops not restored, no such vehicle in service",
                        f"{booking['id']}: booked on 'bus-1' but not in its route"]


def test_a_bus_that_had_to_leave_during_the_outage_resumes_on_its_planned_times(tmp_path):
    """A trip from Schaan at 09:00 makes bus-1 leave its depot in Vaduz before 09:00. Restored at 08:59
    (as after an outage, no GPS report yet), the bus is taken to have left in time, as its driver
    following the route would have: the pickup starts at the stored time, not a drive later, and
    nothing is reported."""
    with app_with_a_rider(tmp_path) as (app, client, clock):
        book(client, "k-1", hour=9, origin=SCHAAN, destination=VADUZ)
        live = app.state.dispatch
        planned = live.dispatcher.plan.evaluation("bus-1")
        later = clock.to_seconds(datetime(2026, 11, 23, 8, 59, tzinfo=ZONE))
        assert later + live.dispatcher.legs.seconds(live.dispatcher.plan.state("bus-1").location,
                                                    live.dispatcher.plan.route("bus-1").stops[0].location) \
            > planned.start[0]  # leaving at 08:59 the bus would be late
        vehicles = list(live.dispatcher.plan.vehicles.values())
        fresh = Dispatcher(vehicles, live.dispatcher.rules, live.network, later)
        with Session(app.state.engine) as session:
            problems = recover_plan(session, dispatcher=fresh, clock=clock, now=later)
    assert problems == []
    assert fresh.plan.evaluation("bus-1").start == planned.start
