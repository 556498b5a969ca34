"""The sender: delivers the outbox's messages (:mod:`api.services.notifications` writes them with the
change that causes them) — e-mails through :func:`api.mail.send_mail` — and keeps each message's state.
(A notice's push to the rider's open app goes out when its change commits, :mod:`api.services.notice_push`:
a push later is no use.) Without a mail server (no ``RUFBUS_SMTP_HOST``) the sender does not run, and
e-mails wait, pending, until one is set.

**Claiming.** A sender takes a batch of due messages (pending and due, or claimed by a sender whose claim
ran out) with one ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING id`` that marks them
``sending``, names itself and sets ``claimed_until`` (now + :data:`CLAIM_S`), counting the attempt, and
commits before it delivers anything. On PostgreSQL two senders never claim the same message (the row
locks, skipped by the other, last until the claim commits; the outer ``WHERE`` re-checks it is due); on
SQLite the claim is the transaction's first statement and takes the write lock. Only the worker that
dispatches runs the sender (with Redis: the lease holder), so normally there is one; the claim makes
two harmless.

**Delivering.** After a delivery the sender marks the message ``sent`` — only if its claim is still its
own. On a :class:`~api.mail.MailError` the message goes back to ``pending`` with its
next attempt after an exponential backoff with jitter, capped (:class:`RetryPolicy`); after the last
attempt it is ``failed``, which operators see (``GET /v1/operator/outbox``). Times are the service
clock's instants (:mod:`api.clock`).

**Guarantee: at least once, with a stable Message-ID.** A message is claimed by one sender at a time and
marked sent right after the server accepted it. If the process dies between the server's acceptance and
that mark, the claim runs out and the message is sent again — with the same ``Message-ID`` (fixed when
the row was written), by which mail clients and servers drop the duplicate. Nothing is lost: a change's
messages are committed with the change, and a message leaves ``pending``/``sending`` only as ``sent`` or
``failed``.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import uuid
import weakref
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, event, or_, update
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, func, select

from api.clock import ServiceClock
from api.db.models import Notice, NotificationPreferences, OutboxMessage, OutboxStatus
from api.errors import Conflict, NotFound
from api.mail import Mail, MailError, MailServer, send_mail
from api.schemas import OutboxFailure, OutboxPublic, OutboxRetried
from api.services.notice_texts import NoticeTexts, mail_text
from api.services.notifications import STAGED

logger = logging.getLogger(__name__)

CLAIM_S = 120  # how long a claim holds: longer than any delivery (the SMTP timeout is at most 120 s)
BATCH = 20  # messages claimed at once
ERROR_LENGTH = 500

class DeliveryError(Exception):
    """A message could not be delivered this time (it is tried again)."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When a failed delivery is tried again: after ``base_s`` doubled with every attempt, at most
    ``cap_s``, less a random part of up to ``jitter`` of it (so that messages failed together spread out);
    after ``max_attempts`` attempts the message has failed."""

    base_s: float = 30.0
    cap_s: float = 3600.0
    max_attempts: int = 10
    jitter: float = 0.5

    def delay_s(self, attempts: int, draw: Callable[[], float] = random.random) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt."""
        full = min(self.cap_s, self.base_s * 2 ** max(0, attempts - 1))
        return full * (1 - self.jitter * draw())


@dataclass(frozen=True, slots=True)
class Claimed:
    """A message claimed for delivery, with its notice and the rider's language."""

    id: int
    recipient: str
    message_id: str
    attempts: int
    notice: Notice
    language: str


