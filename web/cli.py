"""The ``rufbus`` command: one click group that gathers each package's commands."""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from planner.booking.privacy import RetentionJob
from planner.darp.bench_cli import bench
from planner.errors import PlannerError
from planner.scenarios.cli import scenarios
from planner.store.db import open_store
from routing.cli import graph, route, user_errors
from web.config import AppConfig
from web.privacy_cli import privacy

if TYPE_CHECKING:
    from planner.booking.engine import BookingEngine

log = logging.getLogger(__name__)


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
def main(verbose: bool) -> None:
    """Rufbus: planner for rural on-demand buses in the Salzlandkreis."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


main.add_command(graph)
main.add_command(route)
main.add_command(bench)
main.add_command(scenarios)
main.add_command(privacy)


def _parse_date(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PlannerError(field, f"expected YYYY-MM-DD, got {text!r}") from None


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@user_errors
def serve(host: str, port: int, threads: int) -> None:
    """Run the web app under the waitress WSGI server (schema is migrated on start).

    The retention policy of the service file's ``[privacy]`` runs at start and every 24 h.
    """
    from waitress import serve as waitress_serve

    from web import create_app

    app = create_app()
    engine = app.extensions["rufbus"].engine
    ends = engine.timetable_ends()
    if ends is not None:
        log.warning("the timetable feeds end on %s: load a new GTFS feed before then", ends)
    threading.Thread(target=_warm_up, args=(engine,), name="warm-up", daemon=True).start()
    job = RetentionJob(engine.store, engine.service.privacy, engine.service.timezone).start()
    click.echo(f"Rufbus is running on http://{host}:{port}/  (Ctrl+C stops it)")
    sys.stdout.flush()
    try:
        waitress_serve(app, host=host, port=port, threads=threads, ident="rufbus")
    finally:
        job.stop()


def _warm_up(engine: BookingEngine) -> None:
    """Build what the first requests would otherwise wait for.

    That is every bookable day's timetable (0.2-0.7 s each) and the compiled search kernels
    (about 20 s on a new machine, which a dispatcher's first re-optimisation would pay).
    """
    from planner.darp.search import kernels

    engine.warm_timetable()
    kernels.warm_up()


@main.command()
@click.option("--requests", default=150, show_default=True, help="Ride requests to try.")
@user_errors
def demo(requests: int) -> None:
    """Book a demo day (today) and create the demo dispatcher account."""
    from web import build_engine
    from web.demo import DEMO_PASSWORD, DEMO_USER, ensure_demo_user, seed_demo_day

    config = AppConfig.from_env()
    engine = build_engine(config, open_store(config.database_url))
    day = engine.clock().astimezone(engine.tz).date()
    booked = seed_demo_day(engine, config.settings, day, requests=requests)
    ensure_demo_user(engine)
    click.echo(f"demo day {day}: {booked} bookings")
    click.echo(f"dispatcher login: {DEMO_USER} / {DEMO_PASSWORD}")


@main.group()
def users() -> None:
    """Manage staff accounts."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["dispatcher", "analyst"]), required=True)
@user_errors
def users_add(name: str, role: str) -> None:
    """Add a staff account; the password is read from standard input."""
    from web.auth import add_user

    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    config = AppConfig.from_env()
    add_user(open_store(config.database_url), name, role, password)
    click.echo(f"added {role} {name}")


@main.group()
def plan() -> None:
    """Inspect and improve a day's plan."""


@plan.command("optimize")
@click.argument("day")
@click.option("--time-limit", default=30.0, show_default=True, type=float)
@user_errors
def plan_optimize(day: str, time_limit: float) -> None:
    """Re-optimise DAY (YYYY-MM-DD), keeping every promise; store it if better."""
    from web import build_engine

    when = _parse_date(day, "DAY")
    config = AppConfig.from_env()
    engine = build_engine(config, open_store(config.database_url))
    result = engine.optimize(when, time_limit=time_limit)
    click.echo(json.dumps(result, indent=2))


@main.group()
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
    from web import load_catalog

    config = AppConfig.from_env({"RUFBUS_SECRET_KEY": "not-used", **os.environ})
    service = load_service(service_file or config.service_file)
    first = _parse_date(start, "--start") if start else date.today()
    if not 1 <= days <= 3660:
        raise PlannerError("--days", "must be from 1 to 3660")
    if out.suffix != ".zip":
        raise PlannerError("--out", "must be a .zip file")
    last = first + timedelta(days=days - 1)
    catalog = load_catalog(config, service)
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
    from planner.export.gtfs_flex import plan_csv, plan_geojson, plan_gtfs_tables, write_gtfs
    from web import build_engine

    when = _parse_date(day, "DAY")
    config = AppConfig.from_env({"RUFBUS_SECRET_KEY": "not-used", **os.environ})
    engine = build_engine(config, open_store(config.database_url))
    plan = engine.day_plan(when)
    depots = {v.id: d for v, d in zip(engine.service.fleet, engine.depots, strict=True)}
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
    num_stops = sum(len(v["stops"]) for v in plan["vehicles"])
    click.echo(f"wrote {out}: {len(plan['vehicles'])} vehicles, {num_stops} stops ({fmt})")
