"""Tests for dispatch.travel: the matrix source and the memo of legs in front of it."""

from __future__ import annotations

import numpy as np

from dispatch.travel import LegTimes, MatrixTravelTimes


class CountingSource(MatrixTravelTimes):
    """A matrix source that counts how many matrix calls reach it."""

    calls = 0

    def matrix(self, origins, destinations):
        CountingSource.calls += 1
        return super().matrix(origins, destinations)


def square(n: int) -> np.ndarray:
    """|i - j| * 10 seconds between n locations on a line."""
    idx = np.arange(n)
    return np.abs(idx[:, None] - idx[None, :]) * 10


def test_legs_are_fetched_once_and_then_answered_from_memory():
    """After a prefetch of 4×4 pairs, single lookups cost no further matrix call."""
    CountingSource.calls = 0
    legs = LegTimes(CountingSource(square(6)))
    legs.prefetch([0, 1, 2, 3], [0, 1, 2, 3])
    assert CountingSource.calls == 1
    assert [legs.seconds(3, b) for b in range(4)] == [30, 20, 10, 0]
    assert CountingSource.calls == 1
    assert legs.seconds(5, 0) == 50 and CountingSource.calls == 2


def test_best_insertion_works_when_the_memo_bound_forces_resets():
    """With room for only 20 remembered pairs the memo resets inside every search; answers stay right."""
    from dispatch.insertion import VehicleRoute, best_insertion
    from dispatch.model import ServiceRules, Vehicle, VehicleState
    from tests.dispatch.scenarios import leave_after, request_stops

    rules = ServiceRules()
    roomy, tight = LegTimes(MatrixTravelTimes(square(12))), LegTimes(MatrixTravelTimes(square(12)), max_pairs=20)
    routes = [VehicleRoute(Vehicle("v", 4, 0, 0, 0, 36_000), VehicleState("v", 0, 0), ())]
    for k, (o, d) in enumerate([(1, 5), (2, 9), (3, 4), (6, 11)]):
        pickup, dropoff = request_stops(leave_after(f"r{k}", o, d, 0), roomy, rules)
        expected = best_insertion(routes, pickup, dropoff, roomy)
        found = best_insertion(routes, pickup, dropoff, tight)
        assert found is not None and expected is not None
        assert (found.cost, found.stops) == (expected.cost, expected.stops)
        routes = [VehicleRoute(routes[0].vehicle, routes[0].state, found.stops)]
