"""Dial-a-ride solver on the OR-Tools routing library (the only OR-Tools import).

Pipeline of :func:`solve`:

1. requests no vehicle could serve even alone are rejected up front, with the reason;
2. time windows are tightened from the ride-time limits and the depots (implied bounds
   that help OR-Tools' propagation);
3. initial routes come from the warm-start plan and/or :func:`planner.darp.search.construct.
   regret_insertion` (feasible by construction), since OR-Tools' own first solutions are
   weak under tight windows and ride times;
4. :func:`planner.darp.search.lns.improve` (ruin and recreate with the same exact insertion) spends
   most of the budget: OR-Tools' single-pair moves are nearly all infeasible on tight
   dial-a-ride instances, so its local search stalls near its starting point;
5. OR-Tools polishes the result (guided local search by default) on a model with pickup and
   delivery pairs, a time dimension with windows, ride-time limits per pair and route
   duration spans, seat and wheelchair dimensions and optional requests with a penalty;
6. every plan seen on the way (construction, LNS, OR-Tools) is a candidate: its routes are
   re-timed by :func:`planner.darp.schedule.earliest_schedule` (not read from the solver's
   cumul variables), it must pass :func:`planner.darp.validate.check`, and the best valid one
   wins by one ordering (:func:`_rank`: more requests served, then
   :func:`planner.darp.search.lns.route_cost`). OR-Tools under a short time limit may hand back a
   plan serving nothing, or one that does not survive re-timing; the construction it
   started from then stands.

With ``workers > 1`` several independent searches (different seeds of the construction
and different metaheuristics) run in parallel processes and the best candidate of all
wins. If every worker process dies, one search runs in this process with a budget of its
own (:data:`FALLBACK_SHARE`), since the original deadline has usually passed by then.
"""

from __future__ import annotations

import contextlib
import dataclasses
import faulthandler
import io
import logging
import math
import multiprocessing
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from ortools.constraint_solver import pywrapcp, routing_enums_pb2, routing_parameters_pb2

from planner.darp.codec import StopRef, build_plan, routes_of_plan, stop_of_ref
from planner.darp.model import Instance
from planner.darp.plan import Plan
from planner.darp.schedule import StopTable, earliest_schedule
from planner.darp.search import kernels
from planner.darp.search.construct import regret_insertion
from planner.darp.search.lns import Routes, improve, route_cost
from planner.darp.validate import check
from planner.errors import InvalidParamsError, InvalidPlanError

log = logging.getLogger(__name__)

