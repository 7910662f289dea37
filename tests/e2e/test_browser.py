"""End-to-end in headless Chromium: residents book and cancel, dispatchers run the day."""

from __future__ import annotations

import re
from datetime import date

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from planner.booking import BookingEngine, parse_trip_request
from routing.settings import Settings
from tests.e2e.conftest import screenshot
from tests.web.helpers import DAY
from web.demo import seed_demo_day

BERNBURG = "Bernburg (Saale), Busbahnhof"
STASSFURT = "Staßfurt, Bahnhof (Bus)"


def search(page: Page, base: str, *, time: str = "08:10") -> None:
    page.goto(base + "/")
    page.get_by_label("Von (Haltestelle)").fill(BERNBURG)
    page.get_by_label("Nach (Haltestelle)").fill(STASSFURT)
    page.get_by_label("Datum").fill(DAY)
    page.locator("#time").fill(time)
    page.get_by_role("button", name="Fahrten suchen").click()


def login(page: Page, base: str, password: str = "dispatch-pw") -> None:
    page.goto(base + "/auth/login")
    page.get_by_label("Benutzername").fill("disp")
    page.get_by_label("Passwort").fill(password)
    page.get_by_role("button", name="Anmelden", exact=True).click()


def serious_violations(page: Page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def pre_book(engine: BookingEngine, time: str = "09:00") -> str:
    trip = parse_trip_request(
        {"origin": BERNBURG, "destination": STASSFURT, "date": DAY, "time": time},
        engine.catalog,
        engine.service,
    )
    offer = engine.offer(trip).offers[0]
    return engine.confirm(offer.id, name="Grete Vorab", phone="03471 55555")[0]["code"]


def test_resident_books_sees_code_and_cancels(page: Page, live_server: str) -> None:
    search(page, live_server)
    # offers come by time; the one as wished names the arrival as an estimate
    first = page.locator('.offer[data-shift-min="0"]')
    expect(first).to_contain_text(f"Abholung zwischen 08:10 und 08:25 Uhr an {BERNBURG}")
    expect(first).to_contain_text("Ankunft am Ziel")
    assert serious_violations(page) == []
    first.get_by_role("link", name="Diese Fahrt buchen").click()
    page.get_by_label("Name").fill("Erika Mustermann")
    page.get_by_label("Telefon").fill("03471 123456")
    page.get_by_role("button", name="Verbindlich buchen").click()
    expect(page.get_by_role("heading", name="Gebucht!")).to_be_visible()
    code = page.locator("#booking-code").inner_text()
    assert re.fullmatch(r"[0-9A-Z]{10}", code)
    assert serious_violations(page) == []
    page.get_by_role("button", name="Fahrt stornieren").click()
    expect(page.locator("#booking-status")).to_have_text("storniert")
    expect(page.get_by_role("status")).to_contain_text("Die Fahrt wurde storniert.")
    # the code also finds it through the look-up page
    page.goto(live_server + "/booking")
    page.get_by_label("Buchungscode").fill(code.lower())
    page.get_by_role("button", name="Anzeigen").click()
    expect(page.locator("#booking-code")).to_have_text(code)


def test_every_offer_names_the_fare_and_the_hotline(page: Page, live_server: str) -> None:
    # the default service file has no tariff and no hotline number yet: said plainly
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        search(page, live_server)
        offers = page.locator(".offer")
        expect(offers.first).to_be_visible()
        for k in range(offers.count()):
            expect(offers.nth(k).locator(".fare")).to_have_text("Fahrpreis: steht noch nicht fest")
        expect(page.locator(".hotline")).to_have_text(
            "Rufbus-Zentrale: Die Telefonnummer wird noch bekannt gegeben."
        )
        assert serious_violations(page) == []
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, (width, overflow)
        if width == 1280:
            screenshot(page, "offers", height=1300)


def test_booking_page_accessible_and_screenshot(page: Page, live_server: str) -> None:
    page.goto(live_server + "/")
    expect(page.locator("#stop-map")).to_have_attribute("data-loaded", re.compile(r"[1-9]\d*"))
    assert serious_violations(page) == []
    font_px = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert font_px >= 18
    screenshot(page, "booking", height=1300)
    # keyboard: the skip link is the first stop of the tab order and is visible on focus
    page.keyboard.press("Tab")
    expect(page.locator(".skip")).to_be_focused()
    # phone-size screen and 200 % zoom (half the CSS width): no sideways scrolling
    for width, height in ((390, 844), (640, 450)):
        page.set_viewport_size({"width": width, "height": height})
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, (width, overflow)


def test_typeahead_suggests_stops(page: Page, live_server: str) -> None:
    page.goto(live_server + "/")
    page.get_by_label("Von (Haltestelle)").press_sequentially("Staßfurt, Bahn")
    expect(page.locator("#origin-list option").first).to_have_attribute(
        "value", "Staßfurt, Bahnhof (Bus)"
    )


def test_english_switch(page: Page, live_server: str) -> None:
    page.goto(live_server + "/")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Book a ride")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_refusal_shows_alternatives(page: Page, live_server: str) -> None:
    search(page, live_server, time="03:00")
    expect(page.get_by_role("alert")).to_contain_text("Leider kein Angebot")
    alternatives = page.locator(".actions button")
    expect(alternatives.first).to_be_visible()
    alternatives.first.click()
    expect(page.locator(".offer").first).to_be_visible()


def test_dispatcher_day_phone_booking_and_manifest(
    page: Page, live_server: str, engine: BookingEngine, settings: Settings
) -> None:
    # a realistic day, as ``make run`` shows it, and one booking to look for
    assert seed_demo_day(engine, settings, date.fromisoformat(DAY), requests=60) > 40
    code = pre_book(engine)
    login(page, live_server)
    page.goto(f"{live_server}/dispatch/?date={DAY}&q={code}")  # the day view's search
    expect(page.get_by_role("link", name=code).first).to_be_visible()
    route_map = page.locator("#route-map")
    expect(route_map).to_have_attribute("data-loaded", re.compile(r"[1-9]\d*"))
    expect(page.locator("svg.gantt rect").first).to_be_attached()
    assert serious_violations(page) == []

    page.get_by_role("button", name="Neu optimieren").click()
    # a preview ("Vorschlag"), or nothing to propose ("Nicht gespeichert")
    expect(page.get_by_role("status")).to_contain_text(re.compile("Vorschlag|Nicht gespeichert"))
    expect(page.get_by_role("columnheader", name="bisher", exact=True)).to_be_visible()
    expect(page.get_by_role("columnheader", name="neu", exact=True)).to_be_visible()
    page.get_by_role("link", name="Tagesansicht").click()

    page.get_by_role("link", name="Telefonbuchung").click()
    page.locator("#name").fill("Walter Anrufer")  # the caller, asked once
    page.locator("#phone").fill("03925 777777")
    page.get_by_label("Von (Haltestelle)").fill(STASSFURT)
    page.get_by_label("Nach (Haltestelle)").fill(BERNBURG)
    page.get_by_label("Datum").fill(DAY)
    page.locator("#time").fill("13:00")
    page.get_by_role("button", name="Fahrten suchen").click()
    page.locator(".offer").first.get_by_role("button", name="Verbindlich buchen").click()
    status = page.get_by_role("status")
    expect(status).to_contain_text("Gebucht!")
    phone_code = re.search(r"[0-9A-Z]{10}", status.inner_text()).group(0)

    vehicle = engine.booking(phone_code).vehicle_id
    with page.expect_download() as download:
        page.locator(f'a[href*="/manifest/{vehicle}.csv"]').click()
    text = download.value.path().read_text(encoding="utf-8")
    assert phone_code in text and "Walter Anrufer" in text
    page.get_by_label("Fahrgast oder Buchungscode").fill("Walter")
    page.get_by_role("button", name="Filtern").click()
    expect(
        page.get_by_role("cell", name=re.compile(f"Walter Anrufer.*{phone_code}"))
    ).to_be_visible()
    page.goto(f"{live_server}/dispatch/manifest/{vehicle}?date={DAY}")
    expect(page.get_by_role("heading", name=re.compile("Fahrtenblatt"))).to_be_visible()
    expect(page.get_by_role("cell", name=f"Walter Anrufer {phone_code}")).to_have_count(2)


def test_wrong_password_refused(page: Page, live_server: str) -> None:
    login(page, live_server, password="not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("Benutzername oder Passwort falsch.")
    page.goto(f"{live_server}/dispatch/")
    assert "/auth/login" in page.url


def test_accessibility_check_can_fail(page: Page, live_server: str) -> None:
    page.goto(live_server + "/booking")
    page.evaluate(
        "document.querySelector('#code').removeAttribute('id');"
        "document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=x.png>')"
    )
    found = serious_violations(page)
    assert any(v.startswith("label") for v in found)
    assert any(v.startswith("image-alt") for v in found)


def test_missing_csrf_token_refused(page: Page, live_server: str) -> None:
    page.goto(live_server + "/auth/login")
    response = page.request.post(
        live_server + "/auth/login", form={"name": "disp", "password": "dispatch-pw"}
    )
    assert response.status == 400
    # said in the reader's language, not Werkzeug's English "The CSRF token is missing."
    assert "Das Formular ist abgelaufen." in response.text()


@pytest.mark.parametrize("path", ["/auth/login", "/booking"])
def test_other_pages_accessible(page: Page, live_server: str, path: str) -> None:
    page.goto(live_server + path)
    assert serious_violations(page) == []
