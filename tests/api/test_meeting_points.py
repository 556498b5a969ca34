"""Meeting points through the API in process (api.services.meeting_points, /v1/operator/meeting-points,
/v1/rider/meeting-points and /v1/rider/walk), on SQLite and on PostgreSQL: the seed on first use, the
GeoJSON export and import (round trip, validation with nothing stored), editing one point, the rules'
meeting mode and walking limit, and riders' candidates and walks."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.clock import ServiceClock
from api.settings import Settings
from dispatch.model import ServiceRules
from routing.walking import WalkNetwork
from tests.api.conftest import NOW, OPERATOR, RIDER, SCHAAN, VADUZ, ZONE, ZURICH, postgres_schema, user_keys

URL = "/v1/operator/meeting-points"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of this test's own: a SQLite file, or a fresh schema on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'rufbus.sqlite3'}"
        return
    server_url = request.getfixturevalue("postgres_url")
    with postgres_schema(server_url, "rufbus_meeting") as url:
        yield url


@pytest.fixture
def open_app(database_url: str) -> Callable[[], AbstractContextManager[TestClient]]:
    """Open the app with one demo bus on the test's database (again: it finds what the first one stored);
    the keys of an operator and a rider in ``client.keys``."""
    @contextmanager
    def make() -> Iterator[TestClient]:
        app = create_app(Settings(database_url=database_url, demo_buses=1),
                         clock=ServiceClock(ZONE, wall_clock=lambda: NOW))
        with TestClient(app, raise_server_exceptions=False) as client:  # a 500 is an answer to check
            client.keys = user_keys(client, (  # type: ignore[attr-defined]
                (f"{OPERATOR[0]}-{secrets.token_hex(3)}", "operator", None),
                (f"{RIDER[0]}-{secrets.token_hex(3)}", "rider", None)))
            yield client

    return make


@pytest.fixture
def client(open_app: Callable[[], AbstractContextManager[TestClient]]) -> Iterator[TestClient]:
    """A fresh app on the test's database."""
    with open_app() as test_client:
        yield test_client


def operator(client: TestClient) -> dict[str, str]:
    return next(v for k, v in client.keys.items() if k.startswith("operator"))  # type: ignore[attr-defined]


def rider(client: TestClient) -> dict[str, str]:
    return next(v for k, v in client.keys.items() if k.startswith("rider"))  # type: ignore[attr-defined]


def collection(client: TestClient) -> dict:
    answer = client.get(URL, headers=operator(client))
    assert answer.status_code == 200, answer.text
    return answer.json()


def feature(point_id: str | None, name: str, lat: float, lon: float, **properties: object) -> dict:
    """A GeoJSON Point feature as operators import them."""
    props = {"name": name, **properties} | ({} if point_id is None else {"id": point_id})
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": props}


def put_rules(client: TestClient, **changes: object):
    body = {**dataclasses.asdict(ServiceRules()), **changes}
    return client.put("/v1/operator/rules", headers=operator(client), json=body)


def test_the_first_list_holds_the_areas_osm_stops_and_generated_points(client: TestClient) -> None:
    """An empty table is seeded on first use: OSM stops and generated points, all active, inside the
    service area, each a Point feature with its id, name and source."""
    features = collection(client)["features"]
    sources = {f["properties"]["source"] for f in features}
    assert sources == {"osm", "generated"}
    assert sum(f["properties"]["source"] == "osm" for f in features) > 100
    assert all(f["properties"]["active"] and f["geometry"]["type"] == "Point" for f in features)
    assert all(f["id"] == f["properties"]["id"] for f in features)
    network = client.app.state.network  # type: ignore[attr-defined]
    lon, lat = zip(*(f["geometry"]["coordinates"] for f in features), strict=True)
    assert network.in_service_area(lat, lon).all()
    assert len(collection(client)["features"]) == len(features)  # seeded once


def test_exporting_and_importing_the_export_changes_nothing(client: TestClient) -> None:
    """The export is a GeoJSON file; importing it updates every point and adds none, and the next export
    is the same, sources kept."""
    exported = client.get(f"{URL}/export", headers=operator(client))
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/geo+json")
    assert "attachment" in exported.headers["content-disposition"]
    answer = client.post(f"{URL}/import", headers=operator(client), json=exported.json())
    assert answer.status_code == 200, answer.text
    total = len(exported.json()["features"])
    assert answer.json() == {"created": 0, "updated": total, "total": total}
    assert client.get(f"{URL}/export", headers=operator(client)).json() == exported.json()


