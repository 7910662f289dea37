"""End-to-end in headless Chromium: the booking form's map picker.

The map shows town and village labels and clusters stops at low zoom; a tap picks the stop
nearest the finger (and lists the others close by); the stops are reachable with the
keyboard; on a phone the map waits behind a button and the typed search comes first.

The tests find the page's Leaflet map through Leaflet's own init hook (set before the page's
scripts run), so they work on any version of the page's script.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import screenshot
from tests.e2e.test_browser import serious_violations

BERNBURG = "Bernburg (Saale), Busbahnhof"
GROENA = (51.82215, 11.68)  # near the village of Gröna (places.csv: 565 people)

#: Keeps every Leaflet map the page makes in ``window.__maps``.
CATCH_MAPS = """
(() => {
  let real;
  Object.defineProperty(window, "L", {
    configurable: true,
    get() { return real; },
    set(value) {
      real = value;
      if (value && value.Map) {
        value.Map.addInitHook(function () { (window.__maps = window.__maps || []).push(this); });
      }
    },
  });
})();
"""


def open_page(browser: Browser, base: str, width: int) -> Page:
    """The booking form at ``width`` px (a touch screen below 1000 px), maps caught."""
    phone = width < 1000
    context = browser.new_context(
        viewport={"width": width, "height": 844 if phone else 900},
        locale="de-DE",
        has_touch=phone,
        is_mobile=phone,
    )
    page = context.new_page()
    page.add_init_script(CATCH_MAPS)
    page.goto(base + "/")
    return page


def show_map(page: Page) -> None:
    """Open the map if it waits behind its button, then wait for its stops."""
    toggle = page.locator("#map-toggle")
    if toggle.count() and toggle.get_attribute("aria-expanded") == "false":
        toggle.click()
    expect(page.locator("#stop-map")).to_have_attribute("data-loaded", re.compile(r"[1-9]\d*"))
    page.locator("#stop-map").scroll_into_view_if_needed()


def settled(page: Page) -> None:
    """Wait until the map has stopped zooming and panning."""
    page.wait_for_function(
        "() => { const m = window.__maps[0];"
        " return !m._animatingZoom && !m._panAnim?._inProgress; }"
    )
    page.wait_for_timeout(300)  # the marker layers redraw on moveend


def set_view(page: Page, where: tuple[float, float], zoom: int) -> None:
    """Centre the map on ``where`` at ``zoom`` (as a rider's fingers would, only faster)."""
    page.evaluate(
        "([lat, lon, zoom]) => { window.__maps[0].setView([lat, lon], zoom, {animate: false}); }",
        [*where, zoom],
    )


def stop_position(page: Page, name: str) -> tuple[float, float]:
    """Where the stop ``name`` is on the screen now (page pixels)."""
    url = page.locator("#stop-map").get_attribute("data-stops")
    return page.evaluate(
        """async ([url, name]) => {
            const data = await (await fetch(url)).json();
            const f = data.features.find((f) => f.properties.label === name);
            const [lon, lat] = f.geometry.coordinates;
            const m = window.__maps[0];
            const p = m.latLngToContainerPoint([lat, lon]);
            const box = m.getContainer().getBoundingClientRect();
            return [box.x + p.x, box.y + p.y];
        }""",
        [url, name],
    )


def press(page: Page, x: float, y: float, *, touch: bool) -> None:
    if touch:
        page.touchscreen.tap(x, y)
    else:
        page.mouse.click(x, y)


def popup_open(page: Page) -> bool:
    return page.locator("#stop-map .leaflet-popup").count() > 0


@pytest.mark.parametrize("width", [1280, 390])
def test_a_tap_on_the_bus_station_picks_it(browser: Browser, live_server: str, width: int) -> None:
    page = open_page(browser, live_server, width)
    show_map(page)
    settled(page)
    # tap where the bus station is until the map offers a stop (clusters zoom in on a tap)
    for _ in range(10):
        zoom = page.evaluate("window.__maps[0].getZoom()")
        x, y = stop_position(page, BERNBURG)
        press(page, x, y, touch=width < 1000)
        page.wait_for_function(
            "(zoom) => document.querySelector('#stop-map .leaflet-popup')"
            " || window.__maps[0].getZoom() > zoom",
            arg=zoom,
        )
        settled(page)
        if popup_open(page):
            break
    popup = page.locator("#stop-map .leaflet-popup")
    popup.get_by_role("button", name="als Start").click()
    expect(page.locator("#origin")).to_have_value(BERNBURG)
    page.context.close()


def test_stops_nearby_are_offered_with_the_nearest(browser: Browser, live_server: str) -> None:
    # two stops 30 m apart: about 10 px at zoom 15, their markers overlap
    hamster, loederburger = "Staßfurt, Hamsterstr.", "Staßfurt, Löderburger Str."
    page = open_page(browser, live_server, 1280)
    show_map(page)
    set_view(page, (51.85687, 11.579886), 15)
    settled(page)
    x, y = stop_position(page, hamster)
    page.mouse.click(x, y)
    popup = page.locator("#stop-map .leaflet-popup")
    expect(popup.locator(".stop-name")).to_have_text(hamster)
    # the other stop within reach of the finger: one press makes it the one to choose
    other = popup.locator(".nearby").get_by_role("button", name=loederburger)
    other.click()
    expect(popup.locator(".stop-name")).to_have_text(loederburger)
    expect(popup.locator(".nearby")).to_contain_text(hamster)
    popup.get_by_role("button", name="als Ziel").click()
    expect(page.locator("#destination")).to_have_value(loederburger)
    page.context.close()


def test_clusters_zoom_in_and_places_are_labelled(browser: Browser, live_server: str) -> None:
    page = open_page(browser, live_server, 1280)
    show_map(page)
    settled(page)
    # the whole district: the towns are labelled, the labels do not overlap
    labels = page.locator("#stop-map .place-label")
    for town in ("Bernburg", "Schönebeck", "Aschersleben", "Staßfurt"):
        expect(labels.filter(has_text=re.compile(f"^{town}$"))).to_have_count(1)
    expect(labels.filter(has_text=re.compile("^Gröna$"))).to_have_count(0)
    boxes = [labels.nth(k).bounding_box() for k in range(labels.count())]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = (
                a["x"] + a["width"] <= b["x"]
                or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"]
                or b["y"] + b["height"] <= a["y"]
            )
            assert apart, (a, b)
    # stops come in clusters with their count; a click on one zooms in
    clusters = page.locator("#stop-map .stop-cluster")
    expect(clusters.first).to_be_visible()
    counts = [int(c) for c in clusters.all_inner_texts()]
    assert max(counts) > 1
    total = page.locator("#stop-map").get_attribute("data-loaded")
    shown = sum(counts) + page.locator("#stop-map .stop-marker").count()
    assert shown <= int(total)
    assert serious_violations(page) == []
    screenshot(page, "booking-map-district", height=1300)
    zoom = page.evaluate("window.__maps[0].getZoom()")
    biggest = clusters.nth(counts.index(max(counts)))
    biggest.click()
    page.wait_for_function("(zoom) => window.__maps[0].getZoom() > zoom", arg=zoom)
    settled(page)
    # villages are labelled closer in
    set_view(page, GROENA, 13)
    settled(page)
    expect(labels.filter(has_text=re.compile("^Gröna$"))).to_have_count(1)
    page.context.close()


def test_a_stop_is_chosen_with_the_keyboard(browser: Browser, live_server: str) -> None:
    page = open_page(browser, live_server, 1280)
    show_map(page)
    settled(page)
    # a cluster: Enter zooms in and keeps the focus on the map's stops
    page.locator("#stop-map").focus()
    page.keyboard.press("Tab")
    expect(page.locator("#stop-map .stop-cluster:focus")).to_have_count(1)
    zoom = page.evaluate("window.__maps[0].getZoom()")
    page.keyboard.press("Enter")
    page.wait_for_function("(zoom) => window.__maps[0].getZoom() > zoom", arg=zoom)
    settled(page)
    expect(page.locator("#stop-map .leaflet-marker-icon:focus")).to_have_count(1)
    # a stop: Enter opens it, Escape closes it and goes back to the stop
    set_view(page, (51.795244, 11.744589), 16)
    settled(page)
    page.locator("#stop-map").focus()
    page.keyboard.press("Tab")
    first = page.evaluate("document.activeElement.getAttribute('aria-label')")
    page.keyboard.press("Enter")
    expect(page.locator("#stop-map .leaflet-popup .stop-name")).to_have_text(first)
    page.keyboard.press("Escape")
    expect(page.locator("#stop-map .leaflet-popup")).to_have_count(0)
    expect(page.locator(f'#stop-map [aria-label="{first}"]')).to_be_focused()
    page.locator("#stop-map").focus()
    # Tab through the map's stops to the bus station, Enter opens it, Enter takes it
    for _ in range(60):
        page.keyboard.press("Tab")
        label = page.evaluate("document.activeElement.getAttribute('aria-label') || ''")
        if label.startswith(BERNBURG):
            break
    assert label.startswith(BERNBURG), label
    page.keyboard.press("Enter")
    start = page.locator("#stop-map .leaflet-popup").get_by_role("button", name="als Start")
    expect(start).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#origin")).to_have_value(BERNBURG)
    expect(page.locator("#origin")).to_be_focused()
    page.context.close()


def test_on_a_phone_the_map_waits_behind_a_button(browser: Browser, live_server: str) -> None:
    page = open_page(browser, live_server, 390)
    toggle = page.get_by_role("button", name="Haltestelle auf der Karte wählen")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#stop-map")).to_be_hidden()
    expect(page.get_by_label("Von (Haltestelle)")).to_be_visible()
    assert serious_violations(page) == []
    screenshot(page, "booking-phone", height=844)
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    show_map(page)
    expect(page.locator("#stop-map .stop-cluster").first).to_be_visible()
    assert serious_violations(page) == []
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    page.context.close()
