"""One unit of work for every change of the plan (:func:`api.services.live_plan.plan_change`), through the
API on SQLite and on PostgreSQL: a change is published only after it is saved, a failed save leaves the
plan as it was and publishes nothing, and a failure to publish a saved change does not undo it.

The database fails for real: another connection holds the write lock (SQLite) or locks the bookings
table (PostgreSQL), and the app's write gives up after its lock timeout of one second."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from api.app import create_app
from api.auth import create_user
from api.clock import ServiceClock
from api.db.models import Booking
from api.db.session import create_db_engine
from api.settings import Settings
from dispatch.dispatcher import RequestStatus
from dispatch.events import DomainEvent, EventKind
from tests.api.conftest import NOW as START
from tests.api.conftest import SCHAAN, VADUZ, ZONE, MovableClock


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of this test's own whose writers wait at most one second for a lock: a SQLite file, or
    a fresh schema on the PostgreSQL server (dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'rufbus.sqlite3'}?timeout=1"
        return
    server_url = request.getfixturevalue("postgres_url")
    schema = f"rufbus_unit_{secrets.token_hex(6)}"
    admin = create_db_engine(server_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield make_url(server_url).update_query_dict(
            {"options": f"-csearch_path={schema} -clock_timeout=1000"}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def client(database_url: str, app_clock: MovableClock) -> Iterator[TestClient]:
    """The app with one bus (bus-1); keys of a rider and bus-1's driver in ``client.keys``; every event
    the app publishes in ``client.published``."""
    app = create_app(Settings(database_url=database_url, demo_buses=1),
                     clock=ServiceClock(ZONE, wall_clock=app_clock))
    with TestClient(app, raise_server_exceptions=False) as test_client:  # a 500 is an answer to check
        with Session(app.state.engine) as session:
            test_client.keys = {  # type: ignore[attr-defined]
                name: {"Authorization":
                       f"Bearer {create_user(session, name=name, role=role, vehicle_id=bus)[1]}"}
                for name, role, bus in (("rider", "rider", None), ("driver", "driver", "bus-1"))}
        live = app.state.dispatch
        published: list[DomainEvent] = []
        forward = live.on_events

        def record(events: list[DomainEvent]) -> None:
            published.extend(events)
            forward(events)

        live.on_events = record
        test_client.published = published  # type: ignore[attr-defined]
        yield test_client


@contextmanager
def writes_blocked(database_url: str) -> Iterator[None]:
    """Another connection holds the lock writers need (SQLite: the database's write lock; PostgreSQL:
    the bookings table in EXCLUSIVE mode, which lets reads through) until the block ends."""
    engine = create_db_engine(database_url.removesuffix("?timeout=1"))
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                connection.exec_driver_sql("COMMIT")  # end the BEGIN the engine issued: take the lock now
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                connection.execute(text("LOCK TABLE bookings IN EXCLUSIVE MODE"))
            try:
                yield
            finally:
                connection.rollback()
    finally:
        engine.dispose()


def quote(client: TestClient, hour: int = 9) -> str:
    """The rider's quote for Vaduz → Schaan leaving after hour:00 today; its id."""
    body = {"origin": VADUZ, "destination": SCHAAN, "time_type": "leave_after",
            "time": START.replace(hour=hour).isoformat(), "seats": 1, "wheelchairs": 0}
    offer = client.post("/v1/quotes", json=body, headers=client.keys["rider"])  # type: ignore[attr-defined]
    assert offer.status_code == 200, offer.text
    return offer.json()["quote_id"]


def book(client: TestClient, quote_id: str, key: str):
    """Book ``quote_id`` as the rider with Idempotency-Key ``key``."""
    return client.post("/v1/bookings", json={"quote_id": quote_id},
                       headers=client.keys["rider"] | {"Idempotency-Key": key})  # type: ignore[attr-defined]


def stored_status(client: TestClient, booking_id: str) -> RequestStatus | None:
    """The booking's status in the database (None without a row)."""
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        row = session.exec(select(Booking).where(Booking.id == booking_id)).first()
        return None if row is None else row.status


def test_a_booking_the_database_cannot_write_is_503_publishes_nothing_and_its_key_works_later(
        client: TestClient, database_url: str) -> None:
    """With the database's write lock held elsewhere, booking a quote answers 503 database_unavailable:
    no row, nothing published (no booking_confirmed, no booking_cancelled), the plan holds no booking
    and the quote stays open. Once the lock is gone, the same Idempotency-Key books it: 201, stored,
    booking_confirmed published once."""
    quote_id = quote(client)
    published: list[DomainEvent] = client.published  # type: ignore[attr-defined]
    published.clear()
    with writes_blocked(database_url):
        refused = book(client, quote_id, "k-outage")
    assert refused.status_code == 503, refused.text
    assert refused.json()["code"] == "database_unavailable"
    assert published == []
    assert stored_status(client, quote_id) is None
    live = client.app.state.dispatch  # type: ignore[attr-defined]
    assert quote_id not in live.dispatcher.plan.bookings() and quote_id in live.quotes
    assert all(stop.request_id != quote_id for stop in live.dispatcher.plan.route("bus-1").stops)

    retried = book(client, quote_id, "k-outage")
    assert retried.status_code == 201, retried.text
    assert retried.json()["id"] == quote_id and retried.json()["status"] == "booked"
    assert stored_status(client, quote_id) is RequestStatus.BOOKED
    assert [e.kind for e in published if e.request_id == quote_id] == [EventKind.BOOKING_CONFIRMED]
    assert book(client, quote_id, "k-outage").status_code == 200  # and a further retry books nothing


def test_a_stop_report_whose_publishing_fails_stays_saved_and_in_the_plan(
        client: TestClient, app_clock: MovableClock, caplog: pytest.LogCaptureFixture) -> None:
    """The live layer fails while a pickup is published, after it was saved: the report still answers
    204, the plan and the database both say picked up (the plan is not rolled back), the failure is
    logged, and the trip goes on: the drop-off is reported and saved as usual."""
    booking_id = quote(client)
    assert book(client, booking_id, "k-ride").status_code == 201
    app_clock.moment = START.replace(hour=9, minute=5)
    driver = client.keys["driver"]  # type: ignore[attr-defined]
    assert client.post("/v1/driver/arrived", headers=driver).status_code == 204
    live = client.app.state.dispatch  # type: ignore[attr-defined]
    working = live.on_events

    def broken(events: list[DomainEvent]) -> None:
        raise ConnectionError("the live layer is gone")

    live.on_events = broken
    with caplog.at_level(logging.ERROR, logger="api.services.live_plan"):
        answer = client.post("/v1/driver/picked-up", json={"booking_id": booking_id}, headers=driver)
    assert answer.status_code == 204, answer.text
    assert "publishing" in caplog.text and "the live layer is gone" in caplog.text
    assert live.dispatcher.plan.booking(booking_id).status is RequestStatus.PICKED_UP
    assert stored_status(client, booking_id) is RequestStatus.PICKED_UP

    live.on_events = working
    assert client.post("/v1/driver/arrived", headers=driver).status_code == 204
    assert client.post("/v1/driver/dropped-off", json={"booking_id": booking_id},
                       headers=driver).status_code == 204
    assert live.dispatcher.plan.booking(booking_id).status is RequestStatus.COMPLETED
    assert stored_status(client, booking_id) is RequestStatus.COMPLETED
