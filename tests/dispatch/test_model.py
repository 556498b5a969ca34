"""Tests for dispatch.model: rule validation, max ride time, time bounds and promised windows."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.model import (
    MAX_RULE_S,
    MAX_WALK_LIMIT_M,
    MeetingMode,
    Request,
    ServiceRules,
    Stop,
    StopKind,
    TimeBounds,
    TimeType,
    Vehicle,
    promise_for,
    time_bounds,
)

# Defaults: max wait 900 s, window 600 s, ride min(1.5·direct + 600, direct + 1800) s, dwell 30 + 15/pax.
RULES = ServiceRules()
T = 10 * 3600  # 10:00


@pytest.mark.parametrize(("field", "value"), [
    ("max_wait_s", -1),
    ("pickup_window_s", -1),
    ("ride_beta_s", -1),
    ("max_detour_s", -1),
    ("stop_dwell_s", -1),
    ("boarding_s_per_passenger", -1),
    ("min_notice_s", -1),
    ("no_show_wait_s", -1),
    ("ride_alpha", 0.99),
    ("ride_alpha", 5.01),
    ("offer_validity_s", 0),
])
def test_out_of_range_rule_is_refused_naming_the_field(field, value):
    """One bad knob, everything else default: ValueError whose message names that knob."""
    with pytest.raises(ValueError, match=field):
        ServiceRules(**{field: value})


@pytest.mark.parametrize("kwargs", [
    {"pickup_window_s": 901},  # wider than max_wait_s = 900
    {"booking_horizon_s": 0},  # not beyond min_notice_s = 0
    {"booking_horizon_s": 3600, "min_notice_s": 3600},
])
def test_inconsistent_rules_are_refused_naming_the_fields(kwargs):
    """Knobs that contradict each other are refused, and the message names the offending knob."""
    field = next(iter(kwargs))
    with pytest.raises(ValueError, match=field):
        ServiceRules(**kwargs)


@pytest.mark.parametrize(("start", "end"), [(-1, 3600), (3600, 3600), (7200, 3600), (0, 86_401)])
def test_service_hours_outside_one_day_or_reversed_are_refused(start, end):
    """Service hours must satisfy 0 <= start < end <= 24 h; the message says it is about service hours."""
    with pytest.raises(ValueError, match="service hours"):
        ServiceRules(service_start_s=start, service_end_s=end)


DURATIONS = ("max_wait_s", "pickup_window_s", "ride_beta_s", "max_detour_s", "stop_dwell_s",
             "boarding_s_per_passenger", "booking_horizon_s", "min_notice_s", "offer_validity_s",
             "no_show_wait_s")


@pytest.mark.parametrize("field", DURATIONS)
def test_a_duration_over_a_year_is_refused_naming_the_field(field):
    """Every duration is at most :data:`MAX_RULE_S` (a year): a second more, or 10**20 s (which no
    database integer holds), is refused naming the knob."""
    for value in (MAX_RULE_S + 1, 10**20):
        with pytest.raises(ValueError, match=f"{field} must not exceed"):
            ServiceRules(**{"max_wait_s": MAX_RULE_S, "booking_horizon_s": MAX_RULE_S, field: value})


def test_durations_of_a_year_are_accepted():
    """Every duration set to a year (the notice a second less than the horizon) is legal."""
    ServiceRules(**{field: MAX_RULE_S for field in DURATIONS} | {"min_notice_s": MAX_RULE_S - 1})


def test_rules_at_the_edges_of_their_ranges_are_accepted():
    """alpha exactly 1 or 5, window equal to max wait, the whole day, zero dwell: all legal."""
    ServiceRules(ride_alpha=1.0, pickup_window_s=900, max_wait_s=900, service_start_s=0, service_end_s=86_400,
                 stop_dwell_s=0, boarding_s_per_passenger=0, ride_beta_s=0, max_detour_s=0)
    ServiceRules(ride_alpha=5.0)


def test_every_problem_is_named_at_once():
    """Two bad knobs give one error naming both, so an operator fixes them in one go."""
    with pytest.raises(ValueError, match="max_wait_s") as error:
        ServiceRules(max_wait_s=-5, offer_validity_s=-1)
    assert "offer_validity_s" in str(error.value)


@pytest.mark.parametrize(("direct", "expected"), [
    (0, 600),  # min(0 + 600, 0 + 1800)
    (600, 1500),  # min(900 + 600, 600 + 1800): the factor binds
    (2400, 4200),  # min(3600 + 600, 2400 + 1800): both equal
    (3000, 4800),  # min(4500 + 600, 3000 + 1800): the detour cap binds
    (301, 1051),  # 451.5 + 600 = 1051.5, floored
])
def test_max_ride_time_is_the_smaller_of_factor_and_detour_cap(direct, expected):
    """Default rules: max ride = min(1.5 · direct + 600, direct + 1800), in whole seconds rounded down."""
    assert RULES.max_ride_s(direct) == expected


def test_max_ride_time_follows_custom_knobs():
    """alpha 2, beta 60, detour 100: a 50 s trip gets min(160, 150) = 150 s,
    a 10 s trip min(80, 110) = 80 s."""
    rules = ServiceRules(ride_alpha=2.0, ride_beta_s=60, max_detour_s=100)
    assert rules.max_ride_s(50) == 150
    assert rules.max_ride_s(10) == 80


def test_dwell_grows_with_passengers():
    """30 s per stop plus 15 s per person boarding or alighting."""
    assert RULES.dwell_s(1) == 45
    assert RULES.dwell_s(3) == 75


def test_leave_after_bounds():
    """Leave after 10:00, direct 600 s, 1 rider: pickup in [10:00, 10:15];
    latest drop-off = 10:15 + 45 s dwell + 1500 s max ride."""
    request = Request("r", 1, 2, TimeType.LEAVE_AFTER, T, T - 60)
    assert time_bounds(request, 600, RULES) == TimeBounds(
        direct_s=600, earliest_pickup=T, latest_pickup=T + 900, latest_dropoff=T + 900 + 45 + 1500,
        max_ride_s=1500)


def test_arrive_by_bounds():
    """Arrive by 10:00, direct 600 s, 2 riders (dwell 60): latest pickup 10:00 − 600 − 60 = 9:49;
    earliest = 9:49 − 900 wait − (1500 − 600) allowed detour = 9:19."""
    request = Request("r", 1, 2, TimeType.ARRIVE_BY, T, T - 7200, seats=2)
    bounds = time_bounds(request, 600, RULES)
    assert bounds == TimeBounds(direct_s=600, earliest_pickup=T - 660 - 1800, latest_pickup=T - 660,
                                latest_dropoff=T, max_ride_s=1500)
    # A direct ride from the latest pickup arrives exactly on time.
    assert bounds.latest_pickup + RULES.dwell_s(2) + bounds.direct_s == request.time


def test_request_needs_someone_to_carry():
    """No seats and no wheelchair spaces, or a negative count, is not a request."""
    with pytest.raises(ValueError):
        Request("r", 1, 2, TimeType.LEAVE_AFTER, T, T, seats=0, wheelchairs=0)
    with pytest.raises(ValueError):
        Request("r", 1, 2, TimeType.LEAVE_AFTER, T, T, seats=2, wheelchairs=-1)
    assert Request("r", 1, 2, TimeType.LEAVE_AFTER, T, T, seats=0, wheelchairs=1).passengers == 1


def test_vehicle_validation():
    """A bus needs a seat and a shift that ends after it starts."""
    with pytest.raises(ValueError, match="seat"):
        Vehicle("v", 0, 1, 0, 0, 100)
    with pytest.raises(ValueError, match="shift"):
        Vehicle("v", 4, 0, 0, 100, 100)
    assert Vehicle("v", 4, 1, 0, 0, 100).capacity == (4, 1)


def test_stop_load_change_by_kind():
    """A pickup adds its riders, a drop-off removes them, a break changes nothing."""
    def stop(kind):
        return Stop("r", kind, 0, 0, 0, 0, seats=2, wheelchairs=1)
    assert stop(StopKind.PICKUP).load_change == (2, 1)
    assert stop(StopKind.DROPOFF).load_change == (-2, -1)
    assert stop(StopKind.BREAK).load_change == (0, 0)


BOUNDS = TimeBounds(direct_s=600, earliest_pickup=T, latest_pickup=T + 900, latest_dropoff=T + 3000,
                    max_ride_s=1500)


@pytest.mark.parametrize(("planned", "window"), [
    (T, (T, T + 600)),  # centring would start 5 min early: pushed to the earliest pickup
    (T + 450, (T + 150, T + 750)),  # centred
    (T + 900, (T + 300, T + 900)),  # centring would end 5 min late: pulled back to the latest pickup
])
def test_promised_window_is_centred_on_the_plan_and_clamped_to_the_bounds(planned, window):
    """A 10-minute window around the planned pickup, shifted to lie inside [earliest, latest] pickup."""
    promise = promise_for(BOUNDS, planned, RULES)
    assert (promise.window_start, promise.window_end) == window
    assert (promise.latest_dropoff, promise.max_ride_s) == (T + 3000, 1500)


def test_promised_window_shrinks_to_narrow_bounds():
    """Bounds only 4 minutes wide (the earliest pickup was clipped to now): the window is those 4 minutes."""
    bounds = TimeBounds(600, T + 660, T + 900, T + 3000, 1500)
    promise = promise_for(bounds, T + 700, RULES)
    assert (promise.window_start, promise.window_end) == (T + 660, T + 900)


@settings(max_examples=300, deadline=None)
@given(max_wait=st.integers(0, 3600), window_share=st.floats(0, 1), earliest=st.integers(0, 86_400),
       span=st.integers(0, 3600), where=st.floats(0, 1))
def test_promised_window_lies_in_the_bounds_and_contains_the_planned_pickup(max_wait, window_share, earliest,
                                                                              span, where):
    """For any rules and bounds and any planned pickup inside them, the window is inside the bounds,
    contains the planned pickup, and is as wide as the rules allow."""
    rules = ServiceRules(max_wait_s=max_wait, pickup_window_s=int(window_share * max_wait))
    bounds = TimeBounds(600, earliest, earliest + span, earliest + span + 2000, 1500)
    planned = earliest + int(where * span)
    promise = promise_for(bounds, planned, rules)
    assert bounds.earliest_pickup <= promise.window_start <= planned
    assert planned <= promise.window_end <= bounds.latest_pickup
    assert promise.window_end - promise.window_start == min(rules.pickup_window_s, span)


def test_rules_serve_door_to_door_with_300_m_unless_told_otherwise():
    """By default riders board where they ask (``door_to_door``) and would walk at most 300 m; a mode given
    as text becomes the enum; an unknown mode or a walk outside 0..2000 m is refused, naming the field."""
    rules = ServiceRules()
    assert (rules.mode, rules.max_walk_m) == (MeetingMode.DOOR_TO_DOOR, 300)
    hybrid = ServiceRules(mode="hybrid", max_walk_m=0)  # type: ignore[arg-type]
    assert hybrid.mode is MeetingMode.HYBRID
    assert ServiceRules(mode=MeetingMode.STOPS_ONLY, max_walk_m=MAX_WALK_LIMIT_M).max_walk_m == 2000
    for kwargs, field in (({"mode": "anywhere"}, "mode"), ({"max_walk_m": -1}, "max_walk_m"),
                          ({"max_walk_m": MAX_WALK_LIMIT_M + 1}, "max_walk_m")):
        with pytest.raises(ValueError, match=field):
            ServiceRules(**kwargs)  # type: ignore[arg-type]
