"""Operators manage the fleet: vehicles (create, list, read, change, put back into service) and their
shifts with breaks (create, list, change, delete).

Every change is one :func:`~api.services.live_plan.plan_change`: applied to the dispatcher and written
— the vehicle or shift, the bus's planned stops and an event — in one transaction; if the dispatcher
refuses it (a changed bus that can no longer keep its riders' promises: 409
``vehicle_change_infeasible``) nothing is written, and if the write fails the plan is rolled back. The
dispatcher plans a vehicle with its shifts within the booking horizon (:func:`api.fleet.dispatch_vehicle`); a
vehicle withdrawn by an operator (``active`` false) stays out of service until it is put back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from api.db.models import Event, PlannedStopRow, Shift, ShiftBreak, User, Vehicle
from api.db.repository import (
    ShiftWithBreaks,
    delete_shift,
    list_vehicles,
    save_shift,
    save_vehicle,
    vehicle_shifts,
)
from api.errors import Conflict, InvalidRequest, NotFound
from api.fleet import sync_vehicle
from api.schemas import BreakBody, Point, ShiftBody, ShiftPublic, VehicleCreate, VehiclePublic, VehicleUpdate
from api.services.live_plan import LiveDispatch, actor, plan_change, planned_stops
from dispatch.events import EventKind

MAX_SHIFT_S = 24 * 3600


def list_fleet(live: LiveDispatch, session: Session) -> list[VehiclePublic]:
    """Every stored vehicle by id."""
    with live.lock:
        return [_public(live, row) for row in list_vehicles(session)]


def read_vehicle(live: LiveDispatch, session: Session, *, vehicle_id: str) -> VehiclePublic:
    """One stored vehicle (404 ``unknown_vehicle``)."""
    with live.lock:
        return _public(live, _vehicle(session, vehicle_id))


def create_vehicle(live: LiveDispatch, session: Session, *, user: User, body: VehicleCreate) -> VehiclePublic:
    """Store a new bus with its depot snapped to the roads (409 ``duplicate_vehicle`` for a used id). It is
    planned with once it has a shift."""
    lat, lon, node = _snap(live, body.depot)
    with plan_change(live, session) as now:
        if session.get(Vehicle, body.id) is not None:
            raise Conflict("duplicate_vehicle", f"vehicle {body.id!r} exists already")
        row = Vehicle(id=body.id, name=body.name, seats=body.seats, wheelchair_spaces=body.wheelchair_spaces,
                      depot_lat=lat, depot_lon=lon, depot_node=node)
        save_vehicle(session, vehicle=row, route=None,
                     event=_event(live, user, EventKind.VEHICLE_ADDED, row.id, now, body.model_dump()))
        return _public(live, row)


def change_vehicle(live: LiveDispatch, session: Session, *, user: User, vehicle_id: str, body: VehicleUpdate
                   ) -> VehiclePublic:
    """Change a bus's name, capacities or depot; the dispatcher plans with the change at once."""
    depot = _snap(live, body.depot) if body.depot is not None else None
    with plan_change(live, session) as now:
        row = _vehicle(session, vehicle_id)
        for name in ("name", "seats", "wheelchair_spaces"):
            if getattr(body, name) is not None:
                setattr(row, name, getattr(body, name))
        if depot is not None:
            row.depot_lat, row.depot_lon, row.depot_node = depot
        shifts = vehicle_shifts(session, vehicle_id=vehicle_id)
        route = _apply(live, row, shifts, now)
        save_vehicle(session, vehicle=row, route=route,
                     event=_event(live, user, EventKind.VEHICLE_CHANGED, vehicle_id, now,
                                  body.model_dump(exclude_none=True)))
        return _public(live, row)


def put_in_service(live: LiveDispatch, session: Session, *, user: User, vehicle_id: str) -> VehiclePublic:
    """Put a withdrawn bus back into service (409 ``already_in_service`` if it is in service); it takes
    riders again from where it stands."""
    with plan_change(live, session) as now:
        row = _vehicle(session, vehicle_id)
        if row.active:
            raise Conflict("already_in_service", f"vehicle {vehicle_id!r} is in service")
        row.active = True
        shifts = vehicle_shifts(session, vehicle_id=vehicle_id)
        route = _apply(live, row, shifts, now)
        save_vehicle(session, vehicle=row, route=route,
                     event=_event(live, user, EventKind.VEHICLE_IN_SERVICE, vehicle_id, now, {}))
        return _public(live, row)


