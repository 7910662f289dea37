"""The dispatcher's live API, disruptions through the API, the GTFS-Realtime feeds and the live
page, on a real engine, SQLite and the drivers' API.

The day: Erika Mustermann rides Bernburg 08:10 -> Staßfurt, Otto Normal Staßfurt 08:50 ->
Bernburg, both on one bus. The bus reaches Bernburg 30 min late (08:40), so it cannot reach
Staßfurt (29 min away) before Otto's window closes at 09:05.
"""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from flask.testing import FlaskClient
from google.transit import gtfs_realtime_pb2

from planner.booking import BookingEngine
from planner.export.plan import gtfs_stop_id, plan_gtfs_tables
from planner.live.monitor import day_live
from tests.web.helpers import ANALYST, DAY, DISPATCHER, Clock, csrf_token, wished
from tests.web.test_api import BERNBURG, STASSFURT, book, offer, response_schema
from tests.web.test_vehicles import at, move_clock_to
from web import create_app
from web.config import AppConfig, RateLimit
from web.i18n import ENGLISH

BOOKED_DAY = date.fromisoformat(DAY)
OTTO_PHONE = "03925 987654"
ASCHERSLEBEN = "Aschersleben, Busbahnhof"
#: Near the Bernburg bus station, where the late bus last reported from.
NEAR_BERNBURG = {"lat": 51.7951, "lon": 11.7392}


def ride(client: FlaskClient, origin: str, destination: str, time: str, name: str, phone: str):
    found = offer(client, origin=origin, destination=destination, time=time)
    return book(client, wished(found["offers"])["offer_id"], name=name, phone=phone)


@pytest.fixture
def two_rides(client: FlaskClient) -> tuple[dict, dict]:
    """Erika's and Otto's rides (booked the day before), on one bus."""
    erika = ride(client, BERNBURG, STASSFURT, "08:10", "Erika Mustermann", "03471 123456")
    otto = ride(client, STASSFURT, BERNBURG, "08:50", "Otto Normal", OTTO_PHONE)
    assert erika["vehicle"] == otto["vehicle"]
    assert otto["pickup_window"] == ["08:50", "09:05"]
    return erika, otto


def report(client: FlaskClient, vehicle: str, events: list[dict]) -> None:
    """Events through the drivers' API, as the driver app sends them."""
    answer = client.post(f"/api/v1/vehicles/{vehicle}/events", json={"events": events},
                         headers=DISPATCHER)  # fmt: skip
    assert answer.status_code == 200 and answer.get_json()["rejected"] == [], answer.get_json()


@pytest.fixture
def late_bus(client: FlaskClient, clock: Clock, two_rides: tuple[dict, dict]) -> tuple[dict, dict]:
    """It is 08:45; the bus picked Erika up 30 min late and last reported at 08:44."""
    erika, otto = two_rides
    vehicle = erika["vehicle"]
    tasks = client.get(f"/api/v1/vehicles/{vehicle}/tasks?day={DAY}", headers=DISPATCHER)
    bernburg = tasks.get_json()["tasks"][0]["stop"]["id"]
    move_clock_to(clock, "08:45")
    report(client, vehicle, [
        {"client_id": "s", "kind": "shift_start", "at": at("07:50")},
        {"client_id": "a", "kind": "arrived", "at": at("08:40"), "stop": bernburg},
        {"client_id": "b", "kind": "boarded", "at": at("08:40"), "booking": erika["code"]},
        {"client_id": "d", "kind": "departed", "at": at("08:41"), "stop": bernburg},
        {"client_id": "p", "kind": "position", "at": at("08:44"), **NEAR_BERNBURG},
    ])  # fmt: skip
    return erika, otto


def test_the_live_api_shows_the_late_bus_and_the_booking_at_risk(
    client: FlaskClient, late_bus: tuple[dict, dict]
) -> None:
    erika, otto = late_bus
    answer = client.get(f"/api/v1/live/{DAY}", headers=DISPATCHER)
    assert answer.status_code == 200, answer.get_json()
    live = answer.get_json()
    spec = client.get("/api/v1/openapi.json").get_json()
    assert response_schema(spec, "/live/{day}", "get", 200).is_valid(live)
    bus = next(v for v in live["vehicles"] if v["vehicle"] == erika["vehicle"])
    assert bus["status"] == "on_route" and bus["on_board"] == 1
    assert bus["position"] == {**NEAR_BERNBURG, "at": "08:44"}
    assert bus["next"]["kind"] == "dropoff" and bus["next"]["stop"]["name"] == STASSFURT
    [risk] = live["at_risk"]
    assert (risk["code"], risk["risk"], risk["kind"]) == (otto["code"], "late_pickup", "pickup")
    assert (risk["rider"], risk["phone"]) == ("Otto Normal", OTTO_PHONE)
    assert risk["window"] == ["08:50", "09:05"] and risk["estimate"] > "09:05"


