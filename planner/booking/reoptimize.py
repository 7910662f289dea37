"""Re-optimising a booked day: the whole day re-planned by the solver.

The solver is warm-started from the current plan; the new plan is stored only if it keeps
every promise and costs less.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from planner.darp.codec import kind_of, request_of, routes_of_plan
from planner.darp.solve import SolveParams, solve
from planner.darp.validate import validate
from planner.store.db import ServiceDay

if TYPE_CHECKING:
    from planner.booking.engine import BookingEngine

#: The reason of a plan version stored by a re-optimisation (the background worker counts a
#: day's changes since the last one).
REASON = "re-optimisation"
#: The reason of a result discarded because the day was written while the solver ran.
CHANGED_MEANWHILE = "bookings changed meanwhile; try again"


def optimize(engine: BookingEngine, day: date, *, time_limit: float = 10.0) -> dict[str, Any]:
    """Re-plan the whole day with OR-Tools, warm-started from the current plan.

    Stops already served or within the freeze horizon stay where they are; every
    confirmed booking keeps its window and ride-time promise. The new plan is stored
    only if it is valid, serves every booking and costs less; otherwise the current
    plan stays.

    Returns
    -------
    result
        ``stored`` (bool), ``code`` (``stored``, ``no_bookings``, ``breaks_promise``,
        ``no_better``, ``changed_meanwhile``), ``reason`` (the code in English words),
        ``before`` and ``after`` KPIs and costs.
    """
    key = day.isoformat()
    with engine.store.session() as session:
        row = session.get(ServiceDay, key)
        version = row.version if row else 0
        state = engine.days.load(session, key)
    if all(r.vehicle_id is not None for r in state.instance.requests):  # breaks at most
        return {"stored": False, "code": "no_bookings", "reason": "no bookings on this day"}
    current = state.plan()
    before = engine.days.kpis(state.instance, current)
    prepared = engine._prepare(state, day)
    locked = {
        bus.id: [(state.instance.requests[request_of(s)].id, kind_of(s)) for s in fixed]
        for v, bus in enumerate(engine.service.fleet)
        if (fixed := prepared.fixed(v))
    }
    params = SolveParams(
        time_limit=time_limit, objective=engine.service.objective, construction=False
    )
    new = solve(state.instance, params=params, initial_plan=current, locked=locked)
    after = engine.days.kpis(state.instance, new)
    cost_before = engine.service.objective.plan_cost(state.instance, current)
    cost_after = engine.service.objective.plan_cost(state.instance, new)
    out = {
        "before": before,
        "after": after,
        "cost_before": round(cost_before, 1),
        "cost_after": round(cost_after, 1),
    }
    problems = validate(state.instance, new)
    if problems or new.rejected:
        return {
            **out,
            "stored": False,
            "code": "breaks_promise",
            "reason": "the new plan would break a promise",
        }
    if cost_after >= cost_before - 1e-6:
        return {
            **out,
            "stored": False,
            "code": "no_better",
            "reason": "the current plan is already as good",
        }
    with engine.store.writing(key) as (session, lock):
        if lock.version != version:
            return {
                **out,
                "stored": False,
                "code": "changed_meanwhile",
                "reason": CHANGED_MEANWHILE,
            }
        fresh = engine.days.load(session, key)
        fresh.replace_routes(routes_of_plan(fresh.instance, new))
        engine.days.save_plan(session, lock, fresh, REASON, kpis=True)
    return {**out, "stored": True, "code": "stored", "reason": "stored a better plan"}
