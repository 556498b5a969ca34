"""api.feeds.gtfs_flex: the GTFS feed with Flex built from plain values — service patterns from the
calendar, the booking rule from the notice and horizon, a deterministic zip that the spec's rules and the
canonical validator accept."""

from __future__ import annotations

import dataclasses
import zipfile
from datetime import date
from itertools import pairwise

import pytest

from api.feeds.gtfs_flex import (
    AREA_ID,
    Agency,
    Booking,
    FlexService,
    FlexStop,
    booking_rule,
    feed_files,
    feed_zip,
    pattern_id,
    service_patterns,
)
from dispatch.calendar import CalendarException, DayHours, ServiceCalendar
from dispatch.model import DAY_S
from tests.api.feeds.spec import check_booking_rule, check_flex_feed, gtfs_seconds

H = 3600
STANDARD = DayHours(5 * H, 23 * H)
FIRST, LAST = date(2026, 11, 23), date(2027, 11, 22)  # a Monday, a year
CHRISTMAS_EVE, CHRISTMAS = date(2026, 12, 24), date(2026, 12, 25)  # a Thursday, a Friday
CALENDAR = ServiceCalendar(
    {5: DayHours(8 * H, 18 * H), 6: None},  # Saturdays 08–18, Sundays closed
    (CalendarException(CHRISTMAS_EVE, DayHours(6 * H, 14 * H), "Heiligabend"),
     CalendarException(CHRISTMAS, None, "Weihnachten"),
     CalendarException(date(2026, 12, 27), None, "a Sunday: closed anyway"),
     CalendarException(date(2028, 1, 1), None, "after the feed period")))
AREA = {"type": "Polygon",  # clockwise on purpose: the feed turns it counterclockwise (RFC 7946)
        "coordinates": [[[9.50, 47.10], [9.50, 47.20], [9.56, 47.20], [9.56, 47.10], [9.50, 47.10]]]}
SERVICE = FlexService(
    agency=Agency("Rufbus Vaduz", "https://rufbus.li", "Europe/Vaduz", "de", "+423 123 45 67"),
    route_name="Rufbus", area=AREA, area_name="Vaduz", calendar=CALENDAR, standard=STANDARD,
    stops=(FlexStop("osm-1", "Vaduz, Post", 47.14, 9.52), FlexStop("osm-2", "Schaan", 47.165, 9.509)),
    booking=Booking(30 * 60, 7 * DAY_S, "https://rufbus.li/app", "https://rufbus.li",
                    "+423 123 45 67"),
    first_day=FIRST, last_day=LAST)


def test_weekdays_with_the_same_hours_share_a_pattern_and_exceptions_are_dated():
    """Monday–Friday (standard hours) are one pattern, Saturday another, Sunday none; Christmas Eve
    leaves the weekday pattern for its own hours, Christmas only leaves it, a closed Sunday and a date
    after the period change nothing."""
    patterns = service_patterns(CALENDAR, STANDARD, FIRST, LAST)
    weekdays, saturdays, eve = "hours-0500-2300", "hours-0800-1800", "hours-0600-1400"
    assert patterns.weekdays == {weekdays: frozenset(range(5)), saturdays: frozenset({5})}
    assert patterns.hours == {weekdays: STANDARD, saturdays: DayHours(8 * H, 18 * H),
                              eve: DayHours(6 * H, 14 * H)}
    assert patterns.dates == [(CHRISTMAS_EVE, weekdays, 2), (CHRISTMAS_EVE, eve, 1), (CHRISTMAS, weekdays, 2)]


def test_pattern_ids_keep_seconds_apart():
    """Hours that differ only in seconds get different service ids."""
    assert pattern_id(DayHours(5 * H, 23 * H)) != pattern_id(DayHours(5 * H + 30, 23 * H))


def test_less_than_a_day_of_notice_is_a_same_day_booking_in_minutes():
    """30 minutes' notice and a week's horizon: booking type 1, 30 to 10,080 minutes before travel."""
    rule = booking_rule(SERVICE.booking, [STANDARD])
    assert rule["booking_type"] == "1"
    assert (rule["prior_notice_duration_min"], rule["prior_notice_duration_max"]) == ("30", "10080")
    assert rule["phone_number"] == "+423 123 45 67" and rule["booking_url"] == "https://rufbus.li/app"
    check_booking_rule(rule)


def test_notice_in_seconds_rounds_up_to_whole_minutes():
    """A notice of 61 s is 2 minutes: the feed never promises a booking the service refuses."""
    rule = booking_rule(dataclasses.replace(SERVICE.booking, notice_s=61), [STANDARD])
    assert rule["prior_notice_duration_min"] == "2"


