"""VROOM (pyvroom) as a peer solver for pickup-and-delivery benchmarks (no ride times).

VROOM works on integer matrices: times are scaled by ``scale`` and rounded up, so its
routes stay feasible when re-timed in floating point by :func:`planner.darp.codec.build_plan`.
"""

from __future__ import annotations

import numpy as np

from planner.darp.codec import build_plan
from planner.darp.model import Instance
from planner.darp.plan import Plan
from planner.darp.schedule import StopTable


def solve_vroom(
    instance: Instance,
    *,
    scale: float = 100.0,
    vehicle_fixed_cost: float = 0.0,
    exploration_level: int = 5,
    threads: int = 1,
) -> Plan:
    """Solve a pickup-and-delivery instance with VROOM.

    Parameters
    ----------
    instance
        The problem; ride-time and route-duration limits are not passed to VROOM.
    scale
        Integer units per instance time unit.
    vehicle_fixed_cost
        Cost of using a vehicle, in distance units.
    exploration_level
        VROOM's search effort (1-5).
    threads
        Threads VROOM may use.

    Returns
    -------
    plan
        VROOM's routes, re-timed and assembled like the planner's own.
    """
    import vroom  # optional dependency (dev extra)

    inp = vroom.Input()
    durations = np.ceil(instance.travel_times * scale - 1e-6).astype(np.uint32)
    costs = np.round(instance.distances * scale).astype(np.uint32)
    inp.set_durations_matrix(profile="car", matrix_input=durations)
    inp.set_costs_matrix(profile="car", matrix_input=costs)

    def window(lo: float, hi: float) -> list[vroom.TimeWindow]:
        hi_int = int(np.floor(hi * scale + 1e-6)) if np.isfinite(hi) else 2**31 - 1
        return [vroom.TimeWindow(int(np.ceil(lo * scale - 1e-6)), hi_int)]

    for k, veh in enumerate(instance.vehicles):
        inp.add_vehicle(
            vroom.Vehicle(
                id=k,
                start=veh.start_depot,
                end=veh.end_depot,
                capacity=vroom.Amount([veh.seats]),
                time_window=window(veh.shift_start, veh.shift_end)[0],
                costs=vroom.VehicleCosts(fixed=round(vehicle_fixed_cost * scale)),
            )
        )
    for r, req in enumerate(instance.requests):
        inp.add_shipment(
            vroom.ShipmentStep(
                id=2 * r,
                location=req.pickup,
                default_service=round(req.pickup_service_time * scale),
                time_windows=window(req.earliest_pickup, req.latest_pickup),
            ),
            vroom.ShipmentStep(
                id=2 * r + 1,
                location=req.dropoff,
                default_service=round(req.dropoff_service_time * scale),
                time_windows=window(req.earliest_dropoff, req.latest_dropoff),
            ),
            amount=vroom.Amount([req.passengers]),
        )
    solution = inp.solve(exploration_level=exploration_level, nb_threads=threads)
    routes: list[list[int]] = [[] for _ in instance.vehicles]
    steps = solution.routes
    for vehicle_id, kind, stop in zip(steps["vehicle_id"], steps["type"], steps["id"], strict=True):
        if kind in ("pickup", "delivery"):
            routes[int(vehicle_id)].append(int(stop))
    return build_plan(instance, routes, table=StopTable.from_instance(instance))
