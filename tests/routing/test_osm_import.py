"""Reading OSM files: the drive filter, small graphs, and clear errors for bad files."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import pytest

from routing.errors import OsmFileError
from routing.osm_import import build_drive_graph, is_drivable

Ways = list[tuple[list[int], dict[str, str]]]


def test_drive_filter_keeps_car_roads_and_drops_paths_and_private_access() -> None:
    """The filter matches osmnx's "drive" network on typical tags."""
    assert is_drivable({"highway": "residential"})
    assert is_drivable({"highway": "secondary", "maxspeed": "70"})
    assert not is_drivable({"highway": "footway"})
    assert not is_drivable({"highway": "track"})
    assert not is_drivable({"highway": "service"})
    assert not is_drivable({"highway": "tertiary", "access": "private"})
    assert not is_drivable({"highway": "unclassified", "motor_vehicle": "no"})
    assert not is_drivable({"building": "yes"})


def test_tiny_village_builds_a_graph_without_the_footway(tiny_osm: Path) -> None:
    """The T-shaped village gives 4 nodes and 3 two-way roads with times; the footway's end is absent."""
    graph = build_drive_graph(tiny_osm)
    assert sorted(graph.nodes) == [1, 2, 3, 4]
    assert graph.number_of_edges() == 6
    for _, _, data in graph.edges(data=True):
        assert data["travel_time"] > 0 and data["length"] > 0


def test_missing_file_is_reported_by_name(tmp_path: Path) -> None:
    """A path that does not exist raises OsmFileError naming it."""
    with pytest.raises(OsmFileError, match=r"nowhere\.osm\.pbf: file not found"):
        build_drive_graph(tmp_path / "nowhere.osm.pbf")


def test_unsupported_suffix_is_rejected(tmp_path: Path) -> None:
    """A file that is not an OSM file by name is rejected before reading."""
    path = tmp_path / "roads.csv"
    path.write_text("a,b\n")
    with pytest.raises(OsmFileError, match="unsupported file type"):
        build_drive_graph(path)


@pytest.mark.parametrize("name", ["broken.osm.pbf", "broken.osm"])
def test_corrupt_file_gives_a_clear_error(tmp_path: Path, name: str) -> None:
    """Garbage bytes in a .pbf or XML file raise OsmFileError, not a library traceback."""
    path = tmp_path / name
    path.write_bytes(b"\x00\x01this is not OSM data\xff" * 50)
    with pytest.raises(OsmFileError, match="cannot read the file"):
        build_drive_graph(path)


def test_file_with_only_footways_has_no_drivable_roads(
    tmp_path: Path, make_osm: Callable[[str, Ways], Path]
) -> None:
    """An XML file (gzipped) whose only ways are footways and a building is rejected as having no roads."""
    plain = make_osm("paths.osm", [([1, 2, 3], {"highway": "footway"}), ([2, 4], {"building": "yes"})])
    packed = tmp_path / "paths.osm.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    with pytest.raises(OsmFileError, match="no drivable roads"):
        build_drive_graph(packed)


def test_one_way_stub_without_a_return_is_not_a_network(make_osm: Callable[[str, Ways], Path]) -> None:
    """A single one-way road has no strongly connected part with an edge, so it is rejected."""
    path = make_osm("oneway.osm", [([1, 2, 3], {"highway": "primary", "oneway": "yes"})])
    with pytest.raises(OsmFileError, match="connect in both directions"):
        build_drive_graph(path)


def test_way_cut_at_the_border_keeps_its_present_part(make_osm: Callable[[str, Ways], Path]) -> None:
    """A way referencing a node missing from the extract is clipped instead of failing the build."""
    path = make_osm(
        "clipped.osm", [([1, 2, 3, 99], {"highway": "residential"}), ([2, 4], {"highway": "residential"})]
    )
    graph = build_drive_graph(path)
    assert 99 not in graph.nodes and {1, 3, 4} <= set(graph.nodes)
