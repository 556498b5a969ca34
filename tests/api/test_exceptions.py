"""The operators' exceptions (api.services.exceptions, ``GET /v1/operator/exceptions``) through the real app
on SQLite and on PostgreSQL, with one bus and a clock the tests move: a bus reported far from its next
pickup is late by the minutes its plan now misses the window by, a bus silent too long shows, a rider
whose window ended unserved waits past it, an on-time morning shows nothing; and what the system did (a
new promise, a rider moved) is read from the event log (who may call it: tests/api/test_auth.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.app import create_app
from api.auth import create_user
from api.clock import ServiceClock
from api.schemas import ActionKind, ExceptionKind, Severity
from api.services.exceptions import PROMISE_CHANGED, EventRecord, ExceptionThresholds, find_exceptions
from api.settings import Settings
from dispatch.disturbance import PROMISE_MARGIN_S
from dispatch.events import EventKind
from tests.api.conftest import NOW as START
from tests.api.conftest import VADUZ, ZONE, MovableClock, book_vaduz_schaan
from tests.api.test_plan_change import database_url  # noqa: F401 (fixture: SQLite file or PostgreSQL schema)

FAR = {"lat": 47.2290, "lon": 9.5480}  # 10 km north of Vaduz: a quarter of an hour's drive
PATH = "/v1/operator/exceptions"


@contextmanager
def open_app(url: str, clock: MovableClock, **settings: Any) -> Iterator[TestClient]:
    """The app on database ``url`` with ``settings`` (one bus unless they say otherwise; bus-1's shift from
    05:00); keys of a rider, bus-1's driver and an operator in ``client.keys``."""
    app = create_app(Settings(database_url=url, **({"demo_buses": 1} | settings)),
                     clock=ServiceClock(ZONE, wall_clock=clock))
    with TestClient(app) as test_client:
        with Session(app.state.engine) as session:
            test_client.keys = {  # type: ignore[attr-defined]
                name: {"Authorization":
                       f"Bearer {create_user(session, name=name, role=role, vehicle_id=bus)[1]}"}
                for name, role, bus in (("rider", "rider", None), ("driver", "driver", "bus-1"),
                                        ("operator", "operator", None))}
        yield test_client


@pytest.fixture
def client(database_url: str, app_clock: MovableClock) -> Iterator[TestClient]:  # noqa: F811
    """The app with one bus, bus-1."""
    with open_app(database_url, app_clock) as test_client:
        yield test_client


def book(client: TestClient, hour: int = 9) -> dict:
    """The rider books Vaduz → Schaan leaving after ``hour``:00 today."""
    return book_vaduz_schaan(client, START.replace(hour=hour))


def report(client: TestClient, clock: MovableClock, place: dict, at: datetime) -> None:
    """bus-1's driver reports the bus at ``place`` at ``at`` (the clock moved there)."""
    clock.moment = at
    answer = client.post("/v1/driver/positions", json={"positions": [{**place, "at": at.isoformat()}]},
                         headers=client.keys["driver"])  # type: ignore[attr-defined]
    assert answer.status_code == 202 and answer.json()["used"], answer.text


def exceptions(client: TestClient) -> list[dict]:
    answer = client.get(PATH, headers=client.keys["operator"])  # type: ignore[attr-defined]
    assert answer.status_code == 200, answer.text
    return answer.json()["exceptions"]


def of_kind(items: list[dict], kind: ExceptionKind) -> list[dict]:
    return [item for item in items if item["kind"] == kind]


def test_an_on_time_morning_shows_nothing(client: TestClient, app_clock: MovableClock) -> None:
    """Booked for 09:00 from Vaduz; at 08:58 the bus reports itself in Vaduz: no exception at all, and
    the answer carries the service clock's now with its offset."""
    book(client)
    report(client, app_clock, VADUZ, START.replace(hour=8, minute=58))
    answer = client.get(PATH, headers=client.keys["operator"])  # type: ignore[attr-defined]
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"now": "2026-11-23T08:58:00+01:00", "exceptions": []}


