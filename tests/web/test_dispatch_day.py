"""The dispatcher's day: what the driver must know (note, promised window), and cancel and
no-show only when they make sense, after a confirmation that names rider and time."""

from __future__ import annotations

import csv
import io
import re

from flask.testing import FlaskClient

from planner.booking.engine import BookingEngine
from tests.web.helpers import DAY, DISPATCHER, Clock, csrf_token, wished
from tests.web.test_live import late_bus, two_rides  # noqa: F401 (fixtures)

BERNBURG = "Bernburg (Saale), Busbahnhof"
STASSFURT = "Staßfurt, Bahnhof (Bus)"
NOTE = "Rollator, bitte klingeln"


def book(
    client: FlaskClient, time: str = "08:10", note: str = NOTE, name: str = "Erika Mustermann"
) -> dict:
    body = {"origin": BERNBURG, "destination": STASSFURT, "date": DAY, "time": time}
    offer = wished(client.post("/api/v1/offers", json=body).get_json()["offers"])
    booked = client.post(
        "/api/v1/bookings",
        json={"offer_id": offer["offer_id"], "name": name,
              "phone": "03471 123456", "note": note},
    )  # fmt: skip
    assert booked.status_code == 201, booked.get_json()
    return booked.get_json()["bookings"][0]


def test_the_riders_note_and_window_reach_the_day_view_and_the_manifest(
    client: FlaskClient,
) -> None:
    booking = book(client)
    window = "–".join(booking["pickup_window"])  # 08:10–08:25
    day_view = client.get(f"/dispatch/?date={DAY}", headers=DISPATCHER).get_data(as_text=True)
    assert NOTE in day_view
    # the driver's break: a bar on the timeline and a line of the vehicle
    assert 'class="gantt-break"' in day_view and "<title>Pause 1" in day_view
    vehicle = booking["vehicle"]
    assert re.search(
        r'data-label="Pausen"><span title="Bernburg[^"]*">1[01]:\d\d–1[01]:\d\d<', day_view
    )
    one = client.get(f"/dispatch/?date={DAY}&vehicle={vehicle}", headers=DISPATCHER)
    assert re.search(r"Pausen</dt><dd>1[01]:\d\d–1[01]:\d\d Bernburg", one.get_data(as_text=True))
    printed = client.get(f"/dispatch/manifest/{vehicle}?date={DAY}", headers=DISPATCHER)
    page = printed.get_data(as_text=True)
    assert NOTE in page and window in page
    table = client.get(f"/dispatch/manifest/{vehicle}.csv?date={DAY}", headers=DISPATCHER)
    rows = list(csv.DictReader(io.StringIO(table.get_data(as_text=True))))
    pickup = next(r for r in rows if r["kind"] == "pickup")
    assert pickup["note"] == NOTE
    assert pickup["window"] == "-".join(booking["pickup_window"])


def test_no_show_only_once_the_pickup_window_has_started(client: FlaskClient, clock: Clock) -> None:
    code = book(client, "19:25")["code"]
    early = client.post(f"/api/v1/bookings/{code}/no-show", headers=DISPATCHER)
    assert early.status_code == 409
    assert early.get_json()["error"]["field"] == "code"
    assert "19:25" in early.get_json()["error"]["message"]
    day_view = client.get(f"/dispatch/?date={DAY}", headers=DISPATCHER).get_data(as_text=True)
    assert f"/dispatch/booking/{code}/no-show" not in day_view  # no button yet
    assert f"/dispatch/booking/{code}/cancel" in day_view
    clock.now = clock.now.replace(day=2, hour=18, minute=26)  # 19:26 in Berlin
    day_view = client.get(f"/dispatch/?date={DAY}", headers=DISPATCHER).get_data(as_text=True)
    assert f"/dispatch/booking/{code}/no-show" in day_view
    marked = client.post(f"/api/v1/bookings/{code}/no-show", headers=DISPATCHER)
    assert marked.status_code == 200 and marked.get_json()["status"] == "no_show"


