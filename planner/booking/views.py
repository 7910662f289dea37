"""What booking hands to the rest of the system: a day's plan as typed values.

:class:`DayPlan` is read by the exports, the scenario reports, the simulator and the web
layer. Times are seconds after local midnight; they become ``HH:MM`` text only at an edge:
:meth:`DayPlan.to_json` (the API), the templates (the ``hhmm`` filter) and CSV files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from planner.darp.breaks import is_break
from planner.darp.plan import Plan, StopKind
from planner.store.db import Booking
from planner.timefmt import hhmm, parse_hhmm


@dataclass(frozen=True, slots=True)
class StopPlace:
    """A bookable stop as :meth:`planner.stops.StopCatalog.describe` gives it."""

    id: int
    name: str
    lon: float
    lat: float

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StopPlace:
        """The stop of ``{"id", "name", "lon", "lat"}``."""
        return cls(int(data["id"]), str(data["name"]), float(data["lon"]), float(data["lat"]))

    def to_json(self) -> dict[str, Any]:
        """``{"id", "name", "lon", "lat"}``."""
        return {"id": self.id, "name": self.name, "lon": self.lon, "lat": self.lat}


@dataclass(frozen=True, slots=True)
class PlanStop:
    """One stop of a vehicle's day: who boards or alights, where, when, and the load after.

    Attributes
    ----------
    kind
        ``pickup`` or ``dropoff``.
    code, rider, phone, note
        The booking and the rider's own data (never in an export: see
        :mod:`planner.export.plan`).
    people, wheelchairs
        The party (everyone, wheelchair users included) and its wheelchairs.
    stop
        Where.
    arrival_s, service_start_s, departure_s
        When the bus gets there, when boarding or alighting starts, when it leaves.
    load
        People on board after the stop.
    window_s
        The booking's promised pickup window (start, end).
    connection
        At a feeder trip's drop-off, the guaranteed connection as stored with the booking
        (``{"stop": {id, name}, "line", "departure"}``); otherwise None.
    no_show_allowed
        Whether a dispatcher may mark the rider as not turned up (pickups whose window has
        started).
    """

    kind: StopKind
    code: str
    rider: str
    phone: str
    note: str
    people: int
    wheelchairs: int
    stop: StopPlace
    arrival_s: float
    service_start_s: float
    departure_s: float
    load: int
    window_s: tuple[float, float]
    connection: Mapping[str, Any] | None
    no_show_allowed: bool

    def to_json(self) -> dict[str, Any]:
        """The stop as the API shows it (times ``HH:MM``)."""
        return {
            "kind": self.kind,
            "code": self.code,
            "rider": self.rider,
            "phone": self.phone,
            "note": self.note,
            "no_show_allowed": self.no_show_allowed,
            "people": self.people,
            "wheelchairs": self.wheelchairs,
            "stop": self.stop.to_json(),
            "arrival": hhmm(self.arrival_s),
            "service_start": hhmm(self.service_start_s),
            "departure": hhmm(self.departure_s),
            "load": self.load,
            "window": [hhmm(self.window_s[0]), hhmm(self.window_s[1])],
            "connection": None if self.connection is None else dict(self.connection),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, field: str) -> PlanStop:
        """Read :meth:`to_json` back, or a stop of an export's anonymous plan.

        An anonymous stop has its ``booking_ref`` in place of the code and no rider details.
        ``field`` names the stop in errors.
        """

        def seconds(key: str, value: Any) -> int:
            return parse_hhmm(value, field=f"{field}.{key}")

        window = data["window"]
        return cls(
            kind=data["kind"],
            code=str(data.get("code", data.get("booking_ref", ""))),
            rider=str(data.get("rider", "")),
            phone=str(data.get("phone", "")),
            note=str(data.get("note", "")),
            people=int(data["people"]),
            wheelchairs=int(data["wheelchairs"]),
            stop=StopPlace.from_json(data["stop"]),
            arrival_s=seconds("arrival", data["arrival"]),
            service_start_s=seconds("service_start", data["service_start"]),
            departure_s=seconds("departure", data["departure"]),
            load=int(data["load"]),
            window_s=(seconds("window[0]", window[0]), seconds("window[1]", window[1])),
            connection=data.get("connection"),
            no_show_allowed=bool(data.get("no_show_allowed", False)),
        )


@dataclass(frozen=True, slots=True)
class BreakTime:
    """A driver's break the plan places: from ``start_s`` to ``end_s`` at ``stop``."""

    start_s: float
    end_s: float
    stop: StopPlace

    def to_json(self) -> dict[str, Any]:
        """``{"start", "end", "stop"}`` (times ``HH:MM``)."""
        return {"start": hhmm(self.start_s), "end": hhmm(self.end_s), "stop": self.stop.to_json()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, field: str) -> BreakTime:
        """Read :meth:`to_json` back; ``field`` names the break in errors."""
        return cls(
            parse_hhmm(data["start"], field=f"{field}.start"),
            parse_hhmm(data["end"], field=f"{field}.end"),
            StopPlace.from_json(data["stop"]),
        )


