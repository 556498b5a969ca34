"""Curbside nodes: long road edges are cut into pieces when the graph is compiled.

A rider's point is snapped to the nearer end of the nearest edge, and the bus drives to that node. On
rural roads an edge runs for kilometres between junctions, so the nearer end can be far from the rider.
:func:`split_long_edges` cuts every edge longer than ``max_edge_m`` into equal pieces no longer than
that, with new nodes placed on the edge's shape: every point of a road is then at most half a piece,
along the road, from a node a bus can stop at.

The two directions of a two-way road share the new nodes (their shapes are the same points in reverse
order), so a rider is picked up at the same curb point whichever way the bus comes. Each piece keeps
its share of the edge's time and length (integers that add up exactly to the edge's), its street names
and whether buses may stop on it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from routing.geo import LocalProjection

# Road classes buses must not stop on: a rider is never picked up or set down on them.
NO_STOP_HIGHWAYS = frozenset({"motorway", "motorway_link", "trunk", "trunk_link"})


@dataclass(frozen=True)
class RoadEdge:
    """One directed road edge before compilation into CSR arrays."""

    tail: int
    head: int
    time_ms: int
    length_dm: int
    shape: np.ndarray  # float64 (k, 2): (lon, lat) from the tail's position to the head's
    streets: tuple[str, ...]  # the road's names (or its ref), sorted; empty for an unnamed road
    stoppable: bool  # whether a bus may stop on it (see NO_STOP_HIGHWAYS)


def is_stoppable(highway: str | list[str] | None) -> bool:
    """Whether buses may stop on a road of class ``highway`` (osmnx gives a list for merged ways: all
    of its classes must allow stopping)."""
    classes = [highway] if isinstance(highway, str) or highway is None else highway
    return not any(c in NO_STOP_HIGHWAYS for c in classes)


def split_long_edges(edges: list[RoadEdge], first_node: int, max_edge_m: float,
                     projection: LocalProjection) -> tuple[list[RoadEdge], np.ndarray]:
    """Cut every edge longer than ``max_edge_m`` into equal pieces at new nodes on its shape.

    New nodes are numbered from ``first_node`` on. Returns the edges (uncut ones as they are, pieces
    in order along their edge) and the new nodes' positions, an array of (lon, lat) rows.
    """
    if max_edge_m <= 0:
        raise ValueError(f"max_edge_m must be positive, not {max_edge_m}")
    limit_dm = max_edge_m * 10
    shared: dict[tuple[tuple[float, float], ...], list[int]] = {}  # a shape's canonical points -> its nodes
    positions: list[np.ndarray] = []
    out: list[RoadEdge] = []
    for edge in edges:
        pieces = int(np.ceil(edge.length_dm / limit_dm))
        if pieces <= 1:
            out.append(edge)
            continue
        points = tuple(map(tuple, np.round(edge.shape, 7).tolist()))
        backwards = points[::-1] < points
        key = points[::-1] if backwards else points
        if key not in shared:
            canonical = edge.shape[::-1] if backwards else edge.shape
            cuts = _cut_points(canonical, pieces, projection)
            shared[key] = list(range(first_node + len(positions), first_node + len(positions) + len(cuts)))
            positions.extend(cuts)
        inner = shared[key][::-1] if backwards else shared[key]
        out.extend(_pieces(edge, inner, pieces, first_node, positions, projection))
    added = np.array(positions, dtype=np.float64).reshape(-1, 2)
    return out, added


def _along(shape: np.ndarray, projection: LocalProjection) -> np.ndarray:
    """Metres along ``shape`` at each of its points (0 at the first)."""
    x, y = projection.forward(shape[:, 1], shape[:, 0])
    return np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])


def _cut_points(shape: np.ndarray, pieces: int, projection: LocalProjection) -> list[np.ndarray]:
    """The (lon, lat) points that cut ``shape`` into ``pieces`` of equal length, in order."""
    along = _along(shape, projection)
    at = along[-1] * np.arange(1, pieces) / pieces
    lon, lat = np.interp(at, along, shape[:, 0]), np.interp(at, along, shape[:, 1])
    return [np.array(p) for p in zip(lon.tolist(), lat.tolist())]


def _pieces(edge: RoadEdge, inner: list[int], pieces: int, first_node: int, positions: list[np.ndarray],
            projection: LocalProjection) -> list[RoadEdge]:
    """``edge`` as ``pieces`` edges through the nodes ``inner``; times and lengths are shared out in whole
    units that add up to the edge's."""
    along = _along(edge.shape, projection)
    nodes = [edge.tail, *inner, edge.head]
    ends = [edge.shape[0], *(positions[n - first_node] for n in inner), edge.shape[-1]]
    cut_at = along[-1] * np.arange(pieces + 1) / pieces
    out = []
    for i in range(pieces):
        between = edge.shape[(along > cut_at[i]) & (along < cut_at[i + 1])]
        out.append(replace(
            edge, tail=nodes[i], head=nodes[i + 1],
            time_ms=max(1, _share(edge.time_ms, i + 1, pieces) - _share(edge.time_ms, i, pieces)),
            length_dm=_share(edge.length_dm, i + 1, pieces) - _share(edge.length_dm, i, pieces),
            shape=np.vstack([ends[i], between, ends[i + 1]]),
        ))
    return out


def _share(total: int, part: int, whole: int) -> int:
    """``total * part / whole`` rounded half up, in integers: consecutive differences add up to ``total``."""
    return (total * part + whole // 2) // whole
