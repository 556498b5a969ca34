"""The dispatch vocabulary: requests, service rules, vehicles, stops, routes, plans, offers.

Everything here is an immutable value. Time is integer seconds on the service clock, whose zero is a
local midnight (so ``t % 86400`` is the time of day); distance is integer metres. Locations are the
integer ids a :class:`dispatch.travel.TravelTimes` source understands.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

DAY_S = 86_400
MAX_RULE_S = 366 * DAY_S  # the longest duration a service rule may set (keeps every sum far from overflow)


class TimeType(StrEnum):
    """What a request's ``time`` means."""

    LEAVE_AFTER = "leave_after"  # pick me up from `time` on
    ARRIVE_BY = "arrive_by"  # I must arrive by `time`


class StopKind(StrEnum):
    """What happens at a stop."""

    PICKUP = "pickup"
    DROPOFF = "dropoff"
    BREAK = "break"  # the driver's break, taken at the depot with nobody on board


class MeetingMode(StrEnum):
    """Where riders of an area board and alight (their area's rule)."""

    DOOR_TO_DOOR = "door_to_door"  # at the point they ask for
    STOPS_ONLY = "stops_only"  # only at meeting points (virtual stops)
    HYBRID = "hybrid"  # at their point, or at a meeting point within max_walk_m if that serves better


MAX_WALK_LIMIT_M = 2_000  # the farthest an operator may ask riders to walk to a meeting point
WALK_SPEED_M_S = 1.2  # a rider's walking speed (m/s): the design pace of the Highway Capacity Manual
MAX_OPTIONS = 5  # most pickup (and drop-off) candidates an insertion weighs per request