class OutboxSender:
    """Delivers the outbox of ``engine`` through ``mail_server`` on a thread of its own while
    ``is_sender()``: whenever a change wrote messages (woken at its commit), and every ``poll_s`` seconds
    for retries and other processes' messages."""

    def __init__(self, engine: Engine, *, clock: ServiceClock, texts: NoticeTexts,
                 mail_server: MailServer | None, policy: RetryPolicy, poll_s: float = 5.0,
                 is_sender: Callable[[], bool] = lambda: True,
                 write_lock: AbstractContextManager[Any] | None = None) -> None:
        self._engine, self._clock, self._texts = engine, clock, texts
        # SQLite has one writer, and a transaction that read before it writes fails if another wrote in
        # between: there the sender writes under the dispatch lock, like every change of the plan.
        self._write_lock = write_lock if write_lock is not None and engine.dialect.name == "sqlite" \
            else nullcontext()
        self._mail_server, self._policy = mail_server, policy
        self._poll_s, self._is_sender = poll_s, is_sender
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._wake, self._stop = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._run, name="rufbus-outbox", daemon=True)

    def start(self) -> None:
        """Start delivering (without a mail server: nothing to do); changes committed from now on wake the
        sender."""
        if self._mail_server is None:
            return
        _listen_for_commits()
        _senders.add(self)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the delivery under way."""
        _senders.discard(self)
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def wake(self) -> None:
        """Look for due messages now."""
        self._wake.set()

    def run_once(self) -> int:
        """Claim the due messages and deliver them; how many were claimed (none without a mail server)."""
        if self._mail_server is None:
            return 0
        claimed = self._claim()
        for message in claimed:
            self._deliver(message)
        return len(claimed)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._poll_s)
            self._wake.clear()
            if self._stop.is_set() or not self._is_sender():
                continue
            try:
                while self.run_once() == BATCH and not self._stop.is_set():
                    pass
            except Exception:  # a lost database must not stop the thread: the messages wait in the outbox
                logger.exception("delivering the outbox failed; trying again")

    @staticmethod
    def _due(now: datetime) -> ColumnElement[bool]:
        return or_(and_(col(OutboxMessage.status) == OutboxStatus.PENDING,
                        col(OutboxMessage.next_attempt_at) <= now),
                   and_(col(OutboxMessage.status) == OutboxStatus.SENDING,
                        col(OutboxMessage.claimed_until) < now))

    def _claim(self) -> list[Claimed]:
        """Mark a batch of due messages as this sender's (committed), and read what delivering needs."""
        now = self._clock.now_datetime()
        due = self._due(now)
        batch = (select(OutboxMessage.id).where(due).order_by(col(OutboxMessage.next_attempt_at),
                                                              col(OutboxMessage.id))
                 .limit(BATCH).with_for_update(skip_locked=True))
        claim = (update(OutboxMessage).where(col(OutboxMessage.id).in_(batch.scalar_subquery()), due)
                 .values(status=OutboxStatus.SENDING, claimed_by=self.worker_id,
                         claimed_until=now + timedelta(seconds=CLAIM_S),
                         attempts=col(OutboxMessage.attempts) + 1)
                 .returning(col(OutboxMessage.id)))
        with Session(self._engine, expire_on_commit=False) as session:
            anything = session.exec(select(OutboxMessage.id).where(due).limit(1)).first()
            session.commit()  # an idle look only reads: no write transaction, no lock taken
            if anything is None:
                return []
            with self._write_lock:
                ids = list(session.execute(claim).scalars())
                session.commit()
            if not ids:
                return []
            rows = session.exec(select(OutboxMessage, Notice).join(Notice)
                                .where(col(OutboxMessage.id).in_(ids))).all()
            users = {notice.user_id for _, notice in rows}
            preferences = {p.user_id: p for p in session.exec(
                select(NotificationPreferences).where(col(NotificationPreferences.user_id).in_(users)))}
            session.commit()
            return [Claimed(message.id or 0, message.recipient, message.message_id,
                            message.attempts, notice, self._texts.language(preferences.get(notice.user_id)))
                    for message, notice in sorted(rows, key=lambda pair: pair[0].id or 0)]

    def _deliver(self, message: Claimed) -> None:
        """Deliver one claimed message and record how it went."""
        try:
            self._send_mail(message)
        except DeliveryError as error:
            self._failed(message, str(error))
            return
        self._finish(message, status=OutboxStatus.SENT, sent=True)

    def _send_mail(self, message: Claimed) -> None:
        assert self._mail_server is not None
        texts = self._texts
        words = mail_text(texts.text(message.notice, message.language), language=message.language,
                          agency=texts.agency)
        try:
            send_mail(self._mail_server, Mail(to=message.recipient, subject=words.subject, text=words.text,
                                              html=words.html, message_id=message.message_id))
        except MailError as error:
            raise DeliveryError(str(error)) from error

    def _failed(self, message: Claimed, reason: str) -> None:
        if message.attempts >= self._policy.max_attempts:
            logger.warning("outbox message %d failed for good after %d attempts: %s", message.id,
                           message.attempts, reason)
            self._finish(message, status=OutboxStatus.FAILED, error=reason)
            return
        delay = self._policy.delay_s(message.attempts)
        logger.info("outbox message %d not delivered (attempt %d), again in %.0f s: %s", message.id,
                    message.attempts, delay, reason)
        self._finish(message, status=OutboxStatus.PENDING, error=reason,
                     next_attempt=self._clock.now_datetime() + timedelta(seconds=delay))

    def _finish(self, message: Claimed, *, status: OutboxStatus, sent: bool = False, error: str | None = None,
                next_attempt: datetime | None = None) -> None:
        """Record the outcome if the claim is still this sender's (one that ran out may be another's)."""
        values: dict[str, Any] = {"status": status, "claimed_by": None, "claimed_until": None}
        if sent:
            values["sent_at"] = self._clock.now_datetime()
        if error is not None:
            values["last_error"] = error[:ERROR_LENGTH]
        if next_attempt is not None:
            values["next_attempt_at"] = next_attempt
        with Session(self._engine) as session, self._write_lock:
            session.execute(update(OutboxMessage).where(col(OutboxMessage.id) == message.id,
                                                        col(OutboxMessage.claimed_by) == self.worker_id)
                            .values(**values))
            session.commit()


