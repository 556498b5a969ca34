"""Fair use under load (issue 19): the normal users' quote p95 with and without one abusive client.

One load run's p95 moves by tens of percent between runs of the same kind on a shared 2-core machine, so
a single pair of runs cannot show a 20 % effect. This runs ``--blocks`` blocks of four load runs in the
order A B B A (A: 200 users; B: the same with one client sending ``--abuser-rate`` quotes/s under one
rider's key from one address) — each a real service, Locust and the audit (:mod:`loadtests.run`) — and
reports each run's normal-user quote p50/p95, the mean p95 of each kind, their ratio, and the abuser's 429
share. The ABBA order cancels a drift of the machine's load over the block.

    python bench/fair_use.py --blocks 1 --duration 60 --json bench/out/fair_use.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from loadtests.run import QUOTES, RunConfig, RunResult, run_load  # noqa: E402
from loadtests.stats import AGGREGATED  # noqa: E402

TARGET_RISE = 0.20  # issue 19: the normal users' quote p95 rises by at most 20 %


def one_run(config: RunConfig, workdir: Path) -> dict:
    """A load run's figures that this benchmark reports; raises if it failed or its audit is not clean."""
    result: RunResult = run_load(config, workdir)
    if result.failures or not result.report.clean or result.live_differences:
        raise SystemExit(f"the run failed: {result.summary()}")
    quotes = result.stats[QUOTES]
    figures = {"abuser": config.abuser_rate > 0, "quote_p50_ms": quotes.p50_ms, "quote_p95_ms": quotes.p95_ms,
               "quotes": quotes.requests, "rps": round(result.stats[AGGREGATED].rps, 1)}
    return figures | result.abuser_figures()


def main(argv: list[str] | None = None) -> int:
    """Run the blocks, print a line per run and the summary, write the JSON."""
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--blocks", type=int, default=1, help="blocks of four runs (A B B A)")
    options.add_argument("--users", type=int, default=200)
    options.add_argument("--spawn-rate", type=float, default=40)
    options.add_argument("--duration", type=int, default=60, help="seconds of load per run")
    options.add_argument("--abuser-rate", type=float, default=50.0, help="the abusive client's quotes/s")
    options.add_argument("--json", type=Path, help="write the figures here")
    args = options.parse_args(argv)
    runs = []
    with tempfile.TemporaryDirectory(prefix="rufbus-fair-use-") as scratch:
        for block in range(args.blocks):
            for position, abusive in enumerate((False, True, True, False)):
                config = RunConfig(users=args.users, spawn_rate=args.spawn_rate, duration_s=args.duration,
                                   abuser_rate=args.abuser_rate if abusive else 0.0)
                figures = one_run(config, Path(scratch) / f"{block}-{position}")
                runs.append(figures)
                share = f", abuser 429 share {figures['abuser_429_share']:.1%}" if abusive else ""
                print(f"block {block + 1} run {position + 1} ({'with' if abusive else 'without'} abuser): "
                      f"quote p50 {figures['quote_p50_ms']:.0f} ms, p95 {figures['quote_p95_ms']:.0f} ms"
                      f"{share}", flush=True)
    without = statistics.mean(r["quote_p95_ms"] for r in runs if not r["abuser"])
    with_abuser = statistics.mean(r["quote_p95_ms"] for r in runs if r["abuser"])
    rise = with_abuser / without - 1
    shares = [r["abuser_429_share"] for r in runs if r["abuser"]]
    summary = {"runs": runs, "users": args.users, "duration_s": args.duration,
               "abuser_rate": args.abuser_rate,
               "quote_p95_ms_without": round(without, 1), "quote_p95_ms_with": round(with_abuser, 1),
               "p95_rise": round(rise, 4), "target_rise": TARGET_RISE, "met": rise <= TARGET_RISE,
               "abuser_429_share_min": min(shares)}
    print(f"normal users' quote p95: {without:.0f} ms without, {with_abuser:.0f} ms with the abuser "
          f"({rise:+.1%}; target at most {TARGET_RISE:+.0%}: {'met' if summary['met'] else 'missed'}); "
          f"abuser's 429 share at least {min(shares):.1%}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
