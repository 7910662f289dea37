"""Riders' personal data: erased when no longer needed, and shown or erased on request.

Personal data are the name, phone number, note and notification e-mail address of bookings
and standing bookings, and the addresses and texts of the notification outbox (offers
hold stops, times and party sizes; plan versions hold booking codes, stop orders and KPIs).
The service file's ``[privacy]`` rule says how long they are kept (:func:`apply_retention`,
run daily by ``rufbus serve``). A rider's request for access (GDPR Art. 15) is answered with
:func:`export_rider`, a request for erasure (Art. 17) with :func:`erase_rider`.

Erasing replaces name, phone and note by :data:`ERASED`; status, times, stops and party size
stay, so the KPIs of past days keep their figures.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.orm import Session

from planner.booking.engine import booking_json
from planner.errors import ConflictError, NotFoundError
from planner.notify import outbox
from planner.service import PrivacyRule
from planner.store.db import Base, Booking, Notification, Offer, StandingBooking, Store, utcnow

log = logging.getLogger(__name__)

#: What name, phone and note hold once erased (real bookings always have a name).
ERASED = ""

#: The retention job runs this often.
DAY_S = 24 * 3600


@dataclass(frozen=True, slots=True)
class RetentionResult:
    """What one run of the retention policy erased or deleted (or would, in a dry run)."""

    bookings: int
    standing_bookings: int
    offers: int
    dry_run: bool = False

    def to_json(self) -> dict[str, Any]:
        """The counts as the API and the CLI report them."""
        return {
            "bookings_anonymised": self.bookings,
            "standing_bookings_anonymised": self.standing_bookings,
            "offers_deleted": self.offers,
            "dry_run": self.dry_run,
        }

    def __str__(self) -> str:
        verbs = ("would anonymise", "would delete") if self.dry_run else ("anonymised", "deleted")
        return (
            f"{verbs[0]} {self.bookings} bookings and {self.standing_bookings} standing "
            f"bookings, {verbs[1]} {self.offers} expired offers"
        )


@dataclass(frozen=True, slots=True)
class ErasureResult:
    """The bookings and standing bookings whose personal data a request erased."""

    codes: tuple[str, ...]
    standing_ids: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        """The erased codes and standing booking ids as the API reports them."""
        return {"erased_codes": list(self.codes), "erased_standing_ids": list(self.standing_ids)}


class StillBookedError(ConflictError):
    """A booking to erase is still confirmed for today or later: the bus needs the name."""

    def __init__(self, code: str, day: str) -> None:
        super().__init__("code", f"booking {code} is still confirmed for {day}; cancel it first")
        self.code, self.day = code, day


def is_erased(booking: Booking) -> bool:
    """Whether the booking's personal data have been erased."""
    return booking.name == ERASED and booking.phone == ERASED and booking.note == ERASED


def _personal(model: type[Booking] | type[StandingBooking]) -> ColumnElement[bool]:
    """Rows that still hold personal data."""
    held = or_(model.name != ERASED, model.phone != ERASED, model.note != ERASED)
    return or_(held, Booking.notify_email != ERASED) if model is Booking else held


def local_today(now: datetime, timezone: str) -> date:
    """The service's local date at ``now``."""
    return now.astimezone(ZoneInfo(timezone)).date()


