"""Operators' manual control of the plan through the real app, on SQLite and on PostgreSQL
(api.services.plan_control, api.services.audit): a booking moved to the other bus reaches that bus's
driver stream and the database, and the audit log names the operator; refusals name the broken rule;
unknown ids are 404, bad input 422; pins and locks survive a restart."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from api.app import create_app
from api.auth import create_user
from api.clock import ServiceClock
from api.db.models import AuditEntry, Booking, Event, PlannedStop, Vehicle
from api.settings import Settings
from dispatch.events import EventKind
from dispatch.model import RouteLock
from tests.api.conftest import NOW, ZONE, MovableClock, book_vaduz_schaan
from tests.api.test_plan_change import database_url  # noqa: F401 (fixture: SQLite file or PostgreSQL schema)

OPERATOR = "/v1/operator"


@contextmanager
def two_buses(url: str, app_clock: MovableClock) -> Iterator[TestClient]:
    """The app with two demo buses at one depot; keys of a rider, an operator named "Olga Operator" and the
    drivers of bus-1 and bus-2 in ``client.keys``."""
    app = create_app(Settings(database_url=url, demo_buses=2), clock=ServiceClock(ZONE, wall_clock=app_clock))
    users = [("rider", "rider", None), ("Olga Operator", "operator", None), ("bus-1", "driver", "bus-1"),
             ("bus-2", "driver", "bus-2")]
    with TestClient(app) as test_client:
        with Session(app.state.engine) as session:
            keys = {name: create_user(session, name=name, role=role, vehicle_id=bus)[1]
                    for name, role, bus in users}
            test_client.keys = {name: {"Authorization": f"Bearer {key}"}  # type: ignore[attr-defined]
                                for name, key in keys.items()}
        yield test_client


@pytest.fixture
def client(database_url: str, app_clock: MovableClock) -> Iterator[TestClient]:  # noqa: F811
    """The two-bus app on this test's database."""
    with two_buses(database_url, app_clock) as test_client:
        yield test_client


def book(client: TestClient, hour: int = 9) -> dict:
    """The rider books Vaduz → Schaan leaving after ``hour``:00 today."""
    return book_vaduz_schaan(client, NOW.replace(hour=hour))


def until(websocket, kind: str) -> dict:
    """The next message of ``kind`` (skipping others, at most 20)."""
    for _ in range(20):
        message = websocket.receive_json()
        if message["kind"] == kind:
            return message
    raise AssertionError(f"no {kind} message")


def test_a_booking_moved_to_the_other_bus_reaches_its_driver_the_database_and_the_audit_log(client):
    """Olga moves the rider's booking to the other bus, pinned: that bus's driver stream gets the new
    route with the booking, the database holds the bus, the pin and the planned stops, the rider's view
    names the new bus, and the audit log has one entry with Olga's name, filterable by day, booking and
    either bus."""
    keys = client.keys
    olga = keys["Olga Operator"]
    booking = book(client)
    bus, other = booking["vehicle_id"], ({"bus-1", "bus-2"} - {booking["vehicle_id"]}).pop()
    with client.websocket_connect("/v1/driver/stream", headers=keys[other]) as websocket:
        assert websocket.receive_json()["route"]["stops"] == []
        moved = client.post(f"{OPERATOR}/bookings/{booking['id']}/move",
                            json={"vehicle_id": other, "pin": True}, headers=olga)
        assert moved.status_code == 200, moved.text
        changed = until(websocket, "route_changed")
    assert [s["booking_id"] for s in changed["route"]["stops"]] == [booking["id"]] * 2
    assert moved.json()["bookings_moved"] == {booking["id"]: other}
    assert sorted(moved.json()["routes_changed"]) == sorted([bus, other])
    read = client.get(f"/v1/bookings/{booking['id']}", headers=keys["rider"]).json()
    assert read["vehicle_id"] == other and read["pickup_window"] == booking["pickup_window"]
    plan = client.get(f"{OPERATOR}/vehicles/{other}/plan", headers=olga).json()
    assert [s["pinned"] for s in plan["stops"]] == [True, True]
    with Session(client.app.state.engine) as session:
        row = session.get(Booking, booking["id"])
        assert row is not None and row.vehicle_id == other and row.pinned
        planned = session.exec(select(PlannedStop).where(PlannedStop.booking_id == booking["id"])).all()
        assert {stop.vehicle_id for stop in planned} == {other}
    [entry] = client.get(f"{OPERATOR}/audit", headers=olga).json()
    assert (entry["operator_name"], entry["action"]) == ("Olga Operator", "move")
    assert entry["booking_id"] == booking["id"]
    assert (entry["from_vehicle_id"], entry["vehicle_id"]) == (bus, other)
    assert entry["before"]["vehicle_id"] == bus and entry["after"] == {**entry["after"], "vehicle_id": other,
                                                                       "pinned": True}
    for params in ({"day": NOW.date().isoformat()}, {"booking_id": booking["id"]}, {"vehicle_id": bus},
                   {"vehicle_id": other}):
        found = client.get(f"{OPERATOR}/audit", params=params, headers=olga).json()
        assert [e["id"] for e in found] == [entry["id"]]
    for params in ({"day": (NOW + timedelta(days=1)).date().isoformat()}, {"booking_id": "nope"}):
        assert client.get(f"{OPERATOR}/audit", params=params, headers=olga).json() == []


