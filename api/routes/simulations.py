"""Operators' simulation jobs: start a study of a fleet and rules on a generated day, follow it, read its
report. Handlers parse, authorise, call :mod:`api.services.simulations` and serialise.

Only operators get through (riders and drivers 403, a missing or invalid key 401). The study runs in the
background against its own dispatcher, never the live plan.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from api.deps import Operator
from api.schemas import BODY_CONFIG, ErrorPublic, Responses
from api.services import simulations as service
from api.services.simulations import JobStatus, SimulationJob, SimulationJobs
from simulation.study import scenario_description

router = APIRouter(prefix="/v1/operator/simulations", tags=["operator"])
JobsDep = Annotated[SimulationJobs, Depends(service.simulation_jobs)]

AUTH_ERRORS: Responses = {401: {"model": ErrorPublic, "description": "no valid API key"},
               403: {"model": ErrorPublic, "description": "not an operator"}}


class SimulationCreate(BaseModel):
    """A study: the fleet, rule overrides (field names and units of ``GET /v1/operator/rules``), the
    demand as a request count or a level (trips a day per 1,000 inhabitants; exactly one), a seed, and
    how often OR-Tools re-optimizes the simulated plan (0.2 s each time)."""

    model_config = BODY_CONFIG

    buses: int = Field(default=10, ge=1, le=100)
    seats: int = Field(default=8, ge=1, le=60)
    wheelchair_spaces: int = Field(default=1, ge=0, le=10)
    rules: dict[str, int | float] = Field(default_factory=dict, examples=[{"max_wait_s": 1200}])
    requests: int | None = Field(default=None, ge=0, le=10_000)
    demand_level: float | None = Field(default=None, ge=0, le=1000)
    seed: int = Field(default=1, ge=0, le=2**32 - 1)
    reoptimize_every_min: int | None = Field(default=None, ge=0, le=24 * 60,
                                             description="0: never; default: the live service's policy")


class SimulationPublic(BaseModel):
    """A study's state; ``kpis`` and ``figures`` once it is done, ``error`` if it failed."""

    id: str
    status: JobStatus
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    requests_simulated: int
    requests_total: int
    scenario: dict[str, Any]
    kpis: dict[str, Any] | None
    figures: dict[str, Any] | None
    error: str | None
    report_url: str


def _public(job: SimulationJob, with_figures: bool = True) -> SimulationPublic:
    return SimulationPublic(id=job.id, status=job.status, created_at=job.created_at,
                            started_at=job.started_at, finished_at=job.finished_at,
                            requests_simulated=job.handled, requests_total=job.total,
                            scenario=scenario_description(job.scenario), kpis=job.kpis,
                            figures=job.figures if with_figures else None, error=job.error,
                            report_url=f"{router.prefix}/{job.id}/report")


@router.post("", status_code=status.HTTP_202_ACCEPTED,
             responses={**AUTH_ERRORS,
                        422: {"model": ErrorPublic, "description": "invalid_rules, invalid_request"}})
def start_simulation(body: SimulationCreate, user: Operator, jobs: JobsDep) -> SimulationPublic:
    """Start a simulated day in the background; follow it at ``GET /v1/operator/simulations/{id}``."""
    scenario = service.build_scenario(jobs, buses=body.buses, seats=body.seats,
                                      wheelchair_spaces=body.wheelchair_spaces, rules=body.rules,
                                      requests=body.requests, demand_level=body.demand_level, seed=body.seed,
                                      reoptimize_every_min=body.reoptimize_every_min)
    return _public(jobs.start(scenario), with_figures=False)


@router.get("/{simulation_id}", responses={**AUTH_ERRORS, 404: {"model": ErrorPublic}})
def read_simulation(simulation_id: str, user: Operator, jobs: JobsDep) -> SimulationPublic:
    """A study's status, progress, key figures and the data of its figures."""
    return _public(jobs.get(simulation_id))


@router.get("/{simulation_id}/report", response_class=HTMLResponse,
            responses={**AUTH_ERRORS, 404: {"model": ErrorPublic},
                       409: {"model": ErrorPublic,
                             "description": "simulation_not_finished or simulation_failed"}})
def read_report(simulation_id: str, user: Operator, jobs: JobsDep) -> str:
    """The study's self-contained HTML report (plots embedded)."""
    return service.report_of(jobs.get(simulation_id))
