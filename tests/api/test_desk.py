"""The operators' booking desk and demand map (api.routes.desk, api.services.desk, api.services.demand)
through the real app on SQLite and on PostgreSQL, one bus and the clock at 08:00: a caller recorded and
booked for (the booking is theirs, booked by the operator), riders found by phone and name, the search's
filters, a booking's history in order with the operator named on a cancellation, refused quotes kept
coarsened and counted per cell and hour, and bad input answered 422 (who may call what:
tests/api/test_auth.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.app import create_app
from api.auth import create_user
from api.clock import ServiceClock
from api.db.models import Booking, DemandRecord, User
from api.grid import cell, cell_of
from api.settings import Settings
from tests.api.conftest import NOW, SCHAAN, VADUZ, ZONE, ZURICH, MovableClock
from tests.api.test_plan_change import database_url  # noqa: F401 (fixture: SQLite file or PostgreSQL schema)

DESK = "/v1/operator"


@pytest.fixture
def client(database_url: str, app_clock: MovableClock) -> Iterator[TestClient]:  # noqa: F811
    """The app with one bus (bus-1); keys of a rider and an operator in ``client.keys``, their user ids in
    ``client.ids``."""
    app = create_app(Settings(database_url=database_url, demo_buses=1),
                     clock=ServiceClock(ZONE, wall_clock=app_clock))
    with TestClient(app) as test_client:
        keys, ids = {}, {}
        with Session(app.state.engine) as session:
            for name, role in (("rider", "rider"), ("operator", "operator")):
                user, key = create_user(session, name=name, role=role)
                keys[name], ids[name] = {"Authorization": f"Bearer {key}"}, user.id
        test_client.keys, test_client.ids = keys, ids  # type: ignore[attr-defined]
        yield test_client


def trip(hour: int = 9, minute: int = 0, days: int = 0, origin: dict = VADUZ) -> dict:
    """A quote body from ``origin`` (Vaduz) to Schaan leaving after hour:minute, ``days`` from today."""
    moment = NOW.replace(hour=hour, minute=minute) + timedelta(days=days)
    return {"origin": origin, "destination": SCHAAN, "time_type": "leave_after", "time": moment.isoformat(),
            "seats": 1, "wheelchairs": 0}


def book(client: TestClient, quote_path: str, body: dict, who: str) -> dict:
    """Quote at ``quote_path`` and book the offer, both with ``who``'s key; the booking."""
    offer = client.post(quote_path, json=body, headers=client.keys[who])
    assert offer.status_code == 200, offer.text
    quote_id = offer.json()["quote_id"]
    booked = client.post("/v1/bookings", json={"quote_id": quote_id},
                         headers=client.keys[who] | {"Idempotency-Key": quote_id})
    assert booked.status_code == 201, booked.text
    return booked.json()


def record_caller(client: TestClient, name: str, phone: str | None) -> dict:
    made = client.post(f"{DESK}/riders", json={"name": name, "phone": phone}, headers=client.keys["operator"])
    assert made.status_code == 201, made.text
    return made.json()


def test_a_phone_booking_records_the_caller_and_the_booking_is_theirs_booked_by_the_operator(client):
    """The operator records a caller (no API key), quotes and books for them: the booking's rider is the
    caller, ``booked_by`` the operator, in the database and on the desk; the operator's own bookings
    stay empty."""
    caller = record_caller(client, "Anna Beck", "+423 234 56 78")
    assert caller["phone"] == "+4232345678" and caller["has_key"] is False
    booking = book(client, f"{DESK}/riders/{caller['id']}/quotes", trip(), "operator")
    with Session(client.app.state.engine) as session:
        row = session.get(Booking, booking["id"])
        assert (row.rider_id, row.booked_by) == (caller["id"], client.ids["operator"])
        assert session.get(User, caller["id"]).api_key_hash is None
    shown = client.get(f"{DESK}/bookings/{booking['id']}", headers=client.keys["operator"]).json()
    assert shown["rider"]["name"] == "Anna Beck"
    assert shown["booked_by"] == {"id": client.ids["operator"], "name": "operator"}
    mine = client.get("/v1/bookings", params={"rider_id": client.ids["operator"]},
                      headers=client.keys["operator"]).json()
    assert mine["total"] == 0


def test_a_riders_own_booking_is_booked_by_themselves(client):
    """A booking a rider makes shows the rider as both owner and booker."""
    booking = book(client, "/v1/quotes", trip(), "rider")
    shown = client.get(f"{DESK}/bookings/{booking['id']}", headers=client.keys["operator"]).json()
    assert shown["rider"]["id"] == shown["booked_by"]["id"] == client.ids["rider"]


