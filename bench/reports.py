"""Reports benchmark: how long the county's reports take for a busy month (not a test).

    python bench/reports.py [--bookings 20000] [--buses 12] [--places 800] [--runs 3] [--seed 1] [--json]

Seeds a fresh SQLite database (migrated as the service does) directly with October 2026: ``--buses``
buses with a 06:00–22:00 shift every day, ``--bookings`` bookings between ``--places`` road nodes of
the Liechtenstein graph (80 % completed with pickup and drop-off reports in order per bus, the rest
cancelled, no-shows or rejected; a quarter booked by an operator) and one refused quote per ten
bookings. Then asks the real app (in process, TestClient, an operator's key) for the month's bookings
CSV, its key figures CSV per day and the monthly report, ``--runs`` times each, and prints the
fastest and the median wall time, the least CPU time of the process (steadier than wall time on a
shared machine), the answer's size and lines. Fixed seed: the same data every run.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
ZONE = ZoneInfo("Europe/Vaduz")
MONTH = date(2026, 10, 1)
DAYS = 31


def seed(url: str, *, bookings: int, buses: int, places: int, rng: random.Random) -> dict[str, int]:
    """Write the month into the database at ``url``; what was written."""
    import numpy as np
    from sqlalchemy import insert
    from sqlmodel import Session

    from api.db.migrate import upgrade_database
    from api.db.models import Booking, DemandRecord, Shift, User, UserRole, Vehicle
    from api.db.session import create_db_engine
    from api.grid import cell_of
    from routing.network import RoadNetwork
    from routing.settings import RoutingSettings

    upgrade_database(url)
    network = RoadNetwork.load(settings=RoutingSettings.from_env())
    graph = network.graph
    # Places every bus can reach and come back from: nodes reachable both ways from the first one picked.
    candidates = rng.sample(range(graph.node_count), min(graph.node_count, places * 3))
    there = network.matrix([candidates[0]], candidates)
    back = network.matrix(candidates, [candidates[0]])
    reachable = [n for k, n in enumerate(candidates)
                 if there.seconds[0, k] < 10 ** 6 and back.seconds[k, 0] < 10 ** 6][:places]
    lat, lon = np.asarray(graph.node_lat), np.asarray(graph.node_lon)
    engine = create_db_engine(url)
    with Session(engine) as session:
        rider = User(name="Rider", role=UserRole.RIDER)
        operator = User(name="Operator", role=UserRole.OPERATOR)
        session.add_all([rider, operator])
        for k in range(buses):
            node = reachable[k % len(reachable)]
            session.add(Vehicle(id=f"bus-{k + 1}", name=f"Bus {k + 1}", seats=8, wheelchair_spaces=1,
                                depot_lat=float(lat[node]), depot_lon=float(lon[node]), depot_node=node))
        session.commit()
        days = [MONTH + timedelta(days=d) for d in range(DAYS)]
        shifts = [{"vehicle_id": f"bus-{k + 1}", "starts_at": _local(day, 6), "ends_at": _local(day, 22)}
                  for day in days for k in range(buses)]
        session.execute(insert(Shift), shifts)
        rows, demand = [], []
        for n in range(bookings):
            day = MONTH + timedelta(days=rng.randrange(DAYS))
            requested = _local(day, 6) + timedelta(seconds=rng.randrange(15 * 3600))
            origin, destination = rng.sample(reachable, 2)
            status = rng.choices(["completed", "cancelled", "no_show", "rejected"], [80, 10, 5, 5])[0]
            picked = requested + timedelta(seconds=rng.randrange(900)) if status == "completed" else None
            direct = network.travel(origin, destination)[0]
            rows.append({
                "id": f"bench-{n:06d}", "rider_id": rider.id,
                "booked_by": operator.id if rng.random() < 0.25 else rider.id,
                "origin_lat": float(lat[origin]), "origin_lon": float(lon[origin]), "origin_node": origin,
                "destination_lat": float(lat[destination]), "destination_lon": float(lon[destination]),
                "destination_node": destination, "time_type": "leave_after", "requested_time": requested,
                "seats": rng.choice([1, 1, 1, 2]), "wheelchairs": 0, "status": status,
                "rejection_cause": "offer_no_longer_feasible" if status == "rejected" else None,
                "vehicle_id": f"bus-{rng.randrange(buses) + 1}" if status == "completed" else None,
                "submitted_at": requested - timedelta(hours=2), "direct_s": direct,
                "window_start": requested, "window_end": requested + timedelta(minutes=15),
                "picked_up_at": picked,
                "dropped_off_at": picked + timedelta(seconds=direct * 1.3) if picked else None,
                "created_at": requested, "updated_at": requested})
            if n % 10 == 0:
                hour = requested.replace(minute=0, second=0, microsecond=0)
                demand.append({"asked_hour": hour - timedelta(hours=2), "trip_hour": hour,
                               "origin_cell": cell_of(float(lat[origin]), float(lon[origin])).id,
                               "destination_cell": cell_of(float(lat[destination]),
                                                           float(lon[destination])).id,
                               "seats": 1, "cause": "no_vehicle_in_time"})
        session.execute(insert(Booking), rows)
        session.execute(insert(DemandRecord), demand)
        session.commit()
    engine.dispose()
    return {"bookings": len(rows), "refused_quotes": len(demand), "shifts": len(shifts),
            "places": len(reachable), "buses": buses}


def measure(url: str, runs: int) -> dict[str, dict[str, float]]:
    """Wall times of the three reports through the app."""
    from fastapi.testclient import TestClient
    from sqlmodel import Session

    from api.app import create_app
    from api.auth import create_user
    from api.clock import ServiceClock
    from api.settings import Settings

    app = create_app(Settings(database_url=url, demo_users=False),
                     clock=ServiceClock(ZONE, lambda: datetime(2026, 11, 15, 12, tzinfo=ZONE)))
    figures: dict[str, dict[str, float]] = {}
    with TestClient(app) as client:
        with Session(app.state.engine) as session:
            key = create_user(session, name="Bench", role="operator")[1]
        headers = {"Authorization": f"Bearer {key}"}
        client.put("/v1/operator/costs", headers=headers,
                   json={"per_vehicle_hour": 65, "per_vehicle_km": 0.9, "currency": "CHF"})
        october = {"from": "2026-10-01", "to": "2026-10-31"}
        calls = {"bookings.csv": ("/v1/operator/reports/bookings.csv", october),
                 "kpis.csv (by day)": ("/v1/operator/reports/kpis.csv", {**october, "by": "day"}),
                 "monthly report": ("/v1/operator/reports/monthly", {"month": "2026-10"})}
        for name, (path, params) in calls.items():
            times, cpu, size, lines = [], [], 0, 0
            for _ in range(runs):
                started, started_cpu = time.perf_counter(), time.process_time()
                answer = client.get(path, headers=headers, params=params)
                times.append(time.perf_counter() - started)
                cpu.append(time.process_time() - started_cpu)
                assert answer.status_code == 200, answer.text
                size, lines = len(answer.content), answer.text.count("\n")
            figures[name] = {"min_s": round(min(times), 3), "median_s": round(statistics.median(times), 3),
                             "min_cpu_s": round(min(cpu), 3), "bytes": size, "lines": lines}
    return figures


def _local(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZONE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bookings", type=int, default=20_000)
    parser.add_argument("--buses", type=int, default=12)
    parser.add_argument("--places", type=int, default=800)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rufbus-bench-reports-") as directory:
        url = f"sqlite:///{Path(directory) / 'rufbus.sqlite3'}"
        started = time.perf_counter()
        written = seed(url, bookings=args.bookings, buses=args.buses, places=args.places,
                       rng=random.Random(args.seed))
        result: dict = {"seeded": written, "seed_s": round(time.perf_counter() - started, 1),
                  "reports": measure(url, args.runs)}
    if args.json:
        print(json.dumps(result))
        return
    print(f"seeded {written} in {result['seed_s']} s")
    for name, figures in result["reports"].items():
        print(f"{name:20s} min {figures['min_s']:7.3f} s  median {figures['median_s']:7.3f} s  "
              f"CPU min {figures['min_cpu_s']:7.3f} s  {figures['bytes']:>10,} bytes  "
              f"{figures['lines']:>6,} lines")


if __name__ == "__main__":
    main()
