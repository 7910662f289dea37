"""Turning the booking form into the engine's input, shared by residents and dispatchers."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from werkzeug.datastructures import MultiDict

from planner.booking import BookingEngine, wire
from planner.timefmt import hhmm
from web.i18n import LANGUAGES, current_language

FIELDS = ("origin", "destination", "date", "time", "kind", "passengers", "wheelchairs")
#: The caller's data on the dispatcher's phone booking form (asked once, before the search).
CONTACT_FIELDS = ("name", "phone", "note", "email", "sms", "language")


def form_defaults(today: date, start: tuple[date, int] | None = None) -> dict[str, str]:
    """What an empty booking form shows: ``start`` (day, seconds) or tomorrow at 08:00."""
    day, seconds = start or (today + timedelta(days=1), 8 * 3600)
    return {
        "origin": "",
        "destination": "",
        "date": day.isoformat(),
        "time": hhmm(seconds),
        "kind": "pickup",
        "passengers": "1",
        "wheelchairs": "0",
    }


def trip_wish(form: MultiDict[str, str]) -> wire.TripWish:
    """The offer request of a submitted booking form, checked by the API's rules.

    An empty field counts as not given (its default applies). A stop field holding only
    digits is a stop id (set by the map or the typeahead); anything else is a name the
    engine resolves.

    Raises
    ------
    BookingError
        Naming the first bad field and the reason.
    """
    payload: dict[str, Any] = {}
    for key in FIELDS:
        value = (form.get(key) or "").strip()
        if value:
            payload[key] = value
    for key in ("origin", "destination"):
        if re.fullmatch("[0-9]+", payload.get(key, "")):
            payload[key] = int(payload[key])
    return wire.validate(wire.TripWish, payload, strict=False)


def confirm_from_form(
    engine: BookingEngine, offer_id: str, form: MultiDict[str, str], *, created_by: str
) -> dict[str, Any]:
    """Confirm an offer with the name, phone and note of a submitted form.

    Returns
    -------
    booking
        The new booking in the wire format (``booking_json``).
    """
    (booking,) = engine.confirm(
        offer_id,
        name=form.get("name", ""),
        phone=form.get("phone", ""),
        note=form.get("note", ""),
        created_by=created_by,
        notify=notify_choice(form),
    )
    return booking


def notify_choice(form: MultiDict[str, str]) -> wire.Notify:
    """The notifications the form opts into: e-mail (optional, checked), SMS, language.

    The language is the one the form was filled in, unless the form names one (a
    dispatcher booking by phone asks the rider).

    Raises
    ------
    BookingError
        If the e-mail address is not one (field ``email``).
    """
    language = form.get("language") or current_language()
    payload = {
        "email": (form.get("email") or "").strip(),
        "sms": form.get("sms") == "1",
        "language": language if language in LANGUAGES else "de",
    }
    return wire.validate(wire.Notify, payload)
