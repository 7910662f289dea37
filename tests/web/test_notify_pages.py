"""Notifications in the pages: the opt-in on the booking forms and the API, and what
dispatchers see of the outbox (Flask test client, real SQLite)."""

from __future__ import annotations

import re
from datetime import date

from flask.testing import FlaskClient
from sqlalchemy import select

from planner.booking import BookingEngine
from planner.notify import outbox
from planner.store.db import Booking, Notification
from tests.web.helpers import DAY, csrf_token
from tests.web.test_honest_times import api_offers, english, text
from tests.web.test_personal_data import login


def booking_row(engine: BookingEngine, code: str) -> Booking:
    with engine.store.session() as s:
        return s.scalars(select(Booking).where(Booking.code == code)).one()


def confirm(client: FlaskClient, **fields: str):
    offer_id = api_offers(client)[0]["offer_id"]
    data = {"name": "Erika", "phone": "0151 2345678", "csrf_token": csrf_token(client, "/")}
    return offer_id, client.post(f"/confirm/{offer_id}", data={**data, **fields})


def test_the_resident_opts_in_on_the_confirmation_form(
    client: FlaskClient, engine: BookingEngine
) -> None:
    offer_id = api_offers(client)[0]["offer_id"]
    page = client.get(f"/confirm/{offer_id}").get_data(as_text=True)
    assert '<input type="email" id="email" name="email"' in page
    assert "SMS" not in text(page)  # the default service texts nobody: "call me" instead
    assert "Bei Änderungen anrufen" in page
    _, booked = confirm(client, email=" erika@example.de ", sms="1")
    code = booked.headers["Location"].split("/")[-1].split("?")[0]
    row = booking_row(engine, code)
    assert (row.notify_email, row.notify_sms, row.language) == ("erika@example.de", True, "de")


def test_a_bad_email_address_is_refused_naming_the_field(
    client: FlaskClient, engine: BookingEngine
) -> None:
    _, refused = confirm(client, email="erika at example")
    assert refused.status_code == 400
    page = text(refused.get_data(as_text=True))
    assert "Bitte geben Sie eine E-Mail-Adresse wie name@example.de an" in page
    assert 'value="erika at example"' in refused.get_data(as_text=True)  # kept to correct
    with engine.store.session() as s:
        assert s.scalars(select(Booking)).all() == []


def test_a_rider_booking_in_english_is_told_in_english(
    client: FlaskClient, engine: BookingEngine
) -> None:
    english(client)
    _, booked = confirm(client, email="erika@example.de")
    code = booked.headers["Location"].split("/")[-1].split("?")[0]
    assert booking_row(engine, code).language == "en"
    outbox.collect(engine.store, engine.service, engine.clock(), [date.fromisoformat(DAY)])
    with engine.store.session() as s:
        (queued,) = s.scalars(select(Notification)).all()
    assert queued.subject == "Rufbus booked"
    assert queued.body.startswith(f"Rufbus {code} booked: Wed 2 Dec, pickup")


def test_the_api_takes_the_opt_in(client: FlaskClient, engine: BookingEngine) -> None:
    offer_id = api_offers(client)[0]["offer_id"]
    body = {"offer_id": offer_id, "name": "Erika", "phone": "03471 1234"}
    bad = client.post("/api/v1/bookings", json={**body, "notify": {"email": "nope"}})
    assert bad.status_code == 400
    assert bad.get_json()["error"]["field"] == "notify.email"
    ok = client.post(
        "/api/v1/bookings",
        json={**body, "notify": {"email": "erika@example.de", "sms": True, "language": "en"}},
    )
    assert ok.status_code == 201
    row = booking_row(engine, ok.get_json()["bookings"][0]["code"])
    assert (row.notify_email, row.notify_sms, row.language) == ("erika@example.de", True, "en")


def test_dispatchers_see_the_messages_and_work_the_call_list(
    client: FlaskClient, engine: BookingEngine
) -> None:
    offer_id = api_offers(client)[0]["offer_id"]  # before logging in: no CSRF for the API
    login(client)
    # a phone booking for a rider with a landline who wants to be called, told in English
    form = {
        "name": "Otto", "phone": "03471 123456", "sms": "1", "email": "otto@example.de",
        "language": "en", "csrf_token": csrf_token(client, "/dispatch/book"),
    }  # fmt: skip
    assert client.post(f"/dispatch/confirm/{offer_id}", data=form).status_code == 302
    with engine.store.session() as s:
        code = s.scalars(select(Booking.code)).one()
    outbox.collect(engine.store, engine.service, engine.clock(), [date.fromisoformat(DAY)])
    token = csrf_token(client, f"/dispatch/booking/{code}/cancel")
    client.post(f"/dispatch/booking/{code}/cancel", data={"csrf_token": token})

    page = text(client.get(f"/dispatch/booking/{code}").get_data(as_text=True))
    assert "Nachrichten an den Fahrgast" in page
    assert "E-Mail an otto@example.de" in page
    assert re.search(r"Bestätigung .*Rufbus booked.* wartet E-Mail otto@example.de 0", page)
    assert re.search(r"Absage .* bitte anrufen Anruf 03471 123456", page)

    listed = client.get("/dispatch/notifications").get_data(as_text=True)
    assert "Anrufliste" in listed and "03471 123456" in listed
    with engine.store.session() as s:
        call = s.scalars(select(Notification).where(Notification.status == "call")).one()
    token = csrf_token(client, "/dispatch/notifications")
    done = client.post(f"/dispatch/notifications/{call.id}/called", data={"csrf_token": token})
    assert done.status_code == 302
    listed = text(client.get("/dispatch/notifications").get_data(as_text=True))
    assert "Als angerufen vermerkt." in listed and "Niemand ist anzurufen." in listed
    # the e-mails still wait for the worker: listed for dispatchers
    assert "Fehlgeschlagen oder wartend" in listed and "otto@example.de" in listed


def test_the_messages_pages_need_a_dispatcher(client: FlaskClient) -> None:
    assert client.get("/dispatch/notifications").status_code == 302
    login(client, "ana", "analyst-pw")
    assert client.get("/dispatch/notifications").status_code == 403
