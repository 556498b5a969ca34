"""What the API tests share: the service's time zone and the tests' morning, the places trips go
between, a clock the tests can move, and the app in process (TestClient) on its own SQLite file.

A test module says how its app is made with ``CLIENT = AppSetup(...)`` (settings that differ from the
defaults, the users whose keys the client carries in ``client.keys``); ``client`` gives each test a
fresh app on that setup with the clock ``app_clock``, ``module_client`` one app for the whole module
with the clock standing at :data:`NOW`, and ``client_factory(**settings)`` more apps, or the same one
again, on the test's directory.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import make_url, text
from sqlmodel import Session

from api.app import create_app
from api.auth import create_user
from api.clock import ServiceClock
from api.db.session import create_db_engine
from api.settings import Settings

ZONE = ZoneInfo("Europe/Vaduz")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=ZONE)  # the tests' morning: 08:00 local, a Monday
VADUZ = {"lat": 47.1410, "lon": 9.5215}
SCHAAN = {"lat": 47.1650, "lon": 9.5090}  # 3 km north of Vaduz
ZURICH = {"lat": 47.3769, "lon": 8.5417}  # outside the service area

User = tuple[str, str, str | None]  # name, role, the bus a driver is bound to
RIDER: User = ("rider", "rider", None)
DRIVER: User = ("driver", "driver", "bus-1")
OPERATOR: User = ("operator", "operator", None)


class MovableClock:
    """A wall clock the tests set (``clock.moment = ...``)."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@dataclass(frozen=True)
class AppSetup:
    """How a module's app is made: settings other than the defaults, and the users created at start
    whose ``Authorization`` headers the client carries in ``client.keys`` (by user name)."""

    settings: Mapping[str, Any] = field(default_factory=dict)
    users: tuple[User, ...] = ()


def user_keys(client: TestClient, users: tuple[User, ...]) -> dict[str, dict[str, str]]:
    """Create ``users`` in the app's database; their ``Authorization`` headers by name."""
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        keys = {name: create_user(session, name=name, role=role, vehicle_id=bus)[1]
                for name, role, bus in users}
    return {name: {"Authorization": f"Bearer {key}"} for name, key in keys.items()}


def book_vaduz_schaan(client: TestClient, leave_after: datetime, who: str = "rider") -> dict:
    """``who`` (a name in ``client.keys``) books one seat Vaduz → Schaan leaving after ``leave_after``
    through the riders' API (quote, then booking with the quote's id as Idempotency-Key); the booking."""
    keys = client.keys[who]  # type: ignore[attr-defined]
    body = {"origin": VADUZ, "destination": SCHAAN, "time_type": "leave_after",
            "time": leave_after.isoformat(), "seats": 1, "wheelchairs": 0}
    offer = client.post("/v1/quotes", json=body, headers=keys)
    assert offer.status_code == 200, offer.text
    quote_id = offer.json()["quote_id"]
    booked = client.post("/v1/bookings", json={"quote_id": quote_id},
                         headers=keys | {"Idempotency-Key": quote_id})
    assert booked.status_code == 201, booked.text
    return booked.json()


@contextmanager
def open_client(directory: Path, setup: AppSetup, wall_clock: Callable[[], datetime] | None = None
                ) -> Iterator[TestClient]:
    """The app of ``setup`` on ``directory``/rufbus.sqlite3 (kept: opening it again finds the same
    database), started, its clock on ``wall_clock`` (standing at :data:`NOW` by default)."""
    settings = Settings(database_url=f"sqlite:///{directory / 'rufbus.sqlite3'}", **setup.settings)
    app = create_app(settings, clock=ServiceClock(ZONE, wall_clock=wall_clock or (lambda: NOW)))
    with TestClient(app) as test_client:
        test_client.keys = user_keys(test_client, setup.users)  # type: ignore[attr-defined]
        yield test_client


def module_setup(request: pytest.FixtureRequest) -> AppSetup:
    """The test module's ``CLIENT`` (the defaults without one)."""
    return getattr(request.module, "CLIENT", AppSetup())


@pytest.fixture
def app_clock() -> MovableClock:
    """The clock of one test's apps, standing at :data:`NOW` until the test moves it."""
    return MovableClock(NOW)


@pytest.fixture
def client_factory(request: pytest.FixtureRequest, tmp_path: Path, app_clock: MovableClock
                ) -> Callable[..., AbstractContextManager[TestClient]]:
    """Open the module's app on the test's directory with ``app_clock``, with settings changed by the
    keyword arguments; opened twice, the second app finds the first one's database."""
    setup = module_setup(request)

    def make(**settings: Any) -> AbstractContextManager[TestClient]:
        changed = AppSetup({**setup.settings, **settings}, setup.users)
        return open_client(tmp_path, changed, app_clock)

    return make


@pytest.fixture
def client(client_factory: Callable[..., AbstractContextManager[TestClient]]) -> Iterator[TestClient]:
    """A fresh app for this test, made as the module's ``CLIENT`` says."""
    with client_factory() as test_client:
        yield test_client


@pytest.fixture(scope="module")
def module_client(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[TestClient]:
    """One app for the whole module, made as its ``CLIENT`` says, the clock standing at :data:`NOW`."""
    directory = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
    with open_client(directory, module_setup(request)) as test_client:
        yield test_client


@contextmanager
def postgres_schema(server_url: str, prefix: str) -> Iterator[str]:
    """A fresh schema named ``prefix`` plus a random suffix on the PostgreSQL server at ``server_url``,
    dropped afterwards; yields a URL whose ``search_path`` is that schema."""
    schema = f"{prefix}_{secrets.token_hex(6)}"
    admin = create_db_engine(server_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield make_url(server_url).update_query_dict(
            {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
