"""Signing in on the web pages (web/src/signin.js, web/src/api.js): a rider signs up on the page with a
code from the mail the local SMTP server received, books a trip and follows it live; an operator then
revokes the rider's session and the page closes its stream and returns to the sign-in form. No key or
token is in the page's storage or in any URL it opens."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from tests.web.conftest import Service
from tests.web.test_web_apps import LIVE_TIMEOUT_MS, PHONE

CODE = re.compile(r"\b(\d{6})\b")


def test_a_rider_signs_up_books_and_is_signed_out_when_an_operator_revokes_the_session(
        browser, service: Service, artifacts: Path):
    """Sign-up (name, address, phone) → the code from the mail → signed in; the trip Schaan → Vaduz is
    booked and followed live over a ticket-opened stream; localStorage holds a refresh token only, no
    URL carries a token. The operator lists the rider's one session and revokes it: the page shows the
    sign-in form with "Sie wurden abgemeldet." and holds no session any more."""
    context = browser.new_context(viewport=PHONE, locale="de-DE")
    urls: list[str] = []
    try:
        page = context.new_page()
        page.on("request", lambda request: urls.append(request.url))
        page.on("websocket", lambda socket: urls.append(socket.url))
        page.goto(service.base_url + "/app")
        expect(page.locator("#login")).to_be_visible()
        page.get_by_role("button", name="Neu hier? Registrieren").click()
        page.locator("#signup-name").fill("Selma Signup")
        page.locator("#signup-email").fill("Selma@Example.org")
        page.get_by_label("Telefon (freiwillig)").fill("+423 555 12 12")
        page.get_by_role("button", name="Registrieren", exact=True).click()
        expect(page.get_by_label("Code aus der E-Mail (6 Ziffern)")).to_be_visible()
        mail = next(m for m in service.mailbox.wait_for(1) if "selma@example.org" in str(m["To"]))
        page.get_by_label("Code aus der E-Mail (6 Ziffern)").fill(CODE.search(mail.get_content()).group(1))
        page.locator("#signin-code-form").get_by_role("button", name="Anmelden").click()
        expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=20_000)
        expect(page.locator("#login")).to_be_hidden()

        page.get_by_label("Von", exact=True).select_option(label="Schaan")
        page.get_by_label("Nach", exact=True).select_option(label="Vaduz")
        page.get_by_role("button", name="Angebot anfragen").click()
        page.get_by_role("button", name="Verbindlich buchen").click()
        expect(page.locator("#booking-details [data-status]")).to_have_attribute("data-status", "booked")
        expect(page.locator("#live")).to_have_text("Live verbunden", timeout=LIVE_TIMEOUT_MS)
        stored = page.evaluate("Object.fromEntries(Object.entries(localStorage))")
        assert set(stored) >= {"rufbus.refresh"} and stored["rufbus.refresh"].startswith("rt_")
        assert not any(value.startswith(("at_", "wt_")) for value in stored.values())
        page.screenshot(path=artifacts / "signin-booked.png", full_page=True)

        with service.client("operator") as operator:
            [rider] = operator.get("/v1/operator/riders", params={"q": "Selma"}).json()
            [session] = operator.get(f"/v1/operator/users/{rider['id']}/sessions").json()
            assert operator.post(f"/v1/operator/users/{rider['id']}/sessions/{session['id']}/revoke"
                                 ).status_code == 204
        expect(page.locator("#login")).to_be_visible(timeout=LIVE_TIMEOUT_MS)
        expect(page.locator("#login-message")).to_have_text("Sie wurden abgemeldet.")
        assert page.evaluate("localStorage.getItem('rufbus.refresh')") is None
        page.screenshot(path=artifacts / "signin-revoked.png", full_page=True)
    finally:
        context.close()
    sockets = [url for url in urls if url.startswith("ws")]
    assert sockets and all("ticket=wt_" in url for url in sockets)
    assert not any(re.search(r"[?&](access_token|token|key)=", url) for url in urls)
