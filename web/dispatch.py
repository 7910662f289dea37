"""Pages for dispatchers: day and live views, phone bookings, re-optimisation, manifests."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import pandas as pd
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import generate_csrf

from planner.booking import booking_json, wire
from planner.booking.privacy import StillBookedError, erase_rider, export_rider, is_erased
from planner.booking.views import PlanStop, VehicleDay
from planner.errors import BookingError, ConflictError, NotFoundError, PlannerError
from planner.export.csvsafe import csv_text
from planner.export.plan import plan_geojson
from planner.live.monitor import day_live, live_json
from planner.store.db import Booking
from planner.timefmt import hhmm, whole_minute
from web.auth import role_required
from web.forms import confirm_from_form
from web.i18n import N_, current_language, format_number
from web.i18n import gettext as _
from web.messages import OPTIMIZED, STATUS, error_text
from web.resident import handle_offers, preset_form, render_form, today
from web.services import services

bp = Blueprint("dispatch", __name__, url_prefix="/dispatch")

#: KPIs shown in the day view, with their German labels (translated in the template).
KPI_LABELS = (
    ("requests", N_("Anfragen")),
    ("served", N_("bedient")),
    ("rejected", N_("abgelehnt")),
    ("vehicle_hours", N_("Fahrzeugstunden")),
    ("passengers_per_vehicle_hour", N_("Fahrgäste je Fahrzeugstunde")),
    ("pooling_rate", N_("Bündelungsquote")),
    ("empty_km", N_("Leerkilometer")),
    ("wait", N_("Wartezeit Mittel / 95 %")),
    ("ride", N_("Fahrtzeit Mittel / 95 %")),
)

#: Timeline (Gantt) geometry: hours shown and pixels.
GANTT_FIRST_HOUR, GANTT_LAST_HOUR = 5, 24
GANTT_LABEL_W, GANTT_HOUR_W, GANTT_ROW_H = 70, 40, 26


def chosen_day(name: str = "date") -> date:
    """The day the page asks for (parameter ``name``), today if none; a 400 if it is no date."""
    text = request.values.get(name, "")
    if not text:
        return today()
    try:
        return wire.parse_day(text, field=name)
    except BookingError as exc:
        abort(400, error_text(exc))


def kpi_rows(kpis: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Key figures as ``(label, value)`` rows in the reader's language."""
    n = {k: format_number(v) for k, v in kpis.items()}  # 1,5 in German, 1.5 in English
    values = {
        **n,
        "pooling_rate": f"{format_number(round(100 * kpis.get('pooling_rate', 0)))} %",
        "wait": f"{n.get('mean_wait_min', '0')} / {n.get('p95_wait_min', '0')} min",
        "ride": f"{n.get('mean_ride_min', '0')} / {n.get('p95_ride_min', '0')} min",
    }
    return [(_(label), values.get(key, "–")) for key, label in KPI_LABELS]


def gantt(vehicles: Sequence[VehicleDay]) -> dict[str, Any]:
    """Bars and ticks of the vehicle timeline, in SVG coordinates (no inline styles: CSP)."""

    def x(seconds: float) -> float:
        # to the whole minute, as the times beside the chart show it
        return GANTT_LABEL_W + (whole_minute(seconds) / 3600 - GANTT_FIRST_HOUR) * GANTT_HOUR_W

    rows: list[dict[str, Any]] = []
    for vehicle in vehicles:
        if not vehicle.stops:
            continue
        y = 20 + len(rows) * GANTT_ROW_H
        first = min([vehicle.stops[0].arrival_s, *(b.start_s for b in vehicle.breaks)])
        rows.append(
            {
                "name": vehicle.vehicle_id,
                "y": y,
                "x0": x(first),
                "x1": x(vehicle.return_s),
                "breaks": [
                    {
                        "x0": x(b.start_s),
                        "x1": x(b.end_s),
                        "title": _("Pause %(start)s–%(end)s %(stop)s")
                        % {"start": hhmm(b.start_s), "end": hhmm(b.end_s), "stop": b.stop.name},
                    }
                    for b in vehicle.breaks
                ],
                "ticks": [
                    {
                        "x": x(s.service_start_s),
                        "kind": s.kind,
                        "title": f"{hhmm(s.service_start_s)} {s.stop.name}",
                    }
                    for s in vehicle.stops
                ],
            }
        )
    hours = [
        {"x": GANTT_LABEL_W + (h - GANTT_FIRST_HOUR) * GANTT_HOUR_W, "label": f"{h:02d}"}
        for h in range(GANTT_FIRST_HOUR, GANTT_LAST_HOUR + 1)
    ]
    width = GANTT_LABEL_W + (GANTT_LAST_HOUR - GANTT_FIRST_HOUR) * GANTT_HOUR_W + 10
    return {"rows": rows, "hours": hours, "width": width, "height": 30 + len(rows) * GANTT_ROW_H}


