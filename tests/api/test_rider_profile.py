"""Riders keep favourite places, companions and recurring trips server-side (api.routes.rider_profile)
through the API in process, on SQLite and on PostgreSQL: each rider sees and changes only their own (another
rider's id is 404), bad input is 422 with nothing stored, and each list is capped."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.clock import ServiceClock
from api.services.favourites import MAX_COMPANIONS
from api.settings import Settings
from tests.api.conftest import NOW, SCHAAN, VADUZ, ZONE, postgres_schema, user_keys

PATTERN = {"name": "Work", "origin": VADUZ, "origin_name": "Home", "destination": SCHAAN,
           "destination_name": "Office", "weekdays": [0, 2, 4], "time_type": "arrive_by", "time": "07:45",
           "seats": 1, "wheelchairs": 0, "first_day": "2026-11-23", "last_day": "2027-03-31"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def client(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app for the module with one demo bus, on a SQLite file or a fresh PostgreSQL schema; keys of
    two riders and an operator in ``client.keys``. The recurring-trip job is off (tested on its own)."""
    def run(url: str) -> Iterator[TestClient]:
        app = create_app(Settings(database_url=url, demo_buses=1, recurring_every_s=0),
                         clock=ServiceClock(ZONE, wall_clock=lambda: NOW))
        with TestClient(app, raise_server_exceptions=False) as test_client:  # a 500 is an answer to check
            test_client.keys = user_keys(test_client, (  # type: ignore[attr-defined]
                ("ann", "rider", None), ("bob", "rider", None), ("op", "operator", None)))
            yield test_client

    if request.param == "sqlite":
        yield from run(f"sqlite:///{tmp_path_factory.mktemp('profile') / 'rufbus.sqlite3'}")
        return
    with postgres_schema(request.getfixturevalue("postgres_url"), "rufbus_profile") as url:
        yield from run(url)


def keys(client: TestClient, name: str) -> dict[str, str]:
    return client.keys[name]  # type: ignore[attr-defined, no-any-return]


def test_a_rider_saves_renames_and_removes_a_favourite_place_and_another_rider_never_sees_it(client):
    """Ann saves "Home", renames it and removes it; Bob's list stays empty and Ann's id is 404 for him."""
    ann, bob = keys(client, "ann"), keys(client, "bob")
    made = client.post("/v1/rider/favourites", json={"name": "Home", **VADUZ}, headers=ann)
    assert made.status_code == 201, made.text
    place = made.json()
    assert place["name"] == "Home" and place["lat"] == VADUZ["lat"]
    assert client.get("/v1/rider/favourites", headers=bob).json() == []
    assert client.put(f"/v1/rider/favourites/{place['id']}", json={"name": "Bob's", **SCHAAN},
                      headers=bob).status_code == 404
    assert client.delete(f"/v1/rider/favourites/{place['id']}", headers=bob).status_code == 404
    renamed = client.put(f"/v1/rider/favourites/{place['id']}", json={"name": "Zuhause", **VADUZ},
                         headers=ann)
    assert renamed.status_code == 200 and renamed.json()["name"] == "Zuhause"
    assert [p["name"] for p in client.get("/v1/rider/favourites", headers=ann).json()] == ["Zuhause"]
    assert client.delete(f"/v1/rider/favourites/{place['id']}", headers=ann).status_code == 204
    assert client.get("/v1/rider/favourites", headers=ann).json() == []


