"""Engines and sessions. Nothing is created at import time: the app builds one engine at start.

No SQL parameter reaches a log or an error answer: every engine hides the parameters of its statements
(``hide_parameters``: also in ``RUFBUS_DATABASE_ECHO``'s log), and a database error's message is cut down
to what names the failure without the values (:func:`scrub_database_error`) — PostgreSQL's own messages
quote them ("Key (rider_id, idempotency_key)=(7, …)", "Failing row contains (…)").
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlmodel import Session


def create_db_engine(url: str, *, echo: bool = False, pool_size: int = 5) -> Engine:
    """An engine for ``url``.

    SQLite: the file's directory is created, connections may cross threads, foreign keys are
    enforced, and SQLAlchemy (not the driver) begins transactions, so SAVEPOINTs and transactional
    DDL work. PostgreSQL: a pool of ``pool_size`` connections, checked before use. Statements' parameters
    are never logged nor kept in errors (:func:`scrub_database_error`).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, echo=echo, hide_parameters=True,
                               connect_args={"check_same_thread": False})
        _configure_sqlite(engine)
        event.listen(engine, "handle_error", scrub_database_error)
        return engine
    options: dict[str, Any] = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "postgresql":
        options.update(pool_size=pool_size, max_overflow=pool_size)
    engine = create_engine(parsed, echo=echo, hide_parameters=True, **options)
    event.listen(engine, "handle_error", scrub_database_error)
    return engine


# SQLSTATE classes whose messages name no row's values: connection exceptions, operator intervention
# (a server shutting down), insufficient resources. Their text helps whoever reads the log.
_PLAIN_CLASSES = ("08", "53", "57")


def scrub_database_error(context: ExceptionContext) -> None:
    """Engine hook (``handle_error``): replace the message of a database error by one that keeps no value
    of a row or a parameter. PostgreSQL errors keep their class, SQLSTATE and the constraint, table and
    column they name (connection-level errors their text); SQLite's messages name only constraints and
    columns, and stay. The error keeps its type and attributes (``sqlstate``, ``diag``), so handling it
    does not change."""
    original = context.original_exception
    sqlstate = getattr(original, "sqlstate", None)
    if sqlstate is None and not hasattr(original, "diag"):
        return  # not a server's error (SQLite, or a client-side failure without values)
    if sqlstate is None or sqlstate[:2] in _PLAIN_CLASSES:
        return
    diag = original.diag  # type: ignore[attr-defined]  # a psycopg error: checked above
    named = [f"{what} {value}" for what, value in (("constraint", diag.constraint_name),
                                                   ("table", diag.table_name),
                                                   ("column", diag.column_name)) if value]
    message = f"{type(original).__name__} (SQLSTATE {sqlstate}{', ' if named else ''}{', '.join(named)})"
    original.args = (message,)
    wrapped = context.sqlalchemy_exception
    if wrapped is not None:
        wrapped.args = (f"({type(original).__module__}.{type(original).__name__}) {message}",)


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
