"""What pages say about refusals, errors and times, in the reader's language.

The planner refuses offers and raises errors with a machine-readable code and the values
it names (``OfferResult.reason`` and ``reason_params``; ``PlannerError.code`` and
``params``). The API passes those on with an English message; pages say them here, in
German or English through the one catalogue (see :mod:`web.i18n`), and never show a
raw field name or an English sentence on a German page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from planner.errors import PlannerError
from planner.fares import Fare, format_money
from planner.timefmt import hhmm, parse_hhmm
from web.i18n import current_language, format_number
from web.i18n import gettext as _

#: Why there is no offer (``OfferResult.reason``), German; the values are ``reason_params``.
REFUSALS: dict[str, str] = {
    "horizon": "Fahrten können ab heute bis zu %(days)s Tage im Voraus gebucht werden.",
    "outside_hours": "Der Bus fährt von %(first)s bis %(last)s Uhr.",
    "lead_time": "Bitte buchen Sie mindestens %(minutes)s Minuten vor der Abholung.",
    "night_deadline": (
        "Fahrten ab %(from)s Uhr müssen am selben Tag bis %(deadline)s Uhr gebucht werden."
    ),
    "no_capacity": "Kein Bus hat Platz für so viele Personen oder Rollstühle.",
    "too_short": (
        "Die Haltestellen liegen nur %(distance_m)s m auseinander. "
        "Der Rufbus fährt erst ab %(min_km)s km."
    ),
    "scheduled_line": (
        "Linie %(lines)s fährt um %(departure)s Uhr ab und kommt um %(arrival)s Uhr an. "
        "Der Rufbus fährt nur, wo und wann keine Linie fährt."
    ),
    "fully_booked": "Zu dieser Zeit ist kein Bus frei.",
}

#: What is wrong with a request (``PlannerError.code``), German; the values are ``params``
#: and ``label``, the field's name on the form.
ERRORS: dict[str, str] = {
    "past": "Die gewünschte Zeit ist schon vorbei.",
    "same_stop": "Start und Ziel sind dieselbe Haltestelle.",
    "too_many_people": (
        "Höchstens %(max)s Personen je Buchung. Für größere Gruppen rufen Sie bitte die "
        "Disposition an."
    ),
    "offer_used": "Dieses Angebot ist schon gebucht.",
    "offer_expired": "Dieses Angebot ist abgelaufen. Bitte suchen Sie die Fahrt noch einmal.",
    "offer_taken": (
        "Dieses Angebot ist inzwischen vergeben. Bitte suchen Sie die Fahrt noch einmal."
    ),
    "not_confirmed": "Die Buchung %(code)s ist nicht mehr bestätigt (%(status)s).",
    "no_show_too_early": "Nicht erschienen kann erst ab %(time)s Uhr eingetragen werden.",
    # changing a booking (planner.booking.change)
    "offer_is_change": "Dieses Angebot ändert eine bestehende Buchung.",
    "offer_not_for_booking": "Dieses Angebot gehört zu einer anderen Buchung.",
    "feeder_change": (
        "Eine Fahrt zum Anschluss an eine Linie kann nicht geändert werden. Bitte stornieren "
        "Sie sie und buchen Sie die neue Fahrt."
    ),
    "change_too_late": (
        "Die Abholung ist um %(time)s Uhr. Für eine Änderung ist es jetzt zu spät."
    ),
    # the stop catalogue's refusals (planner/stops.py)
    "unknown_stop": (
        "Die Haltestelle „%(name)s“ wurde nicht gefunden. Bitte wählen Sie eine Haltestelle "
        "aus der Liste oder auf der Karte."
    ),
    "ambiguous_stop": "„%(name)s“ passt zu mehreren Haltestellen. Bitte wählen Sie eine aus.",
    # the form checks (planner.booking.wire, codes of pydantic's error types)
    "missing": "Bitte füllen Sie „%(label)s“ aus.",
    "greater_than_equal": "„%(label)s“: mindestens %(ge)s.",
    "less_than_equal": "„%(label)s“: höchstens %(le)s.",
    "int_parsing": "„%(label)s“: Bitte geben Sie eine ganze Zahl ein.",
    "string_too_long": "„%(label)s“: höchstens %(max_length)s Zeichen.",
    "string_pattern_mismatch": "Bitte füllen Sie „%(label)s“ aus.",
    "date": "Bitte geben Sie ein gültiges Datum an.",
    "time": "Bitte geben Sie eine Uhrzeit wie 08:10 an.",
    "party": "Es können nicht mehr Personen im Rollstuhl sein, als Personen mitfahren.",
}

#: Where one field says it better than the code's general sentence.
FIELD_ERRORS: dict[tuple[str, str], str] = {
    ("passengers", "greater_than_equal"): "Es muss mindestens eine Person mitfahren.",
    ("phone", "string_pattern_mismatch"): (
        "Bitte geben Sie eine Telefonnummer mit mindestens 5 Ziffern an."
    ),
    ("email", "string_pattern_mismatch"): (
        "Bitte geben Sie eine E-Mail-Adresse wie name@example.de an, oder lassen Sie das Feld leer."
    ),
}

#: A stop field refused without a code: what the rider typed could not be booked.
STOP_NOT_FOUND = (
    "Die Haltestelle „%(value)s“ wurde nicht gefunden. Bitte wählen Sie eine Haltestelle "
    "aus der Liste oder auf der Karte."
)
#: Any other refusal without a known code.
CHECK_FIELD = "Bitte prüfen Sie „%(label)s“."
CHECK_INPUT = "Bitte prüfen Sie Ihre Angaben."

#: The form's names of the request's fields.
FIELD_LABELS: dict[str, str] = {
    "origin": "Von (Haltestelle)",
    "destination": "Nach (Haltestelle)",
    "date": "Datum",
    "time": "Uhrzeit",
    "kind": "Uhrzeit",
    "passengers": "Personen",
    "wheelchairs": "davon im Rollstuhl",
    "name": "Name",
    "phone": "Telefon",
    "note": "Hinweis",
    "email": "E-Mail-Adresse",
}

#: What the API says when a key names nothing (``NotFoundError.field``).
NOT_FOUND: dict[str, str] = {
    "code": "Eine Buchung mit diesem Code gibt es nicht.",
    "offer_id": "Dieses Angebot gibt es nicht (mehr). Bitte suchen Sie die Fahrt noch einmal.",
    "vehicle": "Dieses Fahrzeug gibt es nicht.",
}
NOT_FOUND_OTHER = "Nicht gefunden."

#: What a page says for an HTTP error (status -> German heading and sentence).
HTTP_ERRORS: dict[int, tuple[str, str]] = {
    400: (
        "Ungültige Anfrage",
        "Die Anfrage war unvollständig. Bitte laden Sie die Seite neu und versuchen Sie es "
        "noch einmal.",
    ),
    403: ("Kein Zugang", "Diese Seite ist nur für angemeldete Mitarbeiter."),
    404: (
        "Seite nicht gefunden",
        "Diese Seite gibt es nicht. Bitte prüfen Sie die Adresse oder beginnen Sie auf der "
        "Startseite.",
    ),
    405: ("Nicht möglich", "So kann diese Seite nicht aufgerufen werden."),
    413: ("Zu viele Daten", "Die gesendeten Daten sind zu groß."),
    500: (
        "Etwas ist schiefgegangen",
        "Ein Fehler auf unserer Seite. Bitte versuchen Sie es später noch einmal oder rufen "
        "Sie die Disposition an.",
    ),
}
#: A form sent without its valid CSRF token (an old page, or cookies off).
FORM_EXPIRED = (
    "Formular abgelaufen",
    "Das Formular ist abgelaufen. Bitte laden Sie die Seite neu und versuchen Sie es noch einmal.",
)
#: Who may see a page (a 403 names the role it needs).
ROLE_NAMES = {"dispatcher": "Disposition", "analyst": "Analyse", "driver": "Fahrer"}
NEEDS_ROLE = "Diese Seite ist nur für: %(roles)s."

#: A booking's status in words.
STATUS = {"confirmed": "bestätigt", "cancelled": "storniert", "no_show": "nicht erschienen"}

#: A notification's event, channel and delivery status in words (dispatchers' pages).
NOTIFY_KIND = {
    "confirmation": "Bestätigung",
    "reminder": "Erinnerung",
    "change": "Zeitänderung",
    "cancellation": "Absage",
    "arriving": "Bus gleich da",
}
NOTIFY_CHANNEL = {"email": "E-Mail", "sms": "SMS", "call": "Anruf"}
NOTIFY_STATUS = {
    "pending": "wartet",
    "sent": "gesendet",
    "failed": "fehlgeschlagen",
    "call": "bitte anrufen",
    "called": "angerufen",
    "dropped": "verworfen",
    "skipped": "nicht nötig",
}

#: What became of a re-optimisation (its ``code``).
OPTIMIZED: dict[str, str] = {
    "stored": "Ein besserer Plan wurde gespeichert.",
    "no_bookings": "An diesem Tag gibt es keine Buchungen.",
    "breaks_promise": "Der neue Plan hätte eine Zusage gebrochen; der bisherige bleibt.",
    "no_better": "Der bisherige Plan ist schon so gut; er bleibt.",
    "changed_meanwhile": (
        "Inzwischen haben sich Buchungen geändert. Bitte versuchen Sie es noch einmal."
    ),
    "proposed": "Der neue Plan ist günstiger. Übernehmen oder verwerfen?",
    "proposed_costlier": (
        "Der neue Plan hält jede Zusage, ist aber teurer als der bisherige. Übernehmen oder "
        "verwerfen?"
    ),
    "discarded": "Der Vorschlag wurde verworfen; der bisherige Plan bleibt.",
}

#: How an offer or booking differs from the wish (``shift_min``), by wish kind and direction.
SHIFTS: dict[tuple[str, str], str] = {
    ("pickup", "earlier"): (
        "Sie wollten um %(wish)s Uhr fahren. Der Bus kann Sie zwischen %(start)s und "
        "%(end)s Uhr abholen – %(minutes)s früher."
    ),
    ("pickup", "later"): (
        "Sie wollten um %(wish)s Uhr fahren. Der Bus kann Sie zwischen %(start)s und "
        "%(end)s Uhr abholen – %(minutes)s später."
    ),
    ("arrival", "earlier"): (
        "Sie wollten bis %(wish)s Uhr ankommen. Mit dieser Fahrt sind Sie spätestens um "
        "%(latest)s Uhr am Ziel – %(minutes)s früher."
    ),
    ("arrival", "later"): (
        "Sie wollten bis %(wish)s Uhr ankommen. Mit dieser Fahrt sind Sie spätestens um "
        "%(latest)s Uhr am Ziel – %(minutes)s später."
    ),
}

#: Every German text of this module, for the catalogue test.
MESSAGES: tuple[str, ...] = (
    *REFUSALS.values(),
    *ERRORS.values(),
    *FIELD_ERRORS.values(),
    STOP_NOT_FOUND,
    CHECK_FIELD,
    CHECK_INPUT,
    *FIELD_LABELS.values(),
    *STATUS.values(),
    *NOTIFY_KIND.values(),
    *NOTIFY_CHANNEL.values(),
    *NOTIFY_STATUS.values(),
    *OPTIMIZED.values(),
    *NOT_FOUND.values(),
    *(text for pair in (*HTTP_ERRORS.values(), FORM_EXPIRED) for text in pair),
    *ROLE_NAMES.values(),
    NEEDS_ROLE,
    NOT_FOUND_OTHER,
    *SHIFTS.values(),
    "1 Minute",
    "%(count)s Minuten",
)


def say(template: str, values: Mapping[str, Any]) -> str:
    """The German ``template`` in the reader's language, filled with ``values``."""
    return _(template) % {key: format_number(value) for key, value in values.items()}


