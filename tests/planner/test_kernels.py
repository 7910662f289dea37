"""The compiled timing and insertion loops against the readable Python reference."""

from __future__ import annotations

import random
import subprocess
import sys

import numpy as np
import pytest

from planner.darp.objective import Objective
from planner.darp.read import read_cordeau
from planner.darp.schedule import StopTable, earliest_schedule
from planner.darp.search import kernels
from planner.darp.search.construct import regret_insertion
from planner.darp.search.lns import improve


@pytest.fixture(scope="module")
def a5(bench_dir) -> tuple[StopTable, list[list[int]]]:
    table = StopTable.from_instance(read_cordeau(bench_dir / "darp" / "a5-60.txt"))
    routes, unplaced = regret_insertion(table)
    assert unplaced == []
    return table, routes


def _shuffled(route: list[int], rng: random.Random) -> list[int]:
    """A random order of the route's stops with every pickup before its drop-off."""
    pickups = [s for s in route if not s & 1]
    rng.shuffle(pickups)
    out: list[int] = []
    for p in pickups:
        i = rng.randint(0, len(out))
        out.insert(i, p)
        out.insert(rng.randint(i + 1, len(out)), p + 1)
    return out


def test_schedule_matches_the_reference(a5) -> None:
    table, routes = a5
    a = kernels.arrays(table, Objective())
    rng = random.Random(1)
    feasible = 0
    for trial in range(400):
        v = trial % len(routes)
        route = routes[v] if trial < len(routes) else _shuffled(routes[v], rng)
        if trial % 3 == 0:  # partial routes: drop-offs whose pickup is not in the sequence
            route = route[rng.randint(0, len(route)) :]
        times = np.empty(len(route) + 2)
        ok = kernels.schedule(a, v, np.array(route, dtype=np.int64), len(route), times)
        expected = earliest_schedule(table, v, route)
        assert ok == (expected is not None)
        if ok:
            feasible += 1
            assert times.tolist() == pytest.approx(expected, abs=1e-9)
    assert 20 < feasible < 380  # both outcomes were exercised


def _brute_force(table: StopTable, v: int, route: list[int], r: int) -> float:
    best = np.inf
    p, d = 2 * r, 2 * r + 1
    for i in range(len(route) + 1):
        for j in range(i, len(route) + 1):
            new = route[:i] + [p] + route[i:j] + [d] + route[j:]
            if table.loads_fit(v, new) and earliest_schedule(table, v, new) is not None:
                best = min(best, table.route_distance(v, new) - table.route_distance(v, route))
    return best


def test_best_insertion_finds_the_brute_force_optimum(a5) -> None:
    table, routes = a5
    a = kernels.arrays(table, Objective())
    rd = kernels.route_data(len(routes), len(table.location))
    packed, lengths = kernels.pack(routes, len(table.location))
    for v in range(len(routes)):
        assert kernels.build(a, v, packed[v], lengths[v], rd)
    found = 0
    for r in range(0, len(table.max_ride), 3):
        for v, route in enumerate(routes):
            if 2 * r in route:
                continue
            cost, i, j = kernels.best_insertion(a, v, packed[v], lengths[v], rd, r, 0, 10_000)
            expected = _brute_force(table, v, route, r)
            assert cost == pytest.approx(expected, abs=1e-9)
            if np.isfinite(cost):
                found += 1
                new = route[:i] + [2 * r] + route[i:j] + [2 * r + 1] + route[j:]
                assert earliest_schedule(table, v, new) is not None
    assert found > 10


def test_locked_prefix_gets_nothing_inserted_before_it(a5) -> None:
    table, routes = a5
    locked = [r[:4] for r in routes]
    better = improve(table, routes, time_limit=1.0, locked=locked)
    assert [r[:4] for r in better] == locked
    cost = Objective().routes_cost
    assert cost(table, better) <= cost(table, routes) + 1e-9
    assert sorted(s for r in better for s in r) == list(range(len(table.location)))
    for v, route in enumerate(better):
        assert table.loads_fit(v, route) and earliest_schedule(table, v, route) is not None


_COMPILES_AFTER_WARM_UP = """
import pickle, sys
import numba
from planner.darp.read import read_cordeau
from planner.darp.search import kernels
from planner.darp.solve import SolveParams, solve

def signatures():
    return {
        name: len(kernel.signatures)
        for name, kernel in vars(kernels).items()
        if isinstance(kernel, numba.core.registry.CPUDispatcher)
    }

kernels.warm_up()
before = signatures()
instance = read_cordeau(sys.argv[1])
solve(instance, params=SolveParams(time_limit=1))
# a spawned worker process receives the instance pickled
solve(pickle.loads(pickle.dumps(instance)), params=SolveParams(time_limit=1))
after = signatures()
print(sorted(name for name in after if after[name] != before[name]))
"""


def test_warm_up_compiles_every_kernel_a_solve_uses_also_in_a_worker_process(bench_dir) -> None:
    """A kernel compiled after the warm-up is compiled inside a search's time limit.

    numba compiles one machine-code version per argument types, a read-only array being a
    type of its own. Instances are built with read-only matrices, but a spawned worker
    receives its instance unpickled, with writeable ones; with a cold cache (the first solve
    after an update) every worker then compiled the whole search within its budget, and a
    10 s solve took 15-21 s.
    """
    result = subprocess.run(
        [sys.executable, "-c", _COMPILES_AFTER_WARM_UP, str(bench_dir / "darp" / "a2-16.txt")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "[]"
