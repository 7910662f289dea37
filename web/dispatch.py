"""Pages for dispatchers: the day view, phone bookings, re-optimisation, driver manifests."""

from __future__ import annotations

import csv
import io
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

from planner import wire
from planner.errors import BookingError, ConflictError, NotFoundError, PlannerError
from planner.export import plan_geojson
from web import services
from web.auth import role_required
from web.forms import confirm_from_form, form_defaults
from web.i18n import gettext as _
from web.resident import handle_offers, render_form, today

bp = Blueprint("dispatch", __name__, url_prefix="/dispatch")

#: KPIs shown in the day view, with their German labels (translated in the template).
KPI_LABELS = (
    ("requests", "Anfragen"),
    ("served", "bedient"),
    ("rejected", "abgelehnt"),
    ("vehicle_hours", "Fahrzeugstunden"),
    ("passengers_per_vehicle_hour", "Fahrgäste je Fahrzeugstunde"),
    ("pooling_rate", "Bündelungsquote"),
    ("empty_km", "Leerkilometer"),
    ("wait", "Wartezeit Mittel / 95 %"),
    ("ride", "Fahrtzeit Mittel / 95 %"),
)

#: Timeline (Gantt) geometry: hours shown and pixels.
GANTT_FIRST_HOUR, GANTT_LAST_HOUR = 5, 24
GANTT_LABEL_W, GANTT_HOUR_W, GANTT_ROW_H = 70, 40, 26


def chosen_day() -> date:
    text = request.values.get("date", "")
    if not text:
        return today()
    try:
        return wire.parse_day(text)
    except BookingError as exc:
        abort(400, f"date: {exc.reason}")


def kpi_rows(kpis: dict[str, Any]) -> list[tuple[str, str]]:
    values = {
        **{k: str(v) for k, v in kpis.items()},
        "pooling_rate": f"{100 * kpis.get('pooling_rate', 0):.0f} %",
        "wait": f"{kpis.get('mean_wait_min', 0)} / {kpis.get('p95_wait_min', 0)} min",
        "ride": f"{kpis.get('mean_ride_min', 0)} / {kpis.get('p95_ride_min', 0)} min",
    }
    return [(_(label), values.get(key, "–")) for key, label in KPI_LABELS]


def minutes(hhmm: str) -> int:
    hours, mins = hhmm.split(":")
    return int(hours) * 60 + int(mins)


