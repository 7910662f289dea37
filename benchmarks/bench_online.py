"""Benchmark: online booking against hindsight (issue 15).

A demand day is drawn from the scenario demand model (seeded). Online, riders book it one by
one through the booking engine (``planner.scenarios.simulate.simulate_day``: each rider takes
an offer only if its promise is the one wished for: the pickup window's start, or for
arrive-by the latest arrival; so both sides promise the same), side by side in one process:
with insertion only; with the background re-optimisation after every
``--reoptimize-every-bookings`` bookings for ``--reoptimize-seconds`` (the worker's rule of
the service file's ``[reoptimize]``, through the same policy and pass); with the repair at
offer time (``booking.repair_ms``: when no insertion fits the wish, the day is re-planned
around it for up to ``--repair-ms``); and with both. Offline, the same requests, with the
same windows and ride-time promises, are solved at once with all of
them known (each request optional with a penalty above any route cost: served first, then
the service's objective), for ``--offline-seconds`` with 2 workers.

Reported: requests served and vehicle-km, online against offline, and the ratios the issue
sets targets for (served >= 97 %, vehicle-km <= 105 % of hindsight); and the mean direct
length of the trips each plan serves, with the trip-km served against hindsight's: hindsight
chooses whom to serve, riders booking first come first served do not. Then hindsight once
more from each online plan: the search never leaves out a rider it has placed, so it keeps
online's riders and adds whom it can. What it adds is online's planning loss (room the plan
of the same riders had); the rest up to hindsight is the loss of choice (whom to serve).
Every plan passes the independent validator.

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
from planner.booking.repair_gate import RepairGate
from planner.booking.trip import TripRequest
from planner.darp.codec import build_plan, routes_of_refs
from planner.darp.model import Instance
from planner.darp.plan import Plan
from planner.darp.solve import SolveParams, solve
from planner.darp.validate import validate
from planner.scenarios.demand import DemandParams, DemandRequest, read_places, sample_demand
from planner.scenarios.simulate import (
    SimClock,
    SimulationParams,
    SimulationResult,
    rider_choice,
    simulate_day,
)
from planner.service import Service
from planner.stops import StopCatalog
from planner.store.db import open_store
from routing.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_booking import bench_setup, stamp  # noqa: E402


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


@dataclass(frozen=True)
class Booked:
    """An online day as booked: the simulation's result and its database."""

    result: SimulationResult
    db_url: str


@dataclass(frozen=True)
class DayProblem:
    """A day to plan with hindsight: its instance, the plan to start from (None: from
    scratch) and each request id's index into the demand."""

    instance: Instance
    initial: Plan | None
    ids: dict[str, int]


def day_problem(
    engine: BookingEngine, demand: list[DemandRequest], ask: list[int], codes: dict[str, int]
) -> DayProblem:
    """The day as ``engine`` loads it (its bookings with the promises they were given, e.g.
    an arrive-by window narrowed to the offered one; the drivers' breaks), with the requests
    ``demand[k]`` for ``k`` in ``ask`` added at their wish as ``r{k}``. ``codes`` maps the
    bookings' codes to their index in ``demand``; without bookings the plan starts afresh."""
    extra = [engine._candidate(demand[k].trip, f"r{k}", 0) for k in ask]
    with engine.store.session() as session:
        state = engine.days.load(session, demand[0].trip.day.isoformat(), extra)
    ids = codes | {f"r{k}": k for k in ask}
    return DayProblem(state.instance, state.plan() if codes else None, ids)


def booked_day(
    service: Service, catalog: StopCatalog, demand: list[DemandRequest], booked: Booked
) -> DayProblem:
    """The online day as a warm start: its riders and plan, and the refused at their wish."""
    engine = BookingEngine(service, catalog, open_store(booked.db_url), clock=SimClock())
    outcome = booked.result.requests
    codes = {code: k for k, code in enumerate(outcome["code"]) if isinstance(code, str)}
    refused = [k for k, o in enumerate(outcome["outcome"]) if o != "served"]
    return day_problem(engine, demand, refused, codes)


def hindsight(
    engine: BookingEngine,
    demand: list[DemandRequest],
    seconds: float,
    start: DayProblem | None = None,
) -> tuple[Run, set[int], Plan]:
    """The day planned with all of it known; returns the run, whom it serves (indices into
    ``demand``) and the plan.

    With ``start`` (:func:`booked_day`), the search starts from the online plan. It never
    leaves out a rider it has placed, so online's riders stay served with their promises,
    and hindsight adds whom it can: online's loss splits into planning (room for riders it
    refused, in a plan of the same riders and promises) and the rest."""
    if start is None:  # ``engine`` has no bookings: every request at its wish
        start = day_problem(engine, demand, list(range(len(demand))), {})
    instance, ids = start.instance, start.ids
    params = SolveParams(time_limit=seconds, workers=2, objective=engine.service.objective)
    started = time.perf_counter()
    plan = solve(instance, params=params, initial_plan=start.initial)
    elapsed = time.perf_counter() - started
    problems = validate(instance, plan)
    assert not problems, problems[:3]
    served = {ids[v.request_id] for route in plan.routes for v in route.visits
              if v.request_id in ids}  # fmt: skip
    run = Run(
        int(plan_kpis(instance, plan)["served"]),
        plan.distance / 1000,
        trip_km(engine.catalog, [demand[k].trip for k in sorted(served)]),
        elapsed,
    )
    return run, served, plan