def test_a_bus_reported_far_from_its_pickup_is_late_by_its_minutes(client: TestClient,
                                                                    app_clock: MovableClock) -> None:
    """Booked for 09:00 from Vaduz; at 09:02 the bus reports itself 10 km north. It shows as late by the
    minutes its planned pickup now falls after the window's end (as the driver's route plans it), and
    the booking as a broken promise of the same minutes; what the system did at once is listed: the rider
    got a new promise ending 2 min after the planned pickup (dispatch.disturbance)."""
    booking = book(client)
    window_end = datetime.fromisoformat(booking["pickup_window"]["end"])
    report(client, app_clock, FAR, START.replace(hour=9, minute=2))
    route = client.get("/v1/driver/route", headers=client.keys["driver"]).json()  # type: ignore[attr-defined]
    pickup = datetime.fromisoformat(route["stops"][0]["planned_arrival"])
    items = exceptions(client)
    late = of_kind(items, ExceptionKind.LATE_BUS)
    assert len(late) == 1
    behind = round((pickup - window_end).total_seconds() / 60)
    assert behind >= 5
    assert late[0] | {"actions": None} == {
        "kind": "late_bus", "severity": "critical" if behind >= 10 else "warning", "minutes": behind,
        "vehicle_id": "bus-1", "booking_id": booking["id"], "stop": "pickup",
        "planned_time": pickup.isoformat(), "due_time": window_end.isoformat(),
        "last_position_at": "2026-11-23T09:02:00+01:00", "actions": None}
    assert late[0]["actions"] == [{"kind": "promise_changed", "time": "2026-11-23T09:02:00+01:00",
                                   "vehicle_id": "bus-1",
                                   "window_end": (pickup + timedelta(seconds=PROMISE_MARGIN_S)).isoformat()}]
    broken = of_kind(items, ExceptionKind.PROMISE_BROKEN)
    assert [(b["booking_id"], b["minutes"], b["severity"]) for b in broken] == [
        (booking["id"], behind, "warning")]  # a warning: the rider has a new promise already
    assert {item["kind"] for item in items} == {"late_bus", "promise_broken"}


def test_a_bus_silent_longer_than_the_limit_shows(client: TestClient, app_clock: MovableClock) -> None:
    """The bus reports at 08:00; at 08:05 (five minutes, the limit) nothing shows, at 08:07 it shows as
    silent for 7 minutes with its last position's time."""
    report(client, app_clock, VADUZ, START)
    app_clock.moment = START + timedelta(minutes=5)
    assert exceptions(client) == []
    app_clock.moment = START + timedelta(minutes=7)
    assert exceptions(client) == [{
        "kind": "bus_silent", "severity": "warning", "minutes": 7, "vehicle_id": "bus-1", "booking_id": None,
        "stop": None, "planned_time": None, "due_time": None,
        "last_position_at": "2026-11-23T08:00:00+01:00", "actions": []}]


def test_a_bus_that_never_reported_is_silent_since_its_shift_started(client: TestClient) -> None:
    """Without any position the bus, in its shift since 05:00, shows as silent for three hours at 08:00,
    critical."""
    items = exceptions(client)
    assert [(i["kind"], i["vehicle_id"], i["minutes"], i["severity"], i["last_position_at"]) for i in items] \
        == [("bus_silent", "bus-1", 180, "critical", None)]


def test_a_rider_whose_window_ended_unserved_waits_past_it(client: TestClient, app_clock: MovableClock
                                                           ) -> None:
    """Booked for 09:00; the bus reports itself at the pickup at 08:58 and then nothing is reported
    until four minutes after the window's end: the rider shows as waiting past the window (four
    minutes, critical) — once, not also as a broken promise."""
    booking = book(client)
    report(client, app_clock, VADUZ, START.replace(hour=8, minute=58))
    window_end = datetime.fromisoformat(booking["pickup_window"]["end"])
    app_clock.moment = window_end + timedelta(minutes=4)
    items = exceptions(client)
    waiting = of_kind(items, ExceptionKind.RIDER_WAITING)
    assert [(w["booking_id"], w["minutes"], w["severity"], w["due_time"]) for w in waiting] == [
        (booking["id"], 4, "critical", window_end.isoformat())]
    assert of_kind(items, ExceptionKind.PROMISE_BROKEN) == []


