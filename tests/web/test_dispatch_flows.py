"""The dispatcher's flows through the test client: changing a booking, re-optimisation as a
preview, and the phone booking (next bookable time, the caller asked once)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient

from planner.booking import BookingEngine
from tests.web.helpers import DAY, DISPATCHER, Clock, csrf_token, wished
from tests.web.test_api import BERNBURG, STASSFURT, book, offer
from tests.web.test_honest_times import text
from web.dispatch import compared_rows

CALLER = {"name": "Erika Mustermann", "phone": "03471 123456", "note": ""}


def login(client: FlaskClient) -> None:
    token = csrf_token(client, "/auth/login")
    client.post("/auth/login", data={"name": "disp", "password": "dispatch-pw",
                                     "csrf_token": token})  # fmt: skip


def form_value(page: str, name: str) -> str:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page)
    assert found, name
    return html.unescape(found.group(1))


def trip_form(client: FlaskClient, path: str, **overrides: str) -> dict[str, str]:
    return {
        "origin": BERNBURG, "destination": STASSFURT, "date": DAY, "time": "08:10",
        "kind": "pickup", "passengers": "1", "wheelchairs": "0",
        "csrf_token": csrf_token(client, path), **overrides,
    }  # fmt: skip


# -- phone booking ------------------------------------------------------------------------


def test_the_phone_booking_starts_at_the_next_bookable_time(
    client: FlaskClient, clock: Clock
) -> None:
    login(client)
    page = client.get("/dispatch/book").get_data(as_text=True)  # 07:00, 60 min lead
    assert (form_value(page, "date"), form_value(page, "time")) == ("2026-12-01", "08:00")
    clock.advance(minutes=2)  # 07:02 + 60 min, rounded up to 5 minutes
    page = client.get("/dispatch/book").get_data(as_text=True)
    assert (form_value(page, "date"), form_value(page, "time")) == ("2026-12-01", "08:05")
    clock.now = datetime(2026, 12, 1, 21, 45, tzinfo=UTC)  # 22:45: past the night deadline
    page = client.get("/dispatch/book").get_data(as_text=True)
    assert (form_value(page, "date"), form_value(page, "time")) == ("2026-12-02", "05:30")


def test_the_phone_booking_asks_for_the_caller_once(
    client: FlaskClient, engine: BookingEngine
) -> None:
    login(client)
    form = client.get("/dispatch/book").get_data(as_text=True)
    assert 'id="name"' in form and 'id="phone"' in form
    response = client.post("/dispatch/offers", data={**trip_form(client, "/dispatch/book"),
                                                     **CALLER})  # fmt: skip
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    offers = re.findall(r'action="/dispatch/confirm/([^"]+)"', page)
    assert len(offers) >= 2
    assert 'type="tel"' not in page and 'type="text"' not in page  # no field under the offers
    assert "Anrufer: Erika Mustermann, 03471 123456" in text(page)
    token = csrf_token(client, "/dispatch/book")
    booked = client.post(f"/dispatch/confirm/{offers[0]}",
                         data={**CALLER, "csrf_token": token})  # fmt: skip
    assert booked.status_code == 302
    riders = {s.rider for v in engine.day_plan(datetime(2026, 12, 2).date()).vehicles
             for s in v.stops}  # fmt: skip
    assert riders == {"Erika Mustermann"}


def test_a_phone_booking_without_a_phone_names_the_field(client: FlaskClient) -> None:
    login(client)
    data = {**trip_form(client, "/dispatch/book"), **CALLER, "phone": ""}
    response = client.post("/dispatch/offers", data=data)
    assert response.status_code == 400
    page = text(response.get_data(as_text=True))
    assert "Telefon" in page and "phone" not in page
    assert form_value(response.get_data(as_text=True), "name") == "Erika Mustermann"


# -- changing a booking -------------------------------------------------------------------


def test_a_dispatcher_changes_a_booking_keeping_its_code(
    client: FlaskClient, engine: BookingEngine
) -> None:
    code = book(client, wished(offer(client)["offers"])["offer_id"])["code"]
    login(client)
    booking_page = client.get(f"/dispatch/booking/{code}").get_data(as_text=True)
    assert f"/dispatch/booking/{code}/change" in booking_page
    form = client.get(f"/dispatch/booking/{code}/change").get_data(as_text=True)
    assert form_value(form, "origin") == BERNBURG and form_value(form, "time") == "08:10"
    assert f'action="/dispatch/booking/{code}/change"' in form
    assert 'id="phone"' not in form  # the rider stays the same
    path = f"/dispatch/booking/{code}/change"
    response = client.post(path, data=trip_form(client, path, time="23:15"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # the honest time: the wish cannot be met, the offer says how far it is
    assert "Sie wollten um 23:15 Uhr fahren." in text(page)
    actions = re.findall(rf'action="(/dispatch/booking/{code}/change/[^"]+)"', page)
    assert actions and "Änderung übernehmen" in page
    taken = client.post(actions[0], data={"csrf_token": csrf_token(client, path)})
    assert taken.status_code == 302 and taken.headers["Location"].endswith(code)
    changed = client.get(f"/api/v1/bookings/{code}").get_json()
    assert changed["code"] == code and changed["wish"]["time"] == "23:15"
    assert changed["pickup_window"][0] < "23:15"
    assert len(engine.validate_day(datetime(2026, 12, 2).date())) == 0
    shown = text(client.get(f"/dispatch/booking/{code}").get_data(as_text=True))
    assert "Änderungen" in shown and "von disp" in shown
    assert "08:10–08:25" in shown and "Mittwoch, 2. Dezember 2026" in shown


def test_the_api_changes_a_booking_and_names_bad_fields(
    client: FlaskClient, engine: BookingEngine
) -> None:
    code = book(client, wished(offer(client)["offers"])["offer_id"])["code"]
    path = f"/api/v1/bookings/{code}/change"
    assert client.post(path, json={"time": "10:10"}).status_code == 401
    for bad, field in (
        ({"wheelchairs": 2}, "wheelchairs"),  # one passenger booked
        ({"time": "25:00"}, "time"),
        ({"destination": BERNBURG}, "destination"),  # the origin
        ({"passengers": 0}, "passengers"),
        ({"seats": 2}, "seats"),
    ):
        answer = client.post(path, json=bad, headers=DISPATCHER)
        assert answer.status_code == 400, (bad, answer.get_json())
        assert answer.get_json()["error"]["field"] == field
    assert client.post("/api/v1/bookings/NOSUCHCODE/change", json={},
                       headers=DISPATCHER).status_code == 404  # fmt: skip
    offers = client.post(path, json={"time": "10:10", "passengers": 2}, headers=DISPATCHER)
    assert offers.status_code == 200
    chosen = wished(offers.get_json()["offers"])
    # a new booking's offer does not change this one, nor is a change offer a new booking
    other = wished(offer(client, time="12:10")["offers"])["offer_id"]
    confirm = f"{path}/confirm"
    refused = client.post(confirm, json={"offer_id": other}, headers=DISPATCHER)
    assert refused.status_code == 409 and refused.get_json()["error"]["field"] == "offer_id"
    assert client.post("/api/v1/bookings", json={"offer_id": chosen["offer_id"], **{
        "name": "X Y", "phone": "03471 1234"}}).status_code == 409  # fmt: skip
    done = client.post(confirm, json={"offer_id": chosen["offer_id"]}, headers=DISPATCHER)
    assert done.status_code == 200, done.get_json()
    changed = done.get_json()
    assert changed["code"] == code and changed["passengers"] == 2
    assert changed["pickup_window"] == chosen["pickup_window"]
    history = client.get(f"{path}s", headers=DISPATCHER).get_json()["changes"]
    assert [(h["before"]["wish"]["time"], h["after"]["wish"]["time"]) for h in history] == [
        ("08:10", "10:10")
    ]
    again = client.post(confirm, json={"offer_id": chosen["offer_id"]}, headers=DISPATCHER)
    assert again.status_code == 409  # used


# -- re-optimisation as a preview ---------------------------------------------------------


def split_day(client: FlaskClient) -> str:
    """Two riders pooled on one bus, one then moved by hand to another: a plan the solver
    makes cheaper. Returns the moved booking's code."""
    book(client, wished(offer(client)["offers"])["offer_id"])
    moved = book(client, wished(offer(client)["offers"])["offer_id"], name="Hans Huber")
    first = client.get(f"/api/v1/bookings/{moved['code']}").get_json()["vehicle"]
    other = "BBG-2-S1" if first != "BBG-2-S1" else "BBG-1-S1"  # morning shifts at Bernburg
    answer = client.post(f"/api/v1/bookings/{moved['code']}/move", json={"vehicle": other},
                         headers=DISPATCHER)  # fmt: skip
    assert answer.status_code == 200, answer.get_json()
    return moved["code"]


