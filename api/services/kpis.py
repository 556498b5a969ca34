"""Key figures over a time range, for operators: what was served and refused, how long riders waited and
rode, whether promises were kept, how well buses were used.

The figures concern the bookings *submitted* in ``[start, end)`` and the shifts overlapping that range.
Definitions (times from the drivers' reports ``picked_up_at`` / ``dropped_off_at``):

- **served**: bookings completed (dropped off); **rejected**: bookings that ended rejected, by cause;
  **refused quotes**: quotes refused in the range (``request_rejected`` events; points outside the area
  or off the road included), by cause.
- **wait**: pickup time − requested time (leave-after trips) or − promised window start (arrive-by trips),
  over bookings picked up; **ride**: drop-off − pickup over completed bookings; each as count, mean, and
  the 50th and 95th percentiles (linear interpolation between the sorted values).
- **ride-time factor**: mean of ride time ÷ direct driving time over completed bookings.
- **promised window kept**: share (%) of the bookings picked up whose pickup lies inside the window.
- **pooling rate**: share (%) of completed bookings that were on board the same bus at the same time as
  at least one other completed booking of the range.
- **vehicle-hours**: the shifts' hours inside the range; **passengers per vehicle-hour**: passengers of
  completed bookings ÷ vehicle-hours; **occupancy**: passenger-hours on board (passengers × ride time) ÷
  vehicle-hours, i.e. the mean number of people on board per bus in service.
- **vehicle km**: per bus, the length of the fastest roads between its consecutive served stops
  (pickups and drop-offs of the range in the order of their reports); driving from and back to the
  depot is not counted.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlmodel import Session

from api.db.models import Booking, Shift
from api.db.repository import bookings_submitted, event_counts, shifts_between
from api.errors import InvalidRequest
from api.schemas import Distribution, KpisPublic
from api.services.booking import LiveDispatch
from dispatch.dispatcher import RequestStatus
from dispatch.events import EventKind
from dispatch.model import TimeType

Metres = Callable[[int, int], int]  # road distance between two road nodes
# The columns the figures read: loaded as plain rows, not as booking objects (an operator's screen asks
# every few seconds, and a busy day has thousands of bookings).
FIGURE_FIELDS = ("status", "rejection_cause", "window_start", "window_end", "picked_up_at", "dropped_off_at",
                 "direct_s", "seats", "wheelchairs", "time_type", "requested_time", "vehicle_id", "origin_node",
                 "destination_node")


def kpis(session: Session, *, live: LiveDispatch, start: datetime, end: datetime) -> KpisPublic:
    """The figures of the module docstring for ``[start, end)`` (422 ``invalid_range`` when empty)."""
    if end <= start:
        raise InvalidRequest("invalid_range", "'to' must lie after 'from'")
    rows = bookings_submitted(session, start=start, end=end, fields=FIGURE_FIELDS)
    shifts = shifts_between(session, start=start, end=end)
    refused = event_counts(session, kind=EventKind.REQUEST_REJECTED, by="cause", start=start, end=end)
    network = live.network
    zone = live.clock.zone
    return figures(rows, shifts, start=start.astimezone(zone), end=end.astimezone(zone),
                   metres=lambda a, b: network.travel(a, b)[1], refused=refused)


def figures(rows: Sequence[Booking], shifts: Sequence[Shift], *, start: datetime, end: datetime,
            metres: Metres, refused: dict[str, int]) -> KpisPublic:
    """The figures for booking rows and shifts already selected (pure: no database, no clock)."""
    picked = [r for r in rows if r.picked_up_at is not None]
    done = [r for r in picked if r.status is RequestStatus.COMPLETED and r.dropped_off_at is not None]
    waits = [_seconds(_wait_reference(r), r.picked_up_at) for r in picked]
    rides = [_seconds(r.picked_up_at, r.dropped_off_at) for r in done]
    factors = [ride / r.direct_s for ride, r in zip(rides, done) if r.direct_s]
    promised = [r for r in picked if r.window_start is not None and r.window_end is not None]
    kept = [r for r in promised if r.window_start <= r.picked_up_at <= r.window_end]  # type: ignore[operator]
    vehicle_s = sum(max(0.0, _seconds(max(s.starts_at, start), min(s.ends_at, end))) for s in shifts)
    passengers = sum(r.seats + r.wheelchairs for r in done)
    on_board_s = sum((r.seats + r.wheelchairs) * ride for r, ride in zip(done, rides))
    widths = [_seconds(r.window_start, r.window_end) for r in rows
              if r.window_start is not None and r.window_end is not None]
    hours = vehicle_s / 3600
    return KpisPublic(
        start=start, end=end, bookings=len(rows), by_status=dict(Counter(r.status.value for r in rows)),
        by_rejection_cause=dict(Counter(r.rejection_cause.value for r in rows
                                        if r.rejection_cause is not None)),
        mean_window_s=_mean(widths), served=len(done),
        rejected=sum(1 for r in rows if r.status is RequestStatus.REJECTED), refused_quotes_by_cause=refused,
        wait_s=_distribution(waits), ride_s=_distribution(rides), ride_time_factor=_mean(factors),
        window_kept_pct=100 * len(kept) / len(promised) if promised else None,
        pooling_rate_pct=100 * _pooled(done) / len(done) if done else None,
        vehicle_hours=hours, passengers_per_vehicle_hour=passengers / hours if hours else None,
        occupancy=on_board_s / vehicle_s if vehicle_s else None, vehicle_km=_vehicle_m(picked, metres) / 1000)


def _wait_reference(row: Booking) -> datetime:
    if row.time_type is TimeType.ARRIVE_BY and row.window_start is not None:
        return row.window_start
    return row.requested_time


def _seconds(first: datetime | None, last: datetime | None) -> float:
    assert first is not None and last is not None
    return (last - first).total_seconds()


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` (0–1) percentile of non-empty ``values``: linear interpolation between the sorted
    values at rank ``share · (n − 1)``."""
    ordered = sorted(values)
    rank = share * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _distribution(values: Sequence[float]) -> Distribution | None:
    if not values:
        return None
    return Distribution(count=len(values), mean=sum(values) / len(values), p50=percentile(values, 0.5),
                        p95=percentile(values, 0.95))


def _pooled(done: Sequence[Booking]) -> int:
    """How many of the completed bookings shared their bus, at some moment, with another of them."""
    by_vehicle: dict[str | None, list[Booking]] = defaultdict(list)
    for row in done:
        by_vehicle[row.vehicle_id].append(row)
    pooled = 0
    for vehicle_id, trips in by_vehicle.items():
        for row in trips:
            if vehicle_id is not None and any(
                    other is not row and other.picked_up_at < row.dropped_off_at  # type: ignore[operator]
                    and row.picked_up_at < other.dropped_off_at for other in trips):  # type: ignore[operator]
                pooled += 1
    return pooled


def _vehicle_m(picked: Sequence[Booking], metres: Metres) -> int:
    """Metres along the fastest roads between each bus's consecutive served stops."""
    stops: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    for row in picked:
        if row.vehicle_id is None or row.picked_up_at is None:
            continue
        stops[row.vehicle_id].append((row.picked_up_at, row.origin_node))
        if row.dropped_off_at is not None:
            stops[row.vehicle_id].append((row.dropped_off_at, row.destination_node))
    total = 0
    for served in stops.values():
        nodes = [node for _, node in sorted(served)]
        total += sum(metres(a, b) for a, b in zip(nodes, nodes[1:]) if a != b)
    return total