def test_cancel_asks_first_and_names_rider_and_time(client: FlaskClient) -> None:
    code = book(client)["code"]
    asked = client.get(f"/dispatch/booking/{code}/cancel", headers=DISPATCHER)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200
    assert "Erika Mustermann" in page and "08:10" in page and "Mittwoch, 2. Dezember 2026" in page
    still = client.get(f"/api/v1/bookings/{code}").get_json()
    assert still["status"] == "confirmed"  # asking changed nothing
    with client.session_transaction() as session:
        session["user_id"] = 1  # the dispatcher "disp" of the app fixture
    token = csrf_token(client, f"/dispatch/booking/{code}/cancel")
    done = client.post(f"/dispatch/booking/{code}/cancel", data={"csrf_token": token})
    assert done.status_code == 302
    assert client.get(f"/api/v1/bookings/{code}").get_json()["status"] == "cancelled"


def test_no_show_confirmation_is_refused_before_the_window(client: FlaskClient) -> None:
    code = book(client, "19:25")["code"]
    asked = client.get(f"/dispatch/booking/{code}/no-show", headers=DISPATCHER)
    assert asked.status_code == 409
    assert "19:25" in asked.get_data(as_text=True)


def day_page(client: FlaskClient, query: str = "") -> tuple[int, str]:
    answer = client.get(f"/dispatch/?date={DAY}{query}", headers=DISPATCHER)
    return answer.status_code, answer.get_data(as_text=True)


def found_codes(page: str) -> set[str]:
    """The booking codes of the page's list of found bookings."""
    if 'id="found-title"' not in page:
        return set()
    table = page[page.index('id="found-title"') : page.index("</section>", page.index("found"))]
    return set(re.findall(r'href="/dispatch/booking/([0-9A-Z]{10})"', table))


def test_one_vehicle_shows_its_stops_and_the_overview_a_line_per_vehicle(
    client: FlaskClient, engine: BookingEngine
) -> None:
    booking = book(client)
    vehicle = booking["vehicle"]
    status, overview = day_page(client)
    assert status == 200
    # the overview: one summary line per vehicle (bookings, km, load), stop lists collapsed
    line = re.search(rf'<th scope="row">.*?>{vehicle}</a>.*?</th>(.*?)</tr>', overview, re.S)
    assert line is not None
    cells = re.findall(r'data-label="([^"]+)">(.*?)</td>', line.group(1))
    shown = {label: re.sub(r"<[^>]+>", "", text).strip() for label, text in cells}
    assert shown["Buchungen"] == "1"
    assert re.fullmatch(
        rf"\d\d:\d\d {re.escape(BERNBURG)} → \d\d:\d\d {re.escape(STASSFURT)}",
        shown["Erster Halt → Letzter Halt"],
    )
    assert re.fullmatch(r"\d+(,\d)? km", shown["Strecke"]) and shown["Strecke"] != "0 km"
    spec = next(v for v in engine.service.fleet if v.id == vehicle)
    assert shown["Höchstbesetzung"] == f"1 / {spec.seats + spec.wheelchair_places}"
    assert f'<details class="stop-list" id="stops-{vehicle}">' in overview  # closed
    # one vehicle: its stops in a table that is open
    status, one = day_page(client, f"&vehicle={vehicle}")
    assert status == 200
    assert f'<h2 id="v-{vehicle}">' in one and 'class="stop-list"' not in one
    assert one.count(f'href="/dispatch/booking/{booking["code"]}"') == 3  # 2 stops + menu
    # a vehicle of the fleet without rides that day: said so, no stops of others
    idle = next(v.id for v in engine.service.fleet if v.id != vehicle)
    status, other = day_page(client, f"&vehicle={idle}")
    assert status == 200
    assert f"{idle} hat an diesem Tag keine Fahrten." in other
    assert booking["code"] not in other


def test_filter_by_status_lists_cancelled_and_confirmed_apart(client: FlaskClient) -> None:
    kept = book(client, "08:10", name="Erika Mustermann")["code"]
    gone = book(client, "09:10", name="Hans Schulze")["code"]
    assert client.delete(f"/api/v1/bookings/{gone}").status_code == 200
    _, overview = day_page(client)
    assert gone not in overview  # the plan no longer has it
    _, cancelled = day_page(client, "&status=cancelled")
    assert found_codes(cancelled) == {gone}
    assert "1 Buchungen gefunden." in cancelled
    assert f"/dispatch/booking/{gone}/cancel" not in cancelled  # nothing left to do
    _, confirmed = day_page(client, "&status=confirmed")
    assert found_codes(confirmed) == {kept}
    assert f"/dispatch/booking/{kept}/cancel" in confirmed


