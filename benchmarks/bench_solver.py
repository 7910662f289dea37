"""Run the dial-a-ride solver benchmarks (a set, pr set, Li & Lim) as in docs/benchmarks.md.

Usage::

    .venv/bin/python benchmarks/bench_solver.py /work/shared/bench --time-limit 30 --out var

It calls ``rufbus bench darp`` and ``rufbus bench pdptw`` on the instance folders and
writes ``darp.json`` and ``pdptw.json`` into the output folder.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from planner.cli import bench


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run both benchmark commands; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bench_dir", type=Path, help="folder with darp/ and pdptw/")
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--pdptw-time-limit", type=float, default=None)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("var"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    darp = sorted((args.bench_dir / "darp").glob("a*.txt")) + sorted(
        (args.bench_dir / "darp").glob("pr*.txt")
    )
    pdptw = sorted((args.bench_dir / "pdptw").glob("l*.txt"))
    common = ["--workers", str(args.workers)]
    runs = [
        ["darp", *map(str, darp), "--time-limit", str(args.time_limit), *common,
         "--out", str(args.out / "darp.json")],
        ["pdptw", *map(str, pdptw), "--time-limit",
         str(args.pdptw_time_limit or args.time_limit), *common,
         "--out", str(args.out / "pdptw.json")],
    ]  # fmt: skip
    for run in runs:
        code = bench.main(run, standalone_mode=False)
        if code:
            return int(code)
    return 0


if __name__ == "__main__":
    sys.exit(main())
