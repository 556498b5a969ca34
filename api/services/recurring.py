"""Riders' recurring trips: a weekly pattern kept server-side, each day of it booked ahead for the rider.

A :class:`~api.db.models.RecurringTrip` says on which weekdays, between which local dates, from where to
where, at which local wall-clock time (leaving after or arriving by it) and for how many. The pattern's
time is a wall-clock time: 08:00 is 08:00 local on both sides of a daylight-saving change, so its instant
(``clock.at_local``) moves by an hour on the timeline.

:func:`book_due_days` tries every day of every active pattern once, when its trip comes into the booking
horizon (the trip's instant at most the rules' ``booking_horizon_s`` ahead, and at least ``min_notice_s``),
through the same path as a rider's own booking (:func:`~api.services.booking.quote_trip` and
:func:`~api.services.booking.book_trip`, acting as the rider: the same rules, service calendar and
fair-use caps). What happened is stored as a :class:`~api.db.models.RecurringOccurrence` — booked (with
the booking), refused (with the refusal's cause and message: shown to the rider in the app), or
``no_service`` on a day the service calendar closes — and a day once tried is never tried again.
A day whose time has passed before it could be tried is left out. :class:`RecurringBooker` runs it on the
worker that dispatches every ``every_s`` seconds of service time, like the horizon timer.

The CRUD functions act for ``rider`` on their own patterns (times shown in ``zone``, the service's):
another rider's id answers 404 ``unknown_recurring_trip``. A rider keeps at most
:data:`MAX_RECURRING_TRIPS` patterns.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from datetime import date, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, col, delete, func, select

from api.clock import ServiceClock
from api.db.models import (
    FairUseCapsBase,
    OccurrenceOutcome,
    RecurringOccurrence,
    RecurringTrip,
    User,
    UserRole,
)
from api.db.repository import find_booking_by_idempotency_key
from api.errors import Conflict, NotFound, ServiceError
from api.schemas import OccurrencePublic, Point, RecurringTripBody, RecurringTripPublic
from api.services.booking import book_trip, quote_trip
from api.services.live_plan import LiveDispatch
from dispatch.calendar import standard_hours
from dispatch.model import ServiceRules
from routing.walking import WalkNetwork

logger = logging.getLogger(__name__)

MAX_RECURRING_TRIPS = 20
OCCURRENCES_SHOWN = 30  # the newest days of a pattern shown with it


# ----- the rider's patterns ----------------------------------------------------------------------------

def list_trips(session: Session, *, rider: User, zone: ZoneInfo) -> list[RecurringTripPublic]:
    """The rider's recurring trips, oldest first, each with its newest days tried."""
    rows = session.exec(select(RecurringTrip).where(RecurringTrip.rider_id == rider.id)
                        .order_by(col(RecurringTrip.id))).all()
    return [_public(session, row, zone) for row in rows]


def create_trip(session: Session, *, rider: User, zone: ZoneInfo, body: RecurringTripBody
                ) -> RecurringTripPublic:
    """Save a recurring trip; its days are booked as they come into the booking horizon."""
    held = session.exec(select(func.count()).select_from(RecurringTrip)
                        .where(RecurringTrip.rider_id == rider.id)).one()
    session.commit()  # end the read: the write starts a transaction of its own (api.services.favourites)
    if held >= MAX_RECURRING_TRIPS:
        raise Conflict("too_many_recurring_trips",
                       f"you keep at most {MAX_RECURRING_TRIPS} recurring trips; remove one first")
    assert rider.id is not None, "users come from the database"
    row = RecurringTrip(rider_id=rider.id, **_columns(body))
    session.add(row)
    session.commit()
    session.refresh(row)
    return _public(session, row, zone)


def read_trip(session: Session, *, rider: User, zone: ZoneInfo, trip_id: int) -> RecurringTripPublic:
    """One of the rider's recurring trips with its newest days tried."""
    return _public(session, _owned(session, rider, trip_id), zone)


def change_trip(session: Session, *, rider: User, zone: ZoneInfo, trip_id: int, body: RecurringTripBody
                ) -> RecurringTripPublic:
    """Replace a recurring trip's pattern. Days already tried keep their outcome (and their bookings:
    cancel those as any booking); days not yet tried follow the new pattern."""
    row = _owned(session, rider, trip_id)
    row.sqlmodel_update(_columns(body))
    session.add(row)
    session.commit()
    session.refresh(row)
    return _public(session, row, zone)


def delete_trip(session: Session, *, rider: User, trip_id: int) -> None:
    """Remove a recurring trip and the record of its days; bookings it made stay (cancel them as any)."""
    row = _owned(session, rider, trip_id)
    session.exec(delete(RecurringOccurrence).where(col(RecurringOccurrence.recurring_trip_id) == row.id))
    session.delete(row)
    session.commit()


