"""The dispatcher's day view, built for days of 150-300 bookings.

The page shows one vehicle at a time (``?vehicle=``), a one-line summary per vehicle
otherwise, and a booking list narrowed by status and rider (``?status=``, ``?q=``). Every
filter is a GET parameter, so the page works without JavaScript and a filtered view can be
bookmarked. This module turns the engine's day into what the template shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from planner.booking import BookingEngine
from planner.booking.views import DayPlan, PlanStop, VehicleDay
from planner.live.monitor import day_live
from planner.store.db import Booking
from planner.timefmt import hhmm, whole_minute
from web.i18n import N_, format_number
from web.i18n import gettext as _

#: Route colours of the map, its legend and the timeline, by the vehicle's place in the
#: plan: dark enough for 3:1 against the base map and white; shape tells pickup from drop-off.
VEHICLE_COLOURS = ("#00507a", "#a1001a", "#1d5e20", "#6b3fa0", "#8a4b00", "#005f5f",
                   "#5a5a00", "#b0006e")  # fmt: skip

#: The statuses the booking list can be narrowed to, with their German labels. ``done`` and
#: ``at_risk`` are states of confirmed bookings: the planned drop-off is past, or the live
#: estimate breaks a promise (today only).
STATUS_FILTERS = (
    ("confirmed", N_("bestätigt")),
    ("at_risk", N_("gefährdet")),
    ("done", N_("erledigt")),
    ("cancelled", N_("storniert")),
    ("no_show", N_("nicht erschienen")),
)

#: Timeline (Gantt) geometry: hours shown and pixels.
GANTT_FIRST_HOUR, GANTT_LAST_HOUR = 5, 24
GANTT_LABEL_W, GANTT_HOUR_W, GANTT_ROW_H = 70, 40, 26


class FilterError(ValueError):
    """A filter parameter that names nothing: the field, the message and the HTTP status."""

    def __init__(self, field: str, message: str, status: int) -> None:
        super().__init__(message)
        self.field, self.message, self.status = field, message, status


@dataclass(frozen=True, slots=True)
class DayFilter:
    """What the dispatcher narrowed the day to; empty strings mean "all"."""

    vehicle: str = ""
    status: str = ""
    rider: str = ""

    @property
    def lists_bookings(self) -> bool:
        """Whether the page shows the matching bookings rather than the stop lists."""
        return bool(self.status or self.rider)

    def params(self, **changed: str) -> dict[str, str]:
        """The non-empty GET parameters of this filter with ``changed`` applied (for links)."""
        values = {"vehicle": self.vehicle, "status": self.status, "q": self.rider, **changed}
        return {k: v for k, v in values.items() if v}


def read_filter(args: Mapping[str, str], fleet: Sequence[str]) -> DayFilter:
    """The filter of the request's ``vehicle``, ``status`` and ``q`` parameters.

    Raises
    ------
    FilterError
        For a vehicle not in ``fleet`` (404) or a status not in :data:`STATUS_FILTERS` (400).
    """
    vehicle = args.get("vehicle", "").strip()
    status = args.get("status", "").strip()
    rider = args.get("q", "").strip()
    if vehicle and vehicle not in fleet:
        message = _("Das Fahrzeug „%(vehicle)s“ gibt es nicht. "
                    "Bitte wählen Sie eines aus der Liste.")  # fmt: skip
        raise FilterError("vehicle", message % {"vehicle": vehicle}, 404)
    if status and status not in dict(STATUS_FILTERS):
        message = _("Unbekannter Status „%(status)s“. Bitte wählen Sie einen aus der Liste.")
        raise FilterError("status", message % {"status": status}, 400)
    return DayFilter(vehicle, status, rider)


@dataclass(frozen=True, slots=True)
class VehicleSummary:
    """One line per vehicle in the overview.

    Attributes
    ----------
    bookings
        Bookings the vehicle serves (its pickups).
    km
        Distance driven from the depot over every stop and break place back to the depot.
    max_load, capacity
        Most people on board at once, and seats plus wheelchair places.
    """

    vehicle: VehicleDay
    colour: str
    bookings: int
    first: PlanStop
    last: PlanStop
    km: float
    max_load: int
    capacity: int

    @property
    def km_text(self) -> str:
        """The distance as the reader writes numbers (``12,5``)."""
        return format_number(self.km)


@dataclass(frozen=True, slots=True)
class BookingRow:
    """One booking of the day as the booking list shows it (planned or not)."""

    code: str
    rider: str
    note: str
    status: str
    done: bool
    at_risk: bool
    vehicle: str
    people: int
    wheelchairs: int
    pickup_s: float
    origin: str
    dropoff_s: float
    destination: str
    no_show_allowed: bool

    @property
    def states(self) -> tuple[str, ...]:
        """The status and, for a confirmed booking, ``done`` and ``at_risk`` when they hold."""
        return (self.status,) + ("done",) * self.done + ("at_risk",) * self.at_risk

    def matches(self, wanted: DayFilter) -> bool:
        """Whether the booking passes the filter (rider: part of the name, or the code)."""
        if wanted.vehicle and self.vehicle != wanted.vehicle:
            return False
        if wanted.status and wanted.status not in self.states:
            return False
        if wanted.rider:
            code = wanted.rider.replace("-", "").replace(" ", "").upper()
            return wanted.rider.casefold() in self.rider.casefold() or code == self.code
        return True


def vehicle_km(vehicle: VehicleDay, depot: int, engine: BookingEngine) -> float:
    """Kilometres from ``depot`` over the stops and break places, in time order, back."""
    places = sorted(
        [(s.service_start_s, s.stop.id) for s in vehicle.stops]
        + [(b.start_s, b.stop.id) for b in vehicle.breaks]
    )
    row = engine.catalog.row
    nodes = [depot, *(node for _, node in places), depot]
    metres = sum(
        float(engine.catalog.distance_m[row[a], row[b]])
        for a, b in zip(nodes[:-1], nodes[1:], strict=True)
    )
    return round(metres / 1000, 1)


def summaries(engine: BookingEngine, plan: DayPlan) -> list[VehicleSummary]:
    """The overview line of every vehicle that drives, in the plan's order."""
    specs = {v.id: v for v in engine.service.fleet}
    depots = engine.depot_of
    out = []
    for k, vehicle in enumerate(plan.vehicles):
        spec = specs.get(vehicle.vehicle_id)
        out.append(
            VehicleSummary(
                vehicle=vehicle,
                colour=VEHICLE_COLOURS[k % len(VEHICLE_COLOURS)],
                bookings=sum(1 for s in vehicle.stops if s.kind == "pickup"),
                first=vehicle.stops[0],
                last=vehicle.stops[-1],
                km=vehicle_km(vehicle, depots[vehicle.vehicle_id], engine),
                max_load=max(s.load for s in vehicle.stops),
                capacity=spec.seats + spec.wheelchair_places if spec else 0,
            )
        )
    return out


