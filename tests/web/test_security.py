"""Security promises through the test client: anonymous exports, CSV injection, one login
limiter for every way of logging in, throttled anonymous offers and lookups, CSRF on the API."""

from __future__ import annotations

import csv
import io
import json
import logging
from datetime import date
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from planner.booking import BookingEngine, parse_trip_request
from planner.booking.views import DayPlan, PlanStop, StopPlace, VehicleDay
from planner.errors import PlannerError
from planner.export.plan import plan_csv
from planner.world import WorldConfig
from tests.web.helpers import DAY, DISPATCHER, csrf_token
from web import create_app
from web.auth import add_user
from web.config import LOOKUP_LIMIT, AppConfig, RateLimit
from web.limits import RateLimiter

BERNBURG = "Bernburg (Saale), Busbahnhof"
STASSFURT = "Staßfurt, Bahnhof (Bus)"
TRIP = {"origin": BERNBURG, "destination": STASSFURT, "date": DAY, "time": "08:10"}


def book(engine: BookingEngine, name: str, phone: str, time: str = "08:10") -> dict:
    trip = parse_trip_request({**TRIP, "time": time}, engine.catalog, engine.service)
    offer = engine.offer(trip).offers[0]
    return engine.confirm(offer.id, name=name, phone=phone)[0]


def login(client: FlaskClient) -> None:
    token = csrf_token(client, "/auth/login")
    response = client.post(
        "/auth/login", data={"name": "disp", "password": "dispatch-pw", "csrf_token": token}
    )
    assert response.status_code == 302


@pytest.fixture
def default_client(world_config: WorldConfig, engine: BookingEngine) -> FlaskClient:
    """An app with the default rate limits (the shared fixture raises them)."""
    config = AppConfig(world_config, secret_key="test", testing=True)
    add_user(engine.store, "disp", "dispatcher", "dispatch-pw")
    return create_app(config, engine=engine).test_client()


# -- item 8: exports carry export-only ids, never booking codes ---------------------------


def test_dispatcher_route_download_has_no_booking_codes(
    client: FlaskClient, engine: BookingEngine
) -> None:
    codes = [
        book(engine, "Erika Mustermann", "03471 123456", t)["code"] for t in ("08:10", "09:00")
    ]
    text = client.get(f"/dispatch/routes.geojson?date={DAY}", headers=DISPATCHER).get_data(
        as_text=True
    )
    assert not any(code in text for code in codes)
    assert "Erika" not in text and "03471" not in text
    points = [f["properties"] for f in json.loads(text)["features"] if "kind" in f["properties"]]
    # pickup and drop-off of one booking share their export id
    refs = sorted(p["booking_ref"] for p in points)
    assert refs == ["B001", "B001", "B002", "B002"]


# -- item 9: no formulas in any CSV --------------------------------------------------------


def test_manifest_csv_neutralises_formulas(client: FlaskClient, engine: BookingEngine) -> None:
    booking = book(engine, '=HYPERLINK("http://evil.example","x")', "+49 3471 123456")
    response = client.get(
        f"/dispatch/manifest/{booking['vehicle']}.csv?date={DAY}", headers=DISPATCHER
    )
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {r["rider"] for r in rows} == {'\'=HYPERLINK("http://evil.example","x")'}
    assert {r["phone"] for r in rows} == {"'+49 3471 123456"}
    assert {r["code"] for r in rows} == {booking["code"]}  # the driver's sheet keeps the code


def test_plan_csv_neutralises_formulas() -> None:
    stop = PlanStop(
        kind="pickup", code="X", rider="=cmd", phone="+49", note="", people=1, wheelchairs=0,
        stop=StopPlace(1, "@SUM(A1:A9)", lon=11.7, lat=51.8), arrival_s=29400,
        service_start_s=29400, departure_s=29460, load=1, window_s=(29400, 30300),
        connection=None, no_show_allowed=False,
    )  # fmt: skip
    plan = DayPlan(date(2026, 12, 2), 1, (VehicleDay("-BUS", 28800, 36000, (stop,)),), {})
    text = plan_csv(plan)
    (row,) = csv.DictReader(io.StringIO(text))
    assert (row["vehicle"], row["stop_name"]) == ("'-BUS", "'@SUM(A1:A9)")
    assert (row["time"], row["window"], row["booking_ref"]) == ("08:10", "08:10-08:25", "B001")
    assert "cmd" not in text and "+49" not in text  # no rider details leave the office
    assert row["people"] == "1" and row["lat"] == "51.8"


