"""The one insertion screen (compiled) against brute force on real dial-a-ride instances."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from planner.darp.codec import build_plan
from planner.darp.insertion import (
    PreparedRoutes,
    Repair,
    best_insertion,
    held_repair,
    prepare,
    repair_insertion,
)
from planner.darp.model import Instance, Request, Vehicle
from planner.darp.objective import Objective
from planner.darp.read import read_cordeau
from planner.darp.schedule import StopTable, earliest_schedule
from planner.darp.validate import validate

TIME = Objective(arc="time")


def prepared_with_head(table: StopTable, route: list[int], first: int) -> PreparedRoutes:
    """One route whose first ``first`` stops stay at its head."""
    times = earliest_schedule(table, 0, route)
    assert times is not None
    fixed_before = times[first] + 1e-3 if first else -1.0
    prepared = prepare(table, [route], TIME, fixed_before=fixed_before)
    assert prepared.fixed(0) == route[:first]
    return prepared


def route_time(table: StopTable, path: list[int]) -> float:
    return sum(table.travel[a][b] for a, b in zip(path[:-1], path[1:], strict=True))


def brute_force_cost(table: StopTable, routes: list[list[int]], r: int) -> float | None:
    """The cheapest exactly feasible insertion of request ``r`` over all positions."""
    best = None
    for v, stops in enumerate(routes):
        locs = [table.location[s] for s in stops]
        for i in range(len(stops) + 1):
            for j in range(i, len(stops) + 1):
                new = stops[:i] + [2 * r] + stops[i:j] + [2 * r + 1] + stops[j:]
                if earliest_schedule(table, v, new) is None or not table.loads_fit(v, new):
                    continue
                old = [table.start[v], *locs, table.end[v]]
                path = [table.start[v], *(table.location[s] for s in new), table.end[v]]
                cost = route_time(table, path) - route_time(table, old)
                best = cost if best is None else min(best, cost)
    return best


@pytest.mark.parametrize("name", ["a2-16", "a4-24", "pr01"])
def test_sequential_insertion_is_feasible_and_rarely_misses(bench_dir: Path, name: str) -> None:
    instance = read_cordeau(bench_dir / "darp" / f"{name}.txt")
    table = StopTable.from_instance(instance)
    routes: list[list[int]] = [[] for _ in instance.vehicles]
    order = list(range(instance.num_requests))
    random.Random(0).shuffle(order)
    missed = optimal = 0
    for r in order:
        found = best_insertion(prepare(table, routes, TIME), r)
        reference = brute_force_cost(table, routes, r)
        if found is None:
            missed += reference is not None
            continue
        assert reference is not None  # whatever is found is exactly feasible
        assert found.added_cost >= reference - 1e-6
        assert earliest_schedule(table, found.vehicle, list(found.stops)) == list(found.times)
        optimal += abs(found.added_cost - reference) < 1e-6
        routes[found.vehicle] = list(found.stops)
    # the O(1) screen is a heuristic, but on these instances it never loses a request
    assert missed == 0
    assert optimal >= 0.6 * len(order)
    plan = build_plan(instance, routes, table=table)
    served = {v.request_id for route in plan.routes for v in route.visits}
    assert [v for v in validate(instance, plan) if v.request_id in served] == []


def test_frozen_prefix_is_never_preceded(bench_dir: Path) -> None:
    """Stops already served (or too soon to move) keep their place at the head of the route:
    a new request goes after them even where going before would be cheaper."""
    instance = read_cordeau(bench_dir / "darp" / "a2-16.txt")
    instance = replace(instance, vehicles=instance.vehicles[:1])
    table = StopTable.from_instance(instance)
    route = [16, 17, 0, 1]  # request 8 (pickup window 4:36-4:51 h), then request 0
    # unfrozen, request 7 is cheapest picked up before request 8
    free = best_insertion(prepare(table, [route], TIME), 7)
    assert free is not None and free.stops.index(14) < free.stops.index(16)
    for first in (1, 2):
        kept = best_insertion(prepared_with_head(table, route, first), 7)
        assert kept is not None and kept.stops[:first] == tuple(route[:first])
        assert kept.added_cost > free.added_cost  # the cheaper place was refused
    # no request is ever put before a frozen prefix (requests fit after the first two stops;
    # after request 0's pickup, at the end of the day, none does)
    for first in range(1, len(route) + 1):
        prepared = prepared_with_head(table, route, first)
        inserted = [
            ins
            for r in range(instance.num_requests)
            if r not in (0, 8) and (ins := best_insertion(prepared, r)) is not None
        ]
        assert bool(inserted) is (first <= 2), first
        assert all(ins.stops[:first] == tuple(route[:first]) for ins in inserted)


def test_waiting_for_the_first_rider_does_not_count_against_the_route_duration() -> None:
    """A bus with a 63-minute duty limit, empty from 05:00, can take a 10:00 rider on a
    58-minute round trip by leaving the depot later (the exact schedule finds it; the screen
    used to count the wait from 05:00 to 10:00 as duty and refuse)."""
    travel = np.array([[0.0, 1680.0], [1680.0, 0.0]])
    rider = Request(
        "a",
        0,
        1,
        passengers=1,
        earliest_pickup=36000,
        latest_pickup=36900,
        pickup_service_time=60,
        dropoff_service_time=60,
        max_ride_time=3120,
    )
    bus = Vehicle("bus", 0, 0, seats=8, shift_start=18000, shift_end=82800,
                  max_route_duration=63 * 60)  # fmt: skip
    instance = Instance("duty", travel, travel, (rider,), (bus,))
    table = StopTable.from_instance(instance)
    found = best_insertion(prepare(table, [[]], TIME), 0)
    assert found is not None and found.stops == (0, 1)
    assert found.times[-1] - found.times[0] <= 63 * 60
    tighter = replace(bus, max_route_duration=57 * 60)  # shorter than the round trip
    table = StopTable.from_instance(replace(instance, vehicles=(tighter,)))
    assert best_insertion(prepare(table, [[]], TIME), 0) is None


def fill_two_buses(
    bench_dir: Path, on_refusal: Callable[[PreparedRoutes, int], Repair | None]
) -> tuple[Instance, StopTable, list[list[int]], list[int], int]:
    """Requests of a4-24 inserted one by one into two of its four vehicles; where the screen
    finds no gap, ``on_refusal`` may place the request. Returns the instance, its table, the
    routes, the placed requests and how many ``on_refusal`` placed."""
    full = read_cordeau(bench_dir / "darp" / "a4-24.txt")
    instance = replace(full, vehicles=full.vehicles[:2])
    table = StopTable.from_instance(instance)
    routes: list[list[int]] = [[] for _ in instance.vehicles]
    order = list(range(instance.num_requests))
    random.Random(0).shuffle(order)
    placed: list[int] = []
    repaired = 0
    for r in order:
        held_until = 60.0 if placed else -1.0  # the first stops of the day may not move
        prepared = prepare(table, routes, TIME, fixed_before=held_until)
        if (found := best_insertion(prepared, r)) is not None:
            routes[found.vehicle] = list(found.stops)
            placed.append(r)
        elif (repair := on_refusal(prepared, r)) is not None:
            routes = [list(repair.routes.get(v, routes[v])) for v in range(len(routes))]
            placed.append(r)
            repaired += 1
    return instance, table, routes, placed, repaired


def test_a_repair_makes_room_where_no_gap_fits_and_loses_no_one(bench_dir: Path) -> None:
    """Where the screen finds no gap, the repair re-plans the routes around the request.
    Every request placed before stays placed exactly once, the held heads stay, the new
    route's schedule is exact, and the plan is valid; and it places more than the screen."""
    checked = []

    def repair_and_check(prepared: PreparedRoutes, r: int) -> Repair | None:
        repair = repair_insertion(prepared, r, TIME, time_limit=1.0, seed=0)
        if repair is not None:
            vehicles = range(len(prepared.lengths))
            new = [list(repair.routes.get(v, prepared.route(v))) for v in vehicles]
            for v in vehicles:
                assert new[v][: int(prepared.first[v])] == prepared.fixed(v)
            before = [s for v in vehicles for s in prepared.route(v)] + [2 * r, 2 * r + 1]
            assert sorted(s for route in new for s in route) == sorted(before)
            v = repair.insertion.vehicle
            assert list(repair.insertion.stops) == new[v]
            assert earliest_schedule(prepared.table, v, new[v]) == list(repair.insertion.times)
            checked.append(r)
        return repair

    instance, table, routes, placed, repaired = fill_two_buses(bench_dir, repair_and_check)
    _, _, _, screen_only, _ = fill_two_buses(bench_dir, lambda prepared, r: None)
    assert repaired == len(checked) >= 1
    assert len(placed) > len(screen_only) and len(placed) < instance.num_requests
    plan = build_plan(instance, routes, table=table)
    served = {v.request_id for route in plan.routes for v in route.visits}
    assert len(served) == len(placed)
    assert [v for v in validate(instance, plan) if v.request_id in served] == []


