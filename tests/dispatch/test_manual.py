"""Tests for dispatch.manual: an operator's moves, pins, locks and ad-hoc breaks, and that everything
automatic (insertion, repair, re-optimization and its rebasing, re-timing a late bus) keeps the pins and
locks. Every outcome is checked with evaluate_route, not taken from the code that made it.

World: eleven places on a straight road, loc k at k km, 60 km/h (loc i to loc j takes 60·|i − j| s).
T0 = 08:00; buses work 07:00–15:00. A stop takes 45 s for one rider. Plans are installed by hand with
:meth:`Dispatcher.restore` so the arithmetic stays visible.
"""

from __future__ import annotations

import pytest

from dispatch.dispatcher import Booking, Dispatcher, RequestStatus
from dispatch.evaluation import evaluate_route
from dispatch.insertion import CostWeights
from dispatch.manual import ControlRefused, control_broken
from dispatch.model import (
    Break,
    Offer,
    Promise,
    Rejection,
    Route,
    RouteLock,
    ServiceRules,
    Stop,
    StopKind,
    TimeBounds,
    Vehicle,
    VehicleState,
)
from dispatch.reoptimize import ReoptimizationPolicy, solve_round
from dispatch.repair import RepairOptions, repair
from tests.dispatch.scenarios import leave_after, line_travel

T0 = 8 * 3600
LINE = line_travel(range(11))
RULES = ServiceRules()
DWELL = RULES.dwell_s(1)  # 45 s
P, D = StopKind.PICKUP, StopKind.DROPOFF


def bus(vid: str, depot: int, seats: int = 4, shift_end: int = T0 + 7 * 3600) -> Vehicle:
    """A bus whose shift runs 07:00 to ``shift_end``."""
    return Vehicle(vid, seats, 0, depot, T0 - 3600, shift_end)


def booking(rid: str, origin: int, destination: int, window: tuple[int, int], latest_dropoff: int,
            vehicle_id: str, seats: int = 1) -> Booking:
    """A booked rider with a hand-made promise (longest ride 30 min)."""
    request = leave_after(rid, origin, destination, window[0], seats=seats)
    bounds = TimeBounds(60 * abs(destination - origin), window[0], window[1], latest_dropoff, 1800)
    return Booking(request, bounds, Promise(window[0], window[1], latest_dropoff, 1800),
                   RequestStatus.BOOKED, vehicle_id)


def stops_of(b: Booking) -> tuple[Stop, Stop]:
    """The pickup and drop-off a booking's promise binds."""
    r, p = b.request, b.promise
    return (Stop(r.id, P, r.origin, p.window_start, p.window_end, RULES.dwell_s(r.passengers), r.seats),
            Stop(r.id, D, r.destination, 0, p.latest_dropoff, RULES.dwell_s(r.passengers), r.seats, 0,
                 p.max_ride_s))


def installed(vehicles: list[Vehicle], bookings: list[Booking], states: dict[str, int] | None = None
              ) -> Dispatcher:
    """A dispatcher with ``bookings`` on their buses in the given order (pickup, drop-off each), every bus
    free at its depot from T0 (``states``: from that time instead)."""
    d = Dispatcher(vehicles, RULES, LINE, T0)
    routes: dict[str, list[Stop]] = {v.id: [] for v in vehicles}
    for b in bookings:
        assert b.vehicle_id is not None
        routes[b.vehicle_id].extend(stops_of(b))
    at = states or {}
    problems = d.restore(bookings, {vid: Route(vid, tuple(s)) for vid, s in routes.items()},
                         {v.id: VehicleState(v.id, v.depot, at.get(v.id, T0)) for v in vehicles}, T0)
    assert problems == []
    d.drain_events()
    return d


def bus_of(d: Dispatcher, rid: str) -> str:
    """The bus whose route holds ``rid``, checked against the booking."""
    [vid] = [v for v, r in d.plan.routes.items() if any(s.request_id == rid for s in r.stops)]
    assert d.plan.booking(rid).vehicle_id == vid
    return vid


def assert_feasible_and_promised(d: Dispatcher) -> None:
    """Every route passes evaluate_route and every booked rider is served inside the promise."""
    for vid, vehicle in d.plan.vehicles.items():
        evaluation = evaluate_route(vehicle, d.plan.state(vid), d.plan.route(vid).stops, d.legs)
        assert evaluation.feasible, (vid, evaluation.violations)
        for stop, start in zip(d.plan.route(vid).stops, evaluation.start):
            if stop.kind is StopKind.BREAK:
                continue
            promise = d.plan.booking(stop.request_id).promise
            if stop.kind is P:
                assert promise.window_start <= start <= promise.window_end
            else:
                assert start <= promise.latest_dropoff


# --- moving a booking by hand ------------------------------------------------------------------------

