"""Stop numbers and routes: the one place that maps between requests and route stops.

Inside the solver, the insertion screens and the kernels a route is a sequence of stop
numbers: stop ``2 r`` is the pickup and ``2 r + 1`` the drop-off of request ``r``. Outside
(plans, the store, the booking engine) a stop is a request id and a kind. This module turns
one into the other, and stop sequences into timed :class:`~planner.darp.plan.Plan` objects.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from planner.darp.model import Instance
from planner.darp.plan import Plan, Rejection, Route, StopKind, Visit
from planner.darp.schedule import StopTable, earliest_schedule
from planner.errors import InvalidPlanError

StopRef = tuple[str, StopKind]


def stop_of(r: int, kind: StopKind) -> int:
    """The stop number of request ``r``'s pickup or drop-off."""
    return 2 * r + (kind == "dropoff")


def request_of(s: int) -> int:
    """The request a stop number belongs to."""
    return s >> 1


def kind_of(s: int) -> StopKind:
    """Whether a stop number is a pickup or a drop-off."""
    return "dropoff" if s & 1 else "pickup"


def routes_of_refs(
    instance: Instance, refs: Mapping[str, Sequence[StopRef]], *, where: str = "routes"
) -> list[list[int]]:
    """Stop numbers per vehicle from ``(request id, kind)`` lists keyed by vehicle id.

    Routes are in the instance's vehicle order; vehicles not named get an empty route.

    Raises
    ------
    InvalidPlanError
        If a vehicle or request is unknown.
    """
    vehicle_index = {v.id: k for k, v in enumerate(instance.vehicles)}
    routes: list[list[int]] = [[] for _ in instance.vehicles]
    for vid, stops in refs.items():
        if vid not in vehicle_index:
            raise InvalidPlanError(where, f"unknown vehicle {vid!r}")
        routes[vehicle_index[vid]] = [stop_of_ref(instance, ref, where) for ref in stops]
    return routes


def stop_of_ref(instance: Instance, ref: StopRef, where: str) -> int:
    """The stop number of ``(request id, kind)``.

    Raises
    ------
    InvalidPlanError
        Naming ``where``, if the request is unknown or the kind is not pickup or dropoff.
    """
    request_id, kind = ref
    try:
        r = instance.request_index(request_id)
    except KeyError:
        raise InvalidPlanError(where, f"unknown request {request_id!r}") from None
    if kind not in ("pickup", "dropoff"):
        raise InvalidPlanError(where, f"kind must be 'pickup' or 'dropoff', got {kind!r}")
    return stop_of(r, kind)


def routes_of_plan(instance: Instance, plan: Plan) -> list[list[int]]:
    """Stop numbers per vehicle of a plan's routes (a warm start)."""
    refs = {r.vehicle_id: [(x.request_id, x.kind) for x in r.visits] for r in plan.routes}
    return routes_of_refs(instance, refs, where="initial_plan")


@dataclass(frozen=True, slots=True)
class TimedRoute:
    """One vehicle's route timed by :func:`earliest_schedule`, with its driven totals."""

    route: Route
    distance: float
    travel_time: float


def time_route(
    instance: Instance, table: StopTable, vehicle: int, stops: Sequence[int]
) -> TimedRoute:
    """Time one vehicle's stop sequence (non-empty) as a :class:`Route`.

    Raises
    ------
    InvalidPlanError
        If the sequence has no feasible schedule or exceeds a capacity.
    """
    stops = list(stops)
    veh = instance.vehicles[vehicle]
    times = earliest_schedule(table, vehicle, stops)
    if times is None or not table.loads_fit(vehicle, stops):
        raise InvalidPlanError(f"routes[{veh.id}]", "no feasible schedule")
    visits = []
    prev_loc, prev_dep = veh.start_depot, times[0]
    pas = wch = 0
    for k, s in enumerate(stops):
        req = instance.requests[request_of(s)]
        loc = table.location[s]
        pas += table.passengers[s]
        wch += table.wheelchairs[s]
        start = times[k + 1]
        visits.append(
            Visit(
                request_id=req.id,
                kind=kind_of(s),
                location=loc,
                arrival=prev_dep + table.travel[prev_loc][loc],
                service_start=start,
                departure=start + table.service[s],
                passengers_on_board=pas,
                wheelchairs_on_board=wch,
            )
        )
        prev_loc, prev_dep = loc, start + table.service[s]
    locs = [veh.start_depot, *(table.location[s] for s in stops), veh.end_depot]
    legs = list(zip(locs[:-1], locs[1:], strict=True))
    return TimedRoute(
        Route(veh.id, times[0], tuple(visits), times[-1]),
        math.fsum(table.distance[a][b] for a, b in legs),
        math.fsum(table.travel[a][b] for a, b in legs),
    )


def assemble_plan(
    instance: Instance,
    timed: Sequence[TimedRoute | None],
    *,
    reasons: Mapping[int, str] | None = None,
) -> Plan:
    """A :class:`Plan` of timed routes per vehicle (``None``: the vehicle stays at its depot).

    Requests on no route are rejected, with their reason from ``reasons`` if known.
    """
    reasons = reasons or {}
    routes = [t for t in timed if t is not None]
    served = {v.request_id for t in routes for v in t.route.visits}
    distance = travel_time = 0.0
    for t in routes:
        distance += t.distance
        travel_time += t.travel_time
    rejected = tuple(
        Rejection(req.id, reasons.get(r, "no feasible insertion found within the time limit"))
        for r, req in enumerate(instance.requests)
        if req.id not in served
    )
    return Plan(tuple(t.route for t in routes), rejected, distance, travel_time)


def build_plan(
    instance: Instance,
    routes: Sequence[Sequence[int]],
    *,
    reasons: Mapping[int, str] | None = None,
    table: StopTable | None = None,
) -> Plan:
    """Time stop sequences with :func:`earliest_schedule` and assemble a :class:`Plan`.

    Parameters
    ----------
    instance
        The instance.
    routes
        Stop numbers (``2r`` pickup, ``2r+1`` drop-off of request ``r``) per vehicle.
    reasons
        Rejection reasons of requests known to be unservable; unserved requests without a
        reason get a generic one.
    table
        The instance's stop table, if already built.

    Raises
    ------
    InvalidPlanError
        If a sequence has no feasible schedule or exceeds a capacity.
    """
    table = table or StopTable.from_instance(instance)
    timed = [
        time_route(instance, table, v, stops) if stops else None for v, stops in enumerate(routes)
    ]
    return assemble_plan(instance, timed, reasons=reasons)
