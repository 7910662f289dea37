"""Benchmark: online booking against hindsight (issue 15).

A demand day is drawn from the scenario demand model (seeded). Online, riders book it one by
one through the booking engine (``planner.scenarios.simulate.simulate_day``: each rider takes
an offer only if its pickup window is the one wished for, so both sides promise the same
windows), side by side in one process: with insertion only; with the background
re-optimisation after every ``--reoptimize-every-bookings`` bookings for
``--reoptimize-seconds`` (the worker's rule of the service file's ``[reoptimize]``, through
the same policy and pass); with the repair at offer time (``booking.repair_ms``: when no
insertion fits the wish, the day is re-planned around it for up to ``--repair-ms``); and
with both. Offline, the
same requests, with the same windows and ride-time promises, are solved at once with all of
them known (each request optional with a penalty above any route cost: served first, then
the service's objective), for ``--offline-seconds`` with 2 workers.

Reported: requests served and vehicle-km, online against offline, and the ratios the issue
sets targets for (served >= 97 %, vehicle-km <= 105 % of hindsight); and the mean direct
length of the trips each plan serves, with the trip-km served against hindsight's: hindsight
chooses whom to serve, riders booking first come first served do not. Both plans pass the
independent validator.

Run: ``.venv/bin/python benchmarks/bench_online.py --requests 300 --vehicles 12``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np

from planner.booking.engine import BookingEngine
from planner.booking.kpis import plan_kpis
from planner.booking.trip import TripRequest
from planner.darp.model import Instance
from planner.darp.solve import SolveParams, solve
from planner.darp.validate import validate
from planner.scenarios.demand import DemandParams, DemandRequest, read_places, sample_demand
from planner.scenarios.simulate import SimClock, SimulationParams, simulate_day
from planner.service import Service
from planner.stops import StopCatalog
from planner.store.db import open_store
from routing.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_booking import bench_setup, stamp  # noqa: E402


def day_instance(engine: BookingEngine, demand: list[DemandRequest]) -> Instance:
    """The demand day as one instance: each request with the window and ride-time promise
    an offer at the wish would give, on the engine's fleet."""
    requests = [engine._candidate(r.trip, f"r{k}", 0) for k, r in enumerate(demand)]
    vehicles = engine.days.vehicles()
    breaks = engine.days.breaks(vehicles)  # the drivers' breaks, as online booking has them
    return Instance(
        "hindsight",
        engine.catalog.travel_s,
        engine.catalog.distance_m,
        (*requests, *breaks),
        tuple(vehicles),
    )


@dataclass(frozen=True)
class Run:
    """What one way of planning the day gives."""

    served: int
    vehicle_km: float
    #: mean direct length of the trips served: whom a plan chose to serve
    trip_km: float
    wall_s: float


def trip_km(catalog: StopCatalog, trips: list[TripRequest]) -> float:
    """The mean direct road length of ``trips``, in km."""
    row = catalog.row
    metres = [catalog.distance_m[row[t.origin], row[t.destination]] for t in trips]
    return float(np.mean(metres)) / 1000 if metres else 0.0


def hindsight(engine: BookingEngine, demand: list[DemandRequest], seconds: float) -> Run:
    """The day planned with all of it known."""
    instance = day_instance(engine, demand)
    params = SolveParams(time_limit=seconds, workers=2, objective=engine.service.objective)
    started = time.perf_counter()
    plan = solve(instance, params=params)
    elapsed = time.perf_counter() - started
    problems = validate(instance, plan)
    assert not problems, problems[:3]
    served = {int(v.request_id[1:]) for route in plan.routes for v in route.visits
              if v.request_id.startswith("r")}  # fmt: skip
    return Run(
        int(plan_kpis(instance, plan)["served"]),
        plan.distance / 1000,
        trip_km(engine.catalog, [demand[k].trip for k in sorted(served)]),
        elapsed,
    )


