"""Operators' simulation jobs through the API: queued (202) and run by the simulation worker, a process of
its own; followed to the end and the report read; the results stored and read back after a restart;
a running job cancelled and its worker moving on; at most two jobs per operator; every way of sizing the
demand capped. Each lifecycle test runs without Redis (the worker fed by a process queue) and with a
real Redis (``REDIS_URL``, a service area of its own). The apps run on their own SQLite files at 08:00."""

from __future__ import annotations

import os
import secrets
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta

import pytest
import redis
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.db.models import SimulationJob, SimulationStatus, User
from api.services.simulation_queue import RedisJobQueue
from api.services.simulation_store import STALE_ERROR
from tests.api.conftest import AppSetup

CLIENT = AppSetup(users=(("op", "operator", None), ("op2", "operator", None)))
STUDY = {"buses": 2, "seats": 8, "requests": 30, "rules": {"max_wait_s": 1200}, "seed": 4,
         "reoptimize_every_min": 0}
LONG_STUDY = {"buses": 10, "requests": 2000, "seed": 1}  # tens of seconds in the worker
BASE = "/v1/operator/simulations"
Factory = Callable[..., AbstractContextManager[TestClient]]


@pytest.fixture(params=["local", "redis"])
def open_app(request: pytest.FixtureRequest, client_factory: Factory) -> Iterator[Factory]:
    """Opens this test's app (again, on the same database) without Redis, or with the real Redis and
    a service area of the test's own whose keys are deleted afterwards."""
    if request.param == "local":
        yield client_factory
        return
    url = request.getfixturevalue("redis_url")
    area = f"test-{secrets.token_hex(4)}"
    yield lambda **settings: client_factory(redis_url=url, area=area, **settings)
    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(f"rufbus:{area}:*"))
    if keys:
        client.delete(*keys)
    client.close()


def submit(client: TestClient, body: dict, user: str = "op") -> dict:
    """Start a study as ``user``; its job (asserting 202)."""
    answer = client.post(BASE, json=body, headers=client.keys[user])  # type: ignore[attr-defined]
    assert answer.status_code == 202, answer.text
    return answer.json()


def read(client: TestClient, job_id: str) -> dict:
    """The job as an operator reads it."""
    return client.get(f"{BASE}/{job_id}", headers=client.keys["op"]).json()  # type: ignore[attr-defined]


def wait_for(client: TestClient, job_id: str, done: Callable[[dict], bool], within_s: float = 300) -> dict:
    """Poll the job until ``done(job)`` holds (at most ``within_s`` seconds: the worker runs at the lowest
    priority, so a busy machine starves it); the job then."""
    deadline = time.monotonic() + within_s
    while True:
        job = read(client, job_id)
        if done(job) or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


def ended(job: dict) -> bool:
    """Whether a job reached a final state."""
    return job["status"] in ("done", "failed", "cancelled")


def same_figures(kpis: dict, other: dict) -> bool:
    """Whether two studies' key figures agree but for the wall time they took."""
    return {**kpis, "wall_s": 0} == {**other, "wall_s": 0}


def simulating(job: dict) -> bool:
    """Whether a job runs and has simulated some requests."""
    return job["status"] == "running" and job["requests_simulated"] > 0


def test_a_job_runs_in_the_worker_process_and_reports(open_app):
    """POST answers 202 at once; the job runs in another process than the service's and ends done with
    the key figures of its 30 requests and the figures' data; its report is HTML with embedded plots;
    the live dispatcher got no booking. The worker runs in Linux's idle scheduling class (it gives way the
    moment the service wants the processor), and the service keeps its own policy."""
    with open_app() as client:
        live = client.app.state.dispatch.dispatcher
        before = len(live.plan.bookings())
        started = submit(client, STUDY)
        assert started["status"] in ("queued", "running", "done")
        assert started["scenario"]["rules"]["max_wait_s"] == 1200
        job = wait_for(client, started["id"], ended)
        assert job["status"] == "done", job["error"]
        assert job["kpis"]["requests"] == 30 and job["requests_simulated"] == 30
        assert job["figures"]["route_map"]["edges"]
        worker = client.app.state.simulations
        assert worker.pid is not None and worker.pid != os.getpid()
        assert os.sched_getscheduler(worker.pid) == os.SCHED_IDLE
        assert os.sched_getscheduler(0) == os.SCHED_OTHER
        assert isinstance(worker.queue, RedisJobQueue) == bool(client.app.state.settings.redis_url)
        report = client.get(job["report_url"], headers=client.keys["op"])
        assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
        assert report.text.count("data:image/png;base64,") == 4
        assert len(live.plan.bookings()) == before


