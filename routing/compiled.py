"""The compiled road graph: CSR arrays with integer edge weights, cached as ``.npz``.

Edge times are integer milliseconds and lengths integer decimetres. For Dijkstra both are packed
into one exact float64 weight ``time_ms * 2**k + length_dm``: the shortest path under it is the
time-fastest path (ties broken by distance), and the sum decodes into the fastest time and the
distance along that path. ``k`` is chosen at compile time from a proven bound on path lengths,
so every sum stays an exact integer below 2**53.

Edges longer than ``max_edge_m`` are cut into pieces at new nodes (:mod:`routing.curb`), so that a
rider's point always lies near a node a bus can stop at; every node carries the names of the streets
it lies on, and every edge whether buses may stop on it.

The cache file name holds a key over the source file's SHA-256, the speed table, ``max_edge_m`` and
:data:`FORMAT_VERSION`; loading never imports osmnx or networkx.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from routing.curb import RoadEdge, is_stoppable, split_long_edges
from routing.errors import RoutingError
from routing.geo import LocalProjection
from routing.osm_import import build_drive_graph, check_osm_path
from routing.settings import RoutingSettings
from routing.speeds import FALLBACK_KMH, RURAL_SPEEDS_KMH, speeds_fingerprint

if TYPE_CHECKING:
    import networkx as nx

FORMAT_VERSION = 2  # 2: curbside nodes, street names, stoppable edges
_EXACT_LIMIT = 2**53
_ARRAYS = (
    "node_lat", "node_lon", "osm_id", "indptr", "indices", "time_ms", "length_dm",
    "geom_ptr", "geom_lat", "geom_lon", "edge_stoppable", "node_street", "street_names",
)  # fmt: skip


@dataclass(frozen=True)
class CompiledGraph:
    """A strongly connected directed road graph in CSR form (nodes 0..n-1, edges sorted by tail)."""

    node_lat: np.ndarray  # float64 (n,)
    node_lon: np.ndarray  # float64 (n,)
    osm_id: np.ndarray  # int64 (n,): the OSM node id; -1, -2, ... for nodes cut into long edges
    indptr: np.ndarray  # int64 (n+1,): edges of node u are indptr[u]:indptr[u+1]
    indices: np.ndarray  # int32 (m,): head node of each edge
    time_ms: np.ndarray  # int64 (m,), >= 1
    length_dm: np.ndarray  # int64 (m,)
    geom_ptr: np.ndarray  # int64 (m+1,): shape points of edge e are geom_ptr[e]:geom_ptr[e+1]
    geom_lat: np.ndarray  # float64
    geom_lon: np.ndarray  # float64
    edge_stoppable: np.ndarray  # bool (m,): buses may stop on the edge (not a motorway or trunk road)
    node_street: np.ndarray  # int32 (n,): index into street_names of the streets at the node
    street_names: np.ndarray  # str: "" (unnamed), a street's name, or the names at a corner ("A / B")
    distance_bits: int  # k in time_ms * 2**k + length_dm
    meta: dict[str, Any]  # source, sha256, road_km, hull_km2, max_edge_m, build_s

    @property
    def node_count(self) -> int:
        """Number of nodes."""
        return int(self.node_lat.shape[0])

    @property
    def edge_count(self) -> int:
        """Number of directed edges (parallel OSM edges merged into the fastest)."""
        return int(self.indices.shape[0])

    def packed_weights(self) -> np.ndarray:
        """Return the exact float64 Dijkstra weights ``time_ms * 2**k + length_dm``."""
        return (self.time_ms * (1 << self.distance_bits) + self.length_dm).astype(np.float64)

    def decode(self, packed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Split packed path weights into (seconds, metres), both rounded int64."""
        whole = packed.astype(np.int64)
        time_ms = whole >> self.distance_bits
        length_dm = whole - (time_ms << self.distance_bits)
        return (time_ms + 500) // 1000, (length_dm + 5) // 10

    def edge_index(self, tail: int, head: int) -> int:
        """Return the index of the edge ``tail -> head``; raise :class:`RoutingError` if absent."""
        start, stop = self.indptr[tail], self.indptr[tail + 1]
        hits = np.flatnonzero(self.indices[start:stop] == head)
        if hits.size == 0:
            raise RoutingError(f"no edge from node {tail} to node {head}")
        return int(start + hits[0])

    def street(self, node: int) -> str:
        """The street(s) ``node`` lies on: one name mid-road, ``"A / B"`` at a corner, ``""`` if unnamed."""
        return str(self.street_names[self.node_street[node]])


