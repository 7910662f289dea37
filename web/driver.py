"""Pages for drivers: take a vehicle for the shift, then work its stops one by one.

The pages are rendered on the server from the vehicle's tasks (the same JSON the drivers'
API answers, :func:`web.vehicles.tasks_json`); ``static/driver.js`` adds the buttons'
behaviour: every press becomes an event queued on the phone and sent when the network
allows, so the app keeps working through dead spots.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote

from flask import Blueprint, abort, jsonify, render_template, send_from_directory, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import generate_csrf

from planner.booking.views import PlanStop
from planner.timefmt import hhmm
from web.auth import role_required
from web.i18n import gettext as _
from web.resident import today
from web.services import services
from web.vehicles import tasks_json

bp = Blueprint("driver", __name__, url_prefix="/fahrer")

#: Who may open the driver's pages: drivers, and dispatchers looking over their shoulder.
ROLES = ("driver", "dispatcher")

#: What a task's ``done`` holds when the task is finished, by the task's kind.
FINISHED_BY = {"pickup": ("boarded", "no_show"), "dropoff": ("dropped_off",)}


@dataclass(frozen=True, slots=True)
class Visit:
    """Consecutive tasks of a vehicle at one stop: the bus stops once for all of them.

    Attributes
    ----------
    key
        ``<stop id>-<seq of the first task>``: names the visit in the page and in events.
    stop
        ``{"id", "name", "lon", "lat"}``.
    time
        Planned start of the first boarding or alighting (``HH:MM``).
    tasks
        The tasks, as the tasks API gives them.
    load
        People on board after the visit.
    finished
        Every task is finished (boarded, no-show or dropped off).
    arrived, departed
        When the driver reported arriving and leaving (``HH:MM``), or None.
    """

    key: str
    stop: Mapping[str, Any]
    time: str
    tasks: tuple[Mapping[str, Any], ...]
    load: int
    finished: bool
    arrived: str | None
    departed: str | None

    @property
    def geo_url(self) -> str:
        """The stop for the phone's map app (RFC 5870, with a label Android shows)."""
        lat, lon = _coordinates(self.stop)
        return f"geo:{lat},{lon}?q={lat},{lon}({quote(str(self.stop['name']))})"

    @property
    def osm_url(self) -> str:
        """Directions to the stop on openstreetmap.org, for phones without a map app."""
        lat, lon = _coordinates(self.stop)
        return f"https://www.openstreetmap.org/directions?engine=fossgis_osrm_car&to={lat}%2C{lon}"


def _coordinates(stop: Mapping[str, Any]) -> tuple[str, str]:
    # six decimals are 0.1 m: enough for a bus stop, short enough for a URL
    return f"{float(stop['lat']):.6f}", f"{float(stop['lon']):.6f}"


def task_finished(task: Mapping[str, Any]) -> bool:
    """Whether the rider of ``task`` boarded, did not turn up, or got off."""
    return any(task["done"].get(key) for key in FINISHED_BY[task["kind"]])


def visits(tasks: Sequence[Mapping[str, Any]]) -> list[Visit]:
    """Group a vehicle's tasks into visits: consecutive tasks at the same stop."""
    groups: list[list[Mapping[str, Any]]] = []
    for task in tasks:
        if groups and groups[-1][-1]["stop"]["id"] == task["stop"]["id"]:
            groups[-1].append(task)
        else:
            groups.append([task])
    return [
        Visit(
            key=f"{group[0]['stop']['id']}-{group[0]['seq']}",
            stop=group[0]["stop"],
            time=group[0]["service_start"],
            tasks=tuple(group),
            load=int(group[-1]["load"]),
            finished=all(task_finished(t) for t in group),
            arrived=next((t["done"]["arrived"] for t in group if t["done"].get("arrived")), None),
            departed=next(
                (t["done"]["departed"] for t in group if t["done"].get("departed")), None
            ),
        )
        for group in groups
    ]


def stops_made(stops: Sequence[PlanStop]) -> int:
    """How often the bus stops: consecutive boardings and alightings at one stop are one."""
    return sum(1 for k, s in enumerate(stops) if k == 0 or s.stop.id != stops[k - 1].stop.id)


