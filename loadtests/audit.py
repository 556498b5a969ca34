"""After a run: check the database — the source of truth — against what the clients were told.

* **Lost bookings**: a booking a client was told succeeded (201, or 200 on a retry) that is missing from
  the database, or whose status is not what the clients made of it — booked or on board but not in its
  bus's planned stops, or ended (cancelled, completed, rejected, no-show) without a client having asked
  to cancel it or a driver having reported its drop-off (asked: the answer may not have arrived before
  the run ended).
* **Double bookings**: one Idempotency-Key that yielded two booking ids, or stands on two rows.
* **Capacity violations**: along every bus's planned stops, from the riders on board (status picked up),
  the seats or wheelchair spaces taken exceed the vehicle's.
* **Window violations**: a pickup planned (``planned_stops.planned_time`` is the planned *start of
  service*, :mod:`dispatch.evaluation`) outside the promised ``[window_start, window_end]``, a drop-off
  planned after the promised latest arrival, or a promise in the database that differs from the window
  the client was told — unless the service changed it and logged so: a late bus's ``promise_changed``
  events (the rider is told, :mod:`api.services.notifications`) lead from the told window's end to the
  database's, the start unchanged (counted as ``promises_changed``).
* **Plan problems**: a booking planned twice, on another bus than its row says, or dropped off before
  being picked up.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from itertools import pairwise
from pathlib import Path

import httpx
from sqlmodel import Session, col, select

from api.db.models import Booking, Event, PlannedStop, Vehicle
from api.db.session import create_db_engine
from dispatch.dispatcher import RequestStatus
from dispatch.events import EventKind
from dispatch.model import StopKind

LIVE = (RequestStatus.BOOKED, RequestStatus.PICKED_UP)
MAX_LISTED = 20  # problems listed per kind (all are counted)


@dataclass
class ClientRecords:
    """What the simulated clients were told, read from the records file of a run."""

    told: dict[str, dict] = field(default_factory=dict)  # booking id -> the booked record
    keys: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # key -> booking ids
    cancelled: set[str] = field(default_factory=set)  # told 200 to a cancellation
    cancel_requested: set[str] = field(default_factory=set)  # asked to cancel (the answer may have been lost)
    dropoff_requested: set[str] = field(default_factory=set)  # a driver reported the drop-off (ditto)
    picked_up: set[str] = field(default_factory=set)
    dropped_off: set[str] = field(default_factory=set)
    quotes_refused: int = 0
    bookings_refused: int = 0
    retried_bookings: int = 0  # told on a second or later attempt (the first answer was lost)
    failed_requests: int = 0  # requests Locust counted as failed, over the whole run (ramp-up included)
    abusive_statuses: list[int] = field(default_factory=list)  # the abusive client's answers (status)

    @classmethod
    def read(cls, path: Path) -> ClientRecords:
        """Parse the JSON-lines records file written by :mod:`loadtests.locustfile`."""
        records = cls()
        if not path.exists():
            return records
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            entry = json.loads(line)
            event = entry["event"]
            if event == "booked":
                records.told.setdefault(entry["id"], entry)
                records.keys[entry["key"]].add(entry["id"])
                records.retried_bookings += entry.get("attempt", 1) > 1
            elif event == "cancelled":
                records.cancelled.add(entry["id"])
            elif event == "cancel_requested":
                records.cancel_requested.add(entry["id"])
            elif event == "picked_up":
                records.picked_up.add(entry["id"])
            elif event == "dropped_off":
                records.dropped_off.add(entry["id"])
            elif event == "dropped_off_requested":
                records.dropoff_requested.add(entry["id"])
            elif event == "quote_refused":
                records.quotes_refused += 1
            elif event == "request_failed":
                records.failed_requests += 1
            elif event == "booking_refused":
                records.bookings_refused += 1
            elif event == "abusive_quote":
                records.abusive_statuses.append(int(entry["status"]))
        return records


@dataclass
class AuditReport:
    """Counts (and the first few of each kind of problem, for people)."""

    bookings_told: int = 0
    lost_bookings: int = 0
    double_bookings: int = 0
    capacity_violations: int = 0
    window_violations: int = 0
    plan_problems: int = 0
    retried_bookings: int = 0
    promises_changed: int = 0  # told windows a late bus moved, with the service's promise_changed events
    planned_stops: int = 0
    problems: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    @property
    def clean(self) -> bool:
        """No lost or double booking and no violation of any kind."""
        return not (self.lost_bookings or self.double_bookings or self.capacity_violations
                    or self.window_violations or self.plan_problems)

    def add(self, kind: str, message: str) -> None:
        """Count one problem of ``kind`` (a counter's name) and keep its description."""
        setattr(self, kind, getattr(self, kind) + 1)
        if len(self.problems[kind]) < MAX_LISTED:
            self.problems[kind].append(message)

    def as_dict(self) -> dict:
        """For the run's JSON."""
        data = asdict(self)
        data["problems"] = dict(self.problems)
        data["clean"] = self.clean
        return data


def audit(database_url: str, records_path: Path) -> AuditReport:
    """Audit the database of a finished run against the clients' records."""
    records = ClientRecords.read(records_path)
    report = AuditReport(bookings_told=len(records.told), retried_bookings=records.retried_bookings)
    engine = create_db_engine(database_url)
    try:
        with Session(engine) as session:
            bookings = {b.id: b for b in session.exec(select(Booking)).all()}
            changes = _promise_changes(session)
            stops = session.exec(select(PlannedStop).order_by(col(PlannedStop.vehicle_id),
                                                              col(PlannedStop.sequence))).all()
            vehicles = {v.id: v for v in session.exec(select(Vehicle)).all()}
    finally:
        engine.dispose()
    report.planned_stops = len(stops)
    routes: dict[str, list[PlannedStop]] = defaultdict(list)
    for stop in stops:
        routes[stop.vehicle_id].append(stop)
    _check_told(report, records, bookings, routes, changes)
    _check_keys(report, records, bookings)
    for vehicle_id, route in routes.items():
        _check_route(report, vehicles.get(vehicle_id), vehicle_id, route, bookings)
    return report


def _planned(routes: dict[str, list[PlannedStop]], booking_id: str) -> list[tuple[str, StopKind]]:
    return [(vehicle_id, stop.kind) for vehicle_id, route in routes.items() for stop in route
            if stop.booking_id == booking_id]


Changes = dict[str, list[tuple[datetime, datetime]]]  # booking id -> (previous end, new end), in order


def _promise_changes(session: Session) -> Changes:
    """The pickup-window ends each late bus's ``promise_changed`` events moved, by booking, in order."""
    changes: Changes = defaultdict(list)
    for event in session.exec(select(Event).where(col(Event.kind) == EventKind.PROMISE_CHANGED)
                              .order_by(col(Event.id))).all():
        payload = event.payload or {}
        if event.request_id and "previous_window_end" in payload and "window_end" in payload:
            changes[event.request_id].append((datetime.fromisoformat(payload["previous_window_end"]),
                                              datetime.fromisoformat(payload["window_end"])))
    return changes


def _changed_by_the_service(told: list[datetime], row: Booking, chain: list[tuple[datetime, datetime]]
                            ) -> bool:
    """Whether ``row``'s window is the told one moved by the chain of logged promise changes."""
    if not chain or told[0] != row.window_start or chain[0][0] != told[1] or chain[-1][1] != row.window_end:
        return False
    return all(new == following for (_, new), (following, _) in pairwise(chain))


def _check_told(report: AuditReport, records: ClientRecords, bookings: dict[str, Booking],
                routes: dict[str, list[PlannedStop]], changes: Changes) -> None:
    """Every booking a client was told about is in the database in the state the clients made of it."""
    for booking_id, told in records.told.items():
        row = bookings.get(booking_id)
        if row is None:
            report.add("lost_bookings", f"{booking_id}: told {told['status']}, not in the database")
            continue
        status = row.status
        if status in LIVE:
            planned = _planned(routes, booking_id)
            kinds = sorted(kind.value for _, kind in planned)
            wanted = ["dropoff", "pickup"] if status is RequestStatus.BOOKED else ["dropoff"]
            if kinds != wanted:
                report.add("lost_bookings",
                           f"{booking_id}: {status.value} but planned as {kinds or 'nothing'}")
            elif any(vehicle_id != row.vehicle_id for vehicle_id, _ in planned):
                report.add("plan_problems", f"{booking_id}: row on {row.vehicle_id}, planned on "
                                            f"{sorted({v for v, _ in planned})}")
            if booking_id in records.cancelled:
                report.add("lost_bookings", f"{booking_id}: a client was told it was cancelled, "
                                            f"the database says {status.value}")
        elif (status is RequestStatus.CANCELLED
              and booking_id not in records.cancel_requested | records.cancelled):
            report.add("lost_bookings", f"{booking_id}: cancelled, but no client asked to cancel it")
        elif (status is RequestStatus.COMPLETED
              and booking_id not in records.dropoff_requested | records.dropped_off):
            report.add("lost_bookings", f"{booking_id}: completed, but no driver dropped it off")
        elif status not in (*LIVE, RequestStatus.CANCELLED, RequestStatus.COMPLETED):
            report.add("lost_bookings", f"{booking_id}: ended as {status.value} ({row.rejection_cause})")
        window = [datetime.fromisoformat(told["window"]["start"]),
                  datetime.fromisoformat(told["window"]["end"])]
        if window != [row.window_start, row.window_end] and _changed_by_the_service(
                window, row, changes.get(booking_id, [])):
            report.promises_changed += 1
        elif window != [row.window_start, row.window_end]:
            report.add("window_violations", f"{booking_id}: told {window}, promised in the database "
                                            f"[{row.window_start}, {row.window_end}]")


def _check_keys(report: AuditReport, records: ClientRecords, bookings: dict[str, Booking]) -> None:
    """One key, one booking: on the clients' side and in the database."""
    rows_per_key: dict[str, int] = defaultdict(int)
    for row in bookings.values():
        if row.idempotency_key is not None:
            rows_per_key[row.idempotency_key] += 1
    for key, ids in records.keys.items():
        if len(ids) > 1 or rows_per_key.get(key, 0) > 1:
            report.add("double_bookings", f"key {key}: told {sorted(ids)}, {rows_per_key.get(key, 0)} rows")


def _check_route(report: AuditReport, vehicle: Vehicle | None, vehicle_id: str, route: list[PlannedStop],
                 bookings: dict[str, Booking]) -> None:
    """Loads along the planned stops within the bus; pickups within their windows; drop-offs in time;
    nobody twice, nobody dropped before being picked up."""
    if vehicle is None:
        report.add("plan_problems", f"{vehicle_id}: planned stops for an unknown vehicle")
        return
    onboard = {b.id for b in bookings.values() if b.vehicle_id == vehicle_id
               and b.status is RequestStatus.PICKED_UP}
    seats = sum(bookings[b].seats for b in onboard)
    wheelchairs = sum(bookings[b].wheelchairs for b in onboard)
    seen: set[tuple[str, StopKind]] = set()
    for stop in route:
        if stop.kind is StopKind.BREAK or stop.booking_id is None:
            continue
        row = bookings.get(stop.booking_id)
        where = f"{vehicle_id} stop {stop.sequence} ({stop.kind.value} of {stop.booking_id})"
        if row is None:
            report.add("plan_problems", f"{where}: no such booking")
            continue
        if (stop.booking_id, stop.kind) in seen:
            report.add("plan_problems", f"{where}: planned twice")
        seen.add((stop.booking_id, stop.kind))
        if row.status not in LIVE:
            report.add("plan_problems", f"{where}: the booking is {row.status.value}")
        if stop.kind is StopKind.PICKUP:
            seats, wheelchairs = seats + row.seats, wheelchairs + row.wheelchairs
            onboard.add(row.id)
            start, end = row.window_start, row.window_end
            if start is None or end is None or not start <= stop.planned_time <= end:
                report.add("window_violations", f"{where}: planned at {stop.planned_time}, promised "
                                                f"[{row.window_start}, {row.window_end}]")
        else:
            if row.id not in onboard:
                report.add("plan_problems", f"{where}: dropped off before being picked up")
            onboard.discard(row.id)
            seats, wheelchairs = seats - row.seats, wheelchairs - row.wheelchairs
            if row.latest_dropoff is not None and stop.planned_time > row.latest_dropoff:
                report.add("window_violations", f"{where}: planned at {stop.planned_time}, latest "
                                                f"arrival promised {row.latest_dropoff}")
        if seats > vehicle.seats or wheelchairs > vehicle.wheelchair_spaces:
            report.add("capacity_violations", f"{where}: load {seats} seats / {wheelchairs} wheelchairs, "
                                              f"the bus has {vehicle.seats} / {vehicle.wheelchair_spaces}")


def live_plan_differences(base_url: str, operator_key: str, database_url: str) -> list[str]:
    """Vehicles whose route in force (``GET /v1/driver/route?vehicle_id=`` as an operator) does not list
    the same stops, in the same order, as the planned stops in the database."""
    engine = create_db_engine(database_url)
    try:
        with Session(engine) as session:
            stored: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
            for stop in session.exec(select(PlannedStop).order_by(col(PlannedStop.vehicle_id),
                                                                  col(PlannedStop.sequence))).all():
                stored[stop.vehicle_id].append((stop.kind.value, stop.booking_id))
            vehicle_ids = [v.id for v in session.exec(select(Vehicle).where(col(Vehicle.active))).all()]
    finally:
        engine.dispose()
    differences = []
    headers = {"Authorization": f"Bearer {operator_key}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        for vehicle_id in sorted(vehicle_ids):
            answer = client.get("/v1/driver/route", params={"vehicle_id": vehicle_id})
            answer.raise_for_status()
            live = [(s["kind"], s["booking_id"]) for s in answer.json()["stops"]]
            if live != stored.get(vehicle_id, []):
                differences.append(f"{vehicle_id}: in force {live}, "
                                   f"in the database {stored.get(vehicle_id, [])}")
    return differences
