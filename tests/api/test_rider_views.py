"""One view of a booking for its rider, and one look-up of API keys, for REST and WebSocket alike
(api.services.booking_view, api.deps.user_of_key). The app, its bus and its users are those of
tests/api/test_driver_api.py."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.auth import KeyCache
from tests.api import test_driver_api
from tests.api.conftest import MovableClock
from tests.api.test_driver_api import book, driver_post

CLIENT = test_driver_api.CLIENT  # the drivers' app: one bus, a rider, its driver and an operator


def bare_key(client: TestClient, name: str) -> str:
    """The bare API key of the test user ``name``."""
    return client.keys[name]["Authorization"].removeprefix("Bearer ")  # type: ignore[attr-defined]


def test_the_rider_stream_opens_with_the_booking_as_rest_shows_it(client: TestClient,
                                                                  app_clock: MovableClock) -> None:
    """Booked, then picked up: each time, the first message of the rider's stream carries exactly the
    body of GET /v1/bookings/{id} (promise, status, estimates, bus position), and the pushed update
    after the pickup agrees with it on every live field."""
    booking = book(client)
    rider = client.keys["rider"]  # type: ignore[attr-defined]
    path = f"/v1/bookings/{booking['id']}"
    with client.websocket_connect(f"{path}/stream", headers=rider) as websocket:
        assert websocket.receive_json()["booking"] == client.get(path, headers=rider).json()
        app_clock.moment = app_clock.moment.replace(hour=9, minute=10)
        assert driver_post(client, "arrived").status_code == 204
        assert driver_post(client, "picked-up", booking["id"]).status_code == 204
        pushed = next(m for m in iter(websocket.receive_json, None) if m["kind"] == "rider_picked_up")
    read = client.get(path, headers=rider).json()
    assert read["status"] == "picked_up"
    assert pushed["booking"] == {name: read[name] for name in pushed["booking"]}
    with client.websocket_connect(f"{path}/stream", headers=rider) as websocket:
        assert websocket.receive_json()["booking"] == read


def test_a_stream_finds_its_caller_through_the_http_key_cache(client: TestClient) -> None:
    """A driver's stream opened with a key no HTTP request has used yet leaves that key in the app's key
    cache, as an HTTP request would; a key the cache holds opens the stream too."""
    keys: KeyCache = client.app.state.keys  # type: ignore[attr-defined]
    driver = bare_key(client, "driver")
    assert keys.get(driver) is None
    auth = {"Authorization": f"Bearer {driver}"}
    with client.websocket_connect("/v1/driver/stream", headers=auth) as websocket:
        assert websocket.receive_json()["kind"] == "route"
    cached = keys.get(driver)
    assert cached is not None and cached.vehicle_id == "bus-1"
    with client.websocket_connect("/v1/driver/stream",
                                  headers=client.keys["driver"]) as websocket:  # type: ignore[attr-defined]
        assert websocket.receive_json()["vehicle_id"] == "bus-1"
