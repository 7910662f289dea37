"""Simulate a service day with the booking engine itself.

Requests arrive in booking order, riders take an offer or not, and the day is re-optimised
as the background worker would (:mod:`planner.booking.background`, the same policy and the
same pass), on the simulated clock.
"""

from __future__ import annotations

import logging
import time as timer
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from tqdm import tqdm

from planner.booking import BookingEngine
from planner.booking.background import Attempt, run_once
from planner.booking.engine import OfferView
from planner.booking.views import DayPlan
from planner.errors import BookingError
from planner.scenarios.demand import DemandRequest
from planner.service import ReoptimizePolicy, Service
from planner.stops import StopCatalog
from planner.store.db import open_store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SimulationParams:
    """How riders choose and how often the day is re-optimised.

    Attributes
    ----------
    rider_tolerance_min
        A rider takes the best offer if its promise is within this many minutes of the wish
        (the pickup window's start; arrive-by: the latest arrival); otherwise declines.
    reoptimize_every_min
        Re-optimise the day when this many minutes of booking time have passed since its
        last re-optimisation and it changed (0: not by time).
    reoptimize_seconds
        Solver time limit of each re-optimisation.
    reoptimize_moves
        Moves of each re-optimisation's search, capped by ``reoptimize_seconds`` (0: the
        time limit alone). With a budget the re-optimisations, unlike the clock, give the
        same plans on any machine and under any load.
    reoptimize_every_bookings
        Re-optimise the day after this many bookings since its last re-optimisation (0: not
        by count).

    With both rules off the day is never re-optimised; otherwise also once when bookings
    close. The rules are the service file's ``[reoptimize]`` (:attr:`policy`).
    """

    rider_tolerance_min: int = 30
    reoptimize_every_min: int = 180
    reoptimize_seconds: float = 3.0
    reoptimize_every_bookings: int = 0
    reoptimize_moves: int = 0

    @property
    def policy(self) -> ReoptimizePolicy:
        """The re-optimisation policy of the simulated service."""
        return ReoptimizePolicy(
            enabled=bool(self.reoptimize_every_min or self.reoptimize_every_bookings),
            every_bookings=self.reoptimize_every_bookings,
            every_min=self.reoptimize_every_min,
            time_limit_s=self.reoptimize_seconds,
            moves=self.reoptimize_moves,
        )


@dataclass
class SimClock:
    """The simulation's clock: the engine reads it, the simulation sets it."""

    now: datetime = field(default_factory=lambda: datetime(2000, 1, 1, tzinfo=UTC))

    def __call__(self) -> datetime:
        """The simulated time."""
        return self.now


@dataclass(frozen=True)
class SimulationResult:
    """KPIs of the day, one row per request, the final plan and its validation."""

    kpis: dict[str, Any]
    requests: pd.DataFrame
    plan: DayPlan
    problems: list[str]


def rider_choice(offers: Sequence[OfferView], tolerance_min: int) -> OfferView | None:
    """The rider's choice: the first (nearest) offer, if close enough to the wish.

    Closeness is the offer's promise against the wish
    (:func:`planner.booking.rules.wish_shift_s`): the pickup window's start, or for
    arrive-by the latest arrival, in whole minutes as the rider reads the offer. How early
    an arrive-by bus gets there is not held against it: the ride-time promise bounds that,
    as it does for everyone. (Judged by the estimated arrival, riders with a tolerance of 0
    took almost no arrive-by offer: 1 of 91 on the 300 / 12 day of
    ``benchmarks/bench_online.py``.)
    """
    if not offers:
        return None
    best = offers[0]
    return best if abs(round(best.shift_s / 60)) <= tolerance_min else None


