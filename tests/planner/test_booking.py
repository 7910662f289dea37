"""The booking engine without Flask, on a line of six stops built here, a real SQLite file
and a clock moved by hand.

The network (travel time, length of each road, both ways)::

    Hof --5 min, 4 km-- Anger --10 min, 8 km-- Berg --10 min, 8 km-- Dorf --15 min, 12 km-- Eiche
                          |
                   1 min, 400 m
                          |
                      Anger Post

The bus (2 seats, 1 wheelchair place, 06:00-20:00) starts and ends at Hof. From Anger to
Eiche takes 35 min (direct), so the ride-time promise is 1.5 x 35 + 10 = 62.5 min, and a
rider picked up at Anger at ``t`` arrives at ``t`` + 1 min boarding + 35 min.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Literal

import networkx as nx
import numpy as np
import pytest
from sqlalchemy import select

from planner.booking import BookingEngine, OfferResult, TripRequest, parse_trip_request
from planner.booking.day import stored_plan
from planner.darp.codec import assemble_plan
from planner.darp.insertion import prepare
from planner.errors import BookingError, ConflictError, NotFoundError
from planner.service import load_service
from planner.stops import StopCatalog, build_catalog
from planner.store.db import Booking, PlanVersion, open_store
from routing.matrix import to_csr
from routing.network import Network
from routing.snap import build_node_index
from tests.web.helpers import Clock

HOF, ANGER, BERG, DORF, EICHE, ANGER_POST = 1, 2, 3, 4, 5, 6
#: node -> (name, lon, lat)
STOPS = {
    HOF: ("Hof", 11.700, 51.800),
    ANGER: ("Anger", 11.750, 51.800),
    BERG: ("Berg", 11.850, 51.800),
    DORF: ("Dorf", 11.950, 51.800),
    EICHE: ("Eiche", 12.100, 51.800),
    ANGER_POST: ("Anger Post", 11.750, 51.804),
}
#: (from, to, travel time s, length m), driven both ways
ROADS = [
    (HOF, ANGER, 300, 4000),
    (ANGER, BERG, 600, 8000),
    (BERG, DORF, 600, 8000),
    (DORF, EICHE, 900, 12000),
    (ANGER, ANGER_POST, 60, 400),
]
ANGER_EICHE_S = 600 + 600 + 900  # 35 min
BOARDING_S = 60
MAX_RIDE_S = 1.5 * ANGER_EICHE_S + 10 * 60

SERVICE = """
name = "Rufbus Test"
timezone = "Europe/Berlin"

[hours]
first_pickup = "06:00"
last_dropoff = "20:00"

[booking]
min_lead_min = 60
horizon_days = 7
night_from = "19:00"
night_deadline = "12:00"
offer_ttl_s = 300
max_passengers = 4
min_trip_m = 1000

[rides]
window_min = 15
boarding_s = 60
alpha = 1.5
beta_min = 10

[timetable]
check = false

[objective]
vehicle_time_weight = 1.0
ride_time_weight = 0.1

