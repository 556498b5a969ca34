"""Operators' endpoints for the service calendar: hours per weekday, closed days and exceptions by date.
Handlers parse, authorise, call :mod:`api.services.service_calendar` and serialise.

Only operators get through (riders and drivers 403, a missing or invalid key 401).
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, status

from api.deps import DispatchDep, Operator, SessionDep
from api.routes.operator import AUTH_ERRORS
from api.schemas import (
    CalendarExceptionBody,
    ErrorPublic,
    Responses,
    ServiceCalendarBody,
    ServiceCalendarPublic,
)
from api.services import service_calendar as service

router = APIRouter(prefix="/v1/operator/calendar", tags=["operator"])

CALENDAR_ERRORS: Responses = {**AUTH_ERRORS, 422: {
    "model": ErrorPublic, "description": "invalid_calendar (detail lists the problems) or invalid_request"}}


@router.get("", responses=AUTH_ERRORS)
def read_calendar(user: Operator, live: DispatchDep) -> ServiceCalendarPublic:
    """The service calendar in force: the standard hours, hours per weekday (a weekday left out has the
    standard hours, null: closed) and exceptions by date (hours null: closed)."""
    return service.calendar_in_force(live)


@router.put("", responses=CALENDAR_ERRORS)
def change_calendar(body: ServiceCalendarBody, user: Operator, live: DispatchDep, session: SessionDep
                    ) -> ServiceCalendarPublic:
    """Replace the whole calendar; new quotes are checked against it at once, bookings made stay."""
    return service.change_calendar(live, session, user=user, body=body)


@router.post("/exceptions", status_code=status.HTTP_201_CREATED, responses=CALENDAR_ERRORS)
def add_exception(body: CalendarExceptionBody, user: Operator, live: DispatchDep, session: SessionDep
                  ) -> ServiceCalendarPublic:
    """Add an exception for one date, e.g. a public holiday closed (422 if that date has one)."""
    return service.add_exception(live, session, user=user, body=body)


@router.delete("/exceptions/{day}", status_code=status.HTTP_204_NO_CONTENT,
               responses={**CALENDAR_ERRORS, 404: {"model": ErrorPublic, "description": "unknown_exception"}})
def remove_exception(day: date, user: Operator, live: DispatchDep, session: SessionDep) -> None:
    """Remove the exception of one date: the day has its weekday's hours again."""
    service.remove_exception(live, session, user=user, day=day)
