"""The JSON API under ``/api/v1`` (documented in ``/api/v1/openapi.json``)."""

from __future__ import annotations

from typing import TypeVar

from flask import Blueprint, Response, g, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel
from werkzeug.exceptions import HTTPException

from planner.booking import booking_json, change, trip_request, wire
from planner.errors import ConflictError, NotFoundError, PlannerError, UnknownStopError
from web.auth import guard_api_changes, role_required
from web.i18n import api_language, forced_language
from web.limits import throttled
from web.messages import error_text, not_found_text, refusal_text
from web.openapi import openapi_spec
from web.services import services

M = TypeVar("M", bound=BaseModel)


def error(
    field: str,
    message: str,
    status: int,
    *,
    suggestions: tuple[str, ...] | None = None,
    code: str | None = None,
) -> tuple[Response, int]:
    """The JSON error answer ``{"error": {"field", "message"}}`` with ``status``.

    ``suggestions`` (values that would be accepted, e.g. stop names) and the
    machine-readable ``code`` are added if given.
    """
    detail: dict[str, object] = {"field": field, "message": message}
    if code is not None:
        detail["code"] = code
    if suggestions is not None:
        detail["suggestions"] = list(suggestions)
    return jsonify(error=detail), status


def said(exc: PlannerError) -> str:
    """The error's message: in the ``Accept-Language``, else in the planner's English."""
    lang = api_language()
    if lang is None:
        return exc.reason
    with forced_language(lang):
        return error_text(exc)


def _planner_error(exc: PlannerError) -> tuple[Response, int]:
    status = 409 if isinstance(exc, ConflictError) else 400
    suggestions = exc.suggestions if isinstance(exc, UnknownStopError) else None
    return error(exc.field, said(exc), status, suggestions=suggestions, code=exc.code)


def _not_found(exc: NotFoundError) -> tuple[Response, int]:
    lang = api_language()
    if lang is None:
        return error(exc.field, exc.reason, 404)
    with forced_language(lang):
        return error(exc.field, not_found_text(exc.field), 404)


def http_error(exc: HTTPException) -> tuple[Response, int]:
    """An HTTP error (404, 405, 413...) as the API's JSON error."""
    field = "body" if exc.code in (400, 413, 415) else "url"
    return error(field, exc.description or exc.name, exc.code or 500)


def json_api(blueprint: Blueprint) -> Blueprint:
    """Make ``blueprint`` a part of the JSON API: errors as JSON, changes guarded.

    Every error is ``{"error": {"field", "message"}}``; state changes follow
    :func:`web.auth.guard_api_changes`.
    """
    blueprint.before_request(guard_api_changes)
    blueprint.register_error_handler(PlannerError, _planner_error)
    blueprint.register_error_handler(NotFoundError, _not_found)
    blueprint.register_error_handler(HTTPException, http_error)
    return blueprint


bp = json_api(Blueprint("api", __name__, url_prefix="/api/v1"))


def body(model: type[M], *, optional: bool = False, indexed: bool = False) -> M:
    """The request's JSON body checked against ``model`` (a 400 naming the field if not).

    The raw bytes are parsed by pydantic, whose parser refuses deep nesting with an error
    rather than a ``RecursionError``. An ``optional`` body may be empty (then the defaults).
    ``indexed`` names list positions in errors (``events[3].kind``).
    """
    raw = request.get_data(cache=True)
    if optional and not raw.strip():
        raw = b"{}"
    return wire.validate_json(model, raw, indexed=indexed)


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    """The API description (OpenAPI 3.1)."""
    return jsonify(openapi_spec())


@bp.get("/stops")
def stops() -> ResponseReturnValue:
    """Bookable stops whose name matches ``q``, best first."""
    query = wire.validate(wire.StopQuery, request.args.to_dict(), strict=False)
    return jsonify(stops=services().engine.catalog.search(query.q, limit=query.limit))


@bp.post("/offers")
@throttled("offers")
def offers() -> ResponseReturnValue:
    """Offers for a trip wish, each with its fare, and the hotline (null until it is known)."""
    engine = services().engine
    trip = trip_request(body(wire.TripWish), engine.catalog, engine.service)
    answer = {**engine.offer(trip).to_json(), "hotline": engine.service.phone.strip() or None}
    lang = api_language()
    if answer.get("reason") and lang is not None:
        with forced_language(lang):
            answer["message"] = refusal_text(answer["reason"], answer["reason_params"])
    return jsonify(answer)