def refusal_text(reason: str, params: Mapping[str, Any]) -> str:
    """Why there is no offer, in the reader's language."""
    return say(REFUSALS.get(reason, REFUSALS["fully_booked"]), params)


def error_text(exc: PlannerError, values: Mapping[str, str] | None = None) -> str:
    """What is wrong with a request, in the reader's language.

    ``values`` are the form's fields as the rider typed them (a refused stop is named).
    """
    field = exc.field.split(".")[0]
    label = _(FIELD_LABELS[field]) if field in FIELD_LABELS else ""
    params = dict(exc.params)
    if exc.code == "not_confirmed":
        params["status"] = _(STATUS.get(params.get("status", ""), params.get("status", "")))
    code = exc.code or ""
    if (field, code) in FIELD_ERRORS:
        return say(FIELD_ERRORS[field, code], params)
    if code in ERRORS and (label or "%(label)s" not in ERRORS[code]):
        return say(ERRORS[code], {**params, "label": label})
    typed = (values or {}).get(field, "").strip()
    if field in ("origin", "destination") and typed:
        return say(STOP_NOT_FOUND, {"value": typed})
    return say(CHECK_FIELD, {"label": label}) if label else _(CHECK_INPUT)


def http_error_text(status: int, *, form_expired: bool = False) -> tuple[str, str]:
    """The heading and sentence of the page for HTTP error ``status``, in the reader's language."""
    pair = FORM_EXPIRED if form_expired else HTTP_ERRORS.get(status, HTTP_ERRORS[500])
    return _(pair[0]), _(pair[1])


