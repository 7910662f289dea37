"""The analysts' pages: the navigation link, batch reports in both languages, batches compared."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from planner.booking import BookingEngine
from planner.scenarios.compare import compare_batches
from planner.scenarios.report import format_kpi
from planner.world import WorldConfig
from tests.web.helpers import csrf_token
from web import create_app
from web.auth import add_user
from web.config import AppConfig
from web.scenario_report import report_context


@pytest.fixture
def app(world_config: WorldConfig, engine: BookingEngine, scenario_root: Path) -> Flask:
    config = AppConfig(world_config, secret_key="t", testing=True, scenario_dir=scenario_root)
    for name, role in (("disp", "dispatcher"), ("ana", "analyst"), ("fahrer", "driver")):
        add_user(engine.store, name, role, f"{name}-password")
    return create_app(config, engine=engine)


def login(client: FlaskClient, name: str) -> None:
    token = csrf_token(client, "/auth/login")
    answer = client.post(
        "/auth/login", data={"name": name, "password": f"{name}-password", "csrf_token": token}
    )
    assert answer.status_code == 302


def english(client: FlaskClient) -> None:
    token = csrf_token(client, "/")
    client.post("/language", data={"lang": "en", "next": "/", "csrf_token": token})


def nav(page: str) -> str:
    return re.search(r'<nav aria-label="[^"]*">(.*?)</nav>', page, re.S).group(1)


@pytest.mark.parametrize(("name", "sees"), [("ana", True), ("disp", True), ("fahrer", False)])
def test_navigation_links_the_analysis_for_its_roles(app: Flask, name: str, sees: bool) -> None:
    client = app.test_client()
    login(client, name)
    menu = nav(client.get("/").get_data(as_text=True))
    assert ('href="/dispatch/analysis"' in menu) is sees
    assert client.get("/dispatch/analysis").status_code == (200 if sees else 403)


def test_report_in_the_readers_language(app: Flask) -> None:
    client = app.test_client()
    login(client, "ana")
    listing = client.get("/dispatch/analysis").get_data(as_text=True)
    assert "small-a" in listing and "/dispatch/analysis/small-a/" in listing
    page = client.get("/dispatch/analysis/small-a/").get_data(as_text=True)
    assert 'href="/static/rufbus.css"' in page  # a page of the app, with its navigation
    assert "Kennzahlen je Lauf" in page and "Mittwoch, 2. Dezember 2026" in page
    assert 'src="figures/de/kpis.png"' in page and 'src="figures/de/timeline.png"' in page
    assert "rejection_rate" not in page and "Busse" in page
    with client.get("/dispatch/analysis/small-a/figures/de/kpis.png") as figure:
        assert figure.status_code == 200 and figure.data[:4] == b"\x89PNG"
    english(client)
    page = client.get("/dispatch/analysis/small-a/").get_data(as_text=True)
    assert "KPIs per run" in page and "Wednesday, 2 December 2026" in page
    assert 'src="figures/en/kpis.png"' in page and "buses 1, seed 1" in page
    main = page[page.index("<main") : page.index("</main>")]
    leaked = [
        g for g in ("Kennzahlen", "Läufe", "Busse", "Fahrzeugstunden", "abgelehnt") if g in main
    ]
    assert leaked == []
    with client.get("/dispatch/analysis/small-a/figures/en/map.png") as figure:
        assert figure.status_code == 200 and figure.data[:4] == b"\x89PNG"


def test_report_file_is_styled_and_in_german(scenario_root: Path) -> None:
    report = (scenario_root / "small-a" / "report.html").read_text(encoding="utf-8")
    assert '<html lang="de">' in report and "--accent: #00507a" in report  # the app's CSS
    assert "Kennzahlen je Lauf" in report and "Mittwoch, 2. Dezember 2026" in report
    assert 'src="figures/de/kpis.png"' in report


def test_compare_two_batches_side_by_side(app: Flask, scenario_root: Path) -> None:
    client = app.test_client()
    login(client, "disp")
    answer = client.get("/dispatch/analysis/compare?batch=small-a&batch=small-b")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "Szenario-Läufe im Vergleich" in page
    # the figures are the ones the command line compares (one function)
    result = compare_batches([scenario_root / "small-a", scenario_root / "small-b"])
    for batch in ("small-a", "small-b"):
        row = result.summary.xs(batch, level="batch").iloc[0]
        for kpi, value in row.items():
            assert f"<td>{format_kpi(kpi, value)}" in page
    # the second batch's differences to the first are marked in words, not colour alone
    differences = result.differences.xs("small-b", level="batch").iloc[0]
    changed = differences[differences.notna() & (differences != 0)]  # NaN: revenue without a tariff
    assert len(changed) > 0, "seeds 1 and 2 should give different days"
    assert page.count('class="diff better"') + page.count('class="diff worse"') == len(changed)
    assert page.count("(besser)") + page.count("(schlechter)") == len(changed)
    english(client)
    page = client.get("/dispatch/analysis/compare?batch=small-a&batch=small-b").get_data(
        as_text=True
    )
    assert "Scenario batches compared" in page and "rejected" in page
    assert "(better)" in page or "(worse)" in page
    assert "besser" not in page and "schlechter" not in page


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("", 400, "Bitte wählen Sie mindestens zwei Szenario-Läufe."),
        ("?batch=small-a", 400, "Bitte wählen Sie mindestens zwei Szenario-Läufe."),
        ("?batch=small-a&batch=small-a", 400, "Bitte wählen Sie mindestens zwei Szenario-Läufe."),
        ("?batch=small-a&batch=nope", 404, "Kein Szenario-Lauf „nope“."),
        ("?batch=small-a&batch=../small-b", 404, "Kein Szenario-Lauf „../small-b“."),
        ("?batch=small-a&batch=", 404, "Kein Szenario-Lauf „“."),
        ("?batch=small-a&batch=%00", 404, "Kein Szenario-Lauf"),
    ],
)
def test_bad_batch_choices_are_refused_with_the_reason(
    app: Flask, query: str, status: int, message: str
) -> None:
    client = app.test_client()
    login(client, "ana")
    answer = client.get("/dispatch/analysis/compare" + query)
    assert answer.status_code == status
    page = answer.get_data(as_text=True)
    assert message in page.replace("&#34;", '"')
    assert 'role="alert"' in page and "small-b" in page  # the list stays to choose again


def test_unknown_batch_report_is_not_found(app: Flask) -> None:
    client = app.test_client()
    login(client, "ana")
    answer = client.get("/dispatch/analysis/nope/")
    assert answer.status_code == 404
    assert "Kein Szenario-Lauf „nope“." in answer.get_data(as_text=True)
    assert client.get("/dispatch/analysis/nope/figures/de/kpis.png").status_code == 404
    assert client.get("/dispatch/analysis/small-a/../../etc/passwd").status_code == 404


def test_batches_made_before_charts_per_language_keep_their_charts(
    app: Flask, scenario_root: Path, tmp_path: Path
) -> None:
    old = tmp_path / "old"
    shutil.copytree(scenario_root / "small-a", old)
    for chart in (old / "figures" / "de").iterdir():  # the former layout: figures/*.png
        chart.rename(old / "figures" / chart.name)
    shutil.rmtree(old / "figures" / "de")
    shutil.rmtree(old / "figures" / "en")
    with app.test_request_context():
        charts = report_context(old, "de")["charts"]
    assert [src for src, _ in charts] == [
        "figures/kpis.png", "figures/rejections.png", "figures/timeline.png", "figures/map.png",
    ]  # fmt: skip
