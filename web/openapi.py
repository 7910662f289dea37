"""The OpenAPI 3.1 description of ``/api/v1``.

It is built from the models that check the requests (:mod:`planner.booking.wire`), so that
the document and the server cannot disagree.

The response models here only describe what the engine returns (``booking_json``,
``OfferResult.to_json``...); the schemathesis test checks the answers against them.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

from planner.booking import wire
from planner.live import wire as live_wire

REF = "#/components/schemas/{model}"
HHMM = Field(pattern=r"^[0-9]{2}:[0-9]{2}$")


class ErrorDetail(BaseModel):
    """Which field is wrong and why."""

    field: str = Field(description="the offending field, e.g. `connection.departure`")
    message: str = Field(
        description="why, for people: in the language `Accept-Language` asks for (German or "
        "English); without that header in English words for developers"
    )
    code: str | None = Field(
        None,
        description="the machine-readable reason, the same in every language, e.g. `past`, "
        "`too_many_people`, `unknown_stop`, `offer_expired`, `too_many_requests`",
    )
    suggestions: list[str] | None = Field(
        None,
        max_length=5,
        description="for a stop name that names no stop or several: stop labels to pick, "
        "each accepted as the stop's name",
    )


class Error(BaseModel):
    """The answer to a request that is refused."""

    error: ErrorDetail


class Stop(BaseModel):
    """A bookable stop and where it is (WGS84)."""

    id: int
    name: str
    lon: float
    lat: float


class FoundStop(Stop):
    """A stop found by name, with the label that names it alone.

    The label is the name, with the municipality if the name does not say it.
    """

    label: str


class Stops(BaseModel):
    """Stops matching a search (similar names if none matches)."""

    stops: list[FoundStop]


class PersonFare(BaseModel):
    """What one person of the party pays, in cents."""

    model_config = ConfigDict(extra="forbid")

    category: str = Field(
        description="`full`, a reduction (`child`, `reduced`) or `deutschlandticket`"
    )
    fare_cents: int
    surcharge_cents: int = Field(description="the on-demand surcharge")
    total_cents: int


class Fare(BaseModel):
    """The fare of the party for this trip, from the service file's tariff (``[fares]``).

    Offers price everyone at the full fare; the reductions and the Deutschlandticket rule
    say what reduced riders and ticket holders pay instead.
    """

    model_config = ConfigDict(extra="forbid")

    currency: Literal["EUR"]
    total_cents: int = Field(description="what the whole party pays")
    mode: Literal["distance", "zones"] = Field(
        description="priced by distance band or by municipality"
    )
    level: Literal["band", "same_municipality", "between_municipalities"]
    up_to_km: float | None = Field(
        description="the distance band's upper end; null for zones or the open last band"
    )
    distance_km: float = Field(description="road distance between the stops")
    fare_cents: int = Field(description="the full fare of one person")
    surcharge_cents: int = Field(description="the on-demand surcharge of one person")
    people: list[PersonFare]
    reductions: dict[str, float] = Field(
        description="kind of reduced rider -> the share of the fare they pay"
    )
    deutschlandticket_valid: bool = Field(description="holders pay no fare")
    deutschlandticket_surcharge: bool = Field(
        description="holders still pay the surcharge (when the ticket is valid)"
    )


class Offer(BaseModel):
    """A bookable trip: the vehicle, the pickup window and the estimated times.

    The pickup window is the promise; ``estimated_arrival`` is an estimate of the arrival at
    the destination.
    """

    offer_id: str
    vehicle: str
    pickup_window: list[str] = Field(min_length=2, max_length=2)
    shift_min: int = Field(
        description="how many minutes this differs from the wish; negative is earlier, 0 as "
        "wished. Pickup at a time: the window's start minus the wished time. Arrive by a "
        "time: the latest arrival promised minus the wished one"
    )
    estimated_pickup: str = HHMM
    estimated_arrival: str = HHMM
    expires_at: str = Field(description="ISO 8601 time stamp")
    fare: Fare | None = Field(
        description="what the trip costs the party; null when the fare is to be confirmed"
    )
    fare_status: Literal["quoted", "to_be_confirmed"] = Field(
        description="`quoted`: `fare` holds the price. `to_be_confirmed`: no tariff is "
        "configured (or none for a trip this long); the rider asks the hotline"
    )


class Offers(BaseModel):
    """Offers (by pickup time, earliest first), or why there are none and times that work."""

    offers: list[Offer]
    reason: str | None = Field(
        None,
        description="why there is no offer: `horizon`, `outside_hours`, `lead_time`, "
        "`night_deadline`, `no_capacity`, `too_short`, `scheduled_line` or `fully_booked`",
    )
    reason_params: dict[str, Any] = Field(
        {},
        description='the values the reason names, e.g. `{"minutes": 60}` for `lead_time`, '
        '`{"first": "05:30", "last": "23:30"}` for `outside_hours`',
    )
    message: str | None = Field(
        None,
        description="the reason in words: in the language `Accept-Language` asks for "
        "(German or English), in English without that header",
    )
    alternatives: list[str] = []
    scheduled: list[dict[str, Any]] = Field(
        [], description="scheduled connections near the wish; with reason `scheduled_line` "
        "they replace the bus"
    )  # fmt: skip
    feeders: list[dict[str, Any]] = Field([], description="the bus to a hub, then a scheduled line")
    hotline: str | None = Field(
        None, description="the booking hotline (the service file's `phone`); null until known"
    )


class NamedStop(BaseModel):
    """A stop by id and name."""

    id: int
    name: str


class Wish(BaseModel):
    """What the rider asked for: pickup at or arrival by a time."""

    kind: Literal["pickup", "arrival"]
    time: str = HHMM


class Booking(BaseModel):
    """A booking; ``name``, ``phone`` and ``note`` are the rider's own data."""

    code: str
    status: Literal["confirmed", "cancelled", "no_show"]
    date: str
    origin: NamedStop
    destination: NamedStop
    passengers: int = Field(description="everyone who travels, wheelchair users included")
    wheelchairs: int = Field(description="how many of the passengers travel in a wheelchair")
    wish: Wish
    pickup_window: list[str] = Field(min_length=2, max_length=2)
    shift_min: int = Field(
        description="how many minutes this differs from the wish; negative is earlier, 0 as "
        "wished. Pickup at a time: the window's start minus the wished time. Arrive by a "
        "time: the latest arrival promised minus the wished one"
    )
    estimated_pickup: str = HHMM
    estimated_arrival: str = HHMM
    latest_arrival: str | None
    max_ride_min: float
    vehicle: str
    linked_code: str | None
    standing_id: int | None
    connection: dict[str, Any] | None
    name: str | None = None
    phone: str | None = None
    note: str | None = None


