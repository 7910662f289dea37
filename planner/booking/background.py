"""Re-optimising the open days in the background: which days are due, one pass, the loop.

Offers insert each booking into the plan as it stands, so the plan drifts from the best one
as a day fills up. A worker (``rufbus worker``, or the one ``rufbus serve`` starts) re-plans
each open day (today to the booking horizon) when the service's
:class:`~planner.service.ReoptimizePolicy` says it is due: after ``every_bookings`` changes
since its last re-optimisation, or ``every_min`` minutes after it if the day changed at all.

Changes and the time of the last re-optimisation come from the day's plan versions: every
write stores one, and a stored re-optimisation has the reason
:data:`~planner.booking.reoptimize.REASON`. An attempt that stores nothing (the plan is
already as good) leaves no version, so the worker remembers it in memory (:class:`Attempt`);
otherwise the day would be solved again on every poll.

The re-optimisation itself is :func:`~planner.booking.reoptimize.optimize`: it solves outside
the day's write lock, stores only a validated plan that keeps every promise and costs less,
and discards its result if the day changed meanwhile (that day stays due).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from planner.booking.reoptimize import CHANGED_MEANWHILE, REASON, optimize
from planner.store.db import PlanVersion, Store

if TYPE_CHECKING:
    from planner.booking.engine import BookingEngine
    from planner.service import Service

log = logging.getLogger(__name__)

#: Seconds between two looks at the open days.
POLL_S = 10.0


class StopEvent(Protocol):
    """A ``threading.Event`` or a ``multiprocessing.Event``."""

    def is_set(self) -> bool:
        """Whether the event is set."""
        ...

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the event is set or ``timeout`` passed; whether it is set."""
        ...


@dataclass(frozen=True, slots=True)
class DayActivity:
    """A day's changes since its last stored re-optimisation, from its plan versions.

    ``version`` is the newest plan version; ``base`` the version of the last re-optimisation
    (0 if none); ``changes`` the versions after it; ``since`` the time of the last
    re-optimisation (if none: of the day's first change).
    """

    day: date
    version: int
    base: int
    changes: int
    since: datetime


@dataclass(frozen=True, slots=True)
class Attempt:
    """A re-optimisation that ran on plan ``version`` of a day at ``at`` (stored or not)."""

    version: int
    at: datetime


@dataclass(frozen=True, slots=True)
class RunResult:
    """One day's background re-optimisation: stored or not, why, and the costs."""

    day: date
    stored: bool
    reason: str
    cost_before: float | None
    cost_after: float | None
    seconds: float


#: Per day, the last attempt of this worker (kept in memory, lost at restart).
Attempts = MutableMapping[date, Attempt]


