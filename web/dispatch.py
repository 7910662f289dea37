"""Pages for dispatchers: day and live views, phone bookings, re-optimisation, manifests."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date
from typing import Any

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

from planner.booking import booking_json, change, wire
from planner.booking.privacy import StillBookedError, erase_rider, export_rider, is_erased
from planner.booking.views import PlanStop
from planner.errors import BookingError, ConflictError, NotFoundError, PlannerError
from planner.export.csvsafe import csv_text
from planner.export.plan import plan_geojson
from planner.live.monitor import day_live, live_json
from planner.notify import outbox
from planner.scenarios.compare import compare_batches, read_kpis
from planner.store.db import Booking, Notification
from planner.timefmt import hhmm
from web.auth import role_required
from web.dayview import DayFilter, FilterError, day_view, read_filter
from web.forms import confirm_from_form
from web.i18n import N_, current_language, format_day, format_number
from web.i18n import gettext as _
from web.messages import (
    NOTIFY_CHANNEL,
    NOTIFY_KIND,
    NOTIFY_STATUS,
    OPTIMIZED,
    STATUS,
    error_text,
    revenue_text,
)
from web.resident import handle_offers, preset_form, render_form, today
from web.scenario_report import batch_folder, batch_names, comparison_table, report_context
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
    ("revenue", N_("Einnahmen")),
)


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
    if "revenue_cents" in kpis:  # figures stored before fares were counted have none
        values["revenue"] = revenue_text(kpis["revenue_cents"])
    return [(_(label), values.get(key, "–")) for key, label in KPI_LABELS]


@bp.get("/")
@role_required("dispatcher")
def day() -> ResponseReturnValue:
    """The dispatcher's day: key figures, map, timeline, and one vehicle or a summary of all.

    ``?vehicle=``, ``?status=`` and ``?q=`` (rider name or booking code) narrow it
    (:mod:`web.dayview`); a vehicle or status that names nothing is said on the page (404
    or 400), which still shows the whole day.
    """
    when = chosen_day()
    engine = services().engine
    problem = None
    try:
        wanted = read_filter(request.args, [v.id for v in engine.service.fleet])
    except FilterError as exc:
        problem, wanted = exc, DayFilter()
    view = day_view(engine, when, wanted, today=today())
    page = render_template(
        "dispatch/day.html",
        day=when.isoformat(),
        timetable_ends=engine.timetable_ends(),
        plan=view.plan,
        kpis=kpi_rows(view.plan.kpis),
        view=view,
        problem=problem,
    )
    return page, problem.status if problem else 200


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
    """The booking form for a trip taken by phone (fields may be preset by the URL).

    It starts at the next bookable time, and asks for the caller's name and phone once.
    """
    start = services().engine.next_bookable()
    return render_form(preset_form(today(), start, staff=True), staff=True)


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


# -- changing a booking: another time, other stops or another party, same code ----------


def change_values(booking: Mapping[str, Any]) -> dict[str, str]:
    """The trip form's values of a booking (``booking_json``), for its change."""
    return {
        "origin": str(booking["origin"]["name"]),
        "destination": str(booking["destination"]["name"]),
        "date": booking["date"],
        "time": booking["wish"]["time"],
        "kind": booking["wish"]["kind"],
        "passengers": str(booking["passengers"]),
        "wheelchairs": str(booking["wheelchairs"]),
    }


@bp.get("/booking/<code>/change")
@role_required("dispatcher")
def change_form(code: str) -> ResponseReturnValue:
    """The trip form filled with the booking's trip (fields may be preset by the URL)."""
    engine = services().engine
    try:
        found = change.changeable(engine, code)
    except NotFoundError:
        abort(404)
    except ConflictError as exc:
        flash(error_text(exc), "error")
        return redirect(url_for("dispatch.booking", code=code))
    values = change_values(booking_json(found))
    values.update({k: v for k, v in request.args.items() if k in values})
    return render_form(values, staff=True, change=found.code)


@bp.post("/booking/<code>/change")
@role_required("dispatcher")
def change_offers(code: str) -> ResponseReturnValue:
    """Offers for the booking's changed trip."""
    return handle_offers(staff=True, change=code.strip().upper())


@bp.post("/booking/<code>/change/<offer_id>")
@role_required("dispatcher")
def confirm_change(code: str, offer_id: str) -> ResponseReturnValue:
    """Replace the booking's trip by the offer's, then show the booking."""
    engine = services().engine
    try:
        changed = engine.confirm_change(code, offer_id, by=g.user.name)
    except NotFoundError:
        abort(404)
    except PlannerError as exc:
        flash(error_text(exc), "error")
        return redirect(url_for("dispatch.booking", code=code))
    message = _("%(code)s geändert: Abholung %(start)s–%(end)s Uhr am %(day)s.") % {
        "code": changed["code"],
        "start": changed["pickup_window"][0],
        "end": changed["pickup_window"][1],
        "day": format_day(changed["date"]),
    }
    flash(message, "ok")
    return redirect(url_for("dispatch.booking", code=changed["code"]))


