"""Repository: a booking, its vehicle's route and its event are written together or not at all."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy.exc import StatementError
from sqlmodel import Session, col, select

from api.db.models import Booking, Event, PlannedStop, User
from api.db.repository import (
    DuplicateIdempotencyKey,
    IntegrityViolation,
    append_event,
    bookings_submitted,
    find_booking_by_idempotency_key,
    load_active_plan,
    save_booking,
    save_route,
)
from api.services.kpis import FIGURE_FIELDS
from dispatch.dispatcher import RequestStatus
from dispatch.events import EventKind
from dispatch.model import StopKind, TimeType
from tests.api.db.rows import T0, make_booking, make_event, make_rider, make_route, make_vehicle


def count(session: Session, table: type) -> int:
    return session.exec(select(func.count()).select_from(table)).one()


def route_of(session: Session, vehicle_id: str) -> list[tuple[int, str | None, StopKind]]:
    stops = session.exec(select(PlannedStop).where(PlannedStop.vehicle_id == vehicle_id)
                         .order_by(col(PlannedStop.sequence))).all()
    return [(stop.sequence, stop.booking_id, stop.kind) for stop in stops]


@pytest.fixture
def booked_r1(session: Session) -> Session:
    """bus-1 and riders ann and bob exist; bus-1 carries ann's booking r1 (key "k1") with its pickup and
    drop-off planned."""
    session.add(make_vehicle())
    session.add_all([make_rider("ann"), make_rider("bob")])
    session.commit()
    save_booking(session, booking=make_booking("r1", key="k1", rider_id=rider_id(session, "ann")),
                 route=make_route("r1"), event=make_event("r1"))
    return session


def rider_id(session: Session, name: str) -> int:
    return session.exec(select(User.id).where(User.name == name)).one()


def test_booking_route_and_event_are_saved_together(booked_r1: Session) -> None:
    """One call writes the booking, the bus's two stops and the confirmation event."""
    session = booked_r1
    assert session.get(Booking, "r1").status is RequestStatus.BOOKED
    assert route_of(session, "bus-1") == [(0, "r1", StopKind.PICKUP), (1, "r1", StopKind.DROPOFF)]
    event = session.exec(select(Event)).one()
    assert (event.kind, event.request_id) == (EventKind.BOOKING_CONFIRMED, "r1")
    assert event.payload == {"window": [0, 600]}


def test_duplicate_idempotency_key_leaves_nothing_written(booked_r1: Session) -> None:
    """A second booking of ann with key "k1" fails as a duplicate; no booking, stop or event of it remains."""
    session = booked_r1
    new_route = make_route("r1") + make_route("r2", first_sequence=2)
    with pytest.raises(DuplicateIdempotencyKey) as raised:
        save_booking(session, booking=make_booking("r2", key="k1", rider_id=rider_id(session, "ann")),
                     route=new_route, event=make_event("r2"))
    assert raised.value.code == "duplicate_idempotency_key"
    assert session.get(Booking, "r2") is None
    assert route_of(session, "bus-1") == [(0, "r1", StopKind.PICKUP), (1, "r1", StopKind.DROPOFF)]
    assert count(session, Event) == 1


def test_failure_midway_through_the_route_rolls_back_booking_and_old_route(booked_r1: Session) -> None:
    """The booking is written and the old route deleted before two stops clash on one position; the
    rollback restores everything: no r2, r1's route intact, no new event."""
    session = booked_r1
    clashing_route = make_route("r1") + make_route("r2", first_sequence=1)  # sequence 1 twice
    with pytest.raises(IntegrityViolation) as raised:
        save_booking(session, booking=make_booking("r2", key="k2"), route=clashing_route,
                     event=make_event("r2"))
    assert raised.value.code == "integrity_violation"
    assert session.get(Booking, "r2") is None
    assert find_booking_by_idempotency_key(session, rider_id=rider_id(session, "ann"), key="k2") is None
    assert route_of(session, "bus-1") == [(0, "r1", StopKind.PICKUP), (1, "r1", StopKind.DROPOFF)]
    assert count(session, Event) == 1


