"""The riders' API in process (TestClient) on a temporary SQLite database and a fixed clock:
quotes, idempotent bookings, look-up, cancellation and the error answers, as one rider with an API key
(who may call what: tests/api/test_auth.py)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from api.app import create_app
from api.auth import create_user
from api.clock import ServiceClock
from api.db.models import Booking
from api.settings import Settings
from tests.api.conftest import NOW, SCHAAN, VADUZ, ZONE, ZURICH, AppSetup

# One app for the module, with a rider whose key the client sends.
CLIENT = AppSetup(users=(("Rider", "rider", None),))
MOUNTAINS = {"lat": 47.16, "lon": 9.60}  # inside the service area, 4.5 km from the nearest drivable road


@pytest.fixture(scope="module")
def client(module_client: TestClient) -> TestClient:
    """The module's app, the clock standing at 08:00 local on 23 November 2026; the client sends the
    rider's API key."""
    rider: dict[str, str] = module_client.keys["Rider"]  # type: ignore[attr-defined]
    module_client.headers["Authorization"] = rider["Authorization"]
    return module_client


def trip(hour: int = 9, minute: int = 0, origin=VADUZ, destination=SCHAAN, **extra) -> dict:
    """A quote body: leave after hour:minute today, one seat."""
    moment = NOW.replace(hour=hour, minute=minute)
    return {"origin": origin, "destination": destination, "time_type": "leave_after",
            "time": moment.isoformat(), "seats": 1, "wheelchairs": 0, **extra}


def quote_id(client: TestClient, **kwargs) -> str:
    """Ask for a quote that must get an offer; its id."""
    answer = client.post("/v1/quotes", json=trip(**kwargs))
    assert answer.status_code == 200, answer.text
    return answer.json()["quote_id"]


def booking_rows(client: TestClient, booking_id: str) -> int:
    """How many booking rows have ``booking_id``."""
    with Session(client.app.state.engine) as session:
        return session.exec(select(func.count()).select_from(Booking).where(Booking.id == booking_id)).one()


def test_quote_book_read_and_cancel_a_trip(client):
    """Vaduz → Schaan at 09:00: the offer's window contains its planned pickup, booking answers 201, the
    booking reads back with its bus and estimates, cancelling answers the cancelled booking, and a
    second cancel is refused with 409 not_cancellable."""
    offer = client.post("/v1/quotes", json=trip()).json()
    window = offer["pickup_window"]
    assert window["start"] <= offer["planned_pickup"] <= window["end"]
    assert datetime.fromisoformat(window["start"]) >= NOW.replace(hour=9)
    assert offer["planned_pickup"] < offer["estimated_arrival"] <= offer["latest_arrival"]

    booked = client.post("/v1/bookings", json={"quote_id": offer["quote_id"]},
                         headers={"Idempotency-Key": "k-1"})
    assert booked.status_code == 201, booked.text
    booking = booked.json()
    assert booking["status"] == "booked" and booking["vehicle_id"].startswith("bus-")
    assert booking["pickup_window"] == window

    read = client.get(f"/v1/bookings/{booking['id']}").json()
    assert read["status"] == "booked" and read["vehicle_id"] == booking["vehicle_id"]
    assert window["start"] <= read["planned_pickup"] <= window["end"]
    assert read["estimated_arrival"] <= read["latest_arrival"]

    cancelled = client.delete(f"/v1/bookings/{booking['id']}")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert client.get(f"/v1/bookings/{booking['id']}").json()["status"] == "cancelled"
    again = client.delete(f"/v1/bookings/{booking['id']}")
    assert again.status_code == 409 and again.json()["code"] == "not_cancellable"


def test_a_retried_booking_returns_the_same_booking_and_books_once(client):
    """Posting the same quote twice with the same Idempotency-Key answers 201 then 200 with the same
    booking; one row exists and the dispatcher booked it once."""
    first_id = quote_id(client, hour=10)
    first = client.post("/v1/bookings", json={"quote_id": first_id}, headers={"Idempotency-Key": "retry-1"})
    retry = client.post("/v1/bookings", json={"quote_id": first_id}, headers={"Idempotency-Key": "retry-1"})
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json() == first.json()
    assert booking_rows(client, first_id) == 1
    assert list(client.app.state.dispatch.dispatcher.plan.bookings()).count(first_id) == 1


def test_an_idempotency_key_cannot_book_a_second_quote(client):
    """A key already used for one quote is refused (409 idempotency_key_reused) for another."""
    first = client.post("/v1/bookings", json={"quote_id": quote_id(client, hour=11)},
                        headers={"Idempotency-Key": "once"})
    assert first.status_code == 201
    other = client.post("/v1/bookings", json={"quote_id": quote_id(client, hour=11, minute=30)},
                        headers={"Idempotency-Key": "once"})
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"


def test_a_booking_needs_an_idempotency_key(client):
    """Without the Idempotency-Key header the booking is a 422 invalid_request."""
    answer = client.post("/v1/bookings", json={"quote_id": quote_id(client, hour=12)})
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_request"


