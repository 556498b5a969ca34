"""Shared fixtures: the Liechtenstein graph is built once per session into a temporary cache."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import networkx as nx
import pytest

from routing.compiled import cache_path, compile_graph, file_sha256, save
from routing.network import RoadNetwork
from routing.osm_import import build_drive_graph
from routing.settings import REPO_ROOT, RoutingSettings

LIECHTENSTEIN = REPO_ROOT / "data" / "liechtenstein-latest.osm.pbf"


def write_osm_xml(
    path: Path, nodes: dict[int, tuple[float, float]], ways: list[tuple[list[int], dict[str, str]]]
) -> Path:
    """Write a tiny OSM XML file: ``nodes`` id -> (lat, lon), ``ways`` as (node ids, tags)."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="rufbus-tests">']
    for node_id, (lat, lon) in nodes.items():
        lines.append(f'  <node id="{node_id}" version="1" lat="{lat}" lon="{lon}"/>')
    for way_id, (refs, tags) in enumerate(ways, start=1):
        lines.append(f'  <way id="{way_id}" version="1">')
        lines += [f'    <nd ref="{ref}"/>' for ref in refs]
        lines += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines) + "\n")
    return path


T_NODES = {1: (47.000, 9.500), 2: (47.000, 9.510), 3: (47.000, 9.520), 4: (47.008, 9.510), 5: (47.004, 9.530)}
OsmWriter = Callable[[str, list[tuple[list[int], dict[str, str]]]], Path]


@pytest.fixture
def make_osm(tmp_path: Path) -> OsmWriter:
    """Write a tiny OSM XML file named ``name`` in tmp_path over the nodes of :data:`T_NODES`."""
    return lambda name, ways: write_osm_xml(tmp_path / name, T_NODES, ways)


@pytest.fixture
def tiny_osm(make_osm: OsmWriter) -> Path:
    """A T-shaped village: residential road 1-2-3 (about 1.5 km) and a side road 2-4, plus a footway 3-5."""
    return make_osm(
        "tiny.osm",
        [
            ([1, 2, 3], {"highway": "residential"}),
            ([2, 4], {"highway": "unclassified"}),
            ([3, 5], {"highway": "footway"}),
        ],
    )


@pytest.fixture(scope="session")
def li_settings(tmp_path_factory: pytest.TempPathFactory) -> RoutingSettings:
    """Settings with a fresh cache directory for the session."""
    return RoutingSettings(osm_file=LIECHTENSTEIN, cache_dir=tmp_path_factory.mktemp("rufbus-cache"))


@pytest.fixture(scope="session")
def li_graph() -> nx.MultiDiGraph:
    """The osmnx drive graph of Liechtenstein (the independent reference), built once."""
    return build_drive_graph(LIECHTENSTEIN)


@pytest.fixture(scope="session")
def li_network(li_graph: nx.MultiDiGraph, li_settings: RoutingSettings) -> RoadNetwork:
    """The Liechtenstein network, compiled from ``li_graph`` into the session cache and loaded warm."""
    sha = file_sha256(LIECHTENSTEIN)
    compiled = compile_graph(li_graph, {"source": LIECHTENSTEIN.name, "sha256": sha, "build_s": 0.0},
                             li_settings.max_edge_m)
    save(compiled, cache_path(LIECHTENSTEIN, li_settings, sha))
    network = RoadNetwork.load(LIECHTENSTEIN, li_settings)
    assert network.report is not None and not network.report.built
    return network
