"""Key figures over a time range, for operators: what was served and refused, how long riders waited and
rode, whether promises were kept, how well buses were used.

The figures concern the bookings *submitted* in ``[start, end)`` and the shifts overlapping that range.
The figures about trips (wait, ride, ride-time factor, promised window kept, pooling, passengers per
vehicle-hour, occupancy) are those the simulator reports too, defined once in :mod:`dispatch.kpis`;
here the bus's arrival at a pickup is the driver's first "arrived" report for it (the pickup report
when the driver sent none), the pickup and drop-off are the drivers' reports ``picked_up_at`` /
``dropped_off_at``, and the buses' service time is their shifts' hours inside the range. The rest is
the live service's own:

- **served**: bookings completed (dropped off); **rejected**: bookings that ended rejected, by cause;
  **refused quotes**: quotes refused in the range (``request_rejected`` events; points outside the area
  or off the road included), by cause.
- **quotes asked / refused**: quotes asked in the range (by the local hour they were asked in, from the
  coarsened demand records of :mod:`api.services.demand`), offered or refused, and those refused.
- **vehicle-hours**: the shifts' hours inside the range.
- **vehicle km**: per bus, the length of the fastest roads between its consecutive served stops
  (pickups and drop-offs of the range in the order of their reports); driving from and back to the
  depot is not counted.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from api.db.models import Booking, Event, Shift
from api.db.repository import bookings_submitted, event_counts, shifts_between
from api.errors import InvalidRequest
from api.schemas import Distribution, KpisPublic
from api.services.booking import LiveDispatch
from api.services.demand import demand_totals
from dispatch.dispatcher import RequestStatus
from dispatch.events import EventKind
from dispatch.kpis import Summary, TripOutcome, ready_time, trip_figures
from dispatch.model import StopKind

Metres = Callable[[int, int], int]  # road distance between two road nodes
# The columns the figures read: loaded as plain rows, not as booking objects (an operator's screen asks
# every few seconds, and a busy day has thousands of bookings).
FIGURE_FIELDS = ("id", "status", "rejection_cause", "window_start", "window_end", "picked_up_at",
                 "dropped_off_at", "direct_s", "seats", "wheelchairs", "time_type", "requested_time",
                 "vehicle_id", "origin_node", "destination_node")


def kpis(session: Session, *, live: LiveDispatch, start: datetime, end: datetime) -> KpisPublic:
    """The figures of the module docstring for ``[start, end)`` (422 ``invalid_range`` when empty)."""
    if end <= start:
        raise InvalidRequest("invalid_range", "'to' must lie after 'from'")
    rows = bookings_submitted(session, start=start, end=end, fields=FIGURE_FIELDS)
    shifts = shifts_between(session, start=start, end=end)
    refused = event_counts(session, kind=EventKind.REQUEST_REJECTED, by="cause", start=start, end=end)
    arrivals = pickup_arrivals(session, start=start, end=end)
    network = live.network
    zone = live.clock.zone
    result = figures(rows, shifts, start=start.astimezone(zone), end=end.astimezone(zone),
                     metres=lambda a, b: network.travel(a, b)[1], refused=refused, arrivals=arrivals)
    result.quotes_asked, result.quotes_refused = demand_totals(session, start=start, end=end)
    return result


def pickup_arrivals(session: Session, *, start: datetime, end: datetime, by: str = "submitted_at"
                    ) -> dict[str, datetime]:
    """When a bus first reported arriving at the pickup of each booking whose ``by`` instant
    (``submitted_at``, or ``requested_time`` for the reports) lies in ``[start, end)``
    (``vehicle_arrived`` events), by booking id; bookings without such a report are missing."""
    stop_kind = col(Event.payload)["kind"].as_string()
    moment = col(getattr(Booking, by))
    query = (select(Event.request_id, func.min(Event.time))
             .join(Booking, col(Booking.id) == col(Event.request_id))
             .where(Event.kind == EventKind.VEHICLE_ARRIVED, stop_kind == StopKind.PICKUP.value,
                    moment >= start, moment < end)
             .group_by(Event.request_id))
    return {str(request_id): moment for request_id, moment in session.exec(query).all()}


def figures(rows: Sequence[Booking], shifts: Sequence[Shift], *, start: datetime, end: datetime,
            metres: Metres, refused: dict[str, int], arrivals: Mapping[str, datetime] | None = None
            ) -> KpisPublic:
    """The figures for booking rows, shifts and pickup arrivals (:func:`pickup_arrivals`) already
    selected (pure: no database, no clock)."""
    # In UTC: Python subtracts two datetimes of the same zone as wall-clock times (24 h over a 25-h day).
    lo, hi = start.astimezone(UTC), end.astimezone(UTC)
    vehicle_s = sum(max(0.0, (min(s.ends_at.astimezone(UTC), hi) - max(s.starts_at.astimezone(UTC), lo))
                         .total_seconds()) for s in shifts)
    arrivals = arrivals or {}
    trips = trip_figures([trip_outcome(r, arrivals.get(r.id)) for r in rows], vehicle_s)
    widths = [(r.window_end - r.window_start).total_seconds() for r in rows
              if r.window_start is not None and r.window_end is not None]
    return KpisPublic(
        start=start, end=end, bookings=len(rows), by_status=dict(Counter(r.status.value for r in rows)),
        by_rejection_cause=dict(Counter(r.rejection_cause.value for r in rows
                                        if r.rejection_cause is not None)),
        mean_window_s=sum(widths) / len(widths) if widths else None, served=trips.served,
        rejected=sum(1 for r in rows if r.status is RequestStatus.REJECTED), refused_quotes_by_cause=refused,
        wait_s=_distribution(trips.wait_s), ride_s=_distribution(trips.ride_s),
        ride_time_factor=trips.ride_time_factor, window_kept_pct=trips.window_kept_pct,
        pooling_rate_pct=trips.pooling_pct, vehicle_hours=vehicle_s / 3600,
        passengers_per_vehicle_hour=trips.passengers_per_vehicle_hour, occupancy=trips.occupancy,
        vehicle_km=_vehicle_m(rows, metres) / 1000)


def trip_outcome(row: Booking, arrived: datetime | None = None) -> TripOutcome:
    """A booking row as :mod:`dispatch.kpis` sees it (times in Unix seconds), the bus having arrived at
    its pickup at ``arrived`` (unknown: at the pickup report); a drop-off counts only for a completed
    booking."""
    window = None
    if row.window_start is not None and row.window_end is not None:
        window = (row.window_start.timestamp(), row.window_end.timestamp())
    completed = row.status is RequestStatus.COMPLETED and row.dropped_off_at is not None
    return TripOutcome(
        vehicle_id=row.vehicle_id,
        ready_at=ready_time(row.time_type, row.requested_time.timestamp(),
                            window[0] if window else None),
        window=window, arrived_at=_timestamp(arrived or row.picked_up_at),
        picked_up_at=_timestamp(row.picked_up_at),
        dropped_off_at=_timestamp(row.dropped_off_at) if completed else None,
        passengers=row.seats + row.wheelchairs, direct_s=row.direct_s)


def _timestamp(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def _distribution(values: Summary | None) -> Distribution | None:
    return None if values is None else Distribution(count=values.count, mean=values.mean, p50=values.p50,
                                                    p95=values.p95)


def _vehicle_m(rows: Sequence[Booking], metres: Metres) -> int:
    """Metres along the fastest roads between each bus's consecutive served stops."""
    return sum(metres(a, b) for a, b in served_legs(rows))


def served_legs(rows: Sequence[Booking]) -> list[tuple[int, int]]:
    """The road nodes each bus drove between: its consecutive served stops (pickups and drop-offs in the
    order of their reports), legs between two stops at the same node left out."""
    stops: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    for row in rows:
        if row.vehicle_id is None or row.picked_up_at is None:
            continue
        stops[row.vehicle_id].append((row.picked_up_at, row.origin_node))
        if row.dropped_off_at is not None:
            stops[row.vehicle_id].append((row.dropped_off_at, row.destination_node))
    legs: list[tuple[int, int]] = []
    for served in stops.values():
        nodes = [node for _, node in sorted(served)]
        legs.extend((a, b) for a, b in itertools.pairwise(nodes) if a != b)
    return legs
