"""The booking flow through the JSON API, on the real network and a real SQLite file."""

from __future__ import annotations

import json
import random

import jsonschema_rs
import pytest
import schemathesis
from flask.testing import FlaskClient
from sqlalchemy import func, select

from planner.booking import BookingEngine
from planner.store.db import Booking, Offer, PlanVersion
from planner.timefmt import hhmm
from tests.web.helpers import ANALYST, DAY, DISPATCHER, Clock, wished

BERNBURG = "Bernburg (Saale), Busbahnhof"
STASSFURT = "Staßfurt, Bahnhof (Bus)"


def offer(client: FlaskClient, **overrides) -> dict:
    body = {"origin": BERNBURG, "destination": STASSFURT, "date": DAY, "time": "08:10"}
    body.update(overrides)
    response = client.post("/api/v1/offers", json=body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def book(client: FlaskClient, offer_id: str, **extra) -> dict:
    body = {"offer_id": offer_id, "name": "Erika Mustermann", "phone": "03471 123456", **extra}
    response = client.post("/api/v1/bookings", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["bookings"][0]


def count(engine: BookingEngine, model) -> int:
    with engine.store.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_stop_search(client: FlaskClient) -> None:
    stops = client.get("/api/v1/stops?q=Staßfurt Bahnhof").get_json()["stops"]
    assert stops[0]["name"] == STASSFURT
    assert {"id", "name", "lon", "lat"} <= set(stops[0])
    missing = client.get("/api/v1/stops")
    assert missing.status_code == 400
    assert missing.get_json()["error"]["field"] == "q"


def test_stop_names_are_found_however_spelt(client: FlaskClient) -> None:
    found = client.get("/api/v1/stops?q=Grona").get_json()["stops"]
    assert found[0]["name"] == "Gröna"
    assert found[0]["label"] == "Gröna (Bernburg (Saale))"
    # nothing matches: similar names instead of an empty list
    similar = client.get("/api/v1/stops?q=Bernbrug Busbanhof").get_json()["stops"]
    assert similar[0]["name"] == BERNBURG
    result = offer(client, origin="Bernburg Busbahnhof", destination="Stassfurt Bahnhof")
    assert result["offers"]


@pytest.mark.parametrize(
    ("typed", "reason", "expected"),
    [
        ("Bernbrug Busbanhof", "no bookable stop named", BERNBURG),
        ("Nachterstedt", "matches several stops", "Nachterstedt, Schulstr. (Seeland)"),
    ],
)
def test_unknown_stop_names_get_suggestions(
    client: FlaskClient, engine: BookingEngine, typed: str, reason: str, expected: str
) -> None:
    body = {"origin": typed, "destination": STASSFURT, "date": DAY, "time": "08:10"}
    response = client.post("/api/v1/offers", json=body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] == "origin"
    assert reason in error["message"]
    assert expected in error["suggestions"] and len(error["suggestions"]) <= 5
    assert count(engine, Offer) == 0
    # the suggestion, sent back as it is, is the stop
    assert offer(client, origin=expected)["offers"]


def test_other_errors_have_no_suggestions(client: FlaskClient) -> None:
    body = {"origin": BERNBURG, "destination": STASSFURT, "date": DAY, "time": "25:00"}
    error = client.post("/api/v1/offers", json=body).get_json()["error"]
    assert "suggestions" not in error


def test_book_look_up_and_cancel(client: FlaskClient, engine: BookingEngine) -> None:
    offers = offer(client)["offers"]
    assert 1 <= len(offers) <= 3
    # the wish itself fits an empty day (offers come by time: an earlier one may be first)
    first = next(o for o in offers if o["shift_min"] == 0)
    assert first["pickup_window"] == ["08:10", "08:25"]
    assert "08:10" <= first["estimated_pickup"] <= "08:25"
    assert first["estimated_arrival"] > first["estimated_pickup"]
    booking = book(client, first["offer_id"], note="Rollator")
    code = booking["code"]
    assert len(code) == 10 and booking["status"] == "confirmed"
    looked_up = client.get(f"/api/v1/bookings/{code}").get_json()
    assert looked_up["pickup_window"] == ["08:10", "08:25"]
    assert looked_up["note"] == "Rollator"
    plan = client.get(f"/api/v1/plans/{DAY}", headers=DISPATCHER).get_json()
    codes = [s["code"] for v in plan["vehicles"] for s in v["stops"]]
    assert codes.count(code) == 2

    cancelled = client.delete(f"/api/v1/bookings/{code}")
    assert cancelled.get_json()["status"] == "cancelled"
    again = client.delete(f"/api/v1/bookings/{code}")
    assert again.status_code == 409
    assert again.get_json()["error"] == {
        "field": "code",
        "message": f"booking {code} is already cancelled",
        "code": "not_confirmed",
    }
    plan = client.get(f"/api/v1/plans/{DAY}", headers=DISPATCHER).get_json()
    assert all(s["code"] != code for v in plan["vehicles"] for s in v["stops"])
    assert client.get("/api/v1/bookings/NOSUCHCODE").status_code == 404


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"origin": "Atlantis"}, "origin", "no bookable stop named 'Atlantis'"),
        ({"origin": 999999}, "origin", "unknown stop id 999999"),
        ({"destination": {"lon": 13.4, "lat": 52.5}}, "destination", "lies outside"),
        ({"destination": BERNBURG}, "destination", "is the same stop as the origin"),
        ({"date": "2026-11-30"}, "time", "is in the past"),
        ({"date": "02.12.2026"}, "date", "expected YYYY-MM-DD"),
        ({"time": "8 Uhr"}, "time", "expected a time 'HH:MM'"),
        ({"time": "25:00"}, "time", "is not a time of day"),
        ({"passengers": 12}, "passengers", "at most 8 people per booking"),
        ({"passengers": -1}, "passengers", "greater than or equal to 1"),
        ({"kind": "whenever"}, "kind", "should be 'pickup' or 'arrival'"),
    ],
)
def test_bad_offer_input(
    client: FlaskClient, engine: BookingEngine, change: dict, field: str, message: str
) -> None:
    body = {"origin": BERNBURG, "destination": STASSFURT, "date": DAY, "time": "08:10", **change}
    response = client.post("/api/v1/offers", json=body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] == field
    assert message in error["message"]
    assert count(engine, Offer) == 0


