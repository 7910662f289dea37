"""Insert one request into fixed routes: the fast heuristic behind booking offers.

Each route keeps, per stop, its *forward time slack* (Savelsbergh 1992; Cordeau & Laporte
2003): how much later the bus may arrive there without breaking a later time window, the ride
time of a passenger already on board, the route duration or the shift end. With it, and the
load on board after every stop, each pair of insertion positions is screened in O(1). The few
cheapest survivors are then timed exactly with :func:`planner.darp.schedule.earliest_schedule`,
so an accepted insertion never breaks a promise already made.

Stops follow :mod:`planner.darp.schedule`: ``2 * r`` is the pickup and ``2 * r + 1`` the drop-off of
request ``r`` of the table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from planner.darp.schedule import StopTable, earliest_schedule

#: Exact schedule checks per vehicle before giving up on it.
MAX_EXACT_CHECKS = 25


@dataclass(frozen=True, slots=True)
class Insertion:
    """A feasible insertion: the vehicle's new stop sequence and its exact schedule.

    ``times`` holds the depot departure, each stop's service start and the depot return.
    ``added_cost`` is the extra vehicle travel time plus the weighted ride time of the new
    passenger.
    """

    vehicle: int
    stops: tuple[int, ...]
    times: tuple[float, ...]
    added_cost: float

    def service_start(self, stop: int) -> float:
        """The scheduled service start of ``stop`` in this insertion."""
        return self.times[1 + self.stops.index(stop)]


@dataclass(frozen=True, slots=True)
class RouteState:
    """A route prepared for insertion screening; built once, reused for every candidate.

    Positions are 0 (start depot), ``1..m`` (stops) and ``m + 1`` (end depot).

    Attributes
    ----------
    vehicle, stops, times
        The vehicle, its stop sequence and its earliest schedule.
    loc, svc
        Location and service time of every position.
    arrival
        Arrival time at each position (``arrival[0]`` = departure).
    cum_wait
        ``cum_wait[q]`` = total waiting at positions ``1..q``.
    slack
        ``slack[k]`` = the largest delay of the arrival at ``k`` that keeps every later
        constraint (for ``k >= 1``).
    onboard
        (passengers, wheelchairs) on board after each position.
    first_position
        The first position after which a stop may be inserted.
    duration_slack
        How much longer the route may take from depot to depot (its maximum duration).
    prefix_slack
        ``prefix_slack[i]`` = how much later positions ``1..i`` may all start within their
        windows: the room a new first stop's waiting gives to leave the depot later.
    """

    vehicle: int
    stops: tuple[int, ...]
    times: tuple[float, ...]
    loc: tuple[int, ...]
    svc: tuple[float, ...]
    arrival: tuple[float, ...]
    cum_wait: tuple[float, ...]
    slack: tuple[float, ...]
    onboard: tuple[tuple[int, int], ...]
    first_position: int
    duration_slack: float = math.inf
    prefix_slack: tuple[float, ...] = ()


def route_state(
    table: StopTable,
    vehicle: int,
    stops: Sequence[int],
    times: Sequence[float] | None = None,
    *,
    first_position: int = 0,
) -> RouteState | None:
    """Prepare one route for screening; None if it has no feasible schedule."""
    stops = tuple(stops)
    if times is None:
        times = earliest_schedule(table, vehicle, list(stops))
        if times is None:
            return None
    m = len(stops)
    loc = [table.start[vehicle], *(table.location[s] for s in stops), table.end[vehicle]]
    svc = [0.0, *(table.service[s] for s in stops), 0.0]
    latest = [table.shift_end[vehicle], *(table.latest[s] for s in stops)]
    latest.append(table.shift_end[vehicle])
    travel = table.travel
    arrival = [times[0]]
    arrival += [times[k - 1] + svc[k - 1] + travel[loc[k - 1]][loc[k]] for k in range(1, m + 2)]
    cum_wait = [0.0] * (m + 2)
    for k in range(1, m + 2):
        cum_wait[k] = cum_wait[k - 1] + max(0.0, times[k] - arrival[k])
    # own slack of each position: its window, and (below) the route duration at the end depot
    own = [latest[q] - times[q] for q in range(m + 2)]

    def suffix_minima() -> list[float]:
        suffix = [math.inf] * (m + 3)
        for q in range(m + 1, 0, -1):
            suffix[q] = min(suffix[q + 1], cum_wait[q] + own[q])
        return suffix

    # the bus may leave the depot later by up to suffix[1] without harm, which turns waiting
    # on the road into time not spent on duty: the duration that counts is shorter by that
    depart_later = min(suffix_minima()[1], cum_wait[m + 1])
    duration = times[m + 1] - times[0] - depart_later
    # the duration is screened per candidate (see _candidates), not as slack of the end
    # depot: waiting at a new first stop lets the bus leave the depot later instead
    duration_slack = table.max_duration[vehicle] - duration
    prefix_slack = [math.inf] * (m + 2)
    for q in range(1, m + 1):
        prefix_slack[q] = min(prefix_slack[q - 1], own[q])
    suffix = suffix_minima()
    # ride-time slack binds a delay at k only for passengers picked up before k, dropped at/after
    ride_bound = [math.inf] * (m + 2)
    position = {s: k + 1 for k, s in enumerate(stops)}
    for q, s in enumerate(stops, start=1):
        if s & 1 and (s - 1) in position:
            i = position[s - 1]
            ride = times[q] - (times[i] + svc[i])
            value = cum_wait[q] + table.max_ride[s >> 1] - ride
            for k in range(i + 1, q + 1):
                ride_bound[k] = min(ride_bound[k], value)
    slack = [math.inf] + [min(suffix[k], ride_bound[k]) - cum_wait[k - 1] for k in range(1, m + 2)]
    load_p = load_w = 0
    onboard = [(0, 0)]
    for s in stops:
        load_p += table.passengers[s]
        load_w += table.wheelchairs[s]
        onboard.append((load_p, load_w))
    onboard.append((0, 0))
    return RouteState(
        vehicle,
        stops,
        tuple(times),
        tuple(loc),
        tuple(svc),
        tuple(arrival),
        tuple(cum_wait),
        tuple(slack),
        tuple(onboard),
        first_position,
        duration_slack,
        tuple(prefix_slack),
    )


def route_states(
    table: StopTable,
    routes: Sequence[Sequence[int]],
    *,
    first_positions: Sequence[int] | None = None,
) -> list[RouteState]:
    """Prepare every vehicle's route (vehicles whose route has no schedule are left out)."""
    states = []
    for v, stops in enumerate(routes):
        first = first_positions[v] if first_positions is not None else 0
        state = route_state(table, v, stops, first_position=first)
        if state is not None:
            states.append(state)
    return states