def test_an_existing_rider_is_found_by_phone_or_name(client):
    """Searching the digits of a phone number, written differently, finds the rider holding it; a part
    of a name finds its holder whatever the case; a number nobody has finds nobody."""
    anna = record_caller(client, "Anna Beck", "+423 234 56 78")
    record_caller(client, "Bruno Frick", "+423 399 11 22")
    found = client.get(f"{DESK}/riders", params={"q": "234-5678"}, headers=client.keys["operator"]).json()
    assert [r["id"] for r in found] == [anna["id"]]
    found = client.get(f"{DESK}/riders", params={"q": "FRICK"}, headers=client.keys["operator"]).json()
    assert [r["name"] for r in found] == ["Bruno Frick"]
    assert client.get(f"{DESK}/riders", params={"q": "777 888"}, headers=client.keys["operator"]).json() == []


def test_a_quote_for_someone_who_is_not_a_rider_is_404(client):
    """Quoting for an operator's id or an id nobody has answers 404 unknown_rider and offers nothing."""
    for rider_id in (client.ids["operator"], 9999):
        answer = client.post(f"{DESK}/riders/{rider_id}/quotes", json=trip(), headers=client.keys["operator"])
        assert answer.status_code == 404 and answer.json()["code"] == "unknown_rider"


def test_the_search_filters_by_day_status_rider_and_bus_sorted_by_pickup(client):
    """Three bookings (the rider's at 10:00 and tomorrow, Anna's by phone at 09:00), one of them then
    cancelled: each filter keeps exactly the bookings it names, today's by pickup time."""
    anna = record_caller(client, "Anna Beck", "+423 234 56 78")
    late = book(client, "/v1/quotes", trip(hour=10), "rider")
    early = book(client, f"{DESK}/riders/{anna['id']}/quotes", trip(hour=9), "operator")
    tomorrow = book(client, "/v1/quotes", trip(hour=9, days=1), "rider")
    assert client.delete(f"/v1/bookings/{tomorrow['id']}", headers=client.keys["operator"]).status_code == 200

    def ids(**params) -> list[str]:
        answer = client.get(f"{DESK}/bookings", params=params, headers=client.keys["operator"])
        assert answer.status_code == 200, answer.text
        return [item["id"] for item in answer.json()["items"]]

    today = NOW.date()
    assert ids(day=today.isoformat()) == [early["id"], late["id"]]
    assert ids(day=(today + timedelta(days=1)).isoformat()) == [tomorrow["id"]]
    assert ids(status="cancelled") == [tomorrow["id"]]
    assert ids(status="booked") == [early["id"], late["id"]]
    assert ids(rider="anna") == [early["id"]]
    assert ids(rider="2345678") == [early["id"]]
    assert ids(rider="nobody") == []
    assert ids(vehicle_id="bus-1") == [early["id"], late["id"], tomorrow["id"]]
    assert ids(vehicle_id="bus-9") == []
    page = client.get(f"{DESK}/bookings", params={"limit": 2, "offset": 1}, headers=client.keys["operator"])
    assert page.json()["total"] == 3
    assert [i["id"] for i in page.json()["items"]] == [late["id"], tomorrow["id"]]


def test_the_detail_lists_the_history_in_order_and_an_operators_cancel_names_the_operator(client,
                                                                                         app_clock):
    """A rider books; ten minutes later the operator cancels for them through the riders' own endpoint:
    the detail lists the confirmation (by the rider) then the cancellation (by the operator), in time
    order, and the booking is cancelled."""
    booking = book(client, "/v1/quotes", trip(), "rider")
    app_clock.moment = NOW + timedelta(minutes=10)
    cancelled = client.delete(f"/v1/bookings/{booking['id']}", headers=client.keys["operator"])
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    detail = client.get(f"{DESK}/bookings/{booking['id']}", headers=client.keys["operator"]).json()
    assert detail["status"] == "cancelled"
    events = detail["events"]
    assert [e["kind"] for e in events] == ["booking_confirmed", "booking_cancelled"]
    assert events[0]["time"] < events[1]["time"]
    assert (events[0]["actor"], events[0]["actor_name"]) == (f"user:{client.ids['rider']}", "rider")
    assert (events[1]["actor"], events[1]["actor_name"]) == (f"user:{client.ids['operator']}", "operator")