def test_the_live_api_is_for_dispatchers_and_names_a_bad_day(client: FlaskClient) -> None:
    assert client.get(f"/api/v1/live/{DAY}").status_code == 401
    assert client.get(f"/api/v1/live/{DAY}", headers=ANALYST).status_code == 403
    bad = client.get("/api/v1/live/2026-13-01", headers=DISPATCHER)
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "day"
    # another day than today: "now" stays a time of that day
    past = client.get("/api/v1/live/2000-01-01", headers=DISPATCHER).get_json()
    ahead = client.get("/api/v1/live/2100-01-01", headers=DISPATCHER).get_json()
    assert (past["now"], ahead["now"]) == ("47:59", "00:00")


def test_out_of_service_moves_or_lists_every_booking(
    client: FlaskClient, engine: BookingEngine, late_bus: tuple[dict, dict]
) -> None:
    erika, otto = late_bus
    broken = erika["vehicle"]
    url = f"/api/v1/plans/{DAY}/vehicles/{broken}/out-of-service"
    answer = client.post(url, json={"from": "08:45"}, headers=DISPATCHER)
    assert answer.status_code == 200, answer.get_json()
    result = answer.get_json()
    spec = client.get("/api/v1/openapi.json").get_json()
    assert response_schema(spec, "/plans/{day}/vehicles/{vehicle_id}/out-of-service", "post",
                           200).is_valid(result)  # fmt: skip
    assert result["vehicle"] == broken and result["since"] == "08:45"
    moved = {m["code"]: m for m in result["moved"]}
    stranded = {s["code"]: s for s in result["stranded"]}
    # Erika sits in the broken bus: listed with her phone, never moved
    assert stranded[erika["code"]]["on_board"] and stranded[erika["code"]]["phone"]
    # none dropped: each booking is still confirmed and either on another bus or listed
    for code in (erika["code"], otto["code"]):
        booking = engine.booking(code)
        assert booking.status == "confirmed"
        assert (code in moved and booking.vehicle_id != broken) != (code in stranded)
    assert engine.validate_day(BOOKED_DAY) == []
    live = client.get(f"/api/v1/live/{DAY}", headers=DISPATCHER).get_json()
    bus = next(v for v in live["vehicles"] if v["vehicle"] == broken)
    assert bus["status"] == "out_of_service" and bus["out_of_service_since"] == "08:45"


def test_out_of_service_before_the_day_starts_moves_every_booking(
    client: FlaskClient, engine: BookingEngine, clock: Clock, two_rides: tuple[dict, dict]
) -> None:
    erika, otto = two_rides
    broken = erika["vehicle"]
    move_clock_to(clock, "06:30")
    url = f"/api/v1/plans/{DAY}/vehicles/{broken}/out-of-service"
    result = client.post(url, headers=DISPATCHER).get_json()  # no body: from now
    assert result["since"] == "06:30" and result["stranded"] == []
    assert {m["code"] for m in result["moved"]} == {erika["code"], otto["code"]}
    for code in (erika["code"], otto["code"]):
        booking = engine.booking(code)
        assert booking.status == "confirmed" and booking.vehicle_id != broken
        assert booking.window_start_s <= booking.est_pickup_s <= booking.window_end_s
    assert engine.validate_day(BOOKED_DAY) == []


@pytest.mark.parametrize(
    ("vehicle", "body", "status", "field"),
    [
        ("XYZ-9", {"from": "08:00"}, 404, "vehicle"),
        ("BBG-1-S1", {"from": "25:00"}, 400, "from"),
        ("BBG-1-S1", {"from": 800}, 400, "from"),
        ("BBG-1-S1", {"since": "08:00"}, 400, "since"),
    ],
)
def test_out_of_service_names_what_is_wrong(
    client: FlaskClient, engine: BookingEngine, vehicle: str, body: dict, status: int, field: str
) -> None:
    url = f"/api/v1/plans/{DAY}/vehicles/{vehicle}/out-of-service"
    answer = client.post(url, json=body, headers=DISPATCHER)
    assert answer.status_code == status and answer.get_json()["error"]["field"] == field
    bad_day = client.post(f"/api/v1/plans/2026-02-30/vehicles/{vehicle}/out-of-service",
                          json={}, headers=DISPATCHER)  # fmt: skip
    assert bad_day.status_code == 400 and bad_day.get_json()["error"]["field"] == "day"
    assert client.post(url, json=body).status_code == 401


