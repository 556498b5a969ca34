"""The service's tables (SQLModel). Each entity has a ``…Base`` with its shared fields and a table class;
the API's ``…Create``/``…Public`` models derive from the bases.

Datetimes are timezone-aware (:class:`api.db.types.UTCDateTime`); enums are stored as their text value.
Identifiers of vehicles and requests are the same strings the dispatch core uses.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from api.db.types import EnumText, UTCDateTime
from dispatch.dispatcher import RequestStatus
from dispatch.events import EventKind
from dispatch.fares import PassengerCategory  # companions are told apart as tariffs tell passengers
from dispatch.model import MeetingMode, RejectionCause, RouteLock, ServiceRules, StopKind, TimeType

ID_LENGTH = 64
EMAIL_LENGTH = 320  # RFC 5321's longest address
# An integer key that autoincrements everywhere (SQLite only does so for INTEGER PRIMARY KEY).
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# Requests the plan in force still has to serve: what a restarted service loads back.
ACTIVE_STATUSES: tuple[RequestStatus, ...] = (RequestStatus.BOOKED, RequestStatus.PICKED_UP)

# Named constraints, so that migrations can refer to them (SQLite's batch mode needs names).
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utc_now() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


class SimulationStatus(StrEnum):
    """Where an operator's simulation job stands; the last three are final."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class UserRole(StrEnum):
    """What a user may do."""

    RIDER = "rider"
    DRIVER = "driver"
    OPERATOR = "operator"


# --- vehicles and their shifts -------------------------------------------------------------------


class VehicleBase(SQLModel):
    name: str = Field(max_length=120)
    seats: int = Field(ge=1)
    wheelchair_spaces: int = Field(default=0, ge=0)
    depot_lat: float
    depot_lon: float
    depot_node: int = Field(sa_type=sa.BigInteger)  # routing node id the depot snaps to
    active: bool = True


class Vehicle(VehicleBase, table=True):
    """A bus of the fleet with its home depot; inactive buses are kept for history."""

    __tablename__ = "vehicles"

    id: str = Field(primary_key=True, max_length=ID_LENGTH)
    route_lock: RouteLock = Field(default=RouteLock.NONE, sa_type=EnumText(RouteLock, 16))  # an operator's
    # lock of its route's order (dispatch.manual)


class ShiftBase(SQLModel):
    vehicle_id: str = Field(foreign_key="vehicles.id", max_length=ID_LENGTH)
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)


class Shift(ShiftBase, table=True):
    """A period a vehicle is driven; its breaks are :class:`ShiftBreak` rows."""

    __tablename__ = "shifts"
    __table_args__ = (sa.Index("ix_shifts_vehicle_id_starts_at", "vehicle_id", "starts_at"),)

    id: int | None = Field(default=None, primary_key=True)


class ShiftBreakBase(SQLModel):
    shift_id: int = Field(foreign_key="shifts.id", index=True, ondelete="CASCADE")
    earliest_start: datetime = Field(sa_type=UTCDateTime)
    latest_start: datetime = Field(sa_type=UTCDateTime)
    duration_s: int = Field(ge=0)


class ShiftBreak(ShiftBreakBase, table=True):
    """A driver's break within a shift (mirrors :class:`dispatch.model.Break`), taken at the depot."""

    __tablename__ = "shift_breaks"

    id: int | None = Field(default=None, primary_key=True)
    node: int | None = Field(default=None, sa_type=sa.BigInteger)  # where it is taken (None: the depot),
    # e.g. where the bus stood when an operator added it


# --- the operator's rules and area ------------------------------------------------------------------


class ServiceRulesBase(SQLModel):
    """The fields of :class:`dispatch.model.ServiceRules`, one for one (durations in seconds)."""

    max_wait_s: int
    pickup_window_s: int
    ride_alpha: float
    ride_beta_s: int
    max_detour_s: int
    stop_dwell_s: int
    boarding_s_per_passenger: int
    booking_horizon_s: int
    min_notice_s: int
    service_start_s: int
    service_end_s: int
    offer_validity_s: int
    no_show_wait_s: int
    mode: MeetingMode = Field(default=MeetingMode.DOOR_TO_DOOR, sa_type=EnumText(MeetingMode, 16))
    max_walk_m: int = 300


