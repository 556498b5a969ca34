"""Idle buses positioned towards expected demand (issue 15): more riders carried, or less driving per rider?

Each generated day (one per seed) is replayed online through the simulator and the real dispatcher
(``simulation.runner.run_scenario``, no no-shows, no cancellations, otherwise the simulator's defaults) once
per variant: ``off`` (idle buses stay where they are), ``on`` (``dispatch.reposition.RepositionPolicy()``)
and the variants in ``VARIANTS``. Per row: served, passengers served, vehicle-km per served passenger,
reposition drives begun; a mean row per variant. Everything repeats exactly for a seed.

    python bench/reposition.py --json bench/out/reposition.json
    python bench/reposition.py --seeds 1 --variants off,on
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dispatch.reposition import RepositionPolicy
from routing.network import RoadNetwork
from simulation.compare import online_figures
from simulation.engine import SimulationConfig
from simulation.runner import Scenario, run_scenario

VARIANTS: dict[str, RepositionPolicy | None] = {
    "off": None,
    "on": RepositionPolicy(),
    "eager": RepositionPolicy(min_expected=1.0, value_s=600),  # weaker zones, longer drives worth it
    "wide": RepositionPolicy(radius_s=720, horizon_s=5400),  # fewer, larger zones, longer look-ahead
    "waiting": RepositionPolicy(waiting_buses=True),  # also buses waiting for their next stop
    "waiting-eager": RepositionPolicy(waiting_buses=True, min_expected=1.0, value_s=600),
    # smaller zones (4 min) and short stays (10 min): the scenario's buses seldom have 30 min to spare
    "fine": RepositionPolicy(waiting_buses=True, radius_s=240, min_stay_s=600),
    "fine-eager": RepositionPolicy(waiting_buses=True, radius_s=240, min_stay_s=600, min_expected=1.0,
                                   value_s=600),
}


@cache
def _network() -> RoadNetwork:
    return RoadNetwork.load()


def measure(task: tuple[str, int, int, int]) -> dict[str, Any]:
    """One day (seed) with one variant: its figures."""
    variant, seed, buses, requests = task
    config = SimulationConfig(no_show_p=0.0, cancel_p=0.0, reposition=VARIANTS[variant])
    result = run_scenario(Scenario(buses=buses, requests=requests, seed=seed, config=config), _network())
    figures = online_figures(result)
    return {"variant": variant, "seed": seed, "buses": buses, "requests": requests, "served": figures.served,
            "passengers_served": figures.passengers_served,
            "km_per_passenger": figures.vehicle_km_per_served_passenger, "vehicle_km": figures.vehicle_km,
            "wait_mean_min": figures.wait_mean_min, "repositions": result.repositions,
            "violations": len(result.violations), "wall_s": round(result.wall_s, 1)}


def means(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The mean of each figure over the days, per variant."""
    out = []
    for variant in dict.fromkeys(r["variant"] for r in rows):
        mine = [r for r in rows if r["variant"] == variant]
        out.append({"variant": variant, "seed": "mean"} | {
            key: round(statistics.fmean(r[key] for r in mine), 3)
            for key in ("served", "passengers_served", "km_per_passenger", "vehicle_km", "repositions")})
    return out


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run every variant on every seed, print the table, optionally save it as JSON."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--buses", type=int, default=8)
    parser.add_argument("--requests", type=int, default=758)
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"of {', '.join(VARIANTS)}")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    variants = [v for v in args.variants.split(",") if v]
    unknown = set(variants) - VARIANTS.keys()
    if unknown:
        parser.error(f"unknown variants: {', '.join(sorted(unknown))}")
    tasks = [(v, int(s), args.buses, args.requests) for v in variants for s in args.seeds.split(",")]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        rows = list(pool.map(measure, tasks))
    summary = means(rows)
    for row in rows + summary:
        print("  ".join(f"{k}={v}" for k, v in row.items()))
    out = {"rows": rows, "summary": summary, "wall_s": round(time.perf_counter() - started, 1)}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
