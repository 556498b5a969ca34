"""Fares through the real app (api.routes.tariff, api.services.tariff): the operator's tariff priced into
every offer, kept by the booking through a tariff change and a restart, shown to the rider, the desk and
the driver's manifest — on SQLite and PostgreSQL; zone tariffs; passengers by category; invalid tariffs
and passenger lists refused with 422 (who may call what: tests/api/test_auth.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.app import create_app
from api.auth import create_user
from api.clock import ServiceClock
from api.settings import Settings
from tests.api.conftest import NOW, OPERATOR, RIDER, SCHAAN, VADUZ, ZONE, AppSetup
from tests.api.test_plan_change import database_url  # noqa: F401 (fixture: SQLite file or PostgreSQL schema)

TARIFF = "/v1/operator/tariff"
DISTANCE = {"currency": "EUR", "scheme": {"kind": "distance", "base_cents": 200, "per_km_cents": 100},
            "concessions": {"child": 50, "companion": 100}}
CLIENT = AppSetup(settings={"demo_buses": 1}, users=(RIDER, OPERATOR))


def trip(minutes: int, **passengers: int) -> dict:
    """A quote body from Vaduz to Schaan ``minutes`` after 09:00 today, for ``passengers`` by category
    (none given: the default, one adult)."""
    body = {"origin": VADUZ, "destination": SCHAAN, "time_type": "leave_after",
            "time": (NOW.replace(hour=9) + timedelta(minutes=minutes)).isoformat()}
    return body | ({"passengers": passengers} if passengers else {})


def direct_metres(client: TestClient) -> int:
    """The road metres from the curb the bus stops at in Vaduz to the one in Schaan."""
    network = client.app.state.network  # type: ignore[attr-defined]
    snapped = network.snap_to_curb([VADUZ["lat"], SCHAAN["lat"]], [VADUZ["lon"], SCHAAN["lon"]])
    return network.travel(int(snapped.node[0]), int(snapped.node[1]))[1]


@pytest.fixture
def open_app(database_url: str) -> Callable[[], AbstractContextManager[TestClient]]:  # noqa: F811
    """Opens the app with one bus (bus-1) on this test's database; opened again, it finds the same
    database (a restart). Keys of a rider, bus-1's driver and an operator in ``client.keys``."""

    @contextmanager
    def opened() -> Iterator[TestClient]:
        app = create_app(Settings(database_url=database_url, demo_buses=1),
                         clock=ServiceClock(ZONE, wall_clock=lambda: NOW))
        with TestClient(app) as test_client, Session(app.state.engine) as session:
            test_client.keys = {  # type: ignore[attr-defined]
                name: {"Authorization":
                       f"Bearer {create_user(session, name=name, role=role, vehicle_id=bus)[1]}"}
                for name, role, bus in (("rider", "rider", None), ("driver", "driver", "bus-1"),
                                        ("operator", "operator", None))}
            yield test_client

    return opened


