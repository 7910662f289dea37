"""The wire format of what vehicles send: event batches and position batches.

Pydantic models that are both the input check and the OpenAPI document (``web/openapi.py``),
as :mod:`planner.booking.wire` is for bookings. A batch that fails them is refused whole
(400 naming ``events[3].kind``); the business rules come after (:mod:`planner.live.intake`).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from planner.booking.wire import Clock
from planner.live.events import BOOKING_KINDS, STOP_KINDS, EventKind, VehicleEvent
from planner.service_time import service_seconds

#: The most events (or positions) one request may carry.
MAX_BATCH = 500
#: ISO 8601 with an offset, years 2000 to 2100 (so that date arithmetic never overflows).
INSTANT_PATTERN = (
    r"^(20[0-9]{2}|2100)-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})$"
)


def _instant(value: Any) -> datetime:
    if not isinstance(value, str) or not re.fullmatch(INSTANT_PATTERN, value):
        raise PydanticCustomError("instant", "expected ISO 8601 with an offset, e.g. "
                                  "2026-12-02T08:15:00+01:00")  # fmt: skip
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("instant", f"{value!r} is not a time") from None


#: An instant, ISO 8601 with its UTC offset (``2026-12-02T08:15:00+01:00``).
Instant = Annotated[
    datetime,
    PlainValidator(_instant),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": INSTANT_PATTERN,
            "description": "ISO 8601 with offset, e.g. 2026-12-02T08:15:00+01:00",
        }
    ),
]
BookingCode = Annotated[str, Field(min_length=1, max_length=16, pattern=r"^\S+$")]
ClientId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^\S+$")]
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
Accuracy = Annotated[float, Field(ge=0, le=100_000, allow_inf_nan=False, description="metres")]


class EventIn(BaseModel):
    """One event as the device sends it."""

    model_config = ConfigDict(extra="forbid")

    client_id: ClientId = Field(description="the device's id of the event; resending is safe")
    kind: EventKind = Field(description="what happened")
    at: Instant
    booking: BookingCode | None = Field(
        None, description="the booking code (boarded, no_show, dropped_off)"
    )
    stop: int | None = Field(
        None, ge=0, le=2**62, description="the stop's id as in the tasks (arrived, departed)"
    )
    lat: Latitude | None = None
    lon: Longitude | None = None
    accuracy_m: Accuracy | None = None
    minutes: int | None = Field(
        None, ge=0, le=24 * 60, description="delay: minutes the vehicle is held up from `at`"
    )

    @model_validator(mode="after")
    def _complete(self) -> EventIn:
        if self.kind in BOOKING_KINDS and self.booking is None:
            raise PydanticCustomError("missing", "is required", {"field": "booking"})
        if self.kind in STOP_KINDS and self.stop is None:
            raise PydanticCustomError("missing", "is required", {"field": "stop"})
        if self.kind == "delay" and self.minutes is None:
            raise PydanticCustomError("missing", "is required", {"field": "minutes"})
        if (self.lat is None) != (self.lon is None) or self.kind == "position" and self.lat is None:
            missing = "lon" if self.lon is None else "lat"
            raise PydanticCustomError("missing", "is required", {"field": missing})
        return self

    def event(self, vehicle_id: str, tz: ZoneInfo) -> VehicleEvent:
        """The event of ``vehicle_id``, on the service day of its local date in ``tz``."""
        day: date = self.at.astimezone(tz).date()
        return VehicleEvent(
            client_id=self.client_id,
            vehicle_id=vehicle_id,
            day=day,
            kind=self.kind,
            at_s=service_seconds(self.at, day, tz),
            booking=self.booking,
            stop_node=self.stop,
            lat=self.lat,
            lon=self.lon,
            accuracy_m=self.accuracy_m,
            minutes=self.minutes,
        )


class EventBatch(BaseModel):
    """Events of one vehicle, oldest first, as the device queued them."""

    model_config = ConfigDict(extra="forbid")

    events: list[EventIn] = Field(max_length=MAX_BATCH)


class PositionIn(BaseModel):
    """One position fix of the device."""

    model_config = ConfigDict(extra="forbid")

    client_id: ClientId
    at: Instant
    lat: Latitude
    lon: Longitude
    accuracy_m: Accuracy | None = None

    def as_event(self) -> EventIn:
        """The fix as an event of kind ``position``."""
        return EventIn.model_construct(
            client_id=self.client_id, kind="position", at=self.at, booking=None, stop=None,
            lat=self.lat, lon=self.lon, accuracy_m=self.accuracy_m, minutes=None,
        )  # fmt: skip


class PositionBatch(BaseModel):
    """Position fixes of one vehicle, oldest first."""

    model_config = ConfigDict(extra="forbid")

    positions: list[PositionIn] = Field(max_length=MAX_BATCH)


VehicleId = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^\S+$")]


class OutOfService(BaseModel):
    """A dispatcher takes a vehicle out of service (a breakdown, a sick driver)."""

    model_config = ConfigDict(extra="forbid")

    since: Clock | None = Field(
        None, alias="from", description="HH:MM of the day from when; now if left out"
    )


class MoveTo(BaseModel):
    """A dispatcher moves a booking to another vehicle."""

    model_config = ConfigDict(extra="forbid")

    vehicle: VehicleId = Field(description="the fleet's vehicle id, e.g. BBG-2")
