"""Operators' manual control of the plan: move a booking to another bus, pin and unpin it, lock and
unlock a route's order, add an ad-hoc break, read a route with its pins and lock, read the audit log.
Handlers parse, authorise, call :mod:`api.services.plan_control` or :mod:`api.services.audit` and
serialise; a refused change is 409 with the broken rule as its code (:mod:`api.errors`).

Only operators get through (riders and drivers 403, a missing or invalid key 401).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from api.deps import DispatchDep, Operator, SessionDep
from api.routes.operator import AUTH_ERRORS
from api.schemas import (
    AdHocBreakBody,
    AuditEntryPublic,
    ControlChangePublic,
    ControlledRoutePublic,
    ControlRefusedPublic,
    ErrorPublic,
    LockBody,
    MoveBody,
    Responses,
)
from api.services import audit, plan_control

router = APIRouter(prefix="/v1/operator", tags=["operator"])

CHANGE_ERRORS: Responses = {
    **AUTH_ERRORS,
    404: {"model": ErrorPublic, "description": "unknown_request, unknown_vehicle"},
    409: {"model": ControlRefusedPublic, "description": "the rule the change would break: capacity, "
          "time_window, ride_time, shift_end, break, not_movable, same_vehicle, vehicle_out_of_service"},
    422: {"model": ErrorPublic, "description": "invalid_request, invalid_break"},
}
BookingId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]*$")]
VehicleId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]*$")]


@router.post("/bookings/{booking_id}/move", responses=CHANGE_ERRORS)
def move_booking(booking_id: BookingId, body: MoveBody, user: Operator, live: DispatchDep,
                 session: SessionDep) -> ControlChangePublic:
    """Move a booking not yet picked up to another bus, at its best feasible place there (``pin``: and
    keep it there); its promise holds, or the move is refused naming the rule."""
    return plan_control.move(live, session, user=user, booking_id=booking_id, body=body)


@router.post("/bookings/{booking_id}/pin", responses=CHANGE_ERRORS)
def pin_booking(booking_id: BookingId, user: Operator, live: DispatchDep, session: SessionDep
                ) -> ControlChangePublic:
    """Pin a booking not yet picked up to its bus: nothing automatic moves it to another."""
    return plan_control.pin(live, session, user=user, booking_id=booking_id, pinned=True)


@router.delete("/bookings/{booking_id}/pin", responses=CHANGE_ERRORS)
def unpin_booking(booking_id: BookingId, user: Operator, live: DispatchDep, session: SessionDep
                  ) -> ControlChangePublic:
    """Unpin a booking: the dispatcher may move it again."""
    return plan_control.pin(live, session, user=user, booking_id=booking_id, pinned=False)


@router.get("/vehicles/{vehicle_id}/plan", responses=CHANGE_ERRORS)
def read_route(vehicle_id: VehicleId, user: Operator, live: DispatchDep) -> ControlledRoutePublic:
    """A bus's route in force: its stops with their planned start and pins, and its lock."""
    return plan_control.route_of(live, vehicle_id=vehicle_id)


@router.post("/vehicles/{vehicle_id}/lock", responses=CHANGE_ERRORS)
def lock_route(vehicle_id: VehicleId, body: LockBody, user: Operator, live: DispatchDep, session: SessionDep
               ) -> ControlChangePublic:
    """Lock the order of a bus's route: re-optimization and late-bus handling keep it. Without
    ``allow_insertions`` the route takes no new riders either."""
    return plan_control.lock(live, session, user=user, vehicle_id=vehicle_id, body=body)


@router.delete("/vehicles/{vehicle_id}/lock", responses=CHANGE_ERRORS)
def unlock_route(vehicle_id: VehicleId, user: Operator, live: DispatchDep, session: SessionDep
                 ) -> ControlChangePublic:
    """Unlock the order of a bus's route."""
    return plan_control.lock(live, session, user=user, vehicle_id=vehicle_id, body=None)


@router.post("/vehicles/{vehicle_id}/breaks", status_code=status.HTTP_201_CREATED, responses=CHANGE_ERRORS)
def add_break(vehicle_id: VehicleId, body: AdHocBreakBody, user: Operator, live: DispatchDep,
              session: SessionDep) -> ControlChangePublic:
    """Add an ad-hoc break to the bus's shift, at the depot or where the bus stands; refused naming the
    riders whose promise it would break unless ``move_riders`` finds other buses for them."""
    return plan_control.add_break(live, session, user=user, vehicle_id=vehicle_id, body=body)


@router.get("/audit", responses={**AUTH_ERRORS, 422: {"model": ErrorPublic}})
def read_audit_log(user: Operator, live: DispatchDep, session: SessionDep,
                   day: Annotated[date | None, Query(description="local day",
                                                     ge=date(2000, 1, 1), le=date(2100, 12, 30))] = None,
                   booking_id: Annotated[str | None, Query(min_length=1, max_length=64,
                                                           pattern=r"^[^\x00-\x1f\x7f]*$")] = None,
                   vehicle_id: Annotated[str | None, Query(min_length=1, max_length=64,
                                                           pattern=r"^[^\x00-\x1f\x7f]*$")] = None,
                   limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[AuditEntryPublic]:
    """Operators' manual changes of the plan, newest first, by local day, booking or bus."""
    return audit.read_log(session, live.clock, day=day, booking_id=booking_id, vehicle_id=vehicle_id,
                          limit=limit)
