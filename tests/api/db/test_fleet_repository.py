"""Repository functions of the operators' API on SQLite and PostgreSQL: vehicles, shifts with breaks,
service areas and the queries behind the bookings list and the key figures; writes all or nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from api.clock import ServiceClock
from api.db.models import (
    Event,
    PlannedStop,
    PlannedStopRow,
    ServiceArea,
    ServiceRulesVersion,
    Shift,
    ShiftBreak,
    User,
)
from api.db.repository import (
    IntegrityViolation,
    bookings_page,
    delete_shift,
    event_counts,
    latest_service_area,
    save_booking,
    save_service_area,
    save_shift,
    save_vehicle,
    shifts_between,
    vehicle_shifts,
)
from api.fleet import dispatch_vehicle
from dispatch.events import EventKind
from dispatch.model import ServiceRules, StopKind
from tests.api.db.rows import T0, make_booking, make_event, make_rider, make_vehicle


def count(session: Session, table: type) -> int:
    return session.exec(select(func.count()).select_from(table)).one()


def event(kind: EventKind = EventKind.SHIFTS_CHANGED, minutes: int = 0) -> Event:
    return Event(time=T0 + timedelta(minutes=minutes), kind=kind, actor="user:1", vehicle_id="bus-1")


@pytest.fixture
def bus(session: Session) -> Session:
    """bus-1 stored with a shift 08:00–16:00 and one 30-min break to start 12:00–12:30."""
    save_vehicle(session, vehicle=make_vehicle(), route=None, event=event(EventKind.VEHICLE_ADDED))
    save_shift(session, shift=Shift(vehicle_id="bus-1", starts_at=T0, ends_at=T0 + timedelta(hours=8)),
               breaks=[ShiftBreak(shift_id=0, earliest_start=T0 + timedelta(hours=4),
                                  latest_start=T0 + timedelta(hours=4, minutes=30), duration_s=1800)],
               route=None, event=event())
    return session


def test_a_vehicle_and_its_shift_with_breaks_are_stored_and_read_back(bus: Session) -> None:
    """vehicle_shifts gives the shift with its one break; two events were written."""
    [(shift, breaks)] = vehicle_shifts(bus, vehicle_id="bus-1")
    assert (shift.starts_at, shift.ends_at) == (T0, T0 + timedelta(hours=8))
    assert [(b.shift_id, b.duration_s) for b in breaks] == [(shift.id, 1800)]
    assert count(bus, Event) == 2


def test_a_night_shift_over_the_autumn_change_reads_back_as_its_instants(session: Session) -> None:
    """A shift 20:00 +02:00 – 06:00 +01:00 over 25 October, with a break in the second pass of the
    repeated hour (02:30 +01:00), comes back as the same instants: 11 h apart, the break an hour after
    the first 02:30 — and the dispatcher's vehicle has the same seconds."""
    zone = ZoneInfo("Europe/Vaduz")
    start, end = datetime(2026, 10, 24, 20, tzinfo=zone), datetime(2026, 10, 25, 6, tzinfo=zone)
    second_pass = datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=zone)
    save_vehicle(session, vehicle=make_vehicle(), route=None, event=event(EventKind.VEHICLE_ADDED))
    save_shift(session, shift=Shift(vehicle_id="bus-1", starts_at=start, ends_at=end),
               breaks=[ShiftBreak(shift_id=0, earliest_start=second_pass, latest_start=second_pass,
                                  duration_s=600)], route=None, event=event())
    session.expire_all()
    [(shift, [pause])] = vehicle_shifts(session, vehicle_id="bus-1")
    read = (shift.starts_at, shift.ends_at, pause.earliest_start)
    # In UTC: Python calls an aware datetime in a repeated hour with fold=1 unequal to any other zone's.
    assert [m.astimezone(UTC) for m in read] == [m.astimezone(UTC) for m in (start, end, second_pass)]
    assert shift.ends_at - shift.starts_at == timedelta(hours=11)
    assert pause.earliest_start - datetime(2026, 10, 25, 2, 30, tzinfo=zone) == timedelta(hours=1)
    clock = ServiceClock(zone)
    vehicle = dispatch_vehicle(make_vehicle(), [(shift, [pause])], clock, clock.to_seconds(start),
                               ServiceRules().booking_horizon_s)
    assert vehicle is not None and vehicle.breaks[0].earliest_start == clock.to_seconds(second_pass)
    assert vehicle.shift_end - vehicle.shift_start == 11 * 3600


def test_changing_a_shift_replaces_its_breaks_and_the_route(bus: Session) -> None:
    """Saving the shift again with no break and a route of one break stop: the old break is gone, the
    planned stop is there."""
    [(shift, _)] = vehicle_shifts(bus, vehicle_id="bus-1")
    shift.ends_at = T0 + timedelta(hours=6)
    stop = PlannedStopRow(vehicle_id="bus-1", sequence=0, booking_id=None, kind=StopKind.BREAK, lat=47.14,
                          lon=9.52, node=100, planned_time=T0 + timedelta(hours=4))
    save_shift(bus, shift=shift, breaks=[], route=[stop], event=event(minutes=1))
    [(shift, breaks)] = vehicle_shifts(bus, vehicle_id="bus-1")
    assert shift.ends_at == T0 + timedelta(hours=6) and breaks == []
    assert count(bus, ShiftBreak) == 0 and count(bus, PlannedStop) == 1


