"""Queries on the road network: travel times, distances, paths, snapping (bus positions to any road,
riders' points to the curb), service area.

:class:`RoadNetwork` implements ``dispatch.travel.TravelTimes``. Matrices come from scipy's
Dijkstra over the exact packed weights (see :mod:`routing.compiled`): one run per origin gives the
fastest times *and* the distances along those paths to every node. Finished one-to-all rows are
kept in a bounded LRU cache, so the origins in use (vehicles, pending stops) are answered from
memory; the cache holds at most ``row_cache_mb`` (8 bytes per node per row). When a call misses
many rows, worker processes compute them (:mod:`routing.parallel`).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dispatch.travel import TravelMatrix
from routing import parallel
from routing.compiled import CompiledGraph, LoadReport, compile_graph, load_or_build
from routing.errors import RoutingError, UnknownNodeError
from routing.geo import LocalProjection
from routing.lru import LruCache
from routing.settings import RoutingSettings

if TYPE_CHECKING:
    from routing.service_area import ServiceArea
    from routing.snapping import Snapper, SnapResult


PATH_CACHE_SIZE = 8192  # fastest paths kept (each a few kB of nodes and shape points)


@dataclass(frozen=True)
class RoadPath:
    """A fastest path: its nodes, totals, and its shape along the roads for drivers and maps."""

    nodes: np.ndarray  # int64 node indices, origin first
    seconds: int
    metres: int
    lat: np.ndarray  # float64 shape points following the road geometry
    lon: np.ndarray

    @cached_property
    def positions(self) -> tuple[tuple[float, float], ...]:
        """The shape as GeoJSON positions ``(lon, lat)``, built once per (cached) path."""
        return tuple(zip(self.lon.tolist(), self.lat.tolist()))


class RowCache:
    """A bounded LRU cache of one-to-all packed-weight rows, keyed by origin node.

    Rows live in one block allocated on first use, so a matrix call gathers the columns it needs
    from all cached origins in a single vectorised step.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, capacity)
        self._slots: dict[int, int] = {}
        self._origin_of = np.full(self.capacity, -1, dtype=np.int64)
        self._last_used = np.zeros(self.capacity, dtype=np.int64)
        self._tick = 0
        self._block: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self._slots)

    def _touch(self, slots: np.ndarray | list[int]) -> None:
        self._tick += 1
        self._last_used[slots] = self._tick

    def get(self, origin: int) -> np.ndarray | None:
        """Return the cached row of ``origin`` (marking it recently used) or None."""
        slot = self._slots.get(origin)
        if slot is None or self._block is None:
            return None
        self._touch([slot])
        return self._block[slot]

    def gather(self, origins: Sequence[int], cols: np.ndarray) -> tuple[np.ndarray, list[int]]:
        """Return the ``origins`` × ``cols`` entries of cached rows, and the positions of uncached origins."""
        out = np.empty((len(origins), cols.size), dtype=np.float64)
        slots = np.fromiter((self._slots.get(o, -1) for o in origins), dtype=np.int64, count=len(origins))
        hit = slots >= 0
        if self._block is not None and hit.any():
            out[hit] = self._block[slots[hit][:, None], cols[None, :]]
            self._touch(slots[hit])
        return out, np.flatnonzero(~hit).tolist()

    def put(self, origin: int, row: np.ndarray) -> None:
        """Store (a copy of) a row, evicting the least recently used beyond capacity."""
        if self._block is None:
            self._block = np.empty((self.capacity, row.size), dtype=np.float64)
        slot = self._slots.get(origin)
        if slot is None:
            if len(self._slots) < self.capacity:
                slot = len(self._slots)
            else:
                slot = int(np.argmin(self._last_used))
                del self._slots[int(self._origin_of[slot])]
            self._slots[origin] = slot
            self._origin_of[slot] = origin
        self._block[slot] = row
        self._touch([slot])

    def clear(self) -> None:
        """Drop every row."""
        self._slots.clear()
        self._origin_of[:] = -1
        self._last_used[:] = 0