def test_malformed_and_oversize_bodies(client: FlaskClient, engine: BookingEngine) -> None:
    bad = client.post("/api/v1/offers", data="{not json", content_type="application/json")
    assert bad.status_code == 400
    assert bad.get_json()["error"]["field"] == "body"
    huge = client.post(
        "/api/v1/offers", data=json.dumps({"x": "a" * 100_000}), content_type="application/json"
    )
    assert huge.status_code == 413
    assert huge.get_json()["error"]["field"] == "body"
    no_name = client.post(
        "/api/v1/bookings", json={"offer_id": wished(offer(client)["offers"])["offer_id"]}
    )
    assert no_name.status_code == 400
    assert no_name.get_json()["error"]["field"] == "name"
    assert count(engine, Booking) == 0


def test_refusals_give_reason_and_alternatives(client: FlaskClient) -> None:
    night = offer(client, time="03:00")
    assert night["offers"] == [] and night["reason"] == "outside_hours"
    assert night["alternatives"] and all(t >= "05:30" for t in night["alternatives"])
    soon = offer(client, date="2026-12-01", time="07:20")  # it is 07:00 in Berlin
    assert soon["reason"] == "lead_time"
    assert soon["message"] == "book at least 60 minutes ahead"
    assert soon["alternatives"][0] == "08:05"
    wheelchairs = offer(client, passengers=2, wheelchairs=2)
    assert wheelchairs["reason"] == "no_capacity"


def test_offer_expires(client: FlaskClient, engine: BookingEngine, clock: Clock) -> None:
    offer_id = wished(offer(client)["offers"])["offer_id"]
    clock.advance(minutes=6)
    response = client.post(
        "/api/v1/bookings", json={"offer_id": offer_id, "name": "A", "phone": "0123456"}
    )
    assert response.status_code == 409
    assert "expired" in response.get_json()["error"]["message"]
    assert count(engine, Booking) == 0


def test_offer_cannot_be_used_twice(client: FlaskClient) -> None:
    offer_id = wished(offer(client)["offers"])["offer_id"]
    book(client, offer_id)
    response = client.post(
        "/api/v1/bookings", json={"offer_id": offer_id, "name": "B", "phone": "0123456"}
    )
    assert response.status_code == 409