def test_an_import_adds_new_points_and_moves_known_ones_as_the_operators(client: TestClient) -> None:
    """A feature with a new id is added, one with a stored id moved and renamed (its source becomes
    operator), one without an id gets one made up; the other points stay."""
    before = collection(client)["features"]
    known = before[0]
    lon, lat = known["geometry"]["coordinates"]
    body = {"type": "FeatureCollection", "features": [
        feature("school", "Schule", VADUZ["lat"], VADUZ["lon"]),
        feature(known["id"], "Moved", lat + 0.0005, lon, active=False),
        feature(None, "Kirche", SCHAAN["lat"], SCHAAN["lon"]),
    ]}
    answer = client.post(f"{URL}/import", headers=operator(client), json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"created": 2, "updated": 1, "total": len(before) + 2}
    after = {f["id"]: f["properties"] for f in collection(client)["features"]}
    assert after["school"] == {"id": "school", "name": "Schule", "source": "operator", "active": True}
    assert after[known["id"]] == {"id": known["id"], "name": "Moved", "source": "operator", "active": False}
    assert [p["name"] for p in after.values() if p["id"].startswith("op-")] == ["Kirche"]


@pytest.mark.parametrize(("body", "problem"), [
    ({"type": "Feature"}, "FeatureCollection"),
    ({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[9.52, 47.14], [9.53, 47.15]]},
         "properties": {"name": "Line"}}]}, "must be a Point"),
    ({"type": "FeatureCollection", "features": [feature("far", "Zürich", ZURICH["lat"], ZURICH["lon"])]},
     "outside the service area"),
    ({"type": "FeatureCollection", "features": [feature("long", "x" * 121, VADUZ["lat"], VADUZ["lon"])]},
     "name must be"),
    ({"type": "FeatureCollection", "features": [feature("bad id!", "Name", VADUZ["lat"], VADUZ["lon"])]},
     "id must be"),
    ({"type": "FeatureCollection", "features": [feature("twice", "A", VADUZ["lat"], VADUZ["lon"]),
                                                feature("twice", "B", SCHAAN["lat"], SCHAAN["lon"])]},
     "appears twice"),
    ({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [47.14, 9.52]},
         "properties": {"name": "Swapped"}}]}, "outside the service area"),
])
def test_a_bad_import_is_422_with_its_problems_and_stores_nothing(client: TestClient, body: dict,
                                                                 problem: str) -> None:
    """A collection with one bad feature (not a collection, not a Point, outside the area, a name too
    long, a bad id, an id twice, latitude and longitude swapped) is 422 ``invalid_meeting_points`` naming
    the problem; a good feature sent with it is not stored either."""
    before = collection(client)
    if body.get("type") == "FeatureCollection":
        body = {**body, "features": [*body["features"], feature("good", "Gut", VADUZ["lat"], VADUZ["lon"])]}
    answer = client.post(f"{URL}/import", headers=operator(client), json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "invalid_meeting_points"
    assert any(problem in item for item in answer.json()["detail"]), answer.json()
    assert collection(client) == before


def test_an_operator_adds_moves_and_deactivates_a_point(client: TestClient) -> None:
    """A point added by hand is the operator's; moving it changes its position, deactivating it keeps it
    listed but no rider can walk to it; an id in use, a point outside the area and a move without both
    coordinates are 422, an unknown point 404."""
    added = client.post(URL, headers=operator(client), json={"id": "town-hall", "name": "Rathaus", **VADUZ})
    assert added.status_code == 201, added.text
    assert added.json() == {"id": "town-hall", "name": "Rathaus", "source": "operator", "active": True,
                            **VADUZ}
    again = client.post(URL, headers=operator(client), json={"id": "town-hall", "name": "Again", **VADUZ})
    assert (again.status_code, again.json()["code"]) == (422, "invalid_meeting_points")
    far = client.post(URL, headers=operator(client), json={"name": "Zürich", **ZURICH})
    assert (far.status_code, far.json()["code"]) == (422, "outside_area")
    moved = client.patch(f"{URL}/town-hall", headers=operator(client), json={"lat": 47.1415, "lon": 9.5220})
    assert moved.status_code == 200 and (moved.json()["lat"], moved.json()["lon"]) == (47.1415, 9.5220)
    half = client.patch(f"{URL}/town-hall", headers=operator(client), json={"lat": 47.1420})
    assert (half.status_code, half.json()["code"]) == (422, "invalid_meeting_points")
    walk = {"from": f"{VADUZ['lat']},{VADUZ['lon']}", "to": "town-hall"}
    assert client.get("/v1/rider/walk", headers=rider(client), params=walk).status_code == 200
    off = client.patch(f"{URL}/town-hall", headers=operator(client), json={"active": False})
    assert off.status_code == 200 and off.json()["active"] is False
    listed = {f["id"]: f["properties"]["active"] for f in collection(client)["features"]}
    assert listed["town-hall"] is False
    gone = client.get("/v1/rider/walk", headers=rider(client), params=walk)
    assert (gone.status_code, gone.json()["code"]) == (404, "unknown_meeting_point")
    unknown = client.patch(f"{URL}/nope", headers=operator(client), json={"active": False})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_meeting_point")


def test_the_rules_carry_the_meeting_mode_and_walking_limit(open_app) -> None:
    """The rules start door to door with 300 m; an operator puts hybrid with 400 m in force and it is
    there after a restart; an unknown mode is 422 ``invalid_request``, a negative or too long walk 422
    ``invalid_rules``, and neither changes the rules."""
    with open_app() as client:
        rules = client.get("/v1/operator/rules", headers=operator(client)).json()
        assert (rules["mode"], rules["max_walk_m"]) == ("door_to_door", 300)
        answer = put_rules(client, mode="hybrid", max_walk_m=400)
        assert answer.status_code == 200, answer.text
        for mode, walk_m, code in (("anywhere", 300, "invalid_request"), ("hybrid", -1, "invalid_rules"),
                                   ("stops_only", 5000, "invalid_rules")):
            bad = put_rules(client, mode=mode, max_walk_m=walk_m)
            assert (bad.status_code, bad.json()["code"]) == (422, code), bad.text
    with open_app() as client:
        rules = client.get("/v1/operator/rules", headers=operator(client)).json()
        assert (rules["mode"], rules["max_walk_m"]) == ("hybrid", 400)


def test_riders_get_the_points_within_the_walking_limit_nearest_first(client: TestClient) -> None:
    """Door to door there are no candidates (and the walk graph stays unloaded); in hybrid mode with
    300 m every candidate is an active point whose walk is at most 300 m, nearest first; with 600 m there
    are at least as many."""
    near = {"near": f"{VADUZ['lat']},{VADUZ['lon']}"}
    answer = client.get("/v1/rider/meeting-points", headers=rider(client), params=near)
    assert answer.status_code == 200
    assert answer.json() == {"mode": "door_to_door", "max_walk_m": 300, "candidates": []}
    assert getattr(client.app.state, "walk", None) is None  # type: ignore[attr-defined]
    assert put_rules(client, mode="hybrid", max_walk_m=300).status_code == 200
    found = client.get("/v1/rider/meeting-points", headers=rider(client), params=near).json()
    walks = [c["walk_m"] for c in found["candidates"]]
    assert found["mode"] == "hybrid" and walks and walks == sorted(walks) and max(walks) <= 300
    assert put_rules(client, mode="hybrid", max_walk_m=600).status_code == 200
    wider = client.get("/v1/rider/meeting-points", headers=rider(client), params=near).json()
    assert len(wider["candidates"]) >= len(walks)
    far = client.get("/v1/rider/meeting-points", headers=rider(client),
                     params={"near": f"{ZURICH['lat']},{ZURICH['lon']}"})
    assert (far.status_code, far.json()["code"]) == (422, "outside_area")
    bad = client.get("/v1/rider/meeting-points", headers=rider(client), params={"near": "north"})
    assert bad.status_code == 422


def test_a_rider_gets_the_walk_to_a_point_as_a_linestring(client: TestClient) -> None:
    """The walk from a place to a meeting point starts at the place, ends at the point, and is at least
    as long as the straight line between them."""
    point = collection(client)["features"][0]
    lon, lat = point["geometry"]["coordinates"]
    start = (lat + 0.002, lon + 0.001)
    answer = client.get("/v1/rider/walk", headers=rider(client),
                        params={"from": f"{start[0]},{start[1]}", "to": point["id"]})
    assert answer.status_code == 200, answer.text
    walk = answer.json()
    assert walk["meeting_point"]["id"] == point["id"]
    assert walk["path"]["type"] == "LineString"
    assert walk["path"]["coordinates"][0] == [start[1], start[0]]
    assert walk["path"]["coordinates"][-1] == [lon, lat]
    walking: WalkNetwork = client.app.state.walk  # type: ignore[attr-defined]
    assert walk["metres"] >= walking.straight_m([start[0]], [start[1]], [lat], [lon])[0] - 1


MOUNTAIN_DOOR = {"lat": 47.09706, "lon": 9.61278}  # Triesenberg: 81 m on foot to Heitastrasse, bends by bus
AWAY_FROM_STOPS = {"lat": VADUZ["lat"], "lon": VADUZ["lon"] + 0.002}  # no meeting point within 300 m


def quote(client: TestClient, origin: dict, destination: dict = SCHAAN):
    """Ask for a trip leaving after 09:00 today, one seat."""
    return client.post("/v1/quotes", headers=rider(client), json={
        "origin": origin, "destination": destination, "time_type": "leave_after",
        "time": NOW.replace(hour=9).isoformat(), "seats": 1, "wheelchairs": 0})


def test_an_offer_names_the_meeting_point_and_the_booking_keeps_it(open_app) -> None:
    """Stops only, 300 m: from a door in Triesenberg the bus picks up at a meeting point within the walking
    limit and drops off at one in Schaan (the offer names each with id, name, lat, lon and walk metres, as
    the rider page reads them); the booking names the same points, also after a restart. (Which point wins
    in hybrid, where the door is a candidate too, is tested in tests/dispatch/test_meeting.py: on these
    roads an empty bus goes to the door, since the curb points are never far from it.)"""
    with open_app() as client:
        assert put_rules(client, mode="stops_only", max_walk_m=300).status_code == 200
        offer = quote(client, MOUNTAIN_DOOR)
        assert offer.status_code == 200, offer.text
        chosen = offer.json()["pickup_meeting_point"]
        assert set(chosen) == {"id", "name", "lat", "lon", "walk_m"}
        assert 0 <= chosen["walk_m"] <= 300 and offer.json()["dropoff_meeting_point"] is not None
        listed = {f["id"]: f for f in collection(client)["features"]}
        assert listed[chosen["id"]]["geometry"]["coordinates"] == [chosen["lon"], chosen["lat"]]
        booked = client.post("/v1/bookings", headers=rider(client) | {"Idempotency-Key": "k-hybrid"},
                             json={"quote_id": offer.json()["quote_id"]})
        assert booked.status_code == 201, booked.text
        assert booked.json()["pickup_meeting_point"] == chosen
        booking_id, headers = booked.json()["id"], rider(client)
    with open_app() as client:
        again = client.get(f"/v1/bookings/{booking_id}", headers=headers)
        assert again.status_code == 200, again.text
        assert again.json()["pickup_meeting_point"] == chosen


def test_stops_only_serves_only_meeting_points_and_refuses_a_trip_with_none_in_reach(client: TestClient
                                                                                   ) -> None:
    """Door to door an offer names no meeting point. Stops only, 300 m: Vaduz → Schaan boards and alights
    at meeting points within 300 m; from a place with no meeting point within 300 m the quote is 409
    ``no_meeting_point`` and no booking is made."""
    door = quote(client, VADUZ)
    assert door.status_code == 200, door.text
    assert (door.json()["pickup_meeting_point"], door.json()["dropoff_meeting_point"]) == (None, None)
    assert put_rules(client, mode="stops_only", max_walk_m=300).status_code == 200
    offer = quote(client, VADUZ)
    assert offer.status_code == 200, offer.text
    for side in ("pickup_meeting_point", "dropoff_meeting_point"):
        assert 0 <= offer.json()[side]["walk_m"] <= 300
    refused = quote(client, AWAY_FROM_STOPS)
    assert (refused.status_code, refused.json()["code"]) == (409, "no_meeting_point")
    assert "origin" in refused.json()["message"]
    listed = client.get("/v1/bookings", headers=rider(client)).json()
    assert listed["total"] == 0
