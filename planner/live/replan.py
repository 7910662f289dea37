"""Planning from reality: the day's model as the vehicles' events leave it.

Offers, confirmations and re-optimisation plan on the model of a day
(:class:`planner.darp.model.Instance`). Once buses drive, the model must start where they
really are. :func:`pin` rewrites it from the events:

- the stops already served move to the head of their route, in the order they happened,
  and are pinned to the times they happened: boarding or alighting starts when the bus
  arrived (or, if it stood longer, so that it leaves when it left). Riders on board thus
  keep their vehicle and the rest of their ride-time promise, measured from when they
  really boarded;
- a reported hold-up ("delay" of N minutes) means the bus drives on no earlier than N
  minutes after the report;
- where reality has already made a promise unkeepable (a bus 20 minutes late), the
  promise is widened to the earliest time the bus can still make, so that the day stays
  plannable; the live state flags those bookings for the dispatcher
  (:mod:`planner.live.state`);
- a vehicle out of service (a breakdown) takes nothing new: its shift ends when its current
  route ends.

Everything here is pure; :class:`planner.booking.day.DayStore` calls it when it loads a day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from planner.darp.model import Instance, Request, Vehicle
from planner.live.events import VehicleEvent
from planner.live.state import Happened, happened, held_until

#: seconds of slack on widened promises (the schedule works in float seconds)
SLACK_S = 1.0


@dataclass(frozen=True, slots=True)
class _Stop:
    """One stop of a route while it is pinned: request index and pickup or drop-off."""

    request: int
    pickup: bool

    @property
    def index(self) -> int:
        return 2 * self.request + (0 if self.pickup else 1)


def pin(
    instance: Instance,
    routes: Sequence[Sequence[int]],
    node_of: Sequence[int],
    events: Mapping[str, Sequence[VehicleEvent]],
) -> tuple[Instance, list[list[int]]]:
    """The day's model and routes as the vehicles' events leave them.

    Parameters
    ----------
    instance
        The day's model (request ``r``'s stops are ``2 * r`` and ``2 * r + 1``).
    routes
        Stop sequences per vehicle.
    node_of
        Matrix row -> network node (the events name stops by node).
    events
        Vehicle id -> its events of the day, in time order. Vehicles without events are
        left as planned.

    Returns
    -------
    instance, routes
        The model with pinned, held and widened requests and vehicles, and the routes with
        the served stops first, in the order they were served.
    """
    requests = list(instance.requests)
    vehicles = list(instance.vehicles)
    new_routes = [list(r) for r in routes]
    for v, vehicle in enumerate(instance.vehicles):
        own = events.get(vehicle.id, ())
        if not own or not routes[v]:
            continue
        new_routes[v], vehicles[v] = _pin_route(
            instance, requests, vehicle, routes[v], node_of, own
        )
    return replace(instance, requests=tuple(requests), vehicles=tuple(vehicles)), new_routes


def _pin_route(
    instance: Instance,
    requests: list[Request],
    vehicle: Vehicle,
    route: Sequence[int],
    node_of: Sequence[int],
    events: Sequence[VehicleEvent],
) -> tuple[list[int], Vehicle]:
    """Pin one vehicle's route; ``requests`` are updated in place."""
    stops = [_Stop(s // 2, s % 2 == 0) for s in route]
    facts = _facts(requests, stops, node_of, events)
    served = sorted(
        (k for k, h in enumerate(facts) if h.arrived_s is not None),
        key=lambda k: facts[k].arrived_s or 0.0,
    )
    order = served + [k for k in range(len(stops)) if facts[k].arrived_s is None]
    held = held_until(events)

    travel = instance.travel_times
    row, ready = vehicle.start_depot, vehicle.shift_start
    starts: dict[int, float] = {}
    first_open = True
    for k in order:
        stop, fact = stops[k], facts[k]
        r = requests[stop.request]
        here = r.pickup if stop.pickup else r.dropoff
        service = r.pickup_service_time if stop.pickup else r.dropoff_service_time
        arrival = ready + float(travel[row, here])
        if fact.arrived_s is not None:
            if r.vehicle_id is not None and stop.pickup:
                # a break is taken where the bus is, wherever the plan had put it
                r = replace(r, pickup=row, dropoff=row)
                here = row
            pinned = fact.arrived_s
            if fact.departed_s is not None:
                pinned = max(pinned, fact.departed_s - service)
            start = max(arrival, pinned)
            r = _pinned(r, stop.pickup, pinned, start)
        else:
            earliest = r.earliest_pickup if stop.pickup else r.earliest_dropoff
            if first_open and held is not None:
                earliest = max(earliest, held + float(travel[row, here]))
            first_open = False
            start = max(arrival, earliest)
            r = _earliest(_widened(r, stop.pickup, start), stop.pickup, earliest)
        if not stop.pickup and 2 * stop.request in starts:
            ride = start - starts[2 * stop.request] - r.pickup_service_time
            if ride > r.max_ride_time:
                r = replace(r, max_ride_time=ride + SLACK_S)
        requests[stop.request] = r
        starts[stop.index] = start
        row, ready = here, start + service
    back = ready + float(travel[row, vehicle.end_depot])
    if any(e.kind == "breakdown" for e in events):
        # out of service: the route ends as it is, nothing can be added
        vehicle = replace(vehicle, shift_end=back + SLACK_S)
    elif back > vehicle.shift_end:
        vehicle = replace(vehicle, shift_end=back + SLACK_S)
    if back - vehicle.shift_start > vehicle.max_route_duration:
        vehicle = replace(vehicle, max_route_duration=back - vehicle.shift_start + SLACK_S)
    return [stops[k].index for k in order], vehicle


def _facts(
    requests: Sequence[Request],
    stops: Sequence[_Stop],
    node_of: Sequence[int],
    events: Sequence[VehicleEvent],
) -> list[Happened]:
    """What happened at each stop of a route being pinned.

    Riders' stops from the stop events; breaks from the driver's ``break_start`` and
    ``break_end`` (the k-th break taken is the route's k-th break).
    """
    facts = [Happened() for _ in stops]
    riders = [k for k, s in enumerate(stops) if requests[s.request].vehicle_id is None]
    refs = [
        (requests[stops[k].request].id, "pickup" if stops[k].pickup else "dropoff",
         _node(requests, stops[k], node_of))
        for k in riders
    ]  # fmt: skip
    for k, fact in zip(riders, happened(refs, events), strict=True):
        facts[k] = fact
    taken: list[list[float | None]] = []
    for e in events:
        if e.kind == "break_start" and (not taken or taken[-1][1] is not None):
            taken.append([e.at_s, None])
        elif e.kind == "break_end" and taken and taken[-1][1] is None:
            taken[-1][1] = e.at_s
    rider_set = set(riders)
    breaks = [k for k, s in enumerate(stops) if s.pickup and k not in rider_set]
    for (start, end), k in zip(taken, breaks, strict=False):
        facts[k] = Happened(arrived_s=start, departed_s=end)
        drop = next(j for j, s in enumerate(stops) if s.request == stops[k].request and j != k)
        if end is not None:
            facts[drop] = Happened(arrived_s=end, departed_s=end)
    return facts


def _node(requests: Sequence[Request], stop: _Stop, node_of: Sequence[int]) -> int:
    r = requests[stop.request]
    return node_of[r.pickup if stop.pickup else r.dropoff]


def _pinned(r: Request, pickup: bool, pinned: float, start: float) -> Request:
    """``r`` with a stop that happened at ``pinned`` (the model starts it at ``start``)."""
    if pickup:
        return replace(r, earliest_pickup=pinned, latest_pickup=start + SLACK_S)
    return replace(
        r, earliest_dropoff=pinned, latest_dropoff=max(r.latest_dropoff, start + SLACK_S)
    )


def _earliest(r: Request, pickup: bool, earliest: float) -> Request:
    if pickup:
        return replace(r, earliest_pickup=earliest)
    return replace(r, earliest_dropoff=earliest)


def _widened(r: Request, pickup: bool, start: float) -> Request:
    """``r`` with its stop's latest start widened to ``start`` if reality needs it."""
    if pickup and start > r.latest_pickup:
        return replace(r, latest_pickup=start + SLACK_S)
    if not pickup and start > r.latest_dropoff:
        return replace(r, latest_dropoff=start + SLACK_S)
    return r
