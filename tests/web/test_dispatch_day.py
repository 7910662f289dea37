"""The dispatcher's day: what the driver must know (note, promised window), and cancel and
no-show only when they make sense, after a confirmation that names rider and time."""

from __future__ import annotations

import csv
import io
import re

from flask.testing import FlaskClient

from tests.web.helpers import DAY, DISPATCHER, Clock, csrf_token, wished

BERNBURG = "Bernburg (Saale), Busbahnhof"
STASSFURT = "Staßfurt, Bahnhof (Bus)"
NOTE = "Rollator, bitte klingeln"


def book(client: FlaskClient, time: str = "08:10", note: str = NOTE) -> dict:
    body = {"origin": BERNBURG, "destination": STASSFURT, "date": DAY, "time": time}
    offer = wished(client.post("/api/v1/offers", json=body).get_json()["offers"])
    booked = client.post(
        "/api/v1/bookings",
        json={"offer_id": offer["offer_id"], "name": "Erika Mustermann",
              "phone": "03471 123456", "note": note},
    )  # fmt: skip
    assert booked.status_code == 201, booked.get_json()
    return booked.get_json()["bookings"][0]


def test_the_riders_note_and_window_reach_the_day_view_and_the_manifest(
    client: FlaskClient,
) -> None:
    booking = book(client)
    window = "–".join(booking["pickup_window"])  # 08:10–08:25
    day_view = client.get(f"/dispatch/?date={DAY}", headers=DISPATCHER).get_data(as_text=True)
    assert NOTE in day_view
    # the driver's break: a bar on the timeline and a line of the vehicle
    assert 'class="gantt-break"' in day_view and "<title>Pause 1" in day_view
    assert re.search(r"Pausen: 1[01]:\d\d–1[01]:\d\d Bernburg", day_view)
    vehicle = booking["vehicle"]
    printed = client.get(f"/dispatch/manifest/{vehicle}?date={DAY}", headers=DISPATCHER)
    page = printed.get_data(as_text=True)
    assert NOTE in page and window in page
    table = client.get(f"/dispatch/manifest/{vehicle}.csv?date={DAY}", headers=DISPATCHER)
    rows = list(csv.DictReader(io.StringIO(table.get_data(as_text=True))))
    pickup = next(r for r in rows if r["kind"] == "pickup")
    assert pickup["note"] == NOTE
    assert pickup["window"] == "-".join(booking["pickup_window"])


def test_no_show_only_once_the_pickup_window_has_started(client: FlaskClient, clock: Clock) -> None:
    code = book(client, "19:25")["code"]
    early = client.post(f"/api/v1/bookings/{code}/no-show", headers=DISPATCHER)
    assert early.status_code == 409
    assert early.get_json()["error"]["field"] == "code"
    assert "19:25" in early.get_json()["error"]["message"]
    day_view = client.get(f"/dispatch/?date={DAY}", headers=DISPATCHER).get_data(as_text=True)
    assert f"/dispatch/booking/{code}/no-show" not in day_view  # no button yet
    assert f"/dispatch/booking/{code}/cancel" in day_view
    clock.now = clock.now.replace(day=2, hour=18, minute=26)  # 19:26 in Berlin
    day_view = client.get(f"/dispatch/?date={DAY}", headers=DISPATCHER).get_data(as_text=True)
    assert f"/dispatch/booking/{code}/no-show" in day_view
    marked = client.post(f"/api/v1/bookings/{code}/no-show", headers=DISPATCHER)
    assert marked.status_code == 200 and marked.get_json()["status"] == "no_show"


def test_cancel_asks_first_and_names_rider_and_time(client: FlaskClient) -> None:
    code = book(client)["code"]
    asked = client.get(f"/dispatch/booking/{code}/cancel", headers=DISPATCHER)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200
    assert "Erika Mustermann" in page and "08:10" in page and "Mittwoch, 2. Dezember 2026" in page
    still = client.get(f"/api/v1/bookings/{code}").get_json()
    assert still["status"] == "confirmed"  # asking changed nothing
    with client.session_transaction() as session:
        session["user_id"] = 1  # the dispatcher "disp" of the app fixture
    token = csrf_token(client, f"/dispatch/booking/{code}/cancel")
    done = client.post(f"/dispatch/booking/{code}/cancel", data={"csrf_token": token})
    assert done.status_code == 302
    assert client.get(f"/api/v1/bookings/{code}").get_json()["status"] == "cancelled"


def test_no_show_confirmation_is_refused_before_the_window(client: FlaskClient) -> None:
    code = book(client, "19:25")["code"]
    asked = client.get(f"/dispatch/booking/{code}/no-show", headers=DISPATCHER)
    assert asked.status_code == 409
    assert "19:25" in asked.get_data(as_text=True)
