"""Tests for dispatch.repair: repair before refusal, through the Dispatcher, on a road you can draw.

World: eleven places on a straight road, loc k at 10·k km, driven at 60 km/h, so loc i to loc j takes
10·|i − j| minutes. The clock starts at T0 = 08:00; buses have one seat and work 07:00–15:00, ``v1``
from a depot at loc 0, ``v2`` from one at loc 10. Default rules: pickup within 15 min of a leave-after
time, a 10-min promised window, a stop takes 45 s for one rider.

The scenario of most tests: r1 (loc 5 → 6 at T0 + 60 min) is booked on v2, the cheaper bus (it drives
100 min for it, v1 would drive 120). Then r2 (loc 8 → 9 at T0 + 60 min) asks: v2 cannot take both (after
r2 it reaches loc 5 at T0 + 111 min, after r1 loc 8 at T0 + 91 min; r2 must be picked up by T0 + 75
min) and v1 reaches loc 8 only at T0 + 80 min. Plain insertion refuses r2; moving r1 to v1 (at loc 5
at T0 + 50 min, inside r1's window from T0 + 60 min) frees v2 for r2.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from dispatch.dispatcher import BookedTrip, Dispatcher, RequestStatus
from dispatch.events import EventKind
from dispatch.model import Offer, Rejection, RejectionCause, ServiceRules, Vehicle, promise_for
from dispatch.repair import RepairOptions, revalidate
from dispatch.rules import check_request, request_stops
from dispatch.search import place
from tests.dispatch.scenarios import leave_after, line_travel, minutes
from tests.dispatch.test_dispatcher import assert_plan_feasible

T0 = 8 * 3600
ROAD = line_travel([10 * k for k in range(11)])
RULES = ServiceRules()
OFF = RepairOptions(max_attempts=0)


def bus(vid: str, depot: int, shift_end: int = T0 + 7 * 3600) -> Vehicle:
    """A one-seat bus whose shift started an hour before T0."""
    return Vehicle(vid, 1, 0, depot, T0 - 3600, shift_end)


def dispatcher(*vehicles: Vehicle, repair: RepairOptions | None = None) -> Dispatcher:
    """A dispatcher over the road, with the set-up events drained."""
    d = Dispatcher(vehicles or (bus("v1", 0), bus("v2", 10)), RULES, ROAD, T0, repair=repair)
    d.drain_events()
    return d


def book(d: Dispatcher, request, now: int = T0) -> BookedTrip:
    """Quote and book ``request``, insisting both succeed; checks the plan afterwards."""
    offer = d.quote(request, now)
    assert isinstance(offer, Offer), offer
    booked = d.book(request.id, now)
    assert isinstance(booked, BookedTrip), booked
    assert_plan_feasible(d)
    return booked


R1 = leave_after("r1", 5, 6, T0 + minutes(60))
R2 = leave_after("r2", 8, 9, T0 + minutes(60))


def with_r1(repair: RepairOptions | None = None, *vehicles: Vehicle) -> Dispatcher:
    """The scenario's dispatcher with r1 booked on v2 (by plain insertion: its offer is no repair)."""
    d = dispatcher(*vehicles, repair=repair)
    first = d.quote(R1, T0)
    assert isinstance(first, Offer) and not first.repaired
    assert book(d, R1).vehicle_id == "v2"
    d.drain_events()
    return d


def test_plain_insertion_refuses_the_second_rider():
    """Without the repair, r2 is refused: neither bus can take it as the plan stands."""
    d = with_r1(OFF)
    refused = d.quote(R2, T0)
    assert isinstance(refused, Rejection) and refused.cause is RejectionCause.NO_VEHICLE_IN_TIME


def test_refused_request_gets_an_offer_after_repair_and_moved_rider_keeps_its_promise():
    """With the repair, r2 is offered v2 within its bounds; booking it moves r1 to v1 with the very
    promise r1 was given (window and latest arrival), both planned inside it, and every route passes
    evaluation."""
    d = with_r1()
    promise = d.plan.booking("r1").promise
    offer = d.quote(R2, T0)
    assert isinstance(offer, Offer), offer
    assert offer.vehicle_id == "v2" and offer.repaired
    assert T0 + minutes(60) <= offer.planned_pickup <= T0 + minutes(75)
    booked = d.book("r2", T0)
    assert isinstance(booked, BookedTrip), booked
    assert_plan_feasible(d)
    moved = d.plan.booking("r1")
    assert (moved.vehicle_id, moved.status, moved.promise) == ("v1", RequestStatus.BOOKED, promise)
    times = d.plan.planned_times("r1")
    assert times is not None and times.pickup is not None
    assert promise.window_start <= times.pickup <= promise.window_end
    assert times.dropoff <= promise.latest_dropoff
    assert times.pickup == T0 + minutes(60)  # v1 waits at loc 5 from T0 + 50 min for the window


