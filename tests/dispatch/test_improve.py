"""The ruin-and-recreate search around a polisher: never worse than its start, constraints kept, the
budget and the operator mix honoured.

Most tests give the search a stand-in polisher (:class:`SchedulingPolisher`: no search, it times the
routes it is given with the search's own scheduler and records every call), so that what is checked is
the search itself; two tests run it around the real OR-Tools adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pytest

from dispatch.improve import LnsOptions, LnsSolver, Ruin
from dispatch.pdptw import (
    BreakSpec,
    PdptwProblem,
    PdptwSolution,
    PlannedVisit,
    RequestSpec,
    SearchBudget,
    SolvedRoute,
    VehicleSpec,
    Visit,
    route_cost,
)
from dispatch.scheduling import RouteScheduler

DAY = 10_000
OPTIONS = LnsOptions(round_s=0.5, polish_s=0.2)
QUICK = LnsOptions(round_s=0.1, polish_s=0.05)  # many short rounds around a polisher that takes no time


def ring_problem(n_requests: int, n_vehicles: int, capacity: int, ride: int | None = None) -> PdptwProblem:
    """Riders from points on a circle of radius 100 to the opposite point; depot in the centre."""
    angles = np.linspace(0, 2 * np.pi, 2 * n_requests, endpoint=False)
    xy = np.vstack([[0.0, 0.0], np.c_[100 * np.cos(angles), 100 * np.sin(angles)]])
    times = np.ceil(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))).astype(np.int64)
    visits = []
    for i in range(n_requests):
        visits.append(Visit(location=1 + i, earliest=0, latest=DAY, service=5, demand=(1,)))
        opposite = 1 + (i + n_requests) % (2 * n_requests)
        visits.append(Visit(location=opposite, earliest=0, latest=DAY, service=5, demand=(-1,)))
    vehicle = VehicleSpec(
        start_location=0, start_time=0, end_location=0, end_latest=DAY, capacity=(capacity,)
    )
    requests = [RequestSpec(pickup=2 * i, delivery=2 * i + 1, max_ride_time=ride) for i in range(n_requests)]
    return PdptwProblem(travel_time=times, travel_cost=times, visits=tuple(visits),
                        vehicles=(vehicle,) * n_vehicles, requests=tuple(requests))


def one_by_one(n_requests: int, n_vehicles: int) -> list[list[int]]:
    """Every rider on bus 0, carried alone one after the other: feasible, and far from the best."""
    return [[v for i in range(n_requests) for v in (2 * i, 2 * i + 1)]] + [[] for _ in range(n_vehicles - 1)]


class SchedulingPolisher:
    """A stand-in polisher: no search; it times the routes it is given with :class:`RouteScheduler`.

    It accepts the first ``accepted`` warm starts (all by default) and answers the later ones with the
    plan it last accepted, ``warm_start_used`` False, as a real solver does with a warm start it rejects.
    """

    def __init__(self, accepted: int | None = None) -> None:
        self.accepted = accepted
        self.calls: list[tuple[SearchBudget, list[list[int]] | None]] = []
        self.last: PdptwSolution | None = None

    def solve(self, problem: PdptwProblem, budget: SearchBudget,
              initial_routes: Sequence[Sequence[int]] | None = None) -> PdptwSolution:
        """Time ``initial_routes`` (empty routes without them); see the class notes on acceptance."""
        routes = None if initial_routes is None else [list(r) for r in initial_routes]
        self.calls.append((budget, routes))
        if self.last is not None and self.accepted is not None and len(self.calls) > self.accepted:
            return replace(self.last, warm_start_used=False)
        scheduler = RouteScheduler(problem)
        routes = routes or [[] for _ in problem.vehicles]
        solved = []
        for v, route in enumerate(routes):
            times = scheduler.schedule(v, route)
            assert times is not None, "the search handed over a route that cannot be timed"
            visits = tuple(PlannedVisit(visit, t) for visit, t in zip(route, times[1:-1], strict=True))
            solved.append(SolvedRoute(v, visits, times[0], times[-1]))
        served = {visit for route in routes for visit in route}
        self.last = PdptwSolution(
            routes=tuple(solved),
            unserved=tuple(i for i, r in enumerate(problem.requests) if r.delivery not in served),
            cost=sum(route_cost(problem, v, route) for v, route in enumerate(routes)),
            status="SCHEDULED", seconds=0.0, warm_start_used=initial_routes is not None,
        )
        return self.last


def assert_plan_keeps_every_rule(problem: PdptwProblem, solution: PdptwSolution, capacity: int,
                                 ride: int | None) -> None:
    """Every route is timed consistently with travel, loads stay within capacity, rides within limits."""
    for route in solution.routes:
        load, started = 0, {}
        previous, clock = problem.vehicles[route.vehicle].start_location, route.start_time
        for planned in route.visits:
            visit = problem.visits[planned.visit]
            assert planned.time >= clock + problem.travel_time[previous, visit.location]
            load += visit.demand[0]
            assert 0 <= load <= capacity
            started[planned.visit] = planned.time
            previous, clock = visit.location, planned.time + visit.service
        for request in problem.requests:
            if ride is not None and request.pickup is not None and request.delivery in started:
                boarded = started[request.pickup] + problem.visits[request.pickup].service
                assert started[request.delivery] - boarded <= ride


def test_search_result_is_no_costlier_than_a_feasible_initial_plan():
    """Starting from one bus serving the riders one by one, the answer serves all and costs no more."""
    problem = ring_problem(6, 2, capacity=2)
    initial = one_by_one(6, 2)
    solution = LnsSolver(OPTIONS).solve(problem, SearchBudget(2.0), initial)
    assert solution.unserved == ()
    assert solution.cost <= route_cost(problem, 0, initial[0])


def test_search_keeps_ride_limits_capacity_and_consistent_times():
    """Around the real adapter every planned schedule respects capacity, ride limits and travel times."""
    problem = ring_problem(8, 3, capacity=2, ride=400)
    solution = LnsSolver(OPTIONS).solve(problem, SearchBudget(2.0))
    assert solution.unserved == ()
    assert_plan_keeps_every_rule(problem, solution, capacity=2, ride=400)


def test_ruin_and_recreate_improve_a_one_by_one_plan_before_any_polishing():
    """Around a polisher that searches nothing, the rounds alone find a cheaper plan than carrying six
    riders one by one, serve everyone, and report their iterations and rounds."""
    problem = ring_problem(6, 2, capacity=2, ride=400)
    initial = one_by_one(6, 2)
    polisher = SchedulingPolisher()
    solution = LnsSolver(QUICK, polisher).solve(problem, SearchBudget(0.5), initial)
    assert solution.unserved == ()
    assert solution.cost < route_cost(problem, 0, initial[0])
    assert solution.stats["first_cost"] == route_cost(problem, 0, initial[0])
    assert solution.stats["lns_rounds"] >= 1 and solution.stats["lns_iterations"] >= 1
    assert_plan_keeps_every_rule(problem, solution, capacity=2, ride=400)


def test_rounds_the_polisher_refuses_leave_the_first_plan():
    """A polisher that accepts only the first warm start: every later round is dropped, and the answer
    is the first plan, visit for visit."""
    problem = ring_problem(6, 2, capacity=2)
    initial = one_by_one(6, 2)
    polisher = SchedulingPolisher(accepted=1)
    solution = LnsSolver(QUICK, polisher).solve(problem, SearchBudget(0.5), initial)
    assert len(polisher.calls) > 1
    assert [[p.visit for p in r.visits] for r in solution.routes] == initial
    assert solution.stats["lns_rounds"] == len(polisher.calls) - 1


def test_search_without_initial_routes_starts_from_regret_insertion():
    """No initial routes: the polisher's first warm start already serves every rider (regret insertion)."""
    problem = ring_problem(5, 2, capacity=3)
    polisher = SchedulingPolisher()
    LnsSolver(QUICK, polisher).solve(problem, SearchBudget(0.3))
    first_routes = polisher.calls[0][1]
    assert first_routes is not None
    assert sorted(v for route in first_routes for v in route) == list(range(10))