class ServiceRulesVersion(ServiceRulesBase, table=True):
    """One version of the service rules. Rows are only added: the highest ``id`` is in force, the
    others are the history."""

    __tablename__ = "service_rules"

    id: int | None = Field(default=None, primary_key=True)
    valid_from: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    changed_by: int | None = Field(default=None, foreign_key="users.id")

    @classmethod
    def from_rules(cls, rules: ServiceRules, **extra: Any) -> ServiceRulesVersion:
        """A row holding ``rules``."""
        return cls(**dataclasses.asdict(rules), **extra)

    def to_rules(self) -> ServiceRules:
        """The (validated) dispatch value this row holds."""
        return ServiceRules(**{f.name: getattr(self, f.name) for f in dataclasses.fields(ServiceRules)})


class FairUseCapsBase(SQLModel):
    """What one rider may hold at once, set by operators (:mod:`api.services.fair_use`): open bookings
    (booked, pickup not yet past) and seats (wheelchair spaces included) in bookings whose pickup windows
    start less than ``slot_minutes`` apart."""

    max_open_bookings: int = Field(ge=1, le=1000)
    max_seats_per_slot: int = Field(ge=1, le=1000)
    slot_minutes: int = Field(ge=5, le=24 * 60)


class FairUseCaps(FairUseCapsBase, table=True):
    """One version of the fair-use caps. Rows are only added: the highest ``id`` is in force, the others
    are the history."""

    __tablename__ = "fair_use_caps"

    id: int | None = Field(default=None, primary_key=True)
    valid_from: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    changed_by: int | None = Field(default=None, foreign_key="users.id")


class ServiceAreaBase(SQLModel):
    name: str = Field(max_length=120)
    geojson: str = Field(sa_type=sa.Text)  # a GeoJSON Polygon or MultiPolygon (WGS 84)


class ServiceArea(ServiceAreaBase, table=True):
    """One version of the service area. Rows are only added: the highest ``id`` is in force."""

    __tablename__ = "service_areas"

    id: int | None = Field(default=None, primary_key=True)
    valid_from: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


# --- the operator's costs, for the county's reports ---------------------------------------------------


class Currency(StrEnum):
    """The currency the operator's costs are stated in."""

    EUR = "EUR"
    CHF = "CHF"


MAX_COST_PER_VEHICLE_HOUR = 10_000.0  # far above any bus with driver; a larger figure is a typing error
MAX_COST_PER_VEHICLE_KM = 1_000.0


class CostSettingsBase(SQLModel):
    """What a bus in service costs the operator: per vehicle-hour (driver, vehicle time) and per vehicle-km
    (fuel, wear), in ``currency``."""

    per_vehicle_hour: float = Field(ge=0, le=MAX_COST_PER_VEHICLE_HOUR)
    per_vehicle_km: float = Field(ge=0, le=MAX_COST_PER_VEHICLE_KM)
    currency: Currency = Field(default=Currency.EUR, sa_type=EnumText(Currency, 3))


class CostSettingsVersion(CostSettingsBase, table=True):
    """One version of the cost settings. Rows are only added: the highest ``id`` is in force (reports
    use it for every period), the others are the history."""

    __tablename__ = "cost_settings"

    id: int | None = Field(default=None, primary_key=True)
    valid_from: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    changed_by: int | None = Field(default=None, foreign_key="users.id")


# --- meeting points (virtual stops) -------------------------------------------------------------------


class MeetingPointSource(StrEnum):
    """Where a meeting point comes from."""

    OSM = "osm"  # a bus stop of the OSM extract
    GENERATED = "generated"  # a point generated along a road a bus can stop on
    OPERATOR = "operator"  # added by an operator (by hand or imported)


MEETING_POINT_NAME_LENGTH = 120


class MeetingPointBase(SQLModel):
    name: str = Field(max_length=MEETING_POINT_NAME_LENGTH)
    lat: float
    lon: float
    source: MeetingPointSource = Field(sa_type=EnumText(MeetingPointSource, 16))
    active: bool = True
    node: int = Field(sa_type=sa.BigInteger)  # the drive node a bus stops at


