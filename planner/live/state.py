"""The live state of a day: what has happened on each route, and what will probably happen.

The executed part of every route comes from the vehicles' events (:mod:`planner.live.events`):
when the bus arrived and left, who boarded, who did not turn up, who got off. The rest is
estimated from the vehicle's last known place and time (its last stop, or a later position
fix) by driving the planned order at the network's travel times; a stop the bus has not
reached is never estimated before now. A stop whose estimate leaves less than a margin to its
booking's promise is flagged *at risk* as soon as the estimate shows it: an estimate is only
an estimate, and a dispatcher warned when a promise is about to break can still act.

Everything here is a pure function of the plan, the events and the clock; the web layer, the
re-planning and the GTFS-Realtime feed read the result.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from planner.booking.views import DayPlan, PlanStop, VehicleDay
from planner.live.events import VehicleEvent

#: promise tolerance in seconds (times are rounded to whole seconds on the way)
TOLERANCE_S = 1.0

Risk = Literal["late_pickup", "ride_promise", "late_dropoff", "out_of_service"]
Outcome = Literal["boarded", "no_show", "dropped_off"]
Status = Literal["idle", "not_started", "on_route", "on_break", "out_of_service", "finished"]


@dataclass(frozen=True, slots=True)
class Promise:
    """What a booking was promised, and the times its rider was last told.

    ``told_s`` is (pickup, arrival) as the booking's estimates stand; a stop's delay is
    measured against them.
    """

    window_s: tuple[float, float]
    max_ride_s: float
    latest_dropoff_s: float | None = None
    told_s: tuple[float, float] | None = None


@dataclass(frozen=True, slots=True)
class Fix:
    """A position of a vehicle at a time (seconds of the service day)."""

    lat: float
    lon: float
    at_s: float


@dataclass(frozen=True, slots=True)
class StopProgress:
    """One stop of a route, as it happened or as it is now expected.

    Attributes
    ----------
    stop
        The planned stop.
    arrived_s, departed_s
        When the driver reported arriving and leaving; None if not (yet).
    outcome
        ``boarded`` or ``no_show`` at a pickup, ``dropped_off`` at a drop-off, once reported.
    start_s
        When boarding or alighting starts: reported (the arrival) once the bus is there,
        estimated before; None if the stop will not be served (vehicle out of service, or a
        rider who did not turn up).
    risk
        Which promise the estimate breaks or comes closer to than the margin, if any.
    slack_s
        How long the estimate leaves before the closest promise of this stop breaks (negative:
        the estimate breaks it); None without a promise or an estimate, or once done.
    told_s
        When the rider was last told this stop starts (None: as planned).
    """

    stop: PlanStop
    arrived_s: float | None = None
    departed_s: float | None = None
    outcome: Outcome | None = None
    start_s: float | None = None
    risk: Risk | None = None
    told_s: float | None = None
    slack_s: float | None = None

    @property
    def breaks_promise(self) -> bool:
        """Whether the estimate itself breaks the promise (not only comes close to it)."""
        return self.slack_s is not None and self.slack_s < -TOLERANCE_S

    @property
    def done(self) -> bool:
        """Whether the bus has finished at this stop."""
        return self.departed_s is not None or self.outcome is not None

    @property
    def delay_s(self) -> float | None:
        """How much later than the rider was told (else planned) it starts; negative: earlier."""
        if self.start_s is None:
            return None
        told = self.stop.service_start_s if self.told_s is None else self.told_s
        return self.start_s - told


@dataclass(frozen=True, slots=True)
class LiveVehicle:
    """One vehicle's day as it is happening.

    Attributes
    ----------
    vehicle_id
        The fleet's id.
    status
        ``idle`` (no stops and no event: not on shift), ``not_started`` (stops, but no event
        yet), ``on_route`` (on shift, with or without stops), ``on_break``,
        ``out_of_service`` (a breakdown was reported) or ``finished`` (shift ended, or every
        stop done).
    anchor_node, anchor_s
        Where the vehicle is known to be ready to drive on, and from when: the estimates of
        the rest of the route start here.
    position
        The last position fix, if any.
    on_board
        Booking codes of the riders on board now.
    stops
        Every stop of the route in planned order.
    out_of_service_s
        When the vehicle went out of service, if it did.
    """

    vehicle_id: str
    status: Status
    anchor_node: int
    anchor_s: float
    position: Fix | None
    on_board: tuple[str, ...]
    stops: tuple[StopProgress, ...]
    out_of_service_s: float | None = None

    @property
    def remaining(self) -> tuple[StopProgress, ...]:
        """The stops not done yet, in planned order."""
        return tuple(s for s in self.stops if not s.done)

    @property
    def delay_s(self) -> float:
        """The estimated delay at the next stop (0 when nothing is left or nothing known)."""
        for s in self.remaining:
            if s.delay_s is not None:
                return max(0.0, s.delay_s)
        return 0.0

    @property
    def at_risk(self) -> tuple[StopProgress, ...]:
        """The stops whose estimate breaks a promise."""
        return tuple(s for s in self.stops if s.risk is not None)


@dataclass(frozen=True, slots=True)
class LiveDay:
    """A day's vehicles as they are happening, at ``now_s``."""

    version: int
    now_s: float
    vehicles: tuple[LiveVehicle, ...] = field(default_factory=tuple)

    def vehicle(self, vehicle_id: str) -> LiveVehicle | None:
        """The live vehicle ``vehicle_id``, or None if it is not in the day."""
        return next((v for v in self.vehicles if v.vehicle_id == vehicle_id), None)

    def at_risk(self) -> list[tuple[LiveVehicle, StopProgress]]:
        """Every stop at risk with its vehicle, the earliest first."""
        risky = [(v, s) for v in self.vehicles for s in v.at_risk]
        return sorted(risky, key=lambda vs: vs[1].stop.service_start_s)


