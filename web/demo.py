"""A demo day for ``make run``: realistic bookings spread over the district, and a demo login."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from tqdm import tqdm

from planner.booking import BookingEngine
from planner.errors import ConflictError
from planner.scenarios.demand import DemandParams, read_places, sample_demand
from planner.store.db import Booking
from routing.settings import Settings
from web.auth import add_user

log = logging.getLogger(__name__)

DEMO_USER, DEMO_PASSWORD = "demo", "rufbus-demo"
DEMO_NAMES = (
    "Erika Müller", "Hans Schulze", "Gisela Schmidt", "Karl Fischer", "Ute Weber",
    "Jürgen Wagner", "Renate Becker", "Dieter Hoffmann", "Ingrid Koch", "Paul Richter",
)  # fmt: skip


def seed_demo_day(
    engine: BookingEngine, settings: Settings, day: date, *, requests: int = 150, seed: int = 1
) -> int:
    """Book a demo day (if it has no bookings yet); return how many bookings it holds.

    Bookings are made as if on the evening before, so every time of ``day`` is bookable.
    """
    with engine.store.session() as s:
        existing = s.scalar(select(func.count()).where(Booking.day == day.isoformat()))
    if existing:
        return existing
    evening_before = datetime.combine(day - timedelta(days=1), time(18, 0), tzinfo=engine.tz)
    booking_engine = BookingEngine(engine.service, engine.catalog, engine.store,
                                   clock=lambda: evening_before)  # fmt: skip
    places = read_places(settings.data_file("places"), engine.catalog)
    trips = [r.trip for r in sample_demand(places, day, DemandParams(requests=requests), seed=seed)]
    booked = 0
    for k, trip in enumerate(_progress(trips)):
        result = booking_engine.offer(trip)
        if not result.offers:
            continue
        name = DEMO_NAMES[k % len(DEMO_NAMES)]
        booking_engine.confirm(result.offers[0].id, name=name, phone=f"03471 {100000 + k}",
                               created_by="demo")  # fmt: skip
        booked += 1
    return booked


def ensure_demo_user(engine: BookingEngine) -> None:
    """Create the demo dispatcher unless it exists."""
    with contextlib.suppress(ConflictError):
        add_user(engine.store, DEMO_USER, "dispatcher", DEMO_PASSWORD)


def _progress(trips: Iterable) -> Iterable:
    return tqdm(list(trips), desc="booking the demo day", unit="request")


__all__ = ["DEMO_PASSWORD", "DEMO_USER", "ensure_demo_user", "seed_demo_day"]
