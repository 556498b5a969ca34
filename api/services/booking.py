"""Riders' trips: quote, book (idempotently), look up and cancel.

The dispatcher lives in this process (:class:`LiveDispatch`, on ``app.state.dispatch``); one lock
serialises every operation on it, including the database write that follows a booking, so that an
idempotency key is checked and used atomically. Quotes exist only in memory (they expire within
minutes); a booking is written with its bus's new route and an event in one transaction, and if that
write fails the booking is cancelled again in the dispatcher, so nothing is half-written.

Every operation acts for a ``user`` (a rider, or an operator booking for a caller who phones in). A quote
belongs to the user who asked for it and the booking made from it to that quote's owner (``rider_id``);
riders see and cancel only their own bookings — anyone else's answers 404 like an unknown one, so ids
cannot be probed. Operators may act on every quote and booking.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from api.clock import ServiceClock
from api.db.models import Booking, Event, PlannedStopRow, User, UserRole
from api.db.repository import append_event, bookings_page, find_booking_by_idempotency_key, save_booking
from api.errors import Conflict, Forbidden, NotFound, RequestRefused
from api.schemas import BookingPublic, BookingsPage, OfferPublic, Point, Window
from dispatch.dispatcher import BookedTrip, Dispatcher, DispatchError, RequestStatus
from dispatch.events import DomainEvent, EventKind
from dispatch.model import Offer, Rejection, Request, StopKind, TimeType
from routing.errors import OutsideServiceAreaError, SnapError
from routing.network import RoadNetwork

if TYPE_CHECKING:
    from api.services.route_view import EncodedRoute

MAX_OPEN_QUOTES = 1000  # past this many, expired quotes are forgotten

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QuoteContext:
    """What the API knows about an open quote beyond the dispatcher's request (places, datetimes)."""

    origin: Point
    destination: Point
    request: Request
    requested_time: datetime
    submitted_at: datetime
    valid_until: int
    user_id: int  # who asked for it: the booking's rider


@dataclass
class LiveDispatch:
    """The in-process dispatcher with what the API needs around it."""

    dispatcher: Dispatcher
    network: RoadNetwork
    clock: ServiceClock
    lock: threading.Lock = field(default_factory=threading.Lock)
    quotes: dict[str, QuoteContext] = field(default_factory=dict)
    # The live layer's hook (api.live): receives the drained domain events, under ``lock``.
    on_events: Callable[[list[DomainEvent]], None] | None = None
    # The drivers' route answers as last encoded, by bus (api.services.route_view.encoded_route).
    encoded_routes: dict[str, EncodedRoute] = field(default_factory=dict)

    def publish_events(self) -> None:
        """Hand the dispatcher's pending domain events to the live layer; call it under ``lock`` after
        every change to the plan has been saved."""
        events = self.dispatcher.drain_events()
        if self.on_events is not None:
            self.on_events(events)


def quote_trip(live: LiveDispatch, session: Session, *, user: User, origin: Point, destination: Point,
               time_type: TimeType, time: datetime, seats: int, wheelchairs: int) -> OfferPublic:
    """An offer for the trip, or :class:`RequestRefused` with the cause and alternative times.

    Points outside the service area or off the roads raise the routing errors. Every refusal, these
    included, is logged as a ``request_rejected`` event with its cause, for the key figures.
    """
    clock = live.clock
    try:
        snapped = live.network.snap([origin.lat, destination.lat], [origin.lon, destination.lon])
    except (OutsideServiceAreaError, SnapError) as error:
        cause = "outside_area" if isinstance(error, OutsideServiceAreaError) else "off_road"
        with live.lock:  # every write goes under the lock: SQLite lets one writer in, and a booking that
            # read before another write commits could not write any more
            _log_refusal(session, user, None, cause, clock.now_datetime())
        raise
    with live.lock:
        now = clock.now()
        request = Request(uuid.uuid4().hex, int(snapped.node[0]), int(snapped.node[1]), time_type,
                          clock.to_seconds(time), now, seats, wheelchairs)
        result = live.dispatcher.quote(request, now)
        live.publish_events()
        if isinstance(result, Rejection):
            _log_refusal(session, user, request.id, result.cause.value, clock.to_datetime(now))
            raise RequestRefused(result, tuple(clock.to_datetime(t) for t in result.alternatives))
        if len(live.quotes) >= MAX_OPEN_QUOTES:
            live.quotes = {k: q for k, q in live.quotes.items() if q.valid_until >= now}
        live.quotes[request.id] = QuoteContext(origin, destination, request, time, clock.to_datetime(now),
                                               result.valid_until, _user_id(user))
    return _offer_public(clock, result)


