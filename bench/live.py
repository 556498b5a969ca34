"""Live-layer benchmark: two real workers behind one Redis and one PostgreSQL database.

Measures, on loopback: quote latency answered by the dispatching worker itself and through the
forwarding worker (p50/p95/p99 over ``--quotes`` quotes each); how long a booking made through one
worker takes to reach a driver's WebSocket on the other (push latency); and the take-over after
``kill -9`` of the dispatching worker (time until the other dispatches, until a booking succeeds).

    python bench/live.py --quotes 300 --lease 5 --json bench/out/live.json

Needs ``DATABASE_URL`` (PostgreSQL; a schema of its own is created and dropped) and ``REDIS_URL``.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import numpy as np
import redis
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import Session
from websockets.sync.client import connect

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from api.auth import create_user  # noqa: E402
from api.db.session import create_db_engine  # noqa: E402

ZONE = ZoneInfo("Europe/Vaduz")
SERVER = """
import sys
from datetime import datetime
from zoneinfo import ZoneInfo
import uvicorn
from api.app import create_app
from api.clock import ServiceClock
from api.settings import Settings
database_url, port, redis_url, area, lease_s = sys.argv[1:]
zone = ZoneInfo("Europe/Vaduz")
now = datetime(2026, 11, 23, 7, 0, tzinfo=zone)
# One synthetic rider asks every quote as fast as answers come: a latency benchmark, not fair use, so the
# riders' rate limits and fair-use caps are lifted.
settings = Settings(database_url=database_url, redis_url=redis_url, area=area, lease_s=float(lease_s),
                    demo_buses=6, quote_rate_per_account="", quote_rate_per_address="",
                    booking_rate_per_account="", booking_rate_per_address="",
                    fair_use_max_open_bookings=1000, fair_use_max_seats_per_slot=1000)
uvicorn.run(create_app(settings, clock=ServiceClock(zone, lambda: now)), host="127.0.0.1", port=int(port),
            log_level="warning")
"""
PLACES = [
    (47.1410, 9.5215),
    (47.1650, 9.5090),
    (47.1200, 9.5200),
    (47.2090, 9.5480),
    (47.1730, 9.5330),
    (47.2290, 9.5480),
    (47.1050, 9.5150),
]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_worker(
    database: str, redis_url: str, area: str, lease_s: float
) -> tuple[subprocess.Popen, httpx.Client]:
    """A worker process and a client for it, once /health answers."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, database, str(port), redis_url, area, str(lease_s)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if client.get("/health").status_code == 200:
                return process, client
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("worker did not start")


def trip(k: int) -> dict:
    """The k-th quote body: two of the places, leaving after a time between 08:00 and 18:00."""
    rng = np.random.default_rng(k)
    a, b = rng.choice(len(PLACES), 2, replace=False)
    moment = datetime(2026, 11, 23, 8, 0, tzinfo=ZONE) + timedelta(minutes=int(rng.integers(0, 600)))
    return {
        "origin": dict(zip(("lat", "lon"), PLACES[a])),
        "destination": dict(zip(("lat", "lon"), PLACES[b])),
        "time_type": "leave_after",
        "time": moment.isoformat(),
        "seats": 1,
        "wheelchairs": 0,
    }


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50, p95 and p99 in milliseconds."""
    values = np.asarray(samples) * 1000
    return {f"p{q}_ms": round(float(np.percentile(values, q)), 2) for q in (50, 95, 99)}


def quote_latencies(client: httpx.Client, headers: dict, count: int, offset: int) -> list[float]:
    """Wall time of ``count`` quotes (offers or rejections alike)."""
    samples = []
    for k in range(count):
        started = time.perf_counter()
        answer = client.post("/v1/quotes", json=trip(offset + k), headers=headers)
        samples.append(time.perf_counter() - started)
        assert answer.status_code in (200, 409), answer.text
    return samples


def book(client: httpx.Client, headers: dict, k: int) -> dict | None:
    """Quote and book trip k; the booking, or None when no offer was possible."""
    offer = client.post("/v1/quotes", json=trip(k), headers=headers)
    if offer.status_code != 200:
        return None
    booked = client.post(
        "/v1/bookings",
        json={"quote_id": offer.json()["quote_id"]},
        headers=headers | {"Idempotency-Key": f"bench-{k}"},
    )
    return booked.json() if booked.status_code == 201 else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=int, default=300)
    parser.add_argument("--lease", type=float, default=5.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    server, redis_url = os.environ["DATABASE_URL"], os.environ["REDIS_URL"]
    schema, area = f"rufbus_bench_{secrets.token_hex(4)}", f"bench-{secrets.token_hex(4)}"
    admin = create_db_engine(server)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    database = (
        make_url(server)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )
    workers = []
    try:
        workers = [start_worker(database, redis_url, area, args.lease) for _ in range(2)]
        engine = create_db_engine(database)
        with Session(engine) as session:
            rider = {"Authorization": f"Bearer {create_user(session, name='bench', role='rider')[1]}"}
            driver = create_user(session, name="driver", role="driver", vehicle_id="bus-1")[1]
        engine.dispose()
        leader = next(w for w in workers if w[1].get("/health").json()["live"]["dispatcher"])
        follower = next(w for w in workers if w is not leader)
        figures: dict[str, object] = {
            "quote_direct": percentiles(quote_latencies(leader[1], rider, args.quotes, 0)),
            "quote_forwarded": percentiles(quote_latencies(follower[1], rider, args.quotes, 10_000)),
        }
        push = []
        port = follower[1].base_url.port
        with connect(f"ws://127.0.0.1:{port}/v1/driver/stream",
                     additional_headers={"Authorization": f"Bearer {driver}"}) as websocket:
            websocket.recv(timeout=10)
            for k in range(20_000, 20_060):
                started = time.perf_counter()
                booking = book(leader[1], rider, k)
                if booking is None or booking["vehicle_id"] != "bus-1":
                    continue
                while True:
                    message = json.loads(websocket.recv(timeout=10))
                    stops = (message.get("route") or {}).get("stops", [])
                    if any(s["booking_id"] == booking["id"] for s in stops):
                        push.append(time.perf_counter() - started)
                        break
        figures["push_after_booking"] = {**percentiles(push), "samples": len(push)}
        leader[0].send_signal(signal.SIGKILL)
        leader[0].wait()
        killed = time.perf_counter()
        while not follower[1].get("/health").json()["live"]["dispatcher"]:
            time.sleep(0.02)
        took_over = time.perf_counter() - killed
        k = 30_000
        while book(follower[1], rider, k) is None:
            k += 1
        figures["failover"] = {
            "lease_s": args.lease,
            "takeover_s": round(took_over, 2),
            "first_booking_after_kill_s": round(time.perf_counter() - killed, 2),
        }
    finally:
        for process, client in workers:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait()
            client.close()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
        keys = redis.Redis.from_url(redis_url)
        for key in keys.scan_iter(f"rufbus:{area}:*"):
            keys.delete(key)
        keys.close()
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
