"""End-to-end in headless Chromium: analysts open a batch's report and compare two batches."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from planner.booking import BookingEngine
from planner.world import WorldConfig
from tests.e2e.conftest import screenshot, serve
from tests.e2e.test_browser import serious_violations
from web import create_app
from web.auth import add_user
from web.config import AppConfig


@pytest.fixture
def analysis_server(
    world_config: WorldConfig, engine: BookingEngine, scenario_root: Path
) -> Iterator[str]:
    """The app with the two small batches of ``scenario_root`` and an analyst account."""
    config = AppConfig(world_config, secret_key="e2e", scenario_dir=scenario_root)
    add_user(engine.store, "ana", "analyst", "analyst-pw")
    with serve(create_app(config, engine=engine)) as base:
        yield base


@pytest.mark.parametrize("width", [1280, 390])
def test_analyst_reads_a_report_and_compares_batches(
    browser: Browser, analysis_server: str, width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="de-DE")
    page: Page = context.new_page()
    page.goto(analysis_server + "/auth/login")
    page.get_by_label("Benutzername").fill("ana")
    page.get_by_label("Passwort").fill("analyst-pw")
    page.get_by_role("button", name="Anmelden", exact=True).click()
    # the analyst lands on the batch list; the menu leads there too
    page.get_by_role("navigation").get_by_role("link", name="Analyse").click()
    expect(page.get_by_role("heading", name="Analyse", level=1)).to_be_visible()
    assert serious_violations(page) == []
    suffix = "" if width == 1280 else "-phone"
    screenshot(page, f"analysis{suffix}")

    page.get_by_role("link", name="Bericht small-a").click()
    expect(page.get_by_role("heading", name="Szenario-Lauf: tiny")).to_be_visible()
    chart = page.get_by_role("img", name="Ablehnungsquote nach Fahrgastgruppe")
    expect(chart).to_be_visible()
    assert chart.evaluate("img => img.naturalWidth") > 0  # the chart loaded
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scroll
    assert serious_violations(page) == []
    screenshot(page, f"analysis-report{suffix}")

    page.get_by_role("link", name="Alle Szenario-Läufe").click()
    page.get_by_role("button", name="Ausgewählte Läufe vergleichen").click()
    expect(page.get_by_role("alert")).to_contain_text("mindestens zwei Szenario-Läufe")
    page.get_by_label("small-a", exact=True).check()
    page.get_by_label("small-b", exact=True).check()
    page.get_by_role("button", name="Ausgewählte Läufe vergleichen").click()
    expect(page.get_by_role("heading", name="Szenario-Läufe im Vergleich")).to_be_visible()
    table = page.get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(3)  # header, small-a, small-b
    expect(
        table.get_by_text("(besser)").or_(table.get_by_text("(schlechter)")).first
    ).to_be_visible()
    assert serious_violations(page) == []
    screenshot(page, f"analysis-compare{suffix}")
    context.close()
