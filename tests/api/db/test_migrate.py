"""Migrations: ``alembic upgrade head`` yields exactly the schema the SQLModel tables describe."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel

import api.db.models  # noqa: F401  (registers the tables)
from api.db.migrate import alembic_config, upgrade_database
from api.db.session import create_db_engine

TABLES = {"vehicles", "shifts", "shift_breaks", "service_rules", "service_areas", "service_weekdays",
          "simulation_jobs", "cost_settings",
          "service_exceptions", "meeting_points", "bookings", "planned_stops",
          "events", "users", "dispatcher_leases", "demand", "notices", "outbox",
          "notification_preferences", "privacy_settings", "retention_runs", "erasures"}


def head_revision() -> str:
    """The newest revision among the package's migrations."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def test_upgraded_schema_matches_the_models(engine: Engine) -> None:
    """After ``upgrade head`` autogenerate finds nothing to change: migration and models agree."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_upgrade_creates_every_table_and_records_head(engine: Engine) -> None:
    """Every table exists and the database is at the newest revision."""
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) >= TABLES
        assert MigrationContext.configure(connection).get_current_revision() == head_revision()


def test_upgrading_a_database_at_head_again_changes_nothing(database_url: str, engine: Engine) -> None:
    """A service restart runs the upgrade again; at head that is a no-op."""
    upgrade_database(database_url)
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head_revision()


def test_downgrade_to_base_and_upgrade_again_on_a_fresh_sqlite_file(tmp_path) -> None:
    """The initial migration can be undone completely and redone."""
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    upgrade_database(url)
    engine = create_db_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) == {"alembic_version"}
        upgrade_database(url)
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) >= TABLES
    finally:
        engine.dispose()
