"""Disturbances: a bus behind its plan, and a rider who does not come.

**A late bus.** A driver's report (a position, an arrival, a boarding …) moves the bus's state; the plan is
then re-timed from it (:func:`retime`): route evaluation schedules the bus's stops from where and when it
is now, and each booked rider's planned times are compared with the promise (pickup window, latest arrival,
longest ride). A rider whose promise the bus can no longer keep is *at risk*. Riders at risk who are not
yet on board and whose pickup is not committed are taken out, one after the other in route order, and put
back by best insertion (:func:`dispatch.insertion.best_insertion`) into any route that keeps their promise:
another bus, or another place in their own route (re-ordering; only while the route without them keeps
every promise). An operator's pin keeps a rider on the bus (re-ordering only), a locked route's order is
never changed (its riders may only move to another bus), so a pinned rider of a locked route is not moved.
A rider whose promise is still broken after that gets a new one at once: the bus's
estimate plus ``PROMISE_MARGIN_S`` as the end of the pickup window (its start stays: the rider is there
already), and likewise the latest arrival and the longest ride where those are broken. Riders on board
keep their bus; only their arrival promise moves. A break the late bus cannot start in its window starts
when the bus gets to it.

Why a new promise with a margin rather than a soft, penalised bound: the route's stops carry the very
bounds the bookings promise (restart recovery rebuilds them from the stored promise), so after re-timing
the plan in force keeps every rule again and everything downstream — insertion for new riders, repair,
background re-optimization and its answer check — works unchanged on hard bounds. The late rider's bound
becomes what the bus achieves now (plus the margin), so no later plan makes them later than announced.
The margin makes one announcement hold while the bus slips a little more: a rider hears again only when
the estimate has moved by more than ``PROMISE_MARGIN_S`` past the new promise.

**A rider who does not come** (:func:`no_show_wait`). The bus waits at a pickup at most
``rules.no_show_wait_s`` for its rider, but never longer than the stops after it can absorb: the wait is
the longest one after which the rest of the route (without the absent rider) breaks no rule it did not
break anyway. So a no-show never makes a later rider late; the wait is planned explicitly, not reserved
in the schedule (reserving three minutes at every pickup would cost every route its slack).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from dispatch.evaluation import RouteEvaluation, ViolationKind, evaluate_route
from dispatch.insertion import VehicleRoute, best_insertion
from dispatch.model import Promise, ServiceRules, Stop, StopKind, Vehicle
from dispatch.plan import Booking, Plan, RequestStatus
from dispatch.rules import request_stops

__all__ = ["PROMISE_MARGIN_S", "PromiseChange", "Retiming", "no_show_wait", "relax_late_routes", "retime"]

PROMISE_MARGIN_S = 120  # a new promise covers the estimate plus this; the rider hears again past it


@dataclass(frozen=True)
class PromiseChange:
    """A promise the plan can no longer keep, replaced by a new one: the booking as it becomes, the
    promise it had, and the bus's estimates now (the planned pickup is None for a rider on board)."""

    booking: Booking
    previous: Promise
    planned_pickup: int | None
    estimated_dropoff: int | None


