"""Re-optimising a booked day: the whole day re-planned by the solver.

The solver is warm-started from the current plan; the new plan is stored only if it keeps
every promise and costs less.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from planner.booking import kpis as kpi_module
from planner.darp.codec import kind_of, request_of, routes_of_plan
from planner.darp.model import Instance
from planner.darp.plan import Plan
from planner.darp.solve import SolveParams, solve
from planner.darp.validate import validate
from planner.service import Service
from planner.store.db import ServiceDay

if TYPE_CHECKING:
    from planner.booking.engine import BookingEngine


def optimize(engine: BookingEngine, day: date, *, time_limit: float = 10.0) -> dict[str, Any]:
    """Re-plan the whole day with OR-Tools, warm-started from the current plan.

    Stops already served or within the freeze horizon stay where they are; every
    confirmed booking keeps its window and ride-time promise. The new plan is stored
    only if it is valid, serves every booking and costs less; otherwise the current
    plan stays.

    Returns
    -------
    result
        ``stored`` (bool), ``reason``, ``before`` and ``after`` KPIs and costs.
    """
    key = day.isoformat()
    with engine.store.session() as session:
        row = session.get(ServiceDay, key)
        version = row.version if row else 0
        state = engine.days.load(session, key)
    if not state.bookings:
        return {"stored": False, "reason": "no bookings on this day"}
    current = state.plan()
    before = kpi_module.plan_kpis(state.instance, current)
    locked = {
        engine.service.fleet[r.vehicle].id: [
            (state.instance.requests[request_of(s)].id, kind_of(s))
            for s in r.stops[: r.first_position]
        ]
        for r in engine._prepare(state, day)
        if r.first_position
    }
    params = SolveParams(
        time_limit=time_limit,
        objective="time",
        ride_time_weight=engine.service.ride_time_weight,
        construction=False,
    )
    new = solve(state.instance, params=params, initial_plan=current, locked=locked)
    after = kpi_module.plan_kpis(state.instance, new)
    cost_before = service_cost(engine.service, state.instance, current)
    cost_after = service_cost(engine.service, state.instance, new)
    out = {
        "before": before,
        "after": after,
        "cost_before": round(cost_before, 1),
        "cost_after": round(cost_after, 1),
    }
    problems = validate(state.instance, new)
    if problems or new.rejected:
        return {**out, "stored": False, "reason": "the new plan would break a promise"}
    if cost_after >= cost_before - 1e-6:
        return {**out, "stored": False, "reason": "the current plan is already as good"}
    with engine.store.writing(key) as (session, lock):
        if lock.version != version:
            return {**out, "stored": False, "reason": "bookings changed meanwhile; try again"}
        fresh = engine.days.load(session, key)
        fresh.routes = routes_of_plan(fresh.instance, new)
        engine.days.save_plan(session, fresh, "re-optimisation")
        lock.version += 1
    return {**out, "stored": True, "reason": "stored a better plan"}


def service_cost(service: Service, instance: Instance, plan: Plan) -> float:
    """Objective of the service: weighted vehicle travel time plus passenger ride time."""
    ride = 0.0
    for route in plan.routes:
        picked = {}
        for v in route.visits:
            if v.kind == "pickup":
                picked[v.request_id] = v.departure
            else:
                ride += v.service_start - picked.get(v.request_id, v.service_start)
    return service.vehicle_time_weight * plan.travel_time + service.ride_time_weight * ride
