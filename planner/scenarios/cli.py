"""Command-line interface of scenario batches: ``rufbus scenarios run|compare``."""

from __future__ import annotations

from pathlib import Path

import click

from planner.scenarios.batch import run_batch
from planner.scenarios.compare import compare_batches
from planner.scenarios.scenario import load_scenario
from routing.cli import user_errors
from routing.settings import Settings

# the report is a page of the app (its template, style sheet and catalogue)
from web.i18n import LANGUAGES
from web.scenario_report import write_report


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
@click.option(
    "--lang",
    type=click.Choice(LANGUAGES),
    default="de",
    show_default=True,
    help="Language of report.html (the charts are drawn in every language).",
)
@user_errors
def run(file: Path, out_dir: Path, workers: int, dask_address: str | None, lang: str) -> None:
    """Run every run of the scenario FILE's sweep and write KPIs and a report."""
    runs = load_scenario(file)
    settings = Settings.from_env()
    table = run_batch(runs, out_dir, settings=settings, workers=workers,
                      dask_address=dask_address)  # fmt: skip
    report = write_report(table, out_dir, boundary_file=settings.data_file("boundary"), lang=lang)
    failed = int((table["status"] == "error").sum())
    click.echo(f"{len(table)} runs ({failed} failed): {out_dir / 'kpis.csv'}, {report}")
    shown = [c for c in table.columns if "." in c] + ["seed", "status", "rejection_rate",
             "passengers_per_vehicle_hour", "vehicle_hours", "wall_seconds"]  # fmt: skip
    click.echo(table[[c for c in shown if c in table]].to_string(index=False))


@scenarios.command("compare")
@click.argument("dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@user_errors
def compare(dirs: tuple[Path, ...]) -> None:
    """Put the mean KPIs of several batch folders side by side (and differences to the first)."""
    result = compare_batches(dirs)
    click.echo(result.summary.round(3).to_string())
    if len(dirs) > 1:
        click.echo(f"\nDifference to {dirs[0].name}:")
        click.echo(result.differences.drop(index=dirs[0].name, level=0).round(3).to_string())
