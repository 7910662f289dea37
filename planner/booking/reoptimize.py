"""Re-optimising a booked day: the whole day re-planned by the solver.

The solver is warm-started from the current plan (:func:`propose`). The background worker
and the API's plain call (:func:`optimize`) store the new plan at once, but only if it keeps
every promise and costs less. A dispatcher previews it first (:func:`preview`): the
candidate, checked by the independent validator, is kept with the plan version it was
solved from, and stored only when accepted while the day is still at that version
(:func:`accept`), or thrown away (:func:`discard`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete

from planner.darp.codec import kind_of, request_of, routes_of_refs
from planner.darp.model import Instance
from planner.darp.plan import Plan
from planner.darp.solve import SolveParams, solve
from planner.darp.validate import validate
from planner.errors import NotFoundError
from planner.store.db import PlanProposal, ServiceDay
from planner.timefmt import hhmm

if TYPE_CHECKING:
    from planner.booking.engine import BookingEngine

#: The reason of a plan version stored by a re-optimisation (the background worker counts a
#: day's changes since the last one).
REASON = "re-optimisation"
#: The reason of a result discarded because the day was written while the solver ran.
CHANGED_MEANWHILE = "bookings changed meanwhile; try again"

#: The English words of each outcome ``code``.
REASONS = {
    "stored": "stored a better plan",
    "no_bookings": "no bookings on this day",
    "breaks_promise": "the new plan would break a promise",
    "no_better": "the current plan is already as good",
    "changed_meanwhile": CHANGED_MEANWHILE,
    "proposed": "a better plan is proposed; accept or discard it",
    "proposed_costlier": "a valid plan is proposed, but it costs more than the current one",
    "discarded": "the proposal was discarded",
}


@dataclass(frozen=True, slots=True)
class PickupChange:
    """A rider whose estimated pickup the new plan moves (times in seconds of the day)."""

    code: str
    before_s: float
    after_s: float
    vehicle_before: str
    vehicle_after: str

    def to_json(self) -> dict[str, Any]:
        """As the API answers: times ``HH:MM`` and the shift in whole minutes."""
        return {
            "code": self.code,
            "estimated_pickup_before": hhmm(self.before_s),
            "estimated_pickup_after": hhmm(self.after_s),
            "shift_min": round((self.after_s - self.before_s) / 60),
            "vehicle_before": self.vehicle_before,
            "vehicle_after": self.vehicle_after,
        }


@dataclass(frozen=True)
class Proposal:
    """A solved candidate for a day, against the plan (``version``) it was solved from.

    ``code`` is ``no_bookings``, ``breaks_promise``, ``no_better`` or ``better``; ``plan``
    the candidate (None without bookings).
    """

    day: str
    version: int
    code: str
    plan: Plan | None
    report: dict[str, Any]
    changes: tuple[PickupChange, ...] = ()


def propose(
    engine: BookingEngine, day: date, *, time_limit: float = 10.0, moves: int = 0
) -> Proposal:
    """Re-plan the whole day with OR-Tools, warm-started from the current plan; store nothing.

    Stops already served or within the freeze horizon stay where they are; every
    confirmed booking keeps its window and ride-time promise. The candidate is checked by
    the independent validator: ``breaks_promise`` if it fails or leaves a booking unserved.
    ``moves`` gives the search a budget of moves instead of the clock
    (:attr:`planner.darp.solve.SolveParams.iterations`; ``time_limit`` then caps it; 0: the
    clock alone).
    """
    key = day.isoformat()
    with engine.store.session() as session:
        row = session.get(ServiceDay, key)
        version = row.version if row else 0
        state = engine.days.load(session, key)
    if all(r.vehicle_id is not None for r in state.instance.requests):  # breaks at most
        return Proposal(key, version, "no_bookings", None, {})
    current = state.plan()
    before = engine.days.kpis(state.instance, current)
    prepared = engine._prepare(state, day)
    locked = {
        bus.id: [(state.instance.requests[request_of(s)].id, kind_of(s)) for s in fixed]
        for v, bus in enumerate(engine.service.fleet)
        if (fixed := prepared.fixed(v))
    }
    params = SolveParams(
        time_limit=time_limit,
        objective=engine.service.objective,
        construction=False,
        iterations=moves or None,
    )
    new = solve(state.instance, params=params, initial_plan=current, locked=locked)
    after = engine.days.kpis(state.instance, new)
    cost_before = engine.service.objective.plan_cost(state.instance, current)
    cost_after = engine.service.objective.plan_cost(state.instance, new)
    report = {
        "before": before,
        "after": after,
        "cost_before": round(cost_before, 1),
        "cost_after": round(cost_after, 1),
    }
    if validate(state.instance, new) or new.rejected:
        code = "breaks_promise"
    else:
        code = "better" if cost_after < cost_before - 1e-6 else "no_better"
    changes = pickup_changes(state.instance, current, new)
    return Proposal(key, version, code, new, report, changes)


def pickup_changes(instance: Instance, before: Plan, after: Plan) -> tuple[PickupChange, ...]:
    """The riders whose estimated pickup moves by a minute or more, earliest first."""

    def pickups(plan: Plan) -> dict[str, tuple[float, str]]:
        return {
            visit.request_id: (visit.service_start, route.vehicle_id)
            for route in plan.routes
            for visit in route.visits
            if visit.kind == "pickup"
        }

    riders = {r.id for r in instance.requests if r.vehicle_id is None}  # not drivers' breaks
    old, new = pickups(before), pickups(after)
    moved = [
        PickupChange(code, old[code][0], new[code][0], old[code][1], new[code][1])
        for code in sorted(riders & old.keys() & new.keys(), key=lambda c: old[c][0])
        if round((new[code][0] - old[code][0]) / 60) != 0 or old[code][1] != new[code][1]
    ]
    return tuple(moved)


def _answer(code: str, report: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {**report, "stored": code == "stored", "code": code, "reason": REASONS[code], **more}


def _store(engine: BookingEngine, key: str, version: int, refs: dict[str, Any]) -> bool:
    """Store the routes ``refs`` as the day's plan if the day is still at ``version``."""
    with engine.store.writing(key) as (session, lock):
        if lock.version != version:
            return False
        fresh = engine.days.load(session, key)
        fresh.replace_routes(routes_of_refs(fresh.instance, refs, where=f"proposal for {key}"))
        engine.days.save_plan(session, lock, fresh, REASON, kpis=True)
    return True


