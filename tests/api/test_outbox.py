"""The outbox's sender (api.services.outbox) on its own, against a real local SMTP server, on SQLite and on
PostgreSQL: two senders working the same outbox at once send every message exactly once; a sender that
died between the server's acceptance and its mark leaves the message to be sent again after its claim ran
out, with the same Message-ID; a message refused until its last attempt is failed and shown to operators;
the backoff doubles, is capped and jittered downwards."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from email.utils import make_msgid

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from api.auth import create_user
from api.clock import ServiceClock
from api.db.migrate import upgrade_database
from api.db.models import Channel, Notice, NoticeKind, OutboxMessage, OutboxStatus
from api.db.session import create_db_engine
from api.mail import MailServer
from api.services.notice_texts import Agency, NoticeTexts
from api.services.outbox import CLAIM_S, OutboxSender, RetryPolicy, outbox_overview
from tests.api.conftest import NOW, ZONE, MovableClock
from tests.api.test_plan_change import database_url  # noqa: F401 (fixture: SQLite file or PostgreSQL schema)
from tests.smtp import LocalSmtp

TEXTS = NoticeTexts(ZONE, "de", Agency("Rufbus Unterland", "+423 000 00 00", "https://rufbus.example"))
DATA = {"reference": "b-1", "window": ["2026-11-23T08:00:00+00:00", "2026-11-23T08:15:00+00:00"],
        "latest_arrival": "2026-11-23T08:40:00+00:00", "pickup": "Vaduz Post", "dropoff": "Schaan Bahnhof"}


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:  # noqa: F811
    """The test's database, migrated."""
    upgrade_database(database_url)
    made = create_db_engine(database_url)
    yield made
    made.dispose()


def write_messages(engine: Engine, count: int) -> list[str]:
    """``count`` confirmation notices of one rider, each with an e-mail waiting; their Message-IDs."""
    with Session(engine) as session:
        rider, _ = create_user(session, name="rider", role="rider")
        ids = []
        for k in range(count):
            notice = Notice(id=uuid.uuid4().hex, user_id=rider.id or 0, booking_id=f"b-{k}",
                            kind=NoticeKind.BOOKING_CONFIRMED, data=DATA | {"reference": f"b-{k}"},
                            created_at=NOW)
            ids.append(make_msgid(domain="rufbus"))
            session.add(notice)
            session.add(OutboxMessage(notice_id=notice.id, channel=Channel.EMAIL,
                                      recipient=f"r{k}@example.org", message_id=ids[-1], next_attempt_at=NOW,
                                      created_at=NOW))
        session.commit()
    return ids


def sender(engine: Engine, server: MailServer, clock: MovableClock, policy: RetryPolicy | None = None
           ) -> OutboxSender:
    """A sender (not started: the test calls ``run_once``) mailing through ``server``."""
    return OutboxSender(engine, clock=ServiceClock(ZONE, wall_clock=clock), texts=TEXTS, mail_server=server,
                        policy=policy or RetryPolicy())


def messages(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all())


def test_two_senders_at_once_send_every_message_exactly_once(engine: Engine, smtp_server: LocalSmtp,
                                                             app_clock: MovableClock) -> None:
    """45 mails waiting, two senders claiming batches of 20 side by side until the outbox is empty: 45
    mails arrive, each Message-ID once, every message sent after one attempt."""
    ids = write_messages(engine, 45)
    senders = [sender(engine, smtp_server.server, app_clock) for _ in range(2)]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(one: OutboxSender) -> None:
        start.wait()
        try:
            while one.run_once():
                pass
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(one,)) for one in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    arrived = smtp_server.mailbox.wait_for(45)
    assert sorted(str(m["Message-ID"]) for m in arrived) == sorted(ids)
    assert [(m.status, m.attempts) for m in messages(engine)] == [(OutboxStatus.SENT, 1)] * 45