def _aware(moment: datetime) -> datetime:
    """``moment`` with a time zone (SQLite returns stored UTC times without one)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def open_days(service: Service, now: datetime) -> list[date]:
    """The days riders can still book or ride: today to the booking horizon (local)."""
    today = now.astimezone(ZoneInfo(service.timezone)).date()
    return [today + timedelta(days=k) for k in range(service.horizon_days + 1)]


def _activity_query() -> Select[int, int | None, datetime]:
    of_day = PlanVersion.day == bindparam("day")
    newest = select(func.max(PlanVersion.version)).where(of_day).scalar_subquery()
    base = (
        select(func.max(PlanVersion.version))
        .where(of_day, PlanVersion.reason == REASON)
        .scalar_subquery()
    )
    first = select(func.min(PlanVersion.version)).where(of_day).scalar_subquery()
    # since the last re-optimisation; never re-optimised: since the day's first change
    return select(newest, base, PlanVersion.created_at).where(
        of_day, PlanVersion.version == func.coalesce(base, first)
    )


#: built once: building the statement took as long as running it
_ACTIVITY = _activity_query()


def day_activity(session: Session, day: date) -> DayActivity | None:
    """The day's changes since its last re-optimisation; None if it has no plan yet.

    One query, on indexes of ``plan_versions`` only: this is asked before every request of
    a simulated day. A day's versions are numbered 1, 2, 3, ... (one per write,
    :meth:`planner.booking.day.DayStore.save_plan`), so the changes since version ``base``
    are ``newest - base``.
    """
    row = session.execute(_ACTIVITY, {"day": day.isoformat()}).first()
    if row is None:
        return None
    version, last, since = row
    last = last or 0
    return DayActivity(day, version, last, version - last, _aware(since))


def is_due(
    service: Service, activity: DayActivity, now: datetime, attempt: Attempt | None = None
) -> bool:
    """Whether the service's policy re-optimises the day now.

    An ``attempt`` newer than the last stored re-optimisation counts as the last one.
    """
    changes, since = activity.changes, activity.since
    if attempt is not None and attempt.version >= activity.base:
        changes, since = activity.version - attempt.version, attempt.at
    return service.reoptimize.is_due(changes, (now - since).total_seconds())


def _due(
    store: Store,
    service: Service,
    now: datetime,
    tried: Attempts | None,
    days: Sequence[date] | None = None,
) -> list[DayActivity]:
    if not service.reoptimize.enabled:
        return []
    tried = tried if tried is not None else {}
    days = open_days(service, now) if days is None else days
    with store.session() as session:
        found = [day_activity(session, day) for day in days]
    return [a for a in found if a is not None and is_due(service, a, now, tried.get(a.day))]


def due_days(
    store: Store, service: Service, now: datetime, tried: Attempts | None = None
) -> list[date]:
    """The open days to re-optimise now, in date order.

    Parameters
    ----------
    store
        The database.
    service
        The service (its ``reoptimize`` policy, time zone and horizon).
    now
        The current time (timezone-aware).
    tried
        This worker's last attempt per day (see :class:`Attempt`).
    """
    return [a.day for a in _due(store, service, now, tried)]


def run_once(
    engine: BookingEngine,
    now: datetime,
    tried: Attempts | None = None,
    *,
    days: Sequence[date] | None = None,
) -> list[RunResult]:
    """Re-optimise every day due at ``now``, each for the policy's time limit.

    ``days`` limits the days looked at (default: the open days; a simulation looks at its
    one day). A failure of one day is logged and counts as an attempt; the other days still run.
    Every attempt but a discarded one (the day changed meanwhile: still due) is recorded in
    ``tried``.

    Returns
    -------
    results
        One per day re-optimised, in date order.
    """
    policy = engine.service.reoptimize
    results = []
    for activity in _due(engine.store, engine.service, now, tried, days):
        started = time.perf_counter()
        try:
            out = optimize(
                engine,
                activity.day,
                time_limit=policy.time_limit_s,
                moves=policy.moves,
            )
        except Exception:  # one bad day must not stop the worker
            log.exception("re-optimising %s failed", activity.day)
            out = {"stored": False, "reason": "failed"}
        result = RunResult(
            activity.day,
            bool(out["stored"]),
            str(out["reason"]),
            out.get("cost_before"),
            out.get("cost_after"),
            round(time.perf_counter() - started, 2),
        )
        if tried is not None and result.reason != CHANGED_MEANWHILE:
            tried[activity.day] = Attempt(activity.version, now)
        log.info(  # days, reasons and costs only: no rider's data
            "re-optimised %s after %d changes: %s (cost %s -> %s, %.1f s)",
            result.day,
            activity.changes,
            result.reason,
            result.cost_before,
            result.cost_after,
            result.seconds,
        )
        results.append(result)
    return results


def run_forever(
    engine: BookingEngine,
    stop: StopEvent,
    poll_s: float = POLL_S,
    *,
    also: Sequence[Callable[[datetime], object]] = (),
) -> None:
    """Re-optimise due days every ``poll_s`` seconds until ``stop`` is set.

    ``also`` are further passes run after each look, with the time (the notifications of
    :mod:`planner.notify.worker`). A running solve is finished first (at most the policy's
    time limit). A failed pass (e.g. the database unreachable) is logged and tried again at
    the next poll.
    """
    tried: dict[date, Attempt] = {}
    policy = engine.service.reoptimize
    log.info(
        "background re-optimisation: after %d changes or %d min, %.1f s each",
        policy.every_bookings,
        policy.every_min,
        policy.time_limit_s,
    )
    while not stop.is_set():
        try:
            run_once(engine, engine.clock(), tried)
        except Exception:
            log.exception("background re-optimisation failed; next try in %.0f s", poll_s)
        for task in also:
            try:
                task(engine.clock())
            except Exception:
                log.exception("a background pass failed; next try in %.0f s", poll_s)
        if stop.wait(poll_s):
            break