def test_dispatcher_role_and_no_show(
    client: FlaskClient, engine: BookingEngine, clock: Clock
) -> None:
    code = book(client, wished(offer(client)["offers"])["offer_id"])["code"]
    assert client.get(f"/api/v1/plans/{DAY}").status_code == 401
    assert client.get(f"/api/v1/plans/{DAY}", headers=ANALYST).status_code == 403
    wrong = {"Authorization": "Basic ZGlzcDp3cm9uZw=="}  # disp:wrong
    assert client.get(f"/api/v1/plans/{DAY}", headers=wrong).status_code == 401
    assert client.post(f"/api/v1/bookings/{code}/no-show").status_code == 401

    plan = client.get(f"/api/v1/plans/{DAY}", headers=DISPATCHER).get_json()
    (vehicle,) = [v for v in plan["vehicles"] if v["stops"]]
    pickup, dropoff = vehicle["stops"]
    assert (pickup["kind"], pickup["load"], pickup["rider"]) == ("pickup", 1, "Erika Mustermann")
    assert (dropoff["kind"], dropoff["load"]) == ("dropoff", 0)
    assert pickup["stop"]["name"] == BERNBURG
    kpis = client.get(f"/api/v1/kpis/{DAY}", headers=DISPATCHER).get_json()
    assert kpis["served"] == 1 and kpis["requests"] == 1

    clock.advance(hours=25, minutes=15)  # 08:15 on the day: the pickup window has started
    marked = client.post(f"/api/v1/bookings/{code}/no-show", headers=DISPATCHER)
    assert marked.get_json()["status"] == "no_show"
    assert client.get(f"/api/v1/kpis/{DAY}", headers=DISPATCHER).get_json()["requests"] == 0


def test_standing_booking(client: FlaskClient, engine: BookingEngine) -> None:
    body = {
        "origin": BERNBURG,
        "destination": "Bernburg (Saale), Klinikum",
        "date": "2026-12-03",
        "time": "08:10",
        "weekdays": [2, 4],  # Tuesdays and Thursdays
        "until": "2027-01-31",
        "name": "Karl Dialyse",
        "phone": "03471 654321",
    }
    response = client.post("/api/v1/standing", json=body, headers=DISPATCHER)
    assert response.status_code == 201, response.get_json()
    days = response.get_json()["days"]
    # booked as far as the 14-day horizon reaches (1 Dec + 14 = 15 Dec)
    assert [d["date"] for d in days] == ["2026-12-03", "2026-12-08", "2026-12-10", "2026-12-15"]
    assert all("code" in d for d in days)
    first = client.get(f"/api/v1/bookings/{days[0]['code']}").get_json()
    assert first["standing_id"] == response.get_json()["standing_id"]
    assert first["pickup_window"] == ["08:10", "08:25"]
    bad = client.post("/api/v1/standing", json={**body, "weekdays": [9]}, headers=DISPATCHER)
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "weekdays"


def test_linked_return_trip(client: FlaskClient) -> None:
    out_id = wished(offer(client)["offers"])["offer_id"]
    back = offer(client, origin=STASSFURT, destination=BERNBURG, time="12:00")
    bookings = client.post(
        "/api/v1/bookings",
        json={
            "offer_id": out_id,
            "return_offer_id": wished(back["offers"])["offer_id"],
            "name": "Eva",
            "phone": "03471 1111",
        },
    ).get_json()["bookings"]
    assert len(bookings) == 2
    assert bookings[0]["linked_code"] == bookings[1]["code"]
    assert bookings[1]["linked_code"] == bookings[0]["code"]