def live_day(
    plan: DayPlan,
    events: Iterable[VehicleEvent],
    promises: Mapping[str, Promise],
    *,
    now_s: float,
    depots: Mapping[str, int],
    travel_s: Callable[[int, int], float],
    locate: Callable[[float, float], int] | None = None,
    risk_margin_s: float = 0.0,
) -> LiveDay:
    """The live state of a day's plan given what the vehicles reported.

    Parameters
    ----------
    plan
        The day's current plan (:meth:`planner.booking.engine.BookingEngine.day_plan`).
    events
        The day's vehicle events, any order.
    promises
        Booking code -> its promise.
    now_s
        The clock, in seconds of the service day.
    depots
        Vehicle id -> its depot node, where a vehicle without events starts.
    travel_s
        Driving time between two nodes.
    locate
        A position -> the nearest node; without it position fixes only show on the map.
    risk_margin_s
        A stop is at risk once its estimate leaves less than this before its promise breaks
        (``[operations] risk_margin_min``); 0 flags only estimates that break it.
    """
    by_vehicle: dict[str, list[VehicleEvent]] = {}
    for e in events:
        by_vehicle.setdefault(e.vehicle_id, []).append(e)
    vehicles = tuple(
        live_vehicle(
            vehicle,
            sorted(by_vehicle.get(vehicle.vehicle_id, []), key=lambda e: e.at_s),
            promises,
            now_s=now_s,
            depot=depots[vehicle.vehicle_id],
            travel_s=travel_s,
            locate=locate,
            risk_margin_s=risk_margin_s,
        )
        for vehicle in plan.vehicles
    )
    return LiveDay(plan.version, now_s, vehicles)


