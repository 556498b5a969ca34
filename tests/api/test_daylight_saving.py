"""The service on the nights the clocks change (29 March and 25 October 2026 in Europe/Vaduz), in process
(TestClient) on a temporary SQLite database with a clock the tests move: offers expire on real time,
night shifts last their real length, and trips in the repeated hour are planned and shown with the UTC
offset of their pass (api.clock's one timeline, through the rider and operator APIs).

Every test runs the service all day (service hours 00:00–24:00, so that night trips are served) and
adds a van ``night-1`` at Vaduz with a 20:00–06:00 shift over the change; the demo bus is there too.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from dispatch.model import ServiceRules
from tests.api.conftest import OPERATOR, RIDER, SCHAAN, VADUZ, ZONE, AppSetup, MovableClock

CLIENT = AppSetup({"demo_buses": 1}, (RIDER, OPERATOR))

SPRING_SHIFT = (datetime(2026, 3, 28, 20, 0, tzinfo=ZONE), datetime(2026, 3, 29, 6, 0, tzinfo=ZONE))
AUTUMN_SHIFT = (datetime(2026, 10, 24, 20, 0, tzinfo=ZONE), datetime(2026, 10, 25, 6, 0, tzinfo=ZONE))


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)  # type: ignore[misc]


def open_for_the_night(client: TestClient, shift: tuple[datetime, datetime]) -> dict:
    """Serve all day and add van ``night-1`` at Vaduz working ``shift``; the shift as stored."""
    operator = client.keys["operator"]
    rules = dataclasses.asdict(ServiceRules()) | {"service_start_s": 0, "service_end_s": 86_400}
    assert client.put("/v1/operator/rules", json=rules, headers=operator).status_code == 200
    van = {"id": "night-1", "name": "Night van", "seats": 4, "wheelchair_spaces": 0, "depot": VADUZ}
    assert client.post("/v1/operator/vehicles", json=van, headers=operator).status_code == 201
    made = client.post("/v1/operator/vehicles/night-1/shifts", headers=operator,
                       json={"starts_at": shift[0].isoformat(), "ends_at": shift[1].isoformat()})
    assert made.status_code == 201, made.text
    return made.json()


def quote(client: TestClient, leave_after: datetime):
    """The rider asks for Vaduz → Schaan leaving after ``leave_after``."""
    body = {"origin": VADUZ, "destination": SCHAAN, "time_type": "leave_after",
            "time": leave_after.isoformat(), "seats": 1, "wheelchairs": 0}
    return client.post("/v1/quotes", json=body, headers=client.keys["rider"])


def book(client: TestClient, quote_id: str):
    return client.post("/v1/bookings", json={"quote_id": quote_id},
                       headers=client.keys["rider"] | {"Idempotency-Key": quote_id})


@pytest.mark.parametrize(("made", "valid_until"), [
    (utc(2026, 3, 29, 0, 59), "2026-03-29T03:01:00+02:00"),  # 01:59 +01:00, the clocks jump to 03:00
    (utc(2026, 10, 25, 0, 59), "2026-10-25T02:01:00+01:00"),  # 02:59 +02:00, the clocks go back to 02:00
], ids=["spring", "autumn"])
def test_an_offer_expires_120_real_seconds_after_it_was_made_across_the_change(
        client_factory, app_clock: MovableClock, made: datetime, valid_until: str) -> None:
    """An offer made a minute before the change is valid until 120 real seconds later, shown in the new
    offset: booked after 119 s it is taken, after 121 s it has expired (409 offer_expired) — not an hour
    too early in spring, nor an hour too late in autumn."""
    app_clock.moment = made
    with client_factory() as client:
        open_for_the_night(client, SPRING_SHIFT if made.month == 3 else AUTUMN_SHIFT)
        offers = [quote(client, made + timedelta(minutes=10)) for _ in range(2)]
        for offer in offers:
            assert offer.status_code == 200, offer.text
            assert offer.json()["valid_until"] == valid_until
        app_clock.moment = made + timedelta(seconds=119)
        taken = book(client, offers[0].json()["quote_id"])
        assert taken.status_code == 201, taken.text
        app_clock.moment = made + timedelta(seconds=121)
        late = book(client, offers[1].json()["quote_id"])
        assert late.status_code == 409 and late.json()["code"] == "offer_expired", late.text


@pytest.mark.parametrize(("shift", "hours"), [(SPRING_SHIFT, 9), (AUTUMN_SHIFT, 11)],
                         ids=["spring", "autumn"])
def test_a_night_shift_over_the_change_is_planned_its_real_length(
        client_factory, app_clock: MovableClock, shift: tuple[datetime, datetime], hours: int) -> None:
    """A 20:00–06:00 shift added through the operators' API lasts 9 h in March and 11 h in October in
    the dispatcher's vehicle, and the stored shift reads back as the same two instants."""
    app_clock.moment = shift[0] - timedelta(hours=2)
    with client_factory() as client:
        stored = open_for_the_night(client, shift)
        vehicle = client.app.state.dispatch.dispatcher.plan.vehicles["night-1"]
        assert vehicle.shift_end - vehicle.shift_start == hours * 3600
        dt = client.app.state.dispatch.clock.to_datetime
        assert (dt(vehicle.shift_start), dt(vehicle.shift_end)) == shift
        assert tuple(datetime.fromisoformat(stored[k]) for k in ("starts_at", "ends_at")) == shift


