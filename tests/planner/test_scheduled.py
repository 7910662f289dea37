"""Scheduled lines first: the booking engine with the KVG timetable on (real data)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from planner.booking import BookingEngine, parse_trip_request
from planner.errors import BookingError, ServiceFileError
from planner.service import DEFAULT_SERVICE_FILE, load_service
from planner.stops import StopCatalog
from planner.store.db import Store
from tests.web.helpers import DAY, Clock

ASCHERSLEBEN = "Aschersleben, Busbahnhof"
BERNBURG = "Bernburg (Saale), Busbahnhof"
STASSFURT = "Staßfurt, Bahnhof (Bus)"


@pytest.fixture
def engine(catalog: StopCatalog, store: Store, clock: Clock, timetable) -> BookingEngine:
    return BookingEngine(load_service(), catalog, store, clock=clock, timetable=timetable)


def ask(engine: BookingEngine, **body) -> dict:
    trip = parse_trip_request({"date": DAY, **body}, engine.catalog, engine.service)
    return engine.offer(trip).to_json()


def test_a_line_near_the_wish_replaces_the_bus(engine: BookingEngine) -> None:
    # line 146 leaves Aschersleben 06:40 for Staßfurt (arrives 07:06): 5 min after the wish
    result = ask(engine, origin=ASCHERSLEBEN, destination=STASSFURT, time="06:35")
    assert result["offers"] == []
    assert result["reason"] == "scheduled_line"
    assert "line 146 leaves at 06:40" in result["message"]
    first = result["scheduled"][0]
    assert (first["lines"], first["departure"], first["arrival"]) == (["146"], "06:40", "07:06")
    assert first["transfers"] == 0
    assert first["legs"][0]["from"]["name"] == ASCHERSLEBEN
    assert first["legs"][0]["to"]["name"] == STASSFURT


def test_no_line_near_the_wish_offers_the_bus(engine: BookingEngine) -> None:
    result = ask(engine, origin=ASCHERSLEBEN, destination=STASSFURT, time="13:00")
    assert result["offers"] and "reason" not in result and "scheduled" not in result


def test_the_rule_window_is_15_before_to_45_after(engine: BookingEngine) -> None:
    # 06:40 is 46 min after 05:54 (too late) and 15 min before 06:55 (just in)
    assert ask(engine, origin=ASCHERSLEBEN, destination=STASSFURT, time="06:55")["scheduled"][0][
        "departure"
    ] in ("06:40", "07:38", "07:44")
    early = ask(engine, origin=ASCHERSLEBEN, destination=STASSFURT, time="05:54")
    assert all(c["departure"] != "06:40" for c in early.get("scheduled", []))


def test_one_transfer_connections_count(engine: BookingEngine) -> None:
    result = ask(engine, origin=ASCHERSLEBEN, destination=STASSFURT, time="07:35")
    assert result["reason"] == "scheduled_line"
    first = result["scheduled"][0]
    assert first["lines"] == ["145", "160"] and first["transfers"] == 1
    assert first["legs"][0]["to"]["name"] == "Schadeleben, Friedhofsweg"


def test_arrive_by_looks_at_arrivals_before_the_deadline(engine: BookingEngine) -> None:
    # line 158 leaves Bernburg 08:33 and reaches Staßfurt 09:04
    result = ask(engine, origin=BERNBURG, destination=STASSFURT, time="09:05", kind="arrival")
    assert result["reason"] == "scheduled_line"
    assert result["scheduled"][0]["arrival"] <= "09:05"
    assert any(c["lines"] == ["158"] for c in result["scheduled"])


def test_calendars_are_respected(engine: BookingEngine) -> None:
    sunday = date(2026, 12, 6).isoformat()
    weekday = ask(engine, origin=ASCHERSLEBEN, destination=STASSFURT, time="06:35")
    result = ask(engine, origin=ASCHERSLEBEN, destination=STASSFURT, time="06:35", date=sunday)
    assert weekday["reason"] == "scheduled_line"
    assert result["offers"] and "scheduled" not in result  # no line 146 on a Sunday morning


def test_short_trips_are_refused(engine: BookingEngine) -> None:
    catalog = engine.catalog
    origin = catalog.resolve(BERNBURG, field="origin")
    row = catalog.distance_m[catalog.row[origin]]
    near = min((n for n in catalog.nodes if n != origin), key=lambda n: row[catalog.row[n]])
    assert row[catalog.row[near]] < 1000
    result = ask(engine, origin=origin, destination=near, time="13:00")
    assert result["offers"] == [] and result["reason"] == "too_short"
    assert "at least 1.0 km" in result["message"]


def test_feeder_combination_and_booking(engine: BookingEngine) -> None:
    # no line near the wish from Schackenthal; the bus to Alsleben meets line 116 at 14:55
    result = ask(engine, origin="Schackenthal", destination="Bernburg (Saale), Tiergarten",
                 time="14:35")  # fmt: skip
    assert result["offers"]
    feeder = result["feeders"][0]
    assert feeder["hub"]["name"] == "Alsleben (Saale), Schule"
    assert (feeder["line"], feeder["departure"], feeder["arrive_by"]) == ("116", "14:55", "14:50")

    connection = {"stop": feeder["hub"]["id"], "line": "116", "departure": "14:55"}
    offers = ask(engine, origin="Schackenthal", connection=connection)
    assert offers["offers"]
    assert all(o["estimated_arrival"] <= "14:50" for o in offers["offers"])
    (booking,) = engine.confirm(offers["offers"][0]["offer_id"], name="Anna", phone="03471 1234")
    expected = {"stop": feeder["hub"], "line": "116", "departure": "14:55"}
    assert booking["connection"] == expected
    # the promise keeps the connection: at the hub by 14:50 at the latest (the default
    # fleet's drivers change at 14:30, so the bus may have to come earlier)
    assert booking["latest_arrival"] is not None and booking["latest_arrival"] <= "14:50"
    plan = engine.day_plan(date.fromisoformat(DAY))
    assert [s.connection for _, s in plan.stops() if s.kind == "dropoff"] == [expected]


@pytest.mark.parametrize(
    ("connection", "field", "message"),
    [
        ("140 at 9", "connection", "should be a valid dictionary"),
        ({"stop": STASSFURT, "departure": "06:40"}, "connection.line", "is required"),
        ({"stop": STASSFURT, "line": "146", "departure": "6.40"}, "connection.departure", "HH:MM"),
        (
            {"stop": "Nowhere", "line": "146", "departure": "06:40"},
            "connection.stop",
            "no bookable",
        ),
        ({"stop": STASSFURT, "line": "146", "departure": "06:41"}, "connection", "does not leave"),
    ],
)
def test_bad_feeder_connections(engine: BookingEngine, connection, field, message) -> None:
    with pytest.raises(BookingError, match=message) as info:
        ask(engine, origin=ASCHERSLEBEN, connection=connection)
    assert info.value.field == field


def test_a_feeder_is_arrive_by(engine: BookingEngine) -> None:
    connection = {"stop": STASSFURT, "line": "146", "departure": "06:40"}
    with pytest.raises(BookingError, match="feeder trip is 'arrival'"):
        ask(engine, origin=ASCHERSLEBEN, connection=connection, kind="pickup")


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("rule_before_min = -1", "timetable.rule_before_min"),
        ("walk_max_m = 5000", "timetable.walk_max_m"),
        ('feeds = [""]', "timetable.feeds"),
        ("check = 1", "timetable.check"),
    ],
)
def test_timetable_keys_are_checked(tmp_path: Path, line: str, field: str) -> None:
    text = DEFAULT_SERVICE_FILE.read_text(encoding="utf-8")
    key = line.split(" =")[0]
    text = "\n".join(
        line if row.startswith(f"{key} ") else row for row in text.splitlines()
    )  # replaces the key's row in [timetable]
    path = tmp_path / "service.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ServiceFileError) as info:
        load_service(path)
    assert info.value.field == f"{path}:{field}"


def test_default_service_checks_the_timetable() -> None:
    service = load_service()
    rule = service.timetable
    assert rule.check and (rule.before_s, rule.after_s) == (15 * 60, 45 * 60)
    assert service.min_trip_m == 1000 and rule.transfer_buffer_s == 5 * 60
