"""Scheduled connections on the real KVG timetable: direct, one transfer, walking, calendars."""

from __future__ import annotations

from datetime import date

import pytest

from planner.timefmt import hhmm, parse_hhmm
from planner.timetable.connections import Connection, Leg, find_connections, towards
from routing.timetable import Timetable, TimetableCache

WEDNESDAY, SUNDAY = date(2026, 12, 2), date(2026, 12, 6)
ASCHERSLEBEN = "Aschersleben, Busbahnhof"
QUEDLINBURG = "Quedlinburg, Bahnhof (Bus)"
STASSFURT = "Staßfurt, Bahnhof (Bus)"


def hm(text: str) -> int:
    return parse_hhmm(text, field="time")


def search(tt: Timetable, a: str, b: str, start: str, end: str, **kw) -> list[Connection]:
    return find_connections(
        tt,
        tt.node_named(a),
        tt.node_named(b),
        depart_from_s=hm(start),
        depart_until_s=hm(end),
        **kw,
    )


def summary(c: Connection) -> list[tuple[str, str, str]]:
    return [(leg.line, hhmm(leg.departure_s), hhmm(leg.arrival_s)) for leg in c.legs]


def test_direct_line_140(timetable: TimetableCache) -> None:
    tt = timetable.get(WEDNESDAY)
    found = search(tt, ASCHERSLEBEN, QUEDLINBURG, "07:30", "08:00", max_transfers=0)
    assert [summary(c) for c in found] == [[("140", "07:46", "08:19")]]
    assert found[0].num_transfers == 0 and found[0].duration_s == 33 * 60
    # line 140 leaves Aschersleben every 2 hours at this time of day
    assert search(tt, ASCHERSLEBEN, QUEDLINBURG, "08:00", "09:30", max_transfers=0) == []


def test_one_transfer(timetable: TimetableCache) -> None:
    # Aschersleben -> Staßfurt at 07:38: line 145 to Schadeleben, change to 160
    tt = timetable.get(WEDNESDAY)
    direct_only = search(tt, ASCHERSLEBEN, STASSFURT, "07:30", "07:40", max_transfers=0)
    assert direct_only == []
    (found,) = search(tt, ASCHERSLEBEN, STASSFURT, "07:30", "07:40")
    assert summary(found) == [("145", "07:38", "07:59"), ("160", "08:13", "08:50")]
    assert tt.names[found.legs[0].alight] == "Schadeleben, Friedhofsweg"
    assert found.legs[0].alight == found.legs[1].board
    assert found.num_transfers == 1


def test_transfers_keep_the_minimum_change_time(timetable: TimetableCache) -> None:
    tt = timetable.get(WEDNESDAY)
    for c in search(tt, ASCHERSLEBEN, STASSFURT, "06:00", "12:00"):
        if c.num_transfers:
            first, second = c.legs
            walk = dict(tt.near(first.alight))[second.board]
            assert second.departure_s >= first.arrival_s + walk + 120


def test_walking_at_the_ends(timetable: TimetableCache) -> None:
    # Bernburg Busbahnhof -> Marienkirche: line 116 stops at Nienburger Str., 2 min walk away
    tt = timetable.get(WEDNESDAY)
    found = search(tt, "Bernburg (Saale), Busbahnhof", "Bernburg (Saale), Marienkirche",
                   "08:45", "08:55")  # fmt: skip
    walked = [c for c in found if c.walk_end_s]
    assert walked
    c = walked[0]
    assert tt.names[c.legs[-1].alight] == "Bernburg (Saale), Nienburger Str."
    assert c.arrival_s == c.legs[-1].arrival_s + c.walk_end_s
    assert 0 < c.walk_end_s <= 400 / 1.2 + 1


def test_sunday_has_fewer_connections(timetable: TimetableCache) -> None:
    weekday = search(timetable.get(WEDNESDAY), ASCHERSLEBEN, QUEDLINBURG, "05:00", "23:00")
    sunday = search(timetable.get(SUNDAY), ASCHERSLEBEN, QUEDLINBURG, "05:00", "23:00")
    assert len(sunday) < len(weekday)


def test_results_are_pareto_optimal(timetable: TimetableCache) -> None:
    tt = timetable.get(WEDNESDAY)
    found = search(tt, "Bernburg (Saale), Busbahnhof", STASSFURT, "06:00", "12:00")
    assert len(found) >= 3
    for a in found:
        for b in found:
            dominates = (
                b.departure_s >= a.departure_s
                and b.arrival_s <= a.arrival_s
                and b.num_transfers <= a.num_transfers
            )
            assert a == b or not dominates
    assert [c.arrival_s for c in found] == sorted(c.arrival_s for c in found)


def test_towards_gives_the_earliest_arrival_per_boarding(timetable: TimetableCache) -> None:
    tt = timetable.get(WEDNESDAY)
    quedlinburg = tt.node_named(QUEDLINBURG)
    boardings = towards(tt, quedlinburg)
    at_aschersleben = boardings[tt.node_named(ASCHERSLEBEN)]
    first = next(b for b in at_aschersleben if b.departure_s == hm("07:46"))
    assert first.arrival_s == hm("08:19") and first.walk_end_s == 0
    assert quedlinburg not in boardings


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="legs"):
        Connection(())
    with pytest.raises(ValueError, match="arrival_s"):
        Leg("1", "", "t", 0, 100, 1, 50)