def book_trip(live: LiveDispatch, session: Session, *, user: User, quote_id: str, idempotency_key: str
              ) -> tuple[BookingPublic, bool]:
    """Book the offer ``quote_id``; returns the booking and whether it was created now.

    A repeated call with the same ``idempotency_key`` returns the booking made the first time and books
    nothing; the key used by the same rider for another quote is a :class:`Conflict`. Keys belong to the
    booking's rider (the quote's owner): two riders may use the same key.
    """
    with live.lock:
        context = live.quotes.get(quote_id)
        if context is not None and not (_is_operator(user) or context.user_id == user.id):
            context = None  # another rider's quote is as unknown as a missing one
        owner = context.user_id if context is not None else _user_id(user)
        existing = find_booking_by_idempotency_key(session, rider_id=owner, key=idempotency_key)
        if existing is None and context is None:  # a retry after the quote was booked (an operator's: under
            # the rider's id); an open quote was never booked: booking it removes it from the open ones
            earlier = session.get(Booking, quote_id)
            if earlier is not None and earlier.idempotency_key == idempotency_key and _may_see(user, earlier):
                existing = earlier
        if existing is not None:
            if existing.id != quote_id:
                raise Conflict("idempotency_key_reused",
                               "this Idempotency-Key was already used to book another quote")
            return _booking_public(live, existing), False
        if context is None:
            raise NotFound("unknown_offer", f"no open quote {quote_id!r}; ask for a quote first")
        dispatcher, clock = live.dispatcher, live.clock
        now = clock.now()
        result = dispatcher.book(quote_id, now)
        del live.quotes[quote_id]
        if isinstance(result, Rejection):
            live.publish_events()
            raise RequestRefused(result)
        try:
            row = _new_booking_row(live, context, result, idempotency_key, now)
            save_booking(session, booking=row, route=planned_stops(live, result.vehicle_id),
                         event=Event(time=clock.to_datetime(now), kind=EventKind.BOOKING_CONFIRMED,
                                     actor=actor(user), vehicle_id=result.vehicle_id, request_id=quote_id,
                                     payload={"window": [row.window_start.isoformat(),
                                                         row.window_end.isoformat()]}))
        except BaseException:
            dispatcher.cancel(quote_id, now)  # the seat is free again; the database holds nothing
            live.publish_events()
            raise
        live.publish_events()
        return _booking_public(live, row), True


def get_booking(live: LiveDispatch, session: Session, *, user: User, booking_id: str) -> BookingPublic:
    """A booking with its promise and the plan's current estimates."""
    row = _load(session, user, booking_id)  # the read needs no lock; the plan's estimates do
    session.commit()  # end the read before waiting for the lock (the row stays loaded)
    with live.lock:
        return _booking_public(live, row)


def cancel_booking(live: LiveDispatch, session: Session, *, user: User, booking_id: str) -> BookingPublic:
    """Cancel a booking whose rider has not been picked up; its bus's route closes the gap."""
    with live.lock:
        row = _load(session, user, booking_id)
        if row.status is not RequestStatus.BOOKED:
            raise Conflict("not_cancellable", f"booking {booking_id!r} is {row.status.value}")
        if booking_id not in live.dispatcher.plan.bookings():
            raise Conflict("not_in_plan", f"booking {booking_id!r} is not in the plan in force")
        clock = live.clock
        now, checkpoint = clock.now(), live.dispatcher.checkpoint()
        live.dispatcher.cancel(booking_id, now)
        row.status = RequestStatus.CANCELLED
        row.ended_at = clock.to_datetime(now)
        vehicle_id = row.vehicle_id
        try:
            save_booking(session, booking=row, route=planned_stops(live, vehicle_id) if vehicle_id else None,
                         event=Event(time=row.ended_at, kind=EventKind.BOOKING_CANCELLED, actor=actor(user),
                                     vehicle_id=vehicle_id, request_id=booking_id))
        except BaseException:
            live.dispatcher.rollback(checkpoint)  # the database still holds the booking: so does the plan
            raise
        live.publish_events()
        return _booking_public(live, row)


# ----- helpers ---------------------------------------------------------------------------------------

def _log_refusal(session: Session, user: User, request_id: str | None, cause: str, moment: datetime) -> None:
    """Log a refused quote; if the database is away the rider still gets the refusal (a warning is logged)."""
    try:
        append_event(session, event=Event(time=moment, kind=EventKind.REQUEST_REJECTED, actor=actor(user),
                                          request_id=request_id, payload={"cause": cause}))
    except SQLAlchemyError as error:
        log.warning("refused quote (%s) not logged: %s", cause, error)


def _is_operator(user: User) -> bool:
    return user.role is UserRole.OPERATOR


def _may_see(user: User, row: Booking) -> bool:
    return _is_operator(user) or row.rider_id == user.id


def _user_id(user: User) -> int:
    assert user.id is not None, "users come from the database"
    return user.id


def actor(user: User) -> str:
    return f"user:{user.id}"


def _load(session: Session, user: User, booking_id: str) -> Booking:
    """The booking if ``user`` may see it; another rider's booking is as unknown as a missing one."""
    row = session.get(Booking, booking_id)
    if row is None or not _may_see(user, row):
        raise NotFound("unknown_booking", f"no booking with id {booking_id!r}")
    return row


