"""Pages for residents (no login): book a ride, look it up, cancel it."""

from __future__ import annotations

import csv
import functools
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from shapely.geometry import mapping

from planner.booking import TripRequest, booking_json, check_contact, trip_request
from planner.errors import ConflictError, NotFoundError, PlannerError, UnknownStopError
from planner.live.monitor import day_live, pickup_estimate
from planner.store.db import Booking
from planner.timefmt import hhmm
from planner.world import service_area
from routing.errors import DataMissingError
from web.forms import CONTACT_FIELDS, FIELDS, confirm_from_form, form_defaults, trip_wish
from web.i18n import LANGUAGES
from web.i18n import gettext as _
from web.limits import throttled
from web.messages import STATUS, error_text, fare_view, refusal_text, shift_text
from web.services import services

bp = Blueprint("resident", __name__)

#: How often the booking page asks for the live estimate (seconds); ``?poll=`` may set 1 to
#: 300 (tests).
LIVE_POLL_S = 60
#: A rider still waiting this many minutes after the end of the pickup window should call.
CALL_AFTER_MIN = 10


def today() -> date:
    """The service's local date now."""
    engine = services().engine
    return engine.clock().astimezone(engine.tz).date()


def describe_offers(
    result_json: dict[str, Any], trip: TripRequest, origin: str, destination: str
) -> list[dict[str, Any]]:
    """Offers in plain words, each with three sentences.

    ``pickup``, the promise: 'Abholung zwischen 08:05 und 08:20 Uhr an Bernburg,
    Busbahnhof'. ``arrival``, the estimate: 'Ankunft am Ziel (Staßfurt) voraussichtlich
    gegen 08:41 Uhr'. ``shift``, if the offer is not as wished: 'Sie wollten um 08:00 Uhr
    fahren. ... – 15 Minuten später.' (or None).
    """
    out = []
    for offer in result_json["offers"]:
        start, end = offer["pickup_window"]
        pickup = _("Abholung zwischen %(start)s und %(end)s Uhr an %(stop)s") % {
            "start": start,
            "end": end,
            "stop": origin,
        }
        arrival = _("Ankunft am Ziel (%(stop)s) voraussichtlich gegen %(time)s Uhr") % {
            "stop": destination,
            "time": offer["estimated_arrival"],
        }
        shift = shift_text(trip.kind, hhmm(trip.time_s), (start, end), offer["shift_min"])
        out.append({**offer, "pickup": pickup, "arrival": arrival, "shift": shift})
    return out


def fare_and_hotline(origin: int, destination: int, people: int) -> dict[str, Any]:
    """The fare of a trip in words (``fare``, see :func:`fare_view`) and the ``hotline``.

    The hotline is the service file's ``phone``; empty until the number is known (the
    pages then say it will be announced, never a made-up number).
    """
    engine = services().engine
    fare = engine.fare(origin, destination, people)
    return {"fare": fare_view(fare), "hotline": engine.service.phone.strip()}


def describe_connections(result_json: dict[str, Any]) -> list[str]:
    """Scheduled connections in plain words.

    For example 'Linie 146: ab Aschersleben, Busbahnhof 06:40, Ankunft Staßfurt, Bahnhof
    (Bus) 07:06'.
    """
    out = []
    for c in result_json.get("scheduled", ()):
        legs = [
            _("Linie %(line)s: ab %(origin)s %(departure)s, Ankunft %(destination)s %(arrival)s")
            % {
                "line": leg["line"],
                "origin": leg["from"]["name"],
                "departure": leg["departure"],
                "destination": leg["to"]["name"],
                "arrival": leg["arrival"],
            }
            for leg in c["legs"]
        ]
        text = _("; dann ").join(legs)
        walk = c["walk_start_min"] + c["walk_end_min"]
        out.append(_("%(legs)s (Fußweg %(minutes)s Min.)") % {"legs": text, "minutes": walk}
                   if walk else text)  # fmt: skip
    return out


def describe_feeders(result_json: dict[str, Any]) -> list[str]:
    """Bus-and-line combinations in plain words.

    For example 'Rufbus bis Alsleben (Saale), Schule (Ankunft bis 14:50), dann Linie 116 ab
    14:55, Ankunft 15:24'.
    """
    return [
        _(
            "Rufbus bis %(hub)s (Ankunft bis %(arrive_by)s), dann Linie %(line)s ab "
            "%(departure)s, Ankunft %(arrival)s"
        )
        % {
            "hub": f["hub"]["name"],
            "arrive_by": f["arrive_by"],
            "line": f["line"],
            "departure": f["departure"],
            "arrival": f["arrival"],
        }
        for f in result_json.get("feeders", ())
    ]