def live_vehicle(
    vehicle: VehicleDay,
    events: Sequence[VehicleEvent],
    promises: Mapping[str, Promise],
    *,
    now_s: float,
    depot: int,
    travel_s: Callable[[int, int], float],
    locate: Callable[[float, float], int] | None = None,
    risk_margin_s: float = 0.0,
) -> LiveVehicle:
    """One vehicle's live state; ``events`` are its own, in time order.

    See :func:`live_day` for the parameters.
    """
    progress = [_told(p, promises.get(p.stop.code)) for p in _executed(vehicle.stops, events)]
    status, out_since = _status(events)
    fixes = [e for e in events if e.kind == "position" and e.lat is not None and e.lon is not None]
    position = Fix(fixes[-1].lat, fixes[-1].lon, fixes[-1].at_s) if fixes else None  # type: ignore[arg-type]

    node, ready = _anchor(vehicle, progress, now_s, depot)
    if position is not None and locate is not None and position.at_s > ready:
        node, ready = locate(position.lat, position.lon), position.at_s
    if status in ("on_route", "on_break"):
        # a live bus that has not reported its next arrival is not there yet
        ready = max(ready, now_s - _first_leg(progress, node, travel_s))
    elif status == "not_started":
        # a bus nobody has heard of leaves its depot now at the earliest, not as planned
        ready = max(ready, now_s)
    anchor = (node, ready)
    held = held_until(events)
    if held is not None and status in ("on_route", "on_break"):
        ready = max(ready, held)

    left: dict[str, float] = {}  # pickup departures, reported or estimated
    out: list[StopProgress] = []
    for p in progress:
        dwell = p.stop.departure_s - p.stop.service_start_s
        if p.arrived_s is not None:  # the bus is there, or was
            if p.stop.kind == "pickup":
                still_there = max(p.arrived_s + dwell, now_s)
                left[p.stop.code] = p.departed_s or (p.arrived_s + dwell if p.done else still_there)
            out.append(_judged(p, p.arrived_s, promises, left, risk_margin_s))
        elif _skipped(p, progress):
            out.append(p)
        elif status == "out_of_service":
            out.append(replace(p, risk="out_of_service"))
        else:
            arrival = ready + travel_s(node, p.stop.stop.id)
            earliest = p.stop.window_s[0] if p.stop.kind == "pickup" else -math.inf
            start = max(arrival, earliest)
            if p.stop.kind == "pickup":
                left[p.stop.code] = start + dwell
            out.append(_judged(p, start, promises, left, risk_margin_s))
            node, ready = p.stop.stop.id, start + dwell
    if status == "on_route" and out and all(s.done or s.start_s is None for s in out):
        status = "finished"
    elif status == "not_started" and not out:
        status = "idle"  # nothing to drive and not heard of: not on shift
    # an on-shift bus without stops stays on_route: it waits for bookings, it has not finished
    return LiveVehicle(
        vehicle.vehicle_id,
        status,
        *anchor,
        position=position,
        on_board=_on_board(progress),
        stops=tuple(out),
        out_of_service_s=out_since,
    )


@dataclass(frozen=True, slots=True)
class Happened:
    """What the events say happened at one planned stop."""

    arrived_s: float | None = None
    departed_s: float | None = None
    outcome: Outcome | None = None
    outcome_s: float | None = None

    @property
    def done(self) -> bool:
        """Whether the bus has finished at this stop."""
        return self.departed_s is not None or self.outcome is not None


def happened(
    stops: Sequence[tuple[str, str, int]], events: Sequence[VehicleEvent]
) -> list[Happened]:
    """What happened at each of a route's stops, given the vehicle's events in time order.

    ``stops`` are ``(booking code, "pickup" | "dropoff", node)`` in planned order. An
    arrival or departure at a node applies to the first run of consecutive open stops there
    (one halt serves every rider boarding or alighting at it); a booking's outcome also
    means the bus was there.
    """
    out = [Happened() for _ in stops]
    where = {(code, kind): k for k, (code, kind, _) in enumerate(stops)}

    def run_at(node: int, open_: Callable[[Happened], bool]) -> list[int]:
        def ok(k: int) -> bool:
            return stops[k][2] == node and open_(out[k]) and reachable(k)

        for k in range(len(stops)):
            if ok(k):
                run = [k]
                while run[-1] + 1 < len(stops) and ok(run[-1] + 1):
                    run.append(run[-1] + 1)
                return run
        return []

    def reachable(k: int) -> bool:
        # a drop-off is served only after its rider boarded: an arrival at its stop for
        # something else (a stop since removed, say a no-show's) is not its arrival
        code, kind, _ = stops[k]
        pickup = where.get((code, "pickup"))
        return kind == "pickup" or pickup is None or out[pickup].outcome == "boarded"

    for e in events:
        if e.kind == "arrived" and e.stop_node is not None:
            for k in run_at(e.stop_node, lambda h: h.arrived_s is None):
                out[k] = replace(out[k], arrived_s=e.at_s)
        elif e.kind == "departed" and e.stop_node is not None:
            for k in run_at(e.stop_node, lambda h: h.departed_s is None):
                h = out[k]
                out[k] = replace(h, departed_s=e.at_s, arrived_s=h.arrived_s or e.at_s)
        elif e.kind in ("boarded", "no_show", "dropped_off") and e.booking is not None:
            kind = "dropoff" if e.kind == "dropped_off" else "pickup"
            at = where.get((e.booking, kind))
            if at is not None:
                h = out[at]
                out[at] = replace(
                    h, outcome=e.kind, outcome_s=e.at_s, arrived_s=h.arrived_s or e.at_s
                )
    return out