def test_the_preview_stores_nothing_until_accepted(
    client: FlaskClient, engine: BookingEngine
) -> None:
    code = split_day(client)
    version = client.get(f"/api/v1/plans/{DAY}", headers=DISPATCHER).get_json()["version"]
    moved_to = client.get(f"/api/v1/bookings/{code}").get_json()["vehicle"]
    login(client)
    token = csrf_token(client, f"/dispatch/?date={DAY}")
    response = client.post("/dispatch/optimize", data={"date": DAY, "csrf_token": token})
    page = response.get_data(as_text=True)
    shown = text(page)
    assert "Übernehmen" in shown and "Verwerfen" in shown, shown
    assert "Fahrzeugkilometer" in shown and "Fahrtzeit 95 %" in shown
    assert code in shown and "Hans Huber" in shown  # the rider whose bus changes
    after = client.get(f"/api/v1/plans/{DAY}", headers=DISPATCHER).get_json()
    assert after["version"] == version  # nothing stored by the preview
    action = re.search(r'action="(/dispatch/optimize/[^"]+)"', page).group(1)
    # a discarded proposal is gone
    data = {"date": DAY, "csrf_token": token}
    discarded = client.post(action, data={**data, "decision": "discard"}, follow_redirects=True)
    assert "Der Vorschlag wurde verworfen" in text(discarded.get_data(as_text=True))
    gone = client.post(action, data={**data, "decision": "accept"}, follow_redirects=True)
    assert "nicht mehr vorhanden" in text(gone.get_data(as_text=True))
    assert client.get(f"/api/v1/bookings/{code}").get_json()["vehicle"] == moved_to
    # a new preview, accepted while the day is unchanged, is stored
    page = client.post("/dispatch/optimize", data=data).get_data(as_text=True)
    action = re.search(r'action="(/dispatch/optimize/[^"]+)"', page).group(1)
    stored = client.post(action, data={**data, "decision": "accept"}, follow_redirects=True)
    assert "Ein besserer Plan wurde gespeichert." in text(stored.get_data(as_text=True))
    final = client.get(f"/api/v1/plans/{DAY}", headers=DISPATCHER).get_json()
    assert final["version"] == version + 1
    assert client.get(f"/api/v1/bookings/{code}").get_json()["vehicle"] != moved_to
    assert engine.validate_day(datetime(2026, 12, 2).date()) == []


