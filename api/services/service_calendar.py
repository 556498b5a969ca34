"""The service calendar as operators keep it: hours per weekday, closed days and exceptions by date
(public holidays), on top of the standard hours of the rules (:mod:`dispatch.calendar`).

The calendar in force is the dispatcher's (:attr:`dispatch.dispatcher.Dispatcher.calendar`), read from
the database at start (:func:`stored_calendar`) and replaced by every change: one
:func:`~api.services.live_plan.plan_change` that writes the whole calendar with a
``service_calendar_changed`` event and puts it in force for new quotes at once (bookings already made
stay). A quote for a closed day or outside that day's hours is refused ``outside_hours`` (409), the
message naming why. Invalid calendars are 422 ``invalid_calendar`` with every problem in ``detail``:
hours outside one day or reversed, two exceptions on one date, a date outside :data:`PAST_DAYS` back to
:data:`FUTURE_DAYS` ahead.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session

from api.clock import ServiceClock
from api.db.models import Event, ServiceException, ServiceWeekday, User
from api.db.repository import save_calendar, service_calendar
from api.errors import InvalidRequest, NotFound
from api.schemas import CalendarExceptionBody, DayHoursBody, ServiceCalendarBody, ServiceCalendarPublic
from api.services.live_plan import LiveDispatch, actor, plan_change
from dispatch.calendar import (
    WEEKDAYS,
    CalendarException,
    DayHours,
    LocalCalendar,
    ServiceCalendar,
)
from dispatch.events import EventKind

PAST_DAYS, FUTURE_DAYS = 366, 5 * 366  # how far back and ahead of today an exception may lie
_PREFIX = "invalid service calendar: "


def stored_calendar(session: Session, clock: ServiceClock) -> LocalCalendar:
    """The calendar stored (empty: every day has the standard hours), reading the service's local time."""
    weekdays, exceptions = service_calendar(session)
    calendar = ServiceCalendar(
        {row.weekday: _hours(row.start_s, row.end_s) for row in weekdays},
        tuple(CalendarException(row.day, _hours(row.start_s, row.end_s), row.name) for row in exceptions))
    return LocalCalendar(calendar, clock.to_datetime)


def calendar_in_force(live: LiveDispatch) -> ServiceCalendarPublic:
    """The calendar in force and the standard hours."""
    with live.lock:
        calendar, rules = _in_force(live), live.dispatcher.rules
    return ServiceCalendarPublic(
        standard=DayHoursBody(start_s=rules.service_start_s, end_s=rules.service_end_s),
        weekdays={WEEKDAYS[d]: _body(h) for d, h in sorted(calendar.weekdays.items())},
        exceptions=[CalendarExceptionBody(day=e.day, name=e.name, hours=_body(e.hours))
                    for e in calendar.exceptions])


def change_calendar(live: LiveDispatch, session: Session, *, user: User, body: ServiceCalendarBody
                    ) -> ServiceCalendarPublic:
    """Validate ``body`` and put it in force as the whole calendar (422 ``invalid_calendar``)."""
    calendar = _validated(live, body)
    _put_in_force(live, session, user, calendar, {"weekdays": len(calendar.weekdays),
                                                   "exceptions": len(calendar.exceptions)})
    return calendar_in_force(live)


def add_exception(live: LiveDispatch, session: Session, *, user: User, body: CalendarExceptionBody
                  ) -> ServiceCalendarPublic:
    """Add one exception (422 ``invalid_calendar`` when that date has one already)."""
    with live.lock:
        calendar = _in_force(live)
    changed = ServiceCalendarBody(
        weekdays={WEEKDAYS[d]: _body(h) for d, h in calendar.weekdays.items()},
        exceptions=[*(CalendarExceptionBody(day=e.day, name=e.name, hours=_body(e.hours))
                      for e in calendar.exceptions), body])
    new = _validated(live, changed)
    _put_in_force(live, session, user, new, {"added": body.day.isoformat()})
    return calendar_in_force(live)


def remove_exception(live: LiveDispatch, session: Session, *, user: User, day: date) -> None:
    """Remove the exception of ``day`` (404 ``unknown_exception``)."""
    with live.lock:
        calendar = _in_force(live)
    if calendar.exception_on(day) is None:
        raise NotFound("unknown_exception", f"no calendar exception on {day.isoformat()}")
    new = ServiceCalendar(calendar.weekdays, tuple(e for e in calendar.exceptions if e.day != day))
    _put_in_force(live, session, user, new, {"removed": day.isoformat()})


# ----- helpers ---------------------------------------------------------------------------------------

def _in_force(live: LiveDispatch) -> ServiceCalendar:
    """The dispatcher's calendar (an empty one if it has none); call under the lock."""
    local = live.dispatcher.calendar
    return local.calendar if local is not None else ServiceCalendar()


def _validated(live: LiveDispatch, body: ServiceCalendarBody) -> ServiceCalendar:
    """The calendar ``body`` describes, or 422 ``invalid_calendar`` listing every problem."""
    today = live.clock.now_datetime().date()
    earliest, latest = today - timedelta(days=PAST_DAYS), today + timedelta(days=FUTURE_DAYS)
    problems = [f"{e.day.isoformat()}: the date must lie between {earliest.isoformat()} and "
                f"{latest.isoformat()}" for e in body.exceptions if not earliest <= e.day <= latest]
    try:
        calendar = ServiceCalendar(
            {WEEKDAYS.index(name): _hours_of(h) for name, h in body.weekdays.items()},
            tuple(CalendarException(e.day, _hours_of(e.hours), e.name) for e in body.exceptions))
    except ValueError as error:
        problems += str(error).removeprefix(_PREFIX).split("; ")
        calendar = ServiceCalendar()
    if problems:
        raise InvalidRequest("invalid_calendar", "invalid service calendar: " + "; ".join(problems),
                             detail=problems)
    return calendar


def _put_in_force(live: LiveDispatch, session: Session, user: User, calendar: ServiceCalendar,
                  payload: dict[str, object]) -> None:
    """Write ``calendar`` as the whole stored calendar with an event and put it in force."""
    with plan_change(live, session) as now:
        save_calendar(
            session,
            weekdays=[ServiceWeekday(weekday=d, **_columns(h)) for d, h in calendar.weekdays.items()],
            exceptions=[ServiceException(day=e.day, name=e.name, **_columns(e.hours))
                        for e in calendar.exceptions],
            event=Event(time=live.clock.to_datetime(now), kind=EventKind.SERVICE_CALENDAR_CHANGED,
                        actor=actor(user), payload=payload))
        live.dispatcher.calendar = LocalCalendar(calendar, live.clock.to_datetime)


def _columns(hours: DayHours | None) -> dict[str, int | None]:
    if hours is None:
        return {"start_s": None, "end_s": None}
    return {"start_s": hours.start_s, "end_s": hours.end_s}


def _hours(start_s: int | None, end_s: int | None) -> DayHours | None:
    return None if start_s is None or end_s is None else DayHours(start_s, end_s)


def _hours_of(body: DayHoursBody | None) -> DayHours | None:
    return None if body is None else DayHours(body.start_s, body.end_s)


def _body(hours: DayHours | None) -> DayHoursBody | None:
    return None if hours is None else DayHoursBody(start_s=hours.start_s, end_s=hours.end_s)
