"""The rider's booking page (by code): the promised window with its weekday date, the bus's
live estimate once the driver reports, and what to do if the bus is late.

The day of tests/web/test_live.py: Erika Mustermann rides Bernburg 08:10 -> Staßfurt, Otto
Normal Staßfurt 08:50 -> Bernburg, on one bus, which picked Erika up 30 min late.
"""

from __future__ import annotations

import re
from dataclasses import replace

from flask.testing import FlaskClient

from planner.booking import BookingEngine
from tests.web.helpers import Clock, csrf_token
from tests.web.test_live import late_bus, two_rides  # noqa: F401  (fixtures)
from tests.web.test_vehicles import move_clock_to


def text(html: str) -> str:
    """The page's words, tags and runs of white space taken out."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def page_of(client: FlaskClient, code: str) -> str:
    answer = client.get(f"/booking/{code}")
    assert answer.status_code == 200
    return text(answer.get_data(as_text=True))


def test_the_page_shows_the_live_estimate_once_the_driver_reports(
    client: FlaskClient,
    late_bus: tuple[dict, dict],  # noqa: F811
) -> None:
    erika, otto = late_bus
    live = client.get(f"/booking/{otto['code']}/live.json").get_json()
    estimate = live["live"]["estimate"]
    # the bus left Bernburg at 08:41 and needs about half an hour to Staßfurt
    assert "09:05" < estimate < "09:40" and live["poll"] is True
    assert live["live"]["late"] is True and live["live"]["as_of"] == "08:45"
    page = page_of(client, otto["code"])
    assert f"Ihr Bus kommt voraussichtlich um {estimate} Uhr." in page
    assert "Geschätzt um 08:45 Uhr aus den Meldungen des Fahrers" in page  # an estimate
    assert "Das ist später als zugesagt." in page
    # the arrival at the destination follows the live estimate, not the booking's old one
    arrival = re.search(
        r"Ankunft am Ziel voraussichtlich gegen (\d\d:\d\d) Uhr \(geschätzt um 08:45", page
    )
    assert arrival and arrival.group(1) > estimate
    assert "Mittwoch, 2. Dezember 2026, 08:50–09:05 Uhr" in page  # the promise, with weekday
    # nothing of the other rider: not in the page, not in what it polls
    for other in ("Erika", erika["code"], "03471 123456"):
        assert other not in page and other not in str(live)
    # Erika is on board: her pickup has no estimate any more
    assert client.get(f"/booking/{erika['code']}/live.json").get_json()["live"] is None
    assert "Ihr Bus kommt" not in page_of(client, erika["code"])


def test_no_estimate_before_the_driver_reports_nor_on_another_day(
    client: FlaskClient,
    clock: Clock,
    two_rides: tuple[dict, dict],  # noqa: F811
) -> None:
    _erika, otto = two_rides
    # the day before: the page does not ask
    assert client.get(f"/booking/{otto['code']}/live.json").get_json() == {
        "live": None,
        "poll": False,
    }
    assert 'id="live-pickup"' not in client.get(f"/booking/{otto['code']}").get_data(as_text=True)
    # the day itself, the driver not heard of: the page asks, the planned times stand
    move_clock_to(clock, "08:00")
    assert client.get(f"/booking/{otto['code']}/live.json").get_json() == {
        "live": None,
        "poll": True,
    }
    html = client.get(f"/booking/{otto['code']}").get_data(as_text=True)
    assert 'id="live-pickup"' in html and "Ihr Bus kommt" not in html


def test_the_page_says_what_to_do_if_the_bus_is_late(
    client: FlaskClient,
    engine: BookingEngine,
    two_rides: tuple[dict, dict],  # noqa: F811
) -> None:
    _erika, otto = two_rides
    page = page_of(client, otto["code"])
    assert "Wenn der Bus nicht kommt" in page
    assert (
        "Wenn der Bus 10 Minuten nach dem Ende des Zeitfensters, also um 09:15 Uhr, noch nicht "
        "da ist, rufen Sie bitte die Rufbus-Zentrale an." in page
    )
    # the service file has no phone number yet: none is made up
    assert engine.service.phone == ""
    assert "wird noch bekannt gegeben" in page and "tel:" not in page
    engine.service = replace(engine.service, phone="03471 684 1234")
    html = client.get(f"/booking/{otto['code']}").get_data(as_text=True)
    assert 'href="tel:034716841234"' in html and "wird noch bekannt gegeben" not in html
    # in English, too
    client.post("/language", data={"lang": "en", "csrf_token": csrf_token(client, "/")})
    page = page_of(client, otto["code"])
    assert "If the bus does not come" in page and "that is at 09:15" in page
    assert "Wednesday, 2 December 2026, 08:50–09:05" in page
    # a cancelled ride has nothing to wait for
    client.delete(f"/api/v1/bookings/{otto['code']}")
    assert "If the bus does not come" not in page_of(client, otto["code"])


def test_the_live_answer_names_an_unknown_code(client: FlaskClient) -> None:
    answer = client.get("/booking/NOSUCHCODE/live.json")
    assert answer.status_code == 404
    assert answer.get_json()["error"]["field"] == "code"
