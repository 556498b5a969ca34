"""Small hand-checkable worlds for dispatch tests: points on a line or a plane, one matrix each."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from dispatch.model import Request, ServiceRules, Stop, StopKind, TimeType, time_bounds
from dispatch.travel import LegTimes, MatrixTravelTimes


def line_travel(positions_km: Sequence[float], speed_kmh: float = 60.0) -> MatrixTravelTimes:
    """The travel-time source of :func:`line_world`, for code (a Dispatcher) that wraps it itself."""
    xs = np.asarray(positions_km, dtype=float)
    metres = np.abs(xs[:, None] - xs[None, :]) * 1000
    seconds = np.ceil(metres / (speed_kmh / 3.6))
    return MatrixTravelTimes(seconds.astype(np.int64), np.round(metres).astype(np.int64))


def line_world(positions_km: Sequence[float], speed_kmh: float = 60.0) -> LegTimes:
    """Locations on a straight road; travel time at ``speed_kmh`` (60 km/h: 1 km = 60 s)."""
    return LegTimes(line_travel(positions_km, speed_kmh))


def plane_world(points_km: Sequence[tuple[float, float]], speed_kmh: float = 60.0) -> LegTimes:
    """Locations in the plane; Euclidean distances, times rounded up (keeps the triangle inequality)."""
    pts = np.asarray(points_km, dtype=float)
    metres = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1)) * 1000
    seconds = np.ceil(metres / (speed_kmh / 3.6))
    return LegTimes(MatrixTravelTimes(seconds.astype(np.int64), np.ceil(metres).astype(np.int64)))


def request_stops(request: Request, legs: LegTimes, rules: ServiceRules) -> tuple[Stop, Stop]:
    """Pickup and drop-off stops of an unbooked request, with its full time bounds."""
    bounds = time_bounds(request, legs.seconds(request.origin, request.destination), rules)
    dwell = rules.dwell_s(request.passengers)
    pickup = Stop(request.id, StopKind.PICKUP, request.origin, bounds.earliest_pickup, bounds.latest_pickup,
                  dwell, request.seats, request.wheelchairs)
    dropoff = Stop(request.id, StopKind.DROPOFF, request.destination, 0, bounds.latest_dropoff, dwell,
                   request.seats, request.wheelchairs, bounds.max_ride_s)
    return pickup, dropoff


def leave_after(rid: str, origin: int, destination: int, at: int, seats: int = 1,
                wheelchairs: int = 0) -> Request:
    """A leave-after request submitted at its own time."""
    return Request(rid, origin, destination, TimeType.LEAVE_AFTER, at, at, seats, wheelchairs)


def minutes(m: float) -> int:
    """Minutes as integer seconds."""
    return math.floor(m * 60)