def test_failure_at_the_last_step_rolls_back_everything(booked_r1: Session) -> None:
    """If writing the event fails after booking and route went through, neither stays."""
    session = booked_r1
    bad_event = make_event("r2")
    bad_event.kind = "no_such_kind"  # refused by the column type when the event is flushed
    with pytest.raises(StatementError):
        save_booking(session, booking=make_booking("r2", key="k2"),
                     route=make_route("r1") + make_route("r2", first_sequence=2), event=bad_event)
    assert session.get(Booking, "r2") is None
    assert len(route_of(session, "bus-1")) == 2
    assert count(session, Event) == 1


def test_new_route_replaces_the_vehicles_planned_stops(booked_r1: Session) -> None:
    """Booking r2 inserted before r1's drop-off: bus-1's route becomes P1 P2 D1 D2."""
    session = booked_r1
    p1, d1 = make_route("r1")
    p2, d2 = make_route("r2")
    route = [dataclasses.replace(stop, sequence=sequence) for sequence, stop in enumerate((p1, p2, d1, d2))]
    save_booking(session, booking=make_booking("r2", key="k2"), route=route,
                 event=make_event("r2"))
    assert route_of(session, "bus-1") == [(0, "r1", StopKind.PICKUP), (1, "r2", StopKind.PICKUP),
                                          (2, "r1", StopKind.DROPOFF), (3, "r2", StopKind.DROPOFF)]


def test_status_change_without_route_keeps_the_planned_stops(booked_r1: Session) -> None:
    """Saving r1 as picked up with no route touches only the booking (and logs the event)."""
    session = booked_r1
    booking = session.get(Booking, "r1")
    booking.status = RequestStatus.PICKED_UP
    booking.picked_up_at = T0
    save_booking(session, booking=booking, event=make_event("r1", EventKind.RIDER_PICKED_UP, minutes=6))
    assert session.get(Booking, "r1").picked_up_at == T0
    assert len(route_of(session, "bus-1")) == 2
    assert count(session, Event) == 2


def test_route_for_another_vehicle_is_refused_before_writing(booked_r1: Session) -> None:
    """Stops of bus-2 cannot come with a booking on bus-1."""
    with pytest.raises(ValueError):
        save_booking(booked_r1, booking=make_booking("r2", key="k2"), route=make_route("r2", "bus-2"),
                     event=make_event("r2"))
    assert booked_r1.get(Booking, "r2") is None


def test_booking_is_found_by_its_idempotency_key(booked_r1: Session) -> None:
    """Ann's key "k1" finds r1; an unknown key, or bob's "k1", finds nothing."""
    ann, bob = rider_id(booked_r1, "ann"), rider_id(booked_r1, "bob")
    assert find_booking_by_idempotency_key(booked_r1, rider_id=ann, key="k1").id == "r1"
    assert find_booking_by_idempotency_key(booked_r1, rider_id=ann, key="unknown") is None
    assert find_booking_by_idempotency_key(booked_r1, rider_id=bob, key="k1") is None


def test_two_riders_may_use_the_same_idempotency_key(booked_r1: Session) -> None:
    """Bob books r2 with ann's key "k1": saved, and each rider's key finds their own booking."""
    session = booked_r1
    bob = rider_id(session, "bob")
    save_booking(session, booking=make_booking("r2", key="k1", rider_id=bob, vehicle_id=None),
                 event=make_event("r2"))
    assert find_booking_by_idempotency_key(session, rider_id=bob, key="k1").id == "r2"
    assert find_booking_by_idempotency_key(session, rider_id=rider_id(session, "ann"), key="k1").id == "r1"


