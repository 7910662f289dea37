"""The JSON API under ``/api/v1`` (documented in ``/api/v1/openapi.json``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import HTTPException

from planner.booking import booking_json, parse_trip_request
from planner.errors import ConflictError, NotFoundError, PlannerError
from web import services
from web.auth import guard_api_changes, role_required
from web.limits import throttled
from web.openapi import openapi_spec

bp = Blueprint("api", __name__, url_prefix="/api/v1")
bp.before_request(guard_api_changes)


def error(field: str, message: str, status: int):
    return jsonify(error={"field": field, "message": message}), status


@bp.errorhandler(PlannerError)
def _planner_error(exc: PlannerError):
    status = 409 if isinstance(exc, ConflictError) else 400
    return error(exc.field, exc.reason, status)


@bp.errorhandler(NotFoundError)
def _not_found(exc: NotFoundError):
    return error(exc.field, exc.reason, 404)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    field = "body" if exc.code in (400, 413, 415) else "url"
    return error(field, exc.description or exc.name, exc.code or 500)


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a 400 naming the body."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise PlannerError("body", "must be a JSON object (Content-Type: application/json)")
    return body


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PlannerError("date", f"expected YYYY-MM-DD, got {text!r}") from None


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_spec())


@bp.get("/stops")
def stops():
    query = request.args.get("q", "").strip()
    if not query:
        raise PlannerError("q", "give part of a stop name")
    limit = request.args.get("limit", "10")
    if not limit.isdigit() or not 1 <= int(limit) <= 50:
        raise PlannerError("limit", "must be a whole number from 1 to 50")
    return jsonify(stops=services().engine.catalog.search(query, limit=int(limit)))


@bp.post("/offers")
@throttled("offers")
def offers():
    engine = services().engine
    trip = parse_trip_request(json_body(), engine.catalog, engine.service)
    return jsonify(engine.offer(trip).to_json())


@bp.post("/bookings")
def book():
    body = json_body()
    if not isinstance(body.get("offer_id"), str):
        raise PlannerError("offer_id", "is required")
    for key in ("name", "phone", "note", "return_offer_id"):
        if key in body and body[key] is not None and not isinstance(body[key], str):
            raise PlannerError(key, "must be a string")
    bookings = services().engine.confirm(
        body["offer_id"],
        name=body.get("name", ""),
        phone=body.get("phone", ""),
        note=body.get("note") or "",
        return_offer_id=body.get("return_offer_id"),
        created_by="web",
    )
    return jsonify(bookings=bookings), 201


@bp.get("/bookings/<code>")
@throttled("lookups")
def get_booking(code: str):
    return jsonify(booking_json(services().engine.booking(code)))


@bp.delete("/bookings/<code>")
@throttled("lookups")
def cancel_booking(code: str):
    return jsonify(services().engine.cancel(code))


@bp.post("/bookings/<code>/no-show")
@role_required("dispatcher", api=True)
def no_show(code: str):
    return jsonify(services().engine.no_show(code))


@bp.get("/plans/<day>")
@role_required("dispatcher", api=True)
def plan(day: str):
    return jsonify(services().engine.day_plan(parse_day(day)))


@bp.post("/plans/<day>/optimize")
@role_required("dispatcher", api=True)
def optimize(day: str):
    body = request.get_json(silent=True) or {}
    limit = body.get("time_limit", 10)
    if not isinstance(limit, int | float) or isinstance(limit, bool) or not 1 <= limit <= 300:
        raise PlannerError("time_limit", "must be a number of seconds from 1 to 300")
    return jsonify(services().engine.optimize(parse_day(day), time_limit=float(limit)))


@bp.get("/kpis/<day>")
@role_required("dispatcher", api=True)
def kpis(day: str):
    return jsonify(services().engine.kpis(parse_day(day)))


@bp.post("/standing")
@role_required("dispatcher", api=True)
def standing():
    engine = services().engine
    body = json_body()
    trip = parse_trip_request(body, engine.catalog, engine.service)
    weekdays = body.get("weekdays")
    if not isinstance(weekdays, list) or not all(isinstance(d, int) for d in weekdays):
        raise PlannerError("weekdays", "must be a list of ISO weekdays (1 = Monday)")
    until = parse_day(str(body.get("until", "")))
    result = engine.add_standing(
        trip,
        weekdays=weekdays,
        last_day=until,
        name=str(body.get("name", "")),
        phone=str(body.get("phone", "")),
        note=str(body.get("note", "")),
        created_by=g.user.name,
    )
    return jsonify(result), 201