METAHEURISTICS = ("guided_local_search", "tabu_search", "simulated_annealing", "greedy_descent")
# Share of the time limit given to the search in this process after every worker process
# died (at least what is left of the deadline): finding out that the workers died takes
# seconds, so without a budget of its own the fallback would get no search time at all.
# In that failure case solve may overrun its time limit by this share.
FALLBACK_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class SolveParams:
    """Tunables of :func:`solve`.

    Attributes
    ----------
    time_limit
        Wall-clock budget of :func:`solve` in seconds (construction, LNS and OR-Tools;
        workers run in parallel within it). If every worker process dies, the search in
        this process gets :data:`FALLBACK_SHARE` of it anew.
    workers
        Number of parallel searches; the best plan wins.
    seed
        Seed of the randomised parts (construction noise of workers after the first).
    objective
        ``"distance"`` or ``"time"``: what vehicle arcs cost.
    ride_time_weight
        Cost per unit of passenger ride time, relative to one unit of distance or time.
    vehicle_fixed_cost
        Cost of using a vehicle (large values give the hierarchical Li & Lim objective).
    rejection_penalty
        Cost of leaving a request unserved; ``None`` picks a value above any route cost.
    metaheuristic
        OR-Tools local search metaheuristic of the first worker; further workers cycle
        through :data:`METAHEURISTICS` after it.
    construction
        Build initial routes with regret insertion (otherwise OR-Tools' parallel cheapest
        insertion builds the first solution).
    tighten_windows
        Tighten time windows from ride-time limits and depots before modelling.
    precision
        Time and distance resolution of the integer model, in the instance's units.
    lns_fraction
        Share of the time left after construction spent in :func:`planner.darp.search.lns.improve`
        (ruin and recreate with exact dial-a-ride insertion) before OR-Tools polishes the
        result; 0 gives OR-Tools all the time.
    lns_temperature
        Start temperature of the LNS acceptance, as a fraction of the distance (see
        :func:`planner.darp.search.lns.improve`).
    """

    time_limit: float = 10.0
    workers: int = 1
    seed: int = 0
    objective: str = "distance"
    ride_time_weight: float = 0.0
    vehicle_fixed_cost: float = 0.0
    rejection_penalty: float | None = None
    metaheuristic: str = "guided_local_search"
    construction: bool = True
    tighten_windows: bool = True
    precision: float = 1e-4
    lns_fraction: float = 0.85
    lns_temperature: float = 0.003

    def __post_init__(self) -> None:
        if not self.time_limit > 0:
            raise InvalidParamsError("time_limit", f"must be > 0, got {self.time_limit}")
        if self.workers < 1:
            raise InvalidParamsError("workers", f"must be >= 1, got {self.workers}")
        if self.objective not in ("distance", "time"):
            msg = f"must be 'distance' or 'time', got {self.objective!r}"
            raise InvalidParamsError("objective", msg)
        if self.metaheuristic not in METAHEURISTICS:
            msg = f"must be one of {', '.join(METAHEURISTICS)}, got {self.metaheuristic!r}"
            raise InvalidParamsError("metaheuristic", msg)
        for name in ("ride_time_weight", "vehicle_fixed_cost"):
            if not getattr(self, name) >= 0:
                raise InvalidParamsError(name, f"must be >= 0, got {getattr(self, name)}")
        if self.rejection_penalty is not None and not self.rejection_penalty > 0:
            raise InvalidParamsError("rejection_penalty", "must be > 0")
        if not 0 <= self.lns_fraction < 1:
            raise InvalidParamsError("lns_fraction", f"must be in [0, 1), got {self.lns_fraction}")
        if not 0 < self.precision <= 1:
            raise InvalidParamsError("precision", f"must be in (0, 1], got {self.precision}")


def _reject_alone(table: StopTable, instance: Instance) -> dict[int, str]:
    """Return requests that no vehicle can serve even alone, with the reason."""
    out = {}
    max_seats = max((v.seats for v in instance.vehicles), default=0)
    max_places = max((v.wheelchair_places for v in instance.vehicles), default=0)
    for r, req in enumerate(instance.requests):
        if req.passengers > max_seats or req.wheelchairs > max_places:
            out[r] = (
                f"needs {req.passengers} seats and {req.wheelchairs} wheelchair places; "
                f"no vehicle has that much room"
            )
            continue
        pair = [2 * r, 2 * r + 1]
        fits = [v for v in range(len(instance.vehicles)) if table.loads_fit(v, pair)]
        if not any(earliest_schedule(table, v, pair) is not None for v in fits):
            out[r] = "no vehicle can serve it even alone (time windows, ride time or shift)"
    return out


def _tightened(table: StopTable) -> tuple[list[float], list[float]]:
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


@dataclass(frozen=True, slots=True)
class _Job:
    """Everything a search process needs (picklable)."""

    instance: Instance
    params: SolveParams
    skip: frozenset[int]
    initial: tuple[tuple[int, ...], ...]
    locked: tuple[tuple[int, ...], ...]
    metaheuristic: str
    seed: int
    deadline: float  # wall clock (time.time()) by which the search must end


