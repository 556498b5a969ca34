"""Drivers' work: the route to drive, and what happens at its stops (arrived, picked up, dropped off,
no-show, break finished) and on the way (positions).

After every report the dispatcher re-times the plan from the bus's new state (:meth:`Dispatcher.retime`):
riders a late bus can no longer serve as promised move to another bus or get a new promise at once; what
that changes (their bookings, the other buses' routes, a ``promise_changed`` event each) is written in the
report's transaction, and published with it — to the rider's booking stream and the operators' stream.

Every change is one :func:`~api.services.live_plan.plan_change`: applied to the in-process dispatcher,
then written — the booking's new status, the bus's new planned stops and an event — in one transaction;
if that write fails the plan is rolled back, so the plan in force and the database never disagree, and
the change is published only once it is saved. A driver acts only on the bus they are bound to
(``users.vehicle_id``); the dispatcher refuses anything but the next stop (``not_next_stop``,
``no_next_stop``) and an early no-show (``too_early_for_no_show``), which :mod:`api.errors` answers
with 409.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from api.db.models import Booking, Event, User, UserRole
from api.db.repository import save_booking, save_route, stage_changes
from api.errors import Forbidden, InvalidRequest
from api.positions import Ignored, PositionInFuture
from api.schemas import PositionReport, PositionsAccepted
from api.services.live_plan import LiveDispatch, actor, plan_change, planned_stops
from api.services.notifications import notify
from dispatch.dispatcher import Dispatcher, RequestStatus
from dispatch.events import EventKind
from dispatch.model import StopKind
from dispatch.plan import Plan


def vehicle_of(user: User, vehicle_id: str | None = None) -> str:
    """The bus ``user`` may act on: a driver's own (403 without one, or when asking for another);
    for an operator the one named (422 ``vehicle_required`` when none is)."""
    if user.role is UserRole.OPERATOR:
        if vehicle_id is None:
            raise InvalidRequest("vehicle_required", "operators name the vehicle: ?vehicle_id=...")
        return vehicle_id
    if user.vehicle_id is None:
        raise Forbidden("this driver is not bound to a vehicle")
    if vehicle_id is not None and vehicle_id != user.vehicle_id:
        raise Forbidden(f"you drive {user.vehicle_id}, not {vehicle_id}")
    return user.vehicle_id


def arrived(live: LiveDispatch, session: Session, *, user: User, vehicle_id: str) -> None:
    """The bus stands at its next stop."""
    with plan_change(live, session) as now:
        before = live.dispatcher.plan
        stop = live.dispatcher.arrive(vehicle_id, now)
        _save_retimed(live, session, before=before, now=now, saved=vehicle_id)
        save_route(session, vehicle_id=vehicle_id, route=planned_stops(live, vehicle_id),
                   event=Event(time=live.clock.to_datetime(now), kind=EventKind.VEHICLE_ARRIVED,
                               actor=actor(user), vehicle_id=vehicle_id,
                               request_id=None if stop.kind is StopKind.BREAK else stop.request_id,
                               payload={"kind": stop.kind.value}))


def break_finished(live: LiveDispatch, session: Session, *, user: User, vehicle_id: str) -> None:
    """The driver's break at the head of the route is over (409 ``not_next_stop`` when the next stop is
    no break, ``no_next_stop`` without stops)."""
    with plan_change(live, session) as now:
        before = live.dispatcher.plan
        live.dispatcher.finish_break(vehicle_id, now)
        _save_retimed(live, session, before=before, now=now, saved=vehicle_id)
        save_route(session, vehicle_id=vehicle_id, route=planned_stops(live, vehicle_id),
                   event=Event(time=live.clock.to_datetime(now), kind=EventKind.BREAK_FINISHED,
                               actor=actor(user), vehicle_id=vehicle_id))


def _report_stop(live: LiveDispatch, session: Session, *, user: User, vehicle_id: str, booking_id: str,
                 serve: Callable[[Dispatcher, str, str, int], None], status: RequestStatus,
                 kind: EventKind) -> None:
    """Apply one stop report to the plan and save it, as one unit of work."""
    with plan_change(live, session) as now:
        before = live.dispatcher.plan
        serve(live.dispatcher, vehicle_id, booking_id, now)
        _save_retimed(live, session, before=before, now=now, saved=vehicle_id)
        _record(live, session, user=user, vehicle_id=vehicle_id, booking_id=booking_id, now=now,
                status=status, kind=kind)


def picked_up(live: LiveDispatch, session: Session, *, user: User, vehicle_id: str, booking_id: str) -> None:
    """The rider of ``booking_id`` boarded at the bus's next stop."""
    _report_stop(live, session, user=user, vehicle_id=vehicle_id, booking_id=booking_id,
                 serve=Dispatcher.pick_up, status=RequestStatus.PICKED_UP, kind=EventKind.RIDER_PICKED_UP)


def dropped_off(live: LiveDispatch, session: Session, *, user: User, vehicle_id: str,
                booking_id: str) -> None:
    """The rider of ``booking_id`` alighted at the bus's next stop: the trip is completed."""
    _report_stop(live, session, user=user, vehicle_id=vehicle_id, booking_id=booking_id,
                 serve=Dispatcher.drop_off, status=RequestStatus.COMPLETED, kind=EventKind.RIDER_DROPPED_OFF)


