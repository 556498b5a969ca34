"""The live demo against a real uvicorn process (own SQLite file, two buses, its clock shifted to 10:00
local so that the run falls in service hours whenever it runs): riders book, drivers' reports are
accepted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx

from loadtests.demo import create_demo_users, run_demo
from tests.api.test_recovery import REPO, free_port

SERVER = """
import sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import uvicorn

from api.app import create_app
from api.clock import ServiceClock
from api.settings import Settings

zone = ZoneInfo("Europe/Vaduz")
offset = timedelta(seconds=float(sys.argv[3]))
app = create_app(Settings(database_url=sys.argv[1], demo_buses=2),
                 clock=ServiceClock(zone, lambda: datetime.now(zone) + offset))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def test_demo_books_trips_and_drives_the_buses(tmp_path):
    """Eight seconds of the demo (a trip request a second, drivers every half second): some trips are
    booked and the service accepts driver reports."""
    zone = ZoneInfo("Europe/Vaduz")
    now = datetime.now(zone)
    offset = (now.replace(hour=10, minute=0, second=0, microsecond=0) - now).total_seconds()
    database, port = f"sqlite:///{tmp_path / 'rufbus.sqlite3'}", free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER, database, str(port), str(offset)], cwd=REPO,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, "the service exited during start"
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the service did not start within 120 s"
            time.sleep(0.2)
        riders, drivers = create_demo_users(database)
        assert len(drivers) == 2
        stats = run_demo(url, riders, drivers, duration_s=8, rider_every_s=1, tick_s=0.5,
                         clock_offset_s=offset)
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)
    assert stats.quotes >= 5 and stats.bookings >= 1, stats
    assert stats.reports >= 1, stats