def _cost_table(table: StopTable, params: SolveParams) -> StopTable:
    """Return the table whose ``distance`` is what vehicle arcs cost under ``params``."""
    if params.objective == "time":  # heuristics minimise what the table calls distance
        return dataclasses.replace(
            table, distance=table.travel, distance_matrix=table.travel_matrix
        )
    return table


def _rank(table: StopTable, params: SolveParams, routes: Routes) -> tuple[int, float]:
    """Return the sort key of candidate routes (lower is better).

    More requests served first, then the objective cost (:func:`planner.darp.search.lns.route_cost`
    on ``table`` from :func:`_cost_table`).
    """
    served = len({s >> 1 for route in routes for s in route})
    return -served, route_cost(table, routes, params.vehicle_fixed_cost)


def _best_valid_plan(
    instance: Instance,
    table: StopTable,
    params: SolveParams,
    candidates: Sequence[Routes],
    reasons: Mapping[int, str],
) -> Plan:
    """Return the best candidate by :func:`_rank` that passes the validator.

    Parameters
    ----------
    instance
        The instance.
    table
        Its stop table (with the true distances; plans report those).
    params
        The solve parameters (objective and vehicle fixed cost of the ranking).
    candidates
        Stop sequences per vehicle; ties keep the earlier candidate.
    reasons
        Rejection reasons of requests known to be unservable.

    Raises
    ------
    InvalidPlanError
        If no candidate passes (a bug: the construction is feasible by design).
    """
    cost_table = _cost_table(table, params)
    best: Plan | None = None
    best_key: tuple[int, float] | None = None
    errors = []
    for k, routes in enumerate(candidates):
        key = _rank(cost_table, params, routes)
        if best_key is not None and key >= best_key:
            continue  # no better than a valid plan already found: not worth validating
        try:
            plan = build_plan(instance, routes, reasons=reasons, table=table)
            check(instance, plan)  # never trust the search: recomputed from the instance
        except InvalidPlanError as exc:
            log.warning("%s: candidate %d dropped, invalid: %s", instance.name, k, exc)
            errors.append(str(exc))
            continue
        best, best_key = plan, key
    if best is None:
        raise InvalidPlanError("routes", "no candidate plan is valid: " + "; ".join(errors))
    return best