def preset_form(
    today_: date, start: tuple[date, int] | None = None, *, staff: bool = False
) -> dict[str, str]:
    """The booking form's values: the defaults, with any field the URL presets.

    ``start`` is the default day and time (else tomorrow at 08:00); the ``staff`` form also
    has the caller's name, phone and note.
    """
    values = form_defaults(today_, start)
    keys = FIELDS + (CONTACT_FIELDS if staff else ())
    values.update({k: "" for k in keys if k not in values})
    values.update({k: v for k, v in request.args.items() if k in keys})
    return values


def stop_choices(
    values: Mapping[str, str],
    field: str,
    labels: tuple[str, ...],
    *,
    staff: bool,
    change: str | None = None,
) -> list[dict[str, str]]:
    """Each suggested stop label with a link to the form that has it in ``field``.

    Links, not buttons, so that picking a suggestion works without JavaScript. ``change``
    is the code of the booking being changed (its change form is the one linked).
    """
    out = []
    for label in labels:
        query: dict[str, Any] = {**values, field: label}
        if change:
            url = url_for("dispatch.change_form", code=change, **query)
        else:
            url = url_for("dispatch.book" if staff else "resident.index", **query)
        out.append({"label": label, "url": url})
    return out


def booked_shift(offer: Mapping[str, Any]) -> str | None:
    """How an offer or booking (JSON with ``wish``) differs from the wish, in words."""
    window = offer["pickup_window"]
    return shift_text(offer["wish"]["kind"], offer["wish"]["time"], window, offer["shift_min"])


def render_form(
    values: Mapping[str, str],
    *,
    staff: bool = False,
    status: int = 200,
    suggestions: Mapping[str, list[dict[str, str]]] | None = None,
    change: str | None = None,
) -> tuple[str, int]:
    """The booking form filled with ``values``, answered with ``status``.

    ``suggestions`` maps a stop field to the stops offered for it ("Meinten Sie: ...").
    ``change`` is the code of a booking being changed: the form searches its new trip.
    """
    template = "resident/book.html"
    page = render_template(
        template,
        values=values,
        staff=staff,
        suggestions=suggestions or {},
        change=change,
        channels=services().engine.service.notifications.channels,
    )
    return page, status


def handle_offers(*, staff: bool, change: str | None = None) -> ResponseReturnValue:
    """Shared by the resident form, the dispatcher's phone booking and a booking's change.

    The phone booking asks for the caller's name and phone with the search (once, not
    under every offer); they travel on with each offer. ``change`` is the code of the
    booking whose new trip is searched.
    """
    engine = services().engine
    phone_booking = staff and change is None
    values = {key: request.form.get(key, "") for key in FIELDS}
    if phone_booking:
        values.update({key: request.form.get(key, "") for key in CONTACT_FIELDS})
    try:
        trip = trip_request(trip_wish(request.form), engine.catalog, engine.service)
        if phone_booking:
            check_contact(values["name"], values["phone"], values["note"])
        found = engine.change_offer(change, trip) if change else engine.offer(trip)
        result = found.to_json()
    except NotFoundError:
        abort(404)
    except UnknownStopError as exc:
        flash(error_text(exc, values), "error")
        choices = {
            exc.field: stop_choices(values, exc.field, exc.suggestions, staff=staff, change=change)
        }
        return render_form(values, staff=staff, status=400, suggestions=choices, change=change)
    except PlannerError as exc:
        flash(error_text(exc, values), "error")
        status = 409 if isinstance(exc, ConflictError) else 400
        return render_form(values, staff=staff, status=status, change=change)
    origin, destination = engine.catalog.name(trip.origin), engine.catalog.name(trip.destination)
    refusal = result.get("reason") and refusal_text(result["reason"], result["reason_params"])
    return render_template(
        "resident/offers.html",
        offers=describe_offers(result, trip, origin, destination),
        refusal=refusal,
        scheduled=describe_connections(result),
        feeders=describe_feeders(result),
        result=result,
        values=values,
        staff=staff,
        change=change,
        origin=origin,
        destination=destination,
        **fare_and_hotline(trip.origin, trip.destination, trip.passengers + trip.wheelchairs),
        channels=engine.service.notifications.channels,
    )


