"""Bring a database to the newest schema: ``alembic upgrade head`` as a function, run at service start."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK_ID = 7_342_001  # the advisory lock held while migrating


def alembic_config() -> Config:
    """An Alembic configuration for this package's migrations, independent of the working directory."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade_database(url: str, *, revision: str = "head") -> None:
    """Apply every migration up to ``revision`` to the database at ``url``, in one transaction
    (SQLite and PostgreSQL both have transactional DDL)."""
    from api.db.session import create_db_engine

    engine = create_db_engine(url)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":  # workers starting together migrate one at a time
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})")
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()
