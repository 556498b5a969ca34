"""Tests for dispatch.reoptimize and the dispatcher's slow path: OR-Tools plans that evaluation accepts."""

from __future__ import annotations

import random

import numpy as np
import pytest

from dispatch.batch import plan_batch
from dispatch.dispatcher import BookedTrip, Dispatcher, RequestStatus
from dispatch.evaluation import evaluate_route
from dispatch.events import EventKind
from dispatch.model import Offer, Rejection, Request, ServiceRules, TimeType, Vehicle
from dispatch.pdptw import SearchBudget
from dispatch.reoptimize import LNS_MIN_BUDGET_S, solve_prepared
from dispatch.travel import MatrixTravelTimes
from tests.dispatch.scenarios import minutes

RULES = ServiceRules(service_start_s=0, service_end_s=86_400)


def plane_matrix(seed: int, n: int) -> MatrixTravelTimes:
    """Random points in a 20 km square, 60 km/h, times rounded up."""
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, 20_000, size=(n, 2))
    metres = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))
    return MatrixTravelTimes(np.ceil(metres / (60 / 3.6)).astype(np.int64), np.ceil(metres).astype(np.int64))


def fleet(n: int, depot: int = 0) -> list[Vehicle]:
    """``n`` 4-seat buses with one wheelchair space, on shift 0-10 h."""
    return [Vehicle(f"bus{v}", 4, 1, depot, 0, minutes(600)) for v in range(n)]


def assert_all_routes_feasible(dispatcher: Dispatcher) -> None:
    """Every route in force passes route evaluation."""
    plan = dispatcher.plan
    for vehicle_id, vehicle in plan.vehicles.items():
        ev = evaluate_route(vehicle, plan.state(vehicle_id), plan.route(vehicle_id).stops, dispatcher.legs)
        assert ev.feasible, (vehicle_id, ev.violations)


def book_random_day(dispatcher: Dispatcher, seed: int, count: int, n_locations: int) -> list[str]:
    """Quote and book ``count`` random immediate requests over the first three hours."""
    rng = random.Random(seed)
    booked = []
    for r in range(count):
        now = minutes(r * 180 / count)
        o, d = rng.sample(range(1, n_locations), 2)
        request = Request(f"r{r}", o, d, TimeType.LEAVE_AFTER, now + rng.randint(0, 1800), now)
        result = dispatcher.quote(request, now)
        if isinstance(result, Offer) and isinstance(dispatcher.book(result.request_id, now), BookedTrip):
            booked.append(result.request_id)
    return booked


def test_reoptimized_plan_passes_evaluation_and_is_never_worse():
    """After 40 insertions, OR-Tools re-plans; the applied plan is feasible, keeps everyone, costs no more."""
    dispatcher = Dispatcher(fleet(3), RULES, plane_matrix(1, 30), 0)
    booked = book_random_day(dispatcher, 1, 40, 30)
    assert booked
    before = sum(dispatcher.plan.evaluation(v).drive_s for v in dispatcher.plan.vehicles)
    windows = {r: dispatcher.plan.booking(r).promise for r in booked}
    result = dispatcher.reoptimize(0, time_limit_s=2.0)
    after = sum(dispatcher.plan.evaluation(v).drive_s for v in dispatcher.plan.vehicles)
    assert after <= before
    assert_all_routes_feasible(dispatcher)
    planned = {s.request_id for v in dispatcher.plan.vehicles for s in dispatcher.plan.route(v).stops}
    assert planned == set(booked)
    for vehicle_id in dispatcher.plan.vehicles:
        route, ev = dispatcher.plan.route(vehicle_id), dispatcher.plan.evaluation(vehicle_id)
        for stop, start in zip(route.stops, ev.start, strict=True):
            if stop.kind == "pickup":
                promise = windows[stop.request_id]
                assert promise.window_start <= start <= promise.window_end
                assert dispatcher.plan.booking(stop.request_id).vehicle_id == vehicle_id
    if result is not None:
        assert result.drive_s_after <= result.drive_s_before