class Bookings(BaseModel):
    """The bookings one confirmation made (a return trip makes two)."""

    bookings: list[Booking]


class StandingDay(BaseModel):
    """One day of a standing booking: its booking, or why there is none."""

    date: str
    code: str | None = Field(None, description="the booking, if the day could be booked")
    reason: str | None = None
    message: str | None = None


class StandingResult(BaseModel):
    """A standing booking and what became of each of its days."""

    standing_id: int
    days: list[StandingDay]


class PlanStop(BaseModel):
    """One stop of a vehicle's day (:meth:`planner.booking.views.PlanStop.to_json`)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["pickup", "dropoff"]
    code: str
    rider: str
    phone: str
    note: str
    no_show_allowed: bool = Field(description="the pickup window has started")
    people: int = Field(description="everyone who boards or alights, wheelchair users included")
    wheelchairs: int
    stop: Stop
    arrival: str = HHMM
    service_start: str = HHMM
    departure: str = HHMM
    load: int = Field(description="people on board after the stop")
    window: list[str] = Field(min_length=2, max_length=2, description="the pickup window")
    connection: dict[str, Any] | None = Field(description="a feeder trip's connection")


class PlannedBreak(BaseModel):
    """A driver's break the plan places (:class:`planner.booking.views.BreakTime`)."""

    model_config = ConfigDict(extra="forbid")

    start: str = HHMM
    end: str = HHMM
    stop: Stop


