"""The API's request and response bodies (pydantic). Times are aware ISO 8601 datetimes; answers carry
the service's local offset."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, JsonValue, StringConstraints

from api.db.models import (
    MEETING_POINT_NAME_LENGTH,
    CostSettingsBase,
    FairUseCapsBase,
    MeetingPointSource,
    ServiceRulesBase,
)
from api.positions import Ignored
from dispatch.dispatcher import RequestStatus
from dispatch.model import MeetingMode, StopKind, TimeType

# --- what every request body shares -------------------------------------------------------------------
# Bodies refuse unknown fields and numbers JSON cannot carry (NaN, Infinity, 1e999 read as infinity): every
# such input is a 422, never a value the dispatcher or the database sees.
BODY_CONFIG = ConfigDict(extra="forbid", allow_inf_nan=False)
FIRST_YEAR, LAST_YEAR = 2000, 2100  # instants outside these years are refused (far from any service day)


def _within_service_years(moment: datetime) -> datetime:
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise ValueError(f"the time must lie in the years {FIRST_YEAR} to {LAST_YEAR}")
    return moment


Instant = Annotated[AwareDatetime, AfterValidator(_within_service_years)]
"""An aware datetime in the years :data:`FIRST_YEAR` to :data:`LAST_YEAR` (so it converts to any zone
and to the service clock's seconds without overflow)."""

Text = Annotated[str, StringConstraints(pattern=r"^[^\x00-\x1f\x7f]*$")]
"""A string without control characters (NUL, line breaks, …): ids and names as they are stored."""


class Point(BaseModel):
    """A place in WGS 84."""

    model_config = BODY_CONFIG

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class StopRef(BaseModel):
    """A named stop, by the id ``GET /v1/stops`` lists."""

    model_config = BODY_CONFIG

    stop_id: Text = Field(min_length=1, max_length=64)


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

    model_config = BODY_CONFIG

    origin: Point | StopRef
    destination: Point | StopRef
    time_type: TimeType
    time: Instant
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


class ChosenMeetingPoint(BaseModel):
    """The meeting point a trip boards or alights at, and the rider's walk to or from it (metres)."""

    id: str
    name: str
    lat: float
    lon: float
    walk_m: int


class OfferPublic(BaseModel):
    """An offer; book it with ``POST /v1/bookings`` before ``valid_until``. The bus picks the rider up at
    ``pickup`` and sets them down at ``dropoff`` (the curb nearest the points asked for) — or, when the
    area's mode chose a meeting point for an end, at ``pickup_meeting_point`` / ``dropoff_meeting_point``
    (null: at the curb point)."""

    quote_id: str
    pickup: StopPoint
    dropoff: StopPoint
    pickup_window: Window
    planned_pickup: datetime
    estimated_arrival: datetime
    latest_arrival: datetime
    valid_until: datetime
    pickup_meeting_point: ChosenMeetingPoint | None = None
    dropoff_meeting_point: ChosenMeetingPoint | None = None


class BookingCreate(BaseModel):
    """Book the offer ``quote_id``."""

    model_config = BODY_CONFIG

    quote_id: Text = Field(min_length=1, max_length=64)


class BookingLive(BaseModel):
    """What changes of a booking while it is served, as the plan in force says: its status, bus, planned
    pickup and arrival (null once passed or over), and where its bus is while it is booked or on board
    (the bus's last reported position, snapped to the road, or its depot before any report), and the
    promise in force — the pickup window and latest arrival, which change when a late bus cannot keep them
    (``promise_changed``). Pushed to the rider's stream with every change."""

    id: str
    status: RequestStatus
    vehicle_id: str | None
    planned_pickup: datetime | None = None
    estimated_arrival: datetime | None = None
    vehicle_position: Point | None = None
    pickup_window: Window | None = None
    latest_arrival: datetime | None = None


class BookingPublic(BookingLive):
    """A booking as its rider sees it: the live part (:class:`BookingLive`) with the promise made and
    where the bus stops (null for bookings made before stop points were kept)."""

    pickup: StopPoint | None
    dropoff: StopPoint | None
    pickup_window: Window
    latest_arrival: datetime
    booked_at: datetime | None
    pickup_meeting_point: ChosenMeetingPoint | None = None  # as offered (null: at the point asked for)
    dropoff_meeting_point: ChosenMeetingPoint | None = None


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
    alights, and for a pickup the window promised to the rider. The next stop, a pickup where the bus
    stands, says how long to wait for a rider who does not come (``no_show_wait_s``, from the planned
    start: no longer than the stops after it can absorb, :func:`dispatch.disturbance.no_show_wait`)."""

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
    no_show_wait_s: int | None = None


class DriverRoutePublic(BaseModel):
    """A bus's route in force: its stops in order and the roads to drive, from where the bus is now
    through every stop (``null`` without stops)."""

    vehicle_id: str
    stops: list[RouteStopPublic]
    geometry: LineString | None


class StopAction(BaseModel):
    """The booking whose rider a driver picks up, drops off or reports as not come."""

    model_config = BODY_CONFIG

    booking_id: Text = Field(min_length=1, max_length=64)


class PositionReport(BaseModel):
    """Where the bus was, and when."""

    model_config = BODY_CONFIG

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    at: Instant


class PositionsCreate(BaseModel):
    """A batch of positions, oldest first; the last one counts."""

    model_config = BODY_CONFIG

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


class ExceptionKind(StrEnum):
    """What needs an operator's eye (definitions: :mod:`api.services.exceptions`)."""

    LATE_BUS = "late_bus"  # a bus behind what was promised for its stops
    PROMISE_AT_RISK = "promise_at_risk"  # a planned pickup or arrival close to the end of its promise
    PROMISE_BROKEN = "promise_broken"  # planned beyond the promise, or the promise was changed
    BUS_SILENT = "bus_silent"  # a bus in service without a position for a while
    RIDER_WAITING = "rider_waiting"  # a rider not picked up whose window has ended


class Severity(StrEnum):
    """How urgent an exception is."""

    WARNING = "warning"
    CRITICAL = "critical"


class ActionKind(StrEnum):
    """What the system did about an exception."""

    MOVED = "moved"  # the rider was moved to another bus
    PROMISE_CHANGED = "promise_changed"  # a new promise, told to the rider; operators alerted


class ExceptionActionPublic(BaseModel):
    """Something the system did: moved the rider to ``vehicle_id``, or promised a new pickup window ending
    at ``window_end``."""

    kind: ActionKind
    time: datetime
    vehicle_id: str | None = None
    window_end: datetime | None = None


class ExceptionPublic(BaseModel):
    """One exception: its kind and severity, the bus and booking concerned, ``minutes`` (late_bus: behind
    the promise; promise_broken: late; promise_at_risk: of slack left; bus_silent: since the last position
    or, without one, since the shift started; rider_waiting: past the window), the stop concerned with its
    planned time and the promised time it is judged against (``due_time``), the bus's last position used,
    and what the system did about it (empty: nothing yet)."""

    kind: ExceptionKind
    severity: Severity
    minutes: int
    vehicle_id: str | None = None
    booking_id: str | None = None
    stop: StopKind | None = None
    planned_time: datetime | None = None
    due_time: datetime | None = None
    last_position_at: datetime | None = None
    actions: list[ExceptionActionPublic] = []


class ExceptionsPublic(BaseModel):
    """The exceptions at ``now``, most urgent first."""

    now: datetime
    exceptions: list[ExceptionPublic]


class ServiceRulesBody(ServiceRulesBase):
    """Every field of the service rules (:class:`dispatch.model.ServiceRules`); durations in seconds,
    times of day as seconds after midnight. The fields are those of the table's base model."""

    model_config = BODY_CONFIG  # type: ignore[assignment]  # SQLModel's config is a ConfigDict


class ServiceRulesPublic(ServiceRulesBody):
    """The rules in force, since when, and which version (``null`` for the built-in defaults)."""

    version: int | None
    valid_from: datetime | None


class FairUseCapsBody(FairUseCapsBase):
    """The caps on what one rider may hold (:mod:`api.services.fair_use`): open bookings, and seats per
    ``slot_minutes`` of pickup time."""

    model_config = BODY_CONFIG  # type: ignore[assignment]  # SQLModel's config is a ConfigDict


class FairUseCapsPublic(FairUseCapsBody):
    """The caps in force, since when, and which version (``null`` for the built-in defaults)."""

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
    quotes_asked: int = 0  # quotes asked in the range (api.services.demand), offered or refused
    quotes_refused: int = 0


class ServiceAreaBody(BaseModel):
    """A new service area (a GeoJSON Polygon or MultiPolygon, ``[lon, lat]`` in WGS 84) and, optionally,
    new service hours (seconds after midnight: the first and the last pickup time of a day)."""

    model_config = BODY_CONFIG

    name: Text = Field(min_length=1, max_length=120)
    geojson: dict[str, JsonValue]
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

    model_config = BODY_CONFIG

    id: str = Field(pattern=VEHICLE_ID_PATTERN)
    name: Text = Field(min_length=1, max_length=120)
    seats: int = Field(ge=1, le=100)
    wheelchair_spaces: int = Field(default=0, ge=0, le=20)
    depot: Point


class VehicleUpdate(BaseModel):
    """A change to a bus; fields left out stay as they are."""

    model_config = BODY_CONFIG

    name: Text | None = Field(default=None, min_length=1, max_length=120)
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

    model_config = BODY_CONFIG

    earliest_start: Instant
    latest_start: Instant
    duration_s: int = Field(ge=60, le=4 * 3600)


class ShiftBody(BaseModel):
    """A shift of a bus, with its breaks."""

    model_config = BODY_CONFIG

    starts_at: Instant
    ends_at: Instant
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

    model_config = BODY_CONFIG

    start_s: int = Field(ge=0, le=86_400)
    end_s: int = Field(ge=0, le=86_400)


class CalendarExceptionBody(BaseModel):
    """A local date that differs from its weekday, e.g. a public holiday: closed (``hours`` null) or open
    at special hours."""

    model_config = BODY_CONFIG

    day: date
    name: Text = Field(default="", max_length=120)
    hours: DayHoursBody | None = None


class ServiceCalendarBody(BaseModel):
    """The service calendar: hours per weekday (a weekday left out has the standard hours of the rules,
    one set to null is closed) and exceptions by date (at most one per date)."""

    model_config = BODY_CONFIG

    weekdays: dict[Weekday, DayHoursBody | None] = Field(default_factory=dict)
    exceptions: list[CalendarExceptionBody] = Field(default_factory=list, max_length=1000)


class ServiceCalendarPublic(ServiceCalendarBody):
    """The calendar in force with the standard hours (the rules' ``service_start_s``/``service_end_s``)."""

    standard: DayHoursBody


# --- the booking desk and unmet demand (api.services.desk, api.services.demand) ---------------------------


class RiderCreate(BaseModel):
    """A caller an operator records to book for: a name and, optionally, a phone number."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    phone: str | None = Field(default=None, min_length=3, max_length=40, pattern=r"^\+?[0-9 ()./-]+$")


class RiderPublic(BaseModel):
    """A rider: id (the same once they get an account), name, phone, and whether they hold an API key."""

    id: int
    name: str
    phone: str | None
    has_key: bool


class UserRef(BaseModel):
    """Who a user is, for display."""

    id: int
    name: str


class DeskBookingPublic(BaseModel):
    """A booking as the operators' desk lists it: rider, who booked it, bus, places and times."""

    id: str
    status: RequestStatus
    rejection_cause: str | None
    rider: RiderPublic | None
    booked_by: UserRef | None
    vehicle_id: str | None
    origin: Point
    destination: Point
    time_type: TimeType
    requested_time: datetime
    seats: int
    wheelchairs: int
    pickup_window: Window | None
    latest_arrival: datetime | None
    submitted_at: datetime
    booked_at: datetime | None
    ended_at: datetime | None


class DeskBookingsPage(BaseModel):
    """One page of the desk's search, by pickup time; ``next_offset`` is null on the last page."""

    items: list[DeskBookingPublic]
    total: int
    limit: int
    offset: int
    next_offset: int | None


class EventPublic(BaseModel):
    """One entry of the event log: what happened, when, caused by whom (``actor``: e.g. ``user:7``,
    ``dispatcher``; ``actor_name`` for a user), and its details."""

    time: datetime
    kind: str
    actor: str | None
    actor_name: str | None
    vehicle_id: str | None
    payload: dict[str, Any]


class DeskBookingDetail(DeskBookingPublic):
    """A booking with every event of the log concerning it, oldest first."""

    events: list[EventPublic]


class DemandCellPublic(BaseModel):
    """What was asked for in one grid cell (centre ``lat``/``lon``) and local hour of the trip: quotes
    asked, bookings made (served), quotes refused, and refusals by cause."""

    cell: str
    lat: float
    lon: float
    hour: datetime
    asked: int
    served: int
    refused: int
    refused_by_cause: dict[str, int]


class DemandPublic(BaseModel):
    """Demand over ``[start, end)`` per cell of about ``cell_m`` metres and hour, counted at the trips'
    ``end`` (origin or destination)."""

    start: datetime
    end: datetime
    cell_m: int
    at: str
    cells: list[DemandCellPublic]
# --- meeting points (virtual stops) -------------------------------------------------------------------

MEETING_POINT_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class MeetingPointCreate(BaseModel):
    """A meeting point an operator adds by hand (an id is made up when none is given)."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, pattern=MEETING_POINT_ID)
    name: str = Field(min_length=1, max_length=MEETING_POINT_NAME_LENGTH)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class MeetingPointUpdate(BaseModel):
    """What an operator changes of one meeting point: its name, its position (moving it), or whether it is
    offered (``active: false`` deactivates it)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=MEETING_POINT_NAME_LENGTH)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    active: bool | None = None


