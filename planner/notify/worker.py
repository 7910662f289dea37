"""The worker's notification pass: find due events, queue them, deliver what is due.

``rufbus worker`` (and the worker ``rufbus serve`` starts) runs :func:`run_pass` after each
look at the open days (:func:`planner.booking.background.run_forever`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from planner.booking.background import open_days
from planner.live.monitor import day_live
from planner.live.state import LiveDay
from planner.notify.channels import Sender
from planner.notify.outbox import collect, deliver_due
from planner.store.db import Booking, Notification

if TYPE_CHECKING:
    from planner.booking.engine import BookingEngine

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PassResult:
    """One notification pass: messages queued, sent, to be retried, given up."""

    queued: int
    sent: int
    retried: int
    failed: int


def arriving_in(live: LiveDay, codes: Iterable[str]) -> dict[str, float]:
    """Seconds until each booking's bus is estimated at its pickup (pure).

    Only buses on the road count (a reported start or position): a plan nobody drives yet
    says nothing about when a bus arrives.
    """
    wanted = set(codes)
    out = {}
    for vehicle in live.vehicles:
        if vehicle.status != "on_route":
            continue
        for p in vehicle.remaining:
            if p.stop.kind == "pickup" and p.stop.code in wanted and p.start_s is not None:
                out[p.stop.code] = p.start_s - live.now_s
    return out


#: Only pickups this soon are looked at in the live state (the rest are not near yet).
LOOKAHEAD_S = 3600


def _waiting_for_bus(engine: BookingEngine, day: date) -> list[str]:
    """Today's opted-in confirmed bookings due within the hour, not yet told the bus is near."""
    soon = engine.now_s(day) + LOOKAHEAD_S
    with engine.store.session() as session:
        told = select(Notification.booking_code).where(
            Notification.day == day.isoformat(), Notification.kind == "arriving"
        )
        return list(
            session.scalars(
                select(Booking.code).where(
                    Booking.day == day.isoformat(),
                    Booking.status == "confirmed",
                    Booking.window_start_s <= soon,
                    (Booking.notify_email != "") | Booking.notify_sms.is_(True),
                    Booking.code.not_in(told),
                )
            )
        )


def run_pass(engine: BookingEngine, senders: Mapping[str, Sender], now: datetime) -> PassResult:
    """Queue the events due at ``now`` on the open days, then deliver the due messages."""
    service = engine.service
    days = open_days(service, now)
    arriving: dict[str, float] = {}
    waiting = _waiting_for_bus(engine, days[0])
    if waiting:  # the live state only when someone waits for a bus today
        arriving = arriving_in(day_live(engine, days[0]), waiting)
    queued = collect(engine.store, service, now, days, arriving)
    counts = deliver_due(engine.store, service.notifications, senders, now)
    result = PassResult(queued, counts.sent, counts.retried, counts.failed)
    if any((queued, counts.sent, counts.retried, counts.failed)):
        log.info("notifications: %s", result)  # counts only: no rider's data
    return result
