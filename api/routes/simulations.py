"""Operators' simulation jobs: start a study of a fleet and rules on a generated day, follow it, read its
report, cancel it. Handlers parse, authorise, call :mod:`api.services.simulations` and serialise.

Only operators get through (riders and drivers 403, a missing or invalid key 401). The study runs in the
simulation worker, a separate process (:mod:`api.services.simulation_worker`), against its own dispatcher,
never the live plan; its results are stored and outlive a restart.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from api.db.models import SimulationJob, SimulationStatus
from api.deps import Operator
from api.schemas import BODY_CONFIG, ErrorPublic, Responses
from api.services import simulations as service
from api.services.simulation_worker import SimulationWorker

router = APIRouter(prefix="/v1/operator/simulations", tags=["operator"])


def _engine(request: Request) -> Engine:
    return request.app.state.engine


def _worker(request: Request) -> SimulationWorker:
    return request.app.state.simulations


EngineDep = Annotated[Engine, Depends(_engine)]
WorkerDep = Annotated[SimulationWorker, Depends(_worker)]

AUTH_ERRORS: Responses = {401: {"model": ErrorPublic, "description": "no valid API key"},
               403: {"model": ErrorPublic, "description": "not an operator"}}
NOT_FOUND: Responses = {404: {"model": ErrorPublic, "description": "unknown_simulation"}}


class SimulationCreate(BaseModel):
    """A study: the fleet, rule overrides (field names and units of ``GET /v1/operator/rules``), the
    demand as a request count or a level (trips a day per 1,000 inhabitants; exactly one, at most
    10,000 requests either way), a seed, and how often OR-Tools re-optimizes the simulated plan
    (0.2 s each time)."""

    model_config = BODY_CONFIG

    buses: int = Field(default=10, ge=1, le=100)
    seats: int = Field(default=8, ge=1, le=60)
    wheelchair_spaces: int = Field(default=1, ge=0, le=10)
    rules: dict[str, int | float] = Field(default_factory=dict, max_length=40,
                                          examples=[{"max_wait_s": 1200}])
    requests: int | None = Field(default=None, ge=0, le=service.MAX_REQUESTS)
    demand_level: float | None = Field(default=None, ge=0, le=1000)
    seed: int = Field(default=1, ge=0, le=2**32 - 1)
    reoptimize_every_min: int | None = Field(default=None, ge=0, le=24 * 60,
                                             description="0: never; default: the live service's policy")


class SimulationPublic(BaseModel):
    """A study's state; ``kpis`` and ``figures`` once it is done, ``error`` if it failed;
    ``cancel_requested`` while a cancelled job is still stopping."""

    id: str
    status: SimulationStatus
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    requests_simulated: int
    requests_total: int
    cancel_requested: bool
    scenario: dict[str, Any]
    kpis: dict[str, Any] | None
    figures: dict[str, Any] | None
    error: str | None
    report_url: str


def _public(job: SimulationJob, with_figures: bool = True) -> SimulationPublic:
    return SimulationPublic(id=job.id, status=job.status, created_at=job.created_at,
                            started_at=job.started_at, finished_at=job.finished_at,
                            requests_simulated=job.requests_simulated, requests_total=job.requests_total,
                            cancel_requested=job.cancel_requested,
                            scenario=service.description_of(job.params), kpis=job.kpis,
                            figures=job.figures if with_figures else None, error=job.error,
                            report_url=f"{router.prefix}/{job.id}/report")


@router.post("", status_code=status.HTTP_202_ACCEPTED,
             responses={**AUTH_ERRORS,
                        409: {"model": ErrorPublic, "description": "too_many_simulations"},
                        422: {"model": ErrorPublic,
                              "description": "invalid_rules, invalid_request, demand_too_large"}})
def start_simulation(body: SimulationCreate, user: Operator, request: Request, engine: EngineDep,
                     worker: WorkerDep) -> SimulationPublic:
    """Queue a simulated day for the simulation worker; follow it at
    ``GET /v1/operator/simulations/{id}``. An operator has at most ``RUFBUS_SIMULATION_MAX_ACTIVE``
    (default 2) studies queued or running at once."""
    params = service.study_params(request.app.state.network, buses=body.buses, seats=body.seats,
                                  wheelchair_spaces=body.wheelchair_spaces, rules=body.rules,
                                  requests=body.requests, demand_level=body.demand_level, seed=body.seed,
                                  reoptimize_every_min=body.reoptimize_every_min)
    assert user.id is not None, "a stored user has an id"
    job = service.submit(engine, worker.push, owner_id=user.id, params=params,
                         max_active=request.app.state.settings.simulation_max_active)
    return _public(job, with_figures=False)


@router.get("/{simulation_id}", responses={**AUTH_ERRORS, **NOT_FOUND})
def read_simulation(simulation_id: str, user: Operator, engine: EngineDep) -> SimulationPublic:
    """A study's status, progress, key figures and the data of its figures."""
    return _public(service.get(engine, simulation_id))


@router.post("/{simulation_id}/cancel", status_code=status.HTTP_202_ACCEPTED,
             responses={**AUTH_ERRORS, **NOT_FOUND,
                        409: {"model": ErrorPublic, "description": "simulation_finished"}})
def cancel_simulation(simulation_id: str, user: Operator, engine: EngineDep) -> SimulationPublic:
    """Cancel a study: a queued one is cancelled at once; a running one stops within a second or so
    (``cancel_requested`` until its status is ``cancelled``)."""
    return _public(service.cancel(engine, simulation_id), with_figures=False)


@router.get("/{simulation_id}/report", response_class=HTMLResponse,
            responses={**AUTH_ERRORS, **NOT_FOUND,
                       409: {"model": ErrorPublic,
                             "description": "simulation_not_finished, _failed or _cancelled"}})
def read_report(simulation_id: str, user: Operator, engine: EngineDep) -> str:
    """The study's self-contained HTML report (plots embedded)."""
    return service.report_of(service.get(engine, simulation_id))
