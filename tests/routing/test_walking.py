"""The walk graph (routing.walking): which ways it keeps, its cache, walks and the meeting points within
walking reach, on the tiny village and on Liechtenstein."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from routing.compiled import load_or_build
from routing.settings import RoutingSettings
from routing.walking import WalkNetwork, candidates, is_walkable, load_or_build_walk, walk_cache_path
from tests.routing.conftest import LIECHTENSTEIN, T_NODES


@dataclass(frozen=True)
class Point:
    """A meeting point as walking sees it."""

    id: str
    lat: float
    lon: float


@pytest.fixture(scope="module")
def li_walk(tmp_path_factory: pytest.TempPathFactory) -> WalkNetwork:
    """Liechtenstein's walk graph, built once into a fresh cache."""
    settings = RoutingSettings(osm_file=LIECHTENSTEIN, cache_dir=tmp_path_factory.mktemp("walk-cache"))
    return WalkNetwork.load(settings=settings)


def test_walkable_ways_are_those_of_osmnx_walk_filter() -> None:
    """Footways, steps, paths and residential streets are walkable; motorways, cycleways, private ways and
    ways with foot=no are not."""
    for tags in ({"highway": "footway"}, {"highway": "steps"}, {"highway": "path"},
                 {"highway": "residential"}, {"highway": "pedestrian"}, {"highway": "service"}):
        assert is_walkable(tags), tags
    for tags in ({"highway": "motorway"}, {"highway": "motorway_link"}, {"highway": "cycleway"},
                 {"highway": "residential", "foot": "no"}, {"highway": "track", "access": "private"},
                 {"highway": "primary", "sidewalk": "separate"}, {"building": "yes"}):
        assert not is_walkable(tags), tags


def test_a_footway_the_bus_cannot_drive_is_walked(tiny_osm: Path, tmp_path: Path) -> None:
    """The tiny village's footway 3-5 is in the walk graph (not in the drive graph): the walk from node 3
    to node 5 follows it, about 1.6 km (its straight length), ending where it was asked to."""
    settings = RoutingSettings(cache_dir=tmp_path / "cache")
    drive, _ = load_or_build(tiny_osm, settings)
    walk = WalkNetwork.load(tiny_osm, settings)
    five = (T_NODES[5][0], T_NODES[5][1])
    assert five not in set(zip(drive.node_lat.tolist(), drive.node_lon.tolist()))
    assert five in set(zip(walk.graph.node_lat.tolist(), walk.graph.node_lon.tolist()))
    path = walk.walk(T_NODES[3], T_NODES[5])
    straight = float(walk.straight_m([T_NODES[3][0]], [T_NODES[3][1]], [T_NODES[5][0]], [T_NODES[5][1]])[0])
    assert path.metres == pytest.approx(straight, abs=2)
    assert path.positions[0] == (T_NODES[3][1], T_NODES[3][0])
    assert path.positions[-1] == (T_NODES[5][1], T_NODES[5][0])


def test_the_walk_graph_is_cached_in_its_own_file_and_reused(tiny_osm: Path, tmp_path: Path) -> None:
    """The first load builds and writes ``tiny-walk-….npz`` beside the drive graph's file; the second
    reads the same arrays from it."""
    settings = RoutingSettings(cache_dir=tmp_path / "cache")
    _, drive = load_or_build(tiny_osm, settings)
    first, built = load_or_build_walk(tiny_osm, settings)
    second, read = load_or_build_walk(tiny_osm, settings)
    assert built.built and not read.built
    assert read.cache_file == walk_cache_path(tiny_osm, settings) != drive.cache_file
    assert read.cache_file.name.startswith("tiny-walk-")
    assert np.array_equal(first.length_dm, second.length_dm) and np.array_equal(first.indices, second.indices)


def test_walks_in_liechtenstein_are_never_shorter_than_the_straight_line(li_walk: WalkNetwork) -> None:
    """Between twenty pairs of nearby points in Vaduz a walk exists, at least as long as the straight line,
    its path starting and ending at the two points and as long as the walk's metres (within 2 %)."""
    rng = np.random.default_rng(7)
    for _ in range(20):
        lat, lon = 47.141 + rng.uniform(-0.01, 0.01), 9.5215 + rng.uniform(-0.01, 0.01)
        goal = (lat + rng.uniform(-0.003, 0.003), lon + rng.uniform(-0.003, 0.003))
        path = li_walk.walk((lat, lon), goal)
        straight = float(li_walk.straight_m([lat], [lon], [goal[0]], [goal[1]])[0])
        assert path.metres >= straight - 1
        lon_path, lat_path = np.array(path.positions).T
        drawn = li_walk.straight_m(lat_path[:-1], lon_path[:-1], lat_path[1:], lon_path[1:]).sum()
        assert drawn == pytest.approx(path.metres, rel=0.02, abs=2)
        assert path.positions[0] == (lon, lat) and path.positions[-1] == (goal[1], goal[0])


def test_candidates_are_the_points_within_the_walking_limit_nearest_first(li_walk: WalkNetwork) -> None:
    """Of points 100 m, 250 m and 2 km from a place in Vaduz, a 300 m limit keeps those whose walk is at
    most 300 m, nearest walk first, each walk at least its straight line; a 0 m limit keeps none."""
    here = (47.1410, 9.5215)
    metre = 1 / 111_200
    points = [Point("far", here[0] + 2000 * metre, here[1]),
              Point("mid", here[0], here[1] + 250 * metre / 0.68),
              Point("near", here[0] + 100 * metre, here[1])]
    found = candidates(li_walk, here, points, 300)
    assert found and found[0].point.id == "near"
    assert "far" not in {c.point.id for c in found}
    assert all(c.metres <= 300 for c in found)
    assert [c.metres for c in found] == sorted(c.metres for c in found)
    for c in found:
        straight = float(li_walk.straight_m([here[0]], [here[1]], [c.point.lat], [c.point.lon])[0])
        assert c.metres >= straight - 1 and c.path.metres == c.metres
    unlimited = {c.point.id: c.metres for c in candidates(li_walk, here, points, 5000)}
    assert set(unlimited) == {"near", "mid", "far"}
    assert all(unlimited[c.point.id] == c.metres for c in found)
    assert all(m > 300 for i, m in unlimited.items() if i not in {c.point.id for c in found})
    assert candidates(li_walk, here, points, 0) == []
