"""One objective: the Python cost, the compiled cost, the plan's cost and the plan choice agree."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from planner.darp.codec import build_plan
from planner.darp.insertion import best_insertion, prepare
from planner.darp.model import Instance, Request, Vehicle
from planner.darp.objective import Objective
from planner.darp.read import read_cordeau
from planner.darp.schedule import StopTable
from planner.darp.search import kernels
from planner.darp.search.construct import regret_insertion
from planner.darp.solve import SolveParams, _best_valid_plan
from planner.errors import InvalidParamsError

OBJECTIVES = [
    Objective(),
    Objective(arc="time", arc_weight=1.0, ride_weight=0.1),
    Objective(arc="distance", arc_weight=2.0, ride_weight=0.7, vehicle_cost=500.0),
]


@pytest.mark.parametrize("objective", OBJECTIVES)
@pytest.mark.parametrize("name", ["a2-16", "a4-24"])
def test_python_compiled_and_plan_costs_are_the_same_number(
    bench_dir: Path, name: str, objective: Objective
) -> None:
    instance = read_cordeau(bench_dir / "darp" / f"{name}.txt")
    table = StopTable.from_instance(instance)
    for seed in range(5):  # different feasible routes, some vehicles left empty
        routes, _ = regret_insertion(table, objective=objective, seed=seed)
        expected = objective.routes_cost(table, routes)
        packed, lengths = kernels.pack(routes, len(table.location))
        compiled = kernels.solution_cost(kernels.arrays(table, objective), packed, lengths)
        plan = build_plan(instance, routes, table=table)
        assert compiled == pytest.approx(expected, rel=1e-12)
        assert objective.plan_cost(instance, plan) == pytest.approx(expected, rel=1e-12)


def test_ride_time_is_priced_from_pickup_departure_to_dropoff_start() -> None:
    # a line 0 - 1 - 2 - 3: depot at 0, a rider from 1 to 3 boarding for 1 and alighting for 1
    coords = np.array([0.0, 1.0, 2.0, 3.0])
    matrix = np.abs(coords[:, None] - coords[None])
    rider = Request("a", 1, 3, pickup_service_time=1.0, dropoff_service_time=1.0)
    instance = Instance("line", matrix, 2 * matrix, (rider,), (Vehicle("v", 0, 0, seats=1),))
    table = StopTable.from_instance(instance)
    # arcs 0->1->3->0 = 6 time (12 distance); ride 2; one vehicle
    assert Objective(arc="time", ride_weight=0.5).routes_cost(table, [[0, 1]]) == 6 + 1
    assert Objective(arc="distance", vehicle_cost=10).routes_cost(table, [[0, 1]]) == 12 + 10
    assert Objective().routes_cost(table, [[]]) == 0


def test_the_plan_choice_follows_the_objective_not_the_distance() -> None:
    """Two buses can take the rider: one from a near depot on a slow road, one from a far
    depot on a fast road. The choice among candidate plans must follow the objective (the
    worker pick once compared distances even when the objective was time)."""
    distance = np.array(
        [
            [0.0, 1.0, 5.0, 9.0],  # 0, 1: the rider's stops
            [1.0, 0.0, 5.0, 9.0],
            [5.0, 5.0, 0.0, 9.0],  # 2: near depot
            [9.0, 9.0, 9.0, 0.0],  # 3: far depot
        ]
    )
    travel = distance.copy()
    travel[2, :2] = travel[:2, 2] = 50.0  # the near depot's road is slow
    instance = Instance(
        "two-depots",
        travel,
        distance,
        (Request("a", 0, 1),),
        (Vehicle("near", 2, 2, seats=1), Vehicle("far", 3, 3, seats=1)),
    )
    table = StopTable.from_instance(instance)
    near, far = [[0, 1], []], [[], [0, 1]]
    by_distance = _best_valid_plan(instance, table, SolveParams(), [near, far], {})
    by_time = _best_valid_plan(
        instance, table, SolveParams(objective=Objective(arc="time")), [near, far], {}
    )
    assert [r.vehicle_id for r in by_distance.routes if r.visits] == ["near"]
    assert [r.vehicle_id for r in by_time.routes if r.visits] == ["far"]


def test_an_insertion_into_an_empty_bus_costs_what_the_objective_says(bench_dir: Path) -> None:
    """With nobody else on board the screen's price is exact: arcs, the new ride and the
    vehicle cost, as the objective prices the route afterwards."""
    instance = read_cordeau(bench_dir / "darp" / "a2-16.txt")
    table = StopTable.from_instance(instance)
    objective = Objective(arc="time", arc_weight=1.5, ride_weight=0.3, vehicle_cost=40.0)
    empty = [[] for _ in instance.vehicles]
    prepared = prepare(table, empty, objective)
    for r in random.Random(1).sample(range(instance.num_requests), 8):
        found = best_insertion(prepared, r)
        assert found is not None
        routes = [list(found.stops) if v == found.vehicle else [] for v in range(len(empty))]
        assert found.added_cost == pytest.approx(objective.routes_cost(table, routes))


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"arc": "co2"}, "arc"), ({"ride_weight": -1.0}, "ride_weight"),
     ({"vehicle_cost": float("inf")}, "vehicle_cost"),
     ({"arc_weight": float("nan")}, "arc_weight")],
)  # fmt: skip
def test_bad_weights_name_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidParamsError) as err:
        Objective(**changes)  # type: ignore[arg-type]
    assert err.value.field == field