class MeetingPoint(MeetingPointBase, table=True):
    """A point riders may be asked to walk to, to board or alight (a virtual stop). Rows are never deleted:
    an operator deactivates a point, and a deactivated point is offered to nobody."""

    __tablename__ = "meeting_points"

    id: str = Field(primary_key=True, max_length=ID_LENGTH)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


# --- the operator's tariff (fares) ---------------------------------------------------------------------


class TariffVersion(SQLModel, table=True):
    """One version of the operator's tariff (:mod:`api.services.tariff`): the whole tariff as validated
    JSON (:class:`api.schemas.TariffBody`). Rows are only added: the highest ``id`` is in force for new
    offers, the others are the history; a booking keeps the fare it was offered."""

    __tablename__ = "tariffs"

    id: int | None = Field(default=None, primary_key=True)
    tariff: dict[str, Any] = Field(sa_type=sa.JSON)
    valid_from: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    changed_by: int | None = Field(default=None, foreign_key="users.id")


# --- the service calendar -----------------------------------------------------------------------------

# Both hours set within one day (no overnight service), or neither (closed).
_HOURS_CHECK = ("(start_s IS NULL AND end_s IS NULL) OR (start_s IS NOT NULL AND end_s IS NOT NULL "
                "AND start_s >= 0 AND start_s < end_s AND end_s <= 86400)")


class ServiceWeekday(SQLModel, table=True):
    """The service hours of one weekday (0 = Monday), local seconds after midnight; both null: closed.
    A weekday without a row has the standard hours of the rules (:mod:`dispatch.calendar`)."""

    __tablename__ = "service_weekdays"
    __table_args__ = (sa.CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday"),
                      sa.CheckConstraint(_HOURS_CHECK, name="hours"))

    weekday: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    start_s: int | None = None
    end_s: int | None = None


class ServiceException(SQLModel, table=True):
    """A local date that differs from its weekday (a public holiday): closed (hours null) or special
    hours. One per date."""

    __tablename__ = "service_exceptions"
    __table_args__ = (sa.CheckConstraint(_HOURS_CHECK, name="hours"),)

    day: date = Field(primary_key=True)
    name: str = Field(default="", max_length=120)
    start_s: int | None = None
    end_s: int | None = None


# --- riders' requests from offer to end ---------------------------------------------------------------


class BookingBase(SQLModel):
    origin_lat: float
    origin_lon: float
    origin_node: int = Field(sa_type=sa.BigInteger)
    destination_lat: float
    destination_lon: float
    destination_node: int = Field(sa_type=sa.BigInteger)
    time_type: TimeType = Field(sa_type=EnumText(TimeType, 16))
    requested_time: datetime = Field(sa_type=UTCDateTime)  # what `time_type` refers to
    seats: int = Field(default=1, ge=0)
    wheelchairs: int = Field(default=0, ge=0)


