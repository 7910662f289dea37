"""``rufbus export``: the service as GTFS-Flex, a day's plan as GeoJSON, CSV and GTFS."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import gtfs_kit as gk
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from planner.booking import BookingEngine, parse_trip_request
from planner.export.gtfs_flex import FLEX_REQUIRED, check_flex, read_tables
from planner.service import DEFAULT_SERVICE_FILE, load_service
from planner.store.db import Booking
from routing.settings import Settings
from tests.web.helpers import DAY
from web.cli import main


def env(settings: Settings, db_url: str = "sqlite:///:memory:") -> dict[str, str]:
    return {
        "DATABASE_URL": db_url,
        "RUFBUS_DATA_DIR": str(settings.data_dir),
        "RUFBUS_CACHE_DIR": str(settings.cache_dir),
        "RUFBUS_SECRET_KEY": "cli",
    }


@pytest.fixture(scope="module")
def service_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default service with a (made-up) hotline and booking page."""
    text = DEFAULT_SERVICE_FILE.read_text(encoding="utf-8")
    text = text.replace('phone = ""', 'phone = "+49 3471 000000"', 1)
    text = text.replace('booking_url = ""', 'booking_url = "https://rufbus.example.org/"', 1)
    path = tmp_path_factory.mktemp("service") / "service.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def flex_feed(
    settings: Settings, service_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    out = tmp_path_factory.mktemp("flex") / "feed.zip"
    args = ["export", "gtfs-flex", "--service", str(service_file), "--out", str(out),
            "--start", "2026-12-01", "--days", "365"]  # fmt: skip
    result = CliRunner().invoke(main, args, env=env(settings))
    assert result.exit_code == 0, result.output
    assert "stops in one location group, 2 trips, 2026-12-01 to 2027-11-30" in result.output
    return out


def test_flex_feed_reads_with_gtfs_kit(flex_feed: Path) -> None:
    feed = gk.read_feed(flex_feed, dist_units="km")  # skips the Flex files it does not know
    assert feed.agency["agency_name"].tolist() == ["Rufbus Salzland"]
    assert feed.routes["route_type"].tolist() == [3]
    assert set(feed.trips["trip_id"]) == {"rufbus-day", "rufbus-night"}
    assert feed.get_active_services("20261206") == ["rufbus"]  # a Sunday too
    assert feed.get_active_services("20271201") == []
    assert len(feed.stops) > 900 and feed.stops["stop_id"].is_unique
    assert "de:15089:4749::01" in set(feed.stops["stop_id"])  # KVG's id for Staßfurt, Bahnhof


def test_flex_feed_has_every_required_file_and_field(flex_feed: Path) -> None:
    tables = read_tables(flex_feed)
    for name, columns in FLEX_REQUIRED.items():
        assert name in tables, name
        assert set(columns) <= set(tables[name].columns), name
    service = load_service()
    assert check_flex(tables, hours=(service.first_pickup_s, service.last_dropoff_s)) == []


def test_flex_feed_ids_resolve_and_windows_fit(flex_feed: Path) -> None:
    t = read_tables(flex_feed)
    st = t["stop_times.txt"]
    assert (st["stop_id"] == "").all() and (st["arrival_time"] == "").all()
    assert set(st["location_group_id"]) == set(t["location_groups.txt"]["location_group_id"])
    members = set(t["location_group_stops.txt"]["stop_id"])
    assert members == set(t["stops.txt"]["stop_id"])
    rules = set(t["booking_rules.txt"]["booking_rule_id"])
    assert set(st["pickup_booking_rule_id"]) | set(st["drop_off_booking_rule_id"]) == rules
    # pick up in the first row, drop off in the second; both by booking (type 2)
    assert st[["pickup_type", "drop_off_type"]].values.tolist() == [["2", "1"], ["1", "2"]] * 2
    windows = st[["start_pickup_drop_off_window", "end_pickup_drop_off_window"]]
    assert (
        windows.values.tolist() == [["05:30:00", "21:00:00"]] * 2 + [["21:00:00", "23:30:00"]] * 2
    )
    day = t["booking_rules.txt"].set_index("booking_rule_id").loc["day"]
    assert (day["booking_type"], day["prior_notice_duration_min"]) == ("1", "60")
    assert day["prior_notice_duration_max"] == str(14 * 24 * 60)
    assert day["phone_number"] == "+49 3471 000000"
    assert day["booking_url"] == "https://rufbus.example.org/"