def walk_s(walk_m: int) -> int:
    """Seconds a rider takes to walk ``walk_m`` metres (rounded up)."""
    return -(-walk_m * 10 // round(WALK_SPEED_M_S * 10))


class RejectionCause(StrEnum):
    """Why a request cannot be served: a machine-readable code for every refusal."""

    OUTSIDE_AREA = "outside_area"  # origin or destination outside the service area
    OFF_ROAD = "off_road"  # origin or destination too far from any road
    OUTSIDE_HOURS = "outside_hours"
    BEYOND_HORIZON = "beyond_horizon"
    TOO_SHORT_NOTICE = "too_short_notice"
    TIME_IN_PAST = "time_in_past"
    SAME_ORIGIN_DESTINATION = "same_origin_destination"
    CAPACITY = "capacity"  # no vehicle has enough seats or wheelchair spaces at all
    NO_VEHICLE_IN_TIME = "no_vehicle_in_time"
    OFFER_EXPIRED = "offer_expired"
    OFFER_NO_LONGER_FEASIBLE = "offer_no_longer_feasible"
    VEHICLE_OUT_OF_SERVICE = "vehicle_out_of_service"
    NO_MEETING_POINT = "no_meeting_point"  # stops only, and no meeting point within walking reach


@dataclass(frozen=True)
class ServiceRules:
    """The operator's knobs. Validated on construction; all durations in seconds.

    Max ride time = min(alpha · direct + beta, direct + max_detour_s), as in MATSim's DRT.
    A stop's dwell = ``stop_dwell_s`` + ``boarding_s_per_passenger`` × passengers boarding or alighting.
    """

    max_wait_s: int = 15 * 60
    pickup_window_s: int = 10 * 60
    ride_alpha: float = 1.5
    ride_beta_s: int = 10 * 60
    max_detour_s: int = 30 * 60
    stop_dwell_s: int = 30
    boarding_s_per_passenger: int = 15
    booking_horizon_s: int = 7 * DAY_S
    min_notice_s: int = 0
    service_start_s: int = 5 * 3600  # standard hours (local time of day; a ServiceCalendar may
    service_end_s: int = 23 * 3600  # differ by weekday or date): first and last pickup
    offer_validity_s: int = 120
    no_show_wait_s: int = 3 * 60
    mode: MeetingMode = MeetingMode.DOOR_TO_DOOR  # where riders board and alight
    max_walk_m: int = 300  # farthest walk to a meeting point (stops_only, hybrid)

    def __post_init__(self) -> None:
        problems = []
        if self.mode not in tuple(MeetingMode):
            problems.append(f"mode must be one of {', '.join(MeetingMode)}")
        else:
            object.__setattr__(self, "mode", MeetingMode(self.mode))  # a plain string becomes the enum
        if not 0 <= self.max_walk_m <= MAX_WALK_LIMIT_M:
            problems.append(f"max_walk_m must lie between 0 and {MAX_WALK_LIMIT_M}")
        for name in ("max_wait_s", "pickup_window_s", "ride_beta_s", "max_detour_s", "stop_dwell_s",
                     "boarding_s_per_passenger", "min_notice_s", "no_show_wait_s"):
            if getattr(self, name) < 0:
                problems.append(f"{name} must not be negative")
        for name in ("max_wait_s", "pickup_window_s", "ride_beta_s", "max_detour_s", "stop_dwell_s",
                     "boarding_s_per_passenger", "booking_horizon_s", "min_notice_s", "offer_validity_s",
                     "no_show_wait_s"):
            if getattr(self, name) > MAX_RULE_S:
                problems.append(f"{name} must not exceed {MAX_RULE_S} s (a year)")
        if not 1.0 <= self.ride_alpha <= 5.0:
            problems.append("ride_alpha must lie between 1.0 and 5.0")
        if self.pickup_window_s > self.max_wait_s:
            problems.append("pickup_window_s must not exceed max_wait_s")
        if self.booking_horizon_s <= self.min_notice_s:
            problems.append("booking_horizon_s must exceed min_notice_s")
        if not 0 <= self.service_start_s < self.service_end_s <= DAY_S:
            problems.append("service hours must satisfy 0 <= start < end <= 24 h")
        if self.offer_validity_s <= 0:
            problems.append("offer_validity_s must be positive")
        if problems:
            raise ValueError("invalid service rules: " + "; ".join(problems))

    def max_ride_s(self, direct_s: int) -> int:
        """Longest ride a rider whose direct trip takes ``direct_s`` may be given."""
        return min(math.floor(self.ride_alpha * direct_s + self.ride_beta_s), direct_s + self.max_detour_s)

    def dwell_s(self, passengers: int) -> int:
        """Time a stop takes when ``passengers`` board or alight there."""
        return self.stop_dwell_s + self.boarding_s_per_passenger * passengers


@dataclass(frozen=True)
class PlaceOption:
    """A place where a rider may board or alight: a location, the metres the rider walks to or from it,
    and the meeting point it is (None: the rider's own door)."""

    location: int
    walk_m: int = 0
    meeting_point_id: str | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.walk_m <= MAX_WALK_LIMIT_M:
            raise ValueError(f"walk_m must lie between 0 and {MAX_WALK_LIMIT_M}")


@dataclass(frozen=True)
class Request:
    """A rider's wish: from where to where, when, for how many.

    ``pickup_options``/``dropoff_options``: the places the bus may serve instead of ``origin``/``destination``
    (meeting points within walking reach, the door among them or not); empty means the door only. Insertion
    weighs every pair (:mod:`dispatch.meeting`); the request it books is *resolved*: its origin and
    destination are the chosen places, each its only option.
    """

    id: str
    origin: int
    destination: int
    time_type: TimeType
    time: int
    submitted_at: int
    seats: int = 1
    wheelchairs: int = 0
    pickup_options: tuple[PlaceOption, ...] = ()
    dropoff_options: tuple[PlaceOption, ...] = ()

    def __post_init__(self) -> None:
        if self.seats < 0 or self.wheelchairs < 0 or self.seats + self.wheelchairs < 1:
            raise ValueError("a request needs at least one seat or wheelchair space, none negative")
        if len(self.pickup_options) > MAX_OPTIONS or len(self.dropoff_options) > MAX_OPTIONS:
            raise ValueError(f"a request may name at most {MAX_OPTIONS} pickup and drop-off options")

    @property
    def has_options(self) -> bool:
        """True when insertion still has to choose where the bus serves the request."""
        return not self.resolved and bool(self.pickup_options or self.dropoff_options)

    @property
    def resolved(self) -> bool:
        """True when each side names one option, the origin and destination themselves."""
        return (len(self.pickup_options) == 1 and len(self.dropoff_options) == 1
                and self.pickup_options[0].location == self.origin
                and self.dropoff_options[0].location == self.destination)

    @property
    def pickup_walk_m(self) -> int:
        """Metres the rider walks to the pickup of a resolved request (0: at the door)."""
        return self.pickup_options[0].walk_m if self.resolved else 0

    @property
    def dropoff_walk_m(self) -> int:
        """Metres the rider walks from the drop-off of a resolved request (0: at the door)."""
        return self.dropoff_options[0].walk_m if self.resolved else 0

    @property
    def passengers(self) -> int:
        """People travelling (seated and in wheelchairs)."""
        return self.seats + self.wheelchairs


@dataclass(frozen=True)
class TimeBounds:
    """A request's derived time bounds: the limits any plan must keep."""

    direct_s: int
    earliest_pickup: int
    latest_pickup: int
    latest_dropoff: int
    max_ride_s: int


def time_bounds(request: Request, direct_s: int, rules: ServiceRules) -> TimeBounds:
    """Derive pickup and drop-off bounds from the request's time constraint and the rules.

    Leave after T: picked up in [T, T + max wait]. Arrive by T: dropped off by T, picked up no
    earlier than max wait before the latest pickup that a direct ride would allow.
    A resolved request's walks shift the times: leave after T with a walk to the pickup: picked up from T +
    the walk on; arrive by T with a walk from the drop-off: dropped off by T minus that walk.
    """
    max_ride = rules.max_ride_s(direct_s)
    pickup_dwell = rules.dwell_s(request.passengers)
    if request.time_type is TimeType.LEAVE_AFTER:
        earliest = request.time + walk_s(request.pickup_walk_m)
        latest = earliest + rules.max_wait_s
        latest_dropoff = latest + pickup_dwell + max_ride
    else:
        latest_dropoff = request.time - walk_s(request.dropoff_walk_m)
        latest = latest_dropoff - direct_s - pickup_dwell
        earliest = latest - rules.max_wait_s - (max_ride - direct_s)
    return TimeBounds(direct_s, earliest, latest, latest_dropoff, max_ride)


@dataclass(frozen=True)
class Promise:
    """What a booked rider was told and the plan must keep: pickup window and latest arrival."""

    window_start: int
    window_end: int
    latest_dropoff: int
    max_ride_s: int


def promise_for(bounds: TimeBounds, planned_pickup: int, rules: ServiceRules) -> Promise:
    """The pickup window (``rules.pickup_window_s`` wide, inside the bounds) around a planned pickup."""
    width = min(rules.pickup_window_s, bounds.latest_pickup - bounds.earliest_pickup)
    start = planned_pickup - width // 2
    start = max(bounds.earliest_pickup, min(start, bounds.latest_pickup - width))
    return Promise(start, start + width, bounds.latest_dropoff, bounds.max_ride_s)


@dataclass(frozen=True)
class Break:
    """A driver's break: starts in [earliest_start, latest_start], lasts ``duration_s``; taken at
    ``location`` (None: the depot), with nobody on board."""

    earliest_start: int
    latest_start: int
    duration_s: int
    location: int | None = None

    def place(self, depot: int) -> int:
        """Where the break is taken by a bus based at ``depot``."""
        return depot if self.location is None else self.location


@dataclass(frozen=True)
class Vehicle:
    """A bus: capacities, home depot, shift and breaks."""

    id: str
    seats: int
    wheelchair_spaces: int
    depot: int
    shift_start: int
    shift_end: int
    breaks: tuple[Break, ...] = ()

    def __post_init__(self) -> None:
        if self.seats < 1 or self.wheelchair_spaces < 0:
            raise ValueError(f"vehicle {self.id}: needs at least one seat and no negative spaces")
        if self.shift_end <= self.shift_start:
            raise ValueError(f"vehicle {self.id}: shift must end after it starts")

    @property
    def capacity(self) -> tuple[int, int]:
        """Capacity per load dimension: (seats, wheelchair spaces)."""
        return (self.seats, self.wheelchair_spaces)


@dataclass(frozen=True)
class OnboardRider:
    """A rider in the bus: how much room they take and when they boarded (left the pickup)."""

    request_id: str
    seats: int
    wheelchairs: int
    departed_pickup_at: int


@dataclass(frozen=True)
class VehicleState:
    """Where a vehicle is now: the location it is at or will next reach, and when it is free there."""

    vehicle_id: str
    location: int
    available_at: int
    onboard: tuple[OnboardRider, ...] = ()
    in_service: bool = True


@dataclass(frozen=True)
class Stop:
    """One stop in a route, carrying every limit that applies to it.

    ``earliest``/``latest`` bound the start of service (a pickup's promised window, a drop-off's
    latest arrival, a break's start window). ``max_ride_s`` applies to drop-offs: their start of
    service minus the rider's departure from the pickup.
    """

    request_id: str
    kind: StopKind
    location: int
    earliest: int
    latest: int
    service_s: int
    seats: int = 0
    wheelchairs: int = 0
    max_ride_s: int = 0

    @property
    def load_change(self) -> tuple[int, int]:
        """Change of (seats, wheelchairs) on board when this stop is served."""
        sign = 1 if self.kind is StopKind.PICKUP else -1 if self.kind is StopKind.DROPOFF else 0
        return (sign * self.seats, sign * self.wheelchairs)


class RouteLock(StrEnum):
    """How an operator locked a route's stop order (:mod:`dispatch.manual`)."""

    NONE = "none"  # nothing locked: everything automatic may change the route
    ORDER = "order"  # its stops keep their order; new riders may still be inserted between them
    CLOSED = "closed"  # its stops keep their order, and it takes no new riders


@dataclass(frozen=True)
class Route:
    """One vehicle's ordered future stops. The first ``committed`` stops may not be reordered.

    ``pinned``: the booked riders an operator pinned to this bus — nothing automatic moves them to another
    (ids of riders no longer in the route mean nothing). ``lock``: how the operator locked its order."""

    vehicle_id: str
    stops: tuple[Stop, ...] = ()
    committed: int = 0
    pinned: frozenset[str] = frozenset()
    lock: RouteLock = RouteLock.NONE

    @property
    def locked(self) -> bool:
        """True when the operator locked the route's order."""
        return self.lock is not RouteLock.NONE

    @property
    def takes_riders(self) -> bool:
        """True when insertion may add new riders to the route."""
        return self.lock is not RouteLock.CLOSED


@dataclass(frozen=True)
class Offer:
    """What a rider is offered: a vehicle, a pickup window and an arrival estimate."""

    request_id: str
    vehicle_id: str
    pickup_window: tuple[int, int]
    planned_pickup: int
    estimated_dropoff: int
    latest_dropoff: int
    valid_until: int
    plan_version: int
    cost: float
    repaired: bool = False  # found by the repair before refusal: booking it moves other booked riders
    pickup: PlaceOption | None = None  # where the bus picks up and drops off, with the rider's walks
    dropoff: PlaceOption | None = None  # (None: at the door of a request without options)


@dataclass(frozen=True)
class Rejection:
    """Why a request got no offer, and other departure times that would work."""

    request_id: str
    cause: RejectionCause
    message: str
    alternatives: tuple[int, ...] = field(default=())  # request times (same time type) that would work
