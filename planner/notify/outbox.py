"""The outbox: which events are due, queued once, delivered once, tried again with back-off.

A booking's events are found by looking, not by hooks in every code path that might change
it: the worker compares each opted-in booking with what it was last told (the window of its
last ``confirmation`` or ``change`` message), so a re-plan, a booking moved by hand or one a
dispatcher changed are all noticed the same way (:func:`due_events`, pure). Only the
operator's cancellation is queued where it happens (:func:`queue_cancellation`): a rider who
cancels needs no message.

Every message has a key (booking code, event, its detail, channel) that is unique in the
table; queuing inserts with ``ON CONFLICT DO NOTHING``, so the same event queued twice (or by
two workers at once) is stored once. Delivery claims a message before sending it (its
``next_attempt_at`` moves on only if it is still due), so it is sent once. A failed attempt
is tried again after ``retry_base_s``, 2x, 4x ... that, until ``max_attempts``.

Channels per rider (:func:`recipients`): the e-mail address if given; with "SMS an diese
Nummer", an SMS if the phone is a German mobile number (:func:`is_mobile`), else an entry
on the dispatchers' call list, but only for what a rider must know before the ride (a time
change, a cancellation): nobody is phoned to be told what they were just told on the phone.
The other events of a call rider are stored as ``skipped``, so that the outbox still knows
what the rider was told.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from planner.notify.channels import DeliveryError, Sender
from planner.notify.messages import Trip, message
from planner.service import NotificationRule, Service
from planner.service_time import local_datetime
from planner.store.db import Booking, Notification, Store
from planner.timefmt import hhmm

log = logging.getLogger(__name__)

PENDING, SENT, FAILED, CALL, CALLED, DROPPED, SKIPPED = (
    "pending", "sent", "failed", "call", "called", "dropped", "skipped",
)  # fmt: skip
#: Events that put a rider with only a landline on the call list.
CALL_KINDS = ("change", "cancellation")
#: Events that tell the rider a window (the last of them is what the rider knows).
TOLD_KINDS = ("confirmation", "change")
#: A reminder not sent this long after its time is not sent at all (no reminder at night).
REMINDER_LATE_S = 4 * 3600
#: How long a claimed message is held for the sender before another worker may try it.
CLAIM_S = 120
#: Messages delivered per pass at most (the rest next time).
BATCH = 50

# German mobile numbers: 015x, 016x, 017x, also as +49 or 0049
_MOBILE = re.compile(r"^(?:\+49|0049|0)(1[5-7][0-9]{7,10})$")


@dataclass(frozen=True, slots=True)
class Event:
    """Something to tell a rider: its ``kind`` and what makes it this one (``detail``)."""

    kind: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class DeliveryCounts:
    """What one delivery pass did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0


def is_mobile(phone: str) -> bool:
    """Whether ``phone`` is a German mobile number (015x, 016x, 017x, also +49 15x...).

    Spaces, ``/``, ``-`` and brackets are ignored; anything else (a landline, a foreign
    number) is not texted.
    """
    return _MOBILE.match(_compact(phone)) is not None


def sms_number(phone: str) -> str:
    """A German mobile number in the international form ``+49151...``."""
    found = _MOBILE.match(_compact(phone))
    if found is None:
        raise ValueError("not a German mobile number")
    return "+49" + found.group(1)


def _compact(phone: str) -> str:
    return re.sub(r"[\s/\-()]", "", phone)


def window_text(booking: Booking) -> str:
    """The booking's promised pickup window as ``HH:MM-HH:MM``."""
    return f"{hhmm(booking.window_start_s)}-{hhmm(booking.window_end_s)}"


def recipients(booking: Booking, rule: NotificationRule) -> list[tuple[str, str]]:
    """(channel, address) of every enabled channel the rider opted into."""
    out = []
    if booking.notify_email and "email" in rule.channels:
        out.append(("email", booking.notify_email))
    if booking.notify_sms and booking.phone:
        if is_mobile(booking.phone) and "sms" in rule.channels:
            out.append(("sms", sms_number(booking.phone)))
        elif "call" in rule.channels:
            out.append(("call", booking.phone))
    return out


