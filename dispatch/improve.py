"""Large-neighbourhood search around the OR-Tools adapter, for dial-a-ride problems of some size.

OR-Tools' local search stalls on dial-a-ride problems beyond a few dozen requests: with tight time
windows and ride-time limits almost every move it tries is infeasible. :class:`LnsSolver` therefore

1. builds a first plan by regret insertion (or takes the caller's routes) and lets its polisher (the
   OR-Tools adapter) check and improve it for a share of the budget;
2. runs rounds of ruin and recreate in plain Python: remove some requests with one of the ruin
   operators of :attr:`LnsOptions.ruin_weights`, reinsert them by regret-k insertion with noise (k
   drawn from :attr:`LnsOptions.regret_weights`), accept by simulated annealing;
3. after each round hands the round's best plan to the polisher as a warm start: the polisher
   re-checks it, polishes it with its own local search and plans the service times.

A round's plan replaces the previous one only if the polisher accepted it as a warm start, so the
answer is never worse than the first plan. The Python route check (:mod:`dispatch.scheduling` and the
insertion tests) covers windows, travel, capacity, ride times, shift end, route duration, fixed
vehicles, riders on board and open ends; it does not model breaks, so a problem with breaks is left
to the polisher alone — except for visits where nobody may be on board (``require_empty``: the
re-optimizer's breaks), which the insertion test keeps clear and the ruin never moves.

:meth:`LnsSolver.improve` is the anytime form the live re-optimization uses: a fixed number of
ruin-and-recreate iterations from the plan in force, without the polisher, so that a round repeats
exactly for a seed (the simulator runs the very rounds the live service runs). Uses only the
:class:`~dispatch.pdptw.PdptwSolver` protocol and
:mod:`dispatch.pdptw` types.
"""

from __future__ import annotations

import math
import random
import time
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from itertools import pairwise
from typing import Any, TypeVar

import numpy as np

from dispatch.ortools_adapter import OrToolsSolver
from dispatch.pdptw import (
    PdptwProblem,
    PdptwSolution,
    PdptwSolver,
    PlannedVisit,
    SearchBudget,
    SolvedRoute,
    SolveFailedError,
    node_matrices,
)
from dispatch.scheduling import RouteScheduler

__all__ = ["LnsOptions", "LnsSolver", "Ruin"]

_CHECKED_CANDIDATES = 6  # cheapest insert positions given the full schedule test
_MEMO_SIZE = 200_000
_NO_ROUTE = 1e15  # insertion cost standing for "no feasible position on this route" in regrets

_T = TypeVar("_T")
_Insertion = tuple[int, int, int]  # (cost increase, pickup position, delivery position)
# nodes, earliest and latest service starts, spare capacity (an int, or a tuple with several dimensions)
_RouteInfo = tuple[list[int], list[int], list[int], list[Any]]


class Ruin(StrEnum):
    """The ruin operators: which requests one iteration removes."""

    RELATED = "related"  # Shaw removal: a random request and those closest to it in space and time
    COSTLY = "costly"  # worst removal: the requests whose visits save the most cost (with noise)
    RANDOM = "random"  # uniformly at random


