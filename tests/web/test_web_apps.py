"""The three web apps in a real browser (headless Chromium, Playwright) against a real service process:
a rider books on /app, the trip appears on the bus's /driver page without a reload, the driver reports
arrival, pickup and drop-off, the rider's page follows live, and /operator shows the bus and today's
figures changing; a rider downloads their data and deletes their account. Every page must load nothing
from outside the service and raise no script error.

The service (tests/web/conftest.py) has two 8-seat buses, bus-1 and bus-2, at their depot in Vaduz; the
clock stands at 08:00, so the rider's default time is 08:30."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import Service, sign_in_with_key

VADUZ = (47.1410, 9.5215)
SCHAAN = (47.1650, 9.5090)
BUS_GPS = (47.1540, 9.5150)  # the driver's tablet: on the road to Schaan, 1.5 km north of the depot
RUGGELL = {"lat": 47.2398, "lon": 9.5263}
TRIESEN = {"lat": 47.1070, "lon": 9.5275}
PHONE, TABLET = {"width": 390, "height": 844}, {"width": 1180, "height": 820}
DESKTOP = {"width": 1440, "height": 900}
LIVE_TIMEOUT_MS = 10_000


@dataclass
class Watched:
    """A page and what went wrong on it: script errors, failed loads of anything but the API (whose 4xx
    answers the pages show), and requests that left the service."""

    page: Page
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        """No script error happened and nothing was fetched from anywhere but the service."""
        assert self.errors == [], self.errors
        assert self.outside == [], self.outside


@pytest.fixture
def open_page(browser, service: Service) -> Iterator:
    """``open_page(path, role, viewport, geolocation=None)``: a new browser context on ``path`` (with a GPS
    position if given), signed in with the device key of ``role`` through the page's own form, once the
    page says it is ready."""
    contexts = []

    def opener(path: str, role: str, viewport: dict[str, int], geolocation: dict | None = None) -> Watched:
        context = browser.new_context(viewport=viewport, locale="de-DE", geolocation=geolocation,
                                      permissions=["geolocation"] if geolocation else [])
        contexts.append(context)
        watched = Watched(context.new_page())
        page = watched.page
        page.on("pageerror", lambda error: watched.errors.append(str(error)))
        page.on("console", lambda message: watched.errors.append(message.text) if message.type == "error"
                and not message.text.startswith("Failed to load resource") else None)  # API answers: below
        page.on("response", lambda response: watched.errors.append(f"{response.status} {response.url}")
                if response.status >= 400 and "/v1/" not in response.url else None)  # pages, bundles, map
        page.on("request", lambda request: None if request.url.startswith(
            (service.base_url, service.base_url.replace("http", "ws"), "data:", "blob:"))
            else watched.outside.append(request.url))
        page.goto(service.base_url + path)
        sign_in_with_key(page, service.keys[role])
        expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=20_000)
        expect(page.locator("#login")).to_be_hidden()
        page.evaluate("window.__sameDocument = true")  # gone if the page reloads
        return watched

    yield opener
    for context in contexts:
        context.close()


def click_map_at(page: Page, lat: float, lon: float) -> None:
    """Click the page's map where ``lat``, ``lon`` is drawn."""
    page.locator("#map").scroll_into_view_if_needed()
    point = page.evaluate("""([lat, lon]) => {
        const element = document.getElementById('map');
        const p = element.leafletMap.latLngToContainerPoint([lat, lon]);
        const box = element.getBoundingClientRect();
        return {x: box.left + p.x, y: box.top + p.y};
    }""", [lat, lon])
    page.mouse.click(point["x"], point["y"])


def bus_on_map(page: Page, vehicle_id: str) -> dict | None:
    """Where the page's map draws the bus ``vehicle_id`` ({lat, lng}), or None."""
    return page.evaluate("""(id) => {
        let found = null;
        document.getElementById('map').leafletMap.eachLayer((layer) => {
            const tip = layer.getTooltip && layer.getTooltip();
            if (tip && tip.getContent() === id && layer.getLatLng) found = layer.getLatLng();
        });
        return found;
    }""", vehicle_id)


