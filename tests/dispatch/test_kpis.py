"""The shared key-figure definitions (dispatch.kpis) on tiny trips whose figures are worked out by hand."""

from __future__ import annotations

import pytest

from dispatch.kpis import (
    TripOutcome,
    percentile,
    pooled,
    ready_time,
    summary,
    trip_figures,
    waits_s,
    window_kept,
)
from dispatch.model import TimeType


def trip(picked: float | None = None, dropped: float | None = None, *, arrived: float | None = None,
         ready: float = 0, window: tuple[float, float] | None = (0, 600), vehicle: str | None = "bus-1",
         passengers: int = 1, direct_s: float | None = 600) -> TripOutcome:
    """A trip ready at ``ready`` (seconds), promised ``window``, on ``vehicle``; the bus arrives at
    ``arrived`` (by default at the pickup)."""
    return TripOutcome(vehicle_id=vehicle, ready_at=ready, window=window,
                       arrived_at=picked if arrived is None else arrived, picked_up_at=picked,
                       dropped_off_at=dropped, passengers=passengers, direct_s=direct_s)


def test_a_leave_after_rider_is_ready_at_the_requested_time_an_arrive_by_rider_at_the_window_start():
    """Leave after 8:00 with a window from 8:10: ready at 8:00. Arrive by 9:00 with a window from 8:20:
    ready at 8:20; without a window (never offered) the requested time stands in."""
    assert ready_time(TimeType.LEAVE_AFTER, 8 * 3600, 8 * 3600 + 600) == 8 * 3600
    assert ready_time(TimeType.ARRIVE_BY, 9 * 3600, 8 * 3600 + 1200) == 8 * 3600 + 1200
    assert ready_time(TimeType.ARRIVE_BY, 9 * 3600, None) == 9 * 3600


def test_waits_count_every_trip_picked_up_whether_completed_or_on_board():
    """Ready at 0: picked up at 300 and dropped at 900 → 300; ready at 100, on board since 400 → 300;
    never picked up → no wait."""
    assert waits_s([trip(300, 900), trip(400, ready=100), trip()]) == [300, 300]


def test_a_wait_ends_when_the_bus_arrives_and_a_no_show_did_not_wait():
    """Ready at 0, the bus there at 200, the rider on board at 245 (boarding 45 s): the wait is 200.
    A no-show (the bus came at 100, nobody boarded) has no wait."""
    assert waits_s([trip(245, 900, arrived=200), trip(arrived=100)]) == [200]


def test_percentiles_interpolate_between_sorted_values():
    """[300, 300, 600, 1200]: p50 at rank 1.5 is 450, p95 at rank 2.85 is 600 + 0.85 · 600 = 1110; one
    value is every percentile."""
    assert percentile([1200, 300, 600, 300], 0.5) == 450
    assert percentile([1200, 300, 600, 300], 0.95) == pytest.approx(1110)
    assert percentile([7], 0.95) == 7
    assert summary([]) is None
    assert summary([100, 300]) == pytest.approx(summary([300, 100]))


def test_the_window_is_kept_by_the_bus_arrival_with_its_ends_included():
    """Window 0–600: arrivals at 0 and 600 keep it, even with boarding ending at 645; 601 breaks it; a
    no-show's bus arriving at 300 kept it; the bus never came or no window: unknown."""
    kept = [window_kept(trip(0)), window_kept(trip(645, arrived=600)), window_kept(trip(601)),
            window_kept(trip(arrived=300))]
    assert kept == [True, True, False, True]
    assert window_kept(trip()) is None and window_kept(trip(100, window=None)) is None


def test_pooling_needs_another_trip_on_board_the_same_bus_at_the_same_time():
    """On bus-1, A rides 0–600 and B 300–900: both pooled. C rides 900–1200, starting when B gets off:
    not pooled (ends excluded). On bus-2, D rides 0–600 and E 0–600 on bus-3: not pooled."""
    trips = [trip(0, 600), trip(300, 900), trip(900, 1200), trip(0, 600, vehicle="bus-2"),
             trip(0, 600, vehicle="bus-3")]
    assert pooled(trips) == 2


def test_a_rider_still_on_board_pools_a_completed_trip_but_is_not_counted_itself():
    """A rides 0–600; B boarded at 500 and is still on board: A is pooled (1 of 1 completed trip), B
    is not counted, not being completed."""
    trips = [trip(0, 600), trip(500)]
    assert pooled(trips) == 1
    assert trip_figures(trips, 3600).pooling_pct == 100


def test_figures_of_three_trips_match_the_hand_computation():
    """One bus in service 2 h. A (1 person, ready 0, window 0–600) picked up 300, dropped 900, direct
    300; B (2 people, ready 600, window 600–1200) picked up 1500 (late), dropped 2100, direct 400;
    the bus never came for C. Waits 300 and 900 → mean 600; rides 600 and 600, factors 2 and 1.5 →
    1.75; windows: A kept, B not → 50 %; nobody pooled (A off at 900, B on at 1500); 3 people in 2 h →
    1.5 per vehicle-hour; on board 1 · 600 + 2 · 600 = 1800 person-seconds in 7200 s → 0.25."""
    trips = [trip(300, 900, direct_s=300), trip(1500, 2100, ready=600, window=(600, 1200), passengers=2,
                                                 direct_s=400), trip()]
    figures = trip_figures(trips, 7200)
    assert figures.served == 2
    assert (figures.wait_s.count, figures.wait_s.mean) == (2, 600)
    assert (figures.ride_s.mean, figures.ride_s.p95) == (600, 600)
    assert figures.ride_time_factor == pytest.approx(1.75)
    assert figures.window_kept_pct == 50 and figures.pooling_pct == 0
    assert figures.passengers_per_vehicle_hour == 1.5 and figures.occupancy == 0.25


def test_without_trips_or_service_time_the_ratios_are_none():
    """No trips and no buses in service: nothing served, every figure None; a trip without a direct time
    has no ride-time factor."""
    figures = trip_figures([], 0)
    assert figures.served == 0
    assert figures.wait_s is figures.ride_s is figures.ride_time_factor is figures.window_kept_pct is None
    assert figures.pooling_pct is figures.passengers_per_vehicle_hour is figures.occupancy is None
    assert trip_figures([trip(0, 600, direct_s=None)], 3600).ride_time_factor is None