@bp.get("/")
def index() -> ResponseReturnValue:
    """The rider's booking form (fields may be preset by the URL)."""
    return render_form(preset_form(today()))


@bp.post("/offers")
@throttled("offers")
def offers() -> ResponseReturnValue:
    """Offers for the rider's wish."""
    return handle_offers(staff=False)


def render_confirm(offer: dict[str, Any], values: Mapping[str, str]) -> str:
    """The form for name, phone and note, with what happens to them."""
    privacy = services().engine.service.privacy
    return render_template(
        "resident/confirm.html",
        offer=offer,
        shift=booked_shift(offer),
        values=values,
        staff=False,
        erase_after_days=privacy.erase_after_days,
        **fare_and_hotline(offer["origin"]["id"], offer["destination"]["id"], offer["passengers"]),
        channels=services().engine.service.notifications.channels,
    )


@bp.get("/confirm/<offer_id>")
def confirm_form(offer_id: str) -> ResponseReturnValue:
    """The form to book an offer."""
    try:
        offer = services().engine.offer_details(offer_id)
    except NotFoundError:
        abort(404)
    return render_confirm(offer, {})


@bp.post("/confirm/<offer_id>")
def confirm(offer_id: str) -> ResponseReturnValue:
    """Book an offer, then show the booking."""
    engine = services().engine
    try:
        booking = confirm_from_form(engine, offer_id, request.form, created_by="web")
    except NotFoundError:
        abort(404)
    except ConflictError as exc:
        flash(error_text(exc), "error")
        return redirect(url_for("resident.index"))
    except PlannerError as exc:
        flash(error_text(exc), "error")
        offer = engine.offer_details(offer_id)
        return render_confirm(offer, request.form), 400
    return redirect(url_for("resident.show", code=booking["code"], new=1))


@bp.get("/booking")
def lookup() -> ResponseReturnValue:
    """Find a booking by its code."""
    code = request.args.get("code", "").strip().replace("-", "").replace(" ", "").upper()
    if code:
        return redirect(url_for("resident.show", code=code))
    return render_template("resident/lookup.html")


def find_booking(code: str) -> Booking | None:
    """The booking ``code``, or None if there is none."""
    try:
        return services().engine.booking(code)
    except NotFoundError:
        return None


def live_pickup(b: Booking) -> dict[str, Any] | None:
    """The bus's estimated arrival at the rider's pickup, in words; None without one.

    There is one only on the day of the ride, for a confirmed booking, once the driver has
    reported (:func:`planner.live.monitor.pickup_estimate`). Nobody else's data is in it.
    """
    engine = services().engine
    day = today()
    if b.status != "confirmed" or b.day != day.isoformat():
        return None
    estimate = pickup_estimate(day_live(engine, day), b.vehicle_id, b.code)
    if estimate is None:
        return None
    late = estimate.at_s > b.window_end_s
    return {
        "estimate": hhmm(estimate.at_s),
        "as_of": hhmm(estimate.as_of_s),
        "late": late,
        "text": _("Ihr Bus kommt voraussichtlich um %(time)s Uhr.") % {"time": hhmm(estimate.at_s)},
        "note": _(
            "Geschätzt um %(now)s Uhr aus den Meldungen des Fahrers; die Zeit kann sich noch "
            "ändern."
        )
        % {"now": hhmm(estimate.as_of_s)},
        "late_text": _("Das ist später als zugesagt. Bitte entschuldigen Sie die Verspätung.")
        if late
        else "",
        "arrival_text": ""
        if estimate.arrival_s is None
        else _("voraussichtlich gegen %(time)s Uhr (geschätzt um %(now)s Uhr)")
        % {"time": hhmm(estimate.arrival_s), "now": hhmm(estimate.as_of_s)},
    }


def live_polled(b: Booking) -> bool:
    """Whether the booking page asks for the live estimate: a confirmed ride of today."""
    return b.status == "confirmed" and b.day == today().isoformat()