def kpi(page: Page, name: str):
    """The locator of one of the operator's figures."""
    return page.locator(f'#kpis dd[data-kpi="{name}"]')


def test_a_booking_travels_from_rider_to_driver_and_operator(open_page, service: Service, artifacts: Path):
    """bus-1's tablet reports a GPS position on the road to Schaan, where the operator's map draws it;
    bus-2 stays at the depot in Vaduz. A rider asks for Schaan (from the list of places) to Vaduz (clicked
    on the map), leaving after 08:30: the offer's window starts at 08:30 and bus-1, the nearer, gets the
    booking. Its driver's page lists the pickup as the next stop without a reload, bus-2's page stays
    empty; the rider's map shows bus-1 where its tablet is; the operator sees one booking and bus-1's two
    stops; arrived + picked up turns the rider's status to on board, arrived + dropped off to arrived,
    the driver's manifest empties and the operator's figures count one completed trip. A no-show reported
    long before the window is refused with the reason in German. The driver sees the rider's name at
    the next stop only (the operators' privacy settings here: riders see their bus and drivers their
    next stop's rider from an hour before, not the default ten and thirty minutes)."""
    with service.client("operator") as client:
        assert client.put("/v1/operator/retention", json={
            "coarsen_after_days": 90, "prune_after_days": 365, "bus_visible_minutes": 60,
            "driver_contact_stops": 1, "driver_contact_minutes": 60}).status_code == 200
    operator = open_page("/operator", "operator", DESKTOP)
    expect(kpi(operator.page, "bookings")).to_have_text("0")
    expect(operator.page.locator('#fleet tr[data-vehicle="bus-1"]')).to_be_visible()
    driver = open_page("/driver", "driver", TABLET,
                       geolocation={"latitude": BUS_GPS[0], "longitude": BUS_GPS[1]})
    expect(driver.page.locator("#manifest li.empty")).to_have_text("Keine Halte geplant.")
    expect(driver.page.locator("#live")).to_have_text("Live verbunden", timeout=LIVE_TIMEOUT_MS)
    other = open_page("/driver", "driver-2", TABLET)
    expect(other.page.locator("#bus")).to_have_text("Bus bus-2")
    expect(other.page.locator("#live")).to_have_text("Live verbunden", timeout=LIVE_TIMEOUT_MS)
    operator.page.wait_for_function("""() => {
        let lat = 0;
        document.getElementById('map').leafletMap.eachLayer((l) => {
            const tip = l.getTooltip && l.getTooltip();
            if (tip && tip.getContent() === 'bus-1') lat = l.getLatLng().lat;
        });
        return lat > 47.15;
    }""", timeout=LIVE_TIMEOUT_MS)  # the tablet's position, pushed over the operator's stream

    rider = open_page("/app", "rider", PHONE)
    page = rider.page
    page.get_by_label("Von", exact=True).select_option(label="Schaan")
    page.get_by_role("button", name="Ziel auf der Karte wählen").click()
    click_map_at(page, *VADUZ)
    expect(page.locator("#to")).to_contain_text("Punkt auf der Karte (47.1")
    expect(page.get_by_label("Uhrzeit")).to_have_value("08:30")
    page.get_by_role("button", name="Angebot anfragen").click()
    expect(page.locator("#offer")).to_be_visible()
    expect(page.locator("#offer-details")).to_contain_text("Abholung zwischen 08:30 und 08:40")
    boarding = re.fullmatch(r"Einstieg: (.+) \((\d+) m zu Fuss\)",
                            page.locator("#offer-details .stop-point.pickup").inner_text())
    assert boarding is not None and int(boarding[2]) < 100  # the street where the bus stops, a short walk
    expect(page.locator("#offer-details .stop-point.dropoff")).to_contain_text("Ausstieg: ")
    page.screenshot(path=artifacts / "rider-offer.png", full_page=True)
    page.get_by_role("button", name="Verbindlich buchen").click()
    expect(page.locator("#booking-details [data-status]")).to_have_attribute("data-status", "booked")
    confirmed = page.locator("#inbox li[data-kind=booking_confirmed]")  # the service's notice, in the app
    expect(confirmed).to_contain_text("Buchung bestätigt")
    confirmed.get_by_role("button", name="Gelesen").click()
    expect(page.locator("#inbox")).to_be_hidden()
    expect(page.locator("#booking-details")).to_contain_text("bus-1")
    expect(page.locator("#booking-details .eta")).to_contain_text("Bus kommt ca. 08:3")
    expect(page.locator("#booking-details .stop-point.pickup")).to_have_text(boarding[0])
    expect(page.locator("#live")).to_have_text("Live verbunden", timeout=LIVE_TIMEOUT_MS)
    booking_id = page.evaluate("localStorage.getItem('rufbus.booking')")
    assert booking_id
    page.wait_for_function("""() => {
        let lat = 0;
        document.getElementById('map').leafletMap.eachLayer((l) => {
            const tip = l.getTooltip && l.getTooltip();
            if (tip && tip.getContent() === 'bus-1') lat = l.getLatLng().lat;
        });
        return lat > 47.15;
    }""", timeout=LIVE_TIMEOUT_MS)  # the tablet's GPS position, not the depot
    operator_bus = bus_on_map(operator.page, "bus-1")
    assert abs(operator_bus["lat"] - BUS_GPS[0]) < 0.003 and abs(operator_bus["lng"] - BUS_GPS[1]) < 0.003
    page.screenshot(path=artifacts / "rider-booked.png", full_page=True)

    next_stop = driver.page.locator("#manifest li.stop.next")
    expect(next_stop).to_have_attribute("data-booking", booking_id, timeout=LIVE_TIMEOUT_MS)
    expect(next_stop).to_have_attribute("data-kind", "pickup")
    expect(next_stop).to_contain_text("1 Pers., 0 Rollstuhl")
    expect(next_stop).to_contain_text("geplant 08:30")
    expect(next_stop).to_contain_text("Fenster 08:30–08:40")
    expect(next_stop.locator(".street")).to_have_text(boarding[1])  # the rider's boarding street
    expect(driver.page.locator("#manifest li.stop")).to_have_count(2)
    expect(next_stop.locator(".contact")).to_have_text("Rita Rider")  # whom to call: the next stops only
    expect(driver.page.locator("#manifest li.stop .contact")).to_have_count(1)  # not at the drop-off after
    expect(other.page.locator("#manifest li.empty")).to_be_visible()
    expect(other.page.locator("#manifest li.stop")).to_have_count(0)
    driver.page.screenshot(path=artifacts / "driver-pickup-next.png")

    expect(kpi(operator.page, "bookings")).to_have_text("1", timeout=LIVE_TIMEOUT_MS)
    expect(operator.page.locator('#fleet tr[data-vehicle="bus-1"] .route-stops')).to_have_text("2")
    expect(operator.page.locator(f'#requests tr[data-booking="{booking_id}"]')).to_contain_text("08:30–08:40")
    operator.page.screenshot(path=artifacts / "operator-booked.png")

    actions = next_stop.locator(".actions")
    actions.get_by_role("button", name="Angekommen").click()
    expect(driver.page.locator("#message")).to_have_text("Gemeldet: Angekommen")
    expect(actions.get_by_role("button", name="Angekommen")).to_have_attribute("aria-pressed", "true")
    actions.get_by_role("button", name="Nicht erschienen").click()  # 08:00: long before the window
    expect(driver.page.locator("#message")).to_have_text(
        "Fehler: Bitte noch warten, bevor Sie „nicht erschienen“ melden.")
    actions.get_by_role("button", name="Eingestiegen").click()
    expect(next_stop).to_have_attribute("data-kind", "dropoff", timeout=LIVE_TIMEOUT_MS)
    expect(driver.page.locator("#manifest li.stop")).to_have_count(1)
    expect(page.locator("#booking-details [data-status]")).to_have_attribute(
        "data-status", "picked_up", timeout=LIVE_TIMEOUT_MS)
    expect(operator.page.locator('#fleet tr[data-vehicle="bus-1"] .load')).to_have_text(
        "1 / ♿ 0", timeout=LIVE_TIMEOUT_MS)
    driver.page.screenshot(path=artifacts / "driver-dropoff-next.png")

    next_stop.locator(".actions").get_by_role("button", name="Angekommen").click()
    next_stop.locator(".actions").get_by_role("button", name="Ausgestiegen").click()
    expect(driver.page.locator("#manifest li.empty")).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(page.locator("#booking-details [data-status]")).to_have_attribute(
        "data-status", "completed", timeout=LIVE_TIMEOUT_MS)
    expect(page.get_by_role("button", name="Neue Fahrt")).to_be_visible()
    expect(kpi(operator.page, "by-status")).to_have_text("angekommen: 1", timeout=LIVE_TIMEOUT_MS)
    expect(kpi(operator.page, "served")).to_have_text("1 / 0")
    expect(operator.page.locator('#requests tbody')).to_have_text("Keine offenen Fahrten.")
    page.screenshot(path=artifacts / "rider-arrived.png", full_page=True)
    driver.page.screenshot(path=artifacts / "driver-done.png")
    operator.page.screenshot(path=artifacts / "operator-done.png")

    expect(other.page.locator("#manifest li.stop")).to_have_count(0)
    for watched in (operator, driver, other, rider):
        assert watched.page.evaluate("window.__sameDocument") is True, "a page reloaded"
        watched.assert_clean()


