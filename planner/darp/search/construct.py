"""Construction heuristic: parallel regret insertion with exact dial-a-ride feasibility.

Every candidate insertion is timed exactly (windows, ride times, route duration) and its
loads are checked, so the routes returned are feasible and make good initial routes for the
OR-Tools search, which on its own often starts from a first solution that leaves requests
out under tight windows and ride times. The loops run compiled (:mod:`planner.darp.search.kernels`).
"""

from __future__ import annotations

import logging

import numpy as np

from planner.darp.objective import Objective
from planner.darp.schedule import StopTable
from planner.darp.search import kernels

log = logging.getLogger(__name__)


def regret_insertion(
    table: StopTable,
    *,
    requests: list[int] | None = None,
    routes: list[list[int]] | None = None,
    regret: int = 3,
    objective: Objective = Objective(),
    max_checks: int = 60,
    seed: int | None = None,
) -> tuple[list[list[int]], list[int]]:
    """Insert requests into routes by regret-k, keeping every route feasible.

    Parameters
    ----------
    table
        The instance's stop table.
    requests
        Request indices to insert (default: all).
    routes
        Starting stop sequences per vehicle (default: empty); they must be feasible.
    regret
        ``k`` of regret-k, 1 to 3; 1 is plain cheapest insertion.
    objective
        What an insertion costs (its vehicle cost is added to insertions into empty routes).
    max_checks
        How many of the cheapest positions per route are timed exactly.
    seed
        If given, costs are ranked with random noise of up to 1 % drawn with this seed.

    Returns
    -------
    routes
        Stop sequences per vehicle.
    unplaced
        Requests that fit nowhere.

    Raises
    ------
    ValueError
        If a starting route is infeasible or ``regret`` is out of range.
    """
    if not 1 <= regret <= 3:
        raise ValueError(f"regret must be 1, 2 or 3, got {regret}")
    num_vehicles = len(table.start)
    num_stops = len(table.location)
    a = kernels.arrays(table, objective)
    stops, lengths = kernels.pack(routes or [[] for _ in range(num_vehicles)], num_stops)
    rd = kernels.route_data(num_vehicles, num_stops)
    for v in range(num_vehicles):
        if not kernels.build(a, v, stops[v], lengths[v], rd):
            raise ValueError(f"starting route of vehicle {v} is infeasible")
    todo = np.array(range(num_stops // 2) if requests is None else requests, dtype=np.int64)
    if seed is not None:
        kernels.seed(seed)
    left = kernels.regret_insert(
        a,
        stops,
        lengths,
        np.zeros(num_vehicles, np.int64),
        rd,
        todo,
        regret,
        0.01 if seed is not None else 0.0,
        max_checks,
    )
    if left:
        log.debug("regret insertion left %d requests unplaced", left)
    return kernels.unpack(stops, lengths), todo[:left].tolist()