# ----- booking the days ahead ---------------------------------------------------------------------------

def due_days(trip: RecurringTrip, tried: set[date], clock: ServiceClock, now: int, rules: ServiceRules
             ) -> Iterator[tuple[date, int]]:
    """The days of ``trip`` not in ``tried`` whose trip lies between ``min_notice_s`` and
    ``booking_horizon_s`` after ``now``, with the trip's instant (dispatch seconds) on each."""
    earliest, latest = now + rules.min_notice_s, now + rules.booking_horizon_s
    day = max(trip.first_day, clock.local_date(now))
    last = min(trip.last_day, clock.local_date(latest))
    wall = time.fromisoformat(trip.local_time)
    weekdays = set(trip.weekdays)
    while day <= last:
        if day.weekday() in weekdays and day not in tried:
            at = clock.at_local(day, wall)
            if earliest <= at <= latest:
                yield day, at
        day += timedelta(days=1)


def book_due_days(live: LiveDispatch, session: Session, *, caps: FairUseCapsBase,
                  walk: Callable[[], WalkNetwork]) -> list[RecurringOccurrence]:
    """Try every day of every active recurring trip that has come into the booking horizon and was not
    tried yet; the outcomes stored, in the order tried. ``caps``: the fair-use caps while operators set
    none; ``walk``: the walk graph, for areas with meeting points."""
    clock = live.clock
    now = clock.now()
    with live.lock:
        rules, calendar = live.dispatcher.rules, live.dispatcher.calendar
    today, horizon_end = clock.local_date(now), clock.local_date(now + rules.booking_horizon_s)
    trips = session.exec(select(RecurringTrip).where(
        col(RecurringTrip.active), col(RecurringTrip.last_day) >= today,
        col(RecurringTrip.first_day) <= horizon_end).order_by(col(RecurringTrip.id))).all()
    session.commit()  # end the read: quoting waits for the dispatch lock
    outcomes = []
    for trip in trips:
        rider = session.get(User, trip.rider_id)
        if rider is None or rider.role is not UserRole.RIDER or not rider.active:
            continue
        tried = set(session.exec(select(col(RecurringOccurrence.day)).where(
            RecurringOccurrence.recurring_trip_id == trip.id, col(RecurringOccurrence.day) >= today)).all())
        session.commit()
        for day, at in list(due_days(trip, tried, clock, now, rules)):
            hours = (calendar.calendar.hours_on(day, standard_hours(rules)) if calendar is not None
                     else standard_hours(rules))
            if hours is None:
                occurrence = _occurrence(trip, day, at, live, OccurrenceOutcome.NO_SERVICE,
                                         message="the service does not run that day")
            else:
                occurrence = _book_day(live, session, trip, rider, day, at, caps, walk)
            session.add(occurrence)
            session.commit()
            logger.info("recurring trip %s on %s: %s%s", trip.id, day.isoformat(), occurrence.outcome.value,
                        f" ({occurrence.cause})" if occurrence.cause else "")
            outcomes.append(occurrence)
    return outcomes


def _book_day(live: LiveDispatch, session: Session, trip: RecurringTrip, rider: User, day: date, at: int,
              caps: FairUseCapsBase, walk: Callable[[], WalkNetwork]) -> RecurringOccurrence:
    """Quote and book ``trip`` on ``day`` as its rider would; the outcome, not yet stored. The booking's
    idempotency key names the pattern and day, so a day booked before its outcome could be stored is found
    again, never booked twice."""
    assert rider.id is not None
    key = f"recurring:{trip.id}:{day.isoformat()}"
    earlier = find_booking_by_idempotency_key(session, rider_id=rider.id, key=key)
    session.commit()
    if earlier is not None:
        return _occurrence(trip, day, at, live, OccurrenceOutcome.BOOKED, booking_id=earlier.id)
    try:
        offer = quote_trip(live, session, user=rider,
                           origin=Point(lat=trip.origin_lat, lon=trip.origin_lon),
                           destination=Point(lat=trip.destination_lat, lon=trip.destination_lon),
                           time_type=trip.time_type, time=live.clock.to_datetime(at), seats=trip.seats,
                           wheelchairs=trip.wheelchairs, walk=walk)
        booking, _ = book_trip(live, session, user=rider, quote_id=offer.quote_id, idempotency_key=key,
                               caps=caps)
    except ServiceError as refusal:  # no offer, the offer gone, a fair-use cap: the rider is told why
        return _occurrence(trip, day, at, live, OccurrenceOutcome.REFUSED, cause=refusal.code,
                           message=refusal.message)
    return _occurrence(trip, day, at, live, OccurrenceOutcome.BOOKED, booking_id=booking.id)


