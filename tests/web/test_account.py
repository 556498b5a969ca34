"""A rider's account on the riders' app in a real browser (headless Chromium, Playwright) against a real
service process (tests/web/conftest.py, its mail going to a real local SMTP server): Rita, who has no
e-mail address yet, adds one by typing the code mailed to it, and chooses which e-mails she wants and in
which language."""

from __future__ import annotations

import re
import time
from pathlib import Path

from playwright.sync_api import expect

from tests.web.test_web_apps import PHONE, open_page  # noqa: F401 (fixture)

NEW_ADDRESS = "rita.rider@example.org"


def code_for(service, address: str) -> str:
    """The six digits of the first mail to ``address`` (waiting up to 30 s for it)."""
    deadline = time.monotonic() + 30
    while not service.mailbox.to(address):
        assert time.monotonic() < deadline, "no code arrived"
        time.sleep(0.2)
    found = re.search(r"\b(\d{6})\b", service.mailbox.to(address)[0].get_content())
    assert found is not None, "no code in the mail"
    return found.group(1)


def test_a_rider_adds_an_e_mail_address_with_a_code_and_chooses_her_e_mails(open_page, service,  # noqa: F811
                                                                            artifacts: Path):
    """On "Orte & Mitreisende", Rita's account says she has no address. She types one and asks for a
    code; a wrong code is refused with the reason; the code from the mail sets the address (the page and
    the API say so). She turns off the booking confirmation, picks English and saves: the API holds it."""
    watched = open_page("/app", "rider", PHONE)
    page = watched.page
    page.get_by_role("button", name="Orte & Mitreisende").click()
    account = page.locator("#account")
    expect(account.locator("#account-email")).to_have_text("E-Mail-Adresse: keine (nur Mitteilungen in der App)")
    account.get_by_label("Neue E-Mail-Adresse").fill(NEW_ADDRESS)
    account.get_by_role("button", name="Code senden").click()
    expect(account.locator("#account-message")).to_contain_text("ein Code an sie unterwegs")
    code = code_for(service, NEW_ADDRESS)
    account.get_by_label("Code aus der E-Mail").fill(f"{(int(code) + 1) % 1_000_000:06d}")
    account.get_by_role("button", name="Adresse bestätigen").click()
    expect(account.locator("#account-message")).to_contain_text("Der Code ist falsch")
    account.get_by_label("Code aus der E-Mail").fill(code)
    account.get_by_role("button", name="Adresse bestätigen").click()
    expect(account.locator("#account-message")).to_have_text(f"Ihre E-Mail-Adresse ist jetzt {NEW_ADDRESS}.")
    expect(account.locator("#account-email")).to_have_text("E-Mail-Adresse: hinterlegt")

    account.get_by_label("Buchungsbestätigung").uncheck()
    account.get_by_label("Sprache der Mitteilungen").select_option("en")
    account.get_by_role("button", name="Einstellungen speichern").click()
    expect(account.locator("#account-message")).to_have_text("Gespeichert.")
    expect(account.locator("#account-email")).to_have_text("E-Mail-Adresse: hinterlegt")
    account.screenshot(path=artifacts / "rider-account.png")
    with service.client("rider") as rider:
        settings = rider.get("/v1/rider/notification-settings").json()
    assert settings == {"language": "en", "email_booking_confirmed": False, "email_pickup_changed": True,
                        "email_booking_cancelled": True, "has_email": True}
    watched.assert_clean()
