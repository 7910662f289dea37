"""The report's charts: whole buses on fleet axes, clock times on time axes."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from matplotlib.figure import Figure

from planner.booking.views import DayPlan
from planner.scenarios.report import kpis_figure, rejections_figure, timeline_figure


def german(message: str) -> str:
    return message


def fleet_table(fleets: list[int]) -> pd.DataFrame:
    """A KPI table of a fleet sweep with two demand levels (made up values)."""
    rows = [
        {"overrides.fleet_size": f, "demand.requests": r, "seed": 1, "status": "ok",
         "rejection_rate": 0.5 / f, "passengers_per_vehicle_hour": 1.0 + f / 10,
         "vehicle_hours": 15.0 * f, "mean_wait_min": 10.0 - f / 4,
         "rejection_rate_single": 0.4 / f, "rejection_rate_group": 0.5 / f,
         "rejection_rate_wheelchair": 0.9 / f}
        for f in fleets
        for r in (200, 400)
    ]  # fmt: skip
    return pd.DataFrame(rows)


def tick_labels(fig: Figure, axis: str) -> list[list[str]]:
    fig.canvas.draw()  # tick labels exist once drawn
    return [
        [t.get_text() for t in getattr(ax, f"get_{axis}ticklabels")() if t.get_text()]
        for ax in fig.axes
    ]


@pytest.mark.parametrize("fleets", [[1], [1, 2], [4, 8, 12, 16], [3, 5], list(range(1, 30))])
def test_fleet_axis_ticks_are_whole_buses(fleets: list[int]) -> None:
    fig = kpis_figure(fleet_table(fleets), german)
    for ax in fig.axes:
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
        assert ax.get_xlabel() == "Busse"
    for labels in tick_labels(fig, "x"):
        assert labels and all("." not in t for t in labels), labels
    # shares read as per cent, not 0.25
    assert all(t.endswith("%") for t in tick_labels(fig, "y")[0])


def test_rejections_by_group_read_in_the_readers_words() -> None:
    fig = rejections_figure(fleet_table([1, 2]), german)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "Einzelfahrgäste", "Gruppen", "Rollstuhlnutzer",
    ]  # fmt: skip
    assert [t for t in tick_labels(fig, "x")[0]] == ["1", "2"]


def test_timeline_reads_clock_times() -> None:
    plan = DayPlan(day=date(2026, 12, 2), version=1, vehicles=(), kpis={})
    fig = timeline_figure(plan, german)
    fig.canvas.draw()
    ax = fig.axes[0]
    low, high = ax.get_xlim()
    shown = [t.get_text() for t in ax.get_xticklabels() if low <= t.get_position()[0] <= high]
    assert shown == ["06:00", "08:00", "10:00", "12:00", "14:00", "16:00", "18:00", "20:00",
                     "22:00", "24:00"]  # fmt: skip
