"""Riders' trips: quote, book (idempotently), look up and cancel.

Every change goes through :func:`~api.services.live_plan.plan_change`, under the dispatcher's lock,
so that an idempotency key is checked and used atomically. Quotes exist only in memory (they expire
within minutes); a booking is written with its bus's new route and an event in one transaction (with
every other route it changed and the bookings it moved to another bus, when the offer was a repair),
and if that write fails the plan goes back to where it was: the quote stays open, nothing is published, and a
retry with the same key books it once the database is back.

Every operation acts for a ``user`` (a rider, or an operator booking for a caller who phones in). A quote
belongs to the user who asked for it and the booking made from it to that quote's owner (``rider_id``);
riders see and cancel only their own bookings — anyone else's answers 404 like an unknown one, so ids
cannot be probed. Operators may act on every quote and booking.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlmodel import Session

from api.clock import ServiceClock
from api.db.models import Booking, Event, FairUseCapsBase, User, UserRole
from api.db.repository import (
    bookings_page,
    find_booking_by_idempotency_key,
    move_bookings,
    save_booking,
)
from api.errors import Conflict, Forbidden, NotFound, RequestRefused
from api.schemas import BookingPublic, BookingsPage, ChosenMeetingPoint, OfferPublic, Point, Window
from api.services.booking_view import booking_public, live_views
from api.services.demand import demand_record, write_demand
from api.services.fair_use import check_caps
from api.services.live_plan import LiveDispatch, QuoteContext, actor, plan_change, planned_stops
from api.services.meeting_points import trip_options
from api.services.notifications import notify
from api.services.privacy_settings import settings_in_force
from api.services.stop_points import keep_dropoff, keep_pickup, snapped_point
from api.services.tariff import offer_fare, tariff_in_force
from dispatch.events import EventKind
from dispatch.fares import PassengerCategory
from dispatch.model import MeetingMode, Offer, PlaceOption, Rejection, RejectionCause, Request, TimeType
from dispatch.open_offers import forget_expired
from dispatch.plan import BookedTrip, RequestStatus
from routing.errors import OutsideServiceAreaError, SnapError
from routing.walking import WalkNetwork


def quote_trip(live: LiveDispatch, session: Session, *, user: User, origin: Point, destination: Point,
               time_type: TimeType, time: datetime, seats: int, wheelchairs: int,
               walk: Callable[[], WalkNetwork], for_rider: int | None = None,
               passengers: Mapping[PassengerCategory, int] | None = None) -> OfferPublic:
    """An offer for the trip, or :class:`RequestRefused` with the cause and alternative times.

    Both points are snapped to the curb of a road buses may stop on; the offer says where the bus
    stops and how far the rider walks there.

    The quote belongs to ``user``, or, when an operator books for a caller, to the rider ``for_rider``
    (404 ``unknown_rider`` if there is no such active rider; 403 for anyone but an operator): the booking
    made from it is that rider's. Points outside the service area (``outside_area``) or off the roads
    (``off_road``) are refused like any other trip the service cannot take. Every quote is recorded,
    coarsened, for the demand map (:mod:`api.services.demand`), and every refusal logged as a
    ``request_rejected`` event with its cause, for the key figures — both written after the dispatch
    lock is released.

    In an area whose mode is hybrid or stops only, the bus may serve each end at a meeting point within the
    walking limit (``walk()``: the walk graph; :func:`~api.services.meeting_points.trip_options`); the
    dispatcher chooses, and the offer names the points chosen. In stops only, an end without a meeting point
    in reach is refused (``no_meeting_point``).

    The offer carries its fare under the tariff in force (:mod:`api.services.tariff`) for ``passengers``
    by category (default: ``seats`` adults and ``wheelchairs`` wheelchair users); the booking keeps it.
    """
    owner = _owner(session, user, for_rider)
    tariff = tariff_in_force(session, live.clock.zone)
    session.commit()  # end the read before waiting for the lock
    if passengers is None:
        passengers = {PassengerCategory.ADULT: seats, PassengerCategory.WHEELCHAIR: wheelchairs}
    clock = live.clock
    asked = partial(_record_quote, live, session, user=user, time=time, origin=origin,
                    destination=destination, passengers=seats + wheelchairs)
    try:
        snapped = live.network.snap_to_curb([origin.lat, destination.lat], [origin.lon, destination.lon])
    except (OutsideServiceAreaError, SnapError) as error:
        cause = RejectionCause.OUTSIDE_AREA if isinstance(error, OutsideServiceAreaError) \
            else RejectionCause.OFF_ROAD
        asked(request_id=None, cause=cause, at=clock.now_datetime())
        raise RequestRefused(Rejection("", cause, str(error))) from error
    pickups, dropoffs, named = _meeting_options(live, session, walk, origin, destination,
                                                (int(snapped.node[0]), int(snapped.node[1])))
    if pickups is None or dropoffs is None:
        end = "origin" if pickups is None else "destination"
        asked(request_id=None, cause=RejectionCause.NO_MEETING_POINT, at=clock.now_datetime())
        raise RequestRefused(Rejection("", RejectionCause.NO_MEETING_POINT,
                                       f"no meeting point within walking reach of the {end}"))
    with plan_change(live, session) as now:
        request = Request(uuid.uuid4().hex, int(snapped.node[0]), int(snapped.node[1]), time_type,
                          clock.to_seconds(time), now, seats, wheelchairs, pickups, dropoffs)
        result = live.dispatcher.quote(request, now, give_way=live.lock.others_waiting)
        if isinstance(result, Offer):
            forget_expired(live.quotes, now, lambda quote: quote.valid_until)
            chosen = (_named(named, result.pickup), _named(named, result.dropoff))
            fare = offer_fare(tariff, live.network, passengers=passengers,
                              pickup=result.pickup.location if result.pickup else request.origin,
                              dropoff=result.dropoff.location if result.dropoff else request.destination)
            context = QuoteContext(origin, destination, snapped_point(live.network, snapped, 0),
                                   snapped_point(live.network, snapped, 1), request, time,
                                   clock.to_datetime(now), result.valid_until, owner, result.pickup_window[0],
                                   chosen, fare)
            live.quotes[request.id] = context
    asked(request_id=request.id, cause=None if isinstance(result, Offer) else result.cause,
          at=clock.to_datetime(now))
    if isinstance(result, Offer):
        return _offer_public(clock, result, context)
    raise RequestRefused(result, tuple(clock.to_datetime(t) for t in result.alternatives))


def book_trip(live: LiveDispatch, session: Session, *, user: User, quote_id: str, idempotency_key: str,
              caps: FairUseCapsBase) -> tuple[BookingPublic, bool]:
    """Book the offer ``quote_id``; returns the booking and whether it was created now.

    A repeated call with the same ``idempotency_key`` returns the booking made the first time and books
    nothing; the key used by the same rider for another quote is a :class:`Conflict`. Keys belong to the
    booking's rider (the quote's owner): two riders may use the same key. If the booking cannot be
    written, the quote stays open and the plan as it was: the same call succeeds later. A booking that
    would take its rider over a fair-use cap is a :class:`Conflict` (:mod:`api.services.fair_use`; ``caps``:
    those in force while operators have set none); the quote stays open.
    """
    bus_visible = _bus_visible(session)
    session.commit()  # end the read before waiting for the lock
    with plan_change(live, session) as now:
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
            return _booking_public(live, existing, bus_visible), False
        if context is None:
            raise NotFound("unknown_offer", f"no open quote {quote_id!r}; ask for a quote first")
        check_caps(session, defaults=caps, rider_id=context.user_id,
                   pickup_at=live.clock.to_datetime(context.pickup_at),
                   passengers=context.request.seats + context.request.wheelchairs,
                   now=live.clock.to_datetime(now))
        result = live.dispatcher.book(quote_id, now, give_way=live.lock.others_waiting)
        if isinstance(result, BookedTrip):
            row = _new_booking_row(live, context, result, idempotency_key, now, _user_id(user))
            payload: dict[str, object] = {"window": [live.clock.to_datetime(t).isoformat()
                                                     for t in (result.booking.promise.window_start,
                                                               result.booking.promise.window_end)]}
            others = [vid for vid in result.routes_changed if vid != result.vehicle_id]
            if others or result.moved:  # a repaired offer: riders moved, several routes changed
                payload |= {"routes_changed": list(result.routes_changed),
                            "bookings_moved": dict(result.moved)}
            event = Event(time=live.clock.to_datetime(now), kind=EventKind.BOOKING_CONFIRMED,
                          actor=actor(user), vehicle_id=result.vehicle_id, request_id=quote_id,
                          payload=payload)
            notify(session, [event], [row])  # the rider is told in the booking's own transaction
            save_booking(session, booking=row, route=planned_stops(live, result.vehicle_id),
                         moved=move_bookings(session, result.moved),
                         other_routes={vid: planned_stops(live, vid) for vid in others}, event=event)
            del live.quotes[quote_id]  # used up only once the booking is saved
            live.fares.remember(row.id, context.fare)
            return _booking_public(live, row, bus_visible), True
        del live.quotes[quote_id]  # refused for good (expired, no longer feasible): ask again
    raise RequestRefused(result)


def get_booking(live: LiveDispatch, session: Session, *, user: User, booking_id: str) -> BookingPublic:
    """A booking with its promise and the plan's current estimates."""
    row = _load(session, user, booking_id)  # the read needs no lock; the plan's estimates do
    bus_visible = _bus_visible(session)
    session.commit()  # end the read before waiting for the lock (the row stays loaded)
    with live.lock:
        return _booking_public(live, row, bus_visible)


