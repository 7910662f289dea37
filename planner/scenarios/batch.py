"""Run scenario batches: every run of a sweep, locally in processes or on a Dask cluster.

Each run writes its results under ``OUT/runs/<key>/`` (``key`` hashes everything that decides
the result), so a re-run skips finished runs. A failing run is recorded with its error and
the batch goes on.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import multiprocessing
import time
import traceback
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from planner.export.csvsafe import safe_frame
from planner.export.plan import anonymous_plan, booking_refs, plan_sketch_geojson
from planner.scenarios.demand import DemandParams, PlaceStops, read_places, sample_demand
from planner.scenarios.scenario import RunSpec
from planner.scenarios.simulate import SimulationParams, simulate_day
from planner.service import Service, VehicleSpec, load_service
from planner.stops import StopCatalog
from planner.timefmt import hhmm, parse_hhmm
from planner.world import load_world
from routing.settings import Settings

log = logging.getLogger(__name__)

#: Columns that measure the machine, not the plan; left out when comparing tables.
TIMING_COLUMNS = ("solver_seconds", "wall_seconds")


def apply_overrides(service: Service, spec: RunSpec) -> Service:
    """The service of a run: fleet size and mix, shifts, windows, ride times, lead time."""
    o = spec.section("overrides")
    changes: dict[str, Any] = {}
    if "window_min" in o:
        changes["window_s"] = o["window_min"] * 60
    if "alpha" in o:
        changes["alpha"] = o["alpha"]
    if "beta_min" in o:
        changes["beta_s"] = o["beta_min"] * 60
    if "min_lead_min" in o:
        changes["min_lead_s"] = o["min_lead_min"] * 60
    if "repair_ms" in o:
        changes["repair_s"] = o["repair_ms"] / 1000
    if "repair_moves" in o:
        changes["repair_moves"] = o["repair_moves"]
    for key in ("ride_time_weight", "vehicle_time_weight"):
        if key in o:
            changes[key] = o[key]
    fleet_keys = ("fleet_size", "seats", "wheelchair_places")
    if spec.shift or any(k in o for k in fleet_keys):
        template = service.fleet[0]
        depots = list(dict.fromkeys(v.depot for v in service.fleet))
        buses = list(dict.fromkeys(v.bus_id for v in service.fleet))
        size = o.get("fleet_size", len(buses))
        # every shift of the service's first bus (drivers change at the depot), or the
        # scenario's own shift
        shifts = (
            [(parse_hhmm(spec.shift[0], field="shift"), parse_hhmm(spec.shift[1], field="shift"))]
            if spec.shift
            else [(v.shift_start_s, v.shift_end_s) for v in service.fleet if v.bus_id == buses[0]]
        )
        changes["fleet"] = tuple(
            VehicleSpec(
                bus if len(shifts) == 1 else f"{bus}-S{n}",
                depots[k % len(depots)],
                o.get("seats", template.seats),
                o.get("wheelchair_places", template.wheelchair_places),
                start,
                end,
                bus="" if len(shifts) == 1 else bus,
            )
            for k in range(size)
            for bus in [f"BUS-{k + 1:02d}"]
            for n, (start, end) in enumerate(shifts, 1)
        )
    return dataclasses.replace(service, **changes)


@dataclass(frozen=True)
class Shared:
    """What every run of a batch shares: the bookable stops and the places with their stops."""

    catalog: StopCatalog
    places: PlaceStops


def load_shared(settings: Settings) -> Shared:
    """Load the default service's bookable stops and the places.

    The stops come from the service's world without the timetable, from the on-disk caches.
    """
    catalog = load_world(settings, timetable=False).catalog
    return Shared(catalog, read_places(settings.data_file("places"), catalog))


def run_one(
    spec: RunSpec, *, settings: Settings, out_dir: Path, shared: Shared | None = None
) -> dict[str, Any]:
    """Run one simulation and write its files; never raises (errors become the result).

    Parameters
    ----------
    spec
        The run.
    settings
        Data and cache folders.
    out_dir
        The batch folder.
    shared
        Stops and places, if already loaded (runs of one chunk share them).

    Returns
    -------
    row
        The run's line of the KPI table.
    """
    folder = out_dir / "runs" / spec.key()
    folder.mkdir(parents=True, exist_ok=True)
    row: dict[str, Any] = {"scenario": spec.scenario, "run": spec.key(), "seed": spec.seed}
    row.update(dict(spec.swept))
    started = time.perf_counter()
    try:
        service = apply_overrides(load_service(spec.service_file), spec)
        shared = shared or load_shared(settings)
        catalog, places = shared.catalog, shared.places
        day = date.fromisoformat(spec.day)
        demand = sample_demand(places, day, DemandParams(**spec.section("demand")), seed=spec.seed)
        db = folder / "simulation.sqlite3"
        db.unlink(missing_ok=True)
        result = simulate_day(
            service, catalog, demand, day=day,
            params=SimulationParams(**spec.section("simulation")), db_url=f"sqlite:///{db}",
        )  # fmt: skip
        if result.problems:
            raise RuntimeError(f"validator: {result.problems[0]}")
        row.update(result.kpis)
        row.update(status="ok", error="", wall_seconds=round(time.perf_counter() - started, 1))
        # the plan files leave the simulation: export-only ids instead of booking codes
        refs = booking_refs(result.plan)
        requests = result.requests.rename(columns={"code": "booking_ref"})
        if "booking_ref" in requests:
            requests["booking_ref"] = requests["booking_ref"].map(refs)
        lonlat = {n: catalog.describe(n) for n in catalog.nodes}
        requests = requests.assign(
            origin_lon=[lonlat[n]["lon"] for n in result.requests["origin"]],
            origin_lat=[lonlat[n]["lat"] for n in result.requests["origin"]],
            destination_lon=[lonlat[n]["lon"] for n in result.requests["destination"]],
            destination_lat=[lonlat[n]["lat"] for n in result.requests["destination"]],
        )
        safe_frame(requests).to_csv(folder / "requests.csv", index=False)
        stops = [
            {"vehicle": v.vehicle_id, "time": hhmm(s.service_start_s), "kind": s.kind,
             "stop": s.stop.name, "booking_ref": refs[s.code], "load": s.load}
            for v, s in result.plan.stops()
        ]  # fmt: skip
        safe_frame(pd.DataFrame(stops)).to_csv(folder / "stops.csv", index=False)
        (folder / "plan.geojson").write_text(json.dumps(plan_sketch_geojson(result.plan)))
        (folder / "plan.json").write_text(json.dumps(anonymous_plan(result.plan)))
        db.unlink(missing_ok=True)
        (folder / "result.json").write_text(json.dumps(row, indent=1))
        (folder / "error.json").unlink(missing_ok=True)
    except Exception as exc:  # noqa: BLE001 - a failing run is recorded, the batch goes on
        log.warning("run %s failed: %s", spec.key(), exc)
        row.update(status="error", error=f"{type(exc).__name__}: {exc}",
                   wall_seconds=round(time.perf_counter() - started, 1))  # fmt: skip
        (folder / "error.json").write_text(
            json.dumps({**row, "traceback": traceback.format_exc()}, indent=1)
        )
    return row


def run_chunk(specs: Sequence[RunSpec], *, settings: Settings, out_dir: Path) -> list[dict]:
    """Run several runs in one worker, loading the stops and places once."""
    shared = load_shared(settings)
    return [run_one(spec, settings=settings, out_dir=out_dir, shared=shared) for spec in specs]


def chunks(specs: Sequence[RunSpec], workers: int) -> list[list[RunSpec]]:
    """Split runs into about two chunks per worker (balance against start-up cost)."""
    count = max(1, min(len(specs), 2 * workers))
    return [list(specs[k::count]) for k in range(count) if specs[k::count]]


def finished(spec: RunSpec, out_dir: Path) -> dict[str, Any] | None:
    """The stored row of a run that finished earlier, or None."""
    path = out_dir / "runs" / spec.key() / "result.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _execute(
    pending: Sequence[RunSpec], *, settings: Settings, out_dir: Path, workers: int,
    dask_address: str | None, progress: bool,
) -> Iterable[dict[str, Any]]:  # fmt: skip
    bar = tqdm(total=len(pending), desc="scenario runs", unit="run", disable=not progress)
    if dask_address:
        from dask.distributed import Client
        from dask.distributed import as_completed as dask_completed

        with Client(dask_address) as client:
            workers = max(1, len(client.scheduler_info()["workers"]))
            futures = client.map(run_chunk, chunks(pending, workers), settings=settings,
                                 out_dir=out_dir, pure=False)  # fmt: skip
            for future in dask_completed(futures):
                rows = future.result()
                bar.update(len(rows))
                yield from rows
    elif workers > 1:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = [
                pool.submit(run_chunk, chunk, settings=settings, out_dir=out_dir)
                for chunk in chunks(pending, workers)
            ]
            for future in as_completed(futures):
                rows = future.result()
                bar.update(len(rows))
                yield from rows
    elif pending:
        shared = load_shared(settings)
        for spec in pending:
            yield run_one(spec, settings=settings, out_dir=out_dir, shared=shared)
            bar.update()
    bar.close()


def run_batch(
    runs: Sequence[RunSpec],
    out_dir: Path,
    *,
    settings: Settings,
    workers: int = 1,
    dask_address: str | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Run every run not yet finished and write the KPI table (Parquet and CSV).

    Parameters
    ----------
    runs
        From :func:`planner.scenarios.scenario.load_scenario`.
    out_dir
        The batch folder.
    settings
        Data and cache folders (passed to the workers).
    workers
        Local worker processes (ignored with ``dask_address``).
    dask_address
        Scheduler of an existing Dask cluster, e.g. ``tcp://10.0.0.5:8786``.
    progress
        Show a progress bar.

    Returns
    -------
    kpis
        One row per run, in the order of ``runs``.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = {spec.key(): finished(spec, out_dir) for spec in runs}
    pending = [spec for spec in runs if rows[spec.key()] is None]
    log.info("%d runs, %d finished before, %d to run", len(runs), len(runs) - len(pending),
             len(pending))  # fmt: skip
    for row in _execute(pending, settings=settings, out_dir=out_dir, workers=workers,
                        dask_address=dask_address, progress=progress):  # fmt: skip
        rows[row["run"]] = row
    table = pd.DataFrame([rows[spec.key()] for spec in runs])
    table.to_parquet(out_dir / "kpis.parquet", index=False)
    safe_frame(table).to_csv(out_dir / "kpis.csv", index=False)
    return table