@bp.get("/")
@role_required("dispatcher")
def day() -> ResponseReturnValue:
    """The dispatcher's day: routes, timeline, bookings and key figures."""
    when = chosen_day()
    engine = services().engine
    plan = engine.day_plan(when)
    return render_template(
        "dispatch/day.html",
        day=when.isoformat(),
        timetable_ends=engine.timetable_ends(),
        plan=plan,
        kpis=kpi_rows(plan.kpis),
        gantt=gantt(plan.vehicles),
    )


#: How often the live view asks for news (seconds); ``?poll=`` may set 1 to 300 (tests).
LIVE_POLL_S = 15


def live_texts() -> dict[str, str]:
    """What ``live.js`` shows, in the reader's language (the script has no texts of its own)."""
    return {
        "idle": _("nicht im Dienst"),
        "not_started": _("noch nicht unterwegs"),
        "on_route": _("unterwegs"),
        "on_break": _("in Pause"),
        "out_of_service": _("außer Dienst"),
        "finished": _("Dienst beendet"),
        "late_pickup": _("Abholung nach dem zugesagten Fenster"),
        "ride_promise": _("Fahrtzeit länger als zugesagt"),
        "late_dropoff": _("Ankunft nach der zugesagten Zeit"),
        "out_of_service_risk": _("Fahrzeug außer Dienst"),
        "pickup": _("Einstieg"),
        "dropoff": _("Ausstieg"),
        "no_position": _("keine Position"),
        "position_at": _("Position von %(time)s"),
        "delay": _("%(minutes)s min"),
        "on_time": _("pünktlich"),
        "no_risk": _("Keine Buchung gefährdet."),
        "updated": _("Aktualisiert %(clock)s, Lage um %(time)s Uhr"),
        "update_failed": _("Aktualisierung fehlgeschlagen; neuer Versuch in %(seconds)s s."),
        "window": _("Fenster %(from)s–%(to)s"),
        "estimate": _("erwartet %(time)s"),
        "move": _("Auf Fahrzeug verschieben"),
        "move_to": _("Neues Fahrzeug für %(code)s"),
        "moved": _(
            "%(code)s fährt jetzt mit %(vehicle)s: Abholung etwa %(pickup)s, "
            "Ankunft etwa %(arrival)s."
        ),  # fmt: skip
        "move_refused": _(
            "Nicht verschoben: %(vehicle)s kann die Fahrt nicht übernehmen, "
            "ohne eine Zusage zu brechen."
        ),  # fmt: skip
        "boarded_already": _(
            "Nicht verschoben: Der Fahrgast ist schon eingestiegen oder die "
            "Buchung ist nicht mehr bestätigt."
        ),  # fmt: skip
        "failed": _("Fehler: %(message)s"),
        "take_out": _("Außer Dienst nehmen"),
        "confirm_out": _(
            "%(vehicle)s ab %(time)s Uhr außer Dienst nehmen? Seine Fahrten "
            "werden auf andere Fahrzeuge verteilt, wo jede Zusage hält."
        ),  # fmt: skip
        "yes_out": _("Ja, außer Dienst nehmen"),
        "cancel": _("Abbrechen"),
        "result_title": _("%(vehicle)s ist seit %(time)s Uhr außer Dienst"),
        "moved_list": _("Umverteilt"),
        "moved_item": _("%(code)s → %(vehicle)s, Abholung etwa %(pickup)s"),
        "none_moved": _("Keine Fahrt umverteilt."),
        "stranded_list": _("Bitte anrufen"),
        "stranded_none": _("Niemand muss angerufen werden."),
        "on_board": _("sitzt im Fahrzeug"),
        "alternatives": _("mögliche Zeiten: %(times)s"),
        "no_alternatives": _("keine andere Zeit möglich"),
        "close": _("Schließen"),
        "vehicle_label": _("%(vehicle)s, %(delay)s"),
        "next_stop": _("nächster Halt von %(vehicle)s: %(stop)s"),
    }