def retry_failed(session: Session, *, message_id: int, now: datetime, zone: Any) -> OutboxRetried:
    """Put a failed message back in the queue (an operator, once the mail server is mended): pending, due
    now, with a fresh round of attempts; committed, and the senders woken. 404 ``unknown_message``, 409
    ``not_failed`` for one still under way or sent. The write comes first: on SQLite a transaction that
    read first cannot always write."""
    retried = session.execute(update(OutboxMessage)
                              .where(col(OutboxMessage.id) == message_id,
                                     col(OutboxMessage.status) == OutboxStatus.FAILED)
                              .values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now,
                                      last_error=None)
                              .returning(col(OutboxMessage.next_attempt_at))).first()
    if retried is not None:
        session.info[STAGED] = True  # the commit wakes the senders
    session.commit()
    if retried is None:
        row = session.get(OutboxMessage, message_id)
        session.commit()
        if row is None:
            raise NotFound("unknown_message", f"no outbox message {message_id}")
        raise Conflict("not_failed", f"outbox message {message_id} is {row.status.value}, not failed")
    logger.info("outbox message %d queued again by an operator", message_id)
    # What this request wrote: a sender woken by the commit may already be sending it.
    return OutboxRetried(id=message_id, status=OutboxStatus.PENDING,
                         next_attempt_at=retried[0].astimezone(zone))


def outbox_overview(session: Session, *, zone: Any, limit: int) -> OutboxPublic:
    """Messages by status, and the ``limit`` newest failed ones (operators)."""
    counts = dict.fromkeys(OutboxStatus, 0)
    for status, count in session.exec(select(OutboxMessage.status, func.count())
                                      .group_by(col(OutboxMessage.status))).all():
        counts[OutboxStatus(status)] = count
    failed = session.exec(select(OutboxMessage, Notice).join(Notice)
                          .where(col(OutboxMessage.status) == OutboxStatus.FAILED)
                          .order_by(col(OutboxMessage.id).desc()).limit(limit)).all()
    return OutboxPublic(counts=counts, failed=[
        OutboxFailure(id=message.id or 0, channel=message.channel, kind=notice.kind,
                      booking_id=notice.booking_id,
                      attempts=message.attempts, last_error=message.last_error,
                      created_at=message.created_at.astimezone(zone))
        for message, notice in failed])


# ----- waking the senders when a change with messages commits ---------------------------------------------

_senders: weakref.WeakSet[OutboxSender] = weakref.WeakSet()


def _after_commit(session: OrmSession) -> None:
    if session.info.pop(STAGED, False):
        for sender in list(_senders):
            sender.wake()


def _after_rollback(session: OrmSession) -> None:
    session.info.pop(STAGED, None)


def _listen_for_commits() -> None:
    """Wake the running senders whenever a transaction that wrote outbox messages commits (idempotent)."""
    if not event.contains(OrmSession, "after_commit", _after_commit):
        event.listen(OrmSession, "after_commit", _after_commit)
        event.listen(OrmSession, "after_rollback", _after_rollback)
