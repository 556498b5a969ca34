"""Fixtures of the browser tests: the service as a real uvicorn process (temporary SQLite database, two
8-seat buses, the clock standing at 08:00 local on 23 November 2026, its mail going to a real local SMTP
server whose mailbox the tests read), its users' keys, and Debian's headless Chromium driven by
Playwright (never a downloaded browser: ``executable_path`` is ``/usr/bin/chromium``). Pages are signed
in through their own form: with a user's device key (exchanged for a session), or with an e-mail code.

Screenshots go to ``test-artifacts/web/`` in the repository (git-ignored); the path is printed.
Without ``/usr/bin/chromium`` the tests are skipped, except with ``CI=true`` where they fail (``.ci/run``
installs it)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Page, expect
from sqlmodel import Session, create_engine

from api.auth import create_user
from tests.api.conftest import NOW, SCHAAN, VADUZ
from tests.api.test_recovery import free_port
from tests.services import unavailable
from tests.smtp import Mailbox

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = REPO / "test-artifacts" / "web"
MAIL_RIDER = "mia@example.org"
SERVER = """
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import uvicorn

from api.app import create_app
from api.clock import ServiceClock
from api.settings import Settings

zone = ZoneInfo("Europe/Vaduz")
now = datetime(2026, 11, 23, 8, 0, tzinfo=zone)
settings = Settings(database_url=sys.argv[1], demo_buses=2, demo_users=False)
app = create_app(settings, clock=ServiceClock(zone, lambda: now))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


@dataclass(frozen=True)
class Service:
    """A running service: its base URL, one API key per role (``driver`` drives ``bus-1``, ``driver-2``
    drives ``bus-2``; ``leaving-rider`` is a rider whom a test may erase; ``mail-rider`` has the e-mail
    address ``MAIL_RIDER``), and the mailbox its mail arrives in (each e-mail is tried once)."""

    base_url: str
    keys: dict[str, str]
    mailbox: Mailbox

    def client(self, role: str) -> httpx.Client:
        """An HTTP client with the key of ``role``."""
        return httpx.Client(base_url=self.base_url, timeout=30,
                            headers={"Authorization": f"Bearer {self.keys[role]}"})

    def book(self, hour: int, role: str = "rider") -> dict:
        """The rider ``role`` books Vaduz → Schaan leaving after ``hour``:00 today through the API; the
        booking as answered."""
        with self.client(role) as rider:
            offer = rider.post("/v1/quotes", json={"origin": VADUZ, "destination": SCHAAN,
                                                   "time_type": "leave_after",
                                                   "time": NOW.replace(hour=hour).isoformat(), "seats": 1})
            assert offer.status_code == 200, offer.text
            quote_id = offer.json()["quote_id"]
            booked = rider.post("/v1/bookings", json={"quote_id": quote_id}, headers={"Idempotency-Key": quote_id})
            assert booked.status_code == 201, booked.text
            return booked.json()


def _add_users(database: Path) -> dict[str, str]:
    engine = create_engine(f"sqlite:///{database}")
    try:
        with Session(engine) as session:
            return {"rider": create_user(session, name="Rita Rider", role="rider")[1],
                    "leaving-rider": create_user(session, name="Lea Leaving", role="rider")[1],
                    "mail-rider": create_user(session, name="Mia Mail", role="rider",
                                              email=MAIL_RIDER)[1],
                    "driver": create_user(session, name="Dana Driver", role="driver", vehicle_id="bus-1")[1],
                    "driver-2": create_user(session, name="Dirk Driver", role="driver",
                                            vehicle_id="bus-2")[1],
                    "operator": create_user(session, name="Otto Operator", role="operator")[1]}
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The service in its own process for the module's tests, killed afterwards."""
    database = tmp_path_factory.mktemp("web") / "rufbus.sqlite3"
    port, smtp_port, mailbox = free_port(), free_port(), Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    # One attempt per e-mail: a refused one fails at once (the mail panel's test).
    mail_env = {"RUFBUS_SMTP_HOST": "127.0.0.1", "RUFBUS_SMTP_PORT": str(smtp_port),
                "RUFBUS_OUTBOX_MAX_ATTEMPTS": "1"}
    process = subprocess.Popen([sys.executable, "-c", SERVER, f"sqlite:///{database}", str(port)], cwd=REPO,
                               env={**os.environ, **mail_env, "PYTHONPATH": str(REPO)})
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, "the service exited during start"
            try:
                if httpx.get(f"{base_url}/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the service did not start within 120 s"
            time.sleep(0.2)
        yield Service(base_url, _add_users(database), mailbox)
    finally:
        process.kill()
        process.wait(timeout=30)
        smtp.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Chromium from Debian, driven by Playwright."""
    if not CHROMIUM.exists():
        unavailable("Chromium", f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots are saved (printed, so a run shows it)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    print(f"\nweb test screenshots: {ARTIFACTS}")
    return ARTIFACTS


def sign_in_with_key(page: Page, key: str) -> None:
    """Sign in through the page's own form with a device key (the page exchanges it for a session)."""
    expect(page.locator("#login")).to_be_visible()
    page.get_by_text("Mit Geräteschlüssel anmelden").click()
    page.get_by_label("API-Schlüssel").fill(key)
    page.locator("#signin-device-form").get_by_role("button", name="Anmelden").click()
