"""The OR-Tools adapter honours each constraint of a PdptwProblem, on matrices small enough to check by hand.

Worlds are points on a grid with Manhattan travel times (1 unit per step); travel cost equals time.
Visits are listed pickup, delivery, pickup, delivery, ...; location 0 is the depot.
"""

from __future__ import annotations

import numpy as np
import pytest

from dispatch.ortools_adapter import OrToolsSolver
from dispatch.pdptw import (
    BreakSpec,
    PdptwProblem,
    PdptwSolution,
    RequestSpec,
    SearchBudget,
    SolveFailedError,
    VehicleSpec,
    Visit,
    route_cost,
)

DAY = 1000
LIMIT = SearchBudget(1.0)


def grid(points: list[tuple[int, int]]) -> np.ndarray:
    """Manhattan travel times between grid points."""
    xy = np.array(points, dtype=np.int64)
    return np.abs(xy[:, None, :] - xy[None, :, :]).sum(axis=2)


def problem(
    points: list[tuple[int, int]],
    visits: list[Visit],
    requests: list[RequestSpec],
    vehicles: list[VehicleSpec] | None = None,
) -> PdptwProblem:
    """A problem over grid ``points``; by default one vehicle of capacity 3 at the depot all day."""
    times = grid(points)
    vehicles = vehicles or [bus(0)]
    return PdptwProblem(
        travel_time=times,
        travel_cost=times,
        visits=tuple(visits),
        vehicles=tuple(vehicles),
        requests=tuple(requests),
    )


def bus(depot: int, capacity: int = 3, **fields) -> VehicleSpec:
    """A bus based at location ``depot``, free all day unless told otherwise."""
    fields.setdefault("end_location", depot)
    fields.setdefault("end_latest", DAY)
    return VehicleSpec(start_location=depot, start_time=0, capacity=(capacity,), **fields)


def trip(pickup_location: int, delivery_location: int, **window) -> list[Visit]:
    """Pickup and delivery visits of one rider, open all day unless a pickup window is given."""
    earliest, latest = window.get("pickup_window", (0, DAY))
    return [
        Visit(location=pickup_location, earliest=earliest, latest=latest, demand=(1,)),
        Visit(location=delivery_location, earliest=0, latest=DAY, demand=(-1,)),
    ]


def pairs(n: int, **fields) -> list[RequestSpec]:
    """Requests i = (visit 2i, visit 2i+1)."""
    return [RequestSpec(pickup=2 * i, delivery=2 * i + 1, **fields) for i in range(n)]


def order(solution: PdptwSolution, vehicle: int = 0) -> list[int]:
    """The visits of one vehicle's route, in driving order."""
    return [p.visit for p in solution.routes[vehicle].visits]


def times(solution: PdptwSolution, vehicle: int = 0) -> dict[int, int]:
    """Visit -> planned start of service on one vehicle's route."""
    return {p.visit: p.time for p in solution.routes[vehicle].visits}


def test_capacity_of_one_forces_two_separate_trips():
    """Two riders share pickup and destination; a one-seat bus must carry them one after the other."""
    points = [(0, 0), (1, 0), (5, 0)]
    p = problem(points, trip(1, 2) + trip(1, 2), pairs(2), [bus(0, capacity=1)])
    solution = OrToolsSolver().solve(p, LIMIT)
    route = order(solution)
    assert sorted(route) == [0, 1, 2, 3]
    assert route.index(1) < route.index(2) or route.index(3) < route.index(0)  # drop-off before next boarding
    assert solution.cost == 1 + 4 + 4 + 4 + 5


def test_ride_time_limit_forbids_the_pooled_detour():
    """Picking rider 0 up first and collecting rider 1 on the way is cheapest (16) but rides rider 0 for 8;
    with rider 0's ride limited to the direct 4, the bus must collect rider 1 first (cost 18)."""
    points = [(0, 0), (1, 3), (2, 0), (3, 4), (0, 1)]
    visits = trip(1, 2) + trip(3, 4)
    free = OrToolsSolver().solve(problem(points, visits, pairs(2)), LIMIT)
    assert free.cost == 16 and order(free) == [0, 2, 1, 3]
    limited_requests = [RequestSpec(pickup=0, delivery=1, max_ride_time=4), RequestSpec(pickup=2, delivery=3)]
    limited = OrToolsSolver().solve(problem(points, visits, limited_requests), LIMIT)
    assert limited.cost == 18 and order(limited) == [2, 0, 1, 3]
    assert times(limited)[1] - times(limited)[0] <= 4


def test_time_windows_set_the_visiting_order_and_the_times():
    """Rider a (near) may only be picked up in [10, 12], rider b (farther) in [0, 5]: b goes first."""
    points = [(0, 0), (1, 0), (2, 0), (3, 0), (4, 0)]
    visits = trip(1, 2, pickup_window=(10, 12)) + trip(3, 4, pickup_window=(0, 5))
    solution = OrToolsSolver().solve(problem(points, visits, pairs(2)), LIMIT)
    route, planned = order(solution), times(solution)
    assert route.index(2) < route.index(0)
    assert 10 <= planned[0] <= 12 and planned[2] <= 5


