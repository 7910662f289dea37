"""The timetable in the web app: scheduled lines on the offers page and the API, feeder
connections in the dispatcher's day view (real KVG timetable)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient

from planner.booking import BookingEngine
from planner.service import load_service
from planner.stops import StopCatalog
from planner.store.db import Store
from routing.timetable import TimetableCache
from tests.web.helpers import DAY, DISPATCHER, Clock, csrf_token

ASCHERSLEBEN = "Aschersleben, Busbahnhof"
STASSFURT = "Staßfurt, Bahnhof (Bus)"


@pytest.fixture
def engine(
    catalog: StopCatalog, store: Store, clock: Clock, timetable: TimetableCache
) -> BookingEngine:
    """The app's engine with the timetable on (overrides the shared fixture)."""
    return BookingEngine(load_service(), catalog, store, clock=clock, timetable=timetable)


def search(client: FlaskClient, time: str) -> str:
    token = csrf_token(client, "/")
    response = client.post(
        "/offers",
        data={"origin": ASCHERSLEBEN, "destination": STASSFURT, "date": DAY, "time": time,
              "passengers": "1", "wheelchairs": "0", "csrf_token": token},
    )  # fmt: skip
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_offers_page_shows_the_line_instead_of_the_bus(client: FlaskClient) -> None:
    page = search(client, "06:35")
    assert "Mit dem Linienbus" in page
    assert (
        "Linie 146: ab Aschersleben, Busbahnhof 06:40, Ankunft Staßfurt, Bahnhof (Bus) 07:06"
        in (page)
    )
    assert "Diese Fahrt buchen" not in page
    later = search(client, "13:00")
    assert "Mit dem Linienbus" not in later and "Diese Fahrt buchen" in later


def test_api_offers_name_the_scheduled_connection(client: FlaskClient) -> None:
    body = {"origin": ASCHERSLEBEN, "destination": STASSFURT, "date": DAY, "time": "06:35"}
    result = client.post("/api/v1/offers", json=body).get_json()
    assert result["reason"] == "scheduled_line" and result["offers"] == []
    assert result["scheduled"][0]["lines"] == ["146"]


def test_day_view_marks_guaranteed_connections(client: FlaskClient) -> None:
    connection = {"stop": "Alsleben (Saale), Schule", "line": "116", "departure": "14:55"}
    body = {"origin": "Schackenthal", "date": DAY, "connection": connection}
    offers = client.post("/api/v1/offers", json=body).get_json()["offers"]
    booked = client.post(
        "/api/v1/bookings",
        json={"offer_id": offers[0]["offer_id"], "name": "Anna", "phone": "03471 1234"},
    )
    assert booked.status_code == 201
    page = client.get(f"/dispatch/?date={DAY}", headers=DISPATCHER).get_data(as_text=True)
    assert "Anschluss 116 ab 14:55" in page


def test_day_view_warns_30_days_before_the_timetable_ends(
    client: FlaskClient, clock: Clock
) -> None:
    page = client.get(f"/dispatch/?date={DAY}", headers=DISPATCHER).get_data(as_text=True)
    assert "Fahrplan der Linienbusse endet" not in page
    clock.now = datetime(2027, 5, 10, 8, 0, tzinfo=UTC)
    page = client.get("/dispatch/?date=2027-05-10", headers=DISPATCHER).get_data(as_text=True)
    assert "Der Fahrplan der Linienbusse endet am Freitag, 4. Juni 2027." in page
