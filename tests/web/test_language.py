"""The language test: every page and every refusal in German and in English, and not a
word of the other language.

Each page is rendered through the real app in both languages, and every refusal, error,
shift and status that :mod:`web.messages` says by code is said in both. The detector reads
what a person reads (text, ``title``/``aria-label``/``placeholder``/``alt`` attributes and
the JSON texts the scripts show; not scripts, styles or ``<code>`` command lines), after
removing the proper names, which are German in both languages: stop names and labels,
municipalities, vehicle ids. It then looks for

- on German pages: any English text of the catalogue of three words or more (that is not
  German too) and English marker words (``the``, ``please``, ``your``...);
- on English pages: any German text of the catalogue whose English differs (single words of
  four letters or more) and German marker words (``und``, ``Uhr``, ``Haltestelle``...).

Elements marked with another ``lang`` (the language switch's "English"/"Deutsch") are
that language on purpose.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from planner.booking import BookingEngine, parse_trip_request
from planner.errors import BookingError, PlannerError
from planner.world import WorldConfig
from tests.web.helpers import DAY, Clock, csrf_token
from web import create_app
from web.auth import add_user
from web.config import AppConfig
from web.i18n import gettext
from web.limits import TOO_MANY_REQUESTS, too_many
from web.messages import (
    ERRORS,
    FIELD_ERRORS,
    HTTP_ERRORS,
    NOT_FOUND,
    OPTIMIZED,
    REFUSALS,
    ROLE_NAMES,
    SHIFTS,
    STATUS,
    error_text,
    http_error_text,
    minutes_text,
    needs_role_text,
    not_found_text,
    refusal_text,
    shift_text,
)
from web.translations import PLACEHOLDER, english

#: The morning of ``DAY``: the drivers' day.
MORNING = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
BERNBURG = "Bernburg (Saale), Busbahnhof"
STASSFURT = "Staßfurt, Bahnhof (Bus)"
LANGUAGES = ("de", "en")

#: Words that give English away on a German page (whole words, case-sensitive).
ENGLISH_MARKERS = (
    "the", "The", "please", "Please", "your", "Your", "you", "is", "are", "and", "not", "of",
    "with", "Error", "Sorry", "booking", "stop",
)  # fmt: skip
#: Words that give German away on an English page.
GERMAN_MARKERS = (
    "und", "Uhr", "Haltestelle", "Bitte", "bitte", "der", "die", "das", "nicht", "Sie",
    "mit", "ist", "Fahrt", "Buchung", "oben", "unten", "von", "bis", "für", "auf", "eine",
    "noch", "oder", "Uhrzeit", "Datum",
)  # fmt: skip
#: Punctuation around a catalogue fragment that says nothing about its language.
EDGES = " .,:;–-()„“\"'!?·/→%"

#: Values for the placeholders of every message said by code.
VALUES = {
    "days": 14, "first": "05:30", "last": "23:30", "minutes": 60, "from": "22:00",
    "deadline": "18:00", "distance_m": 935, "min_km": 1.0, "lines": "116",
    "departure": "07:02", "arrival": "07:40", "max": 8, "code": "ABCDE12345",
    "status": "cancelled", "time": "08:10", "name": "Peisen Oben", "label": "Personen",
    "ge": 1, "le": 8, "max_length": 200, "value": "Peisen Oben",
}  # fmt: skip


@cache
def catalogue() -> dict[str, str]:
    return english()


def fragments(text: str) -> list[str]:
    """The literal parts of a catalogue text, without placeholders and edge punctuation."""
    return [p.strip(EDGES) for p in PLACEHOLDER.split(text) if p.strip(EDGES)]


def word(fragment: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\wÄÖÜäöüß]){re.escape(fragment)}(?![\wÄÖÜäöüß])")


@cache
def english_fragments() -> tuple[re.Pattern[str], ...]:
    """What only English says: catalogue English of 3+ words, not also German, and markers."""
    german = list(catalogue())
    found = {
        part
        for de, en in catalogue().items()
        if de != en
        for part in fragments(en)
        if len(part.split()) >= 3 and not any(word(part).search(g) for g in german)
    }
    return tuple(word(f) for f in sorted(found | set(ENGLISH_MARKERS)))


@cache
def german_fragments() -> tuple[re.Pattern[str], ...]:
    """What only German says: catalogue German that English translates, and markers."""
    english_texts = [en for de, en in catalogue().items()]
    found = {
        part
        for de, en in catalogue().items()
        if de != en
        for part in fragments(de)
        if (len(part.split()) >= 2 or len(part) >= 4)
        and not any(word(part).search(e) for e in english_texts)
    }
    return tuple(word(f) for f in sorted(found | set(GERMAN_MARKERS)))


def other_language(text: str, lang: str) -> list[str]:
    """The fragments of the other language that ``text`` (in ``lang``) shows, in context."""
    patterns = english_fragments() if lang == "de" else german_fragments()
    return sorted(
        f"{m.group(0)} in …{text[max(0, m.start() - 40) : m.end() + 40]}…"
        for p in patterns
        if (m := p.search(text))
    )


@dataclass
class ProperNames:
    """Names that are German in both languages, longest first (removed before looking)."""

    names: tuple[str, ...]

    def remove(self, text: str) -> str:
        for name in self.names:
            if name in text:
                text = text.replace(name, " ")
        return text


@pytest.fixture
def proper_names(engine: BookingEngine) -> ProperNames:
    catalog = engine.catalog
    names = {*catalog.labels.values(), *(catalog.name(n) for n in catalog.nodes)}
    names |= {*catalog.places.values(), *(v.id for v in engine.service.fleet)}
    names |= {"Rufbus Salzland", "Erika Mustermann", "Rollator"}
    return ProperNames(tuple(sorted(names, key=len, reverse=True)))


def visible_text(page: str, lang: str) -> str:
    """What a person reads of ``page`` (see the module docstring)."""
    other = "en" if lang == "de" else "de"
    page = re.sub(rf'<(\w+)[^>]*\slang="{other}"[^>]*>.*?</\1>', " ", page, flags=re.S)
    script_texts = [
        value
        for block in re.findall(
            r'<script type="application/json" id="[\w-]*texts">(.*?)</script>', page, re.S
        )
        for value in json.loads(html.unescape(block)).values()
    ]
    script_texts = [PLACEHOLDER.sub(" ", t) for t in script_texts]  # filled in by the script
    page = re.sub(r"<script.*?</script>|<style.*?</style>|<code>.*?</code>", " ", page, flags=re.S)
    attributes = re.findall(r'\s(?:title|aria-label|placeholder|alt)="([^"]*)"', page)
    body = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(" ".join([body, *attributes, *script_texts])))


def leaks(pages: dict[str, str], lang: str, names: ProperNames) -> dict[str, list[str]]:
    """Each page's text of the other language (pages given as HTML)."""
    found = {}
    for name, page in pages.items():
        assert f'<html lang="{lang}">' in page, name
        wrong = other_language(names.remove(visible_text(page, lang)), lang)
        if wrong:
            found[name] = wrong
    return found


