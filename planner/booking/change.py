"""Changing a confirmed booking: another time, other stops or another party, same code.

The changed trip is offered like a new one (:meth:`BookingEngine.offer`, every booking rule
and promise checked), on the day as it would be without the booking: its own seat and
detour are free for it. Confirming an offer replaces the booking's trip in one transaction
under the write locks of the old and the new day: either the booking is the new trip and
every plan concerned passed the validator, or nothing changed and the old trip stands.
Each change is recorded in the booking's history (:class:`~planner.store.db.BookingChange`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from planner.booking import rules, wire
from planner.booking.day import find_booking, require_confirmed
from planner.booking.trip import TripRequest
from planner.errors import ConflictError, NotFoundError
from planner.store.db import Booking, BookingChange, Offer, utcnow
from planner.timefmt import hhmm

if TYPE_CHECKING:
    from planner.booking.engine import BookingEngine, OfferResult


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of a booking's history: who changed it when, the trip before and after."""

    at: datetime
    by: str
    before: dict[str, Any]
    after: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """As the API answers."""
        return {"at": self.at.isoformat(), "by": self.by, "before": self.before,
                "after": self.after}  # fmt: skip


def merged_wish(booking: Booking, change: wire.BookingChange) -> wire.TripWish:
    """The booking's trip with the fields ``change`` gives, checked as a new wish.

    Raises
    ------
    BookingError
        Naming the first bad field (e.g. more wheelchairs than passengers).
    """
    base: dict[str, Any] = {
        "origin": booking.origin_node,
        "destination": booking.destination_node,
        "date": booking.day,
        "time": hhmm(booking.wish_s),
        "kind": booking.wish_kind,
        "passengers": booking.passengers + booking.wheelchairs,  # everyone, as riders count
        "wheelchairs": booking.wheelchairs,
    }
    given = change.model_dump(exclude_none=True)
    if "date" in given:
        given["date"] = given["date"].isoformat()
    if "time" in given:
        given["time"] = hhmm(given["time"])
    return wire.validate(wire.TripWish, {**base, **given}, strict=False)


def changeable(engine: BookingEngine, code: str) -> Booking:
    """The booking ``code`` if it may still be changed.

    Raises
    ------
    NotFoundError
        If there is no such booking.
    ConflictError
        If it is not confirmed, is a feeder trip (its connection is fixed), or its pickup is
        within the freeze horizon (the bus may be on its way).
    """
    booking = engine.booking(code)
    _check(engine, booking)
    return booking


def _check(engine: BookingEngine, booking: Booking) -> None:
    require_confirmed(booking)
    if booking.connection is not None:
        msg = "a feeder trip cannot be changed; cancel it and book the new trip"
        raise ConflictError("code", msg, code="feeder_change")
    now = engine.now_s(date.fromisoformat(booking.day))
    if booking.est_pickup_s - now < rules.FREEZE_S:
        raise ConflictError(
            "code",
            f"the pickup of {booking.code} is at {hhmm(booking.est_pickup_s)}; "
            "it is too late to change it",
            code="change_too_late",
            params={"time": hhmm(booking.est_pickup_s)},
        )


def change_offer(engine: BookingEngine, code: str, trip: TripRequest) -> OfferResult:
    """Offers for the booking ``code`` changed to ``trip`` (held like any offer).

    Raises
    ------
    NotFoundError, ConflictError
        See :func:`changeable`.
    BookingError
        If the new wish is in the past or names a bad connection.
    """
    booking = changeable(engine, code)
    return engine.offer(trip, replacing=booking.code)


def confirm_change(engine: BookingEngine, code: str, offer_id: str, *, by: str) -> dict[str, Any]:
    """Make the booking ``code`` the trip of the change offer ``offer_id``, keeping its code.

    Returns
    -------
    booking
        The changed booking (``booking_json``).

    Raises
    ------
    NotFoundError
        If there is no such booking or offer.
    ConflictError
        If the offer is not for this booking, was used, expired or no longer fits, or the
        booking may no longer be changed; then nothing is changed.
    """
    from planner.booking.engine import booking_json

    booking = changeable(engine, code)
    with engine.store.session() as session:
        offer = session.get(Offer, offer_id)
    if offer is None:
        raise NotFoundError("offer_id", f"no offer {offer_id!r}")
    if offer.payload.get("replaces") != booking.code:
        msg = f"this offer is not a change of booking {booking.code}"
        raise ConflictError("offer_id", msg, code="offer_not_for_booking")
    with engine.store.writing_days({booking.day, offer.day}) as (session, locks):
        b = find_booking(session, code)
        if b is None:  # deleted since changeable() found it
            raise NotFoundError("code", f"no booking {code!r}")
        _check(engine, b)  # again, under the lock
        offer = engine.usable_offer(session, offer_id)
        before = booking_json(b, personal=False)
        if offer.day != b.day:  # the old day loses the trip
            old = engine.days.load(session, b.day, without={b.code})
            engine.days.save_plan(session, locks[b.day], old, f"changed {b.code} to {offer.day}")
        request = engine.offered_request(b.code, offer)
        state = engine.days.load(session, offer.day, [request], without={b.code})
        for key, value in engine.place_offer(state, offer).items():
            setattr(b, key, value)
        b.updated_at = utcnow()
        offer.used = True
        session.flush()
        engine.days.save_plan(session, locks[offer.day], state, f"changed {b.code}")
        after = booking_json(b, personal=False)
        session.add(BookingChange(booking_code=b.code, changed_by=by, before=before, after=after,
                                  created_at=engine.clock()))  # fmt: skip
        session.flush()
        return booking_json(b)


def history(engine: BookingEngine, code: str) -> tuple[Change, ...]:
    """The changes of booking ``code``, oldest first."""
    with engine.store.session() as session:
        rows = session.scalars(
            select(BookingChange)
            .where(BookingChange.booking_code == code.strip().upper())
            .order_by(BookingChange.id)
        ).all()
    # SQLite returns naive UTC times
    return tuple(Change(_utc(r.created_at), r.changed_by, r.before, r.after) for r in rows)


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
