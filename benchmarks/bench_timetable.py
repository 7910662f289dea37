"""Benchmark: offer latency with the timetable check on, at ``--bookings`` bookings.

A weekday (Wednesday 2 December 2026, KVG school-term timetable) is filled with confirmed
bookings (seeded random trips as in ``bench_booking.py``; trips a scheduled line serves are
refused by the rule and do not count). Then ``--offers`` further offers are timed in-process
with the timetable on (warm: the day's timetable is cached) and off, and the first offer of a
fresh engine (reading the feed and building the day) is timed.

Run: ``.venv/bin/python benchmarks/bench_timetable.py`` (about 1 minute).
"""

from __future__ import annotations

import collections
import dataclasses
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from tqdm import tqdm

from planner.booking import BookingEngine
from planner.store.db import open_store
from planner.world import World, load_timetable, make_engine

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_booking import bench_setup, day_arguments, percentiles, random_trip  # noqa: E402
from bench_matrix import machine  # noqa: E402

DAY = date(2026, 12, 2)


def main() -> None:
    args = day_arguments(__doc__.splitlines()[0]).parse_args()

    world = bench_setup(args.vehicles)
    catalog = world.catalog
    evening_before = datetime(2026, 12, 1, 18, 0, tzinfo=ZoneInfo(world.service.timezone))
    workdir = Path(tempfile.mkdtemp(prefix="rufbus-bench-tt-"))
    store = open_store(f"sqlite:///{workdir / 'bench.sqlite3'}")

    def engine_of(w: World) -> BookingEngine:
        return make_engine(w, store, clock=lambda: evening_before)

    def with_timetable() -> World:
        """The world with a fresh timetable cache (nothing read or built yet)."""
        return dataclasses.replace(world, timetable=load_timetable(world.settings, world.service))

    cold = []
    for _ in range(3):
        engine = engine_of(with_timetable())
        trip = random_trip(random.Random(0), list(catalog.nodes), DAY)
        start = time.perf_counter()
        engine.offer(trip)
        cold.append(time.perf_counter() - start)

    on, off = engine_of(with_timetable()), engine_of(world)
    on.timetable.get(DAY)  # built once, as timed in the first row
    rng = random.Random(args.seed)
    nodes = list(catalog.nodes)
    reasons: collections.Counter[str] = collections.Counter()
    fill = []
    attempts = 0
    with tqdm(total=args.bookings, desc="filling the day") as bar:
        while bar.n < args.bookings and attempts < 20 * args.bookings:
            attempts += 1
            trip = random_trip(rng, nodes, DAY)
            start = time.perf_counter()
            result = on.offer(trip, with_alternatives=False)
            fill.append(time.perf_counter() - start)
            reasons[result.reason or "offered"] += 1
            if result.offers:
                on.confirm(result.offers[0].id, name="Bench", phone="0000 00000")
                bar.update()
    trips = [random_trip(rng, nodes, DAY) for _ in range(args.offers)]
    timed = {}
    for label, engine in (("on", on), ("off", off)):
        latency = []
        for trip in tqdm(trips, desc=f"offers, timetable {label}"):
            start = time.perf_counter()
            engine.offer(trip)
            latency.append(time.perf_counter() - start)
        timed[label] = latency
    scheduled = sum(on.offer(t, with_alternatives=False).reason == "scheduled_line" for t in trips)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    print(f"\n{time.strftime('%Y-%m-%d')}, commit {commit}, {machine()}")
    print(f"{bar.n} bookings on {args.vehicles} vehicles, {DAY} ({attempts} requests: "
          + ", ".join(f"{k} {v}" for k, v in reasons.most_common()) + ")\n")  # fmt: skip
    print("| measure | p50 / p95 (ms) |")
    print("|---|---:|")
    print(f"| first offer of a fresh engine (read feed, build the day) | {percentiles(cold)} |")
    print(f"| offer while filling the day, timetable on | {percentiles(fill)} |")
    print(f"| offer at {bar.n} bookings, timetable on | {percentiles(timed['on'])} |")
    print(f"| offer at {bar.n} bookings, timetable off | {percentiles(timed['off'])} |")
    print(f"\n{scheduled} of {len(trips)} timed requests were answered with a scheduled line")


if __name__ == "__main__":
    main()
