"""Security headers: every answer — the web apps' pages, their static files, the API, its errors and the
answers of middleware before any route — carries the Content-Security-Policy, frame, nosniff and
referrer headers; the policy allows no script from outside the origin and no inline script."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.security import CONTENT_SECURITY_POLICY
from tests.api.conftest import OPERATOR, AppSetup

CLIENT = AppSetup(users=(OPERATOR,))


@pytest.fixture(scope="module")
def client(module_client: TestClient) -> TestClient:
    """One app for the module."""
    return module_client


def assert_secured(answer) -> None:
    """The four headers, as the service sets them."""
    assert answer.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize(("path", "status"), [
    ("/", 200), ("/app", 200), ("/driver", 200), ("/operator", 200),  # pages
    ("/static/web/rider.js", 200), ("/static/web/style.css", 200),  # static files
    ("/health", 200), ("/openapi.json", 200), ("/map/area", 200), ("/v1/stops", 200),  # public API
    ("/v1/operator/fleet", 401), ("/nowhere", 404), ("/v1/bookings/a%00b", 422),  # errors, URL guard
])
def test_every_kind_of_answer_carries_the_security_headers(client, path, status):
    """Pages, static files, public API answers and errors (401, 404, the URL guard's 422) all carry the
    headers."""
    answer = client.get(path)
    assert answer.status_code == status
    assert_secured(answer)


def test_an_authenticated_api_answer_and_a_refused_large_body_carry_them_too(client):
    """An operator's answer and the 413 of the body size limit (answered before any route) too."""
    operator = client.keys["operator"]  # type: ignore[attr-defined]
    assert_secured(client.get("/v1/operator/fleet", headers=operator))
    refused = client.put("/v1/operator/rules", headers=operator | {"Content-Type": "application/json"},
                         content=b"[" + b"0," * 600_000 + b"0]")
    assert refused.status_code == 413
    assert_secured(refused)


def test_the_policy_allows_scripts_only_from_the_origin_and_no_framing():
    """No inline script, no eval, no other origin; nothing may frame the pages; connections (fetch and the
    live WebSockets) only to the origin."""
    directives = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["connect-src"] == "'self'"
    assert "unsafe-eval" not in CONTENT_SECURITY_POLICY and "http" not in CONTENT_SECURITY_POLICY
