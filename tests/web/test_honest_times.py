"""Honest times and plain words on the residents' pages.

An offer that moves the wish says so, offers come by time, the arrival is called an
estimate, every date has its weekday, and refusals reach a German page in German (and an
English page in English), never as raw field names.
"""

from __future__ import annotations

import html
import re

import pytest
from flask.testing import FlaskClient

from planner.booking import BookingEngine
from tests.web.helpers import DAY, csrf_token
from web.messages import OPTIMIZED

BERNBURG = "Bernburg (Saale), Busbahnhof"
STASSFURT = "Staßfurt, Bahnhof (Bus)"


def english(client: FlaskClient) -> None:
    """Switch the client's pages to English."""
    client.post("/language", data={"lang": "en", "csrf_token": csrf_token(client, "/")})


def search(client: FlaskClient, **overrides: str) -> tuple[int, str]:
    """Submit the residents' booking form; the status and the page's visible text."""
    form = {
        "origin": BERNBURG, "destination": STASSFURT, "date": DAY, "time": "08:10",
        "kind": "pickup", "passengers": "1", "wheelchairs": "0",
        "csrf_token": csrf_token(client, "/"), **overrides,
    }  # fmt: skip
    response = client.post("/offers", data=form)
    return response.status_code, text(response.get_data(as_text=True))


def text(page: str) -> str:
    """What a reader sees of ``page``: no tags, entities resolved, spaces collapsed."""
    body = page.split("<main", 1)[-1]
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def api_offers(client: FlaskClient, **overrides: str) -> list[dict]:
    body = {"origin": BERNBURG, "destination": STASSFURT, "date": DAY, "time": "08:10"}
    response = client.post("/api/v1/offers", json={**body, **overrides})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["offers"]


def test_a_moved_offer_says_how_far_from_the_wish(client: FlaskClient) -> None:
    # the bus runs until 23:30: a late wish can only be met earlier
    status, page = search(client, time="23:15")
    assert status == 200
    assert (
        "Sie wollten um 23:15 Uhr fahren. Der Bus kann Sie zwischen 22:45 und 23:00 Uhr "
        "abholen – 30 Minuten früher." in page
    )
    assert "zwischen 23:00 und 23:15 Uhr abholen – 15 Minuten früher." in page
    # and a wish before the first bus only later
    _, early = search(client, time="05:15")
    assert "Sie wollten um 05:15 Uhr fahren." in early and "15 Minuten später." in early
    english(client)
    _, page = search(client, time="23:15")
    assert (
        "You wanted to leave at 23:15. The bus can pick you up between 22:45 and 23:00 "
        "– 30 minutes earlier." in page
    )


def test_an_offer_as_wished_says_nothing_about_moving(client: FlaskClient) -> None:
    _, page = search(client, time="08:10")
    wished = page.index("Abholung zwischen 08:10 und 08:25 Uhr")
    following = page[wished : page.index("Abholung zwischen", wished + 1)]
    assert "Sie wollten" not in following


def test_the_api_gives_the_difference_in_minutes_and_sorts_by_time(client: FlaskClient) -> None:
    late = api_offers(client, time="23:15")
    assert [(o["pickup_window"][0], o["shift_min"]) for o in late] == [
        ("22:45", -30),
        ("23:00", -15),
    ]
    # the engine tries the wish, then 15 minutes later, then earlier: the API lists by time
    around = api_offers(client, time="22:45")
    assert [(o["pickup_window"][0], o["shift_min"]) for o in around] == [
        ("22:30", -15),
        ("22:45", 0),
        ("23:00", 15),
    ]
    day = api_offers(client, time="08:10")
    starts = [o["pickup_window"][0] for o in day]
    assert starts == sorted(starts) and len(starts) > 1
    wished = next(o for o in day if o["pickup_window"][0] == "08:10")
    assert wished["shift_min"] == 0
    spec = client.get("/api/v1/openapi.json").get_json()
    offer = spec["components"]["schemas"]["Offer"]
    assert (
        "shift_min" in offer["required"]
        and "wish" in offer["properties"]["shift_min"]["description"]
    )


def test_offers_on_the_page_come_by_time(client: FlaskClient) -> None:
    _, page = search(client, time="08:10")
    starts = re.findall(r"Abholung zwischen (\d\d:\d\d) und", page)
    assert len(starts) > 1 and starts == sorted(starts)


def test_the_arrival_is_called_an_estimate(client: FlaskClient) -> None:
    _, page = search(client)
    assert f"Ankunft am Ziel ({STASSFURT}) voraussichtlich gegen" in page
    assert "Die Ankunftszeit am Ziel ist eine Schätzung." in page
    assert "Ankunft etwa" not in page
    english(client)
    _, page = search(client)
    assert f"Arrival at the destination ({STASSFURT}) expected around" in page


