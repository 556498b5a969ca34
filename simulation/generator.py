"""A seeded day of realistic rural demand, drawn from a region's places and hubs.

Origins: a place drawn in proportion to its weight (population, else a default by kind), then a road
node of its catchment (the nodes nearer to it than to any other place, within ``catchment_m``).
Destinations: a hub (station > bus station > bus stop) with probability ``hub_share``, else another
place drawn in proportion to its weight, main towns (weight at least half the largest) counting
``main_town_factor`` times. Afternoon trips mostly run the other way (home from town). Trip times
follow a daily profile with a morning and an afternoon peak; some trips are pre-booked the evening
before, some are arrive-by; group sizes and wheelchairs are drawn from :class:`DemandProfile`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import numpy as np
from scipy.spatial import cKDTree

from dispatch.model import TimeType
from routing.geo import LocalProjection
from routing.stops import RegionPlaces
from simulation.demand_csv import Trip

HUB_WEIGHTS = {"station": 40.0, "bus_station": 20.0, "bus_stop": 1.0}
HOUR = 3600


@dataclass(frozen=True)
class DemandProfile:
    """The shape of a day's demand. Times of day in hours, shares in [0, 1]."""

    requests: int = 2000
    service_start_h: float = 6.0
    service_end_h: float = 22.0
    morning_peak_h: float = 7.5
    afternoon_peak_h: float = 16.75
    peak_sd_h: float = 0.8
    peak_share: float = 0.5  # of all trips, split evenly between the two peaks
    prebooked_share: float = 0.3  # submitted the evening before, 18–22 h
    arrive_by_share: float = 0.25
    hub_share: float = 0.3
    main_town_factor: float = 3.0
    return_share: float = 0.75  # afternoon trips that run from the destination side back home
    group_sizes: dict[int, float] = field(default_factory=lambda: {1: 0.75, 2: 0.17, 3: 0.05, 4: 0.03})
    wheelchair_share: float = 0.03
    catchment_m: float = 3000.0

    def __post_init__(self) -> None:
        shares = (self.peak_share, self.prebooked_share, self.arrive_by_share, self.hub_share,
                  self.return_share, self.wheelchair_share)
        if self.requests < 0 or not all(0.0 <= s <= 1.0 for s in shares):
            raise ValueError("requests must not be negative and every share must lie in [0, 1]")
        if not 0 <= self.service_start_h < self.service_end_h <= 24:
            raise ValueError("service hours must satisfy 0 <= start < end <= 24")
        total = sum(self.group_sizes.values())
        if not self.group_sizes or min(self.group_sizes) < 1 or abs(total - 1) > 1e-9:
            raise ValueError("group sizes must be >= 1 with probabilities summing to 1")


@dataclass(frozen=True)
class _Catchments:
    weights: np.ndarray  # per usable place
    main: np.ndarray  # bool per usable place
    nodes: list[np.ndarray]  # road nodes per usable place
    hub_nodes: np.ndarray
    hub_weights: np.ndarray


def _catchments(region: RegionPlaces, node_lat: np.ndarray, node_lon: np.ndarray, catchment_m: float
                ) -> _Catchments:
    projection = LocalProjection.around(node_lat, node_lon)
    node_xy = np.column_stack(projection.forward(node_lat, node_lon))
    if region.places:
        place_xy = np.column_stack(projection.forward(np.array([p.lat for p in region.places]),
                                                      np.array([p.lon for p in region.places])))
        distance, nearest = cKDTree(place_xy).query(node_xy)
        nearest = np.where(distance <= catchment_m, nearest, -1)
        members = [np.flatnonzero(nearest == k) for k in range(len(region.places))]
    else:
        members = []
    usable = [k for k, nodes in enumerate(members) if nodes.size]
    if usable:
        weights = np.array([region.places[k].weight for k in usable])
        nodes = [members[k] for k in usable]
    else:  # no place near any road: every node is a place of its own, all alike
        weights = np.ones(len(node_lat))
        nodes = [np.array([k]) for k in range(len(node_lat))]
    hub_nodes, hub_weights = np.zeros(0, dtype=np.int64), np.zeros(0)
    if region.hubs:
        hub_xy = np.column_stack(projection.forward(np.array([h.lat for h in region.hubs]),
                                                    np.array([h.lon for h in region.hubs])))
        distance, nearest = cKDTree(node_xy).query(hub_xy)
        near = distance <= 500
        hub_nodes = nearest[near]
        hub_weights = np.array([HUB_WEIGHTS[h.kind] for h in region.hubs])[near]
    return _Catchments(weights, weights >= 0.5 * weights.max(), nodes, hub_nodes, hub_weights)