def test_a_shift_write_that_fails_leaves_the_old_shift_and_breaks(bus: Session) -> None:
    """A route whose two stops clash on one position fails the write: the shift keeps its end and its
    break, and no event is added."""
    [(shift, _)] = vehicle_shifts(bus, vehicle_id="bus-1")
    shift_id = shift.id
    shift.ends_at = T0 + timedelta(hours=6)
    clash = [PlannedStopRow(vehicle_id="bus-1", sequence=0, booking_id=None, kind=StopKind.BREAK,
                            lat=0, lon=0, node=1, planned_time=T0) for _ in range(2)]
    with pytest.raises(IntegrityViolation):
        save_shift(bus, shift=shift, breaks=[], route=clash, event=event(minutes=1))
    [(shift, breaks)] = vehicle_shifts(bus, vehicle_id="bus-1")
    assert (shift.id, shift.ends_at, len(breaks)) == (shift_id, T0 + timedelta(hours=8), 1)
    assert count(bus, Event) == 2


def test_deleting_a_shift_removes_its_breaks(bus: Session) -> None:
    """delete_shift leaves no shift and no break, and logs its event."""
    [(shift, _)] = vehicle_shifts(bus, vehicle_id="bus-1")
    delete_shift(bus, shift=shift, route=None, event=event(minutes=2))
    assert vehicle_shifts(bus, vehicle_id="bus-1") == [] and count(bus, ShiftBreak) == 0
    assert count(bus, Event) == 3


def test_shifts_between_select_by_time(bus: Session) -> None:
    """The shift 08:00–16:00 overlaps 15:00–17:00 but not 16:00–18:00."""
    assert len(shifts_between(bus, start=T0 + timedelta(hours=7), end=T0 + timedelta(hours=9))) == 1
    assert shifts_between(bus, start=T0 + timedelta(hours=8), end=T0 + timedelta(hours=10)) == []


def test_events_are_counted_by_a_payload_entry_within_the_range(session: Session) -> None:
    """Refusals at 08:00 (two for no bus, one outside the area, one without a cause) and 09:00 (no bus),
    a shift change at 08:00: 08:00–08:01 counts the four refusals by cause, 08:01–10:00 the later one."""
    def refusal(minutes: int, cause: str | None) -> Event:
        return Event(time=T0 + timedelta(minutes=minutes), kind=EventKind.REQUEST_REJECTED,
                     payload={} if cause is None else {"cause": cause})

    session.add_all([refusal(0, "no_vehicle_in_time"), refusal(0, "no_vehicle_in_time"),
                     refusal(0, "outside_area"), refusal(0, None), refusal(60, "no_vehicle_in_time"),
                     Event(time=T0, kind=EventKind.SHIFTS_CHANGED, payload={"cause": "x"})])
    session.commit()
    first = event_counts(session, kind=EventKind.REQUEST_REJECTED, by="cause", start=T0,
                         end=T0 + timedelta(minutes=1))
    assert first == {"no_vehicle_in_time": 2, "outside_area": 1, "None": 1}
    later = event_counts(session, kind=EventKind.REQUEST_REJECTED, by="cause",
                         start=T0 + timedelta(minutes=1), end=T0 + timedelta(hours=2))
    assert later == {"no_vehicle_in_time": 1}


def test_a_page_of_bookings_is_newest_first_and_counts_all(session: Session) -> None:
    """Three bookings of ann submitted a minute apart and one of bob: ann's page of two is the newest two
    and counts three; everyone's counts four."""
    session.add(make_vehicle())
    session.add_all([make_rider("ann"), make_rider("bob")])
    session.commit()
    ids = {u.name: u.id for u in session.exec(select(User))}
    for k, (rider, booking_id) in enumerate((("ann", "a1"), ("ann", "a2"), ("bob", "b1"), ("ann", "a3"))):
        row = make_booking(booking_id, rider_id=ids[rider], vehicle_id=None)
        row.submitted_at = T0 + timedelta(minutes=k)
        save_booking(session, booking=row, event=make_event(booking_id))
    rows, total = bookings_page(session, rider_id=ids["ann"], limit=2, offset=0)
    assert ([r.id for r in rows], total) == (["a3", "a2"], 3)
    assert bookings_page(session, rider_id=None, limit=10, offset=3)[0][0].id == "a1"
    assert bookings_page(session, rider_id=None, limit=10, offset=0)[1] == 4


def test_the_newest_service_area_is_in_force_with_its_rules(session: Session) -> None:
    """Two areas saved, the second with new hours: the second is in force, a rules row with its hours
    exists, and both events are logged."""
    assert latest_service_area(session) is None
    square = '{"type": "Polygon", "coordinates": [[[9, 47], [10, 47], [10, 48], [9, 47]]]}'
    save_service_area(session, area=ServiceArea(name="first", geojson=square), rules=None,
                      event=event(EventKind.SERVICE_AREA_CHANGED))
    rules = ServiceRulesVersion.from_rules(ServiceRules(service_start_s=6 * 3600))
    save_service_area(session, area=ServiceArea(name="second", geojson=square), rules=rules,
                      event=event(EventKind.SERVICE_AREA_CHANGED, minutes=1))
    assert latest_service_area(session).name == "second"
    assert session.exec(select(ServiceRulesVersion)).one().service_start_s == 6 * 3600
    assert count(session, Event) == 2
