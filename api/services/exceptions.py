"""Exceptions for operators: what in the plan in force and the fleet's reports needs a person's eye, and
what the system already did about each (``GET /v1/operator/exceptions``, the Exceptions panel of
``/operator``).

Five kinds (:class:`~api.schemas.ExceptionKind`), judged at one instant ``now``:

- ``late_bus``: a bus in service whose plan in force starts one of its stops after the latest time
  promised for it — a pickup's window end *as first promised* (a ``promise_changed`` moves the window in
  force, not how late the bus is), a drop-off's latest arrival, a break's latest start. ``minutes`` is
  the largest overrun. The plan is re-timed from every report of the bus (position, arrival, boarding),
  so a bus behind is a bus whose next stops now fall beyond their promises.
- ``promise_broken``: a booked rider whose planned pickup falls after the window end in force, or whose
  estimated arrival falls after the latest arrival, or who still waits after their promise was changed
  (``promise_changed`` event: the first promise is broken, the rider was given a new one); ``minutes``
  late (against the first promise).
- ``promise_at_risk``: a planned pickup (or arrival) within ``at_risk_s`` of the end of its window (or
  the latest arrival), not yet beyond; ``minutes`` of slack left.
- ``bus_silent``: a bus in service, in its shift and not on a break whose last position used is older
  than ``silent_s`` (or which has reported none since its shift started); ``minutes`` since.
- ``rider_waiting``: a booked rider whose pickup window in force has ended, not picked up (a no-show or
  a cancellation ends the booking, so it does not show); ``minutes`` past the window.

A booking shows once, under its worst kind (waiting, then broken, then at risk). What the system did
(:class:`Action`) comes from the event log of the last ``lookback_s``: the rider moved to another bus
(``bookings_moved`` of a re-optimization or a repaired booking, ``replanned`` of a withdrawn bus) or given
a new promise (``promise_changed``: the rider is told on their booking stream, operators are alerted on
theirs). No action means nothing yet.

:func:`find_exceptions` is pure (a :class:`~dispatch.plan.Plan`, integer seconds, plain event records);
:func:`exceptions_view` takes the plan in force under the dispatcher's lock, reads the events and answers
with aware datetimes of the service clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from api.clock import ServiceClock
from api.db.models import Event
from api.schemas import (
    ActionKind,
    ExceptionActionPublic,
    ExceptionKind,
    ExceptionPublic,
    ExceptionsPublic,
    Severity,
)
from api.services.live_plan import LiveDispatch
from dispatch.events import EventKind
from dispatch.model import StopKind
from dispatch.plan import Plan, RequestStatus

# The event a late bus's new promise is logged as (EventKind.PROMISE_CHANGED where the dispatcher emits
# it); matched by its value, so the view reads the log whichever events the dispatcher knows.
PROMISE_CHANGED = "promise_changed"
_MOVING = (EventKind.PLAN_REOPTIMIZED.value, EventKind.BOOKING_CONFIRMED.value,
           EventKind.VEHICLE_OUT_OF_SERVICE.value)
_ACTIVE = (RequestStatus.BOOKED, RequestStatus.PICKED_UP)
_RANK = {ExceptionKind.RIDER_WAITING: 0, ExceptionKind.PROMISE_BROKEN: 1, ExceptionKind.PROMISE_AT_RISK: 2}
_ORDER = (ExceptionKind.LATE_BUS, ExceptionKind.RIDER_WAITING, ExceptionKind.PROMISE_BROKEN,
          ExceptionKind.BUS_SILENT, ExceptionKind.PROMISE_AT_RISK)


@dataclass(frozen=True)
class ExceptionThresholds:
    """When something is an exception (seconds): a bus counts as late from ``late_s`` behind a promise, a
    promise at risk within ``at_risk_s`` of its end, a bus silent after ``silent_s`` without a position;
    a late bus or a silent one is critical from ``critical_s``; actions are looked up ``lookback_s`` back."""

    late_s: int = 60
    at_risk_s: int = 180
    silent_s: int = 300
    critical_s: int = 600
    lookback_s: int = 3 * 3600


@dataclass(frozen=True)
class EventRecord:
    """What an entry of the event log says about riders, as the view reads it (times in dispatch seconds):
    the bookings it moved to another bus (request id → the bus, where the event names it), or for a
    ``promise_changed`` the new window end and the one before."""

    kind: str
    time: int
    vehicle_id: str | None = None
    request_id: str | None = None
    moved: Mapping[str, str | None] = field(default_factory=dict)
    window_end: int | None = None
    previous_window_end: int | None = None


@dataclass(frozen=True)
class Action:
    """Something the system did: moved a rider to ``vehicle_id``, or promised them a new window ending at
    ``window_end``."""

    kind: ActionKind
    time: int
    vehicle_id: str | None = None
    window_end: int | None = None


@dataclass(frozen=True)
class Finding:
    """One exception in dispatch seconds: what, how bad, whom it concerns, ``minutes`` (behind, late,
    silent, past the window or of slack left, per kind), the planned time and the promised time it is
    judged against, the bus's last position used, and what the system did."""

    kind: ExceptionKind
    severity: Severity
    minutes: int
    vehicle_id: str | None = None
    booking_id: str | None = None
    stop: StopKind | None = None
    planned: int | None = None
    due: int | None = None
    last_position: int | None = None
    actions: tuple[Action, ...] = ()


