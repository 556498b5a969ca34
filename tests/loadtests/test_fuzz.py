"""Bad input, short: schemathesis against the running service's own OpenAPI schema as a rider, a driver
and an operator, with valid (positive) and schema-violating (negative) requests, on SQLite and on
PostgreSQL, finds no server error (5xx) and no response outside its declared schema."""

from __future__ import annotations

import pytest

from loadtests.fuzz import fuzz


@pytest.fixture(params=["sqlite", "postgresql"])
def postgres_or_none(request: pytest.FixtureRequest) -> str | None:
    """The PostgreSQL server's URL, or None for SQLite."""
    return request.getfixturevalue("postgres_url") if request.param == "postgresql" else None


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_generated_requests_of_every_role_get_no_5xx_and_schema_conforming_answers(tmp_path, mode,
                                                                                   postgres_or_none):
    """A few examples per operation and phase (coverage, fuzzing, stateful), three roles: every check
    passes, no answer is a server error, and schemathesis reached every role's operations."""
    result = fuzz(tmp_path, max_examples=3, mode=mode, postgres_url=postgres_or_none)
    assert set(result.generated) == {"rider", "driver", "operator"}
    assert all(count > 100 for count in result.generated.values()), result.generated
    assert result.server_errors == 0, result.failures
    assert result.total_failures == 0, result.failures
    assert result.total_errors == 0, result.errors
