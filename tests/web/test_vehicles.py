"""The drivers' API: tasks, events and positions of a vehicle, on a real engine and SQLite."""

from __future__ import annotations

import base64
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from planner.booking import BookingEngine
from planner.store.db import VehicleEventRow
from tests.web.helpers import DAY, Clock
from tests.web.test_api import book, offer
from web.auth import add_user

BERLIN = ZoneInfo("Europe/Berlin")
DRIVER = {"Authorization": "Basic " + base64.b64encode(b"fahrer:driver-pw").decode()}


@pytest.fixture
def driver(engine: BookingEngine) -> dict[str, str]:
    """The driver ``fahrer``'s Basic credentials."""
    add_user(engine.store, "fahrer", "driver", "driver-pw")
    return DRIVER


@pytest.fixture
def booked(client: FlaskClient) -> dict:
    """A ride on DAY, pickup window 08:10-08:25 at Bernburg."""
    return book(client, offer(client)["offers"][0]["offer_id"])


def at(hhmm: str, day: str = DAY) -> str:
    """``HH:MM`` of ``day`` in Berlin as ISO 8601 with its offset."""
    moment = datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=BERLIN)
    return moment.isoformat()


def move_clock_to(clock: Clock, hhmm: str, day: str = DAY) -> None:
    clock.now = datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=BERLIN)


def rows(engine: BookingEngine) -> list[tuple[str, str]]:
    """Every stored (vehicle, client id)."""
    with engine.store.session() as s:
        return list(s.execute(select(VehicleEventRow.vehicle_id, VehicleEventRow.client_id)))


def post(client: FlaskClient, vehicle: str, events: list[dict], headers: dict) -> dict:
    response = client.post(f"/api/v1/vehicles/{vehicle}/events", json={"events": events},
                           headers=headers)  # fmt: skip
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_tasks_events_and_no_show(
    client: FlaskClient, engine: BookingEngine, clock: Clock, driver: dict, booked: dict
) -> None:
    vehicle, code = booked["vehicle"], booked["code"]
    answer = client.get(f"/api/v1/vehicles/{vehicle}/tasks?day={DAY}", headers=driver)
    assert answer.status_code == 200, answer.get_json()
    plan = answer.get_json()
    assert plan["vehicle"] == vehicle and plan["day"] == DAY and plan["no_show_wait_min"] == 3
    pickup = plan["tasks"][0]
    assert (pickup["seq"], pickup["kind"], pickup["code"]) == (0, "pickup", code)
    assert pickup["done"] == dict.fromkeys(
        ("arrived", "departed", "boarded", "no_show", "dropped_off")
    )
    move_clock_to(clock, "08:12")
    stop = pickup["stop"]["id"]
    result = post(client, vehicle, [
        {"client_id": "e1", "kind": "arrived", "at": at("08:10"), "stop": stop},
        {"client_id": "e2", "kind": "no_show", "at": at("08:11"), "booking": code},
    ], driver)  # fmt: skip
    assert result["accepted"] == ["e1"] and result["duplicates"] == []
    [refused] = result["rejected"]
    assert refused["client_id"] == "e2" and refused["field"] == "events[1].at"
    assert "08:13" in refused["message"]
    move_clock_to(clock, "08:14")
    result = post(client, vehicle, [
        {"client_id": "e1", "kind": "arrived", "at": at("08:10"), "stop": stop},
        {"client_id": "e3", "kind": "no_show", "at": at("08:13"), "booking": code},
    ], driver)  # fmt: skip
    assert result == {"accepted": ["e3"], "duplicates": ["e1"], "rejected": []}
    assert engine.booking(code).status == "no_show"
    tasks = client.get(f"/api/v1/vehicles/{vehicle}/tasks?day={DAY}", headers=driver).get_json()
    assert all(t["code"] != code for t in tasks["tasks"])  # the plan no longer serves it
    assert sorted(rows(engine)) == [(vehicle, "e1"), (vehicle, "e3")]
