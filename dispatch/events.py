"""Domain events: every change the dispatcher makes, as a value another layer can publish."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    """What happened. The API publishes each kind on a channel of the same name."""

    OFFER_MADE = "offer_made"
    REQUEST_REJECTED = "request_rejected"
    BOOKING_CONFIRMED = "booking_confirmed"
    BOOKING_CANCELLED = "booking_cancelled"
    ROUTE_CHANGED = "route_changed"
    VEHICLE_MOVED = "vehicle_moved"
    VEHICLE_ARRIVED = "vehicle_arrived"
    RIDER_PICKED_UP = "rider_picked_up"
    RIDER_DROPPED_OFF = "rider_dropped_off"
    RIDER_NO_SHOW = "rider_no_show"
    VEHICLE_OUT_OF_SERVICE = "vehicle_out_of_service"
    PLAN_REOPTIMIZED = "plan_reoptimized"
    RULES_CHANGED = "rules_changed"  # an operator put new service rules in force
    VEHICLE_IN_SERVICE = "vehicle_in_service"  # a withdrawn vehicle serves again
    VEHICLE_ADDED = "vehicle_added"  # an operator added a vehicle to the fleet
    VEHICLE_CHANGED = "vehicle_changed"  # an operator changed a vehicle (capacities, depot, name)
    SHIFTS_CHANGED = "shifts_changed"  # an operator added, changed or removed a vehicle's shift
    SERVICE_AREA_CHANGED = "service_area_changed"  # an operator put a new service area in force
    SERVICE_CALENDAR_CHANGED = "service_calendar_changed"  # an operator changed weekday hours or exceptions
    HORIZON_ROLLED = "horizon_rolled"  # the shifts within the booking horizon were planned anew
    BREAK_FINISHED = "break_finished"  # a driver's break is over
    PROMISE_CHANGED = "promise_changed"  # a late bus cannot keep a rider's promise: a new one is made
    # An operator's manual control of the plan (api.services.plan_control): written to the event log beside
    # its audit entry, not published (the routes it changes are, as route_changed):
    BOOKING_MOVED = "booking_moved"  # a booking went to another bus (moved by hand, or by an ad-hoc break)
    BOOKING_PINNED = "booking_pinned"  # a booking was pinned to its bus
    BOOKING_UNPINNED = "booking_unpinned"  # a booking's pin was taken off
    ROUTE_LOCKED = "route_locked"  # a bus's route order was locked
    ROUTE_UNLOCKED = "route_unlocked"  # a bus's route order was unlocked
    BREAK_ADDED = "break_added"  # an ad-hoc break was added to a bus's shift


@dataclass(frozen=True)
class DomainEvent:
    """One change: its kind, when it happened on the service clock, and who it concerns."""

    kind: EventKind
    time: int
    vehicle_id: str | None = None
    request_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