def test_a_rejected_trip_offers_other_times_to_pick(open_page, service: Service, artifacts: Path):
    """With both buses full from Ruggell to Triesen around 14:00 (booked through the API), a rider in
    English asking for 8 seats on the same trip at 14:00 is told no bus is free then, with alternative
    times as buttons; choosing one asks again and shows an offer for that time — with its price under the
    operator's tariff (CHF 5.00 a person: 8 adults, CHF 40.00) — which the rider books and then cancels."""
    with service.client("operator") as client:
        tariff = {"currency": "CHF", "scheme": {"kind": "distance", "base_cents": 500, "per_km_cents": 0}}
        assert client.put("/v1/operator/tariff", json=tariff).status_code == 200
        body = {"origin": RUGGELL, "destination": TRIESEN, "time_type": "leave_after",
                "time": "2026-11-23T14:00:00+01:00", "seats": 8, "wheelchairs": 0}
        buses = set()
        for key in ("web-test-full-bus-1", "web-test-full-bus-2"):
            offer = client.post("/v1/quotes", json=body)
            assert offer.status_code == 200, offer.text
            booked = client.post("/v1/bookings", json={"quote_id": offer.json()["quote_id"]},
                                 headers={"Idempotency-Key": key})
            assert booked.status_code == 201, booked.text
            buses.add(booked.json()["vehicle_id"])
        assert buses == {"bus-1", "bus-2"}

    rider = open_page("/app", "rider", PHONE)
    page = rider.page
    page.locator("#lang").select_option("en")  # the page's language (the account panel has the notices')
    expect(page.get_by_role("button", name="Get an offer")).to_be_visible()
    page.get_by_label("From", exact=True).select_option(label="Ruggell")
    page.get_by_label("To", exact=True).select_option(label="Triesen")
    page.get_by_label("Time", exact=True).fill("14:00")
    page.get_by_label("Seats").fill("8")
    page.get_by_role("button", name="Get an offer").click()
    rejection = page.locator("#rejection")
    expect(rejection).to_be_visible()
    expect(rejection).to_contain_text("Sorry, no offer: No bus is free at that time.")
    choices = rejection.get_by_role("button")
    expect(choices.first).to_be_visible()
    page.screenshot(path=artifacts / "rider-rejected.png", full_page=True)
    label = choices.first.inner_text()
    assert label.startswith("Choose ")
    chosen = label.removeprefix("Choose ")
    choices.first.click()
    expect(page.locator("#offer")).to_be_visible()
    expect(page.get_by_label("Time", exact=True)).to_have_value(chosen)
    expect(page.locator("#rejection")).to_be_hidden()
    expect(page.locator("#offer-details .fare")).to_contain_text("Price: CHF 40.00")
    expect(page.locator("#offer-details .fare")).to_contain_text("8 × adults at CHF 5.00")
    page.locator("#offer").screenshot(path=artifacts / "rider-offer-price.png")
    page.get_by_role("button", name="Book this ride").click()
    expect(page.locator("#booking-details [data-status]")).to_have_attribute("data-status", "booked")
    page.get_by_role("button", name="Cancel ride").click()
    expect(page.locator("#booking-details [data-status]")).to_have_attribute("data-status", "cancelled")
    expect(page.locator("#message")).to_have_text("The ride was cancelled.")
    expect(page.get_by_role("button", name="New ride")).to_be_visible()
    assert page.evaluate("localStorage.getItem('rufbus.booking')") is None
    rider.assert_clean()


