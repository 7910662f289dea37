"""Riders' notifications: queued once, delivered to a real SMTP server (aiosmtpd) and a fake
SMS provider over HTTP, retried with back-off, erased with the rider's data (real SQLite,
booking engine on the real network)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from planner.booking import BookingEngine, parse_trip_request
from planner.booking.privacy import apply_retention, erase_rider, export_rider
from planner.booking.wire import Notify
from planner.errors import ServiceFileError
from planner.live.events import VehicleEvent
from planner.live.intake import take_events
from planner.live.state import live_day
from planner.notify import outbox
from planner.notify.channels import senders
from planner.notify.messages import KINDS, SMS_LIMIT, TEXTS, Trip, message
from planner.notify.worker import arriving_in, run_pass
from planner.service import DEFAULT_SERVICE_FILE, NotificationRule, load_service
from planner.store.db import Booking, Notification
from tests.notify_fakes import Mailbox, SmsProvider, sms_provider, smtp_server
from tests.web.helpers import DAY, Clock

BERNBURG = "Bernburg (Saale), Busbahnhof"
STASSFURT = "Staßfurt, Bahnhof (Bus)"
MOBILE = "0151 2345 678"
LANDLINE = "03471 123456"
TOKEN = "test-token"


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as box:
        yield box


@pytest.fixture
def provider() -> Iterator[SmsProvider]:
    with sms_provider() as p:
        yield p


@pytest.fixture
def notifying(engine: BookingEngine, mailbox: Mailbox, provider: SmsProvider) -> BookingEngine:
    """The engine with every channel on, pointed at the test's SMTP server and SMS provider."""
    rule = NotificationRule(
        channels=("email", "sms", "call"),
        sender_name="Rufbus Test",
        from_address="rufbus@example.org",
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        sms_url=provider.url,
        retry_base_s=60,
        max_attempts=4,
    )
    engine.service = replace(engine.service, notifications=rule, phone="03471 9990")
    return engine


def book(engine: BookingEngine, phone: str = MOBILE, notify: Notify | None = None, **kw) -> str:
    trip = parse_trip_request(
        {"origin": BERNBURG, "destination": STASSFURT, "date": DAY, "time": "08:10"},
        engine.catalog,
        engine.service,
    )
    offer = engine.offer(trip).offers[0]
    booked = engine.confirm(offer.id, name="Erika Mustermann", phone=phone, notify=notify, **kw)
    return booked[0]["code"]


def deliver(engine: BookingEngine, clock: Clock) -> outbox.DeliveryCounts:
    result = run_pass(
        engine, senders(engine.service.notifications, {"RUFBUS_SMS_TOKEN": TOKEN}), clock()
    )
    return outbox.DeliveryCounts(result.sent, result.retried, result.failed)


def rows(engine: BookingEngine) -> list[Notification]:
    with engine.store.session() as s:
        return list(s.scalars(select(Notification).order_by(Notification.id)))


def test_confirmation_reaches_the_smtp_server_and_the_sms_provider_once(
    notifying: BookingEngine, clock: Clock, mailbox: Mailbox, provider: SmsProvider
) -> None:
    code = book(notifying, notify=Notify(email="erika@example.de", sms=True))
    assert deliver(notifying, clock) == outbox.DeliveryCounts(sent=2)

    (mail,) = mailbox.mails
    assert mail["To"] == "erika@example.de"
    assert mail["From"] == "Rufbus Test <rufbus@example.org>"
    assert mail["Subject"] == "Rufbus gebucht"
    body = mail.get_content()
    # weekday with the date, the promised window as HH:MM, the stop, the hotline
    assert f"Rufbus {code} gebucht: Mi, 02.12., Abholung 08:10-08:25 Uhr an {BERNBURG}." in body
    assert "Nach: Staßfurt, Bahnhof (Bus)" in body and "03471 9990" in body

    (sms,) = provider.requests
    assert sms["authorization"] == f"Bearer {TOKEN}"
    assert sms["json"]["to"] == "+491512345678"
    assert sms["json"]["text"].startswith(f"Rufbus {code} gebucht: Mi, 02.12.")
    assert len(sms["json"]["text"]) <= SMS_LIMIT

    # the next passes find the rider told: nothing is queued or sent again
    clock.advance(minutes=5)
    assert deliver(notifying, clock) == outbox.DeliveryCounts()
    assert len(mailbox.mails) == 1 and len(provider.requests) == 1
    assert [(r.kind, r.channel, r.status, r.attempts) for r in rows(notifying)] == [
        ("confirmation", "email", "sent", 1),
        ("confirmation", "sms", "sent", 1),
    ]


