"""The retention job (api.services.retention) and the operators' privacy settings
(api.services.privacy_settings) through the real app on SQLite and PostgreSQL with a movable service
clock: two trips driven on one day, the clock moved 90 days on to between them, the job coarsens exactly
the older one and prunes the events before the cut but the reports' kinds; the county's figures stay;
``rufbus retention run --dry-run`` counts without changing; bad settings are 422."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from api.app import create_app
from api.auth import create_user
from api.cli import app as cli
from api.clock import ServiceClock
from api.db.models import Booking, Event, RetentionRun
from api.grid import cell_of
from api.services.retention import REPORT_EVENT_KINDS
from api.settings import Settings
from tests.api.conftest import NOW, OPERATOR, SCHAAN, VADUZ, ZONE, AppSetup, MovableClock
from tests.api.test_plan_change import database_url  # noqa: F401 (fixture: SQLite file or PostgreSQL schema)

CLIENT = AppSetup(users=(OPERATOR,))  # the module's app for the settings' validation
SETTINGS = {"coarsen_after_days": 90, "prune_after_days": 90, "bus_visible_minutes": 10,
            "driver_contact_stops": 2, "driver_contact_minutes": 30}


@pytest.fixture
def client(database_url: str, app_clock: MovableClock) -> Iterator[TestClient]:  # noqa: F811
    """The app with one bus on the test's database, the clock at 08:00; keys of a rider, bus-1's
    driver and an operator in ``client.keys``."""
    app = create_app(Settings(database_url=database_url, demo_buses=1, retention_every_s=0),
                     clock=ServiceClock(ZONE, wall_clock=app_clock))
    with TestClient(app) as test_client, Session(app.state.engine) as session:
        keys = {name: create_user(session, name=name, role=role, vehicle_id=bus)[1]
                for name, role, bus in (("rider", "rider", None), ("driver", "driver", "bus-1"),
                                        ("operator", "operator", None))}
        test_client.keys = {n: {"Authorization": f"Bearer {k}"} for n, k in keys.items()}  # type: ignore[attr-defined]
        yield test_client


def book(client: TestClient, at: datetime) -> str:
    """The rider books Vaduz → Schaan leaving after ``at``; the booking's id."""
    body = {"origin": VADUZ, "destination": SCHAAN, "time_type": "leave_after", "time": at.isoformat(),
            "seats": 1, "wheelchairs": 0}
    offer = client.post("/v1/quotes", json=body, headers=client.keys["rider"])  # type: ignore[attr-defined]
    assert offer.status_code == 200, offer.text
    quote_id = offer.json()["quote_id"]
    booked = client.post("/v1/bookings", json={"quote_id": quote_id},
                         headers=client.keys["rider"] | {"Idempotency-Key": f"key-{quote_id}"})  # type: ignore[attr-defined]
    assert booked.status_code == 201, booked.text
    return booked.json()["id"]


def drive_the_day(client: TestClient, clock: MovableClock) -> None:
    """The driver serves every stop of bus-1's route at its planned time."""
    driver = client.keys["driver"]  # type: ignore[attr-defined]
    for _ in range(20):
        stops = client.get("/v1/driver/route", headers=driver).json()["stops"]
        if not stops:
            return
        stop = stops[0]
        clock.moment = max(clock.moment, datetime.fromisoformat(stop["planned_start"]))
        assert client.post("/v1/driver/arrived", headers=driver).status_code == 204
        action = "picked-up" if stop["kind"] == "pickup" else "dropped-off"
        answer = client.post(f"/v1/driver/{action}", json={"booking_id": stop["booking_id"]}, headers=driver)
        assert answer.status_code == 204, answer.text
    raise AssertionError("the route did not end")


def kpis(client: TestClient) -> list[dict[str, str]]:
    """The county's figures of the trips' month (kpis.csv), one row per day."""
    answer = client.get("/v1/operator/reports/kpis.csv", headers=client.keys["operator"],  # type: ignore[attr-defined]
                        params={"from": "2026-11-01", "to": "2026-11-30"})
    assert answer.status_code == 200, answer.text
    return list(csv.DictReader(io.StringIO(answer.text.lstrip("\ufeff")), delimiter=";"))


