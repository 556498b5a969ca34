"""Tests for dispatch.disturbance: a bus behind its plan, and a rider who does not come.

World: eleven places on a straight road, loc k at k km, driven at 60 km/h, so loc i to loc j takes
60·|i − j| seconds. T0 = 08:00; buses work 07:00–15:00. A stop takes 30 s + 15 s per rider (45 s for one).
Plans are either booked through the dispatcher or installed by hand with :meth:`Dispatcher.restore`
(promises chosen so the arithmetic stays visible).
"""

from __future__ import annotations

import pytest

from dispatch.dispatcher import Booking, Dispatcher, DispatchError, RequestStatus
from dispatch.disturbance import PROMISE_MARGIN_S, no_show_wait
from dispatch.evaluation import evaluate_route
from dispatch.events import EventKind
from dispatch.model import (
    Offer,
    Promise,
    Route,
    ServiceRules,
    Stop,
    StopKind,
    TimeBounds,
    Vehicle,
    VehicleState,
)
from dispatch.reoptimize import ReoptimizationPolicy, solve_round
from tests.dispatch.scenarios import leave_after, line_travel

T0 = 8 * 3600
LINE = line_travel(range(11))
RULES = ServiceRules()
DWELL = RULES.dwell_s(1)  # 45 s
P, D = StopKind.PICKUP, StopKind.DROPOFF


def bus(vid: str, depot: int) -> Vehicle:
    """A 4-seat bus whose shift runs 07:00–15:00."""
    return Vehicle(vid, 4, 0, depot, T0 - 3600, T0 + 7 * 3600)


def dispatcher(*vehicles: Vehicle) -> Dispatcher:
    """A dispatcher over the line world at T0, set-up events drained."""
    d = Dispatcher(vehicles, RULES, LINE, T0)
    d.drain_events()
    return d


def book(d: Dispatcher, rid: str, origin: int, destination: int, at: int) -> Booking:
    """Quote and book a leave-after trip at T0."""
    offer = d.quote(leave_after(rid, origin, destination, at), T0)
    assert isinstance(offer, Offer), offer
    d.book(rid, T0)
    return d.plan.booking(rid)


def booking(rid: str, origin: int, destination: int, window: tuple[int, int], latest_dropoff: int,
            vehicle_id: str, max_ride_s: int = 1800) -> Booking:
    """A booked rider with a hand-made promise."""
    request = leave_after(rid, origin, destination, window[0])
    bounds = TimeBounds(60 * abs(destination - origin), window[0], window[1], latest_dropoff, max_ride_s)
    return Booking(request, bounds, Promise(window[0], window[1], latest_dropoff, max_ride_s),
                   RequestStatus.BOOKED, vehicle_id)


def stops_of(b: Booking) -> tuple[Stop, Stop]:
    """The pickup and drop-off a booking's promise binds."""
    r, p = b.request, b.promise
    return (Stop(r.id, P, r.origin, p.window_start, p.window_end, DWELL, 1),
            Stop(r.id, D, r.destination, 0, p.latest_dropoff, DWELL, 1, 0, p.max_ride_s))


def starts(d: Dispatcher, vid: str) -> dict[tuple[str, StopKind], int]:
    """Planned start of each stop of a bus's route, by (request, kind)."""
    route, evaluation = d.plan.route(vid), d.plan.evaluation(vid)
    return {(s.request_id, s.kind): t for s, t in zip(route.stops, evaluation.start)}


def assert_promises_kept(d: Dispatcher) -> None:
    """Every route keeps every rule and every booked rider's planned pickup lies in the promised window,
    every arrival by the promised latest arrival."""
    for vid, vehicle in d.plan.vehicles.items():
        evaluation = evaluate_route(vehicle, d.plan.state(vid), d.plan.route(vid).stops, d.legs)
        assert evaluation.feasible, (vid, evaluation.violations)
        for stop, start in zip(d.plan.route(vid).stops, evaluation.start):
            if stop.kind is StopKind.BREAK:
                continue
            promise = d.plan.booking(stop.request_id).promise
            if stop.kind is P:
                assert promise.window_start <= start <= promise.window_end, (stop, start, promise)
            else:
                assert start <= promise.latest_dropoff, (stop, start, promise)