def test_promise_kept_after_100_bookings_and_reoptimization(
    client: FlaskClient, engine: BookingEngine
) -> None:
    promised = book(client, wished(offer(client)["offers"])["offer_id"])
    rng = random.Random(3)
    nodes = list(engine.catalog.nodes)
    booked = 0
    while booked < 100:
        origin, destination = rng.sample(nodes, 2)
        minute = rng.randrange(6 * 60, 20 * 60, 5)
        result = offer(
            client,
            origin=origin,
            destination=destination,
            time=hhmm(minute * 60),
            kind=rng.choice(["pickup", "arrival"]),
            passengers=rng.choice([1, 1, 1, 2]),
        )
        if result["offers"]:
            book(client, wished(result["offers"])["offer_id"])
            booked += 1
    assert engine.validate_day(promised_day := engine.clock().date().replace(day=2)) == []
    optimized = client.post(
        f"/api/v1/plans/{DAY}/optimize", json={"time_limit": 5}, headers=DISPATCHER
    ).get_json()
    assert optimized["before"]["served"] == 101
    if optimized["stored"]:
        assert optimized["cost_after"] < optimized["cost_before"]
        assert optimized["after"]["served"] == 101
    # the independent validator on the stored plan: every window and ride time holds
    assert engine.validate_day(promised_day) == []
    kept = client.get(f"/api/v1/bookings/{promised['code']}").get_json()
    assert kept["pickup_window"] == ["08:10", "08:25"]
    assert "08:10" <= kept["estimated_pickup"] <= "08:25"
    with engine.store.session() as s:
        versions = s.scalars(select(PlanVersion.version).where(PlanVersion.day == DAY)).all()
    assert len(versions) >= 101  # every plan version is kept


def response_schema(spec: dict, path: str, method: str, status: int) -> jsonschema_rs.Validator:
    """The validator of the JSON answer that the OpenAPI document gives ``status``."""
    answer = spec["paths"][path][method]["responses"][str(status)]
    schema = answer["content"]["application/json"]["schema"]
    return jsonschema_rs.validator_for({**schema, "components": spec["components"]})


def refs(node: object) -> set[str]:
    """Every ``$ref`` in a JSON document."""
    if isinstance(node, dict):
        own = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return own.union(*(refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(refs(v) for v in node))
    return set()


def test_openapi(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    # valid against the OpenAPI 3.1 meta-schema (schemathesis carries the official one)
    schemathesis.openapi.from_dict(spec).validate()
    assert spec["openapi"] == "3.1.0"
    schemas = spec["components"]["schemas"]
    assert {r.removeprefix("#/components/schemas/") for r in refs(spec)} <= set(schemas)
    operations = {
        (path, method): op
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method != "parameters"
    }
    public = {("/stops", "get"), ("/offers", "post"), ("/bookings", "post")}
    public |= {("/bookings/{code}", "get"), ("/bookings/{code}", "delete")}
    staff = {("/bookings/{code}/no-show", "post"), ("/plans/{day}", "get")}
    staff |= {("/plans/{day}/optimize", "post"), ("/kpis/{day}", "get"), ("/standing", "post")}
    staff |= {("/vehicles/{vehicle_id}/tasks", "get"), ("/vehicles/{vehicle_id}/events", "post")}
    staff |= {("/vehicles/{vehicle_id}/positions", "post"), ("/live/{day}", "get")}
    staff |= {("/plans/{day}/vehicles/{vehicle_id}/out-of-service", "post")}
    staff |= {("/bookings/{code}/move", "post"), ("/bookings/{code}/change", "post")}
    staff |= {("/bookings/{code}/change/confirm", "post"), ("/bookings/{code}/changes", "get")}
    staff |= {("/plans/{day}/proposals/{proposal}", "post")}
    staff |= {("/plans/{day}/proposals/{proposal}", "delete")}
    assert set(operations) == public | staff
    for key, op in operations.items():  # staff operations, and only they, need a login
        login = key in staff
        assert ("security" in op) is login, key
        assert ({"401", "403"} <= set(op["responses"])) is login, key
    # the offer operation: a required trip wish in, offers or an error naming the field out
    offers = spec["paths"]["/offers"]["post"]
    assert offers["requestBody"]["required"] is True
    body = offers["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/TripWish"}
    assert set(schemas["TripWish"]["required"]) == {"origin", "date"}
    assert set(offers["responses"]) == {"200", "400", "413"}
    assert set(schemas["Offer"]["required"]) >= {"offer_id", "pickup_window", "expires_at"}
    assert set(schemas["ErrorDetail"]["required"]) == {"field", "message"}
    # and the server's real answers are what the document says
    found = client.post("/api/v1/offers", json=TRIP)
    assert found.status_code == 200 and found.get_json()["offers"]
    assert response_schema(spec, "/offers", "post", 200).is_valid(found.get_json())
    bad = client.post("/api/v1/offers", json={**TRIP, "time": "25:00"})
    assert bad.status_code == 400
    assert response_schema(spec, "/offers", "post", 400).is_valid(bad.get_json())
    assert not response_schema(spec, "/offers", "post", 200).is_valid(bad.get_json())
    offer_id = wished(found.get_json()["offers"])["offer_id"]
    booked = client.post(
        "/api/v1/bookings", json={"offer_id": offer_id, "name": "Eva", "phone": "03471 1111"}
    )
    assert booked.status_code == 201
    assert response_schema(spec, "/bookings", "post", 201).is_valid(booked.get_json())
    code = booked.get_json()["bookings"][0]["code"]
    looked_up = client.get(f"/api/v1/bookings/{code}").get_json()
    assert response_schema(spec, "/bookings/{code}", "get", 200).is_valid(looked_up)
    missing = client.get("/api/v1/bookings/NOSUCHCODE")
    assert missing.status_code == 404
    assert response_schema(spec, "/bookings/{code}", "get", 404).is_valid(missing.get_json())


DEEP = "[" * 1000 + "]" * 1000


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("GET", "/api/v1/stops?q=Bern&limit=²", None, "limit"),  # '²'.isdigit() is True
        ("POST", "/api/v1/offers", '{"origin": ' + DEEP + "}", "body"),
        ("POST", "/api/v1/offers", DEEP, "body"),
        ("POST", "/api/v1/offers", json.dumps({"origin": BERNBURG, "destination": STASSFURT,
                                               "date": "9999-12-31", "time": "08:10"}), "date"),
        ("POST", "/api/v1/offers", json.dumps({"origin": BERNBURG, "destination": STASSFURT,
                                               "date": DAY, "time": "²:10"}), "time"),
        ("GET", "/api/v1/plans/9999-12-31", None, "date"),
        ("GET", "/api/v1/kpis/0001-01-01", None, "date"),
        ("POST", "/api/v1/plans/9999-12-31/optimize", None, "date"),
    ],
)  # fmt: skip
def test_bad_input_is_a_400_naming_the_field(
    client: FlaskClient, method: str, path: str, body: str | None, field: str
) -> None:
    response = client.open(
        path, method=method, data=body, content_type="application/json", headers=DISPATCHER
    )
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"]["field"] == field


