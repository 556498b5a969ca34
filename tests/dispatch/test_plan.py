"""Tests for dispatch.plan: the plan in force as a value, and the questions it answers. Same line world as
tests/dispatch/test_dispatcher.py: loc k at k km, 60 km/h, a stop 30 s + 15 s per rider."""

from __future__ import annotations

import random

import pytest

from dispatch.model import RejectionCause, StopKind
from dispatch.plan import DispatchError, PlannedTimes, RequestStatus, Table
from tests.dispatch.scenarios import leave_after
from tests.dispatch.test_dispatcher import T0, assert_plan_feasible, book, bus, dispatcher


def test_planned_times_are_the_route_evaluation_of_the_booked_stops():
    """A 0→5 from 08:00 on a bus at loc 0: picked up at 08:00 (45 s), dropped off at 08:05:45; the plan
    says so, and book returned the same times."""
    d = dispatcher(bus())
    booked = book(d, leave_after("A", 0, 5, T0))
    assert booked.times == PlannedTimes("v1", T0, T0 + 345)
    assert d.plan.planned_times("A") == booked.times
    assert booked.plan_version == d.plan.version and booked.booking == d.plan.booking("A")


def test_planned_times_of_a_rider_on_board_have_no_pickup_and_of_an_ended_booking_none():
    """Once A is on board only the drop-off is planned; once A is dropped off nothing is."""
    d = dispatcher(bus())
    book(d, leave_after("A", 0, 5, T0))
    d.arrive("v1", T0)
    d.pick_up("v1", "A", T0 + 45)
    assert d.plan.planned_times("A") == PlannedTimes("v1", None, T0 + 345)
    d.arrive("v1", T0 + 345)
    d.drop_off("v1", "A", T0 + 390)
    assert d.plan.planned_times("A") is None
    with pytest.raises(DispatchError):
        d.plan.planned_times("nobody")


def test_a_plan_handed_out_does_not_change_when_the_dispatcher_does():
    """The plan read before B books still has only A, its evaluation and version as they were."""
    d = dispatcher(bus())
    book(d, leave_after("A", 0, 5, T0))
    before = d.plan
    stops, start, version = before.route("v1").stops, before.evaluation("v1").start, before.version
    book(d, leave_after("B", 1, 6, T0))
    assert before.route("v1").stops == stops and before.evaluation("v1").start == start
    assert before.version == version < d.plan.version
    assert "B" not in before.bookings() and "B" in d.plan.bookings()


def test_rollback_puts_the_checkpointed_plan_back():
    """A checkpoint is the plan value itself: after a cancel and a rollback the plan in force is it."""
    d = dispatcher(bus())
    book(d, leave_after("A", 0, 5, T0))
    checkpoint = d.checkpoint()
    d.cancel("A", T0)
    assert d.plan.booking("A").status is RequestStatus.CANCELLED
    d.rollback(checkpoint)
    assert d.plan is checkpoint.plan and d.plan.booking("A").status is RequestStatus.BOOKED


def test_route_without_a_request_keeps_the_others_stops():
    """A and B pooled: the route without A is B's two stops, nothing committed."""
    d = dispatcher(bus())
    book(d, leave_after("A", 0, 5, T0))
    book(d, leave_after("B", 1, 6, T0))
    route = d.plan.route_without("v1", "A")
    assert [(s.request_id, s.kind) for s in route.stops] == [("B", StopKind.PICKUP), ("B", StopKind.DROPOFF)]
    assert d.plan.evaluate("v1", route.stops).feasible


def test_a_rider_nobody_can_take_is_unserved_with_its_cause():
    """The only bus breaks down with A booked: A's booking is rejected and the plan lists A as unserved,
    cause vehicle_out_of_service; the plan check finds nothing wrong."""
    d = dispatcher(bus())
    book(d, leave_after("A", 0, 5, T0))
    failed = d.take_out_of_service("v1", T0)
    assert [r.request_id for r in failed] == ["A"]
    assert d.plan.unserved["A"].cause is RejectionCause.VEHICLE_OUT_OF_SERVICE
    assert d.plan.booking("A").status is RequestStatus.REJECTED
    assert d.plan.check() == []
    assert_plan_feasible(d)


def test_check_names_a_booking_its_bus_does_not_serve():
    """A restored booking on v1 that v1's route does not hold is reported by the plan check."""
    d = dispatcher(bus())
    booked = book(d, leave_after("A", 0, 5, T0))
    copy = dispatcher(bus())
    problems = copy.restore([booked.booking], {}, {}, T0)
    assert problems == ["A: booked on 'v1' but not in its route"]


def test_a_table_changes_into_a_new_one_like_a_dict_and_stays_as_it_was():
    """200 rounds of adding and replacing keys (past several merges): every table reads, iterates and
    counts like a dict updated the same way, and every older table still reads as it did."""
    rng = random.Random(3)
    table: Table[int] = Table()
    expected: dict[str, int] = {}
    history = []
    for step in range(200):
        items = [(f"k{rng.randrange(150)}", step) for _ in range(rng.randrange(1, 4))]
        table = table.updated(items)
        expected.update(items)
        history.append((table, dict(expected)))
    for old, then in history:
        assert list(old.items()) == list(then.items()) and len(old) == len(then)
        assert "k0" in old if "k0" in then else "k0" not in old
        with pytest.raises(KeyError):
            old["missing"]
