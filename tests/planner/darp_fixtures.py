"""Tiny hand-checkable instances and plans for the planner tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from planner.darp.model import Instance, Request, Vehicle
from planner.darp.plan import Plan, Route, Visit

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures" / "darp"


def tiny_instance(**vehicle_changes: object) -> Instance:
    """Two requests on two axes and two buses; only ``bus1`` takes wheelchairs.

    Locations: 0 depot (0, 0), 1 (0, 10), 2 (0, 20), 3 (10, 0), 4 (20, 0). Request ``a``
    rides 1 -> 2, request ``b`` (a wheelchair user) 3 -> 4; 1 min service; max ride 30.
    """
    coords = np.array([[0, 0], [0, 10], [0, 20], [10, 0], [20, 0]], dtype=float)
    dist = np.sqrt(((coords[:, None] - coords[None]) ** 2).sum(axis=2))
    requests = (
        Request("a", 1, 2, earliest_pickup=0, latest_pickup=100, pickup_service_time=1,
                dropoff_service_time=1, max_ride_time=30),
        Request("b", 3, 4, passengers=0, wheelchairs=1, latest_dropoff=100,
                pickup_service_time=1, dropoff_service_time=1, max_ride_time=30),
    )  # fmt: skip
    bus1 = dict(seats=2, wheelchair_places=1, shift_end=200.0, max_route_duration=150.0)
    bus1.update(vehicle_changes)
    vehicles = (
        Vehicle("bus1", 0, 0, **bus1),  # type: ignore[arg-type]
        Vehicle("bus2", 0, 0, seats=2, shift_end=200.0, max_route_duration=150.0),
    )
    return Instance("tiny", dist, dist, requests, vehicles, time_unit="min")


HYPOT = float(np.hypot(20, 10))  # from (0, 20) to (10, 0)


def tiny_plan() -> Plan:
    """The hand-computed plan: ``bus1`` serves ``a`` then ``b`` (distance 50 + hypot(20, 10)).

    Times: leave 0; a up 10-11; a down 21-22; b up 22+22.36-45.36; b down 55.36-56.36;
    back 76.36.
    """
    t3 = 22 + HYPOT
    visits = (
        Visit("a", "pickup", 1, 10, 10, 11, 1, 0),
        Visit("a", "dropoff", 2, 21, 21, 22, 0, 0),
        Visit("b", "pickup", 3, t3, t3, t3 + 1, 0, 1),
        Visit("b", "dropoff", 4, t3 + 11, t3 + 11, t3 + 12, 0, 0),
    )
    route = Route("bus1", 0.0, visits, t3 + 32)
    total = 50 + HYPOT
    return Plan((route,), (), total, total)