def test_a_dispatcher_moves_a_booking_through_the_api(
    client: FlaskClient, engine: BookingEngine, late_bus: tuple[dict, dict]
) -> None:
    erika, otto = late_bus
    # Otto waits at Staßfurt: a bus of the Staßfurt depot takes him on time
    answer = client.post(f"/api/v1/bookings/{otto['code']}/move", json={"vehicle": "SFT-1-S1"},
                         headers=DISPATCHER)  # fmt: skip
    assert answer.status_code == 200, answer.get_json()
    moved = answer.get_json()
    assert moved["code"] == otto["code"] and moved["vehicle"] == "SFT-1-S1"
    assert "08:50" <= moved["estimated_pickup"] <= "09:05"
    assert engine.booking(otto["code"]).vehicle_id == "SFT-1-S1"
    assert engine.validate_day(BOOKED_DAY) == []
    live = client.get(f"/api/v1/live/{DAY}", headers=DISPATCHER).get_json()
    assert live["at_risk"] == []  # the move took the risk away
    # 409: already there, or the rider is on board
    again = client.post(f"/api/v1/bookings/{otto['code']}/move", json={"vehicle": "SFT-1-S1"},
                        headers=DISPATCHER)  # fmt: skip
    assert again.status_code == 409 and again.get_json()["error"]["field"] == "vehicle"
    boarded = client.post(f"/api/v1/bookings/{erika['code']}/move", json={"vehicle": "SFT-1-S1"},
                          headers=DISPATCHER)  # fmt: skip
    assert boarded.status_code == 409 and boarded.get_json()["error"]["field"] == "code"
    unknown = client.post("/api/v1/bookings/NOSUCHCODE/move", json={"vehicle": "SFT-1-S1"},
                          headers=DISPATCHER)  # fmt: skip
    assert unknown.status_code == 404
    empty = client.post(f"/api/v1/bookings/{otto['code']}/move", json={}, headers=DISPATCHER)
    assert empty.status_code == 400 and empty.get_json()["error"]["field"] == "vehicle"


def test_a_move_that_breaks_a_promise_is_refused(
    client: FlaskClient, engine: BookingEngine, two_rides: tuple[dict, dict]
) -> None:
    erika, otto = two_rides
    # a bus busy at Aschersleben from 08:10 cannot also be at Bernburg, 25 min away, by 08:25
    elsewhere = ride(client, ASCHERSLEBEN, STASSFURT, "08:10", "Eva Beispiel", "03473 5555")
    assert elsewhere["vehicle"] != erika["vehicle"]
    answer = client.post(f"/api/v1/bookings/{erika['code']}/move",
                         json={"vehicle": elsewhere["vehicle"]}, headers=DISPATCHER)  # fmt: skip
    assert answer.status_code == 409, answer.get_json()
    assert answer.get_json()["error"]["field"] == "vehicle"
    assert engine.booking(erika["code"]).vehicle_id == erika["vehicle"]
    assert engine.validate_day(BOOKED_DAY) == []


def feed(client: FlaskClient, name: str) -> tuple[bytes, gtfs_realtime_pb2.FeedMessage]:
    answer = client.get(f"/gtfs-rt/{name}.pb")
    assert answer.status_code == 200
    assert answer.mimetype == "application/x-protobuf"
    message = gtfs_realtime_pb2.FeedMessage()
    message.ParseFromString(answer.data)
    return answer.data, message


