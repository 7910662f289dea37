"""Benchmark: wall time of one simulated day, and batch throughput with 1 and 2 workers.

One day: 500 requests on 12 vehicles of the default service (``--requests``, ``--vehicles``;
the scenario defaults otherwise, re-optimising every 3 hours for 3 s). Throughput: the same
32 runs (2 fleets x 16 seeds, 200 requests each; ``--batch-runs``) with 1 worker and with 2
worker processes, side by side.

Run: ``.venv/bin/python benchmarks/bench_scenarios.py`` (about 3 minutes); the district-scale
day of issue 15: ``--requests 2000 --vehicles 40 --no-batch``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

from planner.scenarios.batch import run_batch, run_one
from planner.scenarios.scenario import load_scenario
from planner.service import load_service
from routing.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_matrix import machine  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def with_section(spec, name: str, **changes):
    values = {**spec.section(name), **changes}
    return dataclasses.replace(spec, **{name: tuple(sorted(values.items()))})


def spec_repair(spec) -> int:
    return int(spec.section("overrides")["repair_ms"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="of the one day")
    parser.add_argument("--vehicles", type=int, default=12, help="of the one day")
    parser.add_argument("--no-batch", action="store_true", help="only the one day")
    parser.add_argument(
        "--batch-runs",
        type=int,
        default=32,
        help="runs in the batch (even; 8 until session 14, when a run took 1 s and two "
        "workers' start-up ate the second core's gain)",
    )
    parser.add_argument(
        "--repair-ms", type=int, default=None, help="of the one day (default: the service's)"
    )
    args = parser.parse_args()
    if args.batch_runs < 2 or args.batch_runs % 2:
        parser.error(f"--batch-runs: must be even and at least 2 (2 fleets), got {args.batch_runs}")
    settings = Settings.from_env()
    tiny = load_scenario(REPO / "fixtures" / "scenarios" / "tiny.yaml")[0]
    # tiny.yaml's service and demand model as it was before it ran the repair and the
    # re-optimisation with budgets of moves (every 10 bookings: over 2,000 requests that is
    # 200 re-optimisations, and this benchmark measured them in session 13): both off for
    # the batch; the one day as the scenario defaults have them, led by the clock
    base = with_section(
        with_section(tiny, "overrides", repair_ms=0, repair_moves=0),
        "simulation",
        reoptimize_every_bookings=0,
        reoptimize_every_min=0,
        reoptimize_moves=0,
    )
    service_repair_ms = round(load_service().repair_s * 1000)
    day = with_section(
        with_section(
            with_section(
                base,
                "overrides",
                fleet_size=args.vehicles,
                repair_ms=service_repair_ms if args.repair_ms is None else args.repair_ms,
            ),
            "demand",
            requests=args.requests,
        ),
        "simulation",
        reoptimize_every_min=180,
        reoptimize_seconds=3.0,
    )
    out = Path(tempfile.mkdtemp(prefix="rufbus-bench-"))
    started = time.perf_counter()
    row = run_one(day, settings=settings, out_dir=out / "day")
    one_day = time.perf_counter() - started
    runs = [
        dataclasses.replace(with_section(with_section(base, "overrides", fleet_size=f),
                                         "demand", requests=200), seed=s)
        for f in (6, 10) for s in range(1, args.batch_runs // 2 + 1)
    ]  # fmt: skip
    timings = {}
    for workers in () if args.no_batch else (1, 2):
        started = time.perf_counter()
        table = run_batch(runs, out / f"w{workers}", settings=settings, workers=workers)
        timings[workers] = time.perf_counter() - started
        assert (table["status"] == "ok").all(), table["error"].tolist()
    print(f"\n{time.strftime('%Y-%m-%d')}, {machine()}")
    print(f"one day, {args.requests} requests, {args.vehicles} vehicles, repair "
          f"{spec_repair(day)} ms: {one_day:.1f} s wall "
          f"(solver {row['solver_seconds']} s), served {row['served']}, "
          f"rejection rate {row['rejection_rate']}, status {row['status']}")  # fmt: skip
    for workers, seconds in timings.items():
        print(f"batch of {len(runs)} runs (200 requests each), {workers} worker(s): "
              f"{seconds:.1f} s = {len(runs) / seconds * 60:.1f} runs/min")  # fmt: skip


if __name__ == "__main__":
    main()
