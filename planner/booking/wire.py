"""The wire format of booking requests.

Pydantic models that are the one source of both the input checks and the OpenAPI document
(``web/openapi.py`` builds it from these models).

Checks that need the stop catalogue or the service (stop names, party size limit, origin
and destination differ) stay with the engine (:func:`planner.booking.engine.trip_request`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal, TypeVar

from annotated_types import GroupedMetadata
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from planner.errors import BookingError
from planner.timefmt import parse_hhmm

#: Dates a request may name: wide enough for any service, narrow enough that date
#: arithmetic never overflows (``date.max + 1 day`` would).
FIRST_DATE, LAST_DATE = date(2000, 1, 1), date(2100, 12, 31)
DATE_PATTERN = r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
#: ``HH:MM``, 00:00 to 24:00, as :func:`planner.timefmt.parse_hhmm` reads it.
CLOCK_PATTERN = r"^(([01]?[0-9]|2[0-3]):[0-5][0-9]|24:00)$"


def _service_date(value: Any) -> date:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise PydanticCustomError("date", f"expected YYYY-MM-DD, got {value!r}")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("date", f"{value!r} is not a date") from None
    if not FIRST_DATE <= day <= LAST_DATE:
        raise PydanticCustomError("date", f"must be from {FIRST_DATE} to {LAST_DATE}")
    return day


def _clock(value: Any, info: ValidationInfo) -> int:
    try:
        return parse_hhmm(value, field=info.field_name or "time")
    except ValueError as exc:
        raise PydanticCustomError("time", getattr(exc, "reason", str(exc))) from None


def _strip(value: str) -> str:
    # after the length and pattern checks, so that the document's limits are the server's
    return value.strip()


#: A calendar date ``YYYY-MM-DD`` from 2000 to 2100.
ServiceDate = Annotated[
    date,
    PlainValidator(_service_date),
    # no "format": "date" beside the pattern: generators would then filter most dates away
    WithJsonSchema(
        {
            "type": "string",
            "pattern": DATE_PATTERN,
            "description": f"a date YYYY-MM-DD from {FIRST_DATE} to {LAST_DATE}",
        }
    ),
]
#: A time of the service day ``HH:MM``, as seconds after midnight.
Clock = Annotated[
    int,
    PlainValidator(_clock),
    WithJsonSchema({"type": "string", "pattern": CLOCK_PATTERN, "examples": ["08:10"]}),
]


@dataclass(frozen=True)
class _Text(GroupedMetadata):
    """A string of at most ``max_length`` characters matching ``pattern``.

    By default the pattern asks for one visible character at least. The string is trimmed
    after the checks; ``mismatch`` says what is wrong.

    Grouped metadata (``Annotated[str, _Text(200)]``) rather than a function returning an
    ``Annotated`` type, so that type checkers see the aliases below as ``str``.
    """

    max_length: int
    pattern: str | None = r"\S"
    mismatch: str = "must not be blank"
    description: str = ""

    def __iter__(self) -> Iterator[object]:
        yield Field(
            max_length=self.max_length, pattern=self.pattern, description=self.description or None
        )
        yield AfterValidator(_strip)
        yield WrapValidator(self._say_what)

    def _say_what(self, value: Any, handler: ValidatorFunctionWrapHandler) -> str:
        try:
            text: str = handler(value)
        except ValidationError as exc:
            if exc.errors()[0]["type"] == "string_pattern_mismatch":
                raise PydanticCustomError("string_pattern_mismatch", self.mismatch) from None
            raise
        return text


class Point(BaseModel):
    """A place given by its coordinates (WGS84); the nearest bookable stop is used."""

    lon: float = Field(allow_inf_nan=False)
    lat: float = Field(allow_inf_nan=False)


def _one_stop_error(value: Any, handler: Any) -> Any:
    try:
        return handler(value)
    except ValidationError:
        raise PydanticCustomError("stop", "must be a stop id, a stop name or {lon, lat}") from None


StopName = Annotated[str, _Text(200)]
LineName = Annotated[str, _Text(20, description="the line's name, e.g. '140'")]
PersonName = Annotated[str, _Text(200)]
Phone = Annotated[
    str,
    _Text(
        40,
        pattern=r"^[+\-/ ()]*([0-9][+\-/ ()]*){5,}$",
        mismatch="must be a phone number (at least 5 digits; + - / ( ) and spaces)",
        description="at least 5 digits; + - / ( ) and spaces allowed",
    ),
]
Note = Annotated[str, _Text(500, pattern=None)]
Identifier = Annotated[str, _Text(100)]
Query = Annotated[str, _Text(100, description="part of a stop name")]

#: A stop: its id from ``/stops``, its name, or ``{lon, lat}``.
StopRef = Annotated[int | StopName | Point, WrapValidator(_one_stop_error)]

Passengers = Annotated[int, Field(ge=0, le=100)]


class Connection(BaseModel):
    """A scheduled departure a feeder trip must reach."""

    stop: StopRef
    line: LineName
    departure: Clock


class TripWish(BaseModel):
    """A trip a rider asks for.

    A feeder trip names ``connection`` instead of ``destination``, ``time`` and ``kind``:
    it must arrive by the departure minus the transfer buffer.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [{"required": ["destination", "time"]}, {"required": ["connection"]}]
        }
    )

    origin: StopRef
    destination: StopRef | None = None
    date: ServiceDate
    time: Clock | None = None
    kind: Literal["pickup", "arrival"] | None = Field(
        None, description="pickup at `time` (default) or arrive by `time`"
    )
    passengers: Annotated[int, Field(ge=1, le=100)] = Field(
        1, description="everyone who travels, wheelchair users included"
    )
    wheelchairs: Passengers = Field(
        0, description="how many of the passengers travel in a wheelchair"
    )
    connection: Connection | None = None

    @model_validator(mode="after")
    def _complete(self) -> TripWish:
        if self.connection is None:
            for key in ("destination", "time"):
                if getattr(self, key) is None:
                    raise PydanticCustomError("missing", "is required", {"field": key})
        elif self.kind not in (None, "arrival"):
            msg = "a feeder trip is 'arrival' (arrive by the connection)"
            raise PydanticCustomError("kind", msg, {"field": "kind"})
        if self.wheelchairs > self.passengers:
            msg = "at most the number of passengers (wheelchair users count as passengers)"
            raise PydanticCustomError("party", msg, {"field": "wheelchairs"})
        return self

    @property
    def seated(self) -> int:
        """How many of the party sit on a seat (the others need a wheelchair place)."""
        return self.passengers - self.wheelchairs


