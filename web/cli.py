"""The ``rufbus`` command: one click group that gathers each package's commands."""

from __future__ import annotations

import contextlib
import functools
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from planner.booking.background import POLL_S
from planner.booking.privacy import RetentionJob
from planner.cli import export, plan, stops
from planner.darp.bench_cli import bench
from planner.scenarios.cli import scenarios
from planner.service import break_warnings, load_service
from planner.store.db import ROLES, open_store
from planner.world import WorldConfig, load_world, make_engine, open_engine
from routing.cli import graph, route, user_errors
from web.privacy_cli import privacy

if TYPE_CHECKING:
    from multiprocessing.context import ForkProcess

    from planner.booking import BookingEngine

log = logging.getLogger(__name__)

#: How much lower the background worker's CPU priority is than the server's (``nice``).
WORKER_NICENESS = 10


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
main.add_command(stops)


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
@click.option(
    "--no-worker",
    is_flag=True,
    help="Start no background re-optimisation process (run `rufbus worker` elsewhere).",
)
@user_errors
def serve(host: str, port: int, threads: int, workers: int, no_worker: bool) -> None:
    """Run the web app under the waitress WSGI server (schema is migrated on start).

    The retention policy of the service file's ``[privacy]`` runs at start and every 24 h
    (in the first worker). With ``--workers N`` the port is bound once and N processes
    answer on it; each keeps the days it offers in memory and notices the others' writes by
    the day's version. One more process re-optimises the open days in the background
    (``[reoptimize]``; not with ``--no-worker``); it ends when the server ends.
    """
    # a bad service file ends here (exit code 2), before the port is taken or a worker forked
    service = load_service(WorldConfig.from_env().service_file)
    for warning in break_warnings(service):
        log.warning("%s: %s", service.path, warning)
    # SIGTERM ends the server like Ctrl+C (waitress stops on SystemExit), so that the
    # finally paths below run and the background worker is stopped, never orphaned
    signal.signal(signal.SIGTERM, _exit_on_signal)
    background = None
    if (service.reoptimize.enabled or service.notifications.enabled) and not no_worker:
        background = _start_background()
    try:
        _serve(host, port, threads, workers)
    finally:
        if background is not None:
            _stop_background(background, service.reoptimize.time_limit_s)


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(0)


def _serve(host: str, port: int, threads: int, workers: int) -> None:
    """Bind the port and serve on it with ``workers`` processes until stopped."""
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


def _start_background() -> ForkProcess:
    """Start the background re-optimisation in a process of its own.

    Forked before the port is bound and before any thread or database connection exists,
    so it inherits none of them (and, unlike a spawned one, needs no resource tracker).
    """
    context = multiprocessing.get_context("fork")
    process = context.Process(
        target=_background_main,
        args=(os.getpid(),),
        name="rufbus-worker",
        daemon=False,  # it stops by itself on SIGTERM; a daemon would be killed mid-write
    )
    process.start()
    return process


def _stop_background(process: ForkProcess, time_limit_s: float) -> None:
    """Stop the background process: SIGTERM, it finishes its solve; then SIGKILL."""
    if process.is_alive():
        process.terminate()
    process.join(time_limit_s + 30)
    if process.is_alive():
        log.warning("the background worker did not stop in time; killing it")
        process.kill()
        process.join()
    process.close()


def _background_main(parent: int) -> None:
    """The background process of ``rufbus serve``: it also ends if the server is gone.

    It runs at a lower priority than the server (:data:`WORKER_NICENESS`): a rider waiting
    for an offer comes before a re-optimisation, which can wait for a free core.
    """
    os.nice(WORKER_NICENESS)
    _work(POLL_S, parent=parent)