def test_a_day_of_notice_is_a_prior_day_booking_that_every_trip_of_the_day_honours():
    """24 h notice with hours from 05:00: book by 05:00 the day before (the earliest trip's deadline);
    a 7-day horizon with hours to 23:00 opens bookings 7 days before at 23:00 (the latest trip's)."""
    booking = dataclasses.replace(SERVICE.booking, notice_s=DAY_S)
    rule = booking_rule(booking, [STANDARD, DayHours(8 * H, 18 * H)])
    assert rule["booking_type"] == "2"
    assert (rule["prior_notice_last_day"], rule["prior_notice_last_time"]) == ("1", "05:00:00")
    assert (rule["prior_notice_start_day"], rule["prior_notice_start_time"]) == ("7", "23:00:00")
    check_booking_rule(rule)


def test_a_prior_day_rule_leaves_out_a_start_that_would_close_the_booking_window():
    """A horizon barely beyond the notice: stating its conservative start would leave no time to book,
    so the rule states only the deadline."""
    booking = dataclasses.replace(SERVICE.booking, notice_s=DAY_S, horizon_s=DAY_S + H)
    rule = booking_rule(booking, [STANDARD])
    assert "prior_notice_start_day" not in rule and "prior_notice_start_time" not in rule
    check_booking_rule(rule)


def test_zone_trips_pick_up_and_drop_off_within_the_pattern_hours():
    """Each pattern has an area trip and a named-stops trip, two stop times each: picked up by booking
    (pickup_type 2) then dropped off by booking (drop_off_type 2), in the pattern's window."""
    files = feed_files(SERVICE)
    lines = files["stop_times.txt"].decode().splitlines()
    header = lines[0].split(",")
    rows = [dict(zip(header, line.split(","))) for line in lines[1:]]
    eve = [row for row in rows if row["trip_id"] == "hours-0600-1400-area"]
    assert [(r["location_id"], r["pickup_type"], r["drop_off_type"]) for r in eve] == [
        (AREA_ID, "2", "1"), (AREA_ID, "1", "2")]
    assert {(gtfs_seconds(r["start_pickup_drop_off_window"]), gtfs_seconds(r["end_pickup_drop_off_window"]))
            for r in eve} == {(6 * H, 14 * H)}
    assert len(rows) == 3 * 2 * 2


def test_the_feed_meets_the_flex_rules_and_the_canonical_validator(tmp_path):
    """The whole feed passes every rule of the spec checked here and the validator's, on its first day."""
    feed = check_flex_feed(feed_zip(SERVICE), tmp_path, on=FIRST)
    assert set(feed.zones) == {AREA_ID}
    ring = feed.zones[AREA_ID]["geometry"]["coordinates"][0]
    assert sum((x2 - x1) * (y2 + y1) for (x1, y1), (x2, y2) in pairwise(ring)) < 0  # counterclockwise
    assert sorted(feed.kit.get_active_services(CHRISTMAS_EVE.strftime("%Y%m%d"))) == ["hours-0600-1400"]
    assert feed.kit.get_active_services(CHRISTMAS.strftime("%Y%m%d")) == []
    assert feed.kit.get_active_services("20261129") == []  # a Sunday
    assert feed.kit.get_active_services("20261128") == ["hours-0800-1800"]  # a Saturday


def test_a_service_without_named_stops_publishes_no_stop_files(tmp_path):
    """No named stops: no stops.txt and no location group; the area trips stand alone and pass."""
    service = dataclasses.replace(SERVICE, stops=())
    files = feed_files(service)
    assert not {"stops.txt", "location_groups.txt", "location_group_stops.txt"} & set(files)
    check_flex_feed(feed_zip(service), tmp_path, on=FIRST)


def test_the_same_service_gives_the_same_bytes():
    """The zip is deterministic (entries, order and timestamps): a feed unchanged is byte-identical."""
    assert feed_zip(SERVICE) == feed_zip(dataclasses.replace(SERVICE))
    assert feed_zip(SERVICE) != feed_zip(dataclasses.replace(SERVICE, route_name="Other"))


def test_a_period_that_ends_before_it_starts_is_refused():
    """The feed period is checked on construction."""
    with pytest.raises(ValueError, match="ends before it starts"):
        dataclasses.replace(SERVICE, last_day=date(2026, 1, 1))


def test_the_checks_catch_a_flex_stop_time_without_booking(tmp_path):
    """The spec checks can fail: a stop time with regular pickup (pickup_type 0, forbidden with a
    window) is caught."""
    files = feed_files(SERVICE)
    files["stop_times.txt"] = files["stop_times.txt"].replace(b",2,1,booking,", b",0,1,booking,", 1)
    archive = tmp_path / "broken.zip"
    with zipfile.ZipFile(archive, "w") as broken:
        for name, content in files.items():
            broken.writestr(name, content)
    with pytest.raises(AssertionError):
        check_flex_feed(archive.read_bytes(), tmp_path, on=FIRST)
