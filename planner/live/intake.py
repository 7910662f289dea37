"""Taking a vehicle's events in: the business rules, the no-show through the engine, the journal.

A batch that passed the wire check (:mod:`planner.live.wire`) is taken event by event, in
the order the device sent it. An event is

* a *duplicate* if the journal (or an event before it in the batch) has its client id;
* *rejected*, with the field and a reason, if a rule refuses it: a booking that is not on
  this vehicle that day, an event more than :data:`MAX_AHEAD_S` in the future, an unknown
  stop, a no-show before the wait after arriving (``[operations] no_show_wait_min``) or
  before the pickup window, or one the engine refuses;
* *accepted* otherwise, and stored.

Everything accepted is committed (on disk) before :func:`take_events` returns. A no-show
marks the booking through :meth:`BookingEngine.no_show` first (which re-plans the day) and
is journalled right after; if the process dies in between, the device resends the event
and, the booking being a no-show already, it is journalled then.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from planner.booking import BookingEngine
from planner.errors import ConflictError, NotFoundError
from planner.live.events import BOOKING_KINDS, VehicleEvent
from planner.live.journal import events_of, known_client_ids, record
from planner.store.db import Booking

#: How far ahead of the server's clock an event may be (a device's clock that runs fast).
MAX_AHEAD_S = 10 * 60


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why one event was refused.

    Attributes
    ----------
    client_id
        The event's client id.
    field
        The refused field of the event (``booking``, ``at``, ``stop``).
    reason
        A code: ``future``, ``unknown_booking``, ``not_on_vehicle``, ``not_confirmed``,
        ``unknown_stop``, ``no_arrival``, ``too_early``, ``window_not_started``,
        ``engine``.
    params
        Values for the message (``code``, ``time``, ``status``, ``minutes``, ``detail``).
    """

    client_id: str
    field: str
    reason: str
    # dataclasses.field: the attribute "field" above hides the name
    params: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Intake:
    """What became of a batch: client ids accepted, already stored, and refused."""

    accepted: tuple[str, ...]
    duplicates: tuple[str, ...]
    rejected: tuple[tuple[int, Rejection], ...]  # (position in the batch, why)


def take_events(
    engine: BookingEngine, events: Sequence[VehicleEvent], *, driver: str | None
) -> Intake:
    """Check, apply and journal one vehicle's batch of events (see the module's docstring).

    Parameters
    ----------
    engine
        The booking engine (its clock, store, catalogue, service and no-shows).
    events
        The events of one vehicle, in the device's order.
    driver
        The staff account that sent them.
    """
    accepted: list[str] = []
    duplicates: list[str] = []
    rejected: list[tuple[int, Rejection]] = []
    pending: list[VehicleEvent] = []  # checked, to be stored together

    def flush() -> None:
        if pending:
            with engine.store.maintaining() as session:
                result = record(session, pending, driver)
            accepted.extend(result.accepted)
            duplicates.extend(result.duplicates)
            pending.clear()

    if not events:
        return Intake((), (), ())
    vehicle_id = events[0].vehicle_id
    with engine.store.session() as session:
        stored = known_client_ids(session, vehicle_id, [e.client_id for e in events])
    seen: set[str] = set()
    for k, event in enumerate(events):
        if event.client_id in stored or event.client_id in seen:
            duplicates.append(event.client_id)
            continue
        seen.add(event.client_id)
        booking = _booking(engine, event.booking) if event.booking else None
        refusal = _refusal(engine, event, booking)
        if refusal is not None:
            rejected.append((k, refusal))
            continue
        if event.kind != "no_show":
            pending.append(event)
            continue
        flush()  # the arrival this no-show waits for may be in the batch before it
        assert booking is not None  # a no-show names a booking: checked by _refusal
        refusal = _no_show_refusal(engine, event, booking)
        if refusal is None and booking.status == "confirmed":
            try:
                engine.no_show(booking.code)
            except ConflictError as exc:
                if engine.booking(booking.code).status != "no_show":  # not just a race
                    refusal = Rejection(event.client_id, "booking", "engine",
                                        {"detail": exc.reason})  # fmt: skip
        if refusal is not None:
            rejected.append((k, refusal))
            continue
        pending.append(event)
        flush()
    flush()
    return Intake(tuple(accepted), tuple(duplicates), tuple(rejected))


def _booking(engine: BookingEngine, code: str) -> Booking | None:
    try:
        return engine.booking(code)
    except NotFoundError:
        return None


def _refusal(
    engine: BookingEngine, event: VehicleEvent, booking: Booking | None
) -> Rejection | None:
    """The rule that refuses ``event``, if one does (the no-show's wait aside)."""
    now_s = engine.now_s(event.day)
    if event.at_s > now_s + MAX_AHEAD_S:
        return Rejection(event.client_id, "at", "future", {"minutes": MAX_AHEAD_S // 60})
    if event.stop_node is not None and event.stop_node not in engine.catalog.row:
        return Rejection(event.client_id, "stop", "unknown_stop", {"stop": event.stop_node})
    if event.booking is None:
        return None
    params: dict[str, Any] = {"code": event.booking}
    if booking is None:
        return Rejection(event.client_id, "booking", "unknown_booking", params)
    if booking.day != event.day.isoformat() or booking.vehicle_id != event.vehicle_id:
        return Rejection(event.client_id, "booking", "not_on_vehicle", params)
    ok = ("confirmed", "no_show") if event.kind == "no_show" else ("confirmed",)
    if event.kind in BOOKING_KINDS and booking.status not in ok:
        return Rejection(
            event.client_id, "booking", "not_confirmed", {**params, "status": booking.status}
        )
    return None


def _no_show_refusal(
    engine: BookingEngine, event: VehicleEvent, booking: Booking
) -> Rejection | None:
    """Whether the driver has waited long enough at the pickup stop, within the window."""
    if booking.status == "no_show":
        return None  # recorded already (a dispatcher, or this event before a crash)
    params: dict[str, Any] = {"code": booking.code}
    window_start = booking.window_start_s
    if event.at_s < window_start or not engine.may_mark_no_show(booking):
        return Rejection(event.client_id, "at", "window_not_started",
                         {**params, "time": window_start})  # fmt: skip
    arrived = arrival_at(engine, event.day, event.vehicle_id, booking.origin_node, event.at_s)
    if arrived is None:
        return Rejection(event.client_id, "at", "no_arrival", params)
    unlock = max(arrived + engine.service.operations.no_show_wait_s, window_start)
    if event.at_s < unlock:
        return Rejection(event.client_id, "at", "too_early", {**params, "time": unlock})
    return None


def arrival_at(
    engine: BookingEngine, day: date, vehicle_id: str, node: int, until_s: float
) -> float | None:
    """When the vehicle last reported arriving at ``node`` by ``until_s``, if it did."""
    with engine.store.session() as session:
        events = events_of(session, day, vehicle_id)
    times = [e.at_s for e in events if e.kind == "arrived" and e.stop_node == node]
    return max((t for t in times if t <= until_s), default=None)