@dataclass(frozen=True)
class LnsOptions:
    """Tuning of :class:`LnsSolver`: the budget's shares and the operator mix.

    ``initial_share`` of the budget goes to the polisher's first plan; then rounds of ``round_s``
    seconds of ruin and recreate alternate with ``polish_s`` seconds of the polisher's local search
    from the best plan of the round. Each iteration removes between ``min_remove`` requests and
    ``max_remove_share`` of them (at most ``max_remove``), with a ruin operator drawn from
    ``ruin_weights``, and reinserts them by regret-k insertion with k drawn from ``regret_weights``
    (k = 1 is greedy cheapest insertion) and insertion costs perturbed by ``noise`` (a share). The
    annealing temperature falls from ``start_temperature`` times the plan cost to a hundredth of it
    over the search.
    """

    initial_share: float = 0.1
    round_s: float = 5.0
    polish_s: float = 1.0
    min_remove: int = 2
    max_remove: int = 15
    max_remove_share: float = 0.3
    noise: float = 0.1
    start_temperature: float = 0.03  # worsening, as a share of the plan cost, accepted with odds 1/e
    ruin_weights: tuple[tuple[Ruin, float], ...] = (
        (Ruin.RELATED, 0.5), (Ruin.COSTLY, 0.25), (Ruin.RANDOM, 0.25)
    )
    regret_weights: tuple[tuple[int, float], ...] = ((1, 1.0), (2, 1.0), (3, 1.0))

    def __post_init__(self) -> None:
        if not 0.0 < self.initial_share < 1.0:
            raise ValueError("initial_share must be in (0, 1)")
        if self.round_s <= 0 or self.polish_s <= 0:
            raise ValueError("round_s and polish_s must be positive")
        if not 1 <= self.min_remove <= self.max_remove:
            raise ValueError("need 1 <= min_remove <= max_remove")
        for name, mix in (("ruin_weights", self.ruin_weights), ("regret_weights", self.regret_weights)):
            if not mix or any(weight <= 0 for _, weight in mix) or len({op for op, _ in mix}) != len(mix):
                raise ValueError(f"{name} needs distinct operators with positive weights")
        if any(k < 1 for k, _ in self.regret_weights):
            raise ValueError("regret_weights: k must be at least 1")


class LnsSolver:
    """Ruin-and-recreate rounds around a polisher, behind the :class:`~dispatch.pdptw.PdptwSolver` protocol.

    The polisher (by default :class:`~dispatch.ortools_adapter.OrToolsSolver`) must honour warm starts
    and plan the service times. The budget's seed drives every random choice of the search.
    """

    def __init__(self, options: LnsOptions = LnsOptions(), polisher: PdptwSolver | None = None) -> None:
        self.options = options
        self.polisher: PdptwSolver = OrToolsSolver() if polisher is None else polisher

    def solve(
        self,
        problem: PdptwProblem,
        budget: SearchBudget,
        initial_routes: Sequence[Sequence[int]] | None = None,
    ) -> PdptwSolution:
        """Solve ``problem`` within ``budget`` (single-threaded).

        Feasible ``initial_routes`` (one visit list per vehicle) are never worsened. ``stats`` adds the
        first plan's cost, the ruin-and-recreate iterations and rounds to the polisher's figures.
        The rounds run on the clock, so a budget with a solution limit (a search that must repeat
        exactly) goes to the polisher alone, as does a problem with breaks or without requests.
        Raises :class:`~dispatch.pdptw.SolveFailedError` like the polisher.
        """
        started = time.monotonic()
        deadline = started + budget.time_limit_s
        options = self.options
        no_rounds = budget.solution_limit is not None or not problem.requests
        if no_rounds or any(v.breaks for v in problem.vehicles):
            return self.polisher.solve(problem, budget, initial_routes)
        search = _RuinRecreate(problem, options, budget.seed)
        if initial_routes is None:
            initial_routes = search.construct()
        first = SearchBudget(budget.time_limit_s * options.initial_share, seed=budget.seed)
        plan = self.polisher.solve(problem, first, initial_routes)
        first_cost, iterations, rounds = plan.cost, 0, 0
        cooling = (time.monotonic(), deadline - options.polish_s)
        while deadline - time.monotonic() > options.polish_s + 0.1:
            until = min(time.monotonic() + options.round_s, deadline - options.polish_s)
            routes, _, done = search.run([[p.visit for p in r.visits] for r in plan.routes], until, cooling)
            polish_s = max(0.05, min(options.polish_s, deadline - time.monotonic()))
            polish = SearchBudget(polish_s, seed=budget.seed)
            polished = self.polisher.solve(problem, polish, routes)
            if polished.warm_start_used:
                plan = polished
            iterations, rounds = iterations + done, rounds + 1
        stats = {**plan.stats, "first_cost": first_cost, "lns_iterations": iterations, "lns_rounds": rounds}
        return replace(plan, seconds=time.monotonic() - started, stats=stats)


    def improve(
        self,
        problem: PdptwProblem,
        initial_routes: Sequence[Sequence[int]],
        iterations: int,
        seed: int = 0,
        time_limit_s: float | None = None,
    ) -> PdptwSolution:
        """One anytime round: ``iterations`` of ruin and recreate from the feasible ``initial_routes``.

        No polisher: the routes are checked and timed by the Python route check, so the round repeats
        exactly for a ``seed`` whatever the machine's speed. The answer is the best plan found, never
        costlier than ``initial_routes`` (it is them if nothing better turned up). ``time_limit_s`` only
        caps a round on a slow machine (``stats["capped"]`` then says so, and the round no longer repeats).
        ``stats`` holds the iterations run and the first and last cost. Raises
        :class:`~dispatch.pdptw.SolveFailedError` when ``initial_routes`` do not pass the route check.
        """
        started = time.monotonic()
        search = _RuinRecreate(problem, self.options, seed)
        routes = [list(r) for r in initial_routes]
        if len(routes) != len(problem.vehicles) or not search.feasible(routes):
            raise SolveFailedError("INITIAL_ROUTES_REJECTED")
        deadline = None if time_limit_s is None else started + time_limit_s
        first_cost = search.plan_cost(routes)
        best, cost, done = search.run(routes, deadline, (started, started), iterations=iterations)
        solution = search.solution(best) if best != routes else None
        if solution is None:  # nothing better (or, rarely, the scheduler cannot time it): the plan in force
            solution, cost = search.solution(routes), first_cost
        assert solution is not None, "initial routes passed the route check"
        stats = {"first_cost": first_cost, "objective": cost, "lns_iterations": done,
                 "capped": int(done < iterations)}
        return replace(solution, seconds=time.monotonic() - started, stats=stats)