def test_a_booking_keeps_the_fare_it_was_offered_through_a_tariff_change_and_a_restart(open_app):
    """No tariff: the offer has no fare. With 2.00 + 1.00/km, a child at 50 % and a companion free, the
    offer prices each category by the direct road distance; the booking keeps that fare after the tariff
    doubles (a new offer costs the new price) — in the rider's booking, its stream's first message, the
    list, the desk's detail and the driver's manifest at the pickup, also after a restart."""
    with open_app() as client:
        rider, operator, driver = (client.keys[n] for n in ("rider", "operator", "driver"))
        unpriced = client.post("/v1/quotes", json=trip(0), headers=rider)
        assert unpriced.status_code == 200, unpriced.text
        assert unpriced.json()["fare"] is None
        assert client.get(TARIFF, headers=operator).json() == {"tariff": None, "version": None,
                                                                "valid_from": None}
        stored = client.put(TARIFF, json=DISTANCE, headers=operator)
        assert stored.status_code == 200, stored.text
        assert stored.json()["version"] == 1 and stored.json()["tariff"]["scheme"]["per_km_cents"] == 100

        adult = 200 + round(direct_metres(client) / 10)  # 1.00 per km = 1 cent per 10 m, to the cent
        offer = client.post("/v1/quotes", json=trip(20, adult=1, child=1, companion=1), headers=rider).json()
        fare = offer["fare"]
        assert fare["currency"] == "EUR" and fare["tariff_version"] == 1
        assert [(line["category"], line["count"], line["unit_cents"]) for line in fare["lines"]] == [
            ("adult", 1, adult), ("child", 1, (adult + 1) // 2), ("companion", 1, 0)]
        assert fare["total_cents"] == adult + (adult + 1) // 2

        booked = client.post("/v1/bookings", json={"quote_id": offer["quote_id"]},
                             headers=rider | {"Idempotency-Key": "fare-1"})
        assert booked.status_code == 201, booked.text
        assert booked.json()["fare"] == fare
        doubled = DISTANCE | {"scheme": {"kind": "distance", "base_cents": 400, "per_km_cents": 200}}
        assert client.put(TARIFF, json=doubled, headers=operator).json()["version"] == 2

        booking_id = booked.json()["id"]
        assert client.get(f"/v1/bookings/{booking_id}", headers=rider).json()["fare"] == fare
        with client.websocket_connect(f"/v1/bookings/{booking_id}/stream", headers=rider) as stream:
            assert stream.receive_json()["booking"]["fare"] == fare
        assert client.get("/v1/bookings", headers=rider).json()["items"][0]["fare"] == fare
        assert client.get(f"/v1/operator/bookings/{booking_id}", headers=operator).json()["fare"] == fare
        assert pickup_fare(client, driver, booking_id) == fare
        again = client.post("/v1/quotes", json=trip(40), headers=rider).json()["fare"]
        assert again["tariff_version"] == 2 and again["total_cents"] == 2 * adult
    with open_app() as restarted:
        assert pickup_fare(restarted, restarted.keys["driver"], booking_id) == fare
        assert restarted.get(f"/v1/bookings/{booking_id}", headers=restarted.keys["operator"]
                             ).json()["fare"] == fare


def pickup_fare(client: TestClient, driver: dict[str, str], booking_id: str) -> dict | None:
    """What the driver's manifest says to collect at ``booking_id``'s pickup."""
    route = client.get("/v1/driver/route", headers=driver)
    assert route.status_code == 200, route.text
    [pickup] = [s for s in route.json()["stops"] if s["booking_id"] == booking_id and s["kind"] == "pickup"]
    return pickup["fare"]


def _square(name: str, point: dict[str, float], half: float = 0.01) -> dict:
    lat, lon = point["lat"], point["lon"]
    return {"name": name, "polygon": [[lon - half, lat - half], [lon + half, lat - half],
                                      [lon + half, lat + half], [lon - half, lat + half]]}


def test_a_zone_tariff_prices_by_the_matrix_and_leaves_a_trip_out_of_its_zones_unpriced(module_client):
    """Vaduz → Schaan costs the matrix's price in CHF with seniors at 20 % rounded to 5 Rappen; with the
    Schaan zone moved away the trip has no fare (an end outside every zone)."""
    operator, rider = module_client.keys["operator"], module_client.keys["rider"]
    zones = [_square("Vaduz", VADUZ), _square("Schaan", SCHAAN)]
    matrix = {"Vaduz": {"Vaduz": 300, "Schaan": 420}, "Schaan": {"Vaduz": 420, "Schaan": 300}}
    body = {"currency": "CHF", "scheme": {"kind": "zones", "zones": zones, "matrix": matrix},
            "concessions": {"senior": 20}}
    assert module_client.put(TARIFF, json=body, headers=operator).status_code == 200
    offer = module_client.post("/v1/quotes", json=trip(60, senior=2, wheelchair=1), headers=rider).json()
    fare = offer["fare"]
    assert fare["currency"] == "CHF"
    assert [(line["category"], line["unit_cents"], line["total_cents"]) for line in fare["lines"]] == [
        ("senior", 335, 670), ("wheelchair", 420, 420)]  # 420 × 0.8 = 336 → 335 (5 Rappen)
    far = _square("Schaan", {"lat": 47.05, "lon": 9.50})
    body["scheme"]["zones"] = [zones[0], far]
    assert module_client.put(TARIFF, json=body, headers=operator).status_code == 200
    assert module_client.post("/v1/quotes", json=trip(80), headers=rider).json()["fare"] is None


BAD_TARIFFS = {
    "negative price": {"scheme": {"kind": "distance", "base_cents": -1, "per_km_cents": 100}},
    "huge price": {"scheme": {"kind": "distance", "base_cents": 10**30, "per_km_cents": 100}},
    "fractional cents": {"scheme": {"kind": "distance", "base_cents": 2.5, "per_km_cents": 100}},
    "unknown category": {"scheme": {"kind": "distance", "base_cents": 1, "per_km_cents": 1},
                         "concessions": {"dog": 50}},
    "adult concession": {"scheme": {"kind": "distance", "base_cents": 1, "per_km_cents": 1},
                         "concessions": {"adult": 10}},
    "over 100 percent": {"scheme": {"kind": "distance", "base_cents": 1, "per_km_cents": 1},
                         "concessions": {"child": 101}},
    "cap below minimum": {"scheme": {"kind": "distance", "base_cents": 1, "per_km_cents": 1,
                                     "minimum_cents": 500, "cap_cents": 400}},
    "off the rounding step": {"currency": "CHF", "scheme": {"kind": "distance", "base_cents": 1,
                                                            "per_km_cents": 1, "minimum_cents": 302}},
    "step below the coin": {"currency": "CHF", "rounding_cents": 3,
                            "scheme": {"kind": "distance", "base_cents": 1, "per_km_cents": 1}},
    "unknown currency": {"currency": "XYZ",
                         "scheme": {"kind": "distance", "base_cents": 1, "per_km_cents": 1}},
    "unknown scheme": {"scheme": {"kind": "weather", "base_cents": 1}},
    "incomplete matrix": {"scheme": {"kind": "zones", "zones": [_square("A", VADUZ), _square("B", SCHAAN)],
                                     "matrix": {"A": {"A": 100, "B": 200}}}},
    "matrix and count": {"scheme": {"kind": "zones", "zones": [_square("A", VADUZ)],
                                    "matrix": {"A": {"A": 100}}, "by_count_cents": [100]}},
    "twin zones": {"scheme": {"kind": "zones", "zones": [_square("A", VADUZ), _square("A", SCHAAN)],
                              "by_count_cents": [100]}},
    "NUL in a zone name": {"scheme": {"kind": "zones", "zones": [_square("A\u0000", VADUZ)],
                                      "by_count_cents": [100]}},
    "too many corners": {"scheme": {"kind": "zones", "by_count_cents": [100], "zones": [
        {"name": f"Z{k}", "polygon": [[9.5 + i / 1e4, 47.1 + (i % 2) / 1e3] for i in range(1000)]}
        for k in range(6)]}},
    "corner off the globe": {"scheme": {"kind": "zones", "zones": [
        {"name": "A", "polygon": [[0, 0], [1, 0], [500, 1]]}], "by_count_cents": [100]}},
}


@pytest.mark.parametrize("case", list(BAD_TARIFFS))
def test_an_invalid_tariff_is_refused_with_422_and_changes_nothing(module_client, case):
    """Each invalid tariff answers 422 ``invalid_request`` and the tariff in force stays as it was."""
    operator = module_client.keys["operator"]
    before = module_client.get(TARIFF, headers=operator).json()
    answer = module_client.put(TARIFF, json=BAD_TARIFFS[case], headers=operator)
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "invalid_request"
    assert module_client.get(TARIFF, headers=operator).json() == before


@pytest.mark.parametrize("raw", ['{"scheme": {"kind": "distance", "base_cents": NaN, "per_km_cents": 1}}',
                                 '{"scheme": {"kind": "distance", "base_cents": 1, '
                                 '"per_km_cents": Infinity}}',
                                 '{"scheme": {"kind": "distance", "base_cents": 1e999, "per_km_cents": 1}}'])
def test_a_tariff_with_a_number_json_cannot_carry_is_refused_with_422(module_client, raw):
    """NaN, Infinity and 1e999 are 422, never a stored price."""
    answer = module_client.put(TARIFF, content=raw, headers=module_client.keys["operator"]
                               | {"Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text


@pytest.mark.parametrize("passengers", [{"dog": 1}, {"adult": 0}, {"adult": 51}, {"adult": -1},
                                        {"wheelchair": 11}])
def test_a_quote_with_an_unknown_category_or_impossible_count_is_refused_with_422(module_client, passengers):
    """Unknown categories, nobody, too many or negative counts: 422 before any dispatch work."""
    answer = module_client.post("/v1/quotes", json=trip(100) | {"passengers": passengers},
                                headers=module_client.keys["rider"])
    assert answer.status_code == 422, answer.text


def test_seats_given_with_passengers_must_agree_with_them(module_client):
    """``seats`` and ``wheelchairs`` next to ``passengers`` must count the same people (422 otherwise);
    left out, they follow from the passengers."""
    rider = module_client.keys["rider"]
    mismatch = trip(120, adult=1, child=1) | {"seats": 3}
    assert module_client.post("/v1/quotes", json=mismatch, headers=rider).status_code == 422
    agreeing = trip(120, adult=1, wheelchair=1, companion=1) | {"seats": 2, "wheelchairs": 1}
    assert module_client.post("/v1/quotes", json=agreeing, headers=rider).status_code == 200
