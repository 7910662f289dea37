"""The dial-a-ride problem as an OR-Tools routing model and its search (the one OR-Tools import).

The model has pickup and delivery pairs, a time dimension with windows, ride-time limits per
pair and route-duration spans, seat and wheelchair dimensions, and optional requests with a
penalty. Its costs are those of :class:`planner.darp.objective.Objective`: arcs and the
vehicle cost exactly; ride time through soft bounds (a pickup earlier than its latest start
and a drop-off later than its earliest start cost ``ride_weight`` per second), since the
routing library cannot price the difference of two times. Whatever it returns is ranked
again by the objective itself.

Integer times and costs are the instance's units divided by ``precision``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ortools.constraint_solver import pywrapcp, routing_enums_pb2, routing_parameters_pb2

from planner.darp.model import Instance
from planner.darp.objective import Objective
from planner.darp.schedule import StopTable

Routes = list[list[int]]

METAHEURISTICS = ("guided_local_search", "tabu_search", "simulated_annealing", "greedy_descent")


@dataclass(frozen=True, slots=True)
class ModelParams:
    """How :func:`polish` models and searches.

    Attributes
    ----------
    objective
        The costs.
    metaheuristic
        One of :data:`METAHEURISTICS`.
    deadline
        Wall clock (``time.time()``) by which the search must end.
    rejection_penalty
        Cost of leaving a request unserved; ``None`` picks a value above any route cost.
    tighten_windows
        Tighten time windows from ride-time limits and depots (implied bounds that help
        OR-Tools' propagation).
    precision
        Time and cost resolution of the integer model, in the instance's units.
    """

    objective: Objective
    metaheuristic: str
    deadline: float
    rejection_penalty: float | None = None
    tighten_windows: bool = True
    precision: float = 1e-4


def tightened(table: StopTable) -> tuple[list[float], list[float]]:
    """Return windows tightened by the ride-time limits and depot distances."""
    earliest, latest = list(table.earliest), list(table.latest)
    travel, loc, svc = table.travel, table.location, table.service
    vehicles = range(len(table.start))
    for r, ride in enumerate(table.max_ride):
        p, d = 2 * r, 2 * r + 1
        direct = travel[loc[p]][loc[d]]
        if vehicles:
            earliest[p] = max(
                earliest[p],
                min(table.shift_start[v] + travel[table.start[v]][loc[p]] for v in vehicles),
            )
            latest[d] = min(
                latest[d],
                max(table.shift_end[v] - svc[d] - travel[loc[d]][table.end[v]] for v in vehicles),
            )
        earliest[d] = max(earliest[d], earliest[p] + svc[p] + direct)
        latest[p] = min(latest[p], latest[d] - svc[p] - direct)
        if math.isfinite(ride):
            earliest[p] = max(earliest[p], earliest[d] - svc[p] - ride)
            latest[d] = min(latest[d], latest[p] + svc[p] + ride)
    return earliest, latest


class _Model:
    """The routing model of one instance: nodes are the depots, then the stops it routes."""

    def __init__(
        self, instance: Instance, table: StopTable, stops: list[int], params: ModelParams
    ) -> None:
        self.table, self.stops, self.params = table, stops, params
        self.scale = 1.0 / params.precision
        depots = sorted(set(table.start) | set(table.end))
        depot_node = {loc: k for k, loc in enumerate(depots)}
        self.offset = len(depots)
        self.node_of = {s: self.offset + k for k, s in enumerate(stops)}
        self.node_loc = depots + [table.location[s] for s in stops]
        self.node_svc = [0.0] * self.offset + [table.service[s] for s in stops]
        self.manager = pywrapcp.RoutingIndexManager(
            len(self.node_loc),
            instance.num_vehicles,
            [depot_node[x] for x in table.start],
            [depot_node[x] for x in table.end],
        )
        self.routing = pywrapcp.RoutingModel(self.manager)
        horizon_hi = max(
            max((x for x in table.shift_end if math.isfinite(x)), default=0.0),
            max((x for x in table.latest if math.isfinite(x)), default=0.0),
        )
        if horizon_hi == 0.0:
            travel = table.travel_matrix
            horizon_hi = float(travel.max() * 2 * len(stops) + sum(table.service) + 1)
        self.horizon = math.ceil(horizon_hi * self.scale) + 1

    def ub(self, x: float) -> int:
        """An upper bound in model units (the horizon if infinite)."""
        if not math.isfinite(x):
            return self.horizon
        return min(self.horizon, math.floor(x * self.scale + 1e-6))

    def lb(self, x: float) -> int:
        """A lower bound in model units."""
        return max(0, math.ceil(x * self.scale - 1e-6))

    def index(self, stop: int) -> int:
        """The routing index of a stop."""
        return int(self.manager.NodeToIndex(self.node_of[stop]))

    def add_costs(self) -> None:
        """Arc costs and the vehicle cost of the objective."""
        objective, scale = self.params.objective, self.scale
        arcs = objective.table_arc_matrix(self.table)
        # model indices differ from node numbers (ends are duplicated): matrices on nodes
        rows = [
            [round(arcs[a, b] * objective.arc_weight * scale * 10) for b in self.node_loc]
            for a in self.node_loc
        ]
        self.routing.SetArcCostEvaluatorOfAllVehicles(self.routing.RegisterTransitMatrix(rows))
        if objective.vehicle_cost:
            self.routing.SetFixedCostOfAllVehicles(round(objective.vehicle_cost * scale * 10))

    def add_time_and_loads(self) -> pywrapcp.RoutingDimension:
        """The time dimension with windows, shifts and durations; seats and wheelchairs."""
        table, routing, scale = self.table, self.routing, self.scale
        travel = table.travel_matrix
        time_rows = [
            [math.ceil((travel[a, b] + self.node_svc[i]) * scale - 1e-6) for b in self.node_loc]
            for i, a in enumerate(self.node_loc)
        ]
        time_cb = routing.RegisterTransitMatrix(time_rows)
        routing.AddDimension(time_cb, self.horizon, self.horizon, False, "time")
        dim = routing.GetDimensionOrDie("time")
        for name, values in (("seats", table.passengers), ("wheelchairs", table.wheelchairs)):
            if name == "wheelchairs" and not any(values):
                continue
            demand = [0] * self.offset + [values[s] for s in self.stops]
            cb = routing.RegisterUnaryTransitVector(demand)
            caps = table.seats if name == "seats" else table.wheelchair_places
            routing.AddDimensionWithVehicleCapacity(cb, 0, list(caps), True, name)
        earliest, latest = self.windows()
        for s in self.stops:
            dim.CumulVar(self.index(s)).SetRange(self.lb(earliest[s]), self.ub(latest[s]))
        for v in range(len(table.start)):
            for index in (routing.Start(v), routing.End(v)):
                dim.CumulVar(index).SetRange(
                    self.lb(table.shift_start[v]), self.ub(table.shift_end[v])
                )
            if math.isfinite(table.max_duration[v]):
                dim.SetSpanUpperBoundForVehicle(self.ub(table.max_duration[v]), v)
            routing.AddVariableMinimizedByFinalizer(dim.CumulVar(routing.End(v)))
            routing.AddVariableMaximizedByFinalizer(dim.CumulVar(routing.Start(v)))
        return dim

    def windows(self) -> tuple[list[float], list[float]]:
        """The stops' time windows, tightened if the parameters say so."""
        if self.params.tighten_windows:
            return tightened(self.table)
        return self.table.earliest, self.table.latest

    def add_requests(self, dim: pywrapcp.RoutingDimension, requests: list[int]) -> None:
        """Pairs on one vehicle, ride-time limits, optional requests and the ride-time cost."""
        table, routing, objective = self.table, self.routing, self.params.objective
        solver = routing.solver()
        penalty = self.params.rejection_penalty
        if penalty is None:  # above the cost of any plan that serves one request more
            arcs = objective.table_arc_matrix(table)
            penalty = objective.arc_weight * float(arcs.max()) * (2 * len(self.stops) + 2)
            penalty += objective.vehicle_cost * (len(table.start) + 1)
        penalty_int = round(penalty * self.scale * 10)
        ride_coef = round(objective.ride_weight * 10)
        earliest, latest = self.windows()
        for r in requests:
            pi, di = self.index(2 * r), self.index(2 * r + 1)
            routing.AddPickupAndDelivery(pi, di)
            solver.Add(routing.VehicleVar(pi) == routing.VehicleVar(di))
            ride = table.max_ride[r]
            if math.isfinite(ride):
                limit = self.ub(ride + table.service[2 * r])
                solver.Add(dim.CumulVar(di) - dim.CumulVar(pi) <= limit)
            only = table.only_vehicle[r]
            if only >= 0:  # a vehicle's own task (a break): on that vehicle, never left out
                # (SetAllowedVehiclesForIndex's Span argument fails in this binding)
                routing.VehicleVar(pi).SetValue(only)
                routing.VehicleVar(di).SetValue(only)
            else:
                routing.AddDisjunction([pi], penalty_int)
                routing.AddDisjunction([di], penalty_int)
            if ride_coef:
                dim.SetCumulVarSoftLowerBound(pi, self.ub(latest[2 * r]), ride_coef)
                dim.SetCumulVarSoftUpperBound(di, self.lb(earliest[2 * r + 1]), ride_coef)

    def lock(self, locked: Sequence[Sequence[int]]) -> None:
        """Fix each vehicle's locked prefix at the start of its route."""
        routing = self.routing
        for v, prefix in enumerate(locked):
            prev = routing.Start(v)
            for s in prefix:
                index = self.index(s)
                routing.NextVar(prev).SetValue(index)
                routing.VehicleVar(index).SetValue(v)
                prev = index

    def routes_of(self, solution: pywrapcp.Assignment) -> Routes:
        """The stop sequences of a solution."""
        routing, manager = self.routing, self.manager
        routes = []
        for v in range(len(self.table.start)):
            index = solution.Value(routing.NextVar(routing.Start(v)))
            route = []
            while not routing.IsEnd(index):
                route.append(self.stops[manager.IndexToNode(index) - self.offset])
                index = solution.Value(routing.NextVar(index))
            routes.append(route)
        return routes


def polish(
    instance: Instance,
    table: StopTable,
    routes: Routes,
    *,
    requests: list[int],
    locked: Sequence[Sequence[int]],
    params: ModelParams,
) -> Routes | None:
    """Run OR-Tools' local search from ``routes`` (or from scratch if they are all empty).

    Parameters
    ----------
    instance, table
        The problem and its stop table.
    routes
        Starting stop sequences per vehicle.
    requests
        The requests to model (those known to be unservable are left out).
    locked
        Per vehicle, stops at the head of its route that stay there.
    params
        Objective, metaheuristic and deadline.

    Returns
    -------
    routes
        The routes OR-Tools ends with, or ``None`` if it found no solution in time.
    """
    stops = [s for r in requests for s in (2 * r, 2 * r + 1)]
    model = _Model(instance, table, stops, params)
    model.add_costs()
    dim = model.add_time_and_loads()
    model.add_requests(dim, requests)
    model.lock(locked)
    routing = model.routing
    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    )
    search.local_search_metaheuristic = getattr(
        routing_enums_pb2.LocalSearchMetaheuristic, params.metaheuristic.upper()
    )
    # the model is built: OR-Tools gets what is left of the wall-clock budget
    search.time_limit.FromMilliseconds(max(1, round((params.deadline - time.time()) * 1000)))
    routing.CloseModelWithParameters(search)
    result = _descend(model, routes, search) if any(routes) else None
    if result is None:
        solution = routing.SolveWithParameters(search)
        result = model.routes_of(solution) if solution is not None else None
    return result


def _descend(
    model: _Model, routes: Routes, search: routing_parameters_pb2.RoutingSearchParameters
) -> Routes | None:
    """Search from the given routes; ``None`` if OR-Tools cannot read them or finds nothing."""
    start = model.routing.ReadAssignmentFromRoutes(
        [[model.index(s) for s in route] for route in routes], True
    )
    if start is None:
        return None
    solution = model.routing.SolveFromAssignmentWithParameters(start, search)
    return None if solution is None else model.routes_of(solution)
