"""Simulation jobs for operators: a study runs in a background thread against its own dispatcher and
its own road-network instance (sharing the app's compiled graph, read only), never the live plan.

Jobs run one at a time in submission order and are kept in memory for the life of the process (a restart
forgets them). The simulation's network never forks matrix workers (``matrix_workers=1``).
"""

from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

from fastapi import Request

from api.errors import Conflict, InvalidRequest, NotFound
from dispatch.model import ServiceRules
from routing.network import RoadNetwork
from simulation.engine import SimulationConfig
from simulation.report import render_html
from simulation.runner import Scenario, requests_for_level
from simulation.study import scenario_description, simulate_day

log = logging.getLogger(__name__)
_CREATE_LOCK = threading.Lock()


class JobStatus(StrEnum):
    """Where a simulation job stands."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass
class SimulationJob:
    """One study: what was asked, how far it got, and its results once done."""

    id: str
    scenario: Scenario
    created_at: datetime
    status: JobStatus = JobStatus.QUEUED
    handled: int = 0  # requests simulated so far
    total: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    kpis: dict | None = None
    figures: dict | None = None
    report_html: str | None = None
    error: str | None = None


class SimulationJobs:
    """The simulation jobs of one app, run one at a time by a background thread."""

    def __init__(self, network: RoadNetwork) -> None:
        settings = replace(network.settings, matrix_workers=1)
        self.network = RoadNetwork(network.graph, settings, network.report)
        self._jobs: dict[str, SimulationJob] = {}
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rufbus-simulation")

    def start(self, scenario: Scenario) -> SimulationJob:
        """Queue a study; it starts when the jobs before it are done."""
        job = SimulationJob(uuid.uuid4().hex, scenario, datetime.now(UTC), total=scenario.requests)
        self._jobs[job.id] = job
        self._pool.submit(self._run, job)
        return job

    def get(self, job_id: str) -> SimulationJob:
        """A job by id (404 ``unknown_simulation``)."""
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFound("unknown_simulation", f"no simulation {job_id!r}")
        return job

    def _run(self, job: SimulationJob) -> None:
        job.status, job.started_at = JobStatus.RUNNING, datetime.now(UTC)

        def progress(done: int) -> None:
            job.handled += done

        try:
            outcome = simulate_day(job.scenario, self.network, progress=progress)
            page = render_html("Rufbus simulation", scenario_description(job.scenario),
                               outcome.kpis.as_dict(), outcome.figures)
            job.kpis, job.figures, job.report_html = outcome.kpis.as_dict(), outcome.figures, page
            job.status = JobStatus.DONE
        except Exception as error:  # a failed study is reported on its job, never raised into the pool
            log.exception("simulation %s failed", job.id)
            job.status, job.error = JobStatus.FAILED, f"{type(error).__name__}: {error}"
        job.finished_at = datetime.now(UTC)


def simulation_jobs(request: Request) -> SimulationJobs:
    """The app's simulation jobs, made at first use on ``app.state.simulations`` (using its network)."""
    state = request.app.state
    with _CREATE_LOCK:
        if getattr(state, "simulations", None) is None:
            state.simulations = SimulationJobs(state.network)
    return state.simulations


def build_scenario(jobs: SimulationJobs, *, buses: int, seats: int, wheelchair_spaces: int, rules: dict,
                   requests: int | None, demand_level: float | None, seed: int,
                   reoptimize_every_min: int | None) -> Scenario:
    """The scenario an operator asked for: rules over the defaults (422 ``invalid_rules``), demand as a
    request count or a level (trips a day per 1,000 inhabitants; exactly one of them)."""
    if (requests is None) == (demand_level is None):
        raise InvalidRequest("invalid_request", "give either requests or demand_level")
    try:
        parsed = replace(ServiceRules(), **rules)
    except (TypeError, ValueError) as error:
        raise InvalidRequest("invalid_rules", str(error), [str(error)]) from error
    count = requests if requests is not None else requests_for_level(jobs.network, demand_level or 0.0)
    policy = SimulationConfig().reoptimization  # the live service's unless the operator changes the period
    if reoptimize_every_min is not None:
        policy = replace(policy, every_s=reoptimize_every_min * 60)
    return Scenario(buses=buses, seats=seats, wheelchair_spaces=wheelchair_spaces, rules=parsed,
                    requests=count, seed=seed,
                    config=SimulationConfig(reoptimization=policy))


def report_of(job: SimulationJob) -> str:
    """The job's HTML report (409 ``simulation_not_finished`` or ``simulation_failed`` before that)."""
    if job.status is JobStatus.FAILED:
        raise Conflict("simulation_failed", job.error or "the simulation failed")
    if job.report_html is None:
        raise Conflict("simulation_not_finished", f"the simulation is {job.status.value}; try again later")
    return job.report_html
