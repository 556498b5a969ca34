"""The walk graph: where riders walk to a meeting point, and how far.

Built from the same OSM extract as the drive graph, through the same loader (the extract reduced with
pyosmium, then osmnx's ``graph_from_xml``), but keeping the ways of osmnx's ``network_type="walk"``
filter — footways, paths, pedestrian streets, steps, residential streets and the like, every way
walkable both ways — and compiled into the same CSR form (:class:`routing.compiled.CompiledGraph`,
travel times at :data:`WALK_SPEED_MPS`). It is cached on disk next to the drive graph, in its own
file (``<region>-walk-<key>.npz``).

A walk from a point starts with a straight line to the nearest walk-graph node, follows the shortest
path over the graph and ends with a straight line to the goal: its metres are never below the
straight-line distance. :func:`candidates` lists the meeting points a rider can walk to within a limit.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import tempfile
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from routing.compiled import CompiledGraph, LoadReport, compile_graph, file_sha256, load, save
from routing.errors import OsmFileError
from routing.geo import LocalProjection
from routing.osm_import import check_osm_path, write_ways_xml
from routing.settings import RoutingSettings

if TYPE_CHECKING:
    import networkx as nx

    from routing.snapping import Snapper

WALK_FORMAT_VERSION = 1
WALK_SPEED_MPS = 1.3  # about 4.7 km/h, an unhurried adult pace
_EXCLUDED_HIGHWAY = re.compile(
    "abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|proposed|raceway|razed|"
    "rest_area|services"
)
_EXCLUDED = (("area", "yes"), ("access", "private"), ("foot", "no"), ("service", "private"))
_SEPARATE_SIDEWALK = ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right")


class Located(Protocol):
    """Anything with an id and a position: a meeting point as far as walking is concerned."""

    @property
    def id(self) -> str: ...
    @property
    def lat(self) -> float: ...
    @property
    def lon(self) -> float: ...


@dataclass(frozen=True)
class WalkPath:
    """A walk: its metres (never below the straight-line distance) and its shape as GeoJSON positions."""

    metres: int
    positions: tuple[tuple[float, float], ...]  # (lon, lat), start first

    def geojson(self) -> dict[str, object]:
        """The walk as a GeoJSON LineString."""
        return {"type": "LineString", "coordinates": [list(p) for p in self.positions]}


@dataclass(frozen=True)
class WalkCandidate:
    """A meeting point within walking reach: the point, the walk's metres and its path."""

    point: Located
    metres: int
    path: WalkPath


def is_walkable(tags: object) -> bool:
    """Return whether a way's tags pass osmnx's ``network_type="walk"`` filter."""
    if "highway" not in tags or _EXCLUDED_HIGHWAY.search(tags["highway"]):  # type: ignore[operator,index]
        return False
    for key, pattern in _EXCLUDED:
        if key in tags and re.search(pattern, tags[key]):  # type: ignore[operator,index]
            return False
    return not any(key in tags and tags[key] == "separate" for key in _SEPARATE_SIDEWALK)  # type: ignore[operator,index]


def build_walk_graph(path: Path) -> nx.MultiDiGraph:
    """Build the walk graph of an OSM file: its largest connected component, every way both ways, with
    ``length`` (m) and ``travel_time`` (s at :data:`WALK_SPEED_MPS`) on every edge.

    Raises :class:`OsmFileError` when the file is missing, unreadable or has no walkable ways.
    """
    import osmnx as ox

    check_osm_path(path)
    with tempfile.TemporaryDirectory(prefix="rufbus-walk-") as tmp:
        walk_xml = Path(tmp) / "walk.osm"
        try:
            ways = write_ways_xml(path, walk_xml, is_walkable)
        except (RuntimeError, OSError, ValueError) as exc:
            raise OsmFileError(path, f"cannot read the file ({exc})") from exc
        if ways == 0:
            raise OsmFileError(path, "no walkable ways in the file")
        try:
            graph = ox.graph_from_xml(walk_xml, bidirectional=True, retain_all=False)
        except (ValueError, KeyError) as exc:
            raise OsmFileError(path, f"cannot build a walk graph ({exc})") from exc
    graph = ox.truncate.largest_component(graph, strongly=True)
    if graph.number_of_edges() == 0:
        raise OsmFileError(path, "no two walkable ways connect")
    for _, _, data in graph.edges(data=True):
        data["travel_time"] = float(data["length"]) / WALK_SPEED_MPS
    return graph


def walk_cache_path(source: Path, settings: RoutingSettings, source_sha256: str | None = None) -> Path:
    """The walk graph's cache file for ``source``: a changed file gives a new one."""
    sha = source_sha256 or file_sha256(source)
    key = hashlib.sha256(f"{sha}:walk:{WALK_SPEED_MPS}:v{WALK_FORMAT_VERSION}".encode()).hexdigest()[:20]
    return settings.cache_dir / f"{source.name.split('.')[0]}-walk-{key}.npz"


def load_or_build_walk(source: Path, settings: RoutingSettings) -> tuple[CompiledGraph, LoadReport]:
    """Load the compiled walk graph of ``source`` from the cache, building and caching it if absent."""
    started = time.perf_counter()
    check_osm_path(source)
    sha = file_sha256(source)
    target = walk_cache_path(source, settings, sha)
    if target.is_file():
        try:
            compiled = load(target)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            target.unlink(missing_ok=True)
        else:
            return compiled, LoadReport(target, built=False, seconds=time.perf_counter() - started)
    meta = {"source": source.name, "sha256": sha, "network": "walk"}
    compiled = compile_graph(build_walk_graph(source), meta)
    compiled.meta["build_s"] = time.perf_counter() - started
    save(compiled, target)
    return compiled, LoadReport(target, built=True, seconds=time.perf_counter() - started)


