"""The drivers' API: tasks, events and positions of a vehicle, on a real engine and SQLite."""

from __future__ import annotations

import base64
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from planner.booking import BookingEngine
from planner.store.db import Booking, VehicleEventRow
from tests.web.helpers import ANALYST, DAY, DISPATCHER, Clock, csrf_token, wished
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
    return book(client, wished(offer(client)["offers"])["offer_id"])


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
    # one break in the 9-hour shift, between 10:30 and 11:30 at the latest, at the depot
    [brk] = plan["breaks"]
    assert "10:30" <= brk["start"] <= "11:30" and brk["stop"]["name"].startswith("Bernburg")
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


def test_a_resent_batch_and_a_repeated_client_id_are_stored_once(
    client: FlaskClient, engine: BookingEngine, clock: Clock, driver: dict, booked: dict
) -> None:
    vehicle = booked["vehicle"]
    move_clock_to(clock, "07:00")
    batch = [
        {"client_id": "s1", "kind": "shift_start", "at": at("06:55")},
        {"client_id": "p1", "kind": "position", "at": at("06:56"), "lat": 51.79, "lon": 11.74,
         "accuracy_m": 12.5},
        {"client_id": "s1", "kind": "shift_start", "at": at("06:55")},  # repeated in the batch
        {"client_id": "d1", "kind": "delay", "at": at("06:57"), "minutes": 5},
    ]  # fmt: skip
    first = post(client, vehicle, batch, driver)
    assert first == {"accepted": ["s1", "p1", "d1"], "duplicates": ["s1"], "rejected": []}
    again = post(client, vehicle, batch, driver)  # the device never saw the first answer
    assert again == {"accepted": [], "duplicates": ["s1", "p1", "s1", "d1"], "rejected": []}
    assert sorted(rows(engine)) == [(vehicle, "d1"), (vehicle, "p1"), (vehicle, "s1")]
    # the same client id from another vehicle is another event
    other = next(v.id for v in engine.service.fleet if v.id != vehicle)
    assert post(client, other, batch[:1], driver)["accepted"] == ["s1"]


@pytest.mark.parametrize(
    ("events", "field"),
    [
        ({"client_id": "x", "kind": "fly", "at": "2026-12-02T07:00:00+01:00"}, "events[1].kind"),
        ({"kind": "arrived", "at": "2026-12-02T07:00:00+01:00", "stop": 1}, "events[1].client_id"),
        ({"client_id": "x", "kind": "shift_end", "at": "2026-12-02T07:00:00"}, "events[1].at"),
        ({"client_id": "x", "kind": "shift_end", "at": "morgen"}, "events[1].at"),
        ({"client_id": "x", "kind": "boarded", "at": "2026-12-02T07:00:00Z"}, "events[1].booking"),
        ({"client_id": "x", "kind": "arrived", "at": "2026-12-02T07:00:00Z"}, "events[1].stop"),
        ({"client_id": "x", "kind": "delay", "at": "2026-12-02T07:00:00Z"}, "events[1].minutes"),
        ({"client_id": "x", "kind": "position", "at": "2026-12-02T07:00:00Z", "lat": 95,
          "lon": 11}, "events[1].lat"),
        ({"client_id": "", "kind": "shift_end", "at": "2026-12-02T07:00:00Z"},
         "events[1].client_id"),
        ({"client_id": "x" * 65, "kind": "shift_end", "at": "2026-12-02T07:00:00Z"},
         "events[1].client_id"),
        ({"client_id": "x", "kind": "shift_end", "at": "2026-12-02T07:00:00Z", "extra": 1},
         "events[1].extra"),
        ("not an object", "events[1]"),
    ],
)  # fmt: skip
def test_a_malformed_batch_is_refused_whole(
    client: FlaskClient, engine: BookingEngine, driver: dict, events: object, field: str
) -> None:
    good = {"client_id": "ok", "kind": "shift_start", "at": "2026-12-02T06:55:00+01:00"}
    url = f"/api/v1/vehicles/{engine.service.fleet[0].id}/events"
    response = client.post(url, json={"events": [good, events]}, headers=driver)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field
    assert rows(engine) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "body"),
        ({"events": {"client_id": "x"}}, "events"),
        ({}, "events"),
        ({"events": [{"client_id": f"c{k}", "kind": "shift_start",
                      "at": "2026-12-02T06:55:00Z"} for k in range(501)]}, "events"),
    ],
)  # fmt: skip
def test_a_batch_that_is_no_batch_is_refused(
    client: FlaskClient, engine: BookingEngine, driver: dict, body: object, field: str
) -> None:
    url = f"/api/v1/vehicles/{engine.service.fleet[0].id}/events"
    response = client.post(url, json=body, headers=driver)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == field
    assert rows(engine) == []


