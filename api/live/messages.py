"""The messages of the live streams, as typed models.

The publisher makes a :class:`LiveMessage` per domain event and publishes it as JSON; the streams
send a first message of the current state (:class:`RouteFirst`, :class:`BookingFirst`,
:class:`FleetFirst`), then the live messages meant for their client — for a rider, each reduced to the
booking's view (:class:`BookingUpdate`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from api.schemas import BookingLive, BookingPublic


class VehiclePosition(BaseModel):
    """Where a bus was last seen (snapped to the road) and when."""

    lat: float
    lon: float
    at: datetime


class LiveMessage(BaseModel):
    """One published change of the plan: the domain event (``kind`` is its kind) with the plan version
    it belongs to. A message about one booking carries its ``booking`` view; ``vehicle_moved`` the bus's
    ``position`` and its riders' ``bookings``; ``route_changed`` the bus's new ``route`` (as
    ``GET /v1/driver/route`` answers) and its riders' ``bookings``."""

    kind: str
    time: datetime
    vehicle_id: str | None
    request_id: str | None
    data: dict[str, Any]
    plan_version: int
    booking: BookingLive | None = None
    bookings: list[BookingLive] | None = None
    position: VehiclePosition | None = None
    route: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """The message as published: JSON values, the parts it does not carry left out. The route, JSON
        already (:func:`api.services.route_view.route_json`, thousands of road positions), is passed on
        as it is: the same drawing the store keeps, not walked through again."""
        data = self.model_dump(mode="json", exclude_unset=True, exclude={"route"})
        if "route" in self.model_fields_set:
            data["route"] = self.route
        return data


class RouteFirst(BaseModel):
    """A driver's stream opens with the bus's latest route (null before the first)."""

    kind: Literal["route"] = "route"
    vehicle_id: str
    plan_version: int
    route: dict[str, Any] | None


class BookingFirst(BaseModel):
    """A rider's stream opens with the booking as ``GET /v1/bookings/{id}`` shows it."""

    kind: Literal["booking"] = "booking"
    plan_version: int
    booking: BookingPublic


class BookingUpdate(BaseModel):
    """A live message as a rider's stream passes it on: the event's kind and the booking's new view."""

    kind: str
    plan_version: int
    booking: BookingLive


class FleetFirst(BaseModel):
    """An operator's stream opens with the last known position of every bus."""

    kind: Literal["fleet"] = "fleet"
    plan_version: int
    positions: dict[str, VehiclePosition]