def apply_retention(
    store: Store, rule: PrivacyRule, *, now: datetime, timezone: str, dry_run: bool = False
) -> RetentionResult:
    """Erase personal data past the rule's time and delete old expired offers.

    All in one transaction.

    Parameters
    ----------
    store
        The database.
    rule
        The service's ``[privacy]`` rule.
    now
        The current time (timezone-aware).
    timezone
        The service's time zone: service days are local dates.
    dry_run
        Count only; change nothing.

    Returns
    -------
    result
        How many bookings and standing bookings were anonymised, and offers deleted.
    """
    # a booking's data go on the day its service day is erase_after_days in the past
    cutoff = (local_today(now, timezone) - timedelta(days=rule.erase_after_days)).isoformat()
    # offers store their expiry in UTC (SQLite keeps no time zone)
    expired_before = now.astimezone(UTC) - timedelta(hours=rule.offers_kept_hours)
    targets = (
        (Booking, (Booking.day <= cutoff, _personal(Booking))),
        (StandingBooking, (StandingBooking.last_day <= cutoff, _personal(StandingBooking))),
    )
    counts: list[int] = []
    with store.maintaining() as session:
        for model, where in targets:
            counts.append(_count(session, model, *where))
            if not dry_run:
                erase: dict[str, object] = {"name": ERASED, "phone": ERASED, "note": ERASED}
                if model is Booking:
                    erase.update(updated_at=now, notify_email=ERASED)
                session.execute(update(model).where(*where).values(**erase))
        if not dry_run:  # the outbox's addresses and texts go with the bookings'
            outbox.erase(session, Notification.day <= cutoff)
        old_offers = Offer.expires_at < expired_before
        offers = _count(session, Offer, old_offers)
        if not dry_run:
            session.execute(delete(Offer).where(old_offers))
    bookings, standing_bookings = counts
    return RetentionResult(bookings, standing_bookings, offers, dry_run=dry_run)


def _count(session: Session, model: type[Base], *where: ColumnElement[bool]) -> int:
    """How many rows of ``model`` match ``where``."""
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _digits(phone: str) -> str:
    return "".join(c for c in phone if c.isdigit())


def rider_records(
    session: Session, code: str, *, same_phone: bool = False
) -> tuple[list[Booking], list[StandingBooking]]:
    """The booking ``code`` and the records of the same rider.

    Always included: the linked return trip, the standing booking it came from and that
    standing booking's other bookings. With ``same_phone``, also every booking and standing
    booking with the same phone number (compared by its digits).

    Raises
    ------
    NotFoundError
        If there is no booking ``code``.
    """
    first = session.scalar(select(Booking).where(Booking.code == code.strip().upper()))
    if first is None:
        raise NotFoundError("code", f"no booking {code!r}")
    bookings = {first.id: first}
    standing_ids: set[int] = set()
    phone = _digits(first.phone) if same_phone else ""
    if phone:
        # phone numbers are stored as typed ("03471 123456", "03471/123456")
        for model, ids in ((Booking, None), (StandingBooking, standing_ids)):
            rows = session.execute(select(model.id, model.phone).where(model.phone != ERASED))
            matched = [row_id for row_id, other in rows if _digits(other) == phone]
            if ids is None:
                for b in session.scalars(select(Booking).where(Booking.id.in_(matched))):
                    bookings[b.id] = b
            else:
                ids.update(matched)
    # follow links and standing bookings until nothing new turns up
    while True:
        codes = {b.linked_code for b in bookings.values() if b.linked_code}
        standing_ids |= {b.standing_id for b in bookings.values() if b.standing_id is not None}
        found = session.scalars(
            select(Booking).where(
                or_(Booking.code.in_(codes), Booking.standing_id.in_(standing_ids)),
                Booking.id.not_in(list(bookings)),
            )
        ).all()
        if not found:
            break
        bookings.update((b.id, b) for b in found)
    standing = session.scalars(
        select(StandingBooking)
        .where(StandingBooking.id.in_(standing_ids))
        .order_by(StandingBooking.id)
    ).all()
    return sorted(bookings.values(), key=lambda b: (b.day, b.id)), list(standing)


