"""The typed day plan (:class:`planner.booking.views.DayPlan`) and its one JSON edge: what
``GET /api/v1/plans/{day}`` answers is ``DayPlan.to_json()``, and the OpenAPI document
describes exactly that shape."""

from __future__ import annotations

from datetime import date

import jsonschema_rs
from flask.testing import FlaskClient

from planner.booking.engine import BookingEngine
from planner.booking.views import DayPlan
from planner.timefmt import hhmm
from tests.web.helpers import DAY, DISPATCHER, Clock, wished

TRIP = {"origin": "Bernburg (Saale), Busbahnhof", "destination": "Staßfurt, Bahnhof (Bus)",
        "date": DAY, "time": "08:10", "passengers": 2, "wheelchairs": 1}  # fmt: skip


def plan_schema(client: FlaskClient) -> jsonschema_rs.Validator:
    spec = client.get("/api/v1/openapi.json").get_json()
    ok = spec["paths"]["/plans/{day}"]["get"]["responses"]["200"]
    schema = ok["content"]["application/json"]["schema"]
    return jsonschema_rs.validator_for({**schema, "components": spec["components"]})


def test_api_plan_is_the_typed_plan_as_json(
    client: FlaskClient, engine: BookingEngine, clock: Clock
) -> None:
    offer_id = wished(client.post("/api/v1/offers", json=TRIP).get_json()["offers"])["offer_id"]
    body = {"offer_id": offer_id, "name": "Erika Mustermann", "phone": "03471 123456",
            "note": "Rollator"}  # fmt: skip
    code = client.post("/api/v1/bookings", json=body).get_json()["bookings"][0]["code"]
    clock.advance(hours=25, minutes=15)  # 08:15 on the day: the pickup window has started

    plan = engine.day_plan(date.fromisoformat(DAY))
    shown = client.get(f"/api/v1/plans/{DAY}", headers=DISPATCHER).get_json()
    assert shown == plan.to_json()
    plan_schema(client).validate(shown)  # the document describes the answer exactly

    (vehicle,) = plan.vehicles
    pickup, dropoff = vehicle.stops
    assert (pickup.code, pickup.rider, pickup.note) == (code, "Erika Mustermann", "Rollator")
    assert (pickup.people, pickup.wheelchairs, pickup.load, dropoff.load) == (2, 1, 2, 0)
    assert (pickup.no_show_allowed, dropoff.no_show_allowed) == (True, False)
    assert pickup.window_s == (8 * 3600 + 10 * 60, 8 * 3600 + 25 * 60)
    assert vehicle.depart_s <= pickup.arrival_s <= pickup.service_start_s < dropoff.arrival_s
    (stop_json, _) = shown["vehicles"][0]["stops"]
    assert stop_json["window"] == ["08:10", "08:25"]
    assert stop_json["service_start"] == hhmm(pickup.service_start_s)
    assert shown["vehicles"][0]["return"] == hhmm(vehicle.return_s)
    # read back (a scenario report reads plan.json): the same JSON
    assert DayPlan.from_json(shown).to_json() == shown


def test_plan_schema_is_strict(client: FlaskClient) -> None:
    stop = {"kind": "pickup", "code": "X", "rider": "", "phone": "", "note": "",
            "no_show_allowed": False, "people": 1, "wheelchairs": 0,
            "stop": {"id": 1, "name": "A", "lon": 11.7, "lat": 51.8}, "arrival": "08:00",
            "service_start": "08:10", "departure": "08:11", "load": 1,
            "window": ["08:10", "08:25"], "connection": None}  # fmt: skip
    vehicle = {"vehicle": "B", "depart": "07:00", "return": "09:00", "stops": [stop],
               "breaks": []}  # fmt: skip
    plan = {"date": DAY, "version": 1, "vehicles": [vehicle], "kpis": {}}
    schema = plan_schema(client)
    assert schema.is_valid(plan)
    for broken in (
        {**plan, "vehicles": [{**vehicle, "stops": [{**stop, "service_start": 29400}]}]},
        {**plan, "vehicles": [{**vehicle, "stops": [{**stop, "booking_ref": "B001"}]}]},
        {**plan, "vehicles": [{k: v for k, v in vehicle.items() if k != "return"}]},
    ):
        assert not schema.is_valid(broken)
