"""The rider's data rights on /app in a real browser (headless Chromium) against a real service process:
the footer links the privacy notice, "Meine Daten" downloads the rider's data as JSON, "Konto löschen"
(confirmed) erases the account, after which the key no longer works."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import expect

from tests.web.conftest import Service
from tests.web.test_web_apps import PHONE, open_page  # noqa: F401 (fixture)


def test_the_rider_downloads_their_data_and_deletes_the_account(open_page, service: Service,  # noqa: F811
                                                                 artifacts: Path):
    """The privacy link leads to /privacy; the download is the rider's export (their name); after
    confirming the deletion the page says so and the key is refused (401)."""
    watched = open_page("/app", "rider", PHONE)
    page = watched.page
    expect(page.get_by_role("link", name="Datenschutz")).to_have_attribute("href", "/privacy")
    with page.expect_download() as download:
        page.get_by_role("button", name="Meine Daten").click()
    data = json.loads(Path(download.value.path()).read_text())
    assert data["rider"]["name"] == "Rita Rider" and data["bookings"] == []
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Konto löschen").click()
    expect(page.locator("#privacy-message")).to_have_text("Ihr Konto und Ihre Daten wurden gelöscht.")
    page.screenshot(path=str(artifacts / "rider-erased.png"))
    with service.client("rider") as client:
        assert client.get("/v1/me").status_code == 401
    watched.assert_clean()