def test_results_and_waiting_jobs_survive_a_restart(open_app):
    """A finished job's results and report are read back after the service restarts; a job running
    when it stopped is queued again and runs all its requests after the restart; a job still queued
    then runs too, to the same figures (but wall time) as the same study before the restart."""
    with open_app() as client:
        first = wait_for(client, submit(client, STUDY)["id"], ended)
        assert first["status"] == "done", first["error"]
        interrupted = submit(client, {**STUDY, "requests": 200})
        assert simulating(wait_for(client, interrupted["id"], simulating))
        waiting = submit(client, STUDY, user="op2")
    with open_app() as client:
        again = read(client, first["id"])
        assert (again["status"], again["kpis"]) == ("done", first["kpis"])
        assert client.get(first["report_url"], headers=client.keys["op"]).status_code == 200
        resumed = wait_for(client, interrupted["id"], ended)
        assert resumed["status"] == "done" and resumed["requests_simulated"] == 200, resumed["error"]
        assert same_figures(wait_for(client, waiting["id"], ended)["kpis"], first["kpis"])


def test_cancelling_a_running_job_stops_it_and_the_worker_moves_on(open_app):
    """A running 2,000-request study cancelled: 202 with ``cancel_requested``, then ``cancelled`` within
    seconds, short of its requests, with no report (409); cancelling again is 409; the worker then
    runs the next job to the end."""
    with open_app() as client:
        job = submit(client, LONG_STUDY)
        assert simulating(wait_for(client, job["id"], simulating))
        answer = client.post(f"{BASE}/{job['id']}/cancel", headers=client.keys["op"])
        assert answer.status_code == 202 and answer.json()["cancel_requested"], answer.text
        stopped = wait_for(client, job["id"], ended, within_s=15)
        assert stopped["status"] == "cancelled"
        progress = stopped["requests_simulated"]
        assert 0 < progress < 2000
        time.sleep(1.0)
        assert read(client, job["id"])["requests_simulated"] == progress  # nothing runs it any more
        report = client.get(stopped["report_url"], headers=client.keys["op"])
        assert report.status_code == 409 and report.json()["code"] == "simulation_cancelled"
        again = client.post(f"{BASE}/{job['id']}/cancel", headers=client.keys["op"])
        assert again.status_code == 409 and again.json()["code"] == "simulation_finished"
        assert wait_for(client, submit(client, STUDY)["id"], ended)["status"] == "done"


def test_an_operator_has_at_most_two_jobs_at_once(client):
    """With two jobs queued or running a third is refused (409 ``too_many_simulations``) and not
    stored; another operator still gets theirs; a queued job cancelled at once frees a place."""
    running, waiting = submit(client, LONG_STUDY), submit(client, LONG_STUDY)
    third = client.post(BASE, json=STUDY, headers=client.keys["op"])
    assert third.status_code == 409 and third.json()["code"] == "too_many_simulations", third.text
    other = submit(client, STUDY, user="op2")
    with Session(client.app.state.engine) as session:
        assert len(session.exec(select(SimulationJob)).all()) == 3
    cancelled = client.post(f"{BASE}/{waiting['id']}/cancel", headers=client.keys["op"]).json()
    assert cancelled["status"] == "cancelled"  # it was still queued behind the first
    submit(client, STUDY)
    for job in (running, other):
        client.post(f"{BASE}/{job['id']}/cancel", headers=client.keys["op"])


