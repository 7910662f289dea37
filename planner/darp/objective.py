"""The one cost of a plan: what offers, the search, the OR-Tools model and the plan choice minimise.

A plan costs

    arc_weight * (sum of its vehicle arcs, in distance or in travel time)
    + ride_weight * (sum of its passengers' ride times)
    + vehicle_cost * (number of vehicles used)

where a ride time runs from the departure at the pickup to the service start at the
drop-off, on the earliest schedule (:func:`planner.darp.schedule.earliest_schedule`, which is
how every plan is timed). Serving more requests always comes first; the cost only ranks
plans that serve as many.

The compiled search evaluates the same formula (:func:`planner.darp.search.kernels.
solution_cost`, tested against :meth:`Objective.routes_cost`); the OR-Tools model carries the
arcs and the vehicle cost exactly and the ride time as soft time bounds (the routing library
cannot price the difference of two times), and every plan it returns is ranked again here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from planner.darp.model import Instance
from planner.darp.plan import Plan
from planner.darp.schedule import StopTable, earliest_schedule
from planner.errors import InvalidParamsError

ArcMeasure = Literal["distance", "time"]


@dataclass(frozen=True, slots=True)
class Objective:
    """Weights of the plan cost (see the module docstring).

    Attributes
    ----------
    arc
        What a vehicle arc costs: its ``"distance"`` or its travel ``"time"``.
    arc_weight
        Cost per unit of ``arc``.
    ride_weight
        Cost per unit of passenger ride time (one per request, whatever its party size).
    vehicle_cost
        Cost of using a vehicle at all; a large value gives the hierarchical objective of
        Li & Lim (fewest vehicles first, then distance).
    """

    arc: ArcMeasure = "distance"
    arc_weight: float = 1.0
    ride_weight: float = 0.0
    vehicle_cost: float = 0.0

    def __post_init__(self) -> None:
        if self.arc not in ("distance", "time"):
            raise InvalidParamsError("arc", f"must be 'distance' or 'time', got {self.arc!r}")
        for name in ("arc_weight", "ride_weight", "vehicle_cost"):
            value = getattr(self, name)
            if not (value >= 0 and math.isfinite(value)):
                raise InvalidParamsError(name, f"must be a finite number >= 0, got {value}")

    def arc_matrix(self, instance: Instance) -> np.ndarray:
        """The matrix whose entries the arcs cost (before ``arc_weight``)."""
        return instance.travel_times if self.arc == "time" else instance.distances

    def table_arc_matrix(self, table: StopTable) -> np.ndarray:
        """:meth:`arc_matrix` of the instance behind ``table``."""
        return table.travel_matrix if self.arc == "time" else table.distance_matrix

    def routes_cost(self, table: StopTable, routes: Sequence[Sequence[int]]) -> float:
        """The cost of stop sequences per vehicle (each must have a schedule).

        Raises
        ------
        ValueError
            If a route with ride time to price has no feasible schedule.
        """
        arcs = self.table_arc_matrix(table)
        total_arcs = ride = 0.0
        used = 0
        for v, route in enumerate(routes):
            if not route:
                continue
            used += 1
            path = [table.start[v], *(table.location[s] for s in route), table.end[v]]
            total_arcs += _path_cost(arcs, path)
            if self.ride_weight:
                ride += _ride_time(table, v, list(route))
        return self.arc_weight * total_arcs + self.ride_weight * ride + self.vehicle_cost * used

    def plan_cost(self, instance: Instance, plan: Plan) -> float:
        """The cost of a plan, from its own visits and times."""
        arcs = self.arc_matrix(instance)
        total_arcs = ride = 0.0
        used = 0
        for route in plan.routes:
            if not route.visits:
                continue
            used += 1
            path = route.locations(instance)
            total_arcs += _path_cost(arcs, path)
            picked: dict[str, float] = {}
            for visit in route.visits:
                if visit.kind == "pickup":
                    picked[visit.request_id] = visit.departure
                elif visit.request_id in picked:
                    ride += visit.service_start - picked[visit.request_id]
        return self.arc_weight * total_arcs + self.ride_weight * ride + self.vehicle_cost * used

    def rank(self, table: StopTable, routes: Sequence[Sequence[int]]) -> tuple[int, float]:
        """Sort key of candidate routes, lower is better: more requests served, then cost."""
        served = len({s >> 1 for route in routes for s in route})
        return -served, self.routes_cost(table, routes)


def _path_cost(arcs: np.ndarray, path: Sequence[int]) -> float:
    """Summed arc cost along a location sequence."""
    return math.fsum(float(arcs[a, b]) for a, b in zip(path[:-1], path[1:], strict=True))


def _ride_time(table: StopTable, vehicle: int, route: list[int]) -> float:
    """Summed ride time of the passengers of one route on its earliest schedule."""
    times = earliest_schedule(table, vehicle, route)
    if times is None:
        raise ValueError(f"route of vehicle {vehicle} has no feasible schedule")
    position = {s: k + 1 for k, s in enumerate(route)}
    ride = 0.0
    for s in route:
        if s & 1 and s - 1 in position:
            ride += times[position[s]] - times[position[s - 1]] - table.service[s - 1]
    return ride
