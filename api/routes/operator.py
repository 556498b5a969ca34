"""Operators' endpoints: the fleet and its exceptions, vehicles and shifts, the service rules and the
riders' fair-use caps, withdrawing a bus, key figures. Handlers parse, authorise, call
:mod:`api.services.operations`, :mod:`api.services.fleet_admin`, :mod:`api.services.fair_use` or
:mod:`api.services.exceptions` and serialise; errors become answers in :mod:`api.errors`.

Only operators get through (riders and drivers 403, a missing or invalid key 401).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.deps import DispatchDep, Operator, SessionDep, SettingsDep
from api.schemas import (
    ErrorPublic,
    ExceptionsPublic,
    FairUseCapsBody,
    FairUseCapsPublic,
    FleetVehiclePublic,
    Instant,
    KpisPublic,
    OutOfServicePublic,
    Responses,
    ServiceAreaBody,
    ServiceAreaPublic,
    ServiceRulesBody,
    ServiceRulesPublic,
    ShiftBody,
    ShiftPublic,
    VehicleCreate,
    VehiclePublic,
    VehicleUpdate,
)
from api.services import exceptions, fair_use, fleet_admin, kpis, service_area
from api.services import operations as service

router = APIRouter(prefix="/v1/operator", tags=["operator"])

AUTH_ERRORS: Responses = {401: {"model": ErrorPublic, "description": "no valid API key"},
               403: {"model": ErrorPublic, "description": "not an operator"}}


@router.get("/fleet", responses=AUTH_ERRORS)
def read_fleet(user: Operator, live: DispatchDep) -> list[FleetVehiclePublic]:
    """Every bus: in service or not, position, load on board, next three stops, stops on its route."""
    return service.fleet(live)


@router.get("/exceptions", responses=AUTH_ERRORS)
def read_exceptions(user: Operator, live: DispatchDep, session: SessionDep, settings: SettingsDep
                    ) -> ExceptionsPublic:
    """What needs an operator's eye now, most urgent first: late buses (minutes behind a promise), promises
    at risk and broken, buses without a position for ``RUFBUS_EXCEPTION_SILENT_S``, riders waiting past
    their window — each with what the system did about it (definitions: api.services.exceptions)."""
    return exceptions.exceptions_view(live, session, thresholds=settings.exception_thresholds)


@router.get("/rules", responses=AUTH_ERRORS)
def read_rules(user: Operator, live: DispatchDep, session: SessionDep) -> ServiceRulesPublic:
    """The service rules in force (durations in seconds)."""
    return service.rules_in_force(live, session)


RULES_ERRORS: Responses = {**AUTH_ERRORS,
                422: {"model": ErrorPublic, "description": "invalid_rules: detail lists the problems"}}


@router.put("/rules", responses=RULES_ERRORS)
def change_rules(body: ServiceRulesBody, user: Operator, live: DispatchDep, session: SessionDep
                 ) -> ServiceRulesPublic:
    """Put new service rules in force for new quotes; promises already made stay. The previous
    versions are kept."""
    return service.change_rules(live, session, user=user, body=body)


@router.get("/fair-use", responses=AUTH_ERRORS)
def read_fair_use(user: Operator, session: SessionDep, settings: SettingsDep) -> FairUseCapsPublic:
    """The caps on what one rider may hold in force: open bookings, seats per slot of pickup time."""
    return fair_use.read_caps(session, defaults=settings.fair_use_caps)


@router.put("/fair-use", responses={**AUTH_ERRORS, 422: {"model": ErrorPublic}})
def change_fair_use(body: FairUseCapsBody, user: Operator, session: SessionDep) -> FairUseCapsPublic:
    """Put new caps in force at once for every booking from now on, those operators make for callers
    included; bookings already made stay. The previous versions are kept."""
    return fair_use.change_caps(session, user=user, body=body)


@router.post("/vehicles/{vehicle_id}/out-of-service",
             responses={**AUTH_ERRORS, 404: {"model": ErrorPublic},
                        409: {"model": ErrorPublic, "description": "already_out_of_service"},
                        503: {"model": ErrorPublic}})
def out_of_service(vehicle_id: str, user: Operator, live: DispatchDep, session: SessionDep
                   ) -> OutOfServicePublic:
    """Withdraw a bus (breakdown): its riders move to other buses, keeping their promised windows where
    possible, or their bookings end with the cause ``vehicle_out_of_service``."""
    return service.take_out_of_service(live, session, user=user, vehicle_id=vehicle_id)


@router.get("/service-area", responses=AUTH_ERRORS)
def read_service_area(user: Operator, live: DispatchDep, session: SessionDep) -> ServiceAreaPublic:
    """The service area in force (GeoJSON) and the service hours."""
    return service_area.area_in_force(live, session)


@router.put("/service-area", responses={**AUTH_ERRORS, 422: {
    "model": ErrorPublic, "description": "invalid_service_area or invalid_rules: detail lists the problems"}})
def change_service_area(body: ServiceAreaBody, user: Operator, live: DispatchDep, session: SessionDep
                        ) -> ServiceAreaPublic:
    """Put a new service area (and, optionally, service hours) in force for new quotes; points outside
    it are refused with outside_area. The previous versions are kept."""
    return service_area.change_area(live, session, user=user, body=body)


@router.get("/kpis", responses={**AUTH_ERRORS, 422: {"model": ErrorPublic}})
def read_kpis(user: Operator, live: DispatchDep, session: SessionDep,
              start: Annotated[Instant, Query(alias="from", description="submitted at or after")],
              end: Annotated[Instant, Query(alias="to", description="submitted before")]) -> KpisPublic:
    """Figures over bookings submitted in [from, to): served, rejected and refused by cause, wait and ride
    times (mean, p50, p95), ride-time factor, promised window kept %, pooling rate, occupancy, passengers
    per vehicle-hour, vehicle km (definitions: api.services.kpis)."""
    return kpis.kpis(session, live=live, start=start, end=end)


VEHICLE_ERRORS: Responses = {**AUTH_ERRORS,
                  404: {"model": ErrorPublic, "description": "unknown_vehicle or unknown_shift"},
                  409: {"model": ErrorPublic,
                        "description": "duplicate_vehicle, shift_overlap, vehicle_change_infeasible, "
                                       "vehicle_has_riders, already_in_service"},
                  422: {"model": ErrorPublic,
                        "description": "invalid_request, invalid_shift, outside_area, off_road"},
                  503: {"model": ErrorPublic}}


@router.get("/vehicles", responses=AUTH_ERRORS)
def list_vehicles(user: Operator, live: DispatchDep, session: SessionDep) -> list[VehiclePublic]:
    """Every stored bus: capacities, depot, kept in service or withdrawn, planned with now."""
    return fleet_admin.list_fleet(live, session)


@router.post("/vehicles", status_code=status.HTTP_201_CREATED, responses=VEHICLE_ERRORS)
def create_vehicle(body: VehicleCreate, user: Operator, live: DispatchDep, session: SessionDep
                   ) -> VehiclePublic:
    """Add a bus (its depot is snapped to the nearest road); it is planned with once it has a shift."""
    return fleet_admin.create_vehicle(live, session, user=user, body=body)


@router.get("/vehicles/{vehicle_id}", responses=VEHICLE_ERRORS)
def read_vehicle(vehicle_id: str, user: Operator, live: DispatchDep, session: SessionDep) -> VehiclePublic:
    """One bus."""
    return fleet_admin.read_vehicle(live, session, vehicle_id=vehicle_id)


@router.patch("/vehicles/{vehicle_id}", responses=VEHICLE_ERRORS)
def change_vehicle(vehicle_id: str, body: VehicleUpdate, user: Operator, live: DispatchDep,
                   session: SessionDep) -> VehiclePublic:
    """Change a bus's name, seats, wheelchair spaces or depot; refused (409) if its riders would lose
    their place or promise."""
    return fleet_admin.change_vehicle(live, session, user=user, vehicle_id=vehicle_id, body=body)


@router.post("/vehicles/{vehicle_id}/in-service", responses=VEHICLE_ERRORS)
def in_service(vehicle_id: str, user: Operator, live: DispatchDep, session: SessionDep) -> VehiclePublic:
    """Put a withdrawn bus back into service; it takes riders again from where it stands."""
    return fleet_admin.put_in_service(live, session, user=user, vehicle_id=vehicle_id)


@router.get("/vehicles/{vehicle_id}/shifts", responses=VEHICLE_ERRORS)
def list_shifts(vehicle_id: str, user: Operator, live: DispatchDep, session: SessionDep) -> list[ShiftPublic]:
    """A bus's shifts by start, with their breaks."""
    return fleet_admin.list_shifts(live, session, vehicle_id=vehicle_id)


