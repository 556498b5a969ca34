"""The service calendar: on which local days, and between which local times, riders may travel.

A day's hours come from, in this order: an exception for that date (a public holiday closed, or a day
with special hours), the hours set for its weekday (or the weekday closed), else the standard hours of
the :class:`~dispatch.model.ServiceRules` (``service_start_s`` to ``service_end_s``). Hours are local
times of day in seconds after midnight, ``0 <= start < end <= 24 h``; the service does not run overnight
(a day's last pickup is due by its midnight).

Pure: the calendar reads local datetimes, which a :class:`LocalCalendar` gets from the instant by a
conversion the caller injects (the API's service clock); dispatch seconds are never taken modulo a day
here, for a local day need not last 86,400 s.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType

from dispatch.model import DAY_S, ServiceRules

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class DayHours:
    """A day's service hours: the first and the last pickup time, local seconds after midnight."""

    start_s: int
    end_s: int

    def problem(self) -> str | None:
        """What is wrong with these hours, if anything."""
        if not 0 <= self.start_s < self.end_s <= DAY_S:
            return "hours must satisfy 0 <= start < end <= 24 h (no overnight service)"
        return None

    def __str__(self) -> str:
        return f"{_clock_time(self.start_s)}–{_clock_time(self.end_s)}"


@dataclass(frozen=True)
class CalendarException:
    """One date that differs from its weekday: closed (``hours`` None) or open at special hours."""

    day: date
    hours: DayHours | None = None
    name: str = ""


@dataclass(frozen=True)
class ServiceCalendar:
    """Hours per weekday and exceptions by date. A weekday (0 = Monday) missing from ``weekdays`` has
    the standard hours, one mapped to ``None`` is closed. Validated on construction."""

    weekdays: Mapping[int, DayHours | None] = field(default_factory=dict)
    exceptions: tuple[CalendarException, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "weekdays", MappingProxyType(dict(self.weekdays)))
        object.__setattr__(self, "exceptions", tuple(sorted(self.exceptions, key=lambda e: e.day)))
        problems = []
        for weekday, hours in self.weekdays.items():
            if weekday not in range(7):
                problems.append(f"{weekday}: no such weekday (0 = Monday … 6 = Sunday)")
            elif hours is not None and (problem := hours.problem()):
                problems.append(f"{WEEKDAYS[weekday]}: {problem}")
        seen: set[date] = set()
        for exception in self.exceptions:
            if exception.day in seen:
                problems.append(f"{exception.day.isoformat()}: more than one exception on that date")
            seen.add(exception.day)
            if exception.hours is not None and (problem := exception.hours.problem()):
                problems.append(f"{exception.day.isoformat()}: {problem}")
        if problems:
            raise ValueError("invalid service calendar: " + "; ".join(problems))

    def exception_on(self, day: date) -> CalendarException | None:
        """The exception for ``day``, if there is one."""
        return next((e for e in self.exceptions if e.day == day), None)

    def hours_on(self, day: date, standard: DayHours) -> DayHours | None:
        """The service hours of the local date ``day`` (``None``: closed)."""
        exception = self.exception_on(day)
        if exception is not None:
            return exception.hours
        return self.weekdays.get(day.weekday(), standard)

    def refusal(self, local: datetime, standard: DayHours) -> str | None:
        """Why no trip may be asked for at the local time ``local``, or ``None`` when the service runs."""
        day = local.date()
        hours = self.hours_on(day, standard)
        exception = self.exception_on(day)
        named = f" ({exception.name})" if exception is not None and exception.name else ""
        if hours is None:
            when = f"{WEEKDAYS[day.weekday()].capitalize()} {day.isoformat()}{named}"
            return f"the service is closed on {when}"
        seconds = local.hour * 3600 + local.minute * 60 + local.second
        if not hours.start_s <= seconds <= hours.end_s:
            return f"the service runs {hours} on {day.isoformat()}{named}"
        return None


@dataclass(frozen=True)
class LocalCalendar:
    """A service calendar with the conversion from dispatch seconds to the local datetime it reads."""

    calendar: ServiceCalendar
    to_local: Callable[[int], datetime]

    def refusal(self, seconds: int, rules: ServiceRules) -> str | None:
        """Why no trip may be asked for at dispatch second ``seconds`` under ``rules``' standard hours."""
        return self.calendar.refusal(self.to_local(seconds), standard_hours(rules))


def standard_hours(rules: ServiceRules) -> DayHours:
    """The standard hours of ``rules``: those of every day the calendar says nothing else about."""
    return DayHours(rules.service_start_s, rules.service_end_s)


def _clock_time(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