@bp.post("/bookings")
def book() -> ResponseReturnValue:
    """Confirm an offer (and its return offer): the new bookings."""
    confirmation = body(wire.Confirmation)
    bookings = services().engine.confirm(
        confirmation.offer_id,
        name=confirmation.name,
        phone=confirmation.phone,
        note=confirmation.note,
        return_offer_id=confirmation.return_offer_id,
        created_by="web",
        notify=confirmation.notify,
    )
    return jsonify(bookings=bookings), 201


@bp.get("/bookings/<code>")
@throttled("lookups")
def get_booking(code: str) -> ResponseReturnValue:
    """The booking ``code``."""
    return jsonify(booking_json(services().engine.booking(code)))


@bp.delete("/bookings/<code>")
@throttled("lookups")
def cancel_booking(code: str) -> ResponseReturnValue:
    """Cancel the booking ``code``."""
    return jsonify(services().engine.cancel(code))


@bp.post("/bookings/<code>/no-show")
@role_required("dispatcher", api=True)
def no_show(code: str) -> ResponseReturnValue:
    """Mark the booking ``code`` as a no-show (dispatchers)."""
    return jsonify(services().engine.no_show(code))


@bp.post("/bookings/<code>/change")
@role_required("dispatcher", api=True)
def change_booking(code: str) -> ResponseReturnValue:
    """Offers for the booking ``code`` changed (dispatchers); fields left out stay as booked."""
    engine = services().engine
    booking = change.changeable(engine, code)
    wish = change.merged_wish(booking, body(wire.BookingChange))
    trip = trip_request(wish, engine.catalog, engine.service)
    return jsonify(engine.change_offer(booking.code, trip).to_json())


@bp.post("/bookings/<code>/change/confirm")
@role_required("dispatcher", api=True)
def confirm_change(code: str) -> ResponseReturnValue:
    """Make the booking ``code`` the trip of a change offer, keeping its code (dispatchers)."""
    taken = body(wire.ChangeConfirmation)
    return jsonify(services().engine.confirm_change(code, taken.offer_id, by=g.user.name))


@bp.get("/bookings/<code>/changes")
@role_required("dispatcher", api=True)
def booking_changes(code: str) -> ResponseReturnValue:
    """The booking's history of changes, oldest first (dispatchers)."""
    engine = services().engine
    found = engine.booking(code)
    return jsonify(changes=[c.to_json() for c in change.history(engine, found.code)])


@bp.get("/plans/<day>")
@role_required("dispatcher", api=True)
def plan(day: str) -> ResponseReturnValue:
    """The day's plan (dispatchers)."""
    return jsonify(services().engine.day_plan(wire.parse_day(day)).to_json())


@bp.post("/plans/<day>/optimize")
@role_required("dispatcher", api=True)
def optimize(day: str) -> ResponseReturnValue:
    """Re-optimise the day's plan, or with ``preview`` only propose it (dispatchers)."""
    options = body(wire.OptimizeOptions, optional=True)
    return jsonify(
        services().engine.optimize(
            wire.parse_day(day), time_limit=options.time_limit, preview=options.preview
        )
    )


@bp.post("/plans/<day>/proposals/<proposal>")
@role_required("dispatcher", api=True)
def accept_proposal(day: str, proposal: str) -> ResponseReturnValue:
    """Store a previewed plan if the day has not changed since (dispatchers)."""
    return jsonify(services().engine.accept_proposal(wire.parse_day(day), proposal))


@bp.delete("/plans/<day>/proposals/<proposal>")
@role_required("dispatcher", api=True)
def discard_proposal(day: str, proposal: str) -> ResponseReturnValue:
    """Throw a previewed plan away (dispatchers)."""
    return jsonify(services().engine.discard_proposal(wire.parse_day(day), proposal))


@bp.get("/kpis/<day>")
@role_required("dispatcher", api=True)
def kpis(day: str) -> ResponseReturnValue:
    """The day's key figures (dispatchers)."""
    return jsonify(services().engine.kpis(wire.parse_day(day)))


@bp.post("/standing")
@role_required("dispatcher", api=True)
def standing() -> ResponseReturnValue:
    """Book a standing trip on weekdays until a date (dispatchers)."""
    engine = services().engine
    wish = body(wire.Standing)
    result = engine.add_standing(
        trip_request(wish, engine.catalog, engine.service),
        weekdays=wish.weekdays,
        last_day=wish.until,
        name=wish.name,
        phone=wish.phone,
        note=wish.note,
        created_by=g.user.name,
    )
    return jsonify(result), 201
