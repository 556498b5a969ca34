"""loadtests.service.clock_offset_for: a run at night starts the service's clock at 08:00 local, in real
seconds also on the nights the clocks change."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from loadtests.service import clock_offset_for

VADUZ = ZoneInfo("Europe/Vaduz")


@pytest.mark.parametrize(("started", "hours"), [
    (datetime(2026, 11, 23, 1, 0, tzinfo=UTC), 6),  # 02:00 +01:00: an ordinary night
    (datetime(2026, 3, 29, 1, 0, tzinfo=VADUZ), 6),  # 01:00 +01:00, then the clocks skip 02:00–03:00
    (datetime(2026, 10, 25, 1, 0, tzinfo=VADUZ), 8),  # 01:00 +02:00, then 02:00–03:00 comes twice
], ids=["november", "spring", "autumn"])
def test_a_run_at_night_is_shifted_to_eight_local_by_real_seconds(started: datetime, hours: int) -> None:
    """The offset is the real time from the start to 08:00 local of that day: 6 h from 02:00 and from
    01:00 on the spring night, 8 h from 01:00 on the autumn night; shifted, the clock shows 08:00."""
    offset = clock_offset_for(started)
    assert offset == hours * 3600
    shifted = datetime.fromtimestamp(started.timestamp() + offset, VADUZ)
    assert (shifted.hour, shifted.minute) == (8, 0)


def test_a_run_in_the_service_day_is_not_shifted() -> None:
    """Between 06:00 and 19:00 local the clock stays as it is."""
    assert clock_offset_for(datetime(2026, 10, 25, 10, 0, tzinfo=VADUZ)) == 0
