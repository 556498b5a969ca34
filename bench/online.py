"""Online against hindsight (issue 15): how much of what the fleet could carry does live dispatch carry?

For each demand day (generated with each seed, like the issue's weekday, and optionally the shared example
day) and each fleet size, the day is replayed online through the simulator and the real dispatcher
(``simulation.runner.run_scenario``; its default configuration, no no-shows, no cancellations) and planned
in hindsight with every request known (``simulation.hindsight``; the batch planner, checked by route
evaluation). Figures are defined alike on both sides (``simulation.compare``). Per row: served online and
in hindsight and their ratio, vehicle-km per served passenger for both and their ratio (online ÷
hindsight), and the latency of the dispatcher's quote in the simulator: offers p50/p95/p99, refusals p99.
One row per day × fleet size × promise width (``--windows``: the pickup window promised, in seconds; the
hindsight plan does not depend on it and is made once per day and fleet size). A summary row per fleet size
and width holds the means over the days.

    python bench/online.py --json bench/out/online.json
    python bench/online.py --buses 8 --windows 300,600,900 --json bench/out/promise-width.json

The days and the online replay repeat exactly for a seed; the hindsight plan is bounded by wall time
(``--hindsight-limit``), so on a busy machine it may differ from run to run, and 60 s is not converged:
seed 1 on 8 buses served 576 and 591 in two runs at 60 s, 637 at 180 s and 643 at 300 s (2 shared cores,
about 40 % of one for the search). Compare levers at one limit on one machine, and read ``cpu_s``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dispatch.model import ServiceRules
from routing.network import RoadNetwork
from simulation.compare import DayFigures, OfferLatency, offer_latency, online_figures, ratios
from simulation.demand_csv import Trip
from simulation.engine import SimulationConfig
from simulation.hindsight import HindsightResult, hindsight_day
from simulation.runner import Scenario, run_scenario, scenario_trips

EXAMPLE = Path("../shared/demand/example-liechtenstein.csv")
CONFIG = SimulationConfig(no_show_p=0.0, cancel_p=0.0)  # otherwise the simulator's (the service's) defaults


@dataclass(frozen=True)
class Day:
    """A demand day: generated from ``seed`` with ``requests`` requests, or read from ``demand_file``."""

    name: str
    seed: int
    requests: int
    demand_file: Path | None = None

    def scenario(self, buses: int, window_s: int) -> Scenario:
        """The day on ``buses`` buses promising ``window_s``-second pickup windows, as the bench runs it."""
        rules = replace(ServiceRules(), pickup_window_s=window_s)
        return Scenario(buses=buses, rules=rules, requests=self.requests, demand_file=self.demand_file,
                        seed=self.seed, config=CONFIG)


@dataclass(frozen=True)
class Task:
    """One measurement: the day online with a fleet and a promise width, or in hindsight (width None)."""

    day: Day
    buses: int
    window_s: int | None
    hindsight_limit_s: float


@cache
def _network() -> RoadNetwork:
    return RoadNetwork.load()


@cache
def _trips(day: Day) -> list[Trip]:
    return scenario_trips(day.scenario(1, ServiceRules().pickup_window_s), _network())


@dataclass(frozen=True)
class Measured:
    """What one task measured: the day online (its figures and offer latency) or in hindsight; the wall
    time and the processor time this process spent on it (less than the wall time on a busy machine,
    where a time-bounded search gets less done)."""

    figures: DayFigures
    latency: OfferLatency | None = None
    hindsight: HindsightResult | None = None
    wall_s: float = 0.0
    cpu_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the figures and the latency (online), or the hindsight result's figures, violations,
        attempts and failure; the processor time."""
        cpu = {"cpu_s": round(self.cpu_s, 2)}
        if self.hindsight is not None:
            return self.hindsight.as_dict() | cpu
        latency = self.latency.as_dict() if self.latency is not None else {}
        return self.figures.as_dict() | latency | {"wall_s": round(self.wall_s, 2)} | cpu


