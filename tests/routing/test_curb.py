"""Cutting long edges into curbside pieces: lengths and times add up, both directions share the new
nodes, shapes follow the road, street names are kept, and riders are never snapped to a motorway."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from routing.compiled import compile_graph
from routing.curb import RoadEdge, is_stoppable, split_long_edges
from routing.geo import LocalProjection
from routing.network import RoadNetwork
from routing.osm_import import build_drive_graph
from tests.routing.conftest import OsmWriter

PROJECTION = LocalProjection(47.0, 9.5)


def _edge(tail: int, head: int, shape: list[tuple[float, float]], length_dm: int, time_ms: int) -> RoadEdge:
    return RoadEdge(tail, head, time_ms, length_dm, np.array(shape, dtype=np.float64), ("Landstrasse",), True)


def _metres(shape: np.ndarray) -> float:
    x, y = PROJECTION.forward(shape[:, 1], shape[:, 0])
    return float(np.hypot(np.diff(x), np.diff(y)).sum())


def test_long_straight_edge_is_cut_into_equal_pieces_whose_lengths_and_times_add_up() -> None:
    """A 761.6 m road (east along 47°N) with a 60 m limit becomes 13 pieces of 58.6 m through 12 new
    nodes; their whole decimetres and milliseconds add up exactly to the edge's."""
    edge = _edge(0, 1, [(9.50, 47.0), (9.51, 47.0)], length_dm=7616, time_ms=54_835)
    pieces, added = split_long_edges([edge], 2, 60.0, PROJECTION)
    assert len(pieces) == 13 and added.shape == (12, 2)
    assert [p.tail for p in pieces] == [0, *range(2, 14)] and [p.head for p in pieces] == [*range(2, 14), 1]
    assert sum(p.length_dm for p in pieces) == 7616 and sum(p.time_ms for p in pieces) == 54_835
    assert max(p.length_dm for p in pieces) <= 600
    assert max(p.length_dm for p in pieces) - min(p.length_dm for p in pieces) <= 1
    metres = [_metres(p.shape) for p in pieces]
    assert max(metres) == pytest.approx(min(metres), abs=0.01) and max(metres) < 60.0
    assert all(p.streets == ("Landstrasse",) and p.stoppable for p in pieces)


def test_short_edge_is_kept_whole() -> None:
    """An edge no longer than the limit is returned as it is, and no node is added."""
    edge = _edge(0, 1, [(9.50, 47.0), (9.5005, 47.0)], length_dm=380, time_ms=2_000)
    pieces, added = split_long_edges([edge], 2, 60.0, PROJECTION)
    assert pieces == [edge] and added.shape == (0, 2)


def test_both_directions_of_a_two_way_road_share_the_new_nodes() -> None:
    """The reverse edge (same shape backwards) passes the same new nodes in reverse order."""
    there = _edge(0, 1, [(9.50, 47.0), (9.502, 47.0), (9.502, 47.001)], length_dm=2630, time_ms=20_000)
    back = _edge(1, 0, [(9.502, 47.001), (9.502, 47.0), (9.50, 47.0)], length_dm=2630, time_ms=20_000)
    pieces, added = split_long_edges([there, back], 2, 60.0, PROJECTION)
    forward, backward = pieces[:5], pieces[5:]
    assert added.shape == (4, 2)
    assert [p.head for p in forward][:-1] == [p.tail for p in backward][::-1][:-1]
    assert [p.head for p in forward] == [2, 3, 4, 5, 1] and [p.head for p in backward] == [5, 4, 3, 2, 0]


def test_pieces_follow_the_shape_of_a_curved_road() -> None:
    """The corner point of an L-shaped road stays in the piece it falls in; the pieces' shapes together
    are as long as the road, and each starts where the previous one ends."""
    edge = _edge(0, 1, [(9.50, 47.0), (9.502, 47.0), (9.502, 47.001)], length_dm=2630, time_ms=20_000)
    pieces, _ = split_long_edges([edge], 2, 60.0, PROJECTION)
    total = _metres(edge.shape)
    assert sum(_metres(p.shape) for p in pieces) == pytest.approx(total, abs=0.01)
    for before, after in itertools.pairwise(pieces):
        np.testing.assert_array_equal(before.shape[-1], after.shape[0])
    corner = [p for p in pieces if len(p.shape) == 3]
    assert len(corner) == 1
    np.testing.assert_array_equal(corner[0].shape[1], [9.502, 47.0])