def test_book_after_repair_applies_the_multi_route_change_and_tells_who_moved():
    """Booking the repaired offer changes both routes at once: the result names both buses and the
    moved rider, each changed route gets a route_changed event, and the confirmation says who moved."""
    d = with_r1()
    assert isinstance(d.quote(R2, T0), Offer)
    d.drain_events()
    booked = d.book("r2", T0)
    assert isinstance(booked, BookedTrip)
    assert (booked.vehicle_id, booked.routes_changed) == ("v2", ("v1", "v2"))
    assert dict(booked.moved) == {"r1": "v1"}
    assert [s.request_id for s in d.plan.route("v1").stops] == ["r1", "r1"]
    assert [s.request_id for s in d.plan.route("v2").stops] == ["r2", "r2"]
    events = d.drain_events()
    assert {e.vehicle_id for e in events if e.kind is EventKind.ROUTE_CHANGED} == {"v1", "v2"}
    confirmed = next(e for e in events if e.kind is EventKind.BOOKING_CONFIRMED)
    assert confirmed.data["bookings_moved"] == {"r1": "v1"}


@pytest.mark.parametrize("when", ["picked_up", "bus_departed", "bus_due_to_leave"])
def test_repair_never_moves_a_rider_on_board_or_whose_pickup_is_committed(when):
    """Once r1 is on board of v2, or v2 has left for r1's pickup (reported, or due to leave by now to
    make it: from loc 10 at T0 + 10 min), r1 keeps its bus: r2 is refused with the cause plain
    insertion gives, and r1's booking and route stay as they were."""
    d = with_r1()
    now = T0
    if when == "bus_due_to_leave":
        now = T0 + minutes(10)
        request = leave_after("r2", 8, 9, T0 + minutes(60))
    elif when == "picked_up":
        now = T0 + minutes(60)
        d.vehicle_position("v2", 5, T0 + minutes(50))
        d.arrive("v2", now)
        d.pick_up("v2", "r1", now + 45)
        request = leave_after("r2", 8, 9, now)
    else:
        d.depart("v2", now)
        request = R2
    before = d.plan
    refused = d.quote(request, now)
    assert isinstance(refused, Rejection) and refused.cause is RejectionCause.NO_VEHICLE_IN_TIME
    assert d.plan is before
    assert d.plan.booking("r1").vehicle_id == "v2"


def test_a_repair_that_cannot_fit_everyone_changes_nothing_and_refuses_with_the_same_cause():
    """When v1's shift ends before it could carry r1, taking r1 out of v2 leaves r1 nowhere to go: the
    plan stays the very same value and r2 is refused with the cause of a plain refusal."""
    short = (bus("v1", 0, shift_end=T0 + minutes(30)), bus("v2", 10))
    plain = with_r1(OFF, *short).quote(R2, T0)
    d = with_r1(None, *short)
    before = d.plan
    refused = d.quote(R2, T0)
    assert isinstance(plain, Rejection) and isinstance(refused, Rejection)
    assert refused.cause is plain.cause is RejectionCause.NO_VEHICLE_IN_TIME
    assert d.plan is before
    assert [e.kind for e in d.drain_events()] == [EventKind.REQUEST_REJECTED]


def test_book_after_repair_searches_again_when_a_route_changed_and_never_promises_a_seat_twice():
    """After r2's repaired offer, r3 (loc 1 → 4 from T0 + 50 min) books v1 for the time r1 would need it.
    Booking r2 then finds v1's route changed, searches again, finds no way to fit r1, r2 and r3 and
    refuses r2 as no longer feasible: r1 and r3 keep their buses and the plan stays feasible."""
    d = with_r1()
    assert isinstance(d.quote(R2, T0), Offer)
    assert book(d, leave_after("r3", 1, 4, T0 + minutes(50))).vehicle_id == "v1"
    answer = d.book("r2", T0)
    assert isinstance(answer, Rejection) and answer.cause is RejectionCause.OFFER_NO_LONGER_FEASIBLE
    assert_plan_feasible(d)
    assert (d.plan.booking("r1").vehicle_id, d.plan.booking("r3").vehicle_id) == ("v2", "v1")
    assert "r2" not in d.plan.bookings()


def test_book_after_repair_keeps_a_rider_whose_bus_has_since_left_for_it():
    """r2's offer at T0 + 9 min moves r1 off v2; a minute later v2 is due to have left for r1 (from loc 10
    at T0 + 10 min), so booking r2 then may not move r1: it searches again from there and refuses r2 as
    no longer feasible, r1 staying on v2."""
    d = with_r1()
    assert isinstance(d.quote(R2, T0 + minutes(9)), Offer)
    answer = d.book("r2", T0 + minutes(10))
    assert isinstance(answer, Rejection) and answer.cause is RejectionCause.OFFER_NO_LONGER_FEASIBLE
    assert d.plan.booking("r1").vehicle_id == "v2"
    assert_plan_feasible(d)


