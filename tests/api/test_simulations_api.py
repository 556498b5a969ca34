"""Operators' simulation jobs: started in the background (202), followed to the end, the report read;
the live plan untouched; bad bodies refused. The app runs on its own SQLite file at 08:00 local."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import AppSetup

# One app for the module, with an operator.
CLIENT = AppSetup(users=(("op", "operator", None),))
STUDY = {"buses": 2, "seats": 8, "requests": 30, "rules": {"max_wait_s": 1200}, "seed": 4,
         "reoptimize_every_min": 0}


@pytest.fixture(scope="module")
def client(module_client: TestClient) -> TestClient:
    """The module's app with the operator's key in ``client.operator``."""
    module_client.operator = module_client.keys["op"]  # type: ignore[attr-defined]
    return module_client


def finished(client, job_id: str) -> dict:
    """Poll the job until it is done or failed (at most 60 s)."""
    deadline = time.monotonic() + 60
    while True:
        job = client.get(f"/v1/operator/simulations/{job_id}", headers=client.operator).json()
        if job["status"] in ("done", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


def test_a_job_runs_in_the_background_and_reports(client):
    """POST answers 202 at once with the job; it ends done with the key figures of its 30 requests and
    the figures' data; its report is HTML with embedded plots; the live dispatcher got no booking."""
    live = client.app.state.dispatch.dispatcher
    before = len(live.plan.bookings())
    answer = client.post("/v1/operator/simulations", json=STUDY, headers=client.operator)
    assert answer.status_code == 202, answer.text
    started = answer.json()
    assert started["status"] in ("queued", "running", "done")
    assert started["scenario"]["rules"]["max_wait_s"] == 1200
    job = finished(client, started["id"])
    assert job["status"] == "done", job["error"]
    assert job["kpis"]["requests"] == 30 and job["requests_simulated"] == 30
    assert job["figures"]["route_map"]["edges"]
    report = client.get(job["report_url"], headers=client.operator)
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    assert report.text.count("data:image/png;base64,") == 4
    assert len(live.plan.bookings()) == before


@pytest.mark.parametrize("body, code", [({"requests": 10, "rules": {"max_wait_s": -1}}, "invalid_rules"),
                                        ({"requests": 10, "rules": {"no_such_rule": 1}}, "invalid_rules"),
                                        ({"requests": 10, "demand_level": 5}, "invalid_request"),
                                        ({"buses": 0, "requests": 10}, "invalid_request")])
def test_bad_studies_are_refused(client, body, code):
    """Contradictory or unknown rules, two demand sizes at once and an empty fleet answer 422."""
    answer = client.post("/v1/operator/simulations", json=body, headers=client.operator)
    assert answer.status_code == 422 and answer.json()["code"] == code, answer.text


def test_an_unknown_job_is_404(client):
    """Reading a job nobody started answers 404 unknown_simulation, as does its report."""
    for path in ("/v1/operator/simulations/nope", "/v1/operator/simulations/nope/report"):
        answer = client.get(path, headers=client.operator)
        assert answer.status_code == 404 and answer.json()["code"] == "unknown_simulation"