class Contact(BaseModel):
    """Who rides: name and phone for the driver, and an optional note."""

    name: PersonName
    phone: Phone
    note: Note = ""


#: An e-mail address as people type them: one @, a dot in the domain, no spaces.
Email = Annotated[
    str,
    _Text(
        254,
        pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$",
        mismatch="must be an e-mail address (name@example.de)",
        description="e-mail address for notifications; empty: none",
    ),
]


class Notify(BaseModel):
    """The notifications a rider opts into: e-mail, texts to the phone, and the language."""

    email: Email = ""
    sms: bool = Field(default=False, description="texts to the booking's phone (mobile numbers)")
    language: Literal["de", "en"] = "de"


class Confirmation(Contact):
    """Confirm an offer, and optionally a linked return offer."""

    offer_id: Identifier
    return_offer_id: Identifier | None = None
    notify: Notify | None = None


class Standing(TripWish, Contact):
    """A standing booking: the trip on each of ``weekdays`` from ``date`` to ``until``."""

    weekdays: list[Annotated[int, Field(ge=1, le=7)]] = Field(
        min_length=1, max_length=7, description="ISO weekdays, 1 = Monday"
    )
    until: ServiceDate


#: Checks a date given alone (a URL's ``{day}``).
ServiceDay = TypeAdapter(ServiceDate)