def _change(code: str, action: str) -> ResponseReturnValue:
    engine = services().engine
    try:
        booking = engine.cancel(code) if action == "cancel" else engine.no_show(code)
    except NotFoundError:
        abort(404)
    except ConflictError as exc:
        flash(error_text(exc), "error")
        return redirect(url_for("dispatch.day"))
    if action == "cancel":  # the operator cancelled: the rider is told (if opted in)
        outbox.queue_cancellation(engine.store, engine.service, booking["code"], engine.clock())
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
        changes=change.history(services().engine, found.code),
        tz=services().engine.tz,
        messages=[message_row(m) for m in outbox.messages_of(services().engine.store, found.code)],
        opted_in={"email": found.notify_email, "sms": found.notify_sms},
    )


def message_row(m: Notification) -> dict[str, Any]:
    """One outbox message as the dispatchers' pages list it (in their language)."""
    tz = services().engine.tz
    when = m.sent_at or m.created_at
    if when.tzinfo is None:  # SQLite keeps UTC without a zone
        when = when.replace(tzinfo=UTC)
    local = when.astimezone(tz)
    return {
        "id": m.id,
        "code": m.booking_code,
        "day": m.day,
        "kind": _(NOTIFY_KIND[m.kind]),
        "channel": _(NOTIFY_CHANNEL[m.channel]),
        "status": m.status,
        "status_text": _(NOTIFY_STATUS[m.status]),
        "attempts": m.attempts,
        "error": m.last_error,
        "address": m.address,
        "text": m.body if m.channel != "email" else m.subject,
        "when": f"{format_day(local.date())}, {local:%H:%M}",
    }


@bp.get("/notifications")
@role_required("dispatcher")
def notifications() -> ResponseReturnValue:
    """The call list, and messages that failed or are still waiting."""
    rows = [message_row(m) for m in outbox.open_messages(services().engine.store)]
    return render_template(
        "dispatch/notifications.html",
        calls=[r for r in rows if r["status"] == outbox.CALL],
        problems=[r for r in rows if r["status"] != outbox.CALL],
    )


@bp.post("/notifications/<int:message_id>/called")
@role_required("dispatcher")
def called(message_id: int) -> ResponseReturnValue:
    """Take a rider off the call list: the dispatcher has phoned them."""
    engine = services().engine
    if outbox.mark_called(engine.store, message_id, engine.clock()):
        flash(_("Als angerufen vermerkt."), "ok")
    return redirect(url_for("dispatch.notifications"))


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


#: Key figures compared before and after a re-optimisation: (key, German label, unit,
#: whether more is better).
COMPARED = (
    ("served", N_("bedient"), "", True),
    ("rejected", N_("abgelehnt"), "", False),
    ("vehicles_used", N_("Fahrzeuge im Einsatz"), "", False),
    ("vehicle_km", N_("Fahrzeugkilometer"), " km", False),
    ("empty_km", N_("Leerkilometer"), " km", False),
    ("vehicle_hours", N_("Fahrzeugstunden"), " h", False),
    ("passengers_per_vehicle_hour", N_("Fahrgäste je Fahrzeugstunde"), "", True),
    ("pooling_rate", N_("Bündelungsquote"), " %", True),
    ("mean_wait_min", N_("Wartezeit Mittel"), " min", False),
    ("p95_wait_min", N_("Wartezeit 95 %"), " min", False),
    ("mean_ride_min", N_("Fahrtzeit Mittel"), " min", False),
    ("p95_ride_min", N_("Fahrtzeit 95 %"), " min", False),
)


@dataclass(frozen=True, slots=True)
class Compared:
    """One key figure before and after, and whether the new plan makes it worse."""

    label: str
    before: str
    after: str
    worse: bool


def compared_rows(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Compared]:
    """The key figures side by side; a figure that gets worse is marked."""
    out = []
    for key, label, unit, more_is_better in COMPARED:
        if key not in before or key not in after:
            continue
        old, new = before[key], after[key]
        scale = 100 if key == "pooling_rate" else 1
        worse = new < old if more_is_better else new > old
        out.append(
            Compared(
                _(label),
                f"{format_number(round(old * scale, 1))}{unit}",
                f"{format_number(round(new * scale, 1))}{unit}",
                worse,
            )
        )
    return out