def _refs(plan: Plan) -> dict[str, list[list[str]]]:
    return {r.vehicle_id: [[x.request_id, x.kind] for x in r.visits] for r in plan.routes}


def optimize(
    engine: BookingEngine, day: date, *, time_limit: float = 10.0, moves: int = 0
) -> dict[str, Any]:
    """Re-plan ``day`` and store the new plan at once if it is better (the worker's way).

    Stored only if it is valid, serves every booking and costs less; otherwise the current
    plan stays.

    Returns
    -------
    result
        ``stored`` (bool), ``code`` (``stored``, ``no_bookings``, ``breaks_promise``,
        ``no_better``, ``changed_meanwhile``), ``reason`` (the code in English words),
        ``before`` and ``after`` KPIs and costs.
    """
    found = propose(engine, day, time_limit=time_limit, moves=moves)
    if found.code != "better":
        return _answer(found.code, found.report)
    assert found.plan is not None
    stored = _store(engine, found.day, found.version, _refs(found.plan))
    return _answer("stored" if stored else "changed_meanwhile", found.report)


def preview(engine: BookingEngine, day: date, *, time_limit: float = 10.0) -> dict[str, Any]:
    """Re-plan ``day`` and keep the candidate for a dispatcher to accept; store no plan.

    Returns
    -------
    result
        As :func:`optimize` (``stored`` is false), with ``code`` ``proposed`` (cheaper) or
        ``proposed_costlier`` (valid, but it costs more), ``proposal`` (its id, for
        :func:`accept` and :func:`discard`), ``version`` (the plan it was solved from) and
        ``changes`` (riders whose estimated pickup moves, :class:`PickupChange`).
        ``breaks_promise`` and ``no_bookings`` keep nothing; nor does ``no_better`` when
        nothing moves.
    """
    found = propose(engine, day, time_limit=time_limit)
    changes = [c.to_json() for c in found.changes]
    if found.code in ("no_bookings", "breaks_promise") or (
        found.code == "no_better" and not changes
    ):
        return _answer(found.code, found.report, changes=changes)
    assert found.plan is not None
    code = "proposed" if found.code == "better" else "proposed_costlier"
    report = {**found.report, "changes": changes, "version": found.version}
    proposal_id = secrets.token_urlsafe(16)
    with engine.store.session() as session:
        session.add(
            PlanProposal(
                id=proposal_id,
                day=found.day,
                base_version=found.version,
                routes=_refs(found.plan),
                report=report,
                created_at=engine.clock(),
            )
        )
    return _answer(code, report, proposal=proposal_id)


def proposal(engine: BookingEngine, day: date, proposal_id: str) -> PlanProposal:
    """The kept proposal ``proposal_id`` of ``day``.

    Raises
    ------
    NotFoundError
        If there is none (never made, accepted or discarded).
    """
    with engine.store.session() as session:
        found = session.get(PlanProposal, proposal_id)
    if found is None or found.day != day.isoformat():
        raise NotFoundError("proposal", f"no proposal {proposal_id!r} for {day.isoformat()}")
    return found


def accept(engine: BookingEngine, day: date, proposal_id: str) -> dict[str, Any]:
    """Store a previewed plan if the day has not changed since it was solved.

    The plan passes the validator again as it is stored (:meth:`DayStore.save_plan`). The
    proposal is used up either way.

    Returns
    -------
    result
        The proposal's report with ``code`` ``stored`` or ``changed_meanwhile``.

    Raises
    ------
    NotFoundError
        If there is no such proposal.
    """
    found = proposal(engine, day, proposal_id)
    stored = _store(engine, found.day, found.base_version, found.routes)
    _forget(engine, day, None if stored else proposal_id)
    return _answer("stored" if stored else "changed_meanwhile", found.report)


def discard(engine: BookingEngine, day: date, proposal_id: str) -> dict[str, Any]:
    """Throw a previewed plan away; the current plan stays.

    Raises
    ------
    NotFoundError
        If there is no such proposal.
    """
    found = proposal(engine, day, proposal_id)
    _forget(engine, day, proposal_id)
    return _answer("discarded", found.report)


def _forget(engine: BookingEngine, day: date, proposal_id: str | None) -> None:
    """Drop the proposal ``proposal_id``, or with None every proposal of the day.

    Once a plan is stored, every proposal of the day was solved from an older plan.
    """
    query = delete(PlanProposal).where(PlanProposal.day == day.isoformat())
    if proposal_id is not None:
        query = query.where(PlanProposal.id == proposal_id)
    with engine.store.maintaining() as session:
        session.execute(query)
