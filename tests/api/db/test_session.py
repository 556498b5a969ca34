"""Engines: SQLite gets its directory, foreign keys and cross-thread use; PostgreSQL gets a pool."""

from __future__ import annotations

import threading

from sqlalchemy import QueuePool, text

from api.db.session import create_db_engine


def test_sqlite_directory_is_created_on_demand(tmp_path) -> None:
    """The default database lives in a directory that may not exist yet; connecting creates it."""
    path = tmp_path / "not" / "yet" / "rufbus.sqlite3"
    engine = create_db_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        assert path.exists()
    finally:
        engine.dispose()


def test_sqlite_enforces_foreign_keys_and_may_cross_threads(tmp_path) -> None:
    """``PRAGMA foreign_keys`` is on, and a connection opened here can be used from another thread."""
    engine = create_db_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            results: list[int] = []
            def use_here() -> None:
                results.append(connection.execute(text("select 7")).scalar())

            worker = threading.Thread(target=use_here)
            worker.start()
            worker.join()
            assert results == [7]
    finally:
        engine.dispose()


def test_postgresql_engine_keeps_a_pool_of_the_configured_size(postgres_url: str) -> None:
    """A PostgreSQL URL gets a queue pool sized from the settings."""
    engine = create_db_engine(postgres_url, pool_size=3)
    try:
        assert isinstance(engine.pool, QueuePool) and engine.pool.size() == 3
        with engine.connect() as connection:
            assert connection.execute(text("select 1")).scalar() == 1
    finally:
        engine.dispose()
