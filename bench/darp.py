"""Cordeau DARP benchmark: solve each instance with the dispatch optimizer, judge it with the shared checker.

    python bench/darp.py --instances ../shared/benchmarks/darp/cordeau2006-a --time-limit 30 \\
        --out /tmp/darp-out --json /tmp/darp.json [--only a2-16 a8-96] [--seed 0]

Every instance is mapped onto the same :class:`dispatch.pdptw.PdptwProblem` the dispatcher uses
(static: all requests known, depot start and end; see :mod:`bench.cordeau`) and solved by
:class:`dispatch.improve.LnsSolver` with a seeded :class:`dispatch.pdptw.SearchBudget`. Requests are optional
at a prohibitive drop penalty, so the search
can start from a partial plan; a plan that still leaves one out is written as it is and the checker
rejects it. Solutions are written as ``<out>/<instance>.json`` and judged by ``check_darp.py``
(found next to the instance folder or given with ``--checker``), one instance at a time, on one core.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.cordeau import (
    DEFAULT_SCALE,
    CordeauInstance,
    read_cordeau,
    to_checker_json,
    to_problem,
)
from dispatch.improve import LnsSolver
from dispatch.pdptw import SearchBudget

DROP_PENALTY_FACTOR = 100  # a dropped request costs this many times the longest arc


@dataclass(frozen=True)
class InstanceResult:
    """One solved and checked instance."""

    instance: str
    cost: float | None  # as computed by the checker
    bks: float | None
    gap_percent: float | None
    seconds: float
    feasible: bool
    unserved: int
    violations: list[str]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns 0 when every instance was judged feasible."""
    args = _parse(argv)
    instances = _instance_files(args.instances, args.only)
    checker = args.checker or _find_checker(args.instances)
    bks = _read_bks(args.instances / "bks.csv")
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    print(f"{'instance':<10} {'cost':>9} {'best known':>10} {'gap %':>7} {'seconds':>8}  verdict")
    for path in instances:
        result = _run_one(path, args, checker, bks.get(path.name))
        results.append(result)
        _print_row(result)
    summary = _summary(results)
    print(
        f"mean gap {_fmt(summary['mean_gap_percent'])} % over {summary['feasible']} feasible "
        f"of {summary['instances']} instances; {args.time_limit:g} s limit"
    )
    if args.json:
        payload = {
            "time_limit_s": args.time_limit,
            "seed": args.seed,
            "results": [asdict(r) for r in results],
            "summary": summary,
        }
        args.json.write_text(json.dumps(payload, indent=2))
    return 0 if summary["feasible"] == summary["instances"] else 1


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=Path, required=True, help="folder with Cordeau instance files")
    parser.add_argument("--time-limit", type=float, required=True, help="seconds per instance")
    parser.add_argument("--out", type=Path, required=True, help="folder for <instance>.json solutions")
    parser.add_argument("--json", type=Path, help="write per-instance results and the summary here")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these instances")
    parser.add_argument("--seed", type=int, default=0, help="seed of the large-neighbourhood search")
    parser.add_argument("--checker", type=Path, help="check_darp.py (default: next to the instance folder)")
    return parser.parse_args(argv)


def _instance_files(folder: Path, only: list[str] | None) -> list[Path]:
    files = [p for p in folder.iterdir() if p.is_file() and not p.suffix and not p.name.startswith(".")]
    if only:
        missing = set(only) - {p.name for p in files}
        if missing:
            raise SystemExit(f"not in {folder}: {', '.join(sorted(missing))}")
        files = [p for p in files if p.name in only]
    return sorted(files, key=_natural_key)


def _natural_key(path: Path) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def _find_checker(instances: Path) -> Path:
    for folder in (instances, instances.parent):
        if (folder / "check_darp.py").is_file():
            return folder / "check_darp.py"
    raise SystemExit(f"check_darp.py not found next to {instances}; pass --checker")


def _read_bks(path: Path) -> dict[str, float]:
    if not path.is_file():
        return {}
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {row["instance"]: float(row["bks"]) for row in rows if (row.get("bks") or "").strip()}


def _run_one(path: Path, args: argparse.Namespace, checker: Path, bks: float | None) -> InstanceResult:
    instance = read_cordeau(path)
    problem = to_problem(instance, drop_penalty=_drop_penalty(instance))
    started = time.monotonic()
    solution = LnsSolver().solve(problem, SearchBudget(args.time_limit, seed=args.seed))
    seconds = time.monotonic() - started
    out_file = args.out / f"{instance.name}.json"
    out_file.write_text(json.dumps(to_checker_json(instance, solution)))
    command = [sys.executable, str(checker), str(path), str(out_file)]
    if bks is not None:
        command += ["--bks", str(bks)]
    verdict = subprocess.run(command, capture_output=True, text=True, check=False)
    cost = _checker_cost(verdict.stdout)
    return InstanceResult(
        instance=instance.name,
        cost=cost,
        bks=bks,
        gap_percent=None if cost is None or not bks else 100.0 * (cost - bks) / bks,
        seconds=round(seconds, 2),
        feasible=verdict.returncode == 0,
        unserved=len(solution.unserved),
        violations=[line for line in verdict.stdout.splitlines() if line.startswith(("VIOLATION", "ERROR"))],
    )


def _drop_penalty(instance: CordeauInstance) -> int:
    """A price for leaving a request out that no detour can reach: many times the longest arc."""
    nodes = range(2 * instance.requests + 1)
    longest = max(instance.distance(i, j) for i in nodes for j in nodes)
    return DROP_PENALTY_FACTOR * math.ceil(DEFAULT_SCALE * longest)


def _checker_cost(stdout: str) -> float | None:
    match = re.search(r"cost=([0-9.]+)", stdout)
    return float(match.group(1)) if match else None


def _summary(results: list[InstanceResult]) -> dict:
    gaps = [r.gap_percent for r in results if r.feasible and r.gap_percent is not None]
    return {
        "instances": len(results),
        "feasible": sum(r.feasible for r in results),
        "mean_gap_percent": statistics.fmean(gaps) if gaps else None,
        "max_gap_percent": max(gaps) if gaps else None,
        "total_seconds": round(sum(r.seconds for r in results), 1),
    }


def _print_row(result: InstanceResult) -> None:
    verdict = "feasible" if result.feasible else f"INFEASIBLE ({len(result.violations)} violations)"
    print(
        f"{result.instance:<10} {_fmt(result.cost):>9} {_fmt(result.bks):>10} {_fmt(result.gap_percent):>7} "
        f"{result.seconds:>8.1f}  {verdict}",
        flush=True,
    )


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


if __name__ == "__main__":
    sys.exit(main())
