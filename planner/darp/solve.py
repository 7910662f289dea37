"""Dial-a-ride solver: construction, ruin-and-recreate search and OR-Tools, one objective.

Pipeline of :func:`solve`:

1. requests no vehicle could serve even alone are rejected up front, with the reason;
2. initial routes come from the warm-start plan and/or :func:`planner.darp.search.construct.
   regret_insertion` (feasible by construction), since OR-Tools' own first solutions are
   weak under tight windows and ride times;
3. :func:`planner.darp.search.lns.improve` (ruin and recreate with the same exact insertion)
   spends most of the budget: OR-Tools' single-pair moves are nearly all infeasible on tight
   dial-a-ride instances, so its local search stalls near its starting point;
4. OR-Tools polishes the result (:func:`planner.darp.search.ortools_model.polish`, guided
   local search by default);
5. every plan seen on the way (construction, LNS, OR-Tools) is a candidate: its routes are
   re-timed by :func:`planner.darp.schedule.earliest_schedule` (not read from the solver's
   cumul variables), it must pass :func:`planner.darp.validate.check`, and the best valid one
   wins by :meth:`planner.darp.objective.Objective.rank` (more requests served, then the one
   cost). OR-Tools under a short time limit may hand back a plan serving nothing, or one
   that does not survive re-timing; the construction it started from then stands.

All steps minimise the same :class:`planner.darp.objective.Objective` (``params.objective``).
With ``workers > 1`` several independent searches (different seeds of the construction
and different metaheuristics) run in parallel processes and the best candidate of all
wins. One of the searches runs in this process, so a plan is found even if every worker
process dies.
"""

from __future__ import annotations

import contextlib
import faulthandler
import io
import logging
import multiprocessing
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from planner.darp.breaks import place_breaks
from planner.darp.codec import StopRef, build_plan, routes_of_plan, stop_of_ref
from planner.darp.model import Instance
from planner.darp.objective import Objective
from planner.darp.plan import Plan
from planner.darp.schedule import StopTable, earliest_schedule
from planner.darp.search import kernels
from planner.darp.search.construct import regret_insertion
from planner.darp.search.lns import Routes, improve
from planner.darp.search.ortools_model import METAHEURISTICS, ModelParams, polish
from planner.darp.validate import check
from planner.errors import InvalidParamsError, InvalidPlanError

log = logging.getLogger(__name__)

# Seconds the OR-Tools model takes to build per arc (node pair) on this 2-core machine, about:
# with less time left than that, the model is not built at all.
MODEL_SECONDS_PER_ARC = 2e-6


@dataclass(frozen=True, slots=True)
class SolveParams:
    """Tunables of :func:`solve`.

    Attributes
    ----------
    time_limit
        Wall-clock budget of :func:`solve` in seconds (construction, LNS and OR-Tools;
        workers run in parallel within it).
    workers
        Number of parallel searches; the best plan wins.
    seed
        Seed of the randomised parts (construction noise of workers after the first).
    objective
        What a plan costs (:class:`planner.darp.objective.Objective`): the one cost that
        the construction, the LNS, the OR-Tools model and the choice among workers use.
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
    iterations
        Moves of the LNS per search, instead of a share of the time: the same seed then
        gives the same plan on any machine and under any load (a scenario batch, a test).
        OR-Tools, whose search is led by the clock, is then left out; ``time_limit`` stays a
        cap. ``None``: the search is led by the clock.
    """

    time_limit: float = 10.0
    workers: int = 1
    seed: int = 0
    objective: Objective = Objective()
    rejection_penalty: float | None = None
    metaheuristic: str = "guided_local_search"
    construction: bool = True
    tighten_windows: bool = True
    precision: float = 1e-4
    lns_fraction: float = 0.85
    lns_temperature: float = 0.003
    iterations: int | None = None

    def __post_init__(self) -> None:
        if not self.time_limit > 0:
            raise InvalidParamsError("time_limit", f"must be > 0, got {self.time_limit}")
        if self.workers < 1:
            raise InvalidParamsError("workers", f"must be >= 1, got {self.workers}")
        if not isinstance(self.objective, Objective):
            msg = f"must be an Objective, got {self.objective!r}"
            raise InvalidParamsError("objective", msg)
        if self.metaheuristic not in METAHEURISTICS:
            msg = f"must be one of {', '.join(METAHEURISTICS)}, got {self.metaheuristic!r}"
            raise InvalidParamsError("metaheuristic", msg)
        if self.rejection_penalty is not None and not self.rejection_penalty > 0:
            raise InvalidParamsError("rejection_penalty", "must be > 0")
        if not 0 <= self.lns_fraction < 1:
            raise InvalidParamsError("lns_fraction", f"must be in [0, 1), got {self.lns_fraction}")
        if self.iterations is not None and self.iterations < 1:
            raise InvalidParamsError("iterations", f"must be >= 1, got {self.iterations}")
        if self.iterations is not None and self.lns_fraction == 0:
            raise InvalidParamsError("iterations", "counts moves of the LNS: lns_fraction is 0")
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


