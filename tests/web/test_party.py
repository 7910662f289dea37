"""A party with a wheelchair user: "Personen 2, davon im Rollstuhl 1" is two people, in the
form and in the API alike (``passengers`` counts everyone, ``wheelchairs`` says how many of
them travel in a wheelchair)."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.web.helpers import DAY, DISPATCHER, csrf_token

TRIP = {"origin": "Bernburg (Saale), Busbahnhof", "destination": "Staßfurt, Bahnhof (Bus)",
        "date": DAY, "time": "08:10"}  # fmt: skip


def test_two_people_of_whom_one_in_a_wheelchair_are_two_people_in_the_api(
    client: FlaskClient,
) -> None:
    offers = client.post("/api/v1/offers", json={**TRIP, "passengers": 2, "wheelchairs": 1})
    offer_id = offers.get_json()["offers"][0]["offer_id"]
    booked = client.post(
        "/api/v1/bookings",
        json={"offer_id": offer_id, "name": "Erika Mustermann", "phone": "03471 123456"},
    ).get_json()["bookings"][0]
    assert (booked["passengers"], booked["wheelchairs"]) == (2, 1)
    plan = client.get(f"/api/v1/plans/{DAY}", headers=DISPATCHER).get_json()
    (pickup,) = [s for v in plan["vehicles"] for s in v["stops"] if s["kind"] == "pickup"]
    assert (pickup["people"], pickup["wheelchairs"], pickup["load"]) == (2, 1, 2)


def test_more_wheelchairs_than_people_is_refused(client: FlaskClient) -> None:
    response = client.post("/api/v1/offers", json={**TRIP, "passengers": 1, "wheelchairs": 2})
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "wheelchairs"
    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert "wheelchair" in schema["TripWish"]["properties"]["passengers"]["description"]


def test_the_form_means_the_same_as_the_api(client: FlaskClient) -> None:
    token = csrf_token(client, "/")
    page = client.post(
        "/offers", data={**TRIP, "kind": "pickup", "passengers": "2", "wheelchairs": "1",
                         "csrf_token": token},
    ).get_data(as_text=True)  # fmt: skip
    offer_id = re.search(r"/confirm/([\w-]+)", page).group(1)
    confirm = client.get(f"/confirm/{offer_id}").get_data(as_text=True)
    assert re.search(r"<dd>2 \(1 Rollstuhl\)</dd>", confirm), confirm
