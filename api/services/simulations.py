"""Simulation jobs for operators: what a study may ask for, submitting it to the job queue, cancelling
it, and reading it back.

A study never runs in the service's process: it is stored as a queued row of ``simulation_jobs``
(:mod:`api.services.simulation_store`) and run by the simulation worker, a separate process at the
lowest priority (:mod:`api.services.simulation_worker`), against its own dispatcher and road network,
never the live plan. Its results are stored on the row, so they outlive a restart.

Limits: every way of sizing the demand ends in a request count of at most :data:`MAX_REQUESTS` (422
``demand_too_large``), and an operator has at most ``simulation_max_active`` jobs queued or running at
once (409 ``too_many_simulations``).
"""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy import Engine

from api.db.models import SimulationJob, SimulationStatus
from api.errors import Conflict, InvalidRequest, NotFound
from api.services import simulation_store as store
from dispatch.model import ServiceRules
from routing.network import RoadNetwork
from simulation.engine import SimulationConfig
from simulation.runner import Scenario, requests_for_level
from simulation.study import scenario_description

MAX_REQUESTS = 10_000  # the largest simulated day, however its demand is given
_SUBMIT_LOCK = threading.Lock()  # one count-then-insert at a time in this process


def study_params(network: RoadNetwork, *, buses: int, seats: int, wheelchair_spaces: int, rules: dict,
                 requests: int | None, demand_level: float | None, seed: int,
                 reoptimize_every_min: int | None) -> dict[str, Any]:
    """The stored parameters of a study an operator asked for: rules over the defaults (422
    ``invalid_rules``), demand as a request count or a level (trips a day per 1,000 inhabitants; exactly
    one of them, 422 ``invalid_request``), at most :data:`MAX_REQUESTS` requests either way (422
    ``demand_too_large``)."""
    if (requests is None) == (demand_level is None):
        raise InvalidRequest("invalid_request", "give either requests or demand_level")
    try:
        parsed = replace(ServiceRules(), **rules)
    except (TypeError, ValueError) as error:
        raise InvalidRequest("invalid_rules", str(error), [str(error)]) from error
    count = requests if requests is not None else requests_for_level(network, demand_level or 0.0)
    if count > MAX_REQUESTS:
        raise InvalidRequest("demand_too_large",
                             f"the study would simulate {count:,} requests; at most {MAX_REQUESTS:,}")
    return {"buses": buses, "seats": seats, "wheelchair_spaces": wheelchair_spaces,
            "rules": dataclasses.asdict(parsed), "requests": count, "seed": seed,
            "reoptimize_every_s": None if reoptimize_every_min is None else reoptimize_every_min * 60}


def scenario_of(params: dict[str, Any]) -> Scenario:
    """The scenario stored parameters describe (the live service's re-optimization policy unless the
    operator changed its period)."""
    policy = SimulationConfig().reoptimization
    if params["reoptimize_every_s"] is not None:
        policy = replace(policy, every_s=params["reoptimize_every_s"])
    return Scenario(buses=params["buses"], seats=params["seats"],
                    wheelchair_spaces=params["wheelchair_spaces"], rules=ServiceRules(**params["rules"]),
                    requests=params["requests"], seed=params["seed"],
                    config=SimulationConfig(reoptimization=policy))


def description_of(params: dict[str, Any]) -> dict[str, Any]:
    """What a job simulates, as JSON-ready values: a study's scenario, or a digital twin's days and change
    (:mod:`api.services.twin`)."""
    if params.get("kind") == "twin":
        return {key: params[key] for key in ("kind", "from", "to", "change", "recorded_requests")}
    return scenario_description(scenario_of(params))


def submit(engine: Engine, push: Callable[[str], None], *, owner_id: int, params: dict[str, Any],
           max_active: int) -> SimulationJob:
    """Store a study queued for ``owner_id`` and ``push`` its id to the workers (409
    ``too_many_simulations`` when they already have ``max_active`` queued or running)."""
    with _SUBMIT_LOCK:
        active = store.active_jobs_of(engine, owner_id)
        if active >= max_active:
            raise Conflict("too_many_simulations",
                           f"you have {active} simulations queued or running (at most {max_active}); "
                           "wait for one to end or cancel one")
        job = store.insert_job(engine, SimulationJob(
            id=uuid.uuid4().hex, owner_id=owner_id, status=SimulationStatus.QUEUED, params=params,
            requests_total=params["requests"]))
    push(job.id)
    return job


def get(engine: Engine, job_id: str) -> SimulationJob:
    """A job by id (404 ``unknown_simulation``)."""
    job = store.read_job(engine, job_id)
    if job is None:
        raise NotFound("unknown_simulation", f"no simulation {job_id!r}")
    return job


def cancel(engine: Engine, job_id: str) -> SimulationJob:
    """Cancel a queued job, or ask a running one to stop (404 ``unknown_simulation``, 409
    ``simulation_finished`` when it has already ended)."""
    job = get(engine, job_id)
    if job.status not in store.ACTIVE:
        raise Conflict("simulation_finished", f"the simulation is already {job.status.value}")
    store.cancel(engine, job_id)
    return get(engine, job_id)


def report_of(job: SimulationJob) -> str:
    """The job's HTML report (409 ``simulation_not_finished``, ``simulation_failed`` or
    ``simulation_cancelled`` before or instead of that)."""
    if job.status is SimulationStatus.FAILED:
        raise Conflict("simulation_failed", job.error or "the simulation failed")
    if job.status is SimulationStatus.CANCELLED:
        raise Conflict("simulation_cancelled", "the simulation was cancelled")
    if job.report_html is None:
        raise Conflict("simulation_not_finished", f"the simulation is {job.status.value}; try again later")
    return job.report_html
