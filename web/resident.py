"""Pages for residents (no login): book a ride, look it up, cancel it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
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

from planner.booking import TripRequest, booking_json, trip_request
from planner.errors import ConflictError, NotFoundError, PlannerError, UnknownStopError
from planner.timefmt import hhmm
from planner.world import service_area
from web.forms import FIELDS, confirm_from_form, form_defaults, trip_wish
from web.i18n import LANGUAGES
from web.i18n import gettext as _
from web.limits import throttled
from web.messages import STATUS, error_text, refusal_text, shift_text
from web.services import services

bp = Blueprint("resident", __name__)


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


def preset_form(today_: date) -> dict[str, str]:
    """The booking form's values: the defaults, with any field the URL presets."""
    values = form_defaults(today_)
    values.update({k: v for k, v in request.args.items() if k in FIELDS})
    return values


def stop_choices(
    values: Mapping[str, str], field: str, labels: tuple[str, ...], *, staff: bool
) -> list[dict[str, str]]:
    """Each suggested stop label with a link to the form that has it in ``field``.

    Links, not buttons, so that picking a suggestion works without JavaScript.
    """
    endpoint = "dispatch.book" if staff else "resident.index"
    out = []
    for label in labels:
        query: dict[str, Any] = {**values, field: label}
        out.append({"label": label, "url": url_for(endpoint, **query)})
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
) -> tuple[str, int]:
    """The booking form filled with ``values``, answered with ``status``.

    ``suggestions`` maps a stop field to the stops offered for it ("Meinten Sie: ...").
    """
    template = "resident/book.html"
    page = render_template(template, values=values, staff=staff, suggestions=suggestions or {})
    return page, status


def handle_offers(*, staff: bool) -> ResponseReturnValue:
    """Shared by the resident form and the dispatcher's phone booking."""
    engine = services().engine
    values = {key: request.form.get(key, "") for key in FIELDS}
    try:
        trip = trip_request(trip_wish(request.form), engine.catalog, engine.service)
        result = engine.offer(trip).to_json()
    except UnknownStopError as exc:
        flash(error_text(exc, values), "error")
        choices = {exc.field: stop_choices(values, exc.field, exc.suggestions, staff=staff)}
        return render_form(values, staff=staff, status=400, suggestions=choices)
    except PlannerError as exc:
        flash(error_text(exc, values), "error")
        return render_form(values, staff=staff, status=400)
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
        origin=origin,
        destination=destination,
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


@bp.get("/booking/<code>")
@throttled("lookups")
def show(code: str) -> ResponseReturnValue:
    """The booking ``code``."""
    try:
        booking = booking_json(services().engine.booking(code))
    except NotFoundError:
        flash(_("Keine Buchung %(code)s.") % {"code": code}, "error")
        return render_template("resident/lookup.html"), 404
    return render_template(
        "resident/booking.html",
        booking=booking,
        status=_(STATUS[booking["status"]]),
        shift=booked_shift(booking),
        new=request.args.get("new") == "1",
    )


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
