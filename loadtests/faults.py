"""Faults under load: ``python -m loadtests.faults [--scenario kill|kill-leader|redis-restart] --users N
--duration S [--workers W] [--json FILE]``.

* ``kill`` — the whole service is killed with SIGKILL in the middle of the load and started again on the
  same database and port. Just before, a probe rider books a trip (Idempotency-Key K); after the
  restart it sends the same request again, as a client whose answer was lost would: it must get 200
  with the same booking, and the database must hold one booking for K.
* ``kill-leader`` (``--workers`` ≥ 2) — only the worker holding the dispatcher lease is killed; another
  must dispatch within the lease time, and bookings continue.
* ``redis-restart`` (``--workers`` ≥ 2) — the run's own Redis server is killed and started again, empty;
  the service must recover without losing a booking (the database is the source of truth).

Meanwhile the Locust riders retry a booking whose answer was lost with the same key. Requests that got no
answer while a part was down are counted as ``outages``, not failures; everything else is a failure.
After the load the audit of :mod:`loadtests.audit` runs as in every load run: 0 lost bookings, 0 double
bookings, the plan in force equal to the plan stored. Exit status 1 if anything of that fails.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import func
from sqlmodel import Session, col, select

from api.db.models import Booking
from api.db.session import create_db_engine
from loadtests.run import RunConfig, RunResult, Stack, config_from, parser, run_load
from loadtests.service import local_now

SCENARIOS = ("kill", "kill-leader", "redis-restart")
LEASE_S = 5.0  # the service's default RUFBUS_LEASE_S
RETRY_FOR_S = 60.0  # how long the probe client keeps retrying its booking
PROBE_MINUTES_AHEAD = (20, 45, 90, 150, 240)  # when the probe asks to leave, until a bus has room


@dataclass
class FaultLog:
    """What the fault hook did and saw."""

    scenario: str
    events: list[str] = field(default_factory=list)
    figures: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def note(self, message: str) -> None:
        """Keep a timestamped line."""
        self.events.append(f"{time.strftime('%H:%M:%S')} {message}")


def probe_booking(stack: Stack, log: FaultLog) -> tuple[dict, dict, str] | None:
    """Quote and book one trip as a probe rider (Vaduz → Schaan, in 20 min, or later while the buses are
    full then); the offer, the booking and the key, recorded for the audit like every booking a client
    was told about."""
    key = f"probe-{uuid.uuid4().hex}"
    auth = {"Authorization": f"Bearer {stack.keys.riders[0]}"}
    with httpx.Client(base_url=stack.service.base_url, headers=auth, timeout=30) as client:
        for minutes in PROBE_MINUTES_AHEAD:
            moment = local_now(stack.service.clock_offset_s) + timedelta(minutes=minutes)
            moment = moment.replace(microsecond=0)
            body = {"origin": {"lat": 47.1410, "lon": 9.5215}, "destination": {"lat": 47.1650, "lon": 9.5090},
                    "time_type": "leave_after", "time": moment.isoformat(), "seats": 1, "wheelchairs": 0}
            offer = client.post("/v1/quotes", json=body)
            if offer.status_code != 409:
                break
        if offer.status_code != 200:
            log.note(f"probe: no offer ({offer.status_code} {offer.text[:120]}); no retry check")
            return None
        booked = client.post("/v1/bookings", json={"quote_id": offer.json()["quote_id"]},
                             headers={"Idempotency-Key": key})
    if booked.status_code != 201:
        log.problems.append(f"probe booking answered {booked.status_code} {booked.text[:200]}")
        return None
    booking = booked.json()
    with open(stack.records, "a") as records:
        records.write(json.dumps({"event": "booked", "id": booking["id"], "key": key, "status": 201,
                                  "attempt": 1, "vehicle_id": booking["vehicle_id"],
                                  "window": booking["pickup_window"]}) + "\n")
    log.note(f"probe booked {booking['id']} with key {key}")
    return offer.json(), booking, key


def retry_probe(stack: Stack, log: FaultLog, probe: tuple[dict, dict, str]) -> None:
    """Send the probe's booking request again with the same key: 200 with the same booking, one row."""
    offer, booking, key = probe
    auth = {"Authorization": f"Bearer {stack.keys.riders[0]}", "Idempotency-Key": key}
    deadline, attempts = time.monotonic() + RETRY_FOR_S, 0
    with httpx.Client(base_url=stack.service.base_url, headers=auth, timeout=30) as client:
        while True:  # as a client would: again while the service answers "not now" (50x) or not at all
            attempts += 1
            try:
                again = client.post("/v1/bookings", json={"quote_id": offer["quote_id"]})
                if again.status_code not in (502, 503, 504) or time.monotonic() > deadline:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.5)
    log.figures["probe_retry_attempts"] = attempts
    same = again.status_code == 200 and again.json().get("id") == booking["id"]
    engine = create_db_engine(stack.database.url)
    try:
        with Session(engine) as session:
            rows = session.exec(select(func.count()).select_from(Booking)
                                .where(col(Booking.idempotency_key) == key)).one()
    finally:
        engine.dispose()
    log.figures["probe_retry"] = {"status": again.status_code, "same_booking": same, "rows_for_key": rows}
    log.note(f"probe retried: {again.status_code}, same booking {same}, {rows} row(s) for the key")
    if not same or rows != 1:
        log.problems.append(f"probe retry: {again.status_code} {again.text[:200]}, {rows} rows for its key")