def _best_valid_plan(
    instance: Instance,
    table: StopTable,
    params: SolveParams,
    candidates: Sequence[Routes],
    reasons: Mapping[int, str],
) -> Plan:
    """Return the best candidate that passes the validator.

    Candidates are ranked by :meth:`planner.darp.objective.Objective.rank`: more requests
    served, then the objective's cost.

    Parameters
    ----------
    instance
        The instance.
    table
        Its stop table (with the true distances; plans report those).
    params
        The solve parameters (their objective ranks the candidates).
    candidates
        Stop sequences per vehicle; ties keep the earlier candidate.
    reasons
        Rejection reasons of requests known to be unservable.

    Raises
    ------
    InvalidPlanError
        If no candidate passes (a bug: the construction is feasible by design).
    """
    best: Plan | None = None
    best_key: tuple[int, float] | None = None
    errors = []
    for k, routes in enumerate(candidates):
        key = params.objective.rank(table, routes)
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


def _search(job: _Job) -> list[Routes]:
    """Construct, improve by LNS, polish with OR-Tools; return the candidate routes.

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
    table = StopTable.from_instance(instance)
    requests = [r for r in range(instance.num_requests) if r not in job.skip]
    riders = [r for r in requests if table.only_vehicle[r] < 0]  # breaks are placed already
    initial = [list(r) for r in job.initial]
    if params.construction or not any(initial):
        todo = [r for r in riders if all(2 * r not in route for route in initial)]
        if todo and params.construction:
            initial, _ = regret_insertion(
                table,
                requests=todo,
                routes=initial,
                objective=params.objective,
                seed=job.seed if job.seed else None,
            )
    candidates = [initial]
    if params.lns_fraction > 0 and any(initial):
        left = max(0.0, job.deadline - time.time())
        # under an iteration budget the moves end the search; the clock only caps it
        budget = left if params.iterations else left * params.lns_fraction
        served = {s >> 1 for route in initial for s in route}
        initial = improve(
            table,
            initial,
            pending=[r for r in riders if r not in served],
            time_limit=budget,
            seed=job.seed,
            objective=params.objective,
            locked=[list(p) for p in job.locked],
            temperature=params.lns_temperature,
            iterations=params.iterations,
        )
        candidates.append(initial)
    if params.iterations:
        return candidates  # OR-Tools' search is led by the clock: it would undo the budget
    nodes = len(set(table.start) | set(table.end)) + 2 * len(requests)
    if job.deadline - time.time() < MODEL_SECONDS_PER_ARC * nodes * nodes:
        # building the model alone would overrun the budget (a district day of 1,000
        # requests has 4 million arcs): the construction and the LNS stand
        log.info("%s: no time left to model %d nodes for OR-Tools", instance.name, nodes)
        return candidates
    model_params = ModelParams(
        objective=params.objective,
        metaheuristic=job.metaheuristic,
        deadline=job.deadline,
        rejection_penalty=params.rejection_penalty,
        tighten_windows=params.tighten_windows,
        precision=params.precision,
    )
    result = polish(
        instance, table, initial, requests=requests, locked=job.locked, params=model_params
    )
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
    initial, unplaced = place_breaks(table, initial, [len(p) for p in locked_routes])
    if unplaced:
        req = instance.requests[unplaced[0]]
        msg = f"no room for {req.id!r} in the route of vehicle {req.vehicle_id!r}"
        raise InvalidPlanError(f"requests[{unplaced[0]}]", msg)
    skip = frozenset(r for r in reasons if all(2 * r not in route for route in initial))
    if all(only >= 0 for only in table.only_vehicle):  # no riders: the breaks are the plan
        plan = build_plan(instance, initial, reasons=reasons, table=table)
        check(instance, plan)
        return plan
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
        # this process searches too, from the start: a spawned worker first imports the
        # planner (seconds of a 10 s budget), and if every worker dies its plan stands
        ctx = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(max_workers=params.workers - 1, mp_context=ctx)
        try:
            futures = [pool.submit(_search, job) for job in jobs[1:]]
            candidates = _search(jobs[0])
            for k, future in enumerate(futures, start=1):
                try:
                    candidates.extend(future.result())
                except BrokenProcessPool as exc:  # a worker died (e.g. a native crash)
                    log.warning("%s: worker %d failed (%s)", instance.name, k, exc)
        finally:
            # the workers' results are in: their processes end in the background (an
            # interpreter with the planner loaded takes about a second to shut down)
            pool.shutdown(wait=False, cancel_futures=True)
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
