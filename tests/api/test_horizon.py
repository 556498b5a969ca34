"""The rolling horizon (api.services.horizon) through the API in process, on a temporary SQLite database:
a service left running for days plans every shift within its booking horizon, keeps the riders it has,
and its timer rolls the horizon by itself as service time passes. The clock starts at 08:00 on Monday
23 November 2026 (day D); the demo bus is withdrawn, so a van at Schaan with one shift 06:00–20:00 a
day is the only bus."""

from __future__ import annotations

import time as wall
from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.db.models import Event
from tests.api.conftest import NOW, OPERATOR, RIDER, SCHAAN, VADUZ, AppSetup, MovableClock, user_keys

CLIENT = AppSetup({"demo_buses": 1}, (RIDER, OPERATOR))
DAY = timedelta(days=1)


def at(days: int, hour: int, minute: int = 0) -> datetime:
    """``hour:minute`` local on day D + ``days``."""
    return NOW.replace(hour=hour, minute=minute) + days * DAY


def van_with_daily_shifts(client: TestClient, days: range) -> dict[str, str]:
    """Withdraw the demo bus, add van-1 at Schaan with one shift 06:00–20:00 on each of ``days``; the
    key of its driver."""
    op = client.keys["operator"]  # type: ignore[attr-defined]
    assert client.post("/v1/operator/vehicles/bus-1/out-of-service", headers=op).status_code == 200
    assert client.post("/v1/operator/vehicles", headers=op, json={
        "id": "van-1", "name": "Van", "seats": 4, "wheelchair_spaces": 0, "depot": SCHAAN}).status_code == 201
    for d in days:
        answer = client.post("/v1/operator/vehicles/van-1/shifts", headers=op, json={
            "starts_at": at(d, 6).isoformat(), "ends_at": at(d, 20).isoformat(), "breaks": []})
        assert answer.status_code == 201, answer.text
    return user_keys(client, (("van-driver", "driver", "van-1"),))["van-driver"]


def quote(client: TestClient, moment: datetime):
    return client.post("/v1/quotes", headers=client.keys["rider"], json={  # type: ignore[attr-defined]
        "origin": VADUZ, "destination": SCHAAN, "time_type": "leave_after", "time": moment.isoformat(),
        "seats": 1, "wheelchairs": 0})


def book(client: TestClient, moment: datetime) -> dict:
    offer = quote(client, moment)
    assert offer.status_code == 200, f"{moment}: {offer.text}"
    quote_id = offer.json()["quote_id"]
    booked = client.post("/v1/bookings", json={"quote_id": quote_id},
                         headers=client.keys["rider"] | {"Idempotency-Key": quote_id})  # type: ignore[attr-defined]
    assert booked.status_code == 201, booked.text
    return booked.json()


def drive_until(client: TestClient, clock: MovableClock, driver: dict[str, str], until: datetime) -> int:
    """The driver serves every stop of the van's route that starts before ``until`` at its planned time
    (a break for its whole length), then the clock stands at ``until``; how many riders were dropped off."""
    dropped = 0
    while True:
        stops = client.get("/v1/driver/route", headers=driver).json()["stops"]
        if not stops or datetime.fromisoformat(stops[0]["planned_start"]) >= until:
            break
        stop = stops[0]
        clock.moment = max(clock.moment, datetime.fromisoformat(stop["planned_start"]))
        assert client.post("/v1/driver/arrived", headers=driver).status_code == 204
        if stop["kind"] == "break":
            clock.moment = datetime.fromisoformat(stop["planned_departure"])
            assert client.post("/v1/driver/break-finished", headers=driver).status_code == 204
        else:
            action = "picked-up" if stop["kind"] == "pickup" else "dropped-off"
            answer = client.post(f"/v1/driver/{action}", headers=driver,
                                 json={"booking_id": stop["booking_id"]})
            assert answer.status_code == 204, answer.text
            dropped += stop["kind"] == "dropoff"
    clock.moment = until
    return dropped


def van_in_service(client: TestClient) -> bool:
    answer = client.get("/v1/operator/vehicles/van-1", headers=client.keys["operator"])  # type: ignore[attr-defined]
    return answer.json()["in_service"]


def test_a_service_running_eight_days_books_every_day_and_prebooks_up_to_its_horizon(client, app_clock):
    """One shift a day on D … D+15, the 7-day horizon, the service never restarted. Each morning at 08:00
    (the timer's roll done, the van driven through yesterday's trips and its night off) a trip at 10:00
    that day is booked, and one at 07:30 seven days ahead (inside the horizon, that day's shift begins
    before it ends) is pre-booked, while 08:30 seven days ahead is refused beyond_horizon. The pre-booking
    made on D is kept through seven rolls and served on D+7; every day's trip is served."""
    driver = van_with_daily_shifts(client, range(16))
    horizon = client.app.state.horizon  # type: ignore[attr-defined]
    prebooked = []
    dropped = 0
    for day in range(8):
        dropped += drive_until(client, app_clock, driver, at(day, 8))
        horizon.run_once()
        assert van_in_service(client)
        assert book(client, at(day, 10))["vehicle_id"] == "van-1"
        prebooked.append(book(client, at(day + 7, 7, 30)))
        beyond = quote(client, at(day + 7, 8, 30))
        assert (beyond.status_code, beyond.json()["code"]) == (409, "beyond_horizon")
    first = client.get(f"/v1/bookings/{prebooked[0]['id']}", headers=client.keys["rider"]).json()
    assert first["status"] == "completed" and first["pickup_window"] == prebooked[0]["pickup_window"]
    rider = client.keys["rider"]  # type: ignore[attr-defined]
    later = [client.get(f"/v1/bookings/{b['id']}", headers=rider).json() for b in prebooked[1:]]
    assert [(b["status"], b["pickup_window"]) for b in later] == [("booked", b["pickup_window"])
                                                                 for b in prebooked[1:]]
    dropped += drive_until(client, app_clock, driver, at(7, 12))
    assert dropped == 8 + 1  # the trips of D … D+7 and the pre-booking of D for D+7


