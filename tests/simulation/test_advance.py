"""Tests for simulation.advance: drivers who follow the plan to the second, through the dispatcher's
public driver calls. Same line world as tests/dispatch/test_dispatcher.py."""

from __future__ import annotations

from dispatch.dispatcher import Dispatcher, RequestStatus
from dispatch.events import EventKind
from dispatch.model import Offer, Rejection, RejectionCause, StopKind
from simulation.advance import advance_to
from tests.dispatch.scenarios import leave_after
from tests.dispatch.test_dispatcher import (
    NEW_RIDER_ONLY,
    T0,
    assert_plan_feasible,
    book,
    bus,
    dispatcher,
    plan,
)

P, D = StopKind.PICKUP, StopKind.DROPOFF


def test_advance_to_serves_stops_in_planned_order():
    """The pooled plan of test_two_seat_bus_pools_the_same_riders: A aboard at 0 (+0..+45), B at 1
    (+105..+150), B off at 6 (+450..+495), A off at 5 (+555..+600). Advancing to +460 serves the first
    three at their planned times (a stop whose service has begun is completed); advancing to +700 the last.
    The plan is the one the new-rider-only insertion cost makes (the scenario was written for it)."""
    d = dispatcher(bus(), weights=NEW_RIDER_ONLY)
    book(d, leave_after("A", 0, 5, T0))
    book(d, leave_after("B", 1, 6, T0))
    d.drain_events()
    advance_to(d, T0 + 460)
    assert_plan_feasible(d)
    served = [(e.kind, e.request_id, e.time) for e in d.drain_events()
              if e.kind is not EventKind.ROUTE_CHANGED]
    assert served == [
        (EventKind.VEHICLE_ARRIVED, "A", T0), (EventKind.RIDER_PICKED_UP, "A", T0 + 45),
        (EventKind.VEHICLE_ARRIVED, "B", T0 + 105), (EventKind.RIDER_PICKED_UP, "B", T0 + 150),
        (EventKind.VEHICLE_ARRIVED, "B", T0 + 450), (EventKind.RIDER_DROPPED_OFF, "B", T0 + 495),
    ]
    assert d.plan.booking("A").status is RequestStatus.PICKED_UP
    assert d.plan.booking("B").status is RequestStatus.COMPLETED
    assert [(r.request_id, r.departed_pickup_at) for r in d.plan.state("v1").onboard] == [("A", T0 + 45)]
    assert plan(d, "v1") == [("A", D, T0 + 555)]
    advance_to(d, T0 + 700)
    assert_plan_feasible(d)
    assert d.plan.booking("A").status is RequestStatus.COMPLETED
    assert d.plan.route("v1").stops == ()
    state = d.plan.state("v1")
    assert (state.location, state.available_at, state.onboard) == (5, T0 + 700, ())


def test_idle_bus_can_still_get_home_by_shift_end():
    """Shift ends 08:21:30. A 0→10 is dropped off 08:10:45–08:11:30; driving home takes 10 min, so the bus
    is back exactly at 08:21:30. At 08:11:31 (advance_to +691) an idle bus left standing at loc 10 would be
    home a second late: it must have set off home, and the plan stay feasible."""
    d = dispatcher(bus(shift_end=T0 + 1290))
    book(d, leave_after("A", 0, 10, T0))
    advance_to(d, T0 + 691)
    assert d.plan.booking("A").status is RequestStatus.COMPLETED
    assert_plan_feasible(d)
    assert d.plan.evaluation("v1").end_arrival == T0 + 1290


def test_idle_bus_at_its_depot_after_shift_end_keeps_a_feasible_plan():
    """A bus with no work stands at its depot; its shift ends at 08:10. Advancing the clock to 08:10:01
    must not turn its (empty) plan infeasible."""
    d = dispatcher(bus(shift_end=T0 + 600))
    advance_to(d, T0 + 601)
    assert_plan_feasible(d)


def committed_world(now: int) -> Dispatcher:
    """A 6→8 from 08:10 (window 08:10–08:20); the bus at loc 0 must leave by 08:04 (6 km) to be there.
    The clock is advanced to ``now``."""
    d = dispatcher(bus())
    book(d, leave_after("A", 6, 8, T0 + 600))
    advance_to(d, now)
    assert_plan_feasible(d)
    return d


def test_bus_waiting_at_depot_can_still_serve_someone_first():
    """At 08:03:20 the bus has not left: C (1→2, from 08:00) is fitted before A, picked up at 08:04:20."""
    d = committed_world(T0 + 200)
    assert d.plan.route("v1").committed == 0
    assert d.plan.state("v1").available_at == T0 + 200
    offer = d.quote(leave_after("C", 1, 2, T0), T0 + 200)
    assert isinstance(offer, Offer) and offer.planned_pickup == T0 + 260
    d.book("C", T0 + 200)
    assert [(r, k) for r, k, _ in plan(d, "v1")] == [("C", P), ("C", D), ("A", P), ("A", D)]
    assert_plan_feasible(d)


def test_bus_that_has_left_is_committed_to_its_next_stop():
    """At 08:05 the bus is on its way to A: A's pickup is committed, nothing can go before it, so C
    (1→2, pickup by 08:15) cannot be served: after A the bus is back at loc 1 only at 08:15:45."""
    d = committed_world(T0 + 300)
    assert d.plan.route("v1").committed == 1
    answer = d.quote(leave_after("C", 1, 2, T0), T0 + 300)
    assert isinstance(answer, Rejection) and answer.cause is RejectionCause.NO_VEHICLE_IN_TIME
    assert [(r, k) for r, k, _ in plan(d, "v1")] == [("A", P), ("A", D)]


def test_bus_leaving_a_stop_is_committed_to_the_next():
    """A aboard at 08:10–08:10:45; the drop-off at loc 8 starts 08:12:45. At 08:11:40 the bus is on its way:
    A is on board and the drop-off is committed."""
    d = committed_world(T0 + 700)
    assert d.plan.booking("A").status is RequestStatus.PICKED_UP
    assert [(r.request_id, r.departed_pickup_at) for r in d.plan.state("v1").onboard] == [("A", T0 + 645)]
    assert d.plan.route("v1").committed == 1
    assert plan(d, "v1") == [("A", D, T0 + 765)]
