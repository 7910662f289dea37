"""Benchmark: offers at district scale, as a day fills up (issue 15).

One day is filled with ``--bookings`` confirmed bookings on ``--vehicles`` minibuses of the
default service: seeded trips of the scenario demand model (``--trips random``: uniformly
random trips between any two bookable stops, which fill a day of 40 buses after about 1,000
bookings), each asked for an offer and the first offer confirmed, through the engine as
riders would. Every offer
(refusals with their alternatives included) and every confirmation is timed; the table
reports the last 100 before each checkpoint. At the full day ``--offers`` further offers are
timed in-process and, with ``--http``, against ``rufbus serve`` on the same database.

The baseline, run side by side in the same process: the bare insertion screen (one
``best_insertion`` over the day's prepared routes, the physical floor of an offer). Its
ratio to the offer shows what the offer spends beyond the screen, independent of how fast
the machine is.

Run: ``.venv/bin/python benchmarks/bench_scale.py --bookings 2000 --vehicles 40``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select
from tqdm import tqdm

from planner.booking import TripRequest
from planner.booking.day import with_changes
from planner.booking.engine import BookingEngine
from planner.darp.insertion import best_insertion
from planner.scenarios.demand import DemandParams, read_places, sample_demand
from planner.store.db import PlanVersion, open_store
from planner.world import make_engine
from routing.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_booking import (  # noqa: E402
    bench_setup,
    fill_day,
    header,
    offers_over_http,
    random_trips,
)


def ms(values: list[float], q: float | None = None) -> str:
    arr = np.array(values) * 1000
    return f"{(np.mean(arr) if q is None else np.percentile(arr, q)):.1f}"


def screen_seconds(engine: BookingEngine, trip: TripRequest, repeat: int = 20) -> float:
    """Seconds of one bare insertion screen for ``trip`` over the day's prepared routes."""
    candidate = engine._candidate(trip, "screen", 0)
    prepared, base = engine._with_candidates(engine._open_day(trip), trip, [candidate])
    start = time.perf_counter()
    for _ in range(repeat):
        best_insertion(prepared, base)
    return (time.perf_counter() - start) / repeat


