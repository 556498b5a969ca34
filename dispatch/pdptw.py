"""A matrix-level pickup-and-delivery problem with time windows: the optimizer's input and output.

This is the neutral form between the dispatch domain (requests, vehicle states, promises) and the
solvers that implement :class:`PdptwSolver` (the OR-Tools adapter :mod:`dispatch.ortools_adapter`,
the large-neighbourhood search :mod:`dispatch.improve`). Everything is an integer: times in seconds (or
any time unit the caller chooses, e.g. 1/1000 of the file's unit for the Cordeau benchmark), costs in
metres (or scaled distance units). The caller builds a :class:`PdptwProblem`, hands it to a solver with
a :class:`SearchBudget`, receives a :class:`PdptwSolution`, and verifies that solution before using it.

Conventions
- A *visit* is one stop to serve: a pickup or a delivery of one request. Visits are numbered
  ``0..len(visits)-1``; each has a ``location`` (row/column of the matrices).
- ``time`` on a visit or at a vehicle's end means the *start of service*; the vehicle may wait
  before a window opens. Travel from visit i to j takes ``service[i] + travel_time[loc i, loc j]``.
- Ride time of a request = start of service at its delivery - (start of service at its pickup +
  pickup service), bounded by ``max_ride_time``.
- A request whose rider is already on board has no pickup visit (``pickup is None``); it must be
  served by ``vehicle`` and its load is part of that vehicle's ``initial_load``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Visit:
    """One stop to serve."""

    location: int
    earliest: int
    latest: int
    service: int = 0
    demand: tuple[int, ...] = (1,)  # load change per capacity dimension: + at pickup, - at delivery
    require_empty: bool = False  # nobody may be on board here (a driver's break at the depot)


@dataclass(frozen=True)
class BreakSpec:
    """A driver's break: starts in [earliest_start, latest_start], lasts ``duration``."""

    earliest_start: int
    latest_start: int
    duration: int


@dataclass(frozen=True)
class VehicleSpec:
    """One vehicle: where and when it is free to start, where it must end, what it carries."""

    start_location: int
    start_time: int
    end_location: int | None  # None: the route may end at its last visit (open end)
    end_latest: int  # latest arrival at the end (shift end)
    capacity: tuple[int, ...] = (1,)
    initial_load: tuple[int, ...] | None = None  # riders already on board; None = empty
    max_duration: int | None = None  # route duration limit (end arrival - start departure)
    breaks: tuple[BreakSpec, ...] = ()


@dataclass(frozen=True)
class RequestSpec:
    """A request as a pair of visits, with its ride-time limit and what it costs to leave it out."""

    pickup: int | None  # visit index; None when the rider is already on board
    delivery: int  # visit index
    max_ride_time: int | None = None
    vehicle: int | None = None  # must be served by this vehicle (on board, or a kept promise)
    drop_penalty: int | None = None  # None: mandatory; otherwise the cost of leaving it unserved


@dataclass(frozen=True)
class PdptwProblem:
    """The whole problem: matrices over locations, visits, vehicles and requests."""

    travel_time: np.ndarray  # int64 (L, L)
    travel_cost: np.ndarray  # int64 (L, L); the objective sums it over driven arcs
    visits: tuple[Visit, ...]
    vehicles: tuple[VehicleSpec, ...]
    requests: tuple[RequestSpec, ...]


@dataclass(frozen=True)
class PlannedVisit:
    """A visit in a solved route, with its planned start of service."""

    visit: int
    time: int


@dataclass(frozen=True)
class SolvedRoute:
    """One vehicle's route: the visits in order, and its departure and end times."""

    vehicle: int
    visits: tuple[PlannedVisit, ...]
    start_time: int
    end_time: int


