"""Readers of the benchmark files and the data types' own checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from darp_fixtures import FIXTURES

from planner.darp.model import Instance, Request, Vehicle, max_ride_time
from planner.darp.read import gap_pct, read_bks, read_cordeau, read_li_lim
from planner.errors import InstanceFormatError, InvalidInstanceError


def test_a2_16_header_and_nodes(bench_dir) -> None:
    inst = read_cordeau(bench_dir / "darp" / "a2-16.txt")
    assert (inst.name, inst.num_vehicles, inst.num_requests, inst.num_locations) == (
        "a2-16", 2, 16, 34
    )  # fmt: skip
    veh = inst.vehicles[0]
    assert (veh.seats, veh.max_route_duration, veh.start_depot, veh.end_depot) == (3, 480, 0, 33)
    assert (veh.shift_start, veh.shift_end) == (0, 480)
    req = inst.requests[0]
    assert (req.pickup, req.dropoff, req.max_ride_time, req.pickup_service_time) == (1, 17, 30, 3)
    assert (req.earliest_dropoff, req.latest_dropoff) == (402, 417)
    assert inst.distances[1, 2] == pytest.approx(math.hypot(-1.198 - 5.573, -5.164 - 7.114))


def test_pr01_has_24_requests_and_no_end_depot_line(bench_dir) -> None:
    inst = read_cordeau(bench_dir / "darp" / "pr01.txt")
    assert (inst.num_vehicles, inst.num_requests, inst.num_locations) == (3, 24, 49)
    assert inst.vehicles[0].end_depot == 0
    assert inst.vehicles[0].shift_end == 1440
    assert inst.requests[0].dropoff == 25
    assert inst.requests[0].max_ride_time == 90


def test_li_lim_links_pickups_and_deliveries(bench_dir) -> None:
    inst = read_li_lim(bench_dir / "pdptw" / "lc101.txt")
    assert (inst.num_vehicles, inst.num_requests) == (25, 53)
    assert inst.vehicles[0].seats == 200
    assert inst.vehicles[0].shift_end == 1236
    first = inst.requests[0]
    assert (first.id, first.pickup, first.dropoff, first.passengers) == ("3", 3, 75, 10)
    assert math.isinf(first.max_ride_time)


def test_bks_values(bench_dir) -> None:
    bks = read_bks(bench_dir / "darp" / "bks.csv")
    assert bks["a2-16"].cost == 294.25
    assert bks["pr01"].requests == 24
    assert gap_pct(300.0, 250.0) == pytest.approx(20.0)


def test_tiny_fixture_reads() -> None:
    inst = read_cordeau(FIXTURES / "tiny4.txt")
    assert (inst.num_vehicles, inst.num_requests) == (2, 4)
    assert inst.distances[1, 5] == 10.0


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("bad_header.txt", "line 1: header N=5 fits neither 2N+2 (a/b) nor N+1 (pr) node "
         "lines, got 4"),
        ("bad_load.txt", "line 3: load 1 / drop-off load 1 do not pair up"),
        ("bad_number.txt", "line 3: not a number (could not convert string to float: 'ten')"),
        ("missing.txt", "cannot read file (No such file or directory)"),
    ],
)  # fmt: skip
def test_broken_files_name_file_and_line(name: str, message: str) -> None:
    path = FIXTURES / name
    with pytest.raises(InstanceFormatError) as err:
        read_cordeau(path)
    assert str(err.value) == f"{path}: {message}"


def test_data_types_validate_fields() -> None:
    with pytest.raises(InvalidInstanceError, match=r"request 'x'.earliest_pickup: earliest 5"):
        Request("x", 1, 2, earliest_pickup=5, latest_pickup=4)
    with pytest.raises(InvalidInstanceError) as err:
        Vehicle("v", 0, 0, seats=-1)
    assert err.value.field == "vehicle 'v'.seats"
    assert max_ride_time(600.0) == 1500.0
    assert max_ride_time(10.0, alpha=1.5, beta=10.0) == 25.0


def test_requests_added_to_an_instance_are_checked_like_its_own() -> None:
    """A booking day adds each offer's requests to the day's instance: checked the same way,
    the vehicles' depots included (they were checked against the wrong loop variable)."""
    matrix = np.zeros((3, 3))
    day = Instance("day", matrix, matrix, (Request("a", 0, 1),), (Vehicle("v", 0, 2, seats=4),))
    grown = day.with_requests([Request("b", 1, 2, vehicle_id="v")])
    assert [r.id for r in grown.requests] == ["a", "b"] and grown.request_index("b") == 1
    assert day.num_requests == 1 and "b" not in [r.id for r in day.requests]
    with pytest.raises(KeyError):
        day.request_index("b")
    with pytest.raises(InvalidInstanceError) as err:
        grown.with_requests([Request("a", 0, 1)])
    assert err.value.field == "requests[2].id"
    with pytest.raises(InvalidInstanceError) as err:
        day.with_requests([Request("c", 0, 3)])
    assert err.value.field == "requests[1].pickup"
    with pytest.raises(InvalidInstanceError) as err:
        day.with_requests([Request("c", 0, 1, vehicle_id="w")])
    assert err.value.field == "requests[1].vehicle_id"
    with pytest.raises(InvalidInstanceError) as err:  # no requests: the depots still count
        Instance("day", matrix, matrix, (), (Vehicle("v", 0, 3, seats=4),))
    assert err.value.field == "vehicles[0].start_depot"
