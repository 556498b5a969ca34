"""The web apps' side of the service in process (api.routes.web, api.services.map_data): the pages and
their committed bundle, the base map (roads, service area, places) and ``GET /v1/me``. The app and its
users are those of tests/api/test_driver_api.py (one bus, bus-1, the clock at 08:00 local)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from api.routes.web import PAGES_DIR
from api.services.map_data import road_class
from tests.api.test_driver_api import CLIENT  # noqa: F401 (the app of the drivers' tests)

MAX_ROADS_BYTES = 3_000_000


def test_each_page_is_served_with_its_bundle_and_nothing_from_outside(client: TestClient):
    """/app, /driver and /operator answer HTML whose script and stylesheet are served from /static; the
    pages and bundles load nothing from an http(s) address (offline: no CDN, no tiles, no fonts)."""
    for path, bundle in (("/app", "rider"), ("/driver", "driver"), ("/operator", "operator")):
        page = client.get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert f'src="/static/web/{bundle}.js"' in page.text
        assert client.get(f"/static/web/{bundle}.js").status_code == 200
        assert re.search(r"(src|href)=\"https?://", page.text) is None
    assert client.get("/static/web/style.css").status_code == 200
    for built in PAGES_DIR.rglob("*"):
        if built.suffix in {".js", ".css", ".html"}:
            text = built.read_text()
            loads = r"""(url\(|import\(|@import|src=|from|fetch\()\s*['"]?https?://"""  # links are no loads
            assert re.search(loads, text) is None, built


def test_the_roads_are_geojson_inside_the_service_area(client: TestClient):
    """GET /map/roads: a FeatureCollection of MultiLineStrings by road class with [lon, lat] pairs in
    Liechtenstein, under 3 MB, cacheable and attributed to OpenStreetMap; every point lies within the
    service area's bounding box (GET /map/area)."""
    roads = client.get("/map/roads")
    assert roads.status_code == 200 and len(roads.content) < MAX_ROADS_BYTES
    assert "max-age" in roads.headers["cache-control"]
    body = roads.json()
    assert body["type"] == "FeatureCollection" and body["attribution"] == "© OpenStreetMap contributors"
    assert {f["properties"]["class"] for f in body["features"]} == {"main", "local", "street"}
    west, south, east, north = client.get("/map/area").json()["bbox"]
    points = [point for feature in body["features"] for line in feature["geometry"]["coordinates"]
              for point in line]
    assert len(points) > 1000
    assert all(west <= lon <= east and south <= lat <= north for lon, lat in points)
    assert 9.4 < west < east < 9.7 and 47.0 < south < north < 47.3


def test_road_classes_follow_speed():
    """A 80 km/h road is main, 50 km/h local, 30 km/h a street."""
    assert [road_class(speed) for speed in (80, 50, 30)] == ["main", "local", "street"]


def test_the_area_is_a_polygon_and_the_places_are_named_villages(client: TestClient):
    """GET /map/area: the service area as a Polygon feature; GET /map/places: Liechtenstein's villages,
    Schaan and Vaduz among them, each with a position, no name twice."""
    area = client.get("/map/area").json()
    assert area["type"] == "Feature" and area["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    places = client.get("/map/places").json()
    names = [place["name"] for place in places]
    assert {"Schaan", "Vaduz"} <= set(names) and len(names) == len(set(names))
    assert all(47.0 < place["lat"] < 47.3 and 9.4 < place["lon"] < 9.7 for place in places)


def test_me_tells_the_role_the_bus_and_the_service_time(client: TestClient):
    """GET /v1/me: the driver is a driver of bus-1, the rider has no bus, and both see the service's
    clock (08:00 local, with its offset) and time zone; without a key 401."""
    driver = client.get("/v1/me", headers=client.keys["driver"]).json()
    assert driver["role"] == "driver" and driver["vehicle_id"] == "bus-1"
    assert driver["now"] == "2026-11-23T08:00:00+01:00" and driver["timezone"] == "Europe/Vaduz"
    rider = client.get("/v1/me", headers=client.keys["rider"]).json()
    assert rider["role"] == "rider" and rider["vehicle_id"] is None
    assert client.get("/v1/me").status_code == 401


def test_the_map_shows_the_area_operators_put_in_force(client: TestClient):
    """After an operator narrows the service area to a box around Vaduz and Schaan, GET /map/area answers
    that box, not the built-in area."""
    box = [[9.49, 47.12], [9.56, 47.12], [9.56, 47.18], [9.49, 47.18], [9.49, 47.12]]
    before = client.get("/map/area").json()["bbox"]
    changed = client.put("/v1/operator/service-area", headers=client.keys["operator"],
                         json={"name": "Vaduz-Schaan", "geojson": {"type": "Polygon", "coordinates": [box]}})
    assert changed.status_code == 200, changed.text
    after = client.get("/map/area")
    assert after.headers["cache-control"] == "no-cache"
    assert after.json()["bbox"] == [9.49, 47.12, 9.56, 47.18] != before
