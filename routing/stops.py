"""Named public-transport stops of a region, read from its OSM extract: the places riders know by name.

A stop is a node tagged ``highway=bus_stop``, ``amenity=bus_station``, ``railway=station`` or
``railway=halt``, or a bus platform (``public_transport=platform`` with ``bus=yes``), that has a
``name``. Stops sharing a name (the two sides of a road) are listed once, at the node with the lowest id.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

import osmium

STOP_TAGS: tuple[tuple[str, str, str], ...] = (
    ("highway", "bus_stop", "bus_stop"),
    ("amenity", "bus_station", "bus_station"),
    ("railway", "station", "station"),
    ("railway", "halt", "station"),
)


@dataclass(frozen=True)
class NamedStop:
    """A stop riders can pick by name; ``id`` is ``osm-<node id>``."""

    id: str
    name: str
    kind: str  # bus_stop, bus_station, station
    lat: float
    lon: float


def name_key(text: str) -> str:
    """``text`` for sorting and matching: case and accents ignored (``Äule`` ~ ``aule``)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def stop_kind(tags: osmium.osm.TagList) -> str | None:
    """What kind of stop a node with ``tags`` is, or None for no stop."""
    for key, value, kind in STOP_TAGS:
        if tags.get(key) == value:
            return kind
    if tags.get("public_transport") == "platform" and tags.get("bus") == "yes":
        return "bus_stop"
    return None


def read_stops(osm_file: Path) -> tuple[NamedStop, ...]:
    """The named stops of ``osm_file``, one per name, sorted by name (:func:`name_key`)."""
    by_name: dict[str, tuple[int, NamedStop]] = {}
    keys = osmium.filter.KeyFilter("highway", "amenity", "railway", "public_transport")
    for node in osmium.FileProcessor(str(osm_file), osmium.osm.NODE).with_filter(keys):
        if not isinstance(node, osmium.osm.Node):
            continue
        name, kind = node.tags.get("name"), stop_kind(node.tags)
        if not name or kind is None or not node.location.valid():
            continue
        known = by_name.get(name)
        if known is None or node.id < known[0]:
            by_name[name] = (
                node.id,
                NamedStop(f"osm-{node.id}", name, kind, node.location.lat, node.location.lon),
            )
    return tuple(sorted((stop for _, stop in by_name.values()), key=lambda s: (name_key(s.name), s.id)))
