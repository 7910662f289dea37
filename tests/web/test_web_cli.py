"""The ``rufbus users`` and ``rufbus plan`` commands."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from planner.service import DEFAULT_SERVICE_FILE
from routing.settings import Settings
from web.cli import main


def env(tmp_path: Path, settings: Settings) -> dict[str, str]:
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        "RUFBUS_DATA_DIR": str(settings.data_dir),
        "RUFBUS_CACHE_DIR": str(settings.cache_dir),
        "RUFBUS_SECRET_KEY": "cli",
    }


def test_users_add(tmp_path: Path, settings: Settings) -> None:
    runner = CliRunner()
    e = env(tmp_path, settings)
    ok = runner.invoke(
        main, ["users", "add", "anna", "--role", "dispatcher"], "pw-12345678\n", env=e
    )
    assert ok.exit_code == 0 and "added dispatcher anna" in ok.output
    again = runner.invoke(
        main, ["users", "add", "anna", "--role", "analyst"], "pw-12345678\n", env=e
    )
    assert again.exit_code == 2 and "user 'anna' exists already" in again.output
    driver = runner.invoke(
        main, ["users", "add", "fred", "--role", "driver"], "pw-12345678\n", env=e
    )
    assert driver.exit_code == 0 and "added driver fred" in driver.output
    short = runner.invoke(main, ["users", "add", "bob", "--role", "analyst"], "short\n", env=e)
    assert short.exit_code == 2 and "password: must have at least 8 characters" in short.output


def test_plan_optimize(tmp_path: Path, settings: Settings) -> None:
    runner = CliRunner()
    e = env(tmp_path, settings)
    empty = runner.invoke(main, ["plan", "optimize", "2026-12-02", "--time-limit", "1"], env=e)
    assert empty.exit_code == 0, empty.output
    assert json.loads(empty.output) == {
        "stored": False, "code": "no_bookings", "reason": "no bookings on this day"
    }  # fmt: skip
    bad = runner.invoke(main, ["plan", "optimize", "02.12.2026"], env=e)
    assert bad.exit_code == 2 and "DAY: expected YYYY-MM-DD" in bad.output


def test_engine_commands_need_no_session_secret(
    tmp_path: Path, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Only serving pages signs sessions: ``plan optimize`` and ``export plan`` run without
    ``RUFBUS_SECRET_KEY`` and neither need nor warn about it."""
    e = {**env(tmp_path, settings), "RUFBUS_SECRET_KEY": None}  # None: unset
    out = tmp_path / "plan.csv"
    runner = CliRunner()
    with caplog.at_level(logging.WARNING):
        optimized = runner.invoke(main, ["plan", "optimize", "2026-12-02", "--time-limit", "1"],
                                  env=e)  # fmt: skip
        exported = runner.invoke(main, ["export", "plan", "2026-12-02", "--format", "csv",
                                        "--out", str(out)], env=e)  # fmt: skip
    assert optimized.exit_code == 0, optimized.output
    assert json.loads(optimized.output)["reason"] == "no bookings on this day"
    assert exported.exit_code == 0, exported.output
    assert out.read_text(encoding="utf-8").startswith("vehicle")
    said = caplog.text + optimized.output + exported.output
    assert "RUFBUS_SECRET_KEY" not in said


def test_serve_refuses_an_unknown_time_zone(tmp_path: Path, settings: Settings) -> None:
    service = DEFAULT_SERVICE_FILE.read_text(encoding="utf-8")
    assert 'timezone = "Europe/Berlin"' in service
    bad = tmp_path / "mars.toml"
    bad.write_text(service.replace("Europe/Berlin", "Mars/Olympus"), encoding="utf-8")
    e = {**env(tmp_path, settings), "RUFBUS_SERVICE_FILE": str(bad)}
    result = CliRunner().invoke(main, ["serve", "--port", "1"], env=e)
    assert result.exit_code == 2, result.output
    assert f"{bad}:timezone: unknown time zone 'Mars/Olympus'" in result.output


@pytest.mark.parametrize("command", [["worker"], ["serve", "--port", "1"]])
def test_bad_reoptimize_settings_name_the_key(
    tmp_path: Path, settings: Settings, command: list[str]
) -> None:
    service = DEFAULT_SERVICE_FILE.read_text(encoding="utf-8")
    assert "every_bookings = 25" in service
    bad = tmp_path / "bad.toml"
    bad.write_text(service.replace("every_bookings = 25", "every_bookings = -5"), "utf-8")
    e = {**env(tmp_path, settings), "RUFBUS_SERVICE_FILE": str(bad)}
    result = CliRunner().invoke(main, command, env=e)
    assert result.exit_code == 2, result.output
    assert f"{bad}:reoptimize.every_bookings: must be between 0 and 100000" in result.output


def test_the_worker_has_nothing_to_do_when_the_service_file_turns_it_off(
    tmp_path: Path, settings: Settings
) -> None:
    service = DEFAULT_SERVICE_FILE.read_text(encoding="utf-8")
    off = tmp_path / "off.toml"
    service = service.replace("enabled = true", "enabled = false")
    off.write_text(service.replace('channels = ["email", "call"]', "channels = []"), "utf-8")
    e = {**env(tmp_path, settings), "RUFBUS_SERVICE_FILE": str(off)}
    result = CliRunner().invoke(main, ["worker"], env=e)
    assert result.exit_code == 0, result.output
    assert "notifications.channels is empty: nothing to do" in result.output
