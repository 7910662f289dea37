"""End-to-end in headless Chromium, at 1280 and 390 px: a dispatcher previews a
re-optimisation and accepts it, and changes a booking keeping its code."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from planner.booking import BookingEngine
from planner.booking.disruption import move_booking
from tests.e2e.conftest import screenshot
from tests.e2e.test_browser import login, pre_book, serious_violations
from tests.web.helpers import DAY

WIDTHS = pytest.mark.parametrize("width", [1280, 390])


def split_day(engine: BookingEngine) -> str:
    """Two riders pooled on one bus, one moved by hand to another (a plan the solver makes
    cheaper); returns the moved booking's code."""
    pre_book(engine, "08:10")
    code = pre_book(engine, "08:10")
    other = "BBG-2-S1" if engine.booking(code).vehicle_id != "BBG-2-S1" else "BBG-1-S1"
    move_booking(engine, code, other)
    return code


@WIDTHS
def test_dispatcher_previews_a_reoptimisation_and_accepts_it(
    page: Page, live_server: str, engine: BookingEngine, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    code = split_day(engine)
    moved_to = engine.booking(code).vehicle_id
    login(page, live_server)
    page.goto(f"{live_server}/dispatch/?date={DAY}")
    page.get_by_role("button", name="Neu optimieren").click()
    expect(page.get_by_role("status")).to_contain_text("Vorschlag")
    expect(page.get_by_role("columnheader", name="bisher", exact=True)).to_be_visible()
    expect(page.get_by_role("rowheader", name="Fahrtzeit 95 %")).to_be_visible()
    expect(page.get_by_role("link", name=code)).to_be_visible()  # the rider whose bus moves
    assert engine.booking(code).vehicle_id == moved_to  # nothing stored yet
    assert serious_violations(page) == []
    screenshot(page, f"dispatch-optimize-preview-{width}", height=1200)
    page.get_by_role("button", name="Übernehmen").click()
    expect(page.get_by_role("status").first).to_contain_text("Ein besserer Plan wurde gespeichert")
    assert engine.booking(code).vehicle_id != moved_to


@WIDTHS
def test_dispatcher_changes_a_booking(
    page: Page, live_server: str, engine: BookingEngine, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    code = pre_book(engine, "09:00")
    login(page, live_server)
    page.goto(f"{live_server}/dispatch/booking/{code}")
    page.get_by_role("link", name="Fahrt ändern").click()
    expect(page.get_by_role("heading", name=f"Fahrt ändern {code}")).to_be_visible()
    expect(page.locator("#time")).to_have_value("09:00")
    page.locator("#time").fill("11:00")
    page.get_by_label("Personen", exact=True).fill("2")
    page.get_by_role("button", name="Fahrten suchen").click()
    expect(page.locator(".offer").first).to_be_visible()
    assert serious_violations(page) == []
    screenshot(page, f"dispatch-change-offers-{width}", height=1200)
    page.locator(".offer").first.get_by_role("button", name="Änderung übernehmen").click()
    expect(page.get_by_role("status").first).to_contain_text(f"{code} geändert")
    expect(page.get_by_role("heading", name="Änderungen")).to_be_visible()
    assert serious_violations(page) == []
    screenshot(page, f"dispatch-booking-changed-{width}", height=1200)
    changed = engine.booking(code)
    assert (changed.passengers + changed.wheelchairs, changed.wish_s) == (2, 11 * 3600)
    assert re.fullmatch(r"[0-9A-Z]{10}", changed.code)
