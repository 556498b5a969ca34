"""The meeting points an area starts with (routing.meeting_points): OSM stops plus points spread along roads
a bus can stop on, on a tiny hand-made village and on Liechtenstein."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import osmium
import pytest
import shapely

from routing.geo import LocalProjection
from routing.meeting_points import (
    MIN_SEPARATION_M,
    SPACING_M,
    STOP_CLEARANCE_M,
    STOPPABLE_HIGHWAYS,
    points_along,
    seed_points,
)
from routing.network import RoadNetwork
from routing.settings import RoutingSettings
from routing.stops import read_places
from tests.routing.conftest import LIECHTENSTEIN, write_osm_xml

# A village 2 km wide: a residential street and a trunk road beside it, joined at both ends by
# unclassified roads, a side street off its east end, and a bus stop by the street's west end.
VILLAGE = {1: (47.000, 9.500), 2: (47.000, 9.5265), 3: (47.004, 9.500), 4: (47.004, 9.5265),
           5: (46.996, 9.5265)}


def test_points_along_a_road_are_evenly_spread_about_every_spacing() -> None:
    """A 1 km road gets round(1000 / 275) = 4 points, 250 m apart, the first and last 125 m from its
    ends; a 100 m road gets one, in its middle."""
    projection = LocalProjection(47.0, 9.5)
    lat, lon = projection.inverse(np.array([0.0, 600.0, 1000.0]), np.array([0.0, 0.0, 0.0]))
    points = points_along(lat, lon, projection, SPACING_M)
    x, _ = projection.forward(*np.array(points).T)
    assert x == pytest.approx([125, 375, 625, 875], abs=0.01)
    lat, lon = projection.inverse(np.array([0.0, 100.0]), np.array([0.0, 0.0]))
    [(mid_lat, mid_lon)] = points_along(lat, lon, projection, SPACING_M)
    assert projection.forward(np.array(mid_lat), np.array(mid_lon))[0] == pytest.approx(50, abs=0.01)


def test_a_village_gets_its_stop_and_points_on_the_street_never_on_the_trunk_road(tmp_path: Path) -> None:
    """The bus stop is a meeting point at its drive node; generated points lie on the residential and
    unclassified roads only (none on the trunk road), none within 100 m of the stop."""
    extract = write_osm_xml(tmp_path / "village.osm", VILLAGE, [
        ([1, 2], {"highway": "residential", "name": "Dorfstrasse"}),
        ([3, 4], {"highway": "trunk", "name": "Landstrasse"}),
        ([1, 3], {"highway": "unclassified"}),
        ([2, 4], {"highway": "unclassified"}),
        ([2, 5], {"highway": "residential"}),
    ])
    text = extract.read_text().replace(
        '<way id="1"', '<node id="9" version="1" lat="47.0001" lon="9.5010"><tag k="highway" v="bus_stop"/>'
        '<tag k="name" v="Dorf"/></node>\n  <way id="1"')
    extract.write_text(text)
    network = RoadNetwork.load(extract, RoutingSettings(osm_file=extract, cache_dir=tmp_path / "cache",
                                                        service_area_buffer_m=3000))
    points = seed_points(network)
    [stop] = [p for p in points if p.source == "osm"]
    assert (stop.id, stop.name) == ("osm-9", "Dorf")
    generated = [p for p in points if p.source == "generated"]
    assert generated and {p.road for p in generated} <= {"residential", "unclassified"}
    projection = network.projection
    x, y = projection.forward(np.array([p.lat for p in generated]), np.array([p.lon for p in generated]))
    trunk = shapely.LineString(np.column_stack(projection.forward(np.array([47.004, 47.004]),
                                                                  np.array([9.500, 9.5265]))))
    street = shapely.LineString(np.column_stack(projection.forward(np.array([47.0, 47.0]),
                                                                   np.array([9.500, 9.5265]))))
    on_street = [shapely.Point(px, py).distance(street) < 0.5 for px, py in zip(x, y, strict=True)]
    # 2 km: 7 points 287 m apart; the westmost is 67 m from the stop, the eastmost 181 m from the first
    # point of the (preferred) unclassified road at the east end
    assert sum(on_street) == 5
    assert all(shapely.Point(px, py).distance(trunk) > 1 for px, py in zip(x, y, strict=True))
    sx, sy = projection.forward(np.array(stop.lat), np.array(stop.lon))
    assert np.hypot(x - sx, y - sy).min() >= STOP_CLEARANCE_M
    assert stop.node == int(network.snap([stop.lat], [stop.lon]).node[0])


@pytest.fixture(scope="module")
def li_seed(li_network: RoadNetwork) -> list:
    """Liechtenstein's seed of meeting points."""
    return seed_points(li_network)


