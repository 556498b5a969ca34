"""The service starts for real (uvicorn on 127.0.0.1) and answers its health page."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def live_server():
    """``rufbus serve`` running in its own process; yields its base URL."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port)], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
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
    yield url
    process.terminate()
    process.wait(timeout=10)


def test_health_reports_the_default_region(live_server):
    """/health names Liechtenstein and the size of its road graph, with the OSM attribution."""
    body = httpx.get(live_server + "/health").json()
    assert body["status"] == "ok"
    assert body["region"] == "liechtenstein-latest.osm.pbf"
    assert 1000 < body["nodes"] < 3000
    assert body["attribution"] == "© OpenStreetMap contributors"


def test_home_page_and_openapi_docs_are_served(live_server):
    """The status page credits OpenStreetMap and the OpenAPI docs are reachable."""
    page = httpx.get(live_server + "/")
    assert page.status_code == 200 and "OpenStreetMap contributors" in page.text
    assert httpx.get(live_server + "/docs").status_code == 200
