"""The API's request and response bodies (pydantic). Times are aware ISO 8601 datetimes; answers carry
the service's local offset."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    model_validator,
)

from api.db.models import (
    MEETING_POINT_NAME_LENGTH,
    PROFILE_NAME_LENGTH,
    Channel,
    CostSettingsBase,
    Currency,
    FairUseCapsBase,
    MeetingPointSource,
    NoticeKind,
    OccurrenceOutcome,
    OutboxStatus,
    PrivacySettingsBase,
    ServiceRulesBase,
)
from api.positions import Ignored
from dispatch.dispatcher import RequestStatus
from dispatch.fares import PassengerCategory
from dispatch.model import MeetingMode, RouteLock, StopKind, TimeType

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
    passengers: dict[PassengerCategory, Annotated[int, Field(ge=0, le=50)]] | None = Field(
        default=None, description="who travels, by category; sets seats (all but wheelchair users) and "
                                  "wheelchairs. Without it: seats adults and wheelchairs wheelchair users")

    @model_validator(mode="after")
    def _seats_from_passengers(self) -> QuoteCreate:
        if self.passengers is None:
            return self
        wheelchairs = self.passengers.get(PassengerCategory.WHEELCHAIR, 0)
        seats = sum(self.passengers.values()) - wheelchairs
        if not 1 <= seats + wheelchairs <= 50 or wheelchairs > 10:
            raise ValueError("passengers must count 1 to 50 people, at most 10 wheelchair users")
        if ("seats" in self.model_fields_set and self.seats != seats) or \
                ("wheelchairs" in self.model_fields_set and self.wheelchairs != wheelchairs):
            raise ValueError("seats and wheelchairs must agree with passengers (or be left out)")
        self.seats, self.wheelchairs = seats, wheelchairs
        return self

    def categories(self) -> dict[PassengerCategory, int]:
        """Who travels, by category (only categories with someone)."""
        counts = self.passengers if self.passengers is not None else {
            PassengerCategory.ADULT: self.seats, PassengerCategory.WHEELCHAIR: self.wheelchairs}
        return {category: n for category, n in counts.items() if n > 0}


class FareLinePublic(BaseModel):
    """The passengers of one category: how many, what one pays and what they pay together (minor units:
    cents, Rappen)."""

    category: PassengerCategory
    count: int
    unit_cents: int
    total_cents: int


class FarePublic(BaseModel):
    """What a trip costs under the tariff ``tariff_version``: the total and one line per passenger
    category, in minor units of ``currency``. A booking keeps the fare it was offered."""

    currency: Currency
    total_cents: int
    lines: list[FareLinePublic]
    tariff_version: int


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
    fare: FarePublic | None = None  # null: no tariff set, or the tariff cannot price this trip


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
    fare: FarePublic | None = None  # as offered (null: not priced)


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
    fare: FarePublic | None = None  # a pickup's: what to collect from its riders (null: not priced)
    pinned: bool = False  # the control room keeps this booking on this bus


class DriverRoutePublic(BaseModel):
    """A bus's route in force: its stops in order and the roads to drive, from where the bus is now
    through every stop (``null`` without stops); ``lock``: whether the control room fixed the order of the
    stops (``order``: new riders may still come between them; ``closed``: none)."""

    vehicle_id: str
    stops: list[RouteStopPublic]
    geometry: LineString | None
    lock: RouteLock = RouteLock.NONE


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
    """A driver's break: it starts between ``earliest_start`` and ``latest_start``, at the depot or, with
    ``place``, at the road point nearest it (an ad-hoc break taken where the bus stood keeps its place)."""

    model_config = BODY_CONFIG

    earliest_start: Instant
    latest_start: Instant
    duration_s: int = Field(ge=60, le=4 * 3600)
    place: Point | None = None


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
    fare: FarePublic | None = None  # as offered (null: not priced)


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


# --- riders' notices and notification settings, the operators' outbox ---------------------------------


class NoticePublic(BaseModel):
    """Something a rider was told about a booking (``kind``: booking_confirmed, pickup_changed,
    booking_cancelled), in their language: a title and text; ``read`` once marked read."""

    id: str
    kind: NoticeKind
    booking_id: str
    created_at: datetime
    read: bool
    title: str
    text: str


class NoticesPage(BaseModel):
    """One page of a rider's notices, newest first, and how many are unread in all."""

    items: list[NoticePublic]
    unread: int
    total: int
    limit: int
    offset: int
    next_offset: int | None


