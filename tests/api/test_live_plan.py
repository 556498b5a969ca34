"""The unit of work for a change of the plan (:func:`api.services.live_plan.plan_change`) on its own: a
dispatcher over a line of 11 stops a kilometre apart (tests/dispatch/scenarios.py), a real database
session (SQLite file) and a recording live-layer hook."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from api.clock import ServiceClock
from api.db.migrate import upgrade_database
from api.db.models import Event
from api.db.session import create_db_engine
from api.services.live_plan import DispatchLock, LiveDispatch, plan_change
from dispatch.dispatcher import BookedTrip, Dispatcher
from dispatch.events import DomainEvent, EventKind
from dispatch.model import Offer, ServiceRules, Vehicle
from routing.network import RoadNetwork
from tests.dispatch.scenarios import leave_after, line_travel

T0 = 8 * 3600
ZONE = ZoneInfo("Europe/Vaduz")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite database of this test's own."""
    url = f"sqlite:///{tmp_path / 'rufbus.sqlite3'}"
    upgrade_database(url)
    engine = create_db_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def live() -> LiveDispatch:
    """One bus at stop 0 of the line; the plan holder needs no road network for these changes."""
    dispatcher = Dispatcher([Vehicle("v1", 4, 0, 0, T0 - 3600, T0 + 7 * 3600)], ServiceRules(),
                            line_travel(range(11)), T0)
    dispatcher.drain_events()
    clock = ServiceClock(ZONE, wall_clock=lambda: datetime(2026, 11, 23, 8, 0, tzinfo=ZONE))
    return LiveDispatch(dispatcher, cast(RoadNetwork, None), clock)


def book_a_trip(live: LiveDispatch) -> str:
    """Quote and book a trip from stop 1 to stop 5 leaving at T0 + 10 min; its id."""
    request = leave_after("r1", 1, 5, T0 + 600)
    assert isinstance(live.dispatcher.quote(request, T0), Offer)
    assert isinstance(live.dispatcher.book("r1", T0), BookedTrip)
    return request.id


def logged_event(session: Session) -> Event:
    """An event row for the change (the write the unit of work commits)."""
    event = Event(time=datetime(2026, 11, 23, 8, 0, tzinfo=ZONE), kind=EventKind.BOOKING_CONFIRMED,
                  actor="test", vehicle_id="v1", request_id="r1")
    session.add(event)
    return event


def stored_events(engine: Engine) -> int:
    """How many event rows another connection sees."""
    with Session(engine) as other:
        return other.exec(select(func.count()).select_from(Event)).one()


def test_a_change_is_committed_before_its_events_are_published(live: LiveDispatch, engine: Engine) -> None:
    """The block books a trip and adds an event row: when the live layer receives booking_confirmed, the
    row is already visible to another connection, and the lock is free again afterwards."""
    seen: list[tuple[list[EventKind], int]] = []
    live.on_events = lambda events: seen.append(([e.kind for e in events], stored_events(engine)))
    with Session(engine) as session, plan_change(live, session):
        book_a_trip(live)
        logged_event(session)
    assert seen == [([EventKind.OFFER_MADE, EventKind.ROUTE_CHANGED, EventKind.BOOKING_CONFIRMED], 1)]
    assert not live.lock.locked()


def test_a_failed_change_puts_the_plan_back_and_publishes_nothing(live: LiveDispatch, engine: Engine) -> None:
    """The block books a trip, adds an event row and then fails: the error comes out, the plan has no
    booking and the bus no stops, no event is published or left pending, and nothing is stored."""
    published: list[DomainEvent] = []
    live.on_events = published.extend
    with pytest.raises(RuntimeError, match="write refused"), Session(engine) as session, \
            plan_change(live, session):
        book_a_trip(live)
        logged_event(session)
        session.flush()
        raise RuntimeError("write refused")
    assert live.dispatcher.plan.bookings() == {} and live.dispatcher.plan.route("v1").stops == ()
    assert published == [] and live.dispatcher.drain_events() == []
    assert stored_events(engine) == 0


def test_a_publishing_failure_is_logged_and_the_change_stands(live: LiveDispatch, engine: Engine,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    """The live layer fails on the events of a committed change: no error comes out, the failure is
    logged, and the plan keeps the booking the database holds."""
    def broken(events: list[DomainEvent]) -> None:
        raise ConnectionError("Redis is gone")

    live.on_events = broken
    with caplog.at_level(logging.ERROR, logger="api.services.live_plan"), Session(engine) as session, \
            plan_change(live, session):
        request_id = book_a_trip(live)
        logged_event(session)
    assert "Redis is gone" in caplog.text
    assert request_id in live.dispatcher.plan.bookings() and stored_events(engine) == 1


def test_the_dispatch_lock_knows_when_another_thread_waits_for_it() -> None:
    """Held by this thread, the lock says nobody waits; once another thread blocks on it, it says so
    (repair before refusal gives way then); released, the other thread gets it and nobody waits any more."""
    lock = DispatchLock()
    entered = threading.Event()

    def other() -> None:
        with lock:
            entered.set()

    with lock:
        assert lock.locked() and not lock.others_waiting()
        waiter = threading.Thread(target=other)
        waiter.start()
        for _ in range(500):  # the other thread needs a moment to reach the lock
            if lock.others_waiting():
                break
            time.sleep(0.01)
        assert lock.others_waiting() and not entered.is_set()
    waiter.join(timeout=5)
    assert entered.is_set() and not lock.others_waiting() and not lock.locked()
