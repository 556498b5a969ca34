"""The walk graph: where riders walk to a meeting point, and how far.

Built from the same OSM extract as the drive graph, through the same loader (the extract reduced with
pyosmium, then osmnx's ``graph_from_xml``), but keeping the ways of osmnx's ``network_type="walk"``
filter — footways, paths, pedestrian streets, steps, residential streets and the like, every way
walkable both ways — and compiled into the same CSR form (:class:`routing.compiled.CompiledGraph`,
travel times at :data:`WALK_SPEED_MPS`). It is cached on disk next to the drive graph, in its own
file (``<region>-walk-<key>.npz``).

A walk from a point steps straight onto the nearest way, follows it to one of its ends, takes the
shortest path over the graph and the goal's way, and steps straight off to the goal: its metres are
never below the straight-line distance. :func:`candidates` lists the meeting points a rider can walk to
within a limit.
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

    from routing.snapping import Snapper, SnapResult

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
class _OnWay:
    """Where a place meets the walk graph: the way (a directed edge) and its two end nodes, the metres
    along it from its tail (in the local projection), the straight step onto it, the metres to each end
    (step included) and the shapes of those two stretches, place first, end node last."""

    edge: int
    ends: tuple[int, int]
    along: float
    length: float
    step: float
    metres: tuple[float, float]
    stretches: tuple[list[tuple[float, float]], list[tuple[float, float]]]
    inner: tuple[tuple[float, float, float], ...]  # the way's inner shape points: lon, lat, metres along


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
        """Shortest walks from ``start`` to each goal (``(lat, lon)``); None for a goal beyond ``limit_m``
        metres. A walk steps straight onto the nearest way, follows it to either end, the graph, and the
        goal's way from either end (or, on one way, just along it), and steps straight off."""
        from scipy.sparse.csgraph import dijkstra

        lat = np.array([start[0], *(g[0] for g in goals)])
        lon = np.array([start[1], *(g[1] for g in goals)])
        snap = self.snapper.snap(lat, lon)
        places = [self._on_way(snap, i, (float(lon[i]), float(lat[i]))) for i in range(lat.size)]
        here = places[0]
        reach = np.inf if limit_m is None else max(0.0, limit_m - min(here.metres)) * 10
        dist_dm, predecessors = dijkstra(self._csgraph, indices=list(here.ends), return_predecessors=True,
                                         limit=reach)
        walks: list[WalkPath | None] = []
        for there in places[1:]:
            options = [(here.metres[i] + float(dist_dm[i, there.ends[j]]) / 10 + there.metres[j], i, j)
                       for i in (0, 1) for j in (0, 1)]
            metres, i, j = min(options)
            along = self._along_same_way(here, there)
            if along is not None and along[0] <= metres:
                metres, shape = along
            elif np.isfinite(metres):
                tree = self._tree_path(here.ends[i], there.ends[j], predecessors[i])
                shape = [*here.stretches[i], *tree[1:-1], *reversed(there.stretches[j])]
            if not np.isfinite(metres) or (limit_m is not None and metres > limit_m):
                walks.append(None)
                continue
            walks.append(WalkPath(round(metres), tuple(shape)))
        return walks

    def _on_way(self, snap: SnapResult, i: int, point: tuple[float, float]) -> _OnWay:
        """Where point ``i`` of ``snap`` (``point`` is its (lon, lat)) meets its way."""
        g = self.graph
        edge = int(snap.edge[i])
        x, y = self.projection.forward(g.geom_lat[g.geom_ptr[edge]:g.geom_ptr[edge + 1]],
                                       g.geom_lon[g.geom_ptr[edge]:g.geom_ptr[edge + 1]])
        cumulative = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
        along = float(snap.fraction[i]) * float(cumulative[-1])
        step = float(snap.distance_m[i])
        tail = int(np.searchsorted(g.indptr, edge, side="right") - 1)
        head = int(g.indices[edge])
        on_way = (float(snap.lon[i]), float(snap.lat[i]))
        shape_lon = g.geom_lon[g.geom_ptr[edge]:g.geom_ptr[edge + 1]].tolist()
        shape_lat = g.geom_lat[g.geom_ptr[edge]:g.geom_ptr[edge + 1]].tolist()
        inner = list(zip(shape_lon, shape_lat, cumulative.tolist(), strict=True))[1:-1]
        to_tail = [point, on_way, *((a, b) for a, b, c in reversed(inner) if c < along),
                   (shape_lon[0], shape_lat[0])]
        to_head = [point, on_way, *((a, b) for a, b, c in inner if c > along), (shape_lon[-1], shape_lat[-1])]
        length = float(cumulative[-1])
        return _OnWay(edge=edge, ends=(tail, head), along=along, length=length, step=step,
                      metres=(step + along, step + length - along), stretches=(to_tail, to_head),
                      inner=tuple(inner))

    @staticmethod
    def _along_same_way(here: _OnWay, there: _OnWay) -> tuple[float, list[tuple[float, float]]] | None:
        """The walk along one way when both places meet the same way (either direction), else None."""
        if here.ends == there.ends:
            goal_along = there.along
        elif here.ends == there.ends[::-1]:
            goal_along = here.length - there.along
        else:
            return None
        low, high = sorted((here.along, goal_along))
        inner = [(a, b) for a, b, c in here.inner if low < c < high]
        if goal_along < here.along:
            inner.reverse()
        metres = here.step + abs(goal_along - here.along) + there.step
        return metres, [*here.stretches[0][:2], *inner, *reversed(there.stretches[0][:2])]

    def _tree_path(self, origin: int, node: int, predecessors: np.ndarray) -> list[tuple[float, float]]:
        """The (lon, lat) shape of the shortest-path tree's path from ``origin`` to ``node``, both ends
        included."""
        g = self.graph
        nodes = [node]
        while nodes[-1] != origin:
            nodes.append(int(predecessors[nodes[-1]]))
        nodes.reverse()
        shape = [(float(g.node_lon[origin]), float(g.node_lat[origin]))]
        for tail, head in itertools.pairwise(nodes):
            edge = g.edge_index(tail, head)
            points = slice(g.geom_ptr[edge] + 1, g.geom_ptr[edge + 1])
            shape += zip(g.geom_lon[points].tolist(), g.geom_lat[points].tolist(), strict=True)
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
