"""A vehicle changed by its operator (capacities, depot, shift, breaks): its route re-planned to fit.

Pure: takes the vehicle as it was and as it is now, where it stands and its route; returns the state and
route the changed vehicle keeps, or :class:`~dispatch.plan.DispatchError` when it cannot keep its riders.
"""

from __future__ import annotations

from dataclasses import replace

from dispatch.evaluation import RouteEvaluation, evaluate_route
from dispatch.model import Route, Stop, StopKind, Vehicle, VehicleState
from dispatch.plan import DispatchError
from dispatch.travel import LegTimes


def route_for_changed_vehicle(old: Vehicle, vehicle: Vehicle, state: VehicleState, route: Route,
                              legs: LegTimes, now: int,
                              version: int) -> tuple[VehicleState, Route, RouteEvaluation]:
    """The state, route and route evaluation ``vehicle`` (formerly ``old``) keeps from ``now``.

    Unchanged breaks stay where they are planned. Otherwise the breaks not yet begun are planned again:
    each new break (except one already taken and any whose latest start has passed) goes at the first
    place in the route where the route stays feasible; ``version`` (the plan's) makes its stop id unique.
    A bus not yet under way (nobody on board, nothing committed, standing at its old depot) starts again
    from the new depot at the new shift start. If the changed vehicle cannot keep its route — a rider over
    capacity, a promise late, a break with no place — :class:`DispatchError` ``vehicle_change_infeasible``
    names the broken rules.
    """
    head, rest = route.stops[:route.committed], route.stops[route.committed:]
    planned = {(s.earliest, s.latest, s.service_s) for s in route.stops if s.kind is StopKind.BREAK}
    taken = {(b.earliest_start, b.latest_start, b.duration_s) for b in old.breaks} - planned
    if not state.onboard and not route.committed and state.location == old.depot:
        state = replace(state, location=vehicle.depot, available_at=max(now, vehicle.shift_start))
    stops = [*head, *(s for s in rest if s.kind is not StopKind.BREAK)]
    new_breaks = sorted(vehicle.breaks, key=lambda b: b.earliest_start)
    if set(new_breaks) == set(old.breaks):  # the same breaks stay where they are planned
        stops, new_breaks = list(route.stops), []
    for k, b in enumerate(new_breaks):
        if (b.earliest_start, b.latest_start, b.duration_s) in taken or b.latest_start < now:
            continue
        stop = Stop(f"break:{vehicle.id}:v{version}:{k}", StopKind.BREAK, b.place(vehicle.depot),
                    b.earliest_start, b.latest_start, b.duration_s)  # ids unique across changes
        place = next((i for i in range(len(head), len(stops) + 1) if evaluate_route(
            vehicle, state, (*stops[:i], stop, *stops[i:]), legs).feasible), None)
        if place is None:
            raise DispatchError("vehicle_change_infeasible",
                                f"vehicle {vehicle.id!r}: no place for the break from {b.earliest_start}")
        stops.insert(place, stop)
    evaluation = evaluate_route(vehicle, state, tuple(stops), legs)
    if not evaluation.feasible:
        raise DispatchError("vehicle_change_infeasible", f"vehicle {vehicle.id!r}: " +
                            "; ".join(v.message for v in evaluation.violations))
    return state, replace(route, stops=tuple(stops)), evaluation