class Booking(BookingBase, table=True):
    """A rider's request and everything that happens to it: offered → booked → picked_up → completed,
    or cancelled, no_show, rejected (with its cause). Holds the request's bounds and the promise made."""

    __tablename__ = "bookings"
    # An idempotency key belongs to its rider: two riders may use the same key.
    __table_args__ = (sa.Index("ix_bookings_rider_id_idempotency_key", "rider_id", "idempotency_key",
                               unique=True),)

    id: str = Field(primary_key=True, max_length=ID_LENGTH)  # the dispatch Request.id
    rider_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    booked_by: int | None = Field(default=None, foreign_key="users.id")  # the rider, or the operator who
    # booked for a caller who phoned in
    idempotency_key: str | None = Field(default=None, max_length=200)
    status: RequestStatus = Field(sa_type=EnumText(RequestStatus, 16), index=True)
    rejection_cause: RejectionCause | None = Field(default=None, sa_type=EnumText(RejectionCause, 40))
    vehicle_id: str | None = Field(default=None, foreign_key="vehicles.id", index=True, max_length=ID_LENGTH)
    pinned: bool = False  # an operator pinned it to its bus (dispatch.manual)
    submitted_at: datetime = Field(sa_type=UTCDateTime)
    # bounds (dispatch.model.TimeBounds)
    direct_s: int | None = None
    earliest_pickup: datetime | None = Field(default=None, sa_type=UTCDateTime)
    latest_pickup: datetime | None = Field(default=None, sa_type=UTCDateTime)
    max_ride_s: int | None = None
    # promise (dispatch.model.Promise); set once offered
    window_start: datetime | None = Field(default=None, sa_type=UTCDateTime)
    window_end: datetime | None = Field(default=None, sa_type=UTCDateTime)
    latest_dropoff: datetime | None = Field(default=None, sa_type=UTCDateTime)
    offer_valid_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # where the bus stops (api.schemas.StopPoint); null for bookings made before stop points were kept
    pickup_lat: float | None = None
    pickup_lon: float | None = None
    pickup_street: str | None = Field(default=None, sa_type=sa.Text)
    pickup_walk_m: int | None = None
    dropoff_lat: float | None = None
    dropoff_lon: float | None = None
    dropoff_street: str | None = Field(default=None, sa_type=sa.Text)
    dropoff_walk_m: int | None = None
    # where the rider boards and alights when a meeting point (id, name, lat, lon, walk_m) was chosen, as
    # offered (a point moved or renamed later does not change what the rider was told); null: the door
    pickup_meeting_point: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    dropoff_meeting_point: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    # the fare offered, which the rider pays (api.schemas.FarePublic: currency, total, lines per passenger
    # category, tariff version), and its total in minor units; null: no tariff priced the trip
    fare: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    fare_total: int | None = None
    # lifecycle
    booked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    picked_up_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    dropped_off_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # cancelled, no-show, rejected
    # when its places were coarsened to grid cells (api.services.retention, or the rider's erasure)
    coarsened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime,
                                 sa_column_kwargs={"onupdate": utc_now})


class PlannedStop(SQLModel, table=True):
    """One stop of a vehicle's planned route, in order; a vehicle's rows are replaced as a whole."""

    __tablename__ = "planned_stops"
    __table_args__ = (sa.UniqueConstraint("vehicle_id", "sequence"),)

    id: int | None = Field(default=None, primary_key=True)
    vehicle_id: str = Field(foreign_key="vehicles.id", index=True, max_length=ID_LENGTH)
    sequence: int = Field(ge=0)
    booking_id: str | None = Field(default=None, foreign_key="bookings.id", index=True,
                                   max_length=ID_LENGTH)  # None for a break
    kind: StopKind = Field(sa_type=EnumText(StopKind, 16))
    lat: float
    lon: float
    node: int = Field(sa_type=sa.BigInteger)
    planned_time: datetime = Field(sa_type=UTCDateTime)  # planned start of service


@dataclasses.dataclass(frozen=True, slots=True)
class PlannedStopRow:
    """A planned stop to write (the columns of :class:`PlannedStop` but its id): routes are rewritten on
    every change of the plan, and plain values cost a fraction of ORM objects to build and insert."""

    vehicle_id: str
    sequence: int
    booking_id: str | None  # None for a break
    kind: StopKind
    lat: float
    lon: float
    node: int
    planned_time: datetime

    def values(self) -> dict[str, Any]:
        """The row as column values for an ``INSERT``."""
        return {name: getattr(self, name) for name in _PLANNED_STOP_COLUMNS}


_PLANNED_STOP_COLUMNS = tuple(field.name for field in dataclasses.fields(PlannedStopRow))


# --- the event log and the users ------------------------------------------------------------------------


class Event(SQLModel, table=True):
    """One entry of the append-only event log (a :class:`dispatch.events.DomainEvent` and who caused it).

    Vehicle and request ids are plain text, not foreign keys: the log outlives what it mentions.
    """

    __tablename__ = "events"

    id: int | None = Field(default=None, primary_key=True, sa_type=BIG_ID)
    time: datetime = Field(sa_type=UTCDateTime, index=True)
    kind: EventKind = Field(sa_type=EnumText(EventKind, 40), index=True)
    actor: str | None = Field(default=None, max_length=120)  # e.g. "dispatcher", "user:7"
    vehicle_id: str | None = Field(default=None, index=True, max_length=ID_LENGTH)
    request_id: str | None = Field(default=None, index=True, max_length=ID_LENGTH)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