def test_manual_changes_are_in_the_bookings_history_and_the_event_log_by_their_operator(client):
    """Olga moves the rider's booking to the other bus, unpins and pins it again, and locks and unlocks that
    bus's route: the booking's history on the desk shows, after its confirmation, the move (from and to)
    and the pins by Olga, each pointing at its audit entry; the bus's locks are in the event log; a refused
    change logs nothing."""
    olga = client.keys["Olga Operator"]
    booking = book(client)
    bus, other = booking["vehicle_id"], ({"bus-1", "bus-2"} - {booking["vehicle_id"]}).pop()
    path = f"{OPERATOR}/bookings/{booking['id']}"
    moved = client.post(f"{path}/move", json={"vehicle_id": other, "pin": True}, headers=olga)
    assert moved.status_code == 200, moved.text
    assert client.delete(f"{path}/pin", headers=olga).status_code == 200
    assert client.post(f"{path}/pin", headers=olga).status_code == 200
    assert client.post(f"{OPERATOR}/vehicles/{other}/lock", json={}, headers=olga).status_code == 200
    assert client.delete(f"{OPERATOR}/vehicles/{other}/lock", headers=olga).status_code == 200
    assert client.post(f"{path}/move", json={"vehicle_id": "bus-9"}, headers=olga).status_code == 404

    history = client.get(path, headers=olga).json()["events"]
    assert [e["kind"] for e in history] == ["booking_confirmed", "booking_moved", "booking_unpinned",
                                            "booking_pinned"]
    manual = history[1:]
    assert {e["actor_name"] for e in manual} == {"Olga Operator"}
    assert manual[0]["payload"]["from_vehicle_id"] == bus and manual[0]["vehicle_id"] == other
    audit = client.get(f"{OPERATOR}/audit", params={"booking_id": booking["id"]}, headers=olga).json()
    assert [e["payload"]["audit_id"] for e in manual] == [e["id"] for e in reversed(audit)]
    with Session(client.app.state.engine) as session:
        locks = session.exec(select(Event).where(Event.vehicle_id == other,
                                                 col(Event.kind).in_([EventKind.ROUTE_LOCKED,
                                                                      EventKind.ROUTE_UNLOCKED]))
                             .order_by(col(Event.id))).all()
    assert [(e.kind, e.payload["lock"]) for e in locks] == [(EventKind.ROUTE_LOCKED, RouteLock.CLOSED.value),
                                                           (EventKind.ROUTE_UNLOCKED, RouteLock.NONE.value)]


