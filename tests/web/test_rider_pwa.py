"""The riders' app as an installable web app in a real browser (headless Chromium, Playwright) against a
real service process: its manifest and service worker, the app shell opening offline after one visit,
my trips listing and cancelling a booking, a recurring trip and a favourite place created in the app, and
the language chosen kept across a reload.

The service (tests/web/conftest.py) has two 8-seat buses at Vaduz; the clock stands at 08:00 on Monday
23 November 2026."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import Service, sign_in_with_key

PHONE = {"width": 390, "height": 844}
VADUZ = {"lat": 47.1410, "lon": 9.5215}
SCHAAN = {"lat": 47.1650, "lon": 9.5090}
ZONE = ZoneInfo("Europe/Vaduz")


@pytest.fixture
def context(browser) -> Iterator:
    """A fresh browser context (its own storage, caches and service workers), German."""
    made = browser.new_context(viewport=PHONE, locale="de-DE", service_workers="allow")
    yield made
    made.close()


def signed_in(context, service: Service) -> Page:
    """The rider's app, signed in through its own form, once it says it is ready."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(service.base_url + "/app")
    sign_in_with_key(page, service.keys["rider"])
    expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=20_000)
    page.errors = errors  # type: ignore[attr-defined]
    return page


def test_the_app_has_a_manifest_and_a_service_worker_and_opens_offline_after_one_visit(context, service):
    """The page links a manifest (standalone, start_url /app, PNG icons of 192 and 512 px that load); the
    service worker is ready with scope /app and takes control; offline, a reload still shows the app —
    its page, styles and script from the cache, which says it is offline."""
    page = signed_in(context, service)
    manifest = page.evaluate("""async () => {
        const link = document.querySelector('link[rel=manifest]');
        const body = await (await fetch(link.href)).json();
        const icons = await Promise.all(body.icons.map(async (i) => [i.sizes, (await fetch(i.src)).status]));
        return {...body, loaded: icons};
    }""")
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/app"
    assert manifest["scope"] == "/app" and manifest["name"] == "Rufbus"
    assert ["192x192", 200] in manifest["loaded"] and ["512x512", 200] in manifest["loaded"]
    scope = page.evaluate("navigator.serviceWorker.ready.then((registration) => registration.scope)")
    assert scope == service.base_url + "/app"
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=10_000)
    context.set_offline(True)
    try:
        page.reload()
        expect(page.locator("h1")).to_have_text("Rufbus – Fahrt bestellen")  # translated: the script ran
        expect(page.locator("#offline")).to_be_visible()
        expect(page.locator("#offline")).to_contain_text("offline")
        assert page.evaluate("getComputedStyle(document.querySelector('header')).display") == "flex"  # styles
    finally:
        context.set_offline(False)
    assert page.errors == []  # type: ignore[attr-defined]


def book(service: Service, hour: int) -> str:
    """A booking of the rider's, Vaduz → Schaan leaving after ``hour``:00 today; its id."""
    with service.client("rider") as client:
        moment = datetime(2026, 11, 23, hour, 0, tzinfo=ZONE).isoformat()
        offer = client.post("/v1/quotes", json={"origin": VADUZ, "destination": SCHAAN, "time_type": "leave_after",
                                                "time": moment, "seats": 1, "wheelchairs": 0})
        assert offer.status_code == 200, offer.text
        quote_id = offer.json()["quote_id"]
        booked = client.post("/v1/bookings", json={"quote_id": quote_id}, headers={"Idempotency-Key": quote_id})
        assert booked.status_code == 201, booked.text
        return str(booked.json()["id"])


def test_my_trips_lists_a_booking_as_upcoming_and_cancels_it(context, service):
    """A booking made for today shows under upcoming trips with its status; cancelling it there moves it
    to past trips as cancelled, and the service has it cancelled."""
    booking_id = book(service, 10)
    page = signed_in(context, service)
    page.get_by_role("button", name="Meine Fahrten").click()
    upcoming = page.locator(f"#trips-upcoming li[data-booking='{booking_id}']")
    expect(upcoming).to_contain_text("gebucht")
    upcoming.get_by_role("button", name="Stornieren").click()
    past = page.locator(f"#trips-past li[data-booking='{booking_id}']")
    expect(past.locator("[data-status]")).to_have_attribute("data-status", "cancelled")
    expect(page.locator(f"#trips-upcoming li[data-booking='{booking_id}']")).to_have_count(0)
    with service.client("rider") as client:
        assert client.get(f"/v1/bookings/{booking_id}").json()["status"] == "cancelled"
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_recurring_trip_is_created_in_the_app_and_stored_by_the_service(context, service):
    """The rider fills the recurring-trip form (Vaduz → Schaan, Wednesdays and Fridays, 07:30) and saves
    it: the list shows it and the service stores the pattern as entered."""
    page = signed_in(context, service)
    page.get_by_role("button", name="Regelmäßig").click()
    page.locator("#rec-name").fill("Physiotherapie")
    page.locator("#rec-from").select_option(label="Vaduz")
    page.locator("#rec-to").select_option(label="Schaan")
    page.locator("#rec-days").get_by_label("Mi").check()
    page.locator("#rec-days").get_by_label("Fr").check()
    page.locator("#rec-time").fill("07:30")
    page.get_by_role("button", name="Speichern").click()
    expect(page.locator("#recurring-list li.recurring")).to_contain_text("Physiotherapie")
    expect(page.locator("#recurring-list li.recurring")).to_contain_text("Mi, Fr")
    with service.client("rider") as client:
        stored = [trip for trip in client.get("/v1/rider/recurring-trips").json() if trip["name"] == "Physiotherapie"]
    assert len(stored) == 1
    assert stored[0]["weekdays"] == [2, 4] and stored[0]["time"] == "07:30"
    assert (stored[0]["origin_name"], stored[0]["destination_name"]) == ("Vaduz", "Schaan")
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_favourite_place_and_a_companion_are_offered_when_booking_and_english_is_kept(context, service):
    """The rider saves Triesen as "Arzt" and a wheelchair companion: "Arzt" heads the start list, ticking
    the companion sets one seat and one wheelchair space; switched to English, the app stays English after
    a reload."""
    page = signed_in(context, service)
    page.get_by_role("button", name="Orte & Mitreisende").click()
    page.locator("#favourite-name").fill("Arzt")
    page.locator("#favourite-place").select_option(label="Triesen")
    page.get_by_role("button", name="Ort speichern").click()
    expect(page.locator("#favourites-list")).to_contain_text("Arzt")
    page.locator("#companion-name").fill("Oma")
    page.locator("#companion-category").select_option("wheelchair")
    page.get_by_role("button", name="Mitreisende speichern").click()
    expect(page.locator("#companions-list")).to_contain_text("Oma (Rollstuhl)")
    page.get_by_role("button", name="Fahrt buchen").click()
    expect(page.locator("#from optgroup").first).to_have_attribute("label", "Meine Orte")
    expect(page.locator("#from optgroup").first.locator("option")).to_have_text(["Arzt"])
    page.locator("#companions-ticked").get_by_label("Oma (Rollstuhl)").check()
    expect(page.locator("#seats")).to_have_value("1")
    expect(page.locator("#wheelchairs")).to_have_value("1")
    page.locator("#lang").select_option("en")
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=20_000)
    expect(page.get_by_role("button", name="My trips")).to_be_visible()
    assert page.errors == []  # type: ignore[attr-defined]
