"""Turning the booking form into the engine's input, shared by residents and dispatchers."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from werkzeug.datastructures import MultiDict

from planner.booking import BookingEngine
from planner.errors import BookingError

FIELDS = ("origin", "destination", "date", "time", "kind", "passengers", "wheelchairs")


def form_defaults(today: date) -> dict[str, Any]:
    """What an empty booking form shows: tomorrow at 08:00, one person."""
    return {
        "origin": "",
        "destination": "",
        "date": (today + timedelta(days=1)).isoformat(),
        "time": "08:00",
        "kind": "pickup",
        "passengers": "1",
        "wheelchairs": "0",
    }


def _whole_number(form: MultiDict, key: str, default: int) -> int:
    text = (form.get(key) or str(default)).strip()
    if not text.isdigit():
        raise BookingError(key, "must be a whole number")
    return int(text)


def trip_payload(form: MultiDict) -> dict[str, Any]:
    """The offer request of a submitted booking form (the API's JSON shape).

    A stop field holding only digits is a stop id (set by the map or the typeahead);
    anything else is a name the engine resolves.
    """
    payload: dict[str, Any] = {}
    for key in ("origin", "destination"):
        value = (form.get(key) or "").strip()
        if not value:
            raise BookingError(key, "please choose a stop")
        payload[key] = int(value) if value.isdigit() else value
    payload["date"] = (form.get("date") or "").strip()
    payload["time"] = (form.get("time") or "").strip()
    payload["kind"] = form.get("kind") or "pickup"
    payload["passengers"] = _whole_number(form, "passengers", 1)
    payload["wheelchairs"] = _whole_number(form, "wheelchairs", 0)
    return payload


def confirm_from_form(engine: BookingEngine, offer_id: str, form: MultiDict, *, created_by: str):
    """Confirm an offer with the name, phone and note of a submitted form."""
    (booking,) = engine.confirm(
        offer_id,
        name=form.get("name", ""),
        phone=form.get("phone", ""),
        note=form.get("note", ""),
        created_by=created_by,
    )
    return booking
