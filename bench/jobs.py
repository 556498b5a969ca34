"""Simulation-jobs benchmark: does an operator's simulation slow the riders' quotes down, and what does
running ``rufbus sweep`` in parallel processes save?

1. Quote latency against a live service (uvicorn on 127.0.0.1, its own SQLite file; with ``--redis`` the
   jobs go through ``REDIS_URL`` under an area of their own): p50/p95/p99 of ``--quotes`` quotes while
   idle, then while a ``--sim-requests`` simulation job runs in the simulation worker, then idle again
   after the job is cancelled. The load average is printed with each phase: on a shared machine the
   figures move with it.
2. ``rufbus sweep`` wall time for fleet sizes ``--sweep-buses`` × two rule sets on ``--sweep-requests``
   requests, serial (``--jobs 1``) against parallel (``--jobs`` default: one per CPU), and whether both
   printed the same rows.

    python bench/jobs.py --quotes 400 --sim-requests 2000 --sweep-requests 300 --json bench/out/jobs.json
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import redis
from sqlmodel import Session

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from api.auth import create_user  # noqa: E402
from api.db.session import create_db_engine  # noqa: E402
from bench.live import percentiles, trip  # noqa: E402

SERVER = """
import sys
from datetime import datetime
from zoneinfo import ZoneInfo
import uvicorn
from api.app import create_app
from api.clock import ServiceClock
from api.settings import Settings
database_url, port, redis_url, area = sys.argv[1:]
zone = ZoneInfo("Europe/Vaduz")
now = datetime(2026, 11, 23, 7, 0, tzinfo=zone)
settings = Settings(database_url=database_url, redis_url=redis_url or None, area=area, demo_buses=6)
uvicorn.run(create_app(settings, clock=ServiceClock(zone, lambda: now)), host="127.0.0.1", port=int(port),
            log_level="warning")
"""
SIMULATIONS = "/v1/operator/simulations"


def start_server(database: str, port: int, redis_url: str, area: str
                 ) -> tuple[subprocess.Popen, httpx.Client]:
    """The service process and a client for it, once /health answers."""
    process = subprocess.Popen([sys.executable, "-c", SERVER, database, str(port), redis_url, area], cwd=REPO,
                               env={**os.environ, "PYTHONPATH": str(REPO)})
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if client.get("/health").status_code == 200:
                return process, client
        except httpx.TransportError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("the service did not start")


def quote_phase(client: httpx.Client, rider: dict, count: int, offset: int) -> dict:
    """Latency of ``count`` quotes, with the load average before and after."""
    before = os.getloadavg()[0]
    samples = []
    for k in range(count):
        started = time.perf_counter()
        answer = client.post("/v1/quotes", json=trip(offset + k), headers=rider)
        samples.append(time.perf_counter() - started)
        assert answer.status_code in (200, 409), answer.text
    return {**percentiles(samples), "quotes": count, "load_before": round(before, 2),
            "load_after": round(os.getloadavg()[0], 2)}


def latency_under_simulation(args: argparse.Namespace, directory: Path) -> dict:
    """Quote latency idle, while a simulation job runs, and idle again after cancelling it."""
    redis_url = os.environ.get("REDIS_URL", "") if args.redis else ""
    area = f"bench-{secrets.token_hex(4)}"
    database = f"sqlite:///{directory / 'rufbus.sqlite3'}"
    server, client = start_server(database, args.port, redis_url, area)
    try:
        engine = create_db_engine(database)
        with Session(engine) as session:
            rider = {"Authorization": f"Bearer {create_user(session, name='rider', role='rider')[1]}"}
            operator = {"Authorization": f"Bearer {create_user(session, name='op', role='operator')[1]}"}
        engine.dispose()
        quote_phase(client, rider, 30, 90_000)  # warm-up
        idle = quote_phase(client, rider, args.quotes, 0)
        job = client.post(SIMULATIONS, json={"buses": 10, "requests": args.sim_requests, "seed": 1},
                          headers=operator).json()
        while (state := client.get(f"{SIMULATIONS}/{job['id']}", headers=operator).json())[
                "requests_simulated"] == 0:
            time.sleep(0.2)
        busy = quote_phase(client, rider, args.quotes, 0)
        state = client.get(f"{SIMULATIONS}/{job['id']}", headers=operator).json()
        busy["job_status_after"] = state["status"]
        busy["job_requests_simulated_after"] = state["requests_simulated"]
        client.post(f"{SIMULATIONS}/{job['id']}/cancel", headers=operator)
        while client.get(f"{SIMULATIONS}/{job['id']}", headers=operator).json()["status"] == "running":
            time.sleep(0.2)
        idle_again = quote_phase(client, rider, args.quotes, 0)
        return {"queue": "redis" if redis_url else "local", "sim_requests": args.sim_requests,
                "idle": idle, "while_simulating": busy, "idle_after": idle_again,
                "p50_change_pct": round(100 * (busy["p50_ms"] / idle["p50_ms"] - 1), 1),
                "p99_change_pct": round(100 * (busy["p99_ms"] / idle["p99_ms"] - 1), 1)}
    finally:
        server.terminate()
        server.wait(30)
        if redis_url:
            client_redis = redis.Redis.from_url(redis_url)
            keys = list(client_redis.scan_iter(f"rufbus:{area}:*"))
            if keys:
                client_redis.delete(*keys)
            client_redis.close()


def sweep_run(args: argparse.Namespace, jobs: int | None, out: Path) -> tuple[float, list[str]]:
    """Wall seconds of one ``rufbus sweep`` and the rows it printed."""
    command = [str(Path(sys.executable).parent / "rufbus"), "sweep", "--buses", args.sweep_buses,
               "--requests", str(args.sweep_requests), "--rules", "", "--rules", "max_wait_s=1200",
               "--out", str(out)] + ([] if jobs is None else ["--jobs", str(jobs)])
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True)
    rows = [line for line in done.stdout.splitlines() if " buses " in line]
    return time.perf_counter() - started, rows


def sweep_timing(args: argparse.Namespace, directory: Path) -> dict:
    """Serial against parallel wall time of the same sweep."""
    load = os.getloadavg()[0]
    serial_s, serial_rows = sweep_run(args, 1, directory / "serial")
    parallel_s, parallel_rows = sweep_run(args, None, directory / "parallel")
    return {"fleet_sizes": args.sweep_buses, "rule_sets": 2, "requests": args.sweep_requests,
            "cpus": os.cpu_count(), "load_before": round(load, 2), "serial_s": round(serial_s, 1),
            "parallel_s": round(parallel_s, 1), "speedup": round(serial_s / parallel_s, 2),
            "same_rows": serial_rows == parallel_rows, "rows": len(serial_rows)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=int, default=400)
    parser.add_argument("--sim-requests", type=int, default=2000)
    parser.add_argument("--port", type=int, default=18110)
    parser.add_argument("--redis", action="store_true", help="queue the job through REDIS_URL")
    parser.add_argument("--sweep-buses", default="2,4,6,8,10,12,14")
    parser.add_argument("--sweep-requests", type=int, default=300)
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--skip-sweep", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    figures: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="rufbus-jobs-") as temporary:
        directory = Path(temporary)
        if not args.skip_latency:
            figures["quote_latency"] = latency_under_simulation(args, directory)
            print(json.dumps(figures["quote_latency"], indent=1), flush=True)
        if not args.skip_sweep:
            figures["sweep"] = sweep_timing(args, directory)
            print(json.dumps(figures["sweep"], indent=1), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
