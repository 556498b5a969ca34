"""Repository functions: small, keyword-only, typed. Each one that writes commits its own transaction.

Failures come out as :class:`PersistenceError` subclasses with a machine-readable ``code``; a failed
write leaves nothing behind (the session is rolled back).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.db.models import (
    ACTIVE_STATUSES,
    Booking,
    Event,
    MeetingPoint,
    PlannedStop,
    PlannedStopRow,
    ServiceArea,
    ServiceException,
    ServiceRulesVersion,
    ServiceWeekday,
    Shift,
    ShiftBreak,
    Vehicle,
)
from dispatch.events import EventKind


class PersistenceError(Exception):
    """A write the database refused; ``code`` is machine-readable."""

    code = "persistence_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DuplicateIdempotencyKey(PersistenceError):
    """Another booking of the same rider already holds this idempotency key: the request was already made."""

    code = "duplicate_idempotency_key"


class IntegrityViolation(PersistenceError):
    """A write broke a constraint (unknown vehicle or booking, two stops at one position, …)."""

    code = "integrity_violation"


@dataclass(frozen=True)
class ActivePlan:
    """What a restarted service needs back: bookings still to be served and every planned stop."""

    bookings: tuple[Booking, ...]
    stops: tuple[PlannedStop, ...]  # ordered by vehicle, then sequence


@contextmanager
def _atomic(session: Session, what: str) -> Iterator[None]:
    """Flush and commit what the block adds, or roll all of it back; constraint failures name ``what``."""
    try:
        yield
        session.flush()
        session.commit()
    except IntegrityError as error:
        session.rollback()
        raise IntegrityViolation(f"{what} not saved: {error.orig}") from error
    except Exception:
        session.rollback()
        raise


def save_booking(session: Session, *, booking: Booking, event: Event,
                 route: Sequence[PlannedStopRow] | None = None, moved: Sequence[Booking] = (),
                 other_routes: Mapping[str, Sequence[PlannedStopRow]] | None = None) -> Booking:
    """Write ``booking`` (new or changed), the new ``route`` of its vehicle and ``event`` in one
    transaction: all of it or nothing.

    ``route`` replaces every planned stop of ``booking.vehicle_id`` (an insertion changes one bus's
    route as a whole); ``None`` leaves the planned stops alone. A booking that moved other riders to
    another bus (a repaired offer) also writes those bookings, ``moved`` (their new ``vehicle_id``), and
    the new routes of the other vehicles it changed, ``other_routes`` — in the same transaction.
    """
    if route is not None and any(stop.vehicle_id != booking.vehicle_id for stop in route):
        raise ValueError("every stop of the route must belong to the booking's vehicle")
    routes = dict(other_routes or {})
    if booking.vehicle_id in routes:
        raise ValueError("the booking's own route goes in route, not in other_routes")
    if route is not None and booking.vehicle_id is not None:
        routes[booking.vehicle_id] = route
    try:
        session.add(booking)
        session.add_all(moved)
        session.flush()
        if routes:
            _replace_routes(session, routes)
        session.add(event)
        session.flush()
        session.commit()
    except IntegrityError as error:
        session.rollback()
        key, rider_id = booking.idempotency_key, booking.rider_id
        if key is not None and rider_id is not None and _other_booking_holds_key(
                session, rider_id=rider_id, key=key, booking_id=booking.id):
            raise DuplicateIdempotencyKey(f"idempotency key {key!r} is already used") from error
        raise IntegrityViolation(f"booking {booking.id} not saved: {error.orig}") from error
    except Exception:
        session.rollback()
        raise
    return booking


def save_route(session: Session, *, vehicle_id: str, route: Sequence[PlannedStopRow], event: Event) -> None:
    """Replace every planned stop of ``vehicle_id`` by ``route`` and add ``event``, in one transaction
    (a driver's arrival changes the route but no booking)."""
    if any(stop.vehicle_id != vehicle_id for stop in route):
        raise ValueError("every stop of the route must belong to the vehicle")
    with _atomic(session, f"route of {vehicle_id}"):
        session.execute(delete(PlannedStop).where(col(PlannedStop.vehicle_id) == vehicle_id))
        _insert_stops(session, route)
        session.add(event)


def _insert_stops(session: Session, stops: Sequence[PlannedStopRow]) -> None:
    """Insert ``stops`` in one statement (after any pending ORM rows, which they may refer to)."""
    if stops:
        session.execute(insert(PlannedStop), [stop.values() for stop in stops])


def _other_booking_holds_key(session: Session, *, rider_id: int, key: str, booking_id: str) -> bool:
    holder = find_booking_by_idempotency_key(session, rider_id=rider_id, key=key)
    return holder is not None and holder.id != booking_id


def bookings_page(session: Session, *, rider_id: int | None, limit: int, offset: int
                  ) -> tuple[Sequence[Booking], int]:
    """``limit`` bookings from ``offset``, newest submitted first (of ``rider_id`` only, unless None), and
    how many there are in all."""
    query = select(Booking)
    counted = select(func.count()).select_from(Booking)
    if rider_id is not None:
        query = query.where(Booking.rider_id == rider_id)
        counted = counted.where(Booking.rider_id == rider_id)
    rows = session.exec(query.order_by(col(Booking.submitted_at).desc(), col(Booking.id).desc())
                        .offset(offset).limit(limit)).all()
    return rows, session.exec(counted).one()


def find_booking_by_idempotency_key(session: Session, *, rider_id: int, key: str) -> Booking | None:
    """The booking of rider ``rider_id`` made with idempotency key ``key``, if any (keys are per rider)."""
    return session.exec(select(Booking).where(Booking.rider_id == rider_id,
                                              Booking.idempotency_key == key)).first()


def load_active_plan(session: Session) -> ActivePlan:
    """Bookings still to be served (booked or on board) and all planned stops, for restart recovery."""
    bookings = session.exec(select(Booking).where(col(Booking.status).in_(ACTIVE_STATUSES))
                            .order_by(col(Booking.id))).all()
    stops = session.exec(select(PlannedStop).order_by(col(PlannedStop.vehicle_id),
                                                      col(PlannedStop.sequence))).all()
    return ActivePlan(bookings=tuple(bookings), stops=tuple(stops))


def append_event(session: Session, *, event: Event) -> Event:
    """Add ``event`` to the log and commit."""
    try:
        session.add(event)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return event


def latest_rules(session: Session) -> ServiceRulesVersion | None:
    """The service rules in force: the newest ``service_rules`` row, if any."""
    return session.exec(select(ServiceRulesVersion).order_by(col(ServiceRulesVersion.id).desc())).first()


def save_rules(session: Session, *, rules: ServiceRulesVersion, event: Event) -> ServiceRulesVersion:
    """Add a new version of the service rules (the older rows stay, as history) and ``event``, in one
    transaction."""
    with _atomic(session, "service rules"):
        session.add(rules)
        session.add(event)
    session.refresh(rules)
    return rules


def save_out_of_service(session: Session, *, vehicle_id: str, bookings: Sequence[Booking],
                        routes: dict[str, Sequence[PlannedStopRow]], event: Event) -> None:
    """A bus withdrawn: mark ``vehicle_id`` inactive, write the changed ``bookings``, replace the planned
    stops of every vehicle in ``routes`` and add ``event`` — all in one transaction, or nothing."""
    with _atomic(session, f"withdrawal of {vehicle_id}"):
        vehicle = session.get(Vehicle, vehicle_id)
        if vehicle is None:
            raise IntegrityViolation(f"vehicle {vehicle_id!r} is not in the database")
        vehicle.active = False
        session.add(vehicle)
        session.add_all(bookings)
        session.flush()
        _replace_routes(session, routes)
        session.add(event)


def latest_service_area(session: Session) -> ServiceArea | None:
    """The service area in force: the newest ``service_areas`` row, if any."""
    return session.exec(select(ServiceArea).order_by(col(ServiceArea.id).desc())).first()


def save_service_area(session: Session, *, area: ServiceArea, rules: ServiceRulesVersion | None,
                      event: Event) -> ServiceArea:
    """Add a new version of the service area, with a new version of the rules (new service hours) unless
    ``rules`` is None, and ``event``, in one transaction."""
    with _atomic(session, "service area"):
        session.add(area)
        if rules is not None:
            session.add(rules)
        session.add(event)
    session.refresh(area)
    return area


def bookings_submitted(session: Session, *, start: datetime, end: datetime,
                       fields: Sequence[str] | None = None) -> Sequence[Booking]:
    """Bookings submitted in ``[start, end)``; with ``fields``, as read-only rows of those columns only
    (attribute access as on a booking; a day of bookings loads several times faster than as objects)."""
    where = (col(Booking.submitted_at) >= start, col(Booking.submitted_at) < end)
    if fields is None:
        return session.exec(select(Booking).where(*where)).all()
    columns = [getattr(Booking, name) for name in fields]
    return session.execute(select(*columns).where(*where)).all()  # type: ignore[return-value]


def shifts_between(session: Session, *, start: datetime, end: datetime) -> Sequence[Shift]:
    """Shifts of any vehicle overlapping ``[start, end)``."""
    return session.exec(select(Shift).where(col(Shift.starts_at) < end, col(Shift.ends_at) > start)).all()


def event_counts(session: Session, *, kind: EventKind, by: str, start: datetime, end: datetime
                 ) -> dict[str, int]:
    """How many events of ``kind`` were logged in ``[start, end)``, by the text of their payload's ``by``
    entry ("None" where it is missing). Counted by the database: a day of refused quotes is tens of
    thousands of rows, which the key figures must not load one by one."""
    value = col(Event.payload)[by].as_string()
    rows = session.exec(select(value, func.count()).where(Event.kind == kind, col(Event.time) >= start,
                                                          col(Event.time) < end).group_by(value)).all()
    return {str(key): int(number) for key, number in rows}


# --- the fleet: vehicles and their shifts ------------------------------------------------------------

ShiftWithBreaks = tuple[Shift, Sequence[ShiftBreak]]


def list_vehicles(session: Session) -> Sequence[Vehicle]:
    """Every vehicle, in service or not, by id."""
    return session.exec(select(Vehicle).order_by(col(Vehicle.id))).all()


def vehicle_shifts(session: Session, *, vehicle_id: str) -> list[ShiftWithBreaks]:
    """The shifts of ``vehicle_id`` by start, each with its breaks by earliest start."""
    shifts = session.exec(select(Shift).where(Shift.vehicle_id == vehicle_id)
                          .order_by(col(Shift.starts_at))).all()
    breaks: dict[int, list[ShiftBreak]] = {shift.id: [] for shift in shifts if shift.id is not None}
    if breaks:
        for row in session.exec(select(ShiftBreak).where(col(ShiftBreak.shift_id).in_(list(breaks)))
                                .order_by(col(ShiftBreak.earliest_start))).all():
            breaks[row.shift_id].append(row)
    return [(shift, breaks.get(shift.id or 0, [])) for shift in shifts]


def _replace_routes(session: Session, routes: Mapping[str, Sequence[PlannedStopRow]]) -> None:
    """Replace every planned stop of each vehicle in ``routes`` by its new route (checked first)."""
    if any(stop.vehicle_id != vid for vid, route in routes.items() for stop in route):
        raise ValueError("every stop of a route must belong to its vehicle")
    session.execute(delete(PlannedStop).where(col(PlannedStop.vehicle_id).in_(list(routes))))
    _insert_stops(session, [stop for route in routes.values() for stop in route])


def _replace_route(session: Session, vehicle_id: str, route: Sequence[PlannedStopRow] | None) -> None:
    if route is None:
        return
    if any(stop.vehicle_id != vehicle_id for stop in route):
        raise ValueError("every stop of the route must belong to the vehicle")
    session.execute(delete(PlannedStop).where(col(PlannedStop.vehicle_id) == vehicle_id))
    _insert_stops(session, route)


def save_vehicle(session: Session, *, vehicle: Vehicle, route: Sequence[PlannedStopRow] | None,
                 event: Event) -> Vehicle:
    """Write ``vehicle`` (new or changed), its planned stops (``None``: unchanged) and ``event`` in one
    transaction."""
    with _atomic(session, f"vehicle {vehicle.id}"):
        session.add(vehicle)
        session.flush()
        _replace_route(session, vehicle.id, route)
        session.add(event)
    session.refresh(vehicle)
    return vehicle


def save_shift(session: Session, *, shift: Shift, breaks: Sequence[ShiftBreak],
               route: Sequence[PlannedStopRow] | None, event: Event) -> ShiftWithBreaks:
    """Write ``shift`` (new or changed) with exactly ``breaks`` (its old breaks go), the vehicle's
    planned stops (``None``: unchanged) and ``event`` in one transaction."""
    with _atomic(session, f"shift of {shift.vehicle_id}"):
        session.add(shift)
        session.flush()
        assert shift.id is not None
        session.execute(delete(ShiftBreak).where(col(ShiftBreak.shift_id) == shift.id))
        for row in breaks:
            row.shift_id = shift.id
        session.add_all(breaks)
        _replace_route(session, shift.vehicle_id, route)
        session.add(event)
    session.refresh(shift)
    return shift, breaks


def delete_shift(session: Session, *, shift: Shift, route: Sequence[PlannedStopRow] | None, event: Event
                 ) -> None:
    """Remove ``shift`` and its breaks, write the vehicle's planned stops (``None``: unchanged) and
    ``event`` in one transaction."""
    with _atomic(session, f"shift of {shift.vehicle_id}"):
        session.execute(delete(ShiftBreak).where(col(ShiftBreak.shift_id) == shift.id))
        session.delete(shift)
        _replace_route(session, shift.vehicle_id, route)
        session.add(event)


def save_plan(session: Session, *, routes: dict[str, Sequence[PlannedStopRow]], bookings: Sequence[Booking],
              event: Event) -> None:
    """A re-optimized plan: replace the planned stops of every vehicle in ``routes``, write the ``bookings``
    that moved to another bus and add ``event`` — all in one transaction, or nothing."""
    with _atomic(session, "re-optimized plan"):
        session.add_all(bookings)
        session.flush()
        _replace_routes(session, routes)
        session.add(event)


def stage_changes(session: Session, *, bookings: Sequence[Booking],
                  routes: Mapping[str, Sequence[PlannedStopRow]], events: Sequence[Event]) -> None:
    """Put changed ``bookings``, the new planned stops of every vehicle in ``routes`` and ``events`` into
    the session's transaction without committing it: the write of the change they belong to (or its unit
    of work) commits them with its own, or rolls all of it back."""
    session.add_all(bookings)
    session.flush()
    if routes:
        _replace_routes(session, routes)
    session.add_all(events)
    session.flush()


def move_bookings(session: Session, moved: Mapping[str, str | None]) -> list[Booking]:
    """The rows of the bookings the plan moved to another bus (request id → new bus), with their bus set,
    in request-id order, for the caller to write with the change that moved them. A booking the plan holds
    but the database does not is a :class:`LookupError`."""
    rows = []
    for request_id, vehicle_id in sorted(moved.items()):
        row = session.get(Booking, request_id)
        if row is None:
            raise LookupError(f"booking {request_id!r} is in the plan but not in the database")
        row.vehicle_id = vehicle_id
        rows.append(row)
    return rows



def service_calendar(session: Session) -> tuple[Sequence[ServiceWeekday], Sequence[ServiceException]]:
    """The stored service calendar: the weekdays with hours of their own, and the exceptions by date."""
    return (session.exec(select(ServiceWeekday).order_by(col(ServiceWeekday.weekday))).all(),
            session.exec(select(ServiceException).order_by(col(ServiceException.day))).all())


def save_calendar(session: Session, *, weekdays: Sequence[ServiceWeekday],
                  exceptions: Sequence[ServiceException], event: Event) -> None:
    """Replace the stored service calendar by ``weekdays`` and ``exceptions`` and add ``event``, in one
    transaction."""
    with _atomic(session, "service calendar"):
        session.execute(delete(ServiceWeekday))
        session.execute(delete(ServiceException))
        session.add_all([*weekdays, *exceptions])
        session.add(event)


def meeting_points(session: Session, *, active_only: bool = False) -> Sequence[MeetingPoint]:
    """The stored meeting points by id (only the active ones with ``active_only``)."""
    query = select(MeetingPoint).order_by(col(MeetingPoint.id))
    if active_only:
        query = query.where(col(MeetingPoint.active))
    return session.exec(query).all()


def count_meeting_points(session: Session) -> int:
    """How many meeting points are stored (active or not)."""
    return int(session.exec(select(func.count()).select_from(MeetingPoint)).one())


def save_meeting_points(session: Session, *, points: Sequence[MeetingPoint]) -> None:
    """Add or replace ``points`` (by id), all in one transaction."""
    with _atomic(session, "meeting points"):
        for point in points:
            session.merge(point)
