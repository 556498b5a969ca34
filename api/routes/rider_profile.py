"""A rider's own things, kept server-side: favourite places (``/v1/rider/favourites``), companions
(``/v1/rider/companions``) and recurring trips (``/v1/rider/recurring-trips``, each with the outcome of
its days booked so far). Handlers parse, call :mod:`api.services.favourites` or
:mod:`api.services.recurring` and serialise; errors become answers in :mod:`api.errors`.

Riders only (operators and drivers 403, no valid key 401); a rider sees and changes only their own
entries — another rider's id answers 404 like an unknown one. Bad bodies (NaN, coordinates off the
globe, weekdays outside 0–6, ``last_day`` before ``first_day``, ids past a 32-bit integer) are 422.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from api.deps import DispatchDep, Rider, SessionDep
from api.schemas import (
    CompanionBody,
    CompanionPublic,
    ErrorPublic,
    FavouritePlaceBody,
    FavouritePlacePublic,
    RecurringTripBody,
    RecurringTripPublic,
    Responses,
)
from api.services import favourites, recurring

router = APIRouter(prefix="/v1/rider", tags=["rider"])

MAX_ROW_NUMBER = 2**31 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_NUMBER)]
AUTH: Responses = {401: {"model": ErrorPublic, "description": "no valid API key"},
                   403: {"model": ErrorPublic, "description": "not a rider"},
                   422: {"model": ErrorPublic}}
ONE: Responses = {**AUTH, 404: {"model": ErrorPublic, "description": "unknown (or another rider's) id"}}
FULL: Responses = {**AUTH, 409: {"model": ErrorPublic, "description": "too_many_…: the rider's list is full"}}


@router.get("/favourites", responses=AUTH)
def list_favourites(rider: Rider, session: SessionDep) -> list[FavouritePlacePublic]:
    """Your favourite places, by name."""
    return favourites.list_favourites(session, rider=rider)


@router.post("/favourites", status_code=status.HTTP_201_CREATED, responses=FULL)
def add_favourite(body: FavouritePlaceBody, rider: Rider, session: SessionDep) -> FavouritePlacePublic:
    """Save a place under a name."""
    return favourites.add_favourite(session, rider=rider, body=body)


@router.put("/favourites/{favourite_id}", responses=ONE)
def change_favourite(favourite_id: RowId, body: FavouritePlaceBody, rider: Rider, session: SessionDep
                     ) -> FavouritePlacePublic:
    """Rename or move a favourite place."""
    return favourites.change_favourite(session, rider=rider, favourite_id=favourite_id, body=body)


@router.delete("/favourites/{favourite_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ONE)
def remove_favourite(favourite_id: RowId, rider: Rider, session: SessionDep) -> Response:
    """Forget a favourite place."""
    favourites.remove_favourite(session, rider=rider, favourite_id=favourite_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/companions", responses=AUTH)
def list_companions(rider: Rider, session: SessionDep) -> list[CompanionPublic]:
    """Your companions, by name."""
    return favourites.list_companions(session, rider=rider)


@router.post("/companions", status_code=status.HTTP_201_CREATED, responses=FULL)
def add_companion(body: CompanionBody, rider: Rider, session: SessionDep) -> CompanionPublic:
    """Save a companion with their passenger category (adult, child, senior, wheelchair, companion)."""
    return favourites.add_companion(session, rider=rider, body=body)


@router.put("/companions/{companion_id}", responses=ONE)
def change_companion(companion_id: RowId, body: CompanionBody, rider: Rider, session: SessionDep
                     ) -> CompanionPublic:
    """Rename a companion or change their category."""
    return favourites.change_companion(session, rider=rider, companion_id=companion_id, body=body)


@router.delete("/companions/{companion_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ONE)
def remove_companion(companion_id: RowId, rider: Rider, session: SessionDep) -> Response:
    """Forget a companion."""
    favourites.remove_companion(session, rider=rider, companion_id=companion_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/recurring-trips", responses=AUTH)
def list_recurring_trips(rider: Rider, session: SessionDep, live: DispatchDep) -> list[RecurringTripPublic]:
    """Your recurring trips, each with its newest days: booked, refused (with the cause) or no service."""
    return recurring.list_trips(session, rider=rider, zone=live.clock.zone)


@router.post("/recurring-trips", status_code=status.HTTP_201_CREATED, responses=FULL)
def create_recurring_trip(body: RecurringTripBody, rider: Rider, session: SessionDep, live: DispatchDep
                          ) -> RecurringTripPublic:
    """Save a weekly trip; each of its days is booked for you when it comes into the booking horizon."""
    return recurring.create_trip(session, rider=rider, zone=live.clock.zone, body=body)


@router.get("/recurring-trips/{trip_id}", responses=ONE)
def read_recurring_trip(trip_id: RowId, rider: Rider, session: SessionDep, live: DispatchDep
                        ) -> RecurringTripPublic:
    """One of your recurring trips with its newest days."""
    return recurring.read_trip(session, rider=rider, zone=live.clock.zone, trip_id=trip_id)


@router.put("/recurring-trips/{trip_id}", responses=ONE)
def change_recurring_trip(trip_id: RowId, body: RecurringTripBody, rider: Rider, session: SessionDep,
                          live: DispatchDep) -> RecurringTripPublic:
    """Replace a recurring trip's pattern (days already tried keep their outcome); ``active: false``
    pauses it."""
    return recurring.change_trip(session, rider=rider, zone=live.clock.zone, trip_id=trip_id, body=body)


@router.delete("/recurring-trips/{trip_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ONE)
def delete_recurring_trip(trip_id: RowId, rider: Rider, session: SessionDep) -> Response:
    """Remove a recurring trip; bookings it made stay (cancel them as any booking)."""
    recurring.delete_trip(session, rider=rider, trip_id=trip_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