@dataclass(frozen=True)
class Retiming:
    """What re-timing a late bus changes: the routes (new stops with their evaluation), the bookings that
    moved to another bus or got a new promise (as they become), which riders moved (request id → new bus),
    and the promises changed."""

    routes: Mapping[str, tuple[tuple[Stop, ...], RouteEvaluation]] = field(default_factory=dict)
    bookings: tuple[Booking, ...] = ()
    moved: Mapping[str, str] = field(default_factory=dict)
    promises: tuple[PromiseChange, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether anything changed."""
        return bool(self.routes or self.bookings)


def broken_promises(plan: Plan, vehicle_id: str) -> list[str]:
    """The riders of ``vehicle_id``'s route whose promise its schedule breaks, in route order: a pickup
    after the window, an arrival after the latest arrival, or a ride longer than promised."""
    evaluation, table = plan.evaluation(vehicle_id), plan.booking_table
    broken: dict[str, None] = {}
    for k, stop in enumerate(plan.route(vehicle_id).stops):
        booking = table.get(stop.request_id)
        if booking is None or stop.kind is StopKind.BREAK:
            continue
        promise, start = booking.promise, evaluation.start[k]
        if stop.kind is StopKind.PICKUP:
            late = start > promise.window_end
        else:
            late = (start > promise.latest_dropoff
                    or evaluation.ride_s.get(stop.request_id, 0) > promise.max_ride_s)
        if late:
            broken[stop.request_id] = None
    return list(broken)


def retime(plan: Plan, vehicle_id: str, rules: ServiceRules, margin_s: int = PROMISE_MARGIN_S) -> Retiming:
    """Re-time ``vehicle_id``'s route from its state in ``plan``; repair what its lateness breaks (see the
    module docstring): move or re-order the riders at risk, then give the rest a new promise. An empty
    :class:`Retiming` when the bus keeps every promise and rule."""
    if not broken_promises(plan, vehicle_id) and plan.evaluation(vehicle_id).feasible:
        return Retiming()
    work, moved = plan, dict[str, str]()
    route = plan.route(vehicle_id)
    table = plan.booking_table
    movable = [s.request_id for k, s in enumerate(route.stops)
               if s.kind is StopKind.PICKUP and k >= route.committed and s.request_id in table
               and table[s.request_id].status is RequestStatus.BOOKED]
    for request_id in movable:
        if request_id not in broken_promises(work, vehicle_id):
            continue
        found = _move(work, vehicle_id, work.booking_table[request_id], rules)
        if found is not None:
            work = found
            bus = work.booking_table[request_id].vehicle_id
            if bus is not None and bus != vehicle_id:
                moved[request_id] = bus
    work, promises = _promise_again(work, vehicle_id, margin_s)
    routes = {vid: (work.route(vid).stops, work.evaluation(vid)) for vid in work.routes
              if work.route(vid).stops != plan.route(vid).stops}
    bookings = {rid: work.booking_table[rid] for rid in moved}
    bookings.update((c.booking.request.id, c.booking) for c in promises)
    return Retiming(routes, tuple(bookings.values()), moved, tuple(promises))


def _move(plan: Plan, vehicle_id: str, booking: Booking, rules: ServiceRules) -> Plan | None:
    """``plan`` with ``booking``'s rider taken out of ``vehicle_id``'s route and put back at its cheapest
    place that keeps its promise — on another bus, or elsewhere in its own route if that route keeps every
    rule without the rider — or None when no place keeps it."""
    rid = booking.request.id
    old = plan.route(vehicle_id)
    without = replace(old, stops=tuple(s for s in old.stops if s.request_id != rid))
    trial = plan.with_route(without)
    # an operator's pin keeps the rider on this bus; a locked order, from another place in this route
    pinned, locked = rid in old.pinned, old.locked
    routes = [r for r in trial.vehicle_routes()[0]
              if trial.evaluation(r.vehicle.id).feasible and (
                  not pinned if r.vehicle.id != vehicle_id
                  else not locked and not broken_promises(trial, vehicle_id))]
    if not routes:
        return None
    window = (booking.promise.window_start, booking.promise.window_end)
    pickup, dropoff = request_stops(booking.request, booking.bounds, window, rules)
    found = best_insertion(routes, pickup, dropoff, plan.legs)
    if found is None:
        return None
    trial = trial.with_route(replace(trial.route(found.vehicle_id), stops=found.stops), found.evaluation)
    return trial.with_bookings((replace(booking, vehicle_id=found.vehicle_id),))


def _promise_again(plan: Plan, vehicle_id: str, margin_s: int) -> tuple[Plan, list[PromiseChange]]:
    """``plan`` with a new promise for every rider of ``vehicle_id`` whose promise is broken (the bus's
    estimate plus ``margin_s``) and the route's stops bound by it; a break that cannot start in its window
    starts when the bus gets there."""
    route, evaluation = plan.route(vehicle_id), plan.evaluation(vehicle_id)
    broken = set(broken_promises(plan, vehicle_id))
    table = plan.booking_table
    promises: dict[str, Promise] = {rid: table[rid].promise for rid in broken}
    for k, stop in enumerate(route.stops):
        if stop.request_id not in broken:
            continue
        promise, start = promises[stop.request_id], evaluation.start[k]
        if stop.kind is StopKind.PICKUP and start > promise.window_end:
            promise = replace(promise, window_end=start + margin_s)
        elif stop.kind is StopKind.DROPOFF:
            if start > promise.latest_dropoff:
                promise = replace(promise, latest_dropoff=start + margin_s)
            ride = evaluation.ride_s.get(stop.request_id, 0)
            if ride > promise.max_ride_s:
                promise = replace(promise, max_ride_s=ride + margin_s)
        promises[stop.request_id] = promise
    stops = []
    for k, stop in enumerate(route.stops):
        new = promises.get(stop.request_id)
        if new is not None and stop.kind is StopKind.PICKUP:
            stop = replace(stop, latest=max(stop.latest, new.window_end))
        elif new is not None and stop.kind is StopKind.DROPOFF:
            stop = replace(stop, latest=max(stop.latest, new.latest_dropoff),
                           max_ride_s=max(stop.max_ride_s, new.max_ride_s))
        elif stop.kind is StopKind.BREAK and evaluation.start[k] > stop.latest:
            stop = replace(stop, latest=evaluation.start[k])
        stops.append(stop)
    changes, bookings = [], []
    for rid in sorted(broken, key=lambda r: next(k for k, s in enumerate(route.stops) if s.request_id == r)):
        booking, promise = table[rid], promises[rid]
        bounds = replace(booking.bounds, latest_pickup=max(booking.bounds.latest_pickup, promise.window_end),
                         latest_dropoff=promise.latest_dropoff, max_ride_s=promise.max_ride_s)
        bookings.append(replace(booking, promise=promise, bounds=bounds))
    plan = plan.with_bookings(bookings).with_route(replace(route, stops=tuple(stops)))
    new_evaluation = plan.evaluation(vehicle_id)
    starts = {(s.request_id, s.kind): new_evaluation.start[k]
              for k, s in enumerate(plan.route(vehicle_id).stops)}
    for booking in bookings:
        rid = booking.request.id
        changes.append(PromiseChange(booking, table[rid].promise, starts.get((rid, StopKind.PICKUP)),
                                     starts.get((rid, StopKind.DROPOFF))))
    return plan, changes


def relax_late_route(vehicle: Vehicle, evaluation: RouteEvaluation, stops: Sequence[Stop]
                     ) -> tuple[Vehicle, tuple[Stop, ...]]:
    """A route that breaks time rules, with those rules relaxed to what it achieves now: each late stop's
    latest start becomes its planned start, each too-long ride's limit the planned ride, the shift end the
    planned return. The optimizer gets these as hard bounds, so its answer makes nobody later than the plan
    in force does, and keeps every other bound (:func:`dispatch.reoptimize.prepare`)."""
    relaxed = list(stops)
    shift_end = vehicle.shift_end
    for violation in evaluation.violations:
        k = violation.stop_index
        if violation.kind is ViolationKind.LATE:
            relaxed[k] = replace(relaxed[k], latest=evaluation.start[k])
        elif violation.kind is ViolationKind.RIDE_TOO_LONG:
            relaxed[k] = replace(relaxed[k], max_ride_s=evaluation.ride_s[violation.request_id])
        elif violation.kind is ViolationKind.SHIFT_END:
            shift_end = evaluation.end_arrival
    return replace(vehicle, shift_end=shift_end), tuple(relaxed)


def no_show_wait(plan: Plan, vehicle_id: str, rules: ServiceRules) -> int:
    """How long the bus waits at its next stop, a pickup, before its rider counts as a no-show:
    ``rules.no_show_wait_s``, capped so that leaving that much later without the rider breaks no rule the
    rest of the route keeps when it leaves at once (see the module docstring). Counted from the start of
    service: the bus's arrival or the window's opening, whichever is later."""
    route, state = plan.route(vehicle_id), plan.state(vehicle_id)
    stop = route.stops[0]
    rest = tuple(s for s in route.stops[1:] if s.request_id != stop.request_id)
    begin = max(stop.earliest, state.available_at)
    vehicle = plan.vehicle(vehicle_id)

    def broken(wait: int) -> set[tuple[ViolationKind, str]]:
        at = replace(state, location=stop.location, available_at=begin + wait)
        evaluation = evaluate_route(vehicle, at, rest, plan.legs)
        return {(v.kind, v.request_id) for v in evaluation.violations}

    allowed = broken(0)
    if broken(rules.no_show_wait_s) <= allowed:
        return rules.no_show_wait_s
    low, high = 0, rules.no_show_wait_s  # broken(low) ⊆ allowed, broken(high) ⊄ allowed
    while high - low > 1:
        middle = (low + high) // 2
        if broken(middle) <= allowed:
            low = middle
        else:
            high = middle
    return low


def relax_late_routes(routes: Sequence[VehicleRoute], evaluations: Sequence[RouteEvaluation]
                ) -> list[VehicleRoute]:
    """``routes`` with every route that breaks a time rule relaxed by :func:`relax_late_route`."""
    relaxed = []
    for route, evaluation in zip(routes, evaluations, strict=True):
        if evaluation.feasible:
            relaxed.append(route)
            continue
        vehicle, stops = relax_late_route(route.vehicle, evaluation, route.stops)
        relaxed.append(replace(route, vehicle=vehicle, stops=stops))
    return relaxed
