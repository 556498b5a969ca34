"""The service under load, for real: a uvicorn process (or several workers) on 127.0.0.1, its own
database (a temporary SQLite file, or a fresh PostgreSQL database made for the run and dropped after),
and the users whose API keys the simulated clients send.

Nothing here fakes a part of the service: the load runner, the fault runner and the tests start the same
``uvicorn`` command an operator would, on :func:`loadtests.server.create_app` (the real app, optionally
on a shifted clock, see :mod:`loadtests.server`)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from api.auth import create_user
from api.db.models import UserRole
from api.db.session import create_db_engine

REPO = Path(__file__).resolve().parent.parent
OFFSET_VARIABLE = "RUFBUS_LOAD_CLOCK_OFFSET_S"  # read by loadtests.server
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# Idle keep-alive connections are kept longer than a client's think time: with uvicorn's 5 s, the server
# closing an idle connection races the client reusing it ("connection closed" on the next request).
KEEP_ALIVE_S = 30
SERVICE_DAY = (clock_time(6), clock_time(19))  # local times a run may start at without shifting the clock
SHIFTED_START = clock_time(8)  # otherwise the service's clock starts the run at 08:00 local


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def clock_offset_for(now: datetime, zone: str = "Europe/Vaduz") -> int:
    """Seconds to shift the service's clock by so that a run starting at ``now`` falls within service
    hours: 0 between 06:00 and 19:00 local, else the shift to 08:00 local of the same day (in real
    seconds: a night the clocks change has an hour more or less)."""
    local = now.astimezone(ZoneInfo(zone))
    if SERVICE_DAY[0] <= local.time() <= SERVICE_DAY[1]:
        return 0
    start = datetime.combine(local.date(), SHIFTED_START, tzinfo=local.tzinfo)
    return int((start.astimezone(UTC) - now.astimezone(UTC)).total_seconds())  # in UTC: real seconds


@dataclass
class Database:
    """The database of one run; ``drop`` removes it (PostgreSQL) when the run is over."""

    url: str
    admin_url: str | None = None  # PostgreSQL: where the run's database (or schema) was created
    schema: str | None = None  # PostgreSQL: the run's schema in an existing database, if it has one

    @classmethod
    def sqlite(cls, directory: Path) -> Database:
        """A new SQLite file in ``directory`` (migrated by the service at start)."""
        return cls(f"sqlite:///{directory / 'rufbus-load.sqlite3'}")

    @classmethod
    def fresh_postgres(cls, admin_url: str = DEFAULT_POSTGRES_URL) -> Database:
        """A new, empty PostgreSQL database ``rufbus_load_<random>`` on the server of ``admin_url``."""
        name = f"rufbus_load_{uuid.uuid4().hex[:12]}"
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        return cls(url, admin_url)

    @classmethod
    def postgres_schema(cls, server_url: str) -> Database:
        """A new, empty schema ``rufbus_load_<random>`` in the existing database of ``server_url``, used
        through ``search_path`` (for a server where the run has one database of its own)."""
        schema = f"rufbus_load_{uuid.uuid4().hex[:12]}"
        engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        finally:
            engine.dispose()
        url = make_url(server_url).update_query_dict({"options": f"-csearch_path={schema}"})
        return cls(url.render_as_string(hide_password=False), server_url, schema)

    def drop(self) -> None:
        """Drop a PostgreSQL database or schema made for the run (a database's connections are ended
        first)."""
        if self.admin_url is None:
            return
        if self.schema is not None:
            engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
            try:
                with engine.connect() as connection:
                    connection.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
            finally:
                engine.dispose()
            return
        name = make_url(self.url).database
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                        "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        finally:
            engine.dispose()


@dataclass
class Keys:
    """The API keys of the simulated users (drivers with the bus each drives)."""

    riders: list[str] = field(default_factory=list)
    drivers: list[tuple[str, str]] = field(default_factory=list)  # (key, vehicle id)
    operators: list[str] = field(default_factory=list)

    def write(self, path: Path) -> None:
        """Save as JSON for the Locust process (never logged)."""
        path.write_text(json.dumps(asdict(self)))

    @classmethod
    def read(cls, path: Path) -> Keys:
        """Load what :meth:`write` saved."""
        data = json.loads(path.read_text())
        return cls(data["riders"], [tuple(d) for d in data["drivers"]], data["operators"])


def create_users(database_url: str, *, riders: int, drivers: int, operators: int) -> Keys:
    """Create the users straight in the service's database: drivers bound to bus-1 … bus-<drivers>
    (the demo fleet, registered by the service at start, so call this once it runs)."""
    engine = create_db_engine(database_url)
    keys = Keys()
    try:
        with Session(engine) as session:
            for k in range(riders):
                keys.riders.append(create_user(session, name=f"load rider {k}", role=UserRole.RIDER)[1])
            for k in range(1, drivers + 1):
                vehicle = f"bus-{k}"
                keys.drivers.append((create_user(session, name=f"load driver {k}", role=UserRole.DRIVER,
                                                 vehicle_id=vehicle)[1], vehicle))
            for k in range(operators):
                keys.operators.append(create_user(session, name=f"load operator {k}",
                                                  role=UserRole.OPERATOR)[1])
    finally:
        engine.dispose()
    return keys


class Service:
    """``uvicorn loadtests.server:create_app`` on 127.0.0.1 with the run's settings; start, kill -9,
    start again on the same port and database."""

    def __init__(self, database_url: str, *, buses: int, workers: int = 1, redis_url: str | None = None,
                 clock_offset_s: int = 0, port: int | None = None, log_path: Path | None = None,
                 area: str = "default") -> None:
        self.database_url, self.buses, self.workers, self.area = database_url, buses, workers, area
        self.redis_url, self.clock_offset_s = redis_url, clock_offset_s
        self.port = port or free_port()
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        """Where the service answers."""
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        """The service's environment: the run's database, fleet size, Redis and clock shift."""
        env = {**os.environ, "DATABASE_URL": self.database_url, "RUFBUS_DEMO_BUSES": str(self.buses),
               "RUFBUS_DEMO_USERS": "false", "RUFBUS_AREA": self.area,
               OFFSET_VARIABLE: str(self.clock_offset_s),
               "PYTHONPATH": str(REPO)}
        env.pop("REDIS_URL", None)
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        return env

    def start(self, timeout_s: float = 120) -> None:
        """Start uvicorn and wait until ``/health`` answers 200."""
        command = [sys.executable, "-m", "uvicorn", "loadtests.server:create_app", "--factory",
                   "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning",
                   "--no-access-log", "--timeout-keep-alive", str(KEEP_ALIVE_S)]
        if self.workers > 1:
            command += ["--workers", str(self.workers)]
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(command, cwd=REPO, env=self.environment(), stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_healthy(timeout_s)

    def wait_healthy(self, timeout_s: float = 120) -> None:
        """Block until ``/health`` answers 200; RuntimeError if the process dies or time runs out."""
        deadline = time.monotonic() + timeout_s
        with httpx.Client(base_url=self.base_url, timeout=5) as client:
            while True:
                if self.process is not None and self.process.poll() is not None:
                    raise RuntimeError(f"the service exited during start (code {self.process.returncode})"
                                       f"; see {self.log_path}")
                try:
                    if client.get("/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the service did not answer within {timeout_s} s")
                time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL every process of the service (no shutdown, no cleanup), and reap it."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        """Shut the service down (SIGTERM, then SIGKILL after 10 s)."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            pass
        self.kill()


def run_clock_offset() -> int:
    """The clock shift for a run starting now (see :func:`clock_offset_for`)."""
    return clock_offset_for(datetime.now(ZoneInfo("UTC")))


def local_now(offset_s: int, zone: str = "Europe/Vaduz") -> datetime:
    """The service's current time under a clock shifted by ``offset_s``."""
    return datetime.now(ZoneInfo(zone)) + timedelta(seconds=offset_s)


class PrivateRedis:
    """A Redis server of the run's own (``redis-server`` on a free port, nothing persisted), so that
    restarting it hurts nobody else's tests."""

    def __init__(self, port: int | None = None, log_path: Path | None = None) -> None:
        self.port = port or free_port()
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Where it listens."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout_s: float = 30) -> None:
        """Start it and wait until it answers PING."""
        import redis

        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(self.port),
                                         "--save", "", "--appendonly", "no"], stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        try:
            while True:
                try:
                    if client.ping():
                        return
                except redis.RedisError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL the server (everything in it is lost: nothing is persisted)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=30)
            self.process = None
