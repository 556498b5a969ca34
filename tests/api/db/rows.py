"""Tiny hand-checkable rows for the database tests: one bus, one booking from node 1 to node 2."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.db.models import Booking, Event, PlannedStopRow, User, UserRole, Vehicle
from dispatch.dispatcher import RequestStatus
from dispatch.events import EventKind
from dispatch.model import StopKind, TimeType

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


def make_vehicle(vehicle_id: str = "bus-1") -> Vehicle:
    """An eight-seat bus with one wheelchair space, depot at node 100."""
    return Vehicle(id=vehicle_id, name=f"Bus {vehicle_id}", seats=8, wheelchair_spaces=1,
                   depot_lat=47.14, depot_lon=9.52, depot_node=100)


def make_rider(name: str = "ann") -> User:
    """A rider (the key hash is a placeholder: these tests never authenticate)."""
    return User(name=name, role=UserRole.RIDER, api_key_hash=f"hash-of-{name}")


def make_booking(booking_id: str = "r1", *, key: str | None = None, vehicle_id: str | None = "bus-1",
                 status: RequestStatus = RequestStatus.BOOKED, rider_id: int | None = None) -> Booking:
    """A booking from node 1 to node 2 leaving after 08:00, promised a pickup window 08:00–08:10."""
    return Booking(id=booking_id, idempotency_key=key, status=status, vehicle_id=vehicle_id,
                   rider_id=rider_id, origin_lat=47.10, origin_lon=9.50, origin_node=1,
                   destination_lat=47.20, destination_lon=9.55, destination_node=2,
                   time_type=TimeType.LEAVE_AFTER, requested_time=T0, submitted_at=T0 - timedelta(minutes=5),
                   seats=1, wheelchairs=0, direct_s=600, earliest_pickup=T0,
                   latest_pickup=T0 + timedelta(minutes=15), max_ride_s=1200,
                   window_start=T0, window_end=T0 + timedelta(minutes=10),
                   latest_dropoff=T0 + timedelta(minutes=35))


def make_route(booking_id: str, vehicle_id: str = "bus-1", *,
               first_sequence: int = 0) -> list[PlannedStopRow]:
    """Pickup at node 1 at 08:05, drop-off at node 2 at 08:20."""
    return [
        PlannedStopRow(vehicle_id=vehicle_id, sequence=first_sequence, booking_id=booking_id,
                    kind=StopKind.PICKUP, lat=47.10, lon=9.50, node=1,
                    planned_time=T0 + timedelta(minutes=5)),
        PlannedStopRow(vehicle_id=vehicle_id, sequence=first_sequence + 1, booking_id=booking_id,
                    kind=StopKind.DROPOFF, lat=47.20, lon=9.55, node=2,
                    planned_time=T0 + timedelta(minutes=20)),
    ]


def make_event(request_id: str = "r1", kind: EventKind = EventKind.BOOKING_CONFIRMED, *,
               minutes: int = 0) -> Event:
    """An event about ``request_id`` on bus-1, ``minutes`` after 08:00."""
    return Event(time=T0 + timedelta(minutes=minutes), kind=kind, actor="dispatcher", vehicle_id="bus-1",
                 request_id=request_id, payload={"window": [0, 600]})
