"""The GTFS stop network: stop places, id mapping, scheduled links."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest

from routing.errors import DataMissingError, RoutingError
from routing.settings import Settings
from routing.sources.gtfs import MIN_LINK_TIME_S, parse_gtfs_time, read_stop_network


def test_stop_places_merge_platforms(settings: Settings) -> None:
    network = read_stop_network(settings.data_file("gtfs"))
    places = network.places
    # 996 stop ids are platforms of 593 stop places (same name and coordinates)
    assert len(places) == 593
    ids = [i for joined in places["stop_ids"] for i in joined.split(";")]
    assert len(ids) == len(set(ids)) == 996
    assert not places.duplicated(["name", "x", "y"]).any()
    stassfurt = places[places["name"] == "Staßfurt, Bahnhof (Bus)"]
    assert len(stassfurt) == 1
    assert "de:15089:4749::01" in stassfurt["stop_ids"].iloc[0].split(";")


def test_links_are_consecutive_stops_with_median_times(settings: Settings) -> None:
    links = read_stop_network(settings.data_file("gtfs")).links
    assert len(links) == 1523
    assert (links["travel_time"] >= MIN_LINK_TIME_S).all()
    assert (links["u"] != links["v"]).all()
    # the median scheduled link is 2 minutes, as the data README says
    assert links["travel_time"].median() == 120


def test_parse_gtfs_time_past_midnight() -> None:
    seconds = parse_gtfs_time(pd.Series(["5:28:00", "25:01:30"]))
    assert seconds.tolist() == [5 * 3600 + 28 * 60, 25 * 3600 + 90]


def test_missing_and_broken_feed(tmp_path: Path) -> None:
    with pytest.raises(DataMissingError, match="GTFS file not found"):
        read_stop_network(tmp_path / "nope.zip")
    bad = tmp_path / "bad.zip"
    bad.write_text("not a zip")
    with pytest.raises(RoutingError, match="not a GTFS zip archive"):
        read_stop_network(bad)
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as z:
        z.writestr("agency.txt", "agency_id\n1\n")
    with pytest.raises(DataMissingError, match=r"stops.txt: the GTFS feed has no such table"):
        read_stop_network(empty)