def test_a_failed_delivery_is_tried_again_with_back_off_and_then_succeeds(
    notifying: BookingEngine, clock: Clock, mailbox: Mailbox, provider: SmsProvider
) -> None:
    book(notifying, notify=Notify(email="erika@example.de", sms=True))
    mailbox.refuse, provider.fail = 1, 2
    start = clock()
    assert deliver(notifying, clock) == outbox.DeliveryCounts(retried=2)
    by_channel = {r.channel: r for r in rows(notifying)}
    assert by_channel["sms"].last_error == "SMS provider answered HTTP 500"
    assert by_channel["email"].last_error == "SMTP 451"
    assert {_utc(r.next_attempt_at) for r in by_channel.values()} == {start + timedelta(seconds=60)}

    clock.advance(seconds=59)  # not due yet: nobody is asked
    assert deliver(notifying, clock) == outbox.DeliveryCounts()
    assert (mailbox.tries, provider.tries) == (1, 1)

    clock.advance(seconds=1)  # first retry: the mail goes, the provider fails once more
    assert deliver(notifying, clock) == outbox.DeliveryCounts(sent=1, retried=1)
    sms = next(r for r in rows(notifying) if r.channel == "sms")
    assert sms.attempts == 2 and _utc(sms.next_attempt_at) == clock() + timedelta(seconds=120)

    clock.advance(seconds=120)  # twice as long: it goes through
    assert deliver(notifying, clock) == outbox.DeliveryCounts(sent=1)
    assert [(r.status, r.attempts) for r in rows(notifying)] == [("sent", 2), ("sent", 3)]
    assert len(mailbox.mails) == 1 and len(provider.requests) == 1


def test_a_message_that_keeps_failing_is_given_up_and_listed_for_dispatchers(
    notifying: BookingEngine, clock: Clock, provider: SmsProvider
) -> None:
    book(notifying, notify=Notify(sms=True))
    provider.fail = 100
    for _ in range(notifying.service.notifications.max_attempts):
        deliver(notifying, clock)
        clock.advance(hours=2)
    (row,) = rows(notifying)
    assert (row.status, row.attempts) == ("failed", 4)
    assert [m.id for m in outbox.open_messages(notifying.store)] == [row.id]


def test_the_same_event_queued_twice_is_stored_and_sent_once(
    notifying: BookingEngine, clock: Clock, mailbox: Mailbox
) -> None:
    code = book(notifying, notify=Notify(email="erika@example.de"))
    days = [date.fromisoformat(DAY)]
    service = notifying.service
    assert outbox.collect(notifying.store, service, clock(), days) == 1
    assert outbox.collect(notifying.store, service, clock(), days) == 0
    notifying.cancel(code)  # as the dispatcher's page does, then it queues the message
    assert outbox.queue_cancellation(notifying.store, service, code, clock()) == 1
    assert outbox.queue_cancellation(notifying.store, service, code, clock()) == 0
    deliver(notifying, clock)
    deliver(notifying, clock)
    assert [m["Subject"] for m in mailbox.mails] == ["Rufbus gebucht", "Rufbus: Fahrt abgesagt"]


