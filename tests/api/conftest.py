"""Fixtures of the API tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def single_process_service(monkeypatch: pytest.MonkeyPatch) -> None:
    """Apps built in a test run as one process, without Redis, even where ``REDIS_URL`` is set (CI): in
    Redis mode apps of one test run would compete for one area's dispatcher lease. Several workers behind
    Redis are tested with real processes (tests/api/test_live_workers.py), which get the URL passed."""
    monkeypatch.delenv("REDIS_URL", raising=False)