def test_the_exceptions_panel_shows_a_late_bus_without_a_reload(open_page, service: Service, artifacts: Path):
    """With the operator's page open, a rider books a trip from Vaduz at 08:00 (through the API) and both
    buses' tablets report them in Ruggell, a quarter of an hour away: after the live messages, without a
    reload, the Exceptions panel lists the late bus with the booking and the minutes it is behind the
    promise (as GET /v1/operator/exceptions counts them), and what the system did: no bus keeps the promise,
    so the rider was given a new one and told (promise_changed)."""
    operator = open_page("/operator", "operator", DESKTOP)
    page = operator.page
    expect(page.locator("#exceptions li").first).to_be_visible()
    expect(page.locator('#exceptions li[data-kind="late_bus"]')).to_have_count(0)
    now = "2026-11-23T08:00:00+01:00"
    with service.client("rider") as rider:
        body = {"origin": {"lat": VADUZ[0], "lon": VADUZ[1]},
                "destination": {"lat": SCHAAN[0], "lon": SCHAAN[1]}, "time_type": "leave_after", "time": now,
                "seats": 1, "wheelchairs": 0}
        offer = rider.post("/v1/quotes", json=body)
        assert offer.status_code == 200, offer.text
        booked = rider.post("/v1/bookings", json={"quote_id": offer.json()["quote_id"]},
                            headers={"Idempotency-Key": "web-test-late-bus"})
        assert booked.status_code == 201, booked.text
    booking_id = booked.json()["id"]
    for role in ("driver", "driver-2"):
        with service.client(role) as driver:
            answer = driver.post("/v1/driver/positions", json={"positions": [{**RUGGELL, "at": now}]})
            assert answer.status_code == 202 and answer.json()["used"], answer.text
    with service.client("operator") as client:
        listed = client.get("/v1/operator/exceptions").json()["exceptions"]
    late = next(item for item in listed if item["kind"] == "late_bus" and item["booking_id"] == booking_id)
    assert late["minutes"] >= 1
    row = page.locator(f'#exceptions li[data-kind="late_bus"][data-booking="{booking_id}"]')
    expect(row).to_contain_text(f"{late['minutes']} min hinter dem Versprechen", timeout=LIVE_TIMEOUT_MS)
    expect(row).to_contain_text("Getan: neues Versprechen bis")
    expect(row).to_contain_text("Fahrgast informiert")
    page.screenshot(path=artifacts / "operator-exceptions.png")
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded"
    operator.assert_clean()