def at_risk_codes(engine: BookingEngine, day: date, today: date) -> frozenset[str]:
    """Codes of bookings whose live estimate breaks a promise; none unless ``day`` is today."""
    if day != today:
        return frozenset()
    return frozenset(s.stop.code for _, s in day_live(engine, day).at_risk())


def booking_rows(
    engine: BookingEngine, plan: DayPlan, *, now_s: float, at_risk: frozenset[str]
) -> list[BookingRow]:
    """Every booking of the plan's day, cancelled ones included, by pickup time."""
    planned: dict[str, dict[str, tuple[VehicleDay, PlanStop]]] = {}
    for vehicle, stop in plan.stops():
        planned.setdefault(stop.code, {})[stop.kind] = (vehicle, stop)
    with engine.store.session() as session:
        stored = list(session.scalars(select(Booking).where(Booking.day == plan.day.isoformat())))
    rows = []
    for b in stored:
        stops = planned.get(b.code, {})
        pickup, dropoff = stops.get("pickup"), stops.get("dropoff")
        dropoff_s = dropoff[1].service_start_s if dropoff else b.est_arrival_s
        rows.append(
            BookingRow(
                code=b.code,
                rider=b.name,
                note=b.note,
                status=b.status,
                done=b.status == "confirmed" and dropoff_s <= now_s,
                at_risk=b.code in at_risk,
                vehicle=pickup[0].vehicle_id if pickup else b.vehicle_id,
                people=b.passengers + b.wheelchairs,
                wheelchairs=b.wheelchairs,
                pickup_s=pickup[1].service_start_s if pickup else b.est_pickup_s,
                origin=pickup[1].stop.name if pickup else b.origin_name,
                dropoff_s=dropoff_s,
                destination=dropoff[1].stop.name if dropoff else b.destination_name,
                no_show_allowed=bool(pickup and pickup[1].no_show_allowed),
            )
        )
    return sorted(rows, key=lambda r: (r.pickup_s, r.code))


def gantt(
    vehicles: Sequence[VehicleDay], colours: Mapping[str, str], *, now_s: float | None = None
) -> dict[str, Any]:
    """Bars, ticks and the "now" line of the vehicle timeline, in SVG coordinates.

    No inline styles (CSP): colours go into presentation attributes. ``now_s`` is None
    unless the day is today.
    """

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
                "colour": colours.get(vehicle.vehicle_id, VEHICLE_COLOURS[0]),
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
    now = None
    if now_s is not None and GANTT_FIRST_HOUR * 3600 <= now_s <= GANTT_LAST_HOUR * 3600:
        now = {"x": x(now_s), "label": hhmm(now_s)}
    return {
        "rows": rows,
        "hours": hours,
        "width": width,
        "height": 30 + len(rows) * GANTT_ROW_H,
        "now": now,
    }


@dataclass(frozen=True, slots=True)
class DayView:
    """Everything the day view's template shows besides the key figures."""

    plan: DayPlan
    wanted: DayFilter
    summaries: list[VehicleSummary]
    chosen: VehicleSummary | None
    bookings: list[BookingRow]
    gantt: dict[str, Any]
    colours: dict[str, str]
    statuses: list[tuple[str, str]]
    fleet: list[str]


def day_view(engine: BookingEngine, day: date, wanted: DayFilter, *, today: date) -> DayView:
    """The day view of ``day`` narrowed to ``wanted``."""
    plan = engine.day_plan(day)
    lines = summaries(engine, plan)
    colours = {s.vehicle.vehicle_id: s.colour for s in lines}
    chosen = next((s for s in lines if s.vehicle.vehicle_id == wanted.vehicle), None)
    now_s = engine.now_s(day) if day == today else None
    bookings: list[BookingRow] = []
    if wanted.lists_bookings:
        every = booking_rows(
            engine, plan, now_s=engine.now_s(day), at_risk=at_risk_codes(engine, day, today)
        )
        bookings = [b for b in every if b.matches(wanted)]
    shown = [chosen.vehicle] if chosen else list(plan.vehicles)
    return DayView(
        plan=plan,
        wanted=wanted,
        summaries=lines,
        chosen=chosen,
        bookings=bookings,
        gantt=gantt(shown, colours, now_s=now_s),
        colours=colours,
        statuses=[(key, _(label)) for key, label in STATUS_FILTERS],
        fleet=[v.id for v in engine.service.fleet],
    )
