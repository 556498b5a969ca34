"""A load run: ``python -m loadtests.run --users N --spawn-rate R --duration S [--workers W] [--json FILE]``.

Starts the service for real (uvicorn on 127.0.0.1, a free port; one worker on a temporary SQLite file,
or ``--postgres``; with ``--workers`` > 1 several uvicorn workers behind Redis on a fresh PostgreSQL
database), creates the users, runs Locust headless (:mod:`loadtests.locustfile`) for ``--duration``
seconds, prints requests/s, failures (whole run) and p50/p95/p99 per endpoint (counted once every user
runs: the ramp-up is left out unless ``--include-ramp-up``), then audits the database against what the
clients were told (:mod:`loadtests.audit`). The process exits with status 1 if a request failed or the
audit is not clean.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from loadtests.audit import AuditReport, ClientRecords, audit, live_plan_differences
from loadtests.service import (
    DEFAULT_POSTGRES_URL,
    REPO,
    Database,
    Keys,
    PrivateRedis,
    Service,
    create_users,
    local_now,
    run_clock_offset,
)
from loadtests.stats import AGGREGATED, EndpointStats, as_json, read_failures, read_stats, table
from loadtests.trips import road_points
from routing.network import RoadNetwork

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
POINTS = 400  # road nodes trips are drawn from
QUOTES, ABUSIVE_QUOTES = "POST /v1/quotes", "POST /v1/quotes (abusive)"  # the normal users', the abuser's


@dataclass(frozen=True)
class RunConfig:
    """What to run: how many users, how fast they come, for how long, on what service."""

    users: int
    spawn_rate: float
    duration_s: int
    workers: int = 1
    postgres: bool = False
    buses: int | None = None  # default: one per ten users, at least four (one driver each)
    seed: int = 1
    tolerate_outages: bool = False  # fault runs: lost answers are retried, not failures
    # Latency figures for the steady state, counted once every user runs (Locust ``--reset-stats``); the
    # ramp-up, when all users arrive within seconds and ask at once, is left out. Failures and the audit
    # cover the whole run either way.
    steady_state: bool = True
    abuser_rate: float = 0.0  # quotes/s of one abusive client beside the users (0: none)

    @property
    def uses_postgres(self) -> bool:
        """Several workers always share a PostgreSQL database."""
        return self.postgres or self.workers > 1

    @property
    def bus_count(self) -> int:
        """Buses in the demo fleet, each with one simulated driver."""
        return self.buses or max(4, self.users // 10)

    @property
    def locust_users(self) -> int:
        """Users Locust starts: the run's users, and the abusive client if there is one."""
        return self.users + (1 if self.abuser_rate > 0 else 0)

    def split(self) -> tuple[int, int, int]:
        """Riders, drivers, operators: one driver per bus, one operator per 50 users, the rest ride."""
        drivers = min(self.bus_count, max(0, self.users - 2))
        operators = max(1, self.users // 50)
        return self.users - drivers - operators, drivers, operators


@dataclass
class RunResult:
    """The figures and the audit of one run."""

    config: RunConfig
    stats: dict[str, EndpointStats]
    failure_kinds: list[dict[str, str]]
    report: AuditReport
    records: ClientRecords
    live_differences: list[str]
    extra: dict = field(default_factory=dict)

    @property
    def failures(self) -> int:
        """Requests that failed (HTTP errors other than business refusals, lost connections) over the whole
        run, ramp-up included (the clients record each one; Locust's counts may start after the ramp-up)."""
        counted = self.stats[AGGREGATED].failures if AGGREGATED in self.stats else 0
        return max(counted, self.records.failed_requests)

    def p95(self, name: str) -> float:
        """p95 in ms of one endpoint (0 when it saw no request)."""
        return self.stats[name].p95_ms if name in self.stats else 0.0

    def as_json(self) -> dict:
        """The run's JSON: at least rps, failures, p95_ms, p99_ms, lost_bookings, capacity_violations."""
        total = self.stats.get(AGGREGATED)
        config = self.config
        riders, drivers, operators = config.split()
        return {
            "users": config.users, "spawn_rate": config.spawn_rate, "duration_s": config.duration_s,
            "workers": config.workers, "database": "postgresql" if config.uses_postgres else "sqlite",
            "latency_counted": "after the ramp-up" if config.steady_state else "whole run",
            "buses": config.bus_count, "riders": riders, "drivers": drivers, "operators": operators,
            "rps": round(total.rps, 1) if total else 0.0, "requests": total.requests if total else 0,
            "failures": self.failures, "failure_kinds": self.failure_kinds,
            "p50_ms": total.p50_ms if total else 0.0, "p95_ms": total.p95_ms if total else 0.0,
            "p99_ms": total.p99_ms if total else 0.0,
            "endpoints": as_json({k: v for k, v in self.stats.items() if k != AGGREGATED}),
            "bookings_told": self.report.bookings_told, "quotes_refused": self.records.quotes_refused,
            "bookings_refused": self.records.bookings_refused, "cancelled": len(self.records.cancelled),
            "picked_up": len(self.records.picked_up), "dropped_off": len(self.records.dropped_off),
            "lost_bookings": self.report.lost_bookings, "double_bookings": self.report.double_bookings,
            "capacity_violations": self.report.capacity_violations,
            "window_violations": self.report.window_violations, "plan_problems": self.report.plan_problems,
            "live_plan_differences": len(self.live_differences), "audit_clean": self.report.clean,
            "quote_p95_ms": self.p95(QUOTES), **self.abuser_figures(),
            "audit_problems": dict(self.report.problems), **self.extra}

    def abuser_figures(self) -> dict:
        """The abusive client's requests and answers by status, its share of 429 (rate-limited), and the
        p95 of its quotes; empty without one."""
        if self.config.abuser_rate <= 0:
            return {}
        statuses = Counter(str(status) for status in self.records.abusive_statuses)
        sent = sum(statuses.values())
        return {"abuser_rate": self.config.abuser_rate, "abuser_requests": sent,
                "abuser_statuses": dict(statuses),
                "abuser_429_share": round(statuses["429"] / sent, 4) if sent else 0.0,
                "abuser_p95_ms": self.p95(ABUSIVE_QUOTES)}

    def summary(self) -> str:
        """For the terminal: the endpoint table, then the audit's counts."""
        data = self.as_json()
        lines = [table(self.stats),
                 f"\n{data['users']} users ({data['riders']} riders, {data['drivers']} drivers, "
                 f"{data['operators']} operators), {data['buses']} buses, {data['workers']} worker(s) on "
                 f"{data['database']}: {data['rps']} requests/s, {data['failures']} failures (whole run); "
                 f"latencies counted {data['latency_counted']}",
                 f"bookings told {data['bookings_told']}, quotes refused {data['quotes_refused']}, "
                 f"bookings refused {data['bookings_refused']}, cancelled {data['cancelled']}, "
                 f"picked up {data['picked_up']}, dropped off {data['dropped_off']}",
                 f"audit: lost {data['lost_bookings']}, double {data['double_bookings']}, over capacity "
                 f"{data['capacity_violations']}, windows {data['window_violations']}, plan "
                 f"{data['plan_problems']}, live plan differs on {data['live_plan_differences']} bus(es)"
                 f" -> {'clean' if self.report.clean else 'NOT CLEAN'} (windows a late bus moved, logged: "
                 f"{self.report.promises_changed})"]
        abuser = self.abuser_figures()
        if abuser:
            lines.append(f"abusive client at {abuser['abuser_rate']:g} quotes/s: "
                         f"{abuser['abuser_requests']} requests, answers {abuser['abuser_statuses']}, "
                         f"429 share {abuser['abuser_429_share']:.1%}; "
                         f"normal users' quote p95 {data['quote_p95_ms']} ms")
        for kind, problems in self.report.problems.items():
            lines += [f"  {kind}: {p}" for p in problems[:5]]
        lines += [f"  live plan: {d}" for d in self.live_differences[:5]]
        for failure in self.failure_kinds[:10]:
            lines.append(f"  failure x{failure.get('Occurrences')}: {failure.get('Method')} "
                         f"{failure.get('Name')}: {failure.get('Error', '')[:160]}")
        return "\n".join(lines)


@dataclass
class Stack:
    """The running parts of one run, handed to fault hooks."""

    service: Service
    database: Database
    redis: PrivateRedis | None
    keys: Keys
    records: Path


Hook = Callable[[Stack], None]


def run_load(config: RunConfig, workdir: Path, *, during: Hook | None = None, during_at_s: float = 0.0,
             after: Callable[[Stack], dict] | None = None) -> RunResult:
    """One run in ``workdir``: service up, users made, Locust for ``duration_s``, audit, service down.

    ``during`` is called (in a thread) ``during_at_s`` seconds into the load — the fault runner kills and
    restarts parts there; ``after`` runs once Locust is done and adds its figures to the result. Several
    workers get a Redis server of their own (restartable without harming anyone) and a fresh PostgreSQL
    database."""
    workdir.mkdir(parents=True, exist_ok=True)
    if config.uses_postgres:
        database = Database.fresh_postgres(os.environ.get("RUFBUS_LOAD_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    else:
        database = Database.sqlite(workdir)
    redis = PrivateRedis(log_path=workdir / "redis.log") if config.workers > 1 else None
    offset = run_clock_offset()
    started_at = local_now(offset).replace(microsecond=0)  # the buses are free from (about) here on
    service = Service(database.url, buses=config.bus_count, workers=config.workers,
                      redis_url=redis.url if redis else None, clock_offset_s=offset,
                      log_path=workdir / "service.log", area=f"load-{uuid.uuid4().hex[:8]}")
    try:
        if redis is not None:
            redis.start()
        service.start()
        riders, drivers, operators = config.split()
        abusers = 1 if config.abuser_rate > 0 else 0
        keys = create_users(database.url, riders=riders + abusers, drivers=drivers, operators=operators)
        abuser = {"abuser": {"rate": config.abuser_rate, "key": keys.riders.pop()}} if abusers else {}
        records = workdir / "records.jsonl"
        records.unlink(missing_ok=True)
        scenario = workdir / "scenario.json"
        points = road_points(RoadNetwork.load(), POINTS, seed=config.seed)
        scenario.write_text(json.dumps({
            "keys": {"riders": keys.riders, "drivers": keys.drivers, "operators": keys.operators},
            "points": points, "clock_offset_s": offset, "started_at": started_at.isoformat(),
            "records": str(records), "seed": config.seed,
            "tolerate_outages": config.tolerate_outages, **abuser}))
        prefix = workdir / "locust"
        stack = Stack(service, database, redis, keys, records)
        hook = None
        if during is not None:
            hook = threading.Timer(during_at_s, during, args=(stack,))
            hook.start()
        _locust(config, service.base_url, scenario, prefix, workdir / "locust.log")
        if hook is not None:
            hook.join()
        if service.process is None:
            service.start()
        extra = after(stack) if after else {}
        differences = live_plan_differences(service.base_url, keys.operators[0], database.url)
        report = audit(database.url, records)
        return RunResult(config, read_stats(prefix), read_failures(prefix), report,
                         ClientRecords.read(records), differences, extra)
    finally:
        service.stop()
        if redis is not None:
            redis.kill()
        database.drop()


def _locust(config: RunConfig, host: str, scenario: Path, prefix: Path, log: Path) -> None:
    """Run Locust headless as a child process (gevent stays out of this process)."""
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
               "--users", str(config.locust_users),
               "--spawn-rate", str(config.spawn_rate), "--run-time", f"{config.duration_s}s", "--host", host,
               "--csv", str(prefix), "--only-summary", "--stop-timeout", "15", "--loglevel", "WARNING",
               "--exit-code-on-error", "0"]
    if config.steady_state:
        command.append("--reset-stats")  # the figures count from the moment every user is running
    env = {**os.environ, "RUFBUS_LOAD_SCENARIO": str(scenario), "PYTHONPATH": str(REPO)}
    with open(log, "wb") as output:
        started = time.monotonic()
        done = subprocess.run(command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT,
                              timeout=config.duration_s + 120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"locust exited with {done.returncode} after {time.monotonic() - started:.0f} s; "
                           f"see {log}")


def parser() -> argparse.ArgumentParser:
    """The command line of a run (shared by :mod:`loadtests.faults` and :mod:`loadtests.curve`)."""
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--users", type=int, default=200, help="concurrent simulated users")
    arguments.add_argument("--spawn-rate", type=float, default=20.0, help="users started per second")
    arguments.add_argument("--duration", type=int, default=60, help="seconds of load")
    arguments.add_argument("--workers", type=int, default=1, help="uvicorn workers (>1: Redis + PostgreSQL)")
    arguments.add_argument("--postgres", action="store_true", help="one worker on PostgreSQL, not SQLite")
    arguments.add_argument("--buses", type=int, default=None, help="demo buses (default: users/10, >= 4)")
    arguments.add_argument("--seed", type=int, default=1)
    arguments.add_argument("--abuser-rate", type=float, default=0.0,
                           help="one abusive client beside the users, asking this many quotes/s")
    add_ramp_up_option(arguments)
    arguments.add_argument("--json", type=Path, default=None, help="write the figures and the audit here")
    arguments.add_argument("--workdir", type=Path, default=None, help="keep logs and records here")
    return arguments


def add_ramp_up_option(arguments: argparse.ArgumentParser) -> None:
    """``--include-ramp-up``: count latencies from the first user on (default: once every user runs)."""
    arguments.add_argument("--include-ramp-up", action="store_true",
                           help="count latencies from the first user on (default: once every user runs)")


def config_from(options: argparse.Namespace, **overrides: object) -> RunConfig:
    """The run configuration named on the command line."""
    values = dict(users=options.users, spawn_rate=options.spawn_rate, duration_s=options.duration,
                  workers=options.workers, postgres=options.postgres, buses=options.buses, seed=options.seed,
                  steady_state=not options.include_ramp_up, abuser_rate=options.abuser_rate)
    values.update(overrides)
    return RunConfig(**values)


def main(argv: list[str] | None = None) -> int:
    """Run, print, write the JSON; exit status 1 on any failure or an unclean audit."""
    options = parser().parse_args(argv)
    config = config_from(options)
    with tempfile.TemporaryDirectory(prefix="rufbus-load-") as scratch:
        result = run_load(config, options.workdir or Path(scratch))
    print(result.summary())
    if options.json:
        options.json.parent.mkdir(parents=True, exist_ok=True)
        options.json.write_text(json.dumps(result.as_json(), indent=2))
    return 0 if result.failures == 0 and result.report.clean and not result.live_differences else 1


if __name__ == "__main__":
    sys.exit(main())
