"""Changing a booking on the line of six stops of ``test_booking``: same promise checks as a
new offer, the booking's own seats free for it, replaced atomically with its code kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from planner.booking import BookingEngine, trip_request, wire
from planner.booking.change import history, merged_wish
from planner.booking.day import stored_plan
from planner.errors import BookingError, ConflictError
from planner.store.db import Booking
from tests.planner import test_booking as line
from tests.planner.test_booking import ANGER, BERG, DAY, EICHE, book, hm, plan_versions, trip
from tests.web.helpers import Clock

catalog = line.catalog
make_engine = line.make_engine
engine = line.engine


def stored(engine: BookingEngine, code: str) -> Booking:
    with engine.store.session() as session:
        return session.scalars(select(Booking).where(Booking.code == code)).one()


def stops_of(engine: BookingEngine, day: str = DAY.isoformat()) -> list[tuple[str, str]]:
    """Every (booking, kind) of the day's newest plan."""
    with engine.store.session() as session:
        routes = stored_plan(session, day)[1]
    return [tuple(s) for stops in routes.values() for s in stops]


def test_a_changed_time_keeps_the_code_and_is_recorded(engine: BookingEngine) -> None:
    booked = book(engine, trip(time="08:00"))
    result = engine.change_offer(booked["code"], trip(time="10:00"))
    offer = next(o for o in result.offers if o.window_start_s == hm("10:00"))
    changed = engine.confirm_change(booked["code"], offer.id, by="disp")
    assert changed["code"] == booked["code"]
    assert changed["pickup_window"] == ["10:00", "10:15"]
    assert changed["estimated_pickup"] == "10:00"
    assert changed["name"] == "Erika"  # the rider's data stay
    assert plan_versions(engine)[-1].reason == f"changed {booked['code']}"
    assert stops_of(engine).count((booked["code"], "pickup")) == 1
    assert engine.validate_day(DAY) == []
    (entry,) = history(engine, booked["code"])
    assert entry.by == "disp"
    assert entry.before["pickup_window"] == ["08:00", "08:15"]
    assert entry.after["pickup_window"] == ["10:00", "10:15"]
    assert "name" not in entry.before  # the history holds no personal data


def test_the_booking_is_offered_on_the_day_without_itself(engine: BookingEngine) -> None:
    """Two people fill the bus (2 seats) from 08:00 to 08:36: one of them alone at 08:00 fits
    only because the booking's own seats are free for its change."""
    booked = book(engine, trip(time="08:00", passengers=2))
    assert not any(o.window_start_s == hm("08:00") for o in engine.offer(trip()).offers)
    result = engine.change_offer(booked["code"], trip(time="08:00", passengers=1))
    offer = next(o for o in result.offers if o.window_start_s == hm("08:00"))
    changed = engine.confirm_change(booked["code"], offer.id, by="disp")
    assert changed["passengers"] == 1
    assert engine.validate_day(DAY) == []


def test_a_change_that_no_longer_fits_leaves_the_booking_as_it_was(
    engine: BookingEngine,
) -> None:
    booked = book(engine, trip(time="08:00"))
    result = engine.change_offer(booked["code"], trip(time="12:00"))
    offer = next(o for o in result.offers if o.window_start_s == hm("12:00"))
    book(engine, trip(time="12:00", passengers=2), name="Hans")  # the bus is full at noon
    versions = len(plan_versions(engine))
    with pytest.raises(ConflictError) as taken:
        engine.confirm_change(booked["code"], offer.id, by="disp")
    assert taken.value.code == "offer_taken"
    kept = stored(engine, booked["code"])
    assert (kept.window_start_s, kept.est_pickup_s) == (hm("08:00"), hm("08:00"))
    assert len(plan_versions(engine)) == versions  # nothing half-written
    assert (booked["code"], "pickup") in stops_of(engine)
    assert history(engine, booked["code"]) == ()
    assert engine.validate_day(DAY) == []


def test_a_change_to_another_day_leaves_the_old_day(engine: BookingEngine) -> None:
    booked = book(engine, trip(time="08:00"))
    other = DAY + timedelta(days=1)
    result = engine.change_offer(booked["code"], trip(time="09:00", day=other))
    changed = engine.confirm_change(booked["code"], result.offers[0].id, by="disp")
    assert changed["date"] == other.isoformat()
    assert stops_of(engine) == []
    assert (booked["code"], "pickup") in stops_of(engine, other.isoformat())
    assert engine.validate_day(DAY) == [] and engine.validate_day(other) == []


def test_changes_are_refused_with_the_field_and_reason(engine: BookingEngine, clock: Clock) -> None:
    booked = book(engine, trip(time="08:00"))
    code = booked["code"]
    row = stored(engine, code)
    with pytest.raises(BookingError) as party:
        merged_wish(row, wire.BookingChange(wheelchairs=2))  # 1 passenger booked
    assert party.value.field == "wheelchairs"
    with pytest.raises(BookingError) as same:
        wish = merged_wish(row, wire.BookingChange(destination=ANGER))
        trip_request(wish, engine.catalog, engine.service)
    assert same.value.field == "destination"
    assert merged_wish(row, wire.BookingChange(destination=BERG)).destination == BERG
    # a change offer books nothing new, a new offer changes nothing
    change = engine.change_offer(code, trip(time="10:00")).offers[0]
    with pytest.raises(ConflictError) as not_new:
        engine.confirm(change.id, name="X", phone="03471 1234")
    assert not_new.value.code == "offer_is_change"
    fresh = engine.offer(trip(time="14:00")).offers[0]
    with pytest.raises(ConflictError) as not_change:
        engine.confirm_change(code, fresh.id, by="disp")
    assert not_change.value.code == "offer_not_for_booking"
    # too late once the bus may be on its way, and never once cancelled
    clock.advance(days=1, minutes=55)  # 07:55 on the day (07:00 now), pickup at 08:00
    with pytest.raises(ConflictError) as late:
        engine.change_offer(code, trip(time="10:00"))
    assert late.value.code == "change_too_late"
    engine.cancel(code)
    with pytest.raises(ConflictError) as cancelled:
        engine.change_offer(code, trip(time="10:00"))
    assert cancelled.value.code == "not_confirmed"


def test_a_trip_to_eiche_keeps_the_ride_promise_after_a_change(engine: BookingEngine) -> None:
    booked = book(engine, trip(time="08:00"))
    result = engine.change_offer(booked["code"], trip(ANGER, EICHE, "09:00", kind="arrival"))
    changed = engine.confirm_change(booked["code"], result.offers[0].id, by="disp")
    assert changed["wish"] == {"kind": "arrival", "time": "09:00"}
    assert changed["latest_arrival"] == "09:00"
    assert engine.validate_day(DAY) == []
