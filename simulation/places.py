"""Places and travel hubs of a region, read from its OSM extract with pyosmium.

Places are ``place=*`` nodes of settlement kinds; their weight is their ``population`` tag when it is a
number, otherwise a default by kind (town > village > hamlet). Hubs are rail stations
(``railway=station``), bus stations (``amenity=bus_station``) and bus stops (``highway=bus_stop``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import osmium

# Default weights (inhabitants) of places without a usable population tag, by their place kind.
KIND_WEIGHTS: dict[str, float] = {
    "city": 50_000, "town": 10_000, "suburb": 3_000, "village": 1_000, "quarter": 1_000,
    "neighbourhood": 300, "hamlet": 100, "isolated_dwelling": 10,
}
HUB_TAGS: dict[tuple[str, str], str] = {
    ("railway", "station"): "station", ("amenity", "bus_station"): "bus_station",
    ("highway", "bus_stop"): "bus_stop",
}


@dataclass(frozen=True)
class Place:
    """A settlement: name, kind, position and weight (population, or a default by kind)."""

    name: str
    kind: str
    lat: float
    lon: float
    weight: float
    population_tagged: bool


@dataclass(frozen=True)
class Hub:
    """A point trips gather at: ``station``, ``bus_station`` or ``bus_stop``."""

    kind: str
    lat: float
    lon: float


@dataclass(frozen=True)
class RegionPlaces:
    """Everything the demand generator reads from an extract."""

    places: tuple[Place, ...]
    hubs: tuple[Hub, ...]


def parse_population(value: str | None) -> float | None:
    """A population tag as a number (``"5'933"``, ``"5 933"``, ``"5933"``), or None when it is not one."""
    if not value:
        return None
    digits = re.sub(r"[\s',.]", "", value)
    return float(digits) if digits.isdigit() and int(digits) > 0 else None


def read_places(osm_file: Path) -> RegionPlaces:
    """Read the settlement places and the hubs of ``osm_file`` (nodes only)."""
    places: list[Place] = []
    hubs: list[Hub] = []
    keys = osmium.filter.KeyFilter("place", "railway", "amenity", "highway")
    for node in osmium.FileProcessor(str(osm_file), osmium.osm.NODE).with_filter(keys):
        tags = node.tags
        if not node.location.valid():
            continue
        lat, lon = node.location.lat, node.location.lon
        kind = tags.get("place")
        if kind in KIND_WEIGHTS:
            population = parse_population(tags.get("population"))
            places.append(Place(tags.get("name", f"{kind} {node.id}"), kind, lat, lon,
                                population or KIND_WEIGHTS[kind], population is not None))
        for (key, value), hub_kind in HUB_TAGS.items():
            if tags.get(key) == value:
                hubs.append(Hub(hub_kind, lat, lon))
                break
    return RegionPlaces(tuple(places), tuple(hubs))
