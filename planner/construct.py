"""Construction heuristic: parallel regret insertion with exact dial-a-ride feasibility.

Every candidate insertion is checked by :func:`planner.schedule.earliest_schedule` (windows,
ride times, route duration) and the load check, so the routes it returns are feasible and
make good initial routes for the OR-Tools search, which on its own often starts from a
first solution that leaves requests out under tight windows and ride times.
"""

from __future__ import annotations

import functools
import logging
import math
import random
from dataclasses import dataclass

import numpy as np

from planner.schedule import EPS, StopTable, earliest_schedule

log = logging.getLogger(__name__)

Insertion = tuple[float, int, int]  # (cost increase, pickup position, drop-off position)


@dataclass(slots=True)
class _Route:
    """A route and the per-position arrays its insertions are screened with.

    Positions are ``0`` (start depot), ``1..m`` (stops) and ``m + 1`` (end depot).
    """

    stops: list[int]
    locs: np.ndarray  # location per position
    times: np.ndarray  # earliest feasible service start per position
    latest: np.ndarray  # latest start keeping later windows reachable (ride times ignored)
    service: np.ndarray  # service time per position
    passengers: np.ndarray  # on board after each position
    wheelchairs: np.ndarray
    drive: np.ndarray  # cumulative service + travel time up to each position (no waiting)
    ride_slack: np.ndarray  # per gap k -> k+1: least (max ride - no-wait ride) on board

    @classmethod
    def build(cls, table: StopTable, vehicle: int, stops: list[int]) -> _Route | None:
        times = earliest_schedule(table, vehicle, stops)
        if times is None:
            return None
        loc, travel, svc = table.location, table.travel, table.service
        locs = [table.start[vehicle], *(loc[s] for s in stops), table.end[vehicle]]
        service = [0.0, *(svc[s] for s in stops), 0.0]
        latest = [
            table.shift_end[vehicle],
            *(table.latest[s] for s in stops),
            table.shift_end[vehicle],
        ]
        for k in range(len(locs) - 2, -1, -1):
            latest[k] = min(latest[k], latest[k + 1] - service[k] - travel[locs[k]][locs[k + 1]])
        pas = np.cumsum([0, *(table.passengers[s] for s in stops), 0])
        wch = np.cumsum([0, *(table.wheelchairs[s] for s in stops), 0])
        drive = [0.0]
        for k in range(len(locs) - 1):
            drive.append(drive[-1] + service[k] + travel[locs[k]][locs[k + 1]])
        slack = [math.inf] * (len(locs) - 1)
        pickup_at = {}
        for b, s in enumerate(stops, 1):
            if not s & 1:
                pickup_at[s] = b
            elif s - 1 in pickup_at:
                a = pickup_at[s - 1]
                room = table.max_ride[s >> 1] - (drive[b] - drive[a] - service[a])
                for g in range(a, b):
                    slack[g] = min(slack[g], room)
        return cls(
            list(stops),
            np.array(locs),
            np.array(times),
            np.array(latest),
            np.array(service),
            pas,
            wch,
            np.array(drive),
            np.array(slack),
        )


@functools.cache
def _upper(n: int) -> np.ndarray:
    """Strictly upper triangular boolean ``n x n`` mask (cached, read-only)."""
    mask = np.triu(np.ones((n, n), dtype=bool), 1)
    mask.setflags(write=False)
    return mask