class UserBase(SQLModel):
    name: str = Field(max_length=120)
    phone: str | None = Field(default=None, max_length=40, index=True)  # riders: as an operator took it down
    role: UserRole = Field(sa_type=EnumText(UserRole, 16))
    vehicle_id: str | None = Field(default=None, foreign_key="vehicles.id",
                                   max_length=ID_LENGTH)  # drivers: the bus they drive
    active: bool = True


class User(UserBase, table=True):
    """A rider, driver or operator. People sign in with their ``email`` and a one-time code
    (:mod:`api.accounts`); machine clients and drivers' tablets may hold an API key instead, of which only
    a hash is kept, valid until ``api_key_expires_at`` (null: until rotated or revoked). A rider an
    operator recorded for a phone booking has neither (yet): the same id keeps their bookings once they
    get one."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    # sign-in (api.accounts) and where riders' notifications go (api.services.notifications); lower case;
    # null: no e-mail sign-in, notices in the app only
    email: str | None = Field(default=None, max_length=254, unique=True, index=True)
    api_key_hash: str | None = Field(default=None, max_length=128, unique=True, index=True)
    api_key_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


# --- sign-in: one-time codes, sessions, refresh tokens, WebSocket tickets (api.accounts) ---------------


class SignInCode(SQLModel, table=True):
    """A one-time code mailed to ``email``: only its salted hash is kept; it signs in once, before
    ``expires_at``, within a few ``attempts``. A code asked for at sign-up carries the new rider's name
    and phone, and makes the account when it is confirmed. A code with ``for_user_id`` confirms ``email``
    as that user's new address instead, and signs nobody in (:mod:`api.accounts.email_change`)."""

    __tablename__ = "sign_in_codes"

    id: int | None = Field(default=None, primary_key=True, sa_type=BIG_ID)
    email: str = Field(max_length=254, index=True)
    code_hash: str = Field(max_length=128)
    salt: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    attempts: int = 0
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    signup_name: str | None = Field(default=None, max_length=120)
    signup_phone: str | None = Field(default=None, max_length=40)
    for_user_id: int | None = Field(default=None, sa_type=BIG_ID)  # no foreign key: erasure deletes these


class AuthSession(SQLModel, table=True):
    """One signed-in device: its current short-lived access token (hash) and the family of refresh
    tokens (:class:`RefreshToken`) that renew it, until ``expires_at`` or until revoked."""

    __tablename__ = "auth_sessions"

    id: str = Field(primary_key=True, max_length=32)
    user_id: int = Field(foreign_key="users.id", index=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    last_used_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    access_hash: str = Field(max_length=64, unique=True, index=True)
    access_expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_reason: str | None = Field(default=None, max_length=40)
    provider: str = Field(default="email", max_length=40)  # the identity provider that signed it in
    device: str | None = Field(default=None, max_length=200)  # the browser's User-Agent, shortened


class RefreshToken(SQLModel, table=True):
    """A refresh token of a session (hash only). It renews the session once: a token shown again after
    it was used is a stolen copy or a replay, and revokes the whole session."""

    __tablename__ = "refresh_tokens"

    token_hash: str = Field(primary_key=True, max_length=64)
    session_id: str = Field(foreign_key="auth_sessions.id", index=True, max_length=32)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebSocketTicket(SQLModel, table=True):
    """A single-use ticket that opens one live stream (``?ticket=``) within seconds of being issued, for
    the user and session (or API key: no session) that asked for it. Only its hash is kept."""

    __tablename__ = "ws_tickets"

    ticket_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="users.id")
    session_id: str | None = Field(default=None, max_length=32)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


# --- unmet demand -----------------------------------------------------------------------------------------


