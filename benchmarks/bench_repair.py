"""Benchmark: what the repair at offer time costs a rider's wait and what it finds (issue 15).

A demand day (the scenario demand model, seeded) is booked rider by rider through the engine
(``simulate_day``, riders take only the wished window) until it is full. Then further riders
of an independent demand draw ask for offers on that full day, each asked twice side by side
in one process: with insertion only (``booking.repair_ms = 0``, the baseline) and with the
repair (``--repair-ms``). Nothing is confirmed, so both see the same day. Offers are timed as
the web asks for them, with alternatives when the wish is refused.

Reported: offer time p50 / p95 / max with and without the repair, and how many wishes got an
offer at the wished time.

Run: ``.venv/bin/python benchmarks/bench_repair.py --requests 300 --vehicles 12``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
from tqdm import tqdm

from planner.booking.engine import BookingEngine
from planner.errors import BookingError
from planner.scenarios.demand import DemandParams, read_places, sample_demand
from planner.scenarios.simulate import SimClock, SimulationParams, simulate_day
from planner.store.db import open_store
from routing.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_booking import bench_setup, stamp  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--vehicles", type=int, default=12)
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--repair-ms", type=int, default=50)
    parser.add_argument("--day", default="2027-03-10")
    args = parser.parse_args()

    world = bench_setup(args.vehicles, horizon_days=400)
    day = date.fromisoformat(args.day)
    places = read_places(Settings.from_env().data_file("places"), world.catalog)
    demand = sample_demand(places, day, DemandParams(requests=args.requests), seed=7)
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='rufbus-repair-')) / 'day.sqlite3'}"
    service = replace(world.service, repair_s=args.repair_ms / 1000)
    params = SimulationParams(rider_tolerance_min=0, reoptimize_every_min=0)
    filled = simulate_day(
        service, world.catalog, demand, day=day, params=params, db_url=url, progress=True
    )
    clock = SimClock()
    engines = {
        "insertion only": BookingEngine(
            replace(service, repair_s=0.0), world.catalog, open_store(url), clock=clock
        ),
        f"repair {args.repair_ms} ms": BookingEngine(
            service, world.catalog, open_store(url), clock=clock
        ),
    }
    probes = sample_demand(places, day, DemandParams(requests=args.probes), seed=8)
    clock.now = engines["insertion only"].local(day - timedelta(days=1), 12 * 3600)
    times: dict[str, list[float]] = {name: [] for name in engines}
    offered = dict.fromkeys(engines, 0)
    for probe in tqdm(probes, desc="offers on the full day", unit="wish"):
        for name, engine in engines.items():
            started = time.perf_counter()
            try:
                result = engine.offer(probe.trip)
            except BookingError:
                continue
            times[name].append((time.perf_counter() - started) * 1000)
            offered[name] += any(o.shift_s == 0 for o in result.offers)

    print(f"\n{stamp()}")
    print(
        f"{args.requests} requests on {args.vehicles} vehicles (demand seed 7, day {day}): "
        f"{filled.kpis['served']} booked; {args.probes} further wishes (seed 8) asked on the "
        "full day, with alternatives when refused\n"
    )
    print("| offers | p50 ms | p95 ms | max ms | wishes offered at the wished time |")
    print("|---|---:|---:|---:|---:|")
    for name, ms in times.items():
        p50, p95 = np.percentile(ms, [50, 95])
        print(f"| {name} | {p50:.1f} | {p95:.1f} | {max(ms):.1f} | {offered[name]} of {len(ms)} |")


if __name__ == "__main__":
    main()
