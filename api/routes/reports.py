"""Reports for the county: the operator's cost settings, key figures per day, week or month and every
booking of a date range as CSV, and the printable monthly report (HTML). Handlers parse, authorise, call
:mod:`api.services.costs`, :mod:`api.services.reports` or :mod:`api.services.monthly_report` and
serialise.

Only operators get through (riders and drivers 403, a missing or invalid key 401).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy import Engine

from api.deps import DispatchDep, Operator, SessionDep
from api.routes.operator import AUTH_ERRORS
from api.schemas import CostSettingsBody, CostSettingsPublic, ErrorPublic, Responses
from api.services import costs, reports
from api.services.live_plan import LiveDispatch
from api.services.monthly_report import monthly_report

router = APIRouter(prefix="/v1/operator", tags=["operator"])

INVALID: Responses = {**AUTH_ERRORS, 422: {"model": ErrorPublic,
                                           "description": "invalid_request, invalid_range, invalid_month"}}
CSV_TYPE = "text/csv; charset=utf-8"
From = Annotated[date, Query(alias="from", description="first local date (YYYY-MM-DD)")]
To = Annotated[date, Query(alias="to", description="last local date, included")]


@router.get("/costs", responses=AUTH_ERRORS)
def read_costs(user: Operator, live: DispatchDep, session: SessionDep) -> CostSettingsPublic:
    """The cost settings in force (all zero, version null, before any were set)."""
    return costs.costs_in_force(session, live.clock.zone)


@router.put("/costs", responses=INVALID)
def change_costs(body: CostSettingsBody, user: Operator, live: DispatchDep, session: SessionDep
                 ) -> CostSettingsPublic:
    """Set what a vehicle-hour and a vehicle-km cost (EUR or CHF); the reports use the newest settings.
    The previous versions are kept."""
    return costs.change_costs(session, user=user, body=body, now=live.clock.now_datetime())


@router.get("/reports/kpis.csv", response_class=Response, responses={
    **INVALID, 200: {"content": {"text/csv": {}}, "description": "one row per period"}})
def kpis_csv(user: Operator, live: DispatchDep, session: SessionDep, first: From, last: To,
             by: reports.Grouping = reports.Grouping.DAY) -> Response:
    """Key figures per local day, week or month of the range (at most 366 days): trips asked, refused,
    booked, served, cancelled, no-shows, passengers, served %, wait, ride-time factor, vehicle-hours and
    -km, cost and cost per trip (definitions: api.services.reports). ``;``-separated, UTF-8 with BOM."""
    days = reports.DateRange.checked(first, last)
    settings = costs.costs_in_force(session, live.clock.zone)
    records = reports.load_records(session, clock=live.clock, days=days)
    figures = reports.period_figures(records, clock=live.clock, metres=_metres(live), by=by, costs=settings)
    return Response(reports.kpis_csv(figures, settings.currency), media_type=CSV_TYPE,
                    headers=_attachment(f"rufbus-kpis-{first}-{last}-{by}.csv"))


@router.get("/reports/bookings.csv", response_class=StreamingResponse, responses={
    **INVALID, 200: {"content": {"text/csv": {}}, "description": "one row per booking"}})
def bookings_csv(user: Operator, live: DispatchDep, request: Request, first: From, last: To
                 ) -> StreamingResponse:
    """Every booking for a trip in the range (at most 366 days), streamed: status, cause, who booked it,
    requested time, window, planned and actual pickup and drop-off, seats, bus, and its ends as ~300 m
    grid cells — no names, phone numbers or exact places. ``;``-separated, UTF-8 with BOM."""
    days = reports.DateRange.checked(first, last)
    engine: Engine = request.app.state.engine
    return StreamingResponse(reports.bookings_csv(engine, clock=live.clock, days=days), media_type=CSV_TYPE,
                             headers=_attachment(f"rufbus-bookings-{first}-{last}.csv"))


@router.get("/reports/monthly", response_class=HTMLResponse, responses=INVALID)
def read_monthly_report(user: Operator, live: DispatchDep, session: SessionDep,
                        month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")]
                        ) -> HTMLResponse:
    """The printable monthly report: the month's figures, a table per day, trend charts over up to six
    months before it, and the cost settings used."""
    return HTMLResponse(monthly_report(session, clock=live.clock, metres=_metres(live), month=month))


def _metres(live: LiveDispatch) -> reports.RoadMetres:
    return reports.RoadMetres(live.network)


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}
