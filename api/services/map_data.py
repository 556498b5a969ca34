"""What the web pages draw as their base map, built once per process from the loaded region: the road
network as GeoJSON (there are no map tiles offline), the service area's outline, and a short list of
named places riders can pick as origin or destination.

The roads come from the compiled graph (:class:`routing.compiled.CompiledGraph`): each road drawn once
(a two-way road is two directed edges), its shape simplified by a few metres and rounded to 5 decimals
(about 1 m), grouped by speed class so the pages can draw main roads bolder. Liechtenstein's network is
about 140 kB this way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping

from routing.network import RoadNetwork
from routing.stops import read_places

SIMPLIFY_DEG = 0.00003  # about 3 m: invisible at street zoom, halves the points
DECIMALS = 5
# Speed classes (km/h along the edge) drawn with different weights: main roads, local roads, slow streets.
ROAD_CLASSES: tuple[tuple[str, float], ...] = (("main", 65.0), ("local", 35.0), ("street", 0.0))
PLACE_KINDS = ("city", "town", "village", "suburb")
MAX_PLACES = 60
ATTRIBUTION = "© OpenStreetMap contributors"


def road_class(speed_kmh: float) -> str:
    """The drawing class of a road of this mean speed."""
    return next(name for name, floor in ROAD_CLASSES if speed_kmh >= floor)


def _rounded(geometry: shapely.Geometry) -> dict[str, Any]:
    return mapping(shapely.set_precision(geometry, 10.0**-DECIMALS))


def roads_geojson(network: RoadNetwork) -> dict[str, Any]:
    """The road network as a FeatureCollection: one MultiLineString per road class (``class``), each road
    once whatever its directions, shapes simplified by :data:`SIMPLIFY_DEG`; coordinates ``[lon, lat]``."""
    g = network.graph
    tails = np.repeat(np.arange(g.node_count), np.diff(g.indptr))
    heads = g.indices.astype(np.int64)
    # An edge u -> v is drawn unless v -> u exists and v < u (then that one is drawn).
    pairs = set(zip(tails.tolist(), heads.tolist(), strict=True))
    speed = (g.length_dm / 10.0) / (g.time_ms / 1000.0) * 3.6
    lines: dict[str, list[shapely.LineString]] = {name: [] for name, _ in ROAD_CLASSES}
    for edge, (tail, head) in enumerate(zip(tails.tolist(), heads.tolist(), strict=True)):
        if tail > head and (head, tail) in pairs:
            continue
        shape = slice(int(g.geom_ptr[edge]), int(g.geom_ptr[edge + 1]))
        coords = np.column_stack([g.geom_lon[shape], g.geom_lat[shape]])
        if len(coords) < 2:
            coords = np.array([[g.node_lon[tail], g.node_lat[tail]], [g.node_lon[head], g.node_lat[head]]])
        lines[road_class(float(speed[edge]))].append(shapely.LineString(coords))
    features = []
    for name, members in lines.items():
        if not members:
            continue
        simplified = shapely.simplify(shapely.MultiLineString(members), SIMPLIFY_DEG, preserve_topology=False)
        features.append({"type": "Feature", "properties": {"class": name, "roads": len(members)},
                         "geometry": _rounded(simplified)})
    return {"type": "FeatureCollection", "attribution": ATTRIBUTION, "features": features}


def area_geojson(network: RoadNetwork) -> dict[str, Any]:
    """The service area's outline as a GeoJSON Feature with its bounding box (``bbox``: W, S, E, N)."""
    polygon = network.service_area.polygon
    return {"type": "Feature", "properties": {"name": "service area"}, "bbox": list(polygon.bounds),
            "geometry": _rounded(polygon)}


def places_list(network: RoadNetwork) -> list[dict[str, Any]]:
    """Named settlements inside the service area, largest first (at most :data:`MAX_PLACES`), from the
    region's OSM file; an empty list when the file cannot be read for places."""
    source: Path = network.settings.osm_file
    try:
        places = read_places(source).places
    except Exception:  # noqa: BLE001 - a region without readable places still gets its map
        return []
    chosen = [p for p in places if p.kind in PLACE_KINDS]
    if not chosen:
        return []
    inside = network.in_service_area([p.lat for p in chosen], [p.lon for p in chosen])
    chosen = sorted((p for p, ok in zip(chosen, inside, strict=True) if ok),
                    key=lambda p: (-p.weight, p.name))
    seen: set[str] = set()
    result = []
    for place in chosen:
        if place.name in seen:
            continue
        seen.add(place.name)
        result.append({"name": place.name, "kind": place.kind, "lat": round(place.lat, 6),
                       "lon": round(place.lon, 6)})
    return result[:MAX_PLACES]


@dataclass
class MapData:
    """The base map of one loaded region, each part built on first use and kept (the area until operators
    change it; the places stay those inside the area when they were first asked for)."""

    network: RoadNetwork
    _area: tuple[Any, dict[str, Any]] | None = field(default=None, init=False, repr=False)

    @cached_property
    def roads(self) -> dict[str, Any]:
        """See :func:`roads_geojson`."""
        return roads_geojson(self.network)

    @property
    def area(self) -> dict[str, Any]:
        """See :func:`area_geojson`; built again whenever operators have put another area in force."""
        polygon = self.network.service_area.polygon
        if self._area is None or self._area[0] is not polygon:
            self._area = (polygon, area_geojson(self.network))
        return self._area[1]

    @cached_property
    def places(self) -> list[dict[str, Any]]:
        """See :func:`places_list`."""
        return places_list(self.network)
