"""Idle buses positioned towards expected demand (rebalancing).

Two steps, in the manner of MATSim DRT's minimum-cost-flow rebalancing, made small:

1. :func:`demand_zones` — the expected demand as zones. Pickups (road node, weight) of the requests seen so
   far whose pickup falls near the coming horizon are grouped greedily: the node that has the most weight
   within ``radius_s`` of driving becomes a zone's centre and takes that weight; repeat with what is left.
2. :func:`choose_targets` — each zone with at least ``min_expected`` pickups wants one bus at its centre. An
   idle bus within ``radius_s`` of a wanted centre covers that zone and stays; the other idle buses are
   assigned to the uncovered zones by a minimum-cost assignment whose cost is the drive minus what the
   zone's demand is worth (``value_s`` per expected pickup). A bus moves only when that cost is negative,
   the drive is at most ``max_drive_s``, and it can still wait ``min_stay_s`` there and be back home (its
   depot, for its break or its shift end) in time.

Everything is a pure function of the values given: no clock, no state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from dispatch.travel import LegTimes

__all__ = ["IdleVehicle", "RepositionPolicy", "Zone", "choose_targets", "demand_zones"]


@dataclass(frozen=True)
class RepositionPolicy:
    """How idle buses are positioned; durations in seconds. ``every_s``: how often targets are chosen;
    pickups planned in [now - ``lookback_s``, now + ``horizon_s``] make the expected demand."""

    every_s: int = 300
    lookback_s: int = 1800
    horizon_s: int = 3600
    radius_s: int = 480  # a zone's reach: a bus this close to its centre covers it
    min_expected: float = 2.0  # pickups a zone needs to want a bus
    value_s: int = 300  # driving one expected pickup is worth
    max_drive_s: int = 1200
    min_stay_s: int = 1800  # a bus must be able to wait this long at its target before heading home
    waiting_buses: bool = False  # buses waiting for their next stop count as idle (home: that stop)

    def __post_init__(self) -> None:
        if min(self.every_s, self.lookback_s, self.horizon_s, self.radius_s, self.value_s, self.max_drive_s,
               self.min_stay_s) < 0 or self.every_s == 0 or self.min_expected < 0:
            raise ValueError("reposition durations must not be negative, every_s must be positive")


@dataclass(frozen=True)
class IdleVehicle:
    """A bus with no rider to serve: where it stands from when, and by when it must be at ``home``."""

    vehicle_id: str
    location: int
    free_from: int
    home: int
    home_by: int


@dataclass(frozen=True)
class Zone:
    """Expected demand around a road node: ``expected`` pickups within ``radius_s`` of ``centre``."""

    centre: int
    expected: float


def demand_zones(pickups: Sequence[tuple[int, float]], radius_s: int, legs: LegTimes) -> list[Zone]:
    """Group weighted pickup nodes into zones, heaviest first (ties: the smaller node id)."""
    weight: dict[int, float] = {}
    for node, w in pickups:
        weight[node] = weight.get(node, 0.0) + w
    nodes = sorted(weight)
    if not nodes:
        return []
    legs.prefetch(nodes, nodes)
    reach = {a: [b for b in nodes if legs.seconds(a, b) <= radius_s] for a in nodes}  # a centre reaches b
    left = dict(weight)
    zones = []
    while left:
        centre = max(left, key=lambda a: (sum(left.get(b, 0.0) for b in reach[a]), -a))
        taken = [b for b in reach[centre] if b in left]
        zones.append(Zone(centre, sum(left.pop(b) for b in taken)))
    return zones


def choose_targets(idle: Sequence[IdleVehicle], zones: Sequence[Zone], policy: RepositionPolicy,
                   legs: LegTimes) -> dict[str, int]:
    """The road node each idle bus should drive to; a bus not named stays where it is."""
    wanted = sorted((z for z in zones if z.expected >= policy.min_expected),
                    key=lambda z: (-z.expected, z.centre))
    if not idle or not wanted:
        return {}
    centres = [z.centre for z in wanted]
    legs.prefetch([v.location for v in idle], centres)
    free, uncovered = list(idle), []
    for zone in wanted:  # the heaviest zones pick their nearest covering bus first
        near = [(legs.seconds(v.location, zone.centre), v.vehicle_id, k) for k, v in enumerate(free)]
        covering = min((n for n in near if n[0] <= policy.radius_s), default=None)
        if covering is None:
            uncovered.append(zone)
        else:
            free.pop(covering[2])
    if not free or not uncovered:
        return {}
    legs.prefetch([z.centre for z in uncovered], list({v.home for v in free}))
    cost = np.full((len(free), len(uncovered)), np.inf)
    for i, vehicle in enumerate(free):
        for j, zone in enumerate(uncovered):
            drive = legs.seconds(vehicle.location, zone.centre)
            home = vehicle.free_from + drive + policy.min_stay_s + legs.seconds(zone.centre, vehicle.home)
            if drive <= policy.max_drive_s and home <= vehicle.home_by:
                cost[i, j] = drive - policy.value_s * zone.expected
    finite = np.where(np.isfinite(cost), np.minimum(cost, 0.0), 0.0)  # not worth moving: as good as staying
    rows, cols = linear_sum_assignment(finite)
    return {free[i].vehicle_id: uncovered[j].centre for i, j in zip(rows, cols) if cost[i, j] < 0}