# -- item 10: one limiter for form logins and HTTP Basic -----------------------------------


def test_basic_auth_is_limited_like_the_login_form(client: FlaskClient) -> None:
    wrong = {"Authorization": "Basic ZGlzcDp3cm9uZw=="}  # disp:wrong
    statuses = {client.get(f"/api/v1/plans/{DAY}", headers=wrong).status_code for _ in range(50)}
    assert 429 in statuses and 200 not in statuses
    blocked = client.get(f"/api/v1/plans/{DAY}", headers=DISPATCHER)
    assert blocked.status_code == 429  # even the right password, while blocked
    assert blocked.get_json()["error"]["field"] == "authorization"
    assert int(blocked.headers["Retry-After"]) > 0
    # the same limiter guards the login form
    token = csrf_token(client, "/auth/login")
    form = client.post(
        "/auth/login", data={"name": "disp", "password": "dispatch-pw", "csrf_token": token}
    )
    assert form.status_code == 429


def test_failed_form_logins_block_basic_auth(client: FlaskClient) -> None:
    token = csrf_token(client, "/auth/login")
    for _ in range(5):
        client.post("/auth/login", data={"name": "disp", "password": "no", "csrf_token": token})
    assert client.get(f"/api/v1/plans/{DAY}", headers=DISPATCHER).status_code == 429
    assert client.get(f"/dispatch/?date={DAY}", headers=DISPATCHER).status_code == 429


# -- item 11: anonymous offers and lookups are throttled per address ------------------------


def test_offers_are_throttled_per_address(default_client: FlaskClient) -> None:
    for _ in range(30):
        assert default_client.post("/api/v1/offers", json=TRIP).status_code == 200
    refused = default_client.post("/api/v1/offers", json=TRIP)
    assert refused.status_code == 429
    assert refused.get_json()["error"]["field"] == "rate"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    # another address is not affected; staff are not throttled
    other = default_client.post(
        "/api/v1/offers", json=TRIP, environ_base={"REMOTE_ADDR": "10.0.0.9"}
    )
    assert other.status_code == 200
    assert default_client.post("/api/v1/offers", json=TRIP, headers=DISPATCHER).status_code == 200
    # the HTML form shares the budget, and answers with a page in the rider's language
    token = csrf_token(default_client, "/")
    data = {**TRIP, "kind": "pickup", "passengers": "1", "wheelchairs": "0", "csrf_token": token}
    page = default_client.post("/offers", data=data)
    assert page.status_code == 429 and "Retry-After" in page.headers
    assert "Zu viele Anfragen" in page.get_data(as_text=True)


def test_booking_lookups_are_throttled(default_client: FlaskClient) -> None:
    statuses = [default_client.get(f"/api/v1/bookings/GUESS{k:05d}").status_code for k in range(10)]
    assert statuses == [404] * 10
    refused = default_client.get("/api/v1/bookings/GUESS99999")
    assert refused.status_code == 429 and refused.get_json()["error"]["field"] == "rate"
    assert int(refused.headers["Retry-After"]) > 0
    assert default_client.delete("/api/v1/bookings/GUESS99999").status_code == 429
    assert default_client.get("/booking/GUESS99999").status_code == 429
    assert default_client.get("/api/v1/bookings/GUESS99999", headers=DISPATCHER).status_code == 404


# -- item 12: a session cookie alone never changes anything through the API -----------------


def test_cookie_authenticated_api_changes_need_the_csrf_token(client: FlaskClient) -> None:
    login(client)
    url = f"/api/v1/plans/{DAY}/optimize"
    forged = client.post(
        url, data="{}", content_type="text/plain", headers={"Origin": "https://evil.example"}
    )
    assert forged.status_code == 403
    missing = client.post(url, json={"time_limit": 1})
    assert missing.status_code == 403 and missing.get_json()["error"]["field"] == "csrf"
    token = csrf_token(client, f"/dispatch/?date={DAY}")
    assert (
        client.post(url, json={"time_limit": 1}, headers={"X-CSRFToken": token}).status_code == 200
    )
    wrong = client.delete("/api/v1/bookings/NOPE", headers={"X-CSRFToken": "forged"})
    assert wrong.status_code == 403 and wrong.get_json()["error"]["field"] == "csrf"