class PlanVehicle(BaseModel):
    """One vehicle's day (:meth:`planner.booking.views.VehicleDay.to_json`)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    vehicle: str
    depart: str = HHMM
    return_: str = Field(alias="return", pattern=r"^[0-9]{2}:[0-9]{2}$")
    stops: list[PlanStop]
    breaks: list[PlannedBreak] = Field(description="the driver's breaks ([breaks])")


class DayPlan(BaseModel):
    """A day's plan per vehicle (:meth:`planner.booking.views.DayPlan.to_json`)."""

    model_config = ConfigDict(extra="forbid")

    date: str
    version: int = Field(description="the stored plan version; 0 before the first booking")
    vehicles: list[PlanVehicle]
    kpis: dict[str, Any]


class Done(BaseModel):
    """When each step of a task was reported done (``HH:MM``), or null."""

    model_config = ConfigDict(extra="forbid")

    arrived: str | None = HHMM
    departed: str | None = HHMM
    boarded: str | None = HHMM
    no_show: str | None = HHMM
    dropped_off: str | None = HHMM


class Task(PlanStop):
    """A stop of the vehicle's day and what the driver reported done there."""

    seq: int = Field(description="position in the vehicle's day, 0 first")
    done: Done


class VehicleTasks(BaseModel):
    """A vehicle's stops of a day in driving order (:mod:`planner.live.tasks`)."""

    model_config = ConfigDict(extra="forbid")

    vehicle: str
    day: str
    version: int = Field(description="the plan version the tasks come from")
    no_show_wait_min: int = Field(description="minutes after arriving before a no-show")
    tasks: list[Task]
    breaks: list[PlannedBreak] = Field(description="the driver's planned breaks")


class EventRejection(BaseModel):
    """An event a business rule refused; the others of its batch are taken."""

    client_id: str
    field: str = Field(description="e.g. `events[3].booking`")
    message: str


class EventAnswer(BaseModel):
    """What became of a batch: stored now, stored before (resent), refused."""

    accepted: list[str]
    duplicates: list[str]
    rejected: list[EventRejection]


Risk = Literal["late_pickup", "ride_promise", "late_dropoff", "out_of_service"]


class LiveStop(BaseModel):
    """A stop of a vehicle's day now: its promise, its estimate, what is at risk."""

    model_config = ConfigDict(extra="forbid")

    code: str
    kind: Literal["pickup", "dropoff"]
    stop: Stop
    window: list[str] = Field(min_length=2, max_length=2, description="the pickup window")
    estimate: str | None = Field(
        description="HH:MM when boarding or alighting starts (reported or estimated); null "
        "if the stop will not be served"
    )
    delay_min: int | None = Field(description="minutes later than the rider was told")
    risk: Risk | None = Field(description="the promise the estimate breaks, if any")


class LivePosition(BaseModel):
    """The vehicle's last position fix."""

    model_config = ConfigDict(extra="forbid")

    lat: float
    lon: float
    at: str = HHMM


class LiveVehicle(BaseModel):
    """One vehicle as it is happening (:func:`planner.live.monitor.live_json`)."""

    model_config = ConfigDict(extra="forbid")

    vehicle: str
    status: Literal["idle", "not_started", "on_route", "on_break", "out_of_service", "finished"]
    delay_min: int = Field(description="estimated delay at the next stop")
    position: LivePosition | None
    on_board: int = Field(description="bookings on board now")
    next: LiveStop | None
    out_of_service_since: str | None


