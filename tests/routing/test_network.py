"""Travel times, distances and paths, checked against networkx on the same osmnx graph."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from dispatch.travel import TravelMatrix, TravelTimes
from routing.errors import UnknownNodeError
from routing.network import RoadNetwork, RowCache


def _reference(graph: nx.MultiDiGraph, source: int, target: int) -> tuple[float, float]:
    """Fastest time (s) by networkx and the length (m) of that path, over the fastest parallel edges."""
    path = nx.shortest_path(graph, source, target, weight="travel_time")
    seconds = metres = 0.0
    for u, v in itertools.pairwise(path):
        edge = min(graph[u][v].values(), key=lambda d: d["travel_time"])
        seconds += edge["travel_time"]
        metres += edge["length"]
    return seconds, metres


def test_matrix_matches_networkx_for_random_pairs(li_network: RoadNetwork, li_graph: nx.MultiDiGraph) -> None:
    """For 8 origins × 8 junctions (OSM nodes; the others are cut into long roads), times are within 1 s
    and distances within 1 m of networkx."""
    rng = np.random.default_rng(7)
    junctions = np.flatnonzero(li_network.graph.osm_id >= 0)
    origins, destinations = rng.choice(junctions, 8), rng.choice(junctions, 8)
    result = li_network.matrix(origins, destinations)
    osm = li_network.graph.osm_id
    for i, o in enumerate(origins):
        for j, d in enumerate(destinations):
            seconds, metres = _reference(li_graph, int(osm[o]), int(osm[d]))
            assert abs(result.seconds[i, j] - seconds) <= 1.0
            assert abs(result.metres[i, j] - metres) <= 1.0
    assert result.seconds.max() > 600  # the pairs span the country, not just a village


def test_matrix_is_int64_with_the_requested_shape_and_zero_diagonal(li_network: RoadNetwork) -> None:
    """A 3 × 2 request gives int64 arrays of that shape; a node to itself costs nothing."""
    result = li_network.matrix([0, 10, 10], [10, 0])
    assert result.seconds.shape == result.metres.shape == (3, 2)
    assert result.seconds.dtype == result.metres.dtype == np.int64
    assert result.seconds[1, 0] == result.metres[1, 0] == 0
    np.testing.assert_array_equal(result.seconds[1], result.seconds[2])


def test_network_serves_dispatch_through_the_travel_times_protocol(li_network: RoadNetwork) -> None:
    """dispatch sees only the TravelTimes protocol; the network answers through it."""

    def ask(source: TravelTimes) -> TravelMatrix:
        return source.matrix([1, 2], [3])

    assert ask(li_network).seconds.shape == (1 * 2, 1)


def test_one_to_many_and_one_to_one_agree_with_the_matrix(li_network: RoadNetwork) -> None:
    """The convenience queries are rows and cells of the same matrix."""
    destinations = [5, 50, 500, 1000]
    row = li_network.one_to_many(42, destinations)
    full = li_network.matrix([42], destinations)
    np.testing.assert_array_equal(row.seconds, full.seconds)
    assert li_network.travel(42, 500) == (row.seconds[0, 2], row.metres[0, 2])


def test_route_follows_edges_and_matches_the_matrix(li_network: RoadNetwork) -> None:
    """The path's nodes are joined by edges, its totals equal the matrix cell, and its shape runs
    from the origin's position to the destination's over at least the straight-line distance."""
    graph = li_network.graph
    origin, destination = 3, 1200
    route = li_network.route(origin, destination)
    assert route.nodes[0] == origin and route.nodes[-1] == destination
    edges = [graph.edge_index(int(u), int(v)) for u, v in zip(route.nodes, route.nodes[1:])]
    assert route.seconds == round(graph.time_ms[edges].sum() / 1000)
    assert (route.seconds, route.metres) == li_network.travel(origin, destination)
    assert (route.lat[0], route.lon[0]) == (graph.node_lat[origin], graph.node_lon[origin])
    assert (route.lat[-1], route.lon[-1]) == (graph.node_lat[destination], graph.node_lon[destination])
    x, y = li_network.projection.forward(route.lat, route.lon)
    shape_m = np.hypot(np.diff(x), np.diff(y)).sum()
    assert shape_m == pytest.approx(route.metres, rel=0.01)
    assert len(route.lat) > len(route.nodes)  # the shape has more points than the junctions


def test_unknown_node_is_rejected(li_network: RoadNetwork) -> None:
    """A node index outside 0..n-1 raises UnknownNodeError naming it."""
    with pytest.raises(UnknownNodeError, match=f"node {li_network.node_count} is not in the road graph"):
        li_network.matrix([0], [li_network.node_count])
    with pytest.raises(UnknownNodeError):
        li_network.route(-1, 0)


def test_row_cache_is_bounded_and_evicts_the_least_recently_used() -> None:
    """With room for two rows, using a third evicts the one not touched longest."""
    cache = RowCache(2)
    cache.put(1, np.zeros(3))
    cache.put(2, np.ones(3))
    assert cache.get(1) is not None
    cache.put(3, np.ones(3))
    assert cache.get(2) is None and cache.get(1) is not None and len(cache) == 2


def test_matrix_larger_than_the_row_cache_is_still_complete(li_network: RoadNetwork) -> None:
    """A network whose cache holds 3 rows answers 10 origins in chunks, equal to the roomy network."""
    three_rows_mb = 3 * 8 * li_network.node_count / 2**20
    small = RoadNetwork(li_network.graph, replace(li_network.settings, row_cache_mb=three_rows_mb))
    assert small.rows.capacity == 3
    origins = list(range(100, 110))
    tight = small.matrix(origins, [0, 1, 2])
    np.testing.assert_array_equal(tight.seconds, li_network.matrix(origins, [0, 1, 2]).seconds)
    assert len(small.rows) == 3


def test_parallel_rows_equal_the_serial_ones(li_network: RoadNetwork) -> None:
    """Forced onto two worker processes (from 1 missing row up), a matrix is identical to the serial
    one, and so are the rows it leaves in the cache; chunks of several sizes cover all origins."""
    from routing import parallel

    settings = li_network.settings
    serial = RoadNetwork(li_network.graph, replace(settings, matrix_workers=1))
    forked = RoadNetwork(li_network.graph, replace(settings, matrix_workers=2, matrix_parallel_rows=1))
    rng = np.random.default_rng(11)
    origins = rng.choice(li_network.node_count, parallel.CHUNK_ROWS * 3 + 5)  # with repeats
    destinations = np.arange(li_network.node_count)
    try:
        expected, got = serial.matrix(origins, destinations), forked.matrix(origins, destinations)
        assert parallel._pool is not None  # the workers did run
        np.testing.assert_array_equal(got.seconds, expected.seconds)
        np.testing.assert_array_equal(got.metres, expected.metres)
        for origin in np.unique(origins).tolist():
            np.testing.assert_array_equal(forked.rows.get(origin), serial.rows.get(origin))
    finally:
        parallel.shutdown()
    assert parallel._pool is None


def test_parallel_path_falls_back_in_process_without_shared_memory(
    li_network: RoadNetwork, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """If the rows cannot be shared, the matrix is computed in-process and still complete."""
    from routing import parallel

    parallel.shutdown()
    monkeypatch.setattr(parallel, "_SHM_DIR", str(tmp_path / "missing"))
    settings = replace(li_network.settings, matrix_workers=2, matrix_parallel_rows=1)
    forked = RoadNetwork(li_network.graph, settings)
    expected = li_network.matrix(range(8), range(8))
    np.testing.assert_array_equal(forked.matrix(range(8), range(8)).metres, expected.metres)
    assert parallel._pool is None