def cancel_booking(live: LiveDispatch, session: Session, *, user: User, booking_id: str) -> BookingPublic:
    """Cancel a booking whose rider has not been picked up; its bus's route closes the gap."""
    bus_visible = _bus_visible(session)
    session.commit()  # end the read before waiting for the lock
    with plan_change(live, session) as now:
        row = _load(session, user, booking_id)
        if row.status is not RequestStatus.BOOKED:
            raise Conflict("not_cancellable", f"booking {booking_id!r} is {row.status.value}")
        if booking_id not in live.dispatcher.plan.bookings():
            raise Conflict("not_in_plan", f"booking {booking_id!r} is not in the plan in force")
        live.dispatcher.cancel(booking_id, now)
        row.status = RequestStatus.CANCELLED
        row.ended_at = live.clock.to_datetime(now)
        vehicle_id = row.vehicle_id
        event = Event(time=row.ended_at, kind=EventKind.BOOKING_CANCELLED, actor=actor(user),
                      vehicle_id=vehicle_id, request_id=booking_id)
        notify(session, [event], [row])  # an operator's cancellation is told to the rider
        save_booking(session, booking=row, route=planned_stops(live, vehicle_id) if vehicle_id else None,
                     event=event)
        return _booking_public(live, row, bus_visible)


