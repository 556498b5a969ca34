"""Database fixtures: every test runs on SQLite (a temporary file) and on PostgreSQL.

PostgreSQL tests use a schema of their own (``rufbus_test_<random>``, via ``search_path``), created and
migrated once per test session and dropped at its end, so the shared database keeps no tables. Each
test runs inside a transaction that is rolled back; repository commits only release a savepoint.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from api.db.migrate import upgrade_database
from api.db.session import create_db_engine


def _postgres_schema_url(url: str, schema: str) -> str:
    return make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a database migrated to head: a SQLite file, or a fresh schema on the PostgreSQL server."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'rufbus.sqlite3'}"
        upgrade_database(url)
        yield url
        return
    server_url = request.getfixturevalue("postgres_url")
    schema = f"rufbus_test_{secrets.token_hex(6)}"
    admin = create_db_engine(server_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = _postgres_schema_url(server_url, schema)
        upgrade_database(url)
        yield url
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """One engine per backend for the whole test session."""
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction rolled back after the test; its commits release savepoints."""
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()
