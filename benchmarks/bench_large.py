"""Benchmark: the solver on district days of 500, 1,000 and 2,000 requests (issue 15).

Each day is drawn from the scenario demand model (seeded) with a fleet sized to it, every
request with the window and ride-time promise an offer at the wish would give. Each day is
solved offline (all requests known, optional with a penalty, the service's objective) with
``--seconds`` and with ``--long-seconds``, 2 workers; the gap of the short run is measured
against the long one. The time to the first feasible plan is the construction's (regret
insertion over every request; every later plan of the solver is at least as good). Both
plans pass the independent validator.

Run: ``.venv/bin/python benchmarks/bench_large.py`` (the defaults take about 35 minutes).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from tqdm import tqdm

from planner.booking.engine import BookingEngine
from planner.darp.schedule import StopTable
from planner.darp.search import kernels
from planner.darp.search.construct import regret_insertion
from planner.darp.solve import SolveParams, solve
from planner.darp.validate import validate
from planner.scenarios.demand import DemandParams, read_places, sample_demand
from planner.scenarios.simulate import SimClock
from planner.store.db import open_store
from routing.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_booking import bench_setup, stamp  # noqa: E402
from bench_online import day_instance  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 1000, 2000])
    parser.add_argument("--requests-per-vehicle", type=int, default=25)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--long-seconds", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--day", default="2027-03-10")
    args = parser.parse_args()

    day = date.fromisoformat(args.day)
    kernels.warm_up()
    rows = []
    for size in tqdm(args.sizes, desc="days", unit="day"):
        vehicles = max(1, size // args.requests_per_vehicle)
        world = bench_setup(vehicles, horizon_days=400)
        places = read_places(Settings.from_env().data_file("places"), world.catalog)
        demand = sample_demand(places, day, DemandParams(requests=size), seed=args.seed)
        store = open_store(f"sqlite:///{tempfile.mkdtemp()}/x.sqlite3")
        engine = BookingEngine(world.service, world.catalog, store, clock=SimClock())
        instance = day_instance(engine, demand)
        objective = world.service.objective
        started = time.perf_counter()
        regret_insertion(StopTable.from_instance(instance), objective=objective)
        first_s = time.perf_counter() - started
        plans = {}
        for seconds in (args.seconds, args.long_seconds):
            params = SolveParams(time_limit=seconds, workers=2, objective=objective)
            plan = solve(instance, params=params)
            assert not validate(instance, plan), validate(instance, plan)[:3]
            plans[seconds] = plan
        short, long = plans[args.seconds], plans[args.long_seconds]
        cost_short = objective.plan_cost(instance, short)
        cost_long = objective.plan_cost(instance, long)
        rows.append((size, vehicles, first_s, short, long, cost_short, cost_long))

    print(f"\n{stamp()}")
    print(
        f"demand seed {args.seed}, {args.requests_per_vehicle} requests per vehicle; "
        f"{args.seconds:g} s against {args.long_seconds:g} s, 2 workers\n"
    )
    print(
        f"| requests | vehicles | first feasible (s) | served {args.seconds:g} s | "
        f"served {args.long_seconds:g} s | cost gap {args.seconds:g} s vs "
        f"{args.long_seconds:g} s | vehicle-km {args.seconds:g} s | "
        f"vehicle-km {args.long_seconds:g} s |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size, vehicles, first_s, short, long, cost_short, cost_long in rows:
        gap = "n/a (served differ)"
        if short.num_served == long.num_served:
            gap = f"{(cost_short - cost_long) / cost_long:.2%}"
        print(
            f"| {size} | {vehicles} | {first_s:.1f} | {short.num_served} | {long.num_served} | "
            f"{gap} | {short.distance / 1000:,.0f} | {long.distance / 1000:,.0f} |"
        )


if __name__ == "__main__":
    main()
