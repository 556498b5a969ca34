"""The service clock: aware datetimes <-> dispatch seconds on one timeline of real seconds, local days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.clock import EPOCH, ServiceClock
from api.settings import Settings

VADUZ = ZoneInfo("Europe/Vaduz")
CLOCK = ServiceClock(VADUZ)
SPRING, AUTUMN = date(2026, 3, 29), date(2026, 10, 25)  # the daylight-saving changes of 2026


def test_second_zero_is_a_fixed_instant_whatever_the_zone() -> None:
    """Second zero is 2025-12-31 23:00 UTC (Vaduz's new-year midnight) in every zone: the same instant
    has the same seconds in Vaduz and in New York."""
    assert CLOCK.to_seconds(datetime(2025, 12, 31, 23, 0, tzinfo=UTC)) == 0
    assert CLOCK.to_datetime(0) == datetime(2026, 1, 1, tzinfo=VADUZ)
    new_york = ServiceClock(ZoneInfo("America/New_York"))
    moment = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert new_york.to_seconds(moment) == CLOCK.to_seconds(moment) == (moment - EPOCH).total_seconds()


def test_seconds_are_real_seconds_across_both_changes() -> None:
    """Between 00:00 and 06:00 local there are 5 real hours on 29 March and 7 on 25 October."""
    for day, hours in ((SPRING, 5), (AUTUMN, 7)):
        midnight, six = CLOCK.at_local(day, time(0)), CLOCK.at_local(day, time(6))
        assert six - midnight == hours * 3600


def test_both_passes_of_the_repeated_hour_have_their_own_seconds() -> None:
    """02:30 on 25 October happens twice, an hour apart (+02:00, then +01:00); each pass converts to its
    own seconds and back to itself, with its offset."""
    first = datetime(2026, 10, 25, 2, 30, tzinfo=VADUZ)
    second = first.replace(fold=1)
    assert CLOCK.to_seconds(second) - CLOCK.to_seconds(first) == 3600
    for moment, shown in ((first, "2026-10-25T02:30:00+02:00"), (second, "2026-10-25T02:30:00+01:00")):
        back = CLOCK.to_datetime(CLOCK.to_seconds(moment))
        assert back.isoformat() == shown and back.fold == moment.fold


@given(st.integers(min_value=-400 * 86_400, max_value=800 * 86_400))
def test_every_second_round_trips(seconds: int) -> None:
    """Any dispatch second becomes an aware local datetime and converts back to itself (both passes of
    repeated hours included); the datetime is in the service's zone."""
    moment = CLOCK.to_datetime(seconds)
    assert moment.tzinfo == VADUZ and CLOCK.to_seconds(moment) == seconds


def test_the_skipped_hour_reads_with_the_offset_before_the_change() -> None:
    """02:30 on 29 March does not exist on the wall: read with +01:00 it is the instant of 03:30 +02:00."""
    read = CLOCK.to_datetime(CLOCK.at_local(SPRING, time(2, 30)))
    assert read == datetime(2026, 3, 29, 3, 30, tzinfo=VADUZ)


@pytest.mark.parametrize(("day", "hours"), [(SPRING, 23), (AUTUMN, 25), (date(2026, 11, 23), 24)])
def test_a_local_day_starts_at_its_midnight_and_lasts_23_24_or_25_hours(day: date, hours: int) -> None:
    """``day_start`` of any second of a day is its local midnight, and the next day starts 23, 24 or 25
    hours later."""
    noon = CLOCK.at_local(day, time(12))
    start = CLOCK.day_start(noon)
    assert CLOCK.to_datetime(start) == datetime.combine(day, time(), tzinfo=VADUZ)
    assert CLOCK.day_start(start) == start == CLOCK.day_start(start + hours * 3600 - 1)
    assert CLOCK.day_start(start + hours * 3600) == start + hours * 3600 == \
        CLOCK.at_local(day + timedelta(days=1), time())


def test_naive_datetimes_are_refused() -> None:
    """A datetime without a zone has no place on the clock."""
    with pytest.raises(ValueError, match="timezone-aware"):
        CLOCK.to_seconds(datetime(2026, 3, 1, 9, 0))


def test_now_comes_from_the_injected_wall_clock() -> None:
    """An injected wall clock fixes ``now``: 2 January 00:00:30 local is one day and 30 s after zero."""
    clock = ServiceClock(VADUZ, wall_clock=lambda: datetime(2026, 1, 2, 0, 0, 30, tzinfo=VADUZ))
    assert clock.now() == 86_430
    assert clock.now_datetime().tzinfo == VADUZ


def test_the_timezone_setting_must_name_a_known_zone(monkeypatch) -> None:
    """RUFBUS_TIMEZONE defaults to Europe/Vaduz and an unknown zone is refused."""
    monkeypatch.delenv("RUFBUS_TIMEZONE", raising=False)
    assert Settings().timezone == "Europe/Vaduz"
    with pytest.raises(ValueError, match="unknown time zone"):
        Settings(timezone="Mars/Olympus_Mons")
