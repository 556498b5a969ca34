"""Riders' recurring trips booked ahead (api.services.recurring) through the API in process, on a
temporary SQLite database, with the service clock the tests move: each day of a pattern is booked once
it comes into the booking horizon (7 days), through the riders' own booking path (fair-use caps, the
service calendar); a refusal is stored with its cause and shown with the pattern; a day the service is
closed is skipped; and the pattern's time is a local wall-clock time across a daylight-saving change.

The clock starts at 08:00 on Monday 23 November 2026; the demo bus has one shift from then to Sunday
29 November 23:00. The booker's own thread is off (``recurring_every_s=0``): the tests run it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.app import create_app
from api.clock import ServiceClock
from api.db.models import Booking, RecurringOccurrence
from api.settings import Settings
from tests.api.conftest import (
    NOW,
    OPERATOR,
    RIDER,
    SCHAAN,
    VADUZ,
    ZONE,
    AppSetup,
    MovableClock,
    open_client,
    postgres_schema,
    user_keys,
)

CLIENT = AppSetup({"demo_buses": 1, "recurring_every_s": 0}, (RIDER, OPERATOR))


def pattern(weekdays: list[int], time: str = "09:00", first: str = "2026-11-23", last: str = "2026-12-31"
            ) -> dict:
    return {"name": "Physio", "origin": VADUZ, "destination": SCHAAN, "weekdays": weekdays,
            "time_type": "leave_after", "time": time, "seats": 1, "wheelchairs": 0, "first_day": first,
            "last_day": last}


def create(client: TestClient, body: dict) -> int:
    made = client.post("/v1/rider/recurring-trips", json=body, headers=client.keys["rider"])  # type: ignore[attr-defined]
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def occurrences(client: TestClient, trip_id: int) -> dict[str, dict]:
    """The days of a pattern as the rider's app shows them, by day."""
    answer = client.get(f"/v1/rider/recurring-trips/{trip_id}", headers=client.keys["rider"])  # type: ignore[attr-defined]
    assert answer.status_code == 200, answer.text
    return {o["day"]: o for o in answer.json()["occurrences"]}


def run(client: TestClient) -> list[RecurringOccurrence]:
    return client.app.state.recurring.run_once()  # type: ignore[attr-defined, no-any-return]


def test_a_day_is_booked_once_it_comes_into_the_horizon_and_only_once(client, app_clock: MovableClock):
    """On Monday the Wednesday trip is booked (a booking of the rider's, leaving after 09:00 local), next
    Wednesday is not yet tried; a second run books nothing more. On Thursday next Wednesday is in the
    horizon and is tried: no bus works that day, so it is refused with the dispatcher's cause."""
    trip_id = create(client, pattern([2]))
    first = run(client)
    assert [(o.day.isoformat(), o.outcome.value) for o in first] == [("2026-11-25", "booked")]
    shown = occurrences(client, trip_id)
    assert list(shown) == ["2026-11-25"]
    booking = client.get(f"/v1/bookings/{shown['2026-11-25']['booking_id']}", headers=client.keys["rider"])
    assert booking.status_code == 200 and booking.json()["status"] == "booked"
    pickup_from = datetime.fromisoformat(booking.json()["pickup_window"]["start"])
    assert pickup_from >= datetime(2026, 11, 25, 9, tzinfo=ZONE)
    assert shown["2026-11-25"]["trip_time"] == "2026-11-25T09:00:00+01:00"
    assert run(client) == []
    app_clock.moment = datetime(2026, 11, 26, 10, 0, tzinfo=ZONE)
    later = run(client)
    assert [o.day.isoformat() for o in later] == ["2026-12-02"]
    refused = occurrences(client, trip_id)["2026-12-02"]
    assert refused["outcome"] == "refused" and refused["booking_id"] is None
    assert refused["cause"] == "no_vehicle_in_time" and refused["message"]