def test_business_rules_refuse_single_events(
    client: FlaskClient, engine: BookingEngine, clock: Clock, driver: dict, booked: dict
) -> None:
    vehicle, code = booked["vehicle"], booked["code"]
    other = next(v.id for v in engine.service.fleet if v.id != vehicle)
    move_clock_to(clock, "07:00")
    result = post(client, other, [
        {"client_id": "a", "kind": "boarded", "at": at("06:59"), "booking": code},
        {"client_id": "b", "kind": "shift_start", "at": at("06:59")},
        {"client_id": "c", "kind": "shift_end", "at": at("07:11")},
        {"client_id": "d", "kind": "boarded", "at": at("06:59"), "booking": "NOSUCHCODE"},
        {"client_id": "e", "kind": "arrived", "at": at("06:59"), "stop": 999999999},
    ], driver)  # fmt: skip
    assert result["accepted"] == ["b"] and result["duplicates"] == []
    assert [(r["client_id"], r["field"]) for r in result["rejected"]] == [
        ("a", "events[0].booking"), ("c", "events[2].at"), ("d", "events[3].booking"),
        ("e", "events[4].stop"),
    ]  # fmt: skip
    assert "nicht mit diesem Fahrzeug" in result["rejected"][0]["message"]
    # a no-show before the window: refused whatever the wait
    move_clock_to(clock, "08:05")
    pickup_stop = client.get(f"/api/v1/vehicles/{vehicle}/tasks?day={DAY}",
                             headers=driver).get_json()["tasks"][0]["stop"]["id"]  # fmt: skip
    result = post(client, vehicle, [
        {"client_id": "f", "kind": "arrived", "at": at("07:55"), "stop": pickup_stop},
        {"client_id": "g", "kind": "no_show", "at": at("08:04"), "booking": code},
    ], driver)  # fmt: skip
    assert result["accepted"] == ["f"]
    assert result["rejected"][0]["field"] == "events[1].at"
    assert "08:10" in result["rejected"][0]["message"]  # the window's start
    assert engine.booking(code).status == "confirmed"
    # a no-show without an arrival at the pickup stop
    move_clock_to(clock, "08:30")
    result = post(client, other, [{"client_id": "h", "kind": "arrived", "at": at("08:10"),
                                   "stop": pickup_stop}], driver)  # fmt: skip
    assert result["accepted"] == ["h"]  # another vehicle's arrival does not count
    assert engine.booking(code).status == "confirmed"


def test_tasks_show_what_is_done(
    client: FlaskClient, engine: BookingEngine, clock: Clock, driver: dict, booked: dict
) -> None:
    vehicle, code = booked["vehicle"], booked["code"]
    url = f"/api/v1/vehicles/{vehicle}/tasks?day={DAY}"
    pickup, dropoff = client.get(url, headers=driver).get_json()["tasks"]
    move_clock_to(clock, "09:30")
    result = post(client, vehicle, [
        {"client_id": "1", "kind": "arrived", "at": at("08:09"), "stop": pickup["stop"]["id"]},
        {"client_id": "2", "kind": "boarded", "at": at("08:11"), "booking": code},
        {"client_id": "3", "kind": "departed", "at": at("08:12"), "stop": pickup["stop"]["id"]},
        {"client_id": "4", "kind": "arrived", "at": at("08:50"), "stop": dropoff["stop"]["id"]},
        {"client_id": "5", "kind": "dropped_off", "at": at("08:51"), "booking": code},
    ], driver)  # fmt: skip
    assert result["accepted"] == ["1", "2", "3", "4", "5"]
    pickup, dropoff = client.get(url, headers=driver).get_json()["tasks"]
    assert pickup["done"] == {"arrived": "08:09", "departed": "08:12", "boarded": "08:11",
                              "no_show": None, "dropped_off": None}  # fmt: skip
    assert dropoff["done"] == {"arrived": "08:50", "departed": None, "boarded": None,
                               "no_show": None, "dropped_off": "08:51"}  # fmt: skip
    assert (pickup["seq"], dropoff["seq"]) == (0, 1)


