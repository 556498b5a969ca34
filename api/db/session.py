"""Engines and sessions. Nothing is created at import time: the app builds one engine at start."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session


def create_db_engine(url: str, *, echo: bool = False, pool_size: int = 5) -> Engine:
    """An engine for ``url``.

    SQLite: the file's directory is created, connections may cross threads, foreign keys are
    enforced, and SQLAlchemy (not the driver) begins transactions, so SAVEPOINTs and transactional
    DDL work. PostgreSQL: a pool of ``pool_size`` connections, checked before use.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, echo=echo, connect_args={"check_same_thread": False})
        _configure_sqlite(engine)
        return engine
    options: dict[str, Any] = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "postgresql":
        options.update(pool_size=pool_size, max_overflow=pool_size)
    return create_engine(parsed, echo=echo, **options)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver must not BEGIN on its own
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never block a writer's commit (nor it them)
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")


async def get_session(request: Request) -> AsyncIterator[Session]:
    """FastAPI dependency: a session on the app's engine (``app.state.engine``), closed afterwards — on the
    event loop, so that closing never waits for a worker thread held up behind the dispatch lock."""
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        fence = getattr(request.app.state, "fence", None)
        if fence is not None:  # several workers: commits check this one still dispatches (api.live.fencing)
            session.info["fence"] = fence
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
