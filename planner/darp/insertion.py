"""Insert one request into fixed routes: the one insertion screen, for offers and the solver.

The screen is :func:`planner.darp.search.kernels.best_insertion`, compiled: every pair of
insertion positions is checked in O(1) against loads, windows along the pushed-forward
schedule, the latest starts of the rest of the route and the ride-time room of those on
board; the cheapest survivors are then timed exactly, so an accepted insertion never
breaks a promise already made. The construction and the ruin-and-recreate search call the
same kernel; this module is its face for callers that insert one request at a time into
routes prepared once (booking offers), and prices insertions with the one
:class:`planner.darp.objective.Objective`.

Stops follow :mod:`planner.darp.schedule`: ``2 * r`` is the pickup and ``2 * r + 1`` the
drop-off of request ``r`` of the table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from planner.darp.model import Request
from planner.darp.objective import Objective
from planner.darp.schedule import StopTable
from planner.darp.search import kernels, lns

#: Exact schedule checks per vehicle before giving up on it (the screen's candidates are
#: necessary conditions only; a route duration limit, for one, is checked exactly).
MAX_EXACT_CHECKS = 25

#: Room for stops beyond the longest route in the arrays of :class:`PreparedRoutes`. They
#: are as wide as the longest route, not as the day's stops: a confirmation copies them
#: (:meth:`PreparedRoutes.with_routes`), and a full day's routes hold tens of its thousands.
ROUTE_SLACK = 16

#: Most requests one ruin step of a repair removes: room for one rider is found near it,
#: and smaller steps keep a step's time, and so the repair's overrun of its budget, small.
REPAIR_MAX_REMOVED = 10


@dataclass(frozen=True, slots=True)
class Insertion:
    """A feasible insertion: the vehicle's new stop sequence and its exact schedule.

    ``times`` holds the depot departure, each stop's service start and the depot return.
    ``added_cost`` is the objective's price of the insertion as screened (extra arc cost,
    the new passenger's ride time, the vehicle cost if the route was empty).
    """

    vehicle: int
    stops: tuple[int, ...]
    times: tuple[float, ...]
    added_cost: float

    def service_start(self, stop: int) -> float:
        """The scheduled service start of ``stop`` in this insertion."""
        return self.times[1 + self.stops.index(stop)]


@dataclass(frozen=True, eq=False)
class PreparedRoutes:
    """Every vehicle's route prepared for insertion; built once, reused for every request.

    Attributes
    ----------
    table
        The stop table of the routes and of the requests to insert.
    arrays, stops, lengths, data
        The compiled screen's inputs: the table with the objective, the routes as an array
        (``stops[v, :lengths[v]]``) and the per-position route data.
    first
        Per vehicle, how many stops at the head of its route stay there: nothing is
        inserted before them.
    usable
        Per vehicle, whether its route has a feasible schedule (others take nothing).
    """

    table: StopTable
    arrays: kernels.Arrays
    stops: np.ndarray
    lengths: np.ndarray
    data: kernels.RouteData
    first: np.ndarray
    usable: np.ndarray

    def route(self, vehicle: int) -> list[int]:
        """The stop sequence of ``vehicle``."""
        return [int(s) for s in self.stops[vehicle, : self.lengths[vehicle]]]

    def fixed(self, vehicle: int) -> list[int]:
        """The stops at the head of ``vehicle``'s route that stay there."""
        return self.route(vehicle)[: int(self.first[vehicle])]

    def holding(self, fixed_before: float) -> PreparedRoutes:
        """The same routes; the stops scheduled to start before ``fixed_before`` stay."""
        return replace(self, first=_heads(self, fixed_before))

    def with_requests(self, requests: Sequence[Request]) -> PreparedRoutes:
        """The same routes, and ``requests`` to insert, numbered after the table's own."""
        table = self.table.with_requests(requests)
        return replace(self, table=table, arrays=kernels.extend(self.arrays, table))

    def with_routes(self, changes: Mapping[int, Sequence[int]]) -> PreparedRoutes:
        """The same table with the routes of some vehicles replaced (from position 0 on).

        Only the changed vehicles' route data is built again: a confirmation changes one
        route of dozens.
        """
        width = self.stops.shape[1]
        longest = max((len(r) for r in changes.values()), default=0)
        if longest > width:
            width = longest + ROUTE_SLACK
        stops = np.zeros((len(self.lengths), width), np.int64)
        stops[:, : self.stops.shape[1]] = self.stops
        data = kernels.route_data(len(self.lengths), width)
        for new, old in zip(data, self.data, strict=True):
            new[:, : old.shape[1]] = old
        lengths, usable = self.lengths.copy(), self.usable.copy()
        for v, route in changes.items():
            stops[v, :] = 0
            for column in data:
                column[v, :] = 0
            stops[v, : len(route)] = route
            lengths[v] = len(route)
            usable[v] = kernels.build(self.arrays, v, stops[v], len(route), data)
        return replace(
            self,
            stops=stops,
            lengths=lengths,
            data=data,
            usable=usable,
            first=np.zeros_like(lengths),
        )