def erase_rider(store: Store, code: str, *, today: date, same_phone: bool = False) -> ErasureResult:
    """Erase the personal data of a rider on request (see :func:`rider_records`).

    Raises
    ------
    NotFoundError
        If there is no booking ``code``.
    StillBookedError
        If one of the rider's bookings is still confirmed for ``today`` or later: the bus
        needs the name to pick them up, so it must be cancelled first.
    """
    with store.maintaining() as session:
        bookings, standing = rider_records(session, code, same_phone=same_phone)
        for b in bookings:
            if b.status == "confirmed" and b.day >= today.isoformat():
                raise StillBookedError(b.code, b.day)
        now = utcnow()
        records: list[Booking | StandingBooking] = [*bookings, *standing]
        for record in records:
            record.name = record.phone = record.note = ERASED
        for b in bookings:
            b.updated_at = now
            b.notify_email = ERASED
        outbox.erase(session, Notification.booking_code.in_([b.code for b in bookings]))
        return ErasureResult(tuple(b.code for b in bookings), tuple(s.id for s in standing))


def export_rider(
    store: Store, code: str, *, now: datetime, same_phone: bool = False
) -> dict[str, Any]:
    """Everything stored about a rider, as JSON, for a request for access.

    Raises
    ------
    NotFoundError
        If there is no booking ``code``.
    """
    with store.session() as session:
        bookings, standing = rider_records(session, code, same_phone=same_phone)
        messages = session.scalars(
            select(Notification)
            .where(Notification.booking_code.in_([b.code for b in bookings]))
            .order_by(Notification.id)
        ).all()
    return {
        "generated_at": now.isoformat(timespec="seconds"),
        "request": {"code": code.strip().upper(), "same_phone": same_phone},
        "bookings": [
            {
                **booking_json(b),
                # staff account names are not the rider's data
                "booked_by": "web" if b.created_by == "web" else "dispatcher",
                "notifications": {
                    "email": b.notify_email,
                    "sms": b.notify_sms,
                    "language": b.language,
                },
                "created_at": b.created_at.isoformat(timespec="seconds"),
                "updated_at": b.updated_at.isoformat(timespec="seconds"),
            }
            for b in bookings
        ],
        "standing_bookings": [
            {
                "id": s.id,
                "weekdays": [int(d) for d in s.weekdays.split(",") if d],
                "first_day": s.first_day,
                "last_day": s.last_day,
                "origin": {"id": s.origin_node},
                "destination": {"id": s.destination_node},
                "wish": {"kind": s.wish_kind, "seconds_after_midnight": s.wish_s},
                "passengers": s.passengers + s.wheelchairs,  # everyone, as riders count
                "wheelchairs": s.wheelchairs,
                "name": s.name,
                "phone": s.phone,
                "note": s.note,
                "created_at": s.created_at.isoformat(timespec="seconds"),
            }
            for s in standing
        ],
        "messages": [
            {
                "code": m.booking_code,
                "event": m.kind,
                "channel": m.channel,
                "address": m.address,
                "text": m.body,
                "status": m.status,
                "created_at": m.created_at.isoformat(timespec="seconds"),
            }
            for m in messages
        ],
    }


class RetentionJob:
    """Applies the retention policy at once and then every ``interval_s``, in a daemon thread.

    Only counts are logged, never names.
    """

    def __init__(
        self,
        store: Store,
        rule: PrivacyRule,
        timezone: str,
        *,
        clock: Callable[[], datetime] = utcnow,
        interval_s: float = DAY_S,
    ) -> None:
        self.store, self.rule, self.timezone = store, rule, timezone
        self.clock, self.interval_s = clock, interval_s
        self.runs = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rufbus-retention", daemon=True)

    def start(self) -> RetentionJob:
        """Start the background thread; return the job."""
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the background thread, waiting at most ``timeout`` seconds."""
        self._stop.set()
        self._thread.join(timeout)

    def run_once(self) -> RetentionResult | None:
        """One run; a failure is logged (and tried again next time), never raised."""
        try:
            result = apply_retention(
                self.store, self.rule, now=self.clock(), timezone=self.timezone
            )
        except Exception:
            log.exception("retention of personal data failed; next try in %.0f s", self.interval_s)
            return None
        finally:
            self.runs += 1
        log.info("retention of personal data: %s", result)
        return result

    def _loop(self) -> None:
        while True:
            self.run_once()
            if self._stop.wait(self.interval_s):
                return
