"""The dispatcher's live API under ``/api/v1``: the live day, disruptions, bookings moved by hand.

Dispatchers only. The live day is :func:`planner.live.monitor.live_json` of the engine's
day now; taking a vehicle out of service and moving a booking go through
:mod:`planner.booking.disruption`, which keeps every promise or lists the riders to call.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify
from flask.typing import ResponseReturnValue

from planner.booking import wire
from planner.booking.disruption import move_booking, take_out_of_service
from planner.live.monitor import clock_of, day_live, live_json
from planner.live.wire import MoveTo, OutOfService
from web.api import body, json_api
from web.auth import role_required
from web.services import services

bp = json_api(Blueprint("live", __name__, url_prefix="/api/v1"))


@bp.get("/live/<day>")
@role_required("dispatcher", api=True)
def live(day: str) -> ResponseReturnValue:
    """The day as it is happening: vehicles, delays, positions, bookings at risk."""
    engine = services().engine
    return jsonify(live_json(day_live(engine, wire.parse_day(day, field="day"))))


@bp.post("/plans/<day>/vehicles/<vehicle_id>/out-of-service")
@role_required("dispatcher", api=True)
def out_of_service(day: str, vehicle_id: str) -> ResponseReturnValue:
    """Take a vehicle out of service from a time (default now) and move its bookings."""
    engine = services().engine
    when = wire.parse_day(day, field="day")
    since = body(OutOfService, optional=True).since
    since_s = since if since is not None else clock_of(engine, when)
    result = take_out_of_service(engine, when, vehicle_id, since_s, by=g.user.name)
    return jsonify(result.to_json())


@bp.post("/bookings/<code>/move")
@role_required("dispatcher", api=True)
def move(code: str) -> ResponseReturnValue:
    """Move a booking to another vehicle if every promise still holds (409 if not)."""
    target = body(MoveTo).vehicle
    return jsonify(move_booking(services().engine, code, target).to_json())
