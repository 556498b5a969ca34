"""The one place where OR-Tools is used: a :class:`PdptwProblem` in, a :class:`PdptwSolution` out.

Model
- Routing nodes: one per visit, then one start and one end node per vehicle. An open-ended vehicle
  (``end_location is None``) gets an end node that every visit reaches at zero cost and zero travel.
- Travel cost and time are registered as matrices (``RegisterTransitMatrix``). The time transit of
  an arc i -> j is ``service[i] + travel_time[loc i, loc j]``; the time dimension has waiting slack.
- Capacity: one dimension per capacity component, each a unary transit vector of visit demands,
  with the vehicle's start cumul fixed to its ``initial_load``.
- Requests: ``AddPickupAndDelivery`` plus same-vehicle and precedence constraints; the ride-time
  limit is ``cumul(delivery) - cumul(pickup) - service(pickup) <= max_ride_time``, posted on the
  time cumuls and also given to the dimension as a pickup-to-delivery limit, so that the local
  search filters reject long rides before the constraint solver sees them.
- Optional requests (``drop_penalty`` set) sit in disjunctions whose penalties sum to the drop
  penalty; mandatory requests have none. Fixed vehicles use allowed vehicles. Riders already on
  board are delivery-only visits allowed on their own vehicle only; their remaining ride limit is
  the caller's to encode in the delivery window.
- Breaks are fixed-duration intervals given to ``SetBreakIntervalsOfVehicle``; the duration limit is
  a span upper bound.
- Time windows are first narrowed (:func:`narrow_windows`) with the ride-time, travel and shift
  limits; this cuts the search space and lets the insertion heuristics find first solutions.

Outcome
- Every request of the problem is either on a route or listed in ``unserved``.
- The reported times are the cumuls of the solver's assignment, with every service start pushed
  as early as possible by finalizers; they satisfy windows, travel, ride times, breaks and shift.
- If the search finds no solution, :class:`SolveFailedError` is raised when some request is
  mandatory; otherwise the answer has empty routes, every request unserved and the solver status.
  A mandatory request whose narrowed window is empty raises at once; an optional one is kept off
  the routes and reported unserved.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from dispatch.pdptw import PdptwProblem, PdptwSolution, PlannedVisit, RequestSpec, SolvedRoute, node_matrices

__all__ = ["SearchOptions", "SolveFailedError", "narrow_windows", "route_cost", "solve_pdptw"]

_SUCCESS_STATUSES = frozenset(
    {"ROUTING_SUCCESS", "ROUTING_OPTIMAL", "ROUTING_PARTIAL_SUCCESS_LOCAL_OPTIMUM_NOT_REACHED"}
)


class SolveFailedError(RuntimeError):
    """The solver found no plan that serves every mandatory request.

    ``status`` is the OR-Tools routing status name, e.g. ``"ROUTING_FAIL"`` or
    ``"ROUTING_INFEASIBLE"``; ``code`` is a stable machine-readable cause.
    """

    code = "pdptw_no_solution"

    def __init__(self, status: str) -> None:
        super().__init__(f"no plan serves every mandatory request (solver status {status})")
        self.status = status


@dataclass(frozen=True)
class SearchOptions:
    """How the solver searches: OR-Tools enum names of the first-solution strategy and metaheuristic, and
    an optional limit on the number of solutions."""

    first_solution: str = "LOCAL_CHEAPEST_INSERTION"
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    log_search: bool = False
    # Stop after this many solutions: with it (and a time limit that is not reached first) a search
    # repeats exactly, whatever the machine's speed.
    solution_limit: int | None = None

    def __post_init__(self) -> None:
        if self.solution_limit is not None and self.solution_limit < 1:
            raise ValueError("solution_limit must be positive")
        if self.first_solution not in routing_enums_pb2.FirstSolutionStrategy.Value.keys():
            raise ValueError(f"unknown first-solution strategy {self.first_solution!r}")
        if self.metaheuristic not in routing_enums_pb2.LocalSearchMetaheuristic.Value.keys():
            raise ValueError(f"unknown metaheuristic {self.metaheuristic!r}")


def narrow_windows(problem: PdptwProblem) -> list[tuple[int, int]]:
    """Return each visit's service-start window, tightened by what any feasible plan must respect.

    A pickup must leave time to reach its delivery before that window closes, and not start so
    early that the ride would exceed its limit; symmetrically for the delivery. Every visit must be
    reachable from some allowed vehicle's start and leave time to reach that vehicle's end.
    A window may come out empty (earliest > latest): no plan can serve that visit.
    """
    tt = problem.travel_time
    earliest = [v.earliest for v in problem.visits]
    latest = [v.latest for v in problem.visits]
    for index, visit in enumerate(problem.visits):
        lo, hi = _shift_bounds(problem, index, visit.location, visit.service)
        earliest[index] = max(earliest[index], lo)
        latest[index] = min(latest[index], hi)
    for _ in range(2):
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
    return list(zip(earliest, latest))


def route_cost(problem: PdptwProblem, vehicle: int, visits: Sequence[int]) -> int:
    """Travel cost of one vehicle driving through ``visits`` (start to end; open ends stop early)."""
    spec = problem.vehicles[vehicle]
    locations = [spec.start_location] + [problem.visits[v].location for v in visits]
    if spec.end_location is not None:
        locations.append(spec.end_location)
    cost = problem.travel_cost
    return int(sum(int(cost[a, b]) for a, b in zip(locations, locations[1:])))


def solve_pdptw(
    problem: PdptwProblem,
    *,
    time_limit_s: float,
    initial_routes: Sequence[Sequence[int]] | None = None,
    options: SearchOptions = SearchOptions(),
) -> PdptwSolution:
    """Optimize the routes of ``problem`` within ``time_limit_s`` seconds of wall time.

    ``initial_routes`` (one list of visit indices per vehicle, in driving order) warm-starts the
    search; when they form a feasible plan the answer is never costlier than it (travel cost plus
    drop penalties). An infeasible warm start is ignored and reported in ``extra["warm_start"]``.
    Raises :class:`SolveFailedError` when no plan serves every mandatory request.
    """
    started = time.monotonic()
    _validate(problem)
    windows = narrow_windows(problem)
    unreachable = _unreachable_requests(problem, windows)
    if any(problem.requests[i].drop_penalty is None for i in unreachable):
        raise SolveFailedError("ROUTING_INFEASIBLE")
    model = _Model(problem, windows, unreachable)
    parameters = _search_parameters(options, time_limit_s)
    model.routing.CloseModelWithParameters(parameters)
    warm_start = "none"
    assignment = None
    if initial_routes is not None:
        assignment, warm_start = model.solve_from_routes(initial_routes, parameters)
    if assignment is None:
        assignment = model.routing.SolveWithParameters(parameters)
    status = routing_enums_pb2.RoutingSearchStatus.Value.Name(model.routing.status())
    extra = {"warm_start": warm_start}
    if assignment is None or status not in _SUCCESS_STATUSES:
        return _failed(problem, status, time.monotonic() - started, extra)
    return model.read_solution(assignment, status, time.monotonic() - started, extra)


def _unreachable_requests(problem: PdptwProblem, windows: list[tuple[int, int]]) -> set[int]:
    """Requests with a visit whose narrowed window is empty: no plan can serve them."""
    empty = {visit for visit, (earliest, latest) in enumerate(windows) if earliest > latest}
    return {i for i, r in enumerate(problem.requests) if empty.intersection((r.pickup, r.delivery))}


def _validate(problem: PdptwProblem) -> None:
    n_locations = problem.travel_time.shape[0]
    square = (n_locations, n_locations)
    if problem.travel_time.shape != square or problem.travel_cost.shape != square:
        raise ValueError("travel_time and travel_cost must be square matrices of the same size")
    dims = {len(v.demand) for v in problem.visits} | {len(v.capacity) for v in problem.vehicles}
    if len(dims) > 1:
        raise ValueError("every visit demand and vehicle capacity must have the same number of dimensions")
    seen: set[int] = set()
    for request in problem.requests:
        members = [request.delivery] if request.pickup is None else [request.pickup, request.delivery]
        if seen.intersection(members):
            raise ValueError(f"visit used by two requests: {request}")
        seen.update(members)
        if request.pickup is None and request.vehicle is None:
            raise ValueError("a rider on board (pickup None) needs the vehicle that carries them")
    if seen != set(range(len(problem.visits))):
        raise ValueError("every visit must belong to exactly one request")


def _shift_bounds(problem: PdptwProblem, visit: int, location: int, service: int) -> tuple[int, int]:
    """Earliest reachable start and latest start that still lets an allowed vehicle end its shift."""
    tt = problem.travel_time
    allowed = _allowed_vehicles(problem, visit) or range(len(problem.vehicles))
    lo, hi = None, None
    for v in allowed:
        spec = problem.vehicles[v]
        reach = spec.start_time + int(tt[spec.start_location, location])
        back = 0 if spec.end_location is None else int(tt[location, spec.end_location])
        leave = spec.end_latest - service - back
        lo = reach if lo is None else min(lo, reach)
        hi = leave if hi is None else max(hi, leave)
    return lo, hi


def _allowed_vehicles(problem: PdptwProblem, visit: int) -> list[int]:
    for request in problem.requests:
        if visit in (request.pickup, request.delivery) and request.vehicle is not None:
            return [request.vehicle]
    return []


def _search_parameters(options: SearchOptions, time_limit_s: float):
    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.Value.Value(
        options.first_solution
    )
    parameters.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.Value.Value(
        options.metaheuristic
    )
    parameters.time_limit.FromMilliseconds(max(1, int(time_limit_s * 1000)))
    parameters.log_search = options.log_search
    if options.solution_limit is not None:
        parameters.solution_limit = options.solution_limit
    return parameters


def _failed(problem: PdptwProblem, status: str, seconds: float, extra: dict) -> PdptwSolution:
    if any(r.drop_penalty is None for r in problem.requests):
        raise SolveFailedError(status)
    routes = tuple(
        SolvedRoute(vehicle=v, visits=(), start_time=spec.start_time, end_time=spec.start_time)
        for v, spec in enumerate(problem.vehicles)
    )
    return PdptwSolution(
        routes=routes,
        unserved=tuple(range(len(problem.requests))),
        cost=0,
        status=status,
        seconds=seconds,
        extra=extra,
    )


class _Model:
    """The OR-Tools routing model of one problem; never leaves this module."""

    def __init__(self, problem: PdptwProblem, windows: list[tuple[int, int]], unreachable: set[int]) -> None:
        self.problem = problem
        n_visits, n_vehicles = len(problem.visits), len(problem.vehicles)
        self.n_visits = n_visits
        starts = [n_visits + v for v in range(n_vehicles)]
        ends = [n_visits + n_vehicles + v for v in range(n_vehicles)]
        self.manager = pywrapcp.RoutingIndexManager(n_visits + 2 * n_vehicles, n_vehicles, starts, ends)
        self.routing = pywrapcp.RoutingModel(self.manager)
        travel_time, travel_cost = node_matrices(problem)
        cost_index = self.routing.RegisterTransitMatrix(travel_cost.tolist())
        self.routing.SetArcCostEvaluatorOfAllVehicles(cost_index)
        self.time = self._add_time_dimension(travel_time, windows)
        self._add_capacity_dimensions()
        self._add_requests()
        self._add_breaks()
        self._deactivate(unreachable)

    def _add_time_dimension(self, travel_time: np.ndarray, windows: list[tuple[int, int]]):
        problem = self.problem
        horizon = max([v.latest for v in problem.visits] + [s.end_latest for s in problem.vehicles])
        transit = self.routing.RegisterTransitMatrix(travel_time.tolist())
        self.routing.AddDimension(transit, horizon, horizon, False, "time")
        dimension = self.routing.GetDimensionOrDie("time")
        for visit, (earliest, latest) in enumerate(windows):
            if earliest <= latest:
                dimension.CumulVar(self.manager.NodeToIndex(visit)).SetRange(earliest, latest)
        for v, spec in enumerate(problem.vehicles):
            dimension.CumulVar(self.routing.Start(v)).SetRange(spec.start_time, spec.end_latest)
            dimension.CumulVar(self.routing.End(v)).SetRange(spec.start_time, spec.end_latest)
            if spec.max_duration is not None:
                dimension.SetSpanUpperBoundForVehicle(spec.max_duration, v)
            self.routing.AddVariableMaximizedByFinalizer(dimension.CumulVar(self.routing.Start(v)))
            self.routing.AddVariableMinimizedByFinalizer(dimension.CumulVar(self.routing.End(v)))
        for visit in range(self.n_visits):
            self.routing.AddVariableMinimizedByFinalizer(dimension.CumulVar(self.manager.NodeToIndex(visit)))
        return dimension

    def _add_capacity_dimensions(self) -> None:
        problem = self.problem
        n_dims = len(problem.vehicles[0].capacity) if problem.vehicles else 0
        n_extra = 2 * len(problem.vehicles)
        for d in range(n_dims):
            demand = [v.demand[d] for v in problem.visits] + [0] * n_extra
            transit = self.routing.RegisterUnaryTransitVector(demand)
            capacities = [spec.capacity[d] for spec in problem.vehicles]
            self.routing.AddDimensionWithVehicleCapacity(transit, 0, capacities, False, f"load{d}")
            dimension = self.routing.GetDimensionOrDie(f"load{d}")
            for v, spec in enumerate(problem.vehicles):
                on_board = 0 if spec.initial_load is None else spec.initial_load[d]
                dimension.CumulVar(self.routing.Start(v)).SetValue(on_board)
            for visit, spec in enumerate(problem.visits):
                if spec.require_empty:
                    dimension.CumulVar(self.manager.NodeToIndex(visit)).SetMax(0)

    def _add_requests(self) -> None:
        solver = self.routing.solver()
        pair = 0
        for request in self.problem.requests:
            delivery = self.manager.NodeToIndex(request.delivery)
            if request.vehicle is not None:
                self.routing.VehicleVar(delivery).SetValues([-1, request.vehicle])
            if request.pickup is None:
                continue
            pickup = self.manager.NodeToIndex(request.pickup)
            if request.vehicle is not None:
                self.routing.VehicleVar(pickup).SetValues([-1, request.vehicle])
            self.routing.AddPickupAndDelivery(pickup, delivery)
            solver.Add(self.routing.VehicleVar(pickup) == self.routing.VehicleVar(delivery))
            solver.Add(self.time.CumulVar(pickup) <= self.time.CumulVar(delivery))
            self._add_ride_limit(request, pickup, delivery, pair)
            pair += 1
            if request.drop_penalty is not None:
                half = request.drop_penalty // 2
                self.routing.AddDisjunction([pickup], request.drop_penalty - half)
                self.routing.AddDisjunction([delivery], half)

    def _add_ride_limit(self, request: RequestSpec, pickup: int, delivery: int, pair: int) -> None:
        if request.max_ride_time is None:
            return
        limit = request.max_ride_time + self.problem.visits[request.pickup].service
        self.routing.solver().Add(self.time.CumulVar(delivery) - self.time.CumulVar(pickup) <= limit)
        self.time.SetPickupToDeliveryLimitFunctionForPair(lambda _p, _d, limit=limit: limit, pair)

    def _add_breaks(self) -> None:
        solver = self.routing.solver()
        service = [0] * self.routing.Size()
        for visit, spec in enumerate(self.problem.visits):
            service[self.manager.NodeToIndex(visit)] = spec.service
        for v, spec in enumerate(self.problem.vehicles):
            if not spec.breaks:
                continue
            intervals = [
                solver.FixedDurationIntervalVar(
                    b.earliest_start, b.latest_start, b.duration, False, f"break {v}.{k}"
                )
                for k, b in enumerate(spec.breaks)
            ]
            self.time.SetBreakIntervalsOfVehicle(intervals, v, service)

    def _deactivate(self, requests: set[int]) -> None:
        """Keep unreachable optional requests off every route (they pay their drop penalty)."""
        for i in requests:
            request = self.problem.requests[i]
            for visit in (request.pickup, request.delivery):
                if visit is not None:
                    self.routing.ActiveVar(self.manager.NodeToIndex(visit)).SetValue(0)

    def solve_from_routes(self, initial_routes: Sequence[Sequence[int]], parameters):
        """Solve from the given routes; returns (assignment or None, how the warm start went)."""
        if len(initial_routes) != len(self.problem.vehicles):
            raise ValueError("initial_routes needs one list of visits per vehicle")
        routes = [[self.manager.NodeToIndex(visit) for visit in route] for route in initial_routes]
        start = self.routing.ReadAssignmentFromRoutes(routes, True)
        if start is None:
            return None, "infeasible, ignored"
        return self.routing.SolveFromAssignmentWithParameters(start, parameters), "used"

    def read_solution(self, assignment, status: str, seconds: float, extra: dict) -> PdptwSolution:
        """Translate an assignment into routes with planned times, and the unserved requests."""
        routes = []
        served: set[int] = set()
        for v in range(len(self.problem.vehicles)):
            index = self.routing.Start(v)
            start_time = assignment.Value(self.time.CumulVar(index))
            visits = []
            index = assignment.Value(self.routing.NextVar(index))
            while not self.routing.IsEnd(index):
                visit = self.manager.IndexToNode(index)
                visits.append(PlannedVisit(visit=visit, time=assignment.Value(self.time.CumulVar(index))))
                served.add(visit)
                index = assignment.Value(self.routing.NextVar(index))
            end_time = assignment.Value(self.time.CumulVar(index))
            routes.append(
                SolvedRoute(vehicle=v, visits=tuple(visits), start_time=start_time, end_time=end_time)
            )
        unserved = tuple(i for i, r in enumerate(self.problem.requests) if r.delivery not in served)
        cost = sum(route_cost(self.problem, r.vehicle, [p.visit for p in r.visits]) for r in routes)
        extra = {**extra, "objective": assignment.ObjectiveValue()}
        return PdptwSolution(
            routes=tuple(routes), unserved=unserved, cost=cost, status=status, seconds=seconds, extra=extra
        )
