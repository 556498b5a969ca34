"""Digital-twin benchmark: does the twin reproduce a recorded day, does a twin job slow the riders' quotes
down, and what does ``rufbus sweep --jobs 2`` save?

1. **Recording.** A seeded day of ``--requests`` generated trips (``--day``, a third pre-booked the evening
   before) is asked for and booked through the real riders' API (the app in process on a clock that
   follows the trips, its own SQLite file, ``--buses`` demo buses): :mod:`loadtests.recorded_day`.
2. **(b) Reproduction.** The twin of that day with nothing changed, the live re-optimization policy:
   requests, served and vehicle-km of the twin against what was recorded (served there: the bookings the
   service took on; the recorded vehicle-km: the county report's, between served stops — the day was
   not driven, so it is printed for completeness), and the difference in per cent.
3. **(a) Quote latency.** uvicorn on 127.0.0.1 on that database (the clock at 07:00 on 23 November), its
   simulation worker in its own process: p50/p95/p99 of ``--quotes`` quotes over HTTP per phase, in
   ``--cycles`` rounds of an idle phase and a phase while the twin of the recorded day runs in the worker
   (every recorded request replayed twice: as recorded and with one bus fewer — 2 × 1,000 = 2,000 requests
   by default; cancelled after the phase), then a last idle phase; pooled per side and per phase.
4. **(c) Sweep.** ``rufbus sweep`` wall time for ``--sweep-buses`` (7 fleet sizes) × 2 rule sets on
   ``--sweep-requests`` requests, ``--jobs 1`` against ``--jobs 2``, and whether both printed the same rows.

    python bench/twin.py --json bench/out/twin.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlmodel import Session

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from api.app import create_app  # noqa: E402
from api.auth import create_user  # noqa: E402
from api.clock import ServiceClock  # noqa: E402
from api.db.session import create_db_engine  # noqa: E402
from api.services.reports import DateRange  # noqa: E402
from api.services.twin import recorded_days, recorded_figures, service_setup  # noqa: E402
from api.settings import Settings  # noqa: E402
from bench.jobs import sweep_run  # noqa: E402
from bench.live import percentiles, trip  # noqa: E402
from dispatch.model import MeetingMode  # noqa: E402
from loadtests.recorded_day import record_day  # noqa: E402
from routing.stops import read_places  # noqa: E402
from simulation.engine import SimulationConfig  # noqa: E402
from simulation.generator import DemandProfile, generate_demand  # noqa: E402
from simulation.twin import figures_of, fleet_of, simulate_recorded_day  # noqa: E402

ZONE = ZoneInfo("Europe/Vaduz")
SERVER = """
import sys
from datetime import datetime
from zoneinfo import ZoneInfo
import uvicorn
from api.app import create_app
from api.clock import ServiceClock
from api.settings import Settings
database_url, port, buses = sys.argv[1:]
zone = ZoneInfo("Europe/Vaduz")
now = datetime(2026, 11, 23, 7, 0, tzinfo=zone)
settings = Settings(database_url=database_url, demo_buses=int(buses), quote_rate_per_account="",
                    quote_rate_per_address="")
uvicorn.run(create_app(settings, clock=ServiceClock(zone, lambda: now)), host="127.0.0.1", port=int(port),
            log_level="warning")
"""
OPEN_LIMITS: dict[str, Any] = {"quote_rate_per_account": "", "quote_rate_per_address": "",
                                "booking_rate_per_account": "", "booking_rate_per_address": "",
                                "fair_use_max_open_bookings": 1000, "fair_use_max_seats_per_slot": 1000}


class Clock:
    """A wall clock the recording moves forward."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, moment: datetime) -> None:
        self.moment = max(self.moment, moment)


def record(database: str, day: date, requests: int, buses: int, seed: int) -> dict:
    """Record the day through the riders' API; what the service answered."""
    from fastapi.testclient import TestClient

    clock = Clock(datetime.combine(day - timedelta(days=1), datetime.min.time(), tzinfo=ZONE)
                  + timedelta(hours=17))
    settings = Settings(database_url=database, demo_buses=buses, **OPEN_LIMITS)
    app = create_app(settings, clock=ServiceClock(ZONE, wall_clock=clock))
    started = time.perf_counter()
    with TestClient(app) as client:
        with Session(app.state.engine) as session:
            riders = [{"Authorization": f"Bearer {create_user(session, name=f'r{k}', role='rider')[1]}"}
                      for k in range(20)]
        network = app.state.network
        region = read_places(Path(network.settings.osm_file))
        trips = generate_demand(region, network.graph.node_lat, network.graph.node_lon,
                                DemandProfile(requests=requests), seed, day)
        counts = record_day(client, riders, trips, ZONE, clock.advance)
    return {"requests": requests, "buses": buses, "booked": counts.booked,
            "refused": dict(counts.refused), "invalid": dict(counts.invalid), "not_booked": counts.not_booked,
            "record_s": round(time.perf_counter() - started, 1)}


