"""GTFS-Realtime feeds of the on-demand vehicles: where they are, and when they reach their stops.

Built with the ``gtfs-realtime-bindings`` package from the live state
(:mod:`planner.live.state`), so that journey planners can show live on-demand trips. Trip and
stop ids are those of the plan's GTFS export (:func:`planner.export.plan.trip_id`,
:func:`planner.export.plan.gtfs_stop_id`). The feeds name vehicles, stops and times only:
no rider, phone or booking code ever enters them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from google.transit import gtfs_realtime_pb2 as rt

from planner.export.gtfs_flex import ROUTE_ID
from planner.export.plan import trip_id, trip_visits
from planner.live.state import LiveDay, LiveVehicle, StopProgress

#: Seconds of the service day ``day`` -> the aware local date-time (``BookingEngine.local``).
Local = Callable[[date, float], datetime]
#: A stop's node -> its GTFS stop id.
StopId = Callable[[int], str]
#: A planned vehicle -> its depot node, where its trip starts and ends.
DepotOf = Callable[[str], int]
#: A planned vehicle (a bus in one shift, ``BBG-1-S2``) -> the bus itself (``BBG-1``).
BusOf = Callable[[str], str]


def _same(vehicle_id: str) -> str:
    return vehicle_id


def _vehicle(descriptor: rt.VehicleDescriptor, vehicle_id: str, bus_of: BusOf) -> None:
    # the id is the bus, the same all day; the label says which shift drives it
    descriptor.id = bus_of(vehicle_id)
    descriptor.label = vehicle_id


def _header(feed: rt.FeedMessage, now: datetime) -> None:
    feed.header.gtfs_realtime_version = "2.0"
    feed.header.incrementality = rt.FeedHeader.FULL_DATASET
    feed.header.timestamp = int(now.timestamp())


def _trip(descriptor: rt.TripDescriptor, day: date, vehicle_id: str) -> None:
    descriptor.trip_id = trip_id(day, vehicle_id)
    descriptor.route_id = ROUTE_ID
    descriptor.start_date = f"{day:%Y%m%d}"


def _next_stop(vehicle: LiveVehicle) -> StopProgress | None:
    """The stop the vehicle is at or drives to next, if it is on its way."""
    if vehicle.status not in ("on_route", "on_break"):
        return None
    return next((s for s in vehicle.remaining if s.start_s is not None), None)


def vehicle_positions(
    live: LiveDay, day: date, *, local: Local, stop_id: StopId, bus_of: BusOf = _same
) -> bytes:
    """The ``VehiclePositions`` feed: one entity per vehicle with a position on ``day``.

    Each carries the vehicle id, its last fix and when it was taken (POSIX seconds), its
    trip of the day and, while it is on its way, the next stop and whether it is there.
    """
    feed = rt.FeedMessage()
    _header(feed, local(day, live.now_s))
    for v in live.vehicles:
        if v.position is None:
            continue
        entity = feed.entity.add()
        entity.id = f"position-{v.vehicle_id}"
        position = entity.vehicle
        if v.stops:
            _trip(position.trip, day, v.vehicle_id)
        _vehicle(position.vehicle, v.vehicle_id, bus_of)
        position.position.latitude = v.position.lat
        position.position.longitude = v.position.lon
        position.timestamp = int(local(day, v.position.at_s).timestamp())
        nxt = _next_stop(v)
        if nxt is not None:
            position.stop_id = stop_id(nxt.stop.stop.id)
            position.current_status = (
                rt.VehiclePosition.STOPPED_AT
                if nxt.arrived_s is not None
                else rt.VehiclePosition.IN_TRANSIT_TO
            )
    return feed.SerializeToString()


def trip_updates(
    live: LiveDay,
    day: date,
    *,
    local: Local,
    stop_id: StopId,
    depot_of: DepotOf,
    bus_of: BusOf = _same,
) -> bytes:
    """The ``TripUpdates`` feed: per vehicle with stops left on ``day``, its trip.

    Every remaining visit (consecutive stops at one place are one visit, as in the plan's
    GTFS export) gets its estimated arrival in POSIX seconds; a visit that will not be
    driven (vehicle out of service, rider who did not turn up) is ``SKIPPED``.

    Each update carries its visit's ``stop_sequence``, as the spec asks where a trip may
    call at one stop twice (a bus passes its depot or a station more than once). The
    numbers are those of the trip's ``stop_times.txt`` in the plan's GTFS export
    (:func:`planner.export.plan.trip_visits`): 1-based, the depot departure 1, so that a
    consumer holding the static trip matches them; they rise strictly along the trip.
    """
    feed = rt.FeedMessage()
    now = local(day, live.now_s)
    _header(feed, now)
    for v in live.vehicles:
        visits = _visits(v, depot_of(v.vehicle_id))
        if not visits:
            continue
        entity = feed.entity.add()
        entity.id = f"trip-{v.vehicle_id}"
        update = entity.trip_update
        _trip(update.trip, day, v.vehicle_id)
        _vehicle(update.vehicle, v.vehicle_id, bus_of)
        update.timestamp = int(now.timestamp())
        delay = round(v.delay_s)
        if delay:
            update.delay = delay
        for sequence, node, start_s in visits:
            stu = update.stop_time_update.add()
            stu.stop_sequence = sequence
            stu.stop_id = stop_id(node)
            if start_s is None:
                stu.schedule_relationship = rt.TripUpdate.StopTimeUpdate.SKIPPED
            else:
                stu.arrival.time = int(local(day, start_s).timestamp())
    return feed.SerializeToString()


def _visits(vehicle: LiveVehicle, depot: int) -> list[tuple[int, int, float | None]]:
    """``(stop_sequence, node, estimated start)`` of the trip's visits with stops left.

    A visit's estimate is its first served remaining stop's; None if none of them is served.
    """
    stops = vehicle.stops
    out: list[tuple[int, int, float | None]] = []
    for visit in trip_visits(depot, [s.stop.stop.id for s in stops]):
        left = [stops[k] for k in visit.stops(len(stops)) if not stops[k].done]
        if left:
            start = next((s.start_s for s in left if s.start_s is not None), None)
            out.append((visit.sequence, visit.node, start))
    return out