def test_retention_coarsens_exactly_the_trips_older_than_n_days_and_the_reports_keep_their_figures(
        client, app_clock):
    """Two trips (09:00 and 11:00) are driven; 90 days later at 10:00 the job coarsens the 09:00 trip only
    (its places become their grid cells' centres, its Idempotency-Key goes), prunes the events before
    10:00 of day 0 except the bus arrivals and cancellations the reports read, and records the counts.
    The month's figures are the same afterwards but vehicle-km; a second run changes nothing."""
    operator = client.keys["operator"]
    assert client.put("/v1/operator/retention", json=SETTINGS, headers=operator).status_code == 200
    older, newer = book(client, NOW.replace(hour=9)), book(client, NOW.replace(hour=11))
    drive_the_day(client, app_clock)
    app_clock.moment = NOW.replace(hour=10) + timedelta(days=90)
    before = kpis(client)
    with Session(client.app.state.engine) as session:
        exact = {row.id: row.model_copy() for row in session.exec(select(Booking)).all()}
        events_before = session.exec(select(Event)).all()
    cut = NOW.replace(hour=10)

    done = client.app.state.retention.run_once()

    assert (done.bookings_coarsened, done.coarsened_before) == (1, cut)
    prunable = [e for e in events_before if e.time < cut and e.kind not in REPORT_EVENT_KINDS]
    assert prunable and done.events_pruned == len(prunable)
    with Session(client.app.state.engine) as session:
        rows = {row.id: row for row in session.exec(select(Booking)).all()}
        events_after = session.exec(select(Event)).all()
        assert session.exec(select(RetentionRun)).one().bookings_coarsened == 1
    coarse, kept = rows[older], rows[newer]
    origin = cell_of(exact[older].origin_lat, exact[older].origin_lon)
    assert (coarse.origin_lat, coarse.origin_lon) == (origin.lat, origin.lon) != (VADUZ["lat"], VADUZ["lon"])
    destination = cell_of(exact[older].destination_lat, exact[older].destination_lon)
    assert (coarse.destination_lat, coarse.destination_lon) == (destination.lat, destination.lon)
    pickup = cell_of(exact[older].pickup_lat, exact[older].pickup_lon)
    assert (coarse.pickup_lat, coarse.pickup_lon, coarse.pickup_walk_m) == (pickup.lat, pickup.lon, None)
    assert coarse.idempotency_key is None and coarse.coarsened_at == app_clock.moment
    assert kept.model_dump() == exact[newer].model_dump()  # 11:00 is not 90 days ago yet
    assert all(e.time >= cut or e.kind in REPORT_EVENT_KINDS for e in events_after)
    assert any(e.kind in REPORT_EVENT_KINDS and e.request_id == older for e in events_after)
    after = kpis(client)
    changing = {"vehicle_km", "cost", "cost_per_trip"}
    assert [{k: v for k, v in day.items() if k not in changing} for day in after] == \
           [{k: v for k, v in day.items() if k not in changing} for day in before]
    served_day = next(day for day in after if day["served"] == "2")
    assert float(served_day["vehicle_km"]) > 0  # measured between the cells' road nodes now
    again = client.app.state.retention.run_once()
    assert (again.bookings_coarsened, again.events_pruned) == (0, 0)
    retention = client.get("/v1/operator/retention", headers=operator).json()
    assert retention["last_run"]["bookings_coarsened"] == 0 and retention["coarsen_after_days"] == 90


def test_the_dry_run_of_the_command_counts_and_changes_nothing(client, app_clock, database_url,  # noqa: F811
                                                               monkeypatch):
    """``rufbus retention run --dry-run`` on the service's database names the bookings and events due and
    leaves them as they are (the command's clock is the real one: long after the tests' day)."""
    operator = client.keys["operator"]
    assert client.put("/v1/operator/retention", json=SETTINGS | {"coarsen_after_days": 1},
                      headers=operator).status_code == 200
    booked = book(client, NOW.replace(hour=9))
    client.delete(f"/v1/bookings/{booked}", headers=client.keys["rider"])
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = CliRunner().invoke(cli, ["retention", "run", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("would coarsen 1 bookings"), result.output
    with Session(client.app.state.engine) as session:
        row = session.get(Booking, booked)
        assert row is not None and row.coarsened_at is None and row.origin_lat == pytest.approx(VADUZ["lat"],
                                                                                                abs=1e-9)
        assert session.exec(select(RetentionRun)).all() == []
        assert session.exec(select(Event).where(col(Event.request_id) == booked)).all()


@pytest.mark.parametrize("change", [{"coarsen_after_days": 0}, {"prune_after_days": 10**9},
                                    {"bus_visible_minutes": -1}, {"driver_contact_stops": "two"},
                                    {"driver_contact_minutes": float("nan")}, {"extra": 1}])
def test_invalid_privacy_settings_are_refused_and_change_nothing(module_client, change):
    """Days below one or absurdly many, negative minutes, text, NaN or an unknown field: 422
    ``invalid_request``, and the defaults stay in force (version null)."""
    client, operator = module_client, module_client.keys["operator"]
    body = SETTINGS | change
    answer = client.put("/v1/operator/retention", content=_json(body), headers=operator
                        | {"Content-Type": "application/json"})
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_request", answer.text
    assert client.get("/v1/operator/retention", headers=operator).json()["version"] is None


def _json(body: dict) -> str:
    """``body`` as JSON text, NaN written as the bare token some clients send."""
    import json

    return json.dumps(body, allow_nan=True)
