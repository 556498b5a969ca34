"""Mail over real SMTP: the one way the service sends e-mail (sign-in codes, riders' notifications).

:func:`send_mail` delivers one message to one recipient through the configured server and raises
:class:`MailError` when the server cannot be reached or refuses it; callers that must not lose a message
(notifications) keep it in their outbox and try again later. Nothing here logs addresses or contents.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid


class MailError(Exception):
    """The mail server could not be reached or did not accept the message."""


@dataclass(frozen=True, slots=True)
class MailServer:
    """An SMTP server and the sender address mail goes out under."""

    host: str
    port: int = 25
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout_s: float = 10.0
    sender: str = "Rufbus <rufbus@localhost>"


@dataclass(frozen=True, slots=True)
class Mail:
    """One message to one recipient: plain text, optionally with an HTML alternative."""

    to: str
    subject: str
    text: str
    html: str | None = None
    message_id: str | None = None  # fixed by the caller (a retried delivery keeps it); None: a new one


def build_message(server: MailServer, mail: Mail) -> EmailMessage:
    """The RFC 5322 message for ``mail`` as ``server`` sends it."""
    message = EmailMessage()
    message["From"] = server.sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Message-ID"] = mail.message_id or make_msgid(domain="rufbus")
    message.set_content(mail.text)
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html")
    return message


def send_mail(server: MailServer, mail: Mail) -> None:
    """Deliver ``mail`` through ``server`` (blocking; call it from a worker thread in async code).

    Raises :class:`MailError` on any connection, TLS, authentication or refusal error.
    """
    message = build_message(server, mail)
    try:
        with smtplib.SMTP(server.host, server.port, timeout=server.timeout_s) as smtp:
            if server.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if server.user is not None:
                smtp.login(server.user, server.password or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        reason = type(error).__name__
        raise MailError(f"mail not accepted by {server.host}:{server.port}: {reason}") from error
