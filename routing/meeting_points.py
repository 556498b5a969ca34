"""The meeting points an area starts with (virtual stops): its OSM bus stops, plus points generated along
the roads a bus can stop on.

- **OSM stops** are the region's named stops (:func:`routing.stops.read_places`), ids ``osm-<node id>``.
- **Generated points** lie on ways of the kinds in :data:`STOPPABLE_HIGHWAYS` (never motorways, trunk
  roads or their links), spread evenly along each way about every :data:`SPACING_M` metres (a short way
  gets one point, in its middle), ids ``gen-<way id>-<k>``. A generated point closer than
  :data:`STOP_CLEARANCE_M` to an OSM stop, or than :data:`MIN_SEPARATION_M` to a generated point already
  taken (bigger roads first), is left out.

Only points inside the service area and near the drive graph are kept, each with the drive node a bus
stops at. Operators edit the set afterwards (:mod:`api.services.meeting_points`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from routing.geo import LocalProjection
from routing.network import RoadNetwork
from routing.osm_import import is_drivable
from routing.stops import read_places

# Road kinds a bus may stop on, in order of preference (a bigger road's point wins a tie of spacing).
STOPPABLE_HIGHWAYS: tuple[str, ...] = (
    "secondary", "tertiary", "unclassified", "residential", "living_street")
SPACING_M = 275.0
MIN_SEPARATION_M = 200.0
STOP_CLEARANCE_M = 100.0
MAX_ROAD_SNAP_M = 25.0  # a generated point farther from the drive graph lies on a cut-off piece of road


@dataclass(frozen=True)
class MeetingPointSeed:
    """A meeting point an area starts with: ``source`` is ``osm`` or ``generated``; ``road`` the highway
    kind of a generated point's way (``None`` for OSM stops); ``node`` the drive node a bus stops at."""

    id: str
    name: str
    lat: float
    lon: float
    source: str
    node: int
    road: str | None = None


@dataclass(frozen=True)
class StoppableRoad:
    """A way a bus may stop on: its OSM id, highway kind, name (empty without one) and node positions."""

    way_id: int
    highway: str
    name: str
    lat: np.ndarray
    lon: np.ndarray


def stoppable_roads(osm_file: Path) -> tuple[StoppableRoad, ...]:
    """The ways of ``osm_file`` a bus may stop on, with their node positions (read once per file version)."""
    path = Path(osm_file).resolve()
    status = path.stat()
    return _read_roads(path, status.st_mtime_ns, status.st_size)


@lru_cache(maxsize=4)
def _read_roads(path: Path, mtime_ns: int, size: int) -> tuple[StoppableRoad, ...]:
    """The work of :func:`stoppable_roads`; ``mtime_ns`` and ``size`` only key the cache."""
    import osmium

    roads = []
    ways = osmium.FileProcessor(str(path)).with_locations().with_filter(osmium.filter.KeyFilter("highway"))
    for way in ways:
        if not isinstance(way, osmium.osm.Way) or way.tags.get("highway") not in STOPPABLE_HIGHWAYS:
            continue
        if not is_drivable(way.tags):
            continue
        points = [(n.location.lat, n.location.lon) for n in way.nodes if n.location.valid()]
        if len(points) < 2:
            continue
        lat, lon = np.array(points).T
        roads.append(StoppableRoad(way.id, way.tags["highway"], way.tags.get("name") or "", lat, lon))
    return tuple(roads)


def points_along(lat: np.ndarray, lon: np.ndarray, projection: LocalProjection, spacing_m: float
                 ) -> list[tuple[float, float]]:
    """Points spread evenly along a polyline about every ``spacing_m`` metres: ``n = round(length /
    spacing)`` (at least one) points, each in the middle of its ``length / n`` stretch; ``(lat, lon)``."""
    x, y = projection.forward(lat, lon)
    along = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
    length = float(along[-1])
    if length <= 0:
        return []
    count = max(1, round(length / spacing_m))
    offsets = (np.arange(count) + 0.5) * length / count
    px, py = np.interp(offsets, along, x), np.interp(offsets, along, y)
    plat, plon = projection.inverse(px, py)
    return list(zip(plat.tolist(), plon.tolist(), strict=True))


class _Grid:
    """Points in local metres, bucketed for "is any taken point within r?" questions."""

    def __init__(self, cell_m: float) -> None:
        self.cell = cell_m
        self.cells: dict[tuple[int, int], list[tuple[float, float]]] = {}

    def add(self, x: float, y: float) -> None:
        self.cells.setdefault((int(x // self.cell), int(y // self.cell)), []).append((x, y))

    def near(self, x: float, y: float, radius_m: float) -> bool:
        cx, cy = int(x // self.cell), int(y // self.cell)
        reach = int(np.ceil(radius_m / self.cell))
        return any(np.hypot(x - px, y - py) < radius_m
                   for dx in range(-reach, reach + 1) for dy in range(-reach, reach + 1)
                   for px, py in self.cells.get((cx + dx, cy + dy), ()))


def seed_points(network: RoadNetwork, osm_file: Path | None = None) -> list[MeetingPointSeed]:
    """The meeting points an area starts with: the named stops of the extract and the generated points
    along stoppable roads, all inside ``network``'s service area and near its roads (OSM stops within the
    network's snapping limit, generated points within :data:`MAX_ROAD_SNAP_M`)."""
    source = Path(osm_file or network.settings.osm_file)
    projection = network.projection
    stops = [(f"{s.id}", s.name, s.lat, s.lon) for s in read_places(source).stops]
    found = _usable(network, stops, "osm", None, network.settings.snap_max_m)
    stop_grid, taken = _Grid(STOP_CLEARANCE_M), _Grid(MIN_SEPARATION_M)
    for point in found:
        stop_grid.add(*(float(v) for v in projection.forward(np.array(point.lat), np.array(point.lon))))
    rank = {kind: i for i, kind in enumerate(STOPPABLE_HIGHWAYS)}
    generated: list[tuple[str, str, float, float, str]] = []
    for road in sorted(stoppable_roads(source), key=lambda r: (rank[r.highway], r.way_id)):
        for k, (lat, lon) in enumerate(points_along(road.lat, road.lon, projection, SPACING_M)):
            x, y = (float(v) for v in projection.forward(np.array(lat), np.array(lon)))
            if stop_grid.near(x, y, STOP_CLEARANCE_M) or taken.near(x, y, MIN_SEPARATION_M):
                continue
            taken.add(x, y)
            generated.append((f"gen-{road.way_id}-{k}", road.name or road.highway, lat, lon, road.highway))
    by_road = {point[0]: point[4] for point in generated}
    kept = _usable(network, [p[:4] for p in generated], "generated", by_road, MAX_ROAD_SNAP_M)
    return found + kept


def _usable(network: RoadNetwork, points: Iterable[tuple[str, str, float, float]], source: str,
            roads: dict[str, str] | None, max_snap_m: float) -> list[MeetingPointSeed]:
    """The ``points`` (id, name, lat, lon) inside the service area and within ``max_snap_m`` of a road."""
    rows = list(points)
    if not rows:
        return []
    lat = np.array([r[2] for r in rows])
    lon = np.array([r[3] for r in rows])
    inside = network.in_service_area(lat, lon)
    snap = network.snapper.snap(lat, lon)
    keep = inside & (snap.distance_m <= max_snap_m)
    return [MeetingPointSeed(pid, name[:120], plat, plon, source, int(node),
                             None if roads is None else roads[pid])
            for (pid, name, plat, plon), node, ok in zip(rows, snap.node.tolist(), keep.tolist(), strict=True)
            if ok]