@dataclass(frozen=True)
class PdptwSolution:
    """The optimizer's answer: one route per vehicle, and the requests it left unserved."""

    routes: tuple[SolvedRoute, ...]
    unserved: tuple[int, ...]  # request indices
    cost: int  # travel cost of the routes (without penalties)
    status: str  # solver status name, e.g. "ROUTING_SUCCESS"
    seconds: float  # wall time spent
    warm_start_used: bool = False  # the initial routes were feasible and the search started from them
    stats: dict[str, int] = field(default_factory=dict)  # search figures (objective, iterations, ...)


@dataclass(frozen=True)
class SearchBudget:
    """How long a solver may search, and the seed of its random choices.

    The search stops at ``time_limit_s`` seconds of wall time, or earlier after ``solution_limit``
    solutions. A search that ends on its solution count (not on the clock) repeats exactly, whatever
    the machine's speed; a solver whose search cannot end on a count says what it does with one.
    """

    time_limit_s: float
    solution_limit: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.time_limit_s > 0:
            raise ValueError("time_limit_s must be positive")
        if self.solution_limit is not None and self.solution_limit < 1:
            raise ValueError("solution_limit must be positive")


class SolveFailedError(RuntimeError):
    """The solver found no plan that serves every mandatory request.

    ``status`` is the solver's status name, e.g. ``"ROUTING_FAIL"`` or ``"ROUTING_INFEASIBLE"``;
    ``code`` is a stable machine-readable cause.
    """

    code = "pdptw_no_solution"

    def __init__(self, status: str) -> None:
        super().__init__(f"no plan serves every mandatory request (solver status {status})")
        self.status = status


class PdptwSolver(Protocol):
    """Anything that solves a :class:`PdptwProblem` within a :class:`SearchBudget`.

    Every request of the problem ends on a route or in ``unserved``. Feasible ``initial_routes`` (one
    list of visit indices per vehicle, in driving order) warm-start the search, and the answer is then
    never costlier than they are (travel cost plus drop penalties); infeasible ones are ignored, and
    :attr:`PdptwSolution.warm_start_used` tells which. Raises :class:`SolveFailedError` when no plan
    serves every mandatory request.
    """

    def solve(
        self,
        problem: PdptwProblem,
        budget: SearchBudget,
        initial_routes: Sequence[Sequence[int]] | None = None,
    ) -> PdptwSolution:
        """Solve ``problem`` within ``budget``, warm-started from ``initial_routes`` if given."""
        ...


def node_matrices(problem: PdptwProblem) -> tuple[np.ndarray, np.ndarray]:
    """Time transit (service of the from-node + travel) and cost between routing nodes.

    Routing nodes are the visits ``0..V-1``, then one start node and one end node per vehicle; an
    open-ended vehicle's end node is reached from anywhere at zero time and cost.
    """
    n_vehicles, n_visits = len(problem.vehicles), len(problem.visits)
    locations = [v.location for v in problem.visits]
    locations += [s.start_location for s in problem.vehicles]
    locations += [0 if s.end_location is None else s.end_location for s in problem.vehicles]
    loc = np.array(locations, dtype=np.int64)
    service = np.array([v.service for v in problem.visits] + [0] * (2 * n_vehicles), dtype=np.int64)
    travel = np.asarray(problem.travel_time, dtype=np.int64)[np.ix_(loc, loc)]
    cost = np.asarray(problem.travel_cost, dtype=np.int64)[np.ix_(loc, loc)]
    for v, spec in enumerate(problem.vehicles):
        if spec.end_location is None:
            travel[:, n_visits + n_vehicles + v] = 0
            cost[:, n_visits + n_vehicles + v] = 0
    return service[:, None] + travel, cost


def route_cost(problem: PdptwProblem, vehicle: int, visits: Sequence[int]) -> int:
    """Travel cost of one vehicle driving through ``visits`` (start to end; open ends stop early)."""
    spec = problem.vehicles[vehicle]
    locations = [spec.start_location] + [problem.visits[v].location for v in visits]
    if spec.end_location is not None:
        locations.append(spec.end_location)
    cost = problem.travel_cost
    return int(sum(int(cost[a, b]) for a, b in pairwise(locations)))