def test_a_booking_moves_to_another_bus_at_its_best_place_keeping_its_promise():
    """A 2→4 (window 08:10–08:30) rides v1 (depot 0). Moved to v2 (depot 10): v1's route is empty, v2
    picks A up inside the window; the move emits route_changed for both buses."""
    d = installed([bus("v1", 0), bus("v2", 10)], [booking("A", 2, 4, (T0 + 600, T0 + 1800), T0 + 3600, "v1")])
    d.move_booking("A", "v2", T0)
    assert bus_of(d, "A") == "v2" and d.plan.route("v1").stops == ()
    assert not d.plan.pinned("A")
    assert {e.vehicle_id for e in d.drain_events() if e.kind.value == "route_changed"} == {"v1", "v2"}
    assert_feasible_and_promised(d)


def test_a_move_with_pin_keeps_the_booking_pinned_to_its_new_bus():
    """Moved with ``pin``, A is pinned to v2 (and to v2 only)."""
    d = installed([bus("v1", 0), bus("v2", 10)], [booking("A", 2, 4, (T0 + 600, T0 + 1800), T0 + 3600, "v1")])
    d.move_booking("A", "v2", T0, pin=True)
    assert d.plan.pinned("A") and "A" in d.plan.route("v2").pinned and "A" not in d.plan.route("v1").pinned


@pytest.mark.parametrize(("target", "code"), [
    (bus("v2", 10, seats=1), "capacity"),  # A takes two seats
    (bus("v2", 10, shift_end=T0 + 900), "shift_end"),  # 10→2→4→10 takes 1050 s
])
def test_a_move_the_other_bus_cannot_take_is_refused_naming_the_rule(target, code):
    """A 2→4 (window 08:10–09:00), for two riders: v2 has one seat, ``capacity``; for one: v2's shift ends
    at 08:15 but the trip brings it back at 08:19:30, ``shift_end``. Nothing changes."""
    a = booking("A", 2, 4, (T0 + 600, T0 + 3600), T0 + 7200, "v1", seats=1 if code == "shift_end" else 2)
    d = installed([bus("v1", 0), target], [a])
    before = d.plan
    with pytest.raises(ControlRefused) as refused:
        d.move_booking("A", "v2", T0)
    assert refused.value.code == code
    assert d.plan is before


def test_a_move_that_would_break_the_promise_is_refused_naming_the_rider():
    """A 2→4 must be picked up 08:05–08:10; v2 stands at loc 10 until 08:05 and would reach loc 2 at 08:13:
    ``time_window``, naming A."""
    d = installed([bus("v1", 0), bus("v2", 10)], [booking("A", 2, 4, (T0 + 300, T0 + 600), T0 + 3600, "v1")],
                  {"v2": T0 + 300})
    with pytest.raises(ControlRefused) as refused:
        d.move_booking("A", "v2", T0)
    assert refused.value.code == "time_window" and refused.value.bookings == ("A",)
    assert bus_of(d, "A") == "v1"


def test_a_rider_on_board_cannot_be_moved_or_pinned():
    """Once picked up, a rider stays: ``not_movable`` for a move and for a pin."""
    d = installed([bus("v1", 2), bus("v2", 10)], [booking("A", 2, 4, (T0, T0 + 1800), T0 + 3600, "v1")])
    d.arrive("v1", T0)
    d.pick_up("v1", "A", T0 + 60)
    for change in (lambda: d.move_booking("A", "v2", T0 + 60), lambda: d.pin_booking("A", T0 + 60)):
        with pytest.raises(ControlRefused) as refused:
            change()
        assert refused.value.code == "not_movable"


# --- pins against everything automatic ---------------------------------------------------------------

def far_rider_on_the_wrong_bus(pinned: bool) -> Dispatcher:
    """A 9→10 rides v1 (depot 0) though v2 stands at loc 10: any re-optimization moves A to v2 — unless A
    is pinned to v1."""
    a = booking("A", 9, 10, (T0 + 1200, T0 + 2400), T0 + 5400, "v1")
    d = installed([bus("v1", 0), bus("v2", 10)], [a])
    if pinned:
        d.pin_booking("A", T0)
    return d


@pytest.mark.parametrize("search", ["or-tools", "live round"])
@pytest.mark.parametrize("pinned", [False, True])
def test_a_pinned_booking_stays_on_its_bus_through_reoptimization(search: str, pinned: bool):
    """Unpinned, re-optimization moves A to v2 (it saves v1 the drive to loc 9 and back); pinned, A stays on
    v1 whatever the search — OR-Tools alone or a live round of the large-neighbourhood search."""
    d = far_rider_on_the_wrong_bus(pinned)
    if search == "or-tools":
        d.reoptimize(T0, time_limit_s=2.0, solution_limit=50)
    else:
        job = d.prepare_reoptimization()
        solution = solve_round(job.prepared.problem, job.prepared.initial,
                               ReoptimizationPolicy(iterations=20, budget_s=20.0), seed=0)
        d.apply_reoptimization(job, solution, T0)
    assert bus_of(d, "A") == ("v1" if pinned else "v2")
    assert_feasible_and_promised(d)


