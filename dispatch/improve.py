"""Large-neighbourhood search around the OR-Tools adapter, for dial-a-ride problems of some size.

OR-Tools' local search stalls on dial-a-ride problems beyond a few dozen requests: with tight time
windows and ride-time limits almost every move it tries is infeasible. :func:`solve_lns` therefore

1. builds a first plan by regret insertion (or takes the caller's routes) and lets the adapter
   check and improve it for a share of the budget;
2. runs rounds of ruin and recreate in plain Python: remove related / costly / random requests,
   reinsert them by regret insertion with noise, accept by simulated annealing;
3. after each round hands the round's best plan to the adapter as a warm start: the adapter
   re-checks it, polishes it with guided local search and plans the service times.

A round's plan replaces the previous one only if the adapter accepted it as a warm start, so the
answer is never worse than the first plan. The Python route evaluation covers windows, travel,
capacity, ride times, shift end, route duration, fixed vehicles, riders on board and open ends; it
does not model breaks, so a problem with breaks is left to the adapter alone. Uses only the
adapter's public API and :mod:`dispatch.pdptw` types.
"""

from __future__ import annotations

import math
import random
import time
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from dispatch.ortools_adapter import SearchOptions, narrow_windows, solve_pdptw
from dispatch.pdptw import PdptwProblem, PdptwSolution, node_matrices

__all__ = ["LnsOptions", "solve_lns"]

_INFINITY = float("inf")
_CHECKED_CANDIDATES = 6  # cheapest insert positions given the full schedule test
_MEMO_SIZE = 200_000
_NO_ROUTE = 1e15  # insertion cost standing for "no feasible position on this route" in regrets


@dataclass(frozen=True)
class LnsOptions:
    """Tuning of :func:`solve_lns`.

    ``initial_share`` of the budget goes to the adapter's first plan; then rounds of ``round_s``
    seconds of ruin and recreate alternate with ``polish_s`` seconds of adapter local search from
    the best plan of the round. Each iteration removes between ``min_remove`` requests and
    ``max_remove_share`` of them (at most ``max_remove``); the annealing temperature falls from
    ``start_temperature`` times the plan cost to a hundredth of it over the search.
    """

    initial_share: float = 0.1
    round_s: float = 5.0
    polish_s: float = 1.0
    min_remove: int = 2
    max_remove: int = 15
    max_remove_share: float = 0.3
    noise: float = 0.1
    start_temperature: float = 0.03  # worsening, as a share of the plan cost, accepted with odds 1/e
    seed: int = 0
    search: SearchOptions = SearchOptions()

    def __post_init__(self) -> None:
        if not 0.0 < self.initial_share < 1.0:
            raise ValueError("initial_share must be in (0, 1)")
        if self.round_s <= 0 or self.polish_s <= 0:
            raise ValueError("round_s and polish_s must be positive")
        if not 1 <= self.min_remove <= self.max_remove:
            raise ValueError("need 1 <= min_remove <= max_remove")


def solve_lns(
    problem: PdptwProblem,
    *,
    time_limit_s: float,
    initial_routes: Sequence[Sequence[int]] | None = None,
    options: LnsOptions = LnsOptions(),
) -> PdptwSolution:
    """Solve ``problem`` within ``time_limit_s`` seconds of wall time (single-threaded).

    Feasible ``initial_routes`` (one visit list per vehicle) are never worsened. ``extra`` adds the
    first plan's cost, the ruin-and-recreate iterations and rounds to the adapter's fields.
    Raises :class:`dispatch.ortools_adapter.SolveFailedError` like :func:`solve_pdptw`.
    """
    started = time.monotonic()
    deadline = started + time_limit_s
    search_options = options.search
    if any(v.breaks for v in problem.vehicles) or not problem.requests:
        return solve_pdptw(
            problem, time_limit_s=time_limit_s, initial_routes=initial_routes, options=search_options
        )
    search = _RuinRecreate(problem, options)
    if initial_routes is None:
        initial_routes = search.construct()
    first_limit = time_limit_s * options.initial_share
    plan = solve_pdptw(
        problem, time_limit_s=first_limit, initial_routes=initial_routes, options=search_options
    )
    first_cost, iterations, rounds = plan.cost, 0, 0
    cooling = (time.monotonic(), deadline - options.polish_s)
    while deadline - time.monotonic() > options.polish_s + 0.1:
        until = min(time.monotonic() + options.round_s, deadline - options.polish_s)
        routes, _, done = search.run([[p.visit for p in r.visits] for r in plan.routes], until, cooling)
        budget = max(0.05, min(options.polish_s, deadline - time.monotonic()))
        polished = solve_pdptw(problem, time_limit_s=budget, initial_routes=routes, options=search_options)
        if polished.extra["warm_start"] == "used":
            plan = polished
        iterations, rounds = iterations + done, rounds + 1
    extra = {**plan.extra, "first_cost": first_cost, "lns_iterations": iterations, "lns_rounds": rounds}
    return replace(plan, seconds=time.monotonic() - started, extra=extra)