def request_schema(spec: dict, path: str) -> jsonschema_rs.Validator:
    """The validator of the request body that the OpenAPI document gives ``path``."""
    body = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return jsonschema_rs.validator_for({**body, "components": spec["components"]})


TRIP = {"origin": BERNBURG, "destination": STASSFURT, "date": DAY, "time": "08:10"}
STANDING = {**TRIP, "weekdays": [2], "until": DAY, "name": "Eva", "phone": "03471 1111"}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/offers", {k: v for k, v in TRIP.items() if k != "destination"}, "destination"),
        ("/offers", {k: v for k, v in TRIP.items() if k != "time"}, "time"),
        (
            "/offers",
            {**TRIP, "connection": {"stop": STASSFURT, "line": "140", "departure": ""}},
            "connection.departure",
        ),
        ("/bookings", {"offer_id": "x", "name": "", "phone": "03471 1111"}, "name"),
        ("/bookings", {"offer_id": "x", "name": "Eva", "phone": ""}, "phone"),
        ("/standing", {k: v for k, v in STANDING.items() if k != "weekdays"}, "weekdays"),
        ("/standing", {**STANDING, "name": " "}, "name"),
    ],
)
def test_the_document_refuses_what_the_server_refuses(
    client: FlaskClient, path: str, body: dict, field: str
) -> None:
    response = client.post("/api/v1" + path, json=body, headers=DISPATCHER)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field
    spec = client.get("/api/v1/openapi.json").get_json()
    assert not request_schema(spec, path).is_valid(body)


def test_the_document_accepts_good_requests(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert request_schema(spec, "/offers").is_valid(TRIP)
    assert request_schema(spec, "/standing").is_valid(STANDING)
    good = {"offer_id": "x", "name": "Eva", "phone": "03471 1111"}
    assert request_schema(spec, "/bookings").is_valid(good)


def test_the_document_requires_a_stop_query(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    (q,) = [p for p in spec["paths"]["/stops"]["get"]["parameters"] if p["name"] == "q"]
    assert q["required"]
    assert not jsonschema_rs.validator_for(q["schema"]).is_valid("")
    assert client.get("/api/v1/stops?q=").get_json()["error"]["field"] == "q"