def test_a_point_outside_the_service_area_is_refused_outside_area(client):
    """Zürich lies outside Liechtenstein's service area: refused (409) like any trip the service cannot
    take."""
    answer = client.post("/v1/quotes", json=trip(destination=ZURICH))
    assert answer.status_code == 409 and answer.json()["alternatives"] == []
    assert answer.json()["code"] == "outside_area" and "outside the service area" in answer.json()["message"]


def test_a_point_far_from_any_road_is_refused_off_road(client):
    """A pickup in the mountains east of Vaduz is inside the area but beyond the snapping limit: refused
    (409) like any trip the service cannot take."""
    answer = client.post("/v1/quotes", json=trip(origin=MOUNTAINS))
    assert answer.status_code == 409 and answer.json()["alternatives"] == []
    assert answer.json()["code"] == "off_road" and "nearest drivable road" in answer.json()["message"]


def test_malformed_json_is_422_with_a_code(client):
    """A body that is not JSON gets code malformed_json; a naive time gets invalid_request with detail."""
    broken = client.post("/v1/quotes", content=b'{"origin": ', headers={"Content-Type": "application/json"})
    assert broken.status_code == 422 and broken.json()["code"] == "malformed_json"
    naive = client.post("/v1/quotes", json=trip() | {"time": "2026-11-23T09:00:00"})
    assert naive.status_code == 422 and naive.json()["code"] == "invalid_request"
    assert naive.json()["detail"][0]["loc"] == ["body", "time"]


def test_an_unknown_booking_is_404(client):
    """Reading or cancelling a booking id nobody made answers 404 unknown_booking."""
    for answer in (client.get("/v1/bookings/nope"), client.delete("/v1/bookings/nope")):
        assert answer.status_code == 404 and answer.json()["code"] == "unknown_booking"


def test_same_origin_and_destination_is_refused_with_its_cause(client):
    """A trip from Vaduz centre to Vaduz centre gets no offer: 409 same_origin_destination."""
    answer = client.post("/v1/quotes", json=trip(destination=VADUZ))
    assert answer.status_code == 409
    assert answer.json()["code"] == "same_origin_destination" and answer.json()["alternatives"] == []


def test_a_time_in_the_past_is_refused_with_its_cause(client):
    """Leaving after 06:00 when it is 08:00 is refused: 409 time_in_past."""
    answer = client.post("/v1/quotes", json=trip(hour=6))
    assert answer.status_code == 409 and answer.json()["code"] == "time_in_past"


def test_booking_an_unknown_quote_is_404(client):
    """A quote id that was never offered answers 404 unknown_offer and writes nothing."""
    answer = client.post("/v1/bookings", json={"quote_id": "never-quoted"},
                         headers={"Idempotency-Key": "k-404"})
    assert answer.status_code == 404 and answer.json()["code"] == "unknown_offer"
    assert booking_rows(client, "never-quoted") == 0


def test_a_failed_database_write_undoes_the_booking_in_the_dispatcher(client, monkeypatch):
    """When saving the booking fails, the answer is 503 with the persistence code, no row is written and
    the plan is as before the booking: the dispatcher holds no booking, its bus's route does not serve it,
    and the quote is still open."""
    from api.db.repository import IntegrityViolation
    from api.services import booking as service

    def refuse(*_args, **_kwargs):
        raise IntegrityViolation("the database is unhappy")

    request_id = quote_id(client, hour=13)
    monkeypatch.setattr(service, "save_booking", refuse)
    answer = client.post("/v1/bookings", json={"quote_id": request_id}, headers={"Idempotency-Key": "k-503"})
    assert answer.status_code == 503 and answer.json()["code"] == "integrity_violation"
    assert booking_rows(client, request_id) == 0
    dispatcher = client.app.state.dispatch.dispatcher
    assert request_id not in dispatcher.plan.bookings() and request_id in client.app.state.dispatch.quotes
    assert all(stop.request_id != request_id for vehicle_id in dispatcher.plan.vehicles
               for stop in dispatcher.plan.route(vehicle_id).stops)


def test_a_cancellation_the_database_refuses_leaves_the_booking_in_the_plan(client, monkeypatch):
    """When writing a cancellation fails (503), the plan in force is rolled back with it: the booking is
    still booked in the dispatcher, on its bus's route and in the database, and cancelling again works."""
    from api.db.repository import IntegrityViolation
    from api.services import booking as service

    booking = client.post("/v1/bookings", json={"quote_id": quote_id(client, hour=14)},
                          headers={"Idempotency-Key": "k-cancel-503"}).json()

    def refuse(*_args, **_kwargs):
        raise IntegrityViolation("the database is unhappy")

    with monkeypatch.context() as patch:
        patch.setattr(service, "save_booking", refuse)
        failed = client.delete(f"/v1/bookings/{booking['id']}")
    assert failed.status_code == 503 and failed.json()["code"] == "integrity_violation"
    dispatcher = client.app.state.dispatch.dispatcher
    assert dispatcher.plan.booking(booking["id"]).status.value == "booked"
    assert [s.kind.value for s in dispatcher.plan.route(booking["vehicle_id"]).stops
            if s.request_id == booking["id"]] == ["pickup", "dropoff"]
    assert client.get(f"/v1/bookings/{booking['id']}").json()["status"] == "booked"
    assert client.delete(f"/v1/bookings/{booking['id']}").json()["status"] == "cancelled"
    assert booking["id"] not in {s.request_id for s in dispatcher.plan.route(booking["vehicle_id"]).stops}


