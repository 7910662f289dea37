"""Drivers' breaks as tasks of their own vehicles (Arbeitszeitgesetz §4).

A break is modelled as a request that only its vehicle serves: "pickup" and "drop-off" at
the break place, the pickup's service time is the break, and its load fills every seat and
wheelchair place, so that the bus is empty for it. Its pickup window is where the planner may
place it. Everything else (insertion, search, timing, the validator) then treats breaks like
any other stop, and riders are planned around them.

The windows come from the rule: no stretch of work longer than ``max_work_s``, each break
``break_s`` long, and ``long_day_break_s`` in total once a shift's work exceeds
``long_day_s`` (ArbZG §4: 30 minutes after at most 6 hours, 45 minutes over 9 hours).
Breaks are counted from the shift's start, when the driver goes on duty.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from planner.darp.model import Request, Vehicle
from planner.darp.schedule import StopTable, earliest_schedule

#: Break requests' ids start with this; booking codes never contain ":".
BREAK_PREFIX = "break:"


@dataclass(frozen=True, slots=True)
class BreakRule:
    """When drivers must pause, in seconds (defaults: ArbZG §4).

    Attributes
    ----------
    max_work_s
        Longest stretch of work without a break.
    break_s
        Length of each planned break.
    long_day_s, long_day_break_s
        A shift with more work than ``long_day_s`` needs ``long_day_break_s`` of breaks in
        total (the last break is made longer if the breaks fall short of it).
    freedom_s
        How much earlier than its latest moment a break may start: the planner's room to
        fit it between rides. More room means fewer breaks at awkward times but breaks
        earlier than the law needs (and, over a long shift, possibly one more).
    """

    max_work_s: float = 6 * 3600
    break_s: float = 30 * 60
    long_day_s: float = 9 * 3600
    long_day_break_s: float = 45 * 60
    freedom_s: float = 60 * 60

    def __post_init__(self) -> None:
        if not 0 < self.freedom_s < self.max_work_s:
            raise ValueError("freedom_s must be > 0 and shorter than max_work_s")
        if not (self.break_s > 0 and self.long_day_break_s >= 0 and self.long_day_s > 0):
            raise ValueError("break lengths must be > 0")


@dataclass(frozen=True, slots=True)
class BreakSlot:
    """One break to place: its start lies in ``[earliest, latest]``; it lasts ``duration``."""

    earliest: float
    latest: float
    duration: float


def break_slots(shift_start: float, shift_end: float, rule: BreakRule) -> list[BreakSlot]:
    """The breaks a shift needs, with the windows that keep every stretch of work legal.

    Break ``j`` may start no later than ``max_work_s`` after the earliest end of break
    ``j - 1`` (or the shift's start), so every stretch stays within ``max_work_s``
    wherever in their windows the breaks are placed. An open shift needs none.
    """
    if not (math.isfinite(shift_start) and math.isfinite(shift_end)):
        return []
    slots: list[BreakSlot] = []
    free_from = shift_start  # the earliest the current stretch of work can have started
    while shift_end - free_from > rule.max_work_s:
        latest = free_from + rule.max_work_s
        earliest = max(latest - rule.freedom_s, free_from)
        slots.append(BreakSlot(earliest, latest, rule.break_s))
        free_from = earliest + rule.break_s
    total = sum(s.duration for s in slots)
    work = shift_end - shift_start - total
    if slots and work > rule.long_day_s and total < rule.long_day_break_s:
        last = slots[-1]
        slots[-1] = BreakSlot(
            last.earliest, last.latest, last.duration + rule.long_day_break_s - total
        )
    return slots


def break_requests(vehicle: Vehicle, rule: BreakRule, place: int | None = None) -> list[Request]:
    """The breaks of ``vehicle`` as requests only it serves (at ``place``, default its depot)."""
    where = vehicle.end_depot if place is None else place
    if vehicle.seats + vehicle.wheelchair_places == 0:
        return []  # nobody can ride it: any time is a break
    return [
        Request(
            id=f"{BREAK_PREFIX}{vehicle.id}:{k}",
            pickup=where,
            dropoff=where,
            passengers=vehicle.seats,
            wheelchairs=vehicle.wheelchair_places,
            earliest_pickup=slot.earliest,
            latest_pickup=slot.latest,
            pickup_service_time=slot.duration,
            max_ride_time=0.0,
            vehicle_id=vehicle.id,
        )
        for k, slot in enumerate(break_slots(vehicle.shift_start, vehicle.shift_end, rule), 1)
    ]


def is_break(request_id: str) -> bool:
    """Whether a plan's request id is a driver's break (not a booking)."""
    return request_id.startswith(BREAK_PREFIX)


def place_breaks(
    table: StopTable, routes: Sequence[Sequence[int]], first: Sequence[int] | None = None
) -> tuple[list[list[int]], list[int]]:
    """Put every vehicle's breaks that are in no route into that vehicle's route.

    Each goes where it adds the least distance and the route stays feasible, after the
    first ``first[v]`` (locked) stops. Pure Python over :func:`earliest_schedule`: it runs
    once per plan for a few breaks, not in the search.

    Returns
    -------
    routes, unplaced
        The routes with the breaks, and the requests that fit nowhere in their vehicle.
    """
    out = [list(r) for r in routes]
    served = {s >> 1 for r in out for s in r}
    unplaced: list[int] = []
    dist, loc = table.distance, table.location
    for r, v in enumerate(table.only_vehicle):
        if v < 0 or r in served:
            continue
        route, here = out[v], loc[2 * r]
        best: tuple[float, int] | None = None
        for i in range(first[v] if first else 0, len(route) + 1):
            prev = table.start[v] if i == 0 else loc[route[i - 1]]
            nxt = table.end[v] if i == len(route) else loc[route[i]]
            added = dist[prev][here] + dist[here][nxt] - dist[prev][nxt]
            if best is not None and added >= best[0]:
                continue
            trial = [*route[:i], 2 * r, 2 * r + 1, *route[i:]]
            if table.loads_fit(v, trial) and earliest_schedule(table, v, trial) is not None:
                best = (added, i)
        if best is None:
            unplaced.append(r)
            continue
        i = best[1]
        out[v] = [*route[:i], 2 * r, 2 * r + 1, *route[i:]]
    return out, unplaced