def test_the_gtfs_realtime_feeds_match_the_live_state_and_carry_no_rider_data(
    client: FlaskClient, engine: BookingEngine, late_bus: tuple[dict, dict]
) -> None:
    erika, otto = late_bus
    live = day_live(engine, BOOKED_DAY)
    raw_positions, positions = feed(client, "vehicle-positions")
    raw_trips, trips = feed(client, "trip-updates")
    assert positions.header.gtfs_realtime_version == "2.0"
    # one entity per vehicle with a position, at the live state's position and time
    located = {v.vehicle_id: v for v in live.vehicles if v.position is not None}
    assert set(located) == {erika["vehicle"]}
    bus_of = {v.id: v.bus_id for v in engine.service.fleet}  # the feed names the bus ...
    assert {e.vehicle.vehicle.id for e in positions.entity} == {bus_of[erika["vehicle"]]}
    [entity] = positions.entity
    assert entity.vehicle.vehicle.label == erika["vehicle"]  # ... and labels it with the shift
    bus = located[erika["vehicle"]]
    assert bus.position is not None
    assert entity.vehicle.position.latitude == pytest.approx(bus.position.lat, abs=1e-5)
    assert entity.vehicle.position.longitude == pytest.approx(bus.position.lon, abs=1e-5)
    assert entity.vehicle.timestamp == int(engine.local(BOOKED_DAY, bus.position.at_s).timestamp())
    assert entity.vehicle.trip.trip_id == f"20261202-{erika['vehicle']}"
    assert entity.vehicle.current_status == gtfs_realtime_pb2.VehiclePosition.IN_TRANSIT_TO
    # the trip: the visits left (Staßfurt: Erika off and Otto on; then Bernburg), estimated
    [update] = [e.trip_update for e in trips.entity]
    assert update.trip.trip_id == f"20261202-{erika['vehicle']}"
    assert update.trip.start_date == "20261202"
    nodes = [s.stop.stop.id for s in bus.remaining]
    assert [s.stop_id for s in update.stop_time_update] == [
        gtfs_stop_id(engine.catalog, n) for n in (nodes[0], nodes[-1])
    ]
    first = bus.remaining[0].start_s
    assert first is not None
    arrival = update.stop_time_update[0].arrival.time
    assert arrival == int(engine.local(BOOKED_DAY, first).timestamp())
    # nothing of the riders: names, phones, booking codes
    debug = client.get("/gtfs-rt/trip-updates.pb?format=json")
    assert debug.status_code == 200 and debug.get_json()["entity"][0]["trip_update"]
    for raw in (raw_positions, raw_trips, debug.data):
        for secret in ("Erika", "Otto", "Mustermann", "123456", "987654", erika["code"],
                       otto["code"]):  # fmt: skip
            assert secret.encode() not in raw


