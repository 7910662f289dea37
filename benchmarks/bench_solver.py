"""Run the dial-a-ride solver benchmarks (a set, pr set, Li & Lim) as in docs/benchmarks.md.

Usage::

    .venv/bin/python benchmarks/bench_solver.py /work/shared/bench --time-limit 30 --out var

It calls ``rufbus bench darp`` and ``rufbus bench pdptw`` on the instance folders and
writes ``darp.json`` and ``pdptw.json`` into the output folder. ``--markdown FILE.json``
instead prints the tables of docs/benchmarks.md from a results file.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from planner.darp.bench_cli import bench


def _pct(value: float) -> str:
    text = f"{value:.2f}"
    return "0.00" if text == "-0.00" else text


def markdown(path: Path) -> str:
    """Render a ``rufbus bench`` JSON results file as the markdown tables of the docs."""
    records = json.loads(path.read_text())
    lines = []
    if records and "vroom" in records[0]:
        lines += [
            "| instance | BKS veh | BKS dist | veh | dist | gap % | s | VROOM veh | VROOM dist "
            "| VROOM gap % | VROOM s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in records:
            v = r["vroom"]
            lines.append(
                f"| {r['instance']} | {r['bks_vehicles']} | {r['bks']:.2f} | "
                f"{r['vehicles_used']} | {r['cost']:.2f} | {_pct(r['gap_pct'])} | "
                f"{r['seconds']:.1f} | {v['vehicles_used']} | {v['cost']:.2f} | "
                f"{_pct(v['gap_pct'])} | {v['seconds']:.1f} |"
            )
        return "\n".join(lines)
    lines += [
        "| instance | requests | served | vehicles | cost | BKS | gap % | s | valid |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in records:
        lines.append(
            f"| {r['instance']} | {r['requests']} | {r['served']} | {r['vehicles_used']} | "
            f"{r['cost']:.2f} | {r['bks']:.2f} | {_pct(r['gap_pct'])} | {r['seconds']:.1f} | "
            f"{'yes' if r['valid'] else 'NO'} |"
        )
    for prefix in ("a", "pr"):
        gaps = [r["gap_pct"] for r in records if r["instance"].startswith(prefix)]
        if gaps:
            lines.append(
                f"\n{prefix} set: {len(gaps)} instances, "
                f"mean gap {_pct(statistics.fmean(gaps))} %, "
                f"max {_pct(max(gaps))} %, {sum(g > 3 for g in gaps)} above 3 %"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run both benchmark commands; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bench_dir", type=Path, nargs="?", help="folder with darp/ and pdptw/")
    parser.add_argument("--markdown", type=Path, help="print tables from a results file")
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--pdptw-time-limit", type=float, default=None)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("var"))
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown(args.markdown))
        return 0
    if args.bench_dir is None:
        parser.error("bench_dir is required")
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
