"""Booking rules that depend on the clock: lead time on the days the clocks change."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from planner.booking import BookingEngine, TripRequest
from planner.service_time import local_datetime, service_seconds
from planner.stops import StopCatalog
from tests.web.helpers import Clock

BERNBURG = "Bernburg (Saale), Busbahnhof"
STASSFURT = "Staßfurt, Bahnhof (Bus)"


def trip(catalog: StopCatalog, day: date, hhmm: str) -> TripRequest:
    h, m = map(int, hhmm.split(":"))
    return TripRequest(
        day,
        catalog.resolve(BERNBURG, field="origin"),
        catalog.resolve(STASSFURT, field="destination"),
        "pickup",
        h * 3600 + m * 60,
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
