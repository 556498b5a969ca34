"""The address search and the basemap in a real browser (headless Chromium, Playwright) against a real
service process: a rider types an address, picks a suggestion with the keyboard, and sees it marked on a
basemap drawn from our own vector tiles — with no request leaving the service."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.web.test_web_apps import PHONE, open_page  # noqa: F401 (the fixture, asked for by name)

MARKERS = """(map) => {
  const found = [];
  map.eachLayer((layer) => { if (layer.getLatLng && layer.options.radius === 7) {
    const p = layer.getLatLng(); found.push([p.lat, p.lng]); } });
  return found;
}"""


def test_a_rider_types_an_address_picks_a_suggestion_and_sees_it_on_the_basemap(request, service, artifacts):
    """'stadtle 43' in the origin's search offers Städtle 43 in Vaduz; ↓ and Enter pick it: the field shows
    it, a marker stands there, the map has zoomed in onto tiles with buildings and roads, and nothing was
    fetched from anywhere but the service."""
    hit = service.client("rider").get("/v1/places/search", params={"q": "stadtle 43"}).json()[0]  # warm
    watched = request.getfixturevalue("open_page")("/app", "rider", PHONE)
    page = watched.page
    search = page.get_by_role("combobox", name="Von: Adresse oder Ort suchen")
    search.fill("stadtle 43")
    option = page.get_by_role("option").filter(has_text="Städtle 43")
    expect(option.first).to_be_visible()
    expect(search).to_have_attribute("aria-expanded", "true")
    search.press("ArrowDown")
    expect(search).to_have_attribute("aria-activedescendant", "address-search-1-0")
    search.press("Enter")
    expect(search).to_have_value("Städtle 43, 9490 Vaduz")
    expect(search).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#from")).to_contain_text("Städtle 43, 9490 Vaduz")
    markers = page.locator("#map").evaluate(f"(element) => ({MARKERS})(element.leafletMap)")
    assert [round(c, 5) for c in markers[0]] == [round(hit["lat"], 5), round(hit["lon"], 5)]
    drawn = page.locator("#map canvas.leaflet-tile[data-layers*='building']")
    expect(drawn.first).to_be_attached(timeout=20_000)
    assert "road" in drawn.first.get_attribute("data-layers")
    page.screenshot(path=str(artifacts / "rider-address-search.png"))
    watched.assert_clean()


def test_escape_closes_the_suggestions_and_a_place_outside_the_area_cannot_be_picked(request):
    """'Balzers' (south of the area) is suggested but marked outside and not taken on a click; Escape
    closes the list and leaves the field as typed."""
    watched = request.getfixturevalue("open_page")("/app", "rider", PHONE)
    page = watched.page
    search = page.get_by_role("combobox", name="Nach: Adresse oder Ort suchen")
    search.fill("balzers")
    outside = page.locator("[role=option][aria-disabled=true]").filter(has_text="Balzers")
    expect(outside.first).to_be_visible()
    expect(outside.first).to_contain_text("außerhalb des Bediengebiets")
    outside.first.click(force=True)
    expect(search).to_have_value("balzers")
    search.press("Escape")
    expect(search).to_have_attribute("aria-expanded", "false")
    watched.assert_clean()