def measure(task: Task) -> Measured:
    """Run one task in this process: the day online (figures and latency) or in hindsight."""
    network, trips = _network(), _trips(task.day)
    cpu = time.process_time()
    if task.window_s is None:
        planned = hindsight_day(task.day.scenario(task.buses, ServiceRules().pickup_window_s), network,
                                task.hindsight_limit_s, trips)
        return Measured(planned.figures, hindsight=planned, wall_s=planned.wall_s,
                        cpu_s=time.process_time() - cpu)
    result = run_scenario(task.day.scenario(task.buses, task.window_s), network, trips)
    return Measured(online_figures(result), offer_latency(result), wall_s=result.wall_s,
                    cpu_s=time.process_time() - cpu)


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def row(day: Day, buses: int, window_s: int, online: Measured, hindsight: Measured | None) -> dict[str, Any]:
    """One line of the table: flat figures for the table, the full figures under ``online``/``hindsight``."""
    on, latency = online.figures, online.latency
    assert latency is not None, "an online day has its offer latency"
    flat: dict[str, Any] = {
        "day": day.name, "seed": day.seed if day.demand_file is None else None, "buses": buses,
        "window_s": window_s, "requests": on.requests,
        "online_served": on.served, "online_served_pct": _pct(on.served, on.requests),
        "hindsight_served": None, "hindsight_served_pct": None, "served_ratio": None,
        "online_km_per_passenger": on.vehicle_km_per_served_passenger,
        "hindsight_km_per_passenger": None, "km_per_passenger_ratio": None,
        "offer_p50_ms": latency.offer_p50_ms, "offer_p95_ms": latency.offer_p95_ms,
        "offer_p99_ms": latency.offer_p99_ms, "repaired_p99_ms": latency.repaired_p99_ms,
        "refusal_p99_ms": latency.refusal_p99_ms, "hindsight_violations": None, "hindsight_failed": None,
    }
    if hindsight is not None and hindsight.hindsight is not None:
        hi, failed = hindsight.figures, hindsight.hindsight.failed
        flat |= {"hindsight_violations": len(hindsight.hindsight.violations), "hindsight_failed": failed}
        if not failed:  # a failed plan is no bound: no figures, no ratios
            flat |= {"hindsight_served": hi.served, "hindsight_served_pct": _pct(hi.served, hi.requests),
                     "hindsight_km_per_passenger": hi.vehicle_km_per_served_passenger} | ratios(on, hi)
    return flat | {"online": online.as_dict(), "hindsight": hindsight.as_dict() if hindsight else None}


