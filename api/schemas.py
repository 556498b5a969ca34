"""The API's request and response bodies (pydantic). Times are aware ISO 8601 datetimes; answers carry
the service's local offset."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api.db.models import ServiceRulesBase
from api.positions import Ignored
from dispatch.dispatcher import RequestStatus
from dispatch.model import StopKind, TimeType


class Point(BaseModel):
    """A place in WGS 84."""

    model_config = ConfigDict(extra="forbid")

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class StopRef(BaseModel):
    """A named stop, by the id ``GET /v1/stops`` lists."""

    model_config = ConfigDict(extra="forbid")

    stop_id: str = Field(min_length=1, max_length=64)


class StopPublic(BaseModel):
    """A named stop riders can pick instead of a point."""

    id: str
    name: str
    kind: str
    lat: float
    lon: float


class QuoteCreate(BaseModel):
    """A rider asks for a trip: from where to where (a point or a stop), leaving after or arriving by
    ``time``, for how many."""

    model_config = ConfigDict(extra="forbid")

    origin: Point | StopRef
    destination: Point | StopRef
    time_type: TimeType
    time: AwareDatetime
    seats: int = Field(default=1, ge=1, le=50)
    wheelchairs: int = Field(default=0, ge=0, le=10)


class Window(BaseModel):
    """A pickup window: the bus arrives between ``start`` and ``end``."""

    start: datetime
    end: datetime


class StopPoint(BaseModel):
    """Where the bus stops for a rider, at the curb of a road buses may stop on: the position, the
    street (OSM name or ref; ``"A / B"`` at a corner, ``""`` on an unnamed road) and the rider's walk
    there in metres (to the road, then along it)."""

    lat: float
    lon: float
    street: str
    walk_m: int


class OfferPublic(BaseModel):
    """An offer; book it with ``POST /v1/bookings`` before ``valid_until``. The bus picks the rider up at
    ``pickup`` and sets them down at ``dropoff``."""

    quote_id: str
    pickup: StopPoint
    dropoff: StopPoint
    pickup_window: Window
    planned_pickup: datetime
    estimated_arrival: datetime
    latest_arrival: datetime
    valid_until: datetime


class BookingCreate(BaseModel):
    """Book the offer ``quote_id``."""

    model_config = ConfigDict(extra="forbid")

    quote_id: str = Field(min_length=1, max_length=64)


class BookingLive(BaseModel):
    """What changes of a booking while it is served, as the plan in force says: its status, bus, planned
    pickup and arrival (null once passed or over), and where its bus is while it is booked or on board
    (the bus's last reported position, snapped to the road, or its depot before any report). Pushed to
    the rider's stream with every change."""

    id: str
    status: RequestStatus
    vehicle_id: str | None
    planned_pickup: datetime | None = None
    estimated_arrival: datetime | None = None
    vehicle_position: Point | None = None


class BookingPublic(BookingLive):
    """A booking as its rider sees it: the live part (:class:`BookingLive`) with the promise made and
    where the bus stops (null for bookings made before stop points were kept)."""

    pickup: StopPoint | None
    dropoff: StopPoint | None
    pickup_window: Window
    latest_arrival: datetime
    booked_at: datetime | None


class BookingsPage(BaseModel):
    """One page of bookings, newest first; ``next_offset`` is null on the last page."""

    items: list[BookingPublic]
    total: int
    limit: int
    offset: int
    next_offset: int | None


class ErrorPublic(BaseModel):
    """Every error answer: a machine-readable ``code`` and a message for people."""

    code: str
    message: str
    detail: Any | None = None


Responses = dict[int | str, dict[str, Any]]  # a route's documented error answers, by status


class RejectionPublic(ErrorPublic):
    """No offer: ``code`` is the rejection cause; ``alternatives`` are request times that would work."""

    alternatives: list[datetime] = []


class LineString(BaseModel):
    """A GeoJSON LineString; coordinates are ``[lon, lat]`` pairs (WGS 84)."""

    type: Literal["LineString"] = "LineString"
    coordinates: list[tuple[float, float]]


class RouteStopPublic(BaseModel):
    """One stop a driver serves, in order: where (and on which street), when (planned), who boards or
    alights, and for a pickup the window promised to the rider."""

    kind: StopKind
    booking_id: str | None
    lat: float
    lon: float
    street: str
    planned_arrival: datetime
    planned_start: datetime
    planned_departure: datetime
    seats: int
    wheelchairs: int
    pickup_window: Window | None


class DriverRoutePublic(BaseModel):
    """A bus's route in force: its stops in order and the roads to drive, from where the bus is now
    through every stop (``null`` without stops)."""

    vehicle_id: str
    stops: list[RouteStopPublic]
    geometry: LineString | None


class StopAction(BaseModel):
    """The booking whose rider a driver picks up, drops off or reports as not come."""

    model_config = ConfigDict(extra="forbid")

    booking_id: str = Field(min_length=1, max_length=64)


class PositionReport(BaseModel):
    """Where the bus was, and when."""

    model_config = ConfigDict(extra="forbid")

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    at: AwareDatetime


class PositionsCreate(BaseModel):
    """A batch of positions, oldest first; the last one counts."""

    model_config = ConfigDict(extra="forbid")

    positions: list[PositionReport] = Field(min_length=1, max_length=1000)


class PositionsAccepted(BaseModel):
    """What became of a batch of positions: ``used`` when its last one is now where the bus is in the
    plan; otherwise ``ignored`` says why (``stale``: too old; ``out_of_order``: older than the last
    position used) and the plan is unchanged."""

    used: bool
    ignored: Ignored | None = None


# --- operators ---------------------------------------------------------------------------------------


class NextStopPublic(BaseModel):
    """One of a bus's next stops: what happens, for which booking (none for a break), when planned."""

    kind: StopKind
    booking_id: str | None
    planned_time: datetime


class Load(BaseModel):
    """Seats and wheelchair spaces taken."""

    seats: int
    wheelchairs: int


class FleetVehiclePublic(BaseModel):
    """A bus as the operator sees it: in service or not, where it is (its current location node), who is
    on board, its next stops (at most three) and how many stops its route has."""

    id: str
    in_service: bool
    position: Point
    load: Load
    next_stops: list[NextStopPublic]
    route_stops: int


class ServiceRulesBody(ServiceRulesBase):
    """Every field of the service rules (:class:`dispatch.model.ServiceRules`); durations in seconds,
    times of day as seconds after midnight. The fields are those of the table's base model."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]  # SQLModel's config is a ConfigDict


class ServiceRulesPublic(ServiceRulesBody):
    """The rules in force, since when, and which version (``null`` for the built-in defaults)."""

    version: int | None
    valid_from: datetime | None


class ReplannedBooking(BaseModel):
    """A booking moved to another bus."""

    booking_id: str
    vehicle_id: str


class RejectedBooking(BaseModel):
    """A booking no bus could take over; it has ended with ``cause``."""

    booking_id: str
    cause: str
    message: str


class OutOfServicePublic(BaseModel):
    """What withdrawing a bus did to its bookings."""

    vehicle_id: str
    replanned: list[ReplannedBooking]
    rejected: list[RejectedBooking]


class Distribution(BaseModel):
    """A distribution of durations in seconds: how many, mean, median and 95th percentile."""

    count: int
    mean: float
    p50: float
    p95: float


class KpisPublic(BaseModel):
    """Figures over bookings submitted in ``[start, end)`` and the shifts in that range; every definition
    is in :mod:`api.services.kpis`. Figures without data are ``null``."""

    start: datetime
    end: datetime
    bookings: int
    by_status: dict[str, int]
    by_rejection_cause: dict[str, int]
    mean_window_s: float | None
    served: int
    rejected: int
    refused_quotes_by_cause: dict[str, int]
    wait_s: Distribution | None
    ride_s: Distribution | None
    ride_time_factor: float | None
    window_kept_pct: float | None
    pooling_rate_pct: float | None
    vehicle_hours: float
    passengers_per_vehicle_hour: float | None
    occupancy: float | None
    vehicle_km: float


class ServiceAreaBody(BaseModel):
    """A new service area (a GeoJSON Polygon or MultiPolygon, ``[lon, lat]`` in WGS 84) and, optionally,
    new service hours (seconds after midnight: the first and the last pickup time of a day)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    geojson: dict[str, Any]
    service_start_s: int | None = Field(default=None, ge=0, le=86_400)
    service_end_s: int | None = Field(default=None, ge=0, le=86_400)


class ServiceAreaPublic(BaseModel):
    """The service area and hours in force; ``version`` is null for the built-in area."""

    version: int | None
    name: str
    valid_from: datetime | None
    geojson: dict[str, Any]
    area_km2: float
    service_start_s: int
    service_end_s: int


# --- operators: vehicles and shifts -------------------------------------------------------------------

VEHICLE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class VehicleCreate(BaseModel):
    """A new bus: its id (letters, digits, ``_.-``), name, capacities and depot (snapped to the roads)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=VEHICLE_ID_PATTERN)
    name: str = Field(min_length=1, max_length=120)
    seats: int = Field(ge=1, le=100)
    wheelchair_spaces: int = Field(default=0, ge=0, le=20)
    depot: Point


class VehicleUpdate(BaseModel):
    """A change to a bus; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=120)
    seats: int | None = Field(default=None, ge=1, le=100)
    wheelchair_spaces: int | None = Field(default=None, ge=0, le=20)
    depot: Point | None = None