def _occurrence(trip: RecurringTrip, day: date, at: int, live: LiveDispatch, outcome: OccurrenceOutcome,
                *, booking_id: str | None = None, cause: str | None = None, message: str | None = None
                ) -> RecurringOccurrence:
    assert trip.id is not None
    return RecurringOccurrence(recurring_trip_id=trip.id, day=day, trip_time=live.clock.to_datetime(at),
                               outcome=outcome, booking_id=booking_id, cause=cause, message=message,
                               tried_at=live.clock.now_datetime())


class RecurringBooker:
    """A thread that books the due days of recurring trips (:func:`book_due_days`) every ``every_s``
    seconds of service time while ``is_dispatcher()``, looking at the service clock every ``poll_s``
    seconds; ``session_info`` goes into the sessions it writes with (the fence of :mod:`api.live.fencing`).
    :meth:`run_once` runs it now (tests: with the service clock moved); runs never overlap."""

    def __init__(self, live: LiveDispatch, engine: Engine, *, every_s: float, poll_s: float,
                 caps: FairUseCapsBase, walk: Callable[[], WalkNetwork], is_dispatcher: Callable[[], bool],
                 session_info: dict[str, object] | None = None) -> None:
        self._live, self._engine, self._caps, self._walk = live, engine, caps, walk
        self._every_s, self._poll_s = every_s, poll_s
        self._is_dispatcher, self._session_info = is_dispatcher, dict(session_info or {})
        self._last: int | None = None  # the first look runs at once
        self._running = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rufbus-recurring", daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the run under way."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def due(self) -> bool:
        """Whether ``every_s`` of service time have passed since the last run (or the clock went back)."""
        now = self._live.clock.now()
        return self._last is None or not self._last <= now < self._last + self._every_s

    def run_once(self) -> list[RecurringOccurrence]:
        """Book the due days now; the outcomes stored."""
        with self._running:
            self._last = self._live.clock.now()
            with Session(self._engine, expire_on_commit=False) as session:
                session.info.update(self._session_info)
                return book_due_days(self._live, session, caps=self._caps, walk=self._walk)

    def _run(self) -> None:
        while not self._stop.wait(self._poll_s):
            if self._is_dispatcher() and self.due():
                try:
                    self.run_once()
                except Exception:  # one failed run must not end the thread; the next one tries again
                    logger.exception("booking recurring trips failed")


# ----- helpers ---------------------------------------------------------------------------------------

def _owned(session: Session, rider: User, trip_id: int) -> RecurringTrip:
    row = session.get(RecurringTrip, trip_id)
    session.commit()  # end the read: the write starts a transaction of its own (api.services.favourites)
    if row is None or row.rider_id != rider.id:
        raise NotFound("unknown_recurring_trip", f"no recurring trip with id {trip_id}")
    return row


def _columns(body: RecurringTripBody) -> dict[str, Any]:
    return {"name": body.name, "origin_lat": body.origin.lat, "origin_lon": body.origin.lon,
            "origin_name": body.origin_name, "destination_lat": body.destination.lat,
            "destination_lon": body.destination.lon, "destination_name": body.destination_name,
            "weekdays": sorted(body.weekdays), "time_type": body.time_type, "local_time": body.time,
            "seats": body.seats, "wheelchairs": body.wheelchairs, "first_day": body.first_day,
            "last_day": body.last_day, "active": body.active}


def _public(session: Session, row: RecurringTrip, zone: ZoneInfo) -> RecurringTripPublic:
    assert row.id is not None
    occurrences = session.exec(select(RecurringOccurrence)
                               .where(RecurringOccurrence.recurring_trip_id == row.id)
                               .order_by(col(RecurringOccurrence.day).desc()).limit(OCCURRENCES_SHOWN)).all()
    return RecurringTripPublic(
        id=row.id, name=row.name, origin=Point(lat=row.origin_lat, lon=row.origin_lon),
        origin_name=row.origin_name, destination=Point(lat=row.destination_lat, lon=row.destination_lon),
        destination_name=row.destination_name, weekdays=list(row.weekdays), time_type=row.time_type,
        time=row.local_time, seats=row.seats, wheelchairs=row.wheelchairs, first_day=row.first_day,
        last_day=row.last_day, active=row.active,
        occurrences=[OccurrencePublic(day=o.day, trip_time=o.trip_time.astimezone(zone),
                                      outcome=o.outcome, booking_id=o.booking_id, cause=o.cause,
                                      message=o.message, tried_at=o.tried_at.astimezone(zone))
                     for o in occurrences])
