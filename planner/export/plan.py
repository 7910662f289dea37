"""A day's plan (:class:`planner.booking.views.DayPlan`) as files that leave the office.

The formats are GeoJSON, CSV, plain GTFS and anonymous JSON.

No export carries a booking code (it gives the rider's name and phone and allows
cancelling), the rider's name, phone or note. Each booking gets an export-only id instead
(:func:`booking_refs`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import networkx as nx

from planner.booking.views import DayPlan, PlanStop, VehicleDay
from planner.export.csvsafe import csv_text
from planner.export.gtfs_flex import (
    AGENCY_ID,
    BUS,
    FLEX_REQUIRED,
    ROUTE_ID,
    Tables,
    gtfs_frame,
    platform_stops,
    require_agency_url,
)
from planner.service import Service
from planner.stops import StopCatalog
from planner.timefmt import hhmm, hhmmss, whole_minute
from routing.matrix import CSRNetwork, path_geometry, shortest_path

#: What a stop of :func:`anonymous_plan` keeps: timing, place and load; never the booking
#: code, the rider's name, phone or note. A list of what to keep, so that a field added to
#: the day plan later stays in the office.
EXPORT_STOP_KEYS = (
    "kind", "stop", "arrival", "service_start", "departure", "people", "wheelchairs", "load",
    "window", "connection",
)  # fmt: skip


def booking_refs(plan: DayPlan) -> dict[str, str]:
    """Booking code -> export-only id: ``B001``, ``B002``, ...

    The ids are given in the order the bookings first appear in the plan (vehicle by
    vehicle, stop by stop).

    The id links a pickup to its drop-off within one export. It is not derived from the
    code, means nothing outside the export, and cannot look up or cancel a booking.
    """
    refs: dict[str, str] = {}
    for _, stop in plan.stops():
        refs.setdefault(stop.code, f"B{len(refs) + 1:03d}")
    return refs


def anonymous_plan(plan: DayPlan) -> dict[str, Any]:
    """The plan as JSON fit to leave the office (a scenario run's ``plan.json``).

    Each stop keeps only :data:`EXPORT_STOP_KEYS` and gets its export-only ``booking_ref``.
    """
    refs = booking_refs(plan)
    out = plan.to_json()
    for vehicle, typed in zip(out["vehicles"], plan.vehicles, strict=True):
        vehicle["stops"] = [
            {"booking_ref": refs[stop.code], **{k: shown[k] for k in EXPORT_STOP_KEYS}}
            for shown, stop in zip(vehicle["stops"], typed.stops, strict=True)
        ]
    return out


def _stop_points(index: int, vehicle: VehicleDay, refs: Mapping[str, str]) -> list[dict[str, Any]]:
    return [_stop_point(index, vehicle, refs[stop.code], stop) for stop in vehicle.stops]


def _stop_point(index: int, vehicle: VehicleDay, ref: str, stop: PlanStop) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [stop.stop.lon, stop.stop.lat]},
        "properties": {
            "vehicle": vehicle.vehicle_id,
            "index": index,
            "booking_ref": ref,
            "kind": stop.kind,
            "time": hhmm(stop.service_start_s),
            "stop": stop.stop.name,
        },
    }


def _line(index: int, vehicle: VehicleDay, coords: list[list[float]]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": coords},
        "properties": {"vehicle": vehicle.vehicle_id, "index": index},
    }


def plan_geojson(
    plan: DayPlan, graph: nx.MultiDiGraph, csr: CSRNetwork, depots: Mapping[str, int]
) -> dict[str, Any]:
    """The plan as GeoJSON, with each vehicle's route along the network.

    Each vehicle's route from its depot along the network and back is a LineString, and its
    stops are Points with export-only booking ids.

    Parameters
    ----------
    plan
        The day plan.
    graph, csr
        The network and its compressed form.
    depots
        Vehicle id -> depot node.
    """
    refs = booking_refs(plan)
    features = []
    for k, vehicle in enumerate(plan.vehicles):
        depot = depots[vehicle.vehicle_id]
        nodes = [depot, *(s.stop.id for s in vehicle.stops), depot]
        coords: list[list[float]] = []
        for u, v in zip(nodes[:-1], nodes[1:], strict=True):
            if u != v:
                coords += [list(c) for c in path_geometry(graph, shortest_path(csr, u, v)).coords]
        features.append(_line(k, vehicle, coords))
        features += _stop_points(k, vehicle, refs)
    return {"type": "FeatureCollection", "features": features}


def plan_sketch_geojson(plan: DayPlan) -> dict[str, Any]:
    """The plan as GeoJSON without the network (scenario runs).

    Each vehicle's stops are joined by straight lines, and the stops are Points with
    export-only booking ids.
    """
    refs = booking_refs(plan)
    features = []
    for k, vehicle in enumerate(plan.vehicles):
        coords = [[s.stop.lon, s.stop.lat] for s in vehicle.stops]
        if len(coords) >= 2:
            features.append(_line(k, vehicle, coords))
        features += _stop_points(k, vehicle, refs)
    return {"type": "FeatureCollection", "features": features}


PLAN_CSV_COLUMNS = (
    "vehicle", "sequence", "time", "kind", "booking_ref", "stop_id", "stop_name", "lat", "lon",
    "people", "wheelchairs", "load_after", "window", "connection",
)  # fmt: skip


def plan_csv(plan: DayPlan) -> str:
    """The plan as CSV: one row per stop of each vehicle, with export-only booking ids."""
    refs = booking_refs(plan)
    rows = []
    for vehicle in plan.vehicles:
        for k, s in enumerate(vehicle.stops, start=1):
            c = s.connection
            rows.append(
                [vehicle.vehicle_id, k, hhmm(s.service_start_s), s.kind, refs[s.code], s.stop.id,
                 s.stop.name, s.stop.lat, s.stop.lon, s.people, s.wheelchairs, s.load,
                 f"{hhmm(s.window_s[0])}-{hhmm(s.window_s[1])}",
                 f"{c['line']} {c['departure']}" if c else ""]
            )  # fmt: skip
    return csv_text(PLAN_CSV_COLUMNS, rows)


def gtfs_stop_id(catalog: StopCatalog, node: int) -> str:
    """The GTFS stop id of a node: the first of the feed's platforms there, else ``node-<id>``.

    The plan's GTFS export and the GTFS-Realtime feeds (:mod:`planner.export.gtfs_rt`) both
    name stops so.
    """
    ids = catalog.network.graph.nodes[node].get("stop_ids") or f"node-{node}"
    return str(ids).split(";")[0]


def trip_id(day: date, vehicle_id: str) -> str:
    """The GTFS trip id of a vehicle's day (``20261202-BBG-1``), in exports and live feeds."""
    return f"{day:%Y%m%d}-{vehicle_id}"


#: The ``stop_sequence`` of a trip's first stop time (its depot departure).
FIRST_STOP_SEQUENCE = 1


@dataclass(frozen=True, slots=True)
class Visit:
    """One stop time of a vehicle's trip: consecutive calls at one node, merged.

    Attributes
    ----------
    sequence
        Its ``stop_sequence``: from :data:`FIRST_STOP_SEQUENCE` (the depot) up, by one.
    node
        Where.
    calls
        Positions in the trip merged into it: 0 is the depot departure, ``k + 1`` the
        vehicle's ``k``-th planned stop, ``len(stops) + 1`` the depot return.
    """

    sequence: int
    node: int
    calls: tuple[int, ...]

    def stops(self, count: int) -> list[int]:
        """Indices into the vehicle's ``count`` planned stops merged into this visit."""
        return [c - 1 for c in self.calls if 0 < c <= count]


def trip_visits(depot: int, nodes: Sequence[int]) -> list[Visit]:
    """The stop times of a trip from ``depot`` through the stops at ``nodes`` back to it.

    One numbering for the plan's GTFS export and the GTFS-Realtime trip updates
    (:mod:`planner.export.gtfs_rt`), whose ``stop_sequence`` must match the static trip's.
    A stop at the depot right after its departure or before its return merges with it.
    """
    merged: list[tuple[int, list[int]]] = []
    for call, node in enumerate([depot, *nodes, depot]):
        if not merged or merged[-1][0] != node:
            merged.append((node, []))
        merged[-1][1].append(call)
    return [
        Visit(seq, node, tuple(calls))
        for seq, (node, calls) in enumerate(merged, start=FIRST_STOP_SEQUENCE)
    ]


def _trip_stop_times(
    trip: str, vehicle: VehicleDay, depot: int, catalog: StopCatalog
) -> list[dict[str, Any]]:
    """A vehicle's stop times, depot to depot; visits of one stop in a row become one.

    Times are whole minutes, as the dispatchers' plan and the drivers' manifest show them.
    """
    calls: list[tuple[float, float, str | None]] = [
        (vehicle.depart_s, vehicle.depart_s, None),
        *((s.arrival_s, s.departure_s, s.kind) for s in vehicle.stops),
        (vehicle.return_s, vehicle.return_s, None),
    ]
    rows = []
    for visit in trip_visits(depot, [s.stop.id for s in vehicle.stops]):
        own = [calls[c] for c in visit.calls]
        arrival = whole_minute(own[0][0])
        departure = max(whole_minute(d) for _, d, _ in own)
        kinds = {kind for _, _, kind in own}
        rows.append(
            {"trip_id": trip, "arrival_time": hhmmss(arrival),
             "departure_time": hhmmss(max(arrival, departure)),
             "stop_id": gtfs_stop_id(catalog, visit.node), "stop_sequence": visit.sequence,
             "pickup_type": 0 if "pickup" in kinds else 1,
             "drop_off_type": 0 if "dropoff" in kinds else 1, "timepoint": 0}
        )  # fmt: skip
    return rows


def plan_gtfs_tables(
    plan: DayPlan,
    service: Service,
    catalog: StopCatalog,
    depots: Mapping[str, int],
    *,
    agency_url: str = "",
) -> Tables:
    """The plan as plain GTFS: one trip per vehicle, dated by ``calendar_dates.txt``.

    Consecutive visits of one stop become one stop time; the depot opens and closes each
    trip (no boarding there).
    """
    day: date = plan.day
    service_id = f"plan-{day:%Y%m%d}"
    trips, stop_times = [], []
    for vehicle in plan.vehicles:
        if not vehicle.stops:
            continue
        trip = trip_id(day, vehicle.vehicle_id)
        stop_times += _trip_stop_times(trip, vehicle, depots[vehicle.vehicle_id], catalog)
        trips.append({"route_id": ROUTE_ID, "service_id": service_id, "trip_id": trip,
                      "trip_short_name": vehicle.vehicle_id})  # fmt: skip
    url = require_agency_url(service, agency_url)
    nodes = {depots[v.vehicle_id] for v in plan.vehicles if v.stops}
    nodes |= {s.stop.id for _, s in plan.stops()}
    stops = platform_stops(catalog, sorted(nodes))
    stops = stops[stops["stop_id"].isin({gtfs_stop_id(catalog, n) for n in nodes})]
    agency = {"agency_id": AGENCY_ID, "agency_name": service.name, "agency_url": url,
              "agency_timezone": service.timezone}  # fmt: skip
    route = {"route_id": ROUTE_ID, "agency_id": AGENCY_ID, "route_short_name": "Rufbus",
             "route_type": BUS}  # fmt: skip
    return {
        "agency.txt": gtfs_frame([agency], FLEX_REQUIRED["agency.txt"]),
        "routes.txt": gtfs_frame([route], FLEX_REQUIRED["routes.txt"]),
        "calendar_dates.txt": gtfs_frame(
            [{"service_id": service_id, "date": f"{day:%Y%m%d}", "exception_type": 1}],
            ("service_id", "date", "exception_type"),
        ),
        "trips.txt": gtfs_frame(trips, ("route_id", "service_id", "trip_id", "trip_short_name")),
        "stops.txt": stops.reset_index(drop=True),
        "stop_times.txt": gtfs_frame(
            stop_times,
            (
                "trip_id",
                "arrival_time",
                "departure_time",
                "stop_id",
                "stop_sequence",
                "pickup_type",
                "drop_off_type",
                "timepoint",
            ),
        ),  # fmt: skip
    }