def history_bytes(engine: BookingEngine, day: str) -> tuple[int, int, int]:
    """The day's plan history: versions, bytes stored, and bytes of a whole plan per version.

    The second figure is what the history held before versions stored only their changes
    (the whole plan each time), replayed from the same rows.
    """
    with engine.store.session() as session:
        rows = session.execute(
            select(PlanVersion.routes).where(PlanVersion.day == day).order_by(PlanVersion.version)
        ).all()
    stored = whole = 0
    plan: dict = {}
    for (changes,) in rows:
        plan = with_changes(plan, changes)
        stored += len(json.dumps(changes))
        whole += len(json.dumps(plan))
    return len(rows), stored, whole


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=2000)
    parser.add_argument("--vehicles", type=int, default=40)
    parser.add_argument("--offers", type=int, default=200)
    parser.add_argument(
        "--checkpoints",
        type=int,
        nargs="*",
        default=[100, 300, 500, 700, 1000, 1500, 2000, 3000, 4000, 5000],
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--http", action="store_true", help="also time offers over HTTP")
    parser.add_argument(
        "--no-worker",
        action="store_true",
        help="serve without the background re-optimisation (on 2 cores it competes with the "
        "offers: a fresh server re-optimises the filled day at once)",
    )
    parser.add_argument(
        "--gravity-km",
        type=float,
        default=DemandParams().gravity_km,
        help="distance scale of the demand model's trips (shorter trips: more per bus)",
    )
    parser.add_argument(
        "--trips",
        choices=["demand", "random"],
        default="demand",
        help="the scenario demand model's trips, or uniformly random trips between any stops",
    )
    args = parser.parse_args()

    world = bench_setup(args.vehicles, horizon_days=30)
    workdir = Path(tempfile.mkdtemp(prefix="rufbus-scale-"))
    url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    engine = make_engine(world, open_store(url))
    day = datetime.now(ZoneInfo(world.service.timezone)).date() + timedelta(days=3)
    if args.trips == "demand":
        places = read_places(Settings.from_env().data_file("places"), world.catalog)
        params = DemandParams(
            requests=20 * args.bookings + args.offers + 200, gravity_km=args.gravity_km
        )
        trips = iter([r.trip for r in sample_demand(places, day, params, seed=args.seed)])
    else:
        trips = random_trips(random.Random(args.seed), list(world.catalog.nodes), day)

    rows = []
    checkpoints = sorted(c for c in args.checkpoints if c <= args.bookings)

    def checkpoint(n: int, offers: list[float], confirms: list[float]) -> None:
        if n in checkpoints:
            screens = [screen_seconds(engine, next(trips)) for _ in range(10)]
            rows.append((n, offers[-100:], confirms[-100:], float(np.median(screens))))
            tqdm.write(f"{n} bookings: offer p95 {ms(offers[-100:], 95)} ms (last 100)")

    # a full day (under 5 % of the last 500 requests booked) is as far as the day goes
    attempts, offers, confirms = fill_day(
        engine, trips, args.bookings, on_booked=checkpoint, full_below=0.05
    )
    booked = len(confirms)

    timed = [next(trips) for _ in range(args.offers)]
    # the same offers with insertion only, side by side: what the repair adds to a wait
    screen_only = BookingEngine(
        replace(engine.service, repair_s=0.0), engine.catalog, engine.store, clock=engine.clock
    )
    in_process, without_repair = [], []
    refused = 0
    for trip in tqdm(timed, desc="offers in-process"):
        start = time.perf_counter()
        result = engine.offer(trip)
        in_process.append(time.perf_counter() - start)
        refused += not result.offers
        start = time.perf_counter()
        screen_only.offer(trip)
        without_repair.append(time.perf_counter() - start)
    # twice: a fresh server process, then the same server again (its days in memory, its
    # repair gate seeded from the day's stored judgement and then its own)
    over_http = (
        offers_over_http(world.service, url, workdir, timed * 2, background=not args.no_worker)
        if args.http
        else []
    )
    problems = engine.validate_day(day)
    versions, stored, whole = history_bytes(engine, day.isoformat())

    header(booked, args.vehicles, attempts)
    print(
        "| bookings on the day | offer mean / p95 (ms, last 100) | confirm mean / p95 (ms) "
        "| bare screen (ms) | offer p95 / screen |"
    )
    print("|---:|---:|---:|---:|---:|")
    for n, last_offers, last_confirms, screen in rows:
        print(
            f"| {n} | {ms(last_offers)} / {ms(last_offers, 95)} | "
            f"{ms(last_confirms)} / {ms(last_confirms, 95)} | {screen * 1000:.2f} | "
            f"{np.percentile(last_offers, 95) / screen:.0f} |"
        )
    print(f"\nat {booked} bookings, {args.offers} offers ({refused} refused, with alternatives):")
    print(
        f"- in-process: p50 {ms(in_process, 50)} ms, p95 {ms(in_process, 95)} ms "
        f"(repair {engine.service.repair_s * 1000:.0f} ms); insertion only: p50 "
        f"{ms(without_repair, 50)} ms, p95 {ms(without_repair, 95)} ms"
    )
    if over_http:
        first, second = over_http[: len(timed)], over_http[len(timed) :]
        print(
            f"- over HTTP ({'no ' if args.no_worker else ''}background re-optimisation), a "
            f"fresh server process: p50 {ms(first, 50)} ms, p95 {ms(first, 95)} "
            f"ms; the same offers again: p50 {ms(second, 50)} ms, p95 {ms(second, 95)} ms"
        )
    print(
        f"\nplan history: {versions} versions, {stored / 1e6:.1f} MB stored; a whole plan per "
        f"version would be {whole / 1e6:.1f} MB ({whole / stored:.0f} x)"
    )
    print(f"\nvalidator on the stored plan: {'no violations' if not problems else problems[:3]}")


if __name__ == "__main__":
    main()
