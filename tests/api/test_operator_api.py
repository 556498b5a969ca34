"""The operators' API in process (TestClient) on a temporary SQLite database with a clock standing at
08:00: the fleet, the service rules, withdrawing a bus, key figures (who may call what:
tests/api/test_auth.py)."""

from __future__ import annotations

import dataclasses
from contextlib import AbstractContextManager
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.auth import create_user
from api.db.models import Booking, Event, PlannedStop, ServiceRulesVersion, Vehicle
from api.schemas import ServiceRulesBody
from dispatch.model import ServiceRules
from tests.api.conftest import NOW, OPERATOR, RIDER, SCHAAN, VADUZ, AppSetup, open_client

# Keys of a rider and an operator in ``client.keys``; the number of demo buses is the fixture's.
CLIENT = AppSetup(users=(RIDER, OPERATOR))


def make_client(tmp_path, buses: int) -> AbstractContextManager[TestClient]:
    """The app with ``buses`` demo buses on ``tmp_path``, without users."""
    return open_client(tmp_path, AppSetup({"demo_buses": buses}))


@pytest.fixture(params=[2])
def client(request, client_factory):
    """The app with ``param`` demo buses (2 unless a test says otherwise)."""
    with client_factory(demo_buses=request.param) as test_client:
        yield test_client


def quote(client: TestClient, hour: int = 9, minute: int = 0):
    body = {"origin": VADUZ, "destination": SCHAAN, "time_type": "leave_after",
            "time": NOW.replace(hour=hour, minute=minute).isoformat(), "seats": 1, "wheelchairs": 0}
    return client.post("/v1/quotes", json=body, headers=client.keys["rider"])


def book(client: TestClient, hour: int = 9, minute: int = 0) -> dict:
    """The rider books Vaduz → Schaan leaving after hour:minute today."""
    offer = quote(client, hour, minute)
    assert offer.status_code == 200, offer.text
    quote_id = offer.json()["quote_id"]
    booked = client.post("/v1/bookings", json={"quote_id": quote_id},
                         headers=client.keys["rider"] | {"Idempotency-Key": quote_id})
    assert booked.status_code == 201, booked.text
    return booked.json()


def test_rules_body_has_every_field_of_the_service_rules():
    """The PUT body and ServiceRules name the same fields, so that no knob is unreachable."""
    assert set(ServiceRulesBody.model_fields) == {f.name for f in dataclasses.fields(ServiceRules)}


def test_fleet_shows_the_demo_buses_and_a_booked_trips_next_stop(client):
    """Both demo buses are listed in service at the depot, empty; after a booking its bus shows the
    pickup then the drop-off as next stops (route of two stops) with planned times."""
    fleet = client.get("/v1/operator/fleet", headers=client.keys["operator"])
    assert fleet.status_code == 200, fleet.text
    buses = fleet.json()
    assert [b["id"] for b in buses] == ["bus-1", "bus-2"]
    assert all(b["in_service"] and b["load"] == {"seats": 0, "wheelchairs": 0} and b["route_stops"] == 0
               for b in buses)
    assert buses[0]["position"] == pytest.approx(VADUZ, abs=0.01)

    booking = book(client)
    bus = next(b for b in client.get("/v1/operator/fleet", headers=client.keys["operator"]).json()
               if b["id"] == booking["vehicle_id"])
    assert bus["route_stops"] == 2
    assert [(s["kind"], s["booking_id"]) for s in bus["next_stops"]] == [("pickup", booking["id"]),
                                                                         ("dropoff", booking["id"])]
    assert bus["next_stops"][0]["planned_time"] == booking["planned_pickup"]


def test_invalid_rules_are_refused_with_the_problems_named(client):
    """A pickup window wider than the maximum wait and an empty service day: 422 invalid_rules, both
    problems listed; nothing stored."""
    rules = dataclasses.asdict(ServiceRules()) | {"pickup_window_s": 900, "max_wait_s": 600,
                                                  "service_start_s": 3600, "service_end_s": 3600}
    answer = client.put("/v1/operator/rules", json=rules, headers=client.keys["operator"])
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["code"] == "invalid_rules"
    assert "pickup_window_s must not exceed max_wait_s" in body["detail"]
    assert any("service hours" in problem for problem in body["detail"])
    with Session(client.app.state.engine) as session:
        assert session.exec(select(ServiceRulesVersion)).all() == []