def test_an_ejection_chain_makes_room_for_a_rider_taken_out():
    """r1 takes two seats. r0 (loc 3 → 4 from T0 + 55 min) was booked on v1 before v3, a one-seat bus
    from loc 0, came into service; with r0, v1 has no time for r1. Taking out r1 alone frees v2 for r2,
    but r1 then fits nowhere: without an ejection r2 is refused; with one, r1 takes r0's place on v1 and
    r0 moves to v3, within its promise."""
    two_seats = (replace(bus("v1", 0), seats=2), replace(bus("v2", 10), seats=2))
    r0, r1 = leave_after("r0", 3, 4, T0 + minutes(55)), leave_after("r1", 5, 6, T0 + minutes(60), seats=2)
    answers = []
    for ejections in (0, 1):
        d = dispatcher(*two_seats, repair=RepairOptions(max_removed=1, ejections=ejections))
        assert (book(d, r0).vehicle_id, book(d, r1).vehicle_id) == ("v1", "v2")
        d.add_vehicle(bus("v3", 0), T0)
        answers.append(d.quote(R2, T0))
    refused, offered = answers
    assert isinstance(refused, Rejection) and isinstance(offered, Offer)
    promise = d.plan.booking("r0").promise
    booked = d.book("r2", T0)
    assert isinstance(booked, BookedTrip) and dict(booked.moved) == {"r1": "v1", "r0": "v3"}
    assert_plan_feasible(d)
    times = d.plan.planned_times("r0")
    assert d.plan.booking("r0").promise == promise and times is not None and times.pickup is not None
    assert promise.window_start <= times.pickup <= promise.window_end


def test_plain_insertion_offers_carry_one_route_and_move_nobody():
    """When insertion fits, the offer is a plain one: booking it changes one route and moves nobody."""
    d = dispatcher()
    booked = book(d, R1)
    assert (booked.routes_changed, dict(booked.moved)) == (("v2",), {})


def test_repair_options_reject_meaningless_bounds():
    """Negative attempts or budgets and removing nobody are refused on construction."""
    for bad in ({"max_removed": 0}, {"candidates": 0}, {"max_attempts": -1}, {"time_budget_s": -0.1}):
        with pytest.raises(ValueError):
            RepairOptions(**bad)
    assert not OFF.enabled and RepairOptions().enabled


def test_revalidate_keeps_a_placement_while_its_routes_are_unchanged_and_its_moved_riders_movable():
    """revalidate, on the plan itself: r2's repaired placement still fits the plan it was made of (each
    route with its evaluation, r2's pickup the one given), not once one of its routes has a new version,
    and not once v2 is due to have left for r1 (at T0 + 10 min), the rider it moves."""
    d = with_r1()
    plan = d.plan
    bounds = check_request(R2, T0, RULES, plan.vehicles.values(), plan.legs)
    assert not isinstance(bounds, Rejection)
    window = (bounds.earliest_pickup, bounds.latest_pickup)
    placement = place(plan, R2, bounds, window, T0, RULES, d.weights, RepairOptions())
    assert placement is not None and placement.repaired
    versions = {vid: plan.route_versions[vid] for vid in placement.routes}
    promise = promise_for(bounds, placement.pickup_start, RULES)
    pickup, _ = request_stops(R2, bounds, (promise.window_start, promise.window_end), RULES)
    routes = revalidate(plan, placement, versions, pickup, T0)
    assert routes is not None and set(routes) == {"v1", "v2"}
    assert all(e.feasible for _, e in routes.values())
    assert pickup in routes["v2"][0]
    assert revalidate(plan, placement, {**versions, "v1": versions["v1"] - 1}, pickup, T0) is None
    assert revalidate(plan, placement, versions, pickup, T0 + minutes(10)) is None


def test_a_repair_gives_way_when_others_wait_and_the_quote_is_refused():
    """The same r2 that a repair places (previous tests) is refused at once when ``give_way`` says others
    wait before the first attempt: nothing is tried, nothing changes, the cause is the plain refusal's.
    Asked again with nobody waiting, it gets its offer."""
    d = with_r1()
    asked: list[bool] = []

    def others_wait() -> bool:
        asked.append(True)
        return True

    routes = {v: d.plan.route(v) for v in d.plan.vehicles}
    refused = d.quote(R2, T0, with_alternatives=False, give_way=others_wait)
    assert isinstance(refused, Rejection) and refused.cause is RejectionCause.NO_VEHICLE_IN_TIME
    assert asked, "the repair asked before its first attempt"
    assert {v: d.plan.route(v) for v in d.plan.vehicles} == routes
    assert isinstance(d.quote(replace(R2, id="r2-again"), T0, give_way=lambda: False), Offer)