def test_an_oversized_body_is_413_with_a_code(client):
    """A quote body of 2 MB is refused with 413 body_too_large, whether its length is announced or it
    arrives in chunks without one; the service answers normally afterwards."""
    padding = " " * (2 * 1024 * 1024)
    announced = client.post("/v1/quotes", content=padding + "{}",
                            headers={"Content-Type": "application/json"})
    assert announced.status_code == 413, announced.text
    assert announced.json()["code"] == "body_too_large" and "bytes" in announced.json()["message"]

    def chunks():
        for _ in range(32):
            yield b" " * (64 * 1024)
        yield b"{}"

    chunked = client.post("/v1/quotes", content=chunks(), headers={"Content-Type": "application/json"})
    assert (chunked.status_code, chunked.json()["code"]) == (413, "body_too_large")
    assert client.post("/v1/quotes", json=trip()).status_code == 200


def test_a_small_chunked_body_still_reaches_the_handler(client):
    """A valid quote sent in chunks without Content-Length is read whole and answered with an offer."""
    body = json.dumps(trip(hour=12)).encode()
    answer = client.post("/v1/quotes", content=iter([body[:10], body[10:]]),
                         headers={"Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text


def test_my_bookings_are_listed_newest_first_a_page_at_a_time(tmp_path):
    """A rider with three bookings (submitted 08:00, 08:01, 08:02) lists them newest first; limit 2 gives
    two and next_offset 2, offset 2 the oldest and no next page; another rider sees none of them and may
    not ask for the first rider's (403); an operator sees all and can filter by rider_id. A booked
    booking shows its bus's position (the demo depot in Vaduz) only from ten minutes before its pickup."""
    moment = {"now": NOW}
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'rufbus.sqlite3'}", demo_buses=2),
                     clock=ServiceClock(ZONE, wall_clock=lambda: moment["now"]))
    with TestClient(app) as client:
        with Session(app.state.engine) as session:
            users = {name: create_user(session, name=name, role=role)
                     for name, role in (("ann", "rider"), ("bob", "rider"), ("op", "operator"))}
            ids = {name: user.id for name, (user, _) in users.items()}
        auth = {name: {"Authorization": f"Bearer {key}"} for name, (_, key) in users.items()}
        made = []
        for minute in range(3):
            moment["now"] = NOW + timedelta(minutes=minute)
            offer = client.post("/v1/quotes", json=trip(hour=10 + minute), headers=auth["ann"]).json()
            booked = client.post("/v1/bookings", json={"quote_id": offer["quote_id"]},
                                 headers=auth["ann"] | {"Idempotency-Key": offer["quote_id"]})
            made.append(booked.json()["id"])
        first = client.get("/v1/bookings", params={"limit": 2}, headers=auth["ann"]).json()
        assert [b["id"] for b in first["items"]] == made[::-1][:2]
        assert (first["total"], first["next_offset"]) == (3, 2)
        assert first["items"][0]["vehicle_position"] is None  # hours before the pickup: not yet shown
        window_start = datetime.fromisoformat(first["items"][0]["pickup_window"]["start"])
        moment["now"] = window_start - timedelta(minutes=5)  # within the default 10 minutes before it
        again = client.get("/v1/bookings", params={"limit": 2}, headers=auth["ann"]).json()
        assert again["items"][0]["vehicle_position"] == pytest.approx(VADUZ, abs=0.01)
        moment["now"] = NOW + timedelta(minutes=3)
        rest = client.get("/v1/bookings", params={"limit": 2, "offset": 2}, headers=auth["ann"]).json()
        assert [b["id"] for b in rest["items"]] == made[:1] and rest["next_offset"] is None
        assert client.get("/v1/bookings", headers=auth["bob"]).json()["items"] == []
        refused = client.get("/v1/bookings", params={"rider_id": ids["ann"]}, headers=auth["bob"])
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
        assert client.get("/v1/bookings", headers=auth["op"]).json()["total"] == 3
        bobs = client.get("/v1/bookings", params={"rider_id": ids["bob"]}, headers=auth["op"])
        assert bobs.json()["total"] == 0
        assert client.get("/v1/bookings", params={"limit": 0}, headers=auth["ann"]).status_code == 422
        for params in ({"offset": 2**63}, {"offset": 2**31}, {"rider_id": 2**63}, {"rider_id": -2**63 - 1},
                       {"rider_id": 0}):  # numbers the database cannot hold: refused, never a 500
            refused = client.get("/v1/bookings", params=params, headers=auth["op"])
            assert (refused.status_code, refused.json()["code"]) == (422, "invalid_request"), params
        last = client.get("/v1/bookings", params={"offset": 2**31 - 1}, headers=auth["op"]).json()
        assert (last["items"], last["total"]) == ([], 3)
