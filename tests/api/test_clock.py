"""The service clock: aware datetimes <-> dispatch seconds on local wall-clock time."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from api.clock import ServiceClock
from api.settings import Settings

VADUZ = ZoneInfo("Europe/Vaduz")


def test_the_epoch_is_local_midnight_of_new_year_2026() -> None:
    """Second zero is 2026-01-01 00:00 in Vaduz (23:00 UTC the day before)."""
    clock = ServiceClock(VADUZ)
    assert clock.to_seconds(datetime(2025, 12, 31, 23, 0, tzinfo=UTC)) == 0
    assert clock.to_datetime(0) == datetime(2026, 1, 1, tzinfo=VADUZ)


def test_time_of_day_is_local_in_winter_and_in_summer() -> None:
    """08:00 local is 8 h into its day in January (UTC+1) and in July (UTC+2), and converts back."""
    clock = ServiceClock(VADUZ)
    for moment in (datetime(2026, 1, 15, 7, 0, tzinfo=UTC), datetime(2026, 7, 15, 6, 0, tzinfo=UTC)):
        seconds = clock.to_seconds(moment)
        assert seconds % 86_400 == 8 * 3600
        assert clock.to_datetime(seconds) == moment


def test_naive_datetimes_are_refused() -> None:
    """A datetime without a zone has no place on the clock."""
    with pytest.raises(ValueError, match="timezone-aware"):
        ServiceClock(VADUZ).to_seconds(datetime(2026, 3, 1, 9, 0))


def test_now_comes_from_the_injected_wall_clock() -> None:
    """An injected wall clock fixes ``now``."""
    clock = ServiceClock(VADUZ, wall_clock=lambda: datetime(2026, 1, 2, 0, 0, 30, tzinfo=VADUZ))
    assert clock.now() == 86_430


def test_the_timezone_setting_must_name_a_known_zone(monkeypatch) -> None:
    """RUFBUS_TIMEZONE defaults to Europe/Vaduz and an unknown zone is refused."""
    monkeypatch.delenv("RUFBUS_TIMEZONE", raising=False)
    assert Settings().timezone == "Europe/Vaduz"
    with pytest.raises(ValueError, match="unknown time zone"):
        Settings(timezone="Mars/Olympus_Mons")
