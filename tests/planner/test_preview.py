"""Re-optimisation as a preview on the line of six stops of ``test_booking``: the candidate
is kept with the plan version it was solved from, stored only when accepted on that version."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from planner.booking import BookingEngine
from planner.booking.disruption import move_booking
from planner.booking.reoptimize import REASON
from planner.errors import NotFoundError
from tests.planner import test_booking as line
from tests.planner.test_booking import DAY, book, plan_versions, trip

catalog = line.catalog
make_engine = line.make_engine


@pytest.fixture
def split(make_engine: Callable[..., BookingEngine]) -> tuple[BookingEngine, str]:
    """Two buses; two riders from Anger to Eiche at 08:00 pooled, then one moved by hand to
    the second bus: a plan the solver can make cheaper (one bus for both again)."""
    engine = make_engine(2)
    book(engine, trip(time="08:00"))
    moved = book(engine, trip(time="08:00"), name="Hans")
    assert moved["vehicle"] == "BUS-1"
    move_booking(engine, moved["code"], "BUS-2")
    return engine, moved["code"]


def test_a_preview_stores_nothing_and_lists_the_moved_riders(
    split: tuple[BookingEngine, str],
) -> None:
    engine, code = split
    versions = len(plan_versions(engine))
    result = engine.optimize(DAY, time_limit=2, preview=True)
    assert result["code"] == "proposed" and result["stored"] is False
    assert result["cost_after"] < result["cost_before"]
    assert result["version"] == versions
    assert len(plan_versions(engine)) == versions  # nothing stored
    assert engine.booking(code).vehicle_id == "BUS-2"
    (change,) = result["changes"]
    assert (change["code"], change["vehicle_before"], change["vehicle_after"]) == (
        code, "BUS-2", "BUS-1"
    )  # fmt: skip
    assert {"estimated_pickup_before", "estimated_pickup_after", "shift_min"} <= set(change)
    accepted = engine.accept_proposal(DAY, result["proposal"])
    assert accepted["code"] == "stored" and accepted["stored"] is True
    assert plan_versions(engine)[-1].reason == REASON
    assert engine.booking(code).vehicle_id == "BUS-1"
    assert engine.validate_day(DAY) == []
    with pytest.raises(NotFoundError):  # used up
        engine.accept_proposal(DAY, result["proposal"])


def test_a_proposal_of_a_day_changed_since_is_not_stored(
    split: tuple[BookingEngine, str],
) -> None:
    engine, code = split
    result = engine.optimize(DAY, time_limit=2, preview=True)
    book(engine, trip(time="12:00"), name="Olga")  # the day changes
    versions = len(plan_versions(engine))
    refused = engine.accept_proposal(DAY, result["proposal"])
    assert refused["code"] == "changed_meanwhile" and refused["stored"] is False
    assert len(plan_versions(engine)) == versions
    assert engine.booking(code).vehicle_id == "BUS-2"


def test_a_discarded_proposal_is_gone_and_the_plan_stays(
    split: tuple[BookingEngine, str],
) -> None:
    engine, code = split
    versions = len(plan_versions(engine))
    result = engine.optimize(DAY, time_limit=2, preview=True)
    assert engine.discard_proposal(DAY, result["proposal"])["code"] == "discarded"
    with pytest.raises(NotFoundError):
        engine.accept_proposal(DAY, result["proposal"])
    assert len(plan_versions(engine)) == versions
    assert engine.booking(code).vehicle_id == "BUS-2"


def test_without_preview_a_better_plan_is_stored_at_once(
    split: tuple[BookingEngine, str],
) -> None:
    engine, code = split
    result = engine.optimize(DAY, time_limit=2)
    assert result["code"] == "stored" and "proposal" not in result
    assert engine.booking(code).vehicle_id == "BUS-1"