def test_a_trip_in_the_repeated_hour_is_planned_and_shown_in_its_second_pass(
        client_factory, app_clock: MovableClock) -> None:
    """At 02:50 +02:00 on 25 October a rider asks to leave after 02:20 +01:00, half an hour later (the
    second pass of the repeated hour): it is not in the past; the offer, the booking and the booking
    read back show the pickup window, planned pickup and arrival with +01:00, half an hour or more after
    now, in order, and they convert back to the instants the dispatcher planned."""
    now = utc(2026, 10, 25, 0, 50)  # 02:50 +02:00
    leave_after = datetime(2026, 10, 25, 2, 20, fold=1, tzinfo=ZONE)  # 02:20 +01:00 = 01:20 UTC
    assert leave_after.isoformat() == "2026-10-25T02:20:00+01:00"
    app_clock.moment = now
    with client_factory() as client:
        open_for_the_night(client, AUTUMN_SHIFT)
        offer = quote(client, leave_after)
        assert offer.status_code == 200, offer.text
        booked = book(client, offer.json()["quote_id"])
        assert booked.status_code == 201, booked.text
        read = client.get(f"/v1/bookings/{booked.json()['id']}", headers=client.keys["rider"])
        for body in (offer.json(), booked.json(), read.json()):
            window = body["pickup_window"]
            shown = [window["start"], window["end"], body["planned_pickup"], body["estimated_arrival"]]
            assert all(text.endswith("+01:00") for text in shown), shown
            start, end, pickup, arrival = (datetime.fromisoformat(text) for text in shown)
            assert leave_after <= start <= pickup <= end and pickup < arrival < utc(2026, 10, 25, 2, 0)
        live = client.app.state.dispatch
        planned = live.dispatcher.plan.planned_times(booked.json()["id"])
        assert planned is not None and planned.pickup - live.clock.to_seconds(now) >= 30 * 60
        assert [live.clock.to_seconds(datetime.fromisoformat(read.json()[k]))
                for k in ("planned_pickup", "estimated_arrival")] == [planned.pickup, planned.dropoff]


def test_a_booking_in_the_repeated_hour_keeps_its_times_over_a_restart(
        client_factory, app_clock: MovableClock) -> None:
    """A booking for 02:20 +01:00 made at 02:50 +02:00 is read back after a restart at 02:55 +02:00 with
    the same pickup window and planned pickup (stored in UTC, planned again in real seconds): not an hour
    early, nor in the past."""
    app_clock.moment = utc(2026, 10, 25, 0, 50)
    with client_factory() as client:
        open_for_the_night(client, AUTUMN_SHIFT)
        offer = quote(client, datetime(2026, 10, 25, 2, 20, fold=1, tzinfo=ZONE))
        booked = book(client, offer.json()["quote_id"])
        assert booked.status_code == 201, booked.text
        rider, path = client.keys["rider"], f"/v1/bookings/{booked.json()['id']}"
        before = client.get(path, headers=rider).json()
    app_clock.moment = utc(2026, 10, 25, 0, 55)
    with client_factory() as client:
        after = client.get(path, headers=rider).json()
    assert after["status"] == "booked" and after["vehicle_id"] == before["vehicle_id"]
    assert [after[k] for k in ("pickup_window", "planned_pickup")] == \
        [before[k] for k in ("pickup_window", "planned_pickup")]
    assert after["planned_pickup"].endswith("+01:00")
