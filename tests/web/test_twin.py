"""The digital twin on /operator in a real browser (headless Chromium, Playwright) against a real service
process with its simulation worker (tests/web/conftest.py: two buses, the clock at 08:00 on 23 November
2026): the operator replays today — one trip booked — with one bus and a 20-minute maximum wait, reads
recorded, as-recorded and proposal side by side, and applies the proposed rules."""

from __future__ import annotations

import time
from pathlib import Path

from playwright.sync_api import expect

from tests.web.test_web_apps import DESKTOP, open_page  # noqa: F401 (fixture)


def test_an_operator_runs_the_twin_of_a_day_and_applies_the_proposed_rules(open_page, service,  # noqa: F811
                                                                           artifacts: Path):
    """Otto runs today's twin with 1 bus and a maximum wait of 20 minutes: the table shows one request and
    one served trip recorded, as recorded and in the proposal, one bus in the proposal; applying puts
    max_wait_s = 1200 in force as a new rules version."""
    service.book(hour=10)
    operator = open_page("/operator", "operator", DESKTOP)
    page = operator.page
    page.locator("#twin-box > summary").click()
    form = page.locator("#twin-form")
    expect(form.get_by_label("Von")).to_have_value("2026-11-23")
    form.get_by_label("Busse").fill("1")
    form.get_by_label("Max. Wartezeit (min)").fill("20")
    started = time.monotonic()
    form.get_by_role("button", name="Zwilling starten").click()
    table = page.locator("#twin-table")
    expect(table).to_be_visible(timeout=180_000)
    print(f"twin shown after {time.monotonic() - started:.1f} s")
    expect(table.locator('tr[data-figure="requests"] td')).to_have_text(["1", "1", "1"])
    expect(table.locator('tr[data-figure="served"] td').nth(1)).to_have_text("1")
    expect(table.locator('tr[data-figure="served"] td').nth(2)).to_have_text("1")
    page.locator("#twin-box").screenshot(path=artifacts / "twin.png")
    print(f"screenshot: {artifacts / 'twin.png'}")
    page.get_by_role("button", name="Vorgeschlagene Regeln übernehmen").click()
    expect(page.locator("#twin-result [role=alert]")).to_contain_text("Regeln übernommen (Version")
    with service.client("operator") as client:
        assert client.get("/v1/operator/rules").json()["max_wait_s"] == 1200
    operator.assert_clean()