def test_a_preview_of_a_day_changed_since_is_refused(client: FlaskClient) -> None:
    split_day(client)
    preview = client.post(f"/api/v1/plans/{DAY}/optimize",
                          json={"time_limit": 2, "preview": True}, headers=DISPATCHER)  # fmt: skip
    result = preview.get_json()
    assert result["stored"] is False and result["code"] == "proposed", result
    assert result["changes"] and {"code", "shift_min"} <= set(result["changes"][0])
    book(client, wished(offer(client, time="14:10")["offers"])["offer_id"])  # the day changes
    version = client.get(f"/api/v1/plans/{DAY}", headers=DISPATCHER).get_json()["version"]
    path = f"/api/v1/plans/{DAY}/proposals/{result['proposal']}"
    accepted = client.post(path, headers=DISPATCHER).get_json()
    assert accepted["code"] == "changed_meanwhile" and accepted["stored"] is False
    assert client.get(f"/api/v1/plans/{DAY}", headers=DISPATCHER).get_json()["version"] == version
    assert client.delete(path, headers=DISPATCHER).status_code == 404  # used up


def test_worse_figures_are_marked(app: Flask) -> None:
    before = {"served": 10, "p95_wait_min": 11.0, "p95_ride_min": 80.0, "vehicle_km": 300.0}
    after = {"served": 10, "p95_wait_min": 14.0, "p95_ride_min": 90.9, "vehicle_km": 250.0}
    with app.test_request_context():  # compared_rows says the labels in the request's language
        rows = {r.label: r for r in compared_rows(before, after)}
    assert rows["Wartezeit 95 %"].worse and rows["Fahrtzeit 95 %"].worse
    assert not rows["bedient"].worse and not rows["Fahrzeugkilometer"].worse
