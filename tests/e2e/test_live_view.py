"""End-to-end in headless Chromium: the dispatcher's live view shows the late bus at its position
and its booking at risk, updates itself when the bus reports again, and takes the bus out of
service with a confirmation step."""

from __future__ import annotations

import base64
import json
import os
import re
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from planner.booking import BookingEngine, parse_trip_request
from planner.live import journal
from planner.live.events import VehicleEvent
from tests.e2e.conftest import screenshot
from tests.e2e.test_browser import login, serious_violations
from tests.web.helpers import DAY, Clock

BERNBURG = "Bernburg (Saale), Busbahnhof"
STASSFURT = "Staßfurt, Bahnhof (Bus)"
BOOKED = datetime(2026, 12, 2).date()
#: 08:45 in Berlin on the booked day.
QUARTER_TO_NINE = datetime(2026, 12, 2, 7, 45, tzinfo=UTC)
SCREENS = Path(os.environ.get("RUFBUS_SCREENSHOT_DIR", "var/screens"))


def book(engine: BookingEngine, origin: str, destination: str, time: str, name: str) -> dict:
    wish = {"origin": origin, "destination": destination, "date": DAY, "time": time}
    trip = parse_trip_request(wish, engine.catalog, engine.service)
    offer = engine.offer(trip).offers[0]
    return engine.confirm(offer.id, name=name, phone="03471 123456", note="")[0]


def minutes(hhmm: str) -> float:
    hours, mins = map(int, hhmm.split(":"))
    return hours * 3600 + mins * 60


@pytest.fixture
def late_bus(engine: BookingEngine, clock: Clock) -> tuple[dict, dict]:
    """Erika (Bernburg 08:10) and Otto (Staßfurt 08:50) on one bus, which picked Erika up at
    08:40: Otto's pickup will be late. It is 08:45."""
    erika = book(engine, BERNBURG, STASSFURT, "08:10", "Erika Mustermann")
    otto = book(engine, STASSFURT, BERNBURG, "08:50", "Otto Normal")
    assert erika["vehicle"] == otto["vehicle"]
    bus = erika["vehicle"]
    bernburg = engine.catalog.resolve(BERNBURG, field="origin")
    facts = [
        ("shift_start", "07:50", {}),
        ("arrived", "08:40", {"stop_node": bernburg}),
        ("boarded", "08:40", {"booking": erika["code"]}),
        ("departed", "08:41", {"stop_node": bernburg}),
        ("position", "08:44", {"lat": 51.7951, "lon": 11.7392}),
    ]
    events = [VehicleEvent(f"e{k}", bus, BOOKED, kind, minutes(at), **kw)  # type: ignore[arg-type]
              for k, (kind, at, kw) in enumerate(facts)]  # fmt: skip
    with engine.store.maintaining() as session:
        journal.record(session, events, driver="fahrer")
    clock.now = QUARTER_TO_NINE
    return erika, otto


