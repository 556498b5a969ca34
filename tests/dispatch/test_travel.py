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
    roomy = LegTimes(MatrixTravelTimes(square(12)))
    tight = LegTimes(MatrixTravelTimes(square(12)), max_pairs=20)
    routes = [VehicleRoute(Vehicle("v", 4, 0, 0, 0, 36_000), VehicleState("v", 0, 0), ())]
    for k, (o, d) in enumerate([(1, 5), (2, 9), (3, 4), (6, 11)]):
        pickup, dropoff = request_stops(leave_after(f"r{k}", o, d, 0), roomy, rules)
        expected = best_insertion(routes, pickup, dropoff, roomy)
        found = best_insertion(routes, pickup, dropoff, tight)
        assert found is not None and expected is not None
        assert (found.cost, found.stops) == (expected.cost, expected.stops)
        routes = [VehicleRoute(routes[0].vehicle, routes[0].state, found.stops)]


class RecordingSource(MatrixTravelTimes):
    """A matrix source that records the (origins, destinations) of every call reaching it."""

    def __init__(self, seconds: np.ndarray) -> None:
        super().__init__(seconds, seconds * 3)
        self.asked: list[tuple[list[int], list[int]]] = []

    def matrix(self, origins, destinations):
        self.asked.append((list(origins), list(destinations)))
        return super().matrix(origins, destinations)


def test_a_prefetch_asks_only_for_the_destinations_a_row_lacks():
    """A second prefetch with one more destination (a bus that moved) fetches that column alone, and
    every pair then reads as the source says."""
    source = RecordingSource(square(8))
    legs = LegTimes(source)
    legs.prefetch([0, 1], [2, 3, 4])
    legs.prefetch([0, 1], [2, 3, 4, 7])
    assert [sorted(cols) for _, cols in source.asked] == [[2, 3, 4], [7]]
    assert sorted(source.asked[1][0]) == [0, 1]
    assert [legs.seconds(a, b) for a in (0, 1) for b in (2, 3, 4, 7)] == [20, 30, 40, 70, 10, 20, 30, 60]
    assert legs.metres(1, 7) == 180
    legs.prefetch([0, 1], [7, 3])
    assert len(source.asked) == 2  # everything known: no call


def test_fetch_to_asks_only_for_the_origins_a_column_lacks():
    """Columns towards a pickup and a drop-off are kept; asking again with one new origin fetches that
    origin alone, for both columns in one call, and ``to`` answers every origin right."""
    source = RecordingSource(square(10))
    legs = LegTimes(source)
    legs.fetch_to([0, 1, 2, 3], [5, 6])
    first = len(source.asked)
    legs.fetch_to([0, 1, 2, 3, 9], [5, 6])
    assert source.asked[first:] == [([9], [5, 6])]
    assert legs.to([0, 1, 2, 3, 9], 5) == [50, 40, 30, 20, 40]
    assert legs.to([9, 0], 6) == [30, 60]
    legs.fetch_to([3, 9], [5, 6])
    assert len(source.asked) == first + 1  # nothing new


def test_a_column_that_would_hold_too_many_origins_starts_afresh():
    """Columns do not grow without bound: one that would hold more than ``max_column_origins`` origins
    keeps only those just asked for; the column used longest ago goes when MAX_COLUMNS are kept."""
    from dispatch.travel import MAX_COLUMNS

    source = RecordingSource(square(MAX_COLUMNS + 2))
    legs = LegTimes(source, max_column_origins=30)
    legs.fetch_to(list(range(1, 29)), [0])
    legs.fetch_to([1, 2, 29, 30, 31], [0])  # 28 kept + 3 new > 30
    assert source.asked[-1] == ([1, 2, 29, 30, 31], [0])
    assert legs.to([1, 2, 31], 0) == [10, 20, 310]
    assert legs.to([3], 0) == [30] and source.asked[-1] == ([3], [0])  # fetched again: it was dropped
    for b in range(1, MAX_COLUMNS + 1):
        legs.fetch_to([0], [b])
    asked = len(source.asked)
    legs.to([3], 0)  # column 0 was used longest ago: gone
    assert len(source.asked) == asked + 1
    legs.to([0], MAX_COLUMNS)  # the latest one is kept
    assert len(source.asked) == asked + 1
