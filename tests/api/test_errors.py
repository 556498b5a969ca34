"""Bad input everywhere is a 422 ``{code, message}`` (or 413 for a body over the limit), never a 500 and
never a half-written record — on SQLite and on PostgreSQL: numbers JSON cannot carry (``NaN``,
``Infinity``, ``1e999`` sent as raw JSON text), times in the years 1 and 9999, NUL in ids and names (path,
query and body), oversized numbers in the service rules, malformed JSON, oversized strings and bodies."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel, select

from api.app import create_app
from api.clock import ServiceClock
from api.db.models import Booking, ServiceArea, ServiceException, ServiceRulesVersion, Shift, Vehicle
from api.db.session import create_db_engine
from api.settings import Settings
from dispatch.model import MAX_RULE_S
from tests.api.conftest import DRIVER, NOW, OPERATOR, RIDER, SCHAAN, VADUZ, ZONE, user_keys

STORED: tuple[type[SQLModel], ...] = (Booking, Vehicle, Shift, ServiceRulesVersion, ServiceArea,
                                      ServiceException)
TIME = NOW.replace(hour=10).isoformat()
TRIP = {"origin": VADUZ, "destination": SCHAAN, "time_type": "leave_after", "time": TIME}
RULES = {"max_wait_s": 900, "pickup_window_s": 600, "ride_alpha": 1.5, "ride_beta_s": 600,
         "max_detour_s": 1800, "stop_dwell_s": 30, "boarding_s_per_passenger": 15,
         "booking_horizon_s": 604_800, "min_notice_s": 0,
         "service_start_s": 18_000, "service_end_s": 82_800, "offer_validity_s": 120, "no_show_wait_s": 180}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def client(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app (two demo buses, the clock at 08:00 local) on a SQLite file or a fresh PostgreSQL schema,
    with a rider, a driver of bus-1 and an operator; server errors are answers here, not exceptions."""
    schema = f"rufbus_errors_{secrets.token_hex(6)}"
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('errors') / 'rufbus.sqlite3'}"
    else:
        server_url = request.getfixturevalue("postgres_url")
        admin = create_db_engine(server_url)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        url = make_url(server_url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False)
    try:
        app = create_app(Settings(database_url=url, demo_buses=2), clock=ServiceClock(ZONE, lambda: NOW))
        with TestClient(app, raise_server_exceptions=False) as test_client:
            test_client.keys = user_keys(test_client, (RIDER, DRIVER, OPERATOR))  # type: ignore[attr-defined]
            yield test_client
    finally:
        if request.param == "postgresql":
            admin = create_db_engine(server_url)
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def stored(client: TestClient) -> dict[str, int]:
    """Rows per table of what a request could write."""
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        return {model.__name__: session.exec(select(func.count()).select_from(model)).one()
                for model in STORED}


def send(client: TestClient, role: str, method: str, path: str, body: str | None = None):
    """A request as ``role`` with ``body`` as raw JSON text."""
    headers = client.keys[role] | {"Content-Type": "application/json"}  # type: ignore[attr-defined]
    return client.request(method, path, headers=headers, content=body)


def assert_refused(client: TestClient, answers: list, status: int = 422) -> None:
    """Every answer is ``status`` with a ``{code, message}`` body."""
    for answer in answers:
        assert answer.status_code == status, (answer.request.url, answer.text)
        body = answer.json()
        assert isinstance(body["code"], str) and isinstance(body["message"], str), body


BODIES = {  # role, method, path, body: one field of a valid request replaced by a number JSON cannot carry
    "quote lat": ("rider", "POST", "/v1/quotes", {**TRIP, "origin": "@"}, '{"lat": %s, "lon": 9.52}'),
    "quote lon": ("rider", "POST", "/v1/quotes", {**TRIP, "destination": "@"}, '{"lat": 47.16, "lon": %s}'),
    "quote seats": ("rider", "POST", "/v1/quotes", {**TRIP, "seats": "@"}, "%s"),
    "position": ("driver", "POST", "/v1/driver/positions", {"positions": "@"},
                 '[{"lat": %s, "lon": 9.52, "at": "' + TIME + '"}]'),
    "depot": ("operator", "POST", "/v1/operator/vehicles",
              {"id": "bus-new", "name": "new", "seats": 8, "depot": "@"}, '{"lat": 47.14, "lon": %s}'),
    "rules": ("operator", "PUT", "/v1/operator/rules", {**RULES, "ride_alpha": "@"}, "%s"),
    "area": ("operator", "PUT", "/v1/operator/service-area", {"name": "a", "geojson": "@"},
             '{"type": "Polygon", "coordinates": [[[9.4, 47.0], [9.7, %s], [9.7, 47.3], [9.4, 47.0]]]}'),
}


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_numbers_json_cannot_carry_are_refused_and_nothing_is_written(client, number):
    """NaN, ±Infinity and 1e999 (read as infinity) in a trip's place or seats, a bus position, a depot,
    the rules and the area's coordinates: 422 ``invalid_request`` naming the field, nothing stored."""
    before = stored(client)
    answers = [send(client, role, method, path, json.dumps(body).replace('"@"', template % number))
               for role, method, path, body, template in BODIES.values()]
    assert_refused(client, answers)
    assert all(answer.json()["code"] == "invalid_request" for answer in answers)
    assert all("input" not in problem for answer in answers for problem in answer.json()["detail"])
    assert stored(client) == before


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00",
                                    "1999-12-31T23:00:00Z", "2101-01-01T00:00:00Z"])