@router.post("/vehicles/{vehicle_id}/shifts", status_code=status.HTTP_201_CREATED, responses=VEHICLE_ERRORS)
def create_shift(vehicle_id: str, body: ShiftBody, user: Operator, live: DispatchDep, session: SessionDep
                 ) -> ShiftPublic:
    """Add a shift with its breaks; a shift today or tomorrow is planned with at once."""
    return fleet_admin.create_shift(live, session, user=user, vehicle_id=vehicle_id, body=body)


@router.put("/vehicles/{vehicle_id}/shifts/{shift_id}", responses=VEHICLE_ERRORS)
def change_shift(vehicle_id: str, shift_id: int, body: ShiftBody, user: Operator, live: DispatchDep,
                 session: SessionDep) -> ShiftPublic:
    """Replace a shift's times and breaks."""
    return fleet_admin.change_shift(live, session, user=user, vehicle_id=vehicle_id, shift_id=shift_id,
                                    body=body)


@router.delete("/vehicles/{vehicle_id}/shifts/{shift_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=VEHICLE_ERRORS)
def delete_shift(vehicle_id: str, shift_id: int, user: Operator, live: DispatchDep, session: SessionDep
                 ) -> None:
    """Delete a shift (409 vehicle_has_riders while riders are planned in it)."""
    fleet_admin.remove_shift(live, session, user=user, vehicle_id=vehicle_id, shift_id=shift_id)
