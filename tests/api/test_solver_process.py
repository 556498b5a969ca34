"""The background re-optimization's searches in a child process (api.services.solver_process): the child's
answer goes through our own route evaluation, the child runs at the lowest priority, a dead child costs
one round and the next round starts a new one, and the service's shutdown ends it.

The child's pid is read from the pool's private ``_processes`` (pid -> process) of
``SolverProcess._pool``: nothing public names it, and a test may look inside."""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import replace

import numpy as np
import pytest

from api.services.solver_process import BACKGROUND_NICENESS, SolverProcess
from dispatch.dispatcher import Dispatcher, ReoptimizationJob
from dispatch.evaluation import evaluate_route
from dispatch.model import StopKind
from dispatch.reoptimize import PlanRejectedError, ReoptimizationPolicy, finish
from routing import parallel
from tests.api.test_reoptimizer import CLIENT, client  # noqa: F401  (the app with eight booked trips)
from tests.dispatch.test_reoptimize import (
    RULES,
    assert_all_routes_feasible,
    book_random_day,
    fleet,
    plane_matrix,
)

POLICY = ReoptimizationPolicy(iterations=30, budget_s=30)  # a live round (it ends on its iterations)


@pytest.fixture
def solver():
    """A solver process of the test's own, closed at the end whatever happened."""
    process = SolverProcess()
    try:
        yield process
    finally:
        process.close()


@pytest.fixture
def world() -> tuple[Dispatcher, ReoptimizationJob, set[str]]:
    """Three buses with the random day of tests/dispatch/test_reoptimize.py booked, the job that
    re-optimizes its plan, and the booked request ids."""
    dispatcher = Dispatcher(fleet(3), RULES, plane_matrix(2, 30), 0)
    booked = set(book_random_day(dispatcher, 2, 40, 30))
    assert len(booked) >= 10, "the scenario needs a plan worth re-optimizing"
    return dispatcher, dispatcher.prepare_reoptimization(), booked


def child_pids(solver: SolverProcess) -> list[int]:
    """The pids of the solver's child processes (private ``_pool._processes``; see the module doc)."""
    assert solver._pool is not None, "no child process: the solver has not searched since it was closed"
    return list(solver._pool._processes)


def running(pid: int) -> bool:
    """Whether process ``pid`` exists and has not ended (a zombie has ended: it only waits to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def wait_gone(pid: int, timeout_s: float = 5.0) -> None:
    """Wait until process ``pid`` has ended; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while running(pid):
        assert time.monotonic() < deadline, f"process {pid} still runs after {timeout_s} s"
        time.sleep(0.05)


def the_child(solver: SolverProcess) -> int:
    """The one child process of ``solver``: another process than this one, running."""
    pids = child_pids(solver)
    assert len(pids) == 1, pids
    (pid,) = pids
    assert pid != os.getpid()
    assert running(pid)
    return pid


def test_the_childs_solution_is_checked_by_our_evaluation_and_keeps_everyone(solver, world):
    """A search in the child gives a solution that ``finish`` turns into routes that each pass route
    evaluation, with every booked request kept and nobody unserved; the dispatcher applies it and its
    plan stays feasible with the same riders."""
    dispatcher, job, booked = world
    solution = solver.solve_round(job.prepared, POLICY)
    plan = finish(job.prepared, solution, dispatcher.legs)
    assert plan.evaluations and all(e.feasible for e in plan.evaluations.values())
    for vehicle_id, stops in plan.stops.items():
        vehicle = dispatcher.plan.vehicles[vehicle_id]
        assert evaluate_route(vehicle, dispatcher.plan.state(vehicle_id), stops, dispatcher.legs).feasible
    planned = {s.request_id for stops in plan.stops.values() for s in stops if s.kind is not StopKind.BREAK}
    assert job.prepared.kept <= planned and planned == booked
    assert plan.unserved == ()
    assert plan.drive_s_after <= plan.drive_s_before
    result = dispatcher.apply_reoptimization(job, solution, 0)
    assert result is not None
    assert_all_routes_feasible(dispatcher)
    assert {s.request_id for v in dispatcher.plan.vehicles for s in dispatcher.plan.route(v).stops} == booked


def test_a_childs_solution_that_breaks_a_rule_or_loses_a_rider_is_rejected(solver, world):
    """The child's answer is not trusted: the same answer with one bus's route reversed (drop-offs before
    pick-ups) or left out is refused by ``finish`` and not applied by the dispatcher."""
    dispatcher, job, _ = world
    solution = solver.solve_round(job.prepared, POLICY)
    longest = max(range(len(solution.routes)), key=lambda k: len(solution.routes[k].visits))
    assert len(solution.routes[longest].visits) >= 2
    reversed_route = replace(solution.routes[longest], visits=solution.routes[longest].visits[::-1])
    broken = replace(solution, routes=tuple(reversed_route if k == longest else r
                                            for k, r in enumerate(solution.routes)))
    lost = replace(solution, routes=tuple(r for k, r in enumerate(solution.routes) if k != longest))
    routes_before = {v: dispatcher.plan.route(v) for v in dispatcher.plan.vehicles}
    for bad in (broken, lost):
        with pytest.raises(PlanRejectedError):
            finish(job.prepared, bad, dispatcher.legs)
        assert dispatcher.apply_reoptimization(job, bad, 0) is None
        assert {v: dispatcher.plan.route(v) for v in dispatcher.plan.vehicles} == routes_before


