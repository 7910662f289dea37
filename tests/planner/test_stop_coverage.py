"""Every stop of the district in NASA's stop list that KVG serves can be booked (issue 14)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from click.testing import CliRunner

from planner.booking import BookingEngine, TripRequest
from planner.coverage import BOOKABLE, NOT_SERVED, StopCoverage, coverage_table, stop_coverage
from planner.stops import StopCatalog
from planner.timefmt import parse_hhmm
from planner.world import World
from routing.settings import Settings
from web.cli import main

TOWN = "Bernburg (Saale), Busbahnhof"

#: Stops KVG serves that the network left out before it joined its stranded stops: trips only
#: start at Bebitz Ort, only end at Frose (Bus), and the two Unseburg stops are a one-way loop.
#: Typed as riders type them ("Straße" for the timetable's "Str.").
STRANDED = [
    ("Unseburg, Walter-Husemann-Straße", "Unseburg, Walter-Husemann-Str."),
    ("Unseburg, Atzendorfer Weg", "Unseburg, Atzendorfer Weg"),
    ("Bebitz (Könnern), Ort", "Bebitz (Könnern), Ort"),
    ("Frose (Bus)", "Frose (Bus)"),
]


@pytest.fixture(scope="module")
def coverage(world: World) -> list[StopCoverage]:
    return stop_coverage(world)


def test_every_served_stop_is_bookable_by_its_name(
    coverage: list[StopCoverage], catalog: StopCatalog
) -> None:
    served = [r for r in coverage if r.served]
    # the feed's 569 stop places in the district are 582 NASA stops (some twice, by two ids)
    assert len(served) == 582
    assert len({r.place for r in served}) == 569
    missing = [(r.booking_name, r.status) for r in served if r.status != BOOKABLE]
    assert missing == []
    for row in served:
        assert catalog.resolve(row.booking_name, field="origin") == row.place


def test_stops_kvg_does_not_serve_are_not_counted(coverage: list[StopCoverage]) -> None:
    rows = {r.stop.name: r for r in coverage}
    # the railway station and the park railway are not KVG's
    assert rows["Bernburg Hbf"].status == NOT_SERVED
    assert rows["Bernburg (Saale), Parkeisenbahnhof Tiergarten"].status == NOT_SERVED
    # matched by DHID (the feed's platform de:15089:2588::01) and by name and position
    assert rows["Frose, Hoymer Str."].matched_by == "id"
    assert rows["Trebitz(Könnern)"].matched_by == "name"  # "Trebitz (Könnern)", 300 m away
    # some name a KVG stop nearby: the rider who types the station's name finds its bus stop
    assert rows["Staßfurt, Bahnhof"].resolved == rows["Staßfurt, Bahnhof (Bus)"].place
    listed = coverage_table(coverage, unserved=True)
    assert "  Staßfurt, Bahnhof (Staßfurt): Staßfurt, Bahnhof (Bus)" in listed
    assert "  Bernburg (Saale), Parkeisenbahnhof Tiergarten (Bernburg (Saale)): -" in listed


def test_every_served_stop_has_travel_times_to_and_from_town(
    coverage: list[StopCoverage], catalog: StopCatalog
) -> None:
    town = catalog.row[catalog.resolve(TOWN, field="destination")]
    rows = [catalog.row[r.place] for r in coverage if r.served and r.place is not None]
    there, back = catalog.travel_s[rows, town], catalog.travel_s[town, rows]
    assert np.isfinite(there).all() and np.isfinite(back).all()
    assert (there[np.array(rows) != town] > 0).all()


@pytest.mark.parametrize(("typed", "name"), STRANDED)
def test_stranded_stops_get_an_offer(
    engine: BookingEngine, catalog: StopCatalog, typed: str, name: str
) -> None:
    stop = catalog.resolve(typed, field="origin")
    assert catalog.name(stop) == name
    town = catalog.resolve(TOWN, field="destination")
    day = date(2026, 12, 2)  # a Wednesday; the test clock is on the day before
    for origin, destination in ((stop, town), (town, stop)):
        request = TripRequest(day, origin, destination, "pickup", parse_hhmm("10:00", field="t"))
        result = engine.offer(request, with_alternatives=False)
        assert result.offers, result.reason
        # no faster than the network allows: the trip takes at least the matrix time
        offer = result.offers[0]
        direct = catalog.travel_s[catalog.row[origin], catalog.row[destination]]
        assert offer.est_arrival_s - offer.est_pickup_s >= direct


def test_coverage_command(settings: Settings) -> None:
    env = {"RUFBUS_DATA_DIR": str(settings.data_dir), "RUFBUS_CACHE_DIR": str(settings.cache_dir)}
    result = CliRunner().invoke(main, ["stops", "coverage", "--brief"], env=env)
    assert result.exit_code == 0, result.output
    assert "served by KVG: 582" in result.output
    assert "not in the network (outside its largest connected part)          0" in (result.output)
