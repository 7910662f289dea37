"""What a rider asks for, checked and turned into the engine's :class:`TripRequest`.

That is the trip (from, to, day, time, party, connection) and the rider's contact.

The wire format is checked by the pydantic models of :mod:`planner.booking.wire`; what needs
the stop catalogue or the service (stop names, party size limit, origin and destination
differ) is checked here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from planner.booking import wire
from planner.errors import BookingError
from planner.service import Service
from planner.stops import StopCatalog
from planner.timetable.lines_first import Feeder

WishKind = Literal["pickup", "arrival"]


@dataclass(frozen=True, slots=True)
class TripRequest:
    """What a rider asks for: from, to, day, a pickup or arrival time, party size, connection.

    The connection is the scheduled departure a feeder trip must reach (then ``kind`` is
    ``arrival``).

    The party is counted as the vehicle holds it, as in :class:`planner.darp.model.Request`:
    ``passengers`` on seats and ``wheelchairs`` in wheelchair places. Riders and the API
    count everyone as passengers and say how many of them use a wheelchair
    (:class:`planner.booking.wire.TripWish`); :func:`trip_request` and :func:`booking_json` convert.
    """

    day: date
    origin: int
    destination: int
    kind: WishKind
    time_s: int
    passengers: int = 1
    wheelchairs: int = 0
    connection: Feeder | None = None


def parse_trip_request(payload: Any, catalog: StopCatalog, service: Service) -> TripRequest:
    """Check an offer request and turn it into a :class:`TripRequest`.

    The request is parsed JSON, in the shape of :class:`~planner.booking.wire.TripWish`.

    Raises
    ------
    BookingError
        Naming the first bad field and the reason.
    """
    return trip_request(wire.validate(wire.TripWish, payload), catalog, service)


def trip_request(wish: wire.TripWish, catalog: StopCatalog, service: Service) -> TripRequest:
    """Resolve a checked trip wish's stops and apply the service's rules to it.

    A feeder trip (``connection`` given) goes to the connection's stop (``destination``
    may only repeat it) and must arrive by the departure minus the transfer buffer.

    Raises
    ------
    BookingError
        If a stop is unknown or not bookable, origin and destination are the same stop, or
        the party is larger than the service takes.
    """
    feeder = None
    kind, time_s = wish.kind or "pickup", wish.time
    if wish.connection is not None:
        stop = catalog.resolve(wish.connection.stop, field="connection.stop")
        feeder = Feeder(stop, wish.connection.line, wish.connection.departure)
        kind, time_s = "arrival", feeder.departure_s - service.timetable.transfer_buffer_s
        if time_s < 0:
            raise BookingError(
                "connection.departure", "leaves too early to be reached", code="unreachable"
            )
        if wish.destination is not None and _stop(wish.destination, catalog, "destination") != stop:
            msg = "a feeder trip goes to the connection's stop"
            raise BookingError("destination", msg, code="feeder_destination")
    if wish.passengers > service.max_passengers:
        msg = f"at most {service.max_passengers} people per booking; call the dispatcher"
        raise BookingError(
            "passengers", msg, code="too_many_people", params={"max": service.max_passengers}
        )
    origin = _stop(wish.origin, catalog, "origin")
    destination = feeder.stop if feeder else _stop(wish.destination, catalog, "destination")
    if origin == destination:
        raise BookingError("destination", "is the same stop as the origin", code="same_stop")
    assert time_s is not None  # the wish names a time or a connection
    return TripRequest(
        wish.date,
        origin,
        destination,
        kind,
        time_s,
        passengers=wish.seated,
        wheelchairs=wish.wheelchairs,
        connection=feeder,
    )


def _stop(value: int | str | wire.Point | None, catalog: StopCatalog, field: str) -> int:
    if isinstance(value, wire.Point):
        return catalog.resolve(value.model_dump(), field=field)
    return catalog.resolve(value, field=field)


def check_contact(name: str, phone: str, note: str = "") -> tuple[str, str, str]:
    """Check and trim the rider's name, phone number and note.

    The rules are those of :class:`~planner.booking.wire.Contact`.

    Raises
    ------
    BookingError
        Naming the bad field.
    """
    contact = wire.validate(
        wire.Contact, {"name": name or "", "phone": phone or "", "note": note or ""}
    )
    return contact.name, contact.phone, contact.note
