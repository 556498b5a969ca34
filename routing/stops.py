"""What a region's OSM extract says about where people are and where they gather, read in one pass.

- **Named stops**, the places riders know by name: nodes tagged ``highway=bus_stop``,
  ``amenity=bus_station``, ``railway=station`` or ``railway=halt``, or a bus platform
  (``public_transport=platform`` with ``bus=yes``), that have a ``name``. Stops sharing a name (the two
  sides of a road) are listed once, at the node with the lowest id.
- **Places**: ``place=*`` nodes of settlement kinds; their weight is their ``population`` tag when it is
  a number, otherwise a default by kind (town > village > hamlet).
- **Hubs**, points trips gather at (named or not): rail stations (``railway=station``), bus stations
  (``amenity=bus_station``) and bus stops (``highway=bus_stop``).

The service uses the stops (:mod:`api.stops`) and the places (:mod:`api.services.map_data`); the demand
generator (:mod:`simulation.generator`) uses the places and hubs. :func:`read_places` keeps the last
few extracts it read, so the service reads its extract once for both.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import osmium

# Default weights (inhabitants) of places without a usable population tag, by their place kind.
KIND_WEIGHTS: dict[str, float] = {
    "city": 50_000, "town": 10_000, "suburb": 3_000, "village": 1_000, "quarter": 1_000,
    "neighbourhood": 300, "hamlet": 100, "isolated_dwelling": 10,
}
# (key, value) → hub kind, in order of precedence.
HUB_TAGS: dict[tuple[str, str], str] = {
    ("railway", "station"): "station", ("amenity", "bus_station"): "bus_station",
    ("highway", "bus_stop"): "bus_stop",
}
# (key, value, stop kind), in order of precedence; bus platforms are recognised apart (two tags).
STOP_TAGS: tuple[tuple[str, str, str], ...] = (
    ("highway", "bus_stop", "bus_stop"),
    ("amenity", "bus_station", "bus_station"),
    ("railway", "station", "station"),
    ("railway", "halt", "station"),
)
# The tag keys any of the above needs: the reader skips every other node.
KEYS = ("place", "highway", "amenity", "railway", "public_transport")


@dataclass(frozen=True)
class NamedStop:
    """A stop riders can pick by name; ``id`` is ``osm-<node id>``."""

    id: str
    name: str
    kind: str  # bus_stop, bus_station, station
    lat: float
    lon: float


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
    """Everything read from an extract: settlements and hubs in file order, named stops by name."""

    places: tuple[Place, ...]
    hubs: tuple[Hub, ...]
    stops: tuple[NamedStop, ...]


def name_key(text: str) -> str:
    """``text`` for sorting and matching: case and accents ignored (``Äule`` ~ ``aule``)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def parse_population(value: str | None) -> float | None:
    """A population tag as a number (``"5'933"``, ``"5 933"``, ``"5933"``), or None when it is not one."""
    if not value:
        return None
    digits = re.sub(r"[\s',.]", "", value)
    return float(digits) if digits.isdigit() and int(digits) > 0 else None


def stop_kind(tags: osmium.osm.TagList) -> str | None:
    """What kind of stop a node with ``tags`` is, or None for no stop."""
    for key, value, kind in STOP_TAGS:
        if tags.get(key) == value:
            return kind
    if tags.get("public_transport") == "platform" and tags.get("bus") == "yes":
        return "bus_stop"
    return None


def hub_kind(tags: osmium.osm.TagList) -> str | None:
    """What kind of hub a node with ``tags`` is, or None for no hub."""
    return next((kind for (key, value), kind in HUB_TAGS.items() if tags.get(key) == value), None)


def read_places(osm_file: Path) -> RegionPlaces:
    """The places, hubs and named stops of ``osm_file`` (nodes only), in one pass over the file; an
    extract read before and unchanged since (same size and modification time) is not read again."""
    path = Path(osm_file).resolve()
    status = path.stat()
    return _read(path, status.st_mtime_ns, status.st_size)


@lru_cache(maxsize=4)
def _read(path: Path, mtime_ns: int, size: int) -> RegionPlaces:
    """The work of :func:`read_places`; ``mtime_ns`` and ``size`` only key the cache."""
    places: list[Place] = []
    hubs: list[Hub] = []
    by_name: dict[str, tuple[int, NamedStop]] = {}
    for node in osmium.FileProcessor(str(path), osmium.osm.NODE).with_filter(osmium.filter.KeyFilter(*KEYS)):
        if not isinstance(node, osmium.osm.Node) or not node.location.valid():
            continue
        tags = node.tags
        lat, lon = node.location.lat, node.location.lon
        kind = tags.get("place")
        if kind in KIND_WEIGHTS:
            population = parse_population(tags.get("population"))
            place_name = tags.get("name")
            places.append(Place(f"{kind} {node.id}" if place_name is None else place_name, kind, lat, lon,
                                population or KIND_WEIGHTS[kind], population is not None))
        hub = hub_kind(tags)
        if hub is not None:
            hubs.append(Hub(hub, lat, lon))
        name, stop = tags.get("name"), stop_kind(tags)
        if name and stop is not None:
            known = by_name.get(name)
            if known is None or node.id < known[0]:
                by_name[name] = (node.id, NamedStop(f"osm-{node.id}", name, stop, lat, lon))
    stops = sorted((stop for _, stop in by_name.values()), key=lambda s: (name_key(s.name), s.id))
    return RegionPlaces(tuple(places), tuple(hubs), tuple(stops))
