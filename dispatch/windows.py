"""Time-window narrowing: the service-start bounds that every feasible plan of a problem respects.

A pure function of a :class:`~dispatch.pdptw.PdptwProblem`, used by every solver: narrower windows
cut the search space, let insertion heuristics find first plans, and expose requests that no plan can
serve (a window that comes out empty) before any search starts.
"""

from __future__ import annotations

from dispatch.pdptw import PdptwProblem

__all__ = ["narrow_windows", "unreachable_requests"]

_PASSES = 2  # rounds of pickup/delivery propagation; a second one catches what the first made possible


def narrow_windows(problem: PdptwProblem) -> list[tuple[int, int]]:
    """Return each visit's service-start window, tightened by what any feasible plan must respect.

    A pickup must leave time to reach its delivery before that window closes, and not start so
    early that the ride would exceed its limit; symmetrically for the delivery. Every visit must be
    reachable from some allowed vehicle's start and leave time to reach that vehicle's end.
    A window may come out empty (earliest > latest): no plan can serve that visit.
    """
    tt = problem.travel_time
    fixed = _fixed_vehicles(problem)
    earliest = [v.earliest for v in problem.visits]
    latest = [v.latest for v in problem.visits]
    for index, visit in enumerate(problem.visits):
        lo, hi = _shift_bounds(problem, fixed.get(index), visit.location, visit.service)
        earliest[index] = max(earliest[index], lo)
        latest[index] = min(latest[index], hi)
    for _ in range(_PASSES):
        for request in problem.requests:
            if request.pickup is None:
                continue
            p, d = request.pickup, request.delivery
            service = problem.visits[p].service
            direct = int(tt[problem.visits[p].location, problem.visits[d].location])
            earliest[d] = max(earliest[d], earliest[p] + service + direct)
            latest[p] = min(latest[p], latest[d] - service - direct)
            if request.max_ride_time is not None:
                latest[d] = min(latest[d], latest[p] + service + request.max_ride_time)
                earliest[p] = max(earliest[p], earliest[d] - service - request.max_ride_time)
    return list(zip(earliest, latest, strict=True))


def unreachable_requests(problem: PdptwProblem, windows: list[tuple[int, int]]) -> set[int]:
    """Requests with a visit whose (narrowed) window is empty: no plan can serve them."""
    empty = {visit for visit, (earliest, latest) in enumerate(windows) if earliest > latest}
    return {i for i, r in enumerate(problem.requests) if empty.intersection((r.pickup, r.delivery))}


def _fixed_vehicles(problem: PdptwProblem) -> dict[int, int]:
    """Visit -> the vehicle it must be served by, for requests tied to one vehicle."""
    fixed: dict[int, int] = {}
    for request in problem.requests:
        if request.vehicle is not None:
            for visit in (request.pickup, request.delivery):
                if visit is not None:
                    fixed[visit] = request.vehicle
    return fixed


def _shift_bounds(problem: PdptwProblem, vehicle: int | None, location: int, service: int) -> tuple[int, int]:
    """Earliest reachable start and latest start that still lets an allowed vehicle end its shift.

    ``vehicle`` is the one vehicle allowed to serve the visit, or None when any may. A problem
    without vehicles leaves the visit unbounded.
    """
    tt = problem.travel_time
    allowed = range(len(problem.vehicles)) if vehicle is None else (vehicle,)
    reach, leave = [], []
    for v in allowed:
        spec = problem.vehicles[v]
        reach.append(spec.start_time + int(tt[spec.start_location, location]))
        back = 0 if spec.end_location is None else int(tt[location, spec.end_location])
        leave.append(spec.end_latest - service - back)
    if not reach:
        return -(2**62), 2**62
    return min(reach), max(leave)
