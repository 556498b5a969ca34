"""A real SMTP server on loopback (aiosmtpd) that keeps what arrives, for tests of the service's mail."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from api.mail import MailServer


@dataclass
class Mailbox:
    """Messages the local server accepted, in arrival order; ``refuse`` makes it answer 451 instead."""

    messages: list[EmailMessage] = field(default_factory=list)
    refuse: bool = False
    arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """aiosmtpd's hook: keep the message (or refuse it while ``refuse`` is set)."""
        if self.refuse:
            return "451 4.3.0 try again later"
        assert isinstance(envelope.content, bytes)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.arrived:
            self.messages.append(message)
            self.arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[EmailMessage]:
        """The first ``count`` messages, waiting up to ``timeout_s`` for them to arrive."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.messages) >= count, timeout=timeout_s):
                raise AssertionError(f"{len(self.messages)} of {count} messages arrived in {timeout_s} s")
            return list(self.messages[:count])

    def to(self, address: str) -> list[EmailMessage]:
        """The messages that arrived for ``address`` so far."""
        with self.arrived:
            return [message for message in self.messages if address in str(message["To"])]


@dataclass(frozen=True)
class LocalSmtp:
    """A running local SMTP server: where to send (``server``) and what arrived (``mailbox``)."""

    server: MailServer
    mailbox: Mailbox

    @property
    def env(self) -> dict[str, str]:
        """The service's environment variables that send its mail here."""
        return {"RUFBUS_SMTP_HOST": self.server.host, "RUFBUS_SMTP_PORT": str(self.server.port),
                "RUFBUS_MAIL_FROM": self.server.sender}


@pytest.fixture
def smtp_server() -> Iterator[LocalSmtp]:
    """A real SMTP server on 127.0.0.1 (a free port) for one test; its mailbox holds what arrived."""
    mailbox = Mailbox()
    with socket.socket() as probe:  # aiosmtpd's readiness check needs the real port up front
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        sender = "Rufbus <rufbus@test.invalid>"
        yield LocalSmtp(MailServer(host="127.0.0.1", port=port, sender=sender), mailbox)
    finally:
        controller.stop()
