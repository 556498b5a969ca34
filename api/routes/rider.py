"""Riders' endpoints: quotes and bookings. Handlers parse, call a service function and serialise;
errors become answers in :mod:`api.errors`.

Every endpoint needs an API key of a rider, or of an operator acting for a caller who phones in
(401 ``unauthenticated`` without a valid key, 403 ``forbidden`` for drivers). Riders see only their own
quotes and bookings (:mod:`api.services.booking`). Riders' quotes and bookings are rate-limited per account
and address (429 ``rate_limited`` with ``Retry-After``, :mod:`api.rate_limits`); a booking over the rider's
fair-use caps is refused with 409 (:mod:`api.services.fair_use`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from api.deps import (
    BookingUser,
    DispatchDep,
    QuotingUser,
    RiderOrOperator,
    SessionDep,
    SettingsDep,
    StopsDep,
    WalkDep,
)
from api.schemas import (
    BookingCreate,
    BookingPublic,
    BookingsPage,
    ErrorPublic,
    OfferPublic,
    QuoteCreate,
    RejectionPublic,
    Responses,
)
from api.services import booking as service

router = APIRouter(prefix="/v1", tags=["rider"])

IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=200,
                                       description="client's key; a retry with it books nothing twice")]
MAX_ROW_NUMBER = 2**31 - 1  # ids and offsets past a 32-bit database integer are refused (422), not sent on
AUTH_ERRORS: Responses = {401: {"model": ErrorPublic, "description": "no valid API key"},
               403: {"model": ErrorPublic, "description": "a role other than rider or operator"}}
ERRORS: Responses = {**AUTH_ERRORS, 404: {"model": ErrorPublic}, 409: {"model": ErrorPublic},
          422: {"model": ErrorPublic}}
RATE_LIMITED: Responses = {429: {"model": ErrorPublic,
                                 "description": "rate_limited: too many requests; see Retry-After"}}
BOOKING_ERRORS: Responses = {**ERRORS, **RATE_LIMITED, 409: {
    "model": ErrorPublic, "description": "the rejection cause, idempotency_key_reused, or a fair-use cap: "
                                         "too_many_open_bookings, too_many_seats_in_slot"}}


QUOTE_ERRORS: Responses = {
    409: {"model": RejectionPublic,
          "description": "no offer: code = the rejection cause (outside_area, off_road, "
                         "outside_hours, no_vehicle_in_time, …)"},
    422: {"model": ErrorPublic}, **AUTH_ERRORS}


@router.post("/quotes", responses={**QUOTE_ERRORS, **RATE_LIMITED})
def create_quote(body: QuoteCreate, user: QuotingUser, live: DispatchDep, stops: StopsDep,
                 session: SessionDep, walk: WalkDep) -> OfferPublic:
    """Ask for a trip between two points or named stops (``GET /v1/stops``). 200 with an offer, or 409
    with the rejection cause and alternative times."""
    return service.quote_trip(live, session, user=user, origin=stops.point(body.origin),
                              destination=stops.point(body.destination),
                              time_type=body.time_type, time=body.time, seats=body.seats,
                              wheelchairs=body.wheelchairs, walk=walk, passengers=body.categories())


@router.post("/bookings", status_code=status.HTTP_201_CREATED,
             responses={200: {"model": BookingPublic, "description": "a retry: the booking made before"},
                        **BOOKING_ERRORS})
def create_booking(body: BookingCreate, idempotency_key: IdempotencyKey, user: BookingUser,
                   live: DispatchDep, session: SessionDep, settings: SettingsDep, response: Response
                   ) -> BookingPublic:
    """Book an offer you were quoted (operators: any offer). 201 when booked now, 200 when this
    Idempotency-Key booked it before."""
    booking, created = service.book_trip(live, session, user=user, quote_id=body.quote_id,
                                         idempotency_key=idempotency_key, caps=settings.fair_use_caps)
    if not created:
        response.status_code = status.HTTP_200_OK
    return booking


@router.get("/bookings", responses={**AUTH_ERRORS, 422: {"model": ErrorPublic}})
def list_bookings(user: RiderOrOperator, live: DispatchDep, session: SessionDep,
                  limit: Annotated[int, Query(ge=1, le=100)] = 20,
                  offset: Annotated[int, Query(ge=0, le=MAX_ROW_NUMBER)] = 0,
                  rider_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_NUMBER,
                                                        description="operators: one rider's bookings")] = None
                  ) -> BookingsPage:
    """Your bookings, newest first, a page at a time (operators: everyone's, or ``rider_id``'s)."""
    return service.list_bookings(live, session, user=user, rider_id=rider_id, limit=limit, offset=offset)


@router.get("/bookings/{booking_id}", responses=ERRORS)
def read_booking(booking_id: str, user: RiderOrOperator, live: DispatchDep, session: SessionDep
                 ) -> BookingPublic:
    """A booking of yours (operators: any booking; another rider's answers 404): status, promised
    window, planned pickup and arrival, bus."""
    return service.get_booking(live, session, user=user, booking_id=booking_id)


@router.delete("/bookings/{booking_id}", responses=ERRORS)
def cancel_booking(booking_id: str, user: RiderOrOperator, live: DispatchDep, session: SessionDep
                   ) -> BookingPublic:
    """Cancel a booking not yet picked up (404 unknown, 409 not cancellable)."""
    return service.cancel_booking(live, session, user=user, booking_id=booking_id)
