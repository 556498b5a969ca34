"""Scenarios from a demand file: the shared example day runs end to end; points off the area are
rejected with their cause; dates map to dispatch seconds with the service day as day 1."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from dispatch.model import DAY_S
from dispatch.reoptimize import ReoptimizationPolicy
from routing.stops import read_places
from simulation.demand_csv import read_demand, write_demand
from simulation.engine import SimulationConfig
from simulation.runner import Scenario, requests_for_level, run_scenario, seconds_of
from tests.simulation.conftest import LIECHTENSTEIN
from tests.simulation.test_demand_csv import EXAMPLE

QUIET = SimulationConfig(reoptimization=ReoptimizationPolicy(every_s=0))


def test_dates_map_to_day_one():
    """08:00 on the service day is day 1 at 8 h; 18:00 the evening before is day 0 at 18 h."""
    day = date(2026, 12, 1)
    assert seconds_of(datetime(2026, 12, 1, 8), day) == DAY_S + 8 * 3600
    assert seconds_of(datetime(2026, 11, 30, 18), day) == 18 * 3600


def test_the_shared_example_day_runs_to_the_end(network):
    """The 60 requests of the shared example on 3 buses: every one ends served, rejected, cancelled or a
    no-show; most are served."""
    result = run_scenario(Scenario(buses=3, demand_file=EXAMPLE, config=QUIET), network)
    outcomes = [r.outcome for r in result.riders.values()]
    assert len(outcomes) == 60
    assert set(outcomes) <= {"completed", "rejected", "cancelled", "no_show"}
    assert outcomes.count("completed") > 30


def test_a_trip_from_outside_the_area_is_rejected_as_such(network, tmp_path):
    """A trip from Zurich (outside the Liechtenstein service area) is rejected with outside_area."""
    trips = read_demand(EXAMPLE)[:5]
    trips[0] = replace(trips[0], origin=(47.3769, 8.5417))
    write_demand(tmp_path / "day.csv", trips)
    result = run_scenario(Scenario(buses=1, demand_file=tmp_path / "day.csv", config=QUIET), network)
    assert (result.riders[trips[0].request_id].outcome, result.riders[trips[0].request_id].cause) == (
        "rejected", "outside_area")
    assert len(result.riders) == 5


def test_a_demand_level_counts_trips_per_thousand_inhabitants(network):
    """Level 10 on Liechtenstein: ten trips per 1,000 of the places' weights."""
    weights = sum(p.weight for p in read_places(LIECHTENSTEIN).places)
    assert requests_for_level(network, 10) == round(10 * weights / 1000)
