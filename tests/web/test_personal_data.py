"""Personal data through the app: the dispatcher's access and erasure pages, the resident's
note warning and booking lookup, and ``rufbus privacy`` (real SQLite, real network)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select

from planner.booking import BookingEngine, parse_trip_request
from planner.booking.privacy import is_erased
from planner.store.db import Booking, utcnow
from routing.settings import Settings
from tests.web.helpers import DAY, Clock, csrf_token
from web.cli import main

BERNBURG = "Bernburg (Saale), Busbahnhof"
STASSFURT = "Staßfurt, Bahnhof (Bus)"


def book(client: FlaskClient, name: str, phone: str, **extra) -> list[dict]:
    body = {"origin": BERNBURG, "destination": STASSFURT, "date": DAY, "time": "08:10"}
    body.update(extra.pop("trip", {}))
    offer_id = client.post("/api/v1/offers", json=body).get_json()["offers"][0]["offer_id"]
    response = client.post(
        "/api/v1/bookings", json={"offer_id": offer_id, "name": name, "phone": phone, **extra}
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["bookings"]


def stored(engine: BookingEngine, code: str) -> Booking:
    with engine.store.session() as s:
        return s.scalar(select(Booking).where(Booking.code == code))


def login(client: FlaskClient, name: str = "disp", password: str = "dispatch-pw") -> None:
    token = csrf_token(client, "/auth/login")
    client.post("/auth/login", data={"name": name, "password": password, "csrf_token": token})


def test_dispatcher_erases_a_rider_on_request(client: FlaskClient, engine: BookingEngine) -> None:
    (erika,) = book(client, "Erika Mustermann", "03471 123456", note="Rollator")
    (otto,) = book(client, "Otto Anders", "0391 5555")
    code = erika["code"]
    login(client)
    found = client.get(f"/dispatch/booking?code={code[:5]}-{code[5:].lower()}")
    assert found.headers["Location"] == f"/dispatch/booking/{code}"
    page = client.get(f"/dispatch/booking/{code}").get_data(as_text=True)
    assert "Erika Mustermann" in page and "03471 123456" in page and "Rollator" in page
    assert "30 Tage nach der Fahrt" in page

    # access: the rider's data as a JSON file, nobody else's
    export = client.get(f"/dispatch/booking/{code}/export.json")
    assert export.headers["Content-Disposition"].startswith("attachment")
    assert export.headers["Cache-Control"] == "no-store"
    data = json.loads(export.data)
    assert [b["name"] for b in data["bookings"]] == ["Erika Mustermann"]
    assert "Otto" not in export.get_data(as_text=True)

    # a ride still to come keeps its name: the driver needs it
    confirm = client.get(f"/dispatch/booking/{code}/erase").get_data(as_text=True)
    assert code in confirm and "Erika Mustermann" in confirm  # names booking and rider
    token = csrf_token(client, f"/dispatch/booking/{code}/erase")
    refused = client.post(f"/dispatch/booking/{code}/erase", data={"csrf_token": token})
    assert "noch bestätigt" in client.get(refused.headers["Location"]).get_data(as_text=True)
    assert stored(engine, code).name == "Erika Mustermann"

    engine.cancel(code)  # the rider cancels (by phone or on the web), then asks for erasure
    no_token = client.post(f"/dispatch/booking/{code}/erase")
    assert no_token.status_code == 400  # CSRF
    assert stored(engine, code).name == "Erika Mustermann"
    erased = client.post(f"/dispatch/booking/{code}/erase", data={"csrf_token": token})
    assert erased.status_code == 302
    page = client.get(erased.headers["Location"]).get_data(as_text=True)
    assert f"Personenbezogene Daten gelöscht: {code}" in page
    assert "Erika" not in page and "03471" not in page and "Rollator" not in page
    row = stored(engine, code)
    assert is_erased(row) and row.status == "cancelled" and row.day == DAY
    assert stored(engine, otto["code"]).name == "Otto Anders"
    assert client.get("/dispatch/booking/NOSUCHCODE").status_code == 404
    assert (
        client.post("/dispatch/booking/NOSUCHCODE/erase", data={"csrf_token": token}).status_code
        == 404
    )


def test_only_dispatchers_see_and_erase_riders(client: FlaskClient) -> None:
    (erika,) = book(client, "Erika Mustermann", "03471 123456")
    code = erika["code"]
    assert client.get(f"/dispatch/booking/{code}").headers["Location"].startswith("/auth/login")
    assert client.get(f"/dispatch/booking/{code}/export.json").status_code == 302
    login(client, "ana", "analyst-pw")
    assert client.get(f"/dispatch/booking/{code}").status_code == 403
    assert client.get(f"/dispatch/booking/{code}/export.json").status_code == 403


def test_note_field_warns_against_health_details(client: FlaskClient) -> None:
    body = {"origin": BERNBURG, "destination": STASSFURT, "date": DAY, "time": "08:10"}
    offer_id = client.post("/api/v1/offers", json=body).get_json()["offers"][0]["offer_id"]
    page = client.get(f"/confirm/{offer_id}").get_data(as_text=True)
    assert 'aria-describedby="note-hint"' in page
    assert "Bitte keine Angaben zur Gesundheit." in page
    token = csrf_token(client, "/")
    client.post("/language", data={"lang": "en", "csrf_token": token, "next": "/"})
    english = client.get(f"/confirm/{offer_id}").get_data(as_text=True)
    assert "Please do not enter any health details." in english
    assert "erased automatically 30 days after the ride" in english


def test_lookup_shows_only_that_bookings_data(client: FlaskClient) -> None:
    back = {"origin": STASSFURT, "destination": BERNBURG, "date": DAY, "time": "12:00"}
    back_id = client.post("/api/v1/offers", json=back).get_json()["offers"][0]["offer_id"]
    out, ret = book(client, "Eva Beispiel", "03471 1111", return_offer_id=back_id)
    (other,) = book(client, "Otto Anders", "0391 5555", note="Hund")
    looked_up = client.get(f"/api/v1/bookings/{out['code']}").get_json()
    assert looked_up["code"] == out["code"] and looked_up["name"] == "Eva Beispiel"
    assert looked_up["linked_code"] == ret["code"]  # the rider's own return trip, by code only
    text = json.dumps(looked_up, ensure_ascii=False)
    assert other["code"] not in text and "Otto" not in text and "Hund" not in text
    assert "12:" not in text  # nothing of the return trip's own data
    page = client.get(f"/booking/{out['code']}").get_data(as_text=True)
    for foreign in (other["code"], "Otto", "0391", ret["code"]):
        assert foreign not in page


def env(db_url: str, settings: Settings) -> dict[str, str]:
    return {
        "DATABASE_URL": db_url,
        "RUFBUS_DATA_DIR": str(settings.data_dir),
        "RUFBUS_CACHE_DIR": str(settings.cache_dir),
        "RUFBUS_SECRET_KEY": "cli",
    }


def test_privacy_cli(
    tmp_path: Path, settings: Settings, engine: BookingEngine, clock: Clock, db_url: str
) -> None:
    def book_at(name: str, phone: str) -> str:
        day = (clock().astimezone(engine.tz) + timedelta(days=1)).date().isoformat()
        payload = {"origin": BERNBURG, "destination": STASSFURT, "date": day, "time": "10:00"}
        trip = parse_trip_request(payload, engine.catalog, engine.service)
        offer_id = engine.offer(trip).offers[0].id
        return engine.confirm(offer_id, name=name, phone=phone)[0]["code"]

    # the CLI runs at the real time: one ride 39 days ago, one tomorrow
    clock.now = utcnow() - timedelta(days=40)
    old = book_at("Erika Alt", "03471 123456")
    clock.now = utcnow()
    new = book_at("Lena Neu", "03471 333333")
    runner, e = CliRunner(), env(db_url, settings)

    dry = runner.invoke(main, ["privacy", "apply", "--dry-run"], env=e)
    assert dry.exit_code == 0, dry.output
    assert "would anonymise 1 bookings and 0 standing bookings" in dry.output
    assert not is_erased(stored(engine, old))
    applied = runner.invoke(main, ["privacy", "apply"], env=e)
    assert applied.exit_code == 0 and "anonymised 1 bookings" in applied.output
    assert "Erika" not in applied.output
    assert is_erased(stored(engine, old)) and stored(engine, new).name == "Lena Neu"

    out = tmp_path / "auskunft.json"
    exported = runner.invoke(main, ["privacy", "export", new, "--out", str(out)], env=e)
    assert exported.exit_code == 0, exported.output
    assert json.loads(out.read_text(encoding="utf-8"))["bookings"][0]["phone"] == "03471 333333"

    refused = runner.invoke(main, ["privacy", "erase", new], env=e)
    assert refused.exit_code == 2
    assert f"code: booking {new} is still confirmed" in refused.output
    engine.cancel(new)
    erased = runner.invoke(main, ["privacy", "erase", new.lower()], env=e)
    assert erased.exit_code == 0 and f"erased the personal data of bookings {new}" in erased.output
    assert is_erased(stored(engine, new))
    for command in ("erase", "export"):
        bad = runner.invoke(main, ["privacy", command, "NOSUCHCODE"], env=e)
        assert bad.exit_code == 2 and "code: no booking 'NOSUCHCODE'" in bad.output
