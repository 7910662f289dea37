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


def route_cost(table: StopTable, routes: Routes, fixed_cost: float = 0.0) -> float:
    """Return the distance of all routes plus the fixed cost of the used vehicles."""
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


def perturb(
    table: StopTable,
    routes: Routes,
    movable: list[int],
    rng: random.Random,
    *,
    fixed_cost: float = 0.0,
    max_removed: int = 15,
    max_checks: int = 10,
    pending: list[int] | None = None,
) -> tuple[Routes, list[int]] | None:
    """Ruin and recreate once: remove a few movable requests and re-insert them.

    ``pending`` requests (not served yet) are offered for insertion too. Returns the new
    routes and the pending requests still unplaced, or ``None`` if the removal broke a
    route (possible when the remaining stops must wait too long) or a removed request fits
    nowhere.
    """
    q = rng.randint(2, max(2, min(max_removed, len(movable) // 4 + 2)))
    move = rng.random()
    if not movable:
        removed = []  # nothing to ruin: only retry the pending requests
    elif move < 0.45:
        removed = rng.sample(movable, min(q, len(movable)))
    elif move < 0.9:
        removed = _related(table, rng.choice(movable), movable, q)
    else:
        used = [v for v, r in enumerate(routes) if r]
        allowed = set(movable)
        removed = sorted({s >> 1 for s in routes[rng.choice(used)] if (s >> 1) in allowed})
        if not removed:
            return None
    gone = {s for r in removed for s in (2 * r, 2 * r + 1)}
    partial = [[s for s in r if s not in gone] for r in routes]
    if any(earliest_schedule(table, v, r) is None for v, r in enumerate(partial)):
        return None
    rng.shuffle(removed)
    waiting = [r for r in pending or [] if r not in removed]
    new, unplaced = regret_insertion(
        table,
        requests=removed + waiting,
        routes=partial,
        regret=rng.choice((1, 2, 3)),
        fixed_cost=fixed_cost,
        seed=rng.randrange(1 << 30),
        max_checks=max_checks,
    )
    if set(unplaced) - set(waiting):
        return None
    return new, unplaced


def movable_requests(routes: Routes, locked: list[list[int]] | None) -> list[int]:
    """Return the served requests none of whose stops is locked."""
    locked_stops = {s for prefix in locked or [] for s in prefix}
    served = sorted({s >> 1 for r in routes for s in r})
    return [r for r in served if 2 * r not in locked_stops and 2 * r + 1 not in locked_stops]


def improve(
    table: StopTable,
    routes: Routes,
    *,
    time_limit: float,
    seed: int = 0,
    fixed_cost: float = 0.0,
    locked: list[list[int]] | None = None,
    temperature: float = 0.0002,
    max_removed: int = 15,
    pending: list[int] | None = None,
) -> Routes:
    """Improve feasible routes by ruin and recreate until the time limit.

    Parameters
    ----------
    table
        The instance's stop table.
    routes
        Feasible stop sequences per vehicle.
    time_limit
        Seconds to spend.
    seed
        Random seed.
    fixed_cost
        Cost of each used vehicle.
    locked
        Per vehicle, stops at the start of the route that may not move.
    temperature
        Start temperature of the simulated annealing as a fraction of the cost: a solution
        that much worse is accepted with probability 1/2 at the start. It cools linearly to
        zero by the time limit.
    max_removed
        Most requests removed by one ruin step.
    pending
        Requests not in ``routes`` that should be served: every iteration tries to insert
        them, and serving more requests beats any saving in cost.

    Returns
    -------
    routes
        The best routes found (never worse than the input).
    """
    rng = random.Random(seed)
    deadline = time.perf_counter() + time_limit
    current = [list(r) for r in routes]
    best = [list(r) for r in routes]
    waiting = list(pending or [])
    cur_cost = route_cost(table, current, fixed_cost)
    cur_key = best_key = (len(waiting), cur_cost)
    best_waiting = waiting
    movable = movable_requests(current, locked)
    if len(movable) < 2 and not waiting:
        return best
    start_temperature = temperature * cur_cost / math.log(2)
    temperature = start_temperature
    iterations = accepted = 0
    while time.perf_counter() < deadline:
        iterations += 1
        result = perturb(
            table,
            current,
            movable,
            rng,
            fixed_cost=fixed_cost,
            max_removed=max_removed,
            pending=waiting,
        )
        if result is None:
            continue
        new, still = result
        cost = route_cost(table, new, fixed_cost)
        key = (len(still), cost)
        if key[0] < cur_key[0] or (
            key[0] == cur_key[0]
            and (
                cost < cur_cost - 1e-9
                or rng.random() < math.exp(-(cost - cur_cost) / max(temperature, 1e-12))
            )
        ):
            if key[0] < cur_key[0]:
                movable = movable_requests(new, locked)
            current, cur_cost, cur_key, waiting = new, cost, key, still
            accepted += 1
            if key[0] < best_key[0] or (key[0] == best_key[0] and cost < best_key[1] - 1e-9):
                best, best_key, best_waiting = [list(r) for r in new], key, still
        # linear cooling to zero over the time budget
        left = max(0.0, deadline - time.perf_counter())
        temperature = start_temperature * left / time_limit
    log.info(
        "LNS: %d iterations, %d accepted, best %.2f with %d unplaced",
        iterations,
        accepted,
        best_key[1],
        len(best_waiting),
    )
    return best