class DemandRecord(SQLModel, table=True):
    """One quote asked for, kept coarsened for the demand map (:mod:`api.services.demand`): the grid cells
    of its ends (:mod:`api.grid`, never the exact places), the local hour it was asked in and the hour
    of the trip asked for (as instants), the seats, and the cause when it was refused (null: offered)."""

    __tablename__ = "demand"
    __table_args__ = (sa.Index("ix_demand_trip_hour", "trip_hour"),
                      sa.Index("ix_demand_asked_hour", "asked_hour"))

    id: int | None = Field(default=None, primary_key=True, sa_type=BIG_ID)
    asked_hour: datetime = Field(sa_type=UTCDateTime)
    trip_hour: datetime = Field(sa_type=UTCDateTime)
    origin_cell: str = Field(max_length=40)
    destination_cell: str = Field(max_length=40)
    seats: int = Field(ge=0)
    cause: RejectionCause | None = Field(default=None, sa_type=EnumText(RejectionCause, 40))


# --- data protection ----------------------------------------------------------------------------------


class PrivacySettingsBase(SQLModel):
    """How long riders' data is kept exactly and who sees what when (:mod:`api.services.retention`,
    :mod:`api.services.booking_view`, :mod:`api.services.route_view`): bookings' places are coarsened
    to grid cells ``coarsen_after_days`` after the trip, the event log pruned after ``prune_after_days``;
    a rider sees their bus from ``bus_visible_minutes`` before their pickup until drop-off; a driver sees
    riders' names and phones for the next ``driver_contact_stops`` stops planned within
    ``driver_contact_minutes``."""

    coarsen_after_days: int = Field(ge=1, le=3650)
    prune_after_days: int = Field(ge=1, le=3650)
    bus_visible_minutes: int = Field(ge=0, le=240)
    driver_contact_stops: int = Field(ge=0, le=20)
    driver_contact_minutes: int = Field(ge=0, le=240)


class PrivacySettings(PrivacySettingsBase, table=True):
    """One version of the privacy settings. Rows are only added: the highest ``id`` is in force, the
    others are the history."""

    __tablename__ = "privacy_settings"

    id: int | None = Field(default=None, primary_key=True)
    valid_from: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    changed_by: int | None = Field(default=None, foreign_key="users.id")


class RetentionRun(SQLModel, table=True):
    """What one run of the retention job did: counts only, never whose data."""

    __tablename__ = "retention_runs"

    id: int | None = Field(default=None, primary_key=True)
    ran_at: datetime = Field(sa_type=UTCDateTime, index=True)
    coarsened_before: datetime = Field(sa_type=UTCDateTime)  # trips before this instant were coarsened
    pruned_before: datetime = Field(sa_type=UTCDateTime)  # events before this instant were pruned
    bookings_coarsened: int = 0
    events_pruned: int = 0


class Erasure(SQLModel, table=True):
    """A rider's data erased (:mod:`api.services.privacy`): when, on whose request, and how much; one per
    rider, so that erasing again changes nothing."""

    __tablename__ = "erasures"

    user_id: int = Field(primary_key=True, foreign_key="users.id", sa_column_kwargs={"autoincrement": False})
    erased_at: datetime = Field(sa_type=UTCDateTime)
    requested_by: str = Field(max_length=120)  # "rider" (themself) or "user:<operator id>"
    counts: dict[str, int] = Field(default_factory=dict, sa_type=sa.JSON)  # rows changed, by kind


# --- the live layer's fencing ------------------------------------------------------------------------


class DispatcherLease(SQLModel, table=True):
    """Which dispatcher may write the plan of a service area: the holder of the Redis lease with the
    highest ``epoch``. A worker taking over raises the epoch; each plan write checks it, in its own
    transaction, so a worker that lost its lease can no longer commit (see :mod:`api.live.fencing`)."""

    __tablename__ = "dispatcher_leases"

    area: str = Field(primary_key=True, max_length=120)
    epoch: int = Field(default=0, sa_type=BIG_ID)
    holder: str = Field(default="", max_length=200)
    acquired_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


# --- operators' simulation jobs ------------------------------------------------------------------------


