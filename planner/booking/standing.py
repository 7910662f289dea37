"""Standing bookings: the same trip on chosen weekdays, booked day by day within the horizon."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from planner.booking.trip import TripRequest, check_contact
from planner.errors import BookingError
from planner.store.db import StandingBooking

if TYPE_CHECKING:
    from planner.booking.engine import BookingEngine


def add_standing(
    engine: BookingEngine,
    trip: TripRequest,
    *,
    weekdays: Sequence[int],
    last_day: date,
    name: str,
    phone: str,
    note: str = "",
    created_by: str = "dispatcher",
) -> dict[str, Any]:
    """Book ``trip`` on every ISO weekday in ``weekdays`` from ``trip.day`` to ``last_day``.

    Days within the booking horizon are booked at once with the offer nearest the wish;
    each day's result (a booking code, or the reason it could not be booked) is returned.
    """
    if not weekdays or any(d not in range(1, 8) for d in weekdays):
        raise BookingError("weekdays", "must list ISO weekdays 1 (Monday) to 7 (Sunday)")
    if last_day < trip.day:
        raise BookingError("until", "must not be before the first date")
    name, phone, note = check_contact(name, phone, note)
    with engine.store.session() as session:
        standing = StandingBooking(
            weekdays=",".join(map(str, sorted(set(weekdays)))),
            wish_kind=trip.kind,
            wish_s=trip.time_s,
            origin_node=trip.origin,
            destination_node=trip.destination,
            passengers=trip.passengers,
            wheelchairs=trip.wheelchairs,
            name=name,
            phone=phone,
            note=note,
            first_day=trip.day.isoformat(),
            last_day=last_day.isoformat(),
        )
        session.add(standing)
        session.flush()
        standing_id = standing.id
    today = engine.clock().astimezone(engine.tz).date()
    horizon = min(last_day, today + timedelta(days=engine.service.horizon_days))
    results = []
    day = trip.day
    while day <= horizon:
        if day.isoweekday() in weekdays:
            result = engine.offer(replace(trip, day=day))
            if result.offers:
                booked = engine.confirm(
                    result.offers[0].id,
                    name=name,
                    phone=phone,
                    note=note,
                    created_by=created_by,
                    standing_id=standing_id,
                )
                results.append({"date": day.isoformat(), "code": booked[0]["code"]})
            else:
                results.append(
                    {
                        "date": day.isoformat(),
                        "reason": result.reason,
                        "message": result.message,
                    }
                )
        day += timedelta(days=1)
    return {"standing_id": standing_id, "days": results}
