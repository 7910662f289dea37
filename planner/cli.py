"""The planning core's commands: ``rufbus plan optimize``, ``rufbus export``, ``rufbus stops``.

They build the world with :mod:`planner.world` from the environment (data folders, database,
service file) and need nothing of the web app, not even its session secret.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import click

from planner.coverage import BOOKABLE, coverage_table, stop_coverage
from planner.errors import PlannerError
from planner.world import WorldConfig, load_world, open_engine
from routing.cli import user_errors


def parse_date(text: str, field: str) -> date:
    """``text`` as a date, or a :class:`PlannerError` naming ``field``."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PlannerError(field, f"expected YYYY-MM-DD, got {text!r}") from None


@click.group()
def plan() -> None:
    """Inspect and improve a day's plan."""


@plan.command("optimize")
@click.argument("day")
@click.option("--time-limit", default=30.0, show_default=True, type=float)
@user_errors
def plan_optimize(day: str, time_limit: float) -> None:
    """Re-optimise DAY (YYYY-MM-DD), keeping every promise; store it if better."""
    when = parse_date(day, "DAY")
    engine = open_engine(WorldConfig.from_env())
    result = engine.optimize(when, time_limit=time_limit)
    click.echo(json.dumps(result, indent=2))


@click.group()
def stops() -> None:
    """Check the bookable stops."""


@stops.command("coverage")
@click.option(
    "--brief",
    is_flag=True,
    help="Only the served stops: skip trying the names of the others (faster).",
)
@click.option("--all", "show_all", is_flag=True, help="List the stops KVG does not serve too.")
@user_errors
def stops_coverage(brief: bool, show_all: bool) -> None:
    """Which stops of NASA's list in the service area KVG serves, and which can be booked.

    The rule is in :mod:`planner.coverage`. Exit code 1 if a served stop is not bookable.
    """
    config = WorldConfig.from_env()
    world = load_world(config.settings, config.service_file, timetable=False)
    rows = stop_coverage(world, unserved_names=not brief)
    for line in coverage_table(rows, unserved_names=not brief, unserved=show_all):
        click.echo(line)
    if any(r.served and r.status != BOOKABLE for r in rows):
        raise SystemExit(1)


@click.group()
def export() -> None:
    """Export the service (GTFS-Flex) or a day's plan (GeoJSON, CSV, GTFS)."""


@export.command("gtfs-flex")
@click.option(
    "--service",
    "service_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Service file (default: RUFBUS_SERVICE_FILE or the Salzland service).",
)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="The feed (.zip).")
@click.option("--start", default=None, help="First date of the calendar (default: today).")
@click.option("--days", default=365, show_default=True, type=int, help="Calendar length.")
@click.option("--agency-url", default="", help="Operator web site (default: booking_url).")
@user_errors
def export_gtfs_flex(
    service_file: Path | None, out: Path, start: str | None, days: int, agency_url: str
) -> None:
    """Write the on-demand service as a GTFS feed with the Flex extension."""
    from planner.export.gtfs_flex import check_flex, gtfs_flex_tables, write_gtfs
    from planner.service import load_service

    config = WorldConfig.from_env()
    service = load_service(service_file or config.service_file)
    first = parse_date(start, "--start") if start else date.today()
    if not 1 <= days <= 3660:
        raise PlannerError("--days", "must be from 1 to 3660")
    if out.suffix != ".zip":
        raise PlannerError("--out", "must be a .zip file")
    last = first + timedelta(days=days - 1)
    catalog = load_world(config.settings, service, timetable=False).catalog
    tables = gtfs_flex_tables(service, catalog, start=first, end=last, agency_url=agency_url)
    problems = check_flex(tables, hours=(service.first_pickup_s, service.last_dropoff_s))
    if problems:
        raise PlannerError("feed", "; ".join(problems[:3]))
    write_gtfs(tables, out)
    num_stops, num_trips = len(tables["stops.txt"]), len(tables["trips.txt"])
    click.echo(f"wrote {out}: {num_stops} stops in one location group, {num_trips} trips, "
               f"{first} to {last}")  # fmt: skip


@export.command("plan")
@click.argument("day")
@click.option("--format", "fmt", type=click.Choice(["geojson", "csv", "gtfs"]), required=True)
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--agency-url", default="", help="For --format gtfs (default: booking_url).")
@user_errors
def export_plan(day: str, fmt: str, out: Path, agency_url: str) -> None:
    """Export DAY's (YYYY-MM-DD) current plan: routes and stops, without rider details."""
    from planner.export.gtfs_flex import write_gtfs
    from planner.export.plan import plan_csv, plan_geojson, plan_gtfs_tables

    when = parse_date(day, "DAY")
    engine = open_engine(WorldConfig.from_env())
    plan = engine.day_plan(when)
    depots = engine.depot_of
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "geojson":
        network = engine.catalog.network
        data = plan_geojson(plan, network.graph, network.csr, depots)
        out.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    elif fmt == "csv":
        out.write_text(plan_csv(plan), encoding="utf-8", newline="")
    else:
        tables = plan_gtfs_tables(plan, engine.service, engine.catalog, depots,
                                  agency_url=agency_url)  # fmt: skip
        write_gtfs(tables, out)
    num_stops = sum(1 for _ in plan.stops())
    click.echo(f"wrote {out}: {len(plan.vehicles)} vehicles, {num_stops} stops ({fmt})")
