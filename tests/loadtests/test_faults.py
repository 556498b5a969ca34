"""Faults under load, short: the service killed with SIGKILL and restarted, and (with PostgreSQL and a
Redis server of the run's own) the dispatching worker of two killed, or that Redis server killed and
started again empty. Nothing a client was told is lost,
a booking retried with its Idempotency-Key after the fault is not booked twice, and the plan in force
after the fault equals the plan stored."""

from __future__ import annotations

import json
import shutil

import pytest

from loadtests.faults import passed, run_fault
from loadtests.run import RunConfig
from tests.services import unavailable


def test_a_service_killed_mid_load_loses_no_booking_and_books_no_retry_twice(tmp_path):
    """20 users for 25 s; at 10 s the one uvicorn process is killed -9 and started again on the same
    SQLite file: 0 failures besides the outage, clean audit, the probe's retry answered 200 with the
    same booking and one row for its key, no restart-recovery problem."""
    config = RunConfig(users=20, spawn_rate=10, duration_s=25, tolerate_outages=True)
    result, log = run_fault(config, tmp_path, "kill", at_s=10)
    print(result.summary(), log.events, log.figures)
    assert log.figures["probe_retry"] == {"status": 200, "same_booking": True, "rows_for_key": 1}
    assert log.figures["recovery_problems"] == 0
    assert result.report.bookings_told > 5
    assert passed(result, log), (result.failure_kinds, result.report.problems, result.live_differences,
                                 log.problems)


@pytest.fixture
def two_workers(postgres_url, monkeypatch) -> None:
    """What a run of two workers needs: redis-server to start the run's own Redis, and the PostgreSQL
    server the run creates its fresh database on."""
    if shutil.which("redis-server") is None:
        unavailable("redis-server", "not installed")
    monkeypatch.setenv("RUFBUS_LOAD_POSTGRES_URL", postgres_url)


@pytest.mark.usefixtures("two_workers")
def test_killing_the_dispatching_worker_hands_over_within_the_lease(tmp_path):
    """Two workers behind the run's own Redis on a fresh PostgreSQL database; at 10 s the worker holding
    the dispatcher lease is killed -9: another dispatches within twice the lease (5 s), the probe's
    retry finds its booking, and the audit is clean."""
    config = RunConfig(users=20, spawn_rate=10, duration_s=25, workers=2, tolerate_outages=True)
    result, log = run_fault(config, tmp_path, "kill-leader", at_s=10)
    print(result.summary(), log.events, log.figures)
    assert log.figures["takeover_s"] <= 10
    assert log.figures["probe_retry"]["same_booking"] and log.figures["probe_retry"]["rows_for_key"] == 1
    assert passed(result, log), (result.failure_kinds, result.report.problems, result.live_differences,
                                 log.problems)


@pytest.mark.usefixtures("two_workers")
def test_redis_restarted_empty_mid_load_loses_no_booking(tmp_path):
    """Two workers behind the run's own Redis on a fresh PostgreSQL database; at 10 s that Redis is killed
    and started again with nothing in it: a worker dispatches again (the plan reloaded from the database,
    the source of truth), the probe's retry with its Idempotency-Key finds its one booking, riders go on
    booking, and the audit is clean."""
    config = RunConfig(users=20, spawn_rate=10, duration_s=30, workers=2, tolerate_outages=True)
    result, log = run_fault(config, tmp_path, "redis-restart", at_s=10)
    print(result.summary(), log.events, log.figures)
    assert log.figures["recovered_s"] <= 30
    assert log.figures["probe_retry"] == {"status": 200, "same_booking": True, "rows_for_key": 1}
    recovered_at = log.figures["killed_at"] + log.figures["recovered_s"]
    records = [json.loads(line) for line in (tmp_path / "records.jsonl").read_text().splitlines()]
    assert any(r["event"] == "booked" and r.get("at", 0) > recovered_at for r in records)
    assert passed(result, log), (result.failure_kinds, result.report.problems, result.live_differences,
                                 log.problems)