def prepare(
    table: StopTable,
    routes: Sequence[Sequence[int]],
    objective: Objective,
    *,
    fixed_before: float = -math.inf,
) -> PreparedRoutes:
    """Prepare routes for insertion.

    Parameters
    ----------
    table
        Stop table holding the routes' requests and the requests to insert.
    routes
        Stop sequences per vehicle.
    objective
        What an insertion costs.
    fixed_before
        Stops whose scheduled start is before this time stay at the head of their route
        (served already, or too soon to change).

    Raises
    ------
    ValueError
        If there is not one route per vehicle.
    """
    num_vehicles = len(table.start)
    if len(routes) != num_vehicles:
        raise ValueError(f"{len(routes)} routes for {num_vehicles} vehicles")
    a = kernels.arrays(table, objective)
    width = max((len(r) for r in routes), default=0) + ROUTE_SLACK
    stops, lengths = kernels.pack([list(r) for r in routes], width)
    data = kernels.route_data(num_vehicles, width)
    usable = np.zeros(num_vehicles, np.bool_)
    for v in range(num_vehicles):
        usable[v] = kernels.build(a, v, stops[v], int(lengths[v]), data)
    prepared = PreparedRoutes(table, a, stops, lengths, data, np.zeros_like(lengths), usable)
    return prepared.holding(fixed_before) if fixed_before > -math.inf else prepared


def _heads(prepared: PreparedRoutes, fixed_before: float) -> np.ndarray:
    """Per vehicle, how many stops at the head of its route start before ``fixed_before``."""
    width = prepared.stops.shape[1]
    on_route = np.arange(width)[None, :] < prepared.lengths[:, None]
    early = prepared.data.times[:, 1 : width + 1] < fixed_before
    heads = np.count_nonzero(on_route & early, axis=1)
    return np.where(prepared.usable, heads, 0).astype(np.int64)


def best_insertion(
    prepared: PreparedRoutes,
    request: int,
    *,
    vehicle: int | None = None,
    max_checks: int = MAX_EXACT_CHECKS,
) -> Insertion | None:
    """Return the cheapest feasible insertion of ``request`` over all vehicles, or None.

    Parameters
    ----------
    prepared
        The routes, from :func:`prepare`.
    request
        Index of the request to insert (in the table, in no route).
    vehicle
        Only this vehicle, if given.
    max_checks
        Exact schedule checks per vehicle.
    """
    p = prepared
    usable = p.usable
    if vehicle is not None:
        usable = np.zeros_like(usable)
        usable[vehicle] = p.usable[vehicle]
    cost, v, i, j = kernels.cheapest_insertion(
        p.arrays, p.stops, p.lengths, p.first, p.data, usable, request, max_checks
    )
    if v < 0:
        return None
    route = p.route(v)
    new = route[:i] + [2 * request] + route[i:j] + [2 * request + 1] + route[j:]
    return _timed(p, int(v), new, float(cost))