def _best_insertion(
    table: StopTable,
    vehicle: int,
    route: _Route,
    request: int,
    *,
    fixed_cost: float,
    max_checks: int,
) -> Insertion | None:
    """Return the cheapest feasible insertion of ``request`` into ``route``, or ``None``.

    All pickup/drop-off position pairs are screened at once (numpy) with necessary
    conditions: the time windows along the pushed-forward schedule (push-forward shrinks by
    the waiting it meets), the latest starts of the rest of the route, and the loads. The
    survivors are checked exactly, cheapest first, by :func:`earliest_schedule`.
    """
    p, d = 2 * request, 2 * request + 1
    lp, ld = table.location[p], table.location[d]
    e_p, l_p, e_d, l_d = table.earliest[p], table.latest[p], table.earliest[d], table.latest[d]
    sp, sd = table.service[p], table.service[d]
    travel, dist = table.travel_matrix, table.distance_matrix
    locs, times, latest, svc = route.locs, route.times, route.latest, route.service
    m = len(route.stops)
    prev, nxt = locs[:-1], locs[1:]
    # pickup right after position i (i = 0..m)
    tp = np.maximum(e_p, times[:-1] + svc[:-1] + travel[prev, lp])
    ok_p = tp <= l_p + EPS
    ok_p &= route.passengers[:-1] + table.passengers[p] <= table.seats[vehicle]
    ok_p &= route.wheelchairs[:-1] + table.wheelchairs[p] <= table.wheelchair_places[vehicle]
    if not ok_p.any():
        return None
    # detours (time) must fit the ride-time room of the passengers on board across the gap
    t_prev_next = travel[prev, nxt]
    detour_p = travel[prev, lp] + sp + travel[lp, nxt] - t_prev_next
    detour_d = travel[prev, ld] + sd + travel[ld, nxt] - t_prev_next
    room = route.ride_slack + EPS
    ok_p &= detour_p <= room
    ride_max = table.max_ride[request] + EPS
    d_prev_next = dist[prev, nxt]
    dp = dist[prev, lp] + dist[lp, nxt] - d_prev_next
    dd = dist[prev, ld] + dist[ld, nxt] - d_prev_next
    # drop-off right after the pickup (i == j)
    td0 = np.maximum(e_d, tp + sp + travel[lp, ld])
    ok0 = ok_p & (td0 <= l_d + EPS) & (td0 + sd + travel[ld, nxt] <= latest[1:] + EPS)
    ok0 &= travel[prev, lp] + sp + travel[lp, ld] + sd + travel[ld, nxt] - t_prev_next <= room
    cost0 = dist[prev, lp] + dist[lp, ld] + dist[ld, nxt] - d_prev_next
    if m:
        # push-forward at position i + 1, then along the route, absorbed by waiting
        push1 = np.maximum(0.0, tp + sp + travel[lp, nxt] - times[1:])
        wait = times[1:] - (times[:-1] + svc[:-1] + travel[prev, nxt])
        cum_wait = np.concatenate(([0.0], np.cumsum(wait)))  # up to position k
        k = np.arange(m + 2)
        rows = np.arange(m + 1)[:, None]
        push = np.maximum(0.0, push1[:, None] - (cum_wait[None, :] - cum_wait[1:][:, None]))
        before = k[None, :] <= rows
        ok_time = np.logical_and.accumulate(
            before | (times[None, :] + push <= latest[None, :] + EPS), axis=1
        )
        q_p, q_w = table.passengers[p], table.wheelchairs[p]
        fits = (route.passengers + q_p <= table.seats[vehicle]) & (
            route.wheelchairs + q_w <= table.wheelchair_places[vehicle]
        )
        ok_load = np.logical_and.accumulate((k[None, :] < rows) | fits[None, :], axis=1)
        # drop-off right after position j (j = i + 1..m)
        td = np.maximum(e_d, times[None, :-1] + push[:, :-1] + svc[None, :-1] + travel[prev, ld])
        ok_d = (td <= l_d + EPS) & (td + sd + travel[ld, nxt][None, :] <= latest[None, 1:] + EPS)
        ok_d &= (detour_d <= room)[None, :]
        # the new passenger's own ride without any waiting
        drive = route.drive
        own = (
            travel[lp, nxt][:, None]
            + (drive[None, :-1] - drive[1:, None])
            + svc[None, :-1]
            + travel[prev, ld][None, :]
        )
        ok_d &= own <= ride_max
        ok = _upper(m + 1) & ok_p[:, None] & ok_time[:, :-1] & ok_load[:, :-1] & ok_d
        ii, jj = np.nonzero(ok)
        costs = dp[ii] + dd[jj]
    else:
        ii = jj = np.zeros(0, dtype=int)
        costs = np.zeros(0)
    i0 = np.nonzero(ok0)[0]
    all_i = np.concatenate((i0, ii))
    all_j = np.concatenate((i0, jj))
    all_c = np.concatenate((cost0[i0], costs))
    if not len(all_c):
        return None
    order = np.argsort(all_c, kind="stable")[:max_checks]
    stops = route.stops
    extra = fixed_cost if m == 0 else 0.0
    for o in order.tolist():
        i, j = int(all_i[o]), int(all_j[o])
        new = stops[:i] + [p] + stops[i:j] + [d] + stops[j:]
        if earliest_schedule(table, vehicle, new) is not None:
            return (float(all_c[o]) + extra, i, j)
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
        route = _Route.build(table, v, list(routes[v]) if routes else [])
        if route is None:
            raise ValueError(f"starting route of vehicle {v} is infeasible")
        state.append(route)
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
        old = state[v].stops
        rt = _Route.build(table, v, old[:i] + [p] + old[i:j] + [d] + old[j:])
        assert rt is not None
        state[v] = rt
        todo.remove(best_r)
        del cache[best_r]
        stale = {v} | {u for u in range(num_vehicles) if not state[u].stops}
    if unplaced:
        log.debug("regret insertion left %d requests unplaced", len(unplaced))
    return [rt.stops for rt in state], unplaced


def total_distance(table: StopTable, routes: list[list[int]]) -> float:
    """Return the distance of all routes."""
    return math.fsum(table.route_distance(v, stops) for v, stops in enumerate(routes))
