"""The one place that turns seconds into clock text and back."""

from __future__ import annotations

from typing import Any

import pytest

from planner.errors import PlannerError, ServiceFileError
from planner.timefmt import DAY_S, hhmm, hhmmss, parse_hhmm, parse_hhmmss, whole_minute


def test_every_minute_of_the_day_round_trips() -> None:
    for seconds in range(0, DAY_S + 1, 60):
        assert parse_hhmm(hhmm(seconds), field="time") == seconds


def test_hhmm_rounds_down_to_the_minute() -> None:
    assert hhmm(8 * 3600 + 10 * 60 + 59.9) == "08:10"
    assert hhmm(0) == "00:00" and hhmm(DAY_S) == "24:00"
    assert whole_minute(8 * 3600 + 10 * 60 + 59.9) == 8 * 3600 + 10 * 60


def test_parse_hhmm_accepts_one_digit_hours() -> None:
    assert parse_hhmm("8:05", field="time") == 8 * 3600 + 5 * 60


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("8.10", "expected a time 'HH:MM'"),
        ("08:10 ", "expected a time 'HH:MM'"),
        ("²:10", "expected a time 'HH:MM'"),  # '²'.isdigit() is True
        ("٠٨:١٠", "expected a time 'HH:MM'"),  # Arabic-Indic digits, which int() reads
        (810, "expected a time 'HH:MM'"),
        (None, "expected a time 'HH:MM'"),
        ("08:60", "is not a time of day"),
        ("24:01", "is not a time of day"),
        ("99:00", "is not a time of day"),
    ],
)
def test_parse_hhmm_names_the_field(text: Any, message: str) -> None:
    with pytest.raises(ServiceFileError) as info:
        parse_hhmm(text, field="service.toml:hours.first_pickup")
    assert info.value.field == "service.toml:hours.first_pickup"
    assert message in info.value.reason


def test_gtfs_times_pass_midnight_and_round_trip() -> None:
    assert hhmmss(25 * 3600 + 90) == "25:01:30"
    assert parse_hhmmss("5:28:00", field="t") == 5 * 3600 + 28 * 60
    for seconds in (0, 59, 3600, 23 * 3600 + 59 * 60 + 59, 27 * 3600 + 1):
        assert parse_hhmmss(hhmmss(seconds), field="t") == seconds


@pytest.mark.parametrize("text", ["08:10", "08:60:00", "08:10:60", "8:10:0x", "", None])
def test_parse_hhmmss_names_the_field(text: Any) -> None:
    with pytest.raises(PlannerError) as info:
        parse_hhmmss(text, field="stop_times.txt row 3 start")
    assert info.value.field == "stop_times.txt row 3 start"
    assert "H:MM:SS" in info.value.reason
