"""The audit on a hand-made database: it must notice a lost booking, a bus over capacity, a pickup
planned outside its promised window and a key that booked twice — an audit that cannot fail proves
nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from api.db.migrate import upgrade_database
from api.db.models import Booking, Event, PlannedStop, User, UserRole, Vehicle
from api.db.session import create_db_engine
from dispatch.dispatcher import RequestStatus
from dispatch.events import EventKind
from dispatch.model import StopKind, TimeType
from loadtests.audit import audit

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def booking(booking_id: str, *, seats: int = 1, status: RequestStatus = RequestStatus.BOOKED,
            key: str | None = None) -> Booking:
    """A booking on bus-1 promised a pickup in [08:10, 08:20] and an arrival by 09:00."""
    return Booking(id=booking_id, rider_id=1, origin_lat=47.1, origin_lon=9.5, origin_node=1,
                   destination_lat=47.2, destination_lon=9.5, destination_node=2,
                   time_type=TimeType.LEAVE_AFTER, requested_time=T0, seats=seats, status=status,
                   vehicle_id="bus-1", submitted_at=T0, idempotency_key=key or f"key-{booking_id}",
                   window_start=T0 + timedelta(minutes=10), window_end=T0 + timedelta(minutes=20),
                   latest_dropoff=T0 + timedelta(hours=1), booked_at=T0)


def stop(sequence: int, booking_id: str, kind: StopKind, minutes: int) -> PlannedStop:
    """A planned stop of bus-1, ``minutes`` after 08:00."""
    return PlannedStop(vehicle_id="bus-1", sequence=sequence, booking_id=booking_id, kind=kind, lat=47.1,
                       lon=9.5, node=1, planned_time=T0 + timedelta(minutes=minutes))


def told(booking_id: str, key: str | None = None) -> dict:
    """The record of a client told 201 for ``booking_id``."""
    window = {"start": (T0 + timedelta(minutes=10)).isoformat(),
              "end": (T0 + timedelta(minutes=20)).isoformat()}
    return {"event": "booked", "id": booking_id, "key": key or f"key-{booking_id}", "status": 201,
            "attempt": 1, "vehicle_id": "bus-1", "window": window}


def database(tmp_path, bookings: list[Booking], stops: list[PlannedStop]) -> str:
    """A migrated SQLite file with bus-1 (2 seats), one rider, ``bookings`` and ``stops``."""
    url = f"sqlite:///{tmp_path / 'audit.sqlite3'}"
    upgrade_database(url)
    engine = create_db_engine(url)
    with Session(engine) as session:
        session.add(Vehicle(id="bus-1", name="bus 1", seats=2, wheelchair_spaces=0, depot_lat=47.1,
                            depot_lon=9.5, depot_node=1))
        session.add(User(id=1, name="R", role=UserRole.RIDER, api_key_hash="x"))
        session.commit()
        session.add_all(bookings)
        session.commit()
        session.add_all(stops)
        session.commit()
    engine.dispose()
    return url


def records(tmp_path, lines: list[dict]):
    """The clients' records file."""
    path = tmp_path / "records.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_a_consistent_plan_is_clean(tmp_path):
    """Two one-seat riders on a two-seat bus, both picked up in their windows: nothing to report."""
    url = database(tmp_path, [booking("a"), booking("b")],
                   [stop(0, "a", StopKind.PICKUP, 12), stop(1, "b", StopKind.PICKUP, 15),
                    stop(2, "a", StopKind.DROPOFF, 30), stop(3, "b", StopKind.DROPOFF, 40)])
    report = audit(url, records(tmp_path, [told("a"), told("b")]))
    assert report.clean and report.bookings_told == 2, report.problems


def test_every_kind_of_problem_is_counted(tmp_path):
    """'gone' was told 201 but is not in the database; 'unplanned' is booked but has no stops; 'b' and 'c'
    (two seats) ride together on a two-seat bus; 'c' is picked up after its window; key-x booked twice."""
    url = database(tmp_path, [booking("b"), booking("c", seats=2), booking("unplanned")],
                   [stop(0, "b", StopKind.PICKUP, 12), stop(1, "c", StopKind.PICKUP, 25),
                    stop(2, "b", StopKind.DROPOFF, 30), stop(3, "c", StopKind.DROPOFF, 40)])
    report = audit(url, records(tmp_path, [told("gone"), told("unplanned"), told("b"), told("c"),
                                           told("b", key="key-x"), told("c", key="key-x")]))
    assert report.lost_bookings == 2, report.problems  # gone, unplanned
    assert report.capacity_violations == 1, report.problems
    assert report.window_violations == 1, report.problems
    assert report.double_bookings == 1, report.problems
    assert not report.clean


def test_an_ending_nobody_asked_for_is_a_lost_booking(tmp_path):
    """A booking cancelled in the database although no client cancelled it is lost; one a client
    cancelled is not."""
    url = database(tmp_path, [booking("mine", status=RequestStatus.CANCELLED),
                              booking("theirs", status=RequestStatus.CANCELLED)], [])
    asked = {"event": "cancel_requested", "id": "mine"}
    report = audit(url, records(tmp_path, [told("mine"), told("theirs"), asked]))
    assert report.lost_bookings == 1 and "theirs" in report.problems["lost_bookings"][0]


def test_a_window_a_late_bus_moved_is_no_violation_only_with_the_services_events(tmp_path):
    """'late' and 'silent' were told [08:10, 08:20] and hold [08:10, 08:27] in the database. For 'late'
    two logged promise changes lead 08:20 → 08:24 → 08:27: counted as a changed promise, clean. For
    'silent' nothing was logged: a window violation."""
    def moved(booking_id: str) -> Booking:
        row = booking(booking_id)
        row.window_end = T0 + timedelta(minutes=27)
        return row

    url = database(tmp_path, [moved("late"), moved("silent")],
                   [stop(0, "late", StopKind.PICKUP, 25), stop(1, "silent", StopKind.PICKUP, 26),
                    stop(2, "late", StopKind.DROPOFF, 40), stop(3, "silent", StopKind.DROPOFF, 50)])
    engine = create_db_engine(url)
    with Session(engine) as session:
        for previous, new in ((20, 24), (24, 27)):
            session.add(Event(time=T0, kind=EventKind.PROMISE_CHANGED, actor="dispatcher", vehicle_id="bus-1",
                              request_id="late",
                              payload={"previous_window_end": (T0 + timedelta(minutes=previous)).isoformat(),
                                       "window_end": (T0 + timedelta(minutes=new)).isoformat()}))
        session.commit()
    engine.dispose()
    report = audit(url, records(tmp_path, [told("late"), told("silent")]))
    assert report.promises_changed == 1, report.problems
    assert report.window_violations == 1 and "silent" in report.problems["window_violations"][0]