class _RuinRecreate:
    """Ruin-and-recreate search over plain route lists (visit indices per vehicle).

    Routing nodes as in the adapter: visits ``0..V-1``, then one start and one end node per vehicle.
    """

    def __init__(self, problem: PdptwProblem, options: LnsOptions) -> None:
        self.problem = problem
        self.options = options
        self.rng = random.Random(options.seed)
        n_visits, n_vehicles = len(problem.visits), len(problem.vehicles)
        self.n_visits, self.n_vehicles = n_visits, n_vehicles
        time_matrix, cost_matrix = node_matrices(problem)
        self.time, self.cost = time_matrix.tolist(), cost_matrix.tolist()
        windows = narrow_windows(problem)
        self.earliest = [w[0] for w in windows] + [v.start_time for v in problem.vehicles] * 2
        self.latest = [w[1] for w in windows] + [v.end_latest for v in problem.vehicles] * 2
        self.demand = [v.demand for v in problem.visits]
        self.capacity = [v.capacity for v in problem.vehicles]
        self.single_dimension = all(len(v.capacity) == 1 for v in problem.vehicles)
        self.initial_load = [v.initial_load or (0,) * len(v.capacity) for v in problem.vehicles]
        self.max_duration = [
            _INFINITY if v.max_duration is None else v.max_duration for v in problem.vehicles
        ]
        self.request_of = [0] * n_visits
        self.partner = [-1] * n_visits  # delivery -> pickup, pickup -> delivery
        self.ride_limit = [_INFINITY] * n_visits  # on deliveries: bound on cumul(delivery) - cumul(pickup)
        for i, r in enumerate(problem.requests):
            self.request_of[r.delivery] = i
            if r.pickup is not None:
                self.request_of[r.pickup] = i
                self.partner[r.pickup], self.partner[r.delivery] = r.delivery, r.pickup
                if r.max_ride_time is not None:
                    self.ride_limit[r.delivery] = r.max_ride_time + problem.visits[r.pickup].service
        self.allowed = [
            range(n_vehicles) if r.vehicle is None else (r.vehicle,) for r in problem.requests
        ]
        self.relatedness = self._relatedness_matrix()
        self.memo: dict[tuple, tuple[int, int, int] | None] = {}

    # ----------------------------------------------------------------- search loop
    def construct(self) -> list[list[int]] | None:
        """Routes built by regret insertion from empty ones; None if a mandatory request finds no place."""
        routes: list[list[int]] = [[] for _ in range(self.n_vehicles)]
        return routes if self._recreate(routes, []) else None

    def run(
        self, routes: list[list[int]], deadline: float, cooling: tuple[float, float]
    ) -> tuple[list[list[int]], int, int]:
        """Improve ``routes`` until ``deadline``; returns the best routes, their cost and the iterations.

        The annealing temperature falls geometrically over the ``cooling`` (start, end) clock span.
        """
        current = [list(r) for r in routes]
        current_cost = self.plan_cost(current)
        best, best_cost = [list(r) for r in current], current_cost
        start_temperature = self.options.start_temperature * current_cost
        temperature = start_temperature
        iterations = 0
        while time.monotonic() < deadline:
            iterations += 1
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
            progress = (time.monotonic() - cooling[0]) / max(1e-9, cooling[1] - cooling[0])
            temperature = start_temperature * (0.01 ** min(1.0, progress))
        return best, best_cost, iterations

    def plan_cost(self, routes: list[list[int]]) -> int:
        """Travel cost of all routes plus drop penalties of the requests not on any route."""
        served = {v for r in routes for v in r}
        penalty = sum(r.drop_penalty or 0 for r in self.problem.requests if r.delivery not in served)
        return sum(self._route_cost(v, r) for v, r in enumerate(routes)) + penalty

    def _route_cost(self, vehicle: int, route: list[int]) -> int:
        nodes = self._nodes(vehicle, route)
        cost = self.cost
        return sum(cost[a][b] for a, b in zip(nodes, nodes[1:]))

    def _nodes(self, vehicle: int, route: list[int]) -> list[int]:
        return [self.n_visits + vehicle, *route, self.n_visits + self.n_vehicles + vehicle]

    # ----------------------------------------------------------------- ruin
    def _ruin(self, routes: list[list[int]]) -> list[int]:
        """Remove some requests from ``routes`` (in place); returns the removed request indices."""
        on_route = list(dict.fromkeys(self.request_of[v] for r in routes for v in r))
        if not on_route:
            return []
        share = int(len(on_route) * self.options.max_remove_share)
        upper = max(self.options.min_remove, min(self.options.max_remove, share))
        count = min(len(on_route), self.rng.randint(self.options.min_remove, upper))
        kind = self.rng.random()
        if kind < 0.5:
            chosen = self._related_requests(on_route, count)
        elif kind < 0.75:
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
        chosen = []
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
        chosen = []
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
        f, g = np.array(firsts), np.array(lasts)
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
        route_info: dict[int, tuple] = {}
        options: dict[tuple[int, int], tuple[float, int, int] | None] = {}
        regret_k = self.rng.choice((1, 2, 3))
        noise = self.options.noise
        while pending:
            choice = None
            for request in pending:
                costs = []
                for v in self.allowed[request]:
                    key = (request, v)
                    if key not in options:
                        options[key] = self._best_insertion(request, v, routes[v], route_info)
                    found = options[key]
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
            for key in [k for k in options if k[1] == vehicle]:
                del options[key]
        return True

    def _insert(self, route: list[int], request: int, i: int, j: int) -> None:
        """Put the request's pickup after route position i and its delivery after position j (0 = start)."""
        r = self.problem.requests[request]
        if r.pickup is None:
            route.insert(j, r.delivery)
            return
        route.insert(j, r.delivery)
        route.insert(i, r.pickup)

    def _route_info(self, vehicle: int, route: list[int]):
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
        spare = [tuple(c - x for c, x in zip(capacity, self.initial_load[vehicle]))]
        for node in nodes[1:-1]:
            spare.append(tuple(a - b for a, b in zip(spare[-1], self.demand[node])))
        spare.append(spare[-1])
        if self.single_dimension:
            spare = [x[0] for x in spare]
        return nodes, earliest, latest, spare

    def _best_insertion(self, request: int, vehicle: int, route: list[int], route_info: dict):
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
            if self.schedule(vehicle, trial) is not None:
                best = (delta, i, j)
                break
        if len(self.memo) > _MEMO_SIZE:
            self.memo.clear()
        self.memo[key] = best
        return best

    def _candidates(self, request: int, vehicle: int, info) -> list[tuple[int, int, int]]:
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
                if current > latest[j] or path + t[nj][d] > ride or not fits(spare[j]):
                    break
                start_d = max(e_d, current + t[nj][d])
                if start_d <= l_d and start_d + t[d][nk] <= latest[j + 1]:
                    found.append((base + c[nj][d] + c[d][nk] - c[nj][nk], i, j))
                current = max(early[nk], current + t[nj][nk])
                path += t[nj][nk]
        return found

    def _fits_in(self, demand: tuple[int, ...]):
        """A test of whether ``demand`` fits into a spare capacity of :meth:`_route_info`."""
        if self.single_dimension:
            return demand[0].__le__
        return lambda spare: all(a <= b for a, b in zip(demand, spare))

    def _delivery_candidates(self, d: int, nodes, earliest, latest) -> list[tuple[int, int, int]]:
        t, c = self.time, self.cost
        found = []
        for j in range(len(nodes) - 1):
            a, b = nodes[j], nodes[j + 1]
            start = max(self.earliest[d], earliest[j] + t[a][d])
            if start <= self.latest[d] and start + t[d][b] <= latest[j + 1]:
                found.append((c[a][d] + c[d][b] - c[a][b], j, j))
        return found

    # ----------------------------------------------------------------- schedule
    def schedule(self, vehicle: int, route: list[int]) -> list[int] | None:
        """Service start times (start node first, end node last) meeting the time constraints, or None.

        Capacity is not checked here (the insertion candidates already respect it). After Cordeau &
        Laporte: earliest times; delay the departure by as much forward slack as waiting allows;
        then delay the pickup of each request whose ride is still too long, in route order.
        """
        nodes = self._nodes(vehicle, route)
        m = len(nodes)
        pickup_pos = {}
        ride_of = [(-1, _INFINITY)] * m  # on deliveries: (position of the pickup, ride limit)
        n_visits, partner_of = self.n_visits, self.partner
        for k in range(1, m - 1):
            partner = partner_of[nodes[k]]
            if partner == -1:
                continue
            if partner in pickup_pos:
                ride_of[k] = (pickup_pos[partner], self.ride_limit[nodes[k]])
            else:
                pickup_pos[nodes[k]] = k
        start, wait = [0] * m, [0] * m
        if not self._forward(nodes, 0, start, wait, self.earliest[nodes[0]]):
            return None
        self._delay(nodes, 0, start, wait, ride_of)
        late_pickups = sorted(
            p for k, (p, limit) in enumerate(ride_of) if p >= 0 and start[k] - start[p] > limit
        )
        for k in late_pickups:
            self._delay(nodes, k, start, wait, ride_of)
        if self._rides_ok(start, ride_of) and start[-1] - start[0] <= self.max_duration[vehicle]:
            return start
        if not late_pickups:
            return None
        for k in sorted(pickup_pos.values()):
            self._delay(nodes, k, start, wait, ride_of)
        if self._rides_ok(start, ride_of) and start[-1] - start[0] <= self.max_duration[vehicle]:
            return start
        return None

    def _forward(self, nodes, k0: int, start: list[int], wait: list[int], first: int) -> bool:
        """Earliest service starts from position k0 (served at ``first``); False if a window is missed."""
        t, early, late = self.time, self.earliest, self.latest
        start[k0] = first
        if first > late[nodes[k0]]:
            return False
        previous, now = nodes[k0], first
        for k in range(k0 + 1, len(nodes)):
            node = nodes[k]
            arrival = now + t[previous][node]
            if arrival > late[node]:
                return False
            opening = early[node]
            if arrival < opening:
                now, wait[k] = opening, opening - arrival
            else:
                now, wait[k] = arrival, 0
            start[k] = now
            previous = node
        return True

    def _delay(self, nodes, j: int, start: list[int], wait: list[int], ride_of) -> None:
        """Push the service at position j later by its forward slack, capped by the waiting after it."""
        late = self.latest
        slack = late[nodes[j]] - start[j]
        waited = 0
        for k in range(j + 1, len(nodes)):
            waited += wait[k]
            if waited >= slack:
                break
            room = late[nodes[k]] - start[k]
            pickup, limit = ride_of[k]
            if 0 <= pickup < j and limit - (start[k] - start[pickup]) < room:
                room = limit - (start[k] - start[pickup])
            if room < 0:
                room = 0
            if waited + room < slack:
                slack = waited + room
        shift = min(slack, waited)
        if shift > 0:
            wait[j] += shift
            self._forward(nodes, j, start, wait, start[j] + shift)

    @staticmethod
    def _rides_ok(start: list[int], ride_of) -> bool:
        return all(start[k] - start[p] <= limit for k, (p, limit) in enumerate(ride_of) if p >= 0)
