"""The service area and hours operators set (api.services.service_area), in process (TestClient) on a
temporary SQLite database with the clock at 08:00 local on 23 November 2026 (who may call what:
tests/api/test_auth.py)."""

from __future__ import annotations

from contextlib import AbstractContextManager

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.db.models import Event, ServiceArea, ServiceRulesVersion
from tests.api.conftest import NOW, OPERATOR, RIDER, SCHAAN, VADUZ, AppSetup, open_client, user_keys

# Demo bus bus-1; keys of a rider and an operator in ``client.keys``.
CLIENT = AppSetup({"demo_buses": 1}, (RIDER, OPERATOR))
VADUZ_SOUTH = {"lat": 47.1290, "lon": 9.5170}
# a box around Vaduz that leaves Schaan (3 km north) out
VADUZ_BOX = {"type": "Polygon", "coordinates": [[[9.49, 47.12], [9.55, 47.12], [9.55, 47.152], [9.49, 47.152],
                                                 [9.49, 47.12]]]}



def make_client(tmp_path) -> AbstractContextManager[TestClient]:
    """The app on ``tmp_path`` without users (a second one finds the first one's database)."""
    return open_client(tmp_path, AppSetup(CLIENT.settings))


def keys(client: TestClient) -> dict[str, dict[str, str]]:
    """Keys of a new rider and a new operator."""
    return user_keys(client, CLIENT.users)


def quote(client: TestClient, origin, destination, hour: int = 9, minute: int = 0):
    body = {"origin": origin, "destination": destination, "time_type": "leave_after",
            "time": NOW.replace(hour=hour, minute=minute).isoformat(), "seats": 1, "wheelchairs": 0}
    return client.post("/v1/quotes", json=body, headers=client.keys["rider"])


def test_the_built_in_area_and_hours_are_shown(client):
    """Without a stored area: version null, a GeoJSON polygon containing Vaduz of some km², hours 05–23."""
    area = client.get("/v1/operator/service-area", headers=client.keys["operator"]).json()
    assert area["version"] is None and area["geojson"]["type"] == "Polygon" and area["area_km2"] > 10
    assert (area["service_start_s"], area["service_end_s"]) == (5 * 3600, 23 * 3600)


def test_a_new_area_and_hours_bound_new_quotes_and_are_stored(client):
    """A box around Vaduz with hours 06:00–22:00: a quote to Schaan is 409 outside_area, one inside Vaduz
    gets an offer, one at 22:30 (inside the old hours) is 409 outside_hours; the area row, a rules row
    with the hours and a service_area_changed event are stored."""
    answer = client.put("/v1/operator/service-area", headers=client.keys["operator"],
                        json={"name": "Vaduz", "geojson": VADUZ_BOX, "service_start_s": 6 * 3600,
                              "service_end_s": 22 * 3600})
    assert answer.status_code == 200, answer.text
    assert answer.json()["version"] is not None and answer.json()["name"] == "Vaduz"
    outside = quote(client, VADUZ, SCHAAN)
    assert (outside.status_code, outside.json()["code"]) == (409, "outside_area")
    assert quote(client, VADUZ, VADUZ_SOUTH).status_code == 200
    late = quote(client, VADUZ, VADUZ_SOUTH, hour=22, minute=30)
    assert (late.status_code, late.json()["code"]) == (409, "outside_hours")
    with Session(client.app.state.engine) as session:
        assert [row.name for row in session.exec(select(ServiceArea))] == ["Vaduz"]
        rules = session.exec(select(ServiceRulesVersion)).one()
        assert (rules.service_start_s, rules.service_end_s) == (6 * 3600, 22 * 3600)
        event = session.exec(select(Event).where(Event.kind == "service_area_changed")).one()
        assert event.payload["name"] == "Vaduz"


@pytest.mark.parametrize("geojson, code", [
    ({"type": "LineString", "coordinates": [[9.5, 47.1], [9.6, 47.2]]}, "invalid_service_area"),
    ({"type": "Polygon", "coordinates": [[[9.49, 47.12], [9.55, 47.152], [9.55, 47.12], [9.49, 47.152],
                                          [9.49, 47.12]]]}, "invalid_service_area"),  # a bow tie
    ({"type": "Polygon", "coordinates": [[[-30, 40], [-29, 40], [-29, 41], [-30, 40]]]},
     "invalid_service_area"),  # the Atlantic
    ({"type": "Polygon", "coordinates": [[[47.12, 190], [47.15, 190], [47.15, 195], [47.12, 190]]]},
     "invalid_service_area"),
    ({"type": "Polygon", "coordinates": "nope"}, "invalid_service_area"),
    ({"type": "Polygon"}, "invalid_service_area"),
])
def test_bad_areas_are_422_and_nothing_changes(client, geojson, code):
    """A line, a self-intersecting polygon, an area without roads (the Atlantic), coordinates out of
    range, unreadable or missing coordinates: 422 with the code; nothing stored, Schaan still served."""
    answer = client.put("/v1/operator/service-area", headers=client.keys["operator"],
                        json={"name": "bad", "geojson": geojson})
    assert (answer.status_code, answer.json()["code"]) == (422, code), answer.text
    with Session(client.app.state.engine) as session:
        assert session.exec(select(ServiceArea)).all() == []
    assert quote(client, VADUZ, SCHAAN).status_code == 200


def test_contradictory_hours_are_422_invalid_rules(client):
    """Hours ending before they start: 422 invalid_rules naming the service hours; no area stored."""
    answer = client.put("/v1/operator/service-area", headers=client.keys["operator"],
                        json={"name": "Vaduz", "geojson": VADUZ_BOX, "service_start_s": 20 * 3600,
                              "service_end_s": 8 * 3600})
    assert (answer.status_code, answer.json()["code"]) == (422, "invalid_rules")
    assert any("service hours" in problem for problem in answer.json()["detail"])
    with Session(client.app.state.engine) as session:
        assert session.exec(select(ServiceArea)).all() == []


def test_the_stored_area_is_in_force_after_a_restart(tmp_path):
    """The area put in force comes back when the service starts again on the same database."""
    with make_client(tmp_path) as first:
        first.keys = keys(first)
        assert first.put("/v1/operator/service-area", headers=first.keys["operator"],
                         json={"name": "Vaduz", "geojson": VADUZ_BOX}).status_code == 200
    with make_client(tmp_path) as second:
        second.keys = keys(second)
        assert quote(second, VADUZ, SCHAAN).json()["code"] == "outside_area"
        area = second.get("/v1/operator/service-area", headers=second.keys["operator"]).json()
        assert area["name"] == "Vaduz"