def list_shifts(live: LiveDispatch, session: Session, *, vehicle_id: str) -> list[ShiftPublic]:
    """A bus's shifts by start, with their breaks."""
    with live.lock:
        _vehicle(session, vehicle_id)
        return [_shift_public(live, shift, breaks)
                for shift, breaks in vehicle_shifts(session, vehicle_id=vehicle_id)]


def create_shift(live: LiveDispatch, session: Session, *, user: User, vehicle_id: str, body: ShiftBody
                 ) -> ShiftPublic:
    """Add a shift (422 ``invalid_shift`` with the problems; 409 ``shift_overlap`` with another shift)."""
    return _write_shift(live, session, user=user, vehicle_id=vehicle_id, shift_id=None, body=body)


def change_shift(live: LiveDispatch, session: Session, *, user: User, vehicle_id: str, shift_id: int,
                 body: ShiftBody) -> ShiftPublic:
    """Replace a shift's times and breaks."""
    return _write_shift(live, session, user=user, vehicle_id=vehicle_id, shift_id=shift_id, body=body)


def remove_shift(live: LiveDispatch, session: Session, *, user: User, vehicle_id: str, shift_id: int) -> None:
    """Delete a shift; refused (409) while riders are planned on the bus that the shift would drop."""
    with plan_change(live, session) as now:
        row = _vehicle(session, vehicle_id)
        shifts = vehicle_shifts(session, vehicle_id=vehicle_id)
        shift = _shift(shifts, vehicle_id, shift_id)
        kept = [(s, b) for s, b in shifts if s.id != shift_id]
        route = _apply(live, row, kept, now)
        event = _event(live, user, EventKind.SHIFTS_CHANGED, vehicle_id, now, {"deleted": shift_id})
        delete_shift(session, shift=shift, route=route, event=event)


# ----- helpers ---------------------------------------------------------------------------------------

def _write_shift(live: LiveDispatch, session: Session, *, user: User, vehicle_id: str, shift_id: int | None,
                 body: ShiftBody) -> ShiftPublic:
    _check_shift(body)
    with plan_change(live, session) as now:
        row = _vehicle(session, vehicle_id)
        shifts = vehicle_shifts(session, vehicle_id=vehicle_id)
        if shift_id is None:
            shift = Shift(vehicle_id=vehicle_id, starts_at=body.starts_at, ends_at=body.ends_at)
        else:
            shift = _shift(shifts, vehicle_id, shift_id)
        others = [(s, b) for s, b in shifts if s.id is None or s.id != shift_id]
        for other, _ in others:
            if other.starts_at < body.ends_at and body.starts_at < other.ends_at:
                raise Conflict("shift_overlap",
                               f"the shift overlaps shift {other.id} of {vehicle_id!r} "
                               f"({other.starts_at.isoformat()} to {other.ends_at.isoformat()})")
        shift.starts_at, shift.ends_at = body.starts_at, body.ends_at
        breaks = [ShiftBreak(shift_id=shift.id or 0, earliest_start=b.earliest_start,
                             latest_start=b.latest_start, duration_s=b.duration_s,
                             node=None if b.place is None else _snap(live, b.place)[2]) for b in body.breaks]
        route = _apply(live, row, [*others, (shift, breaks)], now)
        save_shift(session, shift=shift, breaks=breaks, route=route,
                   event=_event(live, user, EventKind.SHIFTS_CHANGED, vehicle_id, now,
                                {"starts_at": body.starts_at.isoformat(), "ends_at": body.ends_at.isoformat(),
                                 "breaks": len(breaks)}))
        return _shift_public(live, shift, breaks)