class SimulationJob(SQLModel, table=True):
    """One operator's simulation study: what was asked (``params``, see :mod:`api.services.simulations`),
    who runs it and how far it got, and its results once done. The durable record of the job queue
    (:mod:`api.services.simulation_worker`): a worker claims a queued row, beats its heartbeat while it
    runs, and stores the results here, so they outlive the service."""

    __tablename__ = "simulation_jobs"

    id: str = Field(primary_key=True, max_length=ID_LENGTH)
    owner_id: int = Field(foreign_key="users.id", index=True)
    status: SimulationStatus = Field(sa_type=EnumText(SimulationStatus, 16), index=True)
    params: dict[str, Any] = Field(sa_type=sa.JSON)
    requests_total: int = 0
    requests_simulated: int = 0
    cancel_requested: bool = False
    worker: str | None = Field(default=None, max_length=200)  # "host:pid" of the process running it
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    kpis: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    figures: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    report_html: str | None = Field(default=None, sa_type=sa.Text)
    error: str | None = Field(default=None, sa_type=sa.Text)


# --- riders' notifications ------------------------------------------------------------------------------


class NoticeKind(StrEnum):
    """What a rider is told about (:mod:`api.services.notifications`)."""

    BOOKING_CONFIRMED = "booking_confirmed"
    PICKUP_CHANGED = "pickup_changed"  # a new promise: the pickup window moved
    BOOKING_CANCELLED = "booking_cancelled"  # by the service (an operator, a bus withdrawn), not the rider


class Channel(StrEnum):
    """How an outbox message reaches the rider."""

    EMAIL = "email"  # (a notice's push to the app goes out at its commit: api.services.notice_push)


class OutboxStatus(StrEnum):
    """Where an outbox message stands: ``sent`` and ``failed`` are final."""

    PENDING = "pending"  # waiting for its next attempt (``next_attempt_at``)
    SENDING = "sending"  # claimed by a sender until ``claimed_until``
    SENT = "sent"
    FAILED = "failed"  # gave up after the last attempt; operators see it


class NotificationPreferences(SQLModel, table=True):
    """A rider's choices: the language of their notices and mails (null: the agency's), and which kinds of
    e-mail they want (in-app notices are always kept). A rider without a row gets the defaults."""

    __tablename__ = "notification_preferences"

    user_id: int = Field(foreign_key="users.id", primary_key=True, sa_column_kwargs={"autoincrement": False})
    language: str | None = Field(default=None, max_length=8)
    email_booking_confirmed: bool = True
    email_pickup_changed: bool = True
    email_booking_cancelled: bool = True


class Notice(SQLModel, table=True):
    """One thing a rider is told about a booking, written in the transaction of the change that causes it:
    the kind and what the texts need (``data``: the booking reference, pickup and drop-off places by name,
    windows as instants — never coordinates). Rendered in the rider's language when read or sent."""

    __tablename__ = "notices"
    __table_args__ = (sa.Index("ix_notices_user_id_created_at", "user_id", "created_at"),)

    id: str = Field(primary_key=True, max_length=ID_LENGTH)
    user_id: int = Field(foreign_key="users.id")
    booking_id: str = Field(max_length=ID_LENGTH)  # plain text like the event log's: notices outlive it
    kind: NoticeKind = Field(sa_type=EnumText(NoticeKind, 40))
    data: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    created_at: datetime = Field(sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OutboxMessage(SQLModel, table=True):
    """One e-mail of a notice to ``recipient``, written with the notice; the sender
    (:mod:`api.services.outbox`) claims it, delivers it and marks it. ``message_id`` is fixed when the row
    is written, so a delivery repeated after a crash carries the same Message-ID."""

    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BIG_ID)
    notice_id: str = Field(foreign_key="notices.id", index=True, max_length=ID_LENGTH)
    channel: Channel = Field(sa_type=EnumText(Channel, 16))
    recipient: str = Field(max_length=EMAIL_LENGTH)
    message_id: str = Field(max_length=200)
    status: OutboxStatus = Field(default=OutboxStatus.PENDING, sa_type=EnumText(OutboxStatus, 16))
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, max_length=200)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
# --- riders' own things: favourite places, companions, recurring trips ---------------------------------

PROFILE_NAME_LENGTH = 120


class FavouritePlaceBase(SQLModel):
    name: str = Field(max_length=PROFILE_NAME_LENGTH)
    lat: float
    lon: float


