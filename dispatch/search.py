"""Searching the plan in force for a place for a request: the best insertion, and other times that fit.

Pure functions of a :class:`~dispatch.plan.Plan`: they read it, never change it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from dispatch.calendar import LocalCalendar
from dispatch.insertion import (
    CostWeights,
    Insertion,
    RouteTimes,
    VehicleRoute,
    best_insertion,
    best_option_insertion,
    prefetch_legs,
)
from dispatch.meeting import Choice, choices
from dispatch.model import (
    Rejection,
    RejectionCause,
    Request,
    Route,
    ServiceRules,
    Stop,
    StopKind,
    TimeBounds,
    TimeType,
    VehicleState,
    promise_for,
    time_bounds,
)
from dispatch.plan import Booking, Plan, RequestStatus
from dispatch.repair import Placement, RepairOptions, repair
from dispatch.rules import check_request, keep_promise, request_stops

ALTERNATIVE_STEP_S = 15 * 60
ALTERNATIVE_STEPS = 4
BOUND_SLACK_S = 2  # how far a cost bound may err below the truth, travel times being rounded leg by leg


def search(plan: Plan, request: Request, bounds: TimeBounds, window: tuple[int, int], rules: ServiceRules,
           weights: CostWeights, prefetched: tuple[list[VehicleRoute], list[RouteTimes]] | None = None
           ) -> Insertion | None:
    """The best insertion of ``request`` (its pickup inside ``window``) into the plan's routes in service;
    ``prefetched``: those routes as :meth:`Plan.vehicle_routes` gave them, with this search's legs already
    fetched (a refused quote's searches at other times read the plan once)."""
    pickup, dropoff = request_stops(request, bounds, window, rules)
    routes, times = prefetched or plan.vehicle_routes()
    return best_insertion(routes, pickup, dropoff, plan.legs, weights, times,
                          prefetched=prefetched is not None)


def search_options(plan: Plan, options: list[Choice], rules: ServiceRules, weights: CostWeights,
                   prefetched: tuple[list[VehicleRoute], list[RouteTimes]] | None = None) -> Insertion | None:
    """The best insertion of a request over its (pickup, drop-off) ``options`` (each inside its own bounds),
    walks counted in the cost; the insertion's ``option`` names the one it places.

    No insertion of an option costs less than its walks plus ``ride_weight`` × its direct ride (added
    driving, waits and delays are never negative, no ride is shorter than direct). So the option with the
    lowest such bound is searched first, and then, together, only the options whose bound is below the
    cost found (:data:`BOUND_SLACK_S` below, for travel times rounded leg by leg)."""
    floor = [c.walk_cost + weights.ride_weight * c.bounds.direct_s for c in options]
    ranked = sorted(range(len(options)), key=floor.__getitem__)
    stops = [(*request_stops(c.request, c.bounds, (c.bounds.earliest_pickup, c.bounds.latest_pickup), rules),
              c.walk_cost) for c in options]
    routes, times = prefetched or plan.vehicle_routes()
    done = prefetched is not None
    first = best_option_insertion(routes, [stops[ranked[0]]], plan.legs, weights, times, prefetched=done)
    best = None if first is None else replace(first, option=ranked[0])
    rest = [k for k in ranked[1:] if best is None or floor[k] - BOUND_SLACK_S < best.cost]
    if rest:
        found = best_option_insertion(routes, [stops[k] for k in rest], plan.legs, weights, times,
                                      prefetched=done)
        if found is not None and (best is None or found.cost < best.cost):
            best = replace(found, option=rest[found.option])
    return best


def place_request(plan: Plan, request: Request, bounds: TimeBounds, now: int, rules: ServiceRules,
                  weights: CostWeights, options: RepairOptions, give_way: Callable[[], bool] | None = None
                  ) -> tuple[Placement, Request, TimeBounds] | None:
    """Where a new ``request`` (``bounds``: its bounds at the door, from the rule checks) goes, as the request
    resolved to the places the bus serves and their bounds; None when nothing fits.

    Without options: :func:`place` within its bounds, the request as it is. With options: the best insertion
    over every (pickup, drop-off) pair (:mod:`dispatch.meeting`); when none fits, the repair is tried for the
    pair with the shortest walks only (a repair per pair would multiply a refusal's time)."""
    if not request.has_options:
        found = place(plan, request, bounds, (bounds.earliest_pickup, bounds.latest_pickup), now, rules,
                      weights, options, give_way)
        return None if found is None else (found, request, bounds)
    every = choices(request, now, rules, plan.legs, weights)
    if not every:
        return None
    inserted = search_options(plan, every, rules, weights)
    if inserted is not None:
        choice = every[inserted.option]
        return Placement.of_insertion(inserted), choice.request, choice.bounds
    nearest = min(every, key=lambda c: c.walk_cost)
    window = (nearest.bounds.earliest_pickup, nearest.bounds.latest_pickup)
    pickup, dropoff = request_stops(nearest.request, nearest.bounds, window, rules)
    repaired = repair(plan, pickup, dropoff, now, weights, options, give_way)
    return None if repaired is None else (repaired, nearest.request, nearest.bounds)


def place(plan: Plan, request: Request, bounds: TimeBounds, window: tuple[int, int], now: int,
          rules: ServiceRules, weights: CostWeights, options: RepairOptions,
          give_way: Callable[[], bool] | None = None) -> Placement | None:
    """Where ``request`` (its pickup inside ``window``) goes: its best insertion into the routes in force
    or, when none fits, a repair that moves a few booked riders within their promises
    (:func:`dispatch.repair.repair`, bounded by ``options``, giving way when ``give_way`` says so); None
    when neither finds a place. The repair costs nothing when the insertion succeeds."""
    found = search(plan, request, bounds, window, rules, weights)
    if found is not None:
        return Placement.of_insertion(found)
    pickup, dropoff = request_stops(request, bounds, window, rules)
    return repair(plan, pickup, dropoff, now, weights, options, give_way)


def alternatives(plan: Plan, request: Request, now: int, rules: ServiceRules, weights: CostWeights,
                 calendar: LocalCalendar | None = None) -> tuple[int, ...]:
    """The nearest later and earlier request times (15-min steps, up to 1 h) that would get an offer
    (within the service hours of ``calendar``, see :func:`~dispatch.rules.check_request`).
    The legs every one of those searches reads are fetched at once, before the first."""
    sign = 1 if request.time_type is TimeType.LEAVE_AFTER else -1
    shifted: dict[int, list[tuple[Request, TimeBounds]]] = {}
    for direction in (sign, -sign):
        for step in range(1, ALTERNATIVE_STEPS + 1):
            other = replace(request, time=request.time + direction * step * ALTERNATIVE_STEP_S)
            bounds = check_request(other, now, rules, plan.vehicles.values(), plan.legs, calendar)
            if not isinstance(bounds, Rejection):
                shifted.setdefault(direction, []).append((other, bounds))
    every = [bounds for tries in shifted.values() for _, bounds in tries]
    if not every:
        return ()
    routes = plan.vehicle_routes()
    widest = replace(every[0], earliest_pickup=min(b.earliest_pickup for b in every),
                     latest_pickup=max(b.latest_pickup for b in every),
                     latest_dropoff=max(b.latest_dropoff for b in every))
    window = (widest.earliest_pickup, widest.latest_pickup)
    prefetch_legs(*routes, *request_stops(request, widest, window, rules), plan.legs)
    found: list[int] = []
    for tries in shifted.values():
        for other, bounds in tries:
            window = (bounds.earliest_pickup, bounds.latest_pickup)
            if (search_options(plan, choices(other, now, rules, plan.legs, weights), rules, weights, routes)
                    if other.has_options else search(plan, other, bounds, window, rules, weights, routes)):
                found.append(other.time)
                break
    return tuple(sorted(found))


def replan_rider(plan: Plan, booking: Booking, stranded_at: VehicleState | None, now: int,
                 rules: ServiceRules, weights: CostWeights) -> tuple[Booking, tuple[Stop, ...]] | None:
    """Another bus for a rider of a bus taken out of service: the booking as it becomes and the new stops
    of the bus that takes the rider, or None when no bus can. A rider waiting for the bus keeps the promised
    window; a rider on board (``stranded_at``: where the bus stands) gets a new pickup there, from ``now``
    on, and a new window around it."""
    if stranded_at is not None:
        request = replace(booking.request, origin=stranded_at.location, time_type=TimeType.LEAVE_AFTER,
                          time=max(now, stranded_at.available_at))
        bounds = time_bounds(request, plan.legs.seconds(request.origin, request.destination), rules)
        window = (bounds.earliest_pickup, bounds.latest_pickup)
    else:
        request, bounds = booking.request, booking.bounds
        window = (booking.promise.window_start, booking.promise.window_end)
    found = search(plan, request, bounds, window, rules, weights)
    if found is None:
        return None
    stops, promise = found.stops, booking.promise
    if stranded_at is not None:
        promise = promise_for(bounds, found.pickup_start, rules)
        stops = keep_promise(stops, request.id, promise)
    return replace(booking, request=request, bounds=bounds, promise=promise, status=RequestStatus.BOOKED,
                   vehicle_id=found.vehicle_id), stops


def replan_riders(plan: Plan, state: VehicleState, route: Route, now: int, rules: ServiceRules,
                  weights: CostWeights
                  ) -> tuple[list[tuple[Booking, tuple[Stop, ...]]], list[tuple[Booking, Rejection]]]:
    """Other buses for the riders of a bus taken out of service (``state`` and ``route``: its state and
    route before; ``plan``: the plan without them), one rider after the other in the order of the route,
    each into the plan with the riders before it moved (:func:`replan_rider`).

    Returns, in that order, each moved rider's booking as it becomes with the new stops of the bus that
    takes it, and each rider no bus can take: the booking ended (rejected, no bus) with its rejection
    (cause ``vehicle_out_of_service``)."""
    moved, refused = [], []
    stranded = {r.request_id for r in state.onboard}
    for request_id in dict.fromkeys(s.request_id for s in route.stops if s.kind is not StopKind.BREAK):
        booking = plan.booking_table[request_id]
        found = replan_rider(plan, booking, state if request_id in stranded else None, now, rules, weights)
        if found is None:
            refused.append((replace(booking, status=RequestStatus.REJECTED, vehicle_id=None),
                            Rejection(request_id, RejectionCause.VEHICLE_OUT_OF_SERVICE,
                                      "the bus broke down and no other bus can take this trip")))
            continue
        booking, stops = found
        assert booking.vehicle_id is not None, "a re-planned rider has a bus"
        plan = plan.with_bookings((booking,))
        plan = plan.with_route(replace(plan.routes[booking.vehicle_id], stops=stops))
        moved.append(found)
    return moved, refused
