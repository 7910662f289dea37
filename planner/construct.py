"""Construction heuristic: parallel regret insertion with exact dial-a-ride feasibility.

Every candidate insertion is checked by :func:`planner.schedule.earliest_schedule` (windows,
ride times, route duration) and the load check, so the routes it returns are feasible and
make good initial routes for the OR-Tools search, which on its own often starts from a
first solution that leaves requests out under tight windows and ride times.
"""

from __future__ import annotations

import logging
import math
import random
from dataclasses import dataclass

from planner.schedule import EPS, StopTable, earliest_schedule

log = logging.getLogger(__name__)

Insertion = tuple[float, int, int]  # (cost increase, pickup position, drop-off position)


@dataclass(slots=True)
class _Route:
    stops: list[int]
    times: list[float]
    cost: float
    latest: list[float]


def _latest_starts(table: StopTable, vehicle: int, stops: list[int]) -> list[float]:
    """Return, per position (depots included), the latest service start that keeps every
    later time window reachable (ride times ignored: a necessary condition only)."""
    loc, travel, svc = table.location, table.travel, table.service
    locs = [table.start[vehicle], *(loc[s] for s in stops), table.end[vehicle]]
    latest = [table.shift_end[vehicle], *(table.latest[s] for s in stops), table.shift_end[vehicle]]
    for k in range(len(locs) - 2, -1, -1):
        own = svc[stops[k - 1]] if 0 < k <= len(stops) else 0.0
        latest[k] = min(latest[k], latest[k + 1] - own - travel[locs[k]][locs[k + 1]])
    return latest


def _best_insertion(
    table: StopTable,
    vehicle: int,
    route: _Route,
    request: int,
    *,
    fixed_cost: float,
    max_checks: int,
) -> Insertion | None:
    """Return the cheapest feasible insertion of ``request`` into ``route``, or ``None``."""
    dist, loc = table.distance, table.location
    p, d = 2 * request, 2 * request + 1
    lp, ld = loc[p], loc[d]
    stops = route.stops
    m = len(stops)
    locs = [table.start[vehicle], *(loc[s] for s in stops), table.end[vehicle]]
    times = route.times
    latest_p = table.latest[p]
    travel, svc = table.travel, table.service
    # Candidate pickup positions: before stop index i (0..m). The current earliest schedule
    # is a lower bound on the new one, so once the pickup cannot be reached, stop.
    pick_delta = []
    for i in range(m + 1):
        prev = locs[i]
        prev_svc = svc[stops[i - 1]] if i > 0 else 0.0
        if times[i] + prev_svc + travel[prev][lp] > latest_p + EPS:
            break
        pick_delta.append(dist[prev][lp] + dist[lp][locs[i + 1]] - dist[prev][locs[i + 1]])
    if not pick_delta:
        return None
    drop_delta = [
        dist[locs[j]][ld] + dist[ld][locs[j + 1]] - dist[locs[j]][locs[j + 1]] for j in range(m + 1)
    ]
    candidates = []
    for i, dp in enumerate(pick_delta):
        prev, nxt = locs[i], locs[i + 1]
        candidates.append((dist[prev][lp] + dist[lp][ld] + dist[ld][nxt] - dist[prev][nxt], i, i))
        candidates.extend((dp + drop_delta[j], i, j) for j in range(i + 1, m + 1))
    candidates.sort()
    extra = fixed_cost if m == 0 else 0.0
    # Necessary conditions first (cheap): windows along the shifted schedule against the
    # latest start times of the remaining route, and the loads; then the exact check.
    slack = route.latest
    earliest, latest = table.earliest, table.latest
    sp, sd = svc[p], svc[d]
    checks = 0
    for delta, i, j in candidates:
        prev_svc = svc[stops[i - 1]] if i > 0 else 0.0
        tp = max(earliest[p], times[i] + prev_svc + travel[locs[i]][lp])
        if tp > latest[p] + EPS:
            continue
        if i == j:
            td = max(earliest[d], tp + sp + travel[lp][ld])
            if td > latest[d] + EPS:
                continue
            if td + sd + travel[ld][locs[i + 1]] > slack[i + 1] + EPS:
                continue
        else:
            t = tp + sp + travel[lp][locs[i + 1]]
            ok = True
            k = i + 1  # position in locs / times of the old stop stops[k - 1]
            while k <= j:
                t = max(t, times[k])
                if t > slack[k] + EPS:
                    ok = False
                    break
                t += svc[stops[k - 1]] + (travel[locs[k]][locs[k + 1]] if k < j else 0.0)
                k += 1
            if not ok:
                continue
            td = max(earliest[d], t + travel[locs[j]][ld])
            if td > latest[d] + EPS:
                continue
            if td + sd + travel[ld][locs[j + 1]] > slack[j + 1] + EPS:
                continue
        new = stops[:i] + [p] + stops[i:j] + [d] + stops[j:]
        if not table.loads_fit(vehicle, new):
            continue
        checks += 1
        if earliest_schedule(table, vehicle, new) is not None:
            return (delta + extra, i, j)
        if checks >= max_checks:
            break
    return None


