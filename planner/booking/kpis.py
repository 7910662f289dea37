"""Key figures of a day's plan, recomputed from the instance and the timed visits."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from planner.darp.model import Instance, Request
from planner.darp.plan import Plan
from planner.fares import Fare


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else 0.0


def plan_kpis(
    instance: Instance,
    plan: Plan,
    *,
    wish: dict[str, float] | None = None,
    fares: Callable[[Request], Fare | None] | None = None,
) -> dict:
    """Return the day's key figures.

    Parameters
    ----------
    instance
        The day's requests and fleet (travel times in s, distances in m).
    plan
        Its timed routes.
    wish
        Per request id, the time the rider asked to be picked up (for the wait figures);
        the start of the pickup window when not given.
    fares
        The fare of a request (:func:`planner.fares.request_fare` with the service's
        tariff); None when the service has no tariff.

    Returns
    -------
    kpis
        ``requests``, ``served``, ``rejected``, ``vehicles_used``, ``passengers``,
        ``vehicle_hours``, ``vehicle_km``, ``empty_km``, ``passengers_per_vehicle_hour``,
        ``pooling_rate`` (share of passenger-km travelled with another booking on board),
        ``mean_wait_min``/``p95_wait_min`` (pickup after the wish or window start),
        ``mean_ride_min``/``p95_ride_min``, ``mean_detour``/``p95_detour`` (ride over direct
        time), ``mean_occupancy`` (passenger-km per vehicle-km), ``revenue_cents`` (the
        fares of the served bookings, in cents; None without ``fares``: not configured) and
        ``unpriced`` (served bookings without a fare, e.g. beyond the last distance band;
        None without ``fares``).

    Drivers' breaks (the vehicles' own tasks) are no requests here: a bus that only has
    its breaks does not count as used, but the drive to a break place counts as driven.
    """
    requests = {r.id: r for r in instance.requests}
    served = used = 0
    dist = instance.distances
    vehicle_s = vehicle_m = empty_m = 0.0
    pax_m = shared_pax_m = 0.0
    waits, rides, detours = [], [], []
    passengers = 0
    revenue = unpriced = 0
    for route in plan.routes:
        vehicle = next(v for v in instance.vehicles if v.id == route.vehicle_id)
        if all(requests[x.request_id].vehicle_id is not None for x in route.visits):
            continue  # breaks only: the bus stays at its depot
        used += 1
        if route.visits:
            # the bus leaves the depot just in time for its first stop, not at shift start
            first = route.visits[0]
            travel = float(instance.travel_times[vehicle.start_depot, first.location])
            vehicle_s += route.arrival - max(route.departure, first.service_start - travel)
        prev = vehicle.start_depot
        on_board: dict[str, int] = {}
        pickup_done: dict[str, float] = {}
        for visit in route.visits:
            leg = float(dist[prev, visit.location])
            vehicle_m += leg
            if not on_board:
                empty_m += leg
            people = sum(on_board.values())
            pax_m += leg * people
            if len(on_board) >= 2:
                shared_pax_m += leg * people
            req = requests[visit.request_id]
            if req.vehicle_id is not None:  # a break
                prev = visit.location
                continue
            if visit.kind == "pickup":
                served += 1
                on_board[req.id] = req.passengers + req.wheelchairs
                pickup_done[req.id] = visit.departure
                passengers += req.passengers + req.wheelchairs
                fare = fares(req) if fares is not None else None
                revenue += fare.total_cents if fare is not None else 0
                unpriced += fare is None
                start = (wish or {}).get(req.id, req.earliest_pickup)
                waits.append(max(0.0, visit.service_start - start) / 60)
            else:
                on_board.pop(req.id, None)
                ride = visit.service_start - pickup_done[req.id]
                rides.append(ride / 60)
                direct = instance.direct_time(req)
                if direct > 0:
                    detours.append(ride / direct)
            prev = visit.location
        leg = float(dist[prev, vehicle.end_depot])
        vehicle_m += leg
        empty_m += leg
    hours = vehicle_s / 3600
    return {
        "requests": sum(1 for r in instance.requests if r.vehicle_id is None),
        "served": served,
        "rejected": sum(1 for r in plan.rejected if requests[r.request_id].vehicle_id is None),
        "vehicles_used": used,
        "passengers": passengers,
        "vehicle_hours": round(hours, 2),
        "vehicle_km": round(vehicle_m / 1000, 1),
        "empty_km": round(empty_m / 1000, 1),
        "passengers_per_vehicle_hour": round(passengers / hours, 2) if hours else 0.0,
        "pooling_rate": round(shared_pax_m / pax_m, 3) if pax_m else 0.0,
        "mean_wait_min": round(float(np.mean(waits)), 1) if waits else 0.0,
        "p95_wait_min": round(_percentile(waits, 95), 1),
        "mean_ride_min": round(float(np.mean(rides)), 1) if rides else 0.0,
        "p95_ride_min": round(_percentile(rides, 95), 1),
        "mean_detour": round(float(np.mean(detours)), 2) if detours else 0.0,
        "p95_detour": round(_percentile(detours, 95), 2),
        "mean_occupancy": round(pax_m / vehicle_m, 2) if vehicle_m else 0.0,
        "revenue_cents": revenue if fares is not None else None,
        "unpriced": unpriced if fares is not None else None,
    }
