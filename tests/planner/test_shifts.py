"""Several shifts per bus: drivers change at the depot, and no shift runs into the next."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.booking import BookingEngine
from planner.errors import ServiceFileError
from planner.service import break_warnings, load_service
from planner.stops import build_catalog
from planner.store.db import open_store
from tests.planner import test_booking as line
from tests.planner.test_booking import ANGER, DAY, EICHE, HOF, book, hm, trip
from tests.web.helpers import Clock

catalog = line.catalog

TWO_SHIFTS = 'shift = [["06:00", "09:00"], ["09:00", "20:00"]]'


def service_file(tmp_path: Path, shift: str) -> Path:
    text = line.SERVICE.format(count=1).replace('shift = ["06:00", "20:00"]', shift)
    path = tmp_path / "service.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_bus_with_shifts_is_one_vehicle_per_shift(tmp_path: Path) -> None:
    service = load_service(service_file(tmp_path, TWO_SHIFTS))
    assert [(v.id, v.bus_id, v.shift_start_s, v.shift_end_s) for v in service.fleet] == [
        ("BUS-S1", "BUS", hm("06:00"), hm("09:00")),
        ("BUS-S2", "BUS", hm("09:00"), hm("20:00")),
    ]
    # the second shift is longer than 6 h without a planned break: the operator is told
    assert [w.split(":")[0] for w in break_warnings(service)] == ["BUS-S2"]


@pytest.mark.parametrize(
    ("shift", "field", "reason"),
    [
        ('shift = [["06:00", "10:00"], ["09:00", "20:00"]]', "fleet[0].shift[1]", "before"),
        ('shift = [["06:00", "10:00"], ["11:00"]]', "fleet[0].shift[1]", "[start, end]"),
        ('shift = [["10:00", "06:00"]]', "fleet[0].shift", "end after"),
    ],
)
def test_overlapping_or_broken_shifts_are_refused_by_field(
    tmp_path: Path, shift: str, field: str, reason: str
) -> None:
    with pytest.raises(ServiceFileError) as refused:
        load_service(service_file(tmp_path, shift))
    assert refused.value.field.endswith(field) and reason in refused.value.reason


def test_no_ride_runs_into_the_next_shift(catalog, tmp_path: Path, clock: Clock) -> None:
    service = load_service(service_file(tmp_path, TWO_SHIFTS))
    engine = BookingEngine(
        service, catalog, open_store(f"sqlite:///{tmp_path / 'db.sqlite3'}"), clock=clock
    )
    # Anger 08:30 -> Eiche (35 min) and back to Hof (40 min) ends at 09:46: the first shift
    # must be back at the depot by 09:00, the second starts there at 09:00
    late = engine.offer(trip(ANGER, EICHE, "08:30"), with_alternatives=False)
    assert [o.window_start_s for o in late.offers if o.window_start_s == hm("08:30")] == []
    early = book(engine, trip(ANGER, EICHE, "07:00"))
    assert engine.booking(early["code"]).vehicle_id == "BUS-S1"
    after = book(engine, trip(HOF, EICHE, "09:30"))
    assert engine.booking(after["code"]).vehicle_id == "BUS-S2"
    plan = engine.day_plan(DAY)
    assert {v.vehicle_id: v.return_s <= hm("09:00") for v in plan.vehicles}["BUS-S1"]
    assert engine.validate_day(DAY) == []


def test_planned_driving_times_carry_the_service_files_margin(catalog, tmp_path: Path) -> None:
    path = service_file(tmp_path, 'shift = ["06:00", "20:00"]')
    path.write_text(
        path.read_text().replace("beta_min = 10", "beta_min = 10\ntravel_time_factor = 1.25")
    )
    assert load_service(path).travel_time_factor == 1.25
    slow = build_catalog(catalog.network, None, travel_time_factor=1.25)
    row = catalog.row
    assert slow.travel_s[row[ANGER], row[EICHE]] == 1.25 * catalog.travel_s[row[ANGER], row[EICHE]]
    assert (slow.distance_m == catalog.distance_m).all()
    path.write_text(path.read_text().replace("travel_time_factor = 1.25", "travel_time_factor = 3"))
    with pytest.raises(ServiceFileError) as refused:
        load_service(path)
    assert refused.value.field.endswith("rides.travel_time_factor")


def test_the_realtime_feed_names_the_bus_and_labels_the_shift() -> None:
    from datetime import UTC, datetime, timedelta

    from google.transit import gtfs_realtime_pb2 as rt

    from planner.export.gtfs_rt import vehicle_positions
    from planner.live.state import Fix, LiveDay, LiveVehicle

    bus = LiveVehicle("BUS-S2", "on_route", 1, 0.0, Fix(51.8, 11.7, hm("09:30")), (), ())
    live = LiveDay(1, hm("09:31"), (bus,))
    midnight = datetime(2026, 12, 2, tzinfo=UTC)
    data = vehicle_positions(
        live,
        DAY,
        local=lambda _day, s: midnight + timedelta(seconds=s),
        stop_id=str,
        bus_of={"BUS-S2": "BUS"}.__getitem__,
    )
    (entity,) = rt.FeedMessage.FromString(data).entity
    assert (entity.vehicle.vehicle.id, entity.vehicle.vehicle.label) == ("BUS", "BUS-S2")


BREAKS = "\n[breaks]\nmax_work_h = 6\nminutes = 30\nlong_day_h = 9\nlong_day_minutes = 45\n"


def _stretches(vehicle_day, shift: tuple[int, int]) -> list[float]:
    edges = [shift[0]]
    for b in vehicle_day.breaks:
        edges += [b.start_s, b.end_s]
    edges.append(shift[1])
    return [edges[k + 1] - edges[k] for k in range(0, len(edges), 2)]


def test_the_planner_places_the_drivers_breaks_and_plans_rides_around_them(
    catalog, tmp_path: Path, clock: Clock
) -> None:
    path = service_file(tmp_path, 'shift = ["06:00", "20:00"]')
    path.write_text(path.read_text(encoding="utf-8") + BREAKS, encoding="utf-8")
    service = load_service(path)
    assert break_warnings(service) == []  # breaks are planned: nothing to warn about
    engine = BookingEngine(
        service, catalog, open_store(f"sqlite:///{tmp_path / 'db.sqlite3'}"), clock=clock
    )
    assert engine.day_plan(DAY).vehicles == ()  # breaks alone: no ride, nothing to show
    assert engine.kpis(DAY)["vehicles_used"] == 0  # breaks alone do not make a bus used
    # rides through the hours the first break may fall into (11:00 to 12:00 at the latest)
    codes = [book(engine, trip(ANGER, EICHE, t))["code"] for t in ("07:00", "10:30", "12:15")]
    codes.append(book(engine, trip(EICHE, HOF, "16:45"))["code"])
    for step in ("booked", "optimized"):
        plan = engine.day_plan(DAY)
        bus = plan.vehicle("BUS")
        assert bus is not None and [b.stop.name for b in bus.breaks] == ["Hof", "Hof"], step
        assert all(s <= 6 * 3600 for s in _stretches(bus, (hm("06:00"), hm("20:00")))), step
        assert all(b.end_s - b.start_s >= 30 * 60 for b in bus.breaks)
        for b in bus.breaks:  # nobody is on board during a break
            before = [s for s in bus.stops if s.departure_s <= b.start_s]
            assert not before or before[-1].load == 0, step
        assert {s.code for s in bus.stops} == set(codes)
        assert engine.kpis(DAY)["served"] == 4
        assert engine.validate_day(DAY) == [], step
        assert plan.to_json()["vehicles"][0]["breaks"][0]["stop"]["name"] == "Hof"
        engine.optimize(DAY, time_limit=1.0)


def test_a_break_taken_counts_where_and_when_the_driver_took_it(
    catalog, tmp_path: Path, clock: Clock
) -> None:
    from planner.darp.codec import assemble_plan, time_route
    from planner.darp.validate import validate
    from planner.live.events import VehicleEvent
    from planner.live.replan import pin

    path = service_file(tmp_path, 'shift = ["06:00", "20:00"]')
    path.write_text(path.read_text(encoding="utf-8") + BREAKS, encoding="utf-8")
    engine = BookingEngine(
        load_service(path), catalog, open_store(f"sqlite:///{tmp_path / 'db.sqlite3'}"),
        clock=clock,
    )  # fmt: skip
    code = book(engine, trip(ANGER, EICHE, "07:00"))["code"]
    with engine.store.session() as session:
        state = engine.days.load(session, DAY.isoformat())
    facts = [
        ("shift_start", "06:40", {}),
        ("arrived", "07:00", {"stop_node": ANGER}),
        ("boarded", "07:00", {"booking": code}),
        ("departed", "07:01", {"stop_node": ANGER}),
        ("arrived", "07:37", {"stop_node": EICHE}),
        ("dropped_off", "07:37", {"booking": code}),
        ("departed", "07:38", {"stop_node": EICHE}),
        ("break_start", "10:50", {}),
        ("break_end", "11:25", {}),
    ]
    events = {
        "BUS": [
            VehicleEvent(f"c{k}", "BUS", DAY, kind, hm(at), **kw)  # type: ignore[arg-type]
            for k, (kind, at, kw) in enumerate(facts)
        ]
    }
    instance, routes = pin(state.instance, state.routes, catalog.nodes, events)
    first = instance.requests[instance.request_index("break:BUS:1")]
    assert first.pickup == catalog.row[EICHE]  # taken where the bus was, not at the depot
    table = state.table.__class__.from_instance(instance)
    timed = time_route(instance, table, 0, routes[0])
    order = [(v.request_id, v.kind) for v in timed.route.visits]
    assert order[:4] == [(code, "pickup"), (code, "dropoff"), ("break:BUS:1", "pickup"),
                         ("break:BUS:1", "dropoff")]  # fmt: skip
    assert timed.route.visits[2].departure == hm("11:25")  # the bus drives on when it did
    assert validate(instance, assemble_plan(instance, [timed])) == []