def shot(page: Page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def send_position(base: str, vehicle: str, at: str, lat: float, lon: float) -> None:
    """A position fix through the drivers' API, as the driver's phone sends it."""
    body = {"positions": [{"client_id": f"fix-{at}", "at": f"{DAY}T{at}:00+01:00",
                           "lat": lat, "lon": lon}]}  # fmt: skip
    request = urllib.request.Request(
        f"{base}/api/v1/vehicles/{vehicle}/positions",
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": "Basic " + base64.b64encode(b"disp:dispatch-pw").decode(),
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert json.loads(answer.read())["accepted"] == [f"fix-{at}"]


@pytest.mark.parametrize("width", [390, 1280])
def test_the_live_view_shows_the_late_bus_and_updates_itself(
    browser: Browser, live_server: str, late_bus: tuple[dict, dict], width: int
) -> None:
    erika, otto = late_bus
    bus = erika["vehicle"]
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="de-DE")
    page = context.new_page()
    login(page, live_server)
    page.get_by_role("link", name="Live-Lage").click()  # the dispatcher's navigation
    expect(page.get_by_role("heading", level=1)).to_contain_text("Live-Lage")
    page.goto(f"{live_server}/dispatch/live?day={DAY}&poll=1")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Live-Lage Mittwoch, 2. Dezember 2026"
    )
    # the booking at risk, first and with the rider's phone to call
    risk = page.locator(f'.risk[data-booking="{otto["code"]}"]')
    expect(risk).to_contain_text("Abholung nach dem zugesagten Fenster")
    expect(risk).to_contain_text("Otto Normal")
    expect(risk.get_by_role("link", name="03471 123456")).to_have_attribute(
        "href", "tel:03471123456"
    )
    # the bus on the map at its position, labelled with its delay, and in the table
    expect(page.locator(f'#live-map [data-vehicle="{bus}"]')).to_have_count(1)
    expect(page.locator(".vehicle-label")).to_contain_text(bus)
    row = page.locator(f'tr[data-vehicle="{bus}"]')
    expect(row).to_contain_text("unterwegs")
    expect(row).to_contain_text("Position von 08:44")
    expect(row).to_contain_text(f"Ausstieg {STASSFURT}")
    expect(page.locator("#live-updated")).to_contain_text("Lage um 08:45 Uhr")
    assert serious_violations(page) == []
    shot(page, f"dispatch-live-{width}")
    # the bus reports again: the page shows it without a reload
    send_position(live_server, bus, "08:45", 51.80, 11.76)
    expect(row).to_contain_text("Position von 08:45", timeout=10_000)
    # out of service, after a confirmation step: Erika on board is listed to call
    row.get_by_role("button", name="Außer Dienst nehmen").click()
    confirm = page.locator("#confirm-out")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text(f"{bus} ab 08:45 Uhr außer Dienst nehmen?")
    confirm.get_by_role("button", name="Ja, außer Dienst nehmen").click()
    result = page.locator("#disruption")
    expect(result).to_contain_text(f"{bus} ist seit 08:45 Uhr außer Dienst")
    expect(result.locator(f'[data-booking="{erika["code"]}"]')).to_contain_text("sitzt im Fahrzeug")
    expect(row).to_contain_text("außer Dienst", timeout=10_000)
    shot(page, f"dispatch-live-disruption-{width}")
    context.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_the_rider_sees_the_bus_estimate_and_what_to_do_if_it_is_late(
    browser: Browser, live_server: str, late_bus: tuple[dict, dict], engine: BookingEngine,
    width: int,
) -> None:  # fmt: skip
    erika, otto = late_bus
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="de-DE")
    page = context.new_page()
    page.goto(f"{live_server}/booking/{otto['code']}?poll=2")
    expect(page.locator("#booking-window")).to_contain_text(
        "Mittwoch, 2. Dezember 2026, 08:50–09:05 Uhr"
    )
    estimate = page.locator("#live-estimate")
    expect(estimate).to_have_text(re.compile(r"Ihr Bus kommt voraussichtlich um 09:\d\d Uhr\."))
    expect(page.locator("#live-note")).to_contain_text("Geschätzt um 08:45 Uhr")
    expect(page.locator("#live-late")).to_contain_text("später als zugesagt")
    advice = page.locator("#late-advice")
    expect(advice).to_contain_text("also um 09:15 Uhr, noch nicht da ist")
    expect(page.locator(".if-late .hotline")).to_contain_text("wird noch bekannt gegeben")
    expect(page.get_by_text("Erika Mustermann")).to_have_count(0)
    assert serious_violations(page) == []
    screenshot(page, f"booking-live-{width}", height=1300)
    # the driver reports from Staßfurt: the page shows the new estimate without a reload
    before = estimate.inner_text()
    stop = engine.catalog.describe(engine.catalog.resolve(STASSFURT, field="origin"))
    send_position(live_server, erika["vehicle"], "08:45", stop["lat"], stop["lon"])
    expect(estimate).not_to_have_text(before, timeout=15_000)
    expect(estimate).to_have_text(re.compile(r"voraussichtlich um 08:\d\d Uhr"))
    context.close()
