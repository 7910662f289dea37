"""End-to-end in headless Chromium at 390 px with geolocation emulated: a driver works a
shift, and the app keeps every press through a dead spot and sends it exactly once."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from planner.booking import BookingEngine, parse_trip_request
from planner.store.db import VehicleEventRow
from tests.e2e.deadspot import DeadSpot
from tests.e2e.test_browser import serious_violations
from tests.web.helpers import DAY, Clock
from web.auth import add_user

BERNBURG = "Bernburg (Saale), Busbahnhof"
STASSFURT = "Staßfurt, Bahnhof (Bus)"
#: 08:00 in Berlin on the booked day: the server's and the phone's "now".
EIGHT = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
#: Somewhere near the Bernburg bus station.
POSITION = {"latitude": 51.7946, "longitude": 11.7383, "accuracy": 12}


def book(engine: BookingEngine, name: str, time: str, people: int = 1) -> dict:
    wish = {"origin": BERNBURG, "destination": STASSFURT, "date": DAY, "time": time}
    trip = parse_trip_request(wish | {"passengers": people}, engine.catalog, engine.service)
    offer = engine.offer(trip).offers[0]
    return engine.confirm(offer.id, name=name, phone="03471 123456", note="")[0]


@pytest.fixture
def booked(engine: BookingEngine, clock: Clock) -> tuple[dict, dict]:
    """Two riders with windows from 08:10 at Bernburg on one bus; then it is 08:00 there."""
    first = book(engine, "Erika Mustermann", "08:10", people=2)
    second = book(engine, "Otto Normal", "08:10")
    assert first["vehicle"] == second["vehicle"]
    add_user(engine.store, "fahrer", "driver", "driver-pw")
    clock.now = EIGHT
    return first, second


@pytest.fixture
def phone(browser: Browser) -> Iterator[BrowserContext]:
    """A phone: 390 px wide, German, in Berlin, with its location shared."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        locale="de-DE",
        timezone_id="Europe/Berlin",
        geolocation=POSITION,
        permissions=["geolocation"],
    )
    yield context
    context.close()


def open_phone(context: BrowserContext, base: str) -> Page:
    """Log the driver in on a phone whose clock shows 08:00 of the booked day."""
    page = context.new_page()
    page.clock.install(time=EIGHT)
    page.goto(base + "/auth/login")
    page.get_by_label("Benutzername").fill("fahrer")
    page.get_by_label("Passwort").fill("driver-pw")
    page.get_by_role("button", name="Anmelden", exact=True).click()
    expect(page.get_by_role("heading", name="Heute, Mittwoch, 2. Dezember 2026")).to_be_visible()
    return page


def take(page: Page, vehicle: str) -> None:
    page.locator(f'[data-take="{vehicle}"]').click()
    expect(page.get_by_role("heading", name=f"Fahrzeug {vehicle}")).to_be_visible()
    expect(page.locator("#outbox")).to_have_text("Alle Meldungen gesendet")


def wait_until_kept(page: Page, seconds: float = 10.0) -> None:
    """Wait until the service worker's cache holds the page shown (a reload in a dead spot
    needs it). ``wait_for_function`` does not wait for a promise, so this polls."""
    for _ in range(int(seconds * 10)):
        if page.evaluate("async () => Boolean(await caches.match(location.href))"):
            return
        page.wait_for_timeout(100)
    pytest.fail(f"{page.url} is not kept for a dead spot after {seconds:g} s")


def stored(engine: BookingEngine, vehicle: str) -> list[VehicleEventRow]:
    with engine.store.session() as s:
        rows = s.scalars(select(VehicleEventRow).where(VehicleEventRow.vehicle_id == vehicle))
        return list(rows)


