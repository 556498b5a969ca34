"""Operators' booking desk and demand map: riders found or recorded for phone bookings, a quote for a
caller, bookings searched and read with their history, and unmet demand per grid cell and hour.
Handlers parse, authorise, call :mod:`api.services.desk`, :mod:`api.services.booking` (the riders' own
quote, under the caller's id) or :mod:`api.services.demand` and serialise.

Booking the offer and cancelling use the riders' endpoints with the operator's key (``POST
/v1/bookings``, ``DELETE /v1/bookings/{id}``): the booking is the caller's, booked by the operator, and
the cancellation's event names the operator. Only operators get through (riders and drivers 403, a
missing or invalid key 401).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import AwareDatetime

from api.deps import DispatchDep, Operator, SessionDep, StopsDep, WalkDep
from api.routes.operator import AUTH_ERRORS
from api.routes.rider import MAX_ROW_NUMBER, QUOTE_ERRORS
from api.schemas import (
    DemandPublic,
    DeskBookingDetail,
    DeskBookingsPage,
    ErrorPublic,
    OfferPublic,
    QuoteCreate,
    RiderCreate,
    RiderPublic,
)
from api.services import booking, demand, desk
from dispatch.dispatcher import RequestStatus

router = APIRouter(prefix="/v1/operator", tags=["operator"])

INVALID: dict[str, object] = {"model": ErrorPublic, "description": "invalid_request, invalid_range"}


@router.get("/riders", responses={**AUTH_ERRORS, 422: INVALID})
def find_riders(user: Operator, session: SessionDep,
                q: Annotated[str, Query(min_length=1, max_length=120, description="part of name or phone")]
                ) -> list[RiderPublic]:
    """Riders whose name contains ``q`` (case-insensitive) or whose phone number contains its digits."""
    return desk.find_riders(session, query=q)


@router.post("/riders", status_code=status.HTTP_201_CREATED, responses={**AUTH_ERRORS, 422: INVALID})
def record_rider(body: RiderCreate, user: Operator, session: SessionDep) -> RiderPublic:
    """Record a caller as a rider (name, phone) to book for; they have no API key until given one."""
    return desk.record_rider(session, body=body)


@router.post("/riders/{rider_id}/quotes", responses={**QUOTE_ERRORS, 404: {
    "model": ErrorPublic, "description": "unknown_rider"}})
def quote_for_rider(rider_id: Annotated[int, Path(ge=1, le=MAX_ROW_NUMBER)], body: QuoteCreate,
                    user: Operator, live: DispatchDep, stops: StopsDep, session: SessionDep,
                    walk: WalkDep) -> OfferPublic:
    """A quote for a caller, under the same rules as a rider's own; book it with ``POST /v1/bookings``
    and the booking is the rider's, booked by you."""
    return booking.quote_trip(live, session, user=user, origin=stops.point(body.origin),
                              destination=stops.point(body.destination), time_type=body.time_type,
                              time=body.time, seats=body.seats, wheelchairs=body.wheelchairs,
                              for_rider=rider_id, walk=walk, passengers=body.categories())


@router.get("/bookings", responses={**AUTH_ERRORS, 422: INVALID})
def search_bookings(user: Operator, live: DispatchDep, session: SessionDep,
                    day: Annotated[date | None, Query(description="local day of the pickup")] = None,
                    booking_status: Annotated[RequestStatus | None, Query(alias="status")] = None,
                    rider: Annotated[str | None, Query(max_length=120, description="part of the rider's name "
                                                                                   "or phone")] = None,
                    vehicle_id: Annotated[str | None, Query(max_length=64)] = None,
                    limit: Annotated[int, Query(ge=1, le=100)] = 20,
                    offset: Annotated[int, Query(ge=0, le=MAX_ROW_NUMBER)] = 0) -> DeskBookingsPage:
    """Bookings matching every filter given, by pickup time, a page at a time: with their rider and who
    booked them."""
    return desk.search_bookings(live, session, day=day, status=booking_status, rider=rider,
                                vehicle_id=vehicle_id, limit=limit, offset=offset)


@router.get("/bookings/{booking_id}", responses={**AUTH_ERRORS, 404: {"model": ErrorPublic}})
def read_booking(booking_id: str, user: Operator, live: DispatchDep, session: SessionDep
                 ) -> DeskBookingDetail:
    """A booking with every event of the log about it, oldest first."""
    return desk.booking_detail(live, session, booking_id=booking_id)


@router.get("/demand", responses={**AUTH_ERRORS, 422: INVALID})
def read_demand(user: Operator, live: DispatchDep, session: SessionDep, response: Response,
                start: Annotated[AwareDatetime, Query(alias="from", description="trip hours at or after")],
                end: Annotated[AwareDatetime, Query(alias="to", description="trip hours before")],
                at: Annotated[demand.End, Query(description="count at the trips' origin or destination")]
                = demand.End.ORIGIN) -> DemandPublic:
    """Quotes asked, bookings made (served) and quotes refused by cause, per grid cell (about 300 m; its
    centre, never an address) and local hour of the trip, over at most 31 days."""
    response.headers["Cache-Control"] = "no-store"
    return demand.demand(session, live=live, start=start, end=end, at=at)
