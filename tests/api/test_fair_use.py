"""Fair-use caps (api/services/fair_use.py) through the API, in process on SQLite with a fixed clock:
operators set them (``/v1/operator/fair-use``), bookings over them are refused with 409 and a cap's code,
a burst of bookings cannot pass them, and bookings operators make for a caller count against the caller."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from api.app import create_app
from api.clock import ServiceClock
from api.db.models import Booking, User
from api.settings import Settings
from dispatch.plan import RequestStatus
from tests.api import test_live_workers as live_workers
from tests.api.conftest import NOW, SCHAAN, VADUZ, ZONE, AppSetup, user_keys

database = live_workers.database  # a PostgreSQL URL with a fresh schema (tests/api/test_live_workers.py)
# The service's default caps (the tests' environment lifts them: tests/conftest.py).
DEFAULTS = {"fair_use_max_open_bookings": 10, "fair_use_max_seats_per_slot": 8, "fair_use_slot_minutes": 30}
CLIENT = AppSetup(settings=DEFAULTS,
                  users=(("ann", "rider", None), ("bob", "rider", None), ("op", "operator", None)))


def trip(hour: int = 9, minute: int = 0, seats: int = 1) -> dict:
    """A quote body: Vaduz → Schaan, leave after hour:minute today."""
    return {"origin": VADUZ, "destination": SCHAAN, "time_type": "leave_after",
            "time": NOW.replace(hour=hour, minute=minute).isoformat(), "seats": seats, "wheelchairs": 0}


def headers(client: TestClient, name: str, **extra: str) -> dict[str, str]:
    """The ``Authorization`` header of user ``name`` and ``extra`` headers."""
    return {**client.keys[name], **extra}  # type: ignore[attr-defined]


def set_caps(client: TestClient, **caps: int) -> dict:
    """Put ``caps`` (the others as by default) in force as the operator; the answer's body."""
    body = {"max_open_bookings": 10, "max_seats_per_slot": 8, "slot_minutes": 30, **caps}
    answer = client.put("/v1/operator/fair-use", json=body, headers=headers(client, "op"))
    assert answer.status_code == 200, answer.text
    return answer.json()


def quote(client: TestClient, name: str, **kwargs: int) -> str:
    """A quote for ``name`` that must get an offer; its id."""
    answer = client.post("/v1/quotes", json=trip(**kwargs), headers=headers(client, name))
    assert answer.status_code == 200, answer.text
    return answer.json()["quote_id"]


def book(client: TestClient, name: str, quote_id: str):
    """Book ``quote_id`` as ``name`` (the key: the quote's id); the answer."""
    return client.post("/v1/bookings", json={"quote_id": quote_id},
                       headers=headers(client, name, **{"Idempotency-Key": quote_id}))


def booked_seats(client: TestClient, rider: str) -> int:
    """Seats in the open bookings stored for the user named ``rider``."""
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        user = session.exec(select(User).where(User.name == rider)).one()
        return sum(row.seats for row in session.exec(select(Booking).where(
            col(Booking.rider_id) == user.id, col(Booking.status) == RequestStatus.BOOKED)).all())


def test_twelve_bookings_of_eight_seats_at_nine_stop_at_the_seats_cap(client):
    """The issue's rider: with at most 16 seats per 30 minutes, two bookings of 8 seats at 09:00 go
    through and every further one is refused 409 ``too_many_seats_in_slot``; the seats stay for others —
    bob still books 8 seats at 09:00."""
    set_caps(client, max_open_bookings=20, max_seats_per_slot=16, slot_minutes=30)
    statuses, codes = [], set()
    for _ in range(12):
        answer = client.post("/v1/quotes", json=trip(seats=8), headers=headers(client, "ann"))
        if answer.status_code != 200:
            statuses.append(answer.status_code)
            continue
        booked = book(client, "ann", answer.json()["quote_id"])
        statuses.append(booked.status_code)
        if booked.status_code == 409:
            codes.add(booked.json()["code"])
    assert statuses[:2] == [201, 201]
    assert statuses[2:] == [409] * 10 and codes == {"too_many_seats_in_slot"}
    assert booked_seats(client, "ann") == 16
    assert book(client, "bob", quote(client, "bob", seats=8)).status_code == 201


def test_seats_count_within_the_slot_only(client):
    """With 8 seats per 30 minutes: 8 seats at 09:00 fill ann's slot (one more at 09:10 is refused), but
    one seat at 10:00 — more than 30 minutes later — is booked."""
    set_caps(client, max_seats_per_slot=8, slot_minutes=30)
    assert book(client, "ann", quote(client, "ann", seats=8)).status_code == 201
    refused = book(client, "ann", quote(client, "ann", minute=10))
    assert refused.status_code == 409 and refused.json()["code"] == "too_many_seats_in_slot"
    assert book(client, "ann", quote(client, "ann", hour=10)).status_code == 201


def test_open_bookings_are_capped_until_one_is_cancelled(client):
    """With at most 3 open bookings, ann's fourth (at another hour) is refused 409
    ``too_many_open_bookings``; once she cancels one, the next is booked."""
    set_caps(client, max_open_bookings=3)
    made = [book(client, "ann", quote(client, "ann", hour=hour)) for hour in (9, 10, 11)]
    assert [answer.status_code for answer in made] == [201, 201, 201]
    refused = book(client, "ann", quote(client, "ann", hour=12))
    assert refused.status_code == 409 and refused.json()["code"] == "too_many_open_bookings"
    assert "3" in refused.json()["message"]
    cancelled = client.delete(f"/v1/bookings/{made[0].json()['id']}", headers=headers(client, "ann"))
    assert cancelled.status_code == 200
    assert book(client, "ann", quote(client, "ann", hour=12)).status_code == 201