def _check_shift(body: ShiftBody) -> None:
    """422 ``invalid_shift`` listing every problem of the shift's times and breaks."""
    problems = []
    length = (body.ends_at - body.starts_at).total_seconds()
    if not 0 < length <= MAX_SHIFT_S:
        problems.append(f"a shift must end after it starts and last at most {MAX_SHIFT_S // 3600} h")
    for k, b in enumerate(body.breaks):
        problems += [f"break {k}: {problem}" for problem in _break_problems(body, b)]
    if problems:
        raise InvalidRequest("invalid_shift", "; ".join(problems), detail=problems)


def _break_problems(shift: ShiftBody, b: BreakBody) -> list[str]:
    problems = []
    if b.latest_start < b.earliest_start:
        problems.append("latest_start must not lie before earliest_start")
    if b.earliest_start < shift.starts_at or \
            b.latest_start.timestamp() + b.duration_s > shift.ends_at.timestamp():
        problems.append("the break must lie within the shift")
    return problems


def _apply(live: LiveDispatch, row: Vehicle, shifts: list[ShiftWithBreaks], now: int
           ) -> list[PlannedStopRow] | None:
    """Apply ``row`` with ``shifts`` to the dispatcher; the bus's new planned stops, or ``None`` when the
    dispatcher does not plan the bus."""
    return planned_stops(live, row.id) if _sync(live, row, shifts, now) else None


def _sync(live: LiveDispatch, row: Vehicle, shifts: list[ShiftWithBreaks], now: int) -> bool:
    """Make the dispatcher's vehicle what ``row`` and ``shifts`` say; whether the dispatcher has it."""
    return sync_vehicle(live.dispatcher, row, shifts, live.clock, now)


def _snap(live: LiveDispatch, point: Point) -> tuple[float, float, int]:
    """The road node nearest ``point`` (422 ``outside_area`` / ``off_road``) and its position."""
    node = int(live.network.snap([point.lat], [point.lon]).node[0])
    graph = live.network.graph
    return float(graph.node_lat[node]), float(graph.node_lon[node]), node


def _vehicle(session: Session, vehicle_id: str) -> Vehicle:
    row = session.get(Vehicle, vehicle_id)
    if row is None:
        raise NotFound("unknown_vehicle", f"no vehicle with id {vehicle_id!r}")
    return row


def _shift(shifts: list[ShiftWithBreaks], vehicle_id: str, shift_id: int) -> Shift:
    found = next((shift for shift, _ in shifts if shift.id == shift_id), None)
    if found is None:
        raise NotFound("unknown_shift", f"vehicle {vehicle_id!r} has no shift {shift_id}")
    return found


def _event(live: LiveDispatch, user: User, kind: EventKind, vehicle_id: str, now: int, payload: dict
           ) -> Event:
    return Event(time=live.clock.to_datetime(now), kind=kind, actor=actor(user), vehicle_id=vehicle_id,
                 payload=payload)


def _public(live: LiveDispatch, row: Vehicle) -> VehiclePublic:
    dispatcher = live.dispatcher
    in_service = row.id in dispatcher.plan.vehicles and dispatcher.plan.state(row.id).in_service
    return VehiclePublic(id=row.id, name=row.name, seats=row.seats, wheelchair_spaces=row.wheelchair_spaces,
                         depot=Point(lat=row.depot_lat, lon=row.depot_lon), active=row.active,
                         in_service=in_service)


def _shift_public(live: LiveDispatch, shift: Shift, breaks: Sequence[ShiftBreak]) -> ShiftPublic:
    assert shift.id is not None
    zone = live.clock.zone

    def local(moment: datetime) -> datetime:
        return moment.astimezone(zone)

    return ShiftPublic(id=shift.id, vehicle_id=shift.vehicle_id, starts_at=local(shift.starts_at),
                       ends_at=local(shift.ends_at),
                       breaks=[BreakBody(earliest_start=local(b.earliest_start),
                                         latest_start=local(b.latest_start), duration_s=b.duration_s,
                                         place=None if b.node is None else _node_point(live, b.node))
                               for b in breaks])


def _node_point(live: LiveDispatch, node: int) -> Point:
    """Where road node ``node`` lies."""
    graph = live.network.graph
    return Point(lat=float(graph.node_lat[node]), lon=float(graph.node_lon[node]))