@pytest.mark.parametrize("body, code", [
    ({"requests": 10, "rules": {"max_wait_s": -1}}, "invalid_rules"),
    ({"requests": 10, "rules": {"no_such_rule": 1}}, "invalid_rules"),
    ({"requests": 10, "demand_level": 5}, "invalid_request"),
    ({}, "invalid_request"),
    ({"requests": 10_001}, "invalid_request"),
    ({"requests": -1}, "invalid_request"),
    ({"demand_level": 1000}, "demand_too_large"),
    ({"demand_level": 1001}, "invalid_request"),
    ({"buses": 0, "requests": 10}, "invalid_request"),
    ({"buses": 101, "requests": 10}, "invalid_request"),
    ({"seats": 61, "requests": 10}, "invalid_request"),
    ({"wheelchair_spaces": 11, "requests": 10}, "invalid_request"),
    ({"seed": -1, "requests": 10}, "invalid_request"),
    ({"reoptimize_every_min": 24 * 60 + 1, "requests": 10}, "invalid_request"),
    ({"days": 3, "requests": 10}, "invalid_request"),
])
def test_bad_or_oversized_studies_are_refused_and_not_stored(client, body, code):
    """Contradictory or unknown rules, no or two demand sizes, any sizing field over its cap (a demand
    level too, once turned into requests: the region's 1,000 trips per 1,000 inhabitants are far over
    10,000) and unknown fields answer 422 with a code, and store no job."""
    answer = client.post(BASE, json=body, headers=client.keys["op"])
    assert answer.status_code == 422 and answer.json()["code"] == code, answer.text
    with Session(client.app.state.engine) as session:
        assert session.exec(select(SimulationJob)).all() == []


def test_a_level_under_the_cap_is_taken_as_its_request_count(client):
    """A demand level within the cap is stored as the request count it stands for."""
    job = submit(client, {"demand_level": 1, "reoptimize_every_min": 0})
    assert 0 < job["requests_total"] <= 10_000
    client.post(f"{BASE}/{job['id']}/cancel", headers=client.keys["op"])


def test_a_job_whose_worker_was_killed_fails_with_a_reason(client):
    """``kill -9`` of the worker while it runs a job: the next submission finds the worker dead, fails
    that job with the reason and starts a new worker, which runs the new job."""
    job = submit(client, LONG_STUDY)
    assert simulating(wait_for(client, job["id"], simulating))
    os.kill(client.app.state.simulations.pid, signal.SIGKILL)
    time.sleep(0.5)
    follow = submit(client, STUDY)
    dead = read(client, job["id"])
    assert dead["status"] == "failed" and "worker died" in dead["error"]
    assert wait_for(client, follow["id"], ended)["status"] == "done"


def test_a_job_orphaned_by_a_crash_is_failed_at_the_next_start(client_factory):
    """A job left running by a service that crashed (its heartbeat older than ``simulation_stale_s``)
    is failed with the reason when the service starts again; a fresh one is left alone."""
    with client_factory() as client, Session(client.app.state.engine) as session:
        owner = session.exec(select(User).where(User.name == "op")).one()
        for job_id, age_s in (("orphan", 600), ("fresh", 0)):
            session.add(SimulationJob(id=job_id, owner_id=owner.id, status=SimulationStatus.RUNNING,
                                      params={}, worker="elsewhere:1",
                                      heartbeat_at=datetime.now(UTC) - timedelta(seconds=age_s)))
        session.commit()
    with client_factory(simulation_stale_s=60) as client, Session(client.app.state.engine) as session:
        orphan, fresh = session.get(SimulationJob, "orphan"), session.get(SimulationJob, "fresh")
        assert orphan is not None and (orphan.status, orphan.error) == (SimulationStatus.FAILED, STALE_ERROR)
        assert fresh is not None and fresh.status is SimulationStatus.RUNNING


def test_an_unknown_job_is_404(client):
    """Reading, cancelling or reading the report of a job nobody started answers 404."""
    for method, path in (("get", f"{BASE}/nope"), ("get", f"{BASE}/nope/report"),
                         ("post", f"{BASE}/nope/cancel")):
        answer = client.request(method, path, headers=client.keys["op"])
        assert answer.status_code == 404 and answer.json()["code"] == "unknown_simulation"
