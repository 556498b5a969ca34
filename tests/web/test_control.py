"""Manual control on /operator in a real browser (headless Chromium, Playwright) against a real service
process (tests/web/conftest.py: two buses, the clock at 08:00): the operator moves a booking to the other
bus; the route shown changes and the audit log names the operator."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.web.test_web_apps import DESKTOP, TABLET, open_page  # noqa: F401 (fixture)


def test_an_operator_moves_a_booking_to_the_other_bus_and_sees_route_and_audit_entry(open_page, service,  # noqa: F811
                                                                                    artifacts: Path):
    """Rita books Vaduz → Schaan at 10:00. Otto picks her bus in the control panel, moves the booking to
    the other bus: the panel says it is done, her bus's route is empty, the other bus's route holds her
    pickup, and today's log reads "Otto Operator: move <booking> <bus> → <other>"."""
    booked = service.book(hour=10)
    booking, bus = booked["id"], booked["vehicle_id"]
    other = "bus-2" if bus == "bus-1" else "bus-1"
    watched = open_page("/operator", "operator", DESKTOP)
    page = watched.page
    panel = page.locator("#control")
    panel.get_by_label("Bus", exact=True).select_option(bus)
    row = panel.locator(f'tr[data-booking="{booking}"][data-kind="pickup"]')
    expect(row).to_be_visible()
    row.get_by_label("Verschieben auf").select_option(other)
    row.get_by_role("button", name="Verschieben").click()
    expect(page.locator("#control-message")).to_have_text("Erledigt: move")
    expect(panel.locator("#control-route")).to_have_text("Keine Halte.")
    expect(panel.locator("#control-audit li")).to_have_text(
        [f"08:00 Otto Operator: move {booking} {bus} → {other}"])
    panel.get_by_label("Bus", exact=True).select_option(other)
    expect(panel.locator(f'tr[data-booking="{booking}"][data-kind="pickup"]')).to_be_visible()
    page.screenshot(path=artifacts / "operator-control.png", full_page=True)
    assert watched.errors == [] and watched.outside == []


def test_the_driver_sees_a_rider_kept_on_the_bus_and_the_order_fixed(open_page, service):  # noqa: F811
    """Rita books Vaduz → Schaan at 11:00; Otto pins her booking to its bus and locks that bus's route
    order (the API). Its driver's tablet shows her pickup and drop-off as kept on the bus by the control
    room and the order as fixed; after Otto unlocks it, the notice goes (pushed live, no reload)."""
    booked = service.book(hour=11)
    booking, bus = booked["id"], booked["vehicle_id"]
    with service.client("operator") as operator:
        assert operator.post(f"/v1/operator/bookings/{booking}/pin").status_code == 200
        assert operator.post(f"/v1/operator/vehicles/{bus}/lock", json={"allow_insertions": True}).status_code == 200
        watched = open_page("/driver", "driver" if bus == "bus-1" else "driver-2", TABLET)
        page = watched.page
        for kind in ("pickup", "dropoff"):
            stop = page.locator(f'#manifest li[data-booking="{booking}"][data-kind="{kind}"]')
            expect(stop.locator(".pinned")).to_have_text("Von der Leitstelle diesem Bus zugeteilt")
        expect(page.locator("#lock")).to_have_text("Reihenfolge von der Leitstelle festgelegt")
        assert operator.delete(f"/v1/operator/vehicles/{bus}/lock").status_code == 200
        assert operator.delete(f"/v1/operator/bookings/{booking}/pin").status_code == 200
    expect(page.locator("#lock")).to_be_hidden()
    expect(page.locator("#manifest .pinned")).to_have_count(0)
    watched.assert_clean()