def test_the_driver_sees_the_pins_and_the_lock_the_control_room_set(client):
    """The rider's booking moved to the other bus, pinned: that bus's driver reads both its stops pinned
    and no lock; Olga locks the route (closed): the driver's stream pushes the route with the lock, and
    the route read says so; unpinned and unlocked, the route says neither."""
    olga = client.keys["Olga Operator"]
    booking = book(client)
    other = ({"bus-1", "bus-2"} - {booking["vehicle_id"]}).pop()
    driver = client.keys[other]
    path = f"{OPERATOR}/bookings/{booking['id']}"
    moved = client.post(f"{path}/move", json={"vehicle_id": other, "pin": True}, headers=olga)
    assert moved.status_code == 200, moved.text
    route = client.get("/v1/driver/route", headers=driver).json()
    assert [(s["booking_id"], s["pinned"]) for s in route["stops"]] == [(booking["id"], True)] * 2
    assert route["lock"] == "none"
    with client.websocket_connect("/v1/driver/stream", headers=driver) as websocket:
        assert websocket.receive_json()["route"]["lock"] == "none"
        assert client.post(f"{OPERATOR}/vehicles/{other}/lock", json={}, headers=olga).status_code == 200
        assert until(websocket, "route_changed")["route"]["lock"] == "closed"
    assert client.get("/v1/driver/route", headers=driver).json()["lock"] == "closed"
    assert client.delete(f"{path}/pin", headers=olga).status_code == 200
    assert client.delete(f"{OPERATOR}/vehicles/{other}/lock", headers=olga).status_code == 200
    route = client.get("/v1/driver/route", headers=driver).json()
    assert route["lock"] == "none" and [s["pinned"] for s in route["stops"]] == [False, False]


def test_refusals_name_the_rule_unknown_ids_are_404_and_bad_input_422(client):
    """A move to the bus it is on: 409 same_vehicle. A 4-hour break that must start by 08:05 on the rider's
    bus breaks the 09:00 rider's window: 409 time_window naming the booking, nothing saved; with
    move_riders the rider goes to the other bus and the break is planned (201). A break after the shift:
    409 shift_end. Unknown booking or bus: 404. Bad bodies and queries: 422. Only the saved changes are in
    the audit log."""
    olga = client.keys["Olga Operator"]
    booking = book(client)
    bus, other = booking["vehicle_id"], ({"bus-1", "bus-2"} - {booking["vehicle_id"]}).pop()
    same = client.post(f"{OPERATOR}/bookings/{booking['id']}/move", json={"vehicle_id": bus}, headers=olga)
    assert same.status_code == 409 and same.json()["code"] == "same_vehicle"
    pause = {"earliest_start": NOW.isoformat(), "latest_start": (NOW + timedelta(minutes=5)).isoformat(),
             "duration_s": 4 * 3600}
    refused = client.post(f"{OPERATOR}/vehicles/{bus}/breaks", json=pause, headers=olga)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "time_window" and refused.json()["bookings"] == [booking["id"]]
    assert booking["id"] in refused.json()["message"]
    added = client.post(f"{OPERATOR}/vehicles/{bus}/breaks", json={**pause, "move_riders": True},
                        headers=olga)
    assert added.status_code == 201, added.text
    assert added.json()["bookings_moved"] == {booking["id"]: other}
    stops = client.get(f"{OPERATOR}/vehicles/{bus}/plan", headers=olga).json()["stops"]
    assert [s["kind"] for s in stops] == ["break"]
    late = {"earliest_start": (NOW + timedelta(days=30)).isoformat(),
            "latest_start": (NOW + timedelta(days=30, minutes=5)).isoformat(), "duration_s": 600}
    outside = client.post(f"{OPERATOR}/vehicles/{bus}/breaks", json=late, headers=olga)
    assert outside.status_code == 409 and outside.json()["code"] == "shift_end"
    for path, body in ((f"{OPERATOR}/bookings/nope/move", {"vehicle_id": bus}),
                       (f"{OPERATOR}/bookings/{booking['id']}/move", {"vehicle_id": "bus-99"}),
                       (f"{OPERATOR}/bookings/nope/pin", None), (f"{OPERATOR}/vehicles/bus-99/lock", {}),
                       (f"{OPERATOR}/vehicles/bus-99/breaks", pause)):
        answer = client.post(path, json=body, headers=olga)
        assert answer.status_code == 404 and answer.json()["code"].startswith("unknown_"), (path, answer.text)
    for path, body in ((f"{OPERATOR}/bookings/{booking['id']}/move", {"vehicle_id": "bus\x001"}),
                       (f"{OPERATOR}/bookings/{booking['id']}/move", {"vehicle_id": bus, "extra": 1}),
                       (f"{OPERATOR}/vehicles/{bus}/breaks", {**pause, "duration_s": 10**12}),
                       (f"{OPERATOR}/vehicles/{bus}/breaks",
                        {**pause, "earliest_start": "9999-01-01T00:00Z"}),
                       (f"{OPERATOR}/vehicles/{bus}/breaks",
                        {**pause, "latest_start": NOW.replace(hour=7).isoformat()}),
                       (f"{OPERATOR}/vehicles/{bus}/lock", {"allow_insertions": "maybe"})):
        answer = client.post(path, json=body, headers=olga)
        assert answer.status_code == 422, (body, answer.text)
        assert {"code", "message"} <= set(answer.json())
    for params in ({"day": "2026-13-01"}, {"limit": 0}, {"booking_id": "a\x00b"}):
        assert client.get(f"{OPERATOR}/audit", params=params, headers=olga).status_code == 422
    assert [e["action"] for e in client.get(f"{OPERATOR}/audit", headers=olga).json()] == ["add_break"]


