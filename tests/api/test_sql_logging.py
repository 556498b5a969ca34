"""No SQL parameter reaches a log or an answer (api.db.session): with every statement logged
(``RUFBUS_DATABASE_ECHO``), a database that refuses every new booking and demand record (PostgreSQL: a
check constraint whose message would quote the whole failing row; SQLite: a trigger) makes a quote and a
booking fail, and neither the captured logs nor the answers hold the rider's coordinates, their id as a
row value, or the Idempotency-Key."""

from __future__ import annotations

import logging

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from api.app import create_app
from api.auth import create_user
from api.clock import ServiceClock
from api.settings import Settings
from tests.api.conftest import NOW, ZONE
from tests.api.test_plan_change import database_url  # noqa: F401 (fixture: SQLite file or PostgreSQL schema)

HOME = {"lat": 47.141234, "lon": 9.521567}  # the rider's exact door in Vaduz: must appear nowhere
WORK = {"lat": 47.165012, "lon": 9.509034}
IDEMPOTENCY_KEY = "key-of-the-rider-7f3c2a"
REFUSE = {
    "postgresql": ["ALTER TABLE bookings ADD CONSTRAINT refuse_bookings CHECK (false) NOT VALID",
                   "ALTER TABLE demand ADD CONSTRAINT refuse_demand CHECK (false) NOT VALID"],
    "sqlite": [f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'no'); END"
               for table in ("bookings", "demand")],
}


def test_a_failing_write_logs_no_sql_parameters(database_url, caplog):  # noqa: F811
    """The quote is still answered (its demand record is lost, with a warning); the booking is 503; the
    statements are logged with their parameters hidden and the errors name constraint and table only."""
    caplog.set_level(logging.DEBUG)
    app = create_app(Settings(database_url=database_url, demo_buses=1, database_echo=True,
                              retention_every_s=0), clock=ServiceClock(ZONE, wall_clock=lambda: NOW))
    with TestClient(app) as client:
        with Session(app.state.engine) as session:
            rider, key = create_user(session, name="Rita", role="rider")
            rider_id = rider.id
            for statement in REFUSE[app.state.engine.dialect.name]:
                session.execute(text(statement))
            session.commit()
        auth = {"Authorization": f"Bearer {key}"}
        caplog.clear()
        offer = client.post("/v1/quotes", headers=auth, json={
            "origin": HOME, "destination": WORK, "time_type": "leave_after",
            "time": NOW.replace(hour=9).isoformat(), "seats": 1, "wheelchairs": 0})
        assert offer.status_code == 200, offer.text
        booked = client.post("/v1/bookings", json={"quote_id": offer.json()["quote_id"]},
                             headers=auth | {"Idempotency-Key": IDEMPOTENCY_KEY})
        assert booked.status_code == 503, booked.text
    logged = "\n".join(record.getMessage() + (logging.Formatter().formatException(record.exc_info)
                                              if record.exc_info else "") for record in caplog.records)
    assert "INSERT INTO bookings" in logged and "SQL parameters hidden" in logged  # the echo was on
    assert "demand record" in logged  # the lost demand record's warning, with its error
    for text_ in (logged, booked.text):
        for secret in ("47.1412", "9.5215", "47.165", "9.509", IDEMPOTENCY_KEY, "Failing row", "Rita"):
            assert secret not in text_, f"{secret!r} in {text_[:2000]}"
        assert f"({rider_id}," not in text_ and f", {rider_id})" not in text_