def test_every_control_has_a_name_and_the_keyboard_reaches_it(open_page, artifacts: Path):
    """At phone width no page is wider than the screen; on each page every visible input, select and
    button has an accessible name (a label or aria-label), the map is a labelled region with the OSM
    attribution, and after a reload (signed in from the stored key) the first Tab lands on the skip
    link."""
    for path, role in (("/app", "rider"), ("/driver", "driver"), ("/operator", "operator")):
        watched = open_page(path, role, PHONE)
        page = watched.page
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow} px wider than a phone"
        unnamed = page.evaluate("""() => [...document.querySelectorAll('input, select, button')]
            .filter((el) => el.offsetParent !== null)
            .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                            && !el.textContent.trim())
            .map((el) => el.outerHTML.slice(0, 80))""")
        assert unnamed == [], f"{path}: {unnamed}"
        expect(page.get_by_role("region", name="Karte des Bediengebiets")).to_be_visible()
        expect(page.locator(".leaflet-control-attribution")).to_contain_text("© OpenStreetMap")
        page.reload()  # signed in from the stored key now: the focus starts at the top of the page
        expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=20_000)
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip", path
        page.screenshot(path=artifacts / f"{role}-phone.png", full_page=True)
        watched.assert_clean()


def test_the_operator_closes_a_holiday_and_a_weekday_in_the_calendar(open_page, service: Service,
                                                                      artifacts: Path):
    """In the service calendar the operator closes Sundays and adds Wednesday 25 November as a closed
    holiday: a rider's quote for it is then refused naming the holiday. An exception with hours ending
    before they start is refused with the problem listed. Removing the holiday and putting Sundays back
    to the standard hours lets the quote through again (the service is left as it was)."""
    operator = open_page("/operator", "operator", DESKTOP)
    page = operator.page
    page.get_by_text("Betriebskalender").click()
    sunday = page.locator('#calendar-weekdays tr[data-weekday="sunday"]')
    sunday.get_by_label("Sonntag: Art").select_option("closed")
    page.get_by_role("button", name="Wochentage speichern").click()
    message = page.locator("#calendar-message")
    expect(message).to_contain_text("Kalender gespeichert.")
    form = page.locator("#calendar-exception-form")
    form.get_by_label("Datum").fill("2026-11-25")
    form.get_by_label("Bezeichnung").fill("Testfeiertag")
    form.get_by_role("button", name="Ausnahme hinzufügen").click()
    expect(page.locator('#calendar-exceptions li[data-day="2026-11-25"]')).to_have_text(
        "2026-11-25 Testfeiertag: geschlossen Entfernen")
    trip = {"origin": {"lat": 47.1410, "lon": 9.5215}, "destination": {"lat": 47.1650, "lon": 9.5090},
            "time_type": "leave_after", "time": "2026-11-25T10:00:00+01:00", "seats": 1, "wheelchairs": 0}
    with service.client("rider") as rider:
        refused = rider.post("/v1/quotes", json=trip)
        assert (refused.status_code, refused.json()["code"]) == (409, "outside_hours")
        assert "Testfeiertag" in refused.json()["message"]
        form.get_by_label("Datum").fill("2026-12-24")
        form.get_by_label("Ausnahme: Art").select_option("hours")
        form.get_by_label("Ausnahme: von").fill("12:00")
        form.get_by_label("Ausnahme: bis").fill("08:00")
        form.get_by_role("button", name="Ausnahme hinzufügen").click()
        expect(message).to_contain_text("Der Kalender wurde nicht übernommen:")
        expect(message.locator("li").first).to_contain_text("2026-12-24")
        page.screenshot(path=artifacts / "operator-calendar.png", full_page=True)
        page.get_by_role("button", name="Entfernen 2026-11-25").click()
        expect(page.locator("#calendar-exceptions")).to_have_text("Keine Ausnahmen.")
        sunday.get_by_label("Sonntag: Art").select_option("standard")
        page.get_by_role("button", name="Wochentage speichern").click()
        expect(message).to_contain_text("Kalender gespeichert.")
        assert rider.post("/v1/quotes", json=trip).status_code == 200
    operator.assert_clean()


