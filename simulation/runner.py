"""Scenarios: a region, a fleet, service rules and a day of demand, run through :mod:`simulation.engine`.

Demand comes as :class:`~simulation.demand_csv.Trip` rows (generated or read from a file); their points
are snapped to the curb of the roads buses may stop on here. A point outside the service area or too far
from any such road becomes a rejected request (cause ``outside_area`` or ``off_road``), like the API
answers. Dates map to dispatch seconds with the service day as day 1, so that pre-bookings of the evening
before keep positive times.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np

from dispatch.model import MeetingMode, RejectionCause, Request, ServiceRules
from routing.network import RoadNetwork
from routing.stops import read_places
from simulation.demand_csv import Trip, read_demand, service_date
from simulation.engine import RiderRecord, SimulationConfig, SimulationResult, simulate
from simulation.fleet import central_depot, make_fleet
from simulation.generator import DemandProfile, generate_demand
from simulation.meeting import MeetingPlaces, meeting_places

DEFAULT_DAY = date(2026, 12, 1)


@dataclass(frozen=True)
class Scenario:
    """One simulation to run: fleet size and capacity, rules, demand (generated or from a file), seed."""

    buses: int = 10
    seats: int = 8
    wheelchair_spaces: int = 1
    rules: ServiceRules = field(default_factory=ServiceRules)
    requests: int = 2000  # generated demand, unless ``demand_file`` is given
    demand_file: Path | None = None
    seed: int = 1
    config: SimulationConfig = field(default_factory=SimulationConfig)

    def with_buses(self, buses: int) -> Scenario:
        """The same scenario with another fleet size."""
        return replace(self, buses=buses)


def seconds_of(moment: datetime, day: date) -> int:
    """Dispatch seconds of a local date-time, the service ``day`` being day 1."""
    return int((moment - datetime.combine(day - timedelta(days=1), time())).total_seconds())


def scenario_trips(scenario: Scenario, network: RoadNetwork) -> list[Trip]:
    """The scenario's demand: read from its file, or generated from the region's places with its seed."""
    if scenario.demand_file is not None:
        return read_demand(scenario.demand_file)
    region = read_places(Path(network.settings.osm_file))
    g = network.graph
    return generate_demand(region, g.node_lat, g.node_lon, DemandProfile(requests=scenario.requests),
                           scenario.seed, DEFAULT_DAY)


def requests_for_level(network: RoadNetwork, trips_per_1000: float) -> int:
    """A demand level as a request count: trips a day per 1,000 inhabitants of the region's places."""
    region = read_places(Path(network.settings.osm_file))
    return round(trips_per_1000 * sum(p.weight for p in region.places) / 1000)


def to_requests(network: RoadNetwork, trips: Sequence[Trip], day: date, rules: ServiceRules | None = None,
                places: MeetingPlaces | None = None) -> tuple[list[Request], dict[str, str]]:
    """Snap trips to road nodes: the requests, and the ids of trips refused with their cause. Under
    ``rules`` of a meeting-point mode each request carries its pickup and drop-off options
    (:mod:`simulation.meeting`; ``places``: the meeting points to use, by default the area's seeded ones);
    in stops-only mode one without a meeting point in reach is refused."""
    if not trips:
        return [], {}
    lat = np.array([p for t in trips for p in (t.origin[0], t.destination[0])])
    lon = np.array([p for t in trips for p in (t.origin[1], t.destination[1])])
    inside = network.in_service_area(lat, lon)
    snapped = network.curb_snapper.snap(lat, lon)
    near = snapped.distance_m <= network.settings.snap_max_m
    requests, refused = [], {}
    mode = rules.mode if rules is not None else MeetingMode.DOOR_TO_DOOR
    if mode is MeetingMode.DOOR_TO_DOOR:
        places = None
    elif places is None:
        places = meeting_places(network)
    for k, trip in enumerate(trips):
        ends = slice(2 * k, 2 * k + 2)
        if not inside[ends].all():
            refused[trip.request_id] = "outside_area"
        elif not near[ends].all():
            refused[trip.request_id] = "off_road"
        else:
            origin, destination = int(snapped.node[2 * k]), int(snapped.node[2 * k + 1])
            request = Request(trip.request_id, origin, destination, trip.time_type,
                              seconds_of(trip.time, day), seconds_of(trip.submitted_at, day), trip.seats,
                              trip.wheelchairs)
            if places is not None and rules is not None:
                pickups = places.options(trip.origin, origin, rules)
                dropoffs = places.options(trip.destination, destination, rules)
                if not (pickups and dropoffs):
                    refused[trip.request_id] = RejectionCause.NO_MEETING_POINT.value
                    continue
                request = replace(request, pickup_options=pickups, dropoff_options=dropoffs)
            requests.append(request)
    return requests, refused


def road_paths(network: RoadNetwork) -> Callable[[int, int], list[int]]:
    """Fastest road paths as node lists (memoised), for buses moving along the roads."""
    @lru_cache(maxsize=20_000)
    def path(origin: int, destination: int) -> list[int]:
        return network.route(origin, destination).nodes.tolist()

    return path


def run_scenario(scenario: Scenario, network: RoadNetwork, trips: Sequence[Trip] | None = None,
                 progress: Callable[[int], None] | None = None) -> SimulationResult:
    """Simulate the scenario's day on ``network`` (``trips``: its demand, if already drawn)."""
    trips = list(trips) if trips is not None else scenario_trips(scenario, network)
    day = service_date(trips)
    requests, refused = to_requests(network, trips, day, scenario.rules)
    fleet = make_fleet(central_depot(network), scenario.buses, scenario.seats, scenario.wheelchair_spaces)
    config = replace(scenario.config, seed=scenario.seed)
    result = simulate(fleet, scenario.rules, network, requests, config, road_paths(network), progress)
    record_refusals(result, trips, refused, day)
    return result


def record_refusals(result: SimulationResult, trips: Sequence[Trip], refused: dict[str, str], day: date
                    ) -> None:
    """Add the trips refused before dispatch (``refused``: id -> cause) to ``result``'s riders."""
    by_id = {t.request_id: t for t in trips}
    for request_id, cause in refused.items():
        trip = by_id[request_id]
        # never routed: the request's nodes are placeholders, its times and size count in the key figures
        request = Request(request_id, 0, 1, trip.time_type, seconds_of(trip.time, day),
                          seconds_of(trip.submitted_at, day), trip.seats, trip.wheelchairs)
        result.riders[request_id] = RiderRecord(request, outcome="rejected", cause=cause)