def test_pins_and_locks_survive_a_restart_and_a_closed_route_takes_no_new_rider(database_url,  # noqa: F811
                                                                               app_clock):
    """Olga pins the booking and closes its bus's route: the next rider is planned on the other bus. After
    a restart on the same database the pin and the lock are back; unpinned and unlocked, they are gone
    from the database too, and the audit log has the four changes."""
    with two_buses(database_url, app_clock) as client:
        olga = client.keys["Olga Operator"]
        booking = book(client)
        bus = booking["vehicle_id"]
        assert client.post(f"{OPERATOR}/bookings/{booking['id']}/pin", headers=olga).status_code == 200
        locked = client.post(f"{OPERATOR}/vehicles/{bus}/lock", json={"allow_insertions": False},
                             headers=olga)
        assert locked.status_code == 200, locked.text
        assert book(client, hour=9)["vehicle_id"] != bus
    with two_buses(database_url, app_clock) as client:
        olga = client.keys["Olga Operator"]
        plan = client.get(f"{OPERATOR}/vehicles/{bus}/plan", headers=olga).json()
        assert plan["lock"] == "closed"
        assert [(s["booking_id"], s["pinned"]) for s in plan["stops"]] == [(booking["id"], True)] * 2
        assert client.delete(f"{OPERATOR}/bookings/{booking['id']}/pin", headers=olga).status_code == 200
        assert client.delete(f"{OPERATOR}/vehicles/{bus}/lock", headers=olga).status_code == 200
        with Session(client.app.state.engine) as session:
            row, vehicle = session.get(Booking, booking["id"]), session.get(Vehicle, bus)
            assert row is not None and not row.pinned
            assert vehicle is not None and vehicle.route_lock is RouteLock.NONE
            actions = [e.action for e in session.exec(select(AuditEntry).order_by(AuditEntry.id)).all()]
        assert actions == ["pin", "lock", "unpin", "unlock"]


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_a_pin_ends_with_its_withdrawn_bus_also_after_a_restart(database_url, app_clock):  # noqa: F811
    """Olga pins the rider's booking to its bus, then withdraws that bus: the rider goes to the other bus,
    unpinned in the plan and in the database, and a restart on the same database does not pin her there."""
    with two_buses(database_url, app_clock) as client:
        olga = client.keys["Olga Operator"]
        booking = book(client)
        bus = booking["vehicle_id"]
        other = ({"bus-1", "bus-2"} - {bus}).pop()
        assert client.post(f"{OPERATOR}/bookings/{booking['id']}/pin", headers=olga).status_code == 200
        withdrawn = client.post(f"{OPERATOR}/vehicles/{bus}/out-of-service", headers=olga)
        assert withdrawn.status_code == 200, withdrawn.text
        assert [b["booking_id"] for b in withdrawn.json()["replanned"]] == [booking["id"]]
        plan = client.get(f"{OPERATOR}/vehicles/{other}/plan", headers=olga).json()
        assert [(s["booking_id"], s["pinned"]) for s in plan["stops"]] == [(booking["id"], False)] * 2
        with Session(client.app.state.engine) as session:
            row = session.get(Booking, booking["id"])
            assert row is not None and (row.vehicle_id, row.pinned) == (other, False)
    with two_buses(database_url, app_clock) as client:
        plan = client.get(f"{OPERATOR}/vehicles/{other}/plan", headers=client.keys["Olga Operator"]).json()
        assert [(s["booking_id"], s["pinned"]) for s in plan["stops"]] == [(booking["id"], False)] * 2
