"""The live test bed: a demand day booked, then driven through the drivers' API."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from click.testing import CliRunner

from planner.world import WorldConfig
from web.cli import main
from web.replay import ReplayParams, simulate_live

DAY = date(2027, 3, 10)


def test_a_day_as_planned_keeps_every_promise(world_config: WorldConfig, tmp_path: Path) -> None:
    quiet = ReplayParams(noise=0.0, no_show_rate=0.0, breakdown=False)
    (result,) = simulate_live(
        world_config, day=DAY, requests=25, seed=3, params=quiet, out_dir=tmp_path,
        compare=False,
    ).values()  # fmt: skip
    assert result.bookings > 10
    assert result.picked_up == result.delivered == result.bookings
    assert result.pickups_in_window == 1.0 and result.rides_kept == 1.0
    assert result.moved == 0 and result.new_time == 0
    assert result.delay_p95_min <= 0.5  # on time: never later than told
    assert result.problems == ()
    # every driver with rides took the break the planner placed (ArbZG §4)
    assert result.breaks_planned > 0 and result.breaks_taken == result.breaks_planned


def test_a_breakdown_and_no_shows_leave_no_booking_unaccounted(
    world_config: WorldConfig, tmp_path: Path
) -> None:
    rough = ReplayParams(noise=0.2, no_show_rate=0.1, breakdown=True, seed=2)
    results = simulate_live(
        world_config, day=DAY, requests=40, seed=2, params=rough, out_dir=tmp_path
    )
    replanned, plain = results["re-planning from reality"], results["plan as made"]
    assert replanned.breakdown == plain.breakdown is not None
    assert replanned.no_shows == plain.no_shows == round(0.1 * replanned.bookings) > 0
    for r in (replanned, plain):
        assert r.picked_up + r.no_shows + r.not_picked_up == r.bookings
        assert r.problems == ()  # the validator passes the day as it ended
    # re-planning: whoever was not picked up was listed for the dispatcher
    assert replanned.not_picked_up <= replanned.new_time
    assert replanned.not_picked_up <= plain.not_picked_up


def test_the_command_prints_both_replays_and_refuses_bad_input(
    world_config: WorldConfig, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", world_config.database_url)
    runner = CliRunner()
    bad = runner.invoke(main, ["simulate", "live", "2027-03-10", "--no-shows", "2"])
    assert bad.exit_code == 2 and "--no-shows" in bad.output
    out = tmp_path / "replay"
    done = runner.invoke(
        main,
        ["simulate", "live", "2027-03-10", "--requests", "8", "--no-breakdown",
         "--out", str(out)],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "| pickups inside the promised window |" in done.output
    assert "re-planning from reality" in done.output and "plan as made" in done.output
    assert (out / "booked.sqlite3").is_file()