def test_rider_on_board_is_delivered_by_own_vehicle_before_a_new_rider_boards():
    """Bus 1 carries a rider (initial load 1 of 1 seat) to location 2; bus 0 starts right there but may
    not take over. The new request (3 -> 4) fits on bus 1 only after the drop-off."""
    points = [(0, 0), (5, 0), (6, 0), (7, 0), (8, 0)]
    visits = [Visit(location=2, earliest=0, latest=DAY, demand=(-1,)), *trip(3, 4)]
    vehicles = [bus(2, capacity=1), bus(1, capacity=1, initial_load=(1,))]
    requests = [RequestSpec(pickup=None, delivery=0, vehicle=1), RequestSpec(pickup=1, delivery=2, vehicle=1)]
    solution = OrToolsSolver().solve(problem(points, visits, requests, vehicles), LIMIT)
    assert order(solution, 0) == []
    assert order(solution, 1) == [0, 1, 2]


def test_optional_request_too_far_away_comes_back_unserved_while_the_others_are_served():
    """A rider 400 units away cannot be reached before the shift ends at 100; the near ones are served."""
    points = [(0, 0), (1, 0), (2, 0), (3, 0), (4, 0), (400, 0), (401, 0)]
    visits = trip(1, 2) + trip(3, 4) + trip(5, 6)
    p = problem(points, visits, pairs(3, drop_penalty=10_000), [bus(0, end_latest=100)])
    solution = OrToolsSolver().solve(p, LIMIT)
    assert solution.unserved == (2,)
    assert sorted(order(solution)) == [0, 1, 2, 3]


def test_request_fixed_to_a_vehicle_is_served_by_that_vehicle():
    """The request sits next to bus 0's depot but is promised to bus 1, 50 units away."""
    points = [(0, 0), (1, 0), (2, 0), (50, 0)]
    p = problem(points, trip(1, 2), pairs(1, vehicle=1), [bus(0), bus(3)])
    solution = OrToolsSolver().solve(p, LIMIT)
    assert order(solution, 0) == [] and order(solution, 1) == [0, 1]


def test_break_is_taken_between_pickup_and_delivery():
    """The rider boards at time 1 (window [0, 2]); the 10-unit break must start at 5, on the way, so the
    delivery 9 units further happens no earlier than 1 + 9 + 10 = 20."""
    points = [(0, 0), (1, 0), (10, 0)]
    vehicle = bus(0, breaks=(BreakSpec(earliest_start=5, latest_start=5, duration=10),))
    p = problem(points, trip(1, 2, pickup_window=(0, 2)), pairs(1), [vehicle])
    planned = times(OrToolsSolver().solve(p, LIMIT))
    assert planned[0] <= 2 and planned[1] >= 20


def test_warm_start_is_never_worse_than_the_initial_routes():
    """A feasible but roundabout initial route comes back at most as costly, and the warm start is used."""
    points = [(0, 0), (1, 0), (2, 0), (3, 0), (4, 0), (5, 0), (6, 0)]
    p = problem(points, trip(1, 6) + trip(2, 5) + trip(3, 4), pairs(3))
    initial = [[4, 5, 2, 3, 0, 1]]
    solution = OrToolsSolver().solve(p, SearchBudget(0.2), initial)
    assert solution.warm_start_used
    assert solution.cost <= route_cost(p, 0, initial[0])
    assert solution.cost == 12


def test_infeasible_warm_start_is_ignored_and_reported():
    """Initial routes that deliver before they pick up are no plan: the search starts afresh, finds the
    direct trip, and says the warm start was not used."""
    points = [(0, 0), (1, 0), (3, 0)]
    p = problem(points, trip(1, 2), pairs(1))
    solution = OrToolsSolver().solve(p, LIMIT, [[1, 0]])
    assert not solution.warm_start_used
    assert order(solution) == [0, 1] and solution.cost == 6


def test_search_bounded_by_solutions_ends_on_its_count_and_repeats():
    """A budget with a solution limit and an hour of time ends long before the hour (greedy descent
    stops at its count or a local optimum) and gives the same routes twice."""
    points = [(0, 0), (1, 0), (2, 0), (3, 0), (4, 0), (5, 0), (6, 0)]
    p = problem(points, trip(1, 6) + trip(2, 5) + trip(3, 4), pairs(3))
    budget = SearchBudget(3600.0, solution_limit=5)
    first, second = OrToolsSolver().solve(p, budget), OrToolsSolver().solve(p, budget)
    assert order(first) == order(second) and first.seconds < 60
    assert first.unserved == ()


def test_open_end_route_stops_at_the_last_delivery():
    """Without an end location the route ends where the last rider leaves: no return trip is paid."""
    points = [(0, 0), (2, 0), (7, 0)]
    p = problem(points, trip(1, 2), pairs(1), [bus(0, end_location=None)])
    solution = OrToolsSolver().solve(p, LIMIT)
    assert solution.cost == 7
    assert solution.routes[0].end_time == times(solution)[1]


def test_mandatory_request_that_no_bus_can_reach_raises_a_typed_error():
    """A mandatory rider whose window closes before any bus can get there: a typed error, no silent drop."""
    points = [(0, 0), (50, 0), (51, 0)]
    p = problem(points, trip(1, 2, pickup_window=(0, 10)), pairs(1))
    with pytest.raises(SolveFailedError) as error:
        OrToolsSolver().solve(p, LIMIT)
    assert error.value.code == "pdptw_no_solution"