def test_new_rules_are_stored_read_back_and_bound_new_quotes(client):
    """PUT valid rules (max wait 5 min, window 2 min): GET returns them with their version, a rules row
    and a rules_changed event exist, and a new quote for 09:00 promises a 2-minute window ending by
    09:05; a second PUT keeps the first row as history."""
    rules = dataclasses.asdict(ServiceRules()) | {"max_wait_s": 300, "pickup_window_s": 120}
    answer = client.put("/v1/operator/rules", json=rules, headers=client.keys["operator"])
    assert answer.status_code == 200, answer.text
    read = client.get("/v1/operator/rules", headers=client.keys["operator"]).json()
    assert {k: read[k] for k in rules} == rules and read["version"] == answer.json()["version"] is not None

    offer = quote(client)
    assert offer.status_code == 200, offer.text
    window = offer.json()["pickup_window"]
    start, end = (datetime.fromisoformat(window[k]) for k in ("start", "end"))
    assert end - start == timedelta(minutes=2)
    assert NOW.replace(hour=9) <= start and end <= NOW.replace(hour=9, minute=5)

    client.put("/v1/operator/rules", json=rules | {"max_wait_s": 400}, headers=client.keys["operator"])
    with Session(client.app.state.engine) as session:
        rows = session.exec(select(ServiceRulesVersion).order_by(ServiceRulesVersion.id)).all()
        assert [r.max_wait_s for r in rows] == [300, 400]
        assert len(session.exec(select(Event).where(Event.kind == "rules_changed")).all()) == 2


def test_rules_stored_come_back_after_a_restart(tmp_path):
    """The newest stored rules are in force when the service starts again on the same database."""
    with make_client(tmp_path, 1) as first:
        with Session(first.app.state.engine) as session:
            key = create_user(session, name="op", role="operator")[1]
        rules = dataclasses.asdict(ServiceRules()) | {"max_wait_s": 300, "pickup_window_s": 120}
        assert first.put("/v1/operator/rules", json=rules,
                         headers={"Authorization": f"Bearer {key}"}).status_code == 200
    with make_client(tmp_path, 1) as second:
        assert second.app.state.dispatch.dispatcher.rules.max_wait_s == 300
        read = second.get("/v1/operator/rules", headers={"Authorization": f"Bearer {key}"}).json()
        assert read["max_wait_s"] == 300 and read["version"] is not None


def test_a_bus_out_of_service_hands_its_rider_to_another_bus(client):
    """Withdrawing the bus of a booked rider moves the booking to the other bus: the answer lists it,
    the rider reads the new bus, the database holds the bus inactive, the booking's new vehicle and
    the new bus's planned stops, and an event; the fleet shows the bus out of service; twice is 409."""
    booking = book(client)
    old = booking["vehicle_id"]
    answer = client.post(f"/v1/operator/vehicles/{old}/out-of-service", headers=client.keys["operator"])
    assert answer.status_code == 200, answer.text
    other = "bus-2" if old == "bus-1" else "bus-1"
    assert answer.json() == {"vehicle_id": old,
                             "replanned": [{"booking_id": booking["id"], "vehicle_id": other}],
                             "rejected": []}
    read = client.get(f"/v1/bookings/{booking['id']}", headers=client.keys["rider"]).json()
    assert read["vehicle_id"] == other and read["status"] == "booked"
    assert read["pickup_window"] == booking["pickup_window"]
    with Session(client.app.state.engine) as session:
        assert session.get(Vehicle, old).active is False
        assert session.get(Booking, booking["id"]).vehicle_id == other
        stops = session.exec(select(PlannedStop)).all()
        assert {(s.vehicle_id, s.booking_id) for s in stops} == {(other, booking["id"])}
        assert session.exec(
            select(Event).where(Event.kind == "vehicle_out_of_service")).one().vehicle_id == old
    fleet = {b["id"]: b for b in client.get("/v1/operator/fleet", headers=client.keys["operator"]).json()}
    assert fleet[old]["in_service"] is False and fleet[other]["route_stops"] == 2
    again = client.post(f"/v1/operator/vehicles/{old}/out-of-service", headers=client.keys["operator"])
    assert again.status_code == 409 and again.json()["code"] == "already_out_of_service"
    assert client.post("/v1/operator/vehicles/bus-9/out-of-service",
                       headers=client.keys["operator"]).status_code == 404