def no_show(live: LiveDispatch, session: Session, *, user: User, vehicle_id: str, booking_id: str) -> None:
    """The rider of ``booking_id`` did not come to the pickup (allowed once the bus has waited)."""
    _report_stop(live, session, user=user, vehicle_id=vehicle_id, booking_id=booking_id,
                 serve=Dispatcher.no_show, status=RequestStatus.NO_SHOW, kind=EventKind.RIDER_NO_SHOW)


def report_positions(live: LiveDispatch, session: Session, *, vehicle_id: str,
                     positions: list[PositionReport]) -> PositionsAccepted:
    """The last of a batch of positions, snapped to the roads, is where the bus is, as of when it was
    taken (at most now: a tablet's clock a little ahead moves nothing). A batch with any position stamped
    beyond the allowed clock skew is refused (422 ``position_in_future``); a last position that is stale
    or older than the last one used is ignored (see :mod:`api.positions`). Positions are published, not
    stored; what re-timing the plan from a used one changes is saved."""
    last = positions[-1]
    snapped = live.network.snap([last.lat], [last.lon])
    with plan_change(live) as now:  # a position alone is not stored: commit only what re-timing changed
        s = live.clock.to_seconds
        try:
            for position in positions:
                live.positions.check_not_ahead(s(position.at), now)
        except PositionInFuture as error:
            raise InvalidRequest("position_in_future", str(error)) from error
        taken = live.positions.judge(vehicle_id, s(last.at), now)
        if isinstance(taken, Ignored):
            return PositionsAccepted(used=False, ignored=taken)
        before = live.dispatcher.plan
        live.dispatcher.vehicle_position(vehicle_id, int(snapped.node[0]), taken)
        live.positions.used(vehicle_id, taken)
        if _save_retimed(live, session, before=before, now=now, saved=None):
            try:
                session.commit()
            except BaseException:
                session.rollback()
                raise
    return PositionsAccepted(used=True)


def _save_retimed(live: LiveDispatch, session: Session, *, before: Plan, now: int, saved: str | None) -> bool:
    """Stage in the report's transaction what re-timing the plan changed since ``before`` (the plan the
    report started from; the dispatcher re-times after every report, :meth:`Dispatcher.retime`): the
    bookings moved to another bus or promised anew (bus, latest pickup, window end, latest arrival,
    longest ride), a ``promise_changed`` event per new promise, and the routes of the buses changed but
    ``saved`` (whose route the report writes itself). Whether anything was staged."""
    plan, dt = live.dispatcher.plan, live.clock.to_datetime
    buses = [vid for vid in plan.routes if plan.route_versions.get(vid) != before.route_versions.get(vid)]
    riders = dict.fromkeys(s.request_id for vid in buses for s in plan.route(vid).stops
                           if s.kind is not StopKind.BREAK)
    rows, events = [], []
    for request_id in riders:
        booked, was = plan.booking_table.get(request_id), before.booking_table.get(request_id)
        if booked is None or was is None:
            continue
        if booked.promise == was.promise and booked.vehicle_id == was.vehicle_id:
            continue
        row = session.get(Booking, request_id)
        if row is None:
            raise LookupError(f"booking {request_id!r} is in the plan but not in the database")
        row.vehicle_id = booked.vehicle_id
        row.latest_pickup, row.window_end = dt(booked.bounds.latest_pickup), dt(booked.promise.window_end)
        row.latest_dropoff, row.max_ride_s = dt(booked.promise.latest_dropoff), booked.promise.max_ride_s
        rows.append(row)
        if booked.promise != was.promise:
            times = plan.planned_times(request_id)
            events.append(Event(
                time=dt(now), kind=EventKind.PROMISE_CHANGED, actor="dispatcher",
                vehicle_id=booked.vehicle_id, request_id=request_id,
                payload={"window_end": dt(booked.promise.window_end).isoformat(),
                         "previous_window_end": dt(was.promise.window_end).isoformat(),
                         "latest_dropoff": dt(booked.promise.latest_dropoff).isoformat(),
                         "planned_pickup": None if times is None or times.pickup is None
                         else dt(times.pickup).isoformat()}))
    routes = {vid: planned_stops(live, vid) for vid in sorted(buses) if vid != saved}
    if not rows and not routes:
        return False
    stage_changes(session, bookings=rows, routes=routes, events=events)
    notify(session, events, rows)  # riders with a new promise are told in the same transaction
    return True


def _record(live: LiveDispatch, session: Session, *, user: User, vehicle_id: str, booking_id: str, now: int,
            status: RequestStatus, kind: EventKind) -> None:
    """Write the booking's new status, the bus's planned stops and the event in one transaction."""
    row = session.get(Booking, booking_id)
    if row is None:
        raise LookupError(f"booking {booking_id!r} is in the plan but not in the database")
    moment: datetime = live.clock.to_datetime(now)
    row.status, row.vehicle_id = status, vehicle_id
    if status is RequestStatus.PICKED_UP:
        row.picked_up_at = moment
    elif status is RequestStatus.COMPLETED:
        row.dropped_off_at = moment
    else:
        row.ended_at = moment
    save_booking(session, booking=row, route=planned_stops(live, vehicle_id),
                 event=Event(time=moment, kind=kind, actor=actor(user), vehicle_id=vehicle_id,
                             request_id=booking_id))
