"""Timing of a fixed stop sequence: the earliest schedule that meets every time constraint.

For a fixed order of stops, the time constraints of the dial-a-ride problem are all
difference constraints on the service start times ``B``:

* travel: ``B[k+1] >= B[k] + service[k] + travel(k, k+1)`` (waiting is allowed),
* windows: ``earliest[k] <= B[k] <= latest[k]``,
* ride time: ``B[drop] - (B[pick] + service[pick]) <= max_ride``, i.e.
  ``B[pick] >= B[drop] - max_ride - service[pick]``,
* route duration: ``B[end] - B[start] <= max_route_duration``.

The least solution of such a system is its longest-path solution. :func:`earliest_schedule`
computes it by label correcting (forward passes plus the backward ride-time and duration
constraints, Bellman-Ford style); the sequence is feasible exactly when the least solution
meets every ``latest`` bound. Pickups are therefore delayed only as much as the ride-time
and duration limits require, which is the exact counterpart of the forward-time-slack
procedure of Cordeau & Laporte (2003).

Stops are numbered ``2 * r`` (pickup of request ``r``) and ``2 * r + 1`` (its drop-off).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from planner.darp.model import Instance, Request

EPS = 1e-9


@dataclass(frozen=True, slots=True)
class StopTable:
    """Flat per-stop arrays of an instance, as Python lists for fast scalar access.

    The matrices are also kept as (read-only) numpy arrays for vectorised evaluation.
    """

    location: list[int]
    earliest: list[float]
    latest: list[float]
    service: list[float]
    passengers: list[int]
    wheelchairs: list[int]
    max_ride: list[float]
    travel: list[list[float]]
    distance: list[list[float]]
    start: list[int]
    end: list[int]
    shift_start: list[float]
    shift_end: list[float]
    max_duration: list[float]
    seats: list[int]
    wheelchair_places: list[int]
    travel_matrix: np.ndarray
    distance_matrix: np.ndarray
    #: per request, the only vehicle that may serve it (a driver's break), or -1 for any
    only_vehicle: list[int] = field(default_factory=list)

    @classmethod
    def from_instance(
        cls,
        instance: Instance,
        *,
        matrices: tuple[list[list[float]], list[list[float]]] | None = None,
    ) -> StopTable:
        """Flatten an instance; stop ``2r`` is the pickup and ``2r+1`` the drop-off of ``r``.

        ``matrices`` may hand over the travel-time and distance matrices already as lists
        (callers that build many instances over the same matrices save the conversion).
        """
        vehicles = instance.vehicles
        index = {v.id: k for k, v in enumerate(vehicles)}
        only = [-1 if r.vehicle_id is None else index[r.vehicle_id] for r in instance.requests]
        return cls(
            *_stop_lists(instance.requests),
            travel=matrices[0] if matrices else instance.travel_times.tolist(),
            distance=matrices[1] if matrices else instance.distances.tolist(),
            start=[v.start_depot for v in vehicles],
            end=[v.end_depot for v in vehicles],
            shift_start=[v.shift_start for v in vehicles],
            shift_end=[v.shift_end for v in vehicles],
            max_duration=[v.max_route_duration for v in vehicles],
            seats=[v.seats for v in vehicles],
            wheelchair_places=[v.wheelchair_places for v in vehicles],
            travel_matrix=instance.travel_times,
            distance_matrix=instance.distances,
            only_vehicle=only,
        )

    def with_requests(self, requests: Sequence[Request]) -> StopTable:
        """The table with the stops of ``requests`` appended (numbered after its own).

        The appended requests are open to every vehicle (riders, not vehicles' own tasks).
        """
        if any(r.vehicle_id is not None for r in requests):
            raise ValueError("vehicles' own tasks belong in the instance, not appended")
        location, earliest, latest, service, pas, wch, ride = _stop_lists(requests)
        return replace(
            self,
            location=self.location + location,
            earliest=self.earliest + earliest,
            latest=self.latest + latest,
            service=self.service + service,
            passengers=self.passengers + pas,
            wheelchairs=self.wheelchairs + wch,
            max_ride=self.max_ride + ride,
            only_vehicle=self.only_vehicle + [-1] * len(requests),
        )

    def loads_fit(self, vehicle: int, stops: list[int]) -> bool:
        """Return whether seats and wheelchair places suffice along the sequence."""
        seats, places = self.seats[vehicle], self.wheelchair_places[vehicle]
        pas = wch = 0
        for s in stops:
            pas += self.passengers[s]
            wch += self.wheelchairs[s]
            if pas > seats or wch > places:
                return False
        return True

    def route_distance(self, vehicle: int, stops: list[int]) -> float:
        """Return the distance driven from the start depot through ``stops`` to the end."""
        if not stops:
            return 0.0
        dist, loc = self.distance, self.location
        prev = self.start[vehicle]
        total = 0.0
        for s in stops:
            total += dist[prev][loc[s]]
            prev = loc[s]
        return total + dist[prev][self.end[vehicle]]


def _stop_lists(
    requests: Sequence[Request],
) -> tuple[list[int], list[float], list[float], list[float], list[int], list[int], list[float]]:
    """Per stop and request, the fields of a :class:`StopTable` that requests give.

    Per stop: location, earliest, latest, service, signed passengers and wheelchairs; per
    request: the maximum ride time.
    """
    location: list[int] = []
    earliest: list[float] = []
    latest: list[float] = []
    service: list[float] = []
    pas: list[int] = []
    wch: list[int] = []
    ride: list[float] = []
    for req in requests:
        location += [req.pickup, req.dropoff]
        earliest += [req.earliest_pickup, req.earliest_dropoff]
        latest += [req.latest_pickup, req.latest_dropoff]
        service += [req.pickup_service_time, req.dropoff_service_time]
        pas += [req.passengers, -req.passengers]
        wch += [req.wheelchairs, -req.wheelchairs]
        ride.append(req.max_ride_time)
    return location, earliest, latest, service, pas, wch, ride


def earliest_schedule(table: StopTable, vehicle: int, stops: list[int]) -> list[float] | None:
    """Return the least feasible service start times, or ``None`` if there are none.

    Parameters
    ----------
    table
        The instance's stop table.
    vehicle
        Index of the vehicle driving the sequence.
    stops
        Stop numbers in visiting order, without depots. A drop-off whose pickup is not in
        the sequence has no ride-time constraint (the passenger is already on board).

    Returns
    -------
    times
        ``len(stops) + 2`` start times: the depot departure, each stop, the depot return.
        ``None`` if no schedule meets the windows, ride times and route duration.
    """
    loc, travel, svc_of = table.location, table.travel, table.service
    earliest_of, latest_of, max_ride = table.earliest, table.latest, table.max_ride
    lo_shift, hi_shift = table.shift_start[vehicle], table.shift_end[vehicle]
    m = len(stops)
    times = [lo_shift] * (m + 2)
    latest = [hi_shift] * (m + 2)
    arc = [0.0] * (m + 1)  # B[k + 1] >= B[k] + arc[k]
    backward = []  # (pickup position, drop-off position, limit on B[drop] - B[pick])
    pickup_at: dict[int, int] = {}
    prev_loc, prev_svc = table.start[vehicle], 0.0
    for k, s in enumerate(stops, 1):
        here = loc[s]
        arc[k - 1] = travel[prev_loc][here] + prev_svc
        times[k] = earliest_of[s]
        latest[k] = latest_of[s]
        if s & 1:
            i = pickup_at.get(s - 1)
            if i is not None:
                backward.append((i, k, max_ride[s >> 1] + svc_of[s - 1]))
        else:
            pickup_at[s] = k
        prev_loc, prev_svc = here, svc_of[s]
    arc[m] = travel[prev_loc][table.end[vehicle]] + prev_svc
    max_duration = table.max_duration[vehicle]
    for _ in range(m + 3):
        if times[0] > latest[0] + EPS:
            return None
        for k in range(m + 1):
            t = times[k] + arc[k]
            if t > times[k + 1]:
                times[k + 1] = t
            if times[k + 1] > latest[k + 1] + EPS:
                return None
        changed = False
        for i, j, limit in backward:
            need = times[j] - limit
            if need > times[i] + EPS:
                times[i] = need
                changed = True
        need = times[m + 1] - max_duration
        if need > times[0] + EPS:
            times[0] = need
            changed = True
        if not changed:
            return times
    return None
