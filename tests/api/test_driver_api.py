"""The drivers' API in process (TestClient) on a temporary SQLite database with one bus and a clock the
tests move: the route to drive, arrivals, pickups, drop-offs, no-shows and positions (who may call what:
tests/api/test_auth.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.db.models import Booking, Event, PlannedStop, User
from tests.api.conftest import DRIVER, OPERATOR, RIDER, SCHAAN, VADUZ, AppSetup, book_vaduz_schaan
from tests.api.conftest import NOW as START

# One bus (bus-1); keys of a rider, bus-1's driver and an operator in ``client.keys``; the clock is
# ``app_clock``, which the tests move.
CLIENT = AppSetup({"demo_buses": 1}, (RIDER, DRIVER, OPERATOR))


def show_riders_the_bus_from(client: TestClient, minutes: int) -> None:
    """The operator lets riders see their bus from ``minutes`` before their pickup (privacy settings)."""
    answer = client.put("/v1/operator/retention", headers=client.keys["operator"], json={
        "coarsen_after_days": 90, "prune_after_days": 365, "bus_visible_minutes": minutes,
        "driver_contact_stops": 2, "driver_contact_minutes": 30})
    assert answer.status_code == 200, answer.text


def book(client: TestClient, hour: int = 9, minute: int = 0) -> dict:
    """The rider books Vaduz → Schaan leaving after hour:minute today (on bus-1)."""
    booking = book_vaduz_schaan(client, START.replace(hour=hour, minute=minute))
    assert booking["vehicle_id"] == "bus-1"
    return booking


def driver_post(client: TestClient, action: str, booking_id: str | None = None):
    """A driver's report about bus-1."""
    body = None if booking_id is None else {"booking_id": booking_id}
    return client.post(f"/v1/driver/{action}", json=body, headers=client.keys["driver"])


def test_the_route_shows_pickup_then_dropoff_with_the_roads_to_drive(client):
    """After one booking, the driver's route is its pickup (with the promised window, one seat) then its
    drop-off, with planned arrival ≤ start ≤ departure, and a LineString of at least two [lon, lat]
    points from the bus's depot through both stops; an operator reads the same route by vehicle id."""
    booking = book(client)
    answer = client.get("/v1/driver/route", headers=client.keys["driver"])
    assert answer.status_code == 200, answer.text
    route = answer.json()
    assert route["vehicle_id"] == "bus-1"
    assert [(s["kind"], s["booking_id"]) for s in route["stops"]] == [("pickup", booking["id"]),
                                                                      ("dropoff", booking["id"])]
    pickup, dropoff = route["stops"]
    assert pickup["pickup_window"] == booking["pickup_window"] and dropoff["pickup_window"] is None
    assert (pickup["seats"], pickup["wheelchairs"]) == (1, 0)
    for stop in route["stops"]:
        times = [datetime.fromisoformat(stop[k])
                 for k in ("planned_arrival", "planned_start", "planned_departure")]
        assert times == sorted(times) and times[0].utcoffset() is not None
    geometry = route["geometry"]
    assert geometry["type"] == "LineString" and len(geometry["coordinates"]) >= 2
    lon, lat = geometry["coordinates"][-1]
    assert (lat, lon) == pytest.approx((dropoff["lat"], dropoff["lon"]))
    assert all(9.4 < lon < 9.7 and 47.0 < lat < 47.3 for lon, lat in geometry["coordinates"])

    operator = client.keys["operator"]
    as_operator = client.get("/v1/driver/route", params={"vehicle_id": "bus-1"}, headers=operator)
    assert as_operator.status_code == 200 and as_operator.json()["stops"] == route["stops"]
    assert client.get("/v1/driver/route", headers=operator).json()["code"] == "vehicle_required"
    assert client.get("/v1/driver/route", params={"vehicle_id": "bus-9"},
                      headers=client.keys["operator"]).status_code == 404


def test_a_trip_served_from_pickup_to_dropoff_is_completed(client, app_clock):
    """arrived → picked-up → arrived → dropped-off, each 204: the booking reads back as completed for
    its rider, the database holds its pickup and drop-off times, the bus has no planned stops left,
    and the four events are logged."""
    booking = book(client)
    app_clock.moment = START.replace(hour=9, minute=5)
    assert driver_post(client, "arrived").status_code == 204
    assert driver_post(client, "picked-up", booking["id"]).status_code == 204
    status = client.get(f"/v1/bookings/{booking['id']}", headers=client.keys["rider"]).json()["status"]
    assert status == "picked_up"
    app_clock.moment = START.replace(hour=9, minute=20)
    assert driver_post(client, "arrived").status_code == 204
    assert driver_post(client, "dropped-off", booking["id"]).status_code == 204

    read = client.get(f"/v1/bookings/{booking['id']}", headers=client.keys["rider"]).json()
    assert read["status"] == "completed"
    with Session(client.app.state.engine) as session:
        row = session.get(Booking, booking["id"])
        assert row.picked_up_at == START.replace(hour=9, minute=5)
        assert row.dropped_off_at == START.replace(hour=9, minute=20)
        assert session.exec(select(PlannedStop).where(PlannedStop.vehicle_id == "bus-1")).all() == []
        kinds = [e.kind.value for e in session.exec(select(Event).where(Event.vehicle_id == "bus-1")
                                                     .order_by(Event.id))]
        assert kinds[-4:] == ["vehicle_arrived", "rider_picked_up", "vehicle_arrived", "rider_dropped_off"]
    assert client.get("/v1/driver/route", headers=client.keys["driver"]).json() == {
        "vehicle_id": "bus-1", "stops": [], "geometry": None, "lock": "none"}


