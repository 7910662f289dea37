"""Large neighbourhood search for the dial-a-ride problem: ruin and recreate.

Each iteration removes a few requests (random, related by place and time, or a whole
route) and re-inserts them with :func:`planner.construct.regret_insertion` (exact
feasibility checks, randomised regret-k); the result is accepted by simulated annealing.
This finds the moves OR-Tools' local search misses on tight dial-a-ride instances, where
nearly every single-pair relocation breaks a time window or a ride time.
"""

from __future__ import annotations

import logging
import math
import random
import time

from planner.construct import regret_insertion
from planner.schedule import StopTable, earliest_schedule

log = logging.getLogger(__name__)

Routes = list[list[int]]


def _cost(table: StopTable, routes: Routes, fixed_cost: float) -> float:
    return math.fsum(
        table.route_distance(v, r) + (fixed_cost if r else 0.0) for v, r in enumerate(routes)
    )


def _related(table: StopTable, seed_request: int, candidates: list[int], q: int) -> list[int]:
    """Return ``q`` requests close to ``seed_request`` in space and time (Shaw removal)."""
    dist, loc = table.distance, table.location
    p0, d0 = 2 * seed_request, 2 * seed_request + 1

    def mid(s: int) -> float:
        e, latest = table.earliest[s], table.latest[s]
        return e if not math.isfinite(latest) else 0.5 * (e + latest)

    def score(r: int) -> float:
        p, d = 2 * r, 2 * r + 1
        return (
            dist[loc[p0]][loc[p]]
            + dist[loc[d0]][loc[d]]
            + 0.2 * (abs(mid(p0) - mid(p)) + abs(mid(d0) - mid(d)))
        )

    return sorted(candidates, key=score)[:q]


def improve(
    table: StopTable,
    routes: Routes,
    *,
    time_limit: float,
    seed: int = 0,
    fixed_cost: float = 0.0,
    locked: list[list[int]] | None = None,
) -> Routes:
    """Improve feasible routes by ruin and recreate until the time limit.

    Parameters
    ----------
    table
        The instance's stop table.
    routes
        Feasible stop sequences per vehicle; unserved requests stay unserved.
    time_limit
        Seconds to spend.
    seed
        Random seed.
    fixed_cost
        Cost of each used vehicle.
    locked
        Per vehicle, stops at the start of the route that may not move.

    Returns
    -------
    routes
        The best routes found (never worse than the input).
    """
    rng = random.Random(seed)
    deadline = time.perf_counter() + time_limit
    locked_stops = {s for prefix in locked or [] for s in prefix}
    current = [list(r) for r in routes]
    best = [list(r) for r in routes]
    cur_cost = best_cost = _cost(table, current, fixed_cost)
    movable = sorted({s >> 1 for r in current for s in r if s not in locked_stops})
    movable = [r for r in movable if 2 * r not in locked_stops and 2 * r + 1 not in locked_stops]
    if len(movable) < 2:
        return best
    temperature = 0.005 * cur_cost / max(1, len(movable))
    start_temperature = temperature
    iterations = accepted = 0
    while time.perf_counter() < deadline:
        iterations += 1
        q = rng.randint(2, max(2, min(15, len(movable) // 4 + 2)))
        move = rng.random()
        if move < 0.45:
            removed = rng.sample(movable, min(q, len(movable)))
        elif move < 0.9:
            removed = _related(table, rng.choice(movable), movable, q)
        else:
            used = [v for v, r in enumerate(current) if r]
            v = rng.choice(used)
            removed = sorted({s >> 1 for s in current[v] if (s >> 1) in set(movable)})
            if not removed:
                continue
        gone = {s for r in removed for s in (2 * r, 2 * r + 1)}
        partial = [[s for s in r if s not in gone] for r in current]
        if any(earliest_schedule(table, v, r) is None for v, r in enumerate(partial)):
            continue
        rng.shuffle(removed)
        new, unplaced = regret_insertion(
            table,
            requests=removed,
            routes=partial,
            regret=rng.choice((1, 2, 3)),
            fixed_cost=fixed_cost,
            seed=rng.randrange(1 << 30),
        )
        if unplaced:
            continue
        cost = _cost(table, new, fixed_cost)
        if cost < cur_cost - 1e-9 or rng.random() < math.exp(
            -(cost - cur_cost) / max(temperature, 1e-12)
        ):
            current, cur_cost = new, cost
            accepted += 1
            if cost < best_cost - 1e-9:
                best, best_cost = [list(r) for r in new], cost
        # linear cooling to zero over the time budget
        left = max(0.0, deadline - time.perf_counter())
        temperature = start_temperature * left / time_limit
    log.info("LNS: %d iterations, %d accepted, best %.2f", iterations, accepted, best_cost)
    return best
