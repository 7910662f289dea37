"""The drivers' API under ``/api/v1/vehicles``: a vehicle's tasks, its events and positions.

Drivers and dispatchers may use it. Events are append-only and idempotent by client id
(:mod:`planner.live.intake`); an answer is sent only once what it accepts is on disk.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, g, jsonify, request
from flask.typing import ResponseReturnValue

from planner.booking import BookingEngine, wire
from planner.errors import NotFoundError
from planner.live.intake import Rejection, take_events
from planner.live.journal import events_of
from planner.live.tasks import vehicle_tasks
from planner.live.wire import EventBatch, EventIn, PositionBatch
from planner.timefmt import hhmm
from web.api import body, json_api
from web.auth import role_required
from web.i18n import gettext as _
from web.services import services

bp = json_api(Blueprint("vehicles", __name__, url_prefix="/api/v1"))
#: Who may use the drivers' API.
ROLES = ("driver", "dispatcher")


def _vehicle(engine: BookingEngine, vehicle_id: str) -> str:
    if all(v.id != vehicle_id for v in engine.service.fleet):
        raise NotFoundError("vehicle", _("Kein Fahrzeug %(vehicle)s.") % {"vehicle": vehicle_id})
    return vehicle_id


@bp.get("/vehicles/<vehicle_id>/tasks")
@role_required(*ROLES, api=True)
def tasks(vehicle_id: str) -> ResponseReturnValue:
    """The vehicle's stops of a day in driving order, with what is reported done."""
    engine = services().engine
    _vehicle(engine, vehicle_id)
    text = request.args.get("day")
    day = today(engine) if text is None else wire.parse_day(text, field="day")
    return jsonify(tasks_json(engine, vehicle_id, day))


def tasks_json(engine: BookingEngine, vehicle_id: str, day: date) -> dict[str, Any]:
    """The answer of ``GET /api/v1/vehicles/<id>/tasks`` (also what the driver's page shows)."""
    plan = engine.day_plan(day)
    with engine.store.session() as session:
        events = events_of(session, day, vehicle_id)
    vehicle = plan.vehicle(vehicle_id)
    return {
        "vehicle": vehicle_id,
        "day": day.isoformat(),
        "version": plan.version,
        "no_show_wait_min": engine.service.operations.no_show_wait_s // 60,
        "tasks": [t.to_json() for t in vehicle_tasks(vehicle, events)],
        "breaks": [b.to_json() for b in vehicle.breaks] if vehicle else [],
    }


@bp.post("/vehicles/<vehicle_id>/events")
@role_required(*ROLES, api=True)
def events(vehicle_id: str) -> ResponseReturnValue:
    """Take a batch of the vehicle's events (append-only, idempotent by client id)."""
    engine = services().engine
    _vehicle(engine, vehicle_id)
    return _take(engine, vehicle_id, body(EventBatch, indexed=True).events, "events")


@bp.post("/vehicles/<vehicle_id>/positions")
@role_required(*ROLES, api=True)
def positions(vehicle_id: str) -> ResponseReturnValue:
    """Take a batch of the vehicle's position fixes (stored as events of kind ``position``)."""
    engine = services().engine
    _vehicle(engine, vehicle_id)
    fixes = body(PositionBatch, indexed=True).positions
    return _take(engine, vehicle_id, [f.as_event() for f in fixes], "positions")


def _take(
    engine: BookingEngine, vehicle_id: str, items: list[EventIn], name: str
) -> ResponseReturnValue:
    batch = [item.event(vehicle_id, engine.tz) for item in items]
    intake = take_events(engine, batch, driver=g.user.name)
    rejected = [
        {"client_id": r.client_id, "field": f"{name}[{k}].{r.field}", "message": message(r)}
        for k, r in intake.rejected
    ]
    return jsonify(
        accepted=list(intake.accepted), duplicates=list(intake.duplicates), rejected=rejected
    )


def message(r: Rejection) -> str:
    """Why ``r`` was refused, for the driver (German or English)."""
    p: dict[str, Any] = dict(r.params)
    if "time" in p:
        p["time"] = hhmm(p["time"])
    if r.reason == "future":
        return _("Der Zeitpunkt liegt mehr als %(minutes)s Minuten in der Zukunft.") % p
    if r.reason == "unknown_stop":
        return _("Keine Haltestelle %(stop)s.") % p
    if r.reason == "unknown_booking":
        return _("Keine Buchung %(code)s.") % p
    if r.reason == "not_on_vehicle":
        return _("Die Buchung %(code)s fährt an diesem Tag nicht mit diesem Fahrzeug.") % p
    if r.reason == "not_confirmed":
        p["status"] = _status(p["status"])
        return _("Die Buchung %(code)s ist nicht mehr bestätigt (%(status)s).") % p
    if r.reason == "window_not_started":
        return _("Nicht erschienen kann erst ab Beginn des Abholfensters (%(time)s) "
                 "eingetragen werden.") % p  # fmt: skip
    if r.reason == "no_arrival":
        return _("Nicht erschienen erst nach der Ankunft an der Haltestelle eintragen.") % p
    if r.reason == "too_early":
        return _("Nicht erschienen kann erst ab %(time)s Uhr eingetragen werden.") % p
    return _("Abgelehnt: %(detail)s") % p


def _status(status: str) -> str:
    return {"cancelled": _("storniert"), "no_show": _("nicht erschienen")}.get(status, status)


def today(engine: BookingEngine) -> date:
    """Today in the service's time zone, by the engine's clock."""
    return engine.clock().astimezone(engine.tz).date()
