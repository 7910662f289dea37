"""Personal data: the retention policy, and a rider's requests for access and erasure
(booking engine on the real network, real SQLite)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from planner.booking import BookingEngine, parse_trip_request
from planner.booking.privacy import (
    RetentionJob,
    apply_retention,
    erase_rider,
    export_rider,
    is_erased,
)
from planner.errors import ConflictError, NotFoundError
from planner.store.db import Booking, Offer, StandingBooking
from tests.web.helpers import DAY, Clock

BERNBURG = "Bernburg (Saale), Busbahnhof"
STASSFURT = "Staßfurt, Bahnhof (Bus)"
SCHOENEBECK = "Schönebeck (Elbe), Bahnhof (Bus)"


def trip(engine: BookingEngine, day: str, time: str = "08:10", **body):
    payload = {"origin": BERNBURG, "destination": STASSFURT, "date": day, "time": time, **body}
    return parse_trip_request(payload, engine.catalog, engine.service)


def book(engine: BookingEngine, day: str, name: str, phone: str, **extra) -> list[dict]:
    offer_id = engine.offer(trip(engine, day)).offers[0].id
    return engine.confirm(offer_id, name=name, phone=phone, **extra)


def rows(engine: BookingEngine) -> dict[str, Booking]:
    with engine.store.session() as s:
        return {b.code: b for b in s.scalars(select(Booking))}


def count(engine: BookingEngine, model) -> int:
    with engine.store.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def retain(engine: BookingEngine, clock: Clock, **kw):
    service = engine.service
    return apply_retention(
        engine.store, service.privacy, now=clock(), timezone=service.timezone, **kw
    )


def test_retention_erases_old_personal_data_and_keeps_the_kpis(
    engine: BookingEngine, clock: Clock
) -> None:
    old = book(engine, DAY, "Erika Mustermann", "03471 123456", note="Rollator")[0]
    cancelled = book(engine, "2026-12-03", "Max Muster", "03471 222222")[0]
    engine.cancel(cancelled["code"])
    recent = book(engine, "2026-12-12", "Lena Neu", "03471 333333")[0]
    # a standing booking on Wednesdays that ends on DAY (2 Dec 2026 is a Wednesday)
    standing = engine.add_standing(
        trip(engine, DAY, "10:00"), weekdays=[3], last_day=date(2026, 12, 2),
        name="Karl Dialyse", phone="03471 654321", note="Dialyse",
    )  # fmt: skip
    assert len(standing["days"]) == 1 and "code" in standing["days"][0]
    kpis_before = engine.kpis(date(2026, 12, 2))
    plan_before = engine.day_plan(date(2026, 12, 2))
    offers_before = count(engine, Offer)
    assert offers_before >= 4

    # 1 January 2027: the service day 2 December is 30 days in the past, 3 December not
    clock.now = datetime(2027, 1, 1, 11, 0, tzinfo=UTC)
    fresh = engine.offer(trip(engine, "2027-01-02")).offers  # not expired: kept
    dry = retain(engine, clock, dry_run=True)
    assert (dry.bookings, dry.standing_bookings, dry.offers) == (2, 1, offers_before)
    assert not is_erased(rows(engine)[old["code"]])  # a dry run changes nothing
    assert count(engine, Offer) == offers_before + len(fresh)

    result = retain(engine, clock)
    assert (result.bookings, result.standing_bookings, result.offers) == (2, 1, offers_before)
    assert "Erika" not in str(result) and "anonymised 2 bookings" in str(result)
    after = rows(engine)
    erased = {c for c, b in after.items() if is_erased(b)}
    assert erased == {old["code"], standing["days"][0]["code"]}
    assert after[cancelled["code"]].name == "Max Muster"
    assert after[recent["code"]].phone == "03471 333333"
    with engine.store.session() as s:
        assert s.scalars(select(StandingBooking.name)).all() == [""]
    # the ride itself stays: status, times, stops, party size, and so the day's figures
    kept = after[old["code"]]
    assert (kept.status, kept.passengers, kept.window_start_s) == ("confirmed", 1, 8 * 3600 + 600)
    assert engine.kpis(date(2026, 12, 2)) == kpis_before
    plan_after = engine.day_plan(date(2026, 12, 2))
    assert plan_after.kpis == plan_before.kpis
    assert [s.rider for _, s in plan_after.stops()] == [""] * 4
    with engine.store.session() as s:
        assert set(s.scalars(select(Offer.id))) == {o.id for o in fresh}
    assert retain(engine, clock).to_json() == {
        "bookings_anonymised": 0, "standing_bookings_anonymised": 0, "offers_deleted": 0,
        "dry_run": False,
    }  # fmt: skip


def test_erase_and_export_on_request(engine: BookingEngine, clock: Clock) -> None:
    back_id = engine.offer(trip(engine, DAY, "12:00", origin=STASSFURT, destination=BERNBURG))
    out, back = engine.confirm(
        engine.offer(trip(engine, DAY)).offers[0].id,
        return_offer_id=back_id.offers[0].id,
        name="Eva Beispiel",
        phone="03471 1111",
        note="bitte klingeln",
    )
    later = book(engine, "2026-12-03", "Eva B.", "03471/1111")[0]
    other = book(engine, DAY, "Otto Anders", "0391 5555")[0]

    # still to ride: the bus needs the name
    with pytest.raises(ConflictError, match=f"booking {out['code']} is still confirmed"):
        erase_rider(engine.store, out["code"], today=date(2026, 12, 1))
    assert not is_erased(rows(engine)[out["code"]])

    export = export_rider(engine.store, out["code"].lower(), now=clock(), same_phone=True)
    assert [b["code"] for b in export["bookings"]] == [out["code"], back["code"], later["code"]]
    assert export["bookings"][0]["name"] == "Eva Beispiel"
    assert export["bookings"][0]["note"] == "bitte klingeln"
    assert export["bookings"][0]["booked_by"] == "web"
    assert "Otto" not in str(export)
    alone = export_rider(engine.store, later["code"], now=clock())
    assert [b["code"] for b in alone["bookings"]] == [later["code"]]

    # after the rides: the booking and its linked return trip, not the rider's other ride
    erased = erase_rider(engine.store, back["code"], today=date(2026, 12, 10))
    assert set(erased.codes) == {out["code"], back["code"]}
    after = rows(engine)
    assert is_erased(after[out["code"]]) and is_erased(after[back["code"]])
    assert after[later["code"]].name == "Eva B."
    assert after[out["code"]].status == "confirmed"
    erased = erase_rider(engine.store, later["code"], today=date(2026, 12, 10), same_phone=True)
    assert erased.codes == (later["code"],)
    assert after[other["code"]].name == rows(engine)[other["code"]].name == "Otto Anders"
    with pytest.raises(NotFoundError, match="no booking 'NOSUCHCODE'"):
        erase_rider(engine.store, "NOSUCHCODE", today=date(2026, 12, 10))


def test_retention_job_runs_at_start_and_again(engine: BookingEngine, clock: Clock) -> None:
    old = book(engine, DAY, "Erika Mustermann", "03471 123456")[0]
    clock.now = datetime(2027, 1, 1, 11, 0, tzinfo=UTC)
    job = RetentionJob(
        engine.store, engine.service.privacy, engine.service.timezone, clock=clock,
        interval_s=0.05,
    ).start()  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while job.runs < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        job.stop()
    assert job.runs >= 2
    assert is_erased(rows(engine)[old["code"]])
