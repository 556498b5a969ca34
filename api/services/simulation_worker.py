"""The simulation worker: a separate process that runs operators' simulation jobs one at a time, at the
lowest scheduling priority, so that a study never slows the dispatcher's answers down.

The service (:class:`SimulationWorker`) starts the process (``spawn``: the service runs threads, so it
must not ``fork``) when the first job is submitted, or at start when queued jobs are waiting, and hands it
job ids through a :mod:`~api.services.simulation_queue` (a Redis list with ``REDIS_URL``, else a process
queue). The process (:func:`run_worker`) loads its own road network, takes an id, *claims* the job's row
(queued → running; a cancelled or already claimed job is skipped), runs the study, and stores its results,
error or cancellation on the row (:mod:`api.services.simulation_store`). While a job runs, a thread
beats its heartbeat and progress every ``beat_s`` seconds and reads whether a cancel was asked; the
simulation stops at its next request when it was.

What a restart does (the record is the row, not the process):

* queued jobs stay queued and run when a worker starts again (at the service's next start);
* a job running when the service stops on purpose is queued again and starts from the beginning
  (seeded, it gives the same results);
* a job whose worker died (a crash, ``kill -9``) is failed: by its service when it next needs the
  worker, or, once its heartbeat is ``stale_s`` seconds old, by any worker between jobs or by a service
  at start (:data:`~api.services.simulation_store.STALE_ERROR`);
* finished jobs (done, failed, cancelled) are read back with their results after any restart.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import socket
import threading
from dataclasses import dataclass, replace
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue as ProcessQueue

from sqlalchemy import Engine

from api.db.models import SimulationStatus
from api.db.session import create_db_engine
from api.services import simulation_store as store
from api.services.simulation_queue import JobQueue, LocalJobQueue, RedisJobQueue
from api.services.simulations import scenario_of
from api.services.twin import is_twin, run_twin_job
from routing.network import RoadNetwork
from routing.settings import RoutingSettings
from simulation.report import render_html
from simulation.study import scenario_description, simulate_day

log = logging.getLogger(__name__)

NICENESS = 19  # the lowest scheduling priority, where idle scheduling is not to be had
STOP_WAIT_S = 10.0  # how long the service waits for the worker to end before killing it


@dataclass(frozen=True)
class WorkerConfig:
    """What the worker process needs: where the jobs are (database, Redis and the service area's
    queue), the road network's settings, and its timing (seconds)."""

    database_url: str
    redis_url: str | None
    area: str
    routing: RoutingSettings
    stale_s: float = 60.0  # a running job's heartbeat older than this: its worker died
    poll_s: float = 1.0  # the longest wait on an empty queue before looking for queued rows
    beat_s: float = 1.0  # heartbeat, progress and cancel check of a running job


class JobCancelled(Exception):
    """Raised inside the simulation when its job was cancelled."""


def worker_name(pid: int) -> str:
    """How a worker process is named on the rows it claims."""
    return f"{socket.gethostname()}:{pid}"


def open_queue(config: WorkerConfig, channel: ProcessQueue | None) -> JobQueue:
    """The job queue of ``config``: Redis when it has a URL, else ``channel``."""
    if config.redis_url:
        return RedisJobQueue(config.redis_url, config.area)
    assert channel is not None, "without Redis the service passes its channel to the worker"
    return LocalJobQueue(channel)


