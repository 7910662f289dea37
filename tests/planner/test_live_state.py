"""The live state: the executed part of a route from events, estimates for the rest."""

from __future__ import annotations

from datetime import date

import pytest

from planner.booking.views import DayPlan, PlanStop, StopPlace, VehicleDay
from planner.live.events import VehicleEvent
from planner.live.state import Promise, live_day

DAY = date(2027, 3, 10)
MIN = 60.0
H = 3600.0


def travel(a: int, b: int) -> float:
    """Nodes on a line, 5 minutes apart."""
    return abs(a - b) * 5 * MIN


def stop(kind: str, code: str, node: int, start_s: float, window=(0.0, 0.0)) -> PlanStop:
    return PlanStop(
        kind=kind,  # type: ignore[arg-type]
        code=code,
        rider="R",
        phone="",
        note="",
        people=1,
        wheelchairs=0,
        stop=StopPlace(node, f"Stop {node}", 11.7 + node / 100, 51.8),
        arrival_s=start_s,
        service_start_s=start_s,
        departure_s=start_s + MIN,
        load=1,
        window_s=window,
        connection=None,
        no_show_allowed=False,
    )


# depot at node 0; A: 1 -> 3, B: 2 -> 4; the plan runs on time from 08:00
PLAN = DayPlan(
    DAY,
    3,
    (
        VehicleDay(
            "BBG-1",
            8 * H,
            9 * H,
            (
                stop("pickup", "A", 1, 8 * H + 5 * MIN, (8 * H, 8 * H + 15 * MIN)),
                stop("pickup", "B", 2, 8 * H + 11 * MIN, (8 * H + 5 * MIN, 8 * H + 20 * MIN)),
                stop("dropoff", "A", 3, 8 * H + 17 * MIN),
                stop("dropoff", "B", 4, 8 * H + 23 * MIN),
            ),
        ),
    ),
    {},
)
PROMISES = {
    "A": Promise((8 * H, 8 * H + 15 * MIN), max_ride_s=20 * MIN),
    "B": Promise((8 * H + 5 * MIN, 8 * H + 20 * MIN), max_ride_s=15 * MIN),
}


def event(kind: str, at_s: float, n: int, **kw: object) -> VehicleEvent:
    return VehicleEvent(f"c{n}", "BBG-1", DAY, kind, at_s, **kw)  # type: ignore[arg-type]


def live(events: list[VehicleEvent], now_s: float, **kw: object):
    day = live_day(PLAN, events, PROMISES, now_s=now_s, depots={"BBG-1": 0}, travel_s=travel, **kw)  # type: ignore[arg-type]
    return day.vehicle("BBG-1")


def test_without_events_the_estimates_are_the_plan() -> None:
    v = live([], now_s=7 * H)
    assert v.status == "not_started"
    assert [s.start_s for s in v.stops] == [s.service_start_s for s in PLAN.vehicles[0].stops]
    assert v.at_risk == () and v.delay_s == 0


def test_a_late_arrival_pushes_the_rest_and_flags_the_broken_promises() -> None:
    # the bus reaches A's stop 12 minutes late and leaves after boarding
    events = [
        event("shift_start", 7.9 * H, 1),
        event("arrived", 8 * H + 17 * MIN, 2, stop_node=1),
        event("boarded", 8 * H + 17 * MIN, 3, booking="A"),
        event("departed", 8 * H + 18 * MIN, 4, stop_node=1),
    ]
    v = live(events, now_s=8 * H + 18 * MIN)
    assert v.status == "on_route" and v.on_board == ("A",)
    assert (v.anchor_node, v.anchor_s) == (1, 8 * H + 18 * MIN)
    a, b, a_off, b_off = v.stops
    assert a.done and a.start_s == 8 * H + 17 * MIN and a.risk is None  # history, not risk
    assert b.start_s == 8 * H + 23 * MIN and b.risk == "late_pickup"  # window ends 08:20
    assert a_off.start_s == 8 * H + 29 * MIN and a_off.risk is None  # ride 11 min of 20
    assert b_off.start_s == 8 * H + 35 * MIN and b_off.risk is None  # ride 11 min of 15
    assert v.delay_s == pytest.approx(12 * MIN)
    assert [
        s.stop.code
        for _, s in live_day(
            PLAN, events, PROMISES, now_s=8 * H + 18 * MIN, depots={"BBG-1": 0}, travel_s=travel
        ).at_risk()
    ] == ["B"]


def test_a_long_wait_on_board_breaks_the_ride_promise_before_it_happens() -> None:
    # A boarded on time, then the bus stands at B's stop for 20 minutes
    events = [
        event("arrived", 8 * H + 5 * MIN, 1, stop_node=1),
        event("boarded", 8 * H + 5 * MIN, 2, booking="A"),
        event("departed", 8 * H + 6 * MIN, 3, stop_node=1),
        event("arrived", 8 * H + 11 * MIN, 4, stop_node=2),
    ]
    v = live(events, now_s=8 * H + 31 * MIN)
    assert v.stops[1].arrived_s == 8 * H + 11 * MIN and not v.stops[1].done
    a_off = v.stops[2]
    # still at B's stop now: leaves at 08:31 at the earliest, reaches A's drop-off at 08:36
    assert a_off.start_s == 8 * H + 36 * MIN
    assert a_off.risk == "ride_promise"  # 30 min on board, 20 promised


def test_a_silent_bus_is_not_assumed_on_time() -> None:
    events = [event("shift_start", 7.9 * H, 1)]
    v = live(events, now_s=8 * H + 30 * MIN)
    assert v.stops[0].start_s is not None and v.stops[0].start_s >= 8 * H + 30 * MIN
    assert v.stops[0].risk == "late_pickup"