[[fleet]]
id = "BUS"
count = {count}
depot = "Hof"
seats = 2
wheelchair_places = 1
shift = ["06:00", "20:00"]
"""

#: The clock starts on Tuesday 1 December 2026 at 07:00 in Berlin; rides are booked for the
#: next day unless a test says otherwise.
TODAY = date(2026, 12, 1)
DAY = date(2026, 12, 2)


def hm(text: str) -> int:
    """``"HH:MM"`` -> seconds after midnight."""
    hours, minutes = text.split(":")
    return int(hours) * 3600 + int(minutes) * 60


def trip(
    origin: int = ANGER,
    destination: int = EICHE,
    time: str = "08:00",
    *,
    day: date = DAY,
    kind: Literal["pickup", "arrival"] = "pickup",
    passengers: int = 1,
    wheelchairs: int = 0,
) -> TripRequest:
    return TripRequest(day, origin, destination, kind, hm(time), passengers, wheelchairs)


def windows(result: OfferResult) -> list[tuple[float, float]]:
    return [(o.window_start_s, o.window_end_s) for o in result.offers]


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> StopCatalog:
    G = nx.MultiDiGraph(crs="EPSG:4326")
    for node, (name, lon, lat) in STOPS.items():
        G.add_node(node, name=name, x=lon, y=lat)
    for u, v, seconds, metres in ROADS:
        G.add_edge(u, v, travel_time=float(seconds), length=float(metres))
        G.add_edge(v, u, travel_time=float(seconds), length=float(metres))
    network = Network(
        G, to_csr(G), build_node_index(G), "test-line", tmp_path_factory.mktemp("cache")
    )
    return build_catalog(network, None)


@pytest.fixture
def make_engine(catalog: StopCatalog, tmp_path: Path, clock: Clock) -> Callable[..., BookingEngine]:
    """An engine for a fleet of ``buses`` identical buses at Hof, on a fresh database."""

    def make(buses: int = 1) -> BookingEngine:
        path = tmp_path / f"service-{buses}.toml"
        path.write_text(SERVICE.format(count=buses), encoding="utf-8")
        store = open_store(f"sqlite:///{tmp_path / f'rufbus-{buses}.sqlite3'}")
        return BookingEngine(load_service(path), catalog, store, clock=clock)

    return make


@pytest.fixture
def engine(make_engine: Callable[..., BookingEngine]) -> BookingEngine:
    """One bus, ``BUS``."""
    return make_engine()


def book(engine: BookingEngine, request: TripRequest, name: str = "Erika") -> dict:
    """Confirm the offer whose window starts at the wish (it must be there)."""
    result = engine.offer(request, with_alternatives=False)
    offer = next(o for o in result.offers if o.window_start_s == request.time_s)
    return engine.confirm(offer.id, name=name, phone="03471 1234")[0]


def stored_routes(engine: BookingEngine, day: date = DAY) -> dict[str, list[list[str]]]:
    """The day's newest plan as stored: each vehicle's stops as ``[code, kind]``."""
    with engine.store.session() as session:
        return stored_plan(session, day.isoformat())[1]


def plan_versions(engine: BookingEngine, day: date = DAY) -> list[PlanVersion]:
    with engine.store.session() as session:
        return list(
            session.scalars(
                select(PlanVersion).where(PlanVersion.day == day.isoformat()).order_by("version")
            )
        )


def test_the_network_gives_the_hand_computed_matrices(catalog: StopCatalog) -> None:
    assert catalog.nodes == (HOF, ANGER, BERG, DORF, EICHE, ANGER_POST)
    row = catalog.row
    assert catalog.travel_s[row[ANGER], row[EICHE]] == ANGER_EICHE_S
    assert catalog.travel_s[row[EICHE], row[HOF]] == 2400
    assert catalog.distance_m[row[ANGER], row[EICHE]] == 28_000


def test_a_wish_is_parsed_with_stop_names(engine: BookingEngine, catalog: StopCatalog) -> None:
    wish = {"origin": "Anger", "destination": "eiche", "date": "2026-12-02", "time": "08:00"}
    assert parse_trip_request(wish, catalog, engine.service) == trip()
    with pytest.raises(BookingError) as unknown:
        parse_trip_request({**wish, "destination": "Zoo"}, catalog, engine.service)
    assert unknown.value.field == "destination"
    with pytest.raises(BookingError) as same:
        parse_trip_request({**wish, "destination": "Anger"}, catalog, engine.service)
    assert same.value.field == "destination"
    with pytest.raises(BookingError) as party:  # max_passengers = 4
        parse_trip_request({**wish, "passengers": 5}, catalog, engine.service)
    assert party.value.field == "passengers"


def test_an_empty_day_offers_the_wish_with_hand_computed_times(engine: BookingEngine) -> None:
    result = engine.offer(trip(time="08:00"))
    assert result.reason is None
    first = result.offers[0]
    assert (first.window_start_s, first.window_end_s) == (hm("08:00"), hm("08:15"))
    assert first.est_pickup_s == hm("08:00")
    assert first.est_arrival_s == hm("08:00") + BOARDING_S + ANGER_EICHE_S  # 08:36
    assert first.vehicle_id == "BUS"
    # the wish moved by 15 and -15 minutes, nearest first
    assert windows(result)[1:] == [(hm("08:15"), hm("08:30")), (hm("07:45"), hm("08:00"))]
    assert first.expires_at == datetime(2026, 12, 1, 6, 5, tzinfo=UTC)  # 5 minutes


def test_arrive_by_is_picked_up_early_enough_within_the_ride_promise(
    engine: BookingEngine,
) -> None:
    result = engine.offer(trip(time="09:00", kind="arrival"))
    first = result.offers[0]
    # the earliest pickup that keeps the ride promise: 09:00 - 62.5 min - 2 x boarding
    earliest = hm("09:00") - MAX_RIDE_S - 2 * BOARDING_S  # 07:55:30
    assert first.est_pickup_s == earliest
    assert (first.window_start_s, first.window_end_s) == (hm("07:55"), hm("08:10"))
    assert first.est_arrival_s == earliest + BOARDING_S + ANGER_EICHE_S <= hm("09:00")
    booked = engine.confirm(first.id, name="Erika", phone="03471 1234")[0]
    assert booked["latest_arrival"] == "09:00"
    assert booked["wish"] == {"kind": "arrival", "time": "09:00"}


@pytest.mark.parametrize(
    ("request_", "reason", "alternatives"),
    [
        # 04:00 and every shift up to 04:30 are before the first pickup at 06:00
        (trip(time="04:00"), "outside_hours", ("06:00", "06:15", "06:30")),
        # at 07:00 today, 07:20 and its shifts (the latest 07:50) are less than 1 h ahead
        (trip(time="07:20", day=TODAY), "lead_time", ("08:05", "08:20", "08:35")),
        (trip(day=DAY + timedelta(days=7)), "horizon", ()),
        (trip(passengers=3), "no_capacity", ()),  # 2 seats
        (trip(passengers=2, wheelchairs=2), "no_capacity", ()),  # 1 wheelchair place
        (trip(ANGER, ANGER_POST), "too_short", ()),  # 400 m
    ],
)
def test_rules_refuse_with_the_reason_and_the_nearest_times_that_work(
    engine: BookingEngine, request_: TripRequest, reason: str, alternatives: tuple[str, ...]
) -> None:
    result = engine.offer(request_)
    assert result.offers == ()
    assert result.reason == reason, result.message
    assert result.message
    assert result.alternatives == alternatives


def test_the_rules_hold_at_their_limits(engine: BookingEngine, clock: Clock) -> None:
    assert engine.offer(trip(day=DAY + timedelta(days=6))).offers  # the horizon's last day
    assert engine.offer(trip(time="06:00")).offers[0].window_start_s == hm("06:00")
    # exactly 60 min ahead is enough
    assert engine.offer(trip(time="08:00", day=TODAY)).offers[0].window_start_s == hm("08:00")
    with pytest.raises(BookingError) as past:
        engine.offer(trip(time="06:59", day=TODAY))
    assert past.value.field == "time"


def test_night_trips_must_be_booked_by_the_deadline(engine: BookingEngine, clock: Clock) -> None:
    evening = trip(ANGER, DORF, "18:45", day=TODAY)
    starts = [start for start, _ in windows(engine.offer(evening))]
    assert starts == [hm("18:45"), hm("19:00"), hm("18:30")]  # before 12:00: night trips too
    clock.now = datetime(2026, 12, 1, 11, 1, tzinfo=UTC)  # 12:01, past the night deadline
    starts = [start for start, _ in windows(engine.offer(evening))]
    assert starts == [hm("18:45"), hm("18:30"), hm("18:15")]  # 19:00 and 19:15 are night
    # 19:30 and every shift of it (19:00 to 20:00) are night trips
    late = engine.offer(trip(ANGER, DORF, "19:30", day=TODAY), with_alternatives=False)
    assert late.offers == () and late.reason == "night_deadline"


def test_confirm_stores_the_booking_with_its_promise_and_a_plan(engine: BookingEngine) -> None:
    offer = engine.offer(trip(time="08:00")).offers[0]
    booked = engine.confirm(offer.id, name=" Erika ", phone="03471 1234", note="Rollator")
    assert booked[0]["pickup_window"] == ["08:00", "08:15"]
    assert booked[0]["estimated_arrival"] == "08:36"
    stored = engine.booking(booked[0]["code"].lower())  # codes are read case-insensitively
    assert stored.status == "confirmed" and stored.name == "Erika"
    assert (stored.window_start_s, stored.window_end_s) == (hm("08:00"), hm("08:15"))
    assert stored.direct_s == ANGER_EICHE_S and stored.max_ride_s == MAX_RIDE_S
    assert (stored.est_pickup_s, stored.est_arrival_s) == (hm("08:00"), hm("08:36"))
    assert stored.latest_dropoff_s is None and stored.vehicle_id == "BUS"
    [version] = plan_versions(engine)
    code = stored.code
    assert version.routes == {"BUS": [[code, "pickup"], [code, "dropoff"]]}
    assert version.reason == f"booking {code}"
    assert engine.validate_day(DAY) == []
    with pytest.raises(ConflictError, match="already used"):
        engine.confirm(offer.id, name="Erika", phone="03471 1234")
    with pytest.raises(NotFoundError):
        engine.confirm("no-such-offer", name="Erika", phone="03471 1234")
    with pytest.raises(BookingError) as nameless:
        engine.confirm(engine.offer(trip()).offers[0].id, name=" ", phone="03471 1234")
    assert nameless.value.field == "name"


def test_offers_expire_after_their_time(engine: BookingEngine, clock: Clock) -> None:
    first, second = engine.offer(trip(time="08:00")).offers[:2]
    clock.advance(seconds=300)
    assert engine.confirm(first.id, name="Erika", phone="03471 1234")  # still held
    clock.advance(seconds=1)
    with pytest.raises(ConflictError, match="expired"):
        engine.confirm(second.id, name="Max", phone="03471 5678")


def test_the_last_seat_goes_to_one_of_two_confirmations(engine: BookingEngine) -> None:
    book(engine, trip(time="08:00"), "Erika")  # one of two seats
    offers = [engine.offer(trip(time="08:00")).offers[0] for _ in range(2)]
    assert all(o.window_start_s == hm("08:00") for o in offers)  # both see the last seat
    barrier = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def confirm(k: int) -> None:
        barrier.wait()
        try:
            outcomes[k] = engine.confirm(offers[k].id, name=f"Rider {k}", phone="03471 1234")
        except ConflictError as exc:
            outcomes[k] = exc

    threads = [threading.Thread(target=confirm, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    refused = [o for o in outcomes if isinstance(o, ConflictError)]
    assert len(refused) == 1, outcomes
    assert refused[0].field == "offer_id" and "no longer available" in refused[0].reason
    with engine.store.session() as session:
        riders = session.scalars(select(Booking.name).where(Booking.status == "confirmed"))
        assert sorted(riders) in (["Erika", "Rider 0"], ["Erika", "Rider 1"])
    assert engine.validate_day(DAY) == []


def test_a_full_bus_names_the_nearest_times_that_fit(engine: BookingEngine) -> None:
    book(engine, trip(time="08:00"), "Erika")
    book(engine, trip(time="08:00"), "Max")
    result = engine.offer(trip(time="08:00"))
    assert result.offers == () and result.reason == "fully_booked"
    # the bus is back at Anger at 08:00 + 1 + 35 + 1 + 35 = 09:12, within 09:00-09:15; a
    # ride before must be back by 08:15, so picked up by 07:03: 07:00 fits, 07:15 does not
    assert result.alternatives == ("09:00", "07:00", "09:15")
    for time in result.alternatives:
        assert engine.offer(trip(time=time)).offers[0].window_start_s == hm(time)


def test_cancelling_frees_the_seat(engine: BookingEngine) -> None:
    book(engine, trip(time="08:00"), "Erika")
    max_ = book(engine, trip(time="08:00"), "Max")
    assert engine.offer(trip(time="08:00")).reason == "fully_booked"
    cancelled = engine.cancel(max_["code"])
    assert cancelled["status"] == "cancelled"
    assert engine.booking(max_["code"]).status == "cancelled"
    assert windows(engine.offer(trip(time="08:00")))[0] == (hm("08:00"), hm("08:15"))
    latest = plan_versions(engine)[-1]
    assert latest.reason == f"cancelled {max_['code']}"
    assert [code for code, _ in stored_routes(engine)["BUS"]].count(max_["code"]) == 0
    with pytest.raises(ConflictError, match="already cancelled"):
        engine.cancel(max_["code"])
    with pytest.raises(NotFoundError):
        engine.cancel("NOSUCHCODE")


def test_a_no_show_is_recorded_only_from_the_window_start(
    engine: BookingEngine, clock: Clock
) -> None:
    booked = book(engine, trip(time="08:00"))
    with pytest.raises(ConflictError, match="starts at 08:00"):
        engine.no_show(booked["code"])
    clock.now = datetime(2026, 12, 2, 6, 59, tzinfo=UTC)  # 07:59 in Berlin
    with pytest.raises(ConflictError):
        engine.no_show(booked["code"])
    clock.advance(minutes=1)  # 08:00, the window starts
    assert engine.no_show(booked["code"])["status"] == "no_show"
    assert engine.booking(booked["code"]).status == "no_show"
    latest = plan_versions(engine)[-1]
    assert latest.reason == f"no_show {booked['code']}"
    assert not any(stored_routes(engine).values())  # the bus no longer goes to fetch the rider


def test_a_linked_return_is_confirmed_with_the_outward_ride(engine: BookingEngine) -> None:
    outward = engine.offer(trip(ANGER, EICHE, "08:00")).offers[0]
    back = engine.offer(trip(EICHE, ANGER, "12:00")).offers[0]
    assert (back.est_pickup_s, back.est_arrival_s) == (hm("12:00"), hm("12:36"))
    first, second = engine.confirm(
        outward.id, name="Erika", phone="03471 1234", return_offer_id=back.id
    )
    assert first["linked_code"] == second["code"] and second["linked_code"] == first["code"]
    assert (first["origin"]["name"], second["origin"]["name"]) == ("Anger", "Eiche")
    assert second["pickup_window"] == ["12:00", "12:15"]
    assert second["estimated_arrival"] == "12:36"
    stops = stored_routes(engine)["BUS"]
    assert stops == [
        [first["code"], "pickup"],
        [first["code"], "dropoff"],
        [second["code"], "pickup"],
        [second["code"], "dropoff"],
    ]


def test_a_return_that_no_longer_fits_books_neither_ride(
    engine: BookingEngine, catalog: StopCatalog, clock: Clock
) -> None:
    outward = engine.offer(trip(ANGER, EICHE, "08:00")).offers[0]
    back = engine.offer(trip(EICHE, ANGER, "12:00")).offers[0]
    book(engine, trip(EICHE, ANGER, "12:00"), "Max")
    book(engine, trip(EICHE, ANGER, "12:00"), "Moritz")  # the return's seats are gone
    with pytest.raises(ConflictError):
        engine.confirm(outward.id, name="Erika", phone="03471 1234", return_offer_id=back.id)
    with engine.store.session() as session:
        names = session.scalars(select(Booking.name))
        assert sorted(names) == ["Max", "Moritz"]
    # the outward ride was planned inside the failed transaction: offers, which read the day
    # kept in memory, must not see it, not even once another process has written the day
    # since (a party of two fits at 08:00 only if both seats are free)
    other = BookingEngine(engine.service, catalog, open_store(engine.store.url), clock=clock)
    book(other, trip(ANGER, EICHE, "16:00"), "Lotte")
    pair = engine.offer(trip(ANGER, EICHE, "08:00", passengers=2))
    assert windows(pair)[0] == (hm("08:00"), hm("08:15"))


def test_offers_see_bookings_made_by_another_server_process(
    engine: BookingEngine, catalog: StopCatalog, clock: Clock
) -> None:
    """Each process keeps the days it offers in memory; the day's version tells it when
    another process (here a second engine on the same database) has written the day."""
    other = BookingEngine(engine.service, catalog, open_store(engine.store.url), clock=clock)
    assert windows(engine.offer(trip(time="08:00")))[0] == (hm("08:00"), hm("08:15"))
    book(other, trip(time="08:00"), "Erika")
    book(other, trip(time="08:00"), "Max")  # both seats at 08:00, booked elsewhere
    result = engine.offer(trip(time="08:00"))
    assert result.offers == () and result.reason == "fully_booked"
    engine_code = book(engine, trip(time="10:00"), "Moritz")["code"]
    other.cancel(engine_code)
    assert windows(engine.offer(trip(time="10:00", passengers=2)))[0] == (hm("10:00"), hm("10:15"))


def test_promises_hold_after_many_bookings_and_a_reoptimisation(
    make_engine: Callable[..., BookingEngine],
) -> None:
    engine = make_engine(buses=2)
    # booked one by one, each into the plan as it stands, these leave room for a re-plan
    # that costs 3000 s less, about 50 min of driving (found by trying random days)
    wishes = [
        trip(EICHE, DORF, "12:00", kind="arrival", passengers=2, wheelchairs=1),
        trip(ANGER, HOF, "09:00"),
        trip(DORF, EICHE, "09:45"),
        trip(ANGER, HOF, "09:00"),
        trip(DORF, EICHE, "08:45"),
        trip(BERG, ANGER, "08:30"),
        trip(HOF, EICHE, "08:00"),
    ]
    codes = []
    for wish in wishes:
        offer = engine.offer(wish, with_alternatives=False).offers[0]
        codes.append(engine.confirm(offer.id, name="Rider", phone="03471 1234")[0]["code"])
    promised = {c: engine.booking(c) for c in codes}
    before = stored_routes(engine)
    result = engine.optimize(DAY, time_limit=2)
    assert result["stored"], result["reason"]
    assert result["cost_after"] < result["cost_before"]
    assert plan_versions(engine)[-1].reason == "re-optimisation"
    after = stored_routes(engine)
    assert after != before
    assert engine.validate_day(DAY) == []
    served = [code for stops in after.values() for code, _ in stops]
    assert sorted(served) == sorted(c for c in codes for _ in range(2))
    for code in codes:
        b, old = engine.booking(code), promised[code]
        # the promise itself never changes; the estimates move within it
        assert (b.window_start_s, b.window_end_s) == (old.window_start_s, old.window_end_s)
        assert (b.max_ride_s, b.latest_dropoff_s) == (old.max_ride_s, old.latest_dropoff_s)
        assert b.window_start_s <= b.est_pickup_s <= b.window_end_s
        assert b.est_arrival_s - b.est_pickup_s - BOARDING_S <= b.max_ride_s + 1e-6
        if b.latest_dropoff_s is not None:
            assert b.est_arrival_s <= b.latest_dropoff_s


def assert_memory_is_the_database(engine: BookingEngine, day: date = DAY) -> None:
    """The day kept in memory equals the day loaded afresh from the database."""
    with engine.store.session() as session:
        kept = engine.days.open_day(session, day.isoformat())
        fresh = engine.days.load(session, day.isoformat())
    assert kept.instance.requests == fresh.instance.requests  # same promises, same order
    assert [list(r) for r in kept.routes] == fresh.routes
    assert assemble_plan(kept.instance, kept.timed) == fresh.plan()  # same times, to the bit
    prepared = prepare(fresh.table, fresh.routes, engine.service.objective)
    for name in ("lengths", "usable"):
        assert np.array_equal(getattr(kept.prepared, name), getattr(prepared, name)), name
    # the arrays are as wide as the longest route was when built: compare what routes hold
    for v, m in enumerate(prepared.lengths):
        assert kept.prepared.route(v) == prepared.route(v)
        assert np.array_equal(kept.prepared.data.times[v, : m + 2], prepared.data.times[v, : m + 2])
    assert np.array_equal(kept.prepared.arrays.earliest, prepared.arrays.earliest)


def test_the_day_in_memory_is_the_day_in_the_database_after_any_sequence_of_writes(
    make_engine: Callable[..., BookingEngine], catalog: StopCatalog, clock: Clock
) -> None:
    """Seeded random offers, confirmations, cancellations, no-shows, re-optimisations and
    bookings by a second engine on the same database; after every step, what offers read
    from memory is what the database holds, and every stored plan passes the validator."""
    engine = make_engine(buses=3)
    other = BookingEngine(engine.service, catalog, open_store(engine.store.url), clock=clock)
    rng = random.Random(12)
    places = [HOF, ANGER, BERG, DORF, EICHE, ANGER_POST]
    codes: list[str] = []
    done = {"confirm": 0, "other": 0, "cancel": 0, "no_show": 0, "optimize": 0}

    def book_one(by: BookingEngine, earliest_hour: int) -> None:
        origin, destination = rng.sample(places, 2)
        wish = f"{rng.randrange(earliest_hour, 18):02d}:{rng.choice(['00', '15', '30', '45'])}"
        result = by.offer(trip(origin, destination, wish), with_alternatives=False)
        if result.offers:
            offer = rng.choice(result.offers)
            codes.append(by.confirm(offer.id, name="Rider", phone="03471 1234")[0]["code"])
            done["confirm" if by is engine else "other"] += 1

    for step in range(70):
        if step == 50:  # the service day has begun: riders may now be missing
            clock.now = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)  # 12:00 in Berlin
        action = rng.random()
        if step >= 50 and action < 0.3:
            started = [c for c in codes if engine.may_mark_no_show(engine.booking(c))
                       and engine.booking(c).status == "confirmed"]  # fmt: skip
            if started:
                engine.no_show(rng.choice(started))
                done["no_show"] += 1
        elif action < 0.55:
            book_one(engine, 13 if step >= 50 else 7)
        elif action < 0.7:
            book_one(other, 13 if step >= 50 else 7)
        elif action < 0.85:
            live = [c for c in codes if engine.booking(c).status == "confirmed"]
            if live:
                rng.choice([engine, other]).cancel(rng.choice(live))
                done["cancel"] += 1
        else:
            engine.optimize(DAY, time_limit=0.5)
            done["optimize"] += 1
        assert_memory_is_the_database(engine)
        assert engine.validate_day(DAY) == []
    assert all(count >= 3 for count in done.values()), done


def test_a_booking_stores_only_the_route_it_changed(
    make_engine: Callable[..., BookingEngine], catalog: StopCatalog, clock: Clock
) -> None:
    """The plan history grows with the changes, not by the whole plan per write (a day of
    2,000 bookings on 40 buses wrote about 2,000 whole plans); the whole plan is read back
    from the last full version, also when another engine wrote in between."""
    engine = make_engine(buses=3)
    other = BookingEngine(engine.service, catalog, open_store(engine.store.url), clock=clock)
    wishes = [trip(ANGER, EICHE, f"{h:02d}:00") for h in range(7, 19)]
    wishes += [trip(HOF, BERG, f"{h:02d}:30") for h in range(7, 19)]
    plans = []
    for k, wish in enumerate(wishes):
        book(other if k % 5 == 4 else engine, wish)
        with engine.store.session() as session:
            plans.append(engine.days.load(session, DAY.isoformat()).plan())
    versions = plan_versions(engine)
    assert len(versions) == len(wishes)
    deltas = [v for v in versions if not v.full]
    assert len(deltas) >= len(wishes) // 2
    for version in deltas:  # a booking by insertion changes one bus; the others stay None
        assert sum(stops is not None for stops in version.routes.values()) == 1
        assert set(version.routes) == {r.vehicle_id for r in plans[version.version - 1].routes}
    fulls = [v.version for v in versions if v.full]
    gaps = [b - a for a, b in zip(fulls, [*fulls[1:], len(versions) + 1], strict=True)]
    assert max(gaps) <= 4  # a whole plan at least once per 4 versions (3 buses)
    with engine.store.session() as session:
        version, routes = stored_plan(session, DAY.isoformat())
    assert version == len(wishes)
    expected = {r.vehicle_id: [[x.request_id, x.kind] for x in r.visits] for r in plans[-1].routes}
    assert routes == expected
    assert_memory_is_the_database(engine)
    assert engine.validate_day(DAY) == []


def test_a_server_keeps_only_the_recently_used_days_in_memory(
    engine: BookingEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server runs for months: days it no longer offers must not pile up in memory."""
    import planner.booking.day as day_module

    monkeypatch.setattr(day_module, "MAX_OPEN_DAYS", 2)
    days = [DAY + timedelta(days=k) for k in range(3)]
    book(engine, trip(time="08:00", day=days[0]), "Erika")
    for d in days[1:]:
        assert windows(engine.offer(trip(time="08:00", day=d)))[0] == (hm("08:00"), hm("08:15"))
    assert list(engine.days._open) == [d.isoformat() for d in days[1:]]
    # the dropped day is read again, with its booking
    pair = engine.offer(trip(time="08:00", day=days[0], passengers=2))
    assert (hm("08:00"), hm("08:15")) not in windows(pair)
    assert list(engine.days._open) == [d.isoformat() for d in (days[2], days[0])]