def test_picking_up_a_rider_who_is_not_next_is_409_not_next_stop(client):
    """With two bookings on the one bus, the later rider cannot be picked up first, nor can the first
    rider be dropped off before boarding: 409 not_next_stop, and the booking stays booked."""
    first, later = book(client, hour=9), book(client, hour=11)
    route = client.get("/v1/driver/route", headers=client.keys["driver"]).json()
    assert route["stops"][0]["booking_id"] == first["id"]
    for action, booking_id in (("picked-up", later["id"]), ("dropped-off", first["id"])):
        answer = driver_post(client, action, booking_id)
        assert answer.status_code == 409 and answer.json()["code"] == "not_next_stop"
    status = client.get(f"/v1/bookings/{later['id']}", headers=client.keys["rider"]).json()["status"]
    assert status == "booked"


def test_a_no_show_is_refused_until_the_bus_has_waited(client, app_clock):
    """Arrived at the window's start, a no-show at once is 409 too_early_for_no_show; once the bus has
    waited no_show_wait_s (the driver's route says so at the stop) it is accepted and the booking reads
    back as no_show."""
    booking = book(client)
    window_start = datetime.fromisoformat(booking["pickup_window"]["start"])
    app_clock.moment = window_start
    assert driver_post(client, "arrived").status_code == 204
    early = driver_post(client, "no-show", booking["id"])
    assert early.status_code == 409 and early.json()["code"] == "too_early_for_no_show"
    wait_s = client.app.state.dispatch.dispatcher.rules.no_show_wait_s
    route = client.get("/v1/driver/route", headers=client.keys["driver"]).json()
    assert [s["no_show_wait_s"] for s in route["stops"]] == [wait_s, None]  # nobody after: the full wait
    app_clock.moment = window_start + timedelta(seconds=wait_s)
    assert driver_post(client, "no-show", booking["id"]).status_code == 204
    status = client.get(f"/v1/bookings/{booking['id']}", headers=client.keys["rider"]).json()["status"]
    assert status == "no_show"


def test_nothing_to_serve_is_409_no_next_stop(client):
    """A bus without stops cannot arrive anywhere: 409 no_next_stop."""
    answer = driver_post(client, "arrived")
    assert answer.status_code == 409 and answer.json()["code"] == "no_next_stop"


def test_positions_move_the_bus_to_the_last_one_snapped(client, app_clock):
    """A batch of two positions answers 202 (used) and the bus stands at the road node nearest the last
    one, at its time; a position off the map is 422."""
    app_clock.moment = START + timedelta(minutes=1, seconds=5)
    positions = [{"lat": VADUZ["lat"], "lon": VADUZ["lon"], "at": START.isoformat()},
                 {"lat": SCHAAN["lat"], "lon": SCHAAN["lon"],
                  "at": (START + timedelta(minutes=1)).isoformat()}]
    answer = client.post("/v1/driver/positions", json={"positions": positions}, headers=client.keys["driver"])
    assert answer.status_code == 202 and answer.json() == {"used": True, "ignored": None}, answer.text
    live = client.app.state.dispatch
    state = live.dispatcher.plan.state("bus-1")
    assert state.location == int(live.network.snap([SCHAAN["lat"]], [SCHAAN["lon"]]).node[0])
    assert state.available_at == live.clock.to_seconds(START + timedelta(minutes=1))
    far = [{"lat": 47.3769, "lon": 8.5417, "at": START.isoformat()}]
    assert client.post("/v1/driver/positions", json={"positions": far},
                       headers=client.keys["driver"]).status_code == 422


def report(client: TestClient, place: dict, at: datetime):
    """bus-1's driver reports one position."""
    return client.post("/v1/driver/positions", json={"positions": [{**place, "at": at.isoformat()}]},
                       headers=client.keys["driver"])


def plan_of_bus_1(client: TestClient, booking_id: str) -> tuple:
    """bus-1's state and the booking's planned pickup as the rider reads it."""
    read = client.get(f"/v1/bookings/{booking_id}", headers=client.keys["rider"]).json()
    return client.app.state.dispatch.dispatcher.plan.state("bus-1"), read["planned_pickup"]


