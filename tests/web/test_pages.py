"""Server-rendered pages through the test client: security headers, CSRF, login limits."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.web.helpers import csrf_token
from web.config import LOGIN_LIMIT


def test_security_headers_and_cookie_flags(app: Flask) -> None:
    client = app.test_client()
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    token = csrf_token(client, "/auth/login")
    login = client.post(
        "/auth/login", data={"name": "disp", "password": "dispatch-pw", "csrf_token": token}
    )
    assert login.status_code == 302
    cookie = login.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_login_rate_limit(client: FlaskClient) -> None:
    token = csrf_token(client, "/auth/login")
    for _ in range(LOGIN_LIMIT.count):
        wrong = client.post(
            "/auth/login", data={"name": "disp", "password": "nope", "csrf_token": token}
        )
        assert wrong.status_code == 401
    # even the right password is refused until the window has passed
    blocked = client.post(
        "/auth/login", data={"name": "disp", "password": "dispatch-pw", "csrf_token": token}
    )
    assert blocked.status_code == 429
    assert "Zu viele Anmeldeversuche" in blocked.get_data(as_text=True)


def test_pages_need_the_right_role(client: FlaskClient) -> None:
    assert client.get("/dispatch/").headers["Location"].startswith("/auth/login")
    token = csrf_token(client, "/auth/login")
    client.post("/auth/login", data={"name": "ana", "password": "analyst-pw", "csrf_token": token})
    assert client.get("/dispatch/").status_code == 403
    assert client.get("/dispatch/analysis").status_code == 200


def test_form_errors_name_the_field(client: FlaskClient) -> None:
    token = csrf_token(client, "/")
    response = client.post(
        "/offers",
        data={"origin": "Atlantis", "destination": "Staßfurt, Bahnhof (Bus)", "date": "2026-12-02",
              "time": "08:10", "passengers": "1", "wheelchairs": "0", "csrf_token": token},
    )  # fmt: skip
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    # in the reader's words, not the API's field name and English reason
    assert "Die Haltestelle „Atlantis“ wurde nicht gefunden." in page
    assert "origin:" not in page and "no bookable stop" not in page
    assert 'value="Atlantis"' in page  # what the rider typed is kept


def _post_trip(client: FlaskClient, path: str, origin: str):
    """Post the booking form at ``path`` with ``origin`` (to Staßfurt, 2 Dec 08:10)."""
    token = csrf_token(client, "/dispatch/book" if path.startswith("/dispatch") else "/")
    return client.post(
        path,
        data={"origin": origin, "destination": "Staßfurt, Bahnhof (Bus)", "date": "2026-12-02",
              "time": "08:10", "passengers": "1", "wheelchairs": "0", "csrf_token": token},
    )  # fmt: skip


def _choices(page: str, field: str) -> tuple[str, dict[str, str]]:
    """The text of the suggestions for ``field`` and their links, label -> URL."""
    box = re.search(rf'<p class="suggestions" id="{field}-suggestions">(.*?)</p>', page, re.S)
    assert box, f"no suggestions for {field}"
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', box.group(1))
    return box.group(1), {html.unescape(t): html.unescape(u) for u, t in links}


def test_unknown_stops_are_offered_as_choices(client: FlaskClient) -> None:
    response = _post_trip(client, "/offers", "Bernbrug Busbanhof")
    assert response.status_code == 400
    text, links = _choices(response.get_data(as_text=True), "origin")
    assert text.strip().startswith("Meinten Sie:")
    assert "Bernburg (Saale), Busbahnhof" in links
    # the choice opens the form with the stop filled in and the rest kept
    form = client.get(links["Bernburg (Saale), Busbahnhof"]).get_data(as_text=True)
    assert 'value="Bernburg (Saale), Busbahnhof"' in form
    assert 'value="Staßfurt, Bahnhof (Bus)"' in form and 'value="08:10"' in form
    # an ambiguous name lists its stops with their municipality, and that label books
    ambiguous = _post_trip(client, "/offers", "Nachterstedt").get_data(as_text=True)
    assert "Nachterstedt, Schulstr. (Seeland)" in _choices(ambiguous, "origin")[1]
    assert _post_trip(client, "/offers", "Nachterstedt, Schulstr. (Seeland)").status_code == 200


def test_stop_choices_in_english_and_for_dispatchers(client: FlaskClient) -> None:
    token = csrf_token(client, "/")
    client.post("/language", data={"lang": "en", "next": "/", "csrf_token": token})
    page = _post_trip(client, "/offers", "Schoenebek Bahnhof").get_data(as_text=True)
    assert "Did you mean:" in page and "Meinten Sie" not in page
    client.post("/language", data={"lang": "de", "next": "/", "csrf_token": token})
    token = csrf_token(client, "/auth/login")
    client.post(
        "/auth/login", data={"name": "disp", "password": "dispatch-pw", "csrf_token": token}
    )
    staff = _post_trip(client, "/dispatch/offers", "Grona Kelterweeg")
    assert staff.status_code == 400
    links = _choices(staff.get_data(as_text=True), "origin")[1]
    url = links["Gröna, Kelterweg (Bernburg (Saale))"]
    assert url.startswith("/dispatch/book?")
    form = client.get(url).get_data(as_text=True)
    assert 'value="Gröna, Kelterweg (Bernburg (Saale))"' in form


@pytest.mark.parametrize(
    ("key", "value"), [("passengers", "²"), ("origin", "²"), ("date", "9999-12-31")]
)
def test_form_refuses_odd_numbers_with_400(client: FlaskClient, key: str, value: str) -> None:
    token = csrf_token(client, "/")
    form = {"origin": "Bernburg (Saale), Busbahnhof", "destination": "Staßfurt, Bahnhof (Bus)",
            "date": "2026-12-02", "time": "08:10", "passengers": "1"}  # fmt: skip
    response = client.post("/offers", data={**form, key: value, "csrf_token": token})
    assert response.status_code == 400
    # the field as the form names it, never the API's raw field name
    page = response.get_data(as_text=True)
    assert f"{key}: " not in page
    assert {"passengers": "„Personen“", "origin": "„²“", "date": "gültiges Datum"}[key] in page