# The starting routes, the LNS and the whole OR-Tools model in one function. Issue 12 moves
# the model to search/ with the one Objective; split it there, then drop this noqa.
def _search(job: _Job) -> list[Routes]:  # noqa: C901
    """Build the OR-Tools model, run the search and return the candidate routes.

    Returns
    -------
    candidates
        Stop sequences per vehicle, in the order found: the starting routes (warm start
        and construction), the LNS result and, if OR-Tools found one, its solution. None
        is validated here; :func:`_best_valid_plan` picks among them.
    """
    # a native crash in a worker process then leaves a trace; an in-process stderr without a
    # file descriptor (click's test runner, some servers) cannot take one, which is fine
    with contextlib.suppress(AttributeError, ValueError, io.UnsupportedOperation):
        faulthandler.enable()
    instance, params = job.instance, job.params
    table = _cost_table(StopTable.from_instance(instance), params)
    num_vehicles = instance.num_vehicles
    initial = [list(r) for r in job.initial]
    if params.construction or not any(initial):
        todo = [
            r
            for r in range(instance.num_requests)
            if r not in job.skip and all(2 * r not in route for route in initial)
        ]
        if todo and params.construction:
            initial, _ = regret_insertion(
                table,
                requests=todo,
                routes=initial,
                fixed_cost=params.vehicle_fixed_cost,
                seed=job.seed if job.seed else None,
            )
    candidates = [initial]
    if params.lns_fraction > 0 and any(initial):
        budget = max(0.0, job.deadline - time.time()) * params.lns_fraction
        served = {s >> 1 for route in initial for s in route}
        initial = improve(
            table,
            initial,
            pending=[
                r for r in range(instance.num_requests) if r not in job.skip and r not in served
            ],
            time_limit=budget,
            seed=job.seed,
            fixed_cost=params.vehicle_fixed_cost,
            locked=[list(p) for p in job.locked],
            temperature=params.lns_temperature,
        )
        candidates.append(initial)
    scale = 1.0 / params.precision
    depots = sorted(set(table.start) | set(table.end))
    depot_node = {loc: k for k, loc in enumerate(depots)}
    offset = len(depots)
    stops = [
        s for r in range(instance.num_requests) if r not in job.skip for s in (2 * r, 2 * r + 1)
    ]
    node_of = {s: offset + k for k, s in enumerate(stops)}
    node_loc = depots + [table.location[s] for s in stops]
    node_svc = [0.0] * offset + [table.service[s] for s in stops]
    num_nodes = len(node_loc)
    manager = pywrapcp.RoutingIndexManager(
        num_nodes,
        num_vehicles,
        [depot_node[x] for x in table.start],
        [depot_node[x] for x in table.end],
    )
    routing = pywrapcp.RoutingModel(manager)
    travel = instance.travel_times
    cost_matrix = travel if params.objective == "time" else instance.distances
    # Model indices differ from node numbers (ends are duplicated); use node matrices via
    # manager-aware callbacks registered as matrices on nodes.
    time_rows = [
        [math.ceil((travel[a, b] + node_svc[i]) * scale - 1e-6) for b in node_loc]
        for i, a in enumerate(node_loc)
    ]
    cost_rows = [[round(cost_matrix[a, b] * scale * 10) for b in node_loc] for a in node_loc]
    time_cb = routing.RegisterTransitMatrix(time_rows)
    cost_cb = routing.RegisterTransitMatrix(cost_rows)
    routing.SetArcCostEvaluatorOfAllVehicles(cost_cb)
    if params.vehicle_fixed_cost:
        routing.SetFixedCostOfAllVehicles(round(params.vehicle_fixed_cost * scale * 10))
    horizon_hi = max(
        max((x for x in table.shift_end if math.isfinite(x)), default=0.0),
        max((x for x in table.latest if math.isfinite(x)), default=0.0),
    )
    if horizon_hi == 0.0:
        horizon_hi = float(travel.max() * 2 * len(stops) + sum(table.service) + 1)
    horizon = math.ceil(horizon_hi * scale) + 1

    def ub(x: float) -> int:
        return horizon if not math.isfinite(x) else min(horizon, math.floor(x * scale + 1e-6))

    def lb(x: float) -> int:
        return max(0, math.ceil(x * scale - 1e-6))

    routing.AddDimension(time_cb, horizon, horizon, False, "time")
    dim = routing.GetDimensionOrDie("time")
    for name, values in (("seats", table.passengers), ("wheelchairs", table.wheelchairs)):
        if name == "wheelchairs" and not any(values):
            continue
        demand = [0] * offset + [values[s] for s in stops]
        cb = routing.RegisterUnaryTransitVector(demand)
        caps = table.seats if name == "seats" else table.wheelchair_places
        routing.AddDimensionWithVehicleCapacity(cb, 0, list(caps), True, name)
    if params.tighten_windows:
        earliest, latest = _tightened(table)
    else:
        earliest, latest = table.earliest, table.latest
    for s in stops:
        index = manager.NodeToIndex(node_of[s])
        dim.CumulVar(index).SetRange(lb(earliest[s]), ub(latest[s]))
    for v in range(num_vehicles):
        for index in (routing.Start(v), routing.End(v)):
            dim.CumulVar(index).SetRange(lb(table.shift_start[v]), ub(table.shift_end[v]))
        if math.isfinite(table.max_duration[v]):
            dim.SetSpanUpperBoundForVehicle(ub(table.max_duration[v]), v)
        routing.AddVariableMinimizedByFinalizer(dim.CumulVar(routing.End(v)))
        routing.AddVariableMaximizedByFinalizer(dim.CumulVar(routing.Start(v)))
    solver = routing.solver()
    penalty = params.rejection_penalty
    if penalty is None:
        penalty = float(cost_matrix.max()) * (2 * len(stops) + 2) + params.vehicle_fixed_cost * (
            num_vehicles + 1
        )
    penalty_int = round(penalty * scale * 10)
    ride_coef = round(params.ride_time_weight * 10)
    for r in range(instance.num_requests):
        if r in job.skip:
            continue
        pi = manager.NodeToIndex(node_of[2 * r])
        di = manager.NodeToIndex(node_of[2 * r + 1])
        routing.AddPickupAndDelivery(pi, di)
        solver.Add(routing.VehicleVar(pi) == routing.VehicleVar(di))
        ride = table.max_ride[r]
        if math.isfinite(ride):
            limit = ub(ride + table.service[2 * r])
            solver.Add(dim.CumulVar(di) - dim.CumulVar(pi) <= limit)
        routing.AddDisjunction([pi], penalty_int)
        routing.AddDisjunction([di], penalty_int)
        if ride_coef:
            dim.SetCumulVarSoftLowerBound(pi, ub(latest[2 * r]), ride_coef)
            dim.SetCumulVarSoftUpperBound(di, lb(earliest[2 * r + 1]), ride_coef)
    for v, prefix in enumerate(job.locked):
        prev = routing.Start(v)
        for s in prefix:
            index = manager.NodeToIndex(node_of[s])
            routing.NextVar(prev).SetValue(index)
            routing.VehicleVar(index).SetValue(v)
            prev = index

    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    )
    search.local_search_metaheuristic = getattr(
        routing_enums_pb2.LocalSearchMetaheuristic, job.metaheuristic.upper()
    )
    # the model is built: OR-Tools gets what is left of the wall-clock budget
    search.time_limit.FromMilliseconds(max(1, round((job.deadline - time.time()) * 1000)))
    routing.CloseModelWithParameters(search)

    def extract(solution: pywrapcp.Assignment) -> list[list[int]]:
        routes = []
        for v in range(num_vehicles):
            index = solution.Value(routing.NextVar(routing.Start(v)))
            route = []
            while not routing.IsEnd(index):
                route.append(stops[manager.IndexToNode(index) - offset])
                index = solution.Value(routing.NextVar(index))
            routes.append(route)
        return routes

    def descend(
        routes: list[list[int]], parameters: routing_parameters_pb2.RoutingSearchParameters
    ) -> list[list[int]] | None:
        start = routing.ReadAssignmentFromRoutes(
            [[manager.NodeToIndex(node_of[s]) for s in route] for route in routes], True
        )
        if start is None:
            return None
        solution = routing.SolveFromAssignmentWithParameters(start, parameters)
        return None if solution is None else extract(solution)

    result = descend(initial, search) if any(initial) else None
    if result is None:
        solution = routing.SolveWithParameters(search)
        result = extract(solution) if solution is not None else None
    if result is not None:
        candidates.append(result)
    return candidates