class NotificationSettingsBody(BaseModel):
    """A rider's notification choices: the language of notices and mails (``de``, ``en``; null: the
    agency's) and which e-mails they want; in-app notices are always kept."""

    model_config = BODY_CONFIG

    language: Literal["de", "en"] | None = None
    email_booking_confirmed: bool = True
    email_pickup_changed: bool = True
    email_booking_cancelled: bool = True


class NotificationSettingsPublic(NotificationSettingsBody):
    """The rider's choices, and whether an e-mail address is on file (mails go only there; null: in-app
    notices only)."""

    has_email: bool


class OutboxFailure(BaseModel):
    """An outbox message given up after its last attempt (no address or text: the booking tells whose)."""

    id: int
    channel: Channel
    kind: NoticeKind
    booking_id: str
    attempts: int
    last_error: str | None
    created_at: datetime


class OutboxRetried(BaseModel):
    """A failed message queued again: its state and when it is tried next."""

    id: int
    status: OutboxStatus
    next_attempt_at: datetime


class OutboxPublic(BaseModel):
    """The notification outbox at a glance: messages by status (pending, sending, sent, failed) and the
    newest failed ones."""

    counts: dict[OutboxStatus, int]
    failed: list[OutboxFailure]
# --- riders' favourite places, companions and recurring trips (api.services.favourites, .recurring) -------

ProfileName = Annotated[Text, StringConstraints(min_length=1, max_length=PROFILE_NAME_LENGTH,
                                                strip_whitespace=True)]
PlaceLabel = Annotated[Text, StringConstraints(max_length=PROFILE_NAME_LENGTH, strip_whitespace=True)]
MAX_RECURRING_DAYS = 366  # a pattern runs at most a year; the rider renews it


class FavouritePlaceBody(BaseModel):
    """A place the rider names (home, the doctor's)."""

    model_config = BODY_CONFIG

    name: ProfileName
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class FavouritePlacePublic(FavouritePlaceBody):
    """A favourite place with its id."""

    id: int


class CompanionBody(BaseModel):
    """A fellow traveller the rider often takes along, and their passenger category."""

    model_config = BODY_CONFIG

    name: ProfileName
    category: PassengerCategory


class CompanionPublic(CompanionBody):
    """A companion with its id."""

    id: int


class RecurringTripBody(BaseModel):
    """A weekly trip: on each of ``weekdays`` (0 = Monday … 6 = Sunday) from ``first_day`` to ``last_day``
    (local dates, at most a year apart), from ``origin`` to ``destination`` leaving after or arriving by
    the local wall-clock ``time`` ("HH:MM"; the same on both sides of a daylight-saving change), for
    ``seats`` and ``wheelchairs``. Each day is booked for the rider when it comes into the booking
    horizon."""

    model_config = BODY_CONFIG

    name: PlaceLabel = ""
    origin: Point
    origin_name: PlaceLabel = ""
    destination: Point
    destination_name: PlaceLabel = ""
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(min_length=1, max_length=7)
    time_type: TimeType
    time: str = Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="local wall-clock HH:MM")
    seats: int = Field(default=1, ge=1, le=50)
    wheelchairs: int = Field(default=0, ge=0, le=10)
    first_day: date
    last_day: date
    active: bool = True

    @model_validator(mode="after")
    def _check(self) -> RecurringTripBody:
        if len(set(self.weekdays)) != len(self.weekdays):
            raise ValueError("weekdays must not repeat")
        if not all(FIRST_YEAR <= day.year <= LAST_YEAR for day in (self.first_day, self.last_day)):
            raise ValueError(f"the days must lie in the years {FIRST_YEAR} to {LAST_YEAR}")
        if self.last_day < self.first_day:
            raise ValueError("last_day must not be before first_day")
        if (self.last_day - self.first_day).days >= MAX_RECURRING_DAYS:
            raise ValueError(f"a recurring trip spans at most {MAX_RECURRING_DAYS} days")
        return self


class OccurrencePublic(BaseModel):
    """One day of a recurring trip as it was tried: ``booked`` (``booking_id``), ``refused`` (``cause``: the
    refusal's code, e.g. ``no_vehicle_in_time`` or ``too_many_open_bookings``, and ``message``), or
    ``no_service`` that day."""

    day: date
    trip_time: datetime
    outcome: OccurrenceOutcome
    booking_id: str | None
    cause: str | None
    message: str | None
    tried_at: datetime


class RecurringTripPublic(RecurringTripBody):
    """A recurring trip with its id and its days tried so far, newest first (at most
    :data:`~api.services.recurring.OCCURRENCES_SHOWN`)."""

    id: int
    occurrences: list[OccurrencePublic] = []
