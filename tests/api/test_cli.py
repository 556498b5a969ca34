"""The ``rufbus`` command line's service parts."""

from __future__ import annotations

from sqlalchemy import inspect
from typer.testing import CliRunner

from api.cli import app
from api.db.session import create_db_engine


def test_db_upgrade_migrates_the_database_in_database_url(tmp_path, monkeypatch) -> None:
    """``rufbus db upgrade`` creates the tables in the DATABASE_URL database, directory included."""
    path = tmp_path / "new" / "rufbus.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "newest schema" in result.output
    engine = create_db_engine(f"sqlite:///{path}")
    try:
        assert "bookings" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_serving_with_several_workers_needs_redis(monkeypatch) -> None:
    """``rufbus serve --workers 2`` without REDIS_URL refuses to start (exit code 2) and says why."""
    monkeypatch.delenv("REDIS_URL", raising=False)
    result = CliRunner().invoke(app, ["serve", "--workers", "2"])
    assert result.exit_code == 2
    assert "REDIS_URL" in result.output