def test_the_feeds_are_throttled_per_address(world_config, engine: BookingEngine) -> None:
    app = create_app(AppConfig(world_config, secret_key="t", testing=True,
                               feed_limit=RateLimit(2, 60)), engine=engine)  # fmt: skip
    client = app.test_client()
    codes = [client.get("/gtfs-rt/vehicle-positions.pb").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert client.get("/gtfs-rt/trip-updates.pb").headers["Retry-After"]


def texts(html: str) -> dict[str, str]:
    found = re.search(r'id="live-texts">(.*?)</script>', html, flags=re.S)
    assert found is not None
    return json.loads(found.group(1))


def shown(html: str, texts: set[str]) -> list[str]:
    """Which of ``texts`` (longer than 5 characters) stand as an element's text in ``html``."""
    visible = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    return [t for t in texts if len(t) > 5 and re.search(rf">\s*{re.escape(t)}\s*<", visible)]


def test_the_live_page_in_german_then_english(
    client: FlaskClient, late_bus: tuple[dict, dict]
) -> None:
    erika, otto = late_bus
    page = client.get(f"/dispatch/live?day={DAY}", headers=DISPATCHER)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Live-Lage Mittwoch, 2. Dezember 2026" in html
    assert "Gefährdete Buchungen" in html and 'href="/dispatch/live"' in html
    data = json.loads(re.search(r'id="live-data">(.*?)</script>', html, flags=re.S).group(1))
    assert data["at_risk"][0]["code"] == otto["code"]
    # no English on the German page, and the script's texts are the catalogue's German
    assert shown(html, {en for de, en in ENGLISH.items() if de != en}) == []
    assert set(texts(html).values()) <= set(ENGLISH)
    assert texts(html)["late_pickup"] == "Abholung nach dem zugesagten Fenster"
    # English on request
    token = csrf_token(client, "/")
    client.post("/language", data={"lang": "en", "next": "/", "csrf_token": token})
    html = client.get(f"/dispatch/live?day={DAY}", headers=DISPATCHER).get_data(as_text=True)
    assert "Live view Wednesday, 2 December 2026" in html and "Bookings at risk" in html
    assert texts(html)["late_pickup"] == "pickup after the promised window"
    assert shown(html, {de for de, en in ENGLISH.items() if de != en}) == []
    bad = client.get("/dispatch/live?day=morgen", headers=DISPATCHER)
    assert bad.status_code == 400


def test_the_live_view_shows_every_bus_of_the_service_with_or_without_stops(
    client: FlaskClient, engine: BookingEngine, clock: Clock, two_rides: tuple[dict, dict]
) -> None:
    erika, otto = two_rides
    fleet = [v.id for v in engine.service.fleet]
    broken = erika["vehicle"]
    move_clock_to(clock, "06:30")
    # the broken bus loses every stop to another; a bus without bookings starts its shift
    client.post(f"/api/v1/plans/{DAY}/vehicles/{broken}/out-of-service", headers=DISPATCHER)
    plan = engine.day_plan(BOOKED_DAY)
    assert plan.vehicle(broken) is None
    spare = next(v for v in fleet if v != broken and plan.vehicle(v) is None)
    report(client, spare, [
        {"client_id": "s", "kind": "shift_start", "at": at("06:20")},
        {"client_id": "p", "kind": "position", "at": at("06:29"), **NEAR_BERNBURG},
    ])  # fmt: skip
    live = client.get(f"/api/v1/live/{DAY}", headers=DISPATCHER).get_json()
    spec = client.get("/api/v1/openapi.json").get_json()
    assert response_schema(spec, "/live/{day}", "get", 200).is_valid(live)
    buses = {v["vehicle"]: v for v in live["vehicles"]}
    assert set(buses) == set(fleet)  # every bus of the service, in the fleet's order
    assert [v["vehicle"] for v in live["vehicles"]] == fleet
    assert buses[broken]["status"] == "out_of_service"
    assert buses[broken]["out_of_service_since"] == "06:30" and buses[broken]["next"] is None
    assert buses[spare]["status"] == "on_route" and buses[spare]["next"] is None
    assert buses[spare]["position"] == {**NEAR_BERNBURG, "at": "06:29"}
    # a bus nobody has heard of and with nothing to drive is idle, not on shift
    quiet = [v for v in fleet if v not in (broken, spare) and plan.vehicle(v) is None]
    assert quiet and all(buses[v]["status"] == "idle" for v in quiet)
    # the page shows them too: the live JSON it starts from, and the status text
    html = client.get(f"/dispatch/live?day={DAY}", headers=DISPATCHER).get_data(as_text=True)
    data = json.loads(re.search(r'id="live-data">(.*?)</script>', html, flags=re.S).group(1))
    assert [v["vehicle"] for v in data["vehicles"]] == fleet
    assert texts(html)["idle"] == "nicht im Dienst"


def test_trip_updates_number_their_stops_as_the_plan_s_gtfs_export_does(
    client: FlaskClient, engine: BookingEngine, late_bus: tuple[dict, dict]
) -> None:
    erika, otto = late_bus
    _, trips = feed(client, "trip-updates")
    plan = engine.day_plan(BOOKED_DAY)
    static = plan_gtfs_tables(plan, engine.service, engine.catalog, engine.depot_of,
                              agency_url="https://rufbus.example")["stop_times.txt"]  # fmt: skip
    assert trips.entity
    for entity in trips.entity:
        update = entity.trip_update
        own = static[static["trip_id"] == update.trip.trip_id]
        stop_of = dict(zip(own["stop_sequence"].astype(int), own["stop_id"], strict=True))
        assert all(stu.HasField("stop_sequence") for stu in update.stop_time_update)
        sequence = [stu.stop_sequence for stu in update.stop_time_update]
        assert sequence == sorted(set(sequence)), sequence  # strictly increasing
        # each update names the static trip's stop at that sequence, the last ones of the trip
        assert [stop_of[n] for n in sequence] == [stu.stop_id for stu in update.stop_time_update]
        assert sequence[-1] >= max(stop_of) - 1  # only the depot return may follow
    # Erika's bus left its depot, the Bernburg bus station, with her on board: that visit
    # (depot and her pickup, merged, sequence 1) is done; Otto's drop-off there merges with
    # the depot return, the trip's last stop time
    [late] = [
        e.trip_update for e in trips.entity if e.trip_update.vehicle.label == erika["vehicle"]
    ]
    assert [stu.stop_sequence for stu in late.stop_time_update] == [2, 3]
    assert engine.depot_of[erika["vehicle"]] == erika["origin"]["id"]