def reproduce(database: str, day: date) -> dict:
    """The twin of the day as recorded (live re-optimization policy; the baseline side only) against the
    recording."""
    from routing.network import RoadNetwork

    engine = create_db_engine(database)
    clock = ServiceClock(ZONE)
    network = RoadNetwork.load()
    try:
        with Session(engine) as session:
            _, end = DateRange(day, day).instants(clock)
            setup = service_setup(session, clock=clock, network=network, before=end,
                                  mode=MeetingMode.DOOR_TO_DOOR)
            days = recorded_days(session, clock=clock, first=day, last=day)
            recorded = recorded_figures(session, clock=clock, network=network, first=day, last=day)
    finally:
        engine.dispose()
    started = time.perf_counter()
    config = SimulationConfig(no_show_p=0.0, cancel_p=0.0, seed=1)
    twin = figures_of([simulate_recorded_day(d, fleet_of(d), setup, network, config) for d in days],
                      setup.costs).as_dict()
    return {"recorded_requests": recorded["requests"], "twin_requests": twin["requests"],
            "recorded_booked": recorded["booked"], "twin_served": twin["served"],
            "served_diff_pct": round(100 * (twin["served"] / recorded["booked"] - 1), 2),
            "twin_vehicle_km": twin["vehicle_km"], "recorded_vehicle_km": recorded["vehicle_km"],
            "twin_vehicle_hours": twin["vehicle_hours"], "recorded_vehicle_hours": recorded["vehicle_hours"],
            "twin_wait_mean_min": twin["wait_mean_min"], "twin_ride_time_factor": twin["ride_time_factor"],
            "twin_s": round(time.perf_counter() - started, 1)}


def quote_phase(client: httpx.Client, rider: dict, count: int, offset: int = 0) -> tuple[dict, list[float]]:
    """Latency of ``count`` quotes (trips from ``offset`` on), with the load average before and after;
    and the samples."""
    before = os.getloadavg()[0]
    samples = []
    for k in range(count):
        started = time.perf_counter()
        answer = client.post("/v1/quotes", json=trip(offset + k), headers=rider)
        samples.append(time.perf_counter() - started)
        assert answer.status_code in (200, 409), answer.text
    return {**percentiles(samples), "quotes": count, "load_before": round(before, 2),
            "load_after": round(os.getloadavg()[0], 2)}, samples


def start_twin(client: httpx.Client, operator: dict, day: date, buses: int) -> str:
    """Submit the twin of ``day`` (one bus fewer in the proposal) and wait until it simulates; its URL."""
    answer = client.post("/v1/operator/twin", headers=operator,
                         json={"from": day.isoformat(), "buses": max(1, buses - 1)})
    assert answer.status_code == 202, answer.text
    url = f"/v1/operator/twin/{answer.json()['id']}"
    while (state := client.get(url, headers=operator).json())["requests_simulated"] == 0:
        assert state["status"] in ("queued", "running"), state
        time.sleep(0.2)
    return url


def cancel_twin(client: httpx.Client, operator: dict, url: str) -> dict:
    """Cancel the twin at ``url`` once its phase is over and wait until it stopped; its state then."""
    state = client.get(url, headers=operator).json()
    client.post(f"/v1/operator/simulations/{state['id']}/cancel", headers=operator)
    while client.get(url, headers=operator).json()["status"] == "running":
        time.sleep(0.2)
    return {"twin_status_after": state["status"],
            "twin_requests_simulated_after": state["requests_simulated"],
            "twin_requests_total": state["requests_total"]}