class VehiclePublic(BaseModel):
    """A bus as stored, whether operators keep it in service (``active``), and whether the dispatcher
    plans with it now (``in_service``: active and on shift today or tomorrow)."""

    id: str
    name: str
    seats: int
    wheelchair_spaces: int
    depot: Point
    active: bool
    in_service: bool


class BreakBody(BaseModel):
    """A driver's break at the depot: it starts between ``earliest_start`` and ``latest_start``."""

    model_config = ConfigDict(extra="forbid")

    earliest_start: AwareDatetime
    latest_start: AwareDatetime
    duration_s: int = Field(ge=60, le=4 * 3600)


class ShiftBody(BaseModel):
    """A shift of a bus, with its breaks."""

    model_config = ConfigDict(extra="forbid")

    starts_at: AwareDatetime
    ends_at: AwareDatetime
    breaks: list[BreakBody] = Field(default=[], max_length=10)


class ShiftPublic(ShiftBody):
    """A stored shift."""

    id: int
    vehicle_id: str


# --- operators: the service calendar -----------------------------------------------------------------

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class DayHoursBody(BaseModel):
    """A day's service hours: the first and the last pickup time, local seconds after midnight
    (``start_s < end_s``; no overnight service)."""

    model_config = ConfigDict(extra="forbid")

    start_s: int = Field(ge=0, le=86_400)
    end_s: int = Field(ge=0, le=86_400)


class CalendarExceptionBody(BaseModel):
    """A local date that differs from its weekday, e.g. a public holiday: closed (``hours`` null) or open
    at special hours."""

    model_config = ConfigDict(extra="forbid")

    day: date
    name: str = Field(default="", max_length=120)
    hours: DayHoursBody | None = None


class ServiceCalendarBody(BaseModel):
    """The service calendar: hours per weekday (a weekday left out has the standard hours of the rules,
    one set to null is closed) and exceptions by date (at most one per date)."""

    model_config = ConfigDict(extra="forbid")

    weekdays: dict[Weekday, DayHoursBody | None] = Field(default_factory=dict)
    exceptions: list[CalendarExceptionBody] = Field(default_factory=list, max_length=1000)


class ServiceCalendarPublic(ServiceCalendarBody):
    """The calendar in force with the standard hours (the rules' ``service_start_s``/``service_end_s``)."""

    standard: DayHoursBody
