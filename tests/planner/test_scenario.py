"""Scenario files, the batch runner (processes and Dask), failures and re-runs."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from dask.distributed import LocalCluster

import planner.scenarios.batch
from planner.booking.engine import OfferView
from planner.booking.trip import WishKind
from planner.scenarios.batch import TIMING_COLUMNS, apply_overrides, run_batch
from planner.scenarios.scenario import ScenarioError, load_scenario
from planner.scenarios.simulate import rider_choice
from planner.service import load_service
from routing.settings import Settings
from web.cli import main

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "fixtures" / "scenarios" / "tiny.yaml"
FLEET_SWEEP = REPO / "fixtures" / "scenarios" / "fleet-sweep.yaml"


def test_sweep_expands_to_cross_product_times_seeds(tmp_path: Path) -> None:
    runs = load_scenario(FLEET_SWEEP)
    assert len(runs) == 4 * 3
    assert {dict(r.swept)["overrides.fleet_size"] for r in runs} == {4, 8, 12, 16}
    assert {r.section("demand")["requests"] for r in runs} == {200, 400, 800}
    assert len({r.key() for r in runs}) == 12
    seeded = tmp_path / "seeded.yaml"
    seeded.write_text(TINY.read_text().replace("seeds: 1", "seeds: 3"))
    assert [r.seed for r in load_scenario(seeded)] == [1, 2, 3, 1, 2, 3]


@pytest.mark.parametrize(
    ("change", "key", "reason"),
    [
        ("name: tiny", "name", "is required"),
        ("  requests: 30", "demand.requests", "must be between 1 and 100000"),
        ("  fleet_size: 2", "overrides.fleet", "unknown key"),
        ("  overrides.fleet_size: [1, 2]", "sweep.overrides.fleet_size", "must be a non-empty"),
        ("service: salzland.toml", "service", "not found"),
        ("seeds: 1", "seeds", "must be a whole number"),
    ],
)
def test_bad_scenario_files(tmp_path: Path, change: str, key: str, reason: str) -> None:
    replacement = {
        "name: tiny": "name: ''",
        "  requests: 30": "  requests: 0",
        "  fleet_size: 2": "  fleet: 2",
        "  overrides.fleet_size: [1, 2]": "  overrides.fleet_size: []",
        "service: salzland.toml": "service: nowhere.toml",
        "seeds: 1": "seeds: many",
    }[change]
    text = TINY.read_text()
    assert change in text
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace(change, replacement, 1))
    with pytest.raises(ScenarioError) as info:
        load_scenario(bad)
    assert info.value.field == f"{bad}:{key}"
    assert reason in info.value.reason


def comparable(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop(columns=[c for c in TIMING_COLUMNS if c in table]).sort_values("run")


def test_process_pool_and_dask_give_identical_kpis(tmp_path: Path, settings: Settings) -> None:
    runs = load_scenario(TINY)
    pooled = run_batch(runs, tmp_path / "pool", settings=settings, workers=2, progress=False)
    assert (pooled["status"] == "ok").all(), pooled["error"].tolist()
    assert pooled["requests"].tolist() == [30, 30]
    # one bus rejects more than two
    assert pooled["rejection_rate"].iloc[0] > pooled["rejection_rate"].iloc[1]
    with LocalCluster(n_workers=2, processes=True, dashboard_address=None) as cluster:
        on_dask = run_batch(runs, tmp_path / "dask", settings=settings,
                            dask_address=cluster.scheduler_address, progress=False)  # fmt: skip
    pd.testing.assert_frame_equal(
        comparable(pooled).reset_index(drop=True), comparable(on_dask).reset_index(drop=True)
    )
    written = pd.read_parquet(tmp_path / "pool" / "kpis.parquet")
    assert len(written) == 2
    run = tmp_path / "pool" / "runs" / runs[0].key()
    assert {"result.json", "plan.geojson", "stops.csv", "requests.csv"} <= {
        p.name for p in run.iterdir()
    }
    geojson = json.loads((run / "plan.geojson").read_text())
    assert geojson["features"] and geojson["type"] == "FeatureCollection"


def test_failing_run_is_recorded_and_rerun_skips_finished(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = load_scenario(TINY)[:1]
    broken = dataclasses.replace(good[0], day="2026-13-45")  # not a date: the run fails
    out = tmp_path / "batch"
    table = run_batch([*good, broken], out, settings=settings, progress=False)
    assert table["status"].tolist() == ["ok", "error"]
    assert "ValueError" in table["error"].iloc[1]
    assert (out / "runs" / broken.key() / "error.json").is_file()
    # a run's plan files carry export-only ids, never booking codes, names or phones
    run = out / "runs" / good[0].key()
    stops = pd.read_csv(run / "stops.csv")
    assert "code" not in stops and stops["booking_ref"].str.fullmatch(r"B\d{3}").all()
    assert "code" not in pd.read_csv(run / "requests.csv")
    plan_text = (run / "plan.json").read_text() + (run / "plan.geojson").read_text()
    assert '"code"' not in plan_text and "Simulation" not in plan_text

    calls = []
    real = planner.scenarios.batch.run_one

    def counting(spec, **kwargs):
        calls.append(spec.key())
        return real(spec, **kwargs)

    monkeypatch.setattr(planner.scenarios.batch, "run_one", counting)
    again = run_batch([*good, broken], out, settings=settings, progress=False)
    # the finished run is skipped; the failed one is tried again
    assert calls == [broken.key()]
    assert again["status"].tolist() == ["ok", "error"]
    # NaN-aware: revenue is NaN (not configured) without a tariff, and NaN != NaN
    pd.testing.assert_series_equal(again.iloc[0], table.iloc[0])


def test_cli_run_and_compare(tmp_path: Path, settings: Settings) -> None:
    env = {"RUFBUS_DATA_DIR": str(settings.data_dir), "RUFBUS_CACHE_DIR": str(settings.cache_dir)}
    runner = CliRunner()
    out = tmp_path / "tiny"
    command = ["scenarios", "run", str(TINY), "--out", str(out), "--lang", "en"]
    result = runner.invoke(main, command, env=env)
    assert result.exit_code == 0, result.output
    assert "2 runs (0 failed)" in result.output
    report = (out / "report.html").read_text()
    assert '<html lang="en">' in report and "KPIs per run" in report
    assert "figures/en/kpis.png" in report and "figures/en/map.png" in report
    assert "Wednesday, 2 December 2026" in report  # the simulated day, with its weekday
    # the charts in every language, for the app's page in the reader's language
    assert all((out / "figures" / lang / f).is_file() for lang in ("de", "en")
               for f in ("kpis.png", "rejections.png", "timeline.png", "map.png"))  # fmt: skip
    compared = runner.invoke(main, ["scenarios", "compare", str(out), str(out)], env=env)
    assert compared.exit_code == 0 and "rejection_rate" in compared.output
    missing = runner.invoke(main, ["scenarios", "compare", str(out), str(tmp_path)], env=env)
    assert missing.exit_code == 2 and "batch:" in missing.output and "no kpis.csv" in missing.output
    bad = runner.invoke(main, ["scenarios", "run", str(tmp_path / "none.yaml"), "--out",
                               str(out)], env=env)  # fmt: skip
    assert bad.exit_code == 2 and "scenario file not found" in bad.output


def test_a_fleet_size_override_keeps_every_shift_of_the_service(tmp_path: Path) -> None:
    """The default service drives each bus in two shifts (drivers change at the depot). A
    scenario that sets the fleet size gets that many buses, each with both shifts: before,
    every bus kept only the first shift, and a 40-bus day served half its riders."""
    service = load_service()
    first_bus = service.fleet[0].bus_id
    shifts = [(v.shift_start_s, v.shift_end_s) for v in service.fleet if v.bus_id == first_bus]
    assert len(shifts) == 2  # the premise: the default service has two shifts per bus
    spec = dataclasses.replace(load_scenario(TINY)[0], overrides=(("fleet_size", 5),))
    fleet = apply_overrides(service, spec).fleet
    assert len({v.bus_id for v in fleet}) == 5
    for bus in {v.bus_id for v in fleet}:
        assert [(v.shift_start_s, v.shift_end_s) for v in fleet if v.bus_id == bus] == shifts
    assert len({v.id for v in fleet}) == len(fleet) == 10
    # a scenario's own shift replaces them: one shift per bus
    one = dataclasses.replace(spec, shift=("06:00", "20:00"))
    fleet = apply_overrides(service, one).fleet
    assert [(v.shift_start_s, v.shift_end_s) for v in fleet] == [(6 * 3600, 20 * 3600)] * 5


def test_an_analyst_can_turn_the_repair_at_offer_time_off_or_up() -> None:
    service = load_service()
    for ms in (0, 200):
        spec = dataclasses.replace(load_scenario(TINY)[0], overrides=(("repair_ms", ms),))
        assert apply_overrides(service, spec).repair_s == ms / 1000


def test_an_analyst_can_give_the_searches_budgets_of_moves(tmp_path: Path) -> None:
    service = load_service()
    spec = dataclasses.replace(load_scenario(TINY)[0], overrides=(("repair_moves", 300),))
    assert apply_overrides(service, spec).repair_moves == 300
    (run,) = {r.section("simulation")["reoptimize_moves"] for r in load_scenario(TINY)}
    assert run == 1000
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY.read_text().replace("reoptimize_moves: 1000", "reoptimize_moves: -5"))
    with pytest.raises(ScenarioError, match="simulation.reoptimize_moves.*between 0 and 10000000"):
        load_scenario(bad)


def test_a_repair_time_out_of_range_is_refused_naming_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY.read_text().replace("repair_ms: 2000", "repair_ms: 9000"))
    with pytest.raises(ScenarioError, match="repair_ms.*between 0 and 5000"):
        load_scenario(bad)


def _offer(window_start: int, arrival: int, shift_min: int) -> OfferView:
    at = datetime(2027, 3, 10, tzinfo=UTC)
    return OfferView("o", "BUS-1", window_start, window_start + 900, window_start + 60,
                     arrival, at, shift_s=60.0 * shift_min)  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "offer", "tolerance", "takes"),
    [
        # arrive by 08:00: an offer that keeps the deadline is the wish, however early the
        # bus gets there within the ride-time promise (it once counted as 25 min off)
        ("arrival", _offer(7 * 3600, 7 * 3600 + 35 * 60, 0), 0, True),
        ("arrival", _offer(7 * 3600, 7 * 3600 + 35 * 60, -20), 10, False),
        ("arrival", _offer(7 * 3600, 7 * 3600 + 35 * 60, -20), 20, True),
        ("pickup", _offer(8 * 3600, 8 * 3600 + 1800, 0), 0, True),
        ("pickup", _offer(8 * 3600 + 300, 8 * 3600 + 2100, 5), 0, False),
        ("pickup", _offer(8 * 3600 + 300, 8 * 3600 + 2100, 5), 5, True),
    ],
)
def test_a_simulated_rider_judges_an_offer_by_its_promise_against_the_wish(
    kind: WishKind, offer: OfferView, tolerance: int, takes: bool
) -> None:
    # the offer's shift is its promise against a wish of that kind (rules.wish_shift_s)
    chosen = rider_choice([offer], tolerance)
    assert (chosen is offer) is takes
