"""The compiled CSR graph, its exact packed weights, and the on-disk cache."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from routing.compiled import cache_path, compile_graph, load, load_or_build, save
from routing.network import RoadNetwork
from routing.osm_import import build_drive_graph
from routing.settings import REPO_ROOT, RoutingSettings
from routing.speeds import RURAL_SPEEDS_KMH


def test_packed_weights_decode_to_rounded_seconds_and_metres(tiny_osm: Path) -> None:
    """A sum of packed weights splits back exactly into its time and distance parts."""
    graph = compile_graph(build_drive_graph(tiny_osm))
    packed = graph.packed_weights()
    total = packed.sum()
    seconds, metres = graph.decode(np.array([total]))
    assert seconds[0] == round(graph.time_ms.sum() / 1000)
    assert metres[0] == round(graph.length_dm.sum() / 10)
    assert total < 2**53


def test_csr_arrays_describe_the_tiny_village(tiny_osm: Path) -> None:
    """Four nodes, six directed edges; each edge's shape runs from its tail to its head."""
    graph = compile_graph(build_drive_graph(tiny_osm))
    assert (graph.node_count, graph.edge_count) == (4, 6)
    tails = np.repeat(np.arange(4), np.diff(graph.indptr))
    first, last = graph.geom_ptr[:-1], graph.geom_ptr[1:] - 1
    np.testing.assert_allclose(graph.geom_lat[first], graph.node_lat[tails])
    np.testing.assert_allclose(graph.geom_lon[last], graph.node_lon[graph.indices])
    assert graph.meta["road_km"] == pytest.approx(0.762 + 0.762 + 0.890, rel=0.02)


def test_parallel_roads_keep_the_faster_edge(make_osm) -> None:
    """Two roads between the same junctions merge into one edge with the faster time."""
    path = make_osm("parallel.osm", [([1, 2], {"highway": "residential"}), ([1, 2], {"highway": "primary"}),
                                     ([2, 3], {"highway": "residential"})])  # fmt: skip
    graph = compile_graph(build_drive_graph(path))
    first, second = (int(np.flatnonzero(graph.osm_id == osm_id)[0]) for osm_id in (1, 2))
    edge = graph.edge_index(first, second)
    primary_ms = 762.0 / (RURAL_SPEEDS_KMH["primary"] / 3.6) * 1000
    assert graph.time_ms[edge] == pytest.approx(primary_ms, rel=0.01)


def test_save_and_load_round_trip(tiny_osm: Path, tmp_path: Path) -> None:
    """Every array and the packing width survive the .npz file."""
    graph = compile_graph(build_drive_graph(tiny_osm), {"source": "tiny.osm"})
    save(graph, tmp_path / "g.npz")
    again = load(tmp_path / "g.npz")
    assert again.distance_bits == graph.distance_bits and again.meta == graph.meta
    for name in ("indptr", "indices", "time_ms", "length_dm", "geom_ptr", "geom_lat", "node_lat", "osm_id"):
        np.testing.assert_array_equal(getattr(again, name), getattr(graph, name))


def test_second_load_uses_the_cache(tiny_osm: Path, tmp_path: Path) -> None:
    """The first load builds and writes the cache; the second reads it without building."""
    settings = RoutingSettings(cache_dir=tmp_path / "cache")
    _, first = load_or_build(tiny_osm, settings)
    _, second = load_or_build(tiny_osm, settings)
    assert first.built and not second.built
    assert first.cache_file == second.cache_file and second.cache_file.is_file()


def test_changed_source_file_rebuilds(tiny_osm: Path, tmp_path: Path) -> None:
    """Editing the OSM file (here: upgrading the side road) gives a new cache key and a rebuild."""
    settings = RoutingSettings(cache_dir=tmp_path / "cache")
    before, first = load_or_build(tiny_osm, settings)
    tiny_osm.write_text(tiny_osm.read_text().replace('v="unclassified"', 'v="primary"'))
    after, second = load_or_build(tiny_osm, settings)
    assert second.built and second.cache_file != first.cache_file
    assert after.time_ms.sum() < before.time_ms.sum()


def test_changed_speed_table_rebuilds(tiny_osm: Path, tmp_path: Path) -> None:
    """A different speed table is a different build setting, so the cache is not reused."""
    settings = RoutingSettings(cache_dir=tmp_path / "cache")
    slow = replace(settings, speeds_kmh={**RURAL_SPEEDS_KMH, "residential": 15.0})
    assert cache_path(tiny_osm, settings) != cache_path(tiny_osm, slow)
    fast_graph, _ = load_or_build(tiny_osm, settings)
    slow_graph, report = load_or_build(tiny_osm, slow)
    assert report.built and slow_graph.time_ms.sum() > fast_graph.time_ms.sum()


def test_unreadable_cache_file_is_rebuilt(tiny_osm: Path, tmp_path: Path) -> None:
    """A truncated cache file is discarded and rebuilt rather than crashing the load."""
    settings = RoutingSettings(cache_dir=tmp_path / "cache")
    graph, first = load_or_build(tiny_osm, settings)
    first.cache_file.write_bytes(b"PK\x03\x04 truncated")
    _, second = load_or_build(tiny_osm, settings)
    assert second.built and load(second.cache_file).node_count == graph.node_count


def test_warm_load_never_imports_osmnx(li_network: RoadNetwork, li_settings: RoutingSettings) -> None:
    """Loading from the cache in a fresh interpreter imports neither osmnx nor networkx."""
    code = (
        "import sys; from pathlib import Path; from routing import RoadNetwork, RoutingSettings;"
        f"n = RoadNetwork.load(settings=RoutingSettings(osm_file=Path({str(li_settings.osm_file)!r}),"
        f" cache_dir=Path({str(li_settings.cache_dir)!r})));"
        "print(n.report.built, 'osmnx' in sys.modules, 'networkx' in sys.modules, n.node_count)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "False", "False", str(li_network.node_count)]


def test_another_edge_limit_gets_its_own_cache_file(tiny_osm: Path, tmp_path: Path) -> None:
    """Cut at 60 m and uncut, the same extract gives two cache files, each graph cut as its settings say."""
    cut, first = load_or_build(tiny_osm, RoutingSettings(cache_dir=tmp_path / "cache"))
    whole, second = load_or_build(tiny_osm, RoutingSettings(cache_dir=tmp_path / "cache", max_edge_m=None))
    assert second.built and second.cache_file != first.cache_file
    assert (whole.node_count, cut.node_count) == (4, 42)
    assert cut.meta["max_edge_m"] == 60.0 and "max_edge_m" not in whole.meta