def _weighted_choice(rng: random.Random, mix: tuple[tuple[_T, float], ...]) -> _T:
    """One operator of ``mix``, drawn with odds proportional to its weight."""
    threshold = rng.random() * sum(weight for _, weight in mix)
    for operator, weight in mix:
        threshold -= weight
        if threshold < 0:
            return operator
    return mix[-1][0]


class _RuinRecreate:
    """Ruin-and-recreate search over plain route lists (visit indices per vehicle).

    Routing nodes as in the adapter: visits ``0..V-1``, then one start and one end node per vehicle.
    """

    def __init__(self, problem: PdptwProblem, options: LnsOptions, seed: int) -> None:
        self.problem = problem
        self.options = options
        self.rng = random.Random(seed)
        n_visits, n_vehicles = len(problem.visits), len(problem.vehicles)
        self.n_visits, self.n_vehicles = n_visits, n_vehicles
        self.scheduler = RouteScheduler(problem)
        self.time, self.cost = self.scheduler.time, node_matrices(problem)[1].tolist()
        self.earliest, self.latest = self.scheduler.earliest, self.scheduler.latest
        self.ride_limit = self.scheduler.ride_limit
        self.demand = [v.demand for v in problem.visits]
        self.capacity = [v.capacity for v in problem.vehicles]
        self.single_dimension = all(len(v.capacity) == 1 for v in problem.vehicles)
        self.initial_load = [v.initial_load or (0,) * len(v.capacity) for v in problem.vehicles]
        # by routing node: nobody may be on board when the vehicle gets there (breaks); never ruined
        self.require_empty = [v.require_empty for v in problem.visits] + [False] * (2 * n_vehicles)
        self.fixed = {i for i, r in enumerate(problem.requests) if self.require_empty[r.delivery]}
        self.request_of = [0] * n_visits
        for i, r in enumerate(problem.requests):
            self.request_of[r.delivery] = i
            if r.pickup is not None:
                self.request_of[r.pickup] = i
        self.allowed = [
            range(n_vehicles) if r.vehicle is None else (r.vehicle,) for r in problem.requests
        ]
        self.relatedness = self._relatedness_matrix()
        self.memo: dict[tuple, _Insertion | None] = {}

    # ----------------------------------------------------------------- search loop
    def construct(self) -> list[list[int]] | None:
        """Routes built by regret insertion from empty ones; None if a mandatory request finds no place."""
        routes: list[list[int]] = [[] for _ in range(self.n_vehicles)]
        return routes if self._recreate(routes, []) else None

    def run(
        self, routes: list[list[int]], deadline: float | None, cooling: tuple[float, float],
        iterations: int | None = None,
    ) -> tuple[list[list[int]], int, int]:
        """Improve ``routes`` until ``deadline`` (or after ``iterations``, whichever comes first); returns
        the best routes, their cost and the iterations run.

        The annealing temperature falls geometrically over the ``cooling`` (start, end) clock span, or
        over the iterations when they are counted.
        """
        current = [list(r) for r in routes]
        current_cost = self.plan_cost(current)
        best, best_cost = [list(r) for r in current], current_cost
        start_temperature = self.options.start_temperature * current_cost
        temperature = start_temperature
        done = 0
        while (iterations is None or done < iterations) and (deadline is None or time.monotonic() < deadline):
            done += 1
            candidate = [list(r) for r in current]
            removed = self._ruin(candidate)
            if not self._recreate(candidate, removed):
                continue
            cost = self.plan_cost(candidate)
            worse_by = (cost - current_cost) / max(temperature, 1e-9)
            if cost < current_cost or self.rng.random() < math.exp(-worse_by):
                current, current_cost = candidate, cost
                if cost < best_cost:
                    best, best_cost = [list(r) for r in candidate], cost
            if iterations is not None:
                progress = done / iterations
            else:
                progress = (time.monotonic() - cooling[0]) / max(1e-9, cooling[1] - cooling[0])
            temperature = start_temperature * (0.01 ** min(1.0, progress))
        return best, best_cost, done

    def feasible(self, routes: list[list[int]]) -> bool:
        """Whether ``routes`` serve every mandatory request once, on a vehicle allowed to, and pass the
        route check (times, capacity, nobody on board where a visit requires it empty)."""
        where = {v: (k, pos) for k, route in enumerate(routes) for pos, v in enumerate(route)}
        if sum(len(r) for r in routes) != len(where) or not all(0 <= v < self.n_visits for v in where):
            return False
        for i, r in enumerate(self.problem.requests):
            placed = where.get(r.delivery)
            picked = None if r.pickup is None else where.get(r.pickup)
            if placed is None:
                if r.drop_penalty is None or picked is not None:
                    return False
                continue
            if placed[0] not in self.allowed[i]:
                return False
            if r.pickup is not None and (picked is None or picked[0] != placed[0] or picked[1] > placed[1]):
                return False
        for vehicle, route in enumerate(routes):
            load = self.initial_load[vehicle]
            for visit in route:
                if self.require_empty[visit] and any(load):
                    return False
                load = tuple(a + b for a, b in zip(load, self.demand[visit], strict=True))
                if any(x > c for x, c in zip(load, self.capacity[vehicle], strict=True)):
                    return False
            if self.scheduler.schedule(vehicle, route) is None:
                return False
        return True

    def solution(self, routes: list[list[int]]) -> PdptwSolution | None:
        """``routes`` as a solution timed by the route check; None if a route cannot be timed."""
        solved = []
        for vehicle, route in enumerate(routes):
            times = self.scheduler.schedule(vehicle, route)
            if times is None:
                return None
            solved.append(SolvedRoute(vehicle, tuple(PlannedVisit(v, t) for v, t in zip(route, times[1:-1],
                                                                                          strict=True)),
                                      times[0], times[-1]))
        served = {v for r in routes for v in r}
        unserved = tuple(i for i, r in enumerate(self.problem.requests) if r.delivery not in served)
        cost = self.plan_cost(routes) - self._penalty(routes)
        return PdptwSolution(tuple(solved), unserved, cost, "LNS_ROUND", 0.0, warm_start_used=True)

    def _penalty(self, routes: list[list[int]]) -> int:
        served = {v for r in routes for v in r}
        return sum(r.drop_penalty or 0 for r in self.problem.requests if r.delivery not in served)

    def plan_cost(self, routes: list[list[int]]) -> int:
        """Travel cost of all routes plus drop penalties of the requests not on any route."""
        served = {v for r in routes for v in r}
        penalty = sum(r.drop_penalty or 0 for r in self.problem.requests if r.delivery not in served)
        return sum(self._route_cost(v, r) for v, r in enumerate(routes)) + penalty

    def _route_cost(self, vehicle: int, route: list[int]) -> int:
        nodes = self._nodes(vehicle, route)
        cost = self.cost
        return sum(cost[a][b] for a, b in pairwise(nodes))

    def _nodes(self, vehicle: int, route: list[int]) -> list[int]:
        return self.scheduler.nodes(vehicle, route)

    # ----------------------------------------------------------------- ruin
    def _ruin(self, routes: list[list[int]]) -> list[int]:
        """Remove some requests from ``routes`` (in place); returns the removed request indices."""
        on_route = [i for i in dict.fromkeys(self.request_of[v] for r in routes for v in r)
                    if i not in self.fixed]
        if not on_route:
            return []
        share = int(len(on_route) * self.options.max_remove_share)
        upper = max(self.options.min_remove, min(self.options.max_remove, share))
        count = min(len(on_route), self.rng.randint(self.options.min_remove, upper))
        operator = _weighted_choice(self.rng, self.options.ruin_weights)
        if operator is Ruin.RELATED:
            chosen = self._related_requests(on_route, count)
        elif operator is Ruin.COSTLY:
            chosen = self._costly_requests(routes, count)
        else:
            chosen = self.rng.sample(on_route, count)
        removed_visits = {v for i in chosen for v in self._visits_of(i)}
        for r in routes:
            r[:] = [v for v in r if v not in removed_visits]
        return chosen

    def _related_requests(self, on_route: list[int], count: int) -> list[int]:
        """Shaw removal: a random request and those closest to it in space and time."""
        seed = self.rng.choice(on_route)
        row = self.relatedness[seed]
        ranked = sorted(on_route, key=lambda i: row[i])
        chosen: list[int] = []
        pool = ranked
        while len(chosen) < count and pool:
            k = int(len(pool) * self.rng.random() ** 4)
            chosen.append(pool.pop(k))
        return chosen

    def _costly_requests(self, routes: list[list[int]], count: int) -> list[int]:
        """Worst removal: the requests whose visits save the most cost when cut out (with noise)."""
        saving: dict[int, float] = {}
        for v, route in enumerate(routes):
            nodes = self._nodes(v, route)
            for k in range(1, len(nodes) - 1):
                a, b, c = nodes[k - 1], nodes[k], nodes[k + 1]
                gain = self.cost[a][b] + self.cost[b][c] - self.cost[a][c]
                request = self.request_of[b]
                saving[request] = saving.get(request, 0) + gain
        ranked = sorted(saving, key=lambda i: -saving[i])
        chosen: list[int] = []
        while len(chosen) < count and ranked:
            chosen.append(ranked.pop(int(len(ranked) * self.rng.random() ** 3)))
        return chosen

    def _visits_of(self, request: int) -> list[int]:
        r = self.problem.requests[request]
        return [r.delivery] if r.pickup is None else [r.pickup, r.delivery]

    def _relatedness_matrix(self) -> list[list[float]]:
        """Distance between requests: travel between their pickups and deliveries plus window gaps."""
        requests = self.problem.requests
        firsts = [r.delivery if r.pickup is None else r.pickup for r in requests]
        lasts = [r.delivery for r in requests]
        t = np.asarray(self.time, dtype=np.float64)
        early = np.asarray(self.earliest, dtype=np.float64)
        f, g = np.array(firsts, dtype=np.intp), np.array(lasts, dtype=np.intp)
        score = t[np.ix_(f, f)] + t[np.ix_(g, g)]
        score += np.abs(early[f][:, None] - early[f][None, :]) + np.abs(early[g][:, None] - early[g][None, :])
        return score.tolist()

    # ----------------------------------------------------------------- recreate
    def _recreate(self, routes: list[list[int]], pending: list[int]) -> bool:
        """Regret insertion with noise of the pending requests (and already unserved optional ones).

        Returns False when a mandatory request cannot be placed.
        """
        served = {self.request_of[v] for r in routes for v in r}
        unserved = [i for i in range(len(self.problem.requests)) if i not in served]
        pending = list(dict.fromkeys(pending + unserved))
        route_info: dict[int, _RouteInfo] = {}
        best_of: dict[tuple[int, int], _Insertion | None] = {}  # (request, vehicle) -> insertion
        regret_k = _weighted_choice(self.rng, self.options.regret_weights)
        noise = self.options.noise
        while pending:
            choice = None
            for request in pending:
                costs = []
                for v in self.allowed[request]:
                    key = (request, v)
                    if key not in best_of:
                        best_of[key] = self._best_insertion(request, v, routes[v], route_info)
                    found = best_of[key]
                    if found is not None:
                        costs.append((found[0] * (1 + noise * (self.rng.random() - 0.5)), v, found))
                if not costs:
                    if self.problem.requests[request].drop_penalty is None:
                        return False
                    continue
                costs.sort(key=lambda c: c[0])
                if regret_k == 1:
                    score = -costs[0][0]
                else:
                    ranked = [c[0] for c in costs] + [_NO_ROUTE] * regret_k
                    score = sum(ranked[h] - ranked[0] for h in range(1, regret_k))
                if choice is None or score > choice[0]:
                    choice = (score, request, costs[0][1], costs[0][2])
            if choice is None:
                return True
            _, request, vehicle, (_, i, j) = choice
            self._insert(routes[vehicle], request, i, j)
            pending.remove(request)
            route_info.pop(vehicle, None)
            for key in [k for k in best_of if k[1] == vehicle]:
                del best_of[key]
        return True

    def _insert(self, route: list[int], request: int, i: int, j: int) -> None:
        """Put the request's pickup after route position i and its delivery after position j (0 = start)."""
        r = self.problem.requests[request]
        if r.pickup is None:
            route.insert(j, r.delivery)
            return
        route.insert(j, r.delivery)
        route.insert(i, r.pickup)

    def _route_info(self, vehicle: int, route: list[int]) -> _RouteInfo:
        """Nodes, earliest and latest service starts (windows only), spare capacity after each position."""
        nodes = self._nodes(vehicle, route)
        t, early, late = self.time, self.earliest, self.latest
        m = len(nodes)
        earliest = [0] * m
        earliest[0] = early[nodes[0]]
        for k in range(1, m):
            earliest[k] = max(early[nodes[k]], earliest[k - 1] + t[nodes[k - 1]][nodes[k]])
        latest = [0] * m
        latest[m - 1] = late[nodes[m - 1]]
        for k in range(m - 2, -1, -1):
            latest[k] = min(late[nodes[k]], latest[k + 1] - t[nodes[k]][nodes[k + 1]])
        capacity = self.capacity[vehicle]
        spare = [tuple(c - x for c, x in zip(capacity, self.initial_load[vehicle], strict=True))]
        for node in nodes[1:-1]:
            spare.append(tuple(a - b for a, b in zip(spare[-1], self.demand[node], strict=True)))
        spare.append(spare[-1])
        if self.single_dimension:
            return nodes, earliest, latest, [x[0] for x in spare]
        return nodes, earliest, latest, spare

    def _best_insertion(
        self, request: int, vehicle: int, route: list[int], route_info: dict[int, _RouteInfo]
    ) -> _Insertion | None:
        """Cheapest feasible insertion (cost increase, i, j) of the request into the vehicle's route.

        Memoised on (request, vehicle, route): routes untouched by a ruin come back again and again.
        """
        key = (request, vehicle, tuple(route))
        if key in self.memo:
            return self.memo[key]
        if vehicle not in route_info:
            route_info[vehicle] = self._route_info(vehicle, route)
        best = None
        candidates = sorted(self._candidates(request, vehicle, route_info[vehicle]))
        for delta, i, j in candidates[:_CHECKED_CANDIDATES]:
            trial = list(route)
            self._insert(trial, request, i, j)
            if self.scheduler.schedule(vehicle, trial) is not None:
                best = (delta, i, j)
                break
        if len(self.memo) > _MEMO_SIZE:
            self.memo.clear()
        self.memo[key] = best
        return best

    def _candidates(self, request: int, vehicle: int, info: _RouteInfo) -> list[_Insertion]:
        """Insert positions that pass the window, capacity and direct ride-time tests."""
        r = self.problem.requests[request]
        nodes, earliest, latest, spare = info
        if r.pickup is None:
            return self._delivery_candidates(r.delivery, nodes, earliest, latest)
        t, c, early, late = self.time, self.cost, self.earliest, self.latest
        p, d = r.pickup, r.delivery
        e_p, l_p, e_d, l_d = early[p], late[p], early[d], late[d]
        fits = self._fits_in(self.demand[p])
        ride = self.ride_limit[d]
        empty = self.require_empty
        m = len(nodes)
        found = []
        for i in range(max(0, bisect_left(latest, e_p) - 1), m - 1):
            if earliest[i] > l_p:
                break
            a, b = nodes[i], nodes[i + 1]
            start_p = max(e_p, earliest[i] + t[a][p])
            if start_p > l_p or not fits(spare[i]):
                continue
            start_d = max(e_d, start_p + t[p][d])
            if start_d <= l_d and start_d + t[d][b] <= latest[i + 1] and t[p][d] <= ride:
                found.append((c[a][p] + c[p][d] + c[d][b] - c[a][b], i, i))
            base = c[a][p] + c[p][b] - c[a][b]
            current = max(early[b], start_p + t[p][b])
            path = t[p][b]
            for j in range(i + 1, m - 1):
                nj, nk = nodes[j], nodes[j + 1]
                if empty[nj] or current > latest[j] or path + t[nj][d] > ride or not fits(spare[j]):
                    break
                start_d = max(e_d, current + t[nj][d])
                if start_d <= l_d and start_d + t[d][nk] <= latest[j + 1]:
                    found.append((base + c[nj][d] + c[d][nk] - c[nj][nk], i, j))
                current = max(early[nk], current + t[nj][nk])
                path += t[nj][nk]
        return found

    def _fits_in(self, demand: tuple[int, ...]) -> Callable[[Any], bool]:
        """A test of whether ``demand`` fits into a spare capacity of :meth:`_route_info`."""
        if self.single_dimension:
            return demand[0].__le__
        return lambda spare: all(a <= b for a, b in zip(demand, spare, strict=True))

    def _delivery_candidates(
        self, d: int, nodes: list[int], earliest: list[int], latest: list[int]
    ) -> list[_Insertion]:
        t, c = self.time, self.cost
        found = []
        for j in range(len(nodes) - 1):
            a, b = nodes[j], nodes[j + 1]
            if j > 0 and self.require_empty[a]:
                break  # the rider on board would pass a visit where nobody may be on board
            start = max(self.earliest[d], earliest[j] + t[a][d])
            if start <= self.latest[d] and start + t[d][b] <= latest[j + 1]:
                found.append((c[a][d] + c[d][b] - c[a][b], j, j))
        return found