# --- operators' manual control of the plan (api.services.plan_control) --------------------------------


class MoveBody(BaseModel):
    """Move a booking not yet picked up to another bus; ``pin`` keeps it there."""

    model_config = ConfigDict(extra="forbid")

    vehicle_id: Text = Field(min_length=1, max_length=64)
    pin: bool = False


class LockBody(BaseModel):
    """Lock a route's order; ``allow_insertions``: new riders may still be put between its stops."""

    model_config = ConfigDict(extra="forbid")

    allow_insertions: bool = False


class AdHocBreakBody(BaseModel):
    """An ad-hoc break for a bus: its start window and length, taken at the depot or where the bus stands
    now (``here``); ``move_riders``: riders whose promise the break would break go to other buses."""

    model_config = ConfigDict(extra="forbid")

    earliest_start: Instant
    latest_start: Instant
    duration_s: int = Field(ge=60, le=4 * 3600)
    at: Literal["depot", "here"] = "depot"
    move_riders: bool = False


class ControlRefusedPublic(ErrorPublic):
    """A manual change refused: ``code`` names the broken rule (capacity, time_window, ride_time,
    shift_end, break, …), ``bookings`` the riders whose promise it would break."""

    bookings: list[str] = []


class ControlledStopPublic(BaseModel):
    """A stop of a route as the control room sees it."""

    kind: StopKind
    booking_id: str | None
    planned_start: datetime
    pinned: bool


class ControlledRoutePublic(BaseModel):
    """A bus's route with the operator's lock and pins."""

    vehicle_id: str
    in_service: bool
    lock: str  # none, order (new riders may still be inserted), closed
    stops: list[ControlledStopPublic]


class ControlChangePublic(BaseModel):
    """What a manual change did: the buses whose routes changed, the bookings moved (id → bus), and the
    audit entry that records it."""

    action: str
    routes_changed: list[str]
    bookings_moved: dict[str, str]
    audit_id: int


class AuditEntryPublic(BaseModel):
    """One manual change of the plan: when, by whom, what, on which booking and buses, before and after."""

    id: int
    time: datetime
    operator_id: int
    operator_name: str
    action: str
    booking_id: str | None
    vehicle_id: str | None
    from_vehicle_id: str | None
    before: dict[str, Any]
    after: dict[str, Any]
# --- data protection (api.services.retention, api.services.privacy) ---------------------------------------


class PrivacySettingsBody(PrivacySettingsBase):
    """How long riders' data is kept exactly, and who sees what when
    (:class:`api.db.models.PrivacySettingsBase`): days until bookings' places are coarsened and until
    events are pruned; minutes before a pickup from which the rider sees the bus; the next stops (and
    minutes) for which a driver sees riders' contacts."""

    model_config = BODY_CONFIG  # type: ignore[assignment]  # SQLModel's config is a ConfigDict


class RetentionRunPublic(BaseModel):
    """What one retention run did (or, dry, would do): counts only."""

    ran_at: datetime
    dry_run: bool
    coarsened_before: datetime
    pruned_before: datetime
    bookings_coarsened: int
    events_pruned: int


class RetentionPublic(PrivacySettingsBody):
    """The privacy settings in force, since when, which version (``null``: the built-in defaults), and
    the last retention run (``null`` before the first)."""

    version: int | None
    valid_from: datetime | None
    last_run: RetentionRunPublic | None


class ErasurePublic(BaseModel):
    """A rider's data erased: when, on whose request, the rows changed by kind (bookings cancelled and
    anonymised, events unlinked, …), and whether this call did it (``false``: erased before)."""

    rider_id: int
    erased_at: datetime
    requested_by: str
    counts: dict[str, int]
    erased_now: bool


class DriverContactPublic(BaseModel):
    """Whom a driver may call about one of the next stops: the rider's name and phone (``null`` when
    not known), for that stop only."""

    booking_id: str
    kind: StopKind
    planned_start: datetime
    name: str
    phone: str | None
# --- the operator's tariff (api.services.tariff, dispatch.fares) -------------------------------------------

MAX_ZONE_CORNERS = 5000  # corners of all zones together: every offer looks its places up in them
MAX_PRICE_CENTS = 1_000_000  # 10,000.00: far above any bus fare; a larger figure is a typing error
Cents = Annotated[int, Field(ge=0, le=MAX_PRICE_CENTS)]
"""A price in minor units (cents, Rappen): a whole number from 0 to :data:`MAX_PRICE_CENTS`."""
ZoneName = Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=r"^[^\x00-\x1f\x7f]*$")]
Corner = tuple[Annotated[float, Field(ge=-180, le=180)], Annotated[float, Field(ge=-90, le=90)]]


