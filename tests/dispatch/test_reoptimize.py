"""Tests for dispatch.reoptimize and the dispatcher's slow path: OR-Tools plans that evaluation accepts."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pytest

from dispatch import batch
from dispatch.batch import plan_batch
from dispatch.dispatcher import BookedTrip, Dispatcher, ReoptimizationJob, RequestStatus
from dispatch.evaluation import evaluate_route
from dispatch.events import EventKind
from dispatch.insertion import CostWeights
from dispatch.model import Break, Offer, Rejection, Request, ServiceRules, StopKind, TimeType, Vehicle
from dispatch.pdptw import PdptwSolution, PlannedVisit, SearchBudget, SolvedRoute
from dispatch.plan import DispatchError
from dispatch.reoptimize import (
    LNS_MIN_BUDGET_S,
    OptimizedPlan,
    PlanRejectedError,
    ReoptimizationPolicy,
    finish,
    rebase,
    solve_prepared,
    solve_round,
    verify_answer,
)
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


def test_a_batch_whose_optimizer_fails_raises_and_leaves_the_plan_as_it_was(monkeypatch):
    """When the optimizer returns no verified plan, plan_batch says optimizer_failed instead of refusing
    every rider no_vehicle_in_time, and books nothing: the plan in force is the one before."""
    dispatcher = Dispatcher(fleet(1), RULES, plane_matrix(2, 25), 0)
    book_random_day(dispatcher, 3, 5, 25)
    before = dispatcher.plan

    def no_plan(*args, **kwargs):
        raise PlanRejectedError("the search found nothing")

    monkeypatch.setattr(batch, "optimize", no_plan)
    requests = [Request("n1", 3, 9, TimeType.LEAVE_AFTER, minutes(90), 0)]
    with pytest.raises(DispatchError) as raised:
        plan_batch(dispatcher, requests, 0, time_limit_s=1.0)
    assert raised.value.code == "optimizer_failed"
    assert dispatcher.plan is before and "n1" not in dispatcher.plan.booking_table


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


POLICY = ReoptimizationPolicy(every_s=60, iterations=150, budget_s=120)


def live_round(dispatcher: Dispatcher, seed: int = 0) -> tuple[ReoptimizationJob, PdptwSolution]:
    """A live round of ``POLICY`` on the plan in force, as the service's solver process runs it."""
    job = dispatcher.prepare_reoptimization()
    return job, solve_round(job.prepared.problem, job.prepared.initial, POLICY, seed)


def assert_promises_kept(dispatcher: Dispatcher) -> None:
    """Every route passes evaluation, every active booking is on its bus's route (or on board), every
    pickup starts inside its promised window and every drop-off by its promised latest arrival, and no
    stop's bounds are wider than the promise."""
    assert_all_routes_feasible(dispatcher)
    assert dispatcher.plan.check() == []
    for vehicle_id in dispatcher.plan.vehicles:
        route, evaluation = dispatcher.plan.route(vehicle_id), dispatcher.plan.evaluation(vehicle_id)
        for stop, start in zip(route.stops, evaluation.start, strict=True):
            if stop.kind is StopKind.BREAK:
                continue
            promise = dispatcher.plan.booking(stop.request_id).promise
            if stop.kind is StopKind.PICKUP:
                assert promise.window_start <= stop.earliest <= start <= stop.latest <= promise.window_end
            else:
                assert start <= stop.latest <= promise.latest_dropoff


def last_reoptimization(dispatcher: Dispatcher) -> dict:
    """The data of the last ``plan_reoptimized`` event."""
    return [e for e in dispatcher.drain_events() if e.kind is EventKind.PLAN_REOPTIMIZED][-1].data


