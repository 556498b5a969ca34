"""The operators' booking desk on /operator in a real browser (headless Chromium, Playwright) against a
real service process (tests/web/conftest.py: two buses, the clock at 08:00): a phone booking for a caller
recorded on the spot, found again by phone, booked; the desk's search finds the booking under the caller,
booked by the operator; its history lists the booking and, after the operator cancels it for the caller,
the cancellation; the demand layer draws the cell asked from."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.web.test_web_apps import DESKTOP, open_page  # noqa: F401 (fixture)


def test_an_operator_books_for_a_caller_finds_the_booking_and_cancels_it(open_page, service,  # noqa: F811
                                                                          artifacts: Path):
    """Otto records Anna Beck (+423 234 56 78), finds her again by a part of her number, asks for a trip
    from the first to the second place of the list at 09:00 and books the offer. Searching the desk for
    "anna" lists the booking as Anna's, booked by Otto; its history shows the confirmation; cancelling it
    for her turns it cancelled with the cancellation in the history. After a reload the demand layer
    draws the cell Anna's trip was asked from."""
    operator = open_page("/operator", "operator", DESKTOP)
    page = operator.page
    desk = page.locator("#desk")
    new_caller = page.locator("#desk-new-caller")
    new_caller.get_by_label("Name").fill("Anna Beck")
    new_caller.get_by_label("Telefon").fill("+423 234 56 78")
    new_caller.get_by_role("button", name="Neu anlegen").click()
    expect(page.locator("#desk-for")).to_have_text("Für: Anna Beck (+4232345678)")
    desk.get_by_label("Anrufer suchen (Name/Telefon)").fill("234 56")
    page.locator("#desk-caller").get_by_role("button", name="Suchen").click()
    expect(page.locator("#desk-callers li")).to_have_count(1)
    page.locator("#desk-callers li").get_by_role("button", name="Wählen").click()
    page.locator("#desk-trip").get_by_label("Abfahrt ab").fill("09:00")
    page.locator("#desk-trip").get_by_role("button", name="Angebot einholen").click()
    expect(page.locator("#desk-offer")).to_contain_text("Abholung 09:00")
    page.locator("#desk-offer").get_by_role("button", name="Buchen").click()
    expect(page.locator("#desk-offer")).to_contain_text("Gebucht:")

    search = page.locator("#desk-search")
    search.get_by_label("Fahrgast (Name/Telefon)").fill("anna")
    search.get_by_role("button", name="Suchen").click()
    rows = page.locator("#desk-results tr[data-booking]")
    expect(rows).to_have_count(1)
    expect(rows.locator(".rider")).to_have_text("Anna Beck (+4232345678)")
    expect(rows.locator(".booked-by")).to_have_text("Otto Operator")
    rows.get_by_role("button").click()
    expect(page.locator('#desk-detail li[data-kind="booking_confirmed"]')).to_contain_text("Otto Operator")
    page.get_by_role("button", name="Für den Fahrgast stornieren").click()
    expect(page.locator('#desk-detail li[data-kind="booking_cancelled"]')).to_contain_text("Otto Operator")
    expect(rows).to_contain_text("storniert")
    page.screenshot(path=artifacts / "operator-desk.png", full_page=True)

    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=20_000)
    expect(page.locator("#demand-summary")).to_have_text("1 angefragt, 1 gebucht, 0 abgelehnt")
    cells = page.evaluate("""() => {
        let n = 0;
        document.getElementById('map').leafletMap.eachLayer((l) => { if (l.options.className === 'demand-cell') n += 1; });
        return n;
    }""")
    assert cells == 1
    with service.client("operator") as client:
        booking = client.get("/v1/operator/bookings", params={"rider": "anna"}).json()["items"][0]
        assert booking["rider"]["name"] == "Anna Beck" and booking["booked_by"]["name"] == "Otto Operator"
    operator.assert_clean()
