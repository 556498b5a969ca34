"""The service clock: aware datetimes at the API edge <-> integer seconds inside ``dispatch``.

``dispatch`` counts time in integer seconds on one timeline: real elapsed seconds since :data:`EPOCH`,
the fixed instant 2025-12-31 23:00 UTC. So the difference of two dispatch seconds is always the real time
between them — an offer valid 120 s expires 120 real seconds after it was made, a night shift over a
daylight-saving change lasts its real 9 or 11 hours — and every instant, both passes of a repeated hour
included, has its own seconds and converts back to itself.

Why this epoch and not Unix time: the numbers stay small (readable in logs and tests, far from any
32-bit limit), and in the default zone the epoch is local midnight of 1 January 2026 (Europe/Vaduz is
UTC+1 in winter). It is nevertheless a fixed UTC instant, the same whatever ``RUFBUS_TIMEZONE`` says.

Local time is for display and calendar rules only: ``t % 86400`` is *not* the time of day (it is off by
the zone's offset, which changes twice a year), and a local day lasts 23, 24 or 25 hours. Ask the
clock: :meth:`ServiceClock.to_datetime` gives the aware local datetime, :meth:`ServiceClock.day_start`
the instant a local day starts, :meth:`ServiceClock.at_local` the instant of a wall-clock time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

EPOCH = datetime(2025, 12, 31, 23, 0, tzinfo=UTC)  # second zero of the dispatch timeline
_SECOND = timedelta(seconds=1)


def load_zone(name: str) -> ZoneInfo:
    """The time zone ``name``; a ValueError names it when the tz database does not know it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {name!r}") from error


@dataclass(frozen=True)
class ServiceClock:
    """Converts between aware datetimes and dispatch seconds, and answers local-calendar questions for
    one time zone; ``now`` is injectable."""

    zone: ZoneInfo
    wall_clock: Callable[[], datetime] | None = None  # returns an aware datetime; default: the real time

    @classmethod
    def for_zone(cls, name: str, wall_clock: Callable[[], datetime] | None = None) -> ServiceClock:
        return cls(load_zone(name), wall_clock)

    def to_seconds(self, moment: datetime) -> int:
        """Dispatch seconds of an aware datetime: real seconds since :data:`EPOCH`, floored."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("the service clock only takes timezone-aware datetimes")
        return (moment.astimezone(UTC) - EPOCH) // _SECOND

    def to_datetime(self, seconds: int) -> datetime:
        """The aware local datetime of dispatch second ``seconds`` (with the UTC offset then in force)."""
        return (EPOCH + timedelta(seconds=int(seconds))).astimezone(self.zone)

    def now_datetime(self) -> datetime:
        """The current time, aware, in the service's zone."""
        moment = self.wall_clock() if self.wall_clock is not None else datetime.now(self.zone)
        return moment.astimezone(self.zone)

    def now(self) -> int:
        """The current time in dispatch seconds."""
        return self.to_seconds(self.now_datetime())

    def at_local(self, day: date, clock_time: time) -> int:
        """Dispatch seconds of wall-clock ``clock_time`` on local ``day``. A time in a skipped hour is read
        with the offset before the change (02:30 on a spring-forward night is the instant of 03:30); in a
        repeated hour ``clock_time.fold`` picks the pass (0: the first, 1: the second)."""
        return self.to_seconds(datetime.combine(day, clock_time, tzinfo=self.zone))

    def local_date(self, seconds: int) -> date:
        """The local calendar day dispatch second ``seconds`` falls on."""
        return self.to_datetime(seconds).date()

    def day_start(self, seconds: int) -> int:
        """Dispatch seconds of the first instant of the local day of ``seconds``: its midnight (a day lasts
        23, 24 or 25 hours; where midnight itself is skipped, the day starts when the clocks jump)."""
        return self.at_local(self.local_date(seconds), time())