class DistanceSchemeBody(BaseModel):
    """Full fare = ``base_cents`` + ``per_km_cents`` per km of the direct road distance from pickup to
    drop-off, rounded, at least ``minimum_cents`` and at most ``cap_cents`` (null: no cap)."""

    model_config = BODY_CONFIG

    kind: Literal["distance"]
    base_cents: Cents
    per_km_cents: Cents
    minimum_cents: Cents = 0
    cap_cents: Cents | None = None

    @model_validator(mode="after")
    def _cap_above_minimum(self) -> DistanceSchemeBody:
        if self.cap_cents is not None and self.cap_cents < self.minimum_cents:
            raise ValueError("cap_cents must not be below minimum_cents")
        return self


class ZoneBody(BaseModel):
    """A fare zone: its name and its outline, a ring of ``[lon, lat]`` corners (WGS 84)."""

    model_config = BODY_CONFIG

    name: ZoneName
    polygon: list[Corner] = Field(min_length=3, max_length=1000)


class ZoneSchemeBody(BaseModel):
    """Full fare by zones: ``matrix[from][to]`` for a trip from the pickup's zone to the drop-off's (every
    pair of zones), or ``by_count_cents[n - 1]`` for a trip whose straight line touches ``n`` zones (the last
    entry for more). A trip with an end outside every zone is offered without a fare."""

    model_config = BODY_CONFIG

    kind: Literal["zones"]
    zones: list[ZoneBody] = Field(min_length=1, max_length=50)
    matrix: dict[ZoneName, dict[ZoneName, Cents]] | None = None
    by_count_cents: list[Cents] | None = Field(default=None, min_length=1, max_length=50)

    @model_validator(mode="after")
    def _prices_for_every_zone(self) -> ZoneSchemeBody:
        names = [zone.name for zone in self.zones]
        if len(set(names)) != len(names):
            raise ValueError("zone names must be unique")
        if sum(len(zone.polygon) for zone in self.zones) > MAX_ZONE_CORNERS:
            raise ValueError(f"the zones may have at most {MAX_ZONE_CORNERS} corners in all")
        if (self.matrix is None) == (self.by_count_cents is None):
            raise ValueError("give either matrix or by_count_cents")
        if self.matrix is not None:
            pairs = {(a, b) for a, row in self.matrix.items() for b in row}
            if pairs != {(a, b) for a in names for b in names}:
                raise ValueError("matrix must price every pair of zones, and only zones named in zones")
        return self


class TariffBody(BaseModel):
    """The operator's tariff: the scheme of the full (adult) fare, concessions in percent off by passenger
    category (0–100; 100: free; adults always pay the full fare), the currency and the rounding step in
    its minor units (null: the currency's smallest coin, 1 cent or 5 Rappen). Every price must be a
    multiple of the step."""

    model_config = BODY_CONFIG

    currency: Currency = Currency.EUR
    rounding_cents: int | None = Field(default=None, ge=1, le=10_000)
    scheme: DistanceSchemeBody | ZoneSchemeBody = Field(discriminator="kind")
    concessions: dict[PassengerCategory, Annotated[int, Field(ge=0, le=100)]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> TariffBody:
        if PassengerCategory.ADULT in self.concessions:
            raise ValueError("adults pay the full fare: no concession for adult")
        coin = CURRENCY_STEP_CENTS[self.currency]
        step = self.step()
        if step % coin:
            raise ValueError(f"rounding_cents must be a multiple of {coin} for {self.currency.value}")
        if any(price % step for price in self._prices()):
            raise ValueError(f"every price must be a multiple of the rounding step ({step})")
        return self

    def step(self) -> int:
        """The rounding step in minor units."""
        return self.rounding_cents or CURRENCY_STEP_CENTS[self.currency]

    def _prices(self) -> list[int]:
        scheme = self.scheme
        if isinstance(scheme, DistanceSchemeBody):
            return [scheme.minimum_cents, *([scheme.cap_cents] if scheme.cap_cents is not None else [])]
        if scheme.matrix is not None:
            return [price for row in scheme.matrix.values() for price in row.values()]
        return list(scheme.by_count_cents or [])


CURRENCY_STEP_CENTS = {Currency.EUR: 1, Currency.CHF: 5}  # the smallest coin, in minor units


class TariffPublic(BaseModel):
    """The tariff in force (null: none set, offers carry no fare), since when, and which version."""

    tariff: TariffBody | None
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
