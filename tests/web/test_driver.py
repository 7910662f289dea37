"""The driver's pages through the test client: who may open them, and what a driver must
read at each stop (rider, party, wheelchair, note, window, load, navigation), in German
and in English."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from planner.booking import BookingEngine, parse_trip_request
from planner.timefmt import hhmm
from tests.web.helpers import DAY, Clock, csrf_token
from web.auth import add_user
from web.i18n import ENGLISH

BERNBURG = "Bernburg (Saale), Busbahnhof"
STASSFURT = "Staßfurt, Bahnhof (Bus)"
NOTE = "Rollator, bitte klingeln"
#: 07:00 in Berlin on the booked day: the driver's "today".
MORNING = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)


def book(
    engine: BookingEngine, name: str, time: str, people: int = 1, wheelchairs: int = 0
) -> dict:
    """Book a ride on ``DAY`` (the engine's clock is still the day before)."""
    wish = {"origin": BERNBURG, "destination": STASSFURT, "date": DAY, "time": time}
    wish |= {"passengers": people, "wheelchairs": wheelchairs}
    trip = parse_trip_request(wish, engine.catalog, engine.service)
    offer = engine.offer(trip).offers[0]
    return engine.confirm(offer.id, name=name, phone="03471 123456", note=NOTE)[0]


def login(client: FlaskClient, name: str, password: str) -> TestResponse:
    token = csrf_token(client, "/auth/login")
    response = client.post(
        "/auth/login", data={"name": name, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302
    return response


@pytest.fixture
def driver_client(app: Flask, engine: BookingEngine) -> FlaskClient:
    add_user(engine.store, "fahrer", "driver", "driver-pw")
    client = app.test_client()
    login(client, "fahrer", "driver-pw")
    return client


@pytest.fixture
def booked(engine: BookingEngine, clock: Clock) -> dict:
    """Two rides on ``DAY``; the clock then moves to that morning."""
    first = book(engine, "Erika Mustermann", "08:10", people=2, wheelchairs=1)
    book(engine, "Otto Normal", "09:30")
    clock.now = MORNING
    return first


def test_drivers_land_on_the_driver_page_and_others_may_not_enter(
    app: Flask, engine: BookingEngine
) -> None:
    add_user(engine.store, "fahrer", "driver", "driver-pw")
    client = app.test_client()
    assert client.get("/fahrer/").headers["Location"].startswith("/auth/login")
    assert login(client, "fahrer", "driver-pw").headers["Location"] == "/fahrer/"
    assert client.get("/fahrer/").status_code == 200
    assert client.get("/dispatch/").status_code == 403  # drivers do not dispatch
    analyst = app.test_client()
    login(analyst, "ana", "analyst-pw")
    assert analyst.get("/fahrer/").status_code == 403
    dispatcher = app.test_client()
    login(dispatcher, "disp", "dispatch-pw")
    assert dispatcher.get("/fahrer/").status_code == 200  # dispatchers may look


def test_today_lists_the_vehicles_that_drive_with_their_first_stop(
    driver_client: FlaskClient, booked: dict, engine: BookingEngine
) -> None:
    html = driver_client.get("/fahrer/").get_data(as_text=True)
    assert "Heute, Mittwoch, 2. Dezember 2026" in html
    driving = [v for v in engine.day_plan(date.fromisoformat(DAY)).vehicles if v.stops]
    assert booked["vehicle"] in {v.vehicle_id for v in driving}
    # exactly the vehicles with stops today, each with its first stop's time
    assert re.findall(r'href="/fahrer/([^"#]+)#start" data-take="\1"', html) == [
        v.vehicle_id for v in driving
    ]
    for v in driving:
        assert f"erster Halt {hhmm(v.stops[0].service_start_s)} · {v.stops[0].stop.name}" in html


def test_the_stop_list_shows_riders_windows_load_and_navigation(
    driver_client: FlaskClient, booked: dict
) -> None:
    response = driver_client.get(f"/fahrer/{booked['vehicle']}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    start, end = booked["pickup_window"]
    assert "Erika Mustermann" in html and "Otto Normal" in html
    assert f"Abholfenster {start}–{end}" in html
    assert "2 Personen" in html and "1 Rollstuhl" in html and "♿" in html
    assert f"Hinweis: {NOTE}" in html
    # the pickup in Bernburg leaves 2 on board, the next pickup 3; both get off in Staßfurt
    loads = re.findall(r"An Bord nach dem Halt: <strong>(\d+)</strong>", html)
    assert loads[0] == "2" and loads[-1] == "0"
    assert re.search(r'href="geo:51\.\d{6},11\.\d{6}\?q=51\.\d{6},11\.\d{6}\(Bernburg', html)
    assert "https://www.openstreetmap.org/directions?" in html
    # the buttons of the stop and of each booking
    for label in ("Angekommen", "Eingestiegen", "Nicht erschienen", "Ausgestiegen"):
        assert f">{label}</button>" in html
    for label in ("Pause beginnen", "Aufenthalt melden", "Panne melden", "Schicht beenden"):
        assert label in html
    # the break the planner placed in the shift (ArbZG §4), at the depot
    assert re.search(r"Pause 1[01]:\d\d–1[01]:\d\d, Bernburg \(Saale\), Busbahnhof", html)
    # the script's texts come from the catalogue, as a data block
    texts = re.search(r'<script type="application/json" id="driver-texts">(.*?)</script>', html)
    assert json.loads(texts.group(1))["waiting_many"] == "%(count)s Meldungen warten auf Netz"


def test_the_driver_pages_in_english_have_no_german_left(
    driver_client: FlaskClient, booked: dict
) -> None:
    token = csrf_token(driver_client, "/fahrer/")
    driver_client.post("/language", data={"lang": "en", "next": "/", "csrf_token": token})
    index = driver_client.get("/fahrer/").get_data(as_text=True)
    assert "Today, Wednesday, 2 December 2026" in index and "first stop" in index
    html = driver_client.get(f"/fahrer/{booked['vehicle']}").get_data(as_text=True)
    assert "Pickup window" in html and "On board after the stop" in html
    assert "2 people" in html and "1 wheelchair" in html
    texts = re.search(r'id="driver-texts">(.*?)</script>', html)
    assert json.loads(texts.group(1))["waiting_many"] == "%(count)s reports wait for the network"
    # every German text of the driver's catalogue entries is gone (riders' notes excepted)
    visible = re.sub(r"<script.*?</script>", "", html, flags=re.S).replace(NOTE, "")
    german = [
        de
        for de, en in ENGLISH.items()
        if de != en and len(de) > 5 and re.search(rf">\s*{re.escape(de)}\s*<", visible)
    ]
    assert german == []


def test_no_english_on_the_german_page(driver_client: FlaskClient, booked: dict) -> None:
    html = driver_client.get(f"/fahrer/{booked['vehicle']}").get_data(as_text=True)
    visible = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    english = [
        en
        for de, en in ENGLISH.items()
        if de != en and len(en) > 5 and re.search(rf">\s*{re.escape(en)}\s*<", visible)
    ]
    assert english == []
    texts = re.search(r'id="driver-texts">(.*?)</script>', html)
    assert set(json.loads(texts.group(1)).values()) <= set(ENGLISH)  # all German sources


def test_unknown_vehicle_is_404_and_a_fresh_token_is_one_request_away(
    driver_client: FlaskClient, booked: dict
) -> None:
    assert driver_client.get("/fahrer/XYZ-9").status_code == 404
    token = driver_client.get("/fahrer/token")
    assert token.status_code == 200 and token.get_json()["csrf_token"]
    with driver_client.get("/fahrer/sw.js") as worker:  # a file response: closed after use
        assert worker.status_code == 200 and "javascript" in worker.headers["Content-Type"]


def test_reported_steps_show_and_a_finished_stop_folds_away(
    app: Flask, driver_client: FlaskClient, booked: dict, clock: Clock
) -> None:
    clock.advance(minutes=90)  # 08:30, after the reports below
    vehicle = booked["vehicle"]
    tasks = driver_client.get(f"/api/v1/vehicles/{vehicle}/tasks").get_json()["tasks"]
    first = [t for t in tasks if t["stop"]["id"] == tasks[0]["stop"]["id"]][:1]
    stop = first[0]["stop"]["id"]
    events = [
        {"client_id": "a1", "kind": "arrived", "at": f"{DAY}T08:10:00+01:00", "stop": stop},
        {"client_id": "b1", "kind": "boarded", "at": f"{DAY}T08:12:00+01:00",
         "booking": first[0]["code"]},
        {"client_id": "d1", "kind": "departed", "at": f"{DAY}T08:13:00+01:00", "stop": stop},
    ]  # fmt: skip
    basic = {"Authorization": "Basic " + base64.b64encode(b"fahrer:driver-pw").decode()}
    answer = app.test_client().post(
        f"/api/v1/vehicles/{vehicle}/events", json={"events": events}, headers=basic
    )
    assert answer.get_json()["accepted"] == ["a1", "b1", "d1"]
    html = driver_client.get(f"/fahrer/{vehicle}").get_data(as_text=True)
    folded = html[html.index('<details class="done-visits"') : html.index("</details>")]
    assert "1 erledigter Halt" in folded and "Eingestiegen 08:12" in folded
    assert "Angekommen 08:10" in folded and "Abgefahren 08:13" in folded
    assert "Erika Mustermann" in folded and "Otto Normal" not in folded