def needs_role_text(roles: tuple[str, ...]) -> str:
    """Which role a page needs (a 403), in the reader's language."""
    return _(NEEDS_ROLE) % {"roles": ", ".join(_(ROLE_NAMES.get(r, r)) for r in roles)}


def not_found_text(field: str) -> str:
    """What the API says when ``field`` names nothing, in the reader's language."""
    return _(NOT_FOUND.get(field, NOT_FOUND_OTHER))


def minutes_text(minutes: int) -> str:
    """``1 Minute``, ``30 Minuten``."""
    return _("1 Minute") if minutes == 1 else _("%(count)s Minuten") % {"count": minutes}


def shift_text(kind: str, wish: str, window: tuple[str, str], shift_min: int) -> str | None:
    """How an offer or booking differs from the wish, or None if it is as wished.

    For example "Sie wollten um 23:45 Uhr fahren. Der Bus kann Sie zwischen 23:15 und
    23:30 Uhr abholen – 30 Minuten früher."
    """
    if shift_min == 0:
        return None
    direction = "earlier" if shift_min < 0 else "later"
    latest = hhmm(parse_hhmm(wish, field="wish") + shift_min * 60)
    values = {
        "wish": wish,
        "start": window[0],
        "end": window[1],
        "latest": latest,
        "minutes": minutes_text(abs(shift_min)),
    }
    return say(SHIFTS[kind if kind == "arrival" else "pickup", direction], values)