@pytest.mark.parametrize("time_limit_s", [2.0, LNS_MIN_BUDGET_S])
def test_batch_of_prebookings_serves_what_fits_and_rejects_the_rest_with_a_cause(time_limit_s):
    """Tomorrow's 30 pre-bookings on one bus, with OR-Tools alone and with the large-neighbourhood search:
    all are answered; the rejected have a cause; routes are feasible."""
    dispatcher = Dispatcher(fleet(1), RULES, plane_matrix(2, 25), 0)
    rng = random.Random(2)
    requests = [Request(f"p{k}", *rng.sample(range(1, 25), 2), TimeType.LEAVE_AFTER,
                        minutes(60 + rng.randint(0, 120)), 0) for k in range(30)]
    outcome = plan_batch(dispatcher, requests, 0, time_limit_s=time_limit_s)
    assert set(outcome) == {r.id for r in requests}
    served = [r for r, o in outcome.items() if isinstance(o, BookedTrip)]
    rejected = [o for o in outcome.values() if isinstance(o, Rejection)]
    assert served and rejected  # one bus cannot do 30 trips in two hours, but it does some
    assert all(o.cause == "no_vehicle_in_time" for o in rejected)
    assert all(dispatcher.plan.booking(r).status is RequestStatus.BOOKED for r in served)
    assert_all_routes_feasible(dispatcher)


def test_a_solution_found_off_the_plan_is_applied_when_nothing_changed_meanwhile():
    """Prepare a job, solve it apart (as the live service does on another thread), apply it: the plan
    is the optimizer's, every route feasible, everyone kept, and a plan_reoptimized event says so."""
    dispatcher = Dispatcher(fleet(3), RULES, plane_matrix(2, 30), 0)
    booked = book_random_day(dispatcher, 2, 40, 30)
    before = sum(dispatcher.plan.evaluation(v).drive_s for v in dispatcher.plan.vehicles)
    dispatcher.drain_events()
    job = dispatcher.prepare_reoptimization()
    result = dispatcher.apply_reoptimization(job, solve_prepared(job.prepared, SearchBudget(1.0)), 0)
    assert result is not None and result.drive_s_after <= before
    plan = dispatcher.plan
    assert sum(plan.evaluation(v).drive_s for v in plan.vehicles) == result.drive_s_after
    assert_all_routes_feasible(dispatcher)
    assert {s.request_id for v in plan.vehicles for s in plan.route(v).stops} == set(booked)
    event = [e for e in dispatcher.drain_events() if e.kind is EventKind.PLAN_REOPTIMIZED][-1]
    assert event.data["applied"] is True


def test_a_solution_of_a_plan_that_changed_meanwhile_is_not_applied():
    """A booking made while the optimizer ran changes the plan version: the solution is dropped, the
    plan (with the new booking) stays as it is, and the event gives the reason."""
    dispatcher = Dispatcher(fleet(3), RULES, plane_matrix(3, 30), 0)
    book_random_day(dispatcher, 3, 20, 30)
    job = dispatcher.prepare_reoptimization()
    solution = solve_prepared(job.prepared, SearchBudget(1.0))
    offer = dispatcher.quote(Request("late", 3, 7, TimeType.LEAVE_AFTER, minutes(60), 0), 0)
    assert isinstance(offer, Offer) and isinstance(dispatcher.book("late", 0), BookedTrip)
    routes = {v: dispatcher.plan.route(v) for v in dispatcher.plan.vehicles}
    dispatcher.drain_events()
    assert dispatcher.apply_reoptimization(job, solution, 0) is None
    assert {v: dispatcher.plan.route(v) for v in dispatcher.plan.vehicles} == routes
    event = dispatcher.drain_events()[-1]
    assert event.kind is EventKind.PLAN_REOPTIMIZED and event.data == {
        "applied": False, "reason": "the plan changed while the optimizer ran"}


def test_a_search_bounded_by_solutions_repeats_exactly():
    """With a solution limit (and time to reach it) two searches of the same plan return the same
    routes, visit for visit, and the plan they give passes evaluation."""
    dispatcher = Dispatcher(fleet(3), RULES, plane_matrix(4, 30), 0)
    book_random_day(dispatcher, 4, 30, 30)
    job = dispatcher.prepare_reoptimization()
    first, second = (solve_prepared(job.prepared, SearchBudget(30.0, solution_limit=40)) for _ in range(2))
    assert [(r.vehicle, [p.visit for p in r.visits]) for r in first.routes] == \
        [(r.vehicle, [p.visit for p in r.visits]) for r in second.routes]
    assert dispatcher.apply_reoptimization(job, first, 0) is not None
    assert_all_routes_feasible(dispatcher)