@bp.get("/live")
@role_required("dispatcher")
def live() -> ResponseReturnValue:
    """The day as it is happening: the map, the vehicles and the bookings at risk.

    The page carries the live JSON of its first moment; ``static/live.js`` draws it and
    polls ``GET /api/v1/live/<day>`` for news.
    """
    when = chosen_day("day")
    engine = services().engine
    poll = request.args.get("poll", type=int) or LIVE_POLL_S
    config = {
        "day": when.isoformat(),
        "api": url_for("live.live", day=when.isoformat()),
        "move": "/api/v1/bookings/{code}/move",
        "out_of_service": f"/api/v1/plans/{when.isoformat()}/vehicles/{{vehicle}}/out-of-service",
        "csrf": generate_csrf(),
        "poll_ms": 1000 * min(max(poll, 1), 300),
        "vehicles": [v.id for v in engine.service.fleet],
        "lang": current_language(),
    }
    return render_template(
        "dispatch/live.html",
        day=when.isoformat(),
        config=config,
        texts=live_texts(),
        live=live_json(day_live(engine, when)),
    )


@bp.get("/routes.geojson")
@role_required("dispatcher")
def routes_geojson() -> ResponseReturnValue:
    """The day's routes as lines along the network, and their stops as points.

    A download with export-only booking ids: no booking codes, names or phones.
    """
    engine = services().engine
    plan = engine.day_plan(chosen_day())
    network = engine.catalog.network
    depots = engine.depot_of
    return plan_geojson(plan, network.graph, network.csr, depots)


@bp.get("/book")
@role_required("dispatcher")
def book() -> ResponseReturnValue:
    """The booking form for a trip taken by phone (fields may be preset by the URL)."""
    return render_form(preset_form(today()), staff=True)


@bp.post("/offers")
@role_required("dispatcher")
def offers() -> ResponseReturnValue:
    """Offers for a trip taken by phone."""
    return handle_offers(staff=True)


@bp.post("/confirm/<offer_id>")
@role_required("dispatcher")
def confirm(offer_id: str) -> ResponseReturnValue:
    """Book an offer for a rider on the phone, then show the day."""
    engine = services().engine
    try:
        booking = confirm_from_form(engine, offer_id, request.form, created_by=g.user.name)
    except NotFoundError:
        abort(404)
    except PlannerError as exc:
        flash(error_text(exc), "error")
        return redirect(url_for("dispatch.book"))
    flash(_("Gebucht! Buchungscode %(code)s") % {"code": booking["code"]}, "ok")
    return redirect(url_for("dispatch.day", date=booking["date"]))


def _change(code: str, action: str) -> ResponseReturnValue:
    engine = services().engine
    try:
        booking = engine.cancel(code) if action == "cancel" else engine.no_show(code)
    except NotFoundError:
        abort(404)
    except ConflictError as exc:
        flash(error_text(exc), "error")
        return redirect(url_for("dispatch.day"))
    status = _("storniert") if action == "cancel" else _("nicht erschienen")
    flash(f"{code}: {status}", "ok")
    return redirect(url_for("dispatch.day", date=booking["date"]))