def test_a_bus_overdue_at_its_next_stop_flags_the_ride_on_board_before_it_breaks() -> None:
    # A boarded on time and left at 08:06 (ride promise: off by 08:26); the bus was due at
    # B's stop at 08:11 and has not reported arriving by 08:20
    events = [
        event("arrived", 8 * H + 5 * MIN, 1, stop_node=1),
        event("boarded", 8 * H + 5 * MIN, 2, booking="A"),
        event("departed", 8 * H + 6 * MIN, 3, stop_node=1),
    ]
    v = live(events, now_s=8 * H + 20 * MIN, risk_margin_s=5 * MIN)
    b, a_off = v.stops[1], v.stops[2]
    # overdue, so not before now: at B 08:20, off 08:21, A's stop at 08:26
    assert b.start_s == 8 * H + 20 * MIN and b.slack_s == 0 and b.risk == "late_pickup"
    assert a_off.start_s == 8 * H + 26 * MIN and a_off.slack_s == 0
    assert a_off.risk == "ride_promise" and not a_off.breaks_promise  # warned, not yet broken
    # without a margin only a broken estimate is flagged
    assert live(events, now_s=8 * H + 20 * MIN).stops[2].risk is None
    # on time, A has 9 min to spare; B's planned ride leaves 4, under the margin already
    on_time = live(events, now_s=8 * H + 9 * MIN, risk_margin_s=5 * MIN)
    assert on_time.stops[2].slack_s == 9 * MIN and on_time.stops[2].risk is None
    assert [(s.stop.code, s.slack_s) for s in on_time.at_risk] == [("B", 4 * MIN)]


def test_a_no_show_is_not_driven_to_its_drop_off() -> None:
    events = [
        event("arrived", 8 * H + 5 * MIN, 1, stop_node=1),
        event("no_show", 8 * H + 8 * MIN, 2, booking="A"),
        event("departed", 8 * H + 8 * MIN, 3, stop_node=1),
    ]
    v = live(events, now_s=8 * H + 8 * MIN)
    assert v.on_board == ()
    a_off = v.stops[2]
    assert a_off.start_s is None and a_off.risk is None and not a_off.done
    assert v.stops[3].start_s == 8 * H + 8 * MIN + 5 * MIN + MIN + 10 * MIN  # via B, not A's stop


def test_a_breakdown_puts_every_stop_left_at_risk() -> None:
    events = [
        event("arrived", 8 * H + 5 * MIN, 1, stop_node=1),
        event("boarded", 8 * H + 5 * MIN, 2, booking="A"),
        event("departed", 8 * H + 6 * MIN, 3, stop_node=1),
        event("breakdown", 8 * H + 8 * MIN, 4),
    ]
    v = live(events, now_s=8 * H + 9 * MIN)
    assert v.status == "out_of_service" and v.out_of_service_s == 8 * H + 8 * MIN
    assert [s.risk for s in v.stops] == [None, "out_of_service", "out_of_service", "out_of_service"]
    assert v.on_board == ("A",)  # someone must fetch A


def test_a_reported_delay_and_a_position_move_the_estimates() -> None:
    events = [event("shift_start", 7.9 * H, 1), event("delay", 7.95 * H, 2, minutes=10)]
    v = live(events, now_s=7.95 * H)
    # held at the depot until 08:07, then 5 minutes to the first stop
    assert v.stops[0].start_s == 8 * H + 12 * MIN
    # a fix at node 1's place at 08:02 (located there), no delay report
    fix = [
        event("shift_start", 7.9 * H, 1),
        event("position", 8 * H + 2 * MIN, 3, lat=51.8, lon=11.71),
    ]
    v = live(fix, now_s=8 * H + 2 * MIN, locate=lambda lat, lon: 1)
    assert v.position is not None and v.position.at_s == 8 * H + 2 * MIN
    assert (v.anchor_node, v.anchor_s) == (1, 8 * H + 2 * MIN)
    assert v.stops[0].start_s == 8 * H + 2 * MIN


def test_the_delay_is_against_what_the_rider_was_told() -> None:
    told = {
        **PROMISES,
        "A": Promise(PROMISES["A"].window_s, 20 * MIN, told_s=(8 * H, 8 * H + 12 * MIN)),
    }
    events = [event("shift_start", 7.9 * H, 1)]
    day = live_day(PLAN, events, told, now_s=7.95 * H, depots={"BBG-1": 0}, travel_s=travel)
    v = day.vehicle("BBG-1")
    assert v is not None and v.stops[0].start_s == 8 * H + 5 * MIN
    assert v.stops[0].delay_s == 5 * MIN and v.delay_s == 5 * MIN


def test_an_arrival_never_serves_a_drop_off_before_its_rider_boarded() -> None:
    # the bus arrives at Stop 3 (A's drop-off) before A boarded, for a stop since removed
    # from the plan (a no-show's): that is not A's drop-off
    events = [
        event("arrived", 8 * H, 1, stop_node=3),
        event("departed", 8 * H + MIN, 2, stop_node=3),
    ]
    v = live(events, now_s=8 * H + MIN)
    assert [s.arrived_s for s in v.stops] == [None, None, None, None]


def test_a_bus_that_has_not_left_its_depot_leaves_no_earlier_than_now() -> None:
    # the plan had it leave at 08:00; at 08:20 nothing has been heard of it
    v = live([], now_s=8 * H + 20 * MIN)
    assert v.status == "not_started"
    assert v.stops[0].start_s == 8 * H + 25 * MIN  # now + 5 min to node 1, past A's window
    assert v.stops[0].risk == "late_pickup"
