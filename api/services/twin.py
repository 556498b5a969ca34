"""The digital twin as an operator's simulation job: recorded days of this service replayed as they were
and with a proposed change (:mod:`simulation.twin`), side by side with what was recorded; and putting the
proposed rules in force.

**What is replayed.** For the local days ``from`` to ``to``:

* the **bookings** of trips of those days (by the local date of the requested time) with their exact
  places, times, passengers and submission time; a booking later cancelled is cancelled again at the
  recorded moment, a no-show does not come again;
* the **refused quotes** for trips of those days. Of a refused quote the service keeps only its coarse
  demand record (:mod:`api.services.demand`): the ~300 m grid cells of both ends, the local hour it was
  asked in, the local hour of the trip, the passengers and the cause — no exact place, minute or time
  type. The twin asks it again from the **centre of each cell** (snapped to the road graph like any
  point, so a centre outside the area or off the roads is refused again with that cause) as a
  leave-after trip at the **middle of the trip's hour**, asked at the middle of the hour it was asked in
  (never after the trip), passengers as seats. A rider who was refused and then booked another time
  counts twice;
* the **fleet** as its shifts and breaks say for each day, the **rules** in force at the end of each
  day (the newest version stored before it; the defaults when none) — a proposal changes each day's
  rules alike, and the job reports the rules in force at the end of the range and their proposal —, the
  **service calendar**, the stored **service area**, the active **meeting points**, and the **cost
  settings** in force.

**Recorded figures** are those of the county's report for the same days (:mod:`api.services.reports`):
served = bookings completed, vehicle-km between consecutive served stops; the twin's vehicle-km is every
km its buses drove, to and from the depot included, so it reads higher for the same plan.

The job runs in the simulation worker (:mod:`api.services.simulation_worker`), never in the dispatching
process; its demand is capped like every study (:data:`api.services.simulations.MAX_REQUESTS`).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from api.clock import ServiceClock
from api.db.models import (
    Booking,
    DemandRecord,
    MeetingPoint,
    ServiceRulesVersion,
    Shift,
    ShiftBreak,
    SimulationJob,
    SimulationStatus,
    User,
)
from api.db.models import Vehicle as VehicleRow
from api.db.repository import shifts_between
from api.errors import Conflict, InvalidRequest, NotFound
from api.grid import cell
from api.schemas import ServiceRulesBody, ServiceRulesPublic
from api.services.costs import costs_in_force
from api.services.live_plan import LiveDispatch
from api.services.operations import change_rules
from api.services.reports import DateRange, Grouping, RoadMetres, load_records, period_figures
from api.services.service_area import apply_stored_area
from api.services.service_calendar import stored_calendar
from api.services.simulations import MAX_REQUESTS
from dispatch.dispatcher import RequestStatus
from dispatch.model import MeetingMode, ServiceRules, TimeType
from dispatch.reoptimize import ReoptimizationPolicy
from routing.meeting_points import MeetingPointSeed
from routing.network import RoadNetwork
from routing.walking import WalkNetwork
from simulation.demand_csv import Trip
from simulation.meeting import MeetingPlaces
from simulation.twin import ProposedChange, RecordedDay, RecordedShift, TwinService, run_twin

KIND = "twin"  # the ``kind`` of a twin job's parameters in ``simulation_jobs``
MAX_DAYS = 31  # the longest range one twin replays
HALF_HOUR = timedelta(minutes=30)


def is_twin(job: SimulationJob) -> bool:
    """Whether ``job`` is a twin (else a study of generated demand)."""
    return job.params.get("kind") == KIND


def twin_params(session: Session, *, clock: ServiceClock, first: date, last: date, change: ProposedChange,
                reoptimize_every_s: int | None = None) -> dict[str, Any]:
    """The stored parameters of a twin of the days ``first`` to ``last`` with ``change``: 422
    ``invalid_range`` (more than :data:`MAX_DAYS` days, ``last`` before ``first``), ``invalid_rules``
    (the change's rules over the defaults are invalid), ``demand_too_large`` (more than
    :data:`~api.services.simulations.MAX_REQUESTS` recorded requests), ``nothing_recorded`` (none)."""
    days = DateRange.checked(first, last)
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidRequest("invalid_range", f"a twin replays at most {MAX_DAYS} days")
    try:
        change.applied_to(ServiceRules())
    except (TypeError, ValueError) as error:
        raise InvalidRequest("invalid_rules", str(error), [str(error)]) from error
    start, end = days.instants(clock)
    count = recorded_count(session, start=start, end=end)
    if count > MAX_REQUESTS:
        raise InvalidRequest("demand_too_large",
                             f"the twin would replay {count:,} recorded requests; at most {MAX_REQUESTS:,}")
    if count == 0:
        raise InvalidRequest("nothing_recorded", "no booking or refused quote is recorded for these days")
    return {"kind": KIND, "from": first.isoformat(), "to": last.isoformat(), "zone": clock.zone.key,
            "change": change.as_dict(), "recorded_requests": count, "requests": 2 * count,
            "reoptimize_every_s": reoptimize_every_s}


def recorded_count(session: Session, *, start: datetime, end: datetime) -> int:
    """Bookings and refused quotes recorded for trips in ``[start, end)``."""
    booked = session.exec(select(func.count()).select_from(Booking).where(
        col(Booking.booked_at).is_not(None), col(Booking.requested_time) >= start,
        col(Booking.requested_time) < end)).one()
    refused = session.exec(select(func.count()).select_from(DemandRecord).where(
        col(DemandRecord.cause).is_not(None), col(DemandRecord.trip_hour) >= start,
        col(DemandRecord.trip_hour) < end)).one()
    return int(booked) + int(refused)


def recorded_days(session: Session, *, clock: ServiceClock, first: date, last: date) -> list[RecordedDay]:
    """What the service recorded of each local day ``first`` to ``last`` (the module docstring)."""
    start, end = DateRange(first, last).instants(clock)
    local = lambda moment: moment.astimezone(clock.zone).replace(tzinfo=None)  # noqa: E731
    trips: dict[date, list[Trip]] = {}
    cancelled: dict[str, datetime] = {}
    no_shows: set[str] = set()
    bookings = session.exec(select(Booking).where(
        col(Booking.booked_at).is_not(None), col(Booking.requested_time) >= start,
        col(Booking.requested_time) < end).order_by(col(Booking.submitted_at), col(Booking.id))).all()
    for row in bookings:
        trip = Trip(row.id, local(row.submitted_at), (row.origin_lat, row.origin_lon),
                    (row.destination_lat, row.destination_lon), row.time_type, local(row.requested_time),
                    row.seats, row.wheelchairs)
        trips.setdefault(trip.time.date(), []).append(trip)
        if row.status is RequestStatus.CANCELLED and row.ended_at is not None:
            cancelled[row.id] = local(row.ended_at)
        elif row.status is RequestStatus.NO_SHOW:
            no_shows.add(row.id)
    refused = session.exec(select(DemandRecord).where(
        col(DemandRecord.cause).is_not(None), col(DemandRecord.trip_hour) >= start,
        col(DemandRecord.trip_hour) < end).order_by(col(DemandRecord.id))).all()
    for record in refused:
        origin, destination = cell(record.origin_cell), cell(record.destination_cell)
        time = local(record.trip_hour) + HALF_HOUR
        trip = Trip(f"refused-{record.id}", min(local(record.asked_hour) + HALF_HOUR, time),
                    (origin.lat, origin.lon), (destination.lat, destination.lon), TimeType.LEAVE_AFTER, time,
                    max(1, record.seats), 0)
        trips.setdefault(time.date(), []).append(trip)
    shifts = _recorded_shifts(session, start=start, end=end, local=local)
    days = [first + timedelta(days=k) for k in range((last - first).days + 1)]
    return [RecordedDay(day, tuple(trips.get(day, ())), shifts,
                        frozenset(no_shows & {t.request_id for t in trips.get(day, ())}),
                        {t.request_id: cancelled[t.request_id] for t in trips.get(day, ())
                         if t.request_id in cancelled},
                        rules_at(session, DateRange(day, day).instants(clock)[1])) for day in days]


def _recorded_shifts(session: Session, *, start: datetime, end: datetime,
                     local: Callable[[datetime], datetime]) -> tuple[RecordedShift, ...]:
    rows: list[Shift] = list(shifts_between(session, start=start, end=end))
    vehicles = {v.id: v for v in session.exec(select(VehicleRow)).all()}
    breaks: dict[int, list[ShiftBreak]] = {}
    ids = [s.id for s in rows if s.id is not None]
    if ids:
        for row in session.exec(select(ShiftBreak).where(col(ShiftBreak.shift_id).in_(ids))).all():
            breaks.setdefault(row.shift_id, []).append(row)
    result = []
    for shift in rows:
        bus = vehicles[shift.vehicle_id]
        result.append(RecordedShift(bus.id, bus.seats, bus.wheelchair_spaces, bus.depot_node,
                                    local(shift.starts_at), local(shift.ends_at),
                                    tuple((local(b.earliest_start), local(b.latest_start), b.duration_s)
                                          for b in breaks.get(shift.id or -1, ()))))
    return tuple(result)


def rules_at(session: Session, moment: datetime) -> ServiceRules:
    """The rules in force just before ``moment`` (the newest version stored before it; the defaults)."""
    row = session.exec(select(ServiceRulesVersion).where(col(ServiceRulesVersion.valid_from) < moment)
                       .order_by(col(ServiceRulesVersion.id).desc())).first()
    return row.to_rules() if row is not None else ServiceRules()


def service_setup(session: Session, *, clock: ServiceClock, network: RoadNetwork, before: datetime,
                  mode: MeetingMode, days: Sequence[RecordedDay] = ()) -> TwinService:
    """The service as it was set up (rules in force ``before``, calendar, costs); meeting points when
    the baseline — on any of ``days`` — or the proposal (``mode``) uses them."""
    rules = rules_at(session, before)
    costs = costs_in_force(session, clock.zone)
    places = None
    modes = {rules.mode, mode, *(day.rules.mode for day in days if day.rules is not None)}
    if modes != {MeetingMode.DOOR_TO_DOOR}:
        points = tuple(MeetingPointSeed(p.id, p.name, p.lat, p.lon, p.source.value, p.node)
                       for p in session.exec(select(MeetingPoint).where(col(MeetingPoint.active))).all())
        walk = WalkNetwork.load(Path(network.settings.osm_file), network.settings)
        places = MeetingPlaces(points, walk, {p.id: p.node for p in points})
    return TwinService(rules, stored_calendar(session, clock).calendar, places,
                       (costs.per_vehicle_hour, costs.per_vehicle_km) if costs.version is not None else None)


def recorded_figures(session: Session, *, clock: ServiceClock, network: RoadNetwork, first: date, last: date
                     ) -> dict[str, Any]:
    """The days' figures as the county's report gives them, summed over the days."""
    records = load_records(session, clock=clock, days=DateRange(first, last))
    costs = costs_in_force(session, clock.zone)
    rows = period_figures(records, clock=clock, metres=RoadMetres(network), by=Grouping.DAY, costs=costs)
    served = sum(r.served for r in rows)
    asked = sum(r.trips_asked for r in rows)

    def weighted(name: str) -> float | None:
        pairs = [(getattr(r, name), r.served) for r in rows if getattr(r, name) is not None and r.served]
        weight = sum(w for _, w in pairs)
        return sum(v * w for v, w in pairs) / weight if weight else None

    wait = weighted("wait_mean_s")
    rtf = weighted("ride_time_factor")
    km, hours = sum(r.vehicle_km for r in rows), sum(r.vehicle_hours for r in rows)
    cost = sum(r.cost for r in rows if r.cost is not None) if costs.version is not None else None
    return {"requests": asked, "served": served, "booked": sum(r.booked for r in rows),
            "served_pct": round(100 * served / asked, 2) if asked else None,
            "wait_mean_min": round(wait / 60, 2) if wait is not None else None,
            "ride_time_factor": round(rtf, 3) if rtf is not None else None,
            "vehicle_km": round(km, 2), "vehicle_hours": round(hours, 2),
            "cost": round(cost, 2) if cost is not None else None,
            "cost_per_trip": round(cost / served, 2) if cost is not None and served else None,
            "rejected": sum(r.refused + r.rejected for r in rows)}


def run_twin_job(engine: Engine, network: RoadNetwork, params: dict[str, Any],
                 progress: Callable[[int], None] | None = None) -> tuple[dict[str, Any], str]:
    """Run a twin job's parameters (in the simulation worker): its results (``recorded``, ``baseline``,
    ``proposal``, the change and both rule sets) and a small HTML page of the comparison."""
    clock = ServiceClock(ZoneInfo(params["zone"]))
    first, last = date.fromisoformat(params["from"]), date.fromisoformat(params["to"])
    change = ProposedChange.from_dict(params["change"])
    with Session(engine) as session:
        apply_stored_area(session, network)
        _, end = DateRange(first, last).instants(clock)
        days = recorded_days(session, clock=clock, first=first, last=last)
        setup = service_setup(session, clock=clock, network=network, before=end,
                              mode=change.mode or MeetingMode.DOOR_TO_DOOR, days=days)
        recorded = recorded_figures(session, clock=clock, network=network, first=first, last=last)
    policy = ReoptimizationPolicy()
    if params.get("reoptimize_every_s") is not None:
        policy = replace(policy, every_s=params["reoptimize_every_s"])
    outcome = run_twin(days, setup, change, network, progress, reoptimization=policy)
    results = outcome.as_dict() | {"recorded": recorded, "from": params["from"], "to": params["to"]}
    return results, comparison_html(results)


ROWS = (("requests", "requests"), ("served", "served"), ("served_pct", "served %"),
        ("wait_mean_min", "wait (mean, min)"), ("ride_time_factor", "ride-time factor"),
        ("vehicle_km", "vehicle-km"), ("vehicle_hours", "vehicle-hours"), ("cost_per_trip", "cost per trip"))


def comparison_html(results: dict[str, Any]) -> str:
    """A self-contained page with the recorded, baseline and proposal figures side by side."""
    head = "<tr><th></th><th>recorded</th><th>twin: as recorded</th><th>twin: proposal</th></tr>"
    cells = "".join(
        f"<tr><th>{html.escape(label)}</th>"
        + "".join(f"<td>{html.escape(str(results[side].get(key)))}</td>"
                  for side in ("recorded", "baseline", "proposal")) + "</tr>"
        for key, label in ROWS)
    title = f"Rufbus digital twin {html.escape(results['from'])} – {html.escape(results['to'])}"
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
            f"<h1>{title}</h1><table>{head}{cells}</table>"
            f"<p>change: {html.escape(str(results['change']))}</p></body></html>")


def twin_results(job: SimulationJob) -> dict[str, Any] | None:
    """A finished twin's results (None while it runs); 404 ``unknown_twin`` for a job of another kind."""
    if not is_twin(job):
        raise NotFound("unknown_twin", f"no twin {job.id!r}")
    return job.kpis if job.status is SimulationStatus.DONE else None


def apply_proposal(live: LiveDispatch, session: Session, *, user: User, job: SimulationJob
                   ) -> ServiceRulesPublic:
    """Put the twin's proposed rules in force: the rules in force now with the change's rule overrides and
    mode, stored as a new version through the operators' rules path (an event names the operator). 409
    ``simulation_not_finished`` before the twin is done, ``nothing_to_apply`` when it changed no rule."""
    results = twin_results(job)
    if results is None:
        raise Conflict("simulation_not_finished", f"the twin is {job.status.value}; apply it once it is done")
    change = ProposedChange.from_dict(job.params["change"])
    if not change.rules and change.mode is None:
        raise Conflict("nothing_to_apply", "the proposal changes no rule (only the fleet or shifts)")
    with live.lock:
        current = live.dispatcher.rules
    try:
        rules = change.applied_to(current)
    except (TypeError, ValueError) as error:
        raise InvalidRequest("invalid_rules", str(error), [str(error)]) from error
    values = asdict(rules) | {"mode": rules.mode}
    return change_rules(live, session, user=user, body=ServiceRulesBody(**values))