class RoadNetwork:
    """The drivable road graph of one region behind a small query interface."""

    def __init__(
        self, graph: CompiledGraph, settings: RoutingSettings | None = None, report: LoadReport | None = None
    ) -> None:
        self.graph = graph
        self.settings = settings or RoutingSettings()
        self.report = report
        self.projection = LocalProjection.around(graph.node_lat, graph.node_lon)
        row_bytes = 8 * graph.node_count
        self.rows = RowCache(min(graph.node_count, int(self.settings.row_cache_mb * 2**20) // row_bytes))
        # Drivers' routes and the live pushes ask for the same legs again and again: keep the paths, and
        # the shortest-path trees (int32 predecessors) they came from, within a quarter of the row budget.
        tree_budget = int(self.settings.row_cache_mb * 2**20) // 4 // (4 * graph.node_count)
        self._trees: LruCache[int, np.ndarray] = LruCache(max(1, min(graph.node_count, tree_budget)))
        self._paths: LruCache[tuple[int, int], RoadPath] = LruCache(PATH_CACHE_SIZE)

    @classmethod
    def load(cls, osm_file: Path | None = None, settings: RoutingSettings | None = None) -> RoadNetwork:
        """Load the network of an OSM file (default: the settings' region) from cache, building if needed."""
        settings = settings or RoutingSettings.from_env()
        compiled, report = load_or_build(Path(osm_file or settings.osm_file), settings)
        return cls(compiled, settings, report)

    @classmethod
    def from_place(cls, query: str, settings: RoutingSettings | None = None) -> RoadNetwork:
        """Download a place's drivable network through osmnx (needs a network connection; not cached)."""
        from routing.osm_import import graph_from_place

        settings = settings or RoutingSettings.from_env()
        graph = graph_from_place(query, settings.speeds_kmh)
        return cls(compile_graph(graph, {"source": query}, settings.max_edge_m), settings)

    @property
    def node_count(self) -> int:
        """Number of nodes; locations are the indices 0..node_count-1."""
        return self.graph.node_count

    @cached_property
    def _csgraph(self) -> object:
        from scipy.sparse import csr_array

        g = self.graph
        return csr_array((g.packed_weights(), g.indices, g.indptr), shape=(g.node_count, g.node_count))

    @cached_property
    def snapper(self) -> Snapper:
        """The nearest-road index, built on first use."""
        from routing.snapping import Snapper

        return Snapper(self.graph, self.projection)

    @cached_property
    def curb_snapper(self) -> Snapper:
        """The nearest-road index over the roads buses may stop on, built on first use."""
        from routing.snapping import Snapper

        return Snapper(self.graph, self.projection, self.graph.edge_stoppable)

    @cached_property
    def service_area(self) -> ServiceArea:
        """The configured service area, or the node hull grown by ``service_area_buffer_m``."""
        from routing.service_area import ServiceArea

        if self.settings.service_area_geojson is not None:
            return ServiceArea.from_geojson(self.settings.service_area_geojson)
        g, buffer_m = self.graph, self.settings.service_area_buffer_m
        return ServiceArea.around_nodes(g.node_lat, g.node_lon, self.projection, buffer_m)

    def in_service_area(
        self, lat: Sequence[float] | np.ndarray, lon: Sequence[float] | np.ndarray
    ) -> np.ndarray:
        """Return which points lie inside the service area."""
        return self.service_area.contains(np.asarray(lat), np.asarray(lon))

    def snap(self, lat: Sequence[float] | np.ndarray, lon: Sequence[float] | np.ndarray) -> SnapResult:
        """Snap points to the road network.

        Raises :class:`~routing.errors.OutsideServiceAreaError` for a point outside the service area and
        :class:`~routing.errors.SnapError` for one farther than ``snap_max_m`` from any drivable road.
        """
        lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
        lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
        self.service_area.require(lat, lon)
        return self.snapper.snap(lat, lon, self.settings.snap_max_m)

    def snap_to_curb(self, lat: Sequence[float] | np.ndarray, lon: Sequence[float] | np.ndarray
                     ) -> SnapResult:
        """Snap riders' points to where a bus can stop for them: the nearest node of the nearest road
        buses may stop on (no motorway or trunk road). Raises like :meth:`snap`."""
        lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
        lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
        self.service_area.require(lat, lon)
        return self.curb_snapper.snap(lat, lon, self.settings.snap_max_m)

    def matrix(
        self, origins: Sequence[int] | np.ndarray, destinations: Sequence[int] | np.ndarray
    ) -> TravelMatrix:
        """Return fastest times (s) and distances along them (m) for every origin × destination."""
        rows, cols = self._nodes(origins), self._nodes(destinations)
        unique, inverse = np.unique(rows, return_inverse=True)
        packed, missing = self.rows.gather(unique.tolist(), cols)
        for start in range(0, len(missing), self.rows.capacity):
            chunk = missing[start : start + self.rows.capacity]
            block = self._one_to_all(unique[chunk])
            packed[chunk] = block[:, cols]
            for i, row in zip(chunk, block):
                self.rows.put(int(unique[i]), row)
        seconds, metres = self.graph.decode(packed[inverse.reshape(-1)])
        return TravelMatrix(seconds, metres)

    def one_to_many(self, origin: int, destinations: Sequence[int]) -> TravelMatrix:
        """Return times and distances from one origin (a 1 × len(destinations) matrix)."""
        return self.matrix([origin], destinations)

    def travel(self, origin: int, destination: int) -> tuple[int, int]:
        """Return (seconds, metres) of the fastest path from ``origin`` to ``destination``."""
        result = self.matrix([origin], [destination])
        return int(result.seconds[0, 0]), int(result.metres[0, 0])

    def route(self, origin: int, destination: int) -> RoadPath:
        """Return the fastest path as nodes and as road geometry (lat/lon); the arrays are shared with a
        cache, so callers must not change them."""
        origin, destination = (int(n) for n in self._nodes([origin, destination]))
        path = self._paths.get((origin, destination))
        if path is None:
            path = self._fastest_path(origin, destination)
            self._paths.put((origin, destination), path)
        return path

    def _fastest_path(self, origin: int, destination: int) -> RoadPath:
        from scipy.sparse.csgraph import dijkstra

        predecessors = self._trees.get(origin)
        if predecessors is None:
            packed, predecessors = dijkstra(self._csgraph, indices=origin, return_predecessors=True)
            self.rows.put(origin, packed)
            self._trees.put(origin, predecessors)
        nodes = [destination]
        while nodes[-1] != origin:
            nodes.append(int(predecessors[nodes[-1]]))
        nodes.reverse()
        g = self.graph
        lat, lon = [g.node_lat[origin : origin + 1]], [g.node_lon[origin : origin + 1]]
        for tail, head in itertools.pairwise(nodes):
            edge = g.edge_index(tail, head)
            shape = slice(g.geom_ptr[edge] + 1, g.geom_ptr[edge + 1])
            lat.append(g.geom_lat[shape])
            lon.append(g.geom_lon[shape])
        seconds, metres = self.travel(origin, destination)
        return RoadPath(np.array(nodes, dtype=np.int64), seconds, metres,
                     np.concatenate(lat), np.concatenate(lon))  # fmt: skip

    def _one_to_all(self, origins: np.ndarray) -> np.ndarray:
        from scipy.sparse.csgraph import dijkstra

        block = None
        if origins.size >= self.settings.matrix_parallel_rows:
            workers = parallel.available_workers(self.settings.matrix_workers)
            block = parallel.one_to_all(self._csgraph, origins, workers)
        if block is None:
            block = dijkstra(self._csgraph, indices=origins)
        if not np.isfinite(block).all():
            raise RoutingError("road graph is not strongly connected")
        return block

    def _nodes(self, nodes: Sequence[int] | np.ndarray) -> np.ndarray:
        array = np.asarray(nodes, dtype=np.int64).reshape(-1)
        bad = np.flatnonzero((array < 0) | (array >= self.node_count))
        if bad.size:
            raise UnknownNodeError(int(array[bad[0]]), self.node_count)
        return array
