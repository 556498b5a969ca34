"""The service starts for real (uvicorn on 127.0.0.1), answers its health page and books a trip with a
rider's API key made by ``rufbus user create``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """``rufbus serve`` running in its own process on a temporary SQLite database (never the
    ``DATABASE_URL`` CI exports); yields its base URL and that database's URL."""
    port = free_port()
    database = tmp_path_factory.mktemp("live") / "rufbus.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "RUFBUS_TIMEZONE": "Europe/Vaduz"}
    process = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port)], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("server did not start: " + process.stdout.read().decode(errors="replace"))
    yield url, env["DATABASE_URL"]
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def live_server_url(live_server) -> str:
    """The live server's base URL."""
    return live_server[0]


@pytest.fixture(scope="module")
def rider_key(live_server) -> str:
    """A rider's API key, made with ``rufbus user create`` in the live server's database."""
    made = subprocess.run([sys.executable, "-m", "api.cli", "user", "create", "--name", "Live rider",
                           "--role", "rider"], cwd=REPO, capture_output=True, text=True, check=True,
                          env={**os.environ, "DATABASE_URL": live_server[1]})
    return made.stdout.strip().splitlines()[-1]


def test_health_reports_the_default_region(live_server_url):
    """/health names Liechtenstein and the size of its road graph, with the OSM attribution."""
    body = httpx.get(live_server_url + "/health").json()
    assert body["status"] == "ok"
    assert body["region"] == "liechtenstein-latest.osm.pbf"
    assert 4000 < body["nodes"] < 8000  # 1,494 junctions and the curb nodes on roads cut at 60 m
    assert body["attribution"] == "© OpenStreetMap contributors"


def test_home_page_and_openapi_schema_are_served_but_no_cdn_docs(live_server_url):
    """The status page credits OpenStreetMap and the OpenAPI schema is reachable; the interactive docs,
    which would load scripts from a CDN, are off."""
    page = httpx.get(live_server_url + "/")
    assert page.status_code == 200 and "OpenStreetMap contributors" in page.text
    assert httpx.get(live_server_url + "/openapi.json").json()["info"]["title"] == "Rufbus"
    assert httpx.get(live_server_url + "/docs").status_code == 404
    assert httpx.get(live_server_url + "/redoc").status_code == 404


def test_a_trip_is_quoted_and_booked_over_http(live_server_url, rider_key):
    """Over real HTTP: a quote for tomorrow 10:00 from Vaduz to Schaan gets an offer, and booking it
    with an Idempotency-Key answers 201 with a booked booking inside the offered window; without the
    rider's key the same quote answers 401."""
    zone = ZoneInfo("Europe/Vaduz")
    tomorrow = datetime.combine(datetime.now(zone).date() + timedelta(days=1), day_time(10), tzinfo=zone)
    body = {"origin": {"lat": 47.1410, "lon": 9.5215}, "destination": {"lat": 47.1650, "lon": 9.5090},
            "time_type": "leave_after", "time": tomorrow.isoformat(), "seats": 1, "wheelchairs": 0}
    auth = {"Authorization": f"Bearer {rider_key}"}
    assert httpx.post(live_server_url + "/v1/quotes", json=body, timeout=10).status_code == 401
    quote = httpx.post(live_server_url + "/v1/quotes", json=body, headers=auth, timeout=10)
    assert quote.status_code == 200, quote.text
    offer = quote.json()
    booked = httpx.post(live_server_url + "/v1/bookings", json={"quote_id": offer["quote_id"]},
                        headers={"Idempotency-Key": uuid.uuid4().hex, **auth}, timeout=10)
    assert booked.status_code == 201, booked.text
    booking = booked.json()
    assert booking["id"] == offer["quote_id"] and booking["status"] == "booked"
    assert booking["pickup_window"] == offer["pickup_window"]


def test_an_oversized_body_over_http_is_413(live_server_url, rider_key):
    """Over real HTTP, a 2 MB body is answered 413 body_too_large."""
    answer = httpx.post(f"{live_server_url}/v1/quotes", content=b" " * (2 * 1024 * 1024),
                        headers={"Authorization": f"Bearer {rider_key}", "Content-Type": "application/json"},
                        timeout=30)
    assert (answer.status_code, answer.json()["code"]) == (413, "body_too_large")
