"""The rider's view of a booking, built in one place for the REST answers, the live pushes and the first
message of the rider's stream.

Two steps: :func:`live_views` reads what the plan in force says of bookings (status, bus, planned pickup
and arrival, where the bus is: :class:`~api.schemas.BookingLive`), and :func:`booking_public` joins one
such view with the promise stored with the booking (:class:`~api.schemas.BookingPublic`). The database
row decides the status; the plan's estimates count only while the row is booked or on board.

Where the bus is, is shown to the rider only from ``bus_visible`` before their pickup (the earlier of the
planned pickup and the promised window's start; the operators' ``bus_visible_minutes``,
:mod:`api.services.privacy_settings`) until they are dropped off (:func:`rider_sees_bus`): a booking for
tomorrow does not let anyone follow the bus, and with it other riders' pickups, all day.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, tzinfo
from typing import Any

from api.db.models import Booking
from api.schemas import BookingLive, BookingPublic, ChosenMeetingPoint, Point, Window
from api.services.live_plan import LiveDispatch
from api.services.stop_points import kept_points
from api.services.tariff import stored_fare
from dispatch.dispatcher import DispatchError, RequestStatus
from dispatch.model import StopKind

SERVED = (RequestStatus.BOOKED, RequestStatus.PICKED_UP)  # the statuses the plan has estimates for


def live_views(live: LiveDispatch, booking_ids: Iterable[str]) -> dict[str, BookingLive]:
    """The live views of those of ``booking_ids`` the plan in force knows, in their order. Each bus's
    route is read once for all its riders. The caller holds ``live.lock``."""
    dispatcher, dt = live.dispatcher, live.clock.to_datetime
    views: dict[str, BookingLive] = {}
    riding: dict[str, set[str]] = {}
    for booking_id in booking_ids:
        try:
            booked = dispatcher.plan.booking(booking_id)
        except DispatchError:
            continue  # not in the plan (e.g. booked before a restart and already over)
        promise = booked.promise
        views[booking_id] = BookingLive(
            id=booking_id, status=booked.status, vehicle_id=booked.vehicle_id,
            pickup_window=Window(start=dt(promise.window_start), end=dt(promise.window_end)),
            latest_arrival=dt(promise.latest_dropoff))
        if booked.vehicle_id is not None and booked.vehicle_id in dispatcher.plan.vehicles:
            riding.setdefault(booked.vehicle_id, set()).add(booking_id)
    graph = live.network.graph
    for vehicle_id, riders in riding.items():
        route, evaluation = dispatcher.plan.route(vehicle_id), dispatcher.plan.evaluation(vehicle_id)
        for stop, start in zip(route.stops, evaluation.start):
            if stop.request_id in riders and stop.kind is StopKind.PICKUP:
                views[stop.request_id].planned_pickup = dt(start)
            elif stop.request_id in riders and stop.kind is StopKind.DROPOFF:
                views[stop.request_id].estimated_arrival = dt(start)
        location = dispatcher.plan.state(vehicle_id).location
        position = Point(lat=float(graph.node_lat[location]), lon=float(graph.node_lon[location]))
        for booking_id in riders:
            views[booking_id].vehicle_position = position
    return views


def rider_sees_bus(view: BookingLive, *, now: datetime, bus_visible: timedelta) -> bool:
    """Whether the rider of ``view`` may see their bus at ``now``: on board, or booked and less than
    ``bus_visible`` before their pickup (the earlier of the planned pickup and the window's start)."""
    if view.status is RequestStatus.PICKED_UP:
        return True
    if view.status is not RequestStatus.BOOKED:
        return False
    starts = [t for t in (view.planned_pickup, view.pickup_window.start if view.pickup_window else None) if t]
    return bool(starts) and now >= min(starts) - bus_visible


def for_rider(view: BookingLive, *, now: datetime, bus_visible: timedelta) -> BookingLive:
    """``view`` as its rider may see it at ``now``: without the bus's position outside their window."""
    if view.vehicle_position is None or rider_sees_bus(view, now=now, bus_visible=bus_visible):
        return view
    return view.model_copy(update={"vehicle_position": None})


def booking_public(row: Booking, view: BookingLive | None, zone: tzinfo, *, now: datetime,
                   bus_visible: timedelta) -> BookingPublic:
    """The rider's view of ``row``: its status, promise, stop points and fare as stored, with the plan's
    estimates from ``view`` while the booking is booked or on board (the bus's position only as
    :func:`for_rider` lets it through at ``now``); times in ``zone``."""
    assert row.window_start is not None and row.window_end is not None and row.latest_dropoff is not None
    estimates = view if view is not None and row.status in SERVED and row.vehicle_id is not None else None
    if estimates is not None:
        estimates = for_rider(estimates.model_copy(update={"status": row.status}), now=now,
                              bus_visible=bus_visible)
    pickup, dropoff = kept_points(row)
    return BookingPublic(
        id=row.id, status=row.status, vehicle_id=row.vehicle_id, pickup=pickup, dropoff=dropoff,
        pickup_window=Window(start=row.window_start.astimezone(zone), end=row.window_end.astimezone(zone)),
        latest_arrival=row.latest_dropoff.astimezone(zone),
        planned_pickup=_local(estimates.planned_pickup, zone) if estimates else None,
        estimated_arrival=_local(estimates.estimated_arrival, zone) if estimates else None,
        booked_at=row.booked_at.astimezone(zone) if row.booked_at else None,
        vehicle_position=estimates.vehicle_position if estimates else None,
        pickup_meeting_point=_chosen(row.pickup_meeting_point),
        dropoff_meeting_point=_chosen(row.dropoff_meeting_point), fare=stored_fare(row.fare))


def _chosen(stored: dict[str, Any] | None) -> ChosenMeetingPoint | None:
    return ChosenMeetingPoint.model_validate(stored) if stored is not None else None


def _local(moment: datetime | None, zone: tzinfo) -> datetime | None:
    return moment.astimezone(zone) if moment is not None else None
