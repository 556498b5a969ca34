"""The key figures about riders' trips, defined once for the live service (:mod:`api.services.kpis`) and
the simulator (:mod:`simulation.kpis`), so that an operator can set a simulated day beside a real one.

Each caller turns its records into :class:`TripOutcome` values (times in seconds on one timeline) and
calls :func:`trip_figures`. Definitions:

- **arrival**: when the bus stood at the rider's pickup (live: the driver's "arrived" report for that
  pickup, the pickup report when there was none; simulator: the start of service at the pickup).
  **pickup** / **drop-off**: when the rider was reported on / off the bus (live: the driver's reports;
  simulator: the bus leaves the pickup / reaches the drop-off). A trip is **completed** when it has both.
- **ready**: when the rider was ready to go: the requested time of a leave-after trip, the start of the
  promised pickup window of an arrive-by trip (the rider asked about the arrival, not the pickup).
- **wait**: arrival − ready, over every trip picked up (completed or still on board); as count, mean,
  50th and 95th percentile (:func:`percentile`). Boarding is not waiting; riders who did not show up
  did not wait.
- **promised window kept**: share (%) of the trips the bus came for (picked up or no-show) with a
  promised window whose arrival lies inside it, both ends included: the promise is the bus's.
- **ride**: drop-off − pickup, over completed trips, summarised like the wait. **Ride-time factor**:
  mean of ride ÷ direct driving time over completed trips whose direct time is known and positive.
- **pooling**: share (%) of completed trips during whose ride another trip was on board the same bus:
  another trip picked up before this one's drop-off and dropped off (or still on board) after this
  one's pickup. The other trip may be completed or still on board.
- **passengers per vehicle-hour**: people (seats and wheelchairs) of completed trips ÷ the hours the
  buses were in service. **Occupancy**: passenger-seconds on board during completed trips ÷ the
  seconds the buses were in service, i.e. the mean number of people on board per bus in service.

Pure: no clock, no database; figures without data are None.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dispatch.model import TimeType


@dataclass(frozen=True, slots=True)
class TripOutcome:
    """One booking as the figures see it; times in seconds, None for what did not happen."""

    vehicle_id: str | None  # the bus that served it
    ready_at: float  # see :func:`ready_time`
    window: tuple[float, float] | None  # the promised pickup window
    arrived_at: float | None  # the bus at the pickup (None: it never came)
    picked_up_at: float | None
    dropped_off_at: float | None
    passengers: int
    direct_s: float | None  # the direct driving time, origin to destination

    @property
    def completed(self) -> bool:
        """Picked up and dropped off."""
        return self.picked_up_at is not None and self.dropped_off_at is not None


@dataclass(frozen=True, slots=True)
class Summary:
    """How many values, their mean, and their 50th and 95th percentiles."""

    count: int
    mean: float
    p50: float
    p95: float


@dataclass(frozen=True, slots=True)
class TripFigures:
    """The figures of the module docstring for a set of trips and the buses' service time."""

    served: int  # completed trips
    wait_s: Summary | None
    ride_s: Summary | None
    ride_time_factor: float | None
    window_kept_pct: float | None
    pooling_pct: float | None
    passengers_per_vehicle_hour: float | None
    occupancy: float | None


def ready_time(time_type: TimeType, requested: float, window_start: float | None) -> float:
    """When the rider was ready: the requested time of a leave-after trip; for an arrive-by trip the
    start of the promised window (the requested time when no window was promised)."""
    if time_type is TimeType.ARRIVE_BY and window_start is not None:
        return window_start
    return requested


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` (0–1) percentile of non-empty ``values``: linear interpolation between the sorted
    values at rank ``share · (n − 1)``."""
    ordered = sorted(values)
    rank = share * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: Sequence[float]) -> Summary | None:
    """Count, mean, p50 and p95 of ``values``; None when there are none."""
    if not values:
        return None
    return Summary(len(values), sum(values) / len(values), percentile(values, 0.5), percentile(values, 0.95))


def waits_s(trips: Iterable[TripOutcome]) -> list[float]:
    """Arrival − ready of every trip picked up, in the given order."""
    return [trip.arrived_at - trip.ready_at for trip in trips
            if trip.picked_up_at is not None and trip.arrived_at is not None]


def ride_s(trip: TripOutcome) -> float | None:
    """Drop-off − pickup of a completed trip; None for any other."""
    if trip.picked_up_at is None or trip.dropped_off_at is None:
        return None
    return trip.dropped_off_at - trip.picked_up_at


def window_kept(trip: TripOutcome) -> bool | None:
    """Whether the bus arrived inside the promised window (ends included); None when it never came or
    nothing was promised."""
    if trip.arrived_at is None or trip.window is None:
        return None
    return trip.window[0] <= trip.arrived_at <= trip.window[1]


def pooled(trips: Sequence[TripOutcome]) -> int:
    """How many completed trips had another of ``trips`` on board the same bus during their ride."""
    on_board: dict[str, list[tuple[float, float, int]]] = defaultdict(list)
    for k, trip in enumerate(trips):
        if trip.vehicle_id is not None and trip.picked_up_at is not None:
            until = trip.dropped_off_at if trip.dropped_off_at is not None else math.inf
            on_board[trip.vehicle_id].append((trip.picked_up_at, until, k))
    shared: set[int] = set()
    for rides in on_board.values():
        rides.sort()
        for n, (start, end, k) in enumerate(rides):
            for other_start, other_end, other in rides[n + 1:]:
                if other_start >= end:
                    break
                if start < other_end:
                    shared.update((k, other))
    return sum(1 for k in shared if trips[k].completed)


def trip_figures(trips: Sequence[TripOutcome], vehicle_s: float) -> TripFigures:
    """The figures of the module docstring for ``trips``, the buses having been in service ``vehicle_s``
    seconds in all."""
    rides = [(trip, ride) for trip in trips if (ride := ride_s(trip)) is not None]
    factors = [ride / trip.direct_s for trip, ride in rides if trip.direct_s]
    kept = [ok for ok in map(window_kept, trips) if ok is not None]
    passengers = sum(trip.passengers for trip, _ in rides)
    on_board_s = sum(trip.passengers * ride for trip, ride in rides)
    return TripFigures(
        served=len(rides), wait_s=summary(waits_s(trips)), ride_s=summary([ride for _, ride in rides]),
        ride_time_factor=sum(factors) / len(factors) if factors else None,
        window_kept_pct=100 * sum(kept) / len(kept) if kept else None,
        pooling_pct=100 * pooled(trips) / len(rides) if rides else None,
        passengers_per_vehicle_hour=passengers / (vehicle_s / 3600) if vehicle_s > 0 else None,
        occupancy=on_board_s / vehicle_s if vehicle_s > 0 else None,
    )
