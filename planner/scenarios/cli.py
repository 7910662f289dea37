"""Command-line interface of scenario batches: ``rufbus scenarios run|compare``."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from planner.scenarios.batch import run_batch
from planner.scenarios.report import write_report
from planner.scenarios.scenario import load_scenario
from routing.cli import user_errors
from routing.settings import Settings

#: KPIs shown by ``compare`` (means over the runs of each batch and swept value).
COMPARE_KPIS = ("rejection_rate", "passengers_per_vehicle_hour", "vehicle_hours",
                "mean_wait_min", "mean_ride_min", "pooling_rate", "revenue_cents")  # fmt: skip


@click.group()
def scenarios() -> None:
    """Run and compare scenario batches (fleet size, demand, service rules)."""


@scenarios.command("run")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Batch folder (finished runs in it are skipped).",
)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--dask",
    "dask_address",
    default=None,
    metavar="ADDRESS",
    help="Run on an existing Dask cluster (scheduler address).",
)
@user_errors
def run(file: Path, out_dir: Path, workers: int, dask_address: str | None) -> None:  # fmt: skip
    """Run every run of the scenario FILE's sweep and write KPIs and a report."""
    runs = load_scenario(file)
    settings = Settings.from_env()
    table = run_batch(runs, out_dir, settings=settings, workers=workers,
                      dask_address=dask_address)  # fmt: skip
    report = write_report(table, out_dir, boundary_file=settings.data_file("boundary"),
                          title=f"Scenario batch: {runs[0].scenario}")  # fmt: skip
    failed = int((table["status"] == "error").sum())
    click.echo(f"{len(table)} runs ({failed} failed): {out_dir / 'kpis.csv'}, {report}")
    shown = [c for c in table.columns if "." in c] + ["seed", "status", "rejection_rate",
             "passengers_per_vehicle_hour", "vehicle_hours", "wall_seconds"]  # fmt: skip
    click.echo(table[[c for c in shown if c in table]].to_string(index=False))


@scenarios.command("compare")
@click.argument("dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
def compare(dirs: tuple[Path, ...]) -> None:
    """Put the KPI tables of several batch folders side by side."""
    frames = []
    for folder in dirs:
        path = folder / "kpis.csv"
        if not path.is_file():
            click.echo(f"error: {path}: no kpis.csv (run the batch first)", err=True)
            raise SystemExit(2)
        frames.append(pd.read_csv(path).assign(batch=folder.name))
    table = pd.concat(frames, ignore_index=True)
    table = table[table["status"] == "ok"]
    keys = ["batch", *[c for c in table.columns if "." in c]]
    summary = table.groupby(keys, dropna=False)[[k for k in COMPARE_KPIS if k in table]].mean()
    click.echo(summary.round(3).to_string())