def solve(
    instance: Instance,
    *,
    params: SolveParams | None = None,
    initial_plan: Plan | None = None,
    locked: Mapping[str, Sequence[StopRef]] | None = None,
) -> Plan:
    """Plan routes for the instance's requests and vehicles.

    Parameters
    ----------
    instance
        The problem.
    params
        Tunables (default :class:`SolveParams`).
    initial_plan
        Warm start, e.g. the previous plan; requests missing from it are inserted.
    locked
        Per vehicle id, the stops at the start of its route that are served or committed
        and may not move (``(request_id, "pickup" | "dropoff")`` in driving order).

    Returns
    -------
    plan
        Routes timed by :func:`planner.darp.schedule.earliest_schedule`, and the rejected requests
        with their reasons.

    Raises
    ------
    InvalidPlanError
        If the warm start or locked prefix does not fit the instance (or, which would be a
        bug, no candidate plan passes :func:`planner.darp.validate.check`).
    """
    params = params or SolveParams()
    kernels.warm_up()  # the first run on a machine compiles the search (cached on disk)
    started = time.perf_counter()
    # leave a little of the budget for re-timing and assembling the plan
    deadline = time.time() + params.time_limit * 0.98 - 0.1
    table = StopTable.from_instance(instance)
    reasons = _reject_alone(table, instance)
    initial = routes_of_plan(instance, initial_plan) if initial_plan else None
    locked_routes = _locked_routes(instance, table, locked or {})
    if initial is None:
        initial = [list(p) for p in locked_routes]
    else:
        for v, prefix in enumerate(locked_routes):
            if initial[v][: len(prefix)] != prefix:
                vid = instance.vehicles[v].id
                raise InvalidPlanError(f"locked[{vid!r}]", "not a prefix of the initial plan")
    for v, route in enumerate(initial):
        if earliest_schedule(table, v, route) is None or not table.loads_fit(v, route):
            vid = instance.vehicles[v].id
            raise InvalidPlanError(f"initial_plan[{vid!r}]", "route is infeasible")
    skip = frozenset(r for r in reasons if all(2 * r not in route for route in initial))
    jobs = [
        _Job(
            instance,
            params,
            skip,
            tuple(tuple(r) for r in initial),
            tuple(tuple(p) for p in locked_routes),
            METAHEURISTICS[k % len(METAHEURISTICS)] if k else params.metaheuristic,
            params.seed + k,
            deadline,
        )
        for k in range(params.workers)
    ]
    if params.workers == 1:
        candidates = _search(jobs[0])
    else:
        candidates = []
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=params.workers, mp_context=ctx) as pool:
            futures = [pool.submit(_search, job) for job in jobs]
            for k, future in enumerate(futures):
                try:
                    candidates.extend(future.result())
                except BrokenProcessPool as exc:  # a worker died (e.g. a native crash)
                    log.warning("%s: worker %d failed (%s)", instance.name, k, exc)
        if not candidates:  # e.g. a caller's main module that spawned workers cannot import
            budget = max(deadline - time.time(), FALLBACK_SHARE * params.time_limit)
            log.warning(
                "%s: every worker failed; searching in this process for %.1fs",
                instance.name,
                budget,
            )
            fallback = dataclasses.replace(jobs[0], deadline=time.time() + budget)
            candidates = _search(fallback)
    plan = _best_valid_plan(instance, table, params, candidates, reasons)
    log.info(
        "%s: %d served, distance %.2f in %.1fs",
        instance.name,
        plan.num_served,
        plan.distance,
        time.perf_counter() - started,
    )
    return plan


def _locked_routes(
    instance: Instance, table: StopTable, locked: Mapping[str, Sequence[StopRef]]
) -> list[list[int]]:
    vehicle_index = {v.id: k for k, v in enumerate(instance.vehicles)}
    routes: list[list[int]] = [[] for _ in instance.vehicles]
    seen: set[int] = set()
    for vid, prefix in locked.items():
        if vid not in vehicle_index:
            raise InvalidPlanError("locked", f"unknown vehicle {vid!r}")
        stops = [stop_of_ref(instance, ref, f"locked[{vid!r}]") for ref in prefix]
        for s in stops:
            if s in seen:
                raise InvalidPlanError(f"locked[{vid!r}]", f"stop {s} appears twice")
            seen.add(s)
            if s & 1 and s - 1 not in stops:
                req = instance.requests[s >> 1].id
                msg = f"drop-off of {req!r} is locked but its pickup is not"
                raise InvalidPlanError(f"locked[{vid!r}]", msg)
        routes[vehicle_index[vid]] = stops
    return routes


__all__ = ["METAHEURISTICS", "SolveParams", "build_plan", "solve"]