def test_a_pin_set_while_the_optimizer_runs_holds_when_its_answer_comes():
    """The job is prepared with A unpinned; A is pinned before the answer comes: the rebased answer keeps
    A on v1 (the answer that moved A is not applied)."""
    d = far_rider_on_the_wrong_bus(pinned=False)
    job = d.prepare_reoptimization()
    solution = solve_round(job.prepared.problem, job.prepared.initial,
                           ReoptimizationPolicy(iterations=20, budget_s=20.0), seed=0)
    d.pin_booking("A", T0)
    d.apply_reoptimization(job, solution, T0)
    assert bus_of(d, "A") == "v1"
    assert_feasible_and_promised(d)


def repair_case(pinned: bool) -> tuple[Dispatcher, Stop, Stop]:
    """v1 (1 seat, loc 0) carries A 2→8 (window 08:05–08:13:20); v2 (1 seat, loc 10) is free from 08:05.
    B 3→7 must be picked up 08:04–08:06:40: only v1 reaches loc 3 in time, and v1 cannot carry both; v2 can
    still reach loc 2 for A by 08:13. So the repair moves A to v2 — unless A is pinned."""
    a = booking("A", 2, 8, (T0 + 300, T0 + 800), T0 + 3600, "v1")
    d = installed([bus("v1", 0, seats=1), bus("v2", 10, seats=1)], [a], {"v2": T0 + 300})
    if pinned:
        d.pin_booking("A", T0)
    pickup = Stop("B", P, 3, T0 + 240, T0 + 400, DWELL, 1)
    dropoff = Stop("B", D, 7, 0, T0 + 3600, DWELL, 1, 0, 1800)
    return d, pickup, dropoff


@pytest.mark.parametrize("pinned", [False, True])
def test_a_pinned_booking_stays_on_its_bus_through_the_repair_before_refusal(pinned: bool):
    """Unpinned, the repair places B on v1 by moving A to v2; pinned, it finds nothing (A is never moved)."""
    d, pickup, dropoff = repair_case(pinned)
    found = repair(d.plan, pickup, dropoff, T0, CostWeights(), RepairOptions())
    if pinned:
        assert found is None
    else:
        assert found is not None and found.moved == {"A": "v2"}


def test_a_pinned_rider_of_a_late_bus_keeps_the_bus_and_gets_a_new_promise():
    """A 2→4 (window 08:10–08:20) on v1; v2 at loc 10 could keep the promise. v1 reports it still stands at
    its depot at 08:20. Unpinned, A would move to v2; pinned, A stays on v1 with a new promise."""
    d = installed([bus("v1", 0), bus("v2", 10)], [booking("A", 2, 4, (T0 + 600, T0 + 1200), T0 + 3600, "v1")])
    d.pin_booking("A", T0)
    d.vehicle_position("v1", 0, T0 + 1200)
    assert bus_of(d, "A") == "v1"
    assert d.plan.booking("A").promise.window_end > T0 + 1200
    assert_feasible_and_promised(d)


# --- locked routes -----------------------------------------------------------------------------------

def wasteful_order(lock: RouteLock) -> Dispatcher:
    """v2 (loc 10) drives C 9→1 and then D 8→2 (10→9→1→8→2→10: 30 km); both picked up first saves 12 km."""
    c = booking("C", 9, 1, (T0, T0 + 2400), T0 + 7200, "v2")
    e = booking("D", 8, 2, (T0, T0 + 2400), T0 + 7200, "v2")
    d = installed([bus("v1", 0), bus("v2", 10)], [c, e])
    d.lock_route("v2", lock, T0)
    return d


@pytest.mark.parametrize("lock", [RouteLock.NONE, RouteLock.ORDER])
def test_a_locked_route_keeps_its_order_through_reoptimization(lock: RouteLock):
    """Unlocked, re-optimization re-orders v2's stops (less driving); locked, v2 keeps C, C, D, D."""
    d = wasteful_order(lock)
    before = [(s.request_id, s.kind) for s in d.plan.route("v2").stops]
    d.reoptimize(T0, time_limit_s=2.0, solution_limit=50)
    after = [(s.request_id, s.kind) for s in d.plan.route("v2").stops]
    assert (after == before) == (lock is RouteLock.ORDER)
    assert_feasible_and_promised(d)