def compile_graph(graph: nx.MultiDiGraph, meta: dict[str, Any] | None = None,
                  max_edge_m: float | None = None) -> CompiledGraph:
    """Compile a strongly connected osmnx graph (``travel_time``, ``length``) into CSR arrays.

    With ``max_edge_m``, longer edges are cut into pieces at most that long (:mod:`routing.curb`).
    """
    import osmnx as ox

    osm_ids = np.fromiter(graph.nodes, dtype=np.int64, count=graph.number_of_nodes())
    position = {int(node): i for i, node in enumerate(osm_ids)}
    node_lat = np.array([graph.nodes[n]["y"] for n in osm_ids.tolist()], dtype=np.float64)
    node_lon = np.array([graph.nodes[n]["x"] for n in osm_ids.tolist()], dtype=np.float64)
    edges = [_road_edge(graph, position[u], position[v], u, v, data) for u, v, data in graph.edges(data=True)]
    info = dict(meta or {})
    if max_edge_m is not None:
        projection = LocalProjection.around(node_lat, node_lon)
        edges, added = split_long_edges(edges, node_lat.size, max_edge_m, projection)
        node_lat, node_lon = np.concatenate([node_lat, added[:, 1]]), np.concatenate([node_lon, added[:, 0]])
        osm_ids = np.concatenate([osm_ids, -np.arange(1, added.shape[0] + 1, dtype=np.int64)])
        info["max_edge_m"] = max_edge_m
    tail = np.array([e.tail for e in edges], dtype=np.int64)
    head = np.array([e.head for e in edges], dtype=np.int64)
    time_ms = np.array([e.time_ms for e in edges], dtype=np.int64)
    length_dm = np.array([e.length_dm for e in edges], dtype=np.int64)
    order = np.lexsort((length_dm, time_ms, head, tail))
    first = np.ones(order.size, dtype=bool)
    first[1:] = (tail[order][1:] != tail[order][:-1]) | (head[order][1:] != head[order][:-1])
    keep = order[first]  # the fastest of parallel edges, in CSR order
    indptr = np.zeros(node_lat.size + 1, dtype=np.int64)
    np.add.at(indptr, tail[keep] + 1, 1)
    kept = [edges[e] for e in keep.tolist()]
    geom_ptr = np.zeros(keep.size + 1, dtype=np.int64)
    geom_ptr[1:] = np.cumsum([len(e.shape) for e in kept])
    coords = np.concatenate([e.shape for e in kept])
    node_street, street_names = _node_streets(kept, node_lat.size)
    info["road_km"] = float(ox.stats.edge_length_total(ox.convert.to_undirected(graph))) / 1000
    info["hull_km2"] = _hull_km2(node_lat, node_lon)
    indptr = np.cumsum(indptr)
    indices = head[keep].astype(np.int32)
    return CompiledGraph(
        node_lat=node_lat,
        node_lon=node_lon,
        osm_id=osm_ids,
        indptr=indptr,
        indices=indices,
        time_ms=time_ms[keep],
        length_dm=length_dm[keep],
        geom_ptr=geom_ptr,
        geom_lat=np.ascontiguousarray(coords[:, 1]),
        geom_lon=np.ascontiguousarray(coords[:, 0]),
        edge_stoppable=np.array([e.stoppable for e in kept], dtype=bool),
        node_street=node_street,
        street_names=street_names,
        distance_bits=_distance_bits(indptr, indices, time_ms[keep], length_dm[keep]),
        meta=info,
    )


def _road_edge(graph: nx.MultiDiGraph, tail: int, head: int, u: int, v: int, data: dict[str, Any]
               ) -> RoadEdge:
    """One osmnx edge ``u -> v`` (at node indices ``tail``, ``head``) as a :class:`RoadEdge`."""
    geometry = data.get("geometry")
    if geometry is None:
        ends = graph.nodes[u], graph.nodes[v]
        shape = np.array([(end["x"], end["y"]) for end in ends], dtype=np.float64)
    else:
        shape = np.asarray(geometry.coords, dtype=np.float64)
    label = data.get("name") or data.get("ref")
    streets = tuple(sorted({label} if isinstance(label, str) else set(label or ())))
    time_ms, length_dm = max(1, round(float(data["travel_time"]) * 1000)), round(float(data["length"]) * 10)
    return RoadEdge(tail, head, time_ms, length_dm, shape, streets, is_stoppable(data.get("highway")))


