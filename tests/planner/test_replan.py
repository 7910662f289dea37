"""Planning from reality: the day's model pinned to what the bus reported.

On the line network of ``test_booking`` (Hof - Anger 5 min - Berg 10 min - Dorf 10 min -
Eiche 15 min; boarding 1 min), one bus plans A: Anger 08:00 -> Eiche and B: Berg 08:15 ->
Dorf. As planned it picks A up at 08:00, waits at Berg for B's window (08:15), drops B at
Dorf at 08:26 and A at Eiche at 08:42. In reality it reaches Anger 20 minutes late.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from planner.booking import BookingEngine
from planner.booking.day import DayState
from planner.darp.codec import assemble_plan, time_route
from planner.darp.insertion import best_insertion, prepare
from planner.darp.schedule import StopTable
from planner.darp.validate import validate
from planner.live.events import VehicleEvent
from planner.live.replan import pin
from planner.stops import StopCatalog
from tests.planner import test_booking as line
from tests.planner.test_booking import (
    ANGER,
    BERG,
    DAY,
    DORF,
    EICHE,
    HOF,
    MAX_RIDE_S,
    book,
    hm,
    trip,
)

# the line network and its engines, from test_booking
catalog = line.catalog
make_engine = line.make_engine


@pytest.fixture
def day(make_engine: Callable[..., BookingEngine]) -> tuple[BookingEngine, DayState]:
    engine = make_engine()
    book(engine, trip(ANGER, EICHE, "08:00"), name="A")
    book(engine, trip(BERG, DORF, "08:15"), name="B")
    with engine.store.session() as session:
        return engine, engine.days.load(session, DAY.isoformat())


def code_of(state: DayState, origin: int, catalog: StopCatalog) -> str:
    return next(r.id for r in state.instance.requests if r.pickup == catalog.row[origin])


def events(state: DayState, catalog: StopCatalog, *extra: tuple[str, float, dict]) -> dict:
    a = code_of(state, ANGER, catalog)
    bus = state.instance.vehicles[0].id
    facts = [
        ("shift_start", hm("07:40"), {}),
        ("arrived", hm("08:20"), {"stop_node": ANGER}),
        ("boarded", hm("08:20"), {"booking": a}),
        ("departed", hm("08:21"), {"stop_node": ANGER}),
        *extra,
    ]
    return {
        bus: [
            VehicleEvent(f"c{k}", bus, DAY, kind, at, **kw)  # type: ignore[arg-type]
            for k, (kind, at, kw) in enumerate(facts)
        ]
    }


def starts(instance, routes) -> dict[tuple[str, str], float]:
    table = StopTable.from_instance(instance)
    timed = time_route(instance, table, 0, routes[0])
    return {(v.request_id, v.kind): v.service_start for v in timed.route.visits}


def test_the_plan_starts_from_where_the_bus_really_is(day, catalog: StopCatalog) -> None:
    engine, state = day
    a, b = code_of(state, ANGER, catalog), code_of(state, BERG, catalog)
    planned = starts(state.instance, state.routes)
    assert planned[(a, "pickup")] == hm("08:00") and planned[(b, "pickup")] == hm("08:15")

    instance, routes = pin(state.instance, state.routes, catalog.nodes, events(state, catalog))
    real = starts(instance, routes)
    assert real[(a, "pickup")] == hm("08:20")  # when it happened
    assert real[(b, "pickup")] == hm("08:31")  # 08:21 + 10 min: B's window (to 08:30) widened
    assert real[(b, "dropoff")] == hm("08:42")
    assert real[(a, "dropoff")] == hm("08:58")
    # A keeps the rest of the ride promise from when A really boarded
    ride = instance.requests[instance.request_index(a)].max_ride_time
    assert ride == MAX_RIDE_S
    # the pinned day is a valid plan: the validator passes it
    table = StopTable.from_instance(instance)
    plan = assemble_plan(instance, [time_route(instance, table, 0, routes[0])])
    assert validate(instance, plan) == []


def test_offers_see_the_late_bus(day, catalog: StopCatalog) -> None:
    engine, state = day
    # C: Dorf 08:25 -> Eiche fits the planned bus (at Dorf 08:26) but not the real one (08:42)
    window = (hm("08:25"), hm("08:40"))
    c = engine.days.request("C", trip(DORF, EICHE, "08:25"), window, None, 3600.0)

    def insertion(instance, routes):
        table = StopTable.from_instance(instance).with_requests([c])
        prepared = prepare(table, routes, engine.service.objective).with_requests([])
        return best_insertion(prepared, instance.num_requests)

    assert insertion(state.instance, state.routes) is not None
    instance, routes = pin(state.instance, state.routes, catalog.nodes, events(state, catalog))
    assert insertion(instance, routes) is None


def test_a_hold_up_delays_the_next_stop(day, catalog: StopCatalog) -> None:
    _, state = day
    b = code_of(state, BERG, catalog)
    held = events(state, catalog, ("delay", hm("08:22"), {"minutes": 15}))
    instance, routes = pin(state.instance, state.routes, catalog.nodes, held)
    # held at Anger until 08:37, then 10 minutes to Berg
    assert starts(instance, routes)[(b, "pickup")] == hm("08:47")


def test_a_broken_down_bus_takes_nothing_new(day, catalog: StopCatalog) -> None:
    engine, state = day
    later = engine.days.request(
        "D", trip(EICHE, HOF, "12:00"), (hm("12:00"), hm("12:15")), None, 7200.0
    )

    def fits(instance, routes) -> bool:
        table = StopTable.from_instance(instance).with_requests([later])
        prepared = prepare(table, routes, engine.service.objective)
        return best_insertion(prepared, instance.num_requests) is not None

    running = pin(state.instance, state.routes, catalog.nodes, events(state, catalog))
    assert fits(*running)
    broken = events(state, catalog, ("breakdown", hm("08:30"), {}))
    assert not fits(*pin(state.instance, state.routes, catalog.nodes, broken))


def test_stops_served_out_of_order_move_to_the_head(day, catalog: StopCatalog) -> None:
    _, state = day
    a, b = code_of(state, ANGER, catalog), code_of(state, BERG, catalog)
    bus = state.instance.vehicles[0].id
    # the driver went to Berg first (B), then back to Anger (A)
    facts = [
        VehicleEvent("x1", bus, DAY, "arrived", hm("08:15"), stop_node=BERG),
        VehicleEvent("x2", bus, DAY, "boarded", hm("08:15"), booking=b),
        VehicleEvent("x3", bus, DAY, "departed", hm("08:16"), stop_node=BERG),
    ]
    instance, routes = pin(state.instance, state.routes, catalog.nodes, {bus: facts})
    order = [
        (instance.requests[s // 2].id, "pickup" if s % 2 == 0 else "dropoff") for s in routes[0]
    ]
    assert order[0] == (b, "pickup")
    assert (a, "pickup") in order[1:]
    assert starts(instance, routes)[(b, "pickup")] == hm("08:15")
