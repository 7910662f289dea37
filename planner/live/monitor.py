"""The live day of a booking engine: its plan, the journal and the bookings read together.

:func:`planner.live.state.live_day` is pure; this module gathers its inputs (the side
effects) and turns the result into the JSON the dispatcher's live view polls.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np

from planner.booking.views import DayPlan, VehicleDay
from planner.live import journal
from planner.live.state import LiveDay, LiveVehicle, Promise, StopProgress, live_day
from planner.timefmt import DAY_S, hhmm

if TYPE_CHECKING:
    from planner.booking.engine import BookingEngine
    from planner.service import VehicleSpec
    from planner.stops import StopCatalog


#: The latest a service day's clock reads: its night trips may end after midnight.
LATEST_S = 2 * DAY_S - 60


def clock_of(engine: BookingEngine, day: date) -> float:
    """Now in seconds of ``day``, held to the day: 00:00 for a day ahead, 47:59 for one past.

    Looking at another day than today, "now" stays a time of that day.
    """
    return min(max(engine.now_s(day), 0.0), float(LATEST_S))


def day_live(engine: BookingEngine, day: date) -> LiveDay:
    """The live state of ``day`` now: executed stops, estimates, bookings at risk.

    Every vehicle of the service is in it, in the fleet's order, with stops or without: a
    bus on shift waiting for bookings, or one out of service whose bookings went elsewhere,
    must still show where it is and how it stands.
    """
    plan = whole_fleet(engine.day_plan(day), engine.service.fleet)
    with engine.store.session() as session:
        events = journal.events_of(session, day)
        bookings = engine.days.bookings(session, day.isoformat())
    promises = {
        b.code: Promise(
            (b.window_start_s, b.window_end_s),
            b.max_ride_s,
            b.latest_dropoff_s,
            told_s=(b.est_pickup_s, b.est_arrival_s),
        )
        for b in bookings
    }
    catalog = engine.catalog
    row = catalog.row
    travel = catalog.travel_s
    return live_day(
        plan,
        events,
        promises,
        now_s=clock_of(engine, day),
        depots=engine.depot_of,
        travel_s=lambda a, b: float(travel[row[a], row[b]]),
        locate=nearest_stop(catalog),
        risk_margin_s=engine.service.operations.risk_margin_s,
    )


@dataclass(frozen=True, slots=True)
class PickupEstimate:
    """When a rider's bus is now expected at the pickup, as the live day estimates it.

    ``at_s`` is the estimated start of boarding, ``arrival_s`` that of alighting at the
    destination (None if not estimated), ``as_of_s`` the clock of the estimate (seconds of
    the service day).
    """

    at_s: float
    arrival_s: float | None
    as_of_s: float


def pickup_estimate(live: LiveDay, vehicle_id: str, code: str) -> PickupEstimate | None:
    """The live estimate of booking ``code``'s pickup on ``vehicle_id``, if there is one.

    Only a bus whose driver has reported (on its route or on a break) gives an estimate:
    before, the planned times stand. None too once the bus is at the stop or has been, and
    when it is out of service (its bookings are moved or the riders called).
    """
    vehicle = live.vehicle(vehicle_id)
    if vehicle is None or vehicle.status not in ("on_route", "on_break"):
        return None
    ours = {s.stop.kind: s for s in vehicle.stops if s.stop.code == code}
    stop, dropoff = ours.get("pickup"), ours.get("dropoff")
    if stop is None or stop.arrived_s is not None or stop.done or stop.start_s is None:
        return None
    arrival = None if dropoff is None else dropoff.start_s
    return PickupEstimate(stop.start_s, arrival, live.now_s)


def whole_fleet(plan: DayPlan, fleet: Sequence[VehicleSpec]) -> DayPlan:
    """``plan`` with every vehicle of ``fleet``, in its order; those without stops get none.

    The plan lists only vehicles that drive; a vehicle without stops stands at its depot
    over its shift.
    """
    vehicles = tuple(
        plan.vehicle(v.id) or VehicleDay(v.id, float(v.shift_start_s), float(v.shift_end_s), ())
        for v in fleet
    )
    return replace(plan, vehicles=vehicles)


def nearest_stop(catalog: StopCatalog) -> Callable[[float, float], int]:
    """A function ``(lat, lon) -> node`` of the bookable stop nearest a position."""
    lons = np.array([catalog.describe(n)["lon"] for n in catalog.nodes])
    lats = np.array([catalog.describe(n)["lat"] for n in catalog.nodes])
    shrink = np.cos(np.radians(float(np.mean(lats)) if len(lats) else 0.0))

    def locate(lat: float, lon: float) -> int:
        # a flat projection is exact enough within one district to pick the nearest stop
        d2 = ((lons - lon) * shrink) ** 2 + (lats - lat) ** 2
        return int(catalog.nodes[int(np.argmin(d2))])

    return locate


def live_json(live: LiveDay) -> dict[str, Any]:
    """The live day as ``GET /api/v1/live/{day}`` answers (times ``HH:MM``, delays in min).

    For dispatchers only: the bookings at risk carry the rider's name and phone.
    """
    return {
        "version": live.version,
        "now": hhmm(live.now_s),
        "vehicles": [_vehicle_json(v) for v in live.vehicles],
        # dispatchers call these riders: name and phone are for them only
        "at_risk": [
            {"vehicle": v.vehicle_id, "rider": s.stop.rider, "phone": s.stop.phone, **_stop_json(s)}
            for v, s in live.at_risk()
        ],
    }


def _vehicle_json(v: LiveVehicle) -> dict[str, Any]:
    nxt = next((s for s in v.remaining if s.start_s is not None), None)
    return {
        "vehicle": v.vehicle_id,
        "status": v.status,
        "delay_min": round(v.delay_s / 60),
        "position": None
        if v.position is None
        else {"lat": v.position.lat, "lon": v.position.lon, "at": hhmm(v.position.at_s)},
        "on_board": len(v.on_board),
        "next": None if nxt is None else _stop_json(nxt),
        "out_of_service_since": None if v.out_of_service_s is None else hhmm(v.out_of_service_s),
    }


def _stop_json(s: StopProgress) -> dict[str, Any]:
    return {
        "code": s.stop.code,
        "kind": s.stop.kind,
        "stop": s.stop.stop.to_json(),
        "window": [hhmm(s.stop.window_s[0]), hhmm(s.stop.window_s[1])],
        "estimate": None if s.start_s is None else hhmm(s.start_s),
        "delay_min": None if s.delay_s is None else round(s.delay_s / 60),
        "risk": s.risk,
    }