def parse_day(text: str, *, field: str = "date") -> date:
    """A ``YYYY-MM-DD`` date from 2000 to 2100.

    Raises
    ------
    BookingError
        Naming ``field`` if it is not such a date.
    """
    try:
        return ServiceDay.validate_python(text)
    except ValidationError as exc:
        raise BookingError(field, exc.errors()[0]["msg"]) from None


class OptimizeOptions(BaseModel):
    """How long a dispatcher's re-optimisation may search, and whether it only proposes."""

    time_limit: float = Field(10.0, ge=1, le=300, description="seconds")
    preview: bool = Field(
        False,
        description="only propose the new plan: nothing is stored; the answer's `proposal` "
        "is accepted with `POST /plans/{day}/proposals/{proposal}` while the day is unchanged",
    )


class BookingChange(BaseModel):
    """What changes in a booking; every field left out stays as booked."""

    model_config = ConfigDict(extra="forbid")

    origin: StopRef | None = None
    destination: StopRef | None = None
    date: ServiceDate | None = None
    time: Clock | None = None
    kind: Literal["pickup", "arrival"] | None = Field(
        None, description="pickup at `time` or arrive by `time`"
    )
    passengers: Annotated[int, Field(ge=1, le=100)] | None = Field(
        None, description="everyone who travels, wheelchair users included"
    )
    wheelchairs: Passengers | None = Field(
        None, description="how many of the passengers travel in a wheelchair"
    )


class ChangeConfirmation(BaseModel):
    """Take an offer of ``POST /bookings/{code}/change``: the booking becomes that trip."""

    offer_id: Identifier


class StopQuery(BaseModel):
    """A search for stops by part of their name."""

    q: Query
    limit: int = Field(10, ge=1, le=50)


M = TypeVar("M", bound=BaseModel)


def field_error(exc: ValidationError, *, indexed: bool = False) -> BookingError:
    """The first problem of ``exc`` as a :class:`BookingError`.

    It names the field as the API calls it: ``connection.departure``; list positions are
    left out unless ``indexed`` (``events[3].kind``).
    """
    first = exc.errors(include_url=False)[0]
    ctx = first.get("ctx") or {}
    field = _field_name(first["loc"], indexed=indexed)
    if ctx.get("field"):  # a model's own check names the field it is about
        field = f"{field}.{ctx['field']}" if field else ctx["field"]
    message = first["msg"]
    if first["type"] == "json_invalid":
        field = "body"
    elif first["type"] == "model_type" and not first["loc"]:
        field, message = "body", "must be a JSON object"
    elif first["type"] == "missing":
        message = "is required"
    # the check's kind and limits ("greater_than_equal", {"ge": 1}), for pages to say it
    params = {k: v for k, v in ctx.items() if isinstance(v, int | float | str) and k != "field"}
    return BookingError(field or "body", message, code=first["type"], params=params)


def _field_name(loc: tuple[int | str, ...], *, indexed: bool) -> str:
    name = ""
    for part in loc:
        if isinstance(part, int):
            name += f"[{part}]" if indexed else ""
        else:
            name = f"{name}.{part}" if name else part
    return name


def validate(model: type[M], data: Any, *, strict: bool = True) -> M:
    """Check ``data`` (parsed JSON or, with ``strict=False``, form strings) against ``model``.

    Raises
    ------
    BookingError
        Naming the first bad field and the reason.
    """
    try:
        return model.model_validate(data, strict=strict)
    except ValidationError as exc:
        raise field_error(exc) from None


def validate_json(model: type[M], raw: bytes | str, *, indexed: bool = False) -> M:
    """Parse and check a JSON document against ``model`` (deep nesting is a 400, too).

    ``indexed`` names list positions in errors (see :func:`field_error`).

    Raises
    ------
    BookingError
        Naming the first bad field (``body`` if it is not JSON) and the reason.
    """
    try:
        return model.model_validate_json(raw, strict=True)
    except ValidationError as exc:
        raise field_error(exc, indexed=indexed) from None
