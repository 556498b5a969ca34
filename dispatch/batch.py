"""Planning many requests at once: the project's strongest planner.

:func:`plan_batch` takes requests all known in advance (tomorrow's pre-bookings, or a whole day in
hindsight), lets the optimizer insert each greedily into the routes in force (the warm start) and then
re-plan everything together with OR-Tools, and books every request the result serves.
"""

from __future__ import annotations

from collections.abc import Sequence

from dispatch.dispatcher import Dispatcher
from dispatch.model import Rejection, Request, TimeBounds
from dispatch.plan import BookedTrip, DispatchError
from dispatch.reoptimize import NewRequest, PlanRejectedError, optimize
from dispatch.rules import check_request, request_stops


def plan_batch(dispatcher: Dispatcher, requests: Sequence[Request], now: int, time_limit_s: float
               ) -> dict[str, BookedTrip | Rejection]:
    """Plan ``requests`` together with the routes in force of ``dispatcher`` and book those that fit.

    Every request is answered, in the order given: booked (a window promised around its planned pickup),
    or rejected with its cause — a rule it breaks (:func:`dispatch.rules.check_request`) or
    ``no_vehicle_in_time`` when the plan found has no room for it. The rejected are also recorded in the
    plan as unserved. Raises :class:`DispatchError` ``duplicate_request`` for a request already booked.
    """
    plan, rules = dispatcher.plan, dispatcher.rules
    placed: list[tuple[Request, TimeBounds]] = []
    refused: list[Rejection] = []
    new: list[NewRequest] = []
    for request in requests:
        if request.id in plan.booking_table:
            raise DispatchError("duplicate_request", f"request {request.id!r} exists already")
        bounds = check_request(request, now, rules, plan.vehicles.values(), dispatcher.legs)
        if isinstance(bounds, Rejection):
            refused.append(bounds)
            continue
        placed.append((request, bounds))
        new.append(NewRequest(*request_stops(request, bounds, (bounds.earliest_pickup, bounds.latest_pickup),
                                             rules)))
    routes, _ = plan.vehicle_routes()
    try:
        result = optimize(routes, dispatcher.legs, time_limit_s, new)
    except PlanRejectedError:
        result = None
    outcome = dispatcher.adopt(result, placed, refused, now)
    return {request.id: outcome[request.id] for request in requests}