def test_a_sender_that_died_after_sending_leaves_the_message_to_be_sent_again_with_the_same_message_id(
        engine: Engine, smtp_server: LocalSmtp, app_clock: MovableClock) -> None:
    """A sender claims a message and the server accepts it, then the sender dies before marking it: the
    message stays claimed — nobody sends it while the claim holds — and once the claim ran out another
    sender sends it again with the same Message-ID (at least once; the receiver drops the duplicate)."""
    [message_id] = write_messages(engine, 1)
    dead = sender(engine, smtp_server.server, app_clock)
    [claimed] = dead._claim()
    dead._send_mail(claimed)  # ... and the process ends here
    other = sender(engine, smtp_server.server, app_clock)
    assert other.run_once() == 0 and messages(engine)[0].status is OutboxStatus.SENDING
    app_clock.moment = NOW + timedelta(seconds=CLAIM_S + 1)
    assert other.run_once() == 1
    first, again = smtp_server.mailbox.wait_for(2)
    assert first["Message-ID"] == again["Message-ID"] == message_id
    [row] = messages(engine)
    assert row.status is OutboxStatus.SENT and row.attempts == 2


def test_a_message_refused_until_its_last_attempt_fails_and_operators_see_it(
        engine: Engine, smtp_server: LocalSmtp, app_clock: MovableClock) -> None:
    """The server refuses every time; with three attempts allowed the message is pending after the first
    and second (each next attempt later than the one before), failed after the third, with its error;
    the operators' view counts it and lists it."""
    write_messages(engine, 1)
    smtp_server.mailbox.refuse = True
    one = sender(engine, smtp_server.server, app_clock, RetryPolicy(base_s=10, cap_s=100, max_attempts=3))
    waits = []
    for attempt in (1, 2):
        assert one.run_once() == 1
        [row] = messages(engine)
        assert row.status is OutboxStatus.PENDING and row.attempts == attempt
        waits.append((row.next_attempt_at - app_clock.moment).total_seconds())
        assert one.run_once() == 0  # not due yet
        app_clock.moment = row.next_attempt_at
    assert 5 <= waits[0] <= 10 and 10 <= waits[1] <= 20
    assert one.run_once() == 1
    [row] = messages(engine)
    assert row.status is OutboxStatus.FAILED and row.attempts == 3
    assert "not accepted" in (row.last_error or "")
    with Session(engine) as session:
        view = outbox_overview(session, zone=ZONE, limit=10)
    assert view.counts[OutboxStatus.FAILED] == 1 and view.counts[OutboxStatus.PENDING] == 0
    assert [(f.id, f.kind, f.booking_id, f.attempts) for f in view.failed] == [
        (row.id, NoticeKind.BOOKING_CONFIRMED, "b-0", 3)]
    assert smtp_server.mailbox.messages == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_without_a_reachable_server_mail_waits_in_the_outbox(engine: Engine, app_clock: MovableClock) -> None:
    """No server listens at the configured port: the attempt fails (MailError), the message waits."""
    write_messages(engine, 1)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = int(probe.getsockname()[1])
    assert sender(engine, MailServer(host="127.0.0.1", port=closed, timeout_s=2), app_clock).run_once() == 1
    [row] = messages(engine)
    assert row.status is OutboxStatus.PENDING and row.attempts == 1
    assert "not accepted" in (row.last_error or "")


def test_the_backoff_doubles_is_capped_and_jitters_downwards() -> None:
    """30 s base: 30, 60, 120 … s without jitter drawn, never above the cap of 300 s, and at most half
    less with the largest draw."""
    policy = RetryPolicy(base_s=30, cap_s=300, max_attempts=10, jitter=0.5)
    assert [policy.delay_s(n, draw=lambda: 0.0) for n in (1, 2, 3, 4, 5, 6)] == [30, 60, 120, 240, 300, 300]
    assert policy.delay_s(2, draw=lambda: 1.0) == 30
    assert all(150 <= policy.delay_s(9) <= 300 for _ in range(50))

