"""Booking rules that depend on the clock and the calendar: lead time on the days the
clocks change, the booking horizon, and days past the timetable's end."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from planner.booking import BookingEngine, TripRequest
from planner.darp.validate import validate
from planner.errors import BookingError
from planner.service import VehicleSpec, load_service
from planner.service_time import local_datetime, service_seconds
from planner.stops import StopCatalog
from planner.store.db import Store
from planner.timefmt import parse_hhmm
from planner.timetable.lines_first import Feeder
from routing.settings import Settings
from routing.timetable import TimetableCache
from tests.web.helpers import Clock

BERNBURG = "Bernburg (Saale), Busbahnhof"
STASSFURT = "Staßfurt, Bahnhof (Bus)"


def trip(catalog: StopCatalog, day: date, hhmm: str) -> TripRequest:
    return TripRequest(
        day,
        catalog.resolve(BERNBURG, field="origin"),
        catalog.resolve(STASSFURT, field="destination"),
        "pickup",
        parse_hhmm(hhmm, field="time"),
    )


@pytest.mark.parametrize(
    ("now_utc", "day", "wish", "wish_offered"),
    [
        # spring: 08:00 CEST is 06:00 UTC; 08:05 is 5 minutes ahead, not 65
        (datetime(2027, 3, 28, 6, 0, tzinfo=UTC), date(2027, 3, 28), "08:05", False),
        (datetime(2027, 3, 28, 6, 0, tzinfo=UTC), date(2027, 3, 28), "09:01", True),
        # autumn: 08:00 CET is 07:00 UTC; 09:01 is 61 minutes ahead, not 1
        (datetime(2026, 10, 25, 7, 0, tzinfo=UTC), date(2026, 10, 25), "09:01", True),
        (datetime(2026, 10, 25, 7, 0, tzinfo=UTC), date(2026, 10, 25), "08:55", False),
    ],
)
def test_lead_time_on_the_days_the_clocks_change(
    engine: BookingEngine,
    catalog: StopCatalog,
    clock: Clock,
    now_utc: datetime,
    day: date,
    wish: str,
    wish_offered: bool,
) -> None:
    clock.now = now_utc
    assert engine.now_s(day) == 8 * 3600  # a clock on the wall shows 08:00
    request = trip(catalog, day, wish)
    result = engine.offer(request, with_alternatives=False)
    starts = [o.window_start_s for o in result.offers]
    assert (request.time_s in starts) is wish_offered, (starts, result.reason)
    # offers moved later by the engine still keep the lead time, by the wall clock
    assert all(start - 8 * 3600 >= engine.service.min_lead_s for start in starts)


def test_service_seconds_is_wall_clock_and_round_trips() -> None:
    tz = ZoneInfo("Europe/Berlin")
    for day in (date(2027, 3, 28), date(2026, 10, 25), date(2026, 12, 2)):
        for seconds in (5.5 * 3600, 8 * 3600, 23.5 * 3600):
            moment = local_datetime(day, seconds, tz)
            assert service_seconds(moment, day, tz) == seconds
    # the day before counts as negative, the day after as past 24 h
    evening = local_datetime(date(2027, 3, 27), 22 * 3600, tz)
    assert service_seconds(evening, date(2027, 3, 28), tz) == -2 * 3600
    with pytest.raises(ValueError, match="moment"):
        service_seconds(datetime(2027, 3, 28, 8), date(2027, 3, 28), tz)


@pytest.fixture
def timed_engine(
    catalog: StopCatalog, store: Store, clock: Clock, settings: Settings
) -> BookingEngine:
    """The engine with its own timetable cache (the tests count its builds)."""
    cache = TimetableCache([settings.data_file("gtfs")], walk_max_m=400)
    return BookingEngine(load_service(), catalog, store, clock=clock, timetable=cache)


def test_days_past_the_timetable_offer_the_bus(
    timed_engine: BookingEngine, catalog: StopCatalog, clock: Clock
) -> None:
    clock.now = datetime(2027, 6, 1, 6, 0, tzinfo=UTC)  # the feed ends on Friday 4 June
    result = timed_engine.offer(trip(catalog, date(2027, 6, 5), "10:00"))
    assert result.offers and result.scheduled == ()
    with pytest.raises(BookingError) as refused:  # a connection past the feed: not checkable
        feeder = Feeder(catalog.resolve(STASSFURT, field="stop"), "140", 11 * 3600)
        timed_engine.offer(replace(trip(catalog, date(2027, 6, 5), "10:00"), connection=feeder))
    assert refused.value.field == "connection"


def test_a_date_beyond_the_horizon_is_refused_before_its_timetable_is_built(
    timed_engine: BookingEngine, catalog: StopCatalog
) -> None:
    assert timed_engine.timetable is not None
    assert len(timed_engine.timetable.feeds.places)  # files are read once per process anyway
    for day in (date(2026, 12, 30), date(2027, 6, 5), date(2028, 1, 3)):
        result = timed_engine.offer(trip(catalog, day, "10:00"))
        assert result.reason == "horizon"
    assert timed_engine.timetable.builds == 0


def test_operators_are_warned_30_days_before_the_timetable_ends(
    timed_engine: BookingEngine, clock: Clock
) -> None:
    assert timed_engine.timetable_ends() is None  # 1 December 2026: six months left
    clock.now = datetime(2027, 5, 5, 8, 0, tzinfo=UTC)
    assert timed_engine.timetable_ends() == date(2027, 6, 4)


def test_a_buses_maximum_duty_is_kept_by_offers_the_solver_and_the_validator(
    catalog: StopCatalog, store: Store, clock: Clock
) -> None:
    """``max_duty_min`` of a fleet entry enters the model once (the vehicle's maximum route
    duration); offers, re-optimisation and the validator all respect it."""
    request = trip(catalog, date(2026, 12, 2), "10:00")
    direct = float(catalog.travel_s[catalog.row[request.origin], catalog.row[request.destination]])
    # Bernburg depot -> Staßfurt and back: the round trip plus boarding and alighting
    round_trip_min = (2 * direct + 2 * load_service().boarding_s) / 60

    def engine_with_duty(minutes: int) -> BookingEngine:
        bus = VehicleSpec("ONE", BERNBURG, 8, 1, 5 * 3600, 23 * 3600, max_duty_s=minutes * 60)
        # without breaks: a duty this short has none (its route is only the round trip)
        service = replace(load_service(), fleet=(bus,), breaks=None)
        return BookingEngine(service, catalog, store, clock=clock)

    too_short = engine_with_duty(int(round_trip_min) - 2)
    assert too_short.days.vehicles()[0].max_route_duration < round_trip_min * 60
    refused = too_short.offer(request, with_alternatives=False)
    assert refused.offers == () and refused.reason == "fully_booked"

    enough = engine_with_duty(int(round_trip_min) + 5)
    offer = enough.offer(request, with_alternatives=False).offers[0]
    enough.confirm(offer.id, name="Erika Mustermann", phone="03471 123456")
    assert enough.validate_day(request.day) == []
    assert (
        enough.optimize(request.day, time_limit=1)["reason"] != "the new plan would break a promise"
    )
    # the same plan breaks the shorter duty: the independent validator sees the limit too
    with store.session() as session:
        state = enough.days.load(session, request.day.isoformat())
    shorter = replace(state.instance, vehicles=tuple(too_short.days.vehicles()))
    problems = validate(shorter, state.plan())
    assert [p.kind for p in problems] == ["route_duration"]
