"""What a test does when a service it needs (a server, a program, a browser) is missing: with ``CI=true``
it fails, because CI must run everything (``.ci/run`` starts or installs each one); elsewhere it is
skipped with the reason shown in the summary (pytest runs with ``-ra``)."""

from __future__ import annotations

import os

import pytest


def unavailable(what: str, reason: str) -> None:
    """Fail (``CI=true``) or skip the calling test: ``what`` cannot be used, because of ``reason``."""
    message = f"{what} unavailable: {reason}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (CI=true: every service must be there; .ci/run provides them)")
    pytest.skip(message)
