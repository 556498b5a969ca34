"""The county's reports on /operator in a real browser (headless Chromium, Playwright) against a real
service process (tests/web/conftest.py: two buses, the clock at 08:00 on 23 November 2026): the operator
sets the costs, downloads the key figures of the month so far as CSV, and opens the printable monthly
report, which shows the trip booked today, the costs set and its SVG charts."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from playwright.sync_api import expect

from tests.web.test_web_apps import DESKTOP, open_page  # noqa: F401 (fixture)


def test_an_operator_sets_costs_downloads_figures_and_opens_the_monthly_report(open_page, service,  # noqa: F811
                                                                               artifacts: Path):
    """Otto saves 48.50 CHF per vehicle-hour and 1.20 per km; the key figures CSV of 1–23 November has a row
    per day with today's booking and the currency; the monthly report opens in a new window with November's
    title, one trip asked, the costs set and its charts, and no script."""
    service.book(hour=10)
    operator = open_page("/operator", "operator", DESKTOP)
    page = operator.page
    page.locator("#reports-box > summary").click()
    costs = page.locator("#reports-costs")
    costs.get_by_label("pro Fahrzeugstunde").fill("48.5")
    costs.get_by_label("pro Fahrzeug-km").fill("1.2")
    costs.get_by_label("Währung").select_option("CHF")
    costs.get_by_role("button", name="Kosten speichern").click()
    expect(page.locator("#reports-message")).to_contain_text("Gespeichert (Version 1)")

    with page.expect_download() as downloading:
        page.get_by_role("button", name="Kennzahlen (CSV)").click()
    download = downloading.value
    assert download.suggested_filename == "rufbus-kpis-2026-11-01-2026-11-23.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8-sig")), delimiter=";"))
    assert [row["first"] for row in rows] == [f"2026-11-{day:02d}" for day in range(1, 24)]
    assert rows[-1]["booked"] == "1" and {row["currency"] for row in rows} == {"CHF"}

    with page.context.expect_page() as opening:
        page.get_by_role("button", name="Monatsbericht öffnen").click()
    report = opening.value
    report.wait_for_load_state()
    expect(report.locator("h1")).to_have_text("Rufbus monthly report November 2026")
    expect(report.locator('tr[data-figure="trips_asked"] td')).to_have_text("1")
    expect(report.locator("table.costs")).to_contain_text("48.50 CHF")
    expect(report.locator("figure svg")).to_have_count(9)
    expect(report.locator("script")).to_have_count(0)
    report.screenshot(path=artifacts / "monthly-report.png", full_page=True)
    print(f"screenshot: {artifacts / 'monthly-report.png'}")
    operator.assert_clean()
