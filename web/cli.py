"""The ``rufbus`` command: one click group that gathers each package's commands."""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from datetime import date
from typing import Any

import click

from planner.cli import bench
from planner.errors import PlannerError
from planner.scenarios_cli import scenarios
from planner.store import open_store
from routing.cli import graph, route, user_errors
from web.config import AppConfig


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


def planner_errors(func: Callable) -> Callable:
    """Like ``routing.cli.user_errors``, for the planner's errors too (exit code 2)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PlannerError as exc:
            click.echo(f"error: {exc}", err=True)
            raise SystemExit(2) from None

    return user_errors(wrapper)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@planner_errors
def serve(host: str, port: int, threads: int) -> None:
    """Run the web app under the waitress WSGI server (schema is migrated on start)."""
    from waitress import serve as waitress_serve

    from web import create_app

    app = create_app()
    click.echo(f"Rufbus is running on http://{host}:{port}/  (Ctrl+C stops it)")
    sys.stdout.flush()
    waitress_serve(app, host=host, port=port, threads=threads, ident="rufbus")


@main.command()
@click.option("--requests", default=150, show_default=True, help="Ride requests to try.")
@planner_errors
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
@planner_errors
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
@planner_errors
def plan_optimize(day: str, time_limit: float) -> None:
    """Re-optimise DAY (YYYY-MM-DD), keeping every promise; store it if better."""
    from web import build_engine

    try:
        when = date.fromisoformat(day)
    except ValueError:
        raise PlannerError("DAY", f"expected YYYY-MM-DD, got {day!r}") from None
    config = AppConfig.from_env()
    engine = build_engine(config, open_store(config.database_url))
    result = engine.optimize(when, time_limit=time_limit)
    click.echo(json.dumps(result, indent=2))