def split_done(all_visits: Sequence[Visit]) -> tuple[list[Visit], list[Visit]]:
    """Split the visits into (done, ahead).

    A visit is done once its tasks are finished and the bus has left it, or has arrived at
    a later stop (a driver who forgets "departed" still moves on).
    ``static/driver.js`` applies the same rule to the presses not yet on the server.
    """
    last_arrival = max((k for k, v in enumerate(all_visits) if v.arrived), default=-1)
    done = [
        v
        for k, v in enumerate(all_visits)
        if v.finished and (v.departed is not None or k < last_arrival)
    ]
    return done, [v for v in all_visits if v not in done]


def script_texts() -> dict[str, str]:
    """What ``driver.js`` shows, in the reader's language (the script has no texts of its own)."""
    return {
        "waiting_one": _("1 Meldung wartet auf Netz"),
        "waiting_many": _("%(count)s Meldungen warten auf Netz"),
        "all_sent": _("Alle Meldungen gesendet"),
        "rejected": _("Nicht angenommen"),
        "no_show_from": _("möglich ab %(time)s"),
        "no_show_after_arrival": _("möglich nach der Ankunft"),
        "arrived": _("Angekommen %(time)s"),
        "departed": _("Abgefahren %(time)s"),
        "boarded": _("Eingestiegen %(time)s"),
        "no_show": _("Nicht erschienen %(time)s"),
        "dropped_off": _("Ausgestiegen %(time)s"),
        "on_break": _("Pause seit %(time)s"),
        "on_shift": _("Schicht seit %(time)s"),
        "shift_ended": _("Schicht beendet %(time)s"),
        "delay_sent": _("Aufenthalt von %(minutes)s min gemeldet"),
        "breakdown_sent": _("Panne gemeldet %(time)s"),
        "log_in": _("Bitte neu anmelden, damit die Meldungen gesendet werden."),
        "plan_changed": _("Der Plan hat sich geändert."),
        "stored_list": _("Ohne Netz: Liste von %(time)s"),
        "no_position": _("Standort nicht verfügbar"),
        "done_one": _("1 erledigter Halt"),
        "done_many": _("%(count)s erledigte Halte"),
    }


def _config(vehicle_id: str | None, day: date) -> dict[str, Any]:
    """What ``driver.js`` needs to know about the page."""
    engine = services().engine
    return {
        "vehicle": vehicle_id,
        "day": day.isoformat(),
        "timezone": str(engine.tz),
        "csrf": generate_csrf(),
        "token_url": url_for("driver.token"),
        "login_url": url_for("auth.login"),
        "api": "/api/v1/vehicles/",
        "worker": url_for("driver.worker"),
    }


@bp.get("/")
@role_required(*ROLES)
def index() -> ResponseReturnValue:
    """Today's vehicles with their first stop: the driver takes one for the shift."""
    day = today()
    plan = services().engine.day_plan(day)
    vehicles = [
        {
            "id": v.vehicle_id,
            "first_stop": hhmm(v.stops[0].service_start_s),
            "first_stop_name": v.stops[0].stop.name,
            "stops": stops_made(v.stops),
        }
        for v in plan.vehicles
        if v.stops
    ]
    return render_template(
        "driver/index.html",
        day=day.isoformat(),
        vehicles=vehicles,
        config=_config(None, day),
        texts=script_texts(),
    )


@bp.get("/<vehicle_id>")
@role_required(*ROLES)
def vehicle(vehicle_id: str) -> ResponseReturnValue:
    """The vehicle's stops of today in order, finished ones folded away at the top."""
    if vehicle_id not in {v.id for v in services().engine.service.fleet}:
        abort(404, f"vehicle: no vehicle {vehicle_id!r} in the fleet")
    day = today()
    tasks = tasks_json(services().engine, vehicle_id, day)
    done, ahead = split_done(visits(tasks["tasks"]))
    return render_template(
        "driver/vehicle.html",
        day=day.isoformat(),
        vehicle=vehicle_id,
        version=tasks["version"],
        wait_min=tasks["no_show_wait_min"],
        done=done,
        ahead=ahead,
        breaks=tasks["breaks"],
        config=_config(vehicle_id, day) | {"version": tasks["version"]},
        texts=script_texts(),
    )


@bp.get("/token")
@role_required(*ROLES, api=True)
def token() -> ResponseReturnValue:
    """A fresh CSRF token: a page open all shift outlives the token it came with (1 h)."""
    return jsonify(csrf_token=generate_csrf())


@bp.get("/sw.js")
def worker() -> ResponseReturnValue:
    """The service worker, served from here so that it may control every page under /fahrer/."""
    response = send_from_directory(bp.root_path + "/static", "driver-sw.js", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response
