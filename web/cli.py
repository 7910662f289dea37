"""The ``rufbus`` command: one click group that gathers each package's commands."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
import threading
from typing import TYPE_CHECKING

import click

from planner.booking.privacy import RetentionJob
from planner.cli import export, plan
from planner.darp.bench_cli import bench
from planner.scenarios.cli import scenarios
from planner.service import load_service
from planner.store.db import ROLES, open_store
from planner.world import WorldConfig, open_engine
from routing.cli import graph, route, user_errors
from web.privacy_cli import privacy

if TYPE_CHECKING:
    from planner.booking import BookingEngine

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
main.add_command(plan)
main.add_command(export)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int, help="Threads per worker.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes sharing the port (with PostgreSQL; SQLite allows one writer).",
)
@user_errors
def serve(host: str, port: int, threads: int, workers: int) -> None:
    """Run the web app under the waitress WSGI server (schema is migrated on start).

    The retention policy of the service file's ``[privacy]`` runs at start and every 24 h
    (in the first worker). With ``--workers N`` the port is bound once and N processes
    answer on it; each keeps the days it offers in memory and notices the others' writes by
    the day's version.
    """
    # a bad service file ends here (exit code 2), before the port is taken or a worker forked
    load_service(WorldConfig.from_env().service_file)
    with socket.create_server((host, port)) as listener:
        click.echo(f"Rufbus is running on http://{host}:{port}/  (Ctrl+C stops it)")
        sys.stdout.flush()
        if workers == 1:
            _serve_worker(listener, threads, first=True)
            return
        children = []
        for k in range(workers):
            pid = os.fork()
            if pid == 0:  # the worker: builds its own app, database pools and threads
                try:
                    _serve_worker(listener, threads, first=k == 0)
                finally:
                    os._exit(0)
            children.append(pid)

    def stop(signum: int, _frame: object) -> None:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for pid in children:
        os.waitpid(pid, 0)


def _serve_worker(listener: socket.socket, threads: int, *, first: bool) -> None:
    """Serve the app on ``listener`` (the retention job runs in the ``first`` worker only)."""
    from waitress import serve as waitress_serve

    from web import create_app
    from web.services import services

    app = create_app()
    with app.app_context():
        engine = services().engine
    ends = engine.timetable_ends()
    if ends is not None and first:
        log.warning("the timetable feeds end on %s: load a new GTFS feed before then", ends)
    threading.Thread(target=_warm_up, args=(engine,), name="warm-up", daemon=True).start()
    job = None
    if first:
        job = RetentionJob(engine.store, engine.service.privacy, engine.service.timezone).start()
    try:
        waitress_serve(app, sockets=[listener], threads=threads, ident="rufbus")
    finally:
        if job is not None:
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
    from web.demo import DEMO_PASSWORD, DEMO_USER, ensure_demo_user, seed_demo_day

    config = WorldConfig.from_env()
    engine = open_engine(config)
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
@click.option("--role", type=click.Choice(ROLES), required=True)
@user_errors
def users_add(name: str, role: str) -> None:
    """Add a staff account; the password is read from standard input."""
    from web.auth import add_user

    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    add_user(open_store(WorldConfig.from_env().database_url), name, role, password)
    click.echo(f"added {role} {name}")