class AtRisk(LiveStop):
    """A stop whose estimate breaks a promise, with the rider to call."""

    vehicle: str
    rider: str
    phone: str


class LiveDay(BaseModel):
    """The day as it is happening, at ``now``."""

    model_config = ConfigDict(extra="forbid")

    version: int
    now: str = Field(
        pattern=r"^[0-9]{2}:[0-9]{2}$",
        description="the clock, held to the day: 00:00 for a day ahead, 47:59 for one past",
    )
    vehicles: list[LiveVehicle]
    at_risk: list[AtRisk] = Field(description="earliest first")


class Moved(BaseModel):
    """A booking now on another vehicle, with its new estimated times."""

    model_config = ConfigDict(extra="forbid")

    code: str
    vehicle: str
    estimated_pickup: str = HHMM
    estimated_arrival: str = HHMM


class Stranded(BaseModel):
    """A booking no vehicle can take with its promises: call the rider."""

    model_config = ConfigDict(extra="forbid")

    code: str
    rider: str
    phone: str
    on_board: bool = Field(description="the rider sits in the vehicle out of service")
    alternatives: list[str] = Field(description="wish times (HH:MM) that would fit now")


class Disruption(BaseModel):
    """What taking a vehicle out of service did: bookings moved, riders to call."""

    model_config = ConfigDict(extra="forbid")

    vehicle: str
    since: str = HHMM
    moved: list[Moved]
    stranded: list[Stranded]


class HistoryEntry(BaseModel):
    """One change of a booking: when, by whom, the trip before and after (no rider data)."""

    model_config = ConfigDict(extra="forbid")

    at: str = Field(description="ISO 8601 time stamp")
    by: str = Field(description="the staff account that changed it")
    before: dict[str, Any] = Field(description="the booking as before, without name and phone")
    after: dict[str, Any] = Field(description="the booking as after, without name and phone")


class BookingHistory(BaseModel):
    """A booking's changes, oldest first."""

    model_config = ConfigDict(extra="forbid")

    changes: list[HistoryEntry]


class Report(BaseModel):
    """A dispatcher's report (KPIs, optimisation result)."""

    model_config = ConfigDict(extra="allow")


REQUESTS: tuple[type[BaseModel], ...] = (
    wire.TripWish,
    wire.Confirmation,
    wire.Standing,
    wire.OptimizeOptions,
    wire.BookingChange,
    wire.ChangeConfirmation,
    live_wire.EventBatch,
    live_wire.PositionBatch,
    live_wire.OutOfService,
    live_wire.MoveTo,
)
RESPONSES: tuple[type[BaseModel], ...] = (
    Error,
    Stops,
    Offers,
    Booking,
    Bookings,
    StandingResult,
    DayPlan,
    VehicleTasks,
    EventAnswer,
    LiveDay,
    Disruption,
    Moved,
    BookingHistory,
    Report,
)

_ERRORS = {
    400: "bad input",
    401: "not logged in",
    403: "wrong role",
    404: "not found",
    409: "conflict (expired, taken, already cancelled)",
    413: "body too large",
}


def _json(model: type[BaseModel]) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": REF.format(model=model.__name__)}}}


def _operation(
    summary: str,
    ok: tuple[int, str, type[BaseModel]],
    errors: tuple[int, ...],
    *,
    body: type[BaseModel] | None = None,
    body_required: bool = True,
    staff: bool = False,
    parameters: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    status, description, model = ok
    responses = {str(status): {"description": description, "content": _json(model)}}
    if staff:
        errors = (401, 403, *errors)
    for code in sorted(set(errors)):
        responses[str(code)] = {"description": _ERRORS[code], "content": _json(Error)}
    operation: dict[str, Any] = {"summary": summary, "responses": responses}
    if body is not None:
        operation["requestBody"] = {"required": body_required, "content": _json(body)}
        responses.setdefault("400", {"description": _ERRORS[400], "content": _json(Error)})
        responses.setdefault("413", {"description": _ERRORS[413], "content": _json(Error)})
    if parameters:
        operation["parameters"] = parameters
    if staff:
        operation["security"] = [{"basic": []}, {"session": []}]
    return operation


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF)
    return [
        {
            "name": name,
            "in": "query",
            "required": name in schema.get("required", ()),
            "schema": prop,
        }
        for name, prop in schema["properties"].items()
    ]


