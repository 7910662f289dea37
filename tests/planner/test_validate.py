"""The independent validator: a clean plan passes, each broken constraint is named."""

from __future__ import annotations

import dataclasses

import pytest
from darp_fixtures import HYPOT, tiny_instance, tiny_plan

from planner.darp.plan import Plan, Rejection, Route
from planner.darp.validate import check, validate
from planner.errors import InvalidPlanError

T3 = 22 + HYPOT


def _visits(plan: Plan, index: int, **changes: object) -> Plan:
    route = plan.routes[0]
    visits = list(route.visits)
    visits[index] = dataclasses.replace(visits[index], **changes)
    return dataclasses.replace(plan, routes=(dataclasses.replace(route, visits=tuple(visits)),))


def _drop(plan: Plan, *keep: int) -> Plan:
    route = plan.routes[0]
    visits = tuple(v for k, v in enumerate(route.visits) if k in keep)
    return dataclasses.replace(plan, routes=(dataclasses.replace(route, visits=visits),))


def test_hand_made_plan_is_valid() -> None:
    assert validate(tiny_instance(), tiny_plan()) == []
    check(tiny_instance(), tiny_plan())


def _request_change(name: str, **changes: object):
    inst = tiny_instance()
    req = dataclasses.replace(inst.requests[0], **changes)
    return dataclasses.replace(inst, requests=(req, inst.requests[1]))


CASES = [
    (
        "travel_time",
        tiny_instance(),
        _visits(tiny_plan(), 0, arrival=5.0),
        "vehicle bus1: arrives at pickup of a at 5.0000, earliest possible 10.0000",
    ),
    (
        "service_start",
        tiny_instance(),
        _visits(tiny_plan(), 0, service_start=9.5),
        "request a: pickup service starts 9.5000 before arrival 10.0000",
    ),
    (
        "departure",
        tiny_instance(),
        _visits(tiny_plan(), 0, departure=10.5),
        "request a: leaves pickup at 10.5000, service ends 11.0000",
    ),
    (
        "time_window",
        _request_change("a", latest_pickup=5.0),
        tiny_plan(),
        "request a: pickup at 10.0000 outside window [0.0000, 5.0000]",
    ),
    (
        "ride_time",
        _request_change("a", max_ride_time=5.0),
        tiny_plan(),
        "request a: ride time 10.0000 exceeds max 5.0000",
    ),
    (
        "route_duration",
        tiny_instance(max_route_duration=50.0),
        tiny_plan(),
        f"vehicle bus1: route lasts {T3 + 32:.4f}, max 50.0000",
    ),
    (
        "shift",
        tiny_instance(shift_end=60.0),
        tiny_plan(),
        f"vehicle bus1: returns {T3 + 32:.4f} after shift end 60.0000",
    ),
    (
        "seats",
        tiny_instance(seats=0),
        tiny_plan(),
        "vehicle bus1: 1 passengers on board after pickup of a, 0 seats",
    ),
    (
        "wheelchairs",
        tiny_instance(wheelchair_places=0),
        tiny_plan(),
        "vehicle bus1: 1 wheelchairs on board after pickup of b, 0 places",
    ),
    (
        "load_report",
        tiny_instance(),
        _visits(tiny_plan(), 0, passengers_on_board=2),
        "vehicle bus1: plan reports load (2, 0) after pickup of a, actual (1, 0)",
    ),
    (
        "location",
        tiny_instance(),
        _visits(tiny_plan(), 1, location=1),
        "request a: dropoff at location 1, expected 2",
    ),
    (
        "cost",
        tiny_instance(),
        dataclasses.replace(tiny_plan(), distance=1.0),
        f"plan reports distance 1.0000, recomputed {50 + HYPOT:.4f}",
    ),
    (
        "unserved",
        tiny_instance(),
        _drop(tiny_plan(), 0, 1),
        "request b: neither served nor rejected",
    ),
    (
        "missing_dropoff",
        tiny_instance(),
        _drop(tiny_plan(), 0, 2, 3),
        "request a: pickup without drop-off",
    ),
    (
        "served_twice",
        tiny_instance(),
        dataclasses.replace(tiny_plan(), rejected=(Rejection("a", "test"),)),
        "request a: served and also listed as rejected",
    ),
    (
        "precedence",
        tiny_instance(),
        _visits(
            _visits(tiny_plan(), 0, kind="dropoff", location=2),
            1,
            kind="pickup",
            location=1,
        ),
        "request a: drop-off before pickup",
    ),
    (
        "same_vehicle",
        tiny_instance(),
        dataclasses.replace(
            _drop(tiny_plan(), 0, 1, 2),
            routes=(
                _drop(tiny_plan(), 0, 1, 2).routes[0],
                Route("bus2", 0.0, (tiny_plan().routes[0].visits[3],), T3 + 32),
            ),
        ),
        "request b: picked up by bus1, dropped off by bus2",
    ),
    (
        "unknown_vehicle",
        tiny_instance(),
        dataclasses.replace(
            tiny_plan(), routes=(dataclasses.replace(tiny_plan().routes[0], vehicle_id="x"),)
        ),
        "route of unknown vehicle 'x'",
    ),
]


@pytest.mark.parametrize(("kind", "instance", "plan", "message"), CASES, ids=[c[0] for c in CASES])
def test_validator_names_each_violation(kind, instance, plan, message) -> None:
    violations = validate(instance, plan)
    assert (kind, message) in [(v.kind, v.message) for v in violations]


def test_check_raises_with_all_messages() -> None:
    with pytest.raises(InvalidPlanError) as err:
        check(tiny_instance(seats=0), tiny_plan())
    assert err.value.field == "seats"
    assert "1 passengers on board after pickup of a, 0 seats" in err.value.reason


def test_rejected_request_is_not_unserved() -> None:
    plan = dataclasses.replace(_drop(tiny_plan(), 0, 1), rejected=(Rejection("b", "full"),))
    kinds = {v.kind for v in validate(tiny_instance(), plan)}
    assert "unserved" not in kinds
