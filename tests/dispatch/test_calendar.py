"""Tests for dispatch.calendar: which local days and times the service runs, as pure values. Standard
hours 05:00–23:00; 23 November 2026 is a Monday."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dispatch.calendar import CalendarException, DayHours, LocalCalendar, ServiceCalendar
from dispatch.model import ServiceRules

STANDARD = DayHours(5 * 3600, 23 * 3600)
MONDAY = date(2026, 11, 23)
SUNDAY = MONDAY + timedelta(days=6)
CHRISTMAS = date(2026, 12, 25)  # a Friday
CALENDAR = ServiceCalendar(
    {5: DayHours(8 * 3600, 18 * 3600), 6: None},  # Saturdays 08–18, Sundays closed
    (CalendarException(CHRISTMAS, None, "Christmas Day"),
     CalendarException(date(2026, 12, 24), DayHours(6 * 3600, 14 * 3600), "Christmas Eve")))


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute)


def test_a_day_has_its_exception_else_its_weekday_else_the_standard_hours():
    """Christmas Day is closed, Christmas Eve (a Thursday) 06–14, Saturdays 08–18, Sundays closed, a
    Monday the standard hours."""
    assert CALENDAR.hours_on(CHRISTMAS, STANDARD) is None
    assert CALENDAR.hours_on(date(2026, 12, 24), STANDARD) == DayHours(6 * 3600, 14 * 3600)
    assert CALENDAR.hours_on(MONDAY + timedelta(days=5), STANDARD) == DayHours(8 * 3600, 18 * 3600)
    assert CALENDAR.hours_on(SUNDAY, STANDARD) is None
    assert CALENDAR.hours_on(MONDAY, STANDARD) == STANDARD


@pytest.mark.parametrize(("moment", "refusal"), [
    (at(MONDAY, 5), None),
    (at(MONDAY, 23), None),  # the last pickup time is still open
    (at(MONDAY, 4, 59), "the service runs 05:00–23:00 on 2026-11-23"),
    (at(MONDAY, 23, 1), "the service runs 05:00–23:00 on 2026-11-23"),
    (at(SUNDAY, 12), "the service is closed on Sunday 2026-11-29"),
    (at(CHRISTMAS, 12), "the service is closed on Friday 2026-12-25 (Christmas Day)"),
    (at(date(2026, 12, 24), 15), "the service runs 06:00–14:00 on 2026-12-24 (Christmas Eve)"),
])
def test_a_refusal_names_the_closed_day_or_the_hours_of_that_day(moment, refusal):
    """Within the hours nothing is refused; otherwise the message names the closed day (and holiday) or
    the day's hours."""
    assert CALENDAR.refusal(moment, STANDARD) == refusal


@pytest.mark.parametrize(("weekdays", "exceptions", "problem"), [
    ({0: DayHours(10 * 3600, 9 * 3600)}, (), "monday: hours must satisfy"),
    ({2: DayHours(0, 86_401)}, (), "wednesday: hours must satisfy"),
    ({7: None}, (), "no such weekday"),
    ({}, (CalendarException(CHRISTMAS), CalendarException(CHRISTMAS, DayHours(0, 3600))),
     "2026-12-25: more than one exception"),
    ({}, (CalendarException(CHRISTMAS, DayHours(3600, 3600)),), "2026-12-25: hours must satisfy"),
])
def test_an_invalid_calendar_is_refused_naming_the_problem(weekdays, exceptions, problem):
    """Reversed or empty hours, hours past midnight (no overnight service), no such weekday, two exceptions
    on one date: a ValueError naming the day."""
    with pytest.raises(ValueError, match=problem):
        ServiceCalendar(weekdays, exceptions)


def test_a_local_calendar_reads_local_time_across_a_daylight_saving_change():
    """Dispatch seconds counted as real elapsed seconds from Saturday 28 March 2026 00:00 in Vaduz: 26 h
    later is Sunday 29 March 03:00 local (the night lost an hour), inside standard hours 05–23 only from
    28 h; a calendar closed on Sundays refuses both, one open Sundays 03–04 takes the first."""
    zone = ZoneInfo("Europe/Vaduz")
    start = datetime(2026, 3, 28, tzinfo=zone)

    def to_local(seconds: int) -> datetime:
        return (start.astimezone(ZoneInfo("UTC")) + timedelta(seconds=seconds)).astimezone(zone)

    rules = ServiceRules()
    assert LocalCalendar(ServiceCalendar(), to_local).refusal(26 * 3600, rules) == \
        "the service runs 05:00–23:00 on 2026-03-29"
    assert LocalCalendar(ServiceCalendar({6: None}), to_local).refusal(28 * 3600, rules) == \
        "the service is closed on Sunday 2026-03-29"
    assert LocalCalendar(ServiceCalendar({6: DayHours(3 * 3600, 4 * 3600)}), to_local).refusal(
        26 * 3600, rules) is None
