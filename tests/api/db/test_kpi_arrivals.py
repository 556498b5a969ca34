"""The key figures' one query of their own (api.services.kpis.pickup_arrivals), on SQLite and PostgreSQL:
when a bus first reported standing at each booking's pickup."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from api.db.models import Event
from api.db.repository import append_event, save_booking
from api.services.kpis import pickup_arrivals
from dispatch.events import EventKind
from tests.api.db.rows import T0, make_booking, make_event, make_vehicle


def arrival(request_id: str, kind: str, minutes: int) -> Event:
    """bus-1 reports standing at the ``kind`` stop of ``request_id``, ``minutes`` after 08:00."""
    event = make_event(request_id, EventKind.VEHICLE_ARRIVED, minutes=minutes)
    event.payload = {"kind": kind}
    return event


def test_the_first_arrival_at_each_pickup_of_the_range_counts(session: Session) -> None:
    """r1 (submitted 07:55): arrivals at its pickup at 08:04 and 08:06 and at its drop-off at 08:20 →
    08:04. r2 has no arrival report; r3 was submitted outside the range."""
    session.add(make_vehicle())
    session.commit()
    for booking_id in ("r1", "r2"):
        save_booking(session, booking=make_booking(booking_id), event=make_event(booking_id))
    late = make_booking("r3")
    late.submitted_at = T0 + timedelta(hours=2)
    save_booking(session, booking=late, event=make_event("r3"))
    for event in (arrival("r1", "pickup", 6), arrival("r1", "pickup", 4), arrival("r1", "dropoff", 20),
                  arrival("r3", "pickup", 125)):
        append_event(session, event=event)
    found = pickup_arrivals(session, start=T0 - timedelta(hours=1), end=T0 + timedelta(hours=1))
    assert found == {"r1": T0 + timedelta(minutes=4)}