def _work(poll_s: float, *, parent: int | None = None) -> None:
    """Re-optimise open days and send notifications until SIGTERM, SIGINT or ``parent`` ends."""
    from planner.booking.background import run_forever
    from planner.notify import worker as notify_worker
    from planner.notify.channels import senders

    stop = threading.Event()

    def on_signal(_signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if parent is not None:  # even a kill -9 of the server leaves no worker behind
        threading.Thread(
            target=_watch_parent, args=(parent, stop), name="watch-parent", daemon=True
        ).start()
    config = WorldConfig.from_env()
    world = load_world(config.settings, config.service_file, timetable=False)
    engine = make_engine(world, open_store(config.database_url))
    also = []
    if engine.service.notifications.enabled:
        channels = senders(engine.service.notifications)
        also.append(functools.partial(notify_worker.run_pass, engine, channels))
    try:
        run_forever(engine, stop, poll_s, also=also)
    finally:
        engine.store.close()


def _watch_parent(parent: int, stop: threading.Event) -> None:
    while not stop.wait(1.0):
        if os.getppid() != parent:
            stop.set()


@main.command()
@click.option(
    "--poll",
    default=POLL_S,
    show_default=True,
    type=click.FloatRange(0.1, 3600),
    help="Seconds between two looks at the open days.",
)
@user_errors
def worker(poll: float) -> None:
    """Re-optimise the open days and send riders' notifications until SIGTERM or SIGINT.

    When a day is due is set by the service file's ``[reoptimize]``; results are stored
    only if every promise holds, and discarded if the day changed meanwhile.
    """
    service = load_service(WorldConfig.from_env().service_file)  # a bad file: exit code 2
    if not service.reoptimize.enabled and not service.notifications.enabled:
        click.echo(
            f"{service.path}: reoptimize.enabled is false and notifications.channels is "
            "empty: nothing to do"
        )
        return
    click.echo("Rufbus worker is running (SIGTERM or Ctrl+C stops it)")
    sys.stdout.flush()
    _work(poll)


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


@main.group()
def simulate() -> None:
    """Simulated days."""


@simulate.command("live")
@click.argument("day", metavar="DATE", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--requests", default=300, show_default=True, type=click.IntRange(1, 20_000))
@click.option("--seed", default=1, show_default=True, type=int, help="Of demand and replay.")
@click.option("--noise", default=0.2, show_default=True, type=click.FloatRange(0, 2),
              help="Travel-time noise (lognormal standard deviation per leg).")  # fmt: skip
@click.option("--no-shows", default=0.05, show_default=True, type=click.FloatRange(0, 1),
              help="Share of riders who do not turn up.")  # fmt: skip
@click.option("--breakdown/--no-breakdown", default=True, show_default=True)
@click.option("--travel-time-factor", type=click.FloatRange(1, 2), default=None,
              help="Override [rides] travel_time_factor (margin on driving times).")  # fmt: skip
@click.option("--compare/--no-compare", default=True, show_default=True,
              help="Also replay without re-planning from reality.")  # fmt: skip
@click.option("--out", "out_dir", default="var/replay", show_default=True,
              type=click.Path(file_okay=False, path_type=Path))  # fmt: skip
@user_errors
def simulate_live_command(
    day: datetime,
    requests: int,
    seed: int,
    noise: float,
    no_shows: float,
    breakdown: bool,
    travel_time_factor: float | None,
    compare: bool,
    out_dir: Path,
) -> None:
    """Book a demand day and drive it through the drivers' API, as drivers would.

    The day is drawn from the scenario demand model and booked in OUT (never the operator's
    database); then buses follow their tasks with noisy travel times, riders fail to turn
    up, one bus breaks down. Reported with re-planning from reality and, with --compare,
    without.
    """
    from web.replay import ReplayParams, simulate_live

    params = ReplayParams(noise=noise, no_show_rate=no_shows, breakdown=breakdown, seed=seed)
    results = simulate_live(
        WorldConfig.from_env(),
        day=day.date(),
        requests=requests,
        seed=seed,
        params=params,
        out_dir=out_dir,
        compare=compare,
        progress=True,
        travel_time_factor=travel_time_factor,
    )
    names = list(results)
    click.echo("| | " + " | ".join(names) + " |")
    click.echo("|---|" + "---:|" * len(names))
    rows = [r.rows() for r in results.values()]
    for k, (label, _) in enumerate(rows[0]):
        click.echo(f"| {label} | " + " | ".join(r[k][1] for r in rows) + " |")
