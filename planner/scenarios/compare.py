"""Scenario batches side by side.

The one comparison of ``rufbus scenarios compare`` and of the analysts' web page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from planner.errors import PlannerError

#: KPIs compared (means over the finished runs of each batch and swept value), with whether
#: a higher value is better; the pages mark a difference as better or worse by it.
COMPARE_KPIS: tuple[tuple[str, bool], ...] = (
    ("rejection_rate", False),
    ("passengers_per_vehicle_hour", True),
    ("vehicle_hours", False),
    ("mean_wait_min", False),
    ("mean_ride_min", False),
    ("pooling_rate", True),
    ("revenue_cents", True),
)


class BatchError(PlannerError):
    """A folder named as a batch has no KPI table; ``field`` is ``"batch"``."""


@dataclass(frozen=True)
class Comparison:
    """Several batches side by side.

    Attributes
    ----------
    summary
        Mean KPIs, indexed by ``batch`` and the swept keys (``section.key``).
    differences
        ``summary`` minus the first batch's row with the same swept values (NaN for the
        first batch's own rows and where it has no such row).
    higher_is_better
        Per KPI column of ``summary``: whether a rise is an improvement.
    """

    summary: pd.DataFrame
    differences: pd.DataFrame
    higher_is_better: dict[str, bool]


def read_kpis(folder: Path) -> pd.DataFrame:
    """The KPI table of the batch in ``folder``.

    Raises
    ------
    BatchError
        If the folder has no ``kpis.csv``.
    """
    path = folder / "kpis.csv"
    if not path.is_file():
        raise BatchError("batch", f"{path}: no kpis.csv (run the batch first)")
    return pd.read_csv(path)


def compare_batches(folders: Sequence[Path]) -> Comparison:
    """Mean KPIs of the finished runs of each batch folder, and their differences to the first.

    Raises
    ------
    BatchError
        If a folder is not a batch (no ``kpis.csv``) or no folder is given.
    """
    if not folders:
        raise BatchError("batch", "name at least one batch folder")
    frames = [read_kpis(folder).assign(batch=folder.name) for folder in folders]
    table = pd.concat(frames, ignore_index=True)
    table = table[table["status"] == "ok"]
    swept = [c for c in table.columns if "." in c]
    kpis = [k for k, _ in COMPARE_KPIS if k in table]
    summary = table.groupby(["batch", *swept], dropna=False, sort=False)[kpis].mean()
    flat = summary.reset_index()
    first = flat[flat["batch"] == folders[0].name]
    if swept:  # the first batch's row with the same swept values, in the order of ``flat``
        base = flat[swept].merge(first, on=swept, how="left")[kpis]
    else:
        # one row at most (NaN if the first batch has no finished run)
        base = pd.DataFrame([first[kpis].mean()] * len(flat)).reset_index(drop=True)
    differences = (flat[kpis] - base).set_axis(summary.index)
    differences.loc[(flat["batch"] == folders[0].name).to_numpy()] = float("nan")
    return Comparison(summary, differences, {k: up for k, up in COMPARE_KPIS if k in kpis})