def test_positions(client: FlaskClient, engine: BookingEngine, clock: Clock, driver: dict) -> None:
    from planner.live.journal import last_positions

    vehicle = engine.service.fleet[0].id
    url = f"/api/v1/vehicles/{vehicle}/positions"
    move_clock_to(clock, "07:00")
    fixes = [{"client_id": f"g{k}", "at": at(f"06:5{k}"), "lat": 51.79 + k / 1000,
              "lon": 11.74} for k in range(3)]  # fmt: skip
    answer = client.post(url, json={"positions": fixes}, headers=driver)
    assert answer.get_json() == {"accepted": ["g0", "g1", "g2"], "duplicates": [], "rejected": []}
    bad = client.post(url, json={"positions": [{**fixes[0], "lon": 181}]}, headers=driver)
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "positions[0].lon"
    far = client.post(url, json={"positions": [{**fixes[0], "client_id": "late",
                                                "at": at("07:30")}]}, headers=driver)  # fmt: skip
    assert far.get_json()["rejected"][0]["field"] == "positions[0].at"
    with engine.store.session() as s:
        last = last_positions(s, datetime.fromisoformat(DAY).date())
    assert list(last) == [vehicle]
    assert (last[vehicle].client_id, last[vehicle].kind, last[vehicle].lat) == (
        "g2",
        "position",
        pytest.approx(51.792),
    )


def test_unknown_vehicle_and_bad_day(client: FlaskClient, driver: dict) -> None:
    missing = client.get("/api/v1/vehicles/NOPE/tasks", headers=driver)
    assert missing.status_code == 404 and missing.get_json()["error"]["field"] == "vehicle"
    posted = client.post("/api/v1/vehicles/NOPE/events", json={"events": []}, headers=driver)
    assert posted.status_code == 404
    bad = client.get("/api/v1/vehicles/BBG-1-S1/tasks?day=2026-13-01", headers=driver)
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "day"
    today = client.get("/api/v1/vehicles/BBG-1-S1/tasks", headers=driver).get_json()
    assert today["day"] == "2026-12-01" and today["tasks"] == []  # the clock's day


def test_roles_and_csrf(client: FlaskClient, engine: BookingEngine, driver: dict) -> None:
    tasks, events = "/api/v1/vehicles/BBG-1-S1/tasks", "/api/v1/vehicles/BBG-1-S1/events"
    batch = {
        "events": [{"client_id": "r1", "kind": "shift_start", "at": at("06:55", "2026-12-01")}]
    }
    assert client.get(tasks).status_code == 401
    assert client.post(events, json=batch).status_code == 401
    assert client.get(tasks, headers=ANALYST).status_code == 403
    assert client.post(events, json=batch, headers=ANALYST).status_code == 403
    assert client.get(tasks, headers=DISPATCHER).status_code == 200
    assert client.get(tasks, headers=driver).status_code == 200
    assert client.post(events, json=batch, headers=DISPATCHER).get_json()["accepted"] == ["r1"]
    foreign = client.post(events, json=batch, headers={**driver, "Origin": "https://evil.example"})
    assert foreign.status_code == 403 and foreign.get_json()["error"]["field"] == "origin"
    # a driver logged in with the form lands on the driver app; the cookie needs the token
    token = csrf_token(client, "/auth/login")
    login = client.post("/auth/login", data={"name": "fahrer", "password": "driver-pw",
                                             "csrf_token": token})  # fmt: skip
    assert login.status_code == 302 and login.headers["Location"] == "/fahrer/"
    assert client.get(tasks).status_code == 200
    no_token = client.post(events, json=batch)
    assert no_token.status_code == 403 and no_token.get_json()["error"]["field"] == "csrf"
    page_token = csrf_token(client, "/auth/login")
    with_token = client.post(events, json=batch, headers={"X-CSRFToken": page_token})
    assert with_token.get_json()["duplicates"] == ["r1"]
    with engine.store.session() as s:
        assert s.scalar(select(func.count()).select_from(VehicleEventRow)) == 1
        assert s.scalar(select(VehicleEventRow.driver)) == "disp"


def test_no_personal_data_in_the_journal() -> None:
    columns = set(VehicleEventRow.__table__.columns.keys())
    assert not columns & {"name", "phone", "note", "rider"}
    assert set(Booking.__table__.columns.keys()) & {"name", "phone"}  # what it would be


def test_the_same_batch_sent_at_once_from_four_connections_is_stored_once(
    app, engine: BookingEngine, clock: Clock, driver: dict
) -> None:
    import threading

    vehicle = engine.service.fleet[0].id
    move_clock_to(clock, "07:00")
    batch = [{"client_id": f"x{k}", "kind": "position", "at": at("06:59"), "lat": 51.8,
              "lon": 11.7} for k in range(20)]  # fmt: skip
    barrier, answers = threading.Barrier(4), []

    def send() -> None:
        client = app.test_client()
        barrier.wait()
        answers.append(post(client, vehicle, batch, driver))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    accepted = [c for a in answers for c in a["accepted"]]
    assert sorted(accepted) == sorted(e["client_id"] for e in batch)  # each once, by someone
    assert all(len(a["accepted"]) + len(a["duplicates"]) == 20 for a in answers)
    assert len(rows(engine)) == 20
