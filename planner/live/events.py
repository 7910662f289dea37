"""What a vehicle reports: the driver's events and the device's positions.

Events are append-only facts. Each carries the ``client_id`` the device gave it, so that an
event sent twice (a dead spot, a retry) is stored once. Times are seconds of the service
day (:mod:`planner.service_time`); they become clock text only at an edge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal, get_args

EventKind = Literal[
    "shift_start",  # the driver takes the vehicle
    "shift_end",
    "arrived",  # at a stop of the plan (``stop_node``)
    "departed",
    "boarded",  # a booking's party got on (``booking``)
    "no_show",  # a booking's party did not turn up
    "dropped_off",  # a booking's party got off
    "break_start",
    "break_end",
    "delay",  # held up: the bus cannot drive on for ``minutes``
    "breakdown",  # the vehicle is out of service from ``at_s``
    "position",  # a fix from the device (``lat``, ``lon``, ``accuracy_m``)
]

#: every kind of event, in the order above
EVENT_KINDS: tuple[str, ...] = get_args(EventKind)

#: kinds that name a booking
BOOKING_KINDS = frozenset({"boarded", "no_show", "dropped_off"})

#: kinds that name a stop of the plan
STOP_KINDS = frozenset({"arrived", "departed"})


@dataclass(frozen=True, slots=True)
class VehicleEvent:
    """One fact reported by a vehicle.

    Attributes
    ----------
    client_id
        The device's id of the event; (vehicle_id, client_id) is unique.
    vehicle_id
        The fleet's vehicle id (``BBG-1``).
    day
        The service day the event belongs to.
    kind
        One of :data:`EVENT_KINDS`.
    at_s
        When it happened, in seconds of the service day (the device's clock).
    booking
        The booking code, for :data:`BOOKING_KINDS`.
    stop_node
        The stop's node, for :data:`STOP_KINDS` (and optionally the others).
    lat, lon, accuracy_m
        Where, if the device knew (always for ``position``).
    minutes
        For ``delay``: how many minutes from ``at_s`` the bus is held up.
    """

    client_id: str
    vehicle_id: str
    day: date
    kind: EventKind
    at_s: float
    booking: str | None = None
    stop_node: int | None = None
    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None
    minutes: int | None = None