@pytest.mark.parametrize("body", [
    {"name": "NaN", "lat": float("nan"), "lon": 9.5},
    {"name": "Far", "lat": 1e308, "lon": 9.5},
    {"name": "Off the globe", "lat": 91, "lon": 9.5},
    {"name": "", **VADUZ},
    {"name": "   ", **VADUZ},
    {"name": "Nul\x00", **VADUZ},
    {"name": "x" * 121, **VADUZ},
    {"name": "Extra", **VADUZ, "note": "not a field"},
], ids=["nan", "huge", "off_globe", "empty", "blank", "nul", "too_long", "unknown_field"])
def test_a_bad_favourite_is_422_and_nothing_is_stored(client, body):
    """NaN, numbers past any coordinate, empty or control-character names are 422, never stored."""
    ann = keys(client, "ann")
    before = client.get("/v1/rider/favourites", headers=ann).json()
    answer = client.post("/v1/rider/favourites", content=_json(body),
                         headers=ann | {"Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] in ("invalid_request", "malformed_json")
    assert client.get("/v1/rider/favourites", headers=ann).json() == before


def _json(body: dict) -> str:
    return json.dumps(body)  # NaN written as the bare token NaN, as a careless client would


@pytest.mark.parametrize("path", ["/v1/rider/favourites/99999999999", "/v1/rider/companions/0",
                                  "/v1/rider/recurring-trips/-1", "/v1/rider/recurring-trips/abc"])
def test_ids_outside_a_row_number_are_422(client, path):
    """Path ids must be positive 32-bit integers: anything else is 422, never a database error."""
    assert client.delete(path, headers=keys(client, "ann")).status_code == 422


def test_companions_keep_their_category_and_the_list_is_capped(client):
    """A companion keeps a category from the small enum (another is 422); past the cap it is 409."""
    bob = keys(client, "bob")
    assert client.post("/v1/rider/companions", json={"name": "Kid", "category": "toddler"},
                       headers=bob).status_code == 422
    made = [client.post("/v1/rider/companions", json={"name": f"C{k:02d}", "category": "child"}, headers=bob)
            for k in range(MAX_COMPANIONS)]
    assert all(answer.status_code == 201 for answer in made)
    over = client.post("/v1/rider/companions", json={"name": "One too many", "category": "adult"},
                       headers=bob)
    assert over.status_code == 409 and over.json()["code"] == "too_many_companions"
    first = made[0].json()
    changed = client.put(f"/v1/rider/companions/{first['id']}",
                         json={"name": "Oma", "category": "wheelchair"}, headers=bob)
    assert changed.json() == {"id": first["id"], "name": "Oma", "category": "wheelchair"}
    assert client.get(f"/v1/rider/companions/{first['id']}", headers=bob).status_code == 405
    assert client.put(f"/v1/rider/companions/{first['id']}", json={"name": "Mine", "category": "adult"},
                      headers=keys(client, "ann")).status_code == 404
    for answer in made:
        assert client.delete(f"/v1/rider/companions/{answer.json()['id']}", headers=bob).status_code == 204


def test_a_recurring_trip_is_stored_as_given_read_changed_and_removed_by_its_rider_only(client):
    """The pattern comes back as given (weekdays sorted); Bob gets 404 for Ann's; Ann pauses and removes
    it."""
    ann, bob = keys(client, "ann"), keys(client, "bob")
    made = client.post("/v1/rider/recurring-trips", json=PATTERN | {"weekdays": [4, 0, 2]}, headers=ann)
    assert made.status_code == 201, made.text
    trip = made.json()
    assert {k: trip[k] for k in PATTERN} == PATTERN and trip["occurrences"] == []
    url = f"/v1/rider/recurring-trips/{trip['id']}"
    assert client.get(url, headers=bob).status_code == 404
    assert client.get(url, headers=bob).json()["code"] == "unknown_recurring_trip"
    assert client.get("/v1/rider/recurring-trips", headers=bob).json() == []
    paused = client.put(url, json=PATTERN | {"active": False, "time": "08:15"}, headers=ann)
    assert paused.status_code == 200 and paused.json()["active"] is False and paused.json()["time"] == "08:15"
    assert client.delete(url, headers=bob).status_code == 404
    assert client.delete(url, headers=ann).status_code == 204
    assert client.get(url, headers=ann).status_code == 404


@pytest.mark.parametrize("change", [
    {"weekdays": [7]}, {"weekdays": [-1]}, {"weekdays": []}, {"weekdays": [1, 1]}, {"weekdays": ["monday"]},
    {"time": "24:00"}, {"time": "7:45"}, {"time": "07:45:00"},
    {"first_day": "2026-12-01", "last_day": "2026-11-30"},
    {"first_day": "2026-11-23", "last_day": "2028-01-01"},
    {"first_day": "1999-01-01", "last_day": "1999-02-01"},
    {"last_day": "99999-01-01"},
    {"seats": 0}, {"seats": 10**20}, {"wheelchairs": -1},
    {"origin": {"lat": float("nan"), "lon": 9.5}}, {"destination": {"lat": 47.1, "lon": 1e999}},
    {"name": "Work\x00"}, {"time_type": "whenever"},
], ids=lambda change: "-".join(change))
def test_a_bad_recurring_trip_is_422_and_nothing_is_stored(client, change):
    """Bad weekdays, times, reversed or year-long spans, absurd dates, NaN and huge numbers are 422."""
    ann = keys(client, "ann")
    answer = client.post("/v1/rider/recurring-trips", content=_json(PATTERN | change),
                         headers=ann | {"Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert client.get("/v1/rider/recurring-trips", headers=ann).json() == []


@pytest.mark.parametrize("path", ["/v1/rider/favourites", "/v1/rider/companions",
                                  "/v1/rider/recurring-trips"])
def test_the_rider_lists_are_the_riders_own_operators_get_403(client, path):
    """Favourites, companions and recurring trips are a rider's own: an operator is 403, no key 401."""
    assert client.get(path, headers=keys(client, "op")).status_code == 403
    assert client.get(path).status_code == 401
