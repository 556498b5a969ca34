"""The service calendar's rows (api.db.repository.save_calendar / service_calendar) on SQLite and
PostgreSQL: the whole calendar is replaced with its event in one transaction, and the database itself
refuses reversed hours and a second exception on one date, leaving the stored calendar as it was."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, select

from api.db.models import Event, ServiceException, ServiceWeekday
from api.db.repository import IntegrityViolation, save_calendar, service_calendar
from dispatch.events import EventKind
from tests.api.db.rows import T0

CHRISTMAS = date(2026, 12, 25)


def changed() -> Event:
    """An operator's ``service_calendar_changed`` event."""
    return Event(time=T0, kind=EventKind.SERVICE_CALENDAR_CHANGED, actor="user:1", payload={})


def test_a_saved_calendar_replaces_the_stored_one_with_its_event(session: Session) -> None:
    """Sundays closed and Christmas closed, then Saturdays 08–12 only: the second save leaves exactly
    Saturday, no exception, and two events."""
    save_calendar(session, weekdays=[ServiceWeekday(weekday=6)],
                  exceptions=[ServiceException(day=CHRISTMAS, name="Christmas Day")],
                  event=changed())
    weekdays, exceptions = service_calendar(session)
    assert [(w.weekday, w.start_s, w.end_s) for w in weekdays] == [(6, None, None)]
    assert [(e.day, e.name, e.start_s) for e in exceptions] == [(CHRISTMAS, "Christmas Day", None)]
    save_calendar(session, weekdays=[ServiceWeekday(weekday=5, start_s=8 * 3600, end_s=12 * 3600)],
                  exceptions=[], event=changed())
    weekdays, exceptions = service_calendar(session)
    assert [(w.weekday, w.start_s, w.end_s) for w in weekdays] == [(5, 8 * 3600, 12 * 3600)]
    assert exceptions == []
    assert len(session.exec(select(Event)).all()) == 2


@pytest.mark.parametrize("rows", [
    [ServiceWeekday(weekday=1, start_s=20 * 3600, end_s=8 * 3600)],
    [ServiceWeekday(weekday=7)],
    [ServiceException(day=CHRISTMAS, start_s=3600)],
    [ServiceException(day=CHRISTMAS), ServiceException(day=CHRISTMAS, name="again")],
])
def test_the_database_refuses_a_bad_calendar_and_keeps_the_stored_one(session: Session, rows) -> None:
    """Reversed hours, weekday 7, hours half given, two exceptions on one date: IntegrityViolation, and
    the calendar stored before (Sundays closed) is still there, without the event."""
    save_calendar(session, weekdays=[ServiceWeekday(weekday=6)], exceptions=[],
                  event=changed())
    weekdays = [r for r in rows if isinstance(r, ServiceWeekday)]
    exceptions = [r for r in rows if isinstance(r, ServiceException)]
    with pytest.raises(IntegrityViolation):
        save_calendar(session, weekdays=weekdays, exceptions=exceptions,
                      event=changed())
    stored, none = service_calendar(session)
    assert [(w.weekday, w.start_s) for w in stored] == [(6, None)] and none == []
    assert len(session.exec(select(Event)).all()) == 1
