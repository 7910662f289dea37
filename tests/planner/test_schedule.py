"""The exact scheduler of a fixed stop sequence."""

from __future__ import annotations

import numpy as np

from planner.darp.model import Instance, Request, Vehicle
from planner.darp.schedule import StopTable, earliest_schedule


def _line(max_ride: float) -> Instance:
    # depot 0 at x=0, stops at x=10 and x=20; request r0 rides 1 -> 2 (direct 10) but its
    # drop-off window opens at 40: the pickup must wait, not the passenger on board.
    x = np.array([0.0, 10.0, 20.0])
    dist = np.abs(x[:, None] - x[None])
    req = Request("r0", 1, 2, earliest_dropoff=40, latest_dropoff=50, max_ride_time=max_ride)
    return Instance("line", dist, dist, (req,), (Vehicle("v", 0, 0, seats=1),))


def test_pickup_is_delayed_to_respect_ride_time() -> None:
    table = StopTable.from_instance(_line(max_ride=15))
    times = earliest_schedule(table, 0, [0, 1])
    # earliest pickup 10 would mean 30 min on board; delayed to 25 so the ride is 15 (the
    # bus waits before the pickup, not with the passenger on board)
    assert times == [0.0, 25.0, 40.0, 60.0]


def test_infeasible_when_ride_time_cannot_be_met() -> None:
    table = StopTable.from_instance(_line(max_ride=5))
    assert earliest_schedule(table, 0, [0, 1]) is None


def test_route_duration_pushes_departure() -> None:
    inst = _line(max_ride=100)
    veh = Vehicle("v", 0, 0, seats=1, max_route_duration=45)
    inst = Instance("line", inst.travel_times, inst.distances, inst.requests, (veh,))
    times = earliest_schedule(StopTable.from_instance(inst), 0, [0, 1])
    assert times is not None
    assert times[-1] - times[0] <= 45 + 1e-9
