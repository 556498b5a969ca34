"""Operators keep the service calendar (api.services.service_calendar, /v1/operator/calendar) through the
API in process, on SQLite and on PostgreSQL: its edits refuse quotes at once and after a restart, and bad
calendars are 422 with nothing stored. The clock stands at 08:00 on Monday 23 November 2026; the demo bus
has one shift from then to Sunday 29 November 23:00."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.app import create_app
from api.clock import ServiceClock
from api.db.models import Event, ServiceException, ServiceWeekday
from api.settings import Settings
from tests.api.conftest import NOW, OPERATOR, RIDER, SCHAAN, VADUZ, ZONE, postgres_schema, user_keys

URL = "/v1/operator/calendar"
WEDNESDAY = date(2026, 11, 25)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of this test's own: a SQLite file, or a fresh schema on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'rufbus.sqlite3'}"
        return
    server_url = request.getfixturevalue("postgres_url")
    with postgres_schema(server_url, "rufbus_calendar") as url:
        yield url


@pytest.fixture
def open_app(database_url: str) -> Callable[[], AbstractContextManager[TestClient]]:
    """Open the app with one demo bus on the test's database (again: it finds what the first one stored);
    keys of a new operator and rider in ``client.keys``."""
    @contextmanager
    def make() -> Iterator[TestClient]:
        app = create_app(Settings(database_url=database_url, demo_buses=1),
                         clock=ServiceClock(ZONE, wall_clock=lambda: NOW))
        with TestClient(app, raise_server_exceptions=False) as client:  # a 500 is an answer to check
            client.keys = user_keys(client, (  # type: ignore[attr-defined]
                (f"{OPERATOR[0]}-{secrets.token_hex(3)}", "operator", None),
                (f"{RIDER[0]}-{secrets.token_hex(3)}", "rider", None)))
            yield client

    return make


def operator(client: TestClient) -> dict[str, str]:
    return next(v for k, v in client.keys.items() if k.startswith("operator"))  # type: ignore[attr-defined]


def rider(client: TestClient) -> dict[str, str]:
    return next(v for k, v in client.keys.items() if k.startswith("rider"))  # type: ignore[attr-defined]


def quote(client: TestClient, day: date, hour: int):
    moment = datetime(day.year, day.month, day.day, hour, tzinfo=ZONE)
    return client.post("/v1/quotes", headers=rider(client), json={
        "origin": VADUZ, "destination": SCHAAN, "time_type": "leave_after", "time": moment.isoformat(),
        "seats": 1, "wheelchairs": 0})


def test_a_new_service_runs_the_standard_hours_every_day(open_app):
    """Nothing stored: the standard hours 05:00–23:00, no weekday of its own, no exception; a rider may
    not read the calendar (403)."""
    with open_app() as client:
        assert client.get(URL, headers=operator(client)).json() == {
            "standard": {"start_s": 5 * 3600, "end_s": 23 * 3600}, "weekdays": {}, "exceptions": []}
        assert client.get(URL, headers=rider(client)).status_code == 403


def test_a_holiday_and_a_closed_sunday_refuse_quotes_at_once_and_after_a_restart(open_app):
    """Put in force without a restart: Sundays closed, Saturdays 08–12, Wednesday 25 November a holiday.
    A quote for the holiday, the Sunday or Saturday 13:00 is 409 outside_hours naming why; Tuesday and
    Saturday 10:00 get offers. A restarted service keeps the calendar; once the holiday is removed that
    Wednesday gets an offer again."""
    body = {"weekdays": {"sunday": None, "saturday": {"start_s": 8 * 3600, "end_s": 12 * 3600}},
            "exceptions": [{"day": WEDNESDAY.isoformat(), "name": "Test Holiday", "hours": None}]}
    with open_app() as client:
        assert quote(client, WEDNESDAY, 10).status_code == 200
        changed = client.put(URL, headers=operator(client), json=body)
        assert changed.status_code == 200, changed.text
        assert changed.json()["exceptions"] == body["exceptions"]
        _assert_refusals(client)
    with open_app() as client:
        _assert_refusals(client)
        assert client.delete(f"{URL}/exceptions/{WEDNESDAY.isoformat()}",
                             headers=operator(client)).status_code == 204
        assert quote(client, WEDNESDAY, 10).status_code == 200
        with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
            assert session.exec(select(ServiceException)).all() == []
            assert {row.weekday for row in session.exec(select(ServiceWeekday))} == {5, 6}
            assert len(session.exec(select(Event).where(Event.kind == "service_calendar_changed")).all()) == 2


def _assert_refusals(client: TestClient) -> None:
    holiday = quote(client, WEDNESDAY, 10)
    assert (holiday.status_code, holiday.json()["code"]) == (409, "outside_hours")
    assert holiday.json()["message"] == "the service is closed on Wednesday 2026-11-25 (Test Holiday)"
    sunday = quote(client, WEDNESDAY + timedelta(days=4), 10)
    assert sunday.json()["message"] == "the service is closed on Sunday 2026-11-29"
    saturday = quote(client, WEDNESDAY + timedelta(days=3), 13)
    assert (saturday.status_code, saturday.json()["message"]) == (
        409, "the service runs 08:00–12:00 on 2026-11-28")
    assert quote(client, WEDNESDAY + timedelta(days=3), 10).status_code == 200
    assert quote(client, WEDNESDAY - timedelta(days=1), 10).status_code == 200


def test_an_exception_added_alone_is_in_force_at_once_and_a_second_one_that_day_is_refused(open_app):
    """POST one exception (special hours 06–09 on Wednesday): 201, a quote for 10:00 that day is refused
    naming those hours; a second exception on that date is 422 invalid_calendar; removing a date without
    one is 404 unknown_exception."""
    exception = {"day": WEDNESDAY.isoformat(), "name": "Market day", "hours": {"start_s": 6 * 3600,
                                                                                "end_s": 9 * 3600}}
    with open_app() as client:
        added = client.post(f"{URL}/exceptions", headers=operator(client), json=exception)
        assert added.status_code == 201, added.text
        assert quote(client, WEDNESDAY, 10).json()["message"] == \
            "the service runs 06:00–09:00 on 2026-11-25 (Market day)"
        again = client.post(f"{URL}/exceptions", headers=operator(client), json={**exception, "hours": None})
        assert (again.status_code, again.json()["code"]) == (422, "invalid_calendar")
        missing = client.delete(f"{URL}/exceptions/2026-11-26", headers=operator(client))
        assert (missing.status_code, missing.json()["code"]) == (404, "unknown_exception")


@pytest.mark.parametrize(("body", "code", "named"), [
    ({"weekdays": {"monday": {"start_s": 20 * 3600, "end_s": 8 * 3600}}}, "invalid_calendar", "monday"),
    ({"weekdays": {"monday": {"start_s": 0, "end_s": 90_000}}}, "invalid_request", "end_s"),
    ({"weekdays": {"funday": None}}, "invalid_request", "funday"),
    ({"exceptions": [{"day": "2026-12-25"}, {"day": "2026-12-25", "name": "again"}]}, "invalid_calendar",
     "more than one exception"),
    ({"exceptions": [{"day": "2062-12-25"}]}, "invalid_calendar", "2062-12-25"),
    ({"exceptions": [{"day": "2026-02-30"}]}, "invalid_request", "day"),
    ({"exceptions": [{"day": "2026-12-25", "hours": {"start_s": 3600}}]}, "invalid_request", "end_s"),
    ({"holidays": []}, "invalid_request", "holidays"),
])
def test_a_bad_calendar_is_422_naming_the_problem_and_nothing_is_stored(open_app, body, code, named):
    """Reversed hours, hours past midnight, no such weekday, two exceptions on one date, a date decades
    ahead, no such date, hours half given, an unknown field: 422 with the code and the problem named;
    the calendar in force and the database stay as they were."""
    with open_app() as client:
        before = client.get(URL, headers=operator(client)).json()
        answer = client.put(URL, headers=operator(client), json=body)
        assert (answer.status_code, answer.json()["code"]) == (422, code), answer.text
        assert named in answer.text
        assert client.get(URL, headers=operator(client)).json() == before
        with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
            assert session.exec(select(ServiceException)).all() == []
            assert session.exec(select(ServiceWeekday)).all() == []
