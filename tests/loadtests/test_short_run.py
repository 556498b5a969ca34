"""A short load run against the real service (uvicorn on 127.0.0.1, its own SQLite file): 20 users for
20 s must see no failed request, and the audit must find every booking the clients were told about in
the database and in the plan, no bus over capacity and every planned pickup inside its promised window."""

from __future__ import annotations

from loadtests.run import RunConfig, run_load


def test_twenty_users_for_twenty_seconds_fail_nothing_and_lose_nothing(tmp_path):
    """Riders quote, book, poll and cancel, drivers follow their plans, an operator watches: 0 failures,
    bookings were made, and the audit is clean (lost 0, double 0, over capacity 0, windows 0)."""
    result = run_load(RunConfig(users=20, spawn_rate=10, duration_s=20), tmp_path)
    data = result.as_json()
    print(result.summary())
    assert data["failures"] == 0, data["failure_kinds"]
    assert data["requests"] > 100
    assert data["bookings_told"] > 5, "too few bookings to audit anything"
    assert data["endpoints"]["POST /v1/quotes"]["requests"] > 10
    assert data["endpoints"]["POST /v1/driver/positions"]["requests"] > 0
    assert data["endpoints"]["GET /v1/operator/fleet"]["requests"] > 0
    assert result.report.clean, result.report.problems
    assert data["lost_bookings"] == 0 and data["capacity_violations"] == 0
    assert result.live_differences == []
