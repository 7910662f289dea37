"""End-to-end in headless Chromium: the dispatcher's day view on a busy day.

One vehicle at a time, filters by status and rider, a map with a legend and a vehicle
filter, a timeline with "now", at 1280 px (desktop), 768 px (tablet) and 390 px (phone).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from playwright.sync_api import Browser, Page, expect

from planner.booking import BookingEngine
from routing.settings import Settings
from tests.e2e.conftest import screenshot
from tests.e2e.test_browser import login, pre_book, serious_violations
from tests.web.helpers import DAY, Clock
from web.demo import seed_demo_day


def busy_day(engine: BookingEngine, settings: Settings) -> str:
    """A realistic day (as ``make run`` shows it) and the code of one booking on it."""
    assert seed_demo_day(engine, settings, date.fromisoformat(DAY), requests=60) > 40
    return pre_book(engine, "15:00")


def no_sideways_scroll(page: Page) -> None:
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_day_view_one_vehicle_filters_and_map(
    page: Page, live_server: str, engine: BookingEngine, settings: Settings, clock: Clock
) -> None:
    code = busy_day(engine, settings)
    clock.now = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)  # 10:30 in Berlin, on the day
    login(page, live_server)
    page.goto(f"{live_server}/dispatch/?date={DAY}")

    # the overview: a line per vehicle, stop lists closed, the route map with its legend
    vehicles = page.locator("table.vehicles tbody tr")
    expect(vehicles.first).to_be_visible()
    count = vehicles.count()
    assert count == len(engine.day_plan(date.fromisoformat(DAY)).vehicles)
    expect(page.locator("details.stop-list").first).not_to_have_attribute("open", "")
    expect(page.get_by_role("link", name=code).first).to_be_hidden()  # in a closed stop list
    route_map = page.locator("#route-map")
    expect(route_map).to_have_attribute("data-loaded", re.compile(r"[1-9]\d*"))
    legend = page.get_by_role("list", name="Legende der Karte")
    expect(legend.get_by_role("listitem")).to_have_count(count + 3)  # + pickup, drop-off, depot
    expect(page.locator("svg.gantt .gantt-now")).to_be_attached()
    expect(page.locator(".hint")).to_contain_text("jetzt 10:30 Uhr")
    assert serious_violations(page) == []
    screenshot(page, "dispatch-day", height=1500)

    # the map shows one vehicle's route on request
    first = engine.day_plan(date.fromisoformat(DAY)).vehicles[0].vehicle_id
    everything = int(route_map.get_attribute("data-loaded"))
    page.get_by_label("Karte zeigt").select_option(first)
    expect(route_map).to_have_attribute("data-shown", first)
    assert int(route_map.get_attribute("data-loaded")) < everything

    # one vehicle: its own page, its stops open
    vehicle = engine.booking(code).vehicle_id
    page.get_by_role("navigation", name="Fahrzeuge").get_by_role("link", name=vehicle).click()
    assert f"vehicle={vehicle}" in page.url
    expect(page.get_by_role("heading", name=f"Fahrzeug {vehicle}")).to_be_visible()
    expect(page.get_by_role("link", name=code).first).to_be_visible()
    expect(route_map).to_have_attribute("data-shown", vehicle)
    expect(page.locator("svg.gantt text", has_text=vehicle)).to_have_count(1)
    assert serious_violations(page) == []
    screenshot(page, "dispatch-day-vehicle", height=1500)

    # search by rider: the booking and its one actions menu
    page.get_by_role("link", name="Alle Fahrzeuge").first.click()
    page.get_by_label("Fahrgast oder Buchungscode").fill("grete")
    page.get_by_role("button", name="Filtern").click()
    expect(page.locator("#found-count")).to_have_text("1 Buchungen gefunden.")
    menu = page.locator("details.menu")
    expect(menu).to_have_count(1)
    expect(menu.get_by_role("link", name="Stornieren")).not_to_be_visible()
    menu.locator("summary").click()
    assert serious_violations(page) == []
    menu.get_by_role("link", name="Stornieren").click()
    expect(page.get_by_role("heading", name=re.compile("stornieren", re.I))).to_be_visible()
    page.get_by_role("button", name=re.compile("stornieren", re.I)).click()
    expect(page.get_by_role("status")).to_contain_text(f"{code}: storniert")

    # by status: the cancelled booking is listed, nothing left to do with it
    page.goto(f"{live_server}/dispatch/?date={DAY}&status=cancelled")
    expect(page.locator("#found-count")).to_have_text("1 Buchungen gefunden.")
    expect(page.locator("table.found")).to_contain_text(code)
    expect(page.locator("table.found")).to_contain_text("storniert")
    expect(page.locator("details.menu")).to_have_count(0)

    # a vehicle that does not exist: said on the page, which still shows the day
    answer = page.goto(f"{live_server}/dispatch/?date={DAY}&vehicle=BUS-99")
    assert answer is not None and answer.status == 404
    expect(page.get_by_role("alert")).to_contain_text("Das Fahrzeug „BUS-99“ gibt es nicht.")
    expect(page.locator("table.vehicles")).to_be_visible()


@pytest.mark.parametrize("width", [768, 390])
def test_day_view_on_tablet_and_phone(
    browser: Browser, live_server: str, engine: BookingEngine, settings: Settings, width: int
) -> None:
    code = busy_day(engine, settings)
    context = browser.new_context(viewport={"width": width, "height": 1000}, locale="de-DE")
    page = context.new_page()
    try:
        login(page, live_server)
        page.goto(f"{live_server}/dispatch/?date={DAY}")
        expect(page.locator("#route-map")).to_have_attribute("data-loaded", re.compile(r"[1-9]"))
        no_sideways_scroll(page)
        assert serious_violations(page) == []
        screenshot(page, f"dispatch-day-{width}", height=1600)

        vehicle = engine.booking(code).vehicle_id
        page.get_by_label("Fahrzeug", exact=True).select_option(vehicle)
        page.get_by_role("button", name="Filtern").click()
        expect(page.get_by_role("heading", name=f"Fahrzeug {vehicle}")).to_be_visible()
        stop = page.locator("table.stops tr", has_text=code).first
        expect(stop).to_be_visible()
        no_sideways_scroll(page)
        assert serious_violations(page) == []
        screenshot(page, f"dispatch-day-vehicle-{width}", height=1600)
    finally:
        context.close()
