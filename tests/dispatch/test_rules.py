"""Tests for dispatch.rules: the rule checks that need no route, as pure functions. Line world: loc k at
k km, 60 km/h; default rules (service 05:00–23:00, 7-day horizon, no minimum notice)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from dispatch.calendar import LocalCalendar, ServiceCalendar
from dispatch.model import Promise, Rejection, RejectionCause, ServiceRules, StopKind, TimeBounds, Vehicle
from dispatch.rules import check_request, keep_promise, request_stops
from dispatch.travel import LegTimes
from tests.dispatch.scenarios import leave_after, line_travel

T0 = 8 * 3600
LEGS = LegTimes(line_travel(range(11)))
FLEET = [Vehicle("v1", 4, 1, 0, 0, 86_400)]


def test_a_request_within_the_rules_gets_its_bounds():
    """0→5 from 08:00: picked up 08:00–08:15, direct 5 min, max ride min(1.5·300 + 600, 300 + 1800) = 1050 s,
    latest drop-off 08:15 + 45 s + 1050 s."""
    bounds = check_request(leave_after("A", 0, 5, T0), T0, ServiceRules(), FLEET, LEGS)
    assert bounds == TimeBounds(300, T0, T0 + 900, T0 + 900 + 45 + 1050, 1050)


def test_the_earliest_pickup_is_never_before_now():
    """Asked at 08:05 for 08:00 (still inside the wait): the earliest pickup becomes 08:05."""
    bounds = check_request(leave_after("A", 0, 5, T0), T0 + 300, ServiceRules(), FLEET, LEGS)
    assert isinstance(bounds, TimeBounds) and bounds.earliest_pickup == T0 + 300


@pytest.mark.parametrize(("request_", "now", "rules", "cause"), [
    (leave_after("A", 3, 3, T0), T0, ServiceRules(), RejectionCause.SAME_ORIGIN_DESTINATION),
    (leave_after("A", 0, 5, T0, seats=5), T0, ServiceRules(), RejectionCause.CAPACITY),
    (leave_after("A", 0, 5, T0, seats=0, wheelchairs=2), T0, ServiceRules(), RejectionCause.CAPACITY),
    (leave_after("A", 0, 5, T0), T0 + 901, ServiceRules(), RejectionCause.TIME_IN_PAST),
    (leave_after("A", 0, 5, T0 + 8 * 86_400), T0, ServiceRules(), RejectionCause.BEYOND_HORIZON),
    (leave_after("A", 0, 5, T0), T0, ServiceRules(min_notice_s=3600), RejectionCause.TOO_SHORT_NOTICE),
    (leave_after("A", 0, 5, 4 * 3600), 3 * 3600, ServiceRules(), RejectionCause.OUTSIDE_HOURS),
])
def test_each_broken_rule_is_a_rejection_with_its_cause(request_, now, rules, cause):
    """Same place, too big for any bus, past, beyond the horizon, too short notice, outside the hours."""
    answer = check_request(request_, now, rules, FLEET, LEGS)
    assert isinstance(answer, Rejection) and answer.cause is cause and answer.request_id == "A"


def test_a_calendar_decides_the_hours_and_the_refusal_names_why():
    """With a calendar (its seconds read as local time from Monday 23 November 2026 00:00, Sundays
    closed), 08:00 on day 0 is served, 08:00 on day 6 (a Sunday) is refused ``outside_hours`` naming the
    closed day, 04:00 on day 1 naming that day's hours; the rules' synthetic-day check is not used."""
    calendar = LocalCalendar(ServiceCalendar({6: None}),
                             lambda t: datetime(2026, 11, 23) + timedelta(seconds=t))
    assert isinstance(check_request(leave_after("A", 0, 5, T0), T0, ServiceRules(), FLEET, LEGS, calendar),
                      TimeBounds)
    sunday = check_request(leave_after("A", 0, 5, T0 + 6 * 86_400), T0, ServiceRules(), FLEET, LEGS,
                           calendar)
    assert isinstance(sunday, Rejection) and sunday.cause is RejectionCause.OUTSIDE_HOURS
    assert sunday.message == "the service is closed on Sunday 2026-11-29"
    night = check_request(leave_after("A", 0, 5, 86_400 + 4 * 3600), T0, ServiceRules(), FLEET, LEGS,
                          calendar)
    assert isinstance(night, Rejection) and night.message == "the service runs 05:00–23:00 on 2026-11-24"


def test_area_and_road_refusals_have_causes_of_their_own():
    """outside_area and off_road are rejection causes like every other refusal."""
    assert RejectionCause("outside_area") is RejectionCause.OUTSIDE_AREA
    assert RejectionCause("off_road") is RejectionCause.OFF_ROAD


def test_request_stops_carry_the_window_the_dwell_and_the_ride_limit():
    """The pickup opens at the window, the drop-off is due by the latest drop-off within the longest ride."""
    request = leave_after("A", 0, 5, T0, seats=2)
    bounds = check_request(request, T0, ServiceRules(), FLEET, LEGS)
    assert isinstance(bounds, TimeBounds)
    pickup, dropoff = request_stops(request, bounds, (T0 + 60, T0 + 660), ServiceRules())
    assert (pickup.kind, pickup.location, pickup.earliest, pickup.latest, pickup.service_s, pickup.seats) == (
        StopKind.PICKUP, 0, T0 + 60, T0 + 660, 60, 2)
    assert (dropoff.kind, dropoff.latest, dropoff.max_ride_s) == (StopKind.DROPOFF, bounds.latest_dropoff,
                                                                  bounds.max_ride_s)


def test_keep_promise_narrows_only_that_riders_pickup():
    """The pickup's window shrinks to the promise; the drop-off and other riders' stops stay."""
    request = leave_after("A", 0, 5, T0)
    bounds = check_request(request, T0, ServiceRules(), FLEET, LEGS)
    assert isinstance(bounds, TimeBounds)
    stops = request_stops(request, bounds, (T0, T0 + 900), ServiceRules())
    pickup, dropoff = keep_promise(stops, "A", Promise(T0 + 100, T0 + 700, bounds.latest_dropoff, 1050))
    assert (pickup.earliest, pickup.latest) == (T0 + 100, T0 + 700) and dropoff == stops[1]