def test_riders_who_did_not_opt_in_get_nothing(
    notifying: BookingEngine, clock: Clock, mailbox: Mailbox, provider: SmsProvider
) -> None:
    code = book(notifying)  # no notify: nothing chosen
    notifying.cancel(code)
    outbox.queue_cancellation(notifying.store, notifying.service, code, clock())
    clock.now = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # reminder time
    deliver(notifying, clock)
    assert rows(notifying) == [] and mailbox.tries == 0 and provider.tries == 0


def test_a_landline_goes_on_the_call_list_for_changes_and_cancellations_only(
    notifying: BookingEngine, clock: Clock, provider: SmsProvider
) -> None:
    code = book(notifying, phone=LANDLINE, notify=Notify(sms=True))
    deliver(notifying, clock)
    # no call to say what the rider was just told (but the outbox knows what they know)
    assert [(r.kind, r.status) for r in rows(notifying)] == [("confirmation", "skipped")]
    # a dispatcher changes the promised window (any write path does: the worker compares)
    _move_window(notifying, code, 9 * 3600)
    deliver(notifying, clock)
    notifying.cancel(code)
    outbox.queue_cancellation(notifying.store, notifying.service, code, clock())
    calls = rows(notifying)[1:]
    assert [(r.kind, r.channel, r.status, r.address) for r in calls] == [
        ("change", "call", "call", LANDLINE),
        ("cancellation", "call", "call", LANDLINE),
    ]
    assert "Neu: Mi, 02.12., 09:00-09:15 Uhr" in calls[0].body
    assert provider.tries == 0
    assert outbox.mark_called(notifying.store, calls[0].id, clock())
    assert not outbox.mark_called(notifying.store, calls[0].id, clock())  # once
    assert [m.id for m in outbox.open_messages(notifying.store)] == [calls[1].id]


def test_a_changed_window_is_told_once_per_change_in_the_riders_language(
    notifying: BookingEngine, clock: Clock, mailbox: Mailbox
) -> None:
    code = book(notifying, notify=Notify(email="erika@example.de", language="en"))
    deliver(notifying, clock)
    _move_window(notifying, code, 8 * 3600 + 20 * 60)
    deliver(notifying, clock)
    deliver(notifying, clock)  # told already: not again
    _move_window(notifying, code, 8 * 3600 + 10 * 60)  # and back: a new change
    deliver(notifying, clock)
    subjects = [m["Subject"] for m in mailbox.mails]
    assert subjects == ["Rufbus booked", "Rufbus: new pickup time", "Rufbus: new pickup time"]
    assert "New: Wed 2 Dec, 08:20-08:35 at" in mailbox.mails[1].get_content()


def test_the_reminder_goes_out_the_evening_before_at_the_set_time(
    notifying: BookingEngine, clock: Clock, mailbox: Mailbox
) -> None:
    book(notifying, notify=Notify(email="erika@example.de"))
    deliver(notifying, clock)
    clock.now = datetime(2026, 12, 1, 16, 59, tzinfo=UTC)  # 17:59 in Berlin
    deliver(notifying, clock)
    assert len(mailbox.mails) == 1
    clock.now = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # 18:00
    deliver(notifying, clock)
    clock.advance(minutes=30)
    deliver(notifying, clock)
    assert [m["Subject"] for m in mailbox.mails] == [
        "Rufbus gebucht",
        "Erinnerung: Ihre Rufbus-Fahrt morgen",
    ]
    assert "morgen, Mi, 02.12., Abholung 08:10-08:25 Uhr" in mailbox.mails[1].get_content()