@pytest.mark.parametrize("lock", [RouteLock.ORDER, RouteLock.CLOSED])
def test_a_closed_route_takes_no_new_rider_while_an_order_locked_one_does_in_its_order(lock: RouteLock):
    """One bus with C and D. A new rider 5→6 is offered a place on the order-locked route — the stops
    already planned keep their order — and refused by the closed one."""
    c = booking("C", 9, 1, (T0, T0 + 2400), T0 + 7200, "v2")
    d = installed([bus("v2", 10)], [c])
    d.lock_route("v2", lock, T0)
    before = d.plan.route("v2").stops
    answer = d.quote(leave_after("N", 5, 6, T0 + 600), T0, with_alternatives=False)
    if lock is RouteLock.CLOSED:
        assert isinstance(answer, Rejection)
        return
    assert isinstance(answer, Offer)
    d.book("N", T0)
    assert [s for s in d.plan.route("v2").stops if s.request_id != "N"] == list(before)
    assert_feasible_and_promised(d)


def test_a_locked_late_route_is_not_reordered_and_its_unpinned_rider_may_leave_for_another_bus():
    """A late, locked v1 (A 2→4, window 08:10–08:20; at its depot at 08:20): A is not put elsewhere in v1
    but may move to v2, which keeps the promise; v1's order (nothing left) is kept."""
    d = installed([bus("v1", 0), bus("v2", 10)], [booking("A", 2, 4, (T0 + 600, T0 + 1200), T0 + 3600, "v1")])
    d.lock_route("v1", RouteLock.ORDER, T0)
    d.vehicle_position("v1", 0, T0 + 1200)
    assert bus_of(d, "A") == "v2"
    assert_feasible_and_promised(d)


def test_control_broken_names_a_pinned_rider_put_on_another_bus_and_a_changed_locked_order():
    """The check the optimizer's answers pass: a pinned rider elsewhere, a locked route re-ordered, a
    closed route with a new rider are each named; the routes as they were pass."""
    d = wasteful_order(RouteLock.ORDER)
    d.pin_booking("C", T0)
    routes = d.plan.vehicle_routes()[0]
    stops = {r.vehicle.id: r.stops for r in routes}
    c1, c2, d1, d2 = stops["v2"]
    assert control_broken(routes, stops) is None
    assert "pinned" in (control_broken(routes, {"v1": (c1, c2), "v2": (d1, d2)}) or "")
    assert "order" in (control_broken(routes, {"v1": (), "v2": (c1, d1, c2, d2)}) or "")


# --- ad-hoc breaks -----------------------------------------------------------------------------------

def test_an_ad_hoc_break_goes_where_every_promise_holds():
    """v1 carries A 2→4 (window 08:00–08:30). A 20-min break from 08:00–09:00 at the depot fits (after A);
    the vehicle holds the break, and every rule holds."""
    d = installed([bus("v1", 0)], [booking("A", 2, 4, (T0, T0 + 1800), T0 + 3600, "v1")])
    d.add_break("v1", Break(T0, T0 + 3600, 1200), T0)
    kinds = [s.kind for s in d.plan.route("v1").stops]
    assert kinds.count(StopKind.BREAK) == 1 and Break(T0, T0 + 3600, 1200) in d.plan.vehicle("v1").breaks
    assert_feasible_and_promised(d)


def test_an_ad_hoc_break_that_breaks_a_promise_is_refused_naming_the_booking_unless_riders_move():
    """v1 must pick A up at loc 2 between 08:10 and 08:15; a 30-min break that must start by 08:05 pushes A
    past its window wherever it goes: refused ``time_window`` naming A. With ``move_riders`` A goes to v2
    (loc 10, reaches loc 2 by 08:08) and the break is planned."""
    d = installed([bus("v1", 0), bus("v2", 10)], [booking("A", 2, 4, (T0 + 600, T0 + 900), T0 + 3600, "v1")])
    pause = Break(T0, T0 + 300, 1800)
    with pytest.raises(ControlRefused) as refused:
        d.add_break("v1", pause, T0)
    assert refused.value.code == "time_window" and refused.value.bookings == ("A",)
    moved = d.add_break("v1", pause, T0, move_riders=True)
    assert [b.request.id for b in moved] == ["A"] and bus_of(d, "A") == "v2"
    assert [s.kind for s in d.plan.route("v1").stops] == [StopKind.BREAK]
    assert_feasible_and_promised(d)


def test_an_ad_hoc_break_outside_the_shift_is_refused():
    """A break that would end after the shift: ``shift_end``."""
    d = installed([bus("v1", 0, shift_end=T0 + 3600)], [])
    with pytest.raises(ControlRefused) as refused:
        d.add_break("v1", Break(T0 + 3000, T0 + 3300, 900), T0)
    assert refused.value.code == "shift_end"
