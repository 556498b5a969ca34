"""Snap latitude/longitude points onto the road graph, vectorised.

Every edge's shape is sampled at most every :data:`SAMPLE_SPACING_M` metres into a KD-tree in
local metres. A query takes the few nearest samples, projects the point exactly onto their
segments and keeps the nearest: that gives the position on the edge (fraction along it), the
snap distance (to the road, not to a junction, which matters on long rural roads), and the
node a bus drives to, the nearer end of the edge. Long edges are cut when the graph is compiled
(:mod:`routing.curb`), so that node is near the point; the walk to it is the way to the road plus
the way along the road to the node. A snapper may be limited to some edges (the roads buses may
stop on).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from routing.compiled import CompiledGraph
from routing.errors import RoutingError, SnapError
from routing.geo import LocalProjection

SAMPLE_SPACING_M = 10.0
_CANDIDATES = 4


@dataclass(frozen=True)
class SnapResult:
    """Where each input point meets the road network (arrays aligned with the input)."""

    node: np.ndarray  # int64: graph node to use as the location (nearer end of the edge)
    distance_m: np.ndarray  # float64: straight-line distance from the point to the road
    edge: np.ndarray  # int64: CSR edge index the point projects onto
    fraction: np.ndarray  # float64: position along that edge, 0 = tail, 1 = head
    lat: np.ndarray  # float64: the projected position on the road
    lon: np.ndarray  # float64
    walk_m: np.ndarray  # float64: from the point to the road, then along the road to ``node``


class Snapper:
    """Nearest-road lookup for one compiled graph; build once, query many times."""

    def __init__(self, graph: CompiledGraph, projection: LocalProjection, edges: np.ndarray | None = None
                 ) -> None:
        """Index the edges of ``graph`` (those where the boolean mask ``edges`` is true, or all)."""
        from scipy.spatial import cKDTree

        self._projection = projection
        px, py = projection.forward(graph.geom_lat, graph.geom_lon)
        starts = np.ones(px.size - 1, dtype=bool)
        starts[graph.geom_ptr[1:-1] - 1] = False  # no segment from an edge's last point to the next edge
        seg = np.flatnonzero(starts)
        self._ax, self._ay = px[seg], py[seg]
        self._dx, self._dy = px[seg + 1] - self._ax, py[seg + 1] - self._ay
        seg_len = np.hypot(self._dx, self._dy)
        self._seg_edge = np.searchsorted(graph.geom_ptr, seg, side="right") - 1
        cum = np.concatenate([[0.0], np.cumsum(seg_len)])
        edge_first_seg = np.searchsorted(self._seg_edge, np.arange(graph.edge_count))
        self._seg_offset = cum[:-1] - cum[edge_first_seg][self._seg_edge]
        self._edge_len = np.bincount(self._seg_edge, weights=seg_len, minlength=graph.edge_count)
        self._tail = np.repeat(np.arange(graph.node_count, dtype=np.int64), np.diff(graph.indptr))
        self._head = graph.indices.astype(np.int64)
        indexed = np.arange(seg.size) if edges is None else np.flatnonzero(edges[self._seg_edge])
        if indexed.size == 0:
            raise RoutingError("no road of the graph is indexed for snapping")
        per_seg = np.maximum(1, np.ceil(seg_len[indexed] / SAMPLE_SPACING_M)).astype(np.int64)
        self._sample_seg = np.repeat(indexed, per_seg)
        first = np.repeat(np.cumsum(per_seg) - per_seg, per_seg)
        frac = (np.arange(self._sample_seg.size) - first + 0.5) / np.repeat(per_seg, per_seg)
        sx = self._ax[self._sample_seg] + frac * self._dx[self._sample_seg]
        sy = self._ay[self._sample_seg] + frac * self._dy[self._sample_seg]
        self._tree = cKDTree(np.column_stack([sx, sy]))

    def snap(self, lat: np.ndarray, lon: np.ndarray, max_distance_m: float | None = None) -> SnapResult:
        """Snap points to the nearest road.

        With ``max_distance_m``, raise :class:`SnapError` naming the first point farther than that.
        """
        lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
        lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
        x, y = self._projection.forward(lat, lon)
        _, sample = self._tree.query(np.column_stack([x, y]), k=_CANDIDATES)
        seg = self._sample_seg[sample]  # (points, candidates)
        ax, ay, dx, dy = self._ax[seg], self._ay[seg], self._dx[seg], self._dy[seg]
        norm = np.maximum(dx * dx + dy * dy, 1e-12)
        t = np.clip(((x[:, None] - ax) * dx + (y[:, None] - ay) * dy) / norm, 0.0, 1.0)
        qx, qy = ax + t * dx, ay + t * dy
        dist = np.hypot(x[:, None] - qx, y[:, None] - qy)
        best = np.argmin(dist, axis=1)
        rows = np.arange(lat.size)
        seg, t = seg[rows, best], t[rows, best]
        edge = self._seg_edge[seg]
        along = self._seg_offset[seg] + t * np.hypot(self._dx[seg], self._dy[seg])
        fraction = np.clip(along / np.maximum(self._edge_len[edge], 1e-12), 0.0, 1.0)
        distance = dist[rows, best]
        if max_distance_m is not None:
            far = np.flatnonzero(distance > max_distance_m)
            if far.size:
                i = int(far[0])
                raise SnapError(float(lat[i]), float(lon[i]), float(distance[i]), max_distance_m)
        snapped_lat, snapped_lon = self._projection.inverse(qx[rows, best], qy[rows, best])
        to_tail = fraction <= 0.5
        node = np.where(to_tail, self._tail[edge], self._head[edge])
        walk = distance + np.where(to_tail, fraction, 1.0 - fraction) * self._edge_len[edge]
        return SnapResult(node, distance, edge, fraction, snapped_lat, snapped_lon, walk)
