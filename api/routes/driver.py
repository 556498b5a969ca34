"""Drivers' endpoints: the route to drive and what happens at its stops. Handlers parse, authorise,
call :mod:`api.services.driving` and serialise; errors become answers in :mod:`api.errors`.

Drivers act on the bus they are bound to (403 ``forbidden`` for a driver without one). Operators may
read any bus's route (``?vehicle_id=``) but report nothing: arrivals, boardings and positions come from
the bus. Riders get 403; a missing or invalid key 401.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.deps import DispatchDep, Driver, DriverOrOperator, SessionDep
from api.schemas import (
    DriverContactPublic,
    DriverRoutePublic,
    ErrorPublic,
    PositionsAccepted,
    PositionsCreate,
    Responses,
    StopAction,
)
from api.services import driving as service
from api.services.route_view import driver_contacts, encoded_route

router = APIRouter(prefix="/v1/driver", tags=["driver"])

AUTH_ERRORS: Responses = {401: {"model": ErrorPublic, "description": "no valid API key"},
               403: {"model": ErrorPublic, "description": "not a driver (of this bus)"}}
STOP_ERRORS: Responses = {**AUTH_ERRORS, 404: {"model": ErrorPublic},
               409: {"model": ErrorPublic,
                     "description": "not_next_stop, no_next_stop or too_early_for_no_show"},
               422: {"model": ErrorPublic}}


@router.get("/route", response_model=DriverRoutePublic,
            responses={**AUTH_ERRORS, 404: {"model": ErrorPublic}, 422: {"model": ErrorPublic}})
def read_route(user: DriverOrOperator, live: DispatchDep,
               vehicle_id: Annotated[str | None, Query(description="operators: the bus to show")] = None
               ) -> Response:
    """Your bus's stops in order (planned times, who boards or alights, promised pickup windows) and
    the roads to drive as a GeoJSON LineString ([lon, lat])."""
    # Valid by construction; its thousands of road positions are encoded by orjson, not walked by pydantic.
    body = encoded_route(live, service.vehicle_of(user, vehicle_id))
    return Response(body, media_type="application/json")


@router.get("/contacts", responses={**AUTH_ERRORS, 404: {"model": ErrorPublic}, 422: {"model": ErrorPublic}})
def read_contacts(user: DriverOrOperator, live: DispatchDep, session: SessionDep,
                  vehicle_id: Annotated[str | None, Query(description="operators: the bus to show")] = None
                  ) -> list[DriverContactPublic]:
    """Whom to call about your next stops: the riders' names and phones, only for the next stops the
    operators' privacy settings allow (``driver_contact_stops`` within ``driver_contact_minutes``)."""
    return driver_contacts(live, session, vehicle_id=service.vehicle_of(user, vehicle_id))


@router.post("/arrived", status_code=status.HTTP_204_NO_CONTENT, responses=STOP_ERRORS)
def arrived(user: Driver, live: DispatchDep, session: SessionDep) -> None:
    """The bus stands at its next stop."""
    service.arrived(live, session, user=user, vehicle_id=service.vehicle_of(user))


@router.post("/picked-up", status_code=status.HTTP_204_NO_CONTENT, responses=STOP_ERRORS)
def picked_up(body: StopAction, user: Driver, live: DispatchDep, session: SessionDep) -> None:
    """The rider of ``booking_id`` boarded (409 not_next_stop unless their pickup is the next stop)."""
    service.picked_up(live, session, user=user, vehicle_id=service.vehicle_of(user),
                      booking_id=body.booking_id)


@router.post("/dropped-off", status_code=status.HTTP_204_NO_CONTENT, responses=STOP_ERRORS)
def dropped_off(body: StopAction, user: Driver, live: DispatchDep, session: SessionDep) -> None:
    """The rider of ``booking_id`` alighted; the trip is completed."""
    service.dropped_off(live, session, user=user, vehicle_id=service.vehicle_of(user),
                        booking_id=body.booking_id)


@router.post("/no-show", status_code=status.HTTP_204_NO_CONTENT, responses=STOP_ERRORS)
def no_show(body: StopAction, user: Driver, live: DispatchDep, session: SessionDep) -> None:
    """The rider of ``booking_id`` did not come (409 too_early_for_no_show before the wait is over)."""
    service.no_show(live, session, user=user, vehicle_id=service.vehicle_of(user), booking_id=body.booking_id)


@router.post("/break-finished", status_code=status.HTTP_204_NO_CONTENT, responses=STOP_ERRORS)
def break_finished(user: Driver, live: DispatchDep, session: SessionDep) -> None:
    """The driver's break, the bus's next stop, is over (409 not_next_stop unless a break is next)."""
    service.break_finished(live, session, user=user, vehicle_id=service.vehicle_of(user))


@router.post("/positions", status_code=status.HTTP_202_ACCEPTED, responses={
    **AUTH_ERRORS, 404: {"model": ErrorPublic},
    422: {"model": ErrorPublic, "description": "position_in_future (the tablet's clock is ahead), "
                                               "outside_area, off_road or an invalid body"}})
def report_positions(body: PositionsCreate, user: Driver, live: DispatchDep,
                     session: SessionDep) -> PositionsAccepted:
    """Positions of the bus, oldest first; the last, snapped to the roads, becomes where the bus is,
    unless it is stale or older than the last one used (then ``used`` is false and ``ignored`` says
    why). Positions stamped more than ``RUFBUS_POSITION_SKEW_S`` in the future are refused."""
    return service.report_positions(live, session, vehicle_id=service.vehicle_of(user),
                                    positions=body.positions)