def test_a_held_repair_is_used_only_while_it_fits_the_day(bench_dir: Path) -> None:
    """An offer holds its repair until the rider confirms. If the day moved on meanwhile (a
    booking the held routes do not know, or stops now held at a route's head), it is not
    used: nobody is dropped and nothing held is moved."""
    found: list[tuple[PreparedRoutes, int, Repair]] = []

    def keep_first(prepared: PreparedRoutes, r: int) -> Repair | None:
        repair = repair_insertion(prepared, r, TIME, time_limit=1.0, seed=0)
        if repair is not None and not found:
            found.append((prepared, r, repair))
        return repair

    fill_two_buses(bench_dir, keep_first)
    prepared, r, repair = found[0]
    again = held_repair(prepared, r, repair.routes)
    assert again is not None and again.routes == repair.routes
    held, made = again.insertion, repair.insertion
    assert (held.vehicle, held.stops, held.times) == (made.vehicle, made.stops, made.times)
    # a booking made after the offer is in the day but not in the held routes
    v, stops = next((v, s) for v, s in repair.routes.items() if any(x >> 1 != r for x in s))
    other = next(x >> 1 for x in stops if x >> 1 != r)
    lost = {**repair.routes, v: tuple(x for x in stops if x >> 1 != other)}
    assert held_repair(prepared, r, lost) is None
    # every stop of the day is now held where it is: the held routes would move them
    routes = [prepared.route(u) for u in range(len(prepared.lengths))]
    frozen = prepare(prepared.table, routes, TIME, fixed_before=1e9)
    assert held_repair(frozen, r, repair.routes) is None