def promise_events(d: Dispatcher) -> list[tuple[str | None, dict]]:
    """The promise_changed events since the last drain, as (request, data)."""
    return [(e.request_id, e.data) for e in d.drain_events() if e.kind is EventKind.PROMISE_CHANGED]


def test_late_bus_rider_moves_to_a_bus_that_keeps_the_promise():
    """A 2→4 from 08:10 is booked on v1 (depot 0; v2's depot is 10): window 08:10–08:20. v1 reports it
    still stands at its depot at 08:20: it would reach loc 2 at 08:22, too late. v2 (at loc 10, free
    since 08:00) reaches loc 2 at 08:08 and waits for the window: A moves to v2, keeps the promise, and
    hears nothing."""
    d = dispatcher(bus("v1", 0), bus("v2", 10))
    a = book(d, "A", 2, 4, T0 + 600)
    assert a.vehicle_id == "v1" and (a.promise.window_start, a.promise.window_end) == (T0 + 600, T0 + 1200)
    d.drain_events()
    d.vehicle_position("v1", 0, T0 + 1200)  # re-times the plan at once
    assert d.plan.booking("A").vehicle_id == "v2" and d.plan.booking("A").promise == a.promise
    assert d.plan.route("v1").stops == ()
    assert starts(d, "v2")[("A", P)] == T0 + 600
    assert promise_events(d) == []
    assert_promises_kept(d)


def test_late_bus_promise_nobody_can_keep_changes_once_with_the_new_estimate():
    """One bus. A 2→4 from 08:10, window 08:10–08:20. v1 reports at its depot at 08:20: pickup at
    08:22 (= T0 + 1320) is past the window. Nobody can keep it, so the window now ends at the estimate plus
    the margin (08:24), announced once as promise_changed with the new estimate. One more minute of delay
    (pickup 08:23) stays inside the new promise: no second announcement. Three more (pickup 08:25:20)
    break it again: a second one."""
    d = dispatcher(bus("v1", 0))
    book(d, "A", 2, 4, T0 + 600)
    d.drain_events()
    d.vehicle_position("v1", 0, T0 + 1200)
    [(rid, data)] = promise_events(d)
    assert rid == "A" and data["planned_pickup"] == T0 + 1320
    assert data["previous_window"] == [T0 + 600, T0 + 1200]
    assert data["window"] == [T0 + 600, T0 + 1320 + PROMISE_MARGIN_S]
    promise = d.plan.booking("A").promise
    assert (promise.window_start, promise.window_end) == (T0 + 600, T0 + 1440)
    assert d.plan.booking("A").vehicle_id == "v1"
    assert_promises_kept(d)

    d.vehicle_position("v1", 0, T0 + 1260)
    assert promise_events(d) == [] and starts(d, "v1")[("A", P)] == T0 + 1380
    assert_promises_kept(d)

    d.vehicle_position("v1", 0, T0 + 1400)
    [(rid, data)] = promise_events(d)
    assert rid == "A" and data["planned_pickup"] == T0 + 1520 and data["window"][1] == T0 + 1640
    assert_promises_kept(d)


def test_rider_on_board_keeps_the_late_bus_while_a_waiting_rider_moves():
    """v1 (depot 0) carries A 0→8 (picked up at 08:00, longest ride 1320 s) and should pick up B 6→9
    (window 08:10–08:20). v2 is added at loc 10. v1 reports itself at loc 1 at 08:25: B's pickup would be
    08:30, so B moves to v2 (at loc 6 by 08:04, waits for the window); A stays on v1 and arrives at
    08:25 + 7 min = 08:32 (ride 1920 s): A's promise changes — longest ride 1920 + margin — with the new
    arrival estimate and no pickup estimate."""
    d = dispatcher(bus("v1", 0))
    book(d, "A", 0, 8, T0)
    book(d, "B", 6, 9, T0 + 600)
    assert d.plan.booking("B").vehicle_id == "v1"
    d.add_vehicle(bus("v2", 10), T0)
    d.arrive("v1", T0)
    d.pick_up("v1", "A", T0)
    d.drain_events()
    d.vehicle_position("v1", 1, T0 + 1500)
    assert d.plan.booking("B").vehicle_id == "v2"
    assert d.plan.booking("A").vehicle_id == "v1" and d.plan.booking("A").status is RequestStatus.PICKED_UP
    assert [r.request_id for r in d.plan.state("v1").onboard] == ["A"]
    [(rid, data)] = promise_events(d)
    assert rid == "A" and data["planned_pickup"] is None and data["estimated_dropoff"] == T0 + 1920
    assert d.plan.booking("A").promise.max_ride_s == 1920 + PROMISE_MARGIN_S
    assert starts(d, "v2")[("B", P)] == T0 + 600
    assert_promises_kept(d)