def test_a_day_over_the_riders_fair_use_cap_is_refused_and_the_rider_sees_why(client_factory):
    """With one open booking allowed, Tuesday's trip is booked and Wednesday's refused
    ``too_many_open_bookings`` — the cap of the rider's own bookings — and the app shows both."""
    with client_factory(fair_use_max_open_bookings=1) as client:
        trip_id = create(client, pattern([1, 2]))
        run(client)
        shown = occurrences(client, trip_id)
        assert shown["2026-11-24"]["outcome"] == "booked"
        assert shown["2026-11-25"]["outcome"] == "refused"
        assert shown["2026-11-25"]["cause"] == "too_many_open_bookings"
        listed = client.get("/v1/bookings", headers=client.keys["rider"]).json()
        assert [b["id"] for b in listed["items"]] == [shown["2026-11-24"]["booking_id"]]


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    """The module's app on a SQLite file or a fresh PostgreSQL schema, the clock at 08:00 on Monday."""
    if request.param == "sqlite":
        with open_client(tmp_path, CLIENT) as client:
            yield client
        return
    with postgres_schema(request.getfixturevalue("postgres_url"), "rufbus_recurring") as url:
        app = create_app(Settings(database_url=url, **CLIENT.settings), clock=ServiceClock(ZONE, lambda: NOW))
        with TestClient(app) as client:
            client.keys = user_keys(client, CLIENT.users)  # type: ignore[attr-defined]
            yield client


def test_a_day_without_service_is_skipped_and_books_nothing(any_database):
    """The operator closes Wednesday 25 November (a holiday): that day is recorded ``no_service`` and no
    booking is made; Thursday is booked as usual (on SQLite and PostgreSQL)."""
    client = any_database
    closed = client.post("/v1/operator/calendar/exceptions", json={"day": "2026-11-25", "name": "Feiertag"},
                         headers=client.keys["operator"])  # type: ignore[attr-defined]
    assert closed.status_code == 201, closed.text
    trip_id = create(client, pattern([2, 3]))
    run(client)
    shown = occurrences(client, trip_id)
    assert shown["2026-11-25"]["outcome"] == "no_service" and shown["2026-11-25"]["booking_id"] is None
    assert shown["2026-11-26"]["outcome"] == "booked"
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        assert len(session.exec(select(Booking)).all()) == 1


def test_the_patterns_time_is_local_wall_clock_time_across_the_spring_change(client_factory,
                                                                             app_clock: MovableClock):
    """Across 28 March 2027 (clocks forward) a Friday and Monday 08:00 pattern books 08:00 local both
    days: 07:00 UTC on Friday, 06:00 UTC on Monday — 71 real hours apart, not 72."""
    app_clock.moment = datetime(2027, 3, 25, 8, 0, tzinfo=ZONE)
    with client_factory() as client:
        trip_id = create(client, pattern([0, 4], time="08:00", first="2027-03-25", last="2027-04-30"))
        outcomes = run(client)
        assert [(o.day.isoformat(), o.outcome.value) for o in outcomes] == [
            ("2027-03-26", "booked"), ("2027-03-29", "booked")]
        friday, monday = (occurrences(client, trip_id)[day] for day in ("2027-03-26", "2027-03-29"))
        assert friday["trip_time"] == "2027-03-26T08:00:00+01:00"
        assert monday["trip_time"] == "2027-03-29T08:00:00+02:00"
        instants = [datetime.fromisoformat(o["trip_time"]) for o in (friday, monday)]
        assert instants[1] - instants[0] == timedelta(hours=71)
        for occurrence in (friday, monday):
            booking = client.get(f"/v1/bookings/{occurrence['booking_id']}",
                                 headers=client.keys["rider"]).json()
            start = datetime.fromisoformat(booking["pickup_window"]["start"])
            assert start >= datetime.fromisoformat(occurrence["trip_time"])
            assert start - datetime.fromisoformat(occurrence["trip_time"]) < timedelta(hours=1)
