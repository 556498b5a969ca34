"""Settings: DATABASE_URL and REDIS_URL unprefixed, everything else RUFBUS_, defaults that work."""

from __future__ import annotations

import subprocess
import sys

from api.settings import DEFAULT_DATABASE_URL, REPO_ROOT, Settings


def test_defaults_are_a_sqlite_file_under_the_cache_and_no_redis(monkeypatch) -> None:
    """With nothing set the service uses .cache/rufbus/rufbus.sqlite3 and no Redis."""
    for name in ("DATABASE_URL", "REDIS_URL", "RUFBUS_DATABASE_ECHO", "RUFBUS_DATABASE_POOL_SIZE"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert f"sqlite:///{REPO_ROOT / '.cache' / 'rufbus' / 'rufbus.sqlite3'}" == DEFAULT_DATABASE_URL
    assert settings.redis_url is None


def test_environment_names_are_unprefixed_for_urls_and_prefixed_otherwise(monkeypatch) -> None:
    """DATABASE_URL, REDIS_URL and RUFBUS_DATABASE_POOL_SIZE are read; an unprefixed POOL size is not."""
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("REDIS_URL", "redis://h:6379/1")
    monkeypatch.setenv("RUFBUS_DATABASE_POOL_SIZE", "9")
    monkeypatch.setenv("DATABASE_POOL_SIZE", "2")
    settings = Settings()
    assert (settings.database_url, settings.redis_url, settings.database_pool_size) == (
        "postgresql+psycopg://u@h/db", "redis://h:6379/1", 9)


def test_settings_can_be_given_directly_in_tests() -> None:
    """Tests override by keyword, without touching the environment."""
    assert Settings(database_url="sqlite://").database_url == "sqlite://"


def test_importing_the_persistence_modules_connects_to_nothing(tmp_path) -> None:
    """Importing settings, models, session and repository creates no engine and no file."""
    code = ("import gc, api.settings, api.db.models, api.db.session, api.db.repository, api.db.migrate;"
            "from sqlalchemy import Engine;"
            "assert not [o for o in gc.get_objects() if isinstance(o, Engine)]")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True,
                            env={"DATABASE_URL": f"sqlite:///{tmp_path / 'never.sqlite3'}", "PATH": ""})
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "never.sqlite3").exists()