class WalkNetwork:
    """Walking distances and paths over one region's walk graph."""

    def __init__(self, graph: CompiledGraph, report: LoadReport | None = None) -> None:
        self.graph = graph
        self.report = report
        self.projection = LocalProjection.around(graph.node_lat, graph.node_lon)

    @classmethod
    def load(cls, osm_file: Path | None = None, settings: RoutingSettings | None = None) -> WalkNetwork:
        """The walk network of an OSM file (default: the settings' region), from cache or built."""
        settings = settings or RoutingSettings.from_env()
        compiled, report = load_or_build_walk(Path(osm_file or settings.osm_file), settings)
        return cls(compiled, report)

    @cached_property
    def _csgraph(self) -> object:
        from scipy.sparse import csr_array

        g = self.graph
        weights = np.maximum(g.length_dm, 1).astype(np.float64)  # an explicit zero would be no edge
        return csr_array((weights, g.indices, g.indptr), shape=(g.node_count, g.node_count))

    @cached_property
    def snapper(self) -> Snapper:
        """The nearest-way index, built on first use."""
        from routing.snapping import Snapper

        return Snapper(self.graph, self.projection)

    def nearest_nodes(self, lat: Sequence[float], lon: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
        """The walk-graph node each point starts from (the nearer end of the nearest way) and the
        straight-line metres to it."""
        snap = self.snapper.snap(np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64))
        g = self.graph
        return snap.node, self.straight_m(lat, lon, g.node_lat[snap.node], g.node_lon[snap.node])

    def straight_m(self, lat1: Sequence[float] | np.ndarray, lon1: Sequence[float] | np.ndarray,
                   lat2: Sequence[float] | np.ndarray, lon2: Sequence[float] | np.ndarray) -> np.ndarray:
        """Straight-line metres between point pairs (in the network's local projection)."""
        x1, y1 = self.projection.forward(np.asarray(lat1), np.asarray(lon1))
        x2, y2 = self.projection.forward(np.asarray(lat2), np.asarray(lon2))
        return np.asarray(np.hypot(x2 - x1, y2 - y1), dtype=np.float64)

    def walk(self, start: tuple[float, float], goal: tuple[float, float]) -> WalkPath:
        """The shortest walk from ``start`` to ``goal`` (both ``(lat, lon)``)."""
        found = self.walks(start, [goal], limit_m=None)
        assert found[0] is not None  # the graph is connected: every goal is reachable
        return found[0]

    def walks(self, start: tuple[float, float], goals: Sequence[tuple[float, float]], limit_m: float | None
               ) -> list[WalkPath | None]:
        """Shortest walks from ``start`` to each goal; None for a goal beyond ``limit_m`` metres."""
        from scipy.sparse.csgraph import dijkstra

        nodes, access = self.nearest_nodes([start[0], *(g[0] for g in goals)],
                                           [start[1], *(g[1] for g in goals)])
        origin, origin_m = int(nodes[0]), float(access[0])
        limit_dm = np.inf if limit_m is None else max(0.0, (limit_m - origin_m) * 10)
        dist_dm, predecessors = dijkstra(self._csgraph, indices=origin, return_predecessors=True,
                                         limit=limit_dm)
        walks: list[WalkPath | None] = []
        for (lat, lon), node, goal_m in zip(goals, nodes[1:].tolist(), access[1:].tolist(), strict=True):
            metres = origin_m + float(dist_dm[node]) / 10 + goal_m
            if not np.isfinite(metres) or (limit_m is not None and metres > limit_m):
                walks.append(None)
                continue
            shape = [(start[1], start[0]), *self._shape(origin, node, predecessors), (lon, lat)]
            walks.append(WalkPath(round(metres), tuple(shape)))
        return walks

    def _shape(self, origin: int, node: int, predecessors: np.ndarray) -> list[tuple[float, float]]:
        """The (lon, lat) shape of the tree path from ``origin`` to ``node``."""
        g = self.graph
        nodes = [node]
        while nodes[-1] != origin:
            nodes.append(int(predecessors[nodes[-1]]))
        nodes.reverse()
        shape = [(float(g.node_lon[origin]), float(g.node_lat[origin]))]
        for tail, head in itertools.pairwise(nodes):
            edge = g.edge_index(tail, head)
            points = slice(g.geom_ptr[edge] + 1, g.geom_ptr[edge + 1])
            shape += zip(g.geom_lon[points].tolist(), g.geom_lat[points].tolist())
        return shape


def candidates(walk: WalkNetwork, point: tuple[float, float], meeting_points: Sequence[Located],
               max_walk_m: float) -> list[WalkCandidate]:
    """The meeting points a rider at ``point`` (``(lat, lon)``) can walk to within ``max_walk_m`` metres,
    nearest walk first, each with the walk's metres and path. Points farther in a straight line are not
    walked to at all."""
    if not meeting_points:
        return []
    lat = np.array([p.lat for p in meeting_points])
    lon = np.array([p.lon for p in meeting_points])
    near = np.flatnonzero(walk.straight_m(np.full(lat.size, point[0]), np.full(lat.size, point[1]), lat, lon)
                          <= max_walk_m)
    if near.size == 0:
        return []
    paths = walk.walks(point, [(float(lat[i]), float(lon[i])) for i in near], limit_m=max_walk_m)
    found = [WalkCandidate(meeting_points[i], path.metres, path)
             for i, path in zip(near.tolist(), paths, strict=True) if path is not None]
    return sorted(found, key=lambda c: (c.metres, c.point.id))
