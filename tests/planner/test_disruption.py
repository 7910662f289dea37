"""A running day on the line network of ``test_booking``: plans start from what the buses
reported (through the event journal), a broken-down bus's bookings move or are listed, and a
dispatcher moves a booking by hand.

Rides (booked the day before): A Anger 08:00 -> Eiche and B Berg 08:15 -> Dorf. One bus
drives them as Anger 08:00, Berg 08:15, Dorf 08:26, Eiche 08:42.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from planner.booking import BookingEngine
from planner.booking.disruption import move_booking, rescue_late, take_out_of_service
from planner.errors import ConflictError, NotFoundError
from planner.live import journal
from planner.live.events import VehicleEvent
from planner.live.monitor import day_live, live_json
from tests.planner import test_booking as line
from tests.planner.test_booking import ANGER, BERG, DAY, DORF, EICHE, HOF, book, hm, trip
from tests.web.helpers import Clock

catalog = line.catalog
make_engine = line.make_engine


def at(clock: Clock, hhmm: str) -> None:
    """Move the clock to ``hhmm`` Berlin time on DAY (UTC+1 in December)."""
    hours, minutes = map(int, hhmm.split(":"))
    clock.now = datetime(DAY.year, DAY.month, DAY.day, hours - 1, minutes, tzinfo=UTC)


def report(engine: BookingEngine, bus: str, *facts: tuple[str, str, dict]) -> None:
    """Record the bus's events in the journal, as the drivers' API does."""
    events = [
        VehicleEvent(f"{bus}-{kind}-{when}-{k}", bus, DAY, kind, hm(when), **kw)  # type: ignore[arg-type]
        for k, (kind, when, kw) in enumerate(facts)
    ]
    with engine.store.maintaining() as session:
        journal.record(session, events, driver="fahrer")


def a_rides(engine: BookingEngine, bus: str, a: str, *more: tuple[str, str, dict]) -> None:
    """The bus picked A up at Anger on time (08:00, off at 08:01), then ``more``."""
    report(
        engine,
        bus,
        ("arrived", "08:00", {"stop_node": ANGER}),
        ("boarded", "08:00", {"booking": a}),
        ("departed", "08:01", {"stop_node": ANGER}),
        *more,
    )


@pytest.fixture
def one_bus(make_engine: Callable[..., BookingEngine]) -> tuple[BookingEngine, str, str]:
    engine = make_engine(1)
    a = book(engine, trip(ANGER, EICHE, "08:00"), name="A")["code"]
    b = book(engine, trip(BERG, DORF, "08:15"), name="B")["code"]
    return engine, a, b


@pytest.fixture
def two_buses(make_engine: Callable[..., BookingEngine]) -> tuple[BookingEngine, str, str]:
    engine = make_engine(2)
    a = book(engine, trip(ANGER, EICHE, "08:00"), name="A")["code"]
    b = book(engine, trip(BERG, DORF, "08:15"), name="B")["code"]
    return engine, a, b


def offered_windows(engine: BookingEngine, origin: int, dest: int, when: str) -> list[float]:
    result = engine.offer(trip(origin, dest, when), with_alternatives=False)
    return [o.window_start_s for o in result.offers]


def test_offers_start_from_where_the_bus_really_is(one_bus, clock: Clock) -> None:
    engine, a, _ = one_bus
    bus = engine.service.fleet[0].id
    at(clock, "08:22")
    # as planned the bus is free at Eiche from 08:43: a 09:30 pickup there fits
    assert hm("09:30") in offered_windows(engine, EICHE, HOF, "09:30")
    # in reality it reached Anger 20 min late and is held there for an hour
    report(
        engine,
        bus,
        ("arrived", "08:20", {"stop_node": ANGER}),
        ("boarded", "08:20", {"booking": a}),
        ("departed", "08:21", {"stop_node": ANGER}),
        ("delay", "08:22", {"minutes": 60}),
    )
    # held to 09:22, then Berg 09:32, Dorf 09:43, Eiche 09:59: 09:30 is gone
    assert hm("09:30") not in offered_windows(engine, EICHE, HOF, "09:30")
    plan = engine.day_plan(DAY)
    starts = {(s.code, s.kind): s.service_start_s for _, s in plan.stops()}
    assert starts[(a, "pickup")] == hm("08:20")
    assert starts[(a, "dropoff")] == hm("09:58") + 60  # 09:22 + 10 + 1 + 10 + 1 + 15 min
    assert engine.validate_day(DAY) == []


def test_a_breakdown_moves_bookings_with_their_promises(two_buses, clock: Clock) -> None:
    engine, a, b = two_buses
    broken = engine.booking(a).vehicle_id
    other = next(v.id for v in engine.service.fleet if v.id != broken)
    at(clock, "07:20")
    result = take_out_of_service(engine, DAY, broken, hm("07:20"), by="disp")
    moved = {m.code: m for m in result.moved}
    assert result.stranded == ()
    for code in (a, b):
        booking = engine.booking(code)
        if code in moved or booking.vehicle_id == broken:
            assert booking.vehicle_id == other
            assert booking.window_start_s <= booking.est_pickup_s <= booking.window_end_s
    assert engine.validate_day(DAY) == []
    # the broken bus takes no new booking
    at(clock, "06:00")
    result = engine.offer(trip(HOF, ANGER, "10:00"), with_alternatives=False)
    assert result.offers and all(o.vehicle_id == other for o in result.offers)


def test_what_cannot_move_is_listed_with_the_phone_number_never_dropped(
    one_bus, clock: Clock
) -> None:
    engine, a, b = one_bus
    bus = engine.service.fleet[0].id
    at(clock, "08:05")
    a_rides(engine, bus, a)
    result = take_out_of_service(engine, DAY, bus, hm("08:05"), by="disp")
    assert result.moved == ()  # no other bus
    listed = {s.code: s for s in result.stranded}
    assert set(listed) == {a, b}
    assert listed[a].on_board and listed[a].phone == "03471 1234"
    assert not listed[b].on_board
    # nothing silently dropped: both still booked and in the plan
    assert {engine.booking(c).status for c in (a, b)} == {"confirmed"}
    codes = {s.code for _, s in engine.day_plan(DAY).stops()}
    assert codes == {a, b}
    assert engine.validate_day(DAY) == []


def test_a_dispatcher_moves_a_booking_by_hand(
    make_engine: Callable[..., BookingEngine], clock: Clock
) -> None:
    engine = make_engine(2)
    a = book(engine, trip(ANGER, EICHE, "08:00"), name="A")["code"]
    here = engine.booking(a).vehicle_id
    there = next(v.id for v in engine.service.fleet if v.id != here)
    moved = move_booking(engine, a, there)
    assert moved.vehicle_id == there and engine.booking(a).vehicle_id == there
    assert engine.validate_day(DAY) == []
    with pytest.raises(ConflictError) as same:
        move_booking(engine, a, there)
    assert same.value.field == "vehicle"
    with pytest.raises(NotFoundError) as unknown:
        move_booking(engine, a, "XYZ-9")
    assert unknown.value.field == "vehicle"


def test_a_booking_does_not_move_where_it_would_break_a_promise(one_bus, clock: Clock) -> None:
    engine, a, b = one_bus
    bus = engine.service.fleet[0].id
    # a second engine, same fleet of one: B cannot go anywhere else
    with pytest.raises(ConflictError) as same:
        move_booking(engine, b, bus)
    assert same.value.field == "vehicle"
    at(clock, "08:05")
    report(
        engine,
        bus,
        ("arrived", "08:00", {"stop_node": ANGER}),
        ("boarded", "08:00", {"booking": a}),
    )
    with pytest.raises(ConflictError) as boarded:
        move_booking(engine, a, bus)
    assert boarded.value.field == "code"


def test_the_live_day_shows_the_late_bus_and_its_bookings_at_risk(one_bus, clock: Clock) -> None:
    engine, a, b = one_bus
    bus = engine.service.fleet[0].id
    at(clock, "08:25")
    report(
        engine,
        bus,
        ("shift_start", "07:40", {}),
        ("arrived", "08:20", {"stop_node": ANGER}),
        ("boarded", "08:20", {"booking": a}),
        ("departed", "08:21", {"stop_node": ANGER}),
        ("position", "08:24", {"lat": 51.8, "lon": 11.79}),
    )
    live = day_live(engine, DAY)
    v = live.vehicle(bus)
    assert v is not None and v.status == "on_route" and v.on_board == (a,)
    assert v.position is not None and v.position.at_s == hm("08:24")
    # B's window ends 08:30; the bus reaches Berg at 08:31 at the earliest
    assert [(s.stop.code, s.risk) for _, s in live.at_risk()] == [(b, "late_pickup")]
    data = live_json(live)
    assert data["vehicles"][0]["position"] == {"lat": 51.8, "lon": 11.79, "at": "08:24"}
    assert data["at_risk"][0]["code"] == b and data["at_risk"][0]["phone"] == "03471 1234"
    assert data["vehicles"][0]["delay_min"] >= 15  # B was told 08:15


def test_a_booking_the_late_bus_would_fetch_late_moves_to_a_bus_that_keeps_its_promise(
    two_buses, clock: Clock
) -> None:
    engine, a, b = two_buses
    late = engine.booking(a).vehicle_id
    if engine.booking(b).vehicle_id != late:
        move_booking(engine, b, late)
    spare = next(v.id for v in engine.service.fleet if v.id != late)
    at(clock, "08:02")
    # held at Anger until 08:32: Berg at 08:42
    a_rides(engine, late, a, ("delay", "08:02", {"minutes": 30}))
    risks = {(s.stop.code, s.risk) for _, s in day_live(engine, DAY).at_risk()}
    # B's pickup will be late; A, on board, will ride longer than promised (68 of 62.5 min)
    assert risks == {(b, "late_pickup"), (a, "ride_promise")}
    assert rescue_late(engine, DAY, [a]) == ()  # on board: stays
    (moved,) = rescue_late(engine, DAY, [b])
    assert moved.code == b and moved.vehicle_id == spare
    assert hm("08:15") <= moved.est_pickup_s <= hm("08:30")  # the promised window
    assert engine.booking(b).vehicle_id == spare
    # A still rides too long (66 min), and stays flagged for the dispatcher
    assert [(s.stop.code, s.risk) for _, s in day_live(engine, DAY).at_risk()] == [
        (a, "ride_promise")
    ]
    assert engine.validate_day(DAY) == []