def _offer_public(clock: ServiceClock, offer: Offer) -> OfferPublic:
    dt = clock.to_datetime
    return OfferPublic(quote_id=offer.request_id,
                       pickup_window=Window(start=dt(offer.pickup_window[0]), end=dt(offer.pickup_window[1])),
                       planned_pickup=dt(offer.planned_pickup), estimated_arrival=dt(offer.estimated_dropoff),
                       latest_arrival=dt(offer.latest_dropoff), valid_until=dt(offer.valid_until))


def _new_booking_row(live: LiveDispatch, context: QuoteContext, booked: BookedTrip, key: str, now: int) -> Booking:
    dt = live.clock.to_datetime
    request, bounds, promise = booked.booking.request, booked.booking.bounds, booked.booking.promise
    return Booking(
        id=request.id, rider_id=context.user_id, origin_lat=context.origin.lat, origin_lon=context.origin.lon,
        origin_node=request.origin, destination_lat=context.destination.lat,
        destination_lon=context.destination.lon, destination_node=request.destination,
        time_type=request.time_type, requested_time=context.requested_time, seats=request.seats,
        wheelchairs=request.wheelchairs, idempotency_key=key, status=RequestStatus.BOOKED,
        vehicle_id=booked.vehicle_id, submitted_at=context.submitted_at, direct_s=bounds.direct_s,
        earliest_pickup=dt(bounds.earliest_pickup), latest_pickup=dt(bounds.latest_pickup),
        max_ride_s=bounds.max_ride_s, window_start=dt(promise.window_start),
        window_end=dt(promise.window_end), latest_dropoff=dt(promise.latest_dropoff),
        offer_valid_until=dt(context.valid_until), booked_at=dt(now))


def planned_stops(live: LiveDispatch, vehicle_id: str) -> list[PlannedStopRow]:
    """The vehicle's route in force as rows (stops at their road nodes, at their planned start)."""
    dispatcher, graph = live.dispatcher, live.network.graph
    route, evaluation = dispatcher.plan.route(vehicle_id), dispatcher.plan.evaluation(vehicle_id)
    return [PlannedStopRow(vehicle_id=vehicle_id, sequence=k, kind=stop.kind,
                           booking_id=None if stop.kind is StopKind.BREAK else stop.request_id,
                           lat=float(graph.node_lat[stop.location]), lon=float(graph.node_lon[stop.location]),
                           node=stop.location, planned_time=live.clock.to_datetime(start))
            for k, (stop, start) in enumerate(zip(route.stops, evaluation.start))]


def list_bookings(live: LiveDispatch, session: Session, *, user: User, rider_id: int | None, limit: int,
                  offset: int) -> BookingsPage:
    """A page of bookings, newest first: a rider's own (asking for another rider's is 403), an operator's
    view of every booking or of one rider's."""
    if not _is_operator(user):
        if rider_id is not None and rider_id != user.id:
            raise Forbidden("riders list only their own bookings")
        rider_id = _user_id(user)
    rows, total = bookings_page(session, rider_id=rider_id, limit=limit, offset=offset)
    with live.lock:
        items = [_booking_public(live, row) for row in rows]
    following = offset + len(rows)
    return BookingsPage(items=items, total=total, limit=limit, offset=offset,
                        next_offset=following if following < total else None)


def _booking_public(live: LiveDispatch, row: Booking) -> BookingPublic:
    planned_pickup = estimated_arrival = position = None
    if row.status in (RequestStatus.BOOKED, RequestStatus.PICKED_UP) and row.vehicle_id is not None:
        try:
            vehicle_id = live.dispatcher.plan.booking(row.id).vehicle_id
            if vehicle_id is not None:
                location, graph = live.dispatcher.plan.state(vehicle_id).location, live.network.graph
                position = Point(lat=float(graph.node_lat[location]), lon=float(graph.node_lon[location]))
                route, evaluation = live.dispatcher.plan.route(vehicle_id), live.dispatcher.plan.evaluation(vehicle_id)
                for stop, start in zip(route.stops, evaluation.start):
                    if stop.request_id == row.id and stop.kind is StopKind.PICKUP:
                        planned_pickup = live.clock.to_datetime(start)
                    elif stop.request_id == row.id and stop.kind is StopKind.DROPOFF:
                        estimated_arrival = live.clock.to_datetime(start)
        except DispatchError:
            pass  # booked before this process started: not in the plan (restart recovery comes next)
    assert row.window_start is not None and row.window_end is not None and row.latest_dropoff is not None
    zone = live.clock.zone
    return BookingPublic(id=row.id, status=row.status, vehicle_id=row.vehicle_id,
                         pickup_window=Window(start=row.window_start.astimezone(zone),
                                              end=row.window_end.astimezone(zone)),
                         latest_arrival=row.latest_dropoff.astimezone(zone), planned_pickup=planned_pickup,
                         estimated_arrival=estimated_arrival,
                         booked_at=row.booked_at.astimezone(zone) if row.booked_at else None,
                         vehicle_position=position)