def _node_streets(edges: list[RoadEdge], node_count: int) -> tuple[np.ndarray, np.ndarray]:
    """Each node's streets (the names of the edges leaving and entering it) as an index into a table of
    labels; label 0 is ``""`` for nodes on unnamed roads only."""
    names: list[set[str]] = [set() for _ in range(node_count)]
    for edge in edges:
        names[edge.tail].update(edge.streets)
        names[edge.head].update(edge.streets)
    labels = [" / ".join(sorted(n)) for n in names]
    table = ["", *sorted(set(labels) - {""})]
    index = {label: i for i, label in enumerate(table)}
    return np.array([index[label] for label in labels], dtype=np.int32), np.array(table, dtype=np.str_)


def _hull_km2(lat: np.ndarray, lon: np.ndarray) -> float:
    import shapely

    from routing.geo import LocalProjection

    x, y = LocalProjection.around(lat, lon).forward(lat, lon)
    return float(shapely.convex_hull(shapely.multipoints(np.column_stack([x, y]))).area) / 1e6


def _distance_bits(
    indptr: np.ndarray, indices: np.ndarray, time_ms: np.ndarray, length_dm: np.ndarray
) -> int:
    """Bits for the distance part of packed weights, from a proven bound on fastest paths.

    In a strongly connected graph every fastest time is at most ecc_out(0) + ecc_in(0), and a
    path's length is at most its time times the largest length/time ratio of any edge.
    """
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import dijkstra

    n = indptr.size - 1
    graph = csr_array((time_ms.astype(np.float64), indices, indptr), shape=(n, n))
    out_ecc = dijkstra(graph, indices=0).max()
    in_ecc = dijkstra(graph.T.tocsr(), indices=0).max()
    time_bound = int(out_ecc + in_ecc) + int(time_ms.max()) + 1
    length_bound = int(np.ceil(time_bound * float((length_dm / time_ms).max()))) + 1
    bits = length_bound.bit_length()
    if (time_bound + 1) << bits >= _EXACT_LIMIT:
        raise RoutingError(f"graph too large for exact packed weights ({time_bound} ms, {length_bound} dm)")
    return bits


def file_sha256(path: Path) -> str:
    """Return the SHA-256 hex digest of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_path(source: Path, settings: RoutingSettings, source_sha256: str | None = None) -> Path:
    """Return the cache file for ``source`` under ``settings``: a changed file, speed table or
    ``max_edge_m`` gives a new one."""
    sha = source_sha256 or file_sha256(source)
    speeds = speeds_fingerprint(settings.speeds_kmh or RURAL_SPEEDS_KMH, FALLBACK_KMH)
    version = f"{sha}:{speeds}:{settings.max_edge_m}:v{FORMAT_VERSION}"
    key = hashlib.sha256(version.encode()).hexdigest()[:20]
    stem = source.name.split(".")[0]
    return settings.cache_dir / f"{stem}-{key}.npz"


def save(compiled: CompiledGraph, path: Path) -> None:
    """Write ``compiled`` to ``path`` atomically (write a temporary file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    arrays = {name: getattr(compiled, name) for name in _ARRAYS}
    meta = json.dumps({**compiled.meta, "distance_bits": compiled.distance_bits})
    with tmp.open("wb") as handle:
        np.savez(handle, meta=np.array(meta), **arrays)
    os.replace(tmp, path)


def load(path: Path) -> CompiledGraph:
    """Read a compiled graph written by :func:`save`."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in _ARRAYS}
        meta = json.loads(str(data["meta"]))
    return CompiledGraph(distance_bits=int(meta.pop("distance_bits")), meta=meta, **arrays)


@dataclass(frozen=True)
class LoadReport:
    """How a compiled graph was obtained."""

    cache_file: Path
    built: bool  # True: compiled from the OSM file now; False: read from the cache
    seconds: float


def load_or_build(source: Path, settings: RoutingSettings) -> tuple[CompiledGraph, LoadReport]:
    """Load the compiled graph of ``source`` from the cache, building and caching it if absent."""
    started = time.perf_counter()
    check_osm_path(source)
    sha = file_sha256(source)
    target = cache_path(source, settings, sha)
    if target.is_file():
        try:
            compiled = load(target)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            target.unlink(missing_ok=True)
        else:
            return compiled, LoadReport(target, built=False, seconds=time.perf_counter() - started)
    graph = build_drive_graph(source, settings.speeds_kmh, FALLBACK_KMH)
    compiled = compile_graph(graph, {"source": source.name, "sha256": sha}, settings.max_edge_m)
    compiled.meta["build_s"] = time.perf_counter() - started
    save(compiled, target)
    return compiled, LoadReport(target, built=True, seconds=time.perf_counter() - started)