def test_a_reminder_is_not_sent_late_at_night_nor_to_riders_who_booked_after_it() -> None:
    rule = NotificationRule(channels=("email",))
    tz = ZoneInfo("Europe/Berlin")
    b = Booking(
        code="ABC", day=DAY, window_start_s=8 * 3600.0, window_end_s=8.25 * 3600,
        created_at=datetime(2026, 12, 1, 6, 0, tzinfo=UTC),
    )  # fmt: skip
    told = ("08:00-08:15", 1)
    at = lambda h, m=0: datetime(2026, 12, 1, h, m, tzinfo=UTC)  # noqa: E731
    assert outbox.due_events(b, told, at(17), rule, tz) == [outbox.Event("reminder")]
    assert outbox.due_events(b, told, at(21, 0), rule, tz) == []  # 22:00: too late
    b.created_at = at(17, 30)  # booked after 18:00: the confirmation was enough
    assert outbox.due_events(b, told, at(18), rule, tz) == []
    # "your bus arrives in about 5 minutes": once the live estimate is that close
    assert outbox.due_events(b, told, at(7), rule, tz, arriving_in_s=280) == [
        outbox.Event("arriving")
    ]
    assert outbox.due_events(b, told, at(7), rule, tz, arriving_in_s=400) == []


def test_erasure_clears_the_outbox(
    notifying: BookingEngine, clock: Clock, mailbox: Mailbox
) -> None:
    code = book(notifying, phone=LANDLINE, notify=Notify(email="erika@example.de", sms=True))
    other = book(notifying, notify=Notify(email="max@example.de"))
    deliver(notifying, clock)
    notifying.cancel(code)
    outbox.queue_cancellation(notifying.store, notifying.service, code, clock())
    # a request for access shows the opt-in and every message, with address and text
    (shown,) = export_rider(notifying.store, code, now=clock())["bookings"]
    assert shown["notifications"] == {"email": "erika@example.de", "sms": True, "language": "de"}
    messages = export_rider(notifying.store, code, now=clock())["messages"]
    assert [(m["event"], m["channel"], m["address"]) for m in messages] == [
        ("confirmation", "email", "erika@example.de"), ("confirmation", "call", LANDLINE),
        ("cancellation", "email", "erika@example.de"), ("cancellation", "call", LANDLINE),
    ]  # fmt: skip
    erase_rider(notifying.store, code, today=date(2026, 12, 1))
    erased = [r for r in rows(notifying) if r.booking_code == code]
    assert {(r.address, r.subject, r.body, r.last_error) for r in erased} == {("", "", "", "")}
    # the call is off the list
    assert {(r.channel, r.status) for r in erased} == {
        ("email", "sent"), ("call", "skipped"), ("email", "dropped"), ("call", "dropped"),
    }  # fmt: skip
    with notifying.store.session() as s:
        assert s.scalar(select(Booking.notify_email).where(Booking.code == code)) == ""
    # the retention policy does the same for the other rider once the day is past
    clock.now = datetime(2027, 1, 2, 11, 0, tzinfo=UTC)
    service = notifying.service
    apply_retention(notifying.store, service.privacy, now=clock(), timezone=service.timezone)
    (kept,) = [r for r in rows(notifying) if r.booking_code == other]
    assert (kept.address, kept.body) == ("", "")


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_message_fits_one_sms_and_names_the_weekday(kind: str, language: str) -> None:
    long_stop = "Bernburg (Saale), Krankenhaus / Kustrenaer Straße, Haupteingang Nord (Bus)" * 2
    trip = Trip("K7Q2M9X4PA", date(2026, 12, 2), "08:10", "08:25", long_stop, "Staßfurt", language)
    said = message(kind, trip, phone="03471 123456 789")
    assert len(said.text) <= SMS_LIMIT
    if "{stop}" in TEXTS[language][kind][1]:  # shortened to fit
        assert "Bernburg (Saale), Krankenhaus" in said.text and "…" in said.text
    if kind == "arriving":  # today: the minutes say when
        assert ("etwa 5 Minuten" if language == "de" else "about 5 minutes") in said.text
    else:
        assert ("Mi, 02.12." if language == "de" else "Wed 2 Dec") in said.text
        assert "08:10-08:25" in said.text
    assert long_stop in said.body  # the e-mail names it in full
    assert said.subject == TEXTS[language][kind][0]
    assert said.text in said.body