def _executed(stops: Sequence[PlanStop], events: Sequence[VehicleEvent]) -> list[StopProgress]:
    """The planned stops with what the events say happened at each."""
    refs = [(s.code, s.kind, s.stop.id) for s in stops]
    return [
        StopProgress(s, h.arrived_s, h.departed_s, h.outcome)
        for s, h in zip(stops, happened(refs, events), strict=True)
    ]


def _told(p: StopProgress, promise: Promise | None) -> StopProgress:
    if promise is None or promise.told_s is None:
        return p
    return replace(p, told_s=promise.told_s[0 if p.stop.kind == "pickup" else 1])


def _on_board(progress: Sequence[StopProgress]) -> tuple[str, ...]:
    boarded = [p.stop.code for p in progress if p.stop.kind == "pickup" and p.outcome == "boarded"]
    off = {p.stop.code for p in progress if p.stop.kind == "dropoff" and p.outcome is not None}
    return tuple(c for c in boarded if c not in off)


def _skipped(p: StopProgress, progress: Sequence[StopProgress]) -> bool:
    """A drop-off of a rider who did not turn up is never driven to."""
    return p.stop.kind == "dropoff" and any(
        q.stop.code == p.stop.code and q.outcome == "no_show" for q in progress
    )


def _status(events: Sequence[VehicleEvent]) -> tuple[Status, float | None]:
    """The vehicle's status after ``events`` and, if out of service, since when."""
    status: Status = "not_started"
    for e in events:
        if e.kind == "breakdown":
            return "out_of_service", e.at_s
        if e.kind == "break_start":
            status = "on_break"
        elif e.kind == "shift_end":
            status = "finished"
        elif e.kind != "position":
            status = "on_route"
    return status, None


def _anchor(
    vehicle: VehicleDay, progress: Sequence[StopProgress], now_s: float, depot: int
) -> tuple[int, float]:
    """Where and from when the vehicle drives on, from its last stop (or its depot)."""
    last = None
    for p in progress:
        if p.arrived_s is not None:
            last = p
    if last is None:
        return depot, vehicle.depart_s
    if last.departed_s is not None:
        return last.stop.stop.id, last.departed_s
    # still at the stop: at least the planned dwell after arriving, and not before now
    dwell = last.stop.departure_s - last.stop.service_start_s
    assert last.arrived_s is not None
    return last.stop.stop.id, max(last.arrived_s + dwell, now_s)


def _first_leg(
    progress: Sequence[StopProgress], node: int, travel_s: Callable[[int, int], float]
) -> float:
    nxt = next((p for p in progress if not p.done and p.arrived_s is None), None)
    return 0.0 if nxt is None else travel_s(node, nxt.stop.stop.id)


def held_until(events: Sequence[VehicleEvent]) -> float | None:
    """Until when the driver's last hold-up report keeps the bus where it is.

    A ``delay`` event of N minutes reads "I cannot drive on for N minutes".
    """
    reports = [e.at_s + 60.0 * e.minutes for e in events if e.kind == "delay" and e.minutes]
    return reports[-1] if reports else None


def _judged(
    p: StopProgress,
    start_s: float,
    promises: Mapping[str, Promise],
    pickup_departures: Mapping[str, float],
    margin_s: float = 0.0,
) -> StopProgress:
    """``p`` starting at ``start_s``, with its slack and the promise it puts at risk, if any.

    The one rule of "at risk": the estimate leaves less than ``margin_s`` before the promise
    breaks. A stop already done is history, not a risk: whether its promise was kept is a fact.
    """
    promise = promises.get(p.stop.code)
    if promise is None or p.done:
        return replace(p, start_s=start_s)
    limits: list[tuple[float, Risk]] = []  # (latest start, the promise it keeps)
    if p.stop.kind == "pickup":
        limits.append((promise.window_s[1], "late_pickup"))
    else:
        picked = pickup_departures.get(p.stop.code)
        if picked is not None:
            limits.append((picked + promise.max_ride_s, "ride_promise"))
        if promise.latest_dropoff_s is not None:
            limits.append((promise.latest_dropoff_s, "late_dropoff"))
    if not limits:
        return replace(p, start_s=start_s)
    limit, kind = min(limits, key=lambda lk: lk[0])
    slack = limit - start_s
    risk: Risk | None = kind if slack < margin_s - TOLERANCE_S else None
    return replace(p, start_s=start_s, risk=risk, slack_s=slack)
