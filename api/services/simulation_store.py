"""The simulation jobs' table (:class:`api.db.models.SimulationJob`) as the job queue's durable record.

Every change of a job's state is one short transaction with a condition on its current state, so the
service and any number of workers can change jobs at the same time without losing an update: a worker
*claims* a queued job (queued → running), *beats* its heartbeat while it runs, and *finishes* it (done,
failed or cancelled); the service *cancels* a queued job at once and asks a running one to stop.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, func, select, update
from sqlmodel import Session, col

from api.db.models import SimulationJob, SimulationStatus

ACTIVE = (SimulationStatus.QUEUED, SimulationStatus.RUNNING)
STALE_ERROR = "the worker running this job stopped without finishing it (a crash or restart); submit it again"


def _now() -> datetime:
    return datetime.now(UTC)


def insert_job(engine: Engine, job: SimulationJob) -> SimulationJob:
    """Store a new queued job."""
    with Session(engine, expire_on_commit=False) as session:
        session.add(job)
        session.commit()
        return job


def read_job(engine: Engine, job_id: str) -> SimulationJob | None:
    """The job with this id, if any."""
    with Session(engine, expire_on_commit=False) as session:
        return session.get(SimulationJob, job_id)


def active_jobs_of(engine: Engine, owner_id: int) -> int:
    """How many queued or running jobs ``owner_id`` has."""
    with Session(engine) as session:
        query = select(func.count()).select_from(SimulationJob).where(
            col(SimulationJob.owner_id) == owner_id, col(SimulationJob.status).in_(ACTIVE))
        return int(session.execute(query).scalar_one())


def queued_ids(engine: Engine, limit: int = 100) -> list[str]:
    """Ids of queued jobs, oldest first."""
    with Session(engine) as session:
        query = (select(col(SimulationJob.id)).where(col(SimulationJob.status) == SimulationStatus.QUEUED)
                 .order_by(col(SimulationJob.created_at)).limit(limit))
        return list(session.execute(query).scalars())


def _change(engine: Engine, job_id: str | None, where: list[Any], values: dict[str, Any]) -> int:
    """One conditional ``UPDATE``; how many jobs it changed."""
    statement = update(SimulationJob).where(*where).values(**values)
    if job_id is not None:
        statement = statement.where(col(SimulationJob.id) == job_id)
    with Session(engine) as session:
        changed = cast(CursorResult, session.execute(statement)).rowcount
        session.commit()
        return int(changed)


def claim(engine: Engine, job_id: str, worker: str) -> bool:
    """Take a queued job for ``worker`` (False: it was not queued any more — cancelled or claimed)."""
    now = _now()
    return _change(engine, job_id, [col(SimulationJob.status) == SimulationStatus.QUEUED],
                   {"status": SimulationStatus.RUNNING, "worker": worker, "started_at": now,
                    "heartbeat_at": now, "requests_simulated": 0}) == 1


def beat(engine: Engine, job_id: str, worker: str, requests_simulated: int) -> bool:
    """Record the progress of a running job and that its worker lives; whether the job should stop
    (cancel asked, or it is no longer this worker's). The flag is read before the one-statement write,
    so the worker (at the lowest priority) holds a write lock as briefly as possible."""
    with Session(engine) as session:
        stop = session.execute(select(col(SimulationJob.cancel_requested))
                               .where(col(SimulationJob.id) == job_id)).scalar_one_or_none()
    changed = _change(engine, job_id, [col(SimulationJob.worker) == worker,
                                       col(SimulationJob.status) == SimulationStatus.RUNNING],
                      {"requests_simulated": requests_simulated, "heartbeat_at": _now()})
    return changed != 1 or bool(stop)


def finish(engine: Engine, job_id: str, worker: str, status: SimulationStatus, **results: Any) -> bool:
    """End ``worker``'s running job with ``status`` and its results or error."""
    return _change(engine, job_id, [col(SimulationJob.status) == SimulationStatus.RUNNING,
                                    col(SimulationJob.worker) == worker],
                   {"status": status, "finished_at": _now(), **results}) == 1


def cancel(engine: Engine, job_id: str) -> None:
    """Cancel a job: a queued one at once, a running one is asked to stop (its worker ends it
    ``cancelled`` at its next heartbeat); a finished job is left as it is."""
    _change(engine, job_id, [col(SimulationJob.status) == SimulationStatus.QUEUED],
            {"status": SimulationStatus.CANCELLED, "finished_at": _now(), "cancel_requested": True})
    _change(engine, job_id, [col(SimulationJob.status) == SimulationStatus.RUNNING],
            {"cancel_requested": True})


def requeue_of(engine: Engine, worker: str) -> int:
    """Put the running jobs of a worker that was stopped on purpose back in the queue (they start again
    from the beginning; seeded, they give the same results) — or end them cancelled if that was asked;
    how many were queued again."""
    _change(engine, None, [col(SimulationJob.status) == SimulationStatus.RUNNING,
                           col(SimulationJob.worker) == worker,
                           col(SimulationJob.cancel_requested).is_(True)],
            {"status": SimulationStatus.CANCELLED, "finished_at": _now()})
    return _change(engine, None, [col(SimulationJob.status) == SimulationStatus.RUNNING,
                                  col(SimulationJob.worker) == worker,
                                  col(SimulationJob.cancel_requested).is_(False)],
                   {"status": SimulationStatus.QUEUED, "worker": None, "started_at": None,
                    "heartbeat_at": None, "requests_simulated": 0})


def fail_of(engine: Engine, worker: str, error: str) -> int:
    """Fail the running jobs of a worker known to have died, with ``error``; how many."""
    return _change(engine, None, [col(SimulationJob.status) == SimulationStatus.RUNNING,
                                  col(SimulationJob.worker) == worker],
                   {"status": SimulationStatus.FAILED, "finished_at": _now(), "error": error})


def fail_stale(engine: Engine, stale_s: float) -> int:
    """Fail running jobs whose worker has not beaten for ``stale_s`` seconds (it died); how many."""
    return _change(engine, None, [col(SimulationJob.status) == SimulationStatus.RUNNING,
                                  col(SimulationJob.heartbeat_at) < _now() - timedelta(seconds=stale_s)],
                   {"status": SimulationStatus.FAILED, "finished_at": _now(), "error": STALE_ERROR})
