"""Command-line interface of the planner: ``rufbus bench darp`` and ``rufbus bench pdptw``."""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from planner.darp.model import Instance
from planner.darp.objective import Objective
from planner.darp.plan import Plan
from planner.darp.read import BestKnown, gap_pct, read_bks, read_cordeau, read_li_lim
from planner.darp.search import kernels
from planner.darp.solve import SolveParams, solve
from planner.darp.validate import validate
from planner.errors import PlannerError

#: One instance's result as written to the JSON file (values are JSON values).
Record = dict[str, Any]


def _record(instance: Instance, plan: Plan, bks: BestKnown | None, seconds: float) -> Record:
    """Per-instance JSON record; ``nodes`` are the file's node ids (= our locations)."""
    violations = validate(instance, plan)
    best = bks.cost if bks else None
    return {
        "instance": instance.name,
        "cost": round(plan.distance, 4),
        "bks": best,
        "gap_pct": round(gap_pct(plan.distance, best), 3) if best else None,
        "served": plan.num_served,
        "requests": instance.num_requests,
        "vehicles_used": plan.num_vehicles_used,
        "bks_vehicles": bks.vehicles if bks else None,
        "seconds": round(seconds, 2),
        "valid": not violations,
        "violations": [v.message for v in violations[:20]],
        "rejected": [{"request": r.request_id, "reason": r.reason} for r in plan.rejected],
        "routes": [
            {
                "vehicle": route.vehicle_id,
                "nodes": [v.location for v in route.visits],
                "start_times": [round(v.service_start, 4) for v in route.visits],
                "depart": round(route.departure, 4),
                "return": round(route.arrival, 4),
            }
            for route in plan.routes
        ],
    }


def _load(
    files: tuple[Path, ...], reader: Callable[[Path], Instance], bks_path: Path | None
) -> tuple[list[Instance], dict[str, BestKnown]]:
    """Read every file first so bad input fails before any solving (exit code 2)."""
    try:
        instances = [reader(path) for path in files]
        if bks_path is None:
            candidate = files[0].parent / "bks.csv"
            bks = read_bks(candidate) if candidate.exists() else {}
        else:
            bks = read_bks(bks_path)
    except PlannerError as exc:
        raise click.UsageError(str(exc)) from exc
    return instances, bks


def _gap_line(records: list[Record], key: str = "gap_pct") -> str:
    gaps = [float(r[key]) for r in records if r.get(key) is not None]
    if not gaps:
        return "no best-known values"
    return f"mean gap {statistics.fmean(gaps):.2f} %, max gap {max(gaps):.2f} %"


def _write(out: Path | None, payload: object, *, quiet: bool = False) -> None:
    if out is not None:
        out.write_text(json.dumps(payload, indent=1))
        if not quiet:
            click.echo(f"wrote {out}")


_files = click.argument(
    "files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False)
)
_time_limit = click.option(
    "--time-limit", type=click.FloatRange(min=0, min_open=True), default=30.0, show_default=True
)
_workers = click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True)
_seed = click.option("--seed", type=int, default=0, show_default=True)
_bks = click.option(
    "--bks",
    "bks_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Best-known values (default: bks.csv next to the first file).",
)
_out = click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="JSON output.")


def _bench_options(command: Callable[..., None]) -> Callable[..., None]:
    """Apply the options every ``bench`` command shares."""
    for option in (_out, _bks, _seed, _workers, _time_limit, _files):
        command = option(command)
    return command


@click.group()
def bench() -> None:
    """Solve public benchmark instances and compare with best-known costs."""


@bench.command("darp")
@_bench_options
def darp(
    files: tuple[Path, ...],
    time_limit: float,
    workers: int,
    seed: int,
    bks_path: Path | None,
    out: Path | None,
) -> None:
    """Solve Cordeau dial-a-ride files (a and pr formats), validate, compare with the BKS."""
    instances, bks = _load(files, read_cordeau, bks_path)
    kernels.warm_up()  # a compilation on the first run is not a solve's time
    params = SolveParams(time_limit=time_limit, workers=workers, seed=seed)
    records = []
    for instance in tqdm(instances, desc="darp", unit="inst"):
        started = time.perf_counter()
        plan = solve(instance, params=params)
        seconds = time.perf_counter() - started
        records.append(_record(instance, plan, bks.get(instance.name), seconds))
        _write(out, records, quiet=True)  # after each instance: a crash loses nothing
    click.echo(
        f"{'instance':10} {'cost':>10} {'bks':>10} {'gap %':>7} {'served':>8} {'veh':>4} "
        f"{'s':>6} ok"
    )
    for r in records:
        gap = "-" if r["gap_pct"] is None else f"{r['gap_pct']:.2f}"
        best = "-" if r["bks"] is None else f"{r['bks']:.2f}"
        click.echo(
            f"{r['instance']:10} {r['cost']:10.2f} {best:>10} {gap:>7} "
            f"{r['served']:>4}/{r['requests']:<3} {r['vehicles_used']:>4} {r['seconds']:6.1f} "
            f"{'yes' if r['valid'] else 'NO'}"
        )
    not_ok = sum(not r["valid"] or r["served"] != r["requests"] for r in records)
    click.echo(f"{_gap_line(records)}; {not_ok} not OK (invalid or not all served)")
    _write(out, records)


