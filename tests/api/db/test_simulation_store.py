"""The simulation jobs' table as the queue's record (:mod:`api.services.simulation_store`), on SQLite and
on the real PostgreSQL server: each state change is conditional on the state it changes, so two workers
never run one job and a cancel is never lost. The store commits on its own sessions, so every test uses
job ids and an operator of its own."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from api.db.models import SimulationJob, SimulationStatus, User, UserRole
from api.services import simulation_store as store


@pytest.fixture
def owner(engine: Engine) -> int:
    """A fresh operator's id."""
    name = f"op-{secrets.token_hex(4)}"
    with Session(engine) as session:
        user = User(name=name, role=UserRole.OPERATOR, api_key_hash=f"hash-of-{name}")
        session.add(user)
        session.commit()
        assert user.id is not None
        return user.id


def queued(engine: Engine, owner: int) -> str:
    """A new queued job of ``owner``; its id."""
    job = SimulationJob(id=secrets.token_hex(8), owner_id=owner, status=SimulationStatus.QUEUED,
                        params={"requests": 5}, requests_total=5)
    return store.insert_job(engine, job).id


def status(engine: Engine, job_id: str) -> SimulationStatus:
    """The job's status now."""
    job = store.read_job(engine, job_id)
    assert job is not None
    return job.status


def test_only_one_worker_claims_a_job(engine, owner):
    """Two workers claiming the same queued job: the first gets it, the second is told no."""
    job_id = queued(engine, owner)
    assert store.claim(engine, job_id, f"a:{owner}") is True
    assert store.claim(engine, job_id, f"b:{owner}") is False
    job = store.read_job(engine, job_id)
    assert job is not None and (job.status, job.worker) == (SimulationStatus.RUNNING, f"a:{owner}")


def test_a_queued_job_is_cancelled_at_once_and_can_no_longer_be_claimed(engine, owner):
    """Cancelling a queued job ends it cancelled; a worker then cannot claim it."""
    job_id = queued(engine, owner)
    store.cancel(engine, job_id)
    assert status(engine, job_id) is SimulationStatus.CANCELLED
    assert store.claim(engine, job_id, f"a:{owner}") is False


def test_a_running_job_learns_of_its_cancel_at_its_next_beat(engine, owner):
    """A beat records progress and answers False while the job may go on, True once a cancel was asked;
    the worker then ends it cancelled."""
    job_id = queued(engine, owner)
    store.claim(engine, job_id, f"a:{owner}")
    assert store.beat(engine, job_id, f"a:{owner}", 3) is False
    store.cancel(engine, job_id)
    assert status(engine, job_id) is SimulationStatus.RUNNING
    assert store.beat(engine, job_id, f"a:{owner}", 4) is True
    assert store.finish(engine, job_id, f"a:{owner}", SimulationStatus.CANCELLED, requests_simulated=4)
    job = store.read_job(engine, job_id)
    assert job is not None and (job.status, job.requests_simulated) == (SimulationStatus.CANCELLED, 4)


def test_only_active_jobs_count_against_an_operator(engine, owner):
    """Queued and running jobs count; finished ones do not."""
    first, _second, third = (queued(engine, owner) for _ in range(3))
    store.claim(engine, first, f"a:{owner}")
    store.cancel(engine, third)
    assert store.active_jobs_of(engine, owner) == 2
    store.finish(engine, first, f"a:{owner}", SimulationStatus.DONE)
    assert store.active_jobs_of(engine, owner) == 1


def test_a_stopped_workers_job_is_queued_again_unless_cancelled(engine, owner):
    """A worker stopped on purpose: its running job goes back to the queue with no progress, the one it
    was asked to cancel ends cancelled; another worker's job is left alone."""
    again, cancelled, other = (queued(engine, owner) for _ in range(3))
    for job_id, worker in ((again, f"a:{owner}"), (cancelled, f"a:{owner}"), (other, f"b:{owner}")):
        store.claim(engine, job_id, worker)
        store.beat(engine, job_id, worker, 7)
    store.cancel(engine, cancelled)
    assert store.requeue_of(engine, f"a:{owner}") == 1
    job = store.read_job(engine, again)
    assert job is not None and (job.status, job.worker, job.requests_simulated) == (
        SimulationStatus.QUEUED, None, 0)
    assert again in store.queued_ids(engine, 1000)
    assert status(engine, cancelled) is SimulationStatus.CANCELLED
    assert status(engine, other) is SimulationStatus.RUNNING


def test_jobs_of_dead_workers_are_failed_with_the_reason(engine, owner):
    """A job whose heartbeat is older than the limit is failed with STALE_ERROR, a fresh one is not;
    the jobs of a worker known dead are failed with the reason given."""
    stale, fresh, killed = (queued(engine, owner) for _ in range(3))
    for job_id, worker in ((stale, f"a:{owner}"), (fresh, f"b:{owner}"), (killed, f"c:{owner}")):
        store.claim(engine, job_id, worker)
    with Session(engine) as session:
        row = session.get(SimulationJob, stale)
        assert row is not None
        row.heartbeat_at = datetime.now(UTC) - timedelta(minutes=5)
        session.add(row)
        session.commit()
    assert store.fail_stale(engine, 60) == 1
    job = store.read_job(engine, stale)
    assert job is not None and (job.status, job.error) == (SimulationStatus.FAILED, store.STALE_ERROR)
    assert status(engine, fresh) is SimulationStatus.RUNNING
    assert store.fail_of(engine, f"c:{owner}", "died") == 1
    assert status(engine, killed) is SimulationStatus.FAILED
