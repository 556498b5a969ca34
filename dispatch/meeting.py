"""Requests with meeting points: the (pickup, drop-off) options an insertion weighs for one request.

A request may name up to :data:`~dispatch.model.MAX_OPTIONS` places on each side where the bus may serve it
(meeting points within walking reach, its door among them or not). Each pair of them is *resolved* into the
request the bus would serve there — origin and destination the chosen places, each its only option — with
its own time bounds: the walk to the pickup shifts a leave-after rider's earliest pickup later, the walk
from the drop-off a arrive-by rider's latest drop-off earlier (at :data:`~dispatch.model.WALK_SPEED_M_S`).
Insertion ranks every pair's candidates together, each cost plus ``walk_weight`` × the seconds walked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from dispatch.insertion import CostWeights
from dispatch.model import (
    MAX_OPTIONS,
    MeetingMode,
    PlaceOption,
    Request,
    ServiceRules,
    TimeBounds,
    time_bounds,
    walk_s,
)
from dispatch.travel import LegTimes


@dataclass(frozen=True)
class Choice:
    """One (pickup, drop-off) option of a request: the request resolved to it, its time bounds, and the
    cost of the rider's walks (weighted seconds)."""

    request: Request
    bounds: TimeBounds
    walk_cost: float


def place_options(mode: MeetingMode, door: int, reachable: Iterable[tuple[int, int, str]]
                  ) -> tuple[PlaceOption, ...]:
    """The options of one side of a trip whose door is location ``door``, from the meeting points within
    walking reach as (location, walk metres, meeting point id), nearest walk first: none door to door (the
    door is then the only place); in hybrid the door (no walk) and up to four of them; in stops only up to
    five of them (none in reach: none at all). One option per location, the shortest walk to it."""
    if mode is MeetingMode.DOOR_TO_DOOR:
        return ()
    found = [PlaceOption(door)] if mode is MeetingMode.HYBRID else []
    taken = {door} if mode is MeetingMode.HYBRID else set()
    for location, walk_m, point_id in reachable:
        if len(found) == MAX_OPTIONS:
            break
        if location not in taken:
            taken.add(location)
            found.append(PlaceOption(location, walk_m, point_id))
    return tuple(found)


def resolve(request: Request, pickup: PlaceOption, dropoff: PlaceOption) -> Request:
    """The request as the bus serves it at ``pickup`` and ``dropoff``."""
    return replace(request, origin=pickup.location, destination=dropoff.location, pickup_options=(pickup,),
                   dropoff_options=(dropoff,))


def choices(request: Request, now: int, rules: ServiceRules, legs: LegTimes, weights: CostWeights
            ) -> list[Choice]:
    """Every (pickup, drop-off) option of ``request`` that still has a pickup time to offer: not the same
    place twice, the earliest pickup no sooner than the rider can walk there from ``now``. A side without
    options is the door with no walk."""
    pickups = request.pickup_options or (PlaceOption(request.origin),)
    dropoffs = request.dropoff_options or (PlaceOption(request.destination),)
    legs.prefetch([p.location for p in pickups], [d.location for d in dropoffs])
    found = []
    for pickup in pickups:
        reached = now + walk_s(pickup.walk_m)
        for dropoff in dropoffs:
            if pickup.location == dropoff.location:
                continue
            resolved = resolve(request, pickup, dropoff)
            bounds = time_bounds(resolved, legs.seconds(pickup.location, dropoff.location), rules)
            if bounds.earliest_pickup < reached:
                bounds = replace(bounds, earliest_pickup=reached)
            if bounds.earliest_pickup > bounds.latest_pickup:
                continue
            walked = walk_s(pickup.walk_m) + walk_s(dropoff.walk_m)
            found.append(Choice(resolved, bounds, weights.walk_weight * walked))
    return found
