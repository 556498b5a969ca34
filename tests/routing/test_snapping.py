"""Snapping lat/lon points to the road: on a node, mid-edge, off-road, outside the area, in bulk."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from routing.errors import OutsideServiceAreaError, SnapError
from routing.network import RoadNetwork
from routing.snapping import SAMPLE_SPACING_M


def _midpoint_of_longest_road(network: RoadNetwork, graph: nx.MultiDiGraph) -> tuple[float, float]:
    """Return (lat, lon) of the point halfway along the longest edge of the OSM graph (before cutting)."""
    _, _, data = max(graph.edges(data=True), key=lambda edge: edge[2]["length"])
    shape = np.asarray(data["geometry"].coords)
    x, y = network.projection.forward(shape[:, 1], shape[:, 0])
    along = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
    half = along[-1] / 2
    lat, lon = network.projection.inverse(np.interp(half, along, x), np.interp(half, along, y))
    return float(lat), float(lon)


def test_point_on_a_node_snaps_to_that_node(li_network: RoadNetwork) -> None:
    """A junction's own coordinates snap to it at (almost) zero distance."""
    graph = li_network.graph
    nodes = np.array([0, 77, 700, 1400])
    result = li_network.snap(graph.node_lat[nodes], graph.node_lon[nodes])
    np.testing.assert_array_equal(result.node, nodes)
    assert result.distance_m.max() < 0.01


def test_point_mid_way_along_the_longest_road_snaps_to_a_curb_node_within_half_a_piece(
        li_network: RoadNetwork, li_graph: nx.MultiDiGraph) -> None:
    """The middle of the longest road between two junctions (3.2 km) is on the road (distance ~0); the
    road is cut into pieces of at most ``max_edge_m``, so the node a bus stops at is at most half a
    piece along the road, and the walk is that far."""
    lat, lon = _midpoint_of_longest_road(li_network, li_graph)
    result = li_network.snap_to_curb([lat], [lon])
    limit = li_network.settings.max_edge_m
    assert limit is not None
    graph = li_network.graph
    assert result.distance_m[0] < 1.0
    assert result.walk_m[0] <= limit / 2 + 1.0
    assert graph.osm_id[result.node[0]] < 0  # a curb node, not a junction
    x, y = li_network.projection.forward(graph.node_lat[result.node], graph.node_lon[result.node])
    px, py = li_network.projection.forward(np.array([lat]), np.array([lon]))
    assert float(np.hypot(x - px, y - py)[0]) <= result.walk_m[0] + 1e-6  # straight line ≤ along the road
    junctions = np.flatnonzero(graph.osm_id >= 0)
    jx, jy = li_network.projection.forward(graph.node_lat[junctions], graph.node_lon[junctions])
    assert np.hypot(jx - px, jy - py).min() > 1000  # before cutting, the bus went to a junction > 1 km away


def test_snapped_position_lies_at_the_reported_distance(li_network: RoadNetwork) -> None:
    """For 2,000 random points the snapped lat/lon is exactly snap-distance away, on a valid node's edge."""
    rng = np.random.default_rng(3)
    lat, lon = rng.uniform(47.10, 47.24, 2000), rng.uniform(9.50, 9.60, 2000)
    result = li_network.snapper.snap(lat, lon)
    x, y = li_network.projection.forward(lat, lon)
    sx, sy = li_network.projection.forward(result.lat, result.lon)
    np.testing.assert_allclose(np.hypot(x - sx, y - sy), result.distance_m, atol=0.01)
    assert ((result.node >= 0) & (result.node < li_network.node_count)).all()
    assert ((result.fraction >= 0) & (result.fraction <= 1)).all()


def test_snap_distance_is_the_distance_to_the_nearest_road(li_network: RoadNetwork) -> None:
    """Against a brute-force check over every road segment, the snap distance is never below the exact
    distance and at most half the sample spacing (5 m) above it."""
    graph, proj = li_network.graph, li_network.projection
    gx, gy = proj.forward(graph.geom_lat, graph.geom_lon)
    inner = np.ones(gx.size - 1, dtype=bool)
    inner[graph.geom_ptr[1:-1] - 1] = False
    ax, ay, bx, by = gx[:-1][inner], gy[:-1][inner], gx[1:][inner], gy[1:][inner]
    rng = np.random.default_rng(11)
    lat, lon = rng.uniform(47.10, 47.24, 40), rng.uniform(9.50, 9.60, 40)
    result = li_network.snapper.snap(lat, lon)
    for (px, py), got in zip(np.column_stack(proj.forward(lat, lon)), result.distance_m):
        along = (px - ax) * (bx - ax) + (py - ay) * (by - ay)
        t = np.clip(along / np.maximum((bx - ax) ** 2 + (by - ay) ** 2, 1e-12), 0, 1)
        exact = np.hypot(px - (ax + t * (bx - ax)), py - (ay + t * (by - ay))).min()
        assert exact <= got + 1e-6 and got <= exact + SAMPLE_SPACING_M / 2


def test_point_far_from_roads_inside_the_area_is_rejected_with_its_distance(li_network: RoadNetwork) -> None:
    """A mountain point inside the service area but over 500 m from any road raises SnapError."""
    rng = np.random.default_rng(5)
    lat, lon = rng.uniform(47.05, 47.27, 5000), rng.uniform(9.47, 9.64, 5000)
    inside = li_network.in_service_area(lat, lon)
    far = li_network.snapper.snap(lat[inside], lon[inside]).distance_m > 600
    assert far.any()
    point = (float(lat[inside][far][0]), float(lon[inside][far][0]))
    with pytest.raises(SnapError, match=r"m from the nearest drivable road; the limit is 500 m") as caught:
        li_network.snap([point[0]], [point[1]])
    assert (caught.value.lat, caught.value.lon) == point
    assert caught.value.distance_m > 600 and caught.value.limit_m == 500


def test_point_outside_the_service_area_is_rejected(li_network: RoadNetwork) -> None:
    """Zurich is far outside Liechtenstein's service area: OutsideServiceAreaError, not a snap."""
    with pytest.raises(OutsideServiceAreaError, match=r"lat 47.376900, lon 8.541700"):
        li_network.snap([47.14, 47.3769], [9.52, 8.5417])
