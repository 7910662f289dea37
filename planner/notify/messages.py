"""What a notification says: short texts in German or English, one per event.

Every text fits one SMS (:data:`SMS_LIMIT` characters; a long stop name is shortened to fit)
and names the weekday and the pickup window as ``HH:MM``. E-mails carry the same text and,
below it, the booking's details.

The texts live here, not in the web catalogue (``web/i18n.py``): the worker writes them
outside any request, in the language the rider booked in, and ``planner`` does not import
``web``. The same rule holds: German is the source, English the translation, both complete
(a test renders every event in both).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

#: The events a rider can be told of.
KINDS = ("confirmation", "reminder", "change", "cancellation", "arriving")

#: Characters of one SMS (GSM 7-bit); German umlauts are in its alphabet.
SMS_LIMIT = 160

WEEKDAYS = {
    "de": ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

#: Per language and event: (e-mail subject, text). Placeholders: code, day, start, end,
#: stop, minutes; ``{hotline}`` is empty or a sentence with the service's phone number.
TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "de": {
        "confirmation": (
            "Rufbus gebucht",
            "Rufbus {code} gebucht: {day}, Abholung {start}-{end} Uhr an {stop}.",
        ),
        "reminder": (
            "Erinnerung: Ihre Rufbus-Fahrt morgen",
            "Erinnerung Rufbus {code}: morgen, {day}, Abholung {start}-{end} Uhr an {stop}.",
        ),
        "change": (
            "Rufbus: neue Abholzeit",
            "Rufbus {code}: Ihre Abholzeit hat sich geändert. Neu: {day}, {start}-{end} Uhr "
            "an {stop}.",
        ),
        "cancellation": (
            "Rufbus: Fahrt abgesagt",
            "Rufbus {code}: Ihre Fahrt am {day}, {start}-{end} Uhr, wurde von der Leitstelle "
            "abgesagt.{hotline}",
        ),
        "arriving": (
            "Rufbus: gleich da",
            "Rufbus {code}: Ihr Bus ist in etwa {minutes} Minuten an {stop}.",
        ),
    },
    "en": {
        "confirmation": (
            "Rufbus booked",
            "Rufbus {code} booked: {day}, pickup {start}-{end} at {stop}.",
        ),
        "reminder": (
            "Reminder: your Rufbus ride tomorrow",
            "Reminder Rufbus {code}: tomorrow, {day}, pickup {start}-{end} at {stop}.",
        ),
        "change": (
            "Rufbus: new pickup time",
            "Rufbus {code}: your pickup time has changed. New: {day}, {start}-{end} at {stop}.",
        ),
        "cancellation": (
            "Rufbus: ride cancelled",
            "Rufbus {code}: your ride on {day}, {start}-{end}, was cancelled by the "
            "dispatch centre.{hotline}",
        ),
        "arriving": (
            "Rufbus: almost there",
            "Rufbus {code}: your bus reaches {stop} in about {minutes} minutes.",
        ),
    },
}

HOTLINE = {"de": " Fragen: {phone}", "en": " Questions: {phone}"}

#: The e-mail's details below the text.
DETAILS = {
    "de": (
        "Buchungscode: {code}\nDatum: {day}\nAbholung: {start}-{end} Uhr\nVon: {origin}\n"
        "Nach: {destination}"
    ),
    "en": (
        "Booking code: {code}\nDate: {day}\nPickup: {start}-{end}\nFrom: {origin}\n"
        "To: {destination}"
    ),
}
LINK = {"de": "Ihre Buchung: {url}", "en": "Your booking: {url}"}
PHONE = {"de": "Telefon der Leitstelle: {phone}", "en": "Dispatch centre: {phone}"}


@dataclass(frozen=True, slots=True)
class Trip:
    """What a message tells about a booking (as the rider booked it)."""

    code: str
    day: date
    start: str
    end: str
    origin: str
    destination: str
    language: str = "de"


@dataclass(frozen=True, slots=True)
class Message:
    """One message: the e-mail's subject, the short text (one SMS), the e-mail's body."""

    subject: str
    text: str
    body: str


def short_day(day: date, language: str) -> str:
    """The day with its weekday, short: ``Mi, 02.12.`` or ``Wed 2 Dec``."""
    weekday = WEEKDAYS[language][day.weekday()]
    if language == "de":
        return f"{weekday}, {day.day:02d}.{day.month:02d}."
    return f"{weekday} {day.day} {MONTHS_EN[day.month - 1]}"


def _fit(template: str, values: dict[str, str], limit: int) -> str:
    """``template`` filled in, the stop name shortened with "…" if the text is too long."""
    text = template.format(**values)
    over = len(text) - limit
    if over > 0 and len(values["stop"]) > over + 1:
        stop = values["stop"][: len(values["stop"]) - over - 1].rstrip(" ,") + "…"
        text = template.format(**{**values, "stop": stop})
    return text


def message(
    kind: str,
    trip: Trip,
    *,
    minutes: int = 5,
    phone: str = "",
    booking_url: str = "",
    sender: str = "Rufbus",
) -> Message:
    """The message of ``kind`` about ``trip``, in the trip's language.

    Parameters
    ----------
    kind
        One of :data:`KINDS`.
    trip
        The booking as the message tells it.
    minutes
        How far away the bus is (``arriving``).
    phone, booking_url
        The service's hotline and public booking page (empty: not mentioned).
    sender
        Who signs the e-mail.
    """
    language = trip.language if trip.language in TEXTS else "de"
    subject, template = TEXTS[language][kind]
    values = {
        "code": trip.code,
        "day": short_day(trip.day, language),
        "start": trip.start,
        "end": trip.end,
        "stop": trip.origin,
        "minutes": str(minutes),
        "hotline": HOTLINE[language].format(phone=phone) if phone else "",
    }
    text = _fit(template, values, SMS_LIMIT)
    lines = [text, "", DETAILS[language].format(**values, **_names(trip))]
    if booking_url:
        lines.append(LINK[language].format(url=f"{booking_url.rstrip('/')}/booking/{trip.code}"))
    if phone:
        lines.append(PHONE[language].format(phone=phone))
    lines += ["", sender]
    return Message(subject, text, "\n".join(lines) + "\n")


def _names(trip: Trip) -> dict[str, str]:
    return {"origin": trip.origin, "destination": trip.destination}
