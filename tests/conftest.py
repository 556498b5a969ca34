"""Fixtures for real external services: PostgreSQL (``DATABASE_URL``) and Redis (``REDIS_URL``).

A test that needs a server which cannot be reached fails with ``CI=true`` and is skipped elsewhere
(:func:`tests.services.unavailable`).
"""

from __future__ import annotations

import os

import pytest

from tests.services import unavailable

# Taken out of the environment for the whole run: apps and services the tests start run as one process,
# without Redis, even where REDIS_URL is set (CI). In Redis mode they would share the default area of the
# machine's one Redis server — its dispatcher lease, the bus positions it keeps — with every other test
# and with earlier runs (a bus left there by another test's clock days ahead could not take a trip).
# Several workers behind Redis are tested with processes that get this URL passed (``redis_url``). The
# URL is kept as TESTS_REDIS_URL for pytest-xdist's workers, started from this (the controller) process.
REDIS_URL = os.environ.pop("REDIS_URL", "") or os.environ.get("TESTS_REDIS_URL", "")
os.environ["TESTS_REDIS_URL"] = REDIS_URL
# Riders' rate limits (api.rate_limits) count wall-clock seconds, which tests asking in a burst exceed: the
# apps the tests start have none, unless a test passes its own (tests/api/test_rate_limits.py).
os.environ.update({f"RUFBUS_{action}_RATE_PER_{scope}": "" for action in ("QUOTE", "BOOKING")
                   for scope in ("ACCOUNT", "ADDRESS")})
# Likewise the fair-use caps (api.services.fair_use) until operators set their own: tests where one rider
# books many trips would pass them; tests/api/test_fair_use.py sets its own.
os.environ.update(RUFBUS_FAIR_USE_MAX_OPEN_BOOKINGS="1000", RUFBUS_FAIR_USE_MAX_SEATS_PER_SLOT="1000")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of a reachable PostgreSQL server (SQLAlchemy form), from ``DATABASE_URL``."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        unavailable("PostgreSQL", "DATABASE_URL is not a postgresql:// URL")
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except Exception as error:  # noqa: BLE001 - any driver or network failure means: not reachable
        unavailable("PostgreSQL", f"cannot connect to {url}: {error}")
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of a reachable Redis server, from ``REDIS_URL``."""
    url = REDIS_URL
    if not url.startswith("redis"):
        unavailable("Redis", "REDIS_URL is not set")
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        unavailable("Redis", f"cannot connect to {url}: {error}")
    finally:
        client.close()
    return url



from tests.smtp import smtp_server  # noqa: E402,F401 - the local SMTP server fixture, for every test
