"""Riders' notifications through the real app, its sender and a real local SMTP server, on SQLite and on
PostgreSQL (api.services.notifications, api.services.outbox, api.routes.notices): a booking confirmed, a
pickup time changed by a late bus, a ride cancelled by an operator or by a withdrawn bus — each an e-mail
and an in-app notice (pushed on the booking's stream); a mail server that refuses keeps the message in the
outbox, tried again after its backoff, delivered once the server takes it, and only once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from api.app import create_app
from api.auth import create_user
from api.clock import ServiceClock
from api.db.models import Notice, OutboxMessage, OutboxStatus, User
from api.settings import Settings
from tests.api.conftest import NOW, SCHAAN, ZONE, MovableClock, book_vaduz_schaan
from tests.api.test_late_bus import MAX_MESSAGES
from tests.api.test_plan_change import database_url  # noqa: F401 (fixture: SQLite file or PostgreSQL schema)
from tests.smtp import LocalSmtp

RIDER_MAIL = "rider@example.org"
RETRY_BASE_S = 60.0


@contextmanager
def app_with(url: str, app_clock: MovableClock, smtp: LocalSmtp, **settings: Any) -> Iterator[TestClient]:
    """The app with one bus (bus-1) sending mail to ``smtp``, its sender looking every 0.1 s; keys of a
    rider with an e-mail address, a rider without one, an operator and bus-1's driver in ``client.keys``."""
    server = smtp.server
    app = create_app(Settings(database_url=url, demo_buses=1, smtp_host=server.host, smtp_port=server.port,
                              mail_from=server.sender, outbox_poll_s=0.1, outbox_retry_base_s=RETRY_BASE_S,
                              **settings),
                     clock=ServiceClock(ZONE, wall_clock=app_clock))
    with TestClient(app) as test_client:
        keys = {}
        with Session(app.state.engine) as session:
            for name, role, bus in (("rider", "rider", None), ("no_mail", "rider", None),
                                    ("operator", "operator", None), ("bus-1", "driver", "bus-1")):
                user, key = create_user(session, name=name, role=role, vehicle_id=bus)
                keys[name] = {"Authorization": f"Bearer {key}"}
                if name == "rider":
                    user.email = RIDER_MAIL
                    session.add(user)
                    session.commit()
        test_client.keys = keys  # type: ignore[attr-defined]
        yield test_client


@pytest.fixture
def client(database_url: str, app_clock: MovableClock, smtp_server: LocalSmtp  # noqa: F811
           ) -> Iterator[TestClient]:
    """The app on the test's database, mailing to the test's SMTP server, in the agency's German."""
    with app_with(database_url, app_clock, smtp_server) as test_client:
        yield test_client


def book(client: TestClient, who: str = "rider", minute: int = 0) -> dict:
    """``who`` books Vaduz → Schaan leaving after 09:``minute`` today."""
    return book_vaduz_schaan(client, NOW.replace(hour=9, minute=minute), who)


def text_of(message: EmailMessage) -> str:
    """The plain-text part of ``message``."""
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def outbox(client: TestClient) -> list[OutboxMessage]:
    """The outbox's messages (e-mails), oldest first."""
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all())


def first_of_each(websocket: Any, *kinds: str) -> dict[str, dict]:
    """The first message of each of ``kinds`` on ``websocket``, in whatever order they come (skipping
    others, at most MAX_MESSAGES)."""
    seen: dict[str, dict] = {}
    for _ in range(MAX_MESSAGES):
        message = websocket.receive_json()
        seen.setdefault(message["kind"], message)
        if all(kind in seen for kind in kinds):
            return seen
    raise AssertionError(f"not all of {kinds} among {MAX_MESSAGES} messages: {sorted(seen)}")