class FavouritePlace(FavouritePlaceBase, table=True):
    """A place a rider saved under a name of their own (home, the doctor's), to pick when asking for a
    trip. Only its rider sees it."""

    __tablename__ = "favourite_places"

    id: int | None = Field(default=None, primary_key=True)
    rider_id: int = Field(foreign_key="users.id", index=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class CompanionBase(SQLModel):
    name: str = Field(max_length=PROFILE_NAME_LENGTH)
    category: PassengerCategory = Field(sa_type=EnumText(PassengerCategory, 16))


class Companion(CompanionBase, table=True):
    """A fellow traveller a rider often takes along; choosing companions when booking sets the seats."""

    __tablename__ = "companions"

    id: int | None = Field(default=None, primary_key=True)
    rider_id: int = Field(foreign_key="users.id", index=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class RecurringTrip(SQLModel, table=True):
    """A rider's weekly trip: on each of ``weekdays`` (0 = Monday) from ``first_day`` to ``last_day``
    (local dates), the trip at the local wall-clock ``local_time`` (leaving after or arriving by it), for
    ``seats`` and ``wheelchairs``. Each day's trip is quoted and booked for the rider once its day comes
    into the booking horizon (:mod:`api.services.recurring`); what happened is a
    :class:`RecurringOccurrence`."""

    __tablename__ = "recurring_trips"

    id: int | None = Field(default=None, primary_key=True)
    rider_id: int = Field(foreign_key="users.id", index=True)
    name: str = Field(default="", max_length=PROFILE_NAME_LENGTH)
    origin_lat: float
    origin_lon: float
    origin_name: str = Field(default="", max_length=PROFILE_NAME_LENGTH)
    destination_lat: float
    destination_lon: float
    destination_name: str = Field(default="", max_length=PROFILE_NAME_LENGTH)
    weekdays: list[int] = Field(sa_type=sa.JSON)
    time_type: TimeType = Field(sa_type=EnumText(TimeType, 16))
    local_time: str = Field(max_length=5)  # "HH:MM", the pattern's wall-clock time in the service's zone
    seats: int = Field(ge=0)
    wheelchairs: int = Field(ge=0)
    first_day: date
    last_day: date
    active: bool = True
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class OccurrenceOutcome(StrEnum):
    """What became of one day of a recurring trip."""

    BOOKED = "booked"  # quoted and booked: ``booking_id``
    REFUSED = "refused"  # no offer, or the booking was refused: ``cause`` and ``message`` say why
    NO_SERVICE = "no_service"  # the service does not run that day (a closed weekday or holiday)


class RecurringOccurrence(SQLModel, table=True):
    """One day of a recurring trip, once it was tried: booked, refused (with the refusal's cause), or
    skipped for want of service. One per trip and day: a day is tried once."""

    __tablename__ = "recurring_occurrences"
    __table_args__ = (sa.UniqueConstraint("recurring_trip_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    recurring_trip_id: int = Field(foreign_key="recurring_trips.id", index=True, ondelete="CASCADE")
    day: date
    trip_time: datetime = Field(sa_type=UTCDateTime)  # the instant of the pattern's time on that day
    outcome: OccurrenceOutcome = Field(sa_type=EnumText(OccurrenceOutcome, 16))
    booking_id: str | None = Field(default=None, max_length=ID_LENGTH)  # not a foreign key: kept as told
    cause: str | None = Field(default=None, max_length=40)
    message: str | None = Field(default=None, sa_type=sa.Text)
    tried_at: datetime = Field(sa_type=UTCDateTime)
class AuditEntry(SQLModel, table=True):
    """One manual change of the plan by an operator (:mod:`api.services.audit`): when, who (id and name as
    they were then), what, on which booking and buses, and a summary of before and after.

    Ids are plain text, not foreign keys: the log outlives what it mentions."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True, sa_type=BIG_ID)
    time: datetime = Field(sa_type=UTCDateTime, index=True)
    operator_id: int = Field(index=True)
    operator_name: str = Field(max_length=120)
    action: str = Field(max_length=40, index=True)
    booking_id: str | None = Field(default=None, index=True, max_length=ID_LENGTH)
    vehicle_id: str | None = Field(default=None, index=True, max_length=ID_LENGTH)  # the bus it concerns
    from_vehicle_id: str | None = Field(default=None, index=True, max_length=ID_LENGTH)  # a move's old bus
    before: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    after: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
