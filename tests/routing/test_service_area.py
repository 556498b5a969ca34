"""The service area: default buffer around the graph, or a GeoJSON polygon from configuration."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import shapely

from routing.errors import OutsideServiceAreaError, RoutingError
from routing.network import RoadNetwork
from routing.service_area import ServiceArea

SQUARE = [[9.50, 47.10], [9.54, 47.10], [9.54, 47.14], [9.50, 47.14], [9.50, 47.10]]


def _write_geojson(path: Path, geometry: dict) -> Path:
    feature = {"type": "Feature", "properties": {}, "geometry": geometry}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return path


def test_default_area_holds_every_node_and_excludes_far_points(li_network: RoadNetwork) -> None:
    """The buffered hull contains all junctions; a point 20 km west does not lie in it."""
    graph = li_network.graph
    assert li_network.in_service_area(graph.node_lat, graph.node_lon).all()
    assert not li_network.in_service_area([47.15], [9.25])[0]
    assert li_network.service_area.area_km2(li_network.projection) > graph.meta["hull_km2"]


def test_geojson_area_from_settings_limits_snapping(li_network: RoadNetwork, tmp_path: Path) -> None:
    """With a configured square around Vaduz, a point in Schaan-north is outside and cannot be snapped."""
    area_file = _write_geojson(tmp_path / "area.geojson", {"type": "Polygon", "coordinates": [SQUARE]})
    network = RoadNetwork(li_network.graph, replace(li_network.settings, service_area_geojson=area_file))
    np.testing.assert_array_equal(network.in_service_area([47.12, 47.20], [9.52, 9.52]), [True, False])
    assert network.snap([47.12], [9.52]).distance_m[0] < 500
    with pytest.raises(OutsideServiceAreaError):
        network.snap([47.20], [9.52])


def test_square_area_is_measured_in_square_kilometres(li_network: RoadNetwork) -> None:
    """0.04° × 0.04° at 47.1° N is about 3.03 km × 4.45 km."""
    area = ServiceArea(shapely.Polygon(SQUARE))
    assert area.area_km2(li_network.projection) == pytest.approx(3.03 * 4.45, rel=0.01)


def test_geojson_that_is_not_a_polygon_is_rejected(tmp_path: Path) -> None:
    """A LineString is not an area: RoutingError says what it got."""
    path = _write_geojson(tmp_path / "line.geojson", {"type": "LineString", "coordinates": SQUARE[:2]})
    with pytest.raises(RoutingError, match="must be a non-empty polygon, got LineString"):
        ServiceArea.from_geojson(path)


def test_unreadable_geojson_is_reported(tmp_path: Path) -> None:
    """A file that is not JSON raises RoutingError naming the file."""
    path = tmp_path / "area.geojson"
    path.write_text("{not json")
    with pytest.raises(RoutingError, match="cannot read service area"):
        ServiceArea.from_geojson(path)