def repair_recall(
    service: Service,
    catalog: StopCatalog,
    demand: list[DemandRequest],
    booked: Booked,
    start: DayProblem,
    plan: Plan,
    repair_s: float,
) -> tuple[int, int, int]:
    """Of the refused riders that hindsight from the online plan added: how many, how many
    fit alone (that plan without the other added riders passes the validator: a plan of
    online's riders with their promises and this one exists), and for how many the repair at
    offer time finds room on the final online plan, asked when the rider asked, with
    ``repair_s`` seconds (every refused wish repaired, as on a day not yet full)."""
    instance, ids = start.instance, start.ids
    refused = {key for key, k in ids.items() if key == f"r{k}"}
    added = sorted({v.request_id for r in plan.routes for v in r.visits} & refused)
    alone = 0
    for x in added:
        keep = [q for q in instance.requests if q.id not in refused or q.id == x]
        sub = replace(instance, requests=tuple(keep))
        ours = {q.id for q in keep}
        refs = {r.vehicle_id: [(v.request_id, v.kind) for v in r.visits if v.request_id in ours]
                for r in plan.routes}  # fmt: skip
        alone += not validate(sub, build_plan(sub, routes_of_refs(sub, refs)))
    clock = SimClock()
    store = open_store(booked.db_url)
    engine = BookingEngine(replace(service, repair_s=repair_s), catalog, store, clock=clock)
    engine.repairs = RepairGate(min_placed=0)  # every wish repaired, as on a day not yet full
    found = 0
    for x in added:
        request = demand[ids[x]]
        clock.now = engine.local(request.trip.day, request.booked_at_s)
        offers = engine.offer(request.trip, with_alternatives=False).offers
        found += rider_choice(offers, 0) is not None
    return len(added), alone, found


def online(
    world_service: Service,
    catalog: StopCatalog,
    demand: list[DemandRequest],
    day: date,
    *,
    repair_ms: int,
    every_bookings: int,
    seconds: float,
) -> tuple[Run, Booked]:
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
    run = Run(
        int(result.kpis["served"]), float(result.kpis["vehicle_km"]), trip_km(catalog, served), wall
    )
    return run, Booked(result, f"sqlite:///{db}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--vehicles", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--day", default="2027-03-10")
    parser.add_argument(
        "--prebooked-share",
        type=float,
        default=DemandParams().prebooked_share,
        help="share of riders booking the evening before (the others: 90 min ahead)",
    )
    parser.add_argument("--repair-ms", type=int, default=50)
    parser.add_argument(
        "--repair-check",
        type=float,
        default=0.0,
        help="seconds of repair per rider hindsight added, asked again on the online plan "
        "(0: no check)",
    )
    parser.add_argument("--only", help="run only the online variants whose name holds this")
    parser.add_argument("--reoptimize-every-bookings", type=int, default=25)
    parser.add_argument("--reoptimize-seconds", type=float, default=5.0)
    parser.add_argument("--offline-seconds", type=float, default=60.0)
    args = parser.parse_args()

    world = bench_setup(args.vehicles, horizon_days=400)
    day = date.fromisoformat(args.day)
    places = read_places(Settings.from_env().data_file("places"), world.catalog)
    demand = sample_demand(
        places,
        day,
        DemandParams(requests=args.requests, prebooked_share=args.prebooked_share),
        seed=args.seed,
    )
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
    booked = {
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
    runs = {name: run for name, (run, _) in booked.items()}
    off, _, _ = hindsight(engine, demand, args.offline_seconds)
    # hindsight from each online plan: online's riders kept, the others added where they fit
    starts = {
        name: booked_day(world.service, world.catalog, demand, online_day)
        for name, (_, online_day) in booked.items()
    }
    kept = {
        name: hindsight(engine, demand, args.offline_seconds, start)
        for name, start in starts.items()
    }

    print(f"\n{stamp()}")
    print(
        f"{args.requests} requests on {args.vehicles} vehicles, demand seed {args.seed}, "
        f"{args.prebooked_share:.0%} booked the evening before, day {day}; "
        f"hindsight: {args.offline_seconds:g} s, 2 workers\n"
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
    print(
        "\nWhere online's loss lies: hindsight started from each online plan keeps its riders "
        "and adds whom it can (planning); the rest up to hindsight is choice, and the "
        "narrower windows online promised arrive-by riders.\n"
    )
    print(
        "| online plan | online served | hindsight from it | of them online's | hindsight "
        "| planning loss | choice loss |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, run in runs.items():
        more, served, _ = kept[name]
        codes = booked[name][1].result.requests["code"]
        ours = {k for k, code in enumerate(codes) if isinstance(code, str)}
        print(
            f"| {name} | {run.served} | {more.served} | {len(served & ours)} | {off.served} | "
            f"{more.served - run.served} | {off.served - more.served} |"
        )

    if args.repair_check > 0:
        print(
            f"\nOf the riders hindsight added to each online plan: how many fit alone (a plan "
            f"of online's riders and that one exists), and for how many the repair at offer "
            f"time finds room on the final online plan, asked again when the rider asked, "
            f"with {args.repair_check:g} s.\n"
        )
        print("| online plan | added by hindsight | fit alone | found by the repair |")
        print("|---|---:|---:|---:|")
        for name, start in starts.items():
            added, alone, found = repair_recall(
                world.service,
                world.catalog,
                demand,
                booked[name][1],
                start,
                kept[name][2],
                args.repair_check,
            )
            print(f"| {name} | {added} | {alone} | {found} |")


if __name__ == "__main__":
    main()