def simulate_day(
    service: Service,
    catalog: StopCatalog,
    demand: list[DemandRequest],
    *,
    day: date,
    params: SimulationParams,
    db_url: str,
    progress: bool = False,
) -> SimulationResult:
    """Run one service day.

    Parameters
    ----------
    service
        The service (fleet, rules).
    catalog
        Bookable stops and matrices.
    demand
        Requests in booking-time order.
    day
        The service day.
    params
        Rider choice and re-optimisation.
    db_url
        An empty database for this run (a SQLite file in the run's folder).
    progress
        Show a progress bar of the requests (batches show their own, per run).

    Returns
    -------
    result
        KPIs (including ``solver_seconds``), the request table and the validated final plan.
    """
    clock = SimClock()
    policy = params.policy
    service = replace(service, reoptimize=policy)
    engine = BookingEngine(service, catalog, open_store(db_url), clock=clock)
    solver_s = 0.0
    rows = []
    booked = 0
    tried: dict[date, Attempt] = {}

    def reoptimize_if_due(at: datetime) -> None:
        # the worker's own pass: due by the policy, from the day's plan versions
        nonlocal solver_s
        clock.now = at
        for done in run_once(engine, at, tried, days=[day]):
            solver_s += done.seconds

    for request in tqdm(demand, desc="riders booking", unit="request", disable=not progress):
        at = engine.local(day, request.booked_at_s)
        reoptimize_if_due(at)
        clock.now = at
        trip = request.trip
        row = {
            "group": request.group,
            "kind": trip.kind,
            "wish_min": trip.time_s // 60,
            "people": trip.passengers + trip.wheelchairs,
            "origin": trip.origin,
            "destination": trip.destination,
            "booked_at_min": request.booked_at_s // 60,
        }
        try:
            result = engine.offer(trip, with_alternatives=False)
        except BookingError as exc:
            rows.append({**row, "outcome": "rejected", "reason": exc.field})
            continue
        choice = rider_choice(result.offers, params.rider_tolerance_min)
        if choice is None:
            reason = result.reason or "declined"
            rows.append({**row, "outcome": "rejected", "reason": reason})
            continue
        (confirmed,) = engine.confirm(choice.id, name="Simulation", phone="0000 00000")
        booked += 1
        rows.append({**row, "outcome": "served", "reason": "", "code": confirmed["code"]})
        if policy.every_bookings:  # after the every_bookings-th booking, at once
            reoptimize_if_due(at)  # (the time rule is asked before the next request)
    if policy.enabled and booked:
        # the last re-optimisation before the day starts
        clock.now = max(clock.now, engine.local(day, -3600))
        started = timer.perf_counter()
        engine.optimize(day, time_limit=policy.time_limit_s, moves=policy.moves)
        solver_s += timer.perf_counter() - started
    table = pd.DataFrame(rows)
    plan = engine.day_plan(day)
    kpis = engine.kpis(day)
    problems = engine.validate_day(day)
    kpis.update(request_kpis(table))
    kpis.update(wish_kpis(table, plan))
    kpis["solver_seconds"] = round(solver_s, 2)
    return SimulationResult(kpis, table, plan, problems)


def wish_kpis(table: pd.DataFrame, plan: DayPlan) -> dict[str, Any]:
    """How far service is from the wish, in whole minutes, from the final plan.

    That is the pickup after the wished time ("pick me up at"), or the arrival before it
    ("arrive by").
    """
    times: dict[tuple[str, str], int] = {
        (s.code, s.kind): int(s.service_start_s // 60) for _, s in plan.stops()
    }
    gaps = []
    served = table[table["outcome"] == "served"]
    for code, kind, wish_min in zip(
        served["code"], served["kind"], served["wish_min"], strict=True
    ):
        if kind == "pickup":
            gaps.append(abs(times[(code, "pickup")] - wish_min))
        else:
            gaps.append(wish_min - times[(code, "dropoff")])
    if not gaps:
        return {}
    return {
        "mean_wait_min": round(float(pd.Series(gaps).mean()), 1),
        "p95_wait_min": round(float(pd.Series(gaps).quantile(0.95)), 1),
    }


def request_kpis(table: pd.DataFrame) -> dict[str, Any]:
    """Requests and rejections, by reason and by rider group."""
    out: dict[str, Any] = {"requests": len(table)}
    if table.empty:
        return out
    rejected = table[table["outcome"] == "rejected"]
    out["served"] = int((table["outcome"] == "served").sum())
    out["rejected"] = len(rejected)
    out["rejection_rate"] = round(len(rejected) / len(table), 3)
    for reason, count in rejected["reason"].value_counts().items():
        out[f"rejected_{reason}"] = int(count)
    for group in ("single", "group", "wheelchair"):
        mine = table[table["group"] == group]
        share = (mine["outcome"] == "rejected").mean() if len(mine) else 0.0
        out[f"rejection_rate_{group}"] = round(float(share), 3)
    return out