@bp.get("/booking/<code>")
@throttled("lookups")
def show(code: str) -> ResponseReturnValue:
    """The booking ``code``: status, the promised window, the live estimate, what if late."""
    found = find_booking(code)
    if found is None:
        flash(_("Keine Buchung %(code)s.") % {"code": code}, "error")
        return render_template("resident/lookup.html"), 404
    booking = booking_json(found)
    return render_template(
        "resident/booking.html",
        booking=booking,
        status=_(STATUS[booking["status"]]),
        shift=booked_shift(booking),
        new=request.args.get("new") == "1",
        **fare_and_hotline(
            booking["origin"]["id"], booking["destination"]["id"], booking["passengers"]
        ),
        live=live_pickup(found),
        poll=live_polled(found),
        poll_s=min(max(request.args.get("poll", type=int) or LIVE_POLL_S, 1), 300),
        call_after_min=CALL_AFTER_MIN,
        call_at=hhmm(found.window_end_s + 60 * CALL_AFTER_MIN),
        upcoming=found.day >= today().isoformat(),
    )


@bp.get("/booking/<code>/live.json")
@throttled("lookups")
def show_live(code: str) -> ResponseReturnValue:
    """The live estimate of the booking ``code``'s pickup, for its page to poll.

    ``{"live": null}`` while there is none (see :func:`live_pickup`); 404 for no booking.
    """
    found = find_booking(code)
    if found is None:
        return {
            "error": {"field": "code", "message": _("Keine Buchung %(code)s.") % {"code": code}}
        }, 404
    return {"live": live_pickup(found), "poll": live_polled(found)}


@bp.post("/booking/<code>/cancel")
@throttled("lookups")
def cancel(code: str) -> ResponseReturnValue:
    """Cancel the booking ``code``."""
    try:
        services().engine.cancel(code)
    except NotFoundError:
        abort(404)
    except ConflictError as exc:
        flash(error_text(exc), "error")
    else:
        flash(_("Die Fahrt wurde storniert."), "ok")
    return redirect(url_for("resident.show", code=code))


@bp.post("/language")
def language() -> ResponseReturnValue:
    """Switch the pages' language."""
    lang = request.form.get("lang")
    if lang in LANGUAGES:
        session["lang"] = lang
    target = request.form.get("next") or url_for("resident.index")
    # only local paths, never an open redirect
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("resident.index")
    return redirect(target)


@bp.get("/stops.geojson")
def stops_geojson() -> ResponseReturnValue:
    """Bookable stops as GeoJSON points for the map picker."""
    catalog = services().engine.catalog
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [s["lon"], s["lat"]]},
            "properties": {"id": s["id"], "name": s["name"], "label": catalog.label(s["id"])},
        }
        for s in map(catalog.describe, catalog.nodes)
    ]
    return {"type": "FeatureCollection", "features": features}


@functools.cache
def place_features(path: Path) -> tuple[dict[str, Any], ...]:
    """The places of ``places.csv`` (name, lat, lon, population) as GeoJSON points."""
    with path.open(encoding="utf-8", newline="") as f:
        return tuple(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [float(r["lon"]), float(r["lat"])]},
                "properties": {"name": r["name"], "population": int(r["population"])},
            }
            for r in csv.DictReader(f)
        )


@bp.get("/places.geojson")
def places_geojson() -> ResponseReturnValue:
    """Towns and villages with their population, for the map's labels.

    The labels only help; without the data file the map has none (an empty collection).
    """
    try:
        path = services().config.world.settings.data_file("places")
    except DataMissingError:
        return {"type": "FeatureCollection", "features": []}
    return {"type": "FeatureCollection", "features": list(place_features(path))}


@bp.get("/basemap.geojson")
def basemap() -> ResponseReturnValue:
    """The offline base layer: the project's own network and the service area's boundary."""
    engine = services().engine
    G = engine.catalog.network.graph
    features = [
        {
            "type": "Feature",
            "geometry": {
                "type": "LineString",
                "coordinates": [
                    [G.nodes[u]["x"], G.nodes[u]["y"]],
                    [G.nodes[v]["x"], G.nodes[v]["y"]],
                ],
            },
            "properties": {"kind": "road"},
        }
        for u, v in G.edges()
        if u < v or not G.has_edge(v, u)
    ]
    boundary = service_area(services().config.world.settings, engine.service)
    features.append(
        {"type": "Feature", "geometry": mapping(boundary), "properties": {"kind": "boundary"}}
    )
    return {"type": "FeatureCollection", "features": features}