def _mean(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(statistics.fmean(known), 4) if known else None


def _max(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def summary(rows: Sequence[dict]) -> list[dict[str, Any]]:
    """Per fleet size and promise width: the means over the days (the worst latency)."""
    out = []
    for buses, window in sorted({(r["buses"], r["window_s"]) for r in rows}):
        group = [r for r in rows if (r["buses"], r["window_s"]) == (buses, window)]
        out.append({
            "buses": buses, "window_s": window, "days": len(group),
            "online_served_pct": _mean(r["online_served_pct"] for r in group),
            "hindsight_served_pct": _mean(r["hindsight_served_pct"] for r in group),
            "served_ratio": _mean(r["served_ratio"] for r in group),
            "online_km_per_passenger": _mean(r["online_km_per_passenger"] for r in group),
            "hindsight_km_per_passenger": _mean(r["hindsight_km_per_passenger"] for r in group),
            "km_per_passenger_ratio": _mean(r["km_per_passenger_ratio"] for r in group),
            "offer_p50_ms": _mean(r["offer_p50_ms"] for r in group),
            "offer_p99_ms": _max(r["offer_p99_ms"] for r in group),
            "repaired_p99_ms": _max(r["repaired_p99_ms"] for r in group),
            "refusal_p99_ms": _max(r["refusal_p99_ms"] for r in group),
        })
    return out


COLUMNS = (("day", "day", 9), ("buses", "bus", 3), ("window_s", "win", 4), ("requests", "req", 4),
           ("online_served", "onl", 4), ("hindsight_served", "hind", 4), ("served_ratio", "ratio", 6),
           ("online_km_per_passenger", "km/p on", 7), ("hindsight_km_per_passenger", "km/p hi", 7),
           ("km_per_passenger_ratio", "ratio", 6), ("offer_p50_ms", "off p50", 7), ("offer_p95_ms", "p95", 6),
           ("offer_p99_ms", "p99", 6), ("repaired_p99_ms", "rep p99", 7), ("refusal_p99_ms", "ref p99", 7))


def table(rows: Sequence[dict], summaries: Sequence[dict]) -> str:
    """The rows and the per-fleet summaries as fixed-width text (ms for latencies)."""
    def cell(value: Any, width: int) -> str:
        text = "-" if value is None else f"{value:.3g}" if isinstance(value, float) and value < 1 else (
            f"{value:.2f}" if isinstance(value, float) else str(value))
        return text.rjust(width)

    lines = [" ".join(title.rjust(width) for _, title, width in COLUMNS)]
    lines += [" ".join(cell(r.get(key), width) for key, _, width in COLUMNS) for r in rows]
    lines += [" ".join(cell({"day": "mean", "online_served": None}.get(key, s.get(key)), width)
                       for key, _, width in COLUMNS) for s in summaries]
    return "\n".join(lines)


def run(days: Sequence[Day], buses: Sequence[int], windows: Sequence[int], hindsight_limit_s: float,
        jobs: int,
        done: Callable[[Task], None] = lambda task: None) -> list[dict[str, Any]]:
    """Measure every day × fleet × width (hindsight once per day × fleet, none with a limit of 0) on ``jobs``
    processes (1: in this one); ``done`` is told of each task finished. The table's rows, in order."""
    tasks = [Task(d, b, None, hindsight_limit_s) for d in days for b in buses if hindsight_limit_s > 0]
    tasks += [Task(d, b, w, hindsight_limit_s) for d in days for b in buses for w in windows]
    results: dict[Task, Measured] = {}
    if jobs <= 1:
        for task in tasks:
            results[task] = measure(task)
            done(task)
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for task, figures in zip(tasks, pool.map(measure, tasks), strict=True):
                results[task] = figures
                done(task)
    return [row(d, b, w, results[Task(d, b, w, hindsight_limit_s)],
                results.get(Task(d, b, None, hindsight_limit_s)))
            for d in days for b in buses for w in windows]


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Parse arguments, run the bench, print the table and optionally save everything as JSON."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=_ints, default=[1, 2, 3], help="seeds of the generated days")
    parser.add_argument("--requests", type=int, default=758, help="requests of each generated day")
    parser.add_argument("--buses", type=_ints, default=[6, 8, 10], help="fleet sizes")
    parser.add_argument("--windows", type=_ints, default=[ServiceRules().pickup_window_s],
                        help="promised pickup window widths (s)")
    parser.add_argument("--hindsight-limit", type=float, default=60.0,
                        help="optimizer seconds per hindsight plan (0: no hindsight)")
    parser.add_argument("--include-example", action=argparse.BooleanOptionalAction, default=True,
                        help="also the shared example day (--example)")
    parser.add_argument("--example", type=Path, default=EXAMPLE)
    parser.add_argument("--jobs", type=int, default=2, help="processes in parallel")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    days = [Day(f"seed {s}", s, args.requests) for s in args.seeds]
    if args.include_example:
        days.append(Day("example", 0, 0, args.example))
    rows = run(days, args.buses, args.windows, args.hindsight_limit, args.jobs,
               lambda task: print(f"  done: {task.day.name}, {task.buses} buses, "
                                  f"{'hindsight' if task.window_s is None else f'online {task.window_s} s'}",
                                  file=sys.stderr, flush=True))
    summaries = summary(rows)
    print(table(rows, summaries))
    wall = round(time.perf_counter() - started, 1)
    print(f"wall time {wall} s")
    out = {"settings": {"seeds": args.seeds, "requests": args.requests, "buses": args.buses,
                        "windows": args.windows, "hindsight_limit_s": args.hindsight_limit,
                        "example": str(args.example) if args.include_example else None, "jobs": args.jobs,
                        "simulation": dataclasses.asdict(CONFIG)},
           "rows": rows, "summary": summaries, "wall_s": wall}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
