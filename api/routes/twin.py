"""The digital twin for operators: replay recorded days as they were and with a proposed change, read the
comparison, put the proposed rules in force. Handlers parse, authorise, call :mod:`api.services.twin`
and serialise.

A twin is a simulation job (``simulation_jobs``) run by the simulation worker, a separate process, never
the dispatching one; it is cancelled like any study (``POST /v1/operator/simulations/{id}/cancel``) and
counts towards the operator's studies queued or running at once.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import Engine

from api.db.models import SimulationJob, SimulationStatus
from api.deps import DispatchDep, Operator, SessionDep
from api.errors import NotFound
from api.schemas import BODY_CONFIG, ErrorPublic, Responses, ServiceRulesPublic
from api.services import simulations
from api.services import twin as service
from api.services.simulation_worker import SimulationWorker
from dispatch.model import MeetingMode
from simulation.twin import MAX_BUSES, ProposedChange

router = APIRouter(prefix="/v1/operator/twin", tags=["operator"])

AUTH_ERRORS: Responses = {401: {"model": ErrorPublic, "description": "no valid API key"},
                          403: {"model": ErrorPublic, "description": "not an operator"}}
NOT_FOUND: Responses = {404: {"model": ErrorPublic, "description": "unknown_twin"}}


def _engine(request: Request) -> Engine:
    return request.app.state.engine


def _worker(request: Request) -> SimulationWorker:
    return request.app.state.simulations


EngineDep = Annotated[Engine, Depends(_engine)]
WorkerDep = Annotated[SimulationWorker, Depends(_worker)]
DAY_S = 24 * 3600


class TwinCreate(BaseModel):
    """Recorded days to replay (``from`` to ``to``, local dates, at most 31) and the change to try: rule
    overrides (field names and units of ``GET /v1/operator/rules``), a fleet size, one shift for every bus
    (local seconds after midnight), a meeting-point mode. Nothing changed: the proposal is the baseline."""

    model_config = BODY_CONFIG

    from_: date = Field(alias="from")
    to: date | None = None
    rules: dict[str, int | float] = Field(default_factory=dict, max_length=40,
                                          examples=[{"max_wait_s": 1200}])
    buses: int | None = Field(default=None, ge=1, le=MAX_BUSES)
    shift_start_s: int | None = Field(default=None, ge=0, le=DAY_S)
    shift_end_s: int | None = Field(default=None, ge=0, le=DAY_S)
    mode: MeetingMode | None = None
    reoptimize_every_min: int | None = Field(default=None, ge=0, le=24 * 60,
                                             description="0: never; default: the live service's policy")

    @model_validator(mode="after")
    def _shift_given_whole(self) -> TwinCreate:
        if (self.shift_start_s is None) != (self.shift_end_s is None):
            raise ValueError("give both shift_start_s and shift_end_s, or neither")
        if self.shift_start_s is not None and self.shift_end_s is not None \
                and self.shift_start_s >= self.shift_end_s:
            raise ValueError("shift_start_s must lie before shift_end_s")
        return self

    def change(self) -> ProposedChange:
        """The proposed change."""
        shift = (self.shift_start_s, self.shift_end_s) \
            if self.shift_start_s is not None and self.shift_end_s is not None else None
        return ProposedChange(dict(self.rules), self.buses, shift, self.mode)


class TwinPublic(BaseModel):
    """A twin's state and, once done, the comparison: ``recorded`` (the county report's figures of those
    days), ``baseline`` (the twin as recorded), ``proposal`` (the twin with the change), and the rules of
    both sides."""

    id: str
    status: SimulationStatus
    created_at: datetime
    finished_at: datetime | None
    requests_simulated: int
    requests_total: int
    from_: date = Field(serialization_alias="from")
    to: date
    change: dict[str, Any]
    recorded: dict[str, Any] | None
    baseline: dict[str, Any] | None
    proposal: dict[str, Any] | None
    baseline_rules: dict[str, Any] | None
    proposed_rules: dict[str, Any] | None
    error: str | None
    cancel_url: str


def _public(job: SimulationJob) -> TwinPublic:
    results = service.twin_results(job) or {}
    return TwinPublic(id=job.id, status=job.status, created_at=job.created_at, finished_at=job.finished_at,
                      requests_simulated=job.requests_simulated, requests_total=job.requests_total,
                      from_=date.fromisoformat(job.params["from"]), to=date.fromisoformat(job.params["to"]),
                      change=job.params["change"], recorded=results.get("recorded"),
                      baseline=results.get("baseline"), proposal=results.get("proposal"),
                      baseline_rules=results.get("baseline_rules"),
                      proposed_rules=results.get("proposed_rules"),
                      error=job.error, cancel_url=f"/v1/operator/simulations/{job.id}/cancel")


def _twin(engine: Engine, twin_id: str) -> SimulationJob:
    try:
        return simulations.get(engine, twin_id)
    except NotFound as error:
        raise NotFound("unknown_twin", f"no twin {twin_id!r}") from error


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model_by_alias=True,
             responses={**AUTH_ERRORS,
                        409: {"model": ErrorPublic, "description": "too_many_simulations"},
                        422: {"model": ErrorPublic, "description": "invalid_range, invalid_rules, "
                                                                    "demand_too_large, nothing_recorded"}})
def start_twin(body: TwinCreate, user: Operator, request: Request, live: DispatchDep, session: SessionDep,
               engine: EngineDep, worker: WorkerDep) -> TwinPublic:
    """Queue a twin of the recorded days for the simulation worker; follow it at
    ``GET /v1/operator/twin/{id}``."""
    params = service.twin_params(session, clock=live.clock, first=body.from_, last=body.to or body.from_,
                                 change=body.change(),
                                 reoptimize_every_s=None if body.reoptimize_every_min is None
                                 else body.reoptimize_every_min * 60)
    assert user.id is not None, "a stored user has an id"
    job = simulations.submit(engine, worker.push, owner_id=user.id, params=params,
                             max_active=request.app.state.settings.simulation_max_active)
    return _public(job)


@router.get("/{twin_id}", response_model_by_alias=True, responses={**AUTH_ERRORS, **NOT_FOUND})
def read_twin(twin_id: str, user: Operator, engine: EngineDep) -> TwinPublic:
    """A twin's status, progress and, once done, recorded, baseline and proposal side by side."""
    return _public(_twin(engine, twin_id))


@router.post("/{twin_id}/apply", responses={**AUTH_ERRORS, **NOT_FOUND,
                                            409: {"model": ErrorPublic,
                                                  "description": "simulation_not_finished, nothing_to_apply"},
                                            422: {"model": ErrorPublic, "description": "invalid_rules"}})
def apply_twin(twin_id: str, user: Operator, live: DispatchDep, session: SessionDep, engine: EngineDep
               ) -> ServiceRulesPublic:
    """Put the proposal's rules in force: the rules in force now with the twin's rule changes and mode,
    a new version of the service rules (the event names the operator)."""
    return service.apply_proposal(live, session, user=user, job=_twin(engine, twin_id))