def shot(page: Page, name: str) -> None:
    """A full-page screenshot under ``RUFBUS_SCREENSHOT_DIR`` (if set), to look at."""
    folder = os.environ.get("RUFBUS_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_a_driver_works_a_shift(
    phone: BrowserContext, live_server: str, engine: BookingEngine, clock: Clock, booked: tuple
) -> None:
    erika, otto = booked
    vehicle = erika["vehicle"]
    page = open_phone(phone, live_server)
    # both riders board at one stop and alight at another: two stops for the bus
    expect(page.locator(f'[data-take="{vehicle}"]')).to_contain_text("erster Halt 08:10")
    expect(page.locator(f'[data-take="{vehicle}"]')).to_contain_text("2 Halte")
    shot(page, "driver-index-390")
    take(page, vehicle)
    here = page.locator(".visit.next")
    expect(here).to_contain_text(BERNBURG)
    expect(here).to_contain_text("Erika Mustermann")
    assert serious_violations(page) == []
    shot(page, "driver-vehicle-390")

    here.get_by_role("button", name="Angekommen").click()
    expect(here).to_contain_text("Angekommen 08:00")
    erika_task = here.locator(f'[data-booking="{erika["code"]}"]')
    otto_task = here.locator(f'[data-booking="{otto["code"]}"]')
    erika_task.get_by_role("button", name="Eingestiegen").click()
    expect(erika_task).to_contain_text("Eingestiegen 08:00")
    # no-show: locked until the wait after arriving has passed and the window has started
    no_show = otto_task.get_by_role("button", name="Nicht erschienen")
    expect(no_show).to_be_disabled()
    unlock = max(
        8 * 60 + 3, int(otto["pickup_window"][0][:2]) * 60 + int(otto["pickup_window"][0][3:])
    )
    expect(otto_task).to_contain_text(f"möglich ab {unlock // 60:02d}:{unlock % 60:02d}")
    shot(page, "driver-vehicle-locked-390")
    wait = unlock - 8 * 60 + 1
    clock.advance(minutes=wait)  # the server's clock moves with the phone's
    page.clock.fast_forward(f"{wait:02d}:00")
    expect(no_show).to_be_enabled()
    no_show.click()
    expect(otto_task).to_contain_text("Nicht erschienen")
    here.get_by_role("button", name="Abgefahren").click()
    expect(page.locator("#done-summary")).to_have_text("1 erledigter Halt")

    there = page.locator(".visit.next")
    expect(there).to_contain_text(STASSFURT)
    there.get_by_role("button", name="Angekommen").click()
    there.locator(f'[data-booking="{erika["code"]}"]').get_by_role(
        "button", name="Ausgestiegen"
    ).click()
    expect(there).to_contain_text("Ausgestiegen")
    page.get_by_role("button", name="Pause beginnen").click()
    expect(page.locator("#shift-state")).to_contain_text("Pause seit")
    page.get_by_role("button", name="Pause beenden").click()
    expect(page.locator("#shift-state")).to_contain_text("Schicht seit")
    expect(page.locator("#outbox")).to_have_text("Alle Meldungen gesendet")
    expect(page.locator("#rejected")).to_be_hidden()

    rows = stored(engine, vehicle)
    kinds = Counter(r.kind for r in rows if r.kind != "position")
    assert kinds == Counter(
        shift_start=1, arrived=2, boarded=1, no_show=1, departed=1, dropped_off=1,
        break_start=1, break_end=1,
    )  # fmt: skip
    assert len({r.client_id for r in rows}) == len(rows)
    positions = [r for r in rows if r.kind == "position"]
    assert positions and abs(positions[0].lat - POSITION["latitude"]) < 1e-6
    assert engine.booking(otto["code"]).status == "no_show"
    # the tasks the server answers show the same
    tasks = page.request.get(f"{live_server}/api/v1/vehicles/{vehicle}/tasks?day={DAY}").json()
    done = {(t["code"], t["kind"]): t["done"] for t in tasks["tasks"]}
    assert done[(erika["code"], "pickup")]["boarded"] == "08:00"
    assert done[(erika["code"], "dropoff")]["dropped_off"] is not None


def test_taking_a_vehicle_before_the_app_has_loaded_still_starts_the_shift(
    phone: BrowserContext, live_server: str, engine: BookingEngine, booked: tuple
) -> None:
    """On a slow rural network a driver taps the vehicle before the app's script has run.
    The shift must start all the same (it once started only if the script had caught the
    tap, and a test that tapped too soon on a busy machine found it)."""
    vehicle = booked[0]["vehicle"]
    page = phone.new_page()
    page.clock.install(time=EIGHT)
    page.route("**/driver.js*", lambda route: route.abort())  # not loaded yet
    page.goto(live_server + "/auth/login")
    page.get_by_label("Benutzername").fill("fahrer")
    page.get_by_label("Passwort").fill("driver-pw")
    page.get_by_role("button", name="Anmelden", exact=True).click()
    expect(page.get_by_role("heading", name="Heute, Mittwoch, 2. Dezember 2026")).to_be_visible()
    page.unroute("**/driver.js*")
    page.locator(f'[data-take="{vehicle}"]').click()
    expect(page.get_by_role("heading", name=f"Fahrzeug {vehicle}")).to_be_visible()
    expect(page.locator("#shift-state")).to_contain_text("Schicht seit 08:00")
    expect(page.locator("#outbox")).to_have_text("Alle Meldungen gesendet")
    assert [r.kind for r in stored(engine, vehicle) if r.kind != "position"] == ["shift_start"]
    # a reload does not start a second shift
    page.reload()
    expect(page.locator("#shift-state")).to_contain_text("Schicht seit 08:00")
    expect(page.locator("#outbox")).to_have_text("Alle Meldungen gesendet")
    assert [r.kind for r in stored(engine, vehicle) if r.kind != "position"] == ["shift_start"]