def _timed(p: PreparedRoutes, vehicle: int, stops: Sequence[int], cost: float) -> Insertion:
    """The insertion of a stop sequence the caller knows is feasible, with its schedule."""
    times = np.empty(len(stops) + 2)
    feasible = kernels.schedule(p.arrays, vehicle, np.array(stops, np.int64), len(stops), times)
    if not feasible:  # a caller's own check passed it: a bug, not a refusal
        raise AssertionError(f"vehicle {vehicle}: the stops have no schedule")
    return Insertion(vehicle, tuple(int(s) for s in stops), tuple(float(t) for t in times), cost)


@dataclass(frozen=True, slots=True)
class Repair:
    """Room made for one more request by re-planning the routes around it.

    ``insertion`` is the new request's vehicle with its new route and exact schedule;
    ``routes`` holds every vehicle whose route changed (that one included), from position 0.
    Every request that was in a route still is, and every stop held at the head of a route
    stays there.
    """

    insertion: Insertion
    routes: dict[int, tuple[int, ...]]


def repair_insertion(
    prepared: PreparedRoutes,
    request: int,
    objective: Objective,
    *,
    time_limit: float,
    seed: int = 0,
    moves: int = 0,
) -> Repair | None:
    """Make room for ``request`` where the screen found none, or return None.

    Ruin and recreate (:func:`planner.darp.search.lns.improve`) around the routes as they
    are, with ``request`` pending, until it is served or ``time_limit`` seconds pass. A
    move never leaves out a request that was placed, so every promise already made holds;
    only the planned times within those promises move. This is what lets a rider in when
    the day's routes were built one booking at a time and the room is there, just not in
    one piece.

    Parameters
    ----------
    prepared
        The routes, from :func:`prepare`; stops held at the heads (``first``) stay.
    request
        Index of the request to place (in the table, in no route).
    objective
        What the search minimises among plans that serve everyone.
    time_limit
        Seconds to spend at most.
    seed
        Random seed of the search.
    moves
        A budget of moves (capped by ``time_limit``) instead of the clock: the same answer
        on a busy machine (0: the clock alone).
    """
    p = prepared
    if time_limit <= 0 or not p.usable.all():  # a route without a schedule cannot be re-planned
        return None
    vehicles = range(len(p.lengths))
    routes = [p.route(v) for v in vehicles]
    locked = [p.fixed(v) for v in vehicles]
    new = lns.improve(
        p.table,
        routes,
        time_limit=time_limit,
        seed=seed,
        objective=objective,
        locked=locked,
        pending=[request],
        until_placed=True,
        arrays=p.arrays,
        focus=request,
        max_removed=REPAIR_MAX_REMOVED,
        iterations=moves or None,
    )
    where = [v for v in vehicles if 2 * request in new[v]]
    if not where:
        return None
    changed = {u: tuple(new[u]) for u in vehicles if new[u] != routes[u]}
    before, after = (
        kernels.solution_cost(p.arrays, *kernels.pack(r, len(p.arrays.loc))) for r in (routes, new)
    )
    return Repair(_timed(p, where[0], new[where[0]], after - before), changed)


def held_repair(
    prepared: PreparedRoutes, request: int, routes: Mapping[int, Sequence[int]]
) -> Repair | None:
    """A repair found earlier (``routes``: changed vehicles' stops), if it still fits.

    It fits ``prepared`` if every stop held at a route's head is still there, every
    request in the routes is served exactly once with ``request`` added, and every changed
    route has a schedule that keeps its promises. An offer holds its repair this way until
    the rider confirms; in between, the day may have moved on.
    """
    p = prepared
    if any(list(stops[: int(p.first[v])]) != p.fixed(v) for v, stops in routes.items()):
        return None
    vehicles = range(len(p.lengths))
    after = sorted(s for v in vehicles for s in routes.get(v, p.route(v)))
    before = sorted([s for v in vehicles for s in p.route(v)] + [2 * request, 2 * request + 1])
    if after != before:
        return None
    checked = p.with_routes(routes)
    if not all(checked.usable[v] for v in routes):
        return None
    v = next(v for v, stops in routes.items() if 2 * request in stops)
    return Repair(_timed(p, v, routes[v], 0.0), {u: tuple(s) for u, s in routes.items()})
