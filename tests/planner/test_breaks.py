"""Drivers' breaks: the rule's windows, the planner placing them, the validator checking them."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from planner.darp.breaks import BreakRule, break_requests, break_slots, is_break
from planner.darp.model import Instance, Request, Vehicle
from planner.darp.plan import Plan, Route
from planner.darp.solve import SolveParams, solve
from planner.darp.validate import validate

H = 3600.0
RULE = BreakRule()  # ArbZG §4


def stretches(route: Route, vehicle: Vehicle) -> list[float]:
    """The driver's stretches of work in a timed route, computed from the visits alone."""
    edges = [vehicle.shift_start]
    for visit in route.visits:
        if is_break(visit.request_id) and visit.kind == "pickup":
            edges += [visit.service_start, visit.departure]
    edges.append(vehicle.shift_end)
    return [edges[k + 1] - edges[k] for k in range(0, len(edges), 2)]


@pytest.mark.parametrize("hours", [5.0, 6.0, 6.5, 9.0, 9.5, 12.0, 18.0])
def test_every_placement_inside_the_windows_keeps_the_stretches_legal(hours: float) -> None:
    slots = break_slots(6 * H, 6 * H + hours * H, RULE)
    assert (len(slots) == 0) == (hours <= 6)
    total = sum(s.duration for s in slots)
    work = hours * H - total
    if work > 9 * H:
        assert total >= 45 * 60
    elif work > 6 * H:
        assert total >= 30 * 60
    # the worst cases: every break at the start or the end of its window, or alternating
    for pick in (lambda s: s.earliest, lambda s: s.latest, lambda s: (s.earliest + s.latest) / 2):
        edges = [6 * H]
        for s in slots:
            edges += [pick(s), pick(s) + s.duration]
        edges.append(6 * H + hours * H)
        assert all(edges[k + 1] - edges[k] <= 6 * H + 1e-9 for k in range(0, len(edges), 2))
    for a, b in zip(slots, slots[1:], strict=False):
        assert a.latest + a.duration <= b.latest


def _line_day(num_riders: int = 30, seed: int = 3) -> Instance:
    """One bus on a 12-hour shift along a line of stops; riders all day, some at noon."""
    x = np.arange(11.0)  # km along the line; 0 is the depot
    dist = np.abs(x[:, None] - x[None]) * 1000.0
    travel = dist * 0.06  # 60 km/h
    rng = np.random.default_rng(seed)
    requests = []
    for k in range(num_riders):
        a, b = rng.choice(np.arange(1, 11), size=2, replace=False)
        start = 6 * H + (k / num_riders) * 11 * H
        requests.append(
            Request(f"r{k}", int(a), int(b), earliest_pickup=start, latest_pickup=start + 900,
                    pickup_service_time=60, dropoff_service_time=60,
                    max_ride_time=1.5 * float(travel[a, b]) + 600)
        )  # fmt: skip
    bus = Vehicle("bus", 0, 0, seats=4, wheelchair_places=1, shift_start=6 * H, shift_end=18 * H)
    requests += break_requests(bus, RULE)
    return Instance("line", travel, dist, tuple(requests), (bus,))


def test_the_planner_places_breaks_and_plans_riders_around_them() -> None:
    instance = _line_day()
    bus = instance.vehicles[0]
    assert [r.id for r in instance.requests if is_break(r.id)] == ["break:bus:1", "break:bus:2"]
    plan = solve(instance, params=SolveParams(time_limit=2.0, workers=1))
    assert validate(instance, plan) == []
    (route,) = plan.routes
    breaks = [v for v in route.visits if is_break(v.request_id)]
    assert [v.kind for v in breaks] == ["pickup", "dropoff"] * 2
    assert all(s <= 6 * H + 1e-6 for s in stretches(route, bus))
    for visit in breaks[::2]:  # nobody on board: the break is the whole load
        assert (visit.passengers_on_board, visit.wheelchairs_on_board) == (4, 1)
        assert visit.departure - visit.service_start >= 30 * 60
    # riders are still served: the breaks cost at most the riders whose windows they cover
    assert plan.num_served >= 2 + 27


def test_the_validator_refuses_a_plan_without_its_break_or_with_it_on_another_bus() -> None:
    instance = _line_day(num_riders=4)
    plan = solve(instance, params=SolveParams(time_limit=1.0, workers=1))
    assert validate(instance, plan) == []
    (route,) = plan.routes
    without = dataclasses.replace(
        route, visits=tuple(v for v in route.visits if v.request_id != "break:bus:2")
    )
    left_out = Plan((without,), (*plan.rejected, *[]), plan.distance, plan.travel_time)
    kinds = {v.kind for v in validate(instance, left_out)}
    assert "unserved" in kinds or "vehicle_task" in kinds
    from planner.darp.plan import Rejection

    rejected = Plan(
        (without,), (Rejection("break:bus:2", "no room"),), plan.distance, plan.travel_time
    )
    assert "vehicle_task" in {v.kind for v in validate(instance, rejected)}
    other = Vehicle(
        "other", 0, 0, seats=4, wheelchair_places=1, shift_start=6 * H, shift_end=18 * H
    )
    two = dataclasses.replace(instance, vehicles=(*instance.vehicles, other))
    moved = Plan(
        (dataclasses.replace(route, vehicle_id="other"),),
        plan.rejected,
        plan.distance,
        plan.travel_time,
    )
    assert "vehicle_task" in {v.kind for v in validate(two, moved)}


def test_a_rider_on_board_across_a_break_is_refused_by_the_validator() -> None:
    instance = _line_day(num_riders=0)
    rider = Request("x", 1, 10, earliest_pickup=11 * H, latest_pickup=12 * H, max_ride_time=4 * H)
    instance = dataclasses.replace(instance, requests=(rider, *instance.requests))
    plan = solve(instance, params=SolveParams(time_limit=1.0, workers=1))
    assert validate(instance, plan) == []
    (route,) = plan.routes
    order = [(v.request_id, v.kind) for v in route.visits]
    up, down = order.index(("x", "pickup")), order.index(("x", "dropoff"))
    brk = order.index(("break:bus:1", "pickup"))
    assert not up < brk < down  # the planner never carries a rider through a break