def test_the_van_of_the_issue_takes_trips_on_its_days_and_leaves_service_after_them(client, app_clock):
    """Shifts 06–20 on D … D+3 and nobody driving: asked on D, a trip on D+2 at 10:00 gets an offer; on
    D+2 at 08:00, after the roll, it gets one again (the nights off already past are no longer planned),
    and the van is in service; after D+3 20:00 the roll takes it out of service, and a trip on D+4 is
    refused while the van is listed out of service."""
    van_with_daily_shifts(client, range(4))
    horizon = client.app.state.horizon  # type: ignore[attr-defined]
    assert quote(client, at(2, 10)).status_code == 200
    app_clock.moment = at(2, 8)
    assert horizon.run_once() == ["van-1"]
    assert van_in_service(client)
    offer = quote(client, at(2, 10))
    assert offer.status_code == 200, offer.text
    app_clock.moment = at(3, 21)
    assert horizon.run_once() == ["van-1"]
    assert not van_in_service(client)
    refused = quote(client, at(4, 10))
    assert (refused.status_code, refused.json()["code"]) == (409, "no_vehicle_in_time")


def test_a_roll_keeps_riders_on_board_and_booked(client, app_clock):
    """A rider on board the van and another pre-booked for D+3 when the operator lengthens the horizon to
    8 days: the roll plans the van with the shift of D+8 too, the rider on board is still to be dropped
    off first and both keep their bookings and windows; a horizon_rolled event is logged."""
    driver = van_with_daily_shifts(client, range(10))
    on_board, ahead = book(client, at(0, 10)), book(client, at(3, 10))
    pickup = client.get("/v1/driver/route", headers=driver).json()["stops"][0]
    app_clock.moment = datetime.fromisoformat(pickup["planned_start"])
    assert client.post("/v1/driver/arrived", headers=driver).status_code == 204
    assert client.post("/v1/driver/picked-up", headers=driver, json={"booking_id": on_board["id"]}
                       ).status_code == 204
    op = client.keys["operator"]  # type: ignore[attr-defined]
    rules = {k: v for k, v in client.get("/v1/operator/rules", headers=op).json().items()
             if k not in ("version", "valid_from")}
    assert client.put("/v1/operator/rules", headers=op,
                      json={**rules, "booking_horizon_s": 8 * 86_400}).status_code == 200
    assert client.app.state.horizon.run_once() == ["van-1"]  # type: ignore[attr-defined]
    vehicle = client.app.state.dispatch.dispatcher.plan.vehicle("van-1")  # type: ignore[attr-defined]
    assert datetime.fromisoformat(client.app.state.dispatch.clock.to_datetime(  # type: ignore[attr-defined]
        vehicle.shift_end).isoformat()) == at(8, 20)
    stops = client.get("/v1/driver/route", headers=driver).json()["stops"]
    assert (stops[0]["kind"], stops[0]["booking_id"]) == ("dropoff", on_board["id"])
    for booking, status in ((on_board, "picked_up"), (ahead, "booked")):
        now = client.get(f"/v1/bookings/{booking['id']}", headers=client.keys["rider"]).json()
        assert (now["status"], now["pickup_window"]) == (status, booking["pickup_window"])
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        assert session.exec(select(Event).where(Event.kind == "horizon_rolled")).one().vehicle_id == "van-1"


def test_the_timer_rolls_the_horizon_by_itself_as_service_time_passes(client_factory, app_clock):
    """With the timer looking at the clock every 50 ms and rolling every hour of service time: nothing
    rolls while the clock stands; once it is moved to D+2 08:00 the van is planned from that day's shift
    within seconds, without any request."""
    with client_factory(replan_every_s=3600, replan_poll_s=0.05) as client:
        van_with_daily_shifts(client, range(4))
        dispatcher = client.app.state.dispatch.dispatcher
        clock = client.app.state.dispatch.clock
        wall.sleep(0.3)
        assert clock.to_datetime(dispatcher.plan.vehicle("van-1").shift_start) == at(0, 6)
        app_clock.moment = at(2, 8)
        deadline = wall.monotonic() + 10
        while clock.to_datetime(dispatcher.plan.vehicle("van-1").shift_start) != at(2, 6):
            assert wall.monotonic() < deadline, "the timer did not roll the horizon"
            wall.sleep(0.05)


def test_a_roll_during_the_night_off_keeps_the_break_the_driver_is_taking(client, app_clock):
    """The driver of the van arrives for the night off at 20:00 on D; a roll at 21:00 (D's shift has
    ended) keeps that break at the head of the route, the driver finishes it at 06:00 on D+1, and a trip
    at 10:00 that day is booked."""
    driver = van_with_daily_shifts(client, range(3))
    horizon = client.app.state.horizon  # type: ignore[attr-defined]
    app_clock.moment = at(0, 20)
    assert client.post("/v1/driver/arrived", headers=driver).status_code == 204
    app_clock.moment = at(0, 21)
    assert horizon.run_once() == ["van-1"]  # planned from D+1 06:00 now
    stops = client.get("/v1/driver/route", headers=driver).json()["stops"]
    assert stops[0]["kind"] == "break"
    assert van_in_service(client)
    app_clock.moment = at(1, 6)
    assert client.post("/v1/driver/break-finished", headers=driver).status_code == 204
    horizon.run_once()
    assert book(client, at(1, 10))["vehicle_id"] == "van-1"