def test_a_refused_booking_keeps_its_quote_open(client):
    """A booking refused by a cap books nothing and leaves the quote open: once the operator raises the
    cap, the same quote is booked."""
    set_caps(client, max_open_bookings=1)
    assert book(client, "ann", quote(client, "ann", hour=9)).status_code == 201
    waiting = quote(client, "ann", hour=11)
    assert book(client, "ann", waiting).status_code == 409
    set_caps(client, max_open_bookings=2)
    assert book(client, "ann", waiting).status_code == 201


def test_caps_set_by_operators_take_effect_at_once_and_keep_their_history(client):
    """Before any change the settings' defaults are in force (version null); each change is a new version
    read back at once, and the very next booking is held to it."""
    first = client.get("/v1/operator/fair-use", headers=headers(client, "op")).json()
    assert first == {"max_open_bookings": 10, "max_seats_per_slot": 8, "slot_minutes": 30, "version": None,
                     "valid_from": None}
    changed = set_caps(client, max_open_bookings=1, max_seats_per_slot=4, slot_minutes=60)
    assert changed["version"] is not None and changed["valid_from"] is not None
    again = set_caps(client, max_open_bookings=1, max_seats_per_slot=3, slot_minutes=60)
    assert again["version"] > changed["version"]
    assert client.get("/v1/operator/fair-use", headers=headers(client, "op")).json() == again
    refused = book(client, "ann", quote(client, "ann", seats=4))
    assert refused.status_code == 409 and refused.json()["code"] == "too_many_seats_in_slot"


def test_bad_caps_are_refused_with_422_and_riders_may_not_set_them(client):
    """Zero or negative caps, a slot under 5 minutes or over a day, a text, an unknown field, a missing
    one: 422 ``invalid_request``, nothing stored; a rider gets 403."""
    valid = {"max_open_bookings": 10, "max_seats_per_slot": 8, "slot_minutes": 30}
    for change in ({"max_open_bookings": 0}, {"max_seats_per_slot": -1}, {"slot_minutes": 1},
                   {"slot_minutes": 24 * 60 + 1}, {"max_open_bookings": "many"}, {"max_rides": 3}):
        body = {**valid, **change}
        answer = client.put("/v1/operator/fair-use", json=body, headers=headers(client, "op"))
        assert answer.status_code == 422, body
        assert answer.json()["code"] == "invalid_request"
    missing = client.put("/v1/operator/fair-use", json={"max_open_bookings": 3},
                         headers=headers(client, "op"))
    assert missing.status_code == 422
    assert client.get("/v1/operator/fair-use", headers=headers(client, "op")).json()["version"] is None
    assert client.put("/v1/operator/fair-use", json=valid, headers=headers(client, "ann")).status_code == 403


def test_bookings_an_operator_makes_for_a_caller_count_against_the_caller(client):
    """ann holds 8 seats at 09:00 (the default cap); the operator's booking of one more seat for her is
    refused ``too_many_seats_in_slot``, the same booking for bob goes through, and both are bob's and
    ann's bookings, not the operator's."""
    assert book(client, "ann", quote(client, "ann", seats=8)).status_code == 201
    riders = {name: client.get("/v1/operator/riders", params={"q": name},
                               headers=headers(client, "op")).json()[0]["id"] for name in ("ann", "bob")}

    def desk_quote(rider: str) -> str:
        answer = client.post(f"/v1/operator/riders/{riders[rider]}/quotes", json=trip(),
                             headers=headers(client, "op"))
        assert answer.status_code == 200, answer.text
        return answer.json()["quote_id"]

    refused = book(client, "op", desk_quote("ann"))
    assert refused.status_code == 409 and refused.json()["code"] == "too_many_seats_in_slot"
    for_bob = book(client, "op", desk_quote("bob"))
    assert for_bob.status_code == 201 and booked_seats(client, "bob") == 1


def burst_of_bookings(client: TestClient) -> None:
    """Six quotes booked at once from six threads with at most 2 open bookings: exactly two are booked,
    the others refused ``too_many_open_bookings`` — each booking's check sees the ones before it."""
    set_caps(client, max_open_bookings=2)
    quotes = [quote(client, "ann", hour=hour) for hour in range(9, 15)]
    answers: list = [None] * len(quotes)
    start = threading.Barrier(len(quotes))

    def run(k: int) -> None:
        start.wait()
        answers[k] = book(client, "ann", quotes[k])

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(quotes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201, 201, 409, 409, 409, 409]
    assert {answer.json()["code"] for answer in answers if answer.status_code == 409} == \
        {"too_many_open_bookings"}
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        assert len(session.exec(select(Booking).where(col(Booking.id).in_(quotes))).all()) == 2


def test_a_burst_of_bookings_cannot_pass_the_open_bookings_cap(client):
    """On SQLite: six bookings at once, at most two open — two booked, four refused."""
    burst_of_bookings(client)


@pytest.mark.postgres
def test_a_burst_of_bookings_cannot_pass_the_open_bookings_cap_on_postgresql(database):
    """The same burst on PostgreSQL (a fresh schema): two booked, four refused."""
    app = create_app(Settings(database_url=database, **DEFAULTS),
                     clock=ServiceClock(ZONE, wall_clock=lambda: NOW))
    with TestClient(app) as client:
        client.keys = user_keys(client, CLIENT.users)  # type: ignore[attr-defined]
        burst_of_bookings(client)