def test_times_outside_the_years_2000_to_2100_are_refused(client, moment):
    """A quote's time, a position's time, a shift's start and the KPI period's end in the years 1 and
    9999 (which overflow the clock) or just outside 2000–2100: 422, nothing stored."""
    before = stored(client)
    answers = [
        send(client, "rider", "POST", "/v1/quotes", json.dumps({**TRIP, "time": moment})),
        send(client, "driver", "POST", "/v1/driver/positions",
             json.dumps({"positions": [{**VADUZ, "at": moment}]})),
        send(client, "operator", "POST", "/v1/operator/vehicles/bus-1/shifts",
             json.dumps({"starts_at": moment, "ends_at": TIME})),
        client.get("/v1/operator/kpis", params={"from": TIME, "to": moment},
                   headers=client.keys["operator"]),  # type: ignore[attr-defined]
    ]
    assert_refused(client, answers)
    assert all("2000" in answer.json()["detail"][0]["msg"] for answer in answers)
    assert stored(client) == before


@pytest.mark.parametrize("character", ["\x00", "\n", "\x1b"])
def test_control_characters_in_ids_and_names_are_refused(client, character):
    """NUL (which PostgreSQL cannot even compare), a line break or an escape in an id of the path or the
    query, or in an id or a name of a body: 422, nothing stored."""
    before = stored(client)
    quoted = {"\x00": "%00", "\n": "%0A", "\x1b": "%1B"}[character]
    name = f"a{character}b"
    answers = [
        send(client, "rider", "GET", f"/v1/bookings/a{quoted}b"),
        send(client, "rider", "DELETE", f"/v1/bookings/a{quoted}b"),
        send(client, "operator", "GET", f"/v1/operator/vehicles/a{quoted}b"),
        send(client, "operator", "PATCH", f"/v1/operator/vehicles/a{quoted}b", '{"name": "x"}'),
        send(client, "operator", "GET", f"/v1/driver/route?vehicle_id=a{quoted}b"),
        send(client, "rider", "GET", f"/v1/stops?q=a{quoted}b"),
        send(client, "rider", "POST", "/v1/quotes", json.dumps({**TRIP, "origin": {"stop_id": name}})),
        send(client, "driver", "POST", "/v1/driver/picked-up", json.dumps({"booking_id": name})),
        send(client, "operator", "POST", "/v1/operator/vehicles",
             json.dumps({"id": "bus-new", "name": name, "seats": 8, "depot": VADUZ})),
        send(client, "operator", "POST", "/v1/operator/calendar/exceptions",
             json.dumps({"day": "2026-12-25", "name": name})),
    ]
    assert_refused(client, answers)
    assert stored(client) == before


def test_a_stream_with_nul_in_its_path_is_refused(client):
    """A WebSocket whose path has a NUL is closed before it opens (1008), no lookup is made."""
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect(
            "/v1/bookings/a%00b/stream", headers=client.keys["rider"]):  # type: ignore[attr-defined]
        pass
    assert closed.value.code == 1008


@pytest.mark.parametrize("field", ["max_wait_s", "booking_horizon_s", "ride_beta_s", "offer_validity_s"])
def test_rules_with_oversized_durations_are_refused(client, field):
    """10**20 s (past any database integer) or just over a year in a duration of the rules: 422
    ``invalid_rules`` naming the field; no new rules version."""
    before = stored(client)
    answers = [send(client, "operator", "PUT", "/v1/operator/rules", json.dumps({**RULES, field: value}))
               for value in (10**20, MAX_RULE_S + 1)]
    assert_refused(client, answers)
    assert all(answer.json()["code"] == "invalid_rules" for answer in answers)
    assert all(field in answer.json()["message"] for answer in answers)
    assert stored(client) == before


@pytest.mark.parametrize("body", ['{"origin": ', "{'origin': 1}", "", "[1, 2", '{"a": 1}}'])
def test_malformed_json_is_refused(client, body):
    """A body that is not JSON: 422 ``malformed_json``."""
    answer = send(client, "rider", "POST", "/v1/quotes", body)
    assert_refused(client, [answer])
    assert answer.json()["code"] in ("malformed_json", "invalid_request")
    if body.startswith(("{\"origin\": ", "[1")):
        assert answer.json()["code"] == "malformed_json"


def test_oversized_strings_numbers_and_bodies_are_refused(client):
    """A vehicle name of 121 characters, a quote id of 65, 10**20 seats, a simulation seed of 10**20 and a
    thousand and one positions: 422; a body over the 1 MiB limit: 413; nothing stored."""
    before = stored(client)
    answers = [
        send(client, "operator", "POST", "/v1/operator/vehicles",
             json.dumps({"id": "bus-new", "name": "x" * 121, "seats": 8, "depot": VADUZ})),
        send(client, "rider", "POST", "/v1/bookings", json.dumps({"quote_id": "q" * 65})),
        send(client, "rider", "POST", "/v1/quotes", json.dumps({**TRIP, "seats": 10**20})),
        send(client, "operator", "POST", "/v1/operator/simulations",
             json.dumps({"requests": 1, "seed": 10**20})),
        send(client, "driver", "POST", "/v1/driver/positions",
             json.dumps({"positions": [{**VADUZ, "at": TIME}] * 1001})),
    ]
    assert_refused(client, answers)
    large = send(client, "operator", "PUT", "/v1/operator/service-area",
                 json.dumps({"name": "x" * (1024 * 1024), "geojson": {}}))
    assert_refused(client, [large], status=413)
    assert stored(client) == before


def test_the_same_requests_without_the_bad_part_are_served(client):
    """The control: the valid trip is quoted and the valid rules are taken, so the refusals above are the
    bad parts' doing."""
    assert send(client, "rider", "POST", "/v1/quotes", json.dumps(TRIP)).status_code == 200
    assert send(client, "operator", "PUT", "/v1/operator/rules", json.dumps(RULES)).status_code == 200
