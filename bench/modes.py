"""Meeting modes measured in simulation (issue 17): door to door, hybrid and stops only on the same days.

For each generated day (seed) × fleet size × mode the day is replayed online through the simulator and the
real dispatcher (``simulation.runner.run_scenario``; no no-shows, no cancellations, as ``bench/online.py``).
In ``hybrid`` and ``stops_only`` each request carries up to 5 pickup and 5 drop-off options: the area's seeded
meeting points within ``--max-walk-m`` of its origin and destination by the walk graph, the door too in
hybrid (``simulation.meeting``); in stops only a request without a meeting point in reach on either side is
refused (``no_meeting_point``). Per row: served %, vehicle-km per served passenger, the walk of each served
rider (to the pickup plus from the drop-off; mean, p95, share walking at all), the dispatcher's quote latency
(offers p50/p99, refusals p99) and the options weighed per side (mean, max). A summary row per fleet size
and mode holds the means over the days (the worst p99).

    python bench/modes.py --json bench/out/modes.json
    python bench/modes.py --seeds 1 --buses 8 --modes hybrid

The latency is the dispatcher's alone: finding a request's meeting points by the walk graph is done once,
before the day, as the API does before it quotes (``bench/meeting_points.py`` times it per place).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dispatch.model import MeetingMode, ServiceRules
from routing.network import RoadNetwork
from simulation.compare import offer_latency, online_figures
from simulation.demand_csv import Trip
from simulation.engine import SimulationConfig, SimulationResult
from simulation.runner import Scenario, run_scenario, scenario_trips

CONFIG = SimulationConfig(no_show_p=0.0, cancel_p=0.0)


@dataclass(frozen=True)
class Task:
    """One run: a generated day on a fleet in a mode."""

    seed: int
    requests: int
    buses: int
    mode: MeetingMode
    max_walk_m: int

    def scenario(self) -> Scenario:
        """The run as a simulation scenario."""
        rules = replace(ServiceRules(), mode=self.mode, max_walk_m=self.max_walk_m)
        return Scenario(buses=self.buses, rules=rules, requests=self.requests, seed=self.seed, config=CONFIG)


@cache
def _network() -> RoadNetwork:
    return RoadNetwork.load()


@cache
def _trips(seed: int, requests: int) -> list[Trip]:
    return scenario_trips(Scenario(requests=requests, seed=seed), _network())


def _at(values: Sequence[float], share: float) -> float | None:
    return round(float(np.percentile(values, 100 * share)), 1) if len(values) else None


def walk_figures(result: SimulationResult) -> dict[str, Any]:
    """The walks of the riders carried to their destination, and the options their quotes weighed."""
    served = [r for r in result.riders.values() if r.outcome == "completed"]
    walks = [r.pickup_walk_m + r.dropoff_walk_m for r in served]
    asked = [r for r in result.riders.values() if r.options != (0, 0)]
    sides = [n for r in asked for n in r.options]
    return {"walk_mean_m": round(statistics.fmean(walks), 1) if walks else None,
            "walk_p95_m": _at(walks, 0.95), "walk_max_m": max(walks, default=None),
            "walking_pct": round(100 * sum(w > 0 for w in walks) / len(walks), 1) if walks else None,
            "options_mean": round(statistics.fmean(sides), 2) if sides else 0.0,
            "options_max": max(sides, default=0)}


def measure(task: Task) -> dict[str, Any]:
    """Run one task in this process: its row."""
    started = time.perf_counter()
    result = run_scenario(task.scenario(), _network(), _trips(task.seed, task.requests))
    figures, latency = online_figures(result), offer_latency(result)
    return {"seed": task.seed, "buses": task.buses, "mode": task.mode.value,
            "max_walk_m": task.max_walk_m if task.mode is not MeetingMode.DOOR_TO_DOOR else None,
            "requests": figures.requests, "served": figures.served,
            "served_pct": round(100 * figures.served / figures.requests, 2) if figures.requests else None,
            "km_per_passenger": figures.vehicle_km_per_served_passenger,
            "rejected": figures.rejected} | walk_figures(result) | {
            "offer_p50_ms": latency.offer_p50_ms, "offer_p99_ms": latency.offer_p99_ms,
            "refusal_p99_ms": latency.refusal_p99_ms, "wall_s": round(time.perf_counter() - started, 1)}


def _mean(values: list[Any]) -> float | None:
    known = [v for v in values if v is not None]
    return round(statistics.fmean(known), 3) if known else None


def summary(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per fleet size and mode: the means over the days, the worst p99 and the most options."""
    out = []
    for buses, mode in dict.fromkeys((r["buses"], r["mode"]) for r in rows):
        group = [r for r in rows if (r["buses"], r["mode"]) == (buses, mode)]
        out.append({"seed": "mean", "buses": buses, "mode": mode, "days": len(group)}
                   | {key: _mean([r[key] for r in group])
                      for key in ("served_pct", "km_per_passenger", "walk_mean_m", "walk_p95_m",
                                  "walking_pct", "options_mean", "offer_p50_ms")}
                   | {key: max((r[key] for r in group if r[key] is not None), default=None)
                      for key in ("offer_p99_ms", "refusal_p99_ms", "options_max")})
    return out