#: Booked one by one into two buses with insertion only, these leave no single gap for
#: ``REPAIRED``; the buses have room for it once riders already booked move within their
#: promises (found by trying random days).
FILLED = [
    trip(HOF, ANGER_POST, "07:30"),
    trip(ANGER_POST, BERG, "09:15", passengers=2),
    trip(HOF, EICHE, "08:45", passengers=2),
    trip(DORF, EICHE, "09:45", passengers=2),
    trip(BERG, HOF, "07:30"),
    trip(BERG, DORF, "10:15", passengers=2),
    trip(BERG, ANGER, "08:30", passengers=2),
]
REPAIRED = trip(ANGER_POST, EICHE, "09:30")


def test_a_wish_no_gap_fits_is_offered_by_replanning_the_day_around_it(
    make_engine: Callable[..., BookingEngine], clock: Clock
) -> None:
    engine = make_engine(buses=2)
    screen_only = BookingEngine(
        dataclasses.replace(engine.service, repair_s=0.0), engine.catalog, engine.store, clock=clock
    )
    codes = [book(screen_only, wish)["code"] for wish in FILLED]
    promised = {code: engine.booking(code) for code in codes}
    refused = screen_only.offer(REPAIRED, with_alternatives=False)
    assert not refused.offers and refused.reason == "fully_booked"

    offer = engine.offer(REPAIRED, with_alternatives=False).offers[0]
    assert offer.window_start_s == REPAIRED.time_s
    booked = engine.confirm(offer.id, name="Rider", phone="03471 1234")[0]
    assert booked["status"] == "confirmed"
    assert engine.validate_day(DAY) == []
    routes = stored_routes(engine)
    served = sorted(code for stops in routes.values() for code, _ in stops)
    assert served == sorted(c for c in [*codes, booked["code"]] for _ in range(2))
    assert sum(1 for stops in routes.values() if stops) == 2  # room was made across the buses
    for code in codes:  # the others moved, within what they were promised
        b, old = engine.booking(code), promised[code]
        assert (b.window_start_s, b.window_end_s) == (old.window_start_s, old.window_end_s)
        assert b.window_start_s <= b.est_pickup_s <= b.window_end_s
        assert b.est_arrival_s - b.est_pickup_s - BOARDING_S <= b.max_ride_s + 1e-6
    assert_memory_is_the_database(engine)


def test_a_repaired_offer_is_not_booked_once_the_day_moved_on(
    make_engine: Callable[..., BookingEngine], clock: Clock
) -> None:
    """The offer holds the routes its repair made; a booking made meanwhile is not in them,
    so the confirmation refuses rather than drop anyone, and nothing is written."""
    engine = make_engine(buses=2)
    for wish in FILLED:
        book(engine, wish)
    repaired = engine.offer(REPAIRED, with_alternatives=False).offers[0]
    before = plan_versions(engine)
    other = engine.offer(trip(HOF, ANGER, "10:30"), with_alternatives=False).offers[0]
    engine.confirm(other.id, name="Other", phone="03471 1234")
    with pytest.raises(ConflictError) as refused:
        engine.confirm(repaired.id, name="Rider", phone="03471 1234")
    assert refused.value.code == "offer_taken"
    assert len(plan_versions(engine)) == len(before) + 1  # only the other booking
    assert engine.validate_day(DAY) == []