def test_a_round_of_the_live_policy_improves_the_plan_and_repeats_exactly():
    """A round counts iterations, not seconds: two rounds with one seed give the same routes; applied, the
    plan drives less and keeps every promise."""
    dispatcher = Dispatcher(fleet(3), RULES, plane_matrix(3, 30), 0)
    book_random_day(dispatcher, 3, 20, 30)
    (job, first), (_, second) = live_round(dispatcher), live_round(dispatcher)
    assert first.routes == second.routes and first.stats["lns_iterations"] == POLICY.iterations
    result = dispatcher.apply_reoptimization(job, first, 0)
    assert result is not None and result.drive_s_after < result.drive_s_before
    assert_promises_kept(dispatcher)


def test_a_round_never_carries_a_rider_through_a_drivers_break():
    """Buses with a lunch break at the depot (nobody on board): many rounds of the live policy, seeded
    differently, each give routes that keep every break empty and every promise."""
    lunch = (Break(minutes(60), minutes(150), minutes(30)),)
    dispatcher = Dispatcher([replace(v, breaks=lunch) for v in fleet(3)], RULES, plane_matrix(5, 30), 0)
    book_random_day(dispatcher, 5, 30, 30)
    for seed in range(3):
        job = dispatcher.prepare_reoptimization()
        solution = solve_round(job.prepared.problem, job.prepared.initial, POLICY, seed)
        plan = finish(job.prepared, solution, dispatcher.legs)  # raises if a break is not empty
        assert all(e.feasible for e in plan.evaluations.values())
        dispatcher.apply_reoptimization(job, solution, 0)
        assert_promises_kept(dispatcher)


def test_a_booking_made_while_the_optimizer_ran_is_rebased_into_its_answer():
    """A booking made while the round ran changes the plan: the answer is not thrown away but rebased —
    the optimizer's order for the others, the new booking by best insertion — and applied, every route
    passing evaluation, every promise kept, the new rider planned, the event saying it was rebased. The day
    is booked with the new-rider-only insertion cost: under the default cost this day's plan is already
    better than the rebased answer, which is then rightly kept out ("no better")."""
    dispatcher = Dispatcher(fleet(3), RULES, plane_matrix(3, 30), 0, weights=CostWeights(delay_weight=0.0))
    booked = book_random_day(dispatcher, 3, 20, 30)
    job, solution = live_round(dispatcher)
    offer = dispatcher.quote(Request("late", 3, 7, TimeType.LEAVE_AFTER, minutes(60), 0), 0)
    assert isinstance(offer, Offer) and isinstance(dispatcher.book("late", 0), BookedTrip)
    dispatcher.drain_events()
    before = sum(dispatcher.plan.evaluation(v).drive_s for v in dispatcher.plan.vehicles)
    result = dispatcher.apply_reoptimization(job, solution, 0)
    assert result is not None and result.drive_s_after <= result.drive_s_before == before
    assert last_reoptimization(dispatcher) | {"drive_s_before": 0, "drive_s_after": 0} == {
        "applied": True, "rebased": True, "drive_s_before": 0, "drive_s_after": 0}
    planned = {s.request_id for v in dispatcher.plan.vehicles for s in dispatcher.plan.route(v).stops}
    assert planned == {*booked, "late"}
    assert_promises_kept(dispatcher)


