"""Live streams in one process (no Redis): the drivers', riders' and operators' WebSockets receive the
plan's changes as the API makes them (api.live, api.routes.live). The app, its bus and its users are
those of tests/api/test_driver_api.py."""

from __future__ import annotations

import pytest
from sqlmodel import Session
from starlette.websockets import WebSocketDisconnect

from api.auth import create_user
from api.live import store as store_module
from api.live.forwarding import forwardable
from api.live.hub import Hub
from api.live.store import MemoryLiveStore
from tests.api.test_driver_api import (  # noqa: F401 (CLIENT: the drivers' tests' app)
    CLIENT,
    book,
    driver_post,
    show_riders_the_bus_from,
)

MAX_MESSAGES = 20


def until(websocket, kind: str) -> dict:
    """The next message of ``kind`` (skipping others, at most MAX_MESSAGES)."""
    for _ in range(MAX_MESSAGES):
        message = websocket.receive_json()
        if message["kind"] == kind:
            return message
    raise AssertionError(f"no {kind} message among {MAX_MESSAGES}")


def test_a_booking_pushes_the_new_route_to_the_driver(client):
    """The driver's stream starts with bus-1's (empty) route; a rider's booking then pushes a
    route_changed message with a newer plan version whose stops are that booking's pickup and drop-off,
    with the road geometry."""
    with client.websocket_connect("/v1/driver/stream", headers=client.keys["driver"]) as websocket:
        first = websocket.receive_json()
        assert first["kind"] == "route" and first["vehicle_id"] == "bus-1"
        assert first["route"]["stops"] == []
        booking = book(client)
        changed = until(websocket, "route_changed")
    assert changed["vehicle_id"] == "bus-1" and changed["plan_version"] > first["plan_version"]
    stops = changed["route"]["stops"]
    assert [(s["kind"], s["booking_id"]) for s in stops] == [
        ("pickup", booking["id"]),
        ("dropoff", booking["id"]),
    ]
    assert len(changed["route"]["geometry"]["coordinates"]) >= 2
    assert [b["id"] for b in changed["bookings"]] == [booking["id"]]


def test_a_reconnecting_driver_gets_the_route_in_force_first(client):
    """After a booking, a driver who connects with a ticket (as browsers do: POST /v1/auth/ws-ticket, then
    ``?ticket=``) gets the route with the booking's stops as the first message."""
    booking = book(client)
    ticket = client.post("/v1/auth/ws-ticket", headers=client.keys["driver"]).json()["ticket"]
    with client.websocket_connect(f"/v1/driver/stream?ticket={ticket}") as websocket:
        first = websocket.receive_json()
    assert first["kind"] == "route"
    assert {s["booking_id"] for s in first["route"]["stops"]} == {booking["id"]}


def test_the_rider_sees_the_booking_move_through_the_day(client, app_clock):
    """The rider's booking stream starts with the booked view (planned pickup, bus position); when the
    driver reports the pickup the stream says rider_picked_up with the status picked_up. (The bus is
    shown from two hours before the pickup here.)"""
    show_riders_the_bus_from(client, 120)
    booking = book(client)
    with client.websocket_connect(
        f"/v1/bookings/{booking['id']}/stream", headers=client.keys["rider"]
    ) as websocket:
        first = websocket.receive_json()
        assert first["kind"] == "booking" and first["booking"]["status"] == "booked"
        assert first["booking"]["planned_pickup"] is not None
        assert set(first["booking"]["vehicle_position"]) == {"lat", "lon"}
        app_clock.moment = app_clock.moment.replace(hour=9, minute=10)
        assert driver_post(client, "arrived").status_code == 204
        assert driver_post(client, "picked-up", booking["id"]).status_code == 204
        picked = until(websocket, "rider_picked_up")
    assert picked["booking"]["id"] == booking["id"] and picked["booking"]["status"] == "picked_up"


def test_positions_reach_the_operators_stream(client):
    """A driver's GPS report is pushed to operators as vehicle_moved with the snapped position."""
    with client.websocket_connect("/v1/operator/stream", headers=client.keys["operator"]) as websocket:
        assert websocket.receive_json()["kind"] == "fleet"
        report = {"positions": [{"lat": 47.1650, "lon": 9.5090, "at": "2026-11-23T08:00:00+01:00"}]}
        assert (
            client.post("/v1/driver/positions", json=report, headers=client.keys["driver"]).status_code == 202
        )
        moved = until(websocket, "vehicle_moved")
    assert moved["vehicle_id"] == "bus-1"
    assert moved["position"]["lat"] == pytest.approx(47.1650, abs=0.005)
    assert moved["position"]["lon"] == pytest.approx(9.5090, abs=0.005)


@pytest.mark.parametrize(
    ("path", "user", "code"),
    [
        ("/v1/driver/stream", None, 4401),
        ("/v1/driver/stream", "rider", 4403),
        ("/v1/operator/stream", "driver", 4403),
        ("/v1/bookings/nope/stream", "rider", 4404),
    ],
)
def test_streams_refuse_wrong_keys_and_roles(client, path, user, code):
    """A stream without a valid key closes with 4401, for a role it is not for with 4403, for an unknown
    booking with 4404."""
    headers = client.keys[user] if user else {"Authorization": "Bearer wrong"}
    with (
        client.websocket_connect(path, headers=headers) as websocket,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        websocket.receive_json()
    assert closed.value.code == code


def test_another_riders_booking_stream_is_refused(client):
    """A rider cannot follow someone else's booking: 4404, as for an unknown one."""
    booking = book(client)
    with Session(client.app.state.engine) as session:
        other = create_user(session, name="other", role="rider")[1]
    with client.websocket_connect(
        f"/v1/bookings/{booking['id']}/stream", headers={"Authorization": f"Bearer {other}"}
    ) as websocket, pytest.raises(WebSocketDisconnect) as closed:
        websocket.receive_json()
    assert closed.value.code == 4404


def test_only_plan_requests_are_forwarded_to_the_dispatcher():
    """Requests under /v1/ reach the dispatcher; WebSocket streams, stops and the caller's identity are
    answered by any worker; pages outside /v1/ too."""
    def scope(path: str, kind: str = "http") -> dict:
        return {"type": kind, "path": path}

    assert forwardable(scope("/v1/quotes")) and forwardable(scope("/v1/operator/fleet"))
    assert not forwardable(scope("/v1/driver/stream", "websocket"))
    assert not forwardable(scope("/v1/stops")) and not forwardable(scope("/v1/me"))
    assert not forwardable(scope("/health")) and not forwardable(scope("/docs"))


def test_a_single_process_keeps_a_bounded_number_of_booking_views(monkeypatch):
    """The in-memory store forgets the least recently updated booking view beyond its bound."""
    monkeypatch.setattr(store_module, "MEMORY_BOOKINGS", 3)
    store = MemoryLiveStore(Hub())
    for name in ("a", "b", "c"):
        store.put_booking(name, {"id": name})
    store.put_booking("a", {"id": "a", "status": "picked_up"})
    store.put_booking("d", {"id": "d"})
    assert store.booking("b") is None
    assert [store.booking(k) for k in ("a", "c", "d")] == [{"id": "a", "status": "picked_up"}, {"id": "c"},
                                                            {"id": "d"}]