class SimulationWorker:
    """The service's handle on its simulation worker process: starts it when there is work, hands it
    job ids, stops it with the service."""

    def __init__(self, config: WorkerConfig, engine: Engine) -> None:
        self.config = config
        self._engine = engine
        self._context = multiprocessing.get_context("spawn")
        self._channel: ProcessQueue | None = None if config.redis_url else self._context.Queue()
        self._queue = open_queue(config, self._channel)
        self._process: BaseProcess | None = None
        self._lock = threading.Lock()

    @property
    def queue(self) -> JobQueue:
        """The queue job ids go through (Redis, or the process queue to this service's worker)."""
        return self._queue

    @property
    def pid(self) -> int | None:
        """The worker process's id while it runs."""
        return self._process.pid if self._process is not None and self._process.is_alive() else None

    def resume(self) -> None:
        """At start: fail jobs whose worker died, and start the worker if jobs are waiting."""
        failed = store.fail_stale(self._engine, self.config.stale_s)
        if failed:
            log.warning("%d simulation jobs failed: their worker stopped while they ran", failed)
        if store.queued_ids(self._engine, 1):
            self.ensure_running()

    def ensure_running(self) -> None:
        """Start the worker process unless it runs (failing the job of one that died)."""
        with self._lock:
            if self._process is not None and self._process.is_alive():
                return
            if self._process is not None and self._process.pid is not None:
                store.fail_of(self._engine, worker_name(self._process.pid),
                              f"the simulation worker died (exit code {self._process.exitcode})")
            process = self._context.Process(target=run_worker, args=(self.config, self._channel),
                                            name="rufbus-simulation", daemon=True)
            process.start()
            self._process = process

    def push(self, job_id: str) -> None:
        """Hand a submitted job to the workers, starting this service's worker if it does not run."""
        self.ensure_running()
        self._queue.push(job_id)

    def stop(self) -> None:
        """Stop the worker process; its running job goes back to the queue (or ends cancelled if that
        was asked)."""
        with self._lock:
            process, self._process = self._process, None
        if process is not None:
            process.terminate()
            process.join(STOP_WAIT_S)
            if process.is_alive():
                process.kill()
                process.join()
            if process.pid is not None:
                store.requeue_of(self._engine, worker_name(process.pid))
        self._queue.close()
        if self._channel is not None:
            self._channel.close()
            self._channel.join_thread()


def lowest_priority() -> str:
    """Make this process run only on a processor nothing else wants: Linux's idle scheduling class, which
    gives way the moment the service wakes (nice 19 still takes a slice from it); nice 19 elsewhere.
    Returns the policy taken, "idle" or "nice"."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        return "idle"
    except (AttributeError, OSError):
        os.nice(NICENESS)
        return "nice"


def run_worker(config: WorkerConfig, channel: ProcessQueue | None) -> None:
    """The worker process: run queued jobs one at a time until the service terminates it (or dies: the
    worker then ends after the job it runs)."""
    logging.basicConfig(level=logging.INFO)
    log.info("the simulation worker runs at the lowest priority (%s)", lowest_priority())
    network = RoadNetwork.load(settings=replace(config.routing, matrix_workers=1))
    engine = create_db_engine(config.database_url)
    jobs = open_queue(config, channel)
    name = worker_name(os.getpid())
    service = os.getppid()
    while os.getppid() == service:  # a service killed outright leaves no orphan looping behind it
        store.fail_stale(engine, config.stale_s)
        job_id = jobs.take(config.poll_s) or next(iter(store.queued_ids(engine, 1)), None)
        if job_id is not None and store.claim(engine, job_id, name):
            run_job(engine, network, job_id, name, config.beat_s)


def run_job(engine: Engine, network: RoadNetwork, job_id: str, worker: str, beat_s: float) -> None:
    """Run one claimed job and store how it ended: done with its results, cancelled, or failed."""
    job = store.read_job(engine, job_id)
    assert job is not None, "a claimed job exists"
    handled = 0
    stop, ended = threading.Event(), threading.Event()

    def progress(count: int) -> None:
        nonlocal handled
        handled += count
        if stop.is_set():
            raise JobCancelled

    def beat() -> None:
        while not ended.wait(beat_s):
            try:
                if store.beat(engine, job_id, worker, handled):
                    stop.set()
            except Exception:  # a database hiccup: the next beat tries again
                log.exception("heartbeat of simulation %s failed", job_id)

    beating = threading.Thread(target=beat, name="simulation-heartbeat", daemon=True)
    beating.start()
    try:
        if is_twin(job):  # a digital twin of recorded days (api.services.twin)
            kpis, page = run_twin_job(engine, network, job.params, progress)
            figures = None
        else:
            scenario = scenario_of(job.params)
            outcome = simulate_day(scenario, network, progress=progress)
            kpis, figures = outcome.kpis.as_dict(), outcome.figures
            page = render_html("Rufbus simulation", scenario_description(scenario), kpis, outcome.figures)
        if stop.is_set():
            raise JobCancelled
        store.finish(engine, job_id, worker, SimulationStatus.DONE, requests_simulated=handled, kpis=kpis,
                     figures=figures, report_html=page)
    except JobCancelled:
        store.finish(engine, job_id, worker, SimulationStatus.CANCELLED, requests_simulated=handled)
    except Exception as error:  # a failed study is reported on its job; the worker goes on
        log.exception("simulation %s failed", job_id)
        store.finish(engine, job_id, worker, SimulationStatus.FAILED, requests_simulated=handled,
                     error=f"{type(error).__name__}: {error}")
    finally:
        ended.set()
        beating.join()
