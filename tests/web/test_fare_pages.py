"""The hotline and the fare on every offer, and revenue in the KPIs.

Two states: the default service file (no tariff, no hotline number yet: the pages say the
fare is still to be set and the number will be announced, never a made-up one), and a test
service file with a tariff and a number.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from planner.booking import BookingEngine
from planner.service import load_service
from planner.stops import StopCatalog
from planner.store.db import Store
from planner.world import WorldConfig
from tests.web.helpers import DAY, DISPATCHER, Clock, csrf_token, with_fares
from tests.web.test_honest_times import BERNBURG, STASSFURT, english, search, text
from web import create_app
from web.auth import add_user
from web.config import AppConfig, RateLimit
from web.messages import money
from web.openapi import Offers

HOTLINE = "03471 00000"  # a test number


@pytest.fixture
def priced(
    world_config: WorldConfig, catalog: StopCatalog, store: Store, clock: Clock, tmp_path: Path
) -> FlaskClient:
    """A client of the app whose service file has a tariff and a hotline number."""
    service = load_service(with_fares(tmp_path, phone=HOTLINE))
    engine = BookingEngine(service, catalog, store, clock=clock)
    roomy = RateLimit(10_000, 60)
    config = AppConfig(world_config, secret_key="test", testing=True,
                       offer_limit=roomy, lookup_limit=roomy)  # fmt: skip
    add_user(store, "disp", "dispatcher", "dispatch-pw")
    return create_app(config, engine=engine).test_client()


def api_result(client: FlaskClient, passengers: int = 2) -> dict:
    body = {"origin": BERNBURG, "destination": STASSFURT, "date": DAY, "time": "08:10",
            "passengers": passengers}  # fmt: skip
    response = client.post("/api/v1/offers", json=body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def book(client: FlaskClient, offer_id: str) -> str:
    """Book ``offer_id`` on the residents' pages; the booking page's text."""
    token = csrf_token(client, f"/confirm/{offer_id}")
    response = client.post(
        f"/confirm/{offer_id}",
        data={"name": "Erika Muster", "phone": "0170 1234567", "csrf_token": token},
        follow_redirects=True,
    )
    assert response.status_code == 200
    return text(response.get_data(as_text=True))


def test_money_is_written_as_the_reader_writes_it(app: Flask) -> None:
    with app.test_request_context():
        from flask import session

        assert money(350) == "3,50\u00a0€"
        assert money(123456) == "1.234,56\u00a0€"
        assert money(5) == "0,05\u00a0€"
    with app.test_request_context():  # the language is read once per request
        session["lang"] = "en"
        assert money(350) == "€3.50"
        assert money(123456) == "€1,234.56"


def test_without_a_tariff_every_offer_says_the_fare_is_not_set(client: FlaskClient) -> None:
    status, page = search(client, passengers="2")
    assert status == 200
    offers = page.count("Abholung zwischen")
    assert offers >= 1
    # on every offer, and once with what to do
    assert page.count("Fahrpreis: steht noch nicht fest") == offers + 1
    assert "Bitte fragen Sie bei der Rufbus-Zentrale nach." in page
    assert "Rufbus-Zentrale: Die Telefonnummer wird noch bekannt gegeben." in page
    assert "€" not in page and "tel:" not in page  # no invented price, no invented number
    english(client)
    _, page = search(client, passengers="2")
    assert "Fare: not set yet" in page and "Please ask the Rufbus hotline." in page
    assert "Rufbus hotline: The number will be announced." in page
    assert "Fahrpreis" not in page


def test_without_a_tariff_the_api_offer_has_no_fare_and_no_hotline(client: FlaskClient) -> None:
    result = api_result(client)
    assert result["offers"]
    assert all(o["fare"] is None and o["fare_status"] == "to_be_confirmed"
               for o in result["offers"])  # fmt: skip
    assert result["hotline"] is None
    Offers.model_validate(result)  # as documented


def test_with_a_tariff_every_offer_shows_its_price_and_the_hotline(priced: FlaskClient) -> None:
    status, page = search(priced, passengers="2")
    assert status == 200
    offers = page.count("Abholung zwischen")
    # Bernburg - Staßfurt is beyond 15 km: 4.50 € and the surcharge of 1.00 € each
    assert page.count("Fahrpreis: 11,00 € für 2 Personen") == offers + 1
    assert "je Person 4,50 € Fahrpreis und 1,00 € Rufbus-Zuschlag" in page
    assert "Kinder zahlen 50 % des Fahrpreises." in page
    assert "Mit Deutschlandticket zahlen Sie nur den Zuschlag von 1,00 € je Person." in page
    assert f"Rufbus-Zentrale: {HOTLINE}" in page
    raw = priced.post("/offers", data={
        "origin": BERNBURG, "destination": STASSFURT, "date": DAY, "time": "08:10",
        "kind": "pickup", "passengers": "1", "wheelchairs": "0",
        "csrf_token": csrf_token(priced, "/")}).get_data(as_text=True)  # fmt: skip
    assert 'href="tel:0347100000"' in raw
    assert re.search(r"Fahrpreis: 5,50\s€</p>", raw)  # one person: no "für 1 Personen"
    english(priced)
    _, page = search(priced, passengers="2")
    assert "Fare: €11.00 for 2 people" in page
    assert "per person €4.50 fare and €1.00 on-demand surcharge" in page
    assert "Children pay 50% of the fare." in page
    assert f"Rufbus hotline: {HOTLINE}" in page


def test_with_a_tariff_the_api_offer_carries_the_fare(priced: FlaskClient) -> None:
    result = api_result(priced)
    fare = result["offers"][0]["fare"]
    assert result["offers"][0]["fare_status"] == "quoted"
    assert fare["total_cents"] == 1100 and fare["currency"] == "EUR"
    assert (fare["mode"], fare["level"], fare["up_to_km"]) == ("distance", "band", None)
    assert fare["distance_km"] > 15
    assert [p["total_cents"] for p in fare["people"]] == [550, 550]
    assert result["hotline"] == HOTLINE
    Offers.model_validate(result)  # as documented


@pytest.mark.parametrize("tariff", [False, True])
def test_the_confirm_page_and_the_booking_page_show_fare_and_hotline(
    request: pytest.FixtureRequest, tariff: bool
) -> None:
    rider = request.getfixturevalue("priced" if tariff else "client")
    offer = api_result(rider)["offers"][0]
    confirm = text(rider.get(f"/confirm/{offer['offer_id']}").get_data(as_text=True))
    booking = book(rider, offer["offer_id"])
    for page in (confirm, booking):
        if tariff:
            assert "Fahrpreis 11,00 € für 2 Personen" in page
            assert re.search(f"Rufbus-Zentrale:? {HOTLINE}", page)
        else:
            assert "Fahrpreis steht noch nicht fest" in page
            assert re.search("Rufbus-Zentrale:? Die Telefonnummer wird noch bekannt gegeben.", page)
            assert "€" not in page


@pytest.mark.parametrize("tariff", [False, True])
def test_revenue_in_the_kpis(request: pytest.FixtureRequest, tariff: bool) -> None:
    rider = request.getfixturevalue("priced" if tariff else "client")
    kpis = rider.get(f"/api/v1/kpis/{DAY}", headers=DISPATCHER).get_json()
    assert kpis["revenue_cents"] == (0 if tariff else None)
    for passengers in (2, 1):
        offer = api_result(rider, passengers)["offers"][0]
        book(rider, offer["offer_id"])
    kpis = rider.get(f"/api/v1/kpis/{DAY}", headers=DISPATCHER).get_json()
    assert kpis["served"] == 2
    assert kpis["revenue_cents"] == (1100 + 550 if tariff else None)
    assert kpis["unpriced"] == (0 if tariff else None)
    token = csrf_token(rider, "/auth/login")
    login = {"name": "disp", "password": "dispatch-pw", "csrf_token": token}
    rider.post("/auth/login", data=login)
    day = text(rider.get(f"/dispatch/?date={DAY}").get_data(as_text=True))
    assert ("Einnahmen 16,50 €" if tariff else "Einnahmen nicht konfiguriert") in day