def test_the_operator_places_meeting_points_and_the_rider_sees_the_walk(open_page, service: Service,
                                                                      artifacts: Path):
    """The operator's map draws every meeting point of the area (the summary counts the OSM stops and the
    generated points); "Testpunkt", named in the form and placed by a click on the map, becomes the
    operator's point, and its popup deactivates it. With the rules on hybrid (300 m), a rider's offer from
    Vaduz names the nearest meeting point and the map draws the walk there; the rules go back to door to
    door after."""
    operator = open_page("/operator", "operator", DESKTOP)
    page = operator.page
    page.locator("#meeting-points-box").get_by_text("Treffpunkte", exact=True).click()
    summary = page.locator("#meeting-points-summary")
    expect(summary).to_contain_text("OSM-Haltestellen")
    count = int(summary.get_attribute("data-count") or 0)
    assert count > 100
    assert page.evaluate("document.getElementById('map').meetingPoints.getLayers().length") == count
    page.get_by_label("Name des neuen Treffpunkts").fill("Testpunkt")
    page.get_by_role("button", name="Auf der Karte setzen").click()
    click_map_at(page, 47.1395, 9.5225)
    message = page.locator("#meeting-points-message")
    expect(message).to_contain_text("Treffpunkt „Testpunkt“ gespeichert.")
    expect(summary).to_have_attribute("data-count", str(count + 1))
    with service.client("operator") as client:
        features = client.get("/v1/operator/meeting-points").json()["features"]
        mine = next(f for f in features if f["properties"]["name"] == "Testpunkt")
        assert mine["properties"] == {**mine["properties"], "source": "operator", "active": True}
        page.evaluate("""(id) => { document.getElementById('map').meetingPoints.eachLayer(
            (layer) => { if (layer.options.meetingPoint === id) layer.openPopup(); }); }""", mine["id"])
        popup = page.locator(f'.meeting-point[data-meeting-point="{mine["id"]}"]')
        popup.get_by_role("button", name="Deaktivieren").click()
        expect(message).to_contain_text("gespeichert")
        page.screenshot(path=artifacts / "operator-meeting-points.png")
        features = client.get("/v1/operator/meeting-points").json()["features"]
        assert next(f for f in features if f["id"] == mine["id"])["properties"]["active"] is False
        rules = client.get("/v1/operator/rules").json()
        door_to_door = {k: v for k, v in rules.items() if k not in ("version", "valid_from")}
        assert client.put("/v1/operator/rules", json={**door_to_door, "mode": "hybrid"}).status_code == 200
        try:
            rider = open_page("/app", "rider", PHONE)
            ride = rider.page
            ride.get_by_label("Von", exact=True).select_option(label="Vaduz")
            ride.get_by_label("Nach", exact=True).select_option(label="Schaan")
            ride.get_by_role("button", name="Angebot anfragen").click()
            expect(ride.locator("#offer")).to_be_visible()
            walk = ride.locator("#offer-details li.walk")
            expect(walk).to_contain_text("Einstieg am Treffpunkt")
            assert walk.get_attribute("data-walk") != mine["id"]  # an inactive point is offered to nobody
            drawn = ride.evaluate("""() => {
                let points = 0;
                document.getElementById('map').leafletMap.eachLayer((layer) => {
                    if (layer.options.walk) points = layer.getLatLngs().length;
                });
                return points;
            }""")
            assert drawn >= 2
            ride.screenshot(path=artifacts / "rider-walk.png", full_page=True)
            rider.assert_clean()
        finally:
            client.put("/v1/operator/rules", json=door_to_door)
    operator.assert_clean()


