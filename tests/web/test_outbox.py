"""The riders' e-mails on /operator in a real browser (headless Chromium, Playwright) against a real service
process (tests/web/conftest.py: its mail goes to a real local SMTP server, each e-mail tried once): while
the mail server refuses, a booking confirmation fails; the operator sees it failed in the mail panel and,
once the server takes mail again, sends it again; it arrives."""

from __future__ import annotations

import time
from pathlib import Path

from playwright.sync_api import expect

from tests.web.conftest import MAIL_RIDER
from tests.web.test_web_apps import DESKTOP, open_page  # noqa: F401 (fixture)


def failed_count(service) -> int:
    """How many e-mails the outbox has given up, as the API tells operators."""
    with service.client("operator") as operator:
        return operator.get("/v1/operator/outbox").json()["counts"]["failed"]


def test_an_operator_sees_a_failed_confirmation_and_sends_it_again(open_page, service,  # noqa: F811
                                                                   artifacts: Path):
    """Mia books while the mail server refuses: her confirmation fails. Otto opens "E-Mails an Fahrgäste":
    one failed, a row with its time, the confirmation and her booking (short, the whole id on hover) after
    one attempt with the server's error.
    With the server taking mail again he presses "Erneut senden": the panel says so, the row is gone, and
    the confirmation arrives in Mia's mailbox."""
    service.mailbox.refuse = True
    try:
        booked = service.book(hour=11, role="mail-rider")
        deadline = time.monotonic() + 30
        while failed_count(service) == 0:
            assert time.monotonic() < deadline, "the refused confirmation did not fail"
            time.sleep(0.2)
    finally:
        service.mailbox.refuse = False
    booking = booked["id"]
    assert service.mailbox.to(MAIL_RIDER) == []

    watched = open_page("/operator", "operator", DESKTOP)
    page = watched.page
    page.locator("#outbox-box > summary").click()
    expect(page.locator('#outbox-counts dd[data-status="failed"]')).to_have_text("1")
    row = page.locator("#outbox-failed tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(0)).to_contain_text("Buchungsbestätigung")
    expect(row.locator(".mail-facts")).to_have_text("erstellt 11-23 08:00, Versuche: 1")
    expect(row.locator(".mail-error")).to_contain_text("mail not accepted")
    expect(row.locator("td").nth(1)).to_have_text(booking[:8])
    expect(row.locator("td").nth(1)).to_have_attribute("title", booking)
    page.locator("#outbox-box").screenshot(path=artifacts / "operator-outbox-failed.png")
    row.get_by_role("button", name="Erneut senden").click()
    expect(page.locator("#outbox-message")).to_contain_text("wird erneut gesendet")
    expect(page.locator("#outbox-none")).to_have_text("Keine fehlgeschlagene E-Mail.")
    deadline = time.monotonic() + 30
    while not service.mailbox.to(MAIL_RIDER):
        assert time.monotonic() < deadline, "the confirmation sent again did not arrive"
        time.sleep(0.2)
    [mail] = service.mailbox.to(MAIL_RIDER)
    plain = mail.get_body(("plain",))
    assert plain is not None and booking in str(plain.get_content())  # type: ignore[attr-defined]
    watched.assert_clean()