def money(cents: int) -> str:
    """An amount in the reader's language: ``3,50 €`` in German, ``€3.50`` in English."""
    return format_money(cents, current_language())


def revenue_text(cents: int | None) -> str:
    """Revenue (the KPI ``revenue_cents``) in words; None: no tariff configured."""
    return _("nicht konfiguriert") if cents is None else money(cents)


def percent(share: float) -> str:
    """A share as a percentage: ``50 %`` in German, ``50%`` in English."""
    value = round(share * 100)
    return f"{value}\u00a0%" if current_language() == "de" else f"{value}%"


def fare_view(fare: Fare | None) -> dict[str, Any]:
    """What riders read about a fare: ``amount`` (after "Fahrpreis:") and ``details``.

    Without a fare (no tariff configured) the amount says plainly that it is not set yet
    and the details send the rider to the hotline; never a made-up price.
    """
    if fare is None:
        return {
            "amount": _("steht noch nicht fest"),
            "details": [_("Bitte fragen Sie bei der Rufbus-Zentrale nach.")],
            "quoted": False,
        }
    people = len(fare.people)
    total = money(fare.total_cents)
    if people > 1:
        total = _("%(total)s für %(people)s Personen") % {"total": total, "people": people}
    details = []
    if fare.surcharge_cents:
        details.append(
            _("je Person %(fare)s Fahrpreis und %(surcharge)s Rufbus-Zuschlag")
            % {"fare": money(fare.fare_cents), "surcharge": money(fare.surcharge_cents)}
        )
    for kind, share in fare.reductions:
        text = (
            _("Kinder zahlen %(share)s des Fahrpreises.")
            if kind == "child"
            else _("Mit Ermäßigung zahlen Sie %(share)s des Fahrpreises.")
        )
        details.append(text % {"share": percent(share)})
    if not fare.deutschlandticket_valid:
        details.append(_("Das Deutschlandticket gilt im Rufbus nicht."))
    elif fare.surcharge_cents and fare.deutschlandticket_surcharge:
        details.append(
            _("Mit Deutschlandticket zahlen Sie nur den Zuschlag von %(surcharge)s je Person.")
            % {"surcharge": money(fare.surcharge_cents)}
        )
    else:
        details.append(_("Mit Deutschlandticket fahren Sie ohne Aufpreis."))
    return {"amount": total, "details": details, "quoted": True}