def generate_demand(region: RegionPlaces, node_lat: np.ndarray, node_lon: np.ndarray, profile: DemandProfile,
                    seed: int, day: date) -> list[Trip]:
    """Draw ``profile.requests`` trips for ``day`` on the road nodes given by their coordinates."""
    rng = np.random.default_rng(seed)
    area = _catchments(region, node_lat, node_lon, profile.catchment_m)
    count = profile.requests
    hours = _trip_hours(rng, profile, count)
    origin_p = area.weights / area.weights.sum()
    destination_w = area.weights * np.where(area.main, profile.main_town_factor, 1.0)
    sizes = np.array(list(profile.group_sizes))
    size_p = np.array(list(profile.group_sizes.values()))
    midnight = datetime.combine(day, time())
    trips = []
    for k in range(count):
        home = int(rng.choice(len(origin_p), p=origin_p))
        origin = int(rng.choice(area.nodes[home]))
        destination = origin
        while destination == origin:
            if area.hub_nodes.size and rng.random() < profile.hub_share:
                destination = int(rng.choice(area.hub_nodes, p=area.hub_weights / area.hub_weights.sum()))
            else:
                others = destination_w.copy()
                if len(others) > 1:
                    others[home] = 0.0
                place = int(rng.choice(len(others), p=others / others.sum()))
                destination = int(rng.choice(area.nodes[place]))
        if hours[k] >= 13 and rng.random() < profile.return_share:
            origin, destination = destination, origin
        at = midnight + timedelta(seconds=int(hours[k] * HOUR))
        arrive_by = rng.random() < profile.arrive_by_share
        if rng.random() < profile.prebooked_share:
            submitted = midnight - timedelta(hours=6) + timedelta(seconds=int(rng.integers(0, 4 * HOUR)))
        else:
            lead_min = rng.uniform(15, 45) if arrive_by else rng.uniform(0, 20)
            submitted = at - timedelta(seconds=int(lead_min * 60))
        group = int(rng.choice(sizes, p=size_p))
        wheelchairs = int(rng.random() < profile.wheelchair_share)
        trips.append(Trip(f"r{k:05d}", submitted, (float(node_lat[origin]), float(node_lon[origin])),
                          (float(node_lat[destination]), float(node_lon[destination])),
                          TimeType.ARRIVE_BY if arrive_by else TimeType.LEAVE_AFTER, at,
                          group - wheelchairs, wheelchairs))
    trips.sort(key=lambda t: (t.submitted_at, t.request_id))
    return trips


def _trip_hours(rng: np.random.Generator, profile: DemandProfile, count: int) -> np.ndarray:
    """Times of day (hours) from the two-peak profile, inside service hours."""
    kind = rng.random(count)
    half = profile.peak_share / 2
    hours = np.where(kind < half, rng.normal(profile.morning_peak_h, profile.peak_sd_h, count),
                     np.where(kind < 2 * half, rng.normal(profile.afternoon_peak_h, profile.peak_sd_h, count),
                              rng.uniform(profile.service_start_h, profile.service_end_h, count)))
    return np.clip(hours, profile.service_start_h, profile.service_end_h - 1 / 60)
