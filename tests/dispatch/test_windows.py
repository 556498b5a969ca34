"""Window narrowing: the bounds every feasible plan respects, on a line one can check by hand.

Location k is at distance k from the depot (location 0); travel time and cost equal distance. Visits
are listed pickup, delivery, pickup, delivery, ...
"""

from __future__ import annotations

import numpy as np

from dispatch.pdptw import PdptwProblem, RequestSpec, VehicleSpec, Visit
from dispatch.windows import narrow_windows, unreachable_requests

OPEN = 1000


def line_problem(visits: list[Visit], requests: list[RequestSpec], vehicles: list[VehicleSpec] | None = None
                 ) -> PdptwProblem:
    """A problem on locations 0..10 of a line; by default one bus at the depot from 0 to ``OPEN``."""
    xs = np.arange(11)
    times = np.abs(xs[:, None] - xs[None, :]).astype(np.int64)
    vehicles = vehicles or [VehicleSpec(start_location=0, start_time=0, end_location=0, end_latest=OPEN)]
    return PdptwProblem(times, times, tuple(visits), tuple(vehicles), tuple(requests))


def test_open_windows_shrink_to_what_the_bus_can_reach_and_return_from():
    """Pickup at 3, delivery at 5, service 2 each: the bus reaches 3 at 3 and 5 at 3 + 2 + 2 = 7; it must
    start at 3 by 1000 - 2 - 2 - 5 - 2 (via the delivery) and start at 5 by 1000 - 2 - 5."""
    problem = line_problem([Visit(3, 0, OPEN, service=2), Visit(5, 0, OPEN, service=2, demand=(-1,))],
                           [RequestSpec(0, 1)])
    assert narrow_windows(problem) == [(3, 989), (7, 993)]


def test_ride_limit_ties_the_pickup_window_to_the_delivery_window():
    """The delivery at 6 is due in [50, 60] and the ride (from 2) may last 10: the pickup must start in
    [50 - 10, 60 - 4] = [40, 56], and the delivery can then start no later than 56 + 10 = 66 (kept 60)."""
    problem = line_problem([Visit(2, 0, OPEN), Visit(6, 50, 60, demand=(-1,))],
                           [RequestSpec(0, 1, max_ride_time=10)])
    assert narrow_windows(problem) == [(40, 56), (50, 60)]


def test_visit_of_a_fixed_vehicle_is_bounded_by_that_vehicle_alone():
    """Two buses, one at 0 from time 0, one at 10 from time 100. A delivery at 9 of a rider on board bus 1
    cannot start before 101; a pickup at 9 that either bus may serve can start at 9 (bus 0 is there)."""
    buses = [VehicleSpec(start_location=0, start_time=0, end_location=0, end_latest=OPEN),
             VehicleSpec(start_location=10, start_time=100, end_location=10, end_latest=OPEN)]
    visits = [Visit(9, 0, OPEN, demand=(-1,)), Visit(9, 0, OPEN), Visit(10, 0, OPEN, demand=(-1,))]
    problem = line_problem(visits, [RequestSpec(None, 0, vehicle=1), RequestSpec(1, 2)], buses)
    windows = narrow_windows(problem)
    assert windows[0] == (101, OPEN - 1)
    assert windows[1] == (9, OPEN - 1)


def test_open_ended_bus_need_not_leave_time_to_drive_back():
    """Without an end location the latest start is the shift end minus the service, whatever the distance."""
    bus = VehicleSpec(start_location=0, start_time=0, end_location=None, end_latest=OPEN)
    problem = line_problem([Visit(8, 0, OPEN, service=3), Visit(9, 0, OPEN, service=3, demand=(-1,))],
                           [RequestSpec(0, 1)], [bus])
    assert narrow_windows(problem)[1] == (12, OPEN - 3)


def test_request_whose_window_closes_before_the_bus_arrives_is_unreachable():
    """A pickup at 8 that closes at 5: its window comes out empty and its request (only) is unreachable."""
    problem = line_problem([Visit(8, 0, 5), Visit(9, 0, OPEN, demand=(-1,)),
                            Visit(1, 0, OPEN), Visit(2, 0, OPEN, demand=(-1,))],
                           [RequestSpec(0, 1), RequestSpec(2, 3)])
    windows = narrow_windows(problem)
    assert windows[0][0] > windows[0][1]
    assert unreachable_requests(problem, windows) == {0}