def moved_riders(when: date, changes: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The riders whose estimated pickup a proposal moves, with their names."""
    riders = {s.code: s.rider for v in services().engine.day_plan(when).vehicles for s in v.stops}
    return [{**c, "rider": riders.get(c["code"], "")} for c in changes]


@bp.post("/optimize")
@role_required("dispatcher")
def optimize() -> ResponseReturnValue:
    """Re-optimise the day as a preview; nothing is stored yet.

    Shows the key figures before and after, the riders whose pickup moves, and the choice
    to accept or discard the new plan.
    """
    when = chosen_day()
    engine = services().engine
    result = engine.optimize(when, time_limit=services().config.optimize_seconds, preview=True)
    rows = compared_rows(result["before"], result["after"]) if "before" in result else []
    return render_template(
        "dispatch/optimize.html",
        day=when.isoformat(),
        result=result,
        rows=rows,
        riders=moved_riders(when, result.get("changes", ())),
        outcome=_(OPTIMIZED[result["code"]]),
    )


@bp.post("/optimize/<proposal>")
@role_required("dispatcher")
def decide(proposal: str) -> ResponseReturnValue:
    """Accept ("Übernehmen") or discard ("Verwerfen") a previewed plan, then show the day."""
    when = chosen_day()
    engine = services().engine
    accept = request.form.get("decision") == "accept"
    try:
        if accept:
            result = engine.accept_proposal(when, proposal)
        else:
            result = engine.discard_proposal(when, proposal)
    except NotFoundError:
        flash(_("Dieser Vorschlag ist nicht mehr vorhanden."), "error")
        return redirect(url_for("dispatch.day", date=when.isoformat()))
    flash(_(OPTIMIZED[result["code"]]), "ok" if result["code"] != "changed_meanwhile" else "error")
    return redirect(url_for("dispatch.day", date=when.isoformat()))


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


#: Who may read the scenario analysis: analysts, and dispatchers who plan the fleet with them.
ANALYSIS_ROLES = ("analyst", "dispatcher")


def _analysis_page(
    error: str = "", chosen: Sequence[str] = (), status: int = 200
) -> tuple[str, int]:
    """The batch list, with an error above it (``status``) and the batches ``chosen`` ticked."""
    root = services().config.scenario_dir
    batches = []
    for name in batch_names(root):
        kpis = read_kpis(root / name)
        batches.append(
            {
                "name": name,
                "runs": len(kpis),
                "failed": int((kpis["status"] == "error").sum()),
            }
        )
    page = render_template(
        "dispatch/analysis.html", batches=batches, root=root, error=error, chosen=chosen
    )
    return page, status


@bp.get("/analysis")
@role_required(*ANALYSIS_ROLES)
def analysis() -> ResponseReturnValue:
    """The scenario batches under ``RUFBUS_SCENARIO_DIR``, newest first, to open or compare."""
    return _analysis_page(chosen=request.args.getlist("batch"))


@bp.get("/analysis/compare")
@role_required(*ANALYSIS_ROLES)
def compare() -> ResponseReturnValue:
    """Two or more batches (``?batch=A&batch=B``) side by side, differences to the first marked.

    Fewer than two batches answer 400, an unknown batch 404, on the batch list with the reason.
    """
    root = services().config.scenario_dir
    names = list(dict.fromkeys(request.args.getlist("batch")))  # each batch once
    if len(names) < 2:
        return _analysis_page(_("Bitte wählen Sie mindestens zwei Szenario-Läufe."), names, 400)
    try:
        folders = [batch_folder(root, name) for name in names]
    except NotFoundError as exc:
        return _analysis_page(exc.reason, names, 404)
    table = comparison_table(compare_batches(folders))
    return render_template("dispatch/compare.html", names=names, **table)


@bp.get("/analysis/<name>/")
@role_required(*ANALYSIS_ROLES)
def batch_report(name: str) -> ResponseReturnValue:
    """The report of scenario batch ``name``, in the reader's language."""
    try:
        folder = batch_folder(services().config.scenario_dir, name)
    except NotFoundError as exc:
        return _analysis_page(exc.reason, (), 404)
    return render_template("dispatch/report.html", **report_context(folder, current_language()))


@bp.get("/analysis/<name>/figures/<path:filename>")
@role_required(*ANALYSIS_ROLES)
def batch_figure(name: str, filename: str) -> ResponseReturnValue:
    """A chart of scenario batch ``name``'s report."""
    try:
        folder = batch_folder(services().config.scenario_dir, name)
    except NotFoundError:
        abort(404)
    return send_from_directory(folder / "figures", filename)
