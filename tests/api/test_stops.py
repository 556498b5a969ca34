"""Named stops in the API: ``GET /v1/stops`` (public) and quotes naming stops instead of points; the app
and users of tests/api/test_driver_api.py."""

from __future__ import annotations

from routing.stops import name_key
from tests.api.conftest import NOW as START
from tests.api.test_driver_api import CLIENT  # noqa: F401 (the app of the drivers' tests)


def trip(origin: dict, destination: dict) -> dict:
    """A quote body for one rider leaving after 09:00."""
    return {
        "origin": origin,
        "destination": destination,
        "time_type": "leave_after",
        "time": START.replace(hour=9).isoformat(),
        "seats": 1,
        "wheelchairs": 0,
    }


def test_stops_are_listed_and_searched_without_a_key(client):
    """The stop list is public, in name order, and ``q`` matches words regardless of case and accents."""
    everything = client.get("/v1/stops", params={"limit": 1000})
    assert everything.status_code == 200
    names = [s["name"] for s in everything.json()]
    assert len(names) > 50 and names == sorted(names, key=name_key)
    found = client.get("/v1/stops", params={"q": "schaan"}).json()
    assert found and all("schaan" in s["name"].casefold() for s in found)
    assert client.get("/v1/stops", params={"limit": 0}).status_code == 422


def test_a_quote_between_two_named_stops_gets_an_offer(client):
    """A rider quotes from one listed stop to another by id and gets an offer."""
    vaduz = client.get("/v1/stops", params={"q": "vaduz"}).json()[0]
    schaan = client.get("/v1/stops", params={"q": "schaan"}).json()[0]
    answer = client.post(
        "/v1/quotes",
        json=trip({"stop_id": vaduz["id"]}, {"stop_id": schaan["id"]}),
        headers=client.keys["rider"],
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["pickup_window"]["start"] <= answer.json()["estimated_arrival"]


def test_an_unknown_stop_is_404_and_a_mixed_place_is_422(client):
    """An unknown stop id is 404 unknown_stop; a place with both a stop id and coordinates is invalid."""
    unknown = client.post(
        "/v1/quotes",
        json=trip({"stop_id": "osm-0"}, {"lat": 47.165, "lon": 9.509}),
        headers=client.keys["rider"],
    )
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_stop"
    mixed = client.post(
        "/v1/quotes",
        json=trip({"stop_id": "osm-0", "lat": 47.1, "lon": 9.5}, {"lat": 47.165, "lon": 9.509}),
        headers=client.keys["rider"],
    )
    assert mixed.status_code == 422 and mixed.json()["code"] == "invalid_request"