def test_basic_auth_needs_no_token_but_a_foreign_origin_is_refused(client: FlaskClient) -> None:
    url = f"/api/v1/plans/{DAY}/optimize"
    assert client.post(url, json={"time_limit": 1}, headers=DISPATCHER).status_code == 200
    foreign = client.post(
        url, json={"time_limit": 1}, headers={**DISPATCHER, "Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403 and foreign.get_json()["error"]["field"] == "origin"
    same = client.post(
        url, json={"time_limit": 1}, headers={**DISPATCHER, "Origin": "http://localhost"}
    )
    assert same.status_code == 200


def test_rate_limiter_window_slides() -> None:
    now = [0.0]
    limiter = RateLimiter(RateLimit(2, 60), clock=lambda: now[0])
    assert limiter.take("a") == 0
    now[0] = 10.0
    assert limiter.take("a") == 0
    now[0] = 20.0
    assert limiter.take("a") == 40  # the first event leaves the window at 60 s
    assert limiter.take("b") == 0  # per key
    now[0] = 60.5
    assert limiter.take("a") == 0 and limiter.retry_after("a") == 10  # then the second


def test_limits_from_the_environment() -> None:
    env = {"RUFBUS_SECRET_KEY": "x", "RUFBUS_OFFERS_PER_MINUTE": "500"}
    config = AppConfig.from_env(env)
    assert config.offer_limit == RateLimit(500, 60)
    assert config.lookup_limit == LOOKUP_LIMIT and config.trusted_proxies == 0
    with pytest.raises(PlannerError) as info:
        AppConfig.from_env({**env, "RUFBUS_LOOKUPS_PER_MINUTE": "ten"})
    assert info.value.field == "RUFBUS_LOOKUPS_PER_MINUTE"


def test_app_reads_its_world_as_the_commands_do(tmp_path: Path) -> None:
    """Folders, database and service file: the same variables as ``rufbus`` commands."""
    env = {
        "RUFBUS_DATA_DIR": str(tmp_path / "data"),
        "RUFBUS_CACHE_DIR": str(tmp_path / "cache"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}",
        "RUFBUS_SERVICE_FILE": str(tmp_path / "service.toml"),
    }
    world = AppConfig.from_env(env).world
    assert world == WorldConfig.from_env(env)
    assert world.settings.data_dir == tmp_path / "data"
    assert world.settings.cache_dir == tmp_path / "cache"
    assert world.database_url == env["DATABASE_URL"]
    assert world.service_file == tmp_path / "service.toml"


def test_app_without_a_secret_signs_with_a_random_key(
    world_config: WorldConfig, engine: BookingEngine, caplog: pytest.LogCaptureFixture
) -> None:
    """Only the app needs ``RUFBUS_SECRET_KEY``: unset, each app gets its own key and says so."""
    config = AppConfig(world_config, testing=True)
    assert AppConfig.from_env({}).secret_key is None
    with caplog.at_level(logging.WARNING):
        first, second = create_app(config, engine=engine), create_app(config, engine=engine)
    assert first.secret_key and second.secret_key and first.secret_key != second.secret_key
    assert "RUFBUS_SECRET_KEY is not set" in caplog.text


def test_trusted_proxy_gives_each_client_its_own_limit(
    world_config: WorldConfig, engine: BookingEngine
) -> None:
    config = AppConfig(
        world_config, secret_key="test", testing=True,
        lookup_limit=RateLimit(1, 60), trusted_proxies=1,
    )  # fmt: skip
    client = create_app(config, engine=engine).test_client()
    for address in ("192.0.2.1", "192.0.2.2"):
        forwarded = {"X-Forwarded-For": address}
        assert client.get("/api/v1/bookings/NOPE", headers=forwarded).status_code == 404
    assert client.get("/api/v1/bookings/NOPE", headers=forwarded).status_code == 429


def test_logs_hold_no_personal_data(
    client: FlaskClient, engine: BookingEngine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    booked = book(engine, "Erika Geheim", "03471 987654")
    client.get(f"/api/v1/bookings/{booked['code']}")
    client.get(f"/dispatch/?date={DAY}", headers=DISPATCHER)
    client.post(f"/api/v1/plans/{DAY}/optimize", json={"time_limit": 1}, headers=DISPATCHER)
    client.delete(f"/api/v1/bookings/{booked['code']}")
    assert caplog.records  # the flow did log (re-optimisation, at least)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "Geheim" not in text and "987654" not in text
