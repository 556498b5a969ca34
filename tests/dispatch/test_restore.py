"""Tests for Dispatcher.restore: a dispatcher rebuilt from another's bookings, routes and vehicle states
plans exactly as the original would. Same line world as tests/dispatch/test_dispatcher.py."""

from __future__ import annotations

from dataclasses import replace

from dispatch.dispatcher import BookedTrip, Dispatcher, RequestStatus
from dispatch.model import Offer, Route
from simulation.advance import advance_to
from tests.dispatch.scenarios import leave_after
from tests.dispatch.test_dispatcher import LINE, RULES, T0, assert_plan_feasible, bus, dispatcher


def booked(d: Dispatcher, *requests) -> None:
    """Quote and book every request; each must get an offer."""
    for request in requests:
        assert isinstance(d.quote(request, T0), Offer)
        assert isinstance(d.book(request.id, T0), BookedTrip)


def rebuilt(d: Dispatcher, now: int = T0) -> tuple[Dispatcher, list[str]]:
    """A fresh dispatcher over the same vehicles, restored from ``d``'s plan."""
    vehicles = list(d.plan.vehicles.values())
    copy = Dispatcher(vehicles, RULES, LINE, now)
    problems = copy.restore(list(d.plan.bookings().values()), {v: d.plan.route(v) for v in d.plan.vehicles},
                            {v: d.plan.state(v) for v in d.plan.vehicles}, now)
    return copy, problems


def test_restored_plan_has_the_same_routes_evaluations_and_bookings():
    """Two buses, three booked riders, one on board: the copy has the same routes, states, evaluations
    and bookings, and reports no problem."""
    d = dispatcher(bus("v1"), bus("v2", depot=10))
    booked(d, leave_after("r1", 1, 5, T0 + 600), leave_after("r2", 2, 6, T0 + 900),
           leave_after("r3", 9, 3, T0 + 600))
    advance_to(d, T0 + 1200)  # someone is on board by now
    assert any(b.status is RequestStatus.PICKED_UP for b in d.plan.bookings().values())
    copy, problems = rebuilt(d, T0 + 1200)
    assert problems == []
    active = (RequestStatus.BOOKED, RequestStatus.PICKED_UP)
    assert copy.plan.bookings() == {k: b for k, b in d.plan.bookings().items() if b.status in active}
    for vid in d.plan.vehicles:
        assert copy.plan.route(vid) == d.plan.route(vid)
        assert copy.plan.state(vid) == d.plan.state(vid)
        assert copy.plan.evaluation(vid) == d.plan.evaluation(vid)
    assert_plan_feasible(copy)


def test_restored_plan_gives_the_same_next_quote():
    """A quote asked of the copy gets the same vehicle, window and times as one asked of the original."""
    d = dispatcher(bus("v1", seats=2))
    booked(d, leave_after("r1", 1, 5, T0 + 600, seats=2))
    copy, problems = rebuilt(d)
    assert problems == []
    request = leave_after("r2", 1, 5, T0 + 600, seats=2)
    original, restored = d.quote(request, T0), copy.quote(request, T0)
    assert isinstance(restored, Offer)
    assert replace(restored, plan_version=0) == replace(original, plan_version=0)
    assert isinstance(copy.book("r2", T0), BookedTrip)
    assert_plan_feasible(copy)  # the full bus carries r1 and r2 one after the other


def test_restored_booking_can_be_cancelled():
    """A booking that came back with the plan is cancelled like any other; the route closes up."""
    d = dispatcher(bus("v1"))
    booked(d, leave_after("r1", 1, 5, T0 + 600), leave_after("r2", 2, 6, T0 + 900))
    copy, _ = rebuilt(d)
    copy.cancel("r1", T0)
    assert [s.request_id for s in copy.plan.route("v1").stops] == ["r2", "r2"]
    assert_plan_feasible(copy)


def test_an_infeasible_route_is_installed_and_reported():
    """A route whose promise can no longer be kept (the bus restarts too late) is kept, not dropped,
    and its broken rules are returned."""
    d = dispatcher(bus("v1"))
    booked(d, leave_after("r1", 1, 5, T0 + 600))
    late = T0 + 3600
    copy = Dispatcher(list(d.plan.vehicles.values()), RULES, LINE, late)
    state = replace(d.plan.state("v1"), available_at=late)
    problems = copy.restore(list(d.plan.bookings().values()), {"v1": d.plan.route("v1")}, {"v1": state}, late)
    assert copy.plan.route("v1") == d.plan.route("v1")
    assert problems and all(p.startswith("v1: ") for p in problems)
    assert not copy.plan.evaluation("v1").feasible


def test_a_booking_missing_from_its_route_is_reported():
    """A booked rider whose bus's route was not given back is reported by id."""
    d = dispatcher(bus("v1"))
    booked(d, leave_after("r1", 1, 5, T0 + 600))
    copy = Dispatcher(list(d.plan.vehicles.values()), RULES, LINE, T0)
    problems = copy.restore(list(d.plan.bookings().values()), {"v1": Route("v1")}, {}, T0)
    assert problems == ["r1: booked on 'v1' but not in its route"]