def test_a_position_a_day_ahead_is_refused_and_moves_nothing(client):
    """Issue 16: a tablet whose clock jumped a day ahead reports from Schaan: 422 position_in_future
    (saying how far ahead), the bus and the rider's planned pickup stay as they were, and the bus still
    takes a new trip today; so does a batch with one such position among good ones."""
    booking = book(client)
    before = plan_of_bus_1(client, booking["id"])
    answer = report(client, SCHAAN, START + timedelta(days=1))
    assert answer.status_code == 422, answer.text
    refusal = answer.json()
    assert refusal["code"] == "position_in_future" and "86400 s in the future" in refusal["message"]
    batch = [{**SCHAAN, "at": START.isoformat()},
             {**SCHAAN, "at": (START + timedelta(minutes=1)).isoformat()}]
    mixed = client.post("/v1/driver/positions", json={"positions": batch}, headers=client.keys["driver"])
    assert mixed.status_code == 422 and mixed.json()["code"] == "position_in_future"
    assert plan_of_bus_1(client, booking["id"]) == before
    assert book(client, hour=9, minute=30)["vehicle_id"] == "bus-1"


def test_a_tablet_clock_a_little_ahead_counts_as_now(client):
    """A position stamped 20 s ahead (within the 30 s skew) is used as taken now: the bus is at Schaan
    from now on, not 20 s later."""
    answer = report(client, SCHAAN, START + timedelta(seconds=20))
    assert answer.status_code == 202 and answer.json()["used"] is True, answer.text
    live = client.app.state.dispatch
    state = live.dispatcher.plan.state("bus-1")
    assert state.location == int(live.network.snap([SCHAAN["lat"]], [SCHAAN["lon"]]).node[0])
    assert state.available_at == live.clock.to_seconds(START)


def test_stale_and_out_of_order_positions_are_accepted_but_ignored(client):
    """After a position from Schaan of 10 s ago is used, one from Vaduz of a minute ago (out of order) and
    one of 5 minutes ago (stale) answer 202 with ``used`` false and why; the bus stays at Schaan and the
    rider's planned pickup does not move."""
    booking = book(client)
    assert report(client, SCHAAN, START - timedelta(seconds=10)).json() == {"used": True, "ignored": None}
    after = plan_of_bus_1(client, booking["id"])
    for age, why in ((timedelta(minutes=1), "out_of_order"), (timedelta(minutes=5), "stale")):
        answer = report(client, VADUZ, START - age)
        assert answer.status_code == 202 and answer.json() == {"used": False, "ignored": why}, answer.text
        assert plan_of_bus_1(client, booking["id"]) == after


def test_the_rider_sees_the_bus_where_the_driver_last_reported_it(client):
    """After a booking the rider reads the bus at its depot in Vaduz; after the driver reports a position
    in Schaan, the booking shows the bus there (snapped to the road). (The bus is shown from two hours
    before the pickup here.)"""
    show_riders_the_bus_from(client, 120)
    booking = book(client)
    read = client.get(f"/v1/bookings/{booking['id']}", headers=client.keys["rider"]).json()
    assert read["vehicle_position"] == pytest.approx(VADUZ, abs=0.01)
    positions = [{"lat": SCHAAN["lat"], "lon": SCHAAN["lon"], "at": START.isoformat()}]
    assert client.post("/v1/driver/positions", json={"positions": positions},
                       headers=client.keys["driver"]).status_code == 202
    read = client.get(f"/v1/bookings/{booking['id']}", headers=client.keys["rider"]).json()
    assert read["vehicle_position"] == pytest.approx(SCHAAN, abs=0.005)


def test_a_driver_without_a_bus_is_403(client):
    """A driver whose bus binding was removed may neither read a route nor report anything."""
    with Session(client.app.state.engine) as session:
        driver = session.exec(select(User).where(User.name == "driver")).one()
        driver.vehicle_id = None
        session.add(driver)
        session.commit()
    assert client.get("/v1/driver/route", headers=client.keys["driver"]).status_code == 403
    answer = driver_post(client, "arrived")
    assert answer.status_code == 403 and answer.json()["code"] == "forbidden"


def test_a_pickup_the_database_refuses_is_undone_in_the_plan(client, monkeypatch):
    """When writing a pickup fails (503), the plan in force is rolled back with it: the booking is still
    booked in the dispatcher and the database, the pickup is still the bus's next stop, and the pickup
    reported again succeeds."""
    from api.db.repository import IntegrityViolation
    from api.services import driving

    booking = book(client)
    assert driver_post(client, "arrived").status_code == 204

    def refuse(*_, **__):
        raise IntegrityViolation("the database is having a bad day")

    with monkeypatch.context() as patch:
        patch.setattr(driving, "save_booking", refuse)
        failed = driver_post(client, "picked-up", booking["id"])
    assert failed.status_code == 503 and failed.json()["code"] == "integrity_violation"
    dispatcher = client.app.state.dispatch.dispatcher
    assert dispatcher.plan.booking(booking["id"]).status.value == "booked"
    assert dispatcher.plan.state("bus-1").onboard == ()
    status = client.get(f"/v1/bookings/{booking['id']}", headers=client.keys["rider"]).json()["status"]
    assert status == "booked"
    route = client.get("/v1/driver/route", headers=client.keys["driver"]).json()
    assert [s["kind"] for s in route["stops"]] == ["pickup", "dropoff"]
    assert driver_post(client, "picked-up", booking["id"]).status_code == 204
