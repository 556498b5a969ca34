"""The latency curve: ``python -m loadtests.curve [--users 25,50,100,200,400] [--duration 60] [--workers W]
[--json FILE] [--include-ramp-up]`` runs one load run per user count (spawned within ~5 s) and prints, for
each, requests/s, failures (whole run), the quote and booking p95/p99 and the overall p95/p99 (once every
user runs, unless ``--include-ramp-up``), with the audit's counts."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from loadtests.run import RunConfig, add_ramp_up_option, run_load

QUOTE, BOOKING = "POST /v1/quotes", "POST /v1/bookings"


def point(config: RunConfig, workdir: Path) -> dict:
    """One run's row of the curve."""
    result = run_load(config, workdir)
    data = result.as_json()
    endpoints = data["endpoints"]

    def p(name: str, which: str) -> float:
        return endpoints.get(name, {}).get(which, 0.0)

    return {"users": config.users, "rps": data["rps"], "requests": data["requests"],
            "failures": data["failures"], "quote_p95_ms": p(QUOTE, "p95_ms"),
            "quote_p99_ms": p(QUOTE, "p99_ms"),
            "booking_p95_ms": p(BOOKING, "p95_ms"), "booking_p99_ms": p(BOOKING, "p99_ms"),
            "p95_ms": data["p95_ms"], "p99_ms": data["p99_ms"], "bookings_told": data["bookings_told"],
            "lost_bookings": data["lost_bookings"], "capacity_violations": data["capacity_violations"],
            "window_violations": data["window_violations"], "audit_clean": data["audit_clean"],
            "run": data}


def main(argv: list[str] | None = None) -> int:
    """Run the curve and print it as a Markdown table (the README's)."""
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--users", default="25,50,100,200,400")
    arguments.add_argument("--duration", type=int, default=60)
    arguments.add_argument("--workers", type=int, default=1)
    arguments.add_argument("--postgres", action="store_true")
    arguments.add_argument("--json", type=Path, default=None)
    add_ramp_up_option(arguments)
    options = arguments.parse_args(argv)
    rows = []
    for users in (int(u) for u in options.users.split(",")):
        config = RunConfig(users=users, spawn_rate=max(5.0, users / 5), duration_s=options.duration,
                           workers=options.workers, postgres=options.postgres,
                           steady_state=not options.include_ramp_up)
        with tempfile.TemporaryDirectory(prefix=f"rufbus-curve-{users}-") as scratch:
            rows.append(point(config, Path(scratch)))
        row = rows[-1]
        print(f"{users} users: {row['rps']} rps, {row['failures']} failures, "
              f"quote p95 {row['quote_p95_ms']} ms, "
              f"booking p95 {row['booking_p95_ms']} ms, all p95 {row['p95_ms']} ms", flush=True)
    print("\n| users | req/s | failures | quote p95 / p99 ms | booking p95 / p99 ms | all p95 / p99 ms "
          "| bookings | lost | over capacity | windows |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['users']} | {r['rps']} | {r['failures']} "
              f"| {r['quote_p95_ms']:.0f} / {r['quote_p99_ms']:.0f} "
              f"| {r['booking_p95_ms']:.0f} / {r['booking_p99_ms']:.0f} "
              f"| {r['p95_ms']:.0f} / {r['p99_ms']:.0f} "
              f"| {r['bookings_told']} | {r['lost_bookings']} | {r['capacity_violations']} "
              f"| {r['window_violations']} |")
    if options.json:
        options.json.parent.mkdir(parents=True, exist_ok=True)
        options.json.write_text(json.dumps(rows, indent=2))
    return 0 if all(r["failures"] == 0 and r["audit_clean"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