def wait_until(condition: Any, timeout_s: float = 10.0) -> None:
    """Wait until ``condition()`` holds (the sender works on a thread of its own)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def test_a_booking_is_confirmed_by_mail_and_in_the_app_and_an_operators_cancellation_is_told(
        client: TestClient, smtp_server: LocalSmtp) -> None:
    """The rider books: a confirmation in German (the agency's language) arrives at their address, naming
    the booking reference and the pickup window, with an HTML part and no coordinates; the app lists it as
    an unread notice, which the rider marks read. The rider cancels a second booking themselves: no mail
    about that. An operator cancels the first one at the desk: a cancellation mail arrives. The rider
    without an address gets the notice in the app only."""
    keys = client.keys  # type: ignore[attr-defined]
    booking = book(client)
    [confirmation] = smtp_server.mailbox.wait_for(1)
    assert confirmation["To"] == RIDER_MAIL and confirmation["Subject"].startswith("Buchung bestätigt")
    body = text_of(confirmation)
    start = datetime.fromisoformat(booking["pickup_window"]["start"]).astimezone(ZONE)
    assert booking["id"] in body and start.strftime("%H:%M") in body
    assert "47.1" not in body and "9.5" not in body  # no coordinates of where the rider lives
    assert confirmation.get_body(("html",)) is not None

    notices = client.get("/v1/rider/notices", headers=keys["rider"]).json()
    assert notices["unread"] == 1 and notices["total"] == 1
    [notice] = notices["items"]
    assert notice["kind"] == "booking_confirmed" and notice["booking_id"] == booking["id"]
    assert not notice["read"] and booking["id"] in notice["text"]
    read = client.post(f"/v1/rider/notices/{notice['id']}/read", headers=keys["rider"])
    assert read.status_code == 200 and read.json()["read"]
    assert client.get("/v1/rider/notices?unread=true", headers=keys["rider"]).json()["items"] == []
    assert client.post(f"/v1/rider/notices/{notice['id']}/read", headers=keys["no_mail"]).status_code == 404

    own = book(client, minute=30)
    assert client.delete(f"/v1/bookings/{own['id']}", headers=keys["rider"]).status_code == 200
    assert client.delete(f"/v1/bookings/{booking['id']}", headers=keys["operator"]).status_code == 200
    mails = smtp_server.mailbox.wait_for(3)
    assert mails[2]["Subject"].startswith("Fahrt storniert") and booking["id"] in text_of(mails[2])
    kinds = [n["kind"] for n in client.get("/v1/rider/notices", headers=keys["rider"]).json()["items"]]
    assert sorted(kinds) == ["booking_cancelled", "booking_confirmed", "booking_confirmed"]

    book(client, who="no_mail", minute=45)
    assert client.get("/v1/rider/notices", headers=keys["no_mail"]).json()["total"] == 1
    assert [m.recipient for m in outbox(client)] == [RIDER_MAIL] * 3  # none for the rider without one
    time.sleep(0.3)
    assert len(smtp_server.mailbox.messages) == 3


def test_a_late_bus_sends_the_new_pickup_time_by_mail_and_on_the_booking_stream(
        client: TestClient, smtp_server: LocalSmtp, app_clock: MovableClock) -> None:
    """Booked for 09:00; at 09:30 the driver reports the bus still in Schaan. The rider's stream gets the
    new promise and then a ``pickup_changed`` notice; a mail with the new pickup window follows the
    confirmation, in English for a rider who chose English."""
    keys = client.keys  # type: ignore[attr-defined]
    settings = {"language": "en", "email_booking_confirmed": False, "email_pickup_changed": True,
                "email_booking_cancelled": True}
    chosen = client.put("/v1/rider/notification-settings", json=settings, headers=keys["rider"])
    assert chosen.status_code == 200 and chosen.json() == settings | {"has_email": True}
    for bad in ({"language": "fr"}, {"language": "en\u0000"}, {"email": "x@example.org"},
                {"email_pickup_changed": "sometimes"}):
        refused = client.put("/v1/rider/notification-settings", json=bad, headers=keys["rider"])
        assert refused.status_code == 422 and refused.json()["code"] == "invalid_request"
    too_long = client.post(f"/v1/rider/notices/{'x' * 65}/read", headers=keys["rider"])
    assert too_long.status_code == 422
    assert client.get("/v1/rider/notices?limit=1e999", headers=keys["rider"]).status_code == 422
    booking = book(client)
    app_clock.moment = NOW.replace(hour=9, minute=30)
    report = {"positions": [{**SCHAAN, "at": app_clock.moment.isoformat()}]}
    with client.websocket_connect(f"/v1/bookings/{booking['id']}/stream", headers=keys["rider"]) as stream:
        assert stream.receive_json()["kind"] == "booking"
        assert client.post("/v1/driver/positions", json=report, headers=keys["bus-1"]).status_code == 202
        seen = first_of_each(stream, "promise_changed", "notice")  # the notice is pushed at the commit,
        told, pushed = seen["promise_changed"], seen["notice"]["notice"]  # the booking's update right after
    assert pushed["kind"] == "pickup_changed" and pushed["booking_id"] == booking["id"]
    assert pushed["title"].startswith("New pickup time")
    [changed] = smtp_server.mailbox.wait_for(1)  # the confirmation was not wanted by mail
    assert changed["Subject"].startswith("New pickup time")
    new_end = datetime.fromisoformat(told["booking"]["pickup_window"]["end"]).astimezone(ZONE)
    old_end = datetime.fromisoformat(booking["pickup_window"]["end"]).astimezone(ZONE)
    body = text_of(changed)
    assert new_end.strftime("%H:%M") in body and f"previously until {old_end:%H:%M}" in body
    assert booking["id"] in body


def test_a_refused_mail_waits_in_the_outbox_is_tried_again_after_its_backoff_and_arrives_once(
        client: TestClient, smtp_server: LocalSmtp, app_clock: MovableClock) -> None:
    """The mail server answers 451: the confirmation stays pending with one attempt, its error and a next
    attempt between half the backoff and the backoff ahead; while the clock stands, the sender leaves it.
    The server takes mail again and the clock passes the next attempt: the mail arrives, once; operators
    see it sent."""
    keys = client.keys  # type: ignore[attr-defined]
    smtp_server.mailbox.refuse = True
    book(client)
    wait_until(lambda: outbox(client)[0].attempts == 1 and outbox(client)[0].status is OutboxStatus.PENDING)
    [waiting] = outbox(client)
    assert waiting.last_error is not None and "not accepted" in waiting.last_error
    ahead = (waiting.next_attempt_at - NOW).total_seconds()
    assert RETRY_BASE_S / 2 <= ahead <= RETRY_BASE_S
    time.sleep(0.5)  # five looks of the sender: not due yet
    assert outbox(client)[0].attempts == 1 and smtp_server.mailbox.messages == []
    view = client.get("/v1/operator/outbox", headers=keys["operator"]).json()
    assert view["counts"]["pending"] == 1 and view["failed"] == []

    smtp_server.mailbox.refuse = False
    app_clock.moment = NOW + timedelta(seconds=RETRY_BASE_S + 1)
    [mail] = smtp_server.mailbox.wait_for(1)
    assert mail["Message-ID"] == waiting.message_id
    wait_until(lambda: outbox(client)[0].status is OutboxStatus.SENT)
    time.sleep(0.5)
    assert len(smtp_server.mailbox.messages) == 1 and outbox(client)[0].attempts == 2
    assert client.get("/v1/operator/outbox", headers=keys["operator"]).json()["counts"]["sent"] == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_riders_no_other_bus_can_take_are_told_their_ride_is_cancelled_when_the_bus_is_withdrawn(
        client: TestClient, smtp_server: LocalSmtp) -> None:
    """The only bus is taken out of service: its rider is rejected, and told by mail and in the app that
    the ride was cancelled because the bus is out of service."""
    keys = client.keys  # type: ignore[attr-defined]
    booking = book(client)
    withdrawn = client.post("/v1/operator/vehicles/bus-1/out-of-service", headers=keys["operator"]).json()
    assert [r["booking_id"] for r in withdrawn["rejected"]] == [booking["id"]]
    mails = smtp_server.mailbox.wait_for(2)
    assert mails[1]["Subject"].startswith("Fahrt storniert") and "Der Bus fällt aus" in text_of(mails[1])
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        notices = session.exec(select(Notice).where(Notice.booking_id == booking["id"])).all()
        assert sorted((n.kind.value, n.data.get("reason")) for n in notices) == [
            ("booking_cancelled", "vehicle_out_of_service"), ("booking_confirmed", None)]
        rider = session.exec(select(User).where(User.email == RIDER_MAIL)).one()
        assert {n.user_id for n in notices} == {rider.id}


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_an_operator_sends_a_failed_mail_again_once_the_server_takes_mail(
        database_url: str, app_clock: MovableClock, smtp_server: LocalSmtp) -> None:  # noqa: F811
    """With one attempt allowed, a refused confirmation fails at once and operators see it failed. An
    operator sends it again: it is due now, arrives once with its Message-ID, and is sent; sending it again
    then is 409, an unknown id 404, an id past 64 bits 422, and riders may not (403)."""
    with app_with(database_url, app_clock, smtp_server, outbox_max_attempts=1) as client:
        keys = client.keys  # type: ignore[attr-defined]
        smtp_server.mailbox.refuse = True
        book(client)
        wait_until(lambda: outbox(client)[0].status is OutboxStatus.FAILED)
        [failed] = outbox(client)
        view = client.get("/v1/operator/outbox", headers=keys["operator"]).json()
        assert [m["id"] for m in view["failed"]] == [failed.id] and view["counts"]["failed"] == 1

        smtp_server.mailbox.refuse = False
        assert client.post(f"/v1/operator/outbox/{failed.id}/retry", headers=keys["rider"]).status_code == 403
        retried = client.post(f"/v1/operator/outbox/{failed.id}/retry", headers=keys["operator"])
        assert retried.status_code == 200, retried.text
        assert retried.json()["status"] == "pending"
        [mail] = smtp_server.mailbox.wait_for(1)
        assert mail["Message-ID"] == failed.message_id
        wait_until(lambda: outbox(client)[0].status is OutboxStatus.SENT)
        assert outbox(client)[0].attempts == 1 and outbox(client)[0].last_error is None
        again = client.post(f"/v1/operator/outbox/{failed.id}/retry", headers=keys["operator"])
        assert again.status_code == 409 and again.json()["code"] == "not_failed"
        unknown = client.post(f"/v1/operator/outbox/{failed.id + 1000}/retry", headers=keys["operator"])
        assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_message"
        assert client.post(f"/v1/operator/outbox/{2**63}/retry", headers=keys["operator"]).status_code == 422
        time.sleep(0.3)
        assert len(smtp_server.mailbox.messages) == 1