def gantt(vehicles: list[dict[str, Any]]) -> dict[str, Any]:
    """Bars and ticks of the vehicle timeline, in SVG coordinates (no inline styles: CSP)."""

    def x(hhmm: str) -> float:
        return GANTT_LABEL_W + (minutes(hhmm) / 60 - GANTT_FIRST_HOUR) * GANTT_HOUR_W

    rows = []
    for vehicle in vehicles:
        if not vehicle["stops"]:
            continue
        y = 20 + len(rows) * GANTT_ROW_H
        first = vehicle["stops"][0]["arrival"]
        rows.append(
            {
                "name": vehicle["vehicle"],
                "y": y,
                "x0": x(first),
                "x1": x(vehicle["return"]),
                "ticks": [
                    {
                        "x": x(s["service_start"]),
                        "kind": s["kind"],
                        "title": f"{s['service_start']} {s['stop']['name']}",
                    }
                    for s in vehicle["stops"]
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
def day():
    when = chosen_day()
    plan = services().engine.day_plan(when)
    return render_template(
        "dispatch/day.html",
        day=when.isoformat(),
        plan=plan,
        kpis=kpi_rows(plan["kpis"]),
        gantt=gantt(plan["vehicles"]),
    )


@bp.get("/routes.geojson")
@role_required("dispatcher")
def routes_geojson():
    """The day's routes as lines along the network, and their stops as points."""
    engine = services().engine
    plan = engine.day_plan(chosen_day())
    network = engine.catalog.network
    depots = {v.id: d for v, d in zip(engine.service.fleet, engine.depots, strict=True)}
    return plan_geojson(plan, network.graph, network.csr, depots)


@bp.get("/book")
@role_required("dispatcher")
def book():
    return render_form(form_defaults(today()), staff=True)


@bp.post("/offers")
@role_required("dispatcher")
def offers():
    return handle_offers(staff=True)


@bp.post("/confirm/<offer_id>")
@role_required("dispatcher")
def confirm(offer_id: str):
    engine = services().engine
    try:
        booking = confirm_from_form(engine, offer_id, request.form, created_by=g.user.name)
    except NotFoundError:
        abort(404)
    except PlannerError as exc:
        flash(f"{exc.field}: {exc.reason}", "error")
        return redirect(url_for("dispatch.book"))
    flash(f"{_('Gebucht!')} {_('Buchungscode')} {booking['code']}", "ok")
    return redirect(url_for("dispatch.day", date=booking["date"]))


def _change(code: str, action: str):
    engine = services().engine
    try:
        booking = engine.cancel(code) if action == "cancel" else engine.no_show(code)
    except NotFoundError:
        abort(404)
    except ConflictError as exc:
        flash(exc.reason, "error")
        return redirect(url_for("dispatch.day"))
    flash(f"{code}: {_('storniert') if action == 'cancel' else _('nicht erschienen')}", "ok")
    return redirect(url_for("dispatch.day", date=booking["date"]))


@bp.post("/booking/<code>/cancel")
@role_required("dispatcher")
def cancel(code: str):
    return _change(code, "cancel")


@bp.post("/booking/<code>/no-show")
@role_required("dispatcher")
def no_show(code: str):
    return _change(code, "no_show")


@bp.post("/optimize")
@role_required("dispatcher")
def optimize():
    when = chosen_day()
    result = services().engine.optimize(when, time_limit=services().config.optimize_seconds)
    rows = []
    if "before" in result:
        before, after = kpi_rows(result["before"]), kpi_rows(result["after"])
        rows = [(label, b, a) for (label, b), (_label, a) in zip(before, after, strict=True)]
    return render_template("dispatch/optimize.html", day=when.isoformat(), result=result, rows=rows)


def manifest_rows(when: date, vehicle_id: str) -> list[dict[str, Any]]:
    plan = services().engine.day_plan(when)
    vehicle = next((v for v in plan["vehicles"] if v["vehicle"] == vehicle_id), None)
    if vehicle is None:
        abort(404)
    return vehicle["stops"]


@bp.get("/manifest/<vehicle_id>")
@role_required("dispatcher")
def manifest(vehicle_id: str):
    when = chosen_day()
    return render_template(
        "dispatch/manifest.html",
        day=when.isoformat(),
        vehicle=vehicle_id,
        stops=manifest_rows(when, vehicle_id),
    )


@bp.get("/manifest/<vehicle_id>.csv")
@role_required("dispatcher")
def manifest_csv(vehicle_id: str):
    when = chosen_day()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "time",
            "kind",
            "stop",
            "code",
            "rider",
            "phone",
            "people",
            "wheelchairs",
            "load_after",
            "window",
        ]
    )
    for s in manifest_rows(when, vehicle_id):
        writer.writerow(
            [
                s["service_start"],
                s["kind"],
                s["stop"]["name"],
                s["code"],
                s["rider"],
                s["phone"],
                s["people"],
                s["wheelchairs"],
                s["load"],
                "-".join(s["window"]),
            ]
        )
    filename = f"manifest-{vehicle_id}-{when.isoformat()}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )


@bp.get("/analysis")
@role_required("analyst")
def analysis():
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
def batch_report(name: str):
    return send_from_directory(services().config.scenario_dir / name, "report.html")


@bp.get("/analysis/<name>/figures/<path:filename>")
@role_required("analyst")
def batch_figure(name: str, filename: str):
    return send_from_directory(services().config.scenario_dir / name / "figures", filename)