@bench.command("pdptw")
@_bench_options
@click.option("--no-vroom", is_flag=True, help="Skip the VROOM peer.")
def pdptw(
    files: tuple[Path, ...],
    time_limit: float,
    workers: int,
    seed: int,
    bks_path: Path | None,
    out: Path | None,
    no_vroom: bool,
) -> None:
    """Solve Li & Lim files (vehicles first, then distance) next to VROOM."""
    instances, bks = _load(files, read_li_lim, bks_path)
    kernels.warm_up()
    records = []
    for instance in tqdm(instances, desc="pdptw", unit="inst"):
        # fixed cost per vehicle above any possible distance saving: hierarchical objective
        fixed = float(instance.distances.max()) * (2 * instance.num_requests + 2)
        params = SolveParams(
            time_limit=time_limit,
            workers=workers,
            seed=seed,
            objective=Objective(vehicle_cost=fixed),
        )
        started = time.perf_counter()
        plan = solve(instance, params=params)
        seconds = time.perf_counter() - started
        record = _record(instance, plan, bks.get(instance.name), seconds)
        if not no_vroom:
            from planner.darp.vroom_peer import solve_vroom

            started = time.perf_counter()
            peer = solve_vroom(instance, vehicle_fixed_cost=fixed, threads=workers)
            peer_seconds = time.perf_counter() - started
            peer_record = _record(instance, peer, bks.get(instance.name), peer_seconds)
            record["vroom"] = {
                k: peer_record[k]
                for k in ("cost", "gap_pct", "served", "vehicles_used", "seconds", "valid")
            }
        records.append(record)
        _write(out, records, quiet=True)
    click.echo(
        f"{'instance':8} {'bks veh':>7} {'bks dist':>9} | {'veh':>3} {'dist':>9} {'gap %':>6} "
        f"{'s':>5} ok | {'vroom veh':>9} {'dist':>9} {'gap %':>6} {'s':>5} ok"
    )
    for r in records:
        theirs = r.get("vroom") or {}
        click.echo(
            f"{r['instance']:8} {_fmt(r['bks_vehicles'], 'd'):>7} {_fmt(r['bks'], '.2f'):>9} | "
            f"{r['vehicles_used']:>3} {r['cost']:9.2f} {_fmt(r['gap_pct'], '.2f'):>6} "
            f"{r['seconds']:5.1f} {_ok(r)} | {_fmt(theirs.get('vehicles_used'), 'd'):>9} "
            f"{_fmt(theirs.get('cost'), '.2f'):>9} {_fmt(theirs.get('gap_pct'), '.2f'):>6} "
            f"{_fmt(theirs.get('seconds'), '.1f'):>5} {_ok(theirs) if theirs else '-'}"
        )
    click.echo(_summary("rufbus", records))
    if not no_vroom:
        click.echo(
            _summary("vroom", [r["vroom"] | {"bks_vehicles": r["bks_vehicles"]} for r in records])
        )
    _write(out, records)


def _fmt(value: object, spec: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format(value, spec)


def _ok(r: Record) -> str:
    return (
        "yes" if r.get("valid") and r.get("served") == r.get("requests", r.get("served")) else "NO"
    )


def _summary(label: str, records: list[Record]) -> str:
    vehicles = sum(int(r["vehicles_used"]) for r in records)
    best_vehicles = sum(int(r["bks_vehicles"] or 0) for r in records)
    same = [r for r in records if r["vehicles_used"] == r["bks_vehicles"]]
    return (
        f"{label}: {vehicles} vehicles in total (best known {best_vehicles}), "
        f"{len(same)}/{len(records)} instances at the best-known vehicle count; "
        f"{_gap_line(records)} (distance, all instances)"
    )