@pytest.mark.parametrize("search", ["or-tools", "live round"])
def test_reoptimization_runs_for_the_fleet_while_a_bus_is_late(search: str):
    """v1 (at its depot, free only at 08:20) must pick A up at loc 2 by 08:10: its route is late (nobody
    re-timed it). v2 (at loc 10) drives C 9→1 and D 8→2 in a wasteful order: C on and off, then D
    (10→9→1→8→2→10: 30 km); picking both up first saves 12 km. Re-optimization no longer refuses to run
    — OR-Tools alone, or a live round of the large-neighbourhood search as the service runs it: the answer
    is applied, v2 drives less, and A is picked up no later than the late plan said (08:22)."""
    d = dispatcher(bus("v1", 0), bus("v2", 10))
    a = booking("A", 2, 4, (T0, T0 + 600), T0 + 3600, "v1")
    c = booking("C", 9, 1, (T0, T0 + 2400), T0 + 7200, "v2", max_ride_s=1800)
    e = booking("D", 8, 2, (T0, T0 + 2400), T0 + 7200, "v2", max_ride_s=1800)
    (ap, ad), (cp, cd), (ep, ed) = stops_of(a), stops_of(c), stops_of(e)
    problems = d.restore([a, c, e], {"v1": Route("v1", (ap, ad)), "v2": Route("v2", (cp, cd, ep, ed))},
                         {"v1": VehicleState("v1", 0, T0 + 1200), "v2": VehicleState("v2", 10, T0)}, T0)
    assert problems and "late" in problems[0]  # the plan in force is itself infeasible
    before = d.plan.evaluation("v2").drive_s
    d.drain_events()
    if search == "or-tools":
        result = d.reoptimize(T0, time_limit_s=2.0, solution_limit=50)
    else:
        job = d.prepare_reoptimization()
        solution = solve_round(job.prepared.problem, job.prepared.initial,
                               ReoptimizationPolicy(iterations=30, budget_s=20.0), seed=0)
        result = d.apply_reoptimization(job, solution, T0)
    [event] = [e for e in d.drain_events() if e.kind is EventKind.PLAN_REOPTIMIZED]
    assert result is not None and event.data["applied"], event.data
    assert result.drive_s_after < result.drive_s_before
    assert d.plan.evaluation("v2").drive_s < before or d.plan.booking("A").vehicle_id == "v2"
    pickup_a = starts(d, d.plan.booking("A").vehicle_id or "")[("A", P)]
    assert pickup_a <= T0 + 1320
    for rid in ("C", "D"):
        bus_id = d.plan.booking(rid).vehicle_id or ""
        assert starts(d, bus_id)[(rid, P)] <= T0 + 2400 and starts(d, bus_id)[(rid, D)] <= T0 + 7200


def test_no_show_wait_is_capped_so_the_next_rider_is_not_late():
    """v1 stands at loc 2 since 08:02 for A (2→5, window 08:02–08:12); next it picks B up at loc 3,
    window 08:03:20–08:04:50. Leaving loc 2 at 08:02 + d, the bus is at loc 3 at 08:03 + d: B's window
    allows d ≤ 110 s, so the bus waits 110 s, not 3 min. A no-show at 08:03:49 is too early; at
    08:03:50 it is accepted and B is still picked up in the window. Waiting the full 3 min would have made
    B late."""
    d = dispatcher(bus("v1", 0))
    a = booking("A", 2, 5, (T0 + 120, T0 + 720), T0 + 3600, "v1")
    b = booking("B", 3, 6, (T0 + 200, T0 + 290), T0 + 3600, "v1")
    (ap, ad), (bp, bd) = stops_of(a), stops_of(b)
    assert d.restore([a, b], {"v1": Route("v1", (ap, bp, ad, bd))},
                     {"v1": VehicleState("v1", 2, T0 + 120)}, T0) == []
    assert no_show_wait(d.plan, "v1", RULES) == 110
    full_wait = VehicleState("v1", 2, T0 + 120 + RULES.no_show_wait_s)
    assert not evaluate_route(d.plan.vehicle("v1"), full_wait, (bp, bd), d.legs).feasible
    with pytest.raises(DispatchError) as error:
        d.no_show("v1", "A", T0 + 229)
    assert error.value.code == "too_early_for_no_show"
    d.no_show("v1", "A", T0 + 230)
    assert d.plan.booking("A").status is RequestStatus.NO_SHOW
    assert T0 + 200 <= starts(d, "v1")[("B", P)] <= T0 + 290
    assert not d.retime("v1", T0 + 230).changed
    assert_promises_kept(d)