class MeetingPointPublic(BaseModel):
    """A meeting point: where, its name, where it comes from, whether it is offered."""

    id: str
    name: str
    lat: float
    lon: float
    source: MeetingPointSource
    active: bool


class MeetingPointImportPublic(BaseModel):
    """What an import did: points added, points changed, and how many are stored now."""

    created: int
    updated: int
    total: int


class WalkPublic(BaseModel):
    """A rider's walk to a meeting point: its metres and its path (a GeoJSON LineString, [lon, lat])."""

    meeting_point: MeetingPointPublic
    metres: int
    path: dict[str, Any]


class MeetingPointCandidatePublic(BaseModel):
    """A meeting point within walking reach of a place, with the walk's metres."""

    meeting_point: MeetingPointPublic
    walk_m: int


class MeetingPointCandidatesPublic(BaseModel):
    """The area's meeting mode, its walking limit and the meeting points within it, nearest walk first
    (none in ``door_to_door`` mode)."""

    mode: MeetingMode
    max_walk_m: int
    candidates: list[MeetingPointCandidatePublic]


# --- the operator's costs (reports) ------------------------------------------------------------------


class CostSettingsBody(CostSettingsBase):
    """What a vehicle-hour and a vehicle-km cost, and in which currency: finite, at least 0, at most
    :data:`api.db.models.MAX_COST_PER_VEHICLE_HOUR` and :data:`~api.db.models.MAX_COST_PER_VEHICLE_KM`."""

    model_config = BODY_CONFIG  # type: ignore[assignment]  # SQLModel's config is a ConfigDict


class CostSettingsPublic(CostSettingsBody):
    """The cost settings in force, since when, and which version (``null``: none set yet, all zero)."""

    version: int | None
    valid_from: datetime | None


# --- the riders' address and place search ----------------------------------------------------------------


class PlaceHitPublic(BaseModel):
    """A place found by the search: what it is (``address``, ``place``, ``stop``, ``poi``, ``street``),
    its name and where (``detail``: postcode and town), its position, whether it lies in the service area,
    and where the bus would stop for it — the position snapped to the curb as a quote snaps it (``null``
    outside the area or too far from a road buses may stop on)."""

    id: str
    kind: Literal["address", "place", "stop", "poi", "street"]
    name: str
    detail: str
    label: str
    lat: float
    lon: float
    in_area: bool
    stop_point: StopPoint | None
