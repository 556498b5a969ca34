"""api.mail against a real local SMTP server (aiosmtpd)."""

from __future__ import annotations

import socket

import pytest

from api.mail import Mail, MailError, MailServer, send_mail
from tests.smtp import LocalSmtp


def test_a_mail_arrives_with_its_sender_subject_text_and_html(smtp_server: LocalSmtp) -> None:
    mail = Mail(to="rider@example.org", subject="Ihr Code: 123456", text="Code 123456 – gültig 10 Minuten",
                html="<p>Code <b>123456</b></p>")
    send_mail(smtp_server.server, mail)
    [message] = smtp_server.mailbox.wait_for(1)
    assert message["To"] == "rider@example.org"
    assert message["From"] == smtp_server.server.sender
    assert message["Subject"] == "Ihr Code: 123456"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and "gültig 10 Minuten" in text.get_content()
    assert html is not None and "<b>123456</b>" in html.get_content()


def test_a_refused_mail_raises_mail_error(smtp_server: LocalSmtp) -> None:
    smtp_server.mailbox.refuse = True
    with pytest.raises(MailError, match="SMTP"):
        send_mail(smtp_server.server, Mail(to="rider@example.org", subject="s", text="t"))
    assert smtp_server.mailbox.messages == []


def test_an_unreachable_server_raises_mail_error() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(MailError, match="ConnectionRefusedError"):
        send_mail(MailServer(host="127.0.0.1", port=port, timeout_s=2),
                  Mail(to="a@b.org", subject="s", text="t"))
