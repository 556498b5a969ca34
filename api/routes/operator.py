"""Operators' endpoints: the fleet, the service rules, withdrawing a bus, key figures. Handlers parse,
authorise, call :mod:`api.services.operations` and serialise; errors become answers in :mod:`api.errors`.

Only operators get through (riders and drivers 403, a missing or invalid key 401).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from api.deps import DispatchDep, Operator, SessionDep
from api.schemas import (ErrorPublic, FleetVehiclePublic, KpisPublic, OutOfServicePublic, ServiceRulesBody,
                         ServiceRulesPublic)
from api.services import operations as service

router = APIRouter(prefix="/v1/operator", tags=["operator"])

AUTH_ERRORS = {401: {"model": ErrorPublic, "description": "no valid API key"},
               403: {"model": ErrorPublic, "description": "not an operator"}}


@router.get("/fleet", responses=AUTH_ERRORS)
def read_fleet(user: Operator, live: DispatchDep) -> list[FleetVehiclePublic]:
    """Every bus: in service or not, position, load on board, next three stops, stops on its route."""
    return service.fleet(live)


@router.get("/rules", responses=AUTH_ERRORS)
def read_rules(user: Operator, live: DispatchDep, session: SessionDep) -> ServiceRulesPublic:
    """The service rules in force (durations in seconds)."""
    return service.rules_in_force(live, session)


RULES_ERRORS = {**AUTH_ERRORS,
                422: {"model": ErrorPublic, "description": "invalid_rules: detail lists the problems"}}


@router.put("/rules", responses=RULES_ERRORS)
def change_rules(body: ServiceRulesBody, user: Operator, live: DispatchDep, session: SessionDep
                 ) -> ServiceRulesPublic:
    """Put new service rules in force for new quotes; promises already made stay. The previous
    versions are kept."""
    return service.change_rules(live, session, user=user, body=body)


@router.post("/vehicles/{vehicle_id}/out-of-service",
             responses={**AUTH_ERRORS, 404: {"model": ErrorPublic},
                        409: {"model": ErrorPublic, "description": "already_out_of_service"},
                        503: {"model": ErrorPublic}})
def out_of_service(vehicle_id: str, user: Operator, live: DispatchDep, session: SessionDep
                   ) -> OutOfServicePublic:
    """Withdraw a bus (breakdown): its riders move to other buses, keeping their promised windows where
    possible, or their bookings end with the cause ``vehicle_out_of_service``."""
    return service.take_out_of_service(live, session, user=user, vehicle_id=vehicle_id)


@router.get("/kpis", responses={**AUTH_ERRORS, 422: {"model": ErrorPublic}})
def read_kpis(user: Operator, live: DispatchDep, session: SessionDep,
              start: Annotated[AwareDatetime, Query(alias="from", description="submitted at or after")],
              end: Annotated[AwareDatetime, Query(alias="to", description="submitted before")]) -> KpisPublic:
    """Bookings submitted in [from, to): counts by status and rejection cause, mean promised window."""
    return service.kpis(session, live=live, start=start, end=end)
