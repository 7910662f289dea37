"""Service files: the default loads, broken ones are refused with file, key and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.darp.breaks import BreakRule
from planner.errors import ServiceFileError
from planner.service import DEFAULT_SERVICE_FILE, ReoptimizePolicy, load_service


def test_default_service() -> None:
    service = load_service()
    assert service.window_s == 15 * 60
    assert service.min_lead_s == 3600
    assert (service.first_pickup_s, service.last_dropoff_s) == (5.5 * 3600, 23.5 * 3600)
    # 12 buses, each driven in two shifts with a driver change at the depot at 14:30
    assert len(service.fleet) == 24 and len({v.bus_id for v in service.fleet}) == 12
    assert service.fleet[0].id == "BBG-1-S1" and service.fleet[0].seats == 8
    assert (service.fleet[1].shift_start_s, service.fleet[1].shift_end_s) == (52200, 84600)
    assert service.breaks == BreakRule()  # ArbZG §4, planned by the planner
    assert service.max_ride_s(1200) == pytest.approx(1.5 * 1200 + 600)
    assert service.privacy.erase_after_days == 30
    assert service.privacy.offers_kept_hours == 24
    assert service.operations.no_show_wait_s == 3 * 60
    assert service.operations.risk_margin_s == 5 * 60
    assert service.fleet[0].max_duty_s is None  # no limit unless the service file sets one
    assert service.reoptimize == ReoptimizePolicy(
        enabled=True, every_bookings=25, every_min=30, time_limit_s=5.0
    )


def test_a_day_is_due_for_reoptimisation_after_n_changes_or_m_minutes() -> None:
    policy = ReoptimizePolicy(enabled=True, every_bookings=25, every_min=30, time_limit_s=5.0)
    assert not policy.is_due(24, 29 * 60)
    assert policy.is_due(25, 0)  # enough changes, however soon
    assert policy.is_due(1, 30 * 60)  # enough time, and the day changed
    assert not policy.is_due(0, 10 * 3600)  # nothing changed: nothing to do
    assert not ReoptimizePolicy(enabled=False).is_due(100, 10 * 3600)
    by_count = ReoptimizePolicy(every_bookings=10, every_min=0)  # 0 turns a rule off
    assert not by_count.is_due(9, 10 * 3600) and by_count.is_due(10, 0)
    by_time = ReoptimizePolicy(every_bookings=0, every_min=60)
    assert not by_time.is_due(1000, 59 * 60) and by_time.is_due(1, 60 * 60)


@pytest.mark.parametrize(
    ("old", "new", "key", "reason"),
    [
        ('first_pickup = "05:30"', 'first_pickup = "5.30"', "hours.first_pickup",
         "expected a time"),
        ("window_min = 15", "window_min = 0", "rides.window_min", "must be between 1 and 120"),
        ("alpha = 1.5", 'alpha = "fast"', "rides.alpha", "must be a float"),
        ("seats = 8\nwheelchair_places = 1\nshift", "wheelchair_places = 1\nshift",
         "fleet[0].seats", "is missing"),
        ('shift = [["05:30", "14:30"], ["14:30", "23:30"]]', 'shift = ["23:30", "05:30"]',
         "fleet[0].shift",
         "must end after it starts"),
        ('name = "Rufbus Salzland"', "name = 5", "name", "must be a str"),
        ("erase_after_days = 30", "erase_after_days = 0", "privacy.erase_after_days",
         "must be between 1 and 3650"),
        ("erase_after_days = 30", 'erase_after_days = "30"', "privacy.erase_after_days",
         "must be a int"),
        ("offers_kept_hours = 24", "offers_kept_hours = -1", "privacy.offers_kept_hours",
         "must be between 0 and 8784"),
        ("erase_after_days = 30", "erase_after_day = 30", "privacy.erase_after_day",
         "unknown key"),
        ("seats = 8\n", "seats = 8\nmax_duty_min = 5\n", "fleet[0].max_duty_min",
         "must be between 10 and 1440"),
        ("seats = 8\n", "seats = 8\nmax_duty = 300\n", "fleet[0].max_duty", "unknown key"),
        ("no_show_wait_min = 3", "no_show_wait_min = -1", "operations.no_show_wait_min",
         "must be between 0 and 60"),
        ("no_show_wait_min = 3", 'no_show_wait_min = "3"', "operations.no_show_wait_min",
         "must be a int"),
        ("no_show_wait_min = 3", "no_show_wait = 3", "operations.no_show_wait", "unknown key"),
        ("risk_margin_min = 5", "risk_margin_min = 61", "operations.risk_margin_min",
         "must be between 0 and 60"),
        ("every_bookings = 25", "every_bookings = -1", "reoptimize.every_bookings",
         "must be between 0 and 100000"),
        ("every_min = 30", "every_min = 1441", "reoptimize.every_min",
         "must be between 0 and 1440"),
        ("time_limit_s = 5", "time_limit_s = 0", "reoptimize.time_limit_s",
         "must be between 0.1 and 600.0"),
        ("time_limit_s = 5", 'time_limit_s = "5 s"', "reoptimize.time_limit_s",
         "must be a float"),
        ("enabled = true", "enabled = 1", "reoptimize.enabled", "must be a bool"),
        ("\nmoves = 0", "\nmoves = -1", "reoptimize.moves", "must be between 0 and 10000000"),
        ("repair_moves = 0", "repair_moves = 0.5", "booking.repair_moves", "must be a int"),
        ("every_min = 30", "every_minutes = 30", "reoptimize.every_minutes", "unknown key"),
    ],
)  # fmt: skip
def test_broken_service_files(tmp_path: Path, old: str, new: str, key: str, reason: str) -> None:
    text = DEFAULT_SERVICE_FILE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "broken.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ServiceFileError) as info:
        load_service(path)
    assert info.value.field == f"{path}:{key}"
    assert reason in info.value.reason


def test_missing_and_invalid_toml(tmp_path: Path) -> None:
    with pytest.raises(ServiceFileError, match="service file not found"):
        load_service(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [", encoding="utf-8")
    with pytest.raises(ServiceFileError, match="not valid TOML"):
        load_service(bad)