def test_the_search_runs_in_another_process_at_the_lowest_priority(solver, world):
    """After a search the solver has one child, not this process, at niceness 19; this process keeps
    its own priority."""
    _, job, _ = world
    own_niceness = os.getpriority(os.PRIO_PROCESS, 0)
    solver.solve_round(job.prepared, POLICY)
    pid = the_child(solver)
    assert os.getpriority(os.PRIO_PROCESS, pid) == BACKGROUND_NICENESS == 19
    assert os.getpriority(os.PRIO_PROCESS, 0) == own_niceness
    solver.solve_round(job.prepared, POLICY)
    assert the_child(solver) == pid, "one child serves search after search"


def test_a_killed_child_fails_one_search_and_the_next_starts_a_new_child(solver, world):
    """SIGKILL the child: the next search raises PlanRejectedError (the round finds nothing, the plan in
    force stays); the one after that succeeds in a new child at the lowest priority."""
    dispatcher, job, _ = world
    solver.solve_round(job.prepared, POLICY)
    killed = the_child(solver)
    os.kill(killed, signal.SIGKILL)
    wait_gone(killed)
    with pytest.raises(PlanRejectedError):
        solver.solve_round(job.prepared, POLICY)
    solution = solver.solve_round(job.prepared, POLICY)
    child = the_child(solver)
    assert child != killed
    assert os.getpriority(os.PRIO_PROCESS, child) == BACKGROUND_NICENESS
    assert dispatcher.apply_reoptimization(job, solution, 0) is not None
    assert_all_routes_feasible(dispatcher)


def test_a_child_killed_during_a_search_fails_that_search_and_the_next_starts_a_new_child(solver, world):
    """SIGKILL the child while it searches: that search raises PlanRejectedError at once (not at the end
    of its budget); the next search succeeds in a new child."""
    dispatcher, job, _ = world
    solver.solve_round(job.prepared, POLICY)  # the child is up (its start-up is not part of what is timed)
    killed = the_child(solver)
    outcome: list[BaseException | None] = []

    def search() -> None:
        try:
            solver.solve_round(job.prepared, ReoptimizationPolicy(iterations=10**6, budget_s=5.0))
            outcome.append(None)
        except BaseException as error:  # noqa: BLE001 - any error goes to the test's thread, which checks its type
            outcome.append(error)

    searching = threading.Thread(target=search)
    started = time.monotonic()
    searching.start()
    time.sleep(0.5)
    os.kill(killed, signal.SIGKILL)
    searching.join(timeout=10)
    assert not searching.is_alive() and time.monotonic() - started < 4.0
    assert len(outcome) == 1 and isinstance(outcome[0], PlanRejectedError), outcome
    wait_gone(killed)
    solution = solver.solve_round(job.prepared, POLICY)
    assert the_child(solver) != killed
    assert dispatcher.apply_reoptimization(job, solution, 0) is not None


def test_close_ends_the_child_and_a_later_search_starts_a_new_one(solver, world):
    """``close()`` ends the child within seconds; a later search works, in a new child."""
    dispatcher, job, _ = world
    solver.solve_round(job.prepared, POLICY)
    first = the_child(solver)
    solver.close()
    wait_gone(first)
    assert solver._pool is None
    solver.close()  # closing twice is harmless
    solution = solver.solve_round(job.prepared, POLICY)
    second = the_child(solver)
    assert second != first
    assert finish(job.prepared, solution, dispatcher.legs).evaluations


def test_the_apps_rounds_search_in_a_child_that_ends_with_the_app(client):  # noqa: F811
    """Through the app: a round is applied (every route passes evaluation) after a search in the
    reoptimizer's child process — another process, at niceness 19 — and when the app shuts down that
    child is gone."""
    reoptimizer = client.app.state.reoptimizer
    assert reoptimizer.run_once()
    dispatcher = client.app.state.dispatch.dispatcher
    for vid, vehicle in dispatcher.plan.vehicles.items():
        assert evaluate_route(vehicle, dispatcher.plan.state(vid), dispatcher.plan.route(vid).stops,
                              dispatcher.legs).feasible
    pid = the_child(reoptimizer._solver)
    assert os.getpriority(os.PRIO_PROCESS, pid) == BACKGROUND_NICENESS
    # Shut the app down now (the lifespan's end stops the reoptimizer); the fixture's own exit afterwards
    # finds nothing left to close (TestClient's exit stack is then empty).
    client.__exit__(None, None, None)
    wait_gone(pid)
    assert reoptimizer._solver._pool is None


def test_the_road_matrix_workers_end_with_the_app(client):  # noqa: F811
    """A large matrix made while the app runs forks the road-matrix workers (routing.parallel); when the
    app shuts down they are gone, though uvicorn would end the process without running exit handlers."""
    network = client.app.state.network
    assert parallel.one_to_all(network._csgraph, np.arange(64), workers=2) is not None
    assert parallel._pool is not None
    workers = list(parallel._pool._processes)  # type: ignore[attr-defined]
    client.__exit__(None, None, None)
    for pid in workers:
        wait_gone(pid)
    assert parallel._pool is None