def test_active_plan_holds_booked_and_onboard_riders_and_all_stops(booked_r1: Session) -> None:
    """After a restart: r1 (booked) and r3 (on board) come back; offered, completed and cancelled do not."""
    session = booked_r1
    for booking_id, status in [("r2", RequestStatus.OFFERED), ("r3", RequestStatus.PICKED_UP),
                               ("r4", RequestStatus.COMPLETED), ("r5", RequestStatus.CANCELLED)]:
        session.add(make_booking(booking_id, key=f"k-{booking_id}", status=status))
    session.commit()
    plan = load_active_plan(session)
    assert [booking.id for booking in plan.bookings] == ["r1", "r3"]
    assert [(stop.vehicle_id, stop.sequence) for stop in plan.stops] == [("bus-1", 0), ("bus-1", 1)]


def test_appended_events_keep_their_order_and_payload(session: Session) -> None:
    """Events come back in the order appended, with time zone and JSON payload intact."""
    append_event(session, event=make_event("r1", EventKind.OFFER_MADE))
    append_event(session, event=make_event("r1", EventKind.BOOKING_CONFIRMED, minutes=1))
    events = session.exec(select(Event).order_by(col(Event.id))).all()
    assert [event.kind for event in events] == [EventKind.OFFER_MADE, EventKind.BOOKING_CONFIRMED]
    assert events[1].time == T0.replace(minute=1) and events[1].time.tzinfo is not None
    assert events[0].payload == {"window": [0, 600]}


def test_save_route_replaces_the_stops_and_logs_the_event(booked_r1: Session) -> None:
    """A driver's arrival: bus-1's route is rewritten (here: only r1's drop-off left) with the event."""
    session = booked_r1
    _, dropoff = make_route("r1")
    dropoff = dataclasses.replace(dropoff, sequence=0)
    save_route(session, vehicle_id="bus-1", route=[dropoff],
               event=make_event("r1", EventKind.VEHICLE_ARRIVED, minutes=5))
    assert route_of(session, "bus-1") == [(0, "r1", StopKind.DROPOFF)]
    assert count(session, Event) == 2


def test_save_route_failing_leaves_the_old_route_and_no_event(booked_r1: Session) -> None:
    """Two stops at one position: nothing of the new route nor its event stays."""
    session = booked_r1
    pickup, dropoff = make_route("r1")
    dropoff = dataclasses.replace(dropoff, sequence=pickup.sequence)
    with pytest.raises(IntegrityViolation):
        save_route(session, vehicle_id="bus-1", route=[pickup, dropoff],
                   event=make_event("r1", EventKind.VEHICLE_ARRIVED, minutes=5))
    assert route_of(session, "bus-1") == [(0, "r1", StopKind.PICKUP), (1, "r1", StopKind.DROPOFF)]
    assert count(session, Event) == 1


def test_bookings_submitted_as_rows_of_some_columns_read_like_the_bookings(booked_r1: Session) -> None:
    """The key figures read plain rows of a few columns: each reads as its booking does (enums, aware
    datetimes), and only bookings submitted in the range come back, in either form."""
    session = booked_r1
    save_booking(session, booking=make_booking("r2", key="k2", rider_id=rider_id(session, "bob"),
                                               status=RequestStatus.CANCELLED), event=make_event("r2"))
    start, end = T0 - timedelta(hours=1), T0
    whole = {b.id: b for b in bookings_submitted(session, start=start, end=end)}
    rows = bookings_submitted(session, start=start, end=end, fields=("id", *FIGURE_FIELDS))
    assert sorted(whole) == sorted(row.id for row in rows) == ["r1", "r2"]
    for row in rows:
        for name in FIGURE_FIELDS:
            assert getattr(row, name) == getattr(whole[row.id], name), name
    assert {row.status for row in rows} == {RequestStatus.BOOKED, RequestStatus.CANCELLED}
    assert all(row.time_type is TimeType.LEAVE_AFTER and row.window_start.tzinfo is not None for row in rows)
    assert bookings_submitted(session, start=T0, end=T0 + timedelta(hours=1), fields=FIGURE_FIELDS) == []
