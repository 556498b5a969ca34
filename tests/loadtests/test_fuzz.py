"""Bad input, short: schemathesis against the running service's own OpenAPI schema as a rider, a driver
and an operator finds no server error (5xx) and no response outside its declared schema."""

from __future__ import annotations

from loadtests.fuzz import fuzz


def test_generated_requests_of_every_role_get_no_5xx_and_schema_conforming_answers(tmp_path):
    """A few examples per operation and phase (coverage, fuzzing, stateful), three roles: every check
    passes and schemathesis reached every role's operations."""
    result = fuzz(tmp_path, max_examples=5)
    assert set(result.generated) == {"rider", "driver", "operator"}
    assert all(count > 100 for count in result.generated.values()), result.generated
    assert result.total_failures == 0, result.failures
    assert result.total_errors == 0, result.errors
