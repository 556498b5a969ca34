"""Repositioning idle buses on a straight road (1 km = 60 s), where every figure can be checked by hand."""

from __future__ import annotations

import pytest

from dispatch.reposition import IdleVehicle, RepositionPolicy, Zone, choose_targets, demand_zones
from tests.dispatch.scenarios import line_world

H = 3600
ROAD = line_world(range(21))  # km 0 .. 20
POLICY = RepositionPolicy(radius_s=120, min_expected=2, value_s=300, max_drive_s=1200, min_stay_s=1800)


def idle(vehicle_id: str, km: int, home_by: int = 10 * H) -> IdleVehicle:
    """A bus standing at ``km`` from 6:00, to be back at its depot (km 0) by ``home_by``."""
    return IdleVehicle(vehicle_id, km, 6 * H, 0, home_by)


def test_pickups_within_the_radius_form_one_zone_around_the_heaviest_node():
    """Pickups at km 10 (×3), 11 and 12 and at km 18, a zone reaching 1 min: km 11 reaches km 10–12 (weight
    5, km 10 only 4), so it is the first centre; km 18 is a zone of its own."""
    zones = demand_zones([(10, 1), (10, 1), (10, 1), (11, 1), (12, 1), (18, 1)], 60, ROAD)
    assert zones == [Zone(11, 5.0), Zone(18, 1.0)]


def test_no_pickups_make_no_zones():
    """No requests seen: no expected demand."""
    assert demand_zones([], 120, ROAD) == []


def test_an_idle_bus_drives_to_the_uncovered_zone_worth_the_drive():
    """A bus at km 0 and 4 expected pickups at km 10: a 600 s drive against 4 × 300 s of worth, so it goes."""
    assert choose_targets([idle("a", 0)], [Zone(10, 4.0)], POLICY, ROAD) == {"a": 10}


def test_a_bus_does_not_move_when_the_drive_is_worth_more_than_the_demand():
    """A bus at km 0 and 3 pickups at km 10 (600 s of drive, 3 × 300 s of worth), 2 at km 19 (1140 s against
    600 s): only the first zone is worth it. With 2 expected at km 10 (600 s against 600 s) it stays."""
    zones = [Zone(10, 3.0), Zone(19, 2.0)]
    assert choose_targets([idle("a", 0)], zones, POLICY, ROAD) == {"a": 10}
    assert choose_targets([idle("a", 0)], [Zone(10, 2.0)], POLICY, ROAD) == {}


def test_a_bus_that_covers_a_zone_stays_and_the_other_takes_the_next_zone():
    """Zones at km 10 (6 expected) and km 16 (4): bus a stands at km 11, within 2 min of km 10, and stays;
    bus b at km 0 goes to km 16 (960 s against 1200 s of worth)."""
    zones = [Zone(10, 6.0), Zone(16, 4.0)]
    assert choose_targets([idle("a", 11), idle("b", 0)], zones, POLICY, ROAD) == {"b": 16}


def test_two_buses_spread_over_two_zones_at_least_total_drive():
    """Buses at km 2 and km 11, zones at km 6 and km 14 (5 expected each): the assignment sends the bus at
    km 2 to km 6 and the one at km 11 to km 14 (4 + 3 min) rather than crosswise (12 + 5 min)."""
    zones = [Zone(6, 5.0), Zone(14, 5.0)]
    assert choose_targets([idle("a", 2), idle("b", 11)], zones, POLICY, ROAD) == {"a": 6, "b": 14}


def test_a_zone_below_the_minimum_wants_no_bus():
    """One expected pickup (the minimum is 2) draws no bus, however close."""
    assert choose_targets([idle("a", 0)], [Zone(3, 1.0)], POLICY, ROAD) == {}


def test_a_bus_never_goes_where_it_could_not_wait_and_be_home_in_time():
    """Home by 7:00 from 6:00 at km 0: km 10 takes 10 min out, 30 min of stay and 10 min back — 50 min,
    fits; home by 6:49 it does not, and the bus stays."""
    assert choose_targets([idle("a", 0, 7 * H)], [Zone(10, 9.0)], POLICY, ROAD) == {"a": 10}
    assert choose_targets([idle("a", 0, 6 * H + 49 * 60)], [Zone(10, 9.0)], POLICY, ROAD) == {}


def test_a_bus_never_drives_further_than_the_limit():
    """Km 0 to km 20 is 1200 s, the limit: allowed; with a 1140 s limit, not."""
    assert choose_targets([idle("a", 0)], [Zone(20, 9.0)], POLICY, ROAD) == {"a": 20}
    tight = RepositionPolicy(radius_s=120, min_expected=2, value_s=300, max_drive_s=1140)
    assert choose_targets([idle("a", 0)], [Zone(20, 9.0)], tight, ROAD) == {}


def test_a_policy_with_no_interval_is_refused():
    """Targets must be chosen at some interval: ``every_s=0`` is a ValueError."""
    with pytest.raises(ValueError, match="every_s"):
        RepositionPolicy(every_s=0)
