"""Key figures of a simulated day, computed from its rider records and the legs the buses drove.

Definitions (times in minutes, distances in km):

* served: riders dropped off at their destination; ``served_pct`` is of all requests.
* rejected by cause: requests that got no booking (the dispatcher's cause, or ``outside_area``/``off_road``).
* wait: for leave-after riders, start of service at the pickup minus the requested time (mean, p95).
* window kept: pickups (boardings and no-shows) whose service started inside the promised window.
* ride time: drop-off minus departure from the pickup; factor: ride time / direct drive time.
* pooling: served riders who shared the bus with another booking during part of their ride.
* occupancy: people on board per bus in service, averaged over each ``OCCUPANCY_BIN_S`` of the day.
* passengers per vehicle-hour: people served per hour of the buses' shifts.
* vehicle km empty / loaded: km driven with nobody / somebody on board; km saved: the direct km of every
  served rider driven alone, minus all km the buses drove.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass

import numpy as np

from dispatch.model import DAY_S, TimeType
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
    plan_violations: int  # distinct (bus, kind, rider) rule breaks seen in the plan checks
    reoptimizations: int
    reoptimizations_applied: int
    wall_s: float

    def as_dict(self) -> dict:
        """A JSON-ready dict."""
        return asdict(self)


def waits_min(result: SimulationResult) -> list[float]:
    """Waits of the leave-after riders the bus came for (minutes)."""
    return [(r.bus_arrived - r.request.time) / 60 for r in result.riders.values()
            if r.bus_arrived is not None and r.request.time_type is TimeType.LEAVE_AFTER]


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(float(value), digits)


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def _pooled(served: list[RiderRecord]) -> int:
    """How many served riders overlapped another booking's ride on the same bus."""
    pooled = set()
    by_bus: dict[str, list[RiderRecord]] = {}
    for record in served:
        by_bus.setdefault(record.vehicle_id or "", []).append(record)
    for records in by_bus.values():
        records.sort(key=lambda r: r.boarded)
        for k, first in enumerate(records):
            for second in records[k + 1:]:
                if second.boarded >= first.dropped_off:
                    break
                pooled.update((first.request.id, second.request.id))
    return len(pooled)


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
    waits = waits_min(result)
    came = [r for r in riders if r.bus_arrived is not None and r.window is not None]
    kept = sum(r.window[0] <= r.bus_arrived <= r.window[1] for r in came)
    rides = [(r.dropped_off - r.boarded) for r in served]
    factors = [ride / max(1, r.direct_s) for ride, r in zip(rides, served)]
    empty = sum(leg.metres for leg in result.legs if leg.passengers == 0) / 1000
    loaded = sum(leg.metres for leg in result.legs if leg.passengers > 0) / 1000
    solo = sum(r.direct_m for r in served) / 1000
    shift_h = sum(v.shift_end - v.shift_start for v in result.vehicles) / 3600
    start_h, occupancy = occupancy_profile(result)
    outcomes = Counter(r.outcome for r in riders)
    return Kpis(
        requests=len(riders), served=len(served),
        served_pct=round(100 * len(served) / max(1, len(riders)), 2),
        rejected=dict(sorted(Counter(r.cause for r in riders if r.outcome == "rejected").items())),
        cancelled=outcomes["cancelled"], no_shows=outcomes["no_show"],
        unfinished=outcomes["booked"] + outcomes["on_board"],
        wait_mean_min=_round(_mean(waits)), wait_p95_min=_round(np.percentile(waits, 95) if waits else None),
        window_kept_pct=_round(100 * kept / len(came) if came else None),
        ride_mean_min=_round(_mean(rides) / 60 if rides else None),
        ride_time_factor=_round(_mean(factors), 3),
        pooling_pct=_round(100 * _pooled(served) / len(served) if served else None),
        passengers_per_vehicle_hour=round(sum(r.request.passengers for r in served) / max(shift_h, 1e-9), 3),
        vehicle_km_empty=round(empty, 2), vehicle_km_loaded=round(loaded, 2), solo_km=round(solo, 2),
        km_saved=round(solo - empty - loaded, 2), occupancy_start_h=start_h,
        occupancy_bin_min=OCCUPANCY_BIN_S // 60, occupancy=occupancy,
        plan_violations=len({(vehicle, v.kind, v.request_id) for _, vehicle, v in result.violations}),
        reoptimizations=result.reoptimizations, reoptimizations_applied=result.reoptimizations_applied,
        wall_s=round(result.wall_s, 2),
    )