def test_a_booking_cancelled_while_the_optimizer_ran_drops_out_of_its_answer():
    """A rider cancels while the round runs: the rebased answer serves everyone else and not them."""
    dispatcher = Dispatcher(fleet(3), RULES, plane_matrix(3, 30), 0)
    booked = book_random_day(dispatcher, 3, 20, 30)
    job, solution = live_round(dispatcher)
    gone = booked[len(booked) // 2]
    dispatcher.cancel(gone, 0)
    result = dispatcher.apply_reoptimization(job, solution, 0)
    assert result is not None
    planned = {s.request_id for v in dispatcher.plan.vehicles for s in dispatcher.plan.route(v).stops}
    assert planned == set(booked) - {gone}
    assert_promises_kept(dispatcher)


def serve_first_stop(dispatcher: Dispatcher, vehicle_id: str) -> tuple[str, int]:
    """The bus drives to its first stop and serves it as planned (a rider boards or alights); returns the
    rider and the time the bus leaves."""
    stop = dispatcher.plan.route(vehicle_id).stops[0]
    start = dispatcher.plan.evaluation(vehicle_id).start[0]
    dispatcher.arrive(vehicle_id, start)
    if stop.kind is StopKind.PICKUP:
        dispatcher.pick_up(vehicle_id, stop.request_id, start + stop.service_s)
    else:
        dispatcher.drop_off(vehicle_id, stop.request_id, start + stop.service_s)
    return stop.request_id, start + stop.service_s


def test_a_bus_that_moved_on_while_the_optimizer_ran_keeps_its_rider_and_the_answer_is_rebased():
    """While the round runs, the busiest bus picks up its first rider: the rebased answer is evaluated
    from where that bus is now; that rider stays on it (their drop-off is on its route), the stop
    served drops out, and every promise holds."""
    dispatcher = Dispatcher(fleet(3), RULES, plane_matrix(3, 30), 0)
    book_random_day(dispatcher, 3, 20, 30)
    job, solution = live_round(dispatcher)
    busiest = max(dispatcher.plan.vehicles, key=lambda v: len(dispatcher.plan.route(v).stops))
    assert dispatcher.plan.route(busiest).stops[0].kind is StopKind.PICKUP
    rider, now = serve_first_stop(dispatcher, busiest)
    dispatcher.drain_events()
    result = dispatcher.apply_reoptimization(job, solution, now)
    assert result is not None, last_reoptimization(dispatcher)
    stops = dispatcher.plan.route(busiest).stops
    assert [(s.request_id, s.kind) for s in stops if s.request_id == rider] == [(rider, StopKind.DROPOFF)]
    assert dispatcher.plan.booking(rider).vehicle_id == busiest
    assert_promises_kept(dispatcher)


def test_a_rider_the_answer_moved_to_another_bus_but_who_boarded_meanwhile_stays_on_their_bus():
    """The optimizer's answer puts a rider on another bus; meanwhile their own bus picked them up. The
    rebase keeps them on the bus they are on: their drop-off goes to its cheapest feasible place there,
    and the other bus does not get them."""
    dispatcher = Dispatcher(fleet(3), RULES, plane_matrix(3, 30), 0)
    book_random_day(dispatcher, 3, 20, 30)
    job, solution = live_round(dispatcher)
    answer = finish(job.prepared, solution, dispatcher.legs).stops
    own = next(v for v in answer if dispatcher.plan.route(v).stops[0].kind is StopKind.PICKUP)
    other = next(v for v in answer if v != own)
    rider = dispatcher.plan.route(own).stops[0].request_id
    moved = {v: tuple(s for s in stops if s.request_id != rider) for v, stops in answer.items()}
    moved[other] += tuple(s for stops in answer.values() for s in stops if s.request_id == rider)
    serve_first_stop(dispatcher, own)
    routes, _ = dispatcher.plan.vehicle_routes()
    rebased = rebase(moved, job.prepared.routes, routes, dispatcher.legs)
    assert [s.kind for s in rebased[own] if s.request_id == rider] == [StopKind.DROPOFF]
    assert all(s.request_id != rider for s in rebased[other])
    for vehicle_id, stops in rebased.items():
        assert dispatcher.plan.evaluate(vehicle_id, stops).feasible


def late_bus_after_a_round() -> tuple[Dispatcher, ReoptimizationJob, PdptwSolution, str]:
    """A live round of a random day, then, while it ran, a booking cancelled (the plan changed) and the
    busiest bus reporting itself two hours behind: the dispatcher, the round's job and answer, that bus."""
    dispatcher = Dispatcher(fleet(3), RULES, plane_matrix(3, 30), 0)
    booked = book_random_day(dispatcher, 3, 20, 30)
    job, solution = live_round(dispatcher)
    busiest = max(dispatcher.plan.vehicles, key=lambda v: len(dispatcher.plan.route(v).stops))
    dispatcher.cancel(next(r for r in booked if dispatcher.plan.booking(r).vehicle_id != busiest), 0)
    state = dispatcher.plan.state(busiest)
    dispatcher.vehicle_position(busiest, state.location, state.available_at + minutes(120))
    return dispatcher, job, solution, busiest


def test_a_rebased_answer_that_breaks_a_promise_is_refused_with_the_reason():
    """While the round runs a booking is cancelled (the plan changes) and a bus reports itself two hours
    behind: the rebased answer would make that bus miss promised windows, so it is refused, the event
    names the bus and the broken rule, and no route changes."""
    dispatcher, job, solution, busiest = late_bus_after_a_round()
    routes = {v: dispatcher.plan.route(v) for v in dispatcher.plan.vehicles}
    dispatcher.drain_events()
    assert dispatcher.apply_reoptimization(job, solution, 0) is None
    event = last_reoptimization(dispatcher)
    assert event["applied"] is False and busiest in event["reason"], event
    assert {v: dispatcher.plan.route(v) for v in dispatcher.plan.vehicles} == routes


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


def test_verify_answer_of_an_unchanged_plan_gives_the_verified_routes_and_changes_nothing():
    """verify_answer is a function of the plan: for a job of the plan in force it returns the answer's
    routes, each evaluated, with the drive time of the plan in force and of the answer; the plan and its
    routes are untouched."""
    dispatcher = Dispatcher(fleet(3), RULES, plane_matrix(3, 30), 0)
    book_random_day(dispatcher, 3, 20, 30)
    plan = dispatcher.plan
    routes = {v: plan.route(v) for v in plan.vehicles}
    job, solution = live_round(dispatcher)
    result = verify_answer(plan, job, solution)
    assert isinstance(result, OptimizedPlan), result
    assert result.drive_s_before == sum(plan.evaluation(v).drive_s for v in plan.vehicles)
    assert result.drive_s_after == sum(e.drive_s for e in result.evaluations.values()) < result.drive_s_before
    assert all(plan.evaluate(v, stops).feasible for v, stops in result.stops.items())
    assert dispatcher.plan is plan and {v: plan.route(v) for v in plan.vehicles} == routes


def test_verify_answer_keeps_the_plan_when_the_answer_is_the_plan_in_force():
    """An answer that serves every bus's stops in the order in force (the warm start itself) is no
    better plan: the reason says so."""
    dispatcher = Dispatcher(fleet(3), RULES, plane_matrix(3, 30), 0)
    book_random_day(dispatcher, 3, 20, 30)
    job = dispatcher.prepare_reoptimization()
    same = PdptwSolution(tuple(SolvedRoute(v, tuple(PlannedVisit(i, 0) for i in visits), 0, 0)
                               for v, visits in enumerate(job.prepared.initial)), (), 0, "warm start", 0.0)
    assert verify_answer(dispatcher.plan, job, same) == "the optimizer found no better plan"


def test_verify_answer_names_the_bus_whose_rebased_route_breaks_a_promise():
    """The plan changed while the round ran (a cancellation, a bus two hours behind): the rebased answer
    breaks that bus's promises, and the reason names the bus."""
    dispatcher, job, solution, busiest = late_bus_after_a_round()
    reason = verify_answer(dispatcher.plan, job, solution)
    assert isinstance(reason, str) and reason.startswith(f"vehicle {busiest}: "), reason


def test_verify_answer_says_why_an_answer_that_lost_a_request_is_kept():
    """An answer that leaves out a request of the plan in force is refused with the requests it lost."""
    dispatcher = Dispatcher(fleet(3), RULES, plane_matrix(3, 30), 0)
    book_random_day(dispatcher, 3, 20, 30)
    job, solution = live_round(dispatcher)
    lost = replace(solution, routes=tuple(replace(r, visits=()) for r in solution.routes))
    reason = verify_answer(dispatcher.plan, job, lost)
    assert isinstance(reason, str) and reason.startswith("the optimizer lost requests"), reason
