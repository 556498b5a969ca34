"""Restart recovery: the plan in force comes back from the database when the service starts.

The bookings still to be served (booked or on board) and every vehicle's planned stops are loaded
(:func:`api.db.repository.load_active_plan`), turned back into dispatch values and handed to
:meth:`dispatch.dispatcher.Dispatcher.restore`, which checks every route with the route evaluation.
A pickup is bound by the promised window again, a drop-off by the latest arrival and the maximum ride
time; riders already picked up are put on board their bus. Nothing is dropped silently: whatever cannot
be restored, or breaks a rule once restored, is returned as a problem (and logged by the app).

An operator's pins (``bookings.pinned``) and route locks (``vehicles.route_lock``) come back with their
routes. Not stored yet, so not restored: where a vehicle stands, and pickups held to an earlier planned time
after a cancellation (they get their promised window). A vehicle restarts at its depot, as having left
it in time for its first planned stop (drivers follow their last route while the service is down), until
its next GPS report says where it is; without that, a plan with no slack would come back seconds late
for every second the service was down.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime

from sqlmodel import Session

from api.clock import ServiceClock
from api.db import models
from api.db.repository import list_vehicles, load_active_plan
from dispatch.dispatcher import Booking, Dispatcher, RequestStatus
from dispatch.model import (
    OnboardRider,
    Promise,
    Request,
    Route,
    RouteLock,
    Stop,
    StopKind,
    TimeBounds,
    VehicleState,
)

_PROMISE_FIELDS = ("direct_s", "earliest_pickup", "latest_pickup", "max_ride_s", "window_start", "window_end",
                   "latest_dropoff", "vehicle_id")


def recover_plan(session: Session, *, dispatcher: Dispatcher, clock: ServiceClock, now: int) -> list[str]:
    """Restore the saved bookings and routes into ``dispatcher`` (fresh, with its vehicles added);
    returns what could not be restored or breaks a rule (empty when the plan came back whole)."""
    plan = load_active_plan(session)
    problems: list[str] = []
    bookings: dict[str, Booking] = {}
    picked_up_at: dict[str, int] = {}
    pinned: dict[str, set[str]] = defaultdict(set)  # bus -> the bookings an operator pinned to it
    for row in plan.bookings:
        missing = [name for name in _PROMISE_FIELDS if getattr(row, name) is None]
        if missing:
            problems.append(f"{row.id}: not restored, {', '.join(missing)} not stored")
            continue
        bookings[row.id] = booking_from_row(row, clock)
        if row.pinned and row.vehicle_id is not None:
            pinned[row.vehicle_id].add(row.id)
        if row.picked_up_at is not None:
            picked_up_at[row.id] = clock.to_seconds(row.picked_up_at)

    rows_by_vehicle: dict[str, list[models.PlannedStop]] = defaultdict(list)
    for stop_row in plan.stops:
        rows_by_vehicle[stop_row.vehicle_id].append(stop_row)
    routes: dict[str, Route] = {}
    for vehicle_id, rows in rows_by_vehicle.items():
        if vehicle_id not in dispatcher.plan.vehicles:
            problems.append(f"{vehicle_id}: {len(rows)} planned stops not restored, "
                            "no such vehicle in service")
            continue
        breaks = iter(s for s in dispatcher.plan.route(vehicle_id).stops if s.kind is StopKind.BREAK)
        stops = []
        for planned in rows:
            stop = _stop_from_row(planned, bookings, breaks, dispatcher)
            if stop is None:
                problems.append(f"{vehicle_id}: planned {planned.kind.value} #{planned.sequence} "
                                f"of {planned.booking_id or 'a break'} has nothing to serve")
            else:
                stops.append(stop)
        routes[vehicle_id] = Route(vehicle_id, tuple(stops), pinned=frozenset(pinned[vehicle_id]))
    for vehicle in list_vehicles(session):  # an operator's lock of a route's order
        if vehicle.route_lock is not RouteLock.NONE and vehicle.id in dispatcher.plan.vehicles:
            route = routes.get(vehicle.id, dispatcher.plan.route(vehicle.id))
            routes[vehicle.id] = replace(route, lock=vehicle.route_lock)

    onboard: dict[str, list[OnboardRider]] = defaultdict(list)
    for booking in bookings.values():
        bus = booking.vehicle_id
        if booking.status is RequestStatus.PICKED_UP and bus is not None and bus in dispatcher.plan.vehicles:
            request = booking.request
            onboard[bus].append(OnboardRider(
                request.id, request.seats, request.wheelchairs, picked_up_at.get(request.id, now)))
    states = {vid: _following_the_plan(dispatcher, vid, next(iter(rows_by_vehicle.get(vid, [])), None), clock,
                                       onboard.get(vid, []))
              for vid in set(routes) | set(onboard)}
    problems += dispatcher.restore(list(bookings.values()), routes, states, now)
    return problems


def _following_the_plan(dispatcher: Dispatcher, vehicle_id: str, first: models.PlannedStop | None,
                        clock: ServiceClock, onboard: list[OnboardRider]) -> VehicleState:
    """``vehicle_id``'s state with ``onboard`` riders, available early enough to start its ``first``
    planned stop at the stored time — never before its shift — if that is earlier than its state says."""
    state = replace(dispatcher.plan.state(vehicle_id), onboard=tuple(onboard))
    if first is None:
        return state
    left = clock.to_seconds(first.planned_time) - dispatcher.legs.seconds(state.location, first.node)
    left = max(left, dispatcher.plan.vehicles[vehicle_id].shift_start)
    return replace(state, available_at=left) if left < state.available_at else state


def booking_from_row(row: models.Booking, clock: ServiceClock) -> Booking:
    """The dispatch booking a ``bookings`` row holds (its request, bounds and promise)."""
    s = clock.to_seconds

    def at(moment: datetime | None) -> int:
        assert moment is not None
        return s(moment)

    assert row.direct_s is not None and row.max_ride_s is not None
    request = Request(row.id, row.origin_node, row.destination_node, row.time_type, s(row.requested_time),
                      s(row.submitted_at), row.seats, row.wheelchairs)
    bounds = TimeBounds(row.direct_s, at(row.earliest_pickup), at(row.latest_pickup), at(row.latest_dropoff),
                        row.max_ride_s)
    promise = Promise(at(row.window_start), at(row.window_end), at(row.latest_dropoff), row.max_ride_s)
    return Booking(request, bounds, promise, row.status, row.vehicle_id)


def _stop_from_row(row: models.PlannedStop, bookings: dict[str, Booking], breaks: Iterator[Stop],
                   dispatcher: Dispatcher) -> Stop | None:
    """The route stop a ``planned_stops`` row stands for, with the limits of its booking; a break row is
    the vehicle's next break."""
    if row.kind is StopKind.BREAK:
        return next(breaks, None)
    booking = bookings.get(row.booking_id or "")
    if booking is None:
        return None
    request, promise = booking.request, booking.promise
    dwell = dispatcher.rules.dwell_s(request.passengers)
    if row.kind is StopKind.PICKUP:
        return Stop(request.id, StopKind.PICKUP, row.node, promise.window_start, promise.window_end, dwell,
                    request.seats, request.wheelchairs)
    return Stop(request.id, StopKind.DROPOFF, row.node, 0, promise.latest_dropoff, dwell, request.seats,
                request.wheelchairs, promise.max_ride_s)