def test_offline_presses_are_kept_and_sent_exactly_once(
    phone: BrowserContext, live_server: str, engine: BookingEngine, booked: tuple
) -> None:
    erika, _ = booked
    with DeadSpot(live_server) as spot:
        offline_then_back(phone, spot, engine, erika)


def test_the_first_page_a_driver_opens_is_kept_for_a_dead_spot(
    phone: BrowserContext, live_server: str, booked: tuple
) -> None:
    """The service worker keeps the pages that pass through it. The first page on a phone
    loads before the worker exists, so the app asks the worker to keep that page too (it
    once failed to reload in a dead spot when the driver went there too soon)."""
    with DeadSpot(live_server) as spot:
        page = open_phone(phone, spot.url)  # the worker's first page: it came without it
        wait_until_kept(page)
        phone.set_offline(True)
        spot.cut()
        page.reload()
        expect(
            page.get_by_role("heading", name="Heute, Mittwoch, 2. Dezember 2026")
        ).to_be_visible()
        expect(page.locator(f'[data-take="{booked[0]["vehicle"]}"]')).to_contain_text("2 Halte")
        shot(page, "driver-index-offline-390")


def offline_then_back(
    phone: BrowserContext, spot: DeadSpot, engine: BookingEngine, erika: dict
) -> None:
    vehicle = erika["vehicle"]
    page = open_phone(phone, spot.url)
    take(page, vehicle)
    # kept by the service worker for a dead spot (on the way in, or asked for by the page)
    wait_until_kept(page)
    here = page.locator(".visit.next")
    # the phone says it is offline (the app's ``online`` event), and the relay makes
    # sure nothing gets through, not even past the service worker
    phone.set_offline(True)
    spot.cut()
    here.get_by_role("button", name="Angekommen").click()
    here.locator(f'[data-booking="{erika["code"]}"]').get_by_role(
        "button", name="Eingestiegen"
    ).click()
    page.get_by_role("button", name="Pause beginnen").click()
    page.get_by_label("Aufgehalten: Minuten, bis es weitergeht").fill("12")
    page.get_by_role("button", name="Aufenthalt melden").click()
    # shown at once, and counted while they wait
    expect(here).to_contain_text("Eingestiegen 08:00")
    expect(page.locator("#outbox")).to_have_text("4 Meldungen warten auf Netz")
    shot(page, "driver-offline-390")
    # a reload in the dead spot still shows the stops and the waiting presses
    page.reload()
    expect(page.locator(".visit").first).to_contain_text(BERNBURG)
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    expect(page.locator("#outbox")).to_have_text("4 Meldungen warten auf Netz")
    assert [r.kind for r in stored(engine, vehicle) if r.kind != "position"] == ["shift_start"]
    spot.restore()
    phone.set_offline(False)
    expect(page.locator("#outbox")).to_have_text("Alle Meldungen gesendet", timeout=20000)
    rows = [r for r in stored(engine, vehicle) if r.kind != "position"]
    assert Counter(r.kind for r in rows) == Counter(
        shift_start=1, arrived=1, boarded=1, break_start=1, delay=1
    )
    assert [r.minutes for r in rows if r.kind == "delay"] == [12]
    assert len({r.client_id for r in rows}) == len(rows)


def test_screens_at_desktop_width(
    browser: Browser, live_server: str, engine: BookingEngine, booked: tuple
) -> None:
    """The same pages at 1280 px, and in English (for the screenshots)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE")
    try:
        page = open_phone(context, live_server)
        shot(page, "driver-index-1280")
        take(page, booked[0]["vehicle"])
        expect(page.locator(".visit.next")).to_contain_text(BERNBURG)
        assert serious_violations(page) == []
        shot(page, "driver-vehicle-1280")
        page.get_by_role("button", name="English").click()
        expect(page.get_by_role("button", name="Start break")).to_be_visible()
        expect(page.locator("#outbox")).to_have_text("All reports sent")
        shot(page, "driver-vehicle-en-1280")
    finally:
        context.close()