def list_bookings(live: LiveDispatch, session: Session, *, user: User, rider_id: int | None, limit: int,
                  offset: int) -> BookingsPage:
    """A page of bookings, newest first: a rider's own (asking for another rider's is 403), an operator's
    view of every booking or of one rider's."""
    if not _is_operator(user):
        if rider_id is not None and rider_id != user.id:
            raise Forbidden("riders list only their own bookings")
        rider_id = _user_id(user)
    rows, total = bookings_page(session, rider_id=rider_id, limit=limit, offset=offset)
    bus_visible = _bus_visible(session)
    session.commit()  # end the read before waiting for the lock (the rows stay loaded)
    with live.lock:
        views = live_views(live, (row.id for row in rows))
    zone, now = live.clock.zone, live.clock.now_datetime()
    following = offset + len(rows)
    return BookingsPage(items=[booking_public(row, views.get(row.id), zone, now=now, bus_visible=bus_visible)
                               for row in rows], total=total,
                        limit=limit, offset=offset, next_offset=following if following < total else None)


# ----- helpers ---------------------------------------------------------------------------------------

def _record_quote(live: LiveDispatch, session: Session, *, user: User, request_id: str | None,
                  cause: RejectionCause | None, at: datetime, time: datetime, origin: Point,
                  destination: Point, passengers: int) -> None:
    """Record a quote asked at ``at`` for the demand map and, if refused (``cause``), log the refusal;
    called after the dispatch lock is released. If the database is away the rider still gets the answer
    (a warning is logged)."""
    record = demand_record(asked_at=at, trip_time=time, origin=origin, destination=destination,
                           passengers=passengers, cause=cause, zone=live.clock.zone)
    event = None if cause is None else Event(time=at, kind=EventKind.REQUEST_REJECTED, actor=actor(user),
                                             request_id=request_id, payload={"cause": cause.value})
    write_demand(live, session, record, event)


def _owner(session: Session, user: User, for_rider: int | None) -> int:
    """Whose quote ``user`` asks for: their own, or an operator's caller ``for_rider`` (an active rider)."""
    if for_rider is None:
        return _user_id(user)
    if not _is_operator(user):
        raise Forbidden("only operators book for another rider")
    rider = session.get(User, for_rider)
    session.commit()  # end the read before waiting for the lock
    if rider is None or rider.role is not UserRole.RIDER or not rider.active:
        raise NotFound("unknown_rider", f"no active rider with id {for_rider}")
    return for_rider


def _is_operator(user: User) -> bool:
    return user.role is UserRole.OPERATOR


def _may_see(user: User, row: Booking) -> bool:
    return _is_operator(user) or row.rider_id == user.id


def _user_id(user: User) -> int:
    assert user.id is not None, "users come from the database"
    return user.id


