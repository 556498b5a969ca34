"""The operators' booking desk: riders found or recorded for phone bookings, bookings searched (day,
status, rider, bus) by pickup time, and a booking's detail with its whole history from the event log.

Quoting, booking and cancelling for a caller are not here: they go through :mod:`api.services.booking`,
the very functions riders use, with the operator acting for the rider (the quote's ``for_rider``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy import ColumnElement, or_
from sqlmodel import Session, col, func, select

from api.auth import create_rider, normal_phone
from api.db.models import Booking, Event, User, UserRole
from api.errors import NotFound
from api.schemas import (
    DeskBookingDetail,
    DeskBookingPublic,
    DeskBookingsPage,
    EventPublic,
    Point,
    RiderCreate,
    RiderPublic,
    UserRef,
    Window,
)
from api.services.live_plan import LiveDispatch
from api.services.tariff import stored_fare
from dispatch.dispatcher import RequestStatus

MAX_RIDERS = 20  # riders a search lists at most


def record_rider(session: Session, *, body: RiderCreate) -> RiderPublic:
    """Record a caller as a rider (no API key)."""
    return rider_public(create_rider(session, name=body.name.strip(), phone=body.phone))


def find_riders(session: Session, *, query: str) -> list[RiderPublic]:
    """Active riders whose name contains ``query`` (case-insensitive) or whose phone contains its digits
    (three or more), by name; at most :data:`MAX_RIDERS`."""
    rows = session.exec(select(User).where(User.role == UserRole.RIDER, col(User.active), _rider_match(query))
                        .order_by(col(User.name), col(User.id)).limit(MAX_RIDERS)).all()
    return [rider_public(row) for row in rows]


def _rider_match(query: str) -> ColumnElement[bool]:
    """Users whose name contains ``query`` (case-insensitive) or whose phone contains its digits (three or
    more of them)."""
    matches = [func.lower(col(User.name)).contains(query.strip().lower(), autoescape=True)]
    digits = normal_phone(query).lstrip("+")
    if len(digits) >= 3:
        matches.append(col(User.phone).contains(digits, autoescape=True))
    return or_(*matches)


def rider_public(user: User) -> RiderPublic:
    """The rider ``user`` as the desk shows them."""
    assert user.id is not None, "riders come from the database"
    return RiderPublic(id=user.id, name=user.name, phone=user.phone, has_key=user.api_key_hash is not None)


def search_bookings(live: LiveDispatch, session: Session, *, day: date | None, status: RequestStatus | None,
                    rider: str | None, vehicle_id: str | None, limit: int, offset: int) -> DeskBookingsPage:
    """A page of the bookings matching every filter given, by pickup time (window start): picked up on
    the local ``day``, in ``status``, of a rider whose name or phone contains ``rider``, on bus
    ``vehicle_id``."""
    where: list[ColumnElement[bool]] = []
    if day is not None:
        clock = live.clock
        start, end = (clock.to_datetime(clock.at_local(d, time())) for d in (day, day + timedelta(days=1)))
        where += [col(Booking.window_start) >= start, col(Booking.window_start) < end]
    if status is not None:
        where.append(col(Booking.status) == status)
    if vehicle_id is not None:
        where.append(col(Booking.vehicle_id) == vehicle_id)
    if rider is not None and rider.strip():
        riders = select(User.id).where(User.role == UserRole.RIDER, _rider_match(rider))
        where.append(col(Booking.rider_id).in_(riders))
    query = select(Booking).where(*where)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(Booking.window_start).is_(None), col(Booking.window_start),
                                       col(Booking.id)).offset(offset).limit(limit)).all()
    users = _users(session, [r.rider_id for r in rows] + [r.booked_by for r in rows])
    zone = live.clock.zone
    following = offset + len(rows)
    return DeskBookingsPage(items=[desk_booking(row, users, zone) for row in rows], total=total, limit=limit,
                            offset=offset, next_offset=following if following < total else None)


def booking_detail(live: LiveDispatch, session: Session, *, booking_id: str) -> DeskBookingDetail:
    """The booking ``booking_id`` with every event of the log about it, oldest first (404 if unknown)."""
    row = session.get(Booking, booking_id)
    if row is None:
        raise NotFound("unknown_booking", f"no booking with id {booking_id!r}")
    events = session.exec(select(Event).where(Event.request_id == booking_id)
                          .order_by(col(Event.time), col(Event.id))).all()
    actors = {event.actor: _user_id_of(event.actor) for event in events}
    users = _users(session, [row.rider_id, row.booked_by, *actors.values()])
    zone = live.clock.zone
    history = [EventPublic(time=event.time.astimezone(zone), kind=event.kind.value, actor=event.actor,
                           actor_name=_name(users, actors[event.actor]), vehicle_id=event.vehicle_id,
                           payload=event.payload) for event in events]
    return DeskBookingDetail(**desk_booking(row, users, zone).model_dump(), events=history)


def desk_booking(row: Booking, users: dict[int, User], zone: tzinfo) -> DeskBookingPublic:
    """``row`` as the desk lists it, its rider and booker from ``users``; times in ``zone``."""
    rider = users.get(row.rider_id) if row.rider_id is not None else None
    booker = users.get(row.booked_by) if row.booked_by is not None else None
    window = None
    if row.window_start is not None and row.window_end is not None:
        window = Window(start=row.window_start.astimezone(zone), end=row.window_end.astimezone(zone))
    return DeskBookingPublic(
        id=row.id, status=row.status,
        rejection_cause=row.rejection_cause.value if row.rejection_cause else None,
        rider=rider_public(rider) if rider is not None else None,
        booked_by=UserRef(id=booker.id, name=booker.name) if booker is not None and booker.id else None,
        vehicle_id=row.vehicle_id, origin=Point(lat=row.origin_lat, lon=row.origin_lon),
        destination=Point(lat=row.destination_lat, lon=row.destination_lon), time_type=row.time_type,
        requested_time=row.requested_time.astimezone(zone), seats=row.seats, wheelchairs=row.wheelchairs,
        pickup_window=window, latest_arrival=_local(row.latest_dropoff, zone),
        submitted_at=row.submitted_at.astimezone(zone), booked_at=_local(row.booked_at, zone),
        ended_at=_local(row.ended_at, zone), fare=stored_fare(row.fare))


def _users(session: Session, ids: Iterable[int | None]) -> dict[int, User]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u for u in session.exec(select(User).where(col(User.id).in_(wanted))) if u.id is not None}


def _user_id_of(actor: str | None) -> int | None:
    """The user id of an event actor ``user:<id>``; None for any other actor."""
    if actor is None or not actor.startswith("user:"):
        return None
    number = actor.removeprefix("user:")
    return int(number) if number.isdigit() else None


def _name(users: dict[int, User], user_id: int | None) -> str | None:
    user = users.get(user_id) if user_id is not None else None
    return user.name if user is not None else None


def _local(moment: datetime | None, zone: tzinfo) -> datetime | None:
    return moment.astimezone(zone) if moment is not None else None