def test_budget_with_a_solution_limit_goes_to_the_polisher_alone():
    """The rounds run on the clock, so a search that must repeat exactly is the polisher's alone: one
    call, with the caller's budget and routes."""
    problem = ring_problem(4, 2, capacity=2)
    initial = one_by_one(4, 2)
    polisher = SchedulingPolisher()
    budget = SearchBudget(5.0, solution_limit=3, seed=7)
    solution = LnsSolver(QUICK, polisher).solve(problem, budget, initial)
    assert polisher.calls == [(budget, initial)]
    assert solution is polisher.last


def test_problem_with_breaks_goes_to_the_polisher_alone():
    """The search does not model breaks: a problem with one is handed to the polisher in one call."""
    problem = ring_problem(4, 2, capacity=2)
    problem = replace(problem, vehicles=(replace(problem.vehicles[0], breaks=(BreakSpec(0, 100, 10),)),
                                         problem.vehicles[1]))
    polisher = SchedulingPolisher()
    LnsSolver(QUICK, polisher).solve(problem, SearchBudget(5.0))
    assert len(polisher.calls) == 1


def test_polisher_budgets_carry_the_seed_and_fit_in_the_callers_budget():
    """Every budget handed to the polisher has the caller's seed and less time than the caller's budget."""
    problem = ring_problem(4, 2, capacity=2)
    polisher = SchedulingPolisher()
    LnsSolver(QUICK, polisher).solve(problem, SearchBudget(0.4, seed=11))
    assert polisher.calls and all(b.seed == 11 and b.time_limit_s < 0.4 for b, _ in polisher.calls)


@pytest.mark.parametrize("ruin", list(Ruin))
def test_each_ruin_operator_alone_keeps_every_rule(ruin):
    """An operator mix of one ruin operator and greedy reinsertion only still gives a plan that serves
    everyone within capacity and ride limits."""
    problem = ring_problem(6, 2, capacity=2, ride=400)
    options = replace(QUICK, ruin_weights=((ruin, 1.0),), regret_weights=((1, 1.0),))
    solution = LnsSolver(options, SchedulingPolisher()).solve(problem, SearchBudget(0.3), one_by_one(6, 2))
    assert solution.unserved == ()
    assert_plan_keeps_every_rule(problem, solution, capacity=2, ride=400)


@pytest.mark.parametrize("mix", [
    {"ruin_weights": ()},
    {"ruin_weights": ((Ruin.RANDOM, 0.0),)},
    {"ruin_weights": ((Ruin.RANDOM, 1.0), (Ruin.RANDOM, 2.0))},
    {"regret_weights": ((0, 1.0),)},
])
def test_operator_mix_without_a_usable_operator_is_refused(mix):
    """An empty mix, a weight that is not positive, an operator named twice, a regret-0 insertion: each is
    refused."""
    with pytest.raises(ValueError):
        LnsOptions(**mix)


def test_a_round_without_requests_answers_the_empty_plan():
    """A round over a plan with no requests left to move (every bus idle) answers the empty routes; it
    does not fail building its relatedness matrix."""
    problem = replace(ring_problem(2, 2, capacity=2), visits=(), requests=())
    solution = LnsSolver(QUICK).improve(problem, [[], []], iterations=5, seed=1)
    assert [route.visits for route in solution.routes] == [(), ()]
    assert solution.unserved == ()
