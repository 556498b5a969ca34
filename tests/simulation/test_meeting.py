"""Tests for simulation.meeting: the simulator's pickup and drop-off options by mode, and the walks it
records, on a small generated day in Liechtenstein."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dispatch.model import MAX_OPTIONS, MeetingMode, ServiceRules
from simulation.engine import SimulationConfig
from simulation.meeting import meeting_places
from simulation.runner import Scenario, run_scenario, scenario_trips

DAY = Scenario(buses=2, requests=40, seed=3, config=SimulationConfig(no_show_p=0.0, cancel_p=0.0))


@pytest.mark.parametrize("mode", [MeetingMode.HYBRID, MeetingMode.STOPS_ONLY])
def test_walks_are_recorded_and_within_the_walking_limit(network, mode):
    """Hybrid and stops only with 200 m: every request weighs at most 5 options a side (stops only: at least
    one, else refused ``no_meeting_point``); every served rider's walks, to the pickup and from the
    drop-off, are at most 200 m; in stops only every served rider walks (the door is no option), and
    some riders are served."""
    rules = replace(ServiceRules(), mode=mode, max_walk_m=200)
    scenario = replace(DAY, rules=rules)
    result = run_scenario(scenario, network, scenario_trips(scenario, network))
    never_asked = ("no_meeting_point", "outside_area", "off_road")
    asked = [r for r in result.riders.values() if r.cause not in never_asked]
    assert all(1 <= n <= MAX_OPTIONS for r in asked for n in r.options)
    served = [r for r in result.riders.values() if r.outcome == "completed"]
    assert served
    assert all(0 <= w <= 200 for r in served for w in (r.pickup_walk_m, r.dropoff_walk_m))
    if mode is MeetingMode.STOPS_ONLY:
        assert all(r.pickup_walk_m > 0 and r.dropoff_walk_m > 0 for r in served)


def test_door_to_door_weighs_no_options_and_nobody_walks(network):
    """Door to door (the default): no request carries options and no served rider walks."""
    result = run_scenario(DAY, network, scenario_trips(DAY, network))
    assert all(r.options == (0, 0) and r.pickup_walk_m == r.dropoff_walk_m == 0
               for r in result.riders.values())


def test_hybrid_options_start_with_the_door_and_stops_only_never_has_it(network):
    """At Vaduz centre (47.1410, 9.5215) with 300 m: hybrid's first option is the door (no walk), then
    meeting points by walk; stops only has the same meeting points without the door."""
    places = meeting_places(network)
    point = (47.1410, 9.5215)
    door = int(network.snapper.snap([point[0]], [point[1]]).node[0])
    hybrid = places.options(point, door, replace(ServiceRules(), mode=MeetingMode.HYBRID))
    stops = places.options(point, door, replace(ServiceRules(), mode=MeetingMode.STOPS_ONLY))
    assert hybrid[0].location == door and hybrid[0].walk_m == 0 and hybrid[0].meeting_point_id is None
    assert all(o.meeting_point_id is not None and 0 < o.walk_m <= 300 for o in stops)
    assert [o.walk_m for o in stops] == sorted(o.walk_m for o in stops)
    assert [o for o in hybrid[1:]] == [o for o in stops if o.location != door][:MAX_OPTIONS - 1]
