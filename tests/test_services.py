"""A missing service fails a test under CI and skips it elsewhere."""

from __future__ import annotations

import pytest

from tests.services import unavailable


def test_a_missing_service_fails_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="Redis unavailable: down"):
        unavailable("Redis", "down")


def test_a_missing_service_skips_elsewhere(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Redis unavailable: down"):
        unavailable("Redis", "down")