def test_liechtenstein_starts_with_its_bus_stops(li_seed: list, li_network: RoadNetwork) -> None:
    """Every named stop of the extract in the service area near a road is a meeting point, with its name
    and position (more than a hundred of them)."""
    osm = {p.id: p for p in li_seed if p.source == "osm"}
    stops = [s for s in read_places(LIECHTENSTEIN).stops
             if li_network.in_service_area([s.lat], [s.lon])[0]
             and li_network.snapper.snap([s.lat], [s.lon]).distance_m[0] <= li_network.settings.snap_max_m]
    assert len(osm) == len(stops) > 100
    for stop in stops:
        assert (osm[stop.id].name, osm[stop.id].lat, osm[stop.id].lon) == (stop.name, stop.lat, stop.lon)


def stoppable_and_not(path: Path) -> tuple[dict[str, shapely.MultiLineString], shapely.MultiLineString]:
    """The extract's ways (lon/lat) by stoppable highway kind, and its motorways and trunk roads."""
    lines: dict[str, list] = {}
    ways = osmium.FileProcessor(str(path)).with_locations().with_filter(osmium.filter.KeyFilter("highway"))
    for way in ways:
        if isinstance(way, osmium.osm.Way) and len(way.nodes) >= 2:
            coords = [(n.location.lon, n.location.lat) for n in way.nodes if n.location.valid()]
            if len(coords) >= 2:
                lines.setdefault(way.tags["highway"], []).append(shapely.LineString(coords))
    fast = [line for kind in ("motorway", "motorway_link", "trunk", "trunk_link")
            for line in lines.get(kind, [])]
    return ({kind: shapely.MultiLineString(lines.get(kind, [])) for kind in STOPPABLE_HIGHWAYS},
            shapely.MultiLineString(fast))


def test_liechtensteins_generated_points_lie_on_stoppable_roads_spaced_apart(li_seed: list,
                                                                            li_network: RoadNetwork) -> None:
    """Each generated point lies on a way of its road kind (within a centimetre or so), never on a motorway
    or trunk road (unless one crosses its road there); generated points are at least 200 m apart and
    100 m from every OSM stop; all are inside the service area and snap to their drive node."""
    by_kind, fast = stoppable_and_not(LIECHTENSTEIN)
    generated = [p for p in li_seed if p.source == "generated"]
    assert len(generated) > 100
    for point in generated:
        assert point.road in STOPPABLE_HIGHWAYS
        assert by_kind[point.road].distance(shapely.Point(point.lon, point.lat)) < 1e-6
    crossing = sum(fast.distance(shapely.Point(p.lon, p.lat)) < 1e-6 for p in generated)
    assert crossing <= 2
    projection = li_network.projection
    gx, gy = projection.forward(np.array([p.lat for p in generated]), np.array([p.lon for p in generated]))
    osm = [p for p in li_seed if p.source == "osm"]
    ox_, oy = projection.forward(np.array([p.lat for p in osm]), np.array([p.lon for p in osm]))
    for i, j in itertools.combinations(range(len(generated)), 2):
        assert np.hypot(gx[i] - gx[j], gy[i] - gy[j]) >= MIN_SEPARATION_M - 1e-6
    assert np.hypot(gx[:, None] - ox_[None, :], gy[:, None] - oy[None, :]).min() >= STOP_CLEARANCE_M - 1e-6
    lat, lon = np.array([p.lat for p in li_seed]), np.array([p.lon for p in li_seed])
    assert li_network.in_service_area(lat, lon).all()
    assert [p.node for p in li_seed] == li_network.snapper.snap(lat, lon).node.tolist()
    assert len({p.id for p in li_seed}) == len(li_seed)
