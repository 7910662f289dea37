"""Compiled inner loops of the insertion heuristics and the ruin-and-recreate search.

The construction (:mod:`planner.darp.search.construct`) and the large neighbourhood
search (:mod:`planner.darp.search.lns`) spend nearly all their time in two steps: timing a
stop sequence and finding the cheapest feasible insertion of a request into a route.
Written as plain loops and compiled with numba, the whole ruin-and-recreate move runs about
60 times faster than the same logic in Python with numpy screening did on arrays of a few
dozen stops (a8-96: about 4,000 moves per second instead of 69), and that volume is what
closed the gap to the best-known costs (docs/benchmarks.md).

Conventions are those of :mod:`planner.darp.schedule`: stop ``2r`` is the pickup and ``2r + 1``
the drop-off of request ``r``; a route of ``m`` stops has positions ``0`` (start depot),
``1..m`` (stops) and ``m + 1`` (end depot). Routes of a solution are the rows of an integer
array ``routes[v, :lengths[v]]``. :func:`planner.darp.schedule.earliest_schedule` stays the
readable reference; the tests check :func:`schedule` against it.

Compiled code is cached on disk (numba's ``cache=True``), so only the first run on a machine
pays the compilation (16 s here; loading takes 0.7 s); :func:`warm_up` triggers it.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numba
import numpy as np

from planner.darp.objective import Objective
from planner.darp.schedule import EPS, StopTable

INF = np.inf
# How much the recreate step's ranking is randomised: costs are multiplied by factors in
# [1, 1 + RECREATE_NOISE). With 0.01 the recreate rebuilt nearly the same plan from the same
# removal and the search stalled about 1 % above the best-known costs of the largest a
# instances, whatever its time; 1.0 lowered the mean gap of the five largest by a third at
# 10 s (docs/benchmarks.md, "Session 12").
RECREATE_NOISE = 1.0
_jit = numba.njit(cache=True, nogil=True)


class Arrays(NamedTuple):
    """A :class:`planner.darp.schedule.StopTable` as numpy arrays, as the compiled code takes it."""

    loc: np.ndarray  # per stop
    earliest: np.ndarray
    latest: np.ndarray
    service: np.ndarray
    passengers: np.ndarray  # signed: + at the pickup, - at the drop-off
    wheelchairs: np.ndarray
    mid: np.ndarray  # middle of the window (or its start if open), for related removal
    max_ride: np.ndarray  # per request
    travel: np.ndarray  # location x location
    arc: np.ndarray  # location x location: what an arc costs (distance or travel time)
    start: np.ndarray  # per vehicle
    end: np.ndarray
    shift_start: np.ndarray
    shift_end: np.ndarray
    max_duration: np.ndarray
    seats: np.ndarray
    places: np.ndarray
    kind: np.ndarray  # vehicles of one kind are interchangeable while their routes are empty
    arc_weight: float  # the weights of the one objective (planner.darp.objective)
    ride_weight: float
    vehicle_cost: float


def _read_only(values: np.ndarray) -> np.ndarray:
    """A read-only view of ``values``.

    numba compiles one version of a kernel per argument types, and a read-only array is a
    type of its own. The compiled code only reads :class:`Arrays`, so all of them are read-only,
    whatever the caller's data was: otherwise a spawned worker, whose instance arrives
    unpickled with writeable matrices, compiled every kernel again within its time limit.
    """
    view = values.view()
    view.setflags(write=False)
    return view


def _f(values: object) -> np.ndarray:
    return _read_only(np.ascontiguousarray(values, dtype=np.float64))


def _i(values: object) -> np.ndarray:
    return _read_only(np.ascontiguousarray(values, dtype=np.int64))


def _stops(table: StopTable, first: int) -> dict[str, np.ndarray]:
    """The per-stop (and per-request) fields of :class:`Arrays` from stop ``first`` on."""
    earliest, latest = table.earliest[first:], table.latest[first:]
    mid = [
        e if not math.isfinite(lat) else 0.5 * (e + lat)
        for e, lat in zip(earliest, latest, strict=True)
    ]
    return {
        "loc": _i(table.location[first:]),
        "earliest": _f(earliest),
        "latest": _f(latest),
        "service": _f(table.service[first:]),
        "passengers": _i(table.passengers[first:]),
        "wheelchairs": _i(table.wheelchairs[first:]),
        "mid": _f(mid),
        "max_ride": _f(table.max_ride[first // 2 :]),
    }


def arrays(table: StopTable, objective: Objective) -> Arrays:
    """Return the table's data and the objective's weights as compiled code takes them."""
    kinds: dict[tuple[object, ...], int] = {}
    kind = [
        kinds.setdefault(key, len(kinds))
        for key in zip(
            table.start,
            table.end,
            table.shift_start,
            table.shift_end,
            table.max_duration,
            table.seats,
            table.wheelchair_places,
            strict=True,
        )
    ]
    return Arrays(
        **_stops(table, 0),
        travel=_f(table.travel_matrix),
        arc=_f(objective.table_arc_matrix(table)),
        start=_i(table.start),
        end=_i(table.end),
        shift_start=_f(table.shift_start),
        shift_end=_f(table.shift_end),
        max_duration=_f(table.max_duration),
        seats=_i(table.seats),
        places=_i(table.wheelchair_places),
        kind=_i(kind),
        arc_weight=float(objective.arc_weight),
        ride_weight=float(objective.ride_weight),
        vehicle_cost=float(objective.vehicle_cost),
    )


def extend(a: Arrays, table: StopTable) -> Arrays:
    """``a`` with the stops ``table`` has beyond it (requests appended to ``a``'s table).

    Converts only the new stops: a day's thousands of stops are not converted again for
    the few requests an offer tries.
    """
    new = _stops(table, len(a.loc))

    def joined(name: str) -> np.ndarray:
        return _read_only(np.concatenate((getattr(a, name), new[name])))

    return a._replace(
        loc=joined("loc"),
        earliest=joined("earliest"),
        latest=joined("latest"),
        service=joined("service"),
        passengers=joined("passengers"),
        wheelchairs=joined("wheelchairs"),
        mid=joined("mid"),
        max_ride=joined("max_ride"),
    )


def pack(routes: list[list[int]], num_stops: int) -> tuple[np.ndarray, np.ndarray]:
    """Return routes as a ``(vehicles, num_stops)`` stop array and the route lengths."""
    out = np.zeros((len(routes), max(num_stops, 1)), dtype=np.int64)
    lengths = np.zeros(len(routes), dtype=np.int64)
    for v, route in enumerate(routes):
        out[v, : len(route)] = route
        lengths[v] = len(route)
    return out, lengths


def unpack(routes: np.ndarray, lengths: np.ndarray) -> list[list[int]]:
    """Inverse of :func:`pack`."""
    return [routes[v, : lengths[v]].tolist() for v in range(len(lengths))]


# --- timing and route data -------------------------------------------------------------


@_jit
def schedule(a: Arrays, v: int, stops: np.ndarray, m: int, times: np.ndarray) -> bool:
    """Write the earliest feasible start times of ``stops[:m]`` into ``times``.

    The same label-correcting computation as :func:`planner.darp.schedule.earliest_schedule`;
    ``times`` receives ``m + 2`` values (depot departure, stops, depot return). Returns
    whether the sequence is feasible (windows, ride times, route duration).
    """
    latest = np.empty(m + 2)
    arc = np.empty(m + 1)
    back_i = np.empty(m, np.int64)
    back_j = np.empty(m, np.int64)
    back_limit = np.empty(m)
    nb = 0
    times[0] = a.shift_start[v]
    latest[0] = a.shift_end[v]
    prev_loc = a.start[v]
    prev_svc = 0.0
    for k in range(1, m + 1):
        s = stops[k - 1]
        here = a.loc[s]
        arc[k - 1] = a.travel[prev_loc, here] + prev_svc
        times[k] = a.earliest[s]
        latest[k] = a.latest[s]
        if s & 1:
            for i in range(k - 1, 0, -1):
                if stops[i - 1] == s - 1:
                    back_i[nb] = i
                    back_j[nb] = k
                    back_limit[nb] = a.max_ride[s >> 1] + a.service[s - 1]
                    nb += 1
                    break
        prev_loc = here
        prev_svc = a.service[s]
    arc[m] = a.travel[prev_loc, a.end[v]] + prev_svc
    times[m + 1] = a.shift_start[v]
    latest[m + 1] = a.shift_end[v]
    max_duration = a.max_duration[v]
    for _ in range(m + 3):
        if times[0] > latest[0] + EPS:
            return False
        for k in range(m + 1):
            t = times[k] + arc[k]
            if t > times[k + 1]:
                times[k + 1] = t
            if times[k + 1] > latest[k + 1] + EPS:
                return False
        changed = False
        for b in range(nb):
            need = times[back_j[b]] - back_limit[b]
            if need > times[back_i[b]] + EPS:
                times[back_i[b]] = need
                changed = True
        need = times[m + 1] - max_duration
        if need > times[0] + EPS:
            times[0] = need
            changed = True
        if not changed:
            return True
    return False


@_jit
def route_arcs(a: Arrays, v: int, stops: np.ndarray, m: int) -> float:
    """Summed arc cost from the start depot through ``stops[:m]`` to the end depot (0 if empty)."""
    if m == 0:
        return 0.0
    prev = a.start[v]
    total = 0.0
    for k in range(m):
        here = a.loc[stops[k]]
        total += a.arc[prev, here]
        prev = here
    return total + a.arc[prev, a.end[v]]


@_jit
def route_ride(a: Arrays, stops: np.ndarray, m: int, times: np.ndarray) -> float:
    """Summed ride time of the passengers of ``stops[:m]`` timed by :func:`schedule`."""
    total = 0.0
    for k in range(1, m + 1):
        s = stops[k - 1]
        if s & 1:
            for i in range(k - 1, 0, -1):
                if stops[i - 1] == s - 1:
                    total += times[k] - times[i] - a.service[s - 1]
                    break
    return total


class RouteData(NamedTuple):
    """Per vehicle and position, what insertions are screened with (see :func:`build`)."""

    locs: np.ndarray  # location
    times: np.ndarray  # earliest feasible start
    latest: np.ndarray  # latest start keeping later windows reachable (ride times ignored)
    service: np.ndarray
    passengers: np.ndarray  # on board after the position
    wheelchairs: np.ndarray
    drive: np.ndarray  # cumulative service + travel time, no waiting
    slack: np.ndarray  # per gap k -> k+1: least (max ride - no-wait ride) of those on board


@_jit
def route_data(num_vehicles: int, num_stops: int) -> RouteData:
    """Allocate :class:`RouteData` for routes of up to ``num_stops`` stops."""
    shape = (num_vehicles, num_stops + 2)
    return RouteData(
        np.zeros(shape, np.int64),
        np.zeros(shape),
        np.zeros(shape),
        np.zeros(shape),
        np.zeros(shape, np.int64),
        np.zeros(shape, np.int64),
        np.zeros(shape),
        np.zeros(shape),
    )


@_jit
def build(a: Arrays, v: int, stops: np.ndarray, m: int, rd: RouteData) -> bool:
    """Fill row ``v`` of ``rd`` for the route ``stops[:m]``; ``False`` if it is infeasible."""
    if not schedule(a, v, stops, m, rd.times[v]):
        return False
    locs, svc, latest = rd.locs[v], rd.service[v], rd.latest[v]
    locs[0] = a.start[v]
    locs[m + 1] = a.end[v]
    svc[0] = 0.0
    svc[m + 1] = 0.0
    latest[0] = a.shift_end[v]
    latest[m + 1] = a.shift_end[v]
    pas, wch = rd.passengers[v], rd.wheelchairs[v]
    pas[0] = 0
    wch[0] = 0
    for k in range(1, m + 1):
        s = stops[k - 1]
        locs[k] = a.loc[s]
        svc[k] = a.service[s]
        latest[k] = a.latest[s]
        pas[k] = pas[k - 1] + a.passengers[s]
        wch[k] = wch[k - 1] + a.wheelchairs[s]
    pas[m + 1] = 0
    wch[m + 1] = 0
    for k in range(m, -1, -1):
        bound = latest[k + 1] - svc[k] - a.travel[locs[k], locs[k + 1]]
        if bound < latest[k]:
            latest[k] = bound
    drive, slack = rd.drive[v], rd.slack[v]
    drive[0] = 0.0
    for k in range(m + 1):
        drive[k + 1] = drive[k] + svc[k] + a.travel[locs[k], locs[k + 1]]
        slack[k] = INF
    for b in range(1, m + 1):
        s = stops[b - 1]
        if not s & 1:
            continue
        for i in range(b - 1, 0, -1):
            if stops[i - 1] == s - 1:
                room = a.max_ride[s >> 1] - (drive[b] - drive[i] - svc[i])
                for g in range(i, b):
                    if room < slack[g]:
                        slack[g] = room
                break
    return True


# --- insertion -------------------------------------------------------------------------


@_jit
def best_insertion(
    a: Arrays,
    v: int,
    stops: np.ndarray,
    m: int,
    rd: RouteData,
    request: int,
    first: int,
    max_checks: int,
) -> tuple[float, int, int]:
    """Return the cheapest feasible insertion ``(added cost, i, j)`` of ``request``.

    The pickup goes right after position ``i`` and the drop-off right after position ``j``
    (``j >= i``; ``j == i`` puts the drop-off right after the pickup); ``i >= first`` keeps a
    locked prefix in place. Returns ``(inf, -1, -1)`` if no insertion is feasible.

    All position pairs are screened with necessary conditions (loads, windows along the
    pushed-forward schedule, latest starts of the rest of the route, ride-time room of
    those on board, the new passenger's own ride without waiting); the cheapest survivors
    are timed exactly by :func:`schedule`, at most ``max_checks`` of them.

    The added cost is the objective's (:mod:`planner.darp.objective`): the weighted extra arc
    cost plus the weighted ride time of the new passenger on the pushed-forward schedule
    (the ride times of those already on board are not re-priced: a screen, not the total).
    """
    p = 2 * request
    d = p + 1
    lp, ld = a.loc[p], a.loc[d]
    sp, sd = a.service[p], a.service[d]
    qp, qw = a.passengers[p], a.wheelchairs[p]
    seats, places = a.seats[v], a.places[v]
    ride_max = a.max_ride[request] + EPS
    # windows tightened by the ride time (Cordeau 2006), bounds every feasible schedule
    # keeps: a pickup earlier than the drop-off window allows would only make the passenger
    # wait on board, and the screen would then price a ride the schedule never drives
    direct = a.travel[lp, ld]
    e_p = max(a.earliest[p], a.earliest[d] - a.max_ride[request] - sp)
    l_p = min(a.latest[p], a.latest[d] - direct - sp)
    e_d = max(a.earliest[d], e_p + sp + direct)
    l_d = min(a.latest[d], l_p + sp + a.max_ride[request])
    travel, dist = a.travel, a.arc
    w_arc, w_ride = a.arc_weight, a.ride_weight
    locs, times, latest, svc = rd.locs[v], rd.times[v], rd.latest[v], rd.service[v]
    pas, wch, drive, slack = rd.passengers[v], rd.wheelchairs[v], rd.drive[v], rd.slack[v]
    n_max = (m + 1) * (m + 2) // 2
    cand_cost = np.empty(n_max)
    cand_i = np.empty(n_max, np.int64)
    cand_j = np.empty(n_max, np.int64)
    n = 0
    for i in range(first, m + 1):
        if pas[i] + qp > seats or wch[i] + qw > places:
            continue
        here, nxt = locs[i], locs[i + 1]
        tp = max(e_p, times[i] + svc[i] + travel[here, lp])
        if tp > l_p + EPS:
            continue
        t_gap = travel[here, nxt]
        room = slack[i] + EPS
        if travel[here, lp] + sp + travel[lp, nxt] - t_gap > room:
            continue
        d_gap = dist[here, nxt]
        dp = dist[here, lp] + dist[lp, nxt] - d_gap
        # drop-off right after the pickup
        td = max(e_d, tp + sp + travel[lp, ld])
        if (
            td <= l_d + EPS
            and td + sd + travel[ld, nxt] <= latest[i + 1] + EPS
            and travel[here, lp] + sp + travel[lp, ld] + sd + travel[ld, nxt] - t_gap <= room
        ):
            added = dist[here, lp] + dist[lp, ld] + dist[ld, nxt] - d_gap
            cand_cost[n] = w_arc * added + w_ride * (td - tp - sp)
            cand_i[n] = i
            cand_j[n] = i
            n += 1
        # drop-off later: the pickup pushes position i + 1 forward, waiting absorbs it
        push = max(0.0, tp + sp + travel[lp, nxt] - times[i + 1])
        for j in range(i + 1, m + 1):
            if times[j] + push > latest[j] + EPS:
                break
            if pas[j] + qp > seats or wch[j] + qw > places:
                break
            own = travel[lp, nxt] + drive[j] - drive[i + 1]
            if own > ride_max:
                break
            at, after = locs[j], locs[j + 1]
            td = max(e_d, times[j] + push + svc[j] + travel[at, ld])
            if (
                td <= l_d + EPS
                and td + sd + travel[ld, after] <= latest[j + 1] + EPS
                and travel[at, ld] + sd + travel[ld, after] - travel[at, after] <= slack[j] + EPS
                and own + svc[j] + travel[at, ld] <= ride_max
            ):
                added = dp + dist[at, ld] + dist[ld, after] - dist[at, after]
                cand_cost[n] = w_arc * added + w_ride * (td - tp - sp)
                cand_i[n] = i
                cand_j[n] = j
                n += 1
            wait = times[j + 1] - times[j] - svc[j] - travel[at, after]
            push = max(0.0, push - wait)
    if n == 0:
        return INF, -1, -1
    trial = np.empty(m + 2, np.int64)
    trial_times = np.empty(m + 4)
    # cheapest first; usually the first candidate passes, so select instead of sorting
    for _ in range(min(n, max_checks)):
        c = np.argmin(cand_cost[:n])
        i, j = cand_i[c], cand_j[c]
        _insert_into(stops, m, p, i, j, trial)
        if schedule(a, v, trial, m + 2, trial_times):
            return cand_cost[c], i, j
        cand_cost[c] = INF
    return INF, -1, -1


@_jit
def cheapest_insertion(
    a: Arrays,
    routes: np.ndarray,
    lengths: np.ndarray,
    first: np.ndarray,
    rd: RouteData,
    usable: np.ndarray,
    request: int,
    max_checks: int,
) -> tuple[float, int, int, int]:
    """Return the cheapest feasible insertion ``(cost, v, i, j)`` of ``request`` over all vehicles.

    :func:`best_insertion` on every ``usable`` vehicle; an empty vehicle adds the vehicle
    cost and is screened only if it is the first empty one of its kind (the others would
    give the same answer). Ties go to the lower vehicle index. ``(inf, -1, -1, -1)`` if no
    vehicle can take the request.
    """
    best, best_v, best_i, best_j = INF, -1, -1, -1
    for v in range(len(lengths)):
        if not usable[v]:
            continue
        m = lengths[v]
        if m == 0:
            seen = False
            for u in range(v):
                if usable[u] and lengths[u] == 0 and a.kind[u] == a.kind[v]:
                    seen = True
                    break
            if seen:
                continue
        cost, i, j = best_insertion(a, v, routes[v], m, rd, request, first[v], max_checks)
        if m == 0:
            cost += a.vehicle_cost
        if cost < best:
            best, best_v, best_i, best_j = cost, v, i, j
    return best, best_v, best_i, best_j


@_jit
def _insert_into(stops: np.ndarray, m: int, p: int, i: int, j: int, out: np.ndarray) -> None:
    """Write ``stops[:m]`` with pickup ``p`` after position ``i``, drop-off after ``j``."""
    k = 0
    for x in range(i):
        out[k] = stops[x]
        k += 1
    out[k] = p
    k += 1
    for x in range(i, j):
        out[k] = stops[x]
        k += 1
    out[k] = p + 1
    k += 1
    for x in range(j, m):
        out[k] = stops[x]
        k += 1


@_jit
def _evaluate(
    a: Arrays,
    routes: np.ndarray,
    lengths: np.ndarray,
    first: np.ndarray,
    rd: RouteData,
    request: int,
    v: int,
    max_checks: int,
    out_cost: np.ndarray,
    out_i: np.ndarray,
    out_j: np.ndarray,
) -> None:
    """Store the best insertion of ``request`` into vehicle ``v`` in the ``out_*`` rows.

    An empty vehicle is only evaluated if it is the first empty one of its kind: the others
    would give the same answer, and listing them would count one option several times in
    the regret.
    """
    m = lengths[v]
    if m == 0:
        for u in range(v):
            if lengths[u] == 0 and a.kind[u] == a.kind[v]:
                out_cost[v] = INF
                return
    cost, i, j = best_insertion(a, v, routes[v], m, rd, request, first[v], max_checks)
    out_cost[v] = cost + (a.vehicle_cost if m == 0 and cost < INF else 0.0)
    out_i[v] = i
    out_j[v] = j


@_jit
def regret_insert(
    a: Arrays,
    routes: np.ndarray,
    lengths: np.ndarray,
    first: np.ndarray,
    rd: RouteData,
    todo: np.ndarray,
    regret: int,
    noise: float,
    max_checks: int,
) -> int:
    """Insert the ``todo`` requests by regret-k into the routes, in place.

    ``rd`` must hold the data of the current routes; it is kept up to date. Each round
    inserts the request with the largest regret (the summed extra cost of its 2nd to k-th
    best vehicle over its best one; fewer than ``k`` options count as a very large regret,
    so that requests about to lose their last options go first), at its cheapest place.
    With ``noise > 0`` the costs are multiplied by random factors in ``[1, 1 + noise)`` for
    the ranking. The requests that fit nowhere end up in ``todo[:returned count]``.
    """
    num_vehicles = len(lengths)
    n = len(todo)
    cost = np.empty((n, num_vehicles))
    pos_i = np.empty((n, num_vehicles), np.int64)
    pos_j = np.empty((n, num_vehicles), np.int64)
    left = np.ones(n, np.bool_)
    stale = np.ones(num_vehicles, np.bool_)  # vehicles whose options must be re-evaluated
    remaining = n
    best_k = np.empty(3)
    while remaining:
        for t in range(n):
            if left[t]:
                for v in range(num_vehicles):
                    if stale[v]:
                        _evaluate(
                            a,
                            routes,
                            lengths,
                            first,
                            rd,
                            todo[t],
                            v,
                            max_checks,
                            cost[t],
                            pos_i[t],
                            pos_j[t],
                        )
        stale[:] = False
        chosen = -1
        chosen_reg = -INF
        chosen_cost = INF
        chosen_v = -1
        for t in range(n):
            if not left[t]:
                continue
            count = 0
            best_v = -1
            best_k[:] = INF
            for v in range(num_vehicles):
                c = cost[t, v]
                if c == INF:
                    continue
                count += 1
                if noise > 0.0:
                    c *= 1.0 + noise * np.random.random()
                if c < best_k[0]:
                    best_k[2] = best_k[1]
                    best_k[1] = best_k[0]
                    best_k[0] = c
                    best_v = v
                elif c < best_k[1]:
                    best_k[2] = best_k[1]
                    best_k[1] = c
                elif c < best_k[2]:
                    best_k[2] = c
            if count == 0:
                continue
            k = min(regret, count)
            reg = 0.0
            for x in range(1, k):
                reg += best_k[x] - best_k[0]
            if count < regret:
                reg += (regret - count) * 1e6
            if reg > chosen_reg or (reg == chosen_reg and best_k[0] < chosen_cost):
                chosen, chosen_reg, chosen_cost, chosen_v = t, reg, best_k[0], best_v
        if chosen < 0:
            break
        v = chosen_v
        m = lengths[v]
        was_empty = m == 0
        trial = np.empty(m + 2, np.int64)
        _insert_into(routes[v], m, 2 * todo[chosen], pos_i[chosen, v], pos_j[chosen, v], trial)
        routes[v, : m + 2] = trial
        lengths[v] = m + 2
        build(a, v, routes[v], m + 2, rd)
        left[chosen] = False
        remaining -= 1
        stale[v] = True
        if was_empty:  # another empty vehicle of its kind now stands for the kind
            for u in range(num_vehicles):
                stale[u] |= lengths[u] == 0 and a.kind[u] == a.kind[v]
    k = 0
    for t in range(n):
        if left[t]:
            todo[k] = todo[t]
            k += 1
    return k


# --- ruin and recreate -----------------------------------------------------------------


@_jit
def solution_cost(a: Arrays, routes: np.ndarray, lengths: np.ndarray) -> float:
    """The objective's cost of the routes (:meth:`planner.darp.objective.Objective.routes_cost`).

    Routes whose ride time must be priced and that have no schedule cost ``inf``.
    """
    arcs = ride = 0.0
    used = 0
    times = np.empty(routes.shape[1] + 2)
    for v in range(len(lengths)):
        m = lengths[v]
        if m == 0:
            continue
        used += 1
        arcs += route_arcs(a, v, routes[v], m)
        if a.ride_weight > 0.0:
            if not schedule(a, v, routes[v], m, times):
                return INF
            ride += route_ride(a, routes[v], m, times)
    return a.arc_weight * arcs + a.ride_weight * ride + a.vehicle_cost * used


@_jit
def _when_and_saving(
    a: Arrays, routes: np.ndarray, lengths: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per stop its start time, per request the distance saved by removing it."""
    when = a.mid.copy()
    saving = np.zeros(len(a.max_ride))
    pickup_at = np.full(len(a.max_ride), -1, np.int64)
    times = np.empty(routes.shape[1] + 2)
    for v in range(len(lengths)):
        m = lengths[v]
        if m == 0 or not schedule(a, v, routes[v], m, times):
            continue
        stops = routes[v]
        locs = np.empty(m + 2, np.int64)
        locs[0] = a.start[v]
        locs[m + 1] = a.end[v]
        for k in range(m):
            locs[k + 1] = a.loc[stops[k]]
            when[stops[k]] = times[k + 1]
        dist = a.arc
        for k in range(1, m + 1):
            s = stops[k - 1]
            if not s & 1:
                pickup_at[s >> 1] = k
                continue
            i = pickup_at[s >> 1]
            if i == k - 1:  # picked up right before: one detour for both stops
                saving[s >> 1] = (
                    dist[locs[i - 1], locs[i]]
                    + dist[locs[i], locs[k]]
                    + dist[locs[k], locs[k + 1]]
                    - dist[locs[i - 1], locs[k + 1]]
                )
                continue
            for x in (i, k):
                if x > 0:
                    saving[s >> 1] += (
                        dist[locs[x - 1], locs[x]]
                        + dist[locs[x], locs[x + 1]]
                        - dist[locs[x - 1], locs[x + 1]]
                    )
    return when, saving


@_jit
def _choose_removal(
    a: Arrays,
    routes: np.ndarray,
    lengths: np.ndarray,
    movable: np.ndarray,
    max_removed: int,
    focus: int,
) -> np.ndarray:
    """Pick requests to remove.

    Random (30 %); related to a random seed request by place and current start times
    (Shaw, 35 %); the costliest by distance saved, randomised (25 %); or a whole route.
    With a ``focus`` request (>= 0; one to place, in no route), half the moves remove the
    requests related to it: the room it needs is near it in place and time.
    """
    n_mov = len(movable)
    if n_mov == 0:
        return movable
    q = np.random.randint(2, max(2, min(max_removed, n_mov // 4 + 2)) + 1)
    q = min(q, n_mov)
    move = np.random.random()
    focused = focus >= 0 and np.random.random() < 0.5
    if focused:
        move = 0.5  # a related removal, seeded at the focus
    if move < 0.3:
        return np.random.permutation(movable)[:q]
    if move < 0.9:
        when, saving = _when_and_saving(a, routes, lengths)  # not in a route: its window's mid
        score = np.empty(n_mov)
        if move < 0.65:
            seed = focus if focused else movable[np.random.randint(0, n_mov)]
            p0, d0 = 2 * seed, 2 * seed + 1
            for x in range(n_mov):
                p, d = 2 * movable[x], 2 * movable[x] + 1
                score[x] = (
                    a.arc[a.loc[p0], a.loc[p]]
                    + a.arc[a.loc[d0], a.loc[d]]
                    + 0.2 * (abs(when[p0] - when[p]) + abs(when[d0] - when[d]))
                )
        else:
            for x in range(n_mov):
                score[x] = -saving[movable[x]] * (0.5 + np.random.random())
        return movable[np.argsort(score, kind="mergesort")[:q]]
    used = np.nonzero(lengths)[0]
    if len(used) == 0:
        return movable[:0]
    v = used[np.random.randint(0, len(used))]
    is_movable = np.zeros(len(a.max_ride), np.bool_)
    is_movable[movable] = True
    out = np.empty(lengths[v], np.int64)
    k = 0
    for x in range(lengths[v]):
        s = routes[v, x]
        if not s & 1 and is_movable[s >> 1]:
            out[k] = s >> 1
            k += 1
    return out[:k]


@_jit
def ruin_and_recreate(
    a: Arrays,
    routes: np.ndarray,
    lengths: np.ndarray,
    first: np.ndarray,
    movable: np.ndarray,
    pending: np.ndarray,
    max_removed: int,
    max_checks: int,
    focus: int,
    noise: float,
) -> int:
    """One move of the search on copies: returns the number of unplaced pending requests.

    ``routes``/``lengths`` are modified in place; ``pending`` receives the still unplaced
    requests in front. Returns ``-1`` if the move failed (a removal broke a route, or a
    removed request fit nowhere); the arrays are then garbage.
    """
    num_vehicles = len(lengths)
    removed = _choose_removal(a, routes, lengths, movable, max_removed, focus)
    if len(removed) == 0 and len(pending) == 0:
        return -1
    gone = np.zeros(len(a.loc), np.bool_)
    for r in removed:
        gone[2 * r] = True
        gone[2 * r + 1] = True
    rd = route_data(num_vehicles, routes.shape[1])
    for v in range(num_vehicles):
        k = 0
        for x in range(lengths[v]):
            s = routes[v, x]
            if not gone[s]:
                routes[v, k] = s
                k += 1
        lengths[v] = k
        if not build(a, v, routes[v], k, rd):
            return -1
    removed = np.random.permutation(removed)
    todo = np.concatenate((removed, pending))
    regret = np.random.randint(1, 4)
    left = regret_insert(a, routes, lengths, first, rd, todo, regret, noise, max_checks)
    is_removed = np.zeros(len(a.max_ride), np.bool_)
    is_removed[removed] = True
    for t in range(left):
        if is_removed[todo[t]]:
            return -1
    pending[:left] = todo[:left]
    return left


@_jit
def search(
    a: Arrays,
    current: np.ndarray,
    cur_len: np.ndarray,
    best: np.ndarray,
    best_len: np.ndarray,
    first: np.ndarray,
    movable: np.ndarray,
    pending: np.ndarray,
    n_pending: np.ndarray,
    costs: np.ndarray,
    iterations: int,
    temperature: float,
    max_removed: int,
    max_checks: int,
    focus: int = -1,
    noise: float = RECREATE_NOISE,
) -> int:
    """Run ``iterations`` ruin-and-recreate moves with simulated-annealing acceptance.

    State lives in the arrays and survives between calls: ``current``/``cur_len`` and
    ``best``/``best_len`` routes, ``pending[:n_pending[0]]`` the current solution's
    unplaced requests (``n_pending[1]`` the best's count), ``costs = [current, best]``.
    Fewer unplaced requests always win; among equals, a move ``delta`` worse is accepted
    with probability ``exp(-delta / temperature)``. Returns the number of accepted moves.
    """
    accepted = 0
    for _ in range(iterations):
        routes = current.copy()
        lengths = cur_len.copy()
        waiting = pending[: n_pending[0]].copy()
        left = ruin_and_recreate(
            a, routes, lengths, first, movable, waiting, max_removed, max_checks, focus, noise
        )
        if left < 0:
            continue
        cost = solution_cost(a, routes, lengths)
        if left < n_pending[0]:
            take = True
        elif left == n_pending[0]:
            delta = cost - costs[0]
            take = delta < -1e-9 or (
                temperature > 0.0 and np.random.random() < math.exp(-delta / temperature)
            )
        else:
            take = False
        if not take:
            continue
        accepted += 1
        current[:] = routes
        cur_len[:] = lengths
        pending[:left] = waiting[:left]
        n_pending[0] = left
        costs[0] = cost
        if left < n_pending[1] or (left == n_pending[1] and cost < costs[1] - 1e-9):
            best[:] = routes
            best_len[:] = lengths
            n_pending[1] = left
            costs[1] = cost
    return accepted


@_jit
def seed(value: int) -> None:
    """Seed the random numbers of the compiled code (numba keeps its own generator)."""
    np.random.seed(value)


@functools.cache
def warm_up() -> None:
    """Compile (or load from the disk cache) every kernel, once per process.

    Runs them on a two-request toy instance; callers with a time budget call this before
    starting their clock, so that the one-time compilation is not charged to a search.
    """
    from planner.darp.model import Instance, Request, Vehicle

    coords = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [0.0, 1.0], [0.0, 2.0]])
    matrix = np.linalg.norm(coords[:, None] - coords[None], axis=2)
    instance = Instance(
        "warm-up",
        matrix,
        matrix,
        (Request("a", 1, 2, latest_pickup=10.0), Request("b", 3, 4, max_ride_time=5.0)),
        (Vehicle("v", 0, 0, seats=2), Vehicle("w", 0, 0, seats=2)),
    )
    a = arrays(StopTable.from_instance(instance), Objective(ride_weight=0.1))
    seed(0)
    routes, lengths = pack([[], []], 4)
    rd = route_data(2, 4)
    first = np.zeros(2, np.int64)
    for v in range(2):
        build(a, v, routes[v], 0, rd)
    cheapest_insertion(a, routes, lengths, first, rd, np.ones(2, np.bool_), 0, 10)
    regret_insert(a, routes, lengths, first, rd, np.arange(2), 2, 0.0, 10)
    movable = np.arange(2)
    search(
        a,
        routes,
        lengths,
        routes.copy(),
        lengths.copy(),
        first,
        movable,
        np.zeros(2, np.int64),
        np.zeros(2, np.int64),
        np.array([solution_cost(a, routes, lengths)] * 2),
        2,
        0.1,
        15,
        10,
        0,
    )