def latency(database: str, day: date, buses: int, quotes: int, port: int, cycles: int) -> dict:
    """Quote latency idle and while the twin runs in the worker, in ``cycles`` rounds of an idle phase and
    a twin phase (the twin cancelled after each), then a last idle phase: alternating cancels a drift of
    the machine's speed over the run, which one idle-twin-idle sequence cannot tell from the twin's
    effect. Pooled percentiles per side, and each phase's own."""
    import subprocess

    process = subprocess.Popen([sys.executable, "-c", SERVER, database, str(port), str(buses)], cwd=REPO,
                               env={**os.environ, "PYTHONPATH": str(REPO)})
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if client.get("/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the service did not start")
            time.sleep(0.3)
        engine = create_db_engine(database)
        with Session(engine) as session:
            rider = {"Authorization": f"Bearer {create_user(session, name='bench', role='rider')[1]}"}
            operator = {"Authorization": f"Bearer {create_user(session, name='op', role='operator')[1]}"}
        engine.dispose()
        quote_phase(client, rider, 30)  # warm-up
        phases: list[dict] = []
        idle: list[float] = []
        busy: list[float] = []
        offset = 0
        for _ in range(cycles):
            figures, samples = quote_phase(client, rider, quotes, offset)
            phases.append({"phase": "idle", **figures})
            idle += samples
            url = start_twin(client, operator, day, buses)
            figures, samples = quote_phase(client, rider, quotes, offset + quotes)
            phases.append({"phase": "twin", **figures, **cancel_twin(client, operator, url)})
            busy += samples
            offset += 2 * quotes
        figures, samples = quote_phase(client, rider, quotes, offset)
        phases.append({"phase": "idle", **figures})
        idle += samples
        idle_all, busy_all = percentiles(idle), percentiles(busy)
        return {"cycles": cycles, "quotes_per_phase": quotes, "idle": idle_all, "while_twin_runs": busy_all,
                "p50_change_pct": round(100 * (busy_all["p50_ms"] / idle_all["p50_ms"] - 1), 1),
                "p99_change_pct": round(100 * (busy_all["p99_ms"] / idle_all["p99_ms"] - 1), 1),
                "phases": phases}
    finally:
        client.close()
        process.terminate()
        process.wait(30)


def sweep(buses: str, requests: int, directory: Path) -> dict:
    """Serial against two-process wall time of the same sweep."""
    args = argparse.Namespace(sweep_buses=buses, sweep_requests=requests)
    load = os.getloadavg()[0]
    serial_s, serial_rows = sweep_run(args, 1, directory / "serial")
    parallel_s, parallel_rows = sweep_run(args, 2, directory / "parallel")
    return {"fleet_sizes": buses, "rule_sets": 2, "requests": requests, "cpus": os.cpu_count(),
            "load_before": round(load, 2), "serial_s": round(serial_s, 1), "parallel_s": round(parallel_s, 1),
            "speedup": round(serial_s / parallel_s, 2), "same_rows": serial_rows == parallel_rows,
            "rows": len(serial_rows)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--day", type=date.fromisoformat, default=date(2026, 11, 20))
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--buses", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quotes", type=int, default=300, help="quotes per phase")
    parser.add_argument("--cycles", type=int, default=1,
                        help="rounds of an idle and a twin phase before the last idle phase")
    parser.add_argument("--port", type=int, default=18120)
    parser.add_argument("--sweep-buses", default="2,4,6,8,10,12,14")
    parser.add_argument("--sweep-requests", type=int, default=200)
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: latency, reproduce, sweep")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    figures: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="rufbus-twin-") as temporary:
        directory = Path(temporary)
        database = f"sqlite:///{directory / 'rufbus.sqlite3'}"
        if not {"latency", "reproduce"} <= skip:
            figures["recording"] = record(database, args.day, args.requests, args.buses, args.seed)
            print(json.dumps({"recording": figures["recording"]}, indent=1), flush=True)
        if "reproduce" not in skip:
            figures["reproduction"] = reproduce(database, args.day)
            print(json.dumps({"reproduction": figures["reproduction"]}, indent=1), flush=True)
        if "latency" not in skip:
            figures["quote_latency"] = latency(database, args.day, args.buses, args.quotes, args.port,
                                               args.cycles)
            print(json.dumps({"quote_latency": figures["quote_latency"]}, indent=1), flush=True)
        if "sweep" not in skip:
            figures["sweep"] = sweep(args.sweep_buses, args.sweep_requests, directory)
            print(json.dumps({"sweep": figures["sweep"]}, indent=1), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