def _ask(code: str, action: str) -> ResponseReturnValue:
    """The confirmation page of a cancellation or no-show: names the rider and the time."""
    engine = services().engine
    try:
        booking = engine.booking(code)
    except NotFoundError:
        abort(404)
    shown = booking_json(booking)
    refusal = None
    if booking.status != "confirmed":
        refusal = _("Diese Buchung ist nicht mehr bestätigt.")
    elif action == "no_show" and not engine.may_mark_no_show(booking):
        refusal = _("Nicht erschienen kann erst ab Beginn des Abholfensters (%(time)s) "
                    "eingetragen werden.") % {"time": shown["pickup_window"][0]}  # fmt: skip
    page = render_template(
        "dispatch/confirm_change.html", action=action, booking=shown, refusal=refusal
    )
    return page, 409 if refusal else 200


@bp.route("/booking/<code>/cancel", methods=["GET", "POST"])
@role_required("dispatcher")
def cancel(code: str) -> ResponseReturnValue:
    """Ask whether to cancel the booking (GET), or cancel it (POST)."""
    return _ask(code, "cancel") if request.method == "GET" else _change(code, "cancel")


@bp.route("/booking/<code>/no-show", methods=["GET", "POST"])
@role_required("dispatcher")
def no_show(code: str) -> ResponseReturnValue:
    """Ask whether to mark a no-show (GET), or mark it (POST)."""
    return _ask(code, "no_show") if request.method == "GET" else _change(code, "no_show")


# -- a rider's personal data: access and erasure on request ------------------------------


@bp.get("/booking")
@role_required("dispatcher")
def find_booking() -> ResponseReturnValue:
    """The booking search of the day view: on to the booking's page."""
    code = request.args.get("code", "").strip().replace("-", "").replace(" ", "").upper()
    return redirect(url_for("dispatch.booking", code=code) if code else url_for("dispatch.day"))


def _booking_or_404(code: str) -> Booking:
    try:
        return services().engine.booking(code)
    except NotFoundError:
        abort(404)


@bp.get("/booking/<code>")
@role_required("dispatcher")
def booking(code: str) -> ResponseReturnValue:
    """One booking with the rider's data, and the actions on them (access, erasure)."""
    found = _booking_or_404(code)
    return render_template(
        "dispatch/booking.html",
        booking=booking_json(found),
        status=_(STATUS[found.status]),
        erased=is_erased(found),
        erase_after_days=services().engine.service.privacy.erase_after_days,
    )


@bp.get("/booking/<code>/erase")
@role_required("dispatcher")
def erase_form(code: str) -> ResponseReturnValue:
    """The confirmation step before erasing: names the booking and the rider."""
    found = _booking_or_404(code)
    if is_erased(found):
        message = _("Die Daten sind bereits gelöscht.")
        flash(f"{found.code}: {message}", "ok")
        return redirect(url_for("dispatch.booking", code=found.code))
    return render_template("dispatch/erase.html", booking=booking_json(found))


@bp.post("/booking/<code>/erase")
@role_required("dispatcher")
def erase(code: str) -> ResponseReturnValue:
    """Erase the rider's personal data on request (refused while a trip is booked)."""
    engine = services().engine
    try:
        result = erase_rider(
            engine.store, code, today=today(), same_phone=request.form.get("same_phone") == "1"
        )
    except NotFoundError:
        abort(404)
    except StillBookedError as exc:
        message = _("Die Fahrt ist noch bestätigt. Bitte zuerst stornieren.")
        flash(f"{exc.code} ({exc.day}): {message}", "error")
        return redirect(url_for("dispatch.booking", code=code))
    message = _("Personenbezogene Daten gelöscht: %(codes)s") % {"codes": ", ".join(result.codes)}
    flash(message, "ok")
    return redirect(url_for("dispatch.booking", code=code))


