"""The timetable of a service date: calendars, stop places, walking links, caching."""

from __future__ import annotations

import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest

from routing.errors import DataMissingError, RoutingError
from routing.settings import Settings
from routing.sources.gtfs import read_stop_network
from routing.timetable import TimetableCache, read_feeds, walk_links

WEDNESDAY, SATURDAY, SUNDAY = date(2026, 12, 2), date(2026, 12, 5), date(2026, 12, 6)


def test_calendars_decide_the_trips_of_a_day(timetable: TimetableCache) -> None:
    wednesday, saturday, sunday = (timetable.get(d) for d in (WEDNESDAY, SATURDAY, SUNDAY))
    # KVG runs about 1,100 trips on a weekday, far fewer at the weekend
    assert len(wednesday.trips) == 1099
    assert len(saturday.trips) == 196
    assert len(sunday.trips) == 109
    line_140 = [t for t in wednesday.trips if t.line == "140"]
    assert 20 <= len(line_140) <= 30  # Aschersleben <-> Quedlinburg, about 24 a weekday
    assert len([t for t in sunday.trips if t.line == "140"]) < len(line_140)


def test_trips_have_times_in_seconds_and_places_as_nodes(timetable: TimetableCache) -> None:
    tt = timetable.get(WEDNESDAY)
    aschersleben = tt.node_named("Aschersleben, Busbahnhof")
    quedlinburg = tt.node_named("Quedlinburg, Bahnhof (Bus)")
    trip = next(
        t for t in tt.trips if t.line == "140" and t.nodes[0] == aschersleben and
        t.departure_s[0] == 7 * 3600 + 46 * 60
    )  # fmt: skip
    assert trip.nodes[-1] == quedlinburg
    assert trip.arrival_s[-1] == 8 * 3600 + 19 * 60  # 07:46 -> 08:19, 33 minutes
    assert list(trip.departure_s) == sorted(trip.departure_s)
    events = tt.departures_between(aschersleben, 7 * 3600 + 46 * 60, 7 * 3600 + 46 * 60)
    assert any(tt.trips[t].trip_id == trip.trip_id and pos == 0 for _, t, pos in events)


def test_no_boarding_where_pickup_type_is_1(timetable: TimetableCache) -> None:
    # this weekday trip of line 110 lets riders off only from stop 12 on (drop_off_type 1
    # before), and on only up to stop 11 (pickup_type 1 after)
    tt = timetable.get(WEDNESDAY)
    trip = next(t for t in tt.trips if t.trip_id == "100433177")
    assert trip.line == "110"
    assert trip.can_alight[1:12] == (False,) * 11
    assert trip.can_board[12] is False and trip.can_alight[12] is True
    events = [
        e
        for n in trip.nodes
        for e in tt.departures.get(n, ())
        if e[1:] == (tt.trips.index(trip), 12)
    ]
    assert events == []


def test_stop_places_are_the_road_networks(settings: Settings, timetable: TimetableCache) -> None:
    network = read_stop_network(settings.data_file("gtfs"))
    places = timetable.feeds.places
    assert places[["name", "x", "y", "stop_ids"]].equals(
        network.places[["name", "x", "y", "stop_ids"]]
    )


def test_walk_links_are_symmetric_and_within_the_radius(timetable: TimetableCache) -> None:
    walks = walk_links(timetable.feeds.places, max_m=400, speed_mps=1.2)
    assert walks
    for node, near in walks.items():
        for other, seconds in near:
            assert 0 <= seconds <= 400 / 1.2 + 1
            assert node in {n for n, _ in walks[other]}
    assert walk_links(timetable.feeds.places, max_m=0) == {}


def test_cache_keeps_a_few_dates(settings: Settings) -> None:
    cache = TimetableCache([settings.data_file("gtfs")], max_dates=2)
    first = cache.get(SATURDAY)
    assert cache.get(SATURDAY) is first
    cache.get(SUNDAY)
    cache.get(WEDNESDAY)
    assert cache.get(SATURDAY) is not first  # dropped and built again


def test_further_feeds_join_places_and_prefix_trip_ids(settings: Settings) -> None:
    path = settings.data_file("gtfs")
    feeds = read_feeds([path, path])
    assert len(feeds.places) == 593  # the same stops join the same places
    tt = TimetableCache([path, path]).get(SUNDAY)
    assert len(tt.trips) == 2 * 109
    assert sum(t.trip_id.startswith("1:") for t in tt.trips) == 109


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda p: p / "missing.zip", DataMissingError, "GTFS file not found"),
        (
            lambda p: (p / "bad.zip").write_text("x") and p / "bad.zip",
            RoutingError,
            "not a GTFS zip",
        ),
        (
            lambda p: zipfile.ZipFile(p / "empty.zip", "w").close() or p / "empty.zip",
            DataMissingError,
            "stops.txt: the GTFS feed has no such table",
        ),
    ],
)
def test_bad_feeds_name_the_file(tmp_path: Path, make, error, message) -> None:
    with pytest.raises(error, match=message):
        read_feeds([make(tmp_path)])


def test_feed_period_and_days_it_does_not_cover(timetable: TimetableCache) -> None:
    assert timetable.period == (date(2026, 6, 5), date(2027, 6, 4))
    assert timetable.covers(date(2027, 6, 4)) and not timetable.covers(date(2027, 6, 5))
    # past the feed's end the day has no known lines (an empty timetable, not a crash)
    assert timetable.get(date(2027, 6, 5)).trips == ()
    assert timetable.get(date(2026, 6, 4)).trips == ()


def test_concurrent_requests_for_one_date_build_it_once(settings: Settings) -> None:
    cache = TimetableCache([settings.data_file("gtfs")])
    assert len(cache.feeds.places)  # read the files first: the race is about building the day
    with ThreadPoolExecutor(max_workers=6) as pool:
        built = list(pool.map(lambda _: cache.get(SATURDAY), range(6)))
    assert all(tt is built[0] for tt in built)
    assert cache.builds == 1