def test_check_flex_finds_broken_feeds(flex_feed: Path) -> None:
    tables = read_tables(flex_feed)
    st = tables["stop_times.txt"]
    st.loc[0, "pickup_booking_rule_id"] = "nope"
    st.loc[1, "arrival_time"] = "08:00:00"
    st.loc[2, "end_pickup_drop_off_window"] = "25:00:00"
    tables["location_group_stops.txt"].loc[0, "stop_id"] = "ghost"
    del tables["booking_rules.txt"]["booking_type"]
    assert check_flex(tables) == ["booking_rules.txt: no column booking_type"]
    tables["booking_rules.txt"]["booking_type"] = "1"
    problems = check_flex(tables, hours=(5 * 3600, 24 * 3600))
    assert "location_group_stops.txt: stop_id 'ghost' not in stops.txt" in problems
    assert "stop_times.txt row 1: pickup_booking_rule_id 'nope' not in booking_rules.txt" in (
        problems
    )
    assert "stop_times.txt row 2: arrival/departure times are forbidden with windows" in problems
    assert "stop_times.txt row 3: window outside the service hours" in problems


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "1.12.2026"], "--start: expected YYYY-MM-DD"),
        (["--days", "0"], "--days: must be from 1 to 3660"),
        (["--out", "feed.txt"], "--out: must be a .zip file"),
    ],
)
def test_flex_bad_input(
    settings: Settings, service_file: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    base = ["export", "gtfs-flex", "--service", str(service_file), "--out", str(tmp_path / "f.zip")]
    result = CliRunner().invoke(main, base + args, env=env(settings))
    assert result.exit_code == 2 and message in result.output


def test_flex_needs_a_way_to_book(settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "feed.zip"
    result = CliRunner().invoke(main, ["export", "gtfs-flex", "--out", str(out)], env=env(settings))
    assert result.exit_code == 2
    assert "phone: set phone or booking_url in the service file" in result.output
    assert not out.exists()


@pytest.fixture
def booked_day(engine: BookingEngine) -> BookingEngine:
    for origin, destination, time in (
        ("Bernburg (Saale), Busbahnhof", "Staßfurt, Bahnhof (Bus)", "08:10"),
        ("Aschersleben, Busbahnhof", "Staßfurt, Bahnhof (Bus)", "09:00"),
    ):
        body = {"origin": origin, "destination": destination, "date": DAY, "time": time}
        trip = parse_trip_request(body, engine.catalog, engine.service)
        offer = engine.offer(trip).offers[0]
        engine.confirm(offer.id, name="Erika Mustermann", phone="03471 123456")
    return engine


def booking_codes(engine: BookingEngine) -> list[str]:
    with engine.store.session() as s:
        return list(s.scalars(select(Booking.code)))


def export_plan(settings: Settings, db_url: str, out: Path, fmt: str, *extra: str) -> str:
    args = ["export", "plan", DAY, "--format", fmt, "--out", str(out), *extra]
    result = CliRunner().invoke(main, args, env=env(settings, db_url))
    assert result.exit_code == 0, result.output
    return result.output


def test_plan_as_geojson_and_csv(
    booked_day: BookingEngine, settings: Settings, db_url: str, tmp_path: Path
) -> None:
    output = export_plan(settings, db_url, tmp_path / "plan.geojson", "geojson")
    assert "4 stops (geojson)" in output
    text = (tmp_path / "plan.geojson").read_text(encoding="utf-8")
    codes = booking_codes(booked_day)
    assert not any(code in text for code in codes)  # a code gives name, phone and cancellation
    data = json.loads(text)
    lines = [f for f in data["features"] if f["geometry"]["type"] == "LineString"]
    points = [f for f in data["features"] if f["geometry"]["type"] == "Point"]
    assert len(points) == 4 and all(len(f["geometry"]["coordinates"]) > 2 for f in lines)
    assert "Erika" not in json.dumps(data)  # no rider details leave the office

    export_plan(settings, db_url, tmp_path / "plan.csv", "csv")
    text = (tmp_path / "plan.csv").read_text("utf-8")
    assert not any(code in text for code in codes) and "Erika" not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    # export-only ids link each pickup to its drop-off
    assert sorted(r["booking_ref"] for r in rows) == ["B001", "B001", "B002", "B002"]
    assert len(rows) == 4 and {r["kind"] for r in rows} == {"pickup", "dropoff"}
    assert {r["stop_name"] for r in rows if r["kind"] == "dropoff"} == {"Staßfurt, Bahnhof (Bus)"}
    assert "rider" not in rows[0] and "phone" not in rows[0]


def test_plan_as_gtfs(
    booked_day: BookingEngine, settings: Settings, db_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "plan.zip"
    export_plan(settings, db_url, out, "gtfs", "--agency-url", "https://rufbus.example.org/")
    feed = gk.read_feed(out, dist_units="km")
    assert feed.get_active_services("20261202") == ["plan-20261202"]
    st = feed.stop_times.sort_values(["trip_id", "stop_sequence"])
    assert set(st["stop_id"]) <= set(feed.stops["stop_id"])
    for _, trip in st.groupby("trip_id"):
        times = trip["arrival_time"].tolist()
        assert times == sorted(times)
    assert (st["pickup_type"] == 0).sum() == 2 and (st["drop_off_type"] == 0).sum() >= 1
    missing = CliRunner().invoke(
        main, ["export", "plan", DAY, "--format", "gtfs", "--out", str(out)],
        env=env(settings, db_url),
    )  # fmt: skip
    assert missing.exit_code == 2 and "agency_url" in missing.output
    bad = CliRunner().invoke(main, ["export", "plan", "2.12.", "--format", "csv", "--out",
                                    str(out)], env=env(settings, db_url))  # fmt: skip
    assert bad.exit_code == 2 and "DAY: expected YYYY-MM-DD" in bad.output