def test_filter_by_rider_name_or_code(client: FlaskClient) -> None:
    erika = book(client, "08:10", name="Erika Mustermann")
    hans = book(client, "09:10", name="Hans Schulze")
    _, by_name = day_page(client, "&q=schulz")
    assert found_codes(by_name) == {hans["code"]}
    code = erika["code"]
    _, by_code = day_page(client, f"&q={code[:5].lower()}-{code[5:].lower()}")
    assert found_codes(by_code) == {code}
    _, none = day_page(client, "&q=Niemand")
    assert found_codes(none) == set() and "0 Buchungen gefunden." in none
    # filters combine
    _, both = day_page(client, f"&q=schulz&vehicle={hans['vehicle']}&status=confirmed")
    assert found_codes(both) == {hans["code"]}


def test_done_once_the_drop_off_is_past(client: FlaskClient, clock: Clock) -> None:
    code = book(client, "08:10")["code"]
    _, before = day_page(client, "&status=done")
    assert found_codes(before) == set()
    clock.now = clock.now.replace(day=2, hour=13)  # 14:00 in Berlin on the day
    _, after = day_page(client, "&status=done")
    assert found_codes(after) == {code}
    assert "erledigt" in after


def test_unknown_vehicle_or_status_is_said_not_a_server_error(client: FlaskClient) -> None:
    book(client)
    status, page = day_page(client, "&vehicle=BUS-99")
    assert status == 404
    assert "Das Fahrzeug „BUS-99“ gibt es nicht." in page
    assert '<h2 id="vehicles-title">' in page  # the whole day is still there to choose from
    status, page = day_page(client, "&status=lost")
    assert status == 400
    assert "Unbekannter Status „lost“." in page
    status, page = day_page(client, "&vehicle=%3Cscript%3E")
    assert status == 404 and "<script>" not in page


def test_one_actions_menu_per_booking_and_no_buttons_on_every_row(client: FlaskClient) -> None:
    codes = [book(client, t, name=f"Fahrgast {t}")["code"] for t in ("08:10", "09:10", "10:10")]
    _, page = day_page(client)
    assert page.count('<details class="menu no-print">') == len(codes)
    assert 'class="button secondary" href="/dispatch/booking/' not in page
    for code in codes:
        assert page.count(f"/dispatch/booking/{code}/cancel") == 1


def test_the_timeline_shows_now_on_the_day_itself(client: FlaskClient, clock: Clock) -> None:
    book(client)
    _, ahead = day_page(client)
    assert 'class="gantt-now"' not in ahead  # the day before: no "now" on its timeline
    clock.now = clock.now.replace(day=2, hour=9, minute=30)  # 10:30 in Berlin
    _, today = day_page(client)
    assert 'class="gantt-now"' in today
    assert "jetzt 10:30 Uhr" in today
    assert 'class="gantt-break"' in today


def test_the_day_view_in_english_has_no_german(client: FlaskClient, clock: Clock) -> None:
    booking = book(client)
    clock.now = clock.now.replace(day=2, hour=9, minute=30)  # the day itself: "now" shows
    with client.session_transaction() as session:
        session["lang"] = "en"
    german = ("Buchungen", "Fahrzeug ", "Aktionen", "Pausen", "Strecke", "Höchstbesetzung",
              "Suchen und filtern", "jetzt", "Einstieg", "Ausstieg", "oben", "unten",
              "keine")  # fmt: skip
    for query in ("", f"&vehicle={booking['vehicle']}", "&status=confirmed", "&vehicle=BUS-9"):
        _, page = day_page(client, query)
        text = re.sub(r"<[^>]+>", " ", page[page.index("<main") :])
        assert not [word for word in german if word in text], query
    _, page = day_page(client, "&vehicle=BUS-9")
    assert "There is no vehicle “BUS-9”." in page
    _, page = day_page(client)
    assert "now 10:30" in page and "Peak load" in page


def test_at_risk_lists_the_booking_the_late_bus_endangers(
    client: FlaskClient,
    late_bus: tuple[dict, dict],  # noqa: F811 (the fixture of tests/web/test_live.py)
) -> None:
    erika, otto = late_bus  # 08:45 on the day; Otto's pickup window closes at 09:05
    _, page = day_page(client, "&status=at_risk")
    assert found_codes(page) == {otto["code"]}
    assert '<span class="tag status-at_risk">gefährdet</span>' in page
    _, confirmed = day_page(client, "&status=confirmed")
    assert found_codes(confirmed) == {erika["code"], otto["code"]}
