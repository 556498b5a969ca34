"""A late bus through the real app, on SQLite and on PostgreSQL: a driver's position report that puts the
bus behind the plan re-times it at once (api.services.driving, dispatch.disturbance). The rider's
booking stream gets a ``promise_changed`` message with the new pickup estimate and the new window, the
operators' stream gets it as an alert, and the new promise is saved with an event."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.app import create_app
from api.auth import create_user
from api.clock import ServiceClock
from api.db.models import Booking, Event, PlannedStop
from api.settings import Settings
from dispatch.disturbance import PROMISE_MARGIN_S
from dispatch.events import EventKind
from tests.api.conftest import NOW as START
from tests.api.conftest import SCHAAN, VADUZ, ZONE, MovableClock, book_vaduz_schaan
from tests.api.test_plan_change import database_url  # noqa: F401 (fixture: SQLite file or PostgreSQL schema)

MAX_MESSAGES = 20


@contextmanager
def app_with(url: str, app_clock: MovableClock, buses: int) -> Iterator[TestClient]:
    """The app with ``buses`` demo buses; keys of a rider, an operator and each bus's driver (``bus-k``)
    in ``client.keys``."""
    app = create_app(Settings(database_url=url, demo_buses=buses),
                     clock=ServiceClock(ZONE, wall_clock=app_clock))
    users = [("rider", "rider", None), ("operator", "operator", None),
             *((f"bus-{k}", "driver", f"bus-{k}") for k in range(1, buses + 1))]
    with TestClient(app) as test_client:
        with Session(app.state.engine) as session:
            test_client.keys = {  # type: ignore[attr-defined]
                name: {"Authorization":
                       f"Bearer {create_user(session, name=name, role=role, vehicle_id=bus)[1]}"}
                for name, role, bus in users}
        yield test_client


@pytest.fixture
def client(database_url: str, app_clock: MovableClock) -> Iterator[TestClient]:  # noqa: F811
    """The app with one bus (bus-1)."""
    with app_with(database_url, app_clock, 1) as test_client:
        yield test_client


@pytest.fixture
def two_buses(database_url: str, app_clock: MovableClock) -> Iterator[TestClient]:  # noqa: F811
    """The app with two buses (bus-1, bus-2) at the same depot."""
    with app_with(database_url, app_clock, 2) as test_client:
        yield test_client


def until(websocket, kind: str) -> dict:
    """The next message of ``kind`` (skipping others, at most MAX_MESSAGES)."""
    for _ in range(MAX_MESSAGES):
        message = websocket.receive_json()
        if message["kind"] == kind:
            return message
    raise AssertionError(f"no {kind} message among {MAX_MESSAGES}")


def book(client: TestClient) -> dict:
    """The rider books Vaduz → Schaan leaving after 09:00 today."""
    return book_vaduz_schaan(client, START.replace(hour=9))


def test_a_late_position_report_changes_the_promise_and_tells_rider_and_operators(
        client: TestClient, app_clock: MovableClock) -> None:
    """Booked for 09:00 from Vaduz; at 09:30 the driver reports the bus still in Schaan, minutes away.
    The only bus cannot keep the window: the rider's stream gets promise_changed with a planned pickup
    after the old window and a window ending at that estimate plus the margin; the operators' stream
    gets the same promise_changed for the booking; the booking reads back with the new window, and the
    database holds it and a promise_changed event."""
    booking = book(client)
    old_end = datetime.fromisoformat(booking["pickup_window"]["end"])
    keys = client.keys  # type: ignore[attr-defined]
    path = f"/v1/bookings/{booking['id']}"
    app_clock.moment = START.replace(hour=9, minute=30)
    report = {"positions": [{**SCHAAN, "at": app_clock.moment.isoformat()}]}
    with client.websocket_connect(f"{path}/stream", headers=keys["rider"]) as rider_ws, \
            client.websocket_connect("/v1/operator/stream", headers=keys["operator"]) as operator_ws:
        assert rider_ws.receive_json()["kind"] == "booking"
        assert operator_ws.receive_json()["kind"] == "fleet"
        assert client.post("/v1/driver/positions", json=report, headers=keys["bus-1"]).status_code == 202
        told = until(rider_ws, "promise_changed")
        alert = until(operator_ws, "promise_changed")
    estimate = datetime.fromisoformat(told["booking"]["planned_pickup"])
    assert estimate > app_clock.moment > old_end
    new_end = datetime.fromisoformat(told["booking"]["pickup_window"]["end"])
    assert new_end == estimate + timedelta(seconds=PROMISE_MARGIN_S)
    assert alert["request_id"] == booking["id"] and alert["vehicle_id"] == "bus-1"
    assert alert["data"]["previous_window"][1] < alert["data"]["window"][1]
    read = client.get(path, headers=keys["rider"]).json()
    assert datetime.fromisoformat(read["pickup_window"]["end"]) == new_end
    assert datetime.fromisoformat(read["planned_pickup"]) == estimate
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        row = session.get(Booking, booking["id"])
        assert row is not None and row.window_end == new_end
        events = session.exec(select(Event).where(Event.kind == EventKind.PROMISE_CHANGED)).all()
        assert [e.request_id for e in events] == [booking["id"]]


def test_a_position_on_time_changes_no_promise(client: TestClient, app_clock: MovableClock) -> None:
    """At 08:30 the bus reports itself in Vaduz, where its 09:00 rider waits: the promise stands, nothing
    is written."""
    booking = book(client)
    keys = client.keys  # type: ignore[attr-defined]
    app_clock.moment = START.replace(hour=8, minute=30)
    report = {"positions": [{**VADUZ, "at": app_clock.moment.isoformat()}]}
    assert client.post("/v1/driver/positions", json=report, headers=keys["bus-1"]).status_code == 202
    read = client.get(f"/v1/bookings/{booking['id']}", headers=keys["rider"]).json()
    assert read["pickup_window"] == booking["pickup_window"]
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        assert session.exec(select(Event).where(Event.kind == EventKind.PROMISE_CHANGED)).all() == []


def test_a_late_bus_hands_its_rider_to_a_bus_that_keeps_the_promise(two_buses: TestClient,
                                                                    app_clock: MovableClock) -> None:
    """Two buses at the depot in Vaduz. Two minutes before the rider's window ends, the other bus reports
    itself at the depot, where the rider waits, and the rider's bus reports itself in Schaan, minutes
    away: the other bus keeps the promise, so the booking moves to it — in the database too, with its
    planned stops — the window stays, and nobody hears of a new promise."""
    client = two_buses
    booking = book(client)
    keys = client.keys  # type: ignore[attr-defined]
    bus, other = booking["vehicle_id"], ({"bus-1", "bus-2"} - {booking["vehicle_id"]}).pop()
    app_clock.moment = datetime.fromisoformat(booking["pickup_window"]["end"]) - timedelta(minutes=2)
    for driver, place in ((other, VADUZ), (bus, SCHAAN)):
        report = {"positions": [{**place, "at": app_clock.moment.isoformat()}]}
        assert client.post("/v1/driver/positions", json=report, headers=keys[driver]).status_code == 202
    read = client.get(f"/v1/bookings/{booking['id']}", headers=keys["rider"]).json()
    assert read["vehicle_id"] == other and read["pickup_window"] == booking["pickup_window"]
    window_end = datetime.fromisoformat(booking["pickup_window"]["end"])
    assert datetime.fromisoformat(read["planned_pickup"]) <= window_end
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        row = session.get(Booking, booking["id"])
        assert row is not None and row.vehicle_id == other
        planned = session.exec(select(PlannedStop).where(PlannedStop.booking_id == booking["id"])).all()
        assert {stop.vehicle_id for stop in planned} == {other} and len(planned) == 2
        assert session.exec(select(Event).where(Event.kind == EventKind.PROMISE_CHANGED)).all() == []