# -- rendering every page ------------------------------------------------------------------


def choose(client: FlaskClient, lang: str) -> None:
    """Switch ``client`` to ``lang`` with the pages' language switch."""
    token = csrf_token(client, "/")
    client.post("/language", data={"lang": lang, "csrf_token": token, "next": "/"})


def login(client: FlaskClient, name: str, password: str) -> None:
    token = csrf_token(client, "/auth/login")
    response = client.post(
        "/auth/login", data={"name": name, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302, name


def trip(client: FlaskClient, path: str, **overrides: str) -> str:
    form = {
        "origin": BERNBURG, "destination": STASSFURT, "date": DAY, "time": "08:10",
        "kind": "pickup", "passengers": "1", "wheelchairs": "0",
        "csrf_token": csrf_token(client, "/"), **overrides,
    }  # fmt: skip
    return client.post(path, data=form).get_data(as_text=True)


def page(client: FlaskClient, path: str, status: int | None = 200) -> str:
    response = client.get(path)
    assert status is None or response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def rider_pages(client: FlaskClient) -> Iterator[tuple[str, str]]:
    yield "book", page(client, "/")
    yield "offers", trip(client, "/offers")
    yield "offers, moved from the wish", trip(client, "/offers", time="23:45")
    yield "refusal: outside hours", trip(client, "/offers", time="03:00")
    yield "refusal: lead time", trip(client, "/offers", date="2026-12-01", time="07:20")
    yield "error: past", trip(client, "/offers", date="2026-11-30")
    yield "error: nobody travels", trip(client, "/offers", passengers="0")
    yield "stop choices: unknown", trip(client, "/offers", origin="Bernbrug Busbanhof")
    yield "stop choices: ambiguous", trip(client, "/offers", origin="Frose")
    offer_id = client.post(
        "/api/v1/offers",
        json={"origin": BERNBURG, "destination": STASSFURT, "date": DAY, "time": "08:10"},
    ).get_json()["offers"][0]["offer_id"]
    yield "confirm", page(client, f"/confirm/{offer_id}")
    booked = client.post(
        f"/confirm/{offer_id}",
        data={"name": "Erika Mustermann", "phone": "03471 1234", "note": "Rollator",
              "csrf_token": csrf_token(client, "/")},
    )  # fmt: skip
    assert booked.status_code == 302
    yield "booked", page(client, booked.headers["Location"])
    code = booked.headers["Location"].split("/booking/")[1].split("?")[0]
    yield "lookup", page(client, "/booking")
    yield "lookup: unknown code", page(client, "/booking/GUESS99999", 404)
    token = csrf_token(client, "/")
    client.post(f"/booking/{code}/cancel", data={"csrf_token": token})
    yield "cancelled", page(client, f"/booking/{code}")
    yield "404", page(client, "/no/such/page", 404)
    yield "405", page(client, "/offers", 405)
    expired = client.post("/offers", data={"origin": BERNBURG})
    assert expired.status_code == 400
    yield "400: form expired", expired.get_data(as_text=True)
    yield "login", page(client, "/auth/login")
    wrong = client.post(
        "/auth/login",
        data={"name": "disp", "password": "wrong", "csrf_token": csrf_token(client, "/auth/login")},
    )
    yield "login refused", wrong.get_data(as_text=True)


def dispatcher_pages(client: FlaskClient, engine: BookingEngine) -> Iterator[tuple[str, str]]:
    wish = {"origin": BERNBURG, "destination": STASSFURT, "date": DAY, "time": "09:30"}
    offer = engine.offer(parse_trip_request(wish, engine.catalog, engine.service)).offers[0]
    booked = engine.confirm(offer.id, name="Erika Mustermann", phone="03471 1234", note="Rollator")
    code, vehicle = booked[0]["code"], booked[0]["vehicle"]
    login(client, "disp", "dispatch-pw")
    yield "day", page(client, f"/dispatch/?date={DAY}")
    yield "live", page(client, f"/dispatch/live?day={DAY}")
    yield "phone booking", page(client, "/dispatch/book")
    yield "phone offers", trip(client, "/dispatch/offers")
    yield "phone refusal", trip(client, "/dispatch/offers", time="03:00")
    yield "booking", page(client, f"/dispatch/booking/{code}")
    yield "ask cancel", page(client, f"/dispatch/booking/{code}/cancel")
    yield "ask no-show: too early", page(client, f"/dispatch/booking/{code}/no-show", 409)
    yield "ask erase", page(client, f"/dispatch/booking/{code}/erase", None)
    token = csrf_token(client, f"/dispatch/?date={DAY}")
    yield (
        "optimised",
        client.post("/dispatch/optimize", data={"date": DAY, "csrf_token": token}).get_data(
            as_text=True
        ),
    )
    yield "manifest", page(client, f"/dispatch/manifest/{vehicle}?date={DAY}")
    yield "dispatcher: 404", page(client, "/dispatch/booking/NOSUCHCODE", 404)


def other_staff_pages(
    app: Flask, analysis_app: Flask, engine: BookingEngine, clock: Clock, lang: str
) -> Iterator[tuple[str, str]]:
    for name, where in (("analysis", app), ("analysis of a batch", analysis_app)):
        analyst = where.test_client()
        choose(analyst, lang)
        login(analyst, "ana", "analyst-pw")
        yield name, page(analyst, "/dispatch/analysis")
    yield "403", page(analyst, "/dispatch/", 403)
    add_user(engine.store, "fahrer", "driver", "driver-pw")
    clock.now = MORNING  # the driver's day: the rides booked above
    driver = app.test_client()
    choose(driver, lang)
    login(driver, "fahrer", "driver-pw")
    yield "driver", page(driver, "/fahrer/")
    vehicle = engine.service.fleet[0].id
    yield "driver's vehicle", page(driver, f"/fahrer/{vehicle}")


def every_page(
    app: Flask, analysis_app: Flask, engine: BookingEngine, clock: Clock, lang: str
) -> dict[str, str]:
    rider = app.test_client()
    choose(rider, lang)
    pages = dict(rider_pages(rider))
    dispatcher = app.test_client()
    choose(dispatcher, lang)
    pages |= dict(dispatcher_pages(dispatcher, engine))
    pages |= dict(other_staff_pages(app, analysis_app, engine, clock, lang))
    with app.test_request_context("/offers", headers={"Accept-Language": lang}):
        pages["429"] = too_many(30, field="rate", message=TOO_MANY_REQUESTS).get_data(as_text=True)
    return pages


@pytest.fixture
def analysis_app(tmp_path: Path, world_config: WorldConfig, engine: BookingEngine) -> Flask:
    """The app with one finished scenario batch for the analysis page."""
    folder = tmp_path / "scenarios" / "fleet-sweep"
    folder.mkdir(parents=True)
    (folder / "kpis.csv").write_text("run,status\na,ok\nb,error\n", encoding="utf-8")
    (folder / "report.html").write_text("<html></html>", encoding="utf-8")
    config = AppConfig(
        world_config, secret_key="t", testing=True, scenario_dir=tmp_path / "scenarios"
    )
    return create_app(config, engine=engine)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_page_speaks_one_language(
    app: Flask,
    analysis_app: Flask,
    engine: BookingEngine,
    clock: Clock,
    proper_names: ProperNames,
    lang: str,
) -> None:
    pages = every_page(app, analysis_app, engine, clock, lang)
    assert len(pages) >= 35
    assert leaks(pages, lang, proper_names) == {}


# -- every message said by code --------------------------------------------------------------


def said_by_code() -> Iterator[tuple[str, str]]:
    """Every refusal, error, status and outcome :mod:`web.messages` says, in words."""
    for reason in REFUSALS:
        yield f"refusal {reason}", refusal_text(reason, VALUES)
    for code in ERRORS:
        field = "passengers" if "%(label)s" in ERRORS[code] else "time"
        exc = BookingError(field, "English reason", code=code, params=VALUES)
        yield f"error {code}", error_text(exc)
    for field, code in FIELD_ERRORS:
        yield (
            f"error {field} {code}",
            error_text(BookingError(field, "x", code=code, params=VALUES)),
        )
    yield "unknown stop typed", error_text(PlannerError("origin", "x"), {"origin": "Peisen Oben"})
    yield "check field", error_text(PlannerError("date", "x"))
    yield "check input", error_text(PlannerError("body", "x"))
    for (kind, direction), _text in SHIFTS.items():
        shift = -30 if direction == "earlier" else 30
        said = shift_text(kind, "23:45", ("23:15", "23:30"), shift)
        assert said is not None
        yield f"shift {kind} {direction}", said
    yield "one minute", minutes_text(1)
    for status, text in (*STATUS.items(), *OPTIMIZED.items()):
        yield status, gettext(text)
    for field in (*NOT_FOUND, "other"):
        yield f"not found {field}", not_found_text(field)
    for status in HTTP_ERRORS:
        yield f"http {status}", " ".join(http_error_text(status))
    yield "form expired", " ".join(http_error_text(400, form_expired=True))
    yield "needs role", needs_role_text(tuple(ROLE_NAMES))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_refusal_and_error_speaks_one_language(app: Flask, lang: str) -> None:
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        texts = dict(said_by_code())
    assert len(texts) >= len(REFUSALS) + len(ERRORS) + len(SHIFTS) + len(HTTP_ERRORS)
    wrong = {name: w for name, text in texts.items() if (w := other_language(text, lang))}
    assert wrong == {}
    if lang == "en":  # every one of them is translated, none is the German source
        assert [name for name, text in texts.items() if text in catalogue()] == []


# -- the detector itself --------------------------------------------------------------------


def test_the_detector_finds_a_leak(proper_names: ProperNames) -> None:
    german_page = '<html lang="de"><main><p>Fahrt buchen</p><p>Please try again.</p></main>'
    assert [w.split()[0] for w in leaks({"leaky": german_page}, "de", proper_names)["leaky"]] == [
        "Please"
    ]
    english_page = '<html lang="en"><main><button aria-label="Hauptmenü">Menu</button></main>'
    assert [w.split()[0] for w in leaks({"leaky": english_page}, "en", proper_names)["leaky"]] == [
        "Hauptmenü"
    ]
    # proper names and elements in the other language on purpose are no leak
    fine = '<html lang="en"><main>Bernburg (Saale), Busbahnhof <a lang="de">Deutsch</a></main>'
    assert leaks({"fine": fine}, "en", proper_names) == {}


# -- which language a request reads -------------------------------------------------------------


def test_the_switch_wins_then_the_browser_then_german(client: FlaskClient) -> None:
    assert '<html lang="de">' in page(client, "/")
    english_browser = {"Accept-Language": "en-GB,en;q=0.9,de;q=0.5"}
    assert '<html lang="en">' in client.get("/", headers=english_browser).get_data(as_text=True)
    french = {"Accept-Language": "fr-FR,fr;q=0.9"}
    assert '<html lang="de">' in client.get("/", headers=french).get_data(as_text=True)
    choose(client, "de")
    assert '<html lang="de">' in client.get("/", headers=english_browser).get_data(as_text=True)


def test_dates_and_numbers_follow_the_language(client: FlaskClient) -> None:
    refused = trip(client, "/offers", time="03:00")
    assert "Der Bus fährt von 05:30 bis 23:30 Uhr." in html.unescape(refused)
    page_de = trip(client, "/offers")
    assert "Mittwoch, 2. Dezember 2026" in page_de
    choose(client, "en")
    assert "Wednesday, 2 December 2026" in trip(client, "/offers")


def test_the_api_says_its_message_in_the_asked_language(client: FlaskClient) -> None:
    wish = {"origin": BERNBURG, "destination": STASSFURT, "date": DAY, "time": "03:00"}
    plain = client.post("/api/v1/offers", json=wish).get_json()
    assert plain["reason"] == "outside_hours"
    assert plain["message"] == "the bus runs from 05:30 to 23:30"  # as before, without header
    german = client.post("/api/v1/offers", json=wish, headers={"Accept-Language": "de"})
    assert german.get_json()["reason"] == "outside_hours"
    assert german.get_json()["message"] == "Der Bus fährt von 05:30 bis 23:30 Uhr."
    english_answer = client.post("/api/v1/offers", json=wish, headers={"Accept-Language": "en"})
    assert english_answer.get_json()["message"] == "The bus runs from 05:30 to 23:30."
    past = {**wish, "date": "2026-11-30", "time": "08:10"}
    error = client.post("/api/v1/offers", json=past, headers={"Accept-Language": "de-DE"})
    assert error.status_code == 400
    assert error.get_json()["error"] == {
        "field": "time",
        "message": "Die gewünschte Zeit ist schon vorbei.",
        "code": "past",
    }
    missing = client.get("/api/v1/bookings/NOSUCHCODE", headers={"Accept-Language": "de"})
    assert missing.status_code == 404
    assert missing.get_json()["error"]["message"] == NOT_FOUND["code"]
    unknown = client.get("/api/v1/no-such-thing", headers={"Accept-Language": "de"})
    assert unknown.status_code == 404 and unknown.is_json


def test_a_throttled_api_client_reads_the_asked_language(app: Flask) -> None:
    with app.test_request_context("/api/v1/offers", headers={"Accept-Language": "de"}):
        german = too_many(30, field="rate", message=TOO_MANY_REQUESTS).get_json()["error"]
    with app.test_request_context("/api/v1/offers"):
        plain = too_many(30, field="rate", message=TOO_MANY_REQUESTS).get_json()["error"]
    assert german["message"] == "Zu viele Anfragen von Ihrer Adresse. Neuer Versuch in 30 s."
    assert plain["message"] == "Too many requests from your address. Retry after 30 s."
    assert german["code"] == plain["code"] == "too_many_requests"
