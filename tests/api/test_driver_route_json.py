"""GET /v1/driver/route answers with JSON built without pydantic walking the geometry
(api.services.route_view.route_json): the answer must still be a valid DriverRoutePublic, with a GeoJSON
LineString of [lon, lat] pairs from the bus's location through every stop, and the OpenAPI schema still
declares DriverRoutePublic. The app, its bus and its users are those of tests/api/test_driver_api.py."""

from __future__ import annotations

import pytest

from api.schemas import DriverRoutePublic
from api.services.route_view import encoded_route
from tests.api.test_driver_api import CLIENT, book  # noqa: F401 (CLIENT: the app of the drivers' tests)

VEHICLE = "bus-1"


def bus_position(client) -> tuple[float, float]:
    """Where bus-1 stands now, as a GeoJSON (lon, lat) position of its road node."""
    live = client.app.state.dispatch
    with live.lock:
        node = live.dispatcher.plan.state(VEHICLE).location
    graph = live.network.graph
    return float(graph.node_lon[node]), float(graph.node_lat[node])


def index_of(coordinates: list[list[float]], lon: float, lat: float, start: int) -> int:
    """The first index at or after ``start`` whose position is (lon, lat); fails if there is none."""
    for k in range(start, len(coordinates)):
        if coordinates[k] == pytest.approx([lon, lat], abs=1e-9):
            return k
    raise AssertionError(f"({lon}, {lat}) not in the geometry from index {start}")


def read_route(client) -> dict:
    answer = client.get("/v1/driver/route", headers=client.keys["driver"])
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    return answer.json()


def test_the_route_answer_is_a_valid_driver_route_whose_roads_pass_every_stop(client):
    """After two bookings the answer validates as DriverRoutePublic (four stops, both bookings picked
    up and dropped off); its geometry is a LineString of [lon, lat] pairs (two numbers each, inside
    Liechtenstein), beginning at the bus's location and passing each stop's coordinates in the stops'
    order, ending at the last stop."""
    first, later = book(client, hour=9), book(client, hour=11)
    data = read_route(client)
    route = DriverRoutePublic.model_validate(data)
    assert route.vehicle_id == VEHICLE
    assert sorted((s.kind.value, s.booking_id) for s in route.stops) == sorted(
        [("pickup", first["id"]), ("dropoff", first["id"]),
         ("pickup", later["id"]), ("dropoff", later["id"])])
    assert route.geometry is not None and route.geometry.type == "LineString"

    geometry = data["geometry"]
    assert set(geometry) == {"type", "coordinates"} and geometry["type"] == "LineString"
    coordinates = geometry["coordinates"]
    assert len(coordinates) >= 2
    assert all(isinstance(p, list) and len(p) == 2 and all(isinstance(x, float) for x in p)
               for p in coordinates)
    # [lon, lat], not [lat, lon]
    assert all(9.4 < lon < 9.7 and 47.0 < lat < 47.3 for lon, lat in coordinates)
    assert coordinates[0] == pytest.approx(list(bus_position(client)), abs=1e-9)
    at = 0
    for stop in data["stops"]:
        at = index_of(coordinates, stop["lon"], stop["lat"], at)
    last = data["stops"][-1]
    assert coordinates[-1] == pytest.approx([last["lon"], last["lat"]], abs=1e-9)


def test_the_route_answer_matches_the_pydantic_serialisation(client):
    """The hand-built JSON equals what pydantic itself would make of the validated route (same stops,
    times, windows and positions): passing the geometry through loses nothing."""
    book(client)
    data = read_route(client)
    assert DriverRoutePublic.model_validate(data).model_dump(mode="json") == data


def test_an_empty_route_answer_is_valid_with_no_geometry(client):
    """Before any booking the answer validates too: no stops, geometry null."""
    data = read_route(client)
    route = DriverRoutePublic.model_validate(data)
    assert route.stops == [] and route.geometry is None and data["geometry"] is None


def test_the_schema_still_declares_the_driver_route(client):
    """The OpenAPI document gives DriverRoutePublic as the 200 answer of GET /v1/driver/route, with the
    geometry a LineString (or null)."""
    schema = client.get("/openapi.json").json()
    answer = schema["paths"]["/v1/driver/route"]["get"]["responses"]["200"]
    ok = answer["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/DriverRoutePublic"}
    geometry = schema["components"]["schemas"]["DriverRoutePublic"]["properties"]["geometry"]
    assert {"$ref": "#/components/schemas/LineString"} in geometry["anyOf"]


def test_the_route_answer_is_encoded_again_only_when_route_or_place_change(client):
    """Asked twice with nothing changed, the answer is the same encoded bytes (kept, not rebuilt); after
    another booking it lists the new rider's stops, and after a position report far from the depot it
    starts where the bus now stands."""
    first = book(client, hour=9)
    live = client.app.state.dispatch
    kept = encoded_route(live, VEHICLE)
    assert encoded_route(live, VEHICLE) is kept
    later = book(client, hour=11)
    data = read_route(client)
    assert {s["booking_id"] for s in data["stops"]} == {first["id"], later["id"]}
    at_depot = data["geometry"]["coordinates"][0]
    position = {"lat": 47.1650, "lon": 9.5090, "at": live.clock.now_datetime().isoformat()}  # Schaan
    moved = client.post("/v1/driver/positions", json={"positions": [position]}, headers=client.keys["driver"])
    assert moved.status_code == 202, moved.text
    start = read_route(client)["geometry"]["coordinates"][0]
    assert start == pytest.approx(list(bus_position(client)), abs=1e-9)
    assert start != at_depot
