"""Riders' data protection through the real app (api.services.privacy, api.routes.privacy,
api.services.booking_view, api.services.route_view): a rider's export holds their data and nothing of
another rider's; erasure closes the account, cancels open bookings through the plan, anonymises the
rest and is a no-op the second time (SQLite and PostgreSQL); the bus is shown to a rider only from the
operators' minutes before the pickup until drop-off; drivers get riders' contacts only for the next stops;
the privacy page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from api.app import create_app
from api.auth import create_user
from api.clock import ServiceClock
from api.db.models import Booking, Event, User
from api.grid import cell_of
from api.settings import Settings
from tests.api.conftest import NOW, SCHAAN, VADUZ, ZONE, MovableClock
from tests.api.test_live_streams import until
from tests.api.test_plan_change import database_url  # noqa: F401 (fixture: SQLite file or PostgreSQL schema)
from tests.api.test_retention import drive_the_day

PEOPLE = (("ann", "rider", None, "+423 111 11 11"), ("bob", "rider", None, "+423 222 22 22"),
          ("cara", "rider", None, None), ("driver", "driver", "bus-1", None), ("op", "operator", None, None))


def open_app(database: str, clock: MovableClock) -> Iterator[TestClient]:
    """The app with one bus on ``database``; ``client.keys`` and ``client.ids`` of :data:`PEOPLE`."""
    app = create_app(Settings(database_url=database, demo_buses=1, retention_every_s=0, auth_cache_s=60),
                     clock=ServiceClock(ZONE, wall_clock=clock))
    with TestClient(app) as test_client, Session(app.state.engine) as session:
        keys, ids = {}, {}
        for name, role, bus, phone in PEOPLE:
            user, key = create_user(session, name=name.title(), role=role, vehicle_id=bus)
            user.phone = phone
            session.add(user)
            session.commit()
            keys[name], ids[name] = {"Authorization": f"Bearer {key}"}, user.id
        test_client.keys, test_client.ids = keys, ids  # type: ignore[attr-defined]
        yield test_client


@pytest.fixture
def client(database_url: str, app_clock: MovableClock) -> Iterator[TestClient]:  # noqa: F811
    """The app on SQLite or PostgreSQL (the test's database_url), the clock at 08:00."""
    yield from open_app(database_url, app_clock)


@pytest.fixture
def sqlite_client(tmp_path, app_clock: MovableClock) -> Iterator[TestClient]:
    """The app on a SQLite file, the clock at 08:00 (for what involves no database path of its own)."""
    yield from open_app(f"sqlite:///{tmp_path / 'rufbus.sqlite3'}", app_clock)


def book(client: TestClient, who: str, at: datetime) -> str:
    """``who`` books Vaduz → Schaan leaving after ``at``; the booking's id."""
    body = {"origin": VADUZ, "destination": SCHAAN, "time_type": "leave_after", "time": at.isoformat(),
            "seats": 1, "wheelchairs": 0}
    offer = client.post("/v1/quotes", json=body, headers=client.keys[who])  # type: ignore[attr-defined]
    assert offer.status_code == 200, offer.text
    quote_id = offer.json()["quote_id"]
    booked = client.post("/v1/bookings", json={"quote_id": quote_id},
                         headers=client.keys[who] | {"Idempotency-Key": f"{who}-{quote_id}"})  # type: ignore[attr-defined]
    assert booked.status_code == 201, booked.text
    return booked.json()["id"]


def set_privacy(client: TestClient, **changes: int) -> None:
    """Put the default privacy settings with ``changes`` in force."""
    body = {"coarsen_after_days": 90, "prune_after_days": 365, "bus_visible_minutes": 10,
            "driver_contact_stops": 2, "driver_contact_minutes": 30} | changes
    answer = client.put("/v1/operator/retention", json=body, headers=client.keys["op"])  # type: ignore[attr-defined]
    assert answer.status_code == 200, answer.text


@pytest.fixture
def travelled(client, app_clock) -> dict[str, str]:
    """Ann's 09:00 trip driven to its end, then Ann's 11:00 and Bob's 10:30 booked (open)."""
    trips = {"ann_done": book(client, "ann", NOW.replace(hour=9))}
    drive_the_day(client, app_clock)
    trips |= {"ann_open": book(client, "ann", NOW.replace(hour=11)),
              "bob_open": book(client, "bob", NOW.replace(hour=10, minute=30))}
    return trips


def test_a_riders_export_holds_their_data_and_nothing_of_another_riders(client, travelled):
    """Ann's export: her name and phone, both her bookings with their places and keys, the events about
    them (booked, picked up, dropped off); not Bob's booking, name or phone anywhere."""
    answer = client.get("/v1/rider/me/export", headers=client.keys["ann"])
    assert answer.status_code == 200, answer.text
    export = answer.json()
    assert (export["rider"]["name"], export["rider"]["phone"]) == ("Ann", "+423 111 11 11")
    bookings = {b["id"]: b for b in export["bookings"]}
    assert set(bookings) == {travelled["ann_done"], travelled["ann_open"]}
    assert bookings[travelled["ann_done"]]["origin_lat"] == pytest.approx(VADUZ["lat"])
    assert bookings[travelled["ann_open"]]["idempotency_key"].startswith("ann-")
    kinds = {(e["booking_id"], e["kind"]) for e in export["events"]}
    assert {(travelled["ann_done"], k) for k in ("booking_confirmed", "rider_picked_up",
                                                 "rider_dropped_off")} <= kinds
    assert {e["booking_id"] for e in export["events"]} <= set(bookings) | {None}
    text = answer.text
    assert travelled["bob_open"] not in text and "Bob" not in text and "222 22 22" not in text
    by_operator = client.get(f"/v1/operator/riders/{client.ids['ann']}/export", headers=client.keys["op"])
    assert set(b["id"] for b in by_operator.json()["bookings"]) == set(bookings)


def test_erasure_cancels_open_bookings_through_the_plan_anonymises_the_rest_and_is_a_no_op_again(
        client, travelled):
    """Ann erases her data: her key stops working at once, her open booking is cancelled (the plan and
    bus-1's route no longer have it; Bob's stays), her bookings keep no link to her and only their grid
    cells, her own acts in the log name ``rider``, her account no name or phone. The operator erasing
    her again on request changes nothing and answers the first erasure."""
    ann = client.ids["ann"]
    answer = client.delete("/v1/rider/me", headers=client.keys["ann"])
    assert answer.status_code == 200, answer.text
    erased = answer.json()
    assert erased["erased_now"] and erased["requested_by"] == "rider"
    assert erased["counts"]["bookings_cancelled"] == 1 and erased["counts"]["bookings"] == 2
    assert client.get("/v1/bookings", headers=client.keys["ann"]).status_code == 401
    plan = client.app.state.dispatch.dispatcher.plan
    assert plan.booking(travelled["ann_open"]).status.value == "cancelled"
    assert plan.booking(travelled["bob_open"]).status.value == "booked"
    route = client.get("/v1/driver/route", headers=client.keys["driver"]).json()
    assert {s["booking_id"] for s in route["stops"]} == {travelled["bob_open"]}
    with Session(client.app.state.engine) as session:
        rows = session.exec(select(Booking).where(col(Booking.id).in_(
            [travelled["ann_done"], travelled["ann_open"]]))).all()
        user = session.get(User, ann)
        assert user is not None and (user.name, user.phone, user.active, user.api_key_hash) == ("", None,
                                                                                                False, None)
        assert not session.exec(select(Event).where(col(Event.actor) == f"user:{ann}")).all()
        cancelled = session.exec(select(Event).where(col(Event.request_id) == travelled["ann_open"],
                                                     col(Event.kind) == "booking_cancelled")).one()
        assert cancelled.actor == "rider"
        bob = session.get(Booking, travelled["bob_open"])
        assert bob is not None and bob.rider_id == client.ids["bob"]
    assert {row.status.value for row in rows} == {"completed", "cancelled"}
    for row in rows:
        home = cell_of(VADUZ["lat"], VADUZ["lon"])
        assert (row.rider_id, row.booked_by, row.idempotency_key) == (None, None, None)
        assert (row.origin_lat, row.origin_lon) == (home.lat, home.lon) and row.coarsened_at is not None
    again = client.delete(f"/v1/operator/riders/{ann}", headers=client.keys["op"])
    assert again.status_code == 200, again.text
    assert again.json() == erased | {"erased_now": False}
    export = client.get(f"/v1/operator/riders/{ann}/export", headers=client.keys["op"]).json()
    assert export["bookings"] == [] and export["rider"]["name"] == ""


@pytest.mark.parametrize("whom", ["nobody", "op", "driver"])
def test_erasing_someone_who_is_no_rider_is_404(sqlite_client, whom):
    """An unknown id, an operator's or a driver's: 404 ``unknown_rider``, nothing changes."""
    client = sqlite_client
    rider_id = 10**6 if whom == "nobody" else client.ids[whom]
    answer = client.delete(f"/v1/operator/riders/{rider_id}", headers=client.keys["op"])
    assert (answer.status_code, answer.json()["code"]) == (404, "unknown_rider")
    if whom != "nobody":
        assert client.get("/v1/me", headers=client.keys[whom]).status_code == 200


def test_a_rider_on_board_is_erased_after_the_trip(sqlite_client, app_clock):
    """While Ann rides, her erasure is 409 ``rider_on_board`` and her key still works."""
    client = sqlite_client
    booking = book(client, "ann", NOW.replace(hour=9))
    stop = client.get("/v1/driver/route", headers=client.keys["driver"]).json()["stops"][0]
    app_clock.moment = datetime.fromisoformat(stop["planned_start"])
    client.post("/v1/driver/arrived", headers=client.keys["driver"])
    assert client.post("/v1/driver/picked-up", json={"booking_id": booking},
                       headers=client.keys["driver"]).status_code == 204
    answer = client.delete("/v1/rider/me", headers=client.keys["ann"])
    assert (answer.status_code, answer.json()["code"]) == (409, "rider_on_board")
    assert client.get("/v1/bookings", headers=client.keys["ann"]).status_code == 200


def test_the_rider_sees_the_bus_only_from_minutes_before_the_pickup_until_drop_off(sqlite_client, app_clock):
    """Booked at 08:00 for 09:00: no bus position (REST and the stream's first message); 5 minutes before
    the window: the bus; on board: the bus; dropped off: none. Ann's stream, open while Bob books onto
    the same bus, carries her own booking only."""
    client = sqlite_client
    ann = book(client, "ann", NOW.replace(hour=9))
    read = client.get(f"/v1/bookings/{ann}", headers=client.keys["ann"]).json()
    assert read["status"] == "booked" and read["vehicle_position"] is None
    with client.websocket_connect(f"/v1/bookings/{ann}/stream", headers=client.keys["ann"]) as stream:
        assert stream.receive_json()["booking"]["vehicle_position"] is None
    app_clock.moment = datetime.fromisoformat(read["pickup_window"]["start"]) - timedelta(minutes=5)
    read = client.get(f"/v1/bookings/{ann}", headers=client.keys["ann"]).json()
    assert read["vehicle_position"] == pytest.approx(VADUZ, abs=0.01)
    with client.websocket_connect(f"/v1/bookings/{ann}/stream", headers=client.keys["ann"]) as stream:
        assert stream.receive_json()["booking"]["vehicle_position"] is not None
        bob = book(client, "bob", NOW.replace(hour=9, minute=5))
        message = until(stream, "route_changed")
        assert set(message) == {"kind", "plan_version", "booking"} and message["booking"]["id"] == ann
        assert bob not in json.dumps(message)
    stops = client.get("/v1/driver/route", headers=client.keys["driver"]).json()["stops"]
    app_clock.moment = max(app_clock.moment, datetime.fromisoformat(stops[0]["planned_start"]))
    client.post("/v1/driver/arrived", headers=client.keys["driver"])
    for stop in stops[:2]:
        if stop["kind"] == "pickup":
            client.post("/v1/driver/picked-up", json={"booking_id": stop["booking_id"]},
                        headers=client.keys["driver"])
    riding = client.get(f"/v1/bookings/{ann}", headers=client.keys["ann"]).json()
    assert riding["status"] == "picked_up" and riding["vehicle_position"] is not None
    drive_the_day(client, app_clock)
    read = client.get(f"/v1/bookings/{ann}", headers=client.keys["ann"]).json()
    assert read["status"] == "completed" and read["vehicle_position"] is None


def test_drivers_get_riders_contacts_only_for_the_next_stops_and_never_in_the_route(sqlite_client, app_clock):
    """Three riders on bus-1 at 09:00, 09:05, 09:10. At 08:00 no stop is within 30 minutes: no contacts;
    at 08:50 the next two stops' riders (name, phone), in route order; with the operators' next-stops set
    to 0 none; after the day none. The route itself names no rider and no place the riders sent."""
    client = sqlite_client
    ids = {book(client, who, NOW.replace(hour=9, minute=5 * k)): who for k, who in enumerate(("ann", "bob",
                                                                                               "cara"))}
    driver = client.keys["driver"]
    assert client.get("/v1/driver/contacts", headers=driver).json() == []
    app_clock.moment = NOW.replace(hour=8, minute=50)
    route = client.get("/v1/driver/route", headers=driver)
    contacts = client.get("/v1/driver/contacts", headers=driver).json()
    stops = route.json()["stops"]
    assert [c["booking_id"] for c in contacts] == [s["booking_id"] for s in stops[:2]]
    names = {"Ann": "+423 111 11 11", "Bob": "+423 222 22 22", "Cara": None}
    assert all(names[c["name"]] == c["phone"] and ids[c["booking_id"]] == c["name"].lower() for c in contacts)
    assert not {"Ann", "Bob", "Cara", "111 11 11", "222 22 22"} & set(json.dumps(route.json()).split('"'))
    assert all((s["lat"], s["lon"]) != (VADUZ["lat"], VADUZ["lon"]) for s in stops)
    set_privacy(client, driver_contact_stops=0)
    assert client.get("/v1/driver/contacts", headers=driver).json() == []
    set_privacy(client)
    drive_the_day(client, app_clock)
    assert client.get("/v1/driver/contacts", headers=driver).json() == []


def test_the_privacy_page_says_what_is_kept_how_long_and_whom_to_ask_in_german_and_english(sqlite_client):
    """``/privacy`` needs no key, has a German and an English part, the retention days in force and the
    agency's name; the riders' app links to it."""
    client = sqlite_client
    set_privacy(client, coarsen_after_days=42)
    page = client.get("/privacy")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<section lang="de">' in page.text and '<section lang="en">' in page.text
    assert "42 Tage" in page.text and "42 days" in page.text and "Rufbus" in page.text
    assert 'href="/privacy"' in client.get("/app").text


def test_erasure_takes_the_riders_own_things_notices_and_sessions_and_ends_their_sign_in(client, app_clock):
    """Ann has a favourite place, a companion, a recurring trip, a booking's notice, an e-mail address and a
    signed-in session: her export shows them all; after her erasure they are gone (her recurring trip
    books nothing more), her session's token no longer works, and Bob's things stay."""
    book(client, "ann", NOW + timedelta(hours=2))
    for who in ("ann", "bob"):
        headers = client.keys[who]  # type: ignore[attr-defined]
        assert client.post("/v1/rider/favourites", json={"name": "Home", **VADUZ},
                           headers=headers).status_code == 201
        assert client.post("/v1/rider/companions", json={"name": "Kim", "category": "child"},
                           headers=headers).status_code == 201
        trip = {"origin": VADUZ, "destination": SCHAAN, "weekdays": [0], "time_type": "leave_after",
                "time": "09:00", "first_day": "2027-01-04", "last_day": "2027-01-31"}
        assert client.post("/v1/rider/recurring-trips", json=trip, headers=headers).status_code == 201
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        ann = session.get(User, client.ids["ann"])  # type: ignore[attr-defined]
        assert ann is not None
        ann.email = "ann@example.org"
        session.add(ann)
        session.commit()
    ann_key = client.keys["ann"]["Authorization"].removeprefix("Bearer ")  # type: ignore[attr-defined]
    device = client.post("/v1/auth/device", json={"api_key": ann_key})
    assert device.status_code == 200, device.text
    token = {"Authorization": f"Bearer {device.json()['access_token']}"}
    assert client.get("/v1/me", headers=token).status_code == 200

    export = client.get("/v1/rider/me/export", headers=token).json()
    assert export["sign_in"]["email"] == "ann@example.org" and len(export["sign_in"]["sessions"]) == 1
    assert [p["name"] for p in export["favourite_places"]] == ["Home"]
    assert [c["category"] for c in export["companions"]] == ["child"]
    assert len(export["recurring_trips"]) == 1
    assert [n["kind"] for n in export["notices"]["notices"]] == ["booking_confirmed"]

    erased = client.delete("/v1/rider/me", headers=token)
    assert erased.status_code == 200, erased.text
    assert erased.json()["counts"]["recurring_trips"] == 1
    assert erased.json()["counts"]["favourites_and_companions"] == 2
    assert client.get("/v1/me", headers=token).status_code == 401
    operator = client.keys["op"]  # type: ignore[attr-defined]
    after = client.get(f"/v1/operator/riders/{client.ids['ann']}/export", headers=operator).json()  # type: ignore[attr-defined]
    assert after["sign_in"] == {"email": None, "sessions": []}
    assert after["favourite_places"] == [] and after["companions"] == [] and after["recurring_trips"] == []
    assert after["notices"] == {"notices": [], "settings": None}
    bob = client.get("/v1/rider/favourites", headers=client.keys["bob"])  # type: ignore[attr-defined]
    assert [p["name"] for p in bob.json()] == ["Home"]