def _candidates(
    table: StopTable, route: RouteState, request: int, *, ride_time_weight: float
) -> list[tuple[float, int, int]]:
    """Screen every (pickup after i, drop-off after j) pair in O(1); return (cost, i, j)."""
    p = 2 * request
    d = p + 1
    vehicle, times, loc, svc = route.vehicle, route.times, route.loc, route.svc
    arrival, cum_wait, slack, onboard = route.arrival, route.cum_wait, route.slack, route.onboard
    m = len(route.stops)
    travel = table.travel
    seats, places = table.seats[vehicle], table.wheelchair_places[vehicle]
    pas, wch = table.passengers[p], table.wheelchairs[p]
    lp, ld = table.location[p], table.location[d]
    sp, sd = table.service[p], table.service[d]
    max_ride = table.max_ride[request]
    direct = travel[lp][ld]
    # tighten the new request's windows with its ride time (Cordeau 2006): a pickup earlier
    # than the drop-off window allows would only make the passenger sit and wait on board
    ep = max(table.earliest[p], table.earliest[d] - max_ride - sp)
    lat_p = min(table.latest[p], table.latest[d] - direct - sp)
    ed = max(table.earliest[d], ep + sp + direct)
    lat_d = min(table.latest[d], lat_p + sp + max_ride)
    out: list[tuple[float, int, int]] = []
    limited = math.isfinite(route.duration_slack)

    def duration_fits(delay: float, k: int, start_shift: float) -> bool:
        """Whether a delay of ``delay`` at position ``k`` keeps the route duration.

        The bus may leave the depot later by ``start_shift``.
        """
        end_delay = max(0.0, delay - (cum_wait[m + 1] - cum_wait[k]))
        return end_delay - start_shift <= route.duration_slack

    for i in range(route.first_position, m + 1):
        dep_i = times[i] + svc[i]
        arr_p = dep_i + travel[loc[i]][lp]
        if dep_i > lat_p:
            break
        bp = max(ep, arr_p)
        if bp > lat_p:
            continue
        dep_p = bp + sp
        detour_p = travel[loc[i]][lp] - travel[loc[i]][loc[i + 1]]
        # waiting at the new pickup lets the stops before it, and the bus, start later
        start_shift = min(bp - arr_p, route.prefix_slack[i]) if limited else 0.0
        # j == i: the drop-off right after the pickup
        bd = max(ed, dep_p + direct)
        if (
            onboard[i][0] + pas <= seats
            and onboard[i][1] + wch <= places
            and bd <= lat_d
            and bd - dep_p <= max_ride
            and bd + sd + travel[ld][loc[i + 1]] - arrival[i + 1] <= slack[i + 1]
            and (
                not limited
                or duration_fits(bd + sd + travel[ld][loc[i + 1]] - arrival[i + 1], i + 1,
                                 start_shift)
            )
        ):  # fmt: skip
            added = detour_p + direct + travel[ld][loc[i + 1]]
            out.append((added + ride_time_weight * (bd - dep_p), i, i))
        # j > i: the pickup delays position i + 1 by delta1
        delta1 = dep_p + travel[lp][loc[i + 1]] - arrival[i + 1]
        if delta1 > slack[i + 1] or onboard[i][0] + pas > seats or onboard[i][1] + wch > places:
            continue
        for j in range(i + 1, m + 1):
            if onboard[j][0] + pas > seats or onboard[j][1] + wch > places:
                break  # the new passenger would still be on board after j
            delay_j = max(0.0, delta1 - (cum_wait[j] - cum_wait[i]))
            dep_j = times[j] + delay_j + svc[j]
            bd = max(ed, dep_j + travel[loc[j]][ld])
            if bd > lat_d or bd - dep_p > max_ride:
                break  # later drop-off positions are later still
            delta2 = bd + sd + travel[ld][loc[j + 1]] - arrival[j + 1]
            if delta2 > slack[j + 1]:
                continue
            if limited and not duration_fits(delta2, j + 1, start_shift):
                continue
            added = (
                travel[lp][loc[i + 1]]
                + detour_p
                + travel[loc[j]][ld]
                + travel[ld][loc[j + 1]]
                - travel[loc[j]][loc[j + 1]]
            )
            out.append((added + ride_time_weight * (bd - dep_p), i, j))
    return out