@pytest.mark.parametrize(
    ("phone", "mobile"),
    [("0151 2345678", True), ("+49 160 1234567", True), ("0049-172/1234567", True),
     ("(0176) 12345678", True), ("03471 123456", False), ("0345 1234567", False),
     ("+43 660 1234567", False), ("0180 1234567", False)],
)  # fmt: skip
def test_german_mobile_numbers_are_told_from_landlines(phone: str, mobile: bool) -> None:
    assert outbox.is_mobile(phone) is mobile


def test_the_service_file_names_a_bad_notification_setting(tmp_path: Path) -> None:
    text = DEFAULT_SERVICE_FILE.read_text(encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('channels = ["email", "call"]', 'channels = ["fax"]'), "utf-8")
    with pytest.raises(ServiceFileError, match="notifications.channels: unknown channel 'fax'"):
        load_service(bad)
    bad.write_text(text.replace('channels = ["email", "call"]', 'channels = ["sms"]'), "utf-8")
    with pytest.raises(ServiceFileError, match="notifications.sms_url"):
        load_service(bad)
    rule = load_service().notifications
    assert (rule.channels, rule.reminder_s, rule.arrival_min) == (("email", "call"), 18 * 3600, 5)


def _move_window(engine: BookingEngine, code: str, start_s: int) -> None:
    with engine.store.maintaining() as s:
        s.execute(
            update(Booking)
            .where(Booking.code == code)
            .values(window_start_s=start_s, window_end_s=start_s + 15 * 60)
        )


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_the_bus_is_near_once_the_live_estimate_of_a_bus_on_the_road_says_so() -> None:
    # the live state's plan and events of tests/planner/test_live_state.py: A boards at
    # node 1, B waits at node 2 (5 min further on)
    from tests.planner.test_live_state import MIN, PLAN, PROMISES, H, event, travel

    def near(events, now_s):  # noqa: ANN001, ANN202
        day = live_day(PLAN, events, PROMISES, now_s=now_s, depots={"BBG-1": 0}, travel_s=travel)
        return arriving_in(day, ["A", "B"])

    assert near([], 8 * H) == {}  # nobody drives the plan yet: no estimate to tell
    started = [
        event("shift_start", 7.9 * H, 1),
        event("arrived", 8 * H + 5 * MIN, 2, stop_node=1),
        event("boarded", 8 * H + 5 * MIN, 3, booking="A"),
        event("departed", 8 * H + 6 * MIN, 4, stop_node=1),
    ]
    assert near(started, 8 * H + 6 * MIN) == {"B": 5 * MIN}  # A is on board: done


def test_the_worker_tells_the_rider_once_when_the_bus_on_the_road_is_near(
    notifying: BookingEngine, clock: Clock, mailbox: Mailbox
) -> None:
    code = book(notifying, notify=Notify(email="erika@example.de"))
    vehicle = notifying.booking(code).vehicle_id
    clock.now = datetime(2026, 12, 2, 6, 50, tzinfo=UTC)  # 07:50, pickup from 08:10
    deliver(notifying, clock)
    assert [m["Subject"] for m in mailbox.mails] == ["Rufbus gebucht"]
    # the driver starts the shift (through the drivers' intake, as the driver app sends it)
    at_s = notifying.now_s(date.fromisoformat(DAY))
    start = VehicleEvent("c1", vehicle, date.fromisoformat(DAY), "shift_start", at_s)
    assert take_events(notifying, [start], driver="fahrer").accepted == ("c1",)
    deliver(notifying, clock)  # the bus is 20 minutes away: not yet
    assert len(mailbox.mails) == 1
    clock.now = datetime(2026, 12, 2, 7, 6, tzinfo=UTC)  # 08:06
    deliver(notifying, clock)
    clock.advance(minutes=1)
    deliver(notifying, clock)  # once
    assert [m["Subject"] for m in mailbox.mails] == ["Rufbus gebucht", "Rufbus: gleich da"]
    assert f"Rufbus {code}: Ihr Bus ist in etwa 5 Minuten an {BERNBURG}." in (
        mailbox.mails[1].get_content()
    )