def test_every_date_a_rider_reads_has_its_weekday(client: FlaskClient) -> None:
    _, page = search(client)
    assert f"{BERNBURG} → {STASSFURT}, Mittwoch, 2. Dezember 2026" in page
    offer_id = api_offers(client)[0]["offer_id"]
    confirm = text(client.get(f"/confirm/{offer_id}").get_data(as_text=True))
    assert "Datum Mittwoch, 2. Dezember 2026" in confirm
    booked = client.post(
        f"/confirm/{offer_id}",
        data={"name": "Erika", "phone": "03471 1234", "csrf_token": csrf_token(client, "/")},
    )
    page = text(client.get(booked.headers["Location"]).get_data(as_text=True))
    assert "Datum Mittwoch, 2. Dezember 2026" in page
    assert "2026-12-02" not in page
    english(client)
    page = text(client.get(booked.headers["Location"]).get_data(as_text=True))
    assert "Date Wednesday, 2 December 2026" in page


def test_a_booking_moved_from_the_wish_says_so(client: FlaskClient) -> None:
    offer_id = api_offers(client, time="23:30")[0]["offer_id"]
    booked = client.post(
        "/api/v1/bookings", json={"offer_id": offer_id, "name": "Erika", "phone": "03471 1234"}
    ).get_json()["bookings"][0]
    assert booked["shift_min"] == -30
    page = text(client.get(f"/booking/{booked['code']}").get_data(as_text=True))
    assert "Sie wollten um 23:30 Uhr fahren." in page and "30 Minuten früher" in page


def short_trip(engine: BookingEngine) -> dict[str, str]:
    """A trip between two stops less than 1 km apart (the bus refuses it)."""
    catalog = engine.catalog
    origin = catalog.resolve(BERNBURG, field="origin")
    row = catalog.distance_m[catalog.row[origin]]
    near = min((n for n in catalog.nodes if n != origin), key=lambda n: row[catalog.row[n]])
    return {"destination": str(near)}


#: Each refusal the issue found in English on German pages: the form's change and the
#: German sentence the page now says.
REFUSALS = {
    "too_short": (None, "Die Haltestellen liegen nur"),
    "lead_time": ({"date": "2026-12-01", "time": "07:20"}, "Bitte buchen Sie mindestens 60"),
    "outside_hours": ({"time": "03:00"}, "Der Bus fährt von 05:30 bis 23:30 Uhr."),
    "unknown_stop": ({"origin": "Peisen Oben"}, "„Peisen Oben“ wurde nicht gefunden."),
    "past": ({"date": "2026-11-30"}, "Die gewünschte Zeit ist schon vorbei."),
    "nobody": ({"passengers": "0"}, "Es muss mindestens eine Person mitfahren."),
    "same_stop": ({"destination": BERNBURG}, "Start und Ziel sind dieselbe Haltestelle."),
}  # fmt: skip
#: The English the pages showed, and the field names they printed.
ENGLISH_FRAGMENTS = (
    "the stops are", "apart", "the bus takes trips", "book at least", "the bus runs from",
    "no bookable stop", "origin:", "destination:", "time:", "passengers:", "is in the past",
    "at least one person", "greater than", "is the same stop",
)  # fmt: skip
#: German the English pages must not show.
GERMAN_FRAGMENTS = (
    "Haltestelle", "Bitte", "mindestens", "Der Bus", "Rufbus fährt", "vorbei", "Person ",
    "Sie ", " und ", "Uhr",
)  # fmt: skip


@pytest.mark.parametrize("name", list(REFUSALS))
def test_refusals_speak_the_pages_language(
    client: FlaskClient, engine: BookingEngine, name: str
) -> None:
    change, german = REFUSALS[name]
    form = change if change is not None else short_trip(engine)
    _, page = search(client, **form)
    assert german in page
    leaked = [f for f in ENGLISH_FRAGMENTS if f in page]
    assert leaked == []
    english(client)
    _, page = search(client, **form)
    refusal = page[page.index("Error" if "Error:" in page else "Sorry") :]
    refusal = refusal[: refusal.index("New search") if "New search" in refusal else 400]
    leaked = [f for f in GERMAN_FRAGMENTS if f in refusal]
    assert leaked == [], refusal


def test_the_api_keeps_machine_readable_reasons(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/offers",
        json={"origin": BERNBURG, "destination": STASSFURT, "date": DAY, "time": "03:00"},
    )
    refused = response.get_json()
    assert refused["reason"] == "outside_hours"
    assert refused["reason_params"] == {"first": "05:30", "last": "23:30"}
    assert refused["message"] == "the bus runs from 05:30 to 23:30"
    past = client.post(
        "/api/v1/offers",
        json={"origin": BERNBURG, "destination": STASSFURT, "date": "2026-11-30", "time": "08:10"},
    )
    assert past.status_code == 400
    assert past.get_json()["error"] == {
        "field": "time",
        "message": "is in the past",
        "code": "past",
    }


def test_the_optimisation_result_is_said_in_german(client: FlaskClient) -> None:
    token = csrf_token(client, "/auth/login")
    client.post(
        "/auth/login", data={"name": "disp", "password": "dispatch-pw", "csrf_token": token}
    )
    token = csrf_token(client, f"/dispatch/?date={DAY}")
    page = text(client.post("/dispatch/optimize", data={"date": DAY, "csrf_token": token})
                .get_data(as_text=True))  # fmt: skip
    assert any(f"gespeichert : {outcome}" in page for outcome in OPTIMIZED.values()), page
    english_reasons = ("stored a better plan", "the current plan", "no bookings", "the new plan")
    assert [r for r in english_reasons if r in page] == []
    assert "Neu optimieren Mittwoch, 2. Dezember 2026" in page