def health(base_url: str) -> dict | None:
    """``/health`` on a new connection (so several workers are sampled), or None without an answer."""
    try:
        with httpx.Client(base_url=base_url, timeout=2) as client:
            return client.get("/health").json()
    except (httpx.HTTPError, ValueError):
        return None


def find_leader(base_url: str, timeout_s: float = 30) -> tuple[str, int] | None:
    """The worker id and pid of the worker that dispatches, asking ``/health`` until one says so."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        answer = health(base_url)
        live = (answer or {}).get("live") or {}
        if live.get("dispatcher") and live.get("mode") == "redis":
            worker = str(live["worker"])
            return worker, int(worker.split(":")[-2])
        time.sleep(0.02)
    return None


def kill_service(stack: Stack, log: FaultLog) -> None:
    """SIGKILL the whole service mid-load, start it again on the same database and port."""
    probe = probe_booking(stack, log)
    started = time.monotonic()
    stack.service.kill()
    log.note("service killed (SIGKILL)")
    time.sleep(1.0)
    stack.service.start()
    log.figures["restart_s"] = round(time.monotonic() - started, 2)
    log.note(f"service answering again after {log.figures['restart_s']} s")
    if probe is not None:
        retry_probe(stack, log, probe)


def kill_leader(stack: Stack, log: FaultLog) -> None:
    """SIGKILL the worker that holds the dispatcher lease; time until another dispatches."""
    probe = probe_booking(stack, log)
    leader = find_leader(stack.service.base_url)
    if leader is None:
        log.problems.append("no worker says it dispatches")
        return
    worker, pid = leader
    started = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    log.note(f"killed the dispatching worker {worker} (pid {pid})")
    successor = None
    while time.monotonic() - started < 6 * LEASE_S:
        found = find_leader(stack.service.base_url, timeout_s=1)
        if found is not None and found[0] != worker:
            successor = found
            break
    if successor is None:
        log.problems.append(f"no other worker dispatched within {6 * LEASE_S} s")
        return
    log.figures["takeover_s"] = round(time.monotonic() - started, 2)
    log.note(f"{successor[0]} dispatches after {log.figures['takeover_s']} s (lease {LEASE_S} s)")
    if log.figures["takeover_s"] > 2 * LEASE_S:
        log.problems.append(f"take-over took {log.figures['takeover_s']} s, more than twice the lease")
    if probe is not None:
        retry_probe(stack, log, probe)


def restart_redis(stack: Stack, log: FaultLog) -> None:
    """Kill the run's Redis server and start it again, empty; time until a worker dispatches again."""
    assert stack.redis is not None, "redis-restart needs --workers >= 2"
    probe = probe_booking(stack, log)
    started = time.monotonic()
    log.figures["killed_at"] = time.time()
    stack.redis.kill()
    log.note("Redis killed")
    time.sleep(2.0)
    stack.redis.start()
    log.note("Redis started again (empty)")
    if find_leader(stack.service.base_url, timeout_s=6 * LEASE_S) is None:
        log.problems.append(f"no worker dispatched within {6 * LEASE_S} s of Redis coming back")
        return
    if probe is not None:
        retry_probe(stack, log, probe)
    log.figures["recovered_s"] = round(time.monotonic() - started, 2)
    log.note(f"a worker dispatches and the probe's retry was answered {log.figures['recovered_s']} s "
             f"after Redis was killed")