@dataclass(frozen=True, slots=True)
class VehicleDay:
    """One vehicle's day: depot departure, its stops in order, depot return, its breaks."""

    vehicle_id: str
    depart_s: float
    return_s: float
    stops: tuple[PlanStop, ...]
    breaks: tuple[BreakTime, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The vehicle as the API shows it (times ``HH:MM``)."""
        return {
            "vehicle": self.vehicle_id,
            "depart": hhmm(self.depart_s),
            "return": hhmm(self.return_s),
            "stops": [s.to_json() for s in self.stops],
            "breaks": [b.to_json() for b in self.breaks],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, field: str) -> VehicleDay:
        """Read :meth:`to_json` back; ``field`` names the vehicle in errors."""
        return cls(
            vehicle_id=str(data["vehicle"]),
            depart_s=parse_hhmm(data["depart"], field=f"{field}.depart"),
            return_s=parse_hhmm(data["return"], field=f"{field}.return"),
            stops=tuple(
                PlanStop.from_json(s, field=f"{field}.stops[{k}]")
                for k, s in enumerate(data["stops"])
            ),
            breaks=tuple(
                BreakTime.from_json(b, field=f"{field}.breaks[{k}]")
                for k, b in enumerate(data.get("breaks", []))
            ),
        )


@dataclass(frozen=True, slots=True)
class DayPlan:
    """The current plan of a service day for dispatchers: per vehicle the timed stops.

    Attributes
    ----------
    day
        The service day.
    version
        The stored plan version (0 before anything is stored).
    vehicles
        One entry per vehicle that drives, in the order of the plan.
    kpis
        The KPIs of the plan (:func:`planner.booking.kpis.plan_kpis`).
    """

    day: date
    version: int
    vehicles: tuple[VehicleDay, ...]
    kpis: Mapping[str, Any]

    def stops(self) -> Iterator[tuple[VehicleDay, PlanStop]]:
        """Every stop with its vehicle, vehicle by vehicle, in driving order."""
        for vehicle in self.vehicles:
            for stop in vehicle.stops:
                yield vehicle, stop

    def vehicle(self, vehicle_id: str) -> VehicleDay | None:
        """The day of vehicle ``vehicle_id``, or None if it does not drive."""
        return next((v for v in self.vehicles if v.vehicle_id == vehicle_id), None)

    def to_json(self) -> dict[str, Any]:
        """The plan as ``GET /api/v1/plans/{day}`` answers (times ``HH:MM``)."""
        return {
            "date": self.day.isoformat(),
            "version": self.version,
            "vehicles": [v.to_json() for v in self.vehicles],
            "kpis": dict(self.kpis),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DayPlan:
        """Read :meth:`to_json` back, or an export's anonymous plan.

        The anonymous plan is, for example, a scenario run's ``plan.json``.

        Raises
        ------
        ServiceFileError
            Naming the field (``vehicles[0].stops[2].arrival``) of a time that is not
            ``HH:MM``.
        """
        return cls(
            day=date.fromisoformat(data["date"]),
            version=int(data.get("version", 0)),
            vehicles=tuple(
                VehicleDay.from_json(v, field=f"vehicles[{k}]")
                for k, v in enumerate(data["vehicles"])
            ),
            kpis=dict(data.get("kpis", {})),
        )


def build_day_plan(
    day: date,
    plan: Plan,
    bookings: Iterable[Booking],
    *,
    version: int,
    kpis: Mapping[str, Any],
    describe: Callable[[int], Mapping[str, Any]],
    may_mark_no_show: Callable[[Booking], bool],
    node_of: Sequence[int] = (),
) -> DayPlan:
    """The dispatchers' view of a day from the engine's state.

    Parameters
    ----------
    day
        The service day.
    plan
        The day's routes (request ids are booking codes).
    bookings
        The confirmed bookings the plan serves.
    version, kpis
        The stored plan version and its KPIs.
    describe
        Stop node -> ``{"id", "name", "lon", "lat"}`` (:meth:`StopCatalog.describe`).
    may_mark_no_show
        Whether a booking's rider may be marked as not turned up now.
    node_of
        Matrix row -> stop node, for the places of drivers' breaks.
    """
    by_code = {b.code: b for b in bookings}
    vehicles = []
    for route in plan.routes:
        stops = []
        breaks = []
        for visit in route.visits:
            if is_break(visit.request_id):
                if visit.kind == "pickup":
                    place = StopPlace.from_json(describe(node_of[visit.location]))
                    breaks.append(BreakTime(visit.service_start, visit.departure, place))
                continue
            b = by_code[visit.request_id]
            node = b.origin_node if visit.kind == "pickup" else b.destination_node
            stops.append(
                PlanStop(
                    kind=visit.kind,
                    code=b.code,
                    rider=b.name,
                    phone=b.phone,
                    note=b.note,
                    people=b.passengers + b.wheelchairs,
                    wheelchairs=b.wheelchairs,
                    stop=StopPlace.from_json(describe(node)),
                    arrival_s=visit.arrival,
                    service_start_s=visit.service_start,
                    departure_s=visit.departure,
                    load=visit.passengers_on_board + visit.wheelchairs_on_board,
                    window_s=(b.window_start_s, b.window_end_s),
                    connection=b.connection if visit.kind == "dropoff" else None,
                    no_show_allowed=visit.kind == "pickup" and may_mark_no_show(b),
                )
            )
        if not stops:
            continue  # breaks alone: the bus has no rides and stays at its depot
        vehicles.append(
            VehicleDay(
                route.vehicle_id, route.departure, route.arrival, tuple(stops), tuple(breaks)
            )
        )
    return DayPlan(day, version, tuple(vehicles), kpis)