def _aware(moment: datetime) -> datetime:
    """``moment`` with a time zone (SQLite returns stored UTC times without one)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def due_events(
    booking: Booking,
    told: tuple[str, int] | None,
    now: datetime,
    rule: NotificationRule,
    tz: ZoneInfo,
    arriving_in_s: float | None = None,
) -> list[Event]:
    """The events due for a confirmed ``booking`` now (pure).

    Parameters
    ----------
    booking
        A confirmed booking that opted in.
    told
        The window of the last confirmation or change message and that message's id; None
        if the rider was told nothing yet.
    now
        The current time (timezone-aware).
    rule
        The service's ``[notifications]``.
    tz
        The service's time zone.
    arriving_in_s
        Seconds until the bus is estimated at the pickup (live state); None if unknown.
    """
    window = window_text(booking)
    day = date.fromisoformat(booking.day)
    events = []
    if told is None:
        events.append(Event("confirmation"))
    elif told[0] != window:  # the id keeps a change back to an earlier window apart
        events.append(Event("change", f"{window}@{told[1]}"))
    reminder_at = local_datetime(day - timedelta(days=1), rule.reminder_s, tz)
    pickup_at = local_datetime(day, booking.window_start_s, tz)
    booked_before = _aware(booking.created_at) < reminder_at
    in_time = reminder_at <= now < min(reminder_at + timedelta(seconds=REMINDER_LATE_S), pickup_at)
    if booked_before and in_time:
        events.append(Event("reminder"))
    if arriving_in_s is not None and 0 <= arriving_in_s <= rule.arrival_min * 60:
        events.append(Event("arriving"))
    return events


def _insert(session: Session, rows: list[dict[str, object]]) -> int:
    """Insert outbox rows, skipping keys already there; how many were new."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    statement = insert(Notification).values(rows).on_conflict_do_nothing(index_elements=["key"])
    result = session.execute(statement.returning(Notification.id))
    return len(result.all())


def queue(
    session: Session,
    booking: Booking,
    event: Event,
    service: Service,
    now: datetime,
    *,
    minutes: int | None = None,
) -> int:
    """Queue ``event`` of ``booking`` on each of its channels; how many messages were new.

    The e-mail carries the long body, the SMS and the call list the short text.
    """
    rule = service.notifications
    window = window_text(booking)
    trip = Trip(
        booking.code,
        date.fromisoformat(booking.day),
        hhmm(booking.window_start_s),
        hhmm(booking.window_end_s),
        booking.origin_name,
        booking.destination_name,
        booking.language,
    )
    said = message(
        event.kind,
        trip,
        minutes=minutes or rule.arrival_min,
        phone=service.phone,
        booking_url=service.booking_url,
        sender=rule.sender_name,
    )
    rows: list[dict[str, object]] = []
    for channel, address in recipients(booking, rule):
        status = PENDING
        if channel == "call":
            # nobody is phoned for the rest, but the row records what the rider knows
            status = CALL if event.kind in CALL_KINDS else SKIPPED
        rows.append(
            {
                "key": f"{booking.code}:{event.kind}:{event.detail}:{channel}",
                "booking_code": booking.code,
                "day": booking.day,
                "kind": event.kind,
                "channel": channel,
                "window": window,
                "address": address,
                "subject": said.subject,
                "body": said.body if channel == "email" else said.text,
                "status": status,
                "attempts": 0,
                "next_attempt_at": now,
                "last_error": "",
                "created_at": now,
            }
        )
    return _insert(session, rows)


def _opted_in() -> ColumnElement[bool]:
    return or_(Booking.notify_email != "", Booking.notify_sms.is_(True))


def told_windows(session: Session, codes: Iterable[str]) -> dict[str, tuple[str, int]]:
    """Per booking code, the window of its last confirmation or change and that message's id."""
    rows = session.execute(
        select(Notification.booking_code, Notification.window, Notification.id)
        .where(Notification.booking_code.in_(list(codes)), Notification.kind.in_(TOLD_KINDS))
        .order_by(Notification.id)
    )
    return {code: (window, row_id) for code, window, row_id in rows}


def collect(
    store: Store,
    service: Service,
    now: datetime,
    days: Sequence[date],
    arriving: Mapping[str, float] | None = None,
) -> int:
    """Queue every event due now for the opted-in confirmed bookings of ``days``.

    ``arriving`` maps booking codes to the seconds until their bus is estimated at the
    pickup (from the live state). Returns how many messages were new.
    """
    if not service.notifications.enabled:
        return 0
    tz = ZoneInfo(service.timezone)
    arriving = arriving or {}
    queued = 0
    with store.maintaining() as session:
        bookings = session.scalars(
            select(Booking).where(
                Booking.day.in_([d.isoformat() for d in days]),
                Booking.status == "confirmed",
                _opted_in(),
            )
        ).all()
        told = told_windows(session, [b.code for b in bookings])
        for b in bookings:
            events = due_events(
                b, told.get(b.code), now, service.notifications, tz, arriving.get(b.code)
            )
            for event in events:
                queued += queue(session, b, event, service, now)
    return queued