def regret_insertion(
    table: StopTable,
    *,
    requests: list[int] | None = None,
    routes: list[list[int]] | None = None,
    regret: int = 3,
    fixed_cost: float = 0.0,
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
        ``k`` of regret-k; 1 is plain cheapest insertion.
    fixed_cost
        Cost of opening an empty vehicle, added to insertions into empty routes.
    max_checks
        How many of the cheapest positions per route are checked for feasibility.
    seed
        If given, cost ties and small noise (1 %) are randomised with this seed.

    Returns
    -------
    routes
        Stop sequences per vehicle.
    unplaced
        Requests that fit nowhere.
    """
    num_vehicles = len(table.start)
    num_requests = len(table.max_ride)
    todo = list(range(num_requests)) if requests is None else list(requests)
    state = []
    for v in range(num_vehicles):
        stops = list(routes[v]) if routes else []
        times = earliest_schedule(table, v, stops)
        if times is None:
            raise ValueError(f"starting route of vehicle {v} is infeasible")
        state.append(
            _Route(stops, times, table.route_distance(v, stops), _latest_starts(table, v, stops))
        )
    rng = random.Random(seed) if seed is not None else None
    # cache[r][v] = best insertion of request r into vehicle v (recomputed when v changes)
    cache: dict[int, list[Insertion | None]] = {}
    stale: set[int] = set(range(num_vehicles))
    # vehicles with empty routes of identical type share one evaluation: only try the first
    unplaced: list[int] = []
    while todo:
        empty_seen: set[tuple[int, int, float, float, float, int, int]] = set()
        skip_empty = set()
        for v in range(num_vehicles):
            if not state[v].stops:
                key = (
                    table.start[v],
                    table.end[v],
                    table.shift_start[v],
                    table.shift_end[v],
                    table.max_duration[v],
                    table.seats[v],
                    table.wheelchair_places[v],
                )
                if key in empty_seen:
                    skip_empty.add(v)
                empty_seen.add(key)
        best_r, best_key, best_ins = -1, None, None
        for r in todo:
            row = cache.get(r)
            if row is None:
                row = [None] * num_vehicles
                cache[r] = row
                refresh = range(num_vehicles)
            else:
                refresh = stale
            for v in refresh:
                if v in skip_empty:
                    row[v] = None
                    continue
                row[v] = _best_insertion(
                    table, v, state[v], r, fixed_cost=fixed_cost, max_checks=max_checks
                )
            options = sorted(
                (ins[0] * (1 + 0.01 * rng.random()) if rng else ins[0], v)
                for v, ins in enumerate(row)
                if ins is not None and v not in skip_empty
            )
            if not options:
                continue
            k = min(regret, len(options))
            reg = sum(options[x][0] - options[0][0] for x in range(1, k))
            if len(options) < regret:
                reg += (regret - len(options)) * 1e6  # few options left: place it now
            key = (-reg, options[0][0])
            if best_key is None or key < best_key:
                best_r, best_key, best_ins = r, key, (options[0][1], row[options[0][1]])
        stale = set()
        if best_ins is None:
            unplaced.extend(todo)
            break
        v, ins = best_ins
        assert ins is not None
        _, i, j = ins
        p, d = 2 * best_r, 2 * best_r + 1
        rt = state[v]
        rt.stops = rt.stops[:i] + [p] + rt.stops[i:j] + [d] + rt.stops[j:]
        times = earliest_schedule(table, v, rt.stops)
        assert times is not None
        rt.times = times
        rt.cost = table.route_distance(v, rt.stops)
        rt.latest = _latest_starts(table, v, rt.stops)
        todo.remove(best_r)
        del cache[best_r]
        stale = {v} | {u for u in range(num_vehicles) if not state[u].stops}
    if unplaced:
        log.info("regret insertion left %d requests unplaced", len(unplaced))
    return [rt.stops for rt in state], unplaced


def total_distance(table: StopTable, routes: list[list[int]]) -> float:
    """Return the distance of all routes."""
    return math.fsum(table.route_distance(v, stops) for v, stops in enumerate(routes))
