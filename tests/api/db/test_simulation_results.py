"""A simulation job run by the worker's job function (:func:`api.services.simulation_worker.run_job`)
stores its key figures, figures' data and report on SQLite and on the real PostgreSQL server, where
they read back as they were stored."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from api.db.models import SimulationJob, SimulationStatus, User, UserRole
from api.services import simulation_store as store
from api.services.simulation_worker import run_job
from api.services.simulations import study_params
from routing.network import RoadNetwork


@pytest.fixture(scope="module")
def network() -> RoadNetwork:
    """The default region's road network."""
    return RoadNetwork.load()


def test_a_finished_job_keeps_its_results(engine: Engine, network: RoadNetwork):
    """Twenty requests on two buses: the job ends done with 20 requests simulated, key figures that
    count them, the route map's data and an HTML report, all read back from the database."""
    name = f"op-{secrets.token_hex(4)}"
    with Session(engine) as session:
        owner = User(name=name, role=UserRole.OPERATOR, api_key_hash=f"hash-of-{name}")
        session.add(owner)
        session.commit()
        assert owner.id is not None
        owner_id = owner.id
    params = study_params(network, buses=2, seats=8, wheelchair_spaces=1, rules={}, requests=20,
                          demand_level=None, seed=3, reoptimize_every_min=0)
    job_id = secrets.token_hex(8)
    store.insert_job(engine, SimulationJob(id=job_id, owner_id=owner_id, status=SimulationStatus.QUEUED,
                                           params=params, requests_total=20))
    assert store.claim(engine, job_id, "here:1")
    run_job(engine, network, job_id, "here:1", beat_s=0.2)
    job = store.read_job(engine, job_id)
    assert job is not None and job.status is SimulationStatus.DONE, job and job.error
    assert job.requests_simulated == 20 and job.kpis is not None and job.kpis["requests"] == 20
    assert job.figures is not None and job.figures["route_map"]["edges"]
    assert job.report_html is not None and job.report_html.startswith("<!doctype html>")