def _path_parameter(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


@cache
def openapi_spec() -> dict[str, Any]:
    """Return the API description as a dict (served as JSON)."""
    _, defs = models_json_schema(
        [(m, "validation") for m in REQUESTS] + [(m, "serialization") for m in RESPONSES],
        ref_template=REF,
    )
    day = [_path_parameter("day", wire.ServiceDay.json_schema())]
    code = [_path_parameter("code", {"type": "string"})]
    vehicle = [_path_parameter("vehicle_id", {"type": "string"})]
    day_query = {"name": "day", "in": "query", "required": False,
                 "schema": wire.ServiceDay.json_schema(),
                 "description": "the service day; today if left out"}  # fmt: skip
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Rufbus API",
            "version": "1",
            "description": "Book on-demand bus rides in the Salzlandkreis; dispatchers manage "
            "the day's plans. Times are local (Europe/Berlin), HH:MM. Refusals and errors carry "
            "a machine-readable code (`reason`, `error.code`) and a `message` for people, in "
            "German or English as the `Accept-Language` header asks (English without it).",
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
            "schemas": defs["$defs"],
        },
        "paths": {
            "/stops": {
                "get": _operation(
                    "Search bookable stops by name",
                    (200, "matching stops", Stops),
                    (400,),
                    parameters=_query_parameters(wire.StopQuery),
                )
            },
            "/offers": {
                "post": _operation(
                    "Ask for up to three offers for a trip",
                    (200, "offers, or the reason there are none and alternative times", Offers),
                    (400, 413),
                    body=wire.TripWish,
                )
            },
            "/bookings": {
                "post": _operation(
                    "Confirm an offer (and optionally a linked return offer)",
                    (201, "the confirmed bookings", Bookings),
                    (400, 404, 409, 413),
                    body=wire.Confirmation,
                )
            },
            "/bookings/{code}": {
                "parameters": code,
                "get": _operation(
                    "Look up a booking by its code", (200, "the booking", Booking), (404,)
                ),  # fmt: skip
                "delete": _operation(
                    "Cancel a booking", (200, "the cancelled booking", Booking), (404, 409)
                ),
            },
            "/bookings/{code}/no-show": {
                "parameters": code,
                "post": _operation(
                    "Mark a no-show (dispatcher)",
                    (200, "the booking", Booking),
                    (404, 409),
                    staff=True,
                ),
            },
            "/bookings/{code}/move": {
                "parameters": code,
                "post": _operation(
                    "Move a booking to another vehicle if every promise still holds (dispatcher)",
                    (200, "the booking's new vehicle and times", Moved),
                    (404, 409),
                    staff=True,
                    body=live_wire.MoveTo,
                ),
            },
            "/bookings/{code}/change": {
                "parameters": code,
                "post": _operation(
                    "Offers for a booking with another time, other stops or another party; "
                    "fields left out stay as booked. The day is planned without the booking, "
                    "with every rule and promise of a new offer (dispatcher)",
                    (200, "offers, or the reason there are none and alternative times", Offers),
                    (404, 409),
                    staff=True,
                    body=wire.BookingChange,
                ),
            },
            "/bookings/{code}/change/confirm": {
                "parameters": code,
                "post": _operation(
                    "Take a change offer: the booking becomes its trip and keeps its code; "
                    "if the offer no longer fits, nothing changes (dispatcher)",
                    (200, "the changed booking", Booking),
                    (404, 409),
                    staff=True,
                    body=wire.ChangeConfirmation,
                ),
            },
            "/bookings/{code}/changes": {
                "parameters": code,
                "get": _operation(
                    "A booking's changes, oldest first (dispatcher)",
                    (200, "the history", BookingHistory),
                    (404,),
                    staff=True,
                ),
            },
            "/plans/{day}": {
                "parameters": day,
                "get": _operation(
                    "The day's plan per vehicle (dispatcher)",
                    (200, "the plan", DayPlan),
                    (400,),
                    staff=True,
                ),
            },
            "/plans/{day}/optimize": {
                "parameters": day,
                "post": _operation(
                    "Re-optimise the day, keeping every promise (dispatcher). Without "
                    "`preview` a valid plan that costs less is stored at once; with it nothing "
                    "is stored: the answer carries `proposal`, `version` and `changes` (riders "
                    "whose estimated pickup moves) unless the plan would break a promise",
                    (200, "before/after KPIs and whether it was stored or proposed", Report),
                    (400,),
                    staff=True,
                    body=wire.OptimizeOptions,
                    body_required=False,
                ),
            },
            "/plans/{day}/proposals/{proposal}": {
                "parameters": day + [_path_parameter("proposal", {"type": "string"})],
                "post": _operation(
                    "Accept a previewed plan: stored only if the day is still at the version "
                    "it was solved from (`code` `stored`), else `changed_meanwhile` (dispatcher)",
                    (200, "whether it was stored", Report),
                    (400, 404),
                    staff=True,
                ),
                "delete": _operation(
                    "Discard a previewed plan (dispatcher)",
                    (200, "the discarded proposal's report", Report),
                    (400, 404),
                    staff=True,
                ),
            },
            "/plans/{day}/vehicles/{vehicle_id}/out-of-service": {
                "parameters": day + vehicle,
                "post": _operation(
                    "Take a vehicle out of service from a time (default now): its bookings "
                    "move where every promise holds, the rest are listed (dispatcher)",
                    (200, "the bookings moved and the riders to call", Disruption),
                    (400, 404),
                    staff=True,
                    body=live_wire.OutOfService,
                    body_required=False,
                ),
            },
            "/live/{day}": {
                "parameters": day,
                "get": _operation(
                    "The day as it is happening: vehicles, delays, positions, bookings at "
                    "risk (dispatcher)",
                    (200, "the live day", LiveDay),
                    (400,),
                    staff=True,
                ),
            },
            "/kpis/{day}": {
                "parameters": day,
                "get": _operation(
                    "The day's KPIs (dispatcher)", (200, "KPIs", Report), (400,), staff=True
                ),
            },
            "/vehicles/{vehicle_id}/tasks": {
                "parameters": vehicle,
                "get": _operation(
                    "A vehicle's stops of a day with what is done (driver, dispatcher)",
                    (200, "the tasks", VehicleTasks),
                    (400, 404),
                    staff=True,
                    parameters=[day_query],
                ),
            },
            "/vehicles/{vehicle_id}/events": {
                "parameters": vehicle,
                "post": _operation(
                    "Report a batch of events, at most 500, idempotent by client_id; stored "
                    "before the answer (driver, dispatcher)",
                    (200, "accepted, duplicate and refused client ids", EventAnswer),
                    (400, 404),
                    staff=True,
                    body=live_wire.EventBatch,
                ),
            },
            "/vehicles/{vehicle_id}/positions": {
                "parameters": vehicle,
                "post": _operation(
                    "Report a batch of position fixes, at most 500, idempotent by client_id "
                    "(driver, dispatcher)",
                    (200, "accepted, duplicate and refused client ids", EventAnswer),
                    (400, 404),
                    staff=True,
                    body=live_wire.PositionBatch,
                ),
            },
            "/standing": {
                "post": _operation(
                    "Create a standing booking (dispatcher)",
                    (201, "the booked days", StandingResult),
                    (400,),
                    staff=True,
                    body=wire.Standing,
                ),
            },
        },
    }
