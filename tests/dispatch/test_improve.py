"""The ruin-and-recreate search around the adapter: never worse than its start, constraints kept."""

from __future__ import annotations

import numpy as np

from dispatch.improve import LnsOptions, solve_lns
from dispatch.ortools_adapter import route_cost
from dispatch.pdptw import PdptwProblem, RequestSpec, VehicleSpec, Visit

DAY = 10_000
OPTIONS = LnsOptions(round_s=0.5, polish_s=0.2)


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


def test_search_result_is_no_costlier_than_a_feasible_initial_plan():
    """Starting from one bus serving the riders one by one, the answer serves all and costs no more."""
    problem = ring_problem(6, 2, capacity=2)
    initial = [[v for i in range(6) for v in (2 * i, 2 * i + 1)], []]
    solution = solve_lns(problem, time_limit_s=2.0, initial_routes=initial, options=OPTIONS)
    assert solution.unserved == ()
    assert solution.cost <= route_cost(problem, 0, initial[0])


def test_search_keeps_ride_limits_capacity_and_consistent_times():
    """Every planned schedule respects capacity, ride limits and travel times between stops."""
    problem = ring_problem(8, 3, capacity=2, ride=400)
    solution = solve_lns(problem, time_limit_s=2.0, options=OPTIONS)
    assert solution.unserved == ()
    for route in solution.routes:
        load, started = 0, {}
        previous, clock = problem.vehicles[route.vehicle].start_location, route.start_time
        for planned in route.visits:
            visit = problem.visits[planned.visit]
            assert planned.time >= clock + problem.travel_time[previous, visit.location]
            load += visit.demand[0]
            assert 0 <= load <= 2
            started[planned.visit] = planned.time
            previous, clock = visit.location, planned.time + visit.service
        for request in problem.requests:
            if request.delivery in started:
                boarded = started[request.pickup] + problem.visits[request.pickup].service
                assert started[request.delivery] - boarded <= 400
