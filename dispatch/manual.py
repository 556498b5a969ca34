"""Manual control of the plan: what an operator changes by hand, and what everything automatic keeps.

An operator may **move** a booking not yet picked up to another bus (its best feasible insertion there),
**pin** a booking to its bus (:attr:`Route.pinned`: nothing automatic — insertion with repair, the
re-optimization and its rebasing, re-timing a late bus — moves it to another bus), **lock** a route's
order (:attr:`Route.lock`: re-optimization keeps the route whole, re-timing never re-orders it; ``ORDER``
still takes new riders between its stops, which insertion never re-orders, ``CLOSED`` takes none) and add
an ad-hoc **break** to a bus's shift. A manual change is the operator's own decision and may go where
automatic changes may not (a move onto a closed route, a pinned rider moved by hand).

Every change is checked by :func:`~dispatch.evaluation.evaluate_route`; a change that breaks a rule is
refused with :class:`ControlRefused`, whose code names the rule (:data:`RULE_CODES`: ``capacity``,
``time_window``, ``ride_time``, ``shift_end``, ``break``) and whose ``bookings`` name the riders whose
promise would break. The functions here are pure: they read a :class:`~dispatch.plan.Plan` and return
the routes (and bookings) as they become; :class:`~dispatch.dispatcher.Dispatcher` puts them in force.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from dispatch.evaluation import RouteEvaluation, Violation, ViolationKind
from dispatch.insertion import VehicleRoute, best_insertion, insert_stops
from dispatch.model import Break, Route, RouteLock, Stop, StopKind
from dispatch.plan import Booking, DispatchError, Plan, RequestStatus

__all__ = ["RULE_CODES", "BreakPlaced", "ControlRefused", "Moved", "add_break", "control_broken",
           "move_booking", "pin_booking", "set_lock"]

RULE_CODES: Mapping[ViolationKind, str] = {
    ViolationKind.OVER_CAPACITY: "capacity",
    ViolationKind.LATE: "time_window",  # a pickup after its promised window, an arrival after the promise
    ViolationKind.RIDE_TOO_LONG: "ride_time",
    ViolationKind.SHIFT_END: "shift_end",
    ViolationKind.BREAK_NOT_EMPTY: "break",
    ViolationKind.ORDER: "order",
}


class ControlRefused(DispatchError):
    """A manual change the plan cannot take: ``code`` names the broken rule, ``bookings`` the riders whose
    promise it would break (if any)."""

    def __init__(self, code: str, message: str, bookings: Sequence[str] = ()) -> None:
        super().__init__(code, message)
        self.bookings = tuple(bookings)


@dataclass(frozen=True)
class Moved:
    """A booking moved by hand: the routes as they become (with their evaluations) and the booking."""

    routes: Mapping[str, tuple[Route, RouteEvaluation]]
    booking: Booking


@dataclass(frozen=True)
class BreakPlaced:
    """An ad-hoc break placed: the bus's route as it becomes, and the riders moved to other buses to make
    room (their bookings as they become, and the other buses' routes)."""

    routes: Mapping[str, tuple[Route, RouteEvaluation]]
    moved: tuple[Booking, ...] = ()


def refusal(violations: Sequence[Violation], what: str) -> ControlRefused:
    """The refusal naming the first broken rule of ``violations`` and every rider whose promise breaks."""
    if not violations:
        return ControlRefused("order", f"{what}: no place in the route")
    first = violations[0]
    code = "break" if first.kind is ViolationKind.LATE and first.request_id.startswith("break:") \
        else RULE_CODES[first.kind]
    riders = list(dict.fromkeys(v.request_id for v in violations
                                if v.request_id and not v.request_id.startswith("break:")
                                and v.kind in (ViolationKind.LATE, ViolationKind.RIDE_TOO_LONG)))
    named = f" (promise of {', '.join(riders)})" if riders else ""
    return ControlRefused(code, f"{what}: {code.replace('_', ' ')} broken{named} — {first.message}", riders)


def _least_broken(plan: Plan, vehicle_id: str, trials: Sequence[tuple[Stop, ...]]) -> list[Violation]:
    """The violations of the trial route that breaks the fewest rules (the nearest miss, to name)."""
    found: list[tuple[Violation, ...]] = [plan.evaluate(vehicle_id, stops).violations for stops in trials]
    if not found:
        return []
    nearest = min(found, key=_broken_rules)
    return list(nearest)


def _broken_rules(violations: tuple[Violation, ...]) -> int:
    """How many rules a trial breaks."""
    return len(violations)


def _open_booking(plan: Plan, request_id: str) -> Booking:
    """A booking still waiting for its pickup, on a bus; :class:`ControlRefused` ``not_movable`` if not."""
    booking = plan.booking(request_id)
    if booking.status is not RequestStatus.BOOKED or booking.vehicle_id is None:
        raise ControlRefused("not_movable", f"booking {request_id!r} is {booking.status.value}: "
                                            "only a booking not yet picked up can be moved or pinned")
    return booking


def move_booking(plan: Plan, request_id: str, vehicle_id: str, now: int, *, pin: bool = False) -> Moved:
    """``request_id`` moved to ``vehicle_id``'s route at its best feasible insertion (pinned there with
    ``pin``), keeping its promise; refused naming the rule the nearest place breaks."""
    booking = _open_booking(plan, request_id)
    source = booking.vehicle_id
    assert source is not None
    target = plan.route(vehicle_id)
    if vehicle_id == source:
        raise ControlRefused("same_vehicle", f"booking {request_id!r} is on {vehicle_id!r} already")
    if not plan.state(vehicle_id).in_service:
        raise ControlRefused("vehicle_out_of_service", f"vehicle {vehicle_id!r} is out of service")
    old = plan.route(source)
    committed = old.stops[:max(old.committed, _first_movable(plan, source, now))]
    if any(s.request_id == request_id for s in committed):
        raise ControlRefused("not_movable", f"{source!r} is on its way to pick up {request_id!r}")
    pickup, dropoff = (s for s in old.stops if s.request_id == request_id)
    vehicle = plan.vehicle(vehicle_id)
    if pickup.seats > vehicle.seats or pickup.wheelchairs > vehicle.wheelchair_spaces:
        raise ControlRefused("capacity", f"{vehicle_id!r} has {vehicle.seats} seats and "
                                         f"{vehicle.wheelchair_spaces} wheelchair spaces: too few for "
                                         f"{request_id}")
    into = VehicleRoute(vehicle, plan.state(vehicle_id), target.stops, target.committed)  # by hand: any lock
    found = best_insertion([into], pickup, dropoff, plan.legs)
    if found is None:
        trials = [insert_stops(target.stops, pickup, dropoff, i, j)
                  for i, j in _near_places(plan, vehicle_id, pickup, target.committed)]
        raise refusal(_least_broken(plan, vehicle_id, trials), f"{request_id} does not fit on {vehicle_id}")
    left = plan.route_without(source, request_id)
    left = replace(left, pinned=left.pinned - {request_id})
    pinned = target.pinned | {request_id} if pin else target.pinned
    return Moved({source: (left, plan.evaluate(source, left.stops)),
                  vehicle_id: (replace(target, stops=found.stops, pinned=pinned), found.evaluation)},
                 replace(booking, vehicle_id=vehicle_id))


NEAR_STOPS = 6  # a refused move is diagnosed at the places within this many stops of the pickup window


def _near_places(plan: Plan, vehicle_id: str, pickup: Stop, first: int) -> list[tuple[int, int]]:
    """The (pickup, drop-off) positions a refused move is diagnosed at: pickups around the stops planned
    in the pickup window (from ``first``), drop-offs up to :data:`NEAR_STOPS` stops later — a few dozen
    evaluations instead of every pair on a day-long route."""
    starts, n = plan.evaluation(vehicle_id).start, len(plan.route(vehicle_id).stops)
    inside = [k for k in range(first, n) if pickup.earliest <= starts[k] <= pickup.latest]
    after = next((k for k in range(first, n) if starts[k] > pickup.latest), n)
    before = max((k for k in range(first, n) if starts[k] < pickup.earliest), default=first - 1) + 1
    lo = max(first, min([before, *inside]) - NEAR_STOPS // 2)
    hi = min(n, max([after, *inside]) + NEAR_STOPS // 2)
    return [(i, j) for i in range(lo, hi + 1) for j in range(i, min(n, i + NEAR_STOPS) + 1)]


def _first_movable(plan: Plan, vehicle_id: str, now: int) -> int:
    """The first position of the route a rider may leave: past the next stop once the bus must have left
    for it (see :func:`dispatch.repair.first_movable`)."""
    route = plan.routes[vehicle_id]
    if route.committed or not route.stops:
        return route.committed
    state = plan.states[vehicle_id]
    leave = plan.evaluation(vehicle_id).start[0] - plan.legs.seconds(state.location, route.stops[0].location)
    return 1 if leave <= now else 0


def pin_booking(plan: Plan, request_id: str, pinned: bool) -> Route:
    """The route of ``request_id``'s bus with the booking pinned to it (or no longer pinned)."""
    booking = _open_booking(plan, request_id) if pinned else plan.booking(request_id)
    route = plan.route(booking.vehicle_id) if booking.vehicle_id is not None else None
    if route is None:
        raise ControlRefused("not_movable", f"booking {request_id!r} is on no bus")
    return replace(route, pinned=route.pinned | {request_id} if pinned else route.pinned - {request_id})


def set_lock(plan: Plan, vehicle_id: str, lock: RouteLock) -> Route:
    """``vehicle_id``'s route locked as ``lock`` (``RouteLock.NONE``: unlocked)."""
    return replace(plan.route(vehicle_id), lock=lock)


def add_break(plan: Plan, vehicle_id: str, pause: Break, now: int, *, move_riders: bool = False
              ) -> BreakPlaced:
    """``vehicle_id``'s route with the break ``pause`` at its best feasible place (least driving, then
    earliest) after the stops it is committed to. When no place keeps every promise it is refused naming
    the riders whose promise breaks at the nearest miss — unless ``move_riders``: then those riders (not
    pinned, not picked up) go to other buses at their best insertion, keeping their promises, and the
    break takes their place; refused if one of them fits nowhere."""
    vehicle, route = plan.vehicle(vehicle_id), plan.route(vehicle_id)
    if not plan.state(vehicle_id).in_service:
        raise ControlRefused("vehicle_out_of_service", f"vehicle {vehicle_id!r} is out of service")
    if pause.latest_start < now:
        raise ControlRefused("break", "the break's latest start has passed")
    ends = pause.latest_start + pause.duration_s
    if pause.earliest_start < vehicle.shift_start or ends > vehicle.shift_end:
        raise ControlRefused("shift_end", f"the break does not lie within the shift of {vehicle_id!r}")
    stop = Stop(f"break:{vehicle_id}:adhoc:{pause.earliest_start}:{plan.version}", StopKind.BREAK,
                pause.place(vehicle.depot), pause.earliest_start, pause.latest_start, pause.duration_s)
    first = max(route.committed, _first_movable(plan, vehicle_id, now))
    placed = _place_break(plan, vehicle_id, route, stop, first)
    if isinstance(placed, tuple):
        return BreakPlaced({vehicle_id: placed})
    refused = refusal(placed, f"the break does not fit into the route of {vehicle_id}")
    if not move_riders or not refused.bookings:
        raise refused
    return _break_moving_riders(plan, vehicle_id, stop, first, refused)


def _place_break(plan: Plan, vehicle_id: str, route: Route, stop: Stop, first: int
                 ) -> tuple[Route, RouteEvaluation] | list[Violation]:
    """The route with ``stop`` at its best feasible place from position ``first``, or the violations of
    the nearest miss (a place where the break starts in its window, if there is one)."""
    best: tuple[tuple[int, int], Route, RouteEvaluation] | None = None
    misses: list[tuple[Violation, ...]] = []  # the violations of each place that breaks a rule
    for k in range(first, len(route.stops) + 1):
        stops = (*route.stops[:k], stop, *route.stops[k:])
        evaluation = plan.evaluate(vehicle_id, stops)
        if not evaluation.feasible:
            misses.append(evaluation.violations)
        elif best is None or (evaluation.drive_s, k) < best[0]:
            best = ((evaluation.drive_s, k), replace(route, stops=stops), evaluation)
    if best is not None:
        return best[1], best[2]
    # the nearest miss: where the break itself holds, breaking the fewest rules (to name the riders)
    def nearness(violations: tuple[Violation, ...]) -> tuple[bool, int]:
        return any(v.request_id == stop.request_id for v in violations), len(violations)

    if not misses:
        return []
    nearest = min(misses, key=nearness)
    return list(nearest)


def _break_moving_riders(plan: Plan, vehicle_id: str, stop: Stop, first: int, refused: ControlRefused
                         ) -> BreakPlaced:
    """:func:`add_break` with the riders ``refused`` names moved to other buses first."""
    trial = plan
    for rid in refused.bookings:
        if trial.booking(rid).status is not RequestStatus.BOOKED or rid in plan.route(vehicle_id).pinned:
            raise ControlRefused(refused.code, f"{refused.message}; {rid} cannot be moved", refused.bookings)
        trial = trial.with_route(trial.route_without(vehicle_id, rid))
    placed = _place_break(trial, vehicle_id, trial.route(vehicle_id), stop, first)
    if not isinstance(placed, tuple):
        raise refusal(placed, f"the break does not fit into the route of {vehicle_id} even without "
                              f"{', '.join(refused.bookings)}")
    trial = trial.with_route(*placed)
    routes: dict[str, tuple[Route, RouteEvaluation]] = {vehicle_id: placed}
    moved = []
    for rid in refused.bookings:
        pickup, dropoff = (s for s in plan.route(vehicle_id).stops if s.request_id == rid)
        others = [r for r in trial.vehicle_routes()[0] if r.vehicle.id != vehicle_id]
        found = best_insertion(others, pickup, dropoff, trial.legs)
        if found is None:
            raise ControlRefused(refused.code, f"{refused.message}; no other bus can take {rid}",
                                 refused.bookings)
        new_route = replace(trial.route(found.vehicle_id), stops=found.stops)
        trial = trial.with_route(new_route, found.evaluation)
        routes[found.vehicle_id] = (new_route, found.evaluation)
        moved.append(replace(trial.booking(rid), vehicle_id=found.vehicle_id))
    return BreakPlaced(routes, tuple(moved))


def control_broken(before: Sequence[VehicleRoute], after: Mapping[str, Sequence[Stop]]) -> str | None:
    """Why routes ``after`` (vehicle id → stops) break an operator's pins or locks of ``before`` (the
    routes they were made from), or None when they keep them: a pinned rider on another bus, a locked
    route whose stops left it or changed order, a closed route with new riders."""
    where = {s.request_id: vid for vid, stops in after.items() for s in stops}
    for route in before:
        vid = route.vehicle.id
        held = {s.request_id for s in route.stops}
        for rid in route.pinned & held:
            if where.get(rid, vid) != vid:
                return f"{rid} is pinned to {vid} but was put on {where[rid]}"
        if route.lock is RouteLock.NONE or vid not in after:
            continue
        keys = [(s.request_id, s.kind) for s in route.stops]
        now = [(s.request_id, s.kind) for s in after[vid]]
        left = [k for k in keys if where.get(k[0], vid) != vid]
        if left:
            return f"{left[0][0]} left {vid}, whose order is locked"
        kept = set(keys)
        if [k for k in now if k in kept] != [k for k in keys if k in set(now)]:
            return f"the locked order of {vid} was changed"
        if route.lock is RouteLock.CLOSED and any(k not in kept for k in now):
            return f"{vid} is closed to new riders"
    return None