def queue_cancellation(store: Store, service: Service, code: str, now: datetime) -> int:
    """Queue the message that the operator cancelled booking ``code`` (if it opted in)."""
    if not service.notifications.enabled:
        return 0
    with store.maintaining() as session:
        booking = session.scalar(select(Booking).where(Booking.code == code))
        if booking is None or booking.status != "cancelled":
            return 0
        return queue(session, booking, Event("cancellation"), service, now)


def backoff_s(rule: NotificationRule, attempts: int) -> float:
    """Seconds until the next try after ``attempts`` failed ones: base, 2x, 4x, ..."""
    return rule.retry_base_s * 2 ** max(attempts - 1, 0)


def _claim(session: Session, row_id: int, now: datetime) -> bool:
    """Hold a due message for this worker; False if another took it first."""
    claimed = session.execute(
        update(Notification)
        .where(
            Notification.id == row_id,
            Notification.status == PENDING,
            Notification.next_attempt_at <= now,
        )
        .values(next_attempt_at=now + timedelta(seconds=CLAIM_S))
    )
    return bool(claimed.rowcount)  # type: ignore[attr-defined]


def deliver_due(
    store: Store,
    rule: NotificationRule,
    senders: Mapping[str, Sender],
    now: datetime,
    *,
    limit: int = BATCH,
) -> DeliveryCounts:
    """Send the pending messages due at ``now``, oldest first, and record how it went.

    A message is claimed in a transaction of its own before it is sent, and its outcome
    stored in another, so a crash in between leaves it to be tried again after
    :data:`CLAIM_S`, and two workers never send it both. Logs hold ids, events and
    channels, never addresses or texts.
    """
    with store.session() as session:
        due = session.scalars(
            select(Notification)
            .where(Notification.status == PENDING, Notification.next_attempt_at <= now)
            .order_by(Notification.next_attempt_at, Notification.id)
            .limit(limit)
        ).all()
    sent = retried = failed = 0
    for row in due:
        sender = senders.get(row.channel)
        with store.maintaining() as session:
            if not _claim(session, row.id, now):
                continue
        error = ""
        if sender is None:
            error = f"channel {row.channel} is not enabled"
        else:
            try:
                sender.send(row.address, row.subject, row.body)
            except DeliveryError as exc:
                error = str(exc)
            except Exception as exc:  # a bug in a sender must not stop the others
                error = f"unexpected {type(exc).__name__}"
        attempts = row.attempts + 1
        values: dict[str, object] = {"attempts": attempts, "last_error": error[:300]}
        if not error:
            values.update(status=SENT, sent_at=now)
            sent += 1
        elif attempts >= rule.max_attempts:
            values["status"] = FAILED
            failed += 1
        else:
            values["next_attempt_at"] = now + timedelta(seconds=backoff_s(rule, attempts))
            retried += 1
        with store.maintaining() as session:
            session.execute(update(Notification).where(Notification.id == row.id).values(values))
        log.info("notification %d (%s by %s): %s", row.id, row.kind, row.channel, error or "sent")
    return DeliveryCounts(sent, retried, failed)


def messages_of(store: Store, code: str) -> list[Notification]:
    """Every message of booking ``code``, oldest first."""
    with store.session() as session:
        return list(
            session.scalars(
                select(Notification)
                .where(Notification.booking_code == code)
                .order_by(Notification.id)
            )
        )


def open_messages(store: Store) -> list[Notification]:
    """What dispatchers must look at: the call list, failed and waiting messages."""
    with store.session() as session:
        return list(
            session.scalars(
                select(Notification)
                .where(Notification.status.in_((CALL, FAILED, PENDING)))
                .order_by(Notification.day, Notification.id)
            )
        )


def mark_called(store: Store, row_id: int, now: datetime) -> bool:
    """Take a message off the call list (the dispatcher phoned); whether it was on it."""
    with store.maintaining() as session:
        done = session.execute(
            update(Notification)
            .where(Notification.id == row_id, Notification.status == CALL)
            .values(status=CALLED, sent_at=now)
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]


def erase(session: Session, where: ColumnElement[bool]) -> int:
    """Blank address, texts and error of the messages ``where`` selects (personal data).

    Messages not sent yet are dropped: there is nobody left to send them to. Returns how
    many messages still held personal data.
    """
    personal = or_(Notification.address != "", Notification.body != "")
    count = session.execute(
        update(Notification)
        .where(where, personal)
        .values(address="", subject="", body="", last_error="")
    ).rowcount  # type: ignore[attr-defined]
    session.execute(
        update(Notification)
        .where(where, Notification.status.in_((PENDING, CALL)))
        .values(status=DROPPED)
    )
    return int(count or 0)