def test_motorway_and_trunk_roads_are_not_stoppable() -> None:
    """Motorways, trunk roads and their links (alone or merged with another class) allow no stop."""
    assert not is_stoppable("motorway") and not is_stoppable("trunk_link")
    assert not is_stoppable(["primary", "motorway_link"])
    assert is_stoppable("residential") and is_stoppable(["primary", "secondary"]) and is_stoppable(None)


def test_cutting_keeps_travel_times_between_junctions(make_osm: OsmWriter) -> None:
    """Every junction-to-junction time and distance is the same with and without curbside nodes."""
    path = make_osm("village.osm", [([1, 2, 3], {"highway": "residential"}),
                                    ([2, 4], {"highway": "primary"})])
    graph = build_drive_graph(path)
    whole, cut = RoadNetwork(compile_graph(graph)), RoadNetwork(compile_graph(graph, max_edge_m=60.0))
    junctions = [int(np.flatnonzero(cut.graph.osm_id == osm_id)[0]) for osm_id in whole.graph.osm_id]
    assert cut.graph.node_count > whole.node_count
    before = whole.matrix(range(whole.node_count), range(whole.node_count))
    after = cut.matrix(junctions, junctions)
    np.testing.assert_array_equal(before.seconds, after.seconds)
    np.testing.assert_array_equal(before.metres, after.metres)
    assert (cut.graph.length_dm <= 600).all()


def test_nodes_carry_their_street_names(make_osm: OsmWriter) -> None:
    """Four roads meet at junction 2: the junction names every street there; a curb node lies on one
    street; a road without a name is called by its ref, one without either has no name."""
    path = make_osm("named.osm", [([1, 2], {"highway": "residential", "name": "Landstrasse"}),
                                  ([2, 3], {"highway": "residential", "ref": "L60"}),
                                  ([2, 4], {"highway": "residential", "name": "Kirchgasse"}),
                                  ([2, 5], {"highway": "unclassified"})])
    graph = compile_graph(build_drive_graph(path), max_edge_m=60.0)
    network = RoadNetwork(graph)
    junction = int(np.flatnonzero(graph.osm_id == 2)[0])
    assert graph.street(junction) == "Kirchgasse / L60 / Landstrasse"

    def street_at(lat: float, lon: float) -> str:
        node = int(network.snap_to_curb([lat], [lon]).node[0])
        assert graph.osm_id[node] < 0  # a curb node
        return graph.street(node)

    assert street_at(47.0, 9.505) == "Landstrasse"
    assert street_at(47.0, 9.515) == "L60"
    assert street_at(47.005, 9.5101) == "Kirchgasse"
    assert street_at(47.002, 9.520) == ""


def test_riders_are_never_snapped_to_a_motorway(make_osm: OsmWriter) -> None:
    """A point 30 m from a motorway and 380 m from a village road: a bus position snaps to the motorway,
    a rider's point to the village road, with the walk to it."""
    path = make_osm("motorway.osm", [([1, 2, 3], {"highway": "motorway", "oneway": "no", "name": "A13"}),
                                     ([2, 4], {"highway": "residential", "name": "Dorfstrasse"})])
    network = RoadNetwork(compile_graph(build_drive_graph(path), max_edge_m=60.0))
    graph = network.graph
    assert not graph.edge_stoppable.all() and graph.edge_stoppable.any()
    bus = network.snap([47.0003], [9.5149])
    rider = network.snap_to_curb([47.0003], [9.5149])
    assert bus.distance_m[0] == pytest.approx(33.4, abs=0.5)
    assert graph.street(int(rider.node[0])) == "Dorfstrasse"
    assert rider.distance_m[0] == pytest.approx(372, abs=2)
    assert rider.distance_m[0] <= rider.walk_m[0] <= rider.distance_m[0] + 30.0