def test_the_operator_edits_rules_and_fleet_and_runs_a_simulation(open_page, artifacts: Path):
    """(Runs last: it changes the service.) Rules whose service ends before it starts are refused with
    the problems listed; valid rules are saved as a new version. A new bus, bus-9, appears in the vehicle
    list; a shift 09:00-17:00 today puts it into the live fleet, and it can be deleted again; taking bus-1
    out of service and back is shown in the list. A simulated day of 10 requests on one
    bus runs to its end and offers its report."""
    operator = open_page("/operator", "operator", DESKTOP)
    page = operator.page
    page.get_by_text("Betriebsregeln").click()
    start = page.get_by_label("Betriebsbeginn (s nach Mitternacht)")
    end = page.get_by_label("Betriebsende (s nach Mitternacht)")
    original_start = start.input_value()
    start.fill("80000")
    end.fill("3600")
    page.locator("#rules").get_by_role("button", name="Speichern").click()
    problems = page.locator("#rules-message")
    expect(problems).to_contain_text("Die Regeln wurden nicht übernommen:")
    expect(problems.locator("li").first).to_be_visible()
    page.screenshot(path=artifacts / "operator-rules-refused.png")
    start.fill(original_start)
    end.fill("79200")
    page.locator("#rules").get_by_role("button", name="Speichern").click()
    expect(problems).to_contain_text("Gespeichert (Version")

    page.get_by_text("Tarif", exact=True).click()
    tariff = page.locator("#tariff-form")
    tariff.get_by_label("Grundpreis").fill("2.50")
    tariff.get_by_label("pro km").fill("1.20")
    tariff.get_by_label("Mindestpreis").fill("9")
    tariff.get_by_label("Höchstpreis (leer: keiner)").fill("8")
    tariff.get_by_label("Kinder").fill("50")
    tariff.get_by_role("button", name="Tarif speichern").click()
    expect(page.locator("#tariff-message")).to_contain_text("Fehler")  # a cap below the minimum
    page.locator("#tariff-form").get_by_label("Höchstpreis (leer: keiner)").fill("")
    page.locator("#tariff-form").get_by_role("button", name="Tarif speichern").click()
    expect(page.locator("#tariff-message")).to_contain_text("Gespeichert (Version")
    expect(page.locator("#tariff-status")).to_contain_text("gültig seit")
    expect(page.locator("#tariff-form").get_by_label("Kinder")).to_have_value("50")
    page.locator("#tariff-box").scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "operator-tariff.png")

    page.get_by_text("Fahrzeuge", exact=True).click()
    vehicles = page.locator("#vehicles")
    expect(vehicles.locator('tr[data-vehicle="bus-1"]')).to_contain_text("im Dienst")
    form = page.locator("#vehicle-form")
    form.get_by_label("Kennung").fill("bus-9")
    form.get_by_label("Name").fill("Neuer Bus")
    form.get_by_role("button", name="Fahrzeug anlegen").click()
    expect(vehicles.locator('tr[data-vehicle="bus-9"]')).to_contain_text("Neuer Bus")
    vehicles.locator('tr[data-vehicle="bus-9"]').get_by_role("button", name="Schichten").click()
    shifts = page.locator("#shifts")
    expect(shifts).to_contain_text("Schichten: bus-9")
    shifts.get_by_label("Beginn").fill("09:00")
    shifts.get_by_label("Ende").fill("17:00")
    shifts.get_by_role("button", name="Schicht anlegen").click()
    expect(shifts.locator("li")).to_have_text("2026-11-23 09:00–17:00 Löschen")
    expect(page.locator('#fleet tr[data-vehicle="bus-9"]')).to_contain_text("im Dienst",
                                                                            timeout=LIVE_TIMEOUT_MS)
    page.screenshot(path=artifacts / "operator-fleet.png", full_page=True)
    shifts.get_by_role("button", name="Löschen").click()
    expect(shifts.locator("li")).to_have_count(0)
    vehicles.locator('tr[data-vehicle="bus-1"]').get_by_role("button", name="Außer Dienst nehmen").click()
    expect(vehicles.locator('tr[data-vehicle="bus-1"]')).to_contain_text("außer Dienst")
    vehicles.locator('tr[data-vehicle="bus-1"]').get_by_role("button", name="Wieder in Dienst").click()
    expect(vehicles.locator('tr[data-vehicle="bus-1"]')).to_contain_text("im Dienst")

    page.get_by_text("Simulation", exact=True).click()
    simulation = page.locator("#simulation")
    simulation.get_by_label("Busse").fill("1")
    simulation.get_by_label("Anfragen").fill("10")
    simulation.get_by_role("button", name="Simulation starten").click()
    expect(page.get_by_role("button", name="Bericht öffnen")).to_be_visible(timeout=45_000)
    expect(page.locator("#simulation-status")).to_contain_text("fertig (10/10)")
    page.screenshot(path=artifacts / "operator-simulation.png", full_page=True)
    operator.assert_clean()


def test_the_rider_downloads_their_data_and_deletes_the_account(open_page, service: Service, artifacts: Path):
    """On /app the footer links the privacy notice (/privacy); "Meine Daten" downloads the rider's
    export (their name); after confirming "Konto löschen" the page says so and the key is refused (401).
    (A rider of their own: the other tests keep theirs.)"""
    watched = open_page("/app", "leaving-rider", PHONE)
    page = watched.page
    expect(page.get_by_role("link", name="Datenschutz")).to_have_attribute("href", "/privacy")
    with page.expect_download() as download:
        page.get_by_role("button", name="Meine Daten").click()
    data = json.loads(Path(download.value.path()).read_text())
    assert data["rider"]["name"] == "Lea Leaving" and data["bookings"] == []
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Konto löschen").click()
    expect(page.locator("#privacy-message")).to_have_text("Ihr Konto und Ihre Daten wurden gelöscht.")
    page.screenshot(path=str(artifacts / "rider-erased.png"))
    with service.client("leaving-rider") as client:
        assert client.get("/v1/me").status_code == 401
    watched.assert_clean()
