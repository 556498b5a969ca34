"""The one place where OR-Tools is used: :class:`OrToolsSolver`, a :class:`~dispatch.pdptw.PdptwSolver`.

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
- Time windows are first narrowed (:func:`dispatch.windows.narrow_windows`) with the ride-time,
  travel and shift limits; this cuts the search space and lets the insertion heuristics find first
  solutions.

Search
- First solution by local cheapest insertion, then guided local search until the budget's time
  limit. A budget with a solution limit runs a greedy descent instead: it ends after that many
  solutions or at the first local optimum, so it repeats exactly (guided local search would go on
  past the local optimum until the clock stops it). OR-Tools' search draws no random numbers; the
  budget's seed changes nothing here.

Outcome
- Every request of the problem is either on a route or listed in ``unserved``.
- The reported times are the cumuls of the solver's assignment, with every service start pushed
  as early as possible by finalizers; they satisfy windows, travel, ride times, breaks and shift.
- If the search finds no solution, :class:`~dispatch.pdptw.SolveFailedError` is raised when some
  request is mandatory; otherwise the answer has empty routes, every request unserved and the solver
  status. A mandatory request whose narrowed window is empty raises at once; an optional one is kept
  off the routes and reported unserved.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from dispatch.pdptw import (
    PdptwProblem,
    PdptwSolution,
    PlannedVisit,
    RequestSpec,
    SearchBudget,
    SolvedRoute,
    SolveFailedError,
    node_matrices,
    route_cost,
)
from dispatch.windows import narrow_windows, unreachable_requests

__all__ = ["OrToolsSolver"]

_SUCCESS_STATUSES = frozenset(
    {"ROUTING_SUCCESS", "ROUTING_OPTIMAL", "ROUTING_PARTIAL_SUCCESS_LOCAL_OPTIMUM_NOT_REACHED"}
)


@dataclass(frozen=True)
class _SearchOptions:
    """OR-Tools enum names of the first-solution strategy and the metaheuristic."""

    first_solution: str = "LOCAL_CHEAPEST_INSERTION"
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"

    @staticmethod
    def for_budget(budget: SearchBudget) -> _SearchOptions:
        """Guided local search on the clock; greedy descent when the search must end on a count."""
        if budget.solution_limit is not None:
            return _SearchOptions(metaheuristic="GREEDY_DESCENT")
        return _SearchOptions()


class OrToolsSolver:
    """OR-Tools' routing solver behind the :class:`~dispatch.pdptw.PdptwSolver` protocol.

    ``log_search`` prints OR-Tools' search log (for tuning by hand).
    """

    def __init__(self, *, log_search: bool = False) -> None:
        self.log_search = log_search

    def solve(
        self,
        problem: PdptwProblem,
        budget: SearchBudget,
        initial_routes: Sequence[Sequence[int]] | None = None,
    ) -> PdptwSolution:
        """Optimize the routes of ``problem`` within ``budget`` (see the module notes on the search).

        ``initial_routes`` (one list of visit indices per vehicle, in driving order) warm-starts the
        search; when they form a feasible plan the answer is never costlier than it (travel cost plus
        drop penalties) and ``warm_start_used`` is set; an infeasible warm start is ignored.
        Raises :class:`~dispatch.pdptw.SolveFailedError` when no plan serves every mandatory request.
        """
        started = time.monotonic()
        _validate(problem)
        windows = narrow_windows(problem)
        unreachable = unreachable_requests(problem, windows)
        if any(problem.requests[i].drop_penalty is None for i in unreachable):
            raise SolveFailedError("ROUTING_INFEASIBLE")
        model = _Model(problem, windows, unreachable)
        parameters = _search_parameters(_SearchOptions.for_budget(budget), budget, self.log_search)
        model.routing.CloseModelWithParameters(parameters)
        assignment = None
        if initial_routes is not None:
            assignment = model.solve_from_routes(initial_routes, parameters)
        warm_start_used = assignment is not None
        if assignment is None:
            assignment = model.routing.SolveWithParameters(parameters)
        status = routing_enums_pb2.RoutingSearchStatus.Value.Name(model.routing.status())
        if assignment is None or status not in _SUCCESS_STATUSES:
            return _failed(problem, status, time.monotonic() - started)
        return model.read_solution(assignment, status, time.monotonic() - started, warm_start_used)


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


def _search_parameters(options: _SearchOptions, budget: SearchBudget, log_search: bool) -> Any:
    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.Value.Value(
        options.first_solution
    )
    parameters.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.Value.Value(
        options.metaheuristic
    )
    parameters.time_limit.FromMilliseconds(max(1, int(budget.time_limit_s * 1000)))
    parameters.log_search = log_search
    if budget.solution_limit is not None:
        parameters.solution_limit = budget.solution_limit
    return parameters


def _failed(problem: PdptwProblem, status: str, seconds: float) -> PdptwSolution:
    if any(r.drop_penalty is None for r in problem.requests):
        raise SolveFailedError(status)
    routes = tuple(
        SolvedRoute(vehicle=v, visits=(), start_time=spec.start_time, end_time=spec.start_time)
        for v, spec in enumerate(problem.vehicles)
    )
    return PdptwSolution(
        routes=routes, unserved=tuple(range(len(problem.requests))), cost=0, status=status, seconds=seconds
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

    def _add_time_dimension(self, travel_time: np.ndarray, windows: list[tuple[int, int]]) -> Any:
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
            for visit, stop in enumerate(problem.visits):
                if stop.require_empty:
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
            service = self.problem.visits[request.pickup].service
            self._add_ride_limit(request, service, pickup, delivery, pair)
            pair += 1
            if request.drop_penalty is not None:
                half = request.drop_penalty // 2
                self.routing.AddDisjunction([pickup], request.drop_penalty - half)
                self.routing.AddDisjunction([delivery], half)

    def _add_ride_limit(
        self, request: RequestSpec, service: int, pickup: int, delivery: int, pair: int
    ) -> None:
        """Bound the ride of ``request`` (``service`` at its pickup) between its routing indices."""
        if request.max_ride_time is None:
            return
        limit = request.max_ride_time + service
        self.routing.solver().Add(self.time.CumulVar(delivery) - self.time.CumulVar(pickup) <= limit)
        self.time.SetPickupToDeliveryLimitFunctionForPair(lambda _p, _d, limit=limit: limit, pair)

    def _add_breaks(self) -> None:
        solver = self.routing.solver()
        service = [0] * self.routing.Size()
        for visit, stop in enumerate(self.problem.visits):
            service[self.manager.NodeToIndex(visit)] = stop.service
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

    def solve_from_routes(self, initial_routes: Sequence[Sequence[int]], parameters: Any) -> Any:
        """Solve from the given routes; None when they are no feasible plan (the warm start is ignored)."""
        if len(initial_routes) != len(self.problem.vehicles):
            raise ValueError("initial_routes needs one list of visits per vehicle")
        routes = [[self.manager.NodeToIndex(visit) for visit in route] for route in initial_routes]
        start = self.routing.ReadAssignmentFromRoutes(routes, True)
        if start is None:
            return None
        return self.routing.SolveFromAssignmentWithParameters(start, parameters)

    def read_solution(
        self, assignment: Any, status: str, seconds: float, warm_start_used: bool
    ) -> PdptwSolution:
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
        return PdptwSolution(
            routes=tuple(routes), unserved=unserved, cost=cost, status=status, seconds=seconds,
            warm_start_used=warm_start_used, stats={"objective": assignment.ObjectiveValue()},
        )
