"""Disruptions of a running day: a vehicle out of service, a booking moved by hand.

Both move bookings between vehicles under the day's write lock, with the one insertion
screen (:mod:`planner.darp.insertion`): a booking moves only where every promise, its own
and everyone else's, still holds, and the plan passes the validator before it is stored.
What cannot move is never dropped: it stays on its vehicle and is listed for the dispatcher,
with the rider's phone number and the wish times that would work now.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from planner.booking import rules
from planner.booking.day import DayState
from planner.booking.trip import TripRequest
from planner.darp.codec import request_of
from planner.darp.insertion import Insertion, best_insertion, prepare
from planner.darp.model import Request
from planner.darp.schedule import StopTable
from planner.errors import ConflictError, NotFoundError
from planner.live import journal
from planner.live.events import VehicleEvent
from planner.live.state import happened
from planner.timefmt import hhmm

if TYPE_CHECKING:
    from planner.booking.engine import BookingEngine


@dataclass(frozen=True, slots=True)
class Moved:
    """A booking now on another vehicle, with its new estimated times."""

    code: str
    vehicle_id: str
    est_pickup_s: float
    est_arrival_s: float

    def to_json(self) -> dict[str, Any]:
        """As the API answers (times ``HH:MM``)."""
        return {
            "code": self.code,
            "vehicle": self.vehicle_id,
            "estimated_pickup": hhmm(self.est_pickup_s),
            "estimated_arrival": hhmm(self.est_arrival_s),
        }


@dataclass(frozen=True, slots=True)
class Stranded:
    """A booking no other vehicle can take with its promises: the dispatcher calls the rider.

    ``on_board``: the rider sits in the broken-down vehicle. ``alternatives`` are wish times
    (``HH:MM``) at which the trip would fit now.
    """

    code: str
    rider: str
    phone: str
    on_board: bool
    alternatives: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """As the API answers (dispatchers only: it holds the rider's phone number)."""
        return {
            "code": self.code,
            "rider": self.rider,
            "phone": self.phone,
            "on_board": self.on_board,
            "alternatives": list(self.alternatives),
        }


@dataclass(frozen=True, slots=True)
class Disruption:
    """What taking a vehicle out of service did."""

    vehicle_id: str
    since_s: float
    moved: tuple[Moved, ...]
    stranded: tuple[Stranded, ...]

    def to_json(self) -> dict[str, Any]:
        """As the API answers."""
        return {
            "vehicle": self.vehicle_id,
            "since": hhmm(self.since_s),
            "moved": [m.to_json() for m in self.moved],
            "stranded": [s.to_json() for s in self.stranded],
        }


def take_out_of_service(
    engine: BookingEngine, day: date, vehicle_id: str, since_s: float, *, by: str
) -> Disruption:
    """Take a vehicle out of service from ``since_s`` and move its bookings to others.

    Records a ``breakdown`` event in the journal (as a driver's report would), then, under
    the day's write lock, moves every booking the vehicle has not picked up yet to the
    vehicle that takes it cheapest with every promise kept, earliest pickup first. The rest,
    and riders on board, stay listed as :class:`Stranded`.

    Raises
    ------
    NotFoundError
        If the fleet has no vehicle ``vehicle_id``.
    """
    key = day.isoformat()
    v = _vehicle_index(engine, vehicle_id)
    report = VehicleEvent(f"dispatch-{uuid.uuid4()}", vehicle_id, day, "breakdown", since_s)
    moved: list[Moved] = []
    left: list[str] = []
    with engine.store.writing(key) as (session, lock):
        journal.record(session, [report], driver=by)
        state = engine.days.load(session, key)
        route = state.routes[v]
        served = _served_stops(engine, state, v)
        started = {request_of(s) for s in route if s in served}
        on_board = [state.instance.requests[r].id for r in started if 2 * r + 1 not in served]
        tasks = {r for r, only in enumerate(state.table.only_vehicle) if only == v}
        movable = sorted(  # its riders; its drivers' breaks stay with it
            {request_of(s) for s in route} - started - tasks,
            key=lambda r: state.instance.requests[r].earliest_pickup,
        )
        state.set_route(v, [s for s in route if request_of(s) not in movable])
        for r in movable:
            code = state.instance.requests[r].id
            ins = _reinsert(engine, state, r, _promise(engine, code), day, exclude=v)
            if ins is None:
                left.append(code)
                continue
            moved.append(_moved(state, r, ins))
        if left:  # they stay where they were, listed for the dispatcher
            keep = {state.instance.request_index(code) for code in left}
            state.set_route(
                v, [s for s in route if request_of(s) not in movable or request_of(s) in keep]
            )
        engine.days.save_plan(session, lock, state, f"vehicle {vehicle_id} out of service")
    stranded = [_stranded(engine, code, on_board=code in on_board) for code in on_board + left]
    return Disruption(vehicle_id, since_s, tuple(moved), tuple(stranded))


def move_booking(engine: BookingEngine, code: str, vehicle_id: str) -> Moved:
    """Move one booking to ``vehicle_id`` by hand, if every promise still holds there.

    Raises
    ------
    NotFoundError
        If there is no such booking or vehicle.
    ConflictError
        If the rider is already on board, the booking is not confirmed, or it does not fit
        the vehicle with every promise kept.
    """
    booking = engine.booking(code)
    target = _vehicle_index(engine, vehicle_id)
    if booking.status != "confirmed":
        raise ConflictError("code", f"booking {booking.code} is {booking.status}")
    day = date.fromisoformat(booking.day)
    with engine.store.writing(booking.day) as (session, lock):
        state = engine.days.load(session, booking.day)
        r = state.instance.request_index(booking.code)
        now = next(v for v, stops in enumerate(state.routes) if 2 * r in stops)
        if 2 * r in _served_stops(engine, state, now):
            raise ConflictError("code", f"the rider of {booking.code} has already boarded")
        if now == target:
            raise ConflictError("vehicle", f"booking {booking.code} is on {vehicle_id} already")
        state.set_route(now, [s for s in state.routes[now] if request_of(s) != r])
        ins = _reinsert(engine, state, r, _promise(engine, booking.code), day, only=target)
        if ins is None:
            raise ConflictError(
                "vehicle", f"{vehicle_id} cannot take {booking.code} and keep every promise"
            )
        engine.days.save_plan(session, lock, state, f"moved {booking.code} to {vehicle_id}")
    return _moved(state, r, ins)


def rescue_late(engine: BookingEngine, day: date, codes: Sequence[str]) -> tuple[Moved, ...]:
    """Move bookings whose pickup will be late to a vehicle that keeps their promise.

    Reality may leave a booking's vehicle unable to keep its promise (the live state flags
    it at risk, :mod:`planner.live.state`). Each booking of ``codes`` not picked up yet moves
    to the vehicle that can still pick it up within its original window and keep its ride
    promise, with everyone else's promises kept too; if none can, it stays where it is.
    """
    moved: list[Moved] = []
    key = day.isoformat()
    for code in codes:
        booking = engine.booking(code)
        if booking.status != "confirmed" or booking.day != key:
            continue
        with engine.store.writing(key) as (session, lock):
            state = engine.days.load(session, key)
            r = state.instance.request_index(code)
            v = next(k for k, stops in enumerate(state.routes) if 2 * r in stops)
            if 2 * r in _served_stops(engine, state, v):
                continue  # on board already
            before = list(state.routes[v])
            state.set_route(v, [s for s in before if request_of(s) != r])
            ins = _reinsert(engine, state, r, _promise(engine, code), day, exclude=v)
            if ins is None:
                continue  # nothing is saved: the transaction ends without a change
            engine.days.save_plan(session, lock, state, f"moved late {code} to another bus")
        moved.append(_moved(state, r, ins))
    return tuple(moved)


def _promise(engine: BookingEngine, code: str) -> Request:
    """The booking's request as promised (before reality widened anything)."""
    b = engine.booking(code)
    return engine.days.request(
        code, b, (b.window_start_s, b.window_end_s), b.latest_dropoff_s, b.max_ride_s
    )


def _reinsert(
    engine: BookingEngine,
    state: DayState,
    r: int,
    promise: Request,
    day: date,
    *,
    exclude: int | None = None,
    only: int | None = None,
) -> Insertion | None:
    """Insert request ``r`` (in no route) at its ``promise`` where a bus can still make it.

    Each candidate vehicle gets its own copy of the promise whose pickup is no earlier than
    the vehicle can be there: from where it is now (its last served stop, or its depot),
    leaving now. The cheapest feasible insertion is applied to ``state``, with ``r`` now
    that copy (so that the validator checks the promise the insertion kept).
    """
    now = engine.now_s(day)
    travel = state.instance.travel_times
    copies: list[Request] = []
    owners: list[int] = []
    for w in range(len(state.routes)):
        if w == exclude or (only is not None and w != only):
            continue
        reach = now + float(travel[_where(engine, state, w), promise.pickup])
        earliest = max(promise.earliest_pickup, reach)
        if earliest <= promise.latest_pickup:
            copies.append(replace(promise, id=f"{promise.id}@{w}", earliest_pickup=earliest))
            owners.append(w)
    if not copies:
        return None
    table = state.table.with_requests(copies)
    prepared = prepare(
        table, state.routes, engine.service.objective, fixed_before=now + rules.FREEZE_S
    )
    base = state.instance.num_requests
    found = [
        (ins, k)
        for k, w in enumerate(owners)
        if (ins := best_insertion(prepared, base + k, vehicle=w)) is not None
    ]
    if not found:
        return None
    ins, k = min(found, key=lambda f: f[0].added_cost)
    n = base + k
    as_r = {2 * n: 2 * r, 2 * n + 1: 2 * r + 1}
    requests = list(state.instance.requests)
    requests[r] = replace(copies[k], id=promise.id)
    state.instance = replace(state.instance, requests=tuple(requests))
    state.table = StopTable.from_instance(state.instance, matrices=engine.days.matrix_lists)
    state.prepared = None  # prepared for the table before
    stops = tuple(as_r.get(s, s) for s in ins.stops)
    state.set_route(ins.vehicle, stops)
    return replace(ins, stops=stops)


def _where(engine: BookingEngine, state: DayState, w: int) -> int:
    """The matrix row where vehicle ``w`` is: its last served stop, else its depot."""
    served = _served_stops(engine, state, w)
    last = [s for s in state.routes[w] if s in served]
    return int(state.table.location[last[-1]]) if last else state.instance.vehicles[w].start_depot


def _moved(state: DayState, r: int, ins: Insertion) -> Moved:
    return Moved(
        state.instance.requests[r].id,
        state.instance.vehicles[ins.vehicle].id,
        ins.service_start(2 * r),
        ins.service_start(2 * r + 1),
    )


def _vehicle_index(engine: BookingEngine, vehicle_id: str) -> int:
    for v, bus in enumerate(engine.service.fleet):
        if bus.id == vehicle_id:
            return v
    raise NotFoundError("vehicle", f"no vehicle {vehicle_id!r} in the fleet")


def _served_stops(engine: BookingEngine, state: DayState, v: int) -> set[int]:
    """The stops of ``v``'s route where the bus has been, by the journal's events."""
    route = state.routes[v]
    refs = [
        (
            state.instance.requests[request_of(s)].id,
            "pickup" if s % 2 == 0 else "dropoff",
            engine.catalog.nodes[int(state.table.location[s])],
        )
        for s in route
    ]
    bus = state.instance.vehicles[v].id
    facts = happened(refs, state.events.get(bus, ()))
    return {s for s, h in zip(route, facts, strict=True) if h.arrived_s is not None}


def _stranded(engine: BookingEngine, code: str, *, on_board: bool) -> Stranded:
    b = engine.booking(code)
    day = date.fromisoformat(b.day)
    trip = TripRequest(
        day,
        b.origin_node,
        b.destination_node,
        b.wish_kind,  # type: ignore[arg-type]  # stored from a checked trip
        b.wish_s,
        b.passengers,
        b.wheelchairs,
    )
    alternatives = () if on_board else engine.alternatives(trip)
    return Stranded(b.code, b.name, b.phone, on_board, alternatives)
