"""Large neighbourhood search for the dial-a-ride problem: ruin and recreate.

Each iteration removes a few requests (random, related by place and time, or a whole
route) and re-inserts them by randomised regret-k insertion with exact feasibility checks;
the result is accepted by simulated annealing that cools linearly to zero over the time
budget. This finds the moves OR-Tools' local search misses on tight dial-a-ride instances,
where nearly every single-pair relocation breaks a time window or a ride time. The moves
run compiled (:func:`planner.darp.search.kernels.search`), in short batches between which this
module checks the clock and lowers the temperature.
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np

from planner.darp.objective import Objective
from planner.darp.schedule import StopTable
from planner.darp.search import kernels

log = logging.getLogger(__name__)

Routes = list[list[int]]

BATCH_SECONDS = 0.05  # the clock is read and the temperature lowered this often
# moves per batch under an iteration budget: fixed, so that the temperature of every move,
# and with it the search, does not depend on the machine's speed
BATCH_MOVES = 32


def movable_requests(table: StopTable, routes: Routes, locked: list[list[int]] | None) -> list[int]:
    """Return the served requests none of whose stops is locked.

    A vehicle's own task (a driver's break) is not moved either: it stays where it was
    placed in its route (its time still floats within its window as riders come and go
    around it), so that no ruin step can lose it.
    """
    locked_stops = {s for prefix in locked or [] for s in prefix}
    served = sorted({s >> 1 for r in routes for s in r})
    only = table.only_vehicle
    return [
        r
        for r in served
        if 2 * r not in locked_stops and 2 * r + 1 not in locked_stops and only[r] < 0
    ]


def improve(
    table: StopTable,
    routes: Routes,
    *,
    time_limit: float,
    seed: int = 0,
    objective: Objective = Objective(),
    locked: list[list[int]] | None = None,
    temperature: float = 0.003,
    max_removed: int = 30,
    max_checks: int = 10,
    pending: list[int] | None = None,
    until_placed: bool = False,
    arrays: kernels.Arrays | None = None,
    focus: int = -1,
    iterations: int | None = None,
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
    objective
        What the search minimises.
    locked
        Per vehicle, stops at the start of the route that may not move; nothing is
        inserted before them either.
    temperature
        Start temperature of the simulated annealing as a fraction of the cost without the
        vehicle cost: a solution that much costlier is accepted with probability 1/2 at the
        start. It cools linearly to zero by the time limit.
    max_removed
        Most requests removed by one ruin step.
    max_checks
        How many of the cheapest positions per route an insertion times exactly.
    pending
        Requests not in ``routes`` that should be served: every iteration tries to insert
        them, and serving more requests beats any saving in cost.
    until_placed
        Stop as soon as every pending request is served (a repair at offer time wants room
        for one more rider, not the cheapest plan).
    arrays
        ``kernels.arrays(table, objective)`` if the caller has them already.
    focus
        A pending request around which half the ruin steps remove related requests (-1:
        none). A repair at offer time needs room near one request, not anywhere.
    iterations
        Moves to make: the temperature then cools over the moves, not the seconds, and the
        same seed gives the same routes on any machine and under any load. ``time_limit``
        stays a cap (a warning is logged if it ends the search first). ``None``: search
        until the time limit.

    Returns
    -------
    routes
        The best routes found (never worse than the input).
    """
    deadline = time.perf_counter() + time_limit
    movable = movable_requests(table, routes, locked)
    waiting = list(pending or [])
    if len(movable) < 2 and not waiting:
        return [list(r) for r in routes]
    a = arrays if arrays is not None else kernels.arrays(table, objective)
    num_stops = len(table.location)
    current, cur_len = kernels.pack(routes, num_stops)
    best, best_len = current.copy(), cur_len.copy()
    first = np.array([len(p) for p in locked or [[] for _ in routes]], dtype=np.int64)
    waiting_arr = np.array(waiting + [0] * (num_stops // 2 - len(waiting)), dtype=np.int64)
    n_pending = np.array([len(waiting), len(waiting)], dtype=np.int64)
    cost = kernels.solution_cost(a, current, cur_len)  # compiled: a repair's budget is ms
    costs = np.array([cost, cost])
    # without the vehicle cost: a large one (the hierarchical Li & Lim objective) must not
    # turn the annealing into a random walk over the distance
    running = cost - a.vehicle_cost * int(np.count_nonzero(cur_len))
    start_temperature = temperature * running / math.log(2)
    kernels.seed(seed)
    batch = 1
    done = accepted = 0
    movable_arr = np.array(movable, dtype=np.int64)
    while (now := time.perf_counter()) < deadline:
        if iterations is None:
            cooled = (deadline - now) / time_limit
        elif done < iterations:
            cooled = 1 - done / iterations
            batch = min(BATCH_MOVES, iterations - done)
        else:
            break
        before = n_pending[0]
        accepted += kernels.search(
            a,
            current,
            cur_len,
            best,
            best_len,
            first,
            movable_arr,
            waiting_arr,
            n_pending,
            costs,
            batch,
            start_temperature * cooled,
            max_removed,
            max_checks,
            focus,
        )
        done += batch
        if until_placed and n_pending[1] == 0:
            break
        if n_pending[0] < before:  # newly served requests may be moved from now on
            movable_arr = np.array(
                movable_requests(table, kernels.unpack(current, cur_len), locked)
            )
        if iterations is not None:
            continue
        elapsed = time.perf_counter() - now
        # size batches to about BATCH_SECONDS, without overshooting the deadline
        rate = batch / max(elapsed, 1e-6)
        batch = max(1, min(int(rate * BATCH_SECONDS), int(rate * (deadline - now - elapsed))))
    if iterations is not None and done < iterations and not (until_placed and n_pending[1] == 0):
        log.warning("LNS: the time limit ended the search after %d of %d moves", done, iterations)
    log.info(
        "LNS: %d iterations, %d accepted, best %.2f with %d unplaced",
        done,
        accepted,
        costs[1],
        n_pending[1],
    )
    return kernels.unpack(best, best_len)
