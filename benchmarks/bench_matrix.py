"""Benchmark: many-to-many travel-time matrices, scipy CSR Dijkstra against a networkx loop.

Run ``make bench`` or ``.venv/bin/python benchmarks/bench_matrix.py``. Both methods run side by
side in one process on the same nodes; the table gives the best of ``--repeat`` runs and the
speed-up. Results go to ``docs/benchmarks.md`` by hand, with date, commit and machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import subprocess
import time
from collections.abc import Callable

import networkx as nx
import numpy as np
from tqdm import tqdm

from routing.graph import Source
from routing.matrix import travel_matrices
from routing.network import Network, load_network
from routing.settings import Settings


def best_of(repeat: int, func: Callable[[], object]) -> float:
    """Fastest wall time of ``repeat`` calls, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def networkx_loop(G: nx.MultiDiGraph, nodes: list[int]) -> np.ndarray:
    """The baseline a networkx user writes: one single-source Dijkstra per origin."""
    out = np.empty((len(nodes), len(nodes)))
    for i, source in enumerate(nodes):
        dist = nx.single_source_dijkstra_path_length(G, source, weight="travel_time")
        out[i] = [dist.get(t, np.inf) for t in nodes]
    return out


def measure(name: str, net: Network, nodes: list[int], repeat: int) -> dict[str, object]:
    csr_time = best_of(repeat, lambda: travel_matrices(net.csr, nodes, with_length=False))
    csr_both = best_of(repeat, lambda: travel_matrices(net.csr, nodes))
    nx_time = best_of(max(1, repeat // 3), lambda: networkx_loop(net.graph, nodes))
    ours, _ = travel_matrices(net.csr, nodes, with_length=False)
    np.testing.assert_allclose(ours[:20], networkx_loop(net.graph, nodes)[:20])
    return {
        "case": name,
        "size": f"{len(nodes)} x {len(nodes)}",
        "csr_s": csr_time,
        "csr_dist_s": csr_both,
        "nx_s": nx_time,
        "speedup": nx_time / csr_time,
        "speedup_dist": nx_time / csr_both,
    }


def machine() -> str:
    """CPU model and core count, for the results table."""
    model = platform.machine()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    settings = Settings.from_env()
    rows = []
    cases = [
        ("GTFS stop network, all pairs", "gtfs", "gtfs", None),
        ("north-bayreuth OSM, 1,000 nodes", "osm-file", "osm_north_bayreuth", 1000),
    ]
    for name, kind, data, count in tqdm(cases, desc="matrix benchmark"):
        net = load_network(
            Source(kind, str(settings.data_file(data))), cache_dir=settings.cache_dir
        )
        nodes = list(net.graph.nodes)
        if count is not None:
            nodes = random.Random(args.seed).sample(nodes, count)
        rows.append(measure(name, net, nodes, args.repeat))

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    print(f"\n{time.strftime('%Y-%m-%d')}, commit {commit}, {machine()}")
    print(
        "| case | size | CSR time only (s) | CSR time + distance (s) | networkx loop (s) "
        "| speed-up (time only) | speed-up (time + distance) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['case']} | {r['size']} | {r['csr_s']:.3f} | {r['csr_dist_s']:.3f} "
            f"| {r['nx_s']:.2f} | {r['speedup']:.0f}x | {r['speedup_dist']:.0f}x |"
        )


if __name__ == "__main__":
    main()
