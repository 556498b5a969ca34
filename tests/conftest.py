"""Fixtures for real external services: PostgreSQL (``DATABASE_URL``) and Redis (``REDIS_URL``).

With ``CI=true`` a test that needs a server which cannot be reached fails; elsewhere it is skipped
with the reason shown in the summary (pytest runs with ``-ra``).
"""

from __future__ import annotations

import os

import pytest


def _unavailable(what: str, reason: str) -> None:
    message = f"{what} unavailable: {reason}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (CI=true: services must be up; .ci/run starts them)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of a reachable PostgreSQL server (SQLAlchemy form), from ``DATABASE_URL``."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        _unavailable("PostgreSQL", "DATABASE_URL is not a postgresql:// URL")
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except Exception as error:  # any driver or network failure means: not reachable
        _unavailable("PostgreSQL", f"cannot connect to {url}: {error}")
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of a reachable Redis server, from ``REDIS_URL``."""
    url = os.environ.get("REDIS_URL", "")
    if not url.startswith("redis"):
        _unavailable("Redis", "REDIS_URL is not set")
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        _unavailable("Redis", f"cannot connect to {url}: {error}")
    finally:
        client.close()
    return url