def _load(session: Session, user: User, booking_id: str) -> Booking:
    """The booking if ``user`` may see it; another rider's booking is as unknown as a missing one."""
    row = session.get(Booking, booking_id)
    if row is None or not _may_see(user, row):
        raise NotFound("unknown_booking", f"no booking with id {booking_id!r}")
    return row


def _meeting_options(live: LiveDispatch, session: Session, walk: Callable[[], WalkNetwork],
                     origin: Point, destination: Point, doors: tuple[int, int]
                     ) -> tuple[tuple[PlaceOption, ...] | None, tuple[PlaceOption, ...] | None,
                                dict[str, ChosenMeetingPoint]]:
    """The pickup and drop-off options of a trip under the area's mode (None: stops only, and no meeting
    point in reach of that end), and the meeting points among them by id. Read before the dispatch lock is
    taken: walks and the meeting points table are not the plan's."""
    with live.lock:
        rules = live.dispatcher.rules
    if rules.mode == MeetingMode.DOOR_TO_DOOR:
        return (), (), {}
    pickups, at_origin = trip_options(session, live.network, walk, rules, (origin.lat, origin.lon), doors[0])
    dropoffs, at_destination = trip_options(session, live.network, walk, rules,
                                            (destination.lat, destination.lon), doors[1])
    session.commit()  # end the read before waiting for the lock
    return pickups or None, dropoffs or None, at_origin | at_destination


def _named(named: dict[str, ChosenMeetingPoint], option: PlaceOption | None) -> ChosenMeetingPoint | None:
    """The meeting point an offer's place is, as offers name it (None: the door)."""
    return named[option.meeting_point_id] if option is not None and option.meeting_point_id else None


def _offer_public(clock: ServiceClock, offer: Offer, context: QuoteContext) -> OfferPublic:
    dt = clock.to_datetime
    return OfferPublic(quote_id=offer.request_id, pickup=context.pickup, dropoff=context.dropoff,
                       pickup_window=Window(start=dt(offer.pickup_window[0]), end=dt(offer.pickup_window[1])),
                       planned_pickup=dt(offer.planned_pickup), estimated_arrival=dt(offer.estimated_dropoff),
                       latest_arrival=dt(offer.latest_dropoff), valid_until=dt(offer.valid_until),
                       pickup_meeting_point=context.meeting_points[0],
                       dropoff_meeting_point=context.meeting_points[1], fare=context.fare)


def _new_booking_row(live: LiveDispatch, context: QuoteContext, booked: BookedTrip, key: str, now: int,
                     booked_by: int) -> Booking:
    dt = live.clock.to_datetime
    request, bounds, promise = booked.booking.request, booked.booking.bounds, booked.booking.promise
    row = Booking(
        id=request.id, rider_id=context.user_id, booked_by=booked_by, origin_lat=context.origin.lat,
        origin_lon=context.origin.lon,
        origin_node=request.origin, destination_lat=context.destination.lat,
        destination_lon=context.destination.lon, destination_node=request.destination,
        time_type=request.time_type, requested_time=context.requested_time, seats=request.seats,
        wheelchairs=request.wheelchairs, idempotency_key=key, status=RequestStatus.BOOKED,
        vehicle_id=booked.vehicle_id, submitted_at=context.submitted_at, direct_s=bounds.direct_s,
        earliest_pickup=dt(bounds.earliest_pickup), latest_pickup=dt(bounds.latest_pickup),
        max_ride_s=bounds.max_ride_s, window_start=dt(promise.window_start),
        window_end=dt(promise.window_end), latest_dropoff=dt(promise.latest_dropoff),
        offer_valid_until=dt(context.valid_until), booked_at=dt(now),
        pickup_meeting_point=_stored(context.meeting_points[0]),
        dropoff_meeting_point=_stored(context.meeting_points[1]),
        fare=context.fare.model_dump(mode="json") if context.fare else None,
        fare_total=context.fare.total_cents if context.fare else None)
    keep_pickup(row, context.pickup)
    keep_dropoff(row, context.dropoff)
    return row


def _stored(point: ChosenMeetingPoint | None) -> dict[str, Any] | None:
    return point.model_dump() if point is not None else None


def _booking_public(live: LiveDispatch, row: Booking, bus_visible: timedelta) -> BookingPublic:
    """The rider's view of ``row`` with the plan's estimates; the caller holds ``live.lock``."""
    return booking_public(row, live_views(live, (row.id,)).get(row.id), live.clock.zone,
                          now=live.clock.now_datetime(), bus_visible=bus_visible)


def _bus_visible(session: Session) -> timedelta:
    """How long before a pickup its rider sees the bus (the operators' privacy settings)."""
    return timedelta(minutes=settings_in_force(session).bus_visible_minutes)
