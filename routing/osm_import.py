"""Read an OSM file into a drivable osmnx graph, fully offline.

osmnx's ``graph_from_xml`` has no network filter and fails on ways cut at the extract border, so
the file is first reduced with pyosmium to the ways of osmnx's ``"drive"`` network (clipped to
the nodes present) and their nodes. The result is the largest strongly connected component with
speeds and travel times. osmnx and osmium are imported here only, lazily.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from routing.errors import OsmFileError
from routing.speeds import FALLBACK_KMH, RURAL_SPEEDS_KMH

if TYPE_CHECKING:
    import networkx as nx

SUPPORTED_SUFFIXES = (".osm", ".osm.gz", ".osm.bz2", ".osm.pbf", ".pbf")
_EXCLUDED_HIGHWAY = re.compile(
    "abandoned|bridleway|bus_guideway|construction|corridor|cycleway|elevator|escalator|footway|no|path|"
    "pedestrian|planned|platform|proposed|raceway|razed|rest_area|service|services|steps|track"
)
_EXCLUDED_SERVICE = re.compile("alley|driveway|emergency_access|parking|parking_aisle|private")
_EXCLUDED_ACCESS = (("area", "yes"), ("access", "private"), ("motor_vehicle", "no"), ("motorcar", "no"))


def is_drivable(tags: object) -> bool:
    """Return whether a way's tags pass osmnx's ``network_type="drive"`` filter."""
    if "highway" not in tags or _EXCLUDED_HIGHWAY.search(tags["highway"]):  # type: ignore[operator,index]
        return False
    for key, pattern in _EXCLUDED_ACCESS:
        if key in tags and re.search(pattern, tags[key]):  # type: ignore[operator,index]
            return False
    return not ("service" in tags and _EXCLUDED_SERVICE.search(tags["service"]))  # type: ignore[operator,index]


def check_osm_path(path: Path) -> None:
    """Raise :class:`OsmFileError` unless ``path`` is an existing file with an OSM suffix."""
    if not path.is_file():
        raise OsmFileError(path, "file not found")
    if not path.name.lower().endswith(SUPPORTED_SUFFIXES):
        raise OsmFileError(path, f"unsupported file type; expected one of {', '.join(SUPPORTED_SUFFIXES)}")


def write_drive_xml(src: Path, dst: Path) -> int:
    """Write the drivable ways of ``src`` and their nodes to the OSM XML file ``dst``.

    Ways cut at the extract border keep their longest run of present nodes. Returns the number
    of ways written.
    """
    return write_ways_xml(src, dst, is_drivable)


def write_ways_xml(src: Path, dst: Path, keep: Callable[[object], bool]) -> int:
    """Write the ways of ``src`` whose tags pass ``keep`` and their nodes to the OSM XML file ``dst``
    (the walk graph, :mod:`routing.walking`, keeps other ways than the drive graph).

    Ways cut at the extract border keep their longest run of present nodes. Returns the number
    of ways written.
    """
    import osmium

    present = {
        node.id
        for node in osmium.FileProcessor(str(src), osmium.osm.NODE)
        if isinstance(node, osmium.osm.Node) and node.location.valid()
    }
    written = 0
    with osmium.BackReferenceWriter(str(dst), ref_src=str(src), overwrite=True, remove_tags=False) as writer:
        for way in osmium.FileProcessor(str(src), osmium.osm.WAY):
            if not isinstance(way, osmium.osm.Way) or not keep(way.tags):
                continue
            refs = [r.ref for r in way.nodes]
            best: list[int] = []
            run: list[int] = []
            for ref in [*refs, None]:
                if ref is not None and ref in present:
                    run.append(ref)
                else:
                    best, run = max(best, run, key=len), []
            if len(best) == len(refs):
                writer.add_way(way)
            elif len(best) >= 2:
                writer.add_way(way.replace(nodes=best))
            else:
                continue
            written += 1
    return written


def build_drive_graph(
    path: Path, speeds_kmh: dict[str, float] | None = None, fallback_kmh: float = FALLBACK_KMH
) -> nx.MultiDiGraph:
    """Build the drivable graph of an OSM file: largest strongly connected component with
    ``speed_kph``, ``travel_time`` (s) and ``length`` (m) on every edge.

    Raises :class:`OsmFileError` when the file is missing, unreadable or has no drivable roads.
    """
    check_osm_path(path)
    with tempfile.TemporaryDirectory(prefix="rufbus-osm-") as tmp:
        drive_xml = Path(tmp) / "drive.osm"
        try:
            ways = write_drive_xml(path, drive_xml)
        except (RuntimeError, OSError, ValueError) as exc:
            raise OsmFileError(path, f"cannot read the file ({exc})") from exc
        if ways == 0:
            raise OsmFileError(path, "no drivable roads in the file")
        return _graph_from_drive_xml(path, drive_xml, speeds_kmh or RURAL_SPEEDS_KMH, fallback_kmh)


def graph_from_place(
    query: str, speeds_kmh: dict[str, float] | None = None, fallback_kmh: float = FALLBACK_KMH
) -> nx.MultiDiGraph:
    """Download the drivable graph of a place name through osmnx (needs a network; not for tests)."""
    import osmnx as ox

    graph = ox.graph_from_place(query, network_type="drive")
    return _finish(graph, query, speeds_kmh or RURAL_SPEEDS_KMH, fallback_kmh)


def _graph_from_drive_xml(
    source: Path, drive_xml: Path, speeds_kmh: dict[str, float], fallback_kmh: float
) -> nx.MultiDiGraph:
    import osmnx as ox

    try:
        graph = ox.graph_from_xml(drive_xml, retain_all=False)
    except (ValueError, KeyError) as exc:
        raise OsmFileError(source, f"cannot build a road graph ({exc})") from exc
    return _finish(graph, source, speeds_kmh, fallback_kmh)


def _finish(
    graph: nx.MultiDiGraph, source: Path | str, speeds_kmh: dict[str, float], fallback_kmh: float
) -> nx.MultiDiGraph:
    import osmnx as ox

    graph = ox.truncate.largest_component(graph, strongly=True)
    if graph.number_of_edges() == 0:
        raise OsmFileError(source, "no two drivable roads connect in both directions")
    graph = ox.routing.add_edge_speeds(graph, hwy_speeds=speeds_kmh, fallback=fallback_kmh)
    return ox.routing.add_edge_travel_times(graph)