def best_insertions(
    table: StopTable,
    routes: Sequence[RouteState],
    request: int,
    *,
    ride_time_weight: float = 0.0,
) -> list[Insertion]:
    """Return the cheapest feasible insertion of ``request`` for each vehicle, cheapest first.

    Parameters
    ----------
    table
        Stop table holding the routes' requests and ``request`` itself.
    routes
        The vehicles' routes, prepared by :func:`route_states`.
    request
        Index of the request to insert (not in any route).
    ride_time_weight
        Cost of one unit of the new passenger's ride time relative to vehicle travel time.

    Returns
    -------
    insertions
        At most one per vehicle, each verified by an exact schedule.
    """
    p, d = 2 * request, 2 * request + 1
    found: list[Insertion] = []
    for route in routes:
        candidates = _candidates(table, route, request, ride_time_weight=ride_time_weight)
        candidates.sort()
        stops = list(route.stops)
        for cost, i, j in candidates[:MAX_EXACT_CHECKS]:
            new = stops[:i] + [p] + stops[i:j] + [d] + stops[j:]
            exact = earliest_schedule(table, route.vehicle, new)
            if exact is not None and table.loads_fit(route.vehicle, new):
                found.append(Insertion(route.vehicle, tuple(new), tuple(exact), cost))
                break
    found.sort(key=lambda ins: ins.added_cost)
    return found