@bp.get("/booking/<code>/export.json")
@role_required("dispatcher")
def export_booking(code: str) -> ResponseReturnValue:
    """Everything stored about the rider, as a JSON file (a request for access)."""
    engine = services().engine
    try:
        data = export_rider(
            engine.store, code, now=engine.clock(), same_phone=request.args.get("same_phone") == "1"
        )
    except NotFoundError:
        abort(404)
    filename = f"rufbus-auskunft-{data['request']['code']}.json"
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        mimetype="application/json",
        headers={
            "Content-Disposition": f"attachment; filename={filename}",
            "Cache-Control": "no-store",  # personal data: no copies in caches
        },
    )


@bp.post("/optimize")
@role_required("dispatcher")
def optimize() -> ResponseReturnValue:
    """Re-optimise the day and show the key figures before and after."""
    when = chosen_day()
    result = services().engine.optimize(when, time_limit=services().config.optimize_seconds)
    rows = []
    if "before" in result:
        before, after = kpi_rows(result["before"]), kpi_rows(result["after"])
        rows = [(label, b, a) for (label, b), (_label, a) in zip(before, after, strict=True)]
    outcome = _(OPTIMIZED[result["code"]])
    return render_template(
        "dispatch/optimize.html", day=when.isoformat(), result=result, rows=rows, outcome=outcome
    )


def manifest_rows(when: date, vehicle_id: str) -> tuple[PlanStop, ...]:
    """The stops of ``vehicle_id`` on ``when``; a 404 if there is no such vehicle."""
    vehicle = services().engine.day_plan(when).vehicle(vehicle_id)
    if vehicle is None:
        abort(404)
    return vehicle.stops


@bp.get("/manifest/<vehicle_id>")
@role_required("dispatcher")
def manifest(vehicle_id: str) -> ResponseReturnValue:
    """The driver's manifest of one vehicle for the day, to print."""
    when = chosen_day()
    return render_template(
        "dispatch/manifest.html",
        day=when.isoformat(),
        vehicle=vehicle_id,
        stops=manifest_rows(when, vehicle_id),
    )


@bp.get("/manifest/<vehicle_id>.csv")
@role_required("dispatcher")
def manifest_csv(vehicle_id: str) -> ResponseReturnValue:
    """The driver's manifest as CSV."""
    when = chosen_day()
    header = ("time", "kind", "stop", "code", "rider", "phone", "people", "wheelchairs",
              "load_after", "window", "note")  # fmt: skip
    rows = [
        (hhmm(s.service_start_s), s.kind, s.stop.name, s.code, s.rider, s.phone, s.people,
         s.wheelchairs, s.load, f"{hhmm(s.window_s[0])}-{hhmm(s.window_s[1])}", s.note)
        for s in manifest_rows(when, vehicle_id)
    ]  # fmt: skip
    filename = f"manifest-{vehicle_id}-{when.isoformat()}.csv"
    return Response(
        csv_text(header, rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )


@bp.get("/analysis")
@role_required("analyst")
def analysis() -> ResponseReturnValue:
    """The scenario batches under ``RUFBUS_SCENARIO_DIR``, newest first."""
    root = services().config.scenario_dir
    batches = []
    if root.is_dir():
        for folder in sorted(root.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True):
            table = folder / "kpis.csv"
            if table.is_file():
                kpis = pd.read_csv(table)
                batches.append(
                    {
                        "name": folder.name,
                        "runs": len(kpis),
                        "failed": int((kpis["status"] == "error").sum()),
                        "report": (folder / "report.html").is_file(),
                    }
                )
    return render_template("dispatch/analysis.html", batches=batches, root=root)


@bp.get("/analysis/<name>/")
@role_required("analyst")
def batch_report(name: str) -> ResponseReturnValue:
    """The report of scenario batch ``name``."""
    return send_from_directory(services().config.scenario_dir / name, "report.html")


@bp.get("/analysis/<name>/figures/<path:filename>")
@role_required("analyst")
def batch_figure(name: str, filename: str) -> ResponseReturnValue:
    """A chart of scenario batch ``name``'s report."""
    return send_from_directory(services().config.scenario_dir / name / "figures", filename)