@pytest.mark.parametrize("client", [1], indirect=True)
def test_the_only_bus_out_of_service_rejects_its_rider_with_the_cause(client):
    """With one bus, withdrawing it ends the booking: rejected with cause vehicle_out_of_service, in
    the answer and in the database; the rider reads it as rejected."""
    booking = book(client)
    answer = client.post("/v1/operator/vehicles/bus-1/out-of-service", headers=client.keys["operator"])
    assert answer.status_code == 200, answer.text
    assert answer.json()["replanned"] == []
    assert [(r["booking_id"], r["cause"]) for r in answer.json()["rejected"]] == [(booking["id"],
                                                                                 "vehicle_out_of_service")]
    assert client.get(f"/v1/bookings/{booking['id']}",
                      headers=client.keys["rider"]).json()["status"] == "rejected"
    with Session(client.app.state.engine) as session:
        row = session.get(Booking, booking["id"])
        assert (row.status, row.rejection_cause, row.vehicle_id) == (
            "rejected", "vehicle_out_of_service", None)
        assert session.exec(select(PlannedStop).where(PlannedStop.booking_id == booking["id"])).all() == []


def test_kpis_count_a_booked_and_a_cancelled_booking(client):
    """Two bookings, one cancelled: the figures for today count one booked and one cancelled, no
    rejection, and the mean window is the default 10 minutes; a range after them counts nothing;
    'to' before 'from' is 422."""
    book(client, 9)
    cancelled = book(client, 10)
    assert client.delete(f"/v1/bookings/{cancelled['id']}", headers=client.keys["rider"]).status_code == 200
    params = {"from": NOW.replace(hour=0).isoformat(), "to": (NOW + timedelta(hours=1)).isoformat()}
    answer = client.get("/v1/operator/kpis", params=params, headers=client.keys["operator"])
    assert answer.status_code == 200, answer.text
    figures = answer.json()
    assert figures["bookings"] == 2
    assert figures["by_status"] == {"booked": 1, "cancelled": 1} and figures["by_rejection_cause"] == {}
    assert figures["mean_window_s"] == 600
    later = {"from": (NOW + timedelta(hours=1)).isoformat(), "to": (NOW + timedelta(hours=2)).isoformat()}
    assert client.get("/v1/operator/kpis", params=later,
                      headers=client.keys["operator"]).json()["bookings"] == 0
    backwards = {"from": params["to"], "to": params["from"]}
    assert client.get("/v1/operator/kpis", params=backwards,
                      headers=client.keys["operator"]).status_code == 422


def test_a_withdrawal_the_database_refuses_leaves_the_plan_as_it_was(client, monkeypatch):
    """When writing the withdrawal fails (503), the dispatcher is rolled back: the bus is in service
    with its rider, and the booking still reads its first bus."""
    from api.db.repository import PersistenceError
    from api.services import operations

    def refuse(*_, **__):
        raise PersistenceError("the database is away")

    booking = book(client)
    monkeypatch.setattr(operations, "save_out_of_service", refuse)
    answer = client.post(f"/v1/operator/vehicles/{booking['vehicle_id']}/out-of-service",
                         headers=client.keys["operator"])
    assert answer.status_code == 503, answer.text
    fleet = {b["id"]: b for b in client.get("/v1/operator/fleet", headers=client.keys["operator"]).json()}
    assert (fleet[booking["vehicle_id"]]["in_service"] is True
            and fleet[booking["vehicle_id"]]["route_stops"] == 2)
    assert client.get(f"/v1/bookings/{booking['id']}",
                      headers=client.keys["rider"]).json()["vehicle_id"] == booking["vehicle_id"]