def test_refused_quotes_are_kept_coarsened_and_the_demand_counts_asked_served_and_refused(client):
    """Four quotes: Zürich (outside the area), 23:30 (outside the hours), one booked and one only offered,
    Vaduz → Schaan at 09:00. Every one is recorded with cells, never the exact places; the demand map
    counts, in Vaduz's cell at 09:00, two asked, one served, none refused, in Vaduz's cell at 23:00 one
    refused outside_hours, in Zürich's cell one refused outside_area; the key figures count four asked,
    two refused."""
    operator = client.keys["operator"]
    assert client.post("/v1/quotes", json=trip(origin=ZURICH), headers=client.keys["rider"]).json()["code"] \
        == "outside_area"
    late = client.post("/v1/quotes", json=trip(hour=23, minute=30), headers=client.keys["rider"])
    assert late.json()["code"] == "outside_hours"
    book(client, "/v1/quotes", trip(), "rider")
    assert client.post("/v1/quotes", json=trip(), headers=client.keys["rider"]).status_code == 200

    with Session(client.app.state.engine) as session:
        records = session.exec(select(DemandRecord)).all()
    assert len(records) == 4
    vaduz, zurich = cell_of(VADUZ["lat"], VADUZ["lon"]), cell_of(ZURICH["lat"], ZURICH["lon"])
    assert {r.origin_cell for r in records} == {vaduz.id, zurich.id}
    for record in records:  # what is stored is a cell, whose centre is not the place asked from
        centre = cell(record.origin_cell)
        assert (centre.lat, centre.lon) not in ((VADUZ["lat"], VADUZ["lon"]), (ZURICH["lat"], ZURICH["lon"]))
        assert record.destination_cell == cell_of(SCHAAN["lat"], SCHAAN["lon"]).id

    midnight = NOW.replace(hour=0)
    day = {"from": midnight.isoformat(), "to": (midnight + timedelta(days=1)).isoformat()}
    answer = client.get(f"{DESK}/demand", params=day, headers=operator)
    assert answer.status_code == 200, answer.text
    cells = {(c["cell"], c["hour"][11:13]): c for c in answer.json()["cells"]}
    assert set(cells) == {(vaduz.id, "09"), (vaduz.id, "23"), (zurich.id, "09")}
    assert {k: cells[(vaduz.id, "09")][k] for k in ("asked", "served", "refused")} == \
        {"asked": 2, "served": 1, "refused": 0}
    assert cells[(vaduz.id, "23")]["refused_by_cause"] == {"outside_hours": 1}
    assert cells[(zurich.id, "09")]["refused_by_cause"] == {"outside_area": 1}
    assert (cells[(zurich.id, "09")]["lat"], cells[(zurich.id, "09")]["lon"]) == (zurich.lat, zurich.lon)
    at_destination = client.get(f"{DESK}/demand", params=day | {"at": "destination"}, headers=operator).json()
    assert {c["cell"] for c in at_destination["cells"]} == {cell_of(SCHAAN["lat"], SCHAAN["lon"]).id}

    figures = client.get(f"{DESK}/kpis", params={"from": NOW.isoformat(), "to": (NOW + timedelta(hours=1))
                                                  .isoformat()}, headers=operator).json()
    assert (figures["quotes_asked"], figures["quotes_refused"]) == (4, 2)


@pytest.mark.parametrize(("method", "path", "body", "params"), [
    ("post", "/riders", {"phone": "123456"}, None),
    ("post", "/riders", {"name": "X", "phone": "call me"}, None),
    ("post", "/riders", {"name": ""}, None),
    ("get", "/riders", None, {}),
    ("get", "/bookings", None, {"status": "lost"}),
    ("get", "/bookings", None, {"day": "tomorrow"}),
    ("get", "/bookings", None, {"limit": 0}),
    ("get", "/demand", None, {"from": NOW.isoformat(), "to": NOW.isoformat()}),
    ("get", "/demand", None, {"from": NOW.isoformat(), "to": (NOW + timedelta(days=40)).isoformat()}),
    ("get", "/demand", None, {"from": "2026-11-23T08:00", "to": NOW.isoformat()}),
    ("get", "/demand", None, {"from": NOW.isoformat(), "to": (NOW + timedelta(hours=1)).isoformat(),
                              "at": "middle"}),
    ("post", "/riders/0/quotes", trip(), None),
])
def test_bad_input_is_422_and_writes_nothing(client, method, path, body, params):
    """A missing or malformed field, an unknown status or day, an empty, too long or naive range, an
    unknown end, rider id 0: 422 with a code, and no rider is recorded."""
    call = getattr(client, method)
    kwargs = {"json": body} if body is not None else {}
    answer = call(f"{DESK}{path}", params=params, headers=client.keys["operator"], **kwargs)
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] in ("invalid_request", "invalid_range")
    with Session(client.app.state.engine) as session:
        assert len(session.exec(select(User)).all()) == 2
