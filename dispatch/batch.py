"""Planning many requests at once: the project's strongest planner.

:func:`plan_batch` takes requests all known in advance (tomorrow's pre-bookings, or a whole day in
hindsight), lets the optimizer insert each greedily into the routes in force (the warm start) and then
re-plan everything together with OR-Tools, and books every request the result serves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from dispatch.dispatcher import Dispatcher
from dispatch.model import Rejection, RejectionCause, Request, StopKind, TimeBounds, promise_for
from dispatch.plan import BookedTrip, Booking, DispatchError, RequestStatus
from dispatch.reoptimize import NewRequest, OptimizedPlan, PlanRejectedError, optimize
from dispatch.rules import check_request, keep_promise, request_stops


def plan_batch(dispatcher: Dispatcher, requests: Sequence[Request], now: int, time_limit_s: float
               ) -> dict[str, BookedTrip | Rejection]:
    """Plan ``requests`` together with the routes in force of ``dispatcher`` and book those that fit.

    Every request is answered, in the order given: booked (a window promised around its planned pickup),
    or rejected with its cause — a rule it breaks (:func:`dispatch.rules.check_request`) or
    ``no_vehicle_in_time`` when the plan found has no room for it. The rejected are also recorded in the
    plan as unserved. Raises :class:`DispatchError` ``duplicate_request`` for a request already booked, and
    ``optimizer_failed`` when the optimizer returns no verified plan for the requests that passed the rules
    (the plan in force is then left as it was: a failed search is not a day without room).
    """
    plan, rules = dispatcher.plan, dispatcher.rules
    placed: dict[str, tuple[Request, TimeBounds]] = {}
    unserved: list[Rejection] = []
    new: list[NewRequest] = []
    for request in requests:
        if request.id in plan.booking_table:
            raise DispatchError("duplicate_request", f"request {request.id!r} exists already")
        bounds = check_request(request, now, rules, plan.vehicles.values(), dispatcher.legs)
        if isinstance(bounds, Rejection):
            unserved.append(bounds)
            continue
        placed[request.id] = (request, bounds)
        window = (bounds.earliest_pickup, bounds.latest_pickup)
        new.append(NewRequest(*request_stops(request, bounds, window, rules)))
    try:
        result: OptimizedPlan | None = optimize(plan.vehicle_routes()[0], dispatcher.legs, time_limit_s, new)
    except PlanRejectedError as error:
        if placed:
            raise DispatchError("optimizer_failed", f"no verified plan for the batch: {error}") from error
        result = None  # nothing new to plan: the routes in force stay as they are
    bookings: list[Booking] = []
    if result is not None:
        result, bookings = _promise_windows(dispatcher, result, placed)
    booked = {b.request.id for b in bookings}
    unserved.extend(
        Rejection(request_id, RejectionCause.NO_VEHICLE_IN_TIME, "no bus can take this trip at that time")
        for request_id in placed if request_id not in booked)
    dispatcher.adopt(result, bookings, unserved, now)
    plan = dispatcher.plan
    outcome: dict[str, BookedTrip | Rejection] = {r.request_id: r for r in unserved}
    for booking in bookings:
        times = plan.planned_times(booking.request.id)
        assert times is not None, "a request just placed is in its route"
        outcome[booking.request.id] = BookedTrip(booking, times, plan.version)
    return {request.id: outcome[request.id] for request in requests}


def _promise_windows(dispatcher: Dispatcher, result: OptimizedPlan,
                     placed: dict[str, tuple[Request, TimeBounds]]) -> tuple[OptimizedPlan, list[Booking]]:
    """The bookings of the new requests ``result`` serves, each promised a window around its planned pickup,
    and ``result`` with those pickups narrowed to their windows (which keeps every planned time)."""
    bookings, stops = [], dict(result.stops)
    for vehicle_id, route in result.stops.items():
        for k, stop in enumerate(route):
            if stop.kind is StopKind.PICKUP and stop.request_id in placed:
                request, bounds = placed[stop.request_id]
                promise = promise_for(bounds, result.evaluations[vehicle_id].start[k], dispatcher.rules)
                bookings.append(Booking(request, bounds, promise, RequestStatus.BOOKED, vehicle_id))
                stops[vehicle_id] = keep_promise(stops[vehicle_id], request.id, promise)
    evaluations = {vid: dispatcher.plan.evaluate(vid, route) for vid, route in stops.items()}
    return replace(result, stops=stops, evaluations=evaluations), bookings
