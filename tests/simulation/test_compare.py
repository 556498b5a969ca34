"""simulation.compare: the figures set online beside hindsight, from hand-made trips and quotes."""

from __future__ import annotations

from dispatch.kpis import TripOutcome
from dispatch.model import ServiceRules
from simulation.compare import DayFigures, day_figures, offer_latency, ratios
from simulation.engine import QuoteOutcome, SimulationConfig, SimulationResult


def _trip(passengers: int, wait_s: int, ride_s: int, direct_s: int, completed: bool = True) -> TripOutcome:
    return TripOutcome("v1", 0, None, wait_s, wait_s + 30, wait_s + 30 + ride_s if completed else None,
                       passengers, direct_s)


def test_two_completed_trips_and_one_on_board_count_what_reached_its_destination():
    """Two trips completed (1 and 2 people; waits 0 and 600 s; rides 600 s on 600 s and 900 s on 600 s
    direct), one still on board (wait 300 s), 30 km driven: 2 served, 3 passengers, 10 km each, wait
    mean 5 min (all three picked up), ride-time factor (1 + 1.5) / 2."""
    trips = [_trip(1, 0, 600, 600), _trip(2, 600, 900, 600), _trip(4, 300, 0, 600, completed=False)]
    figures = day_figures(trips, 5, {"no_vehicle_in_time": 2}, 30_000)
    assert figures == DayFigures(5, 2, 3, {"no_vehicle_in_time": 2}, 30.0, 10.0, 5.0, 9.5, 1.25)


def test_nobody_served_has_no_per_passenger_figures():
    """No trip: nothing served, vehicle km per passenger and the trip figures are None."""
    figures = day_figures([], 3, {"outside_area": 3}, 0)
    assert (figures.served, figures.vehicle_km_per_served_passenger, figures.wait_mean_min) == (0, None, None)


def test_ratios_are_online_over_hindsight():
    """Online 8 served at 6 km per passenger, hindsight 10 at 4: ratios 0.8 and 1.5; none against zero."""
    online = DayFigures(12, 8, 8, {}, 48.0, 6.0, None, None, None)
    hindsight = DayFigures(12, 10, 10, {}, 40.0, 4.0, None, None, None)
    assert ratios(online, hindsight) == {"served_ratio": 0.8, "km_per_passenger_ratio": 1.5}
    nothing = DayFigures(12, 0, 0, {}, 0.0, None, None, None, None)
    assert ratios(online, nothing) == {"served_ratio": None, "km_per_passenger_ratio": None}


def test_offer_latency_keeps_immediate_offers_repaired_offers_and_refusals_apart():
    """Immediate offers of 1, 2 and 3 ms, one repaired offer of 50 ms and one refusal of 100 ms: offer p50
    2 ms, repaired p99 50 ms, refusal p99 100 ms."""
    result = SimulationResult([], ServiceRules(), SimulationConfig(), {}, quotes=[
        (0.001, QuoteOutcome.OFFER), (0.1, QuoteOutcome.REFUSAL), (0.002, QuoteOutcome.OFFER),
        (0.05, QuoteOutcome.REPAIRED), (0.003, QuoteOutcome.OFFER)])
    latency = offer_latency(result)
    assert (latency.offers, latency.repaired, latency.refusals) == (3, 1, 1)
    assert (latency.offer_p50_ms, latency.refusal_p50_ms, latency.refusal_p99_ms) == (2.0, 100.0, 100.0)
    assert latency.repaired_p50_ms == latency.repaired_p99_ms == 50.0
    assert latency.offer_p99_ms is not None and 2.9 < latency.offer_p99_ms <= 3.0
