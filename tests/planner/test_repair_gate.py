"""The repair at offer time gives up on a day that is full, and comes back when it is not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, update

import planner.booking.engine as engine_module
from planner.booking import BookingEngine
from planner.booking.repair_gate import RepairGate
from planner.store.db import ServiceDay, open_store
from tests.planner import test_booking as line
from tests.planner.test_booking import ANGER, EICHE, book, trip

catalog = line.catalog
make_engine = line.make_engine


def test_a_day_counts_as_full_while_few_recent_repairs_found_room() -> None:
    gate = RepairGate(window=4, min_placed=2, probe_every=3)
    day, other = "2026-12-02", "2026-12-03"
    for placed in (True, False, True, False):  # 2 of the last 4 found room
        assert gate.worth_trying(day)
        gate.record(day, placed=placed)
    assert not gate.is_full(day)
    assert gate.record(day, placed=False)  # now 1 of the last 4: full, a change
    assert gate.is_full(day) and not gate.is_full(other)
    tried = [gate.worth_trying(day) for _ in range(9)]
    assert tried == [False, False, True] * 3  # every 3rd refused wish is a probe
    assert gate.worth_trying(other)  # another day is not full
    assert gate.record(day, placed=True)  # a probe found room: 2 of the last 4 again
    assert not gate.is_full(day) and gate.worth_trying(day)


def test_a_gate_adopts_a_full_day_from_the_store_and_only_probes_it() -> None:
    gate = RepairGate(window=4, min_placed=1, probe_every=3)
    day, other = "2026-12-02", "2026-12-03"
    gate.adopt(day, full=True)
    gate.adopt(other, full=False)
    assert gate.is_full(day) and not gate.is_full(other)
    assert [gate.worth_trying(day) for _ in range(3)] == [False, False, True]
    assert not gate.record(day, placed=False)  # the probe found nothing: still full
    assert gate.record(day, placed=True)  # the probe found room: open again
    assert gate.worth_trying(day) and gate.worth_trying(other)


def test_a_gate_follows_a_flip_stored_by_another_process_but_not_a_stale_read() -> None:
    gate = RepairGate(window=2, min_placed=1, probe_every=5)
    day = "2026-12-02"
    gate.adopt(day, full=False)
    gate.record(day, placed=False)
    assert gate.record(day, placed=False)  # this process finds the day full (and stores it)
    gate.adopt(day, full=False)  # an offer that read the day just before that write
    assert gate.is_full(day)
    gate.adopt(day, full=True)  # its own flip, read back
    assert gate.is_full(day)
    gate.adopt(day, full=False)  # another process's probe found room, and stored that
    assert not gate.is_full(day) and gate.worth_trying(day)
    gate.adopt(day, full=False)  # seen before: this gate judges on from its own repairs
    gate.record(day, placed=False)
    assert gate.record(day, placed=False)
    assert gate.is_full(day)


def test_a_full_day_stops_making_riders_wait_for_repairs_that_find_nothing(
    make_engine: Callable[..., BookingEngine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One bus of two seats, both taken on every ride from 07:00: no repair can make room
    near those rides, so after the gate's count of misses wishes are refused without one."""
    engine = make_engine(buses=1)
    engine.repairs = RepairGate(window=5, min_placed=1, probe_every=10)
    hours = range(7, 18, 2)  # Anger - Eiche and back takes 72 min
    for hour in hours:
        book(engine, trip(ANGER, EICHE, f"{hour:02d}:00", passengers=2))
    calls = []
    real = engine_module.repair_insertion

    def counted(*args: Any, **kwargs: Any) -> Any:
        found = real(*args, **kwargs)
        calls.append(found)
        return found

    monkeypatch.setattr(engine_module, "repair_insertion", counted)
    for k in range(25):
        wish = trip(ANGER, EICHE, f"{hours[k % len(hours)]:02d}:20", passengers=2)
        result = engine.offer(wish, with_alternatives=False)
        assert result.reason == "fully_booked"
    assert calls == [None] * 7  # 5 until the day counts as full, then 2 probes in 20
    assert engine.repairs.is_full(line.DAY.isoformat())

    # another server process on the same database knows the day is full from the start
    with engine.store.session() as session:
        full = session.scalar(
            select(ServiceDay.repair_full).where(ServiceDay.day == line.DAY.isoformat())
        )
    assert full is True
    other = BookingEngine(
        engine.service, engine.catalog, open_store(engine.store.url), clock=engine.clock
    )
    other.repairs = RepairGate(window=5, min_placed=1, probe_every=10)
    calls.clear()
    for k in range(10):
        wish = trip(ANGER, EICHE, f"{hours[k % len(hours)]:02d}:20", passengers=2)
        assert other.offer(wish, with_alternatives=False).reason == "fully_booked"
    assert calls == [None]  # only the 10th wish was repaired: a probe

    # a probe of the other process found room (it stores that the day is open again): the
    # first engine, which judged the day full itself, repairs the next refused wish
    with other.store.maintaining() as session:
        session.execute(
            update(ServiceDay)
            .where(ServiceDay.day == line.DAY.isoformat())
            .values(repair_full=False)
        )
    calls.clear()
    for k in range(5):
        wish = trip(ANGER, EICHE, f"{hours[k % len(hours)]:02d}:20", passengers=2)
        assert engine.offer(wish, with_alternatives=False).reason == "fully_booked"
    assert calls == [None] * 5  # judged afresh: every refused wish repaired, until 5 misses
    assert engine.repairs.is_full(line.DAY.isoformat())
    with engine.store.session() as session:
        full = session.scalar(
            select(ServiceDay.repair_full).where(ServiceDay.day == line.DAY.isoformat())
        )
    assert full is True  # and the day is stored as full again