def find_exceptions(plan: Plan, *, now: int, positions: Mapping[str, int], events: Iterable[EventRecord],
                    thresholds: ExceptionThresholds) -> list[Finding]:
    """Every exception of ``plan`` at ``now`` (see the module's text), most urgent first: critical before
    warning, then late buses, waiting riders, broken promises, silent buses, promises at risk, the most
    minutes late (at risk: the fewest left) first. ``positions`` gives when each bus's last position used
    was taken."""
    actions, first_end = _actions_by_booking(plan, events)
    findings = _buses(plan, now, positions, first_end, actions, thresholds)
    findings += _bookings(plan, now, first_end, actions, thresholds)
    return sorted(findings, key=lambda f: (f.severity is not Severity.CRITICAL, _ORDER.index(f.kind),
                                           -_pressing(f), f.vehicle_id or "", f.booking_id or ""))


def _minutes(seconds: int) -> int:
    return (seconds + 30) // 60


def _actions_by_booking(plan: Plan, events: Iterable[EventRecord]
                        ) -> tuple[dict[str, list[Action]], dict[str, int]]:
    """What the system did per booking, oldest first, and each changed promise's first window end."""
    actions: dict[str, list[Action]] = {}
    first_end: dict[str, int] = {}
    for event in sorted(events, key=lambda e: e.time):
        if event.kind == PROMISE_CHANGED and event.request_id is not None:
            actions.setdefault(event.request_id, []).append(
                Action(ActionKind.PROMISE_CHANGED, event.time, event.vehicle_id, event.window_end))
            if event.previous_window_end is not None:
                first_end.setdefault(event.request_id, event.previous_window_end)
        for request_id, vehicle_id in event.moved.items():
            booking = plan.bookings().get(request_id)
            bus = vehicle_id if vehicle_id is not None or booking is None else booking.vehicle_id
            actions.setdefault(request_id, []).append(Action(ActionKind.MOVED, event.time, bus))
    return actions, first_end


