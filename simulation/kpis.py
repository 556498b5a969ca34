"""Key figures of a simulated day, computed from its rider records and the legs the buses drove.

The figures about trips — wait, promised window kept, ride and ride-time factor, pooling, passengers per
vehicle-hour, mean occupancy — are those the live service reports, defined once in :mod:`dispatch.kpis`;
here the bus's arrival at a pickup is the start of service there (``bus_arrived``), the pickup is when
the bus left with the rider (``boarded``), the drop-off the start of service at the drop-off, and the
buses' service time is their shifts. The rest is the simulator's own (times in minutes, distances in km):

* served: riders dropped off at their destination; ``served_pct`` is of all requests.
* rejected by cause: requests that got no booking (the dispatcher's cause, or ``outside_area``/``off_road``).
* occupancy profile: people on board per bus in service, averaged over each ``OCCUPANCY_BIN_S`` of the day.
* vehicle km empty / loaded: km driven with nobody / somebody on board; km saved: the direct km of every
  served rider driven alone, minus all km the buses drove.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass

import numpy as np

from dispatch.kpis import TripOutcome, ready_time, trip_figures, waits_s
from dispatch.model import DAY_S
from simulation.engine import RiderRecord, SimulationResult

OCCUPANCY_BIN_S = 15 * 60


@dataclass(frozen=True)
class Kpis:
    """The day's key figures (see the module docstring for each definition)."""

    requests: int
    served: int
    served_pct: float
    rejected: dict[str, int]
    cancelled: int
    no_shows: int
    unfinished: int  # booked or on board when the day ended
    wait_mean_min: float | None
    wait_p95_min: float | None
    window_kept_pct: float | None
    ride_mean_min: float | None
    ride_time_factor: float | None
    pooling_pct: float | None
    passengers_per_vehicle_hour: float
    vehicle_km_empty: float
    vehicle_km_loaded: float
    solo_km: float
    km_saved: float
    occupancy_start_h: float
    occupancy_bin_min: int
    occupancy: list[float]
    occupancy_mean: float | None  # people on board per bus in service over the whole day
    plan_violations: int  # distinct (bus, kind, rider) rule breaks seen in the plan checks
    reoptimizations: int
    reoptimizations_applied: int
    wall_s: float

    def as_dict(self) -> dict:
        """A JSON-ready dict."""
        return asdict(self)


def trip_outcome(record: RiderRecord) -> TripOutcome:
    """A rider's record as :mod:`dispatch.kpis` sees it."""
    window = record.window
    return TripOutcome(
        vehicle_id=record.vehicle_id,
        ready_at=ready_time(record.request.time_type, record.request.time, window[0] if window else None),
        window=window, arrived_at=record.bus_arrived, picked_up_at=record.boarded,
        dropped_off_at=record.dropped_off,
        passengers=record.request.passengers, direct_s=record.direct_s)


def waits_min(result: SimulationResult) -> list[float]:
    """Waits (:mod:`dispatch.kpis`) of every rider picked up, in minutes."""
    return [wait / 60 for wait in waits_s([trip_outcome(r) for r in result.riders.values()])]


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(float(value), digits)


def occupancy_profile(result: SimulationResult) -> tuple[float, list[float]]:
    """People on board per bus, averaged per bin from the first shift start to the last shift end."""
    start = min(v.shift_start for v in result.vehicles)
    end = max(v.shift_end for v in result.vehicles)
    edges = np.arange(start, end + OCCUPANCY_BIN_S, OCCUPANCY_BIN_S)
    onboard = np.zeros(len(edges) - 1)
    for r in result.riders.values():
        if r.boarded is None:
            continue
        until = r.dropped_off if r.dropped_off is not None else end
        overlap = np.clip(np.minimum(edges[1:], until) - np.maximum(edges[:-1], r.boarded), 0, None)
        onboard += overlap * r.request.passengers
    per_bus = onboard / (OCCUPANCY_BIN_S * max(1, len(result.vehicles)))
    return (start % DAY_S) / 3600, [round(float(x), 3) for x in per_bus]


def compute_kpis(result: SimulationResult) -> Kpis:
    """The key figures of a simulated day."""
    riders = list(result.riders.values())
    served = [r for r in riders if r.outcome == "completed"]
    shift_s = sum(v.shift_end - v.shift_start for v in result.vehicles)
    trips = trip_figures([trip_outcome(r) for r in riders], shift_s)
    wait, ride = trips.wait_s, trips.ride_s
    empty = sum(leg.metres for leg in result.legs if leg.passengers == 0) / 1000
    loaded = sum(leg.metres for leg in result.legs if leg.passengers > 0) / 1000
    solo = sum(r.direct_m for r in served) / 1000
    start_h, occupancy = occupancy_profile(result)
    outcomes = Counter(r.outcome for r in riders)
    return Kpis(
        requests=len(riders), served=len(served),
        served_pct=round(100 * len(served) / max(1, len(riders)), 2),
        rejected=dict(sorted(Counter(r.cause for r in riders
                                     if r.outcome == "rejected" and r.cause is not None).items())),
        cancelled=outcomes["cancelled"], no_shows=outcomes["no_show"],
        unfinished=outcomes["booked"] + outcomes["on_board"],
        wait_mean_min=_round(wait.mean / 60) if wait else None,
        wait_p95_min=_round(wait.p95 / 60) if wait else None,
        window_kept_pct=_round(trips.window_kept_pct),
        ride_mean_min=_round(ride.mean / 60) if ride else None,
        ride_time_factor=_round(trips.ride_time_factor, 3),
        pooling_pct=_round(trips.pooling_pct),
        passengers_per_vehicle_hour=round(trips.passengers_per_vehicle_hour or 0.0, 3),
        vehicle_km_empty=round(empty, 2), vehicle_km_loaded=round(loaded, 2), solo_km=round(solo, 2),
        km_saved=round(solo - empty - loaded, 2), occupancy_start_h=start_h,
        occupancy_bin_min=OCCUPANCY_BIN_S // 60, occupancy=occupancy,
        occupancy_mean=_round(trips.occupancy, 3),
        plan_violations=len({(vehicle, v.kind, v.request_id) for _, vehicle, v in result.violations}),
        reoptimizations=result.reoptimizations, reoptimizations_applied=result.reoptimizations_applied,
        wall_s=round(result.wall_s, 2),
    )
