"""Operators manage vehicles and shifts (api.services.fleet_admin) in process (TestClient) on a temporary
SQLite database with the clock at 08:00 local on 23 November 2026 and one demo bus (who may call what:
tests/api/test_auth.py)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.auth import create_user
from api.db.models import Event, Shift, ShiftBreak, Vehicle
from tests.api.conftest import NOW, OPERATOR, RIDER, SCHAAN, VADUZ, ZURICH, AppSetup, open_client, user_keys

# Demo bus bus-1; keys of a rider and an operator in ``client.keys``.
CLIENT = AppSetup({"demo_buses": 1}, (RIDER, OPERATOR))


def make_client(tmp_path) -> AbstractContextManager[TestClient]:
    """The app on ``tmp_path`` without users (a second one finds the first one's database)."""
    return open_client(tmp_path, AppSetup(CLIENT.settings))


def keys(client: TestClient) -> dict[str, dict[str, str]]:
    """Keys of a new rider and a new operator."""
    return user_keys(client, CLIENT.users)


def at(hour: int, minute: int = 0, days: int = 0) -> str:
    return (NOW.replace(hour=hour, minute=minute) + timedelta(days=days)).isoformat()


def add_bus(client: TestClient, vehicle_id: str = "van-1", **extra) -> dict:
    body = {"id": vehicle_id, "name": "Van", "seats": 4, "wheelchair_spaces": 0, "depot": SCHAAN, **extra}
    answer = client.post("/v1/operator/vehicles", json=body, headers=client.keys["operator"])
    assert answer.status_code == 201, answer.text
    return answer.json()


def add_shift(client: TestClient, vehicle_id: str, start: str, end: str, breaks=()):
    return client.post(f"/v1/operator/vehicles/{vehicle_id}/shifts", headers=client.keys["operator"],
                       json={"starts_at": start, "ends_at": end, "breaks": list(breaks)})


def book(client: TestClient, hour: int = 9, minute: int = 0, origin=VADUZ, destination=SCHAAN):
    body = {"origin": origin, "destination": destination, "time_type": "leave_after",
            "time": at(hour, minute), "seats": 1, "wheelchairs": 0}
    offer = client.post("/v1/quotes", json=body, headers=client.keys["rider"])
    if offer.status_code != 200:
        return offer
    quote_id = offer.json()["quote_id"]
    return client.post("/v1/bookings", json={"quote_id": quote_id},
                       headers=client.keys["rider"] | {"Idempotency-Key": quote_id})


def test_the_demo_fleet_is_stored_with_its_shift(client):
    """An empty database gets the demo bus and one shift from 05:00 today; it is listed in service."""
    listed = client.get("/v1/operator/vehicles", headers=client.keys["operator"]).json()
    assert [(v["id"], v["seats"], v["active"], v["in_service"]) for v in listed] == [("bus-1", 8, True, True)]
    shifts = client.get("/v1/operator/vehicles/bus-1/shifts", headers=client.keys["operator"]).json()
    assert len(shifts) == 1 and datetime.fromisoformat(shifts[0]["starts_at"]) == NOW.replace(hour=5)


def test_a_new_bus_with_a_shift_takes_riders_the_demo_bus_cannot(client):
    """A van at Schaan without a shift is stored but not planned; with a shift 08:00–16:00 it is in
    service, and when the demo bus is withdrawn a booked rider moves to the van; the vehicle, shift and
    events are in the database."""
    created = add_bus(client)
    assert created["in_service"] is False and created["depot"] == pytest.approx(SCHAAN, abs=0.005)
    shift = add_shift(client, "van-1", at(8), at(16))
    assert shift.status_code == 201, shift.text
    assert client.get("/v1/operator/vehicles/van-1", headers=client.keys["operator"]).json()["in_service"]
    assert "van-1" in client.app.state.dispatch.dispatcher.plan.vehicles
    booked = book(client)
    assert booked.status_code == 201, booked.text
    assert booked.json()["vehicle_id"] == "bus-1"  # it stands at Vaduz, where the trip starts
    out = client.post("/v1/operator/vehicles/bus-1/out-of-service", headers=client.keys["operator"]).json()
    assert out["replanned"] == [{"booking_id": booked.json()["id"], "vehicle_id": "van-1"}]
    with Session(client.app.state.engine) as session:
        assert session.get(Vehicle, "van-1").seats == 4
        assert len(session.exec(select(Shift).where(Shift.vehicle_id == "van-1")).all()) == 1
        kinds = {e.kind.value for e in session.exec(select(Event).where(Event.vehicle_id == "van-1"))}
        assert {"vehicle_added", "shifts_changed"} <= kinds


def test_bad_vehicles_and_shifts_are_refused_with_codes(client):
    """Duplicate id 409, depot in Zurich 422 outside_area, unknown vehicle 404, seats 0 422, shift ending
    before it starts and a break outside it 422 invalid_shift (both problems listed), overlapping shifts
    409 shift_overlap, unknown shift 404."""
    op = client.keys["operator"]
    add_bus(client)
    assert client.post("/v1/operator/vehicles", headers=op, json={
        "id": "van-1", "name": "V", "seats": 4, "depot": SCHAAN}).json()["code"] == "duplicate_vehicle"
    far = client.post("/v1/operator/vehicles", headers=op,
                      json={"id": "van-2", "name": "V", "seats": 4, "depot": ZURICH})
    assert (far.status_code, far.json()["code"]) == (422, "outside_area")
    assert client.get("/v1/operator/vehicles/nope", headers=op).json()["code"] == "unknown_vehicle"
    assert client.patch("/v1/operator/vehicles/van-1", headers=op, json={"seats": 0}).status_code == 422
    bad = add_shift(client, "van-1", at(16), at(8), [{"earliest_start": at(20), "latest_start": at(21),
                                                       "duration_s": 1800}])
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_shift") and len(bad.json()["detail"]) == 2
    assert add_shift(client, "van-1", at(8), at(16)).status_code == 201
    overlap = add_shift(client, "van-1", at(15), at(20))
    assert (overlap.status_code, overlap.json()["code"]) == (409, "shift_overlap")
    unknown = client.delete("/v1/operator/vehicles/van-1/shifts/999", headers=op)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_shift")


def test_a_shift_break_is_planned_and_the_driver_finishes_it(client):
    """A van with a shift 08:00–16:00 and a 30-min break to start 08:00–08:30 has the break as its first
    stop; its driver reports it finished (204), the stop is gone and a break_finished event is logged;
    a second report is 409 no_next_stop."""
    add_bus(client)
    shift = add_shift(client, "van-1", at(8), at(16), [{"earliest_start": at(8), "latest_start": at(8, 30),
                                                        "duration_s": 1800}])
    assert shift.status_code == 201, shift.text
    assert shift.json()["breaks"][0]["duration_s"] == 1800
    with Session(client.app.state.engine) as session:
        _, key = create_user(session, name="d", role="driver", vehicle_id="van-1")
        assert len(session.exec(select(ShiftBreak)).all()) == 1
    driver = {"Authorization": f"Bearer {key}"}
    route = client.get("/v1/driver/route", headers=driver).json()
    assert [s["kind"] for s in route["stops"]] == ["break"]
    assert client.post("/v1/driver/break-finished", headers=driver).status_code == 204
    assert client.get("/v1/driver/route", headers=driver).json()["stops"] == []
    again = client.post("/v1/driver/break-finished", headers=driver)
    assert (again.status_code, again.json()["code"]) == (409, "no_next_stop")
    with Session(client.app.state.engine) as session:
        assert session.exec(select(Event).where(Event.kind == "break_finished")).one().vehicle_id == "van-1"


def test_a_break_away_from_the_depot_keeps_its_place_when_its_shift_is_read_and_written_back(client):
    """A van based in Schaan gets a shift with a break to be taken in Vaduz: the break is stored at the road
    point nearest Vaduz and listed with that place; writing the shift back as it was read keeps the place
    (an edit through the shift endpoint no longer moves a break to the depot); one without a place is at
    the depot; a place outside the area is 422 and changes nothing."""
    add_bus(client)
    pause = {"earliest_start": at(11), "latest_start": at(12), "duration_s": 1800}
    created = add_shift(client, "van-1", at(8), at(16), [{**pause, "place": VADUZ}])
    assert created.status_code == 201, created.text
    shift = created.json()
    [place] = [b["place"] for b in shift["breaks"]]
    assert abs(place["lat"] - VADUZ["lat"]) < 0.005 and abs(place["lon"] - VADUZ["lon"]) < 0.005

    def stored_nodes() -> list[int | None]:
        with Session(client.app.state.engine) as session:
            rows = session.exec(select(ShiftBreak).where(ShiftBreak.shift_id == shift["id"]))
            return [b.node for b in rows]

    [node] = stored_nodes()
    assert node is not None
    path = f"/v1/operator/vehicles/van-1/shifts/{shift['id']}"
    body = {key: shift[key] for key in ("starts_at", "ends_at", "breaks")}
    written = client.put(path, json=body, headers=client.keys["operator"])
    assert written.status_code == 200, written.text
    assert written.json()["breaks"] == shift["breaks"] and stored_nodes() == [node]
    outside = client.put(path, json={**body, "breaks": [{**pause, "place": ZURICH}]},
                         headers=client.keys["operator"])
    assert outside.status_code == 422 and outside.json()["code"] == "outside_area"
    assert stored_nodes() == [node]
    at_depot = client.put(path, json={**body, "breaks": [pause]}, headers=client.keys["operator"])
    assert at_depot.status_code == 200 and at_depot.json()["breaks"][0]["place"] is None
    assert stored_nodes() == [None]


def test_a_change_the_bus_cannot_keep_is_refused_and_nothing_changes(client):
    """The demo bus carries a rider; cutting its shift to end at 08:30 (before the trip) is 409
    vehicle_change_infeasible: the stored shift and the plan are unchanged; deleting the shift is 409
    vehicle_has_riders."""
    booked = book(client)
    assert booked.status_code == 201, booked.text
    op = client.keys["operator"]
    shift = client.get("/v1/operator/vehicles/bus-1/shifts", headers=op).json()[0]
    cut = client.put(f"/v1/operator/vehicles/bus-1/shifts/{shift['id']}", headers=op,
                     json={"starts_at": shift["starts_at"], "ends_at": at(8, 30), "breaks": []})
    assert (cut.status_code, cut.json()["code"]) == (409, "vehicle_change_infeasible")
    assert client.get("/v1/operator/vehicles/bus-1/shifts", headers=op).json() == [shift]
    assert len(client.app.state.dispatch.dispatcher.plan.route("bus-1").stops) == 2
    gone = client.delete(f"/v1/operator/vehicles/bus-1/shifts/{shift['id']}", headers=op)
    assert (gone.status_code, gone.json()["code"]) == (409, "vehicle_has_riders")


def test_a_withdrawn_bus_stays_out_after_a_restart_until_put_back(tmp_path):
    """bus-1 withdrawn; after a restart on the same database it is still out of service (quotes get no
    offer); put back in service it takes a booking; a second in-service is 409."""
    with make_client(tmp_path) as first:
        first.keys = keys(first)
        assert first.post("/v1/operator/vehicles/bus-1/out-of-service",
                          headers=first.keys["operator"]).status_code == 200
    with make_client(tmp_path) as second:
        second.keys = keys(second)
        assert second.app.state.dispatch.dispatcher.plan.state("bus-1").in_service is False
        read = second.get("/v1/operator/vehicles/bus-1", headers=second.keys["operator"]).json()
        assert (read["active"], read["in_service"]) == (False, False)
        assert book(second).status_code == 409
        back = second.post("/v1/operator/vehicles/bus-1/in-service", headers=second.keys["operator"])
        assert back.status_code == 200 and back.json()["in_service"] is True
        assert book(second).status_code == 201
        again = second.post("/v1/operator/vehicles/bus-1/in-service", headers=second.keys["operator"])
        assert (again.status_code, again.json()["code"]) == (409, "already_in_service")


def test_a_vehicle_and_shift_added_come_back_after_a_restart(tmp_path):
    """A van with a shift added at run time is planned again after a restart (the fleet comes from the
    database, the demo fleet is not written twice)."""
    with make_client(tmp_path) as first:
        first.keys = keys(first)
        add_bus(first)
        assert add_shift(first, "van-1", at(8), at(16)).status_code == 201
    with make_client(tmp_path) as second:
        assert sorted(second.app.state.dispatch.dispatcher.plan.vehicles) == ["bus-1", "van-1"]
        with Session(second.app.state.engine) as session:
            assert len(session.exec(select(Vehicle)).all()) == 2


def test_a_change_the_database_refuses_leaves_the_plan_as_it_was(client, monkeypatch):
    """When writing a new shift fails (503), the dispatcher does not plan the van either."""
    from api.db.repository import PersistenceError
    from api.services import fleet_admin

    def refuse(*_, **__):
        raise PersistenceError("the database is away")

    add_bus(client)
    monkeypatch.setattr(fleet_admin, "save_shift", refuse)
    assert add_shift(client, "van-1", at(8), at(16)).status_code == 503
    assert "van-1" not in client.app.state.dispatch.dispatcher.plan.vehicles


def test_a_bus_without_a_shift_is_withdrawn_in_the_database_only(client):
    """A van without any shift is not planned; withdrawing it answers 200 with nobody to re-plan and
    stores it inactive; a second withdrawal is 409 already_out_of_service, an unknown bus 404."""
    add_bus(client)
    op = client.keys["operator"]
    answer = client.post("/v1/operator/vehicles/van-1/out-of-service", headers=op)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"vehicle_id": "van-1", "replanned": [], "rejected": []}
    assert client.get("/v1/operator/vehicles/van-1", headers=op).json()["active"] is False
    again = client.post("/v1/operator/vehicles/van-1/out-of-service", headers=op)
    assert (again.status_code, again.json()["code"]) == (409, "already_out_of_service")
    unknown = client.post("/v1/operator/vehicles/nope/out-of-service", headers=op)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_vehicle")