def _buses(plan: Plan, now: int, positions: Mapping[str, int], first_end: Mapping[str, int],
           actions: Mapping[str, list[Action]], thresholds: ExceptionThresholds) -> list[Finding]:
    """Late buses and silent ones."""
    findings = []
    for vehicle_id in sorted(plan.vehicles):
        state, vehicle = plan.state(vehicle_id), plan.vehicle(vehicle_id)
        if not state.in_service:
            continue
        stops, starts = plan.route(vehicle_id).stops, plan.evaluation(vehicle_id).start
        worst: tuple[int, int] | None = None  # (overrun, stop index)
        for k, (stop, start) in enumerate(zip(stops, starts)):
            latest = stop.latest
            if stop.kind is StopKind.PICKUP:
                latest = min(latest, first_end.get(stop.request_id, latest))
            if start - latest >= thresholds.late_s and (worst is None or start - latest > worst[0]):
                worst = (start - latest, k)
        if worst is not None:
            behind, k = worst
            stop = stops[k]
            done = sorted((a for rid in {s.request_id for s in stops} for a in actions.get(rid, ())
                           if a.kind is ActionKind.PROMISE_CHANGED), key=lambda a: a.time)
            findings.append(Finding(
                ExceptionKind.LATE_BUS,
                Severity.CRITICAL if behind >= thresholds.critical_s else Severity.WARNING,
                _minutes(behind), vehicle_id, None if stop.kind is StopKind.BREAK else stop.request_id,
                stop.kind, starts[k], starts[k] - behind, positions.get(vehicle_id), tuple(done)))
        on_break = bool(stops) and stops[0].kind is StopKind.BREAK and starts[0] <= now
        last = positions.get(vehicle_id)
        silent_since = vehicle.shift_start if last is None else last
        if (vehicle.shift_start <= now < vehicle.shift_end and not on_break
                and now - silent_since > thresholds.silent_s):
            findings.append(Finding(
                ExceptionKind.BUS_SILENT,
                Severity.CRITICAL if now - silent_since >= thresholds.critical_s else Severity.WARNING,
                _minutes(now - silent_since), vehicle_id, last_position=last))
    return findings


def _bookings(plan: Plan, now: int, first_end: Mapping[str, int], actions: Mapping[str, list[Action]],
              thresholds: ExceptionThresholds) -> list[Finding]:
    """Riders waiting past their window, broken promises and promises at risk; one finding per booking."""
    planned: dict[tuple[str, StopKind], int] = {}
    for vehicle_id, route in plan.routes.items():
        for stop, start in zip(route.stops, plan.evaluation(vehicle_id).start):
            planned[(stop.request_id, stop.kind)] = start
    findings: dict[str, Finding] = {}

    def note(finding: Finding) -> None:
        assert finding.booking_id is not None
        known = findings.get(finding.booking_id)
        if known is None or _urgency(finding) > _urgency(known):
            findings[finding.booking_id] = finding

    for request_id, booking in plan.bookings().items():
        if booking.status not in _ACTIVE:
            continue
        promise, bus = booking.promise, booking.vehicle_id
        done = tuple(actions.get(request_id, ()))
        pickup = planned.get((request_id, StopKind.PICKUP))
        dropoff = planned.get((request_id, StopKind.DROPOFF))
        waiting = booking.status is RequestStatus.BOOKED
        if waiting and now > promise.window_end:
            note(Finding(ExceptionKind.RIDER_WAITING, Severity.CRITICAL, _minutes(now - promise.window_end),
                         bus, request_id, StopKind.PICKUP, pickup, promise.window_end, actions=done))
        first = first_end.get(request_id)
        if waiting and first is not None and first < promise.window_end:  # the first promise is broken
            late = (promise.window_end if pickup is None else pickup) - first
            note(Finding(ExceptionKind.PROMISE_BROKEN, Severity.WARNING, _minutes(max(late, 0)), bus,
                         request_id, StopKind.PICKUP, pickup, first, actions=done))
        for kind, at, due in ((StopKind.PICKUP, pickup if waiting else None, promise.window_end),
                              (StopKind.DROPOFF, dropoff, promise.latest_dropoff)):
            if at is None:
                continue
            if at > due:
                severity = Severity.WARNING if any(a.kind is ActionKind.PROMISE_CHANGED for a in done) \
                    else Severity.CRITICAL
                note(Finding(ExceptionKind.PROMISE_BROKEN, severity, _minutes(at - due), bus, request_id,
                             kind, at, due, actions=done))
            elif due - at <= thresholds.at_risk_s:
                note(Finding(ExceptionKind.PROMISE_AT_RISK, Severity.WARNING, _minutes(due - at), bus,
                             request_id, kind, at, due, actions=done))
    return list(findings.values())