def online(
    world_service: Service,
    catalog: StopCatalog,
    demand: list[DemandRequest],
    day: date,
    *,
    repair_ms: int,
    every_bookings: int,
    seconds: float,
) -> Run:
    """The day booked one rider at a time.

    ``repair_ms`` is the service file's ``booking.repair_ms`` (0: insertion only);
    ``every_bookings`` the background re-optimisation's rule (0: off).
    """
    db = Path(tempfile.mkdtemp(prefix="rufbus-online-")) / "online.sqlite3"
    params = SimulationParams(
        rider_tolerance_min=0,
        reoptimize_every_min=0,
        reoptimize_seconds=seconds,
        reoptimize_every_bookings=every_bookings,
    )
    started = time.perf_counter()
    result = simulate_day(
        replace(world_service, repair_s=repair_ms / 1000),
        catalog,
        demand,
        day=day,
        params=params,
        db_url=f"sqlite:///{db}",
        progress=True,
    )
    assert not result.problems, result.problems[:3]
    wall = time.perf_counter() - started
    outcome = list(result.requests["outcome"])
    served = [r.trip for r, o in zip(demand, outcome, strict=True) if o == "served"]
    return Run(
        int(result.kpis["served"]),
        float(result.kpis["vehicle_km"]),
        trip_km(catalog, served),
        wall,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--vehicles", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--day", default="2027-03-10")
    parser.add_argument("--repair-ms", type=int, default=50)
    parser.add_argument("--only", help="run only the online variants whose name holds this")
    parser.add_argument("--reoptimize-every-bookings", type=int, default=25)
    parser.add_argument("--reoptimize-seconds", type=float, default=5.0)
    parser.add_argument("--offline-seconds", type=float, default=60.0)
    args = parser.parse_args()

    world = bench_setup(args.vehicles, horizon_days=400)
    day = date.fromisoformat(args.day)
    places = read_places(Settings.from_env().data_file("places"), world.catalog)
    demand = sample_demand(places, day, DemandParams(requests=args.requests), seed=args.seed)
    engine = BookingEngine(
        world.service,
        world.catalog,
        open_store(f"sqlite:///{tempfile.mkdtemp()}/x.sqlite3"),
        clock=SimClock(),
    )
    every, seconds, repair = (
        args.reoptimize_every_bookings,
        args.reoptimize_seconds,
        args.repair_ms,
    )
    background = f"background re-optimisation after every {every} bookings for {seconds:g} s"
    variants = {
        "insertion only": (0, 0),
        background: (0, every),
        f"repair at offer time ({repair} ms)": (repair, 0),
        f"repair at offer time ({repair} ms) and {background}": (repair, every),
    }
    runs = {
        name: online(
            world.service,
            world.catalog,
            demand,
            day,
            repair_ms=repair_ms,
            every_bookings=every_bookings,
            seconds=seconds,
        )
        for name, (repair_ms, every_bookings) in variants.items()
        if args.only is None or args.only in name
    }
    off = hindsight(engine, demand, args.offline_seconds)

    print(f"\n{stamp()}")
    print(
        f"{args.requests} requests on {args.vehicles} vehicles, demand seed {args.seed}, "
        f"day {day}; hindsight: {args.offline_seconds:g} s, 2 workers\n"
    )
    print(
        "| plan | served | vehicle-km | served / hindsight | km / hindsight "
        "| mean trip served (km) | trip-km served / hindsight | wall s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, run in [*((f"online, {n}", r) for n, r in runs.items()), ("hindsight", off)]:
        carried = run.served * run.trip_km / (off.served * off.trip_km)
        print(
            f"| {name} | {run.served} | {run.vehicle_km:,.1f} | {run.served / off.served:.1%} | "
            f"{run.vehicle_km / off.vehicle_km:.1%} | {run.trip_km:.1f} | {carried:.1%} | "
            f"{run.wall_s:.0f} |"
        )
    everyone = trip_km(world.catalog, [r.trip for r in demand])
    print(f"\nall {len(demand)} requests: mean trip {everyone:.1f} km")


if __name__ == "__main__":
    main()
