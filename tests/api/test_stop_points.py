"""Where the bus stops for a rider: the offer, the booking and the driver's route carry the curb points
(position, street, walk), and a booking shows them after a restart, on SQLite and on PostgreSQL."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from api.app import create_app
from api.clock import ServiceClock
from api.db.models import Booking
from api.db.session import create_db_engine
from api.services.stop_points import kept_points
from api.settings import Settings
from routing.geo import EARTH_RADIUS_M
from tests.api.conftest import DRIVER, NOW, RIDER, VADUZ, ZONE, AppSetup, open_client, user_keys

SETUP = AppSetup({"demo_buses": 1}, (RIDER, DRIVER))
# Half-way along Schaaner/Benderer Strasse, 3.2 km between junctions: before curbside points the bus
# went to a junction 1.6 km away.
MID_ROAD = {"lat": 47.19625, "lon": 9.50232}
CURB_LIMIT_M = 30.0  # half the longest road piece (RoutingSettings.max_edge_m = 60 m)


def metres(a: dict, b: dict) -> float:
    """Straight-line distance between two points with lat/lon."""
    dy = np.radians(b["lat"] - a["lat"]) * EARTH_RADIUS_M
    dx = np.radians(b["lon"] - a["lon"]) * EARTH_RADIUS_M * np.cos(np.radians(a["lat"]))
    return float(np.hypot(dx, dy))


def quote_and_book(client: TestClient, origin: dict, destination: dict) -> tuple[dict, dict]:
    """The rider's offer for origin → destination leaving after 09:00, and the booking made from it."""
    rider = client.keys["rider"]  # type: ignore[attr-defined]
    body = {"origin": origin, "destination": destination, "time_type": "leave_after",
            "time": NOW.replace(hour=9).isoformat(), "seats": 1, "wheelchairs": 0}
    offer = client.post("/v1/quotes", json=body, headers=rider)
    assert offer.status_code == 200, offer.text
    quote_id = offer.json()["quote_id"]
    booked = client.post("/v1/bookings", json={"quote_id": quote_id},
                         headers=rider | {"Idempotency-Key": "k"})
    assert booked.status_code == 201, booked.text
    return offer.json(), booked.json()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database for the app: a SQLite file, or a fresh schema on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'rufbus.sqlite3'}"
        return
    server_url = request.getfixturevalue("postgres_url")
    schema = f"rufbus_test_{secrets.token_hex(6)}"
    admin = create_db_engine(server_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield make_url(server_url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def app_on(database_url: str, users: bool) -> Iterator[TestClient]:
    """The app with one bus on ``database_url``, the clock at :data:`NOW` (users created if ``users``)."""
    app = create_app(Settings(database_url=database_url, demo_buses=1), clock=ServiceClock(ZONE, lambda: NOW))
    with TestClient(app) as client:
        client.keys = user_keys(client, SETUP.users if users else ())  # type: ignore[attr-defined]
        yield client


def test_offer_and_booking_say_where_the_bus_stops_and_how_far_the_rider_walks(tmp_path: Path) -> None:
    """From the middle of a 3.2 km road to Vaduz: the pickup is on that road within 30 m walk of the
    rider (not at a junction 1.6 km away), with its street; the drop-off near Vaduz's point; the
    booking carries the same points as the offer."""
    with open_client(tmp_path, SETUP) as client:
        offer, booking = quote_and_book(client, MID_ROAD, VADUZ)
    pickup, dropoff = offer["pickup"], offer["dropoff"]
    assert pickup["street"] == "Benderer Strasse / Schaaner Strasse"
    assert metres(MID_ROAD, pickup) <= pickup["walk_m"] + 1 <= CURB_LIMIT_M + 2
    assert isinstance(dropoff["street"], str) and dropoff["street"] != ""
    assert metres(VADUZ, dropoff) <= dropoff["walk_m"] + 1
    assert (booking["pickup"], booking["dropoff"]) == (pickup, dropoff)


def test_the_drivers_route_shows_the_stop_points_and_their_streets(tmp_path: Path) -> None:
    """The driver's pickup and drop-off stops are at the booking's points, on the same streets."""
    with open_client(tmp_path, SETUP) as client:
        _, booking = quote_and_book(client, MID_ROAD, VADUZ)
        route = client.get("/v1/driver/route", headers=client.keys["driver"]).json()  # type: ignore[attr-defined]
    stops = {stop["kind"]: stop for stop in route["stops"] if stop["booking_id"] == booking["id"]}
    for kind in ("pickup", "dropoff"):
        stop, point = stops[kind], booking[kind]
        assert (stop["lat"], stop["lon"], stop["street"]) == (point["lat"], point["lon"], point["street"])


def test_a_booking_shows_its_stop_points_after_a_restart(database_url: str) -> None:
    """Booked, the service stopped and started again on the same database: the booking reads back with
    the pickup and drop-off points it was booked with (SQLite and PostgreSQL)."""
    with app_on(database_url, users=True) as client:
        _, booking = quote_and_book(client, MID_ROAD, VADUZ)
        rider = client.keys["rider"]  # type: ignore[attr-defined]
    with app_on(database_url, users=False) as client:
        again = client.get(f"/v1/bookings/{booking['id']}", headers=rider)
    assert again.status_code == 200, again.text
    assert again.json()["pickup"] == booking["pickup"] and again.json()["dropoff"] == booking["dropoff"]
    assert again.json()["pickup"]["walk_m"] <= CURB_LIMIT_M + 1


def test_a_booking_made_before_stop_points_were_kept_has_none() -> None:
    """A row without stored points (booked before migration 0006) reads back with no pickup or drop-off
    point rather than made-up ones."""
    assert kept_points(Booking(id="older")) == (None, None)