COLUMNS = (("seed", "seed", 4), ("buses", "bus", 3), ("mode", "mode", 12), ("served_pct", "served%", 7),
           ("km_per_passenger", "km/pax", 6), ("walk_mean_m", "walk m", 6), ("walk_p95_m", "p95 m", 6),
           ("walking_pct", "walk%", 5), ("options_mean", "opt", 4), ("options_max", "max", 3),
           ("offer_p50_ms", "off p50", 7), ("offer_p99_ms", "p99", 6), ("refusal_p99_ms", "ref p99", 7))


def table(rows: Sequence[dict[str, Any]]) -> str:
    """Rows as fixed-width text (ms for latencies)."""
    def cell(value: Any, width: int) -> str:
        text = "-" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value)
        return text.rjust(width)

    lines = [" ".join(title.rjust(width) for _, title, width in COLUMNS)]
    lines += [" ".join(cell(r.get(key), width) for key, _, width in COLUMNS) for r in rows]
    return "\n".join(lines)


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Parse arguments, run every seed × fleet × mode, print the table and optionally save it as JSON."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=_ints, default=[1, 2, 3], help="seeds of the generated days")
    parser.add_argument("--requests", type=int, default=758, help="requests of each generated day")
    parser.add_argument("--buses", type=_ints, default=[8, 10], help="fleet sizes")
    parser.add_argument("--modes", default="door_to_door,hybrid,stops_only", help="meeting modes")
    parser.add_argument("--max-walk-m", type=int, default=300, help="walking limit (hybrid, stops only)")
    parser.add_argument("--jobs", type=int, default=2, help="processes in parallel")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    modes = [MeetingMode(m) for m in args.modes.split(",") if m]
    tasks = [Task(s, args.requests, b, m, args.max_walk_m)
             for s in args.seeds for b in args.buses for m in modes]
    rows: list[dict[str, Any]] = []
    out = _save(args, modes, rows, 0.0)
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for row in pool.map(measure, tasks):
            print(f"  done: seed {row['seed']}, {row['buses']} buses, {row['mode']} ({row['wall_s']} s)",
                  file=sys.stderr, flush=True)
            rows.append(row)
            out = _save(args, modes, rows, time.perf_counter() - started)  # rows so far, should a run stop
    print(table([*rows, *out["summary"]]))
    print(f"wall time {out['wall_s']} s")
    return out


def _save(args: argparse.Namespace, modes: Sequence[MeetingMode], rows: list[dict[str, Any]], wall_s: float
          ) -> dict[str, Any]:
    """Everything measured so far, written to ``args.json`` when given."""
    out = {"settings": {"seeds": args.seeds, "requests": args.requests, "buses": args.buses,
                        "modes": [m.value for m in modes], "max_walk_m": args.max_walk_m, "jobs": args.jobs},
           "rows": rows, "summary": summary(rows), "wall_s": round(wall_s, 1)}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