def _pressing(finding: Finding) -> int:
    """Its minutes, the more the worse: minutes late, silent or waiting; for a promise at risk, the minutes
    left count negatively."""
    return -finding.minutes if finding.kind is ExceptionKind.PROMISE_AT_RISK else finding.minutes


def _urgency(finding: Finding) -> tuple[int, int]:
    """How urgent a booking's finding is, to keep its worst: by kind, then by :func:`_pressing`."""
    return (-_RANK[finding.kind], _pressing(finding))


# --- the view ------------------------------------------------------------------------------------------


def exceptions_view(live: LiveDispatch, session: Session, *, thresholds: ExceptionThresholds
                    ) -> ExceptionsPublic:
    """The exceptions of the plan in force now, with what the system did about each (from the event log
    of the last ``thresholds.lookback_s``), times in the service's zone."""
    clock = live.clock
    now = clock.now()
    events = read_events(session, since=now - thresholds.lookback_s, clock=clock)
    with live.lock:
        findings = find_exceptions(live.dispatcher.plan, now=now, positions=dict(live.positions.taken_at),
                                   events=events, thresholds=thresholds)
    return ExceptionsPublic(now=clock.to_datetime(now), exceptions=[_public(f, clock) for f in findings])


def _public(finding: Finding, clock: ServiceClock) -> ExceptionPublic:
    """``finding`` as the API answers it, with aware datetimes."""
    def dt(seconds: int | None) -> datetime | None:
        return None if seconds is None else clock.to_datetime(seconds)

    return ExceptionPublic(
        kind=finding.kind, severity=finding.severity, minutes=finding.minutes, vehicle_id=finding.vehicle_id,
        booking_id=finding.booking_id, stop=finding.stop, planned_time=dt(finding.planned),
        due_time=dt(finding.due), last_position_at=dt(finding.last_position),
        actions=[ExceptionActionPublic(kind=a.kind, time=clock.to_datetime(a.time), vehicle_id=a.vehicle_id,
                                       window_end=dt(a.window_end)) for a in finding.actions])


def read_events(session: Session, *, since: int, clock: ServiceClock) -> list[EventRecord]:
    """The logged events from dispatch second ``since`` on that tell what the system did about riders."""
    rows: Sequence[Event] = session.exec(
        select(Event).where(col(Event.time) >= clock.to_datetime(since),
                            sa.type_coerce(col(Event.kind), sa.String).in_((PROMISE_CHANGED, *_MOVING)))
        .order_by(col(Event.id))).all()
    session.commit()  # end the read: on SQLite an open read would hold up writers
    return [_record(row, clock) for row in rows]


def _record(row: Event, clock: ServiceClock) -> EventRecord:
    """What ``row`` says about riders."""
    payload, kind = row.payload or {}, str(row.kind)

    def seconds(key: str) -> int | None:
        value = payload.get(key)
        return clock.to_seconds(datetime.fromisoformat(value)) if isinstance(value, str) else None

    moved = payload.get("replanned" if kind == EventKind.VEHICLE_OUT_OF_SERVICE else "bookings_moved")
    if isinstance(moved, Mapping):
        by_bus = {str(rid): None if bus is None else str(bus) for rid, bus in moved.items()}
    else:
        by_bus = {str(rid): None for rid in moved} if isinstance(moved, list) else {}
    return EventRecord(kind, clock.to_seconds(row.time), row.vehicle_id, row.request_id, by_bus,
                       seconds("window_end"), seconds("previous_window_end"))
