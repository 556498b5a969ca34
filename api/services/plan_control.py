"""Operators' manual control of the plan: move a booking to another bus, pin it to its bus, lock a route's
order, add an ad-hoc break (the rules: :mod:`dispatch.manual`).

Every change is one :func:`~api.services.live_plan.plan_change`: the dispatcher checks it by route
evaluation and refuses it naming the broken rule (409, :class:`~dispatch.manual.ControlRefused`), then
the changed bookings (bus, pin), the changed buses' planned stops, the vehicle's lock or the new break,
an audit entry with the operator's name (:mod:`api.services.audit`) and an entry in the event log for each
booking and bus it concerns (so a booking's history on the desk shows it) are written in one transaction;
the routes changed reach the drivers' streams (``route_changed``) only after the commit. Pins
(``bookings.pinned``) and locks (``vehicles.route_lock``) are stored, so they survive a restart
(:mod:`api.services.recovery`); an ad-hoc break is a break of the shift that holds it (``shift_breaks``),
so the rolling horizon keeps it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, col, select

from api.db.models import AuditEntry, Booking, Event, Shift, ShiftBreak, User, Vehicle
from api.db.repository import stage_changes
from api.errors import Conflict, InvalidRequest, NotFound
from api.schemas import (
    AdHocBreakBody,
    ControlChangePublic,
    ControlledRoutePublic,
    ControlledStopPublic,
    LockBody,
    MoveBody,
)
from api.services.audit import stage_entry
from api.services.live_plan import LiveDispatch, actor, plan_change, planned_stops
from dispatch.events import EventKind
from dispatch.model import Break, RouteLock, StopKind
from dispatch.plan import Plan

MAX_BREAK_WINDOW_S = 12 * 3600  # the widest start window of an ad-hoc break


def route_of(live: LiveDispatch, *, vehicle_id: str) -> ControlledRoutePublic:
    """A bus's route in force with its lock and pins (404 ``unknown_vehicle``)."""
    with live.lock:
        plan = live.dispatcher.plan
        route, evaluation = plan.route(vehicle_id), plan.evaluation(vehicle_id)
        stops = [ControlledStopPublic(kind=stop.kind,
                                      booking_id=None if stop.kind is StopKind.BREAK else stop.request_id,
                                      planned_start=live.clock.to_datetime(start),
                                      pinned=stop.request_id in route.pinned)
                 for stop, start in zip(route.stops, evaluation.start)]
        return ControlledRoutePublic(vehicle_id=vehicle_id, in_service=plan.state(vehicle_id).in_service,
                                     lock=route.lock.value, stops=stops)


def move(live: LiveDispatch, session: Session, *, user: User, booking_id: str, body: MoveBody
         ) -> ControlChangePublic:
    """Move a booking not yet picked up to ``body.vehicle_id`` (its best feasible place there, pinned with
    ``body.pin``); 409 naming the rule when it does not fit, 404 for an unknown booking or bus."""
    with plan_change(live, session) as now:
        dispatcher = live.dispatcher
        before = dispatcher.plan
        source = before.booking(booking_id).vehicle_id
        was = _trip(live, before, booking_id)
        dispatcher.move_booking(booking_id, body.vehicle_id, now, pin=body.pin)
        changed = _stage(live, session, before, bookings=(booking_id,))
        entry = stage_entry(session, at=live.clock.to_datetime(now), operator=user, action="move",
                            booking_id=booking_id, vehicle_id=body.vehicle_id, from_vehicle_id=source,
                            before=was, after=_trip(live, dispatcher.plan, booking_id))
        _log(session, entry, user, EventKind.BOOKING_MOVED, vehicle_id=body.vehicle_id, booking_id=booking_id,
             from_vehicle_id=source, pinned=body.pin)
        return ControlChangePublic(action="move", routes_changed=changed,
                                   bookings_moved={booking_id: body.vehicle_id}, audit_id=entry.id or 0)


def pin(live: LiveDispatch, session: Session, *, user: User, booking_id: str, pinned: bool
        ) -> ControlChangePublic:
    """Pin a booking not yet picked up to its bus (``pinned=False``: unpin it)."""
    action = "pin" if pinned else "unpin"
    with plan_change(live, session) as now:
        dispatcher = live.dispatcher
        before = dispatcher.plan
        dispatcher.pin_booking(booking_id, now, pinned=pinned)
        vehicle_id = dispatcher.plan.booking(booking_id).vehicle_id
        _stage(live, session, before, bookings=(booking_id,))
        entry = stage_entry(session, at=live.clock.to_datetime(now), operator=user, action=action,
                            booking_id=booking_id, vehicle_id=vehicle_id,
                            before={"pinned": before.pinned(booking_id)},
                            after={"pinned": dispatcher.plan.pinned(booking_id)})
        _log(session, entry, user, EventKind.BOOKING_PINNED if pinned else EventKind.BOOKING_UNPINNED,
             vehicle_id=vehicle_id, booking_id=booking_id)
        return ControlChangePublic(action=action, routes_changed=[], bookings_moved={},
                                   audit_id=entry.id or 0)