def test_no_show_wait_is_the_full_wait_when_the_route_has_room():
    """A alone (2→5, window 08:02–08:12), the bus at loc 2 since 08:02: nothing after A can be made late,
    so the bus waits the whole ``no_show_wait_s``."""
    d = dispatcher(bus("v1", 0))
    a = booking("A", 2, 5, (T0 + 120, T0 + 720), T0 + 3600, "v1")
    assert d.restore([a], {"v1": Route("v1", stops_of(a))}, {"v1": VehicleState("v1", 2, T0 + 120)}, T0) == []
    assert no_show_wait(d.plan, "v1", RULES) == RULES.no_show_wait_s


def test_bus_on_time_is_not_retimed():
    """A bus that keeps every promise changes nothing when re-timed: no route, booking or event."""
    d = dispatcher(bus("v1", 0))
    book(d, "A", 2, 4, T0 + 600)
    d.drain_events()
    d.vehicle_position("v1", 1, T0 + 300)
    assert not d.retime("v1", T0 + 300).changed
    assert [e.kind for e in d.drain_events()] == [EventKind.VEHICLE_MOVED]
    assert d.plan.booking("A").vehicle_id == "v1" and d.plan.route("v1").stops[0].request_id == "A"


def test_rider_at_risk_is_reordered_within_the_bus():
    """One bus at its depot (loc 0) serves B 2→3 (window 08:07–08:30) before A 1→4 (window 08:00–08:07).
    Reported at loc 0 at 08:01, it would reach A at 08:12 (B first: 2, wait, 3, back to 1), too late.
    Without A the route keeps B's promise, and A fits before B: 1 at 08:02, then B at 2 at 08:07. A keeps
    the promise and the bus; nobody hears of a new promise."""
    d = dispatcher(bus("v1", 0))
    a = booking("A", 1, 4, (T0, T0 + 420), T0 + 3600, "v1")
    b = booking("B", 2, 3, (T0 + 420, T0 + 1800), T0 + 3600, "v1")
    (ap, ad), (bp, bd) = stops_of(a), stops_of(b)
    problems = d.restore([a, b], {"v1": Route("v1", (bp, bd, ap, ad))}, {"v1": VehicleState("v1", 0, T0)}, T0)
    assert problems  # A's pickup is late in the plan as restored
    d.drain_events()
    d.vehicle_position("v1", 0, T0 + 60)
    assert [(s.request_id, s.kind) for s in d.plan.route("v1").stops][:2] == [("A", P), ("B", P)]
    assert starts(d, "v1")[("A", P)] == T0 + 120 and starts(d, "v1")[("B", P)] == T0 + 420
    assert d.plan.booking("A").promise == a.promise and promise_events(d) == []
    assert_promises_kept(d)


def test_a_resumed_position_is_not_retimed_until_asked():
    """``retiming=False`` (a plan loaded from the database put back where its buses were) moves the bus
    but leaves the promises alone; the next re-timing repairs them."""
    d = dispatcher(bus("v1", 0))
    book(d, "A", 2, 4, T0 + 600)
    d.drain_events()
    d.vehicle_position("v1", 0, T0 + 1200, retiming=False)
    assert d.plan.booking("A").promise.window_end == T0 + 1200 and promise_events(d) == []
    assert d.retime("v1", T0 + 1200).promises
    assert d.plan.booking("A").promise.window_end == T0 + 1320 + PROMISE_MARGIN_S