HOOKS = {"kill": kill_service, "kill-leader": kill_leader, "redis-restart": restart_redis}


def run_fault(config: RunConfig, workdir: Path, scenario: str, at_s: float | None = None
              ) -> tuple[RunResult, FaultLog]:
    """A load run with ``scenario`` happening ``at_s`` seconds in (default: 40 % of the duration)."""
    if scenario != "kill" and config.workers < 2:
        raise ValueError(f"{scenario} needs --workers >= 2")
    log = FaultLog(scenario)

    def during(stack: Stack) -> None:
        try:
            HOOKS[scenario](stack, log)
        except Exception as error:  # noqa: BLE001 - a hook that breaks is a problem of the run, reported
            log.problems.append(f"{scenario} hook failed: {error!r}")

    def after(stack: Stack) -> dict:
        recovery = 0
        if stack.service.log_path and stack.service.log_path.exists():
            recovery = stack.service.log_path.read_text(errors="replace").count("restart recovery:")
        log.figures["recovery_problems"] = recovery
        if recovery:
            log.problems.append(f"{recovery} 'restart recovery' problem(s) logged by the service")
        return {}

    result = run_load(config, workdir, during=during, during_at_s=config.duration_s * 0.4 if at_s is None
                      else at_s, after=after)
    log.figures["outages"] = _count_outages(workdir / "records.jsonl")
    result.extra.update({"fault": scenario, "fault_events": log.events, "fault_problems": log.problems,
                         **log.figures})
    return result, log


def _count_outages(records: Path) -> int:
    if not records.exists():
        return 0
    return sum(1 for line in records.read_text().splitlines() if '"event": "outage"' in line)


def passed(result: RunResult, log: FaultLog) -> bool:
    """No failure, a clean audit, the plan in force as stored, nothing wrong seen by the hook."""
    return (result.failures == 0 and result.report.clean and not result.live_differences
            and not log.problems)


def main(argv: list[str] | None = None) -> int:
    """Run one fault scenario under load; print and write the figures."""
    arguments = parser()
    arguments.add_argument("--scenario", choices=SCENARIOS, default="kill")
    arguments.set_defaults(users=20, duration=40, spawn_rate=10)
    options = arguments.parse_args(argv)
    config = config_from(options, tolerate_outages=True, steady_state=False)  # the fault's figures: whole run
    with tempfile.TemporaryDirectory(prefix="rufbus-faults-") as scratch:
        result, log = run_fault(config, options.workdir or Path(scratch), options.scenario)
    print(result.summary())
    print(f"fault {options.scenario}: " + "; ".join(log.events))
    print(f"outages (requests unanswered while down): {log.figures.get('outages')}; figures: "
          f"{ {k: v for k, v in log.figures.items() if k != 'outages'} }")
    for problem in log.problems:
        print(f"  PROBLEM: {problem}")
    print("PASSED" if passed(result, log) else "FAILED")
    if options.json:
        options.json.parent.mkdir(parents=True, exist_ok=True)
        options.json.write_text(json.dumps(result.as_json(), indent=2))
    return 0 if passed(result, log) else 1


if __name__ == "__main__":
    sys.exit(main())