def lock(live: LiveDispatch, session: Session, *, user: User, vehicle_id: str, body: LockBody | None
         ) -> ControlChangePublic:
    """Lock a bus's route order (``body`` None: unlock it); ``allow_insertions`` lets new riders in."""
    state = RouteLock.NONE if body is None else RouteLock.ORDER if body.allow_insertions else RouteLock.CLOSED
    action = "unlock" if body is None else "lock"
    with plan_change(live, session) as now:
        dispatcher = live.dispatcher
        was = dispatcher.plan.route(vehicle_id).lock
        dispatcher.lock_route(vehicle_id, state, now)
        row = session.get(Vehicle, vehicle_id)
        if row is None:
            raise NotFound("unknown_vehicle", f"no vehicle with id {vehicle_id!r}")
        row.route_lock = state
        session.add(row)
        entry = stage_entry(session, at=live.clock.to_datetime(now), operator=user, action=action,
                            vehicle_id=vehicle_id, before={"lock": was.value}, after={"lock": state.value})
        _log(session, entry, user, EventKind.ROUTE_UNLOCKED if body is None else EventKind.ROUTE_LOCKED,
             vehicle_id=vehicle_id, lock=state.value)
        return ControlChangePublic(action=action, routes_changed=[], bookings_moved={},
                                   audit_id=entry.id or 0)


def add_break(live: LiveDispatch, session: Session, *, user: User, vehicle_id: str, body: AdHocBreakBody
              ) -> ControlChangePublic:
    """Add an ad-hoc break to the bus's shift that holds it, at its best feasible place in the route; 409
    naming the riders whose promise it would break, unless ``move_riders`` finds other buses for them."""
    s = live.clock.to_seconds
    earliest, latest = s(body.earliest_start), s(body.latest_start)
    if not 0 <= latest - earliest <= MAX_BREAK_WINDOW_S:
        raise InvalidRequest("invalid_break",
                             "the break's latest start must lie 0 to 12 h after its earliest")
    with plan_change(live, session) as now:
        dispatcher = live.dispatcher
        before = dispatcher.plan
        state = before.state(vehicle_id)  # 404 unknown_vehicle before anything else
        node = state.location if body.at == "here" else None
        dt = live.clock.to_datetime
        shift = _shift_holding(session, vehicle_id, dt(earliest), dt(latest + body.duration_s))
        moved = dispatcher.add_break(vehicle_id, Break(earliest, latest, body.duration_s, node), now,
                                     move_riders=body.move_riders)
        assert shift.id is not None
        session.add(ShiftBreak(shift_id=shift.id, earliest_start=dt(earliest), latest_start=dt(latest),
                               duration_s=body.duration_s, node=node))
        ids = [b.request.id for b in moved]
        changed = _stage(live, session, before, bookings=ids)
        bus = {b.request.id: b.vehicle_id or "" for b in moved}
        entry = stage_entry(session, at=dt(now), operator=user, action="add_break", vehicle_id=vehicle_id,
                            before={"breaks": sum(st.kind is StopKind.BREAK
                                                  for st in before.route(vehicle_id).stops)},
                            after={"earliest_start": dt(earliest).isoformat(),
                                   "latest_start": dt(latest).isoformat(), "duration_s": body.duration_s,
                                   "at": body.at, "riders_moved": bus})
        _log(session, entry, user, EventKind.BREAK_ADDED, vehicle_id=vehicle_id, **entry.after)
        for rider, to in bus.items():
            _log(session, entry, user, EventKind.BOOKING_MOVED, vehicle_id=to or None, booking_id=rider,
                 from_vehicle_id=vehicle_id, pinned=False)
        return ControlChangePublic(action="add_break", routes_changed=changed, bookings_moved=bus,
                                   audit_id=entry.id or 0)


def _log(session: Session, entry: AuditEntry, user: User, kind: EventKind, *, vehicle_id: str | None,
         booking_id: str | None = None, **payload: object) -> None:
    """Stage the event-log entry of a manual change by ``user``, pointing at its audit ``entry``."""
    session.add(Event(time=entry.time, kind=kind, actor=actor(user), vehicle_id=vehicle_id,
                      request_id=booking_id, payload={**payload, "audit_id": entry.id}))


def _shift_holding(session: Session, vehicle_id: str, start: datetime, end: datetime) -> Shift:
    """The stored shift of ``vehicle_id`` that holds ``[start, end]`` (409 ``shift_end`` when none does)."""
    shift = session.exec(select(Shift).where(Shift.vehicle_id == vehicle_id, col(Shift.starts_at) <= start,
                                             col(Shift.ends_at) >= end)).first()
    if shift is None:
        raise Conflict("shift_end", f"no shift of {vehicle_id!r} holds the break")
    return shift


def _trip(live: LiveDispatch, plan: Plan, booking_id: str) -> dict[str, str | bool | None]:
    """A booking's bus, pin and planned times, for the audit log."""
    times, dt = plan.planned_times(booking_id), live.clock.to_datetime
    return {"vehicle_id": plan.booking(booking_id).vehicle_id, "pinned": plan.pinned(booking_id),
            "pickup": None if times is None or times.pickup is None else dt(times.pickup).isoformat(),
            "dropoff": None if times is None else dt(times.dropoff).isoformat()}


def _stage(live: LiveDispatch, session: Session, before: Plan, *, bookings: Iterable[str]) -> list[str]:
    """Stage what the change made of ``before``: the bookings' bus and pin, and the planned stops of every
    bus whose route changed; those buses, by id."""
    plan = live.dispatcher.plan
    buses = sorted(vid for vid in plan.routes
                   if plan.route_versions.get(vid) != before.route_versions.get(vid))
    rows = []
    for booking_id in bookings:
        row = session.get(Booking, booking_id)
        if row is None:
            raise LookupError(f"booking {booking_id!r} is in the plan but not in the database")
        row.vehicle_id, row.pinned = plan.booking(booking_id).vehicle_id, plan.pinned(booking_id)
        rows.append(row)
    stage_changes(session, bookings=rows, routes={vid: planned_stops(live, vid) for vid in buses}, events=[])
    return [vid for vid in buses if plan.route(vid).stops != before.route(vid).stops]
