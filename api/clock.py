"""The service clock: aware datetimes at the API edge <-> integer seconds inside ``dispatch``.

``dispatch`` counts time in integer seconds whose zero is a local midnight, so that ``t % 86400`` is
the time of day. Here that zero is midnight at the start of :data:`EPOCH_DATE` in the service's time
zone (``RUFBUS_TIMEZONE``, default Europe/Vaduz), and seconds count *local wall-clock* time: 08:00
local is always ``k · 86400 + 28800``, in winter and in summer. The price is paid at the two
daylight-saving changes a year, both at night outside service hours: the skipped hour has no
datetime, and the repeated hour maps to one range of seconds (its first pass).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dispatch.model import DAY_S

EPOCH_DATE = date(2026, 1, 1)
_NAIVE_EPOCH = datetime.combine(EPOCH_DATE, time())  # local midnight, wall-clock (see the module's text)


def load_zone(name: str) -> ZoneInfo:
    """The time zone ``name``; a ValueError names it when the tz database does not know it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {name!r}") from error


@dataclass(frozen=True)
class ServiceClock:
    """Converts between aware datetimes and dispatch seconds for one time zone; ``now`` is injectable."""

    zone: ZoneInfo
    wall_clock: Callable[[], datetime] | None = None  # returns an aware datetime; default: the real time

    @classmethod
    def for_zone(cls, name: str, wall_clock: Callable[[], datetime] | None = None) -> ServiceClock:
        return cls(load_zone(name), wall_clock)

    @property
    def epoch(self) -> datetime:
        """Second zero: local midnight at the start of :data:`EPOCH_DATE`."""
        return _NAIVE_EPOCH.replace(tzinfo=self.zone)

    def to_seconds(self, moment: datetime) -> int:
        """Dispatch seconds of an aware datetime (local wall-clock seconds since the epoch, floored)."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("the service clock only takes timezone-aware datetimes")
        local = moment.astimezone(self.zone).replace(tzinfo=None)
        return (local - _NAIVE_EPOCH) // timedelta(seconds=1)

    def to_datetime(self, seconds: int) -> datetime:
        """The aware local datetime of dispatch second ``seconds``."""
        return (_NAIVE_EPOCH + timedelta(seconds=int(seconds))).replace(tzinfo=self.zone)

    def now_datetime(self) -> datetime:
        """The current time, aware, in the service's zone."""
        moment = self.wall_clock() if self.wall_clock is not None else datetime.now(self.zone)
        return moment.astimezone(self.zone)

    def now(self) -> int:
        """The current time in dispatch seconds."""
        return self.to_seconds(self.now_datetime())

    def day_start(self, seconds: int) -> int:
        """Dispatch seconds of the local midnight that starts the day of ``seconds``."""
        return seconds - seconds % DAY_S