def test_riders_picked_up_or_cancelled_do_not_wait(client: TestClient, app_clock: MovableClock) -> None:
    """A booking cancelled before its window ends is not waiting once the window is over."""
    booking = book(client)
    report(client, app_clock, VADUZ, START.replace(hour=8, minute=58))
    cancelled = client.delete(f"/v1/bookings/{booking['id']}", headers=client.keys["rider"])  # type: ignore[attr-defined]
    assert cancelled.status_code == 200, cancelled.text
    app_clock.moment = datetime.fromisoformat(booking["pickup_window"]["end"]) + timedelta(minutes=2)
    assert of_kind(exceptions(client), ExceptionKind.RIDER_WAITING) == []


def test_a_changed_promise_is_broken_and_says_what_the_system_did(client: TestClient,
                                                                   app_clock: MovableClock) -> None:
    """On the plan in force (a rider booked for 09:00, the bus late 10 km away): a ``promise_changed`` in
    the log makes the booking a broken promise measured from the first window's end, with the new window
    as the action taken; a later move to another bus adds a ``moved`` action naming the bus; the late bus
    is judged against the first promise too, and names the new promise as done."""
    booking = book(client)
    report(client, app_clock, FAR, START.replace(hour=9, minute=2))
    live = client.app.state.dispatch  # type: ignore[attr-defined]
    plan, s = live.dispatcher.plan, live.clock.to_seconds
    window_end = s(datetime.fromisoformat(booking["pickup_window"]["end"]))
    pickup = plan.planned_times(booking["id"]).pickup
    first_end = window_end - 300  # as if the window in force were already a changed one
    events = [EventRecord(PROMISE_CHANGED, s(app_clock.moment), "bus-1", booking["id"],
                          window_end=window_end, previous_window_end=first_end),
              EventRecord(EventKind.PLAN_REOPTIMIZED.value, s(app_clock.moment) + 1,
                          moved={booking["id"]: None})]
    found = find_exceptions(plan, now=s(app_clock.moment), positions={}, events=events,
                            thresholds=ExceptionThresholds())
    broken = next(f for f in found if f.kind is ExceptionKind.PROMISE_BROKEN)
    assert (broken.booking_id, broken.due, broken.minutes) == (booking["id"], first_end,
                                                               round((pickup - first_end) / 60))
    assert broken.severity is Severity.WARNING  # a new promise was made and told
    assert [(a.kind, a.vehicle_id, a.window_end) for a in broken.actions] == [
        (ActionKind.PROMISE_CHANGED, "bus-1", window_end), (ActionKind.MOVED, "bus-1", None)]
    late = next(f for f in found if f.kind is ExceptionKind.LATE_BUS)
    assert late.due == first_end and late.minutes == broken.minutes
    assert [a.kind for a in late.actions] == [ActionKind.PROMISE_CHANGED]


def test_a_rider_moved_off_a_withdrawn_bus_shows_the_move_as_done(database_url: str,  # noqa: F811
                                                                  app_clock: MovableClock) -> None:
    """Two buses, promises at risk counted from an hour before their end: a rider booked for 09:00 is at
    risk on their bus; once the operator withdraws that bus, the rider, moved to the other one, is still
    at risk, and what the system did names the move to that bus at 08:00 (read from the event log)."""
    with open_app(database_url, app_clock, demo_buses=2, exception_at_risk_s=3600) as client:
        booking = book(client)
        at_risk = of_kind(exceptions(client), ExceptionKind.PROMISE_AT_RISK)
        assert [(item["booking_id"], item["vehicle_id"], item["actions"]) for item in at_risk] == [
            (booking["id"], booking["vehicle_id"], [])]
        assert 0 <= at_risk[0]["minutes"] <= 60
        withdrawn = client.post(f"/v1/operator/vehicles/{booking['vehicle_id']}/out-of-service",
                                headers=client.keys["operator"])  # type: ignore[attr-defined]
        assert withdrawn.status_code == 200, withdrawn.text
        other = withdrawn.json()["replanned"][0]["vehicle_id"]
        assert other != booking["vehicle_id"]
        at_risk = of_kind(exceptions(client), ExceptionKind.PROMISE_AT_RISK)
        assert [(item["booking_id"], item["vehicle_id"], item["actions"]) for item in at_risk] == [
            (booking["id"], other, [{"kind": "moved", "time": "2026-11-23T08:00:00+01:00",
                                     "vehicle_id": other, "window_end": None}])]
