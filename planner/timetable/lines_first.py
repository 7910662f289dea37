"""Scheduled lines first: the rule that decides whether a line replaces the on-demand bus.

The MDV Rufbus rule: when a scheduled connection (direct or with one transfer) leaves within
15 minutes before to 45 minutes after the wished pickup, the rider is offered that connection
and not the bus. Where no line runs near the wish, the bus is offered, and where useful a
combination: the bus to a hub stop, then a line (a *feeder* trip, whose arrival deadline is
the line's departure minus a transfer buffer).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from planner.errors import BookingError
from planner.service import TimetableRule
from planner.timefmt import hhmm
from planner.timetable.connections import (
    MAX_TRANSFER_WAIT_S,
    Boarding,
    Connection,
    find_connections,
    towards,
)
from routing.timetable import Timetable

#: At most this many scheduled connections and feeder combinations are shown.
MAX_SHOWN = 3

#: A feeder combination is useful only if the bus part takes at most this share of the
#: direct bus trip (otherwise the bus might as well go all the way).
MAX_FEEDER_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class Feeder:
    """A scheduled departure that a feeder trip must reach: line ``line`` at ``stop``."""

    stop: int
    line: str
    departure_s: int

    def __post_init__(self) -> None:
        if not self.line.strip():
            raise BookingError("connection.line", "is required")
        if not 0 <= self.departure_s < 2 * 24 * 3600:
            raise BookingError("connection.departure", "is not a time of the service day")

    def to_json(self, name: str) -> dict[str, Any]:
        """The connection as the API shows it; ``name`` is the stop's name."""
        return {
            "stop": {"id": self.stop, "name": name},
            "line": self.line,
            "departure": hhmm(self.departure_s),
        }


@dataclass(frozen=True, slots=True)
class FeederOption:
    """A combination: the bus from the origin to ``hub``, then a scheduled trip."""

    hub: int
    bus_s: float
    line: str
    departure_s: int
    arrival_s: int
    transfer_buffer_s: int

    def to_json(self, names: Mapping[int, str]) -> dict[str, Any]:
        """The combination as the API shows it; ``names`` maps nodes to stop names."""
        return {
            "hub": {"id": self.hub, "name": names.get(self.hub, str(self.hub))},
            "line": self.line,
            "departure": hhmm(self.departure_s),
            "arrival": hhmm(self.arrival_s),
            "bus_minutes": round(self.bus_s / 60),
            "arrive_by": hhmm(self.departure_s - self.transfer_buffer_s),
        }


@dataclass(frozen=True, slots=True)
class ScheduledCheck:
    """What the timetable says about one wish."""

    connections: tuple[Connection, ...]
    replaces_bus: bool
    feeders: tuple[FeederOption, ...] = ()


def check_scheduled(
    tt: Timetable,
    origin: int,
    destination: int,
    *,
    kind: Literal["pickup", "arrival"],
    time_s: int,
    rule: TimetableRule,
    ride_promise_s: float,
    not_before_s: float = 0.0,
    bus_s: Mapping[int, float] | None = None,
    boarding_s: float = 0.0,
) -> ScheduledCheck:
    """Apply the scheduled-lines-first rule to a wish.

    Parameters
    ----------
    tt
        The day's timetable.
    origin, destination
        Stop place nodes.
    kind, time_s
        Pickup-at or arrive-by, and the wished time (s after midnight).
    rule
        The service's timetable rule.
    ride_promise_s
        The bus's maximum ride time for this trip; a connection counts only if it takes at
        most ``rule.max_duration_factor`` times this.
    not_before_s
        Now (s after midnight of the day): connections leaving earlier are gone.
    bus_s
        Bus driving time from the origin to each bookable stop; when given and no line
        replaces the bus, feeder combinations to hubs are searched.
    boarding_s
        Time for boarding and alighting of the bus.

    Returns
    -------
    check
        The connections in the rule's window (they replace the bus when there is one) and
        feeder combinations.
    """
    max_duration = rule.max_duration_factor * ride_promise_s
    boardings = towards(tt, destination)
    if kind == "pickup":
        lo, hi = time_s - rule.before_s, time_s + rule.after_s
    else:
        lo, hi = time_s - rule.after_s - int(max_duration), time_s
    found = find_connections(
        tt,
        origin,
        destination,
        depart_from_s=int(max(lo, not_before_s)),
        depart_until_s=int(hi),
        min_transfer_s=rule.min_transfer_s,
        boardings=boardings,
    )
    ok = [
        c
        for c in found
        if c.duration_s <= max_duration
        and (kind == "pickup" or time_s - rule.after_s <= c.arrival_s <= time_s)
    ]
    ok.sort(key=lambda c: (abs(_wish_time(c, kind) - time_s), c.num_transfers))
    connections = tuple(ok[:MAX_SHOWN])
    feeders: tuple[FeederOption, ...] = ()
    if not connections and bus_s is not None:
        feeders = _feeders(
            tt, origin, destination, boardings, kind=kind, time_s=time_s, rule=rule,
            bus_s=bus_s, boarding_s=boarding_s, not_before_s=not_before_s,
        )  # fmt: skip
    return ScheduledCheck(connections, bool(connections), feeders)


def _wish_time(c: Connection, kind: str) -> int:
    return c.departure_s if kind == "pickup" else c.arrival_s


def _feeders(
    tt: Timetable,
    origin: int,
    destination: int,
    boardings: dict[int, list[Boarding]],
    *,
    kind: str,
    time_s: int,
    rule: TimetableRule,
    bus_s: Mapping[int, float],
    boarding_s: float,
    not_before_s: float,
) -> tuple[FeederOption, ...]:
    direct = bus_s.get(destination)
    if not direct:
        return ()
    near_origin = {n for n, _ in tt.near(origin)}
    options: list[FeederOption] = []
    for hub, events in boardings.items():
        drive = bus_s.get(hub)
        if drive is None or hub in near_origin or drive > MAX_FEEDER_SHARE * direct:
            continue
        lead = drive + 2 * boarding_s + rule.transfer_buffer_s
        if kind == "pickup":
            ready = time_s + lead
            usable = [b for b in events if ready <= b.departure_s <= ready + MAX_TRANSFER_WAIT_S]
            pick = min(usable, key=lambda b: (b.arrival_s, -b.departure_s), default=None)
        else:
            usable = [
                b
                for b in events
                if time_s - rule.after_s <= b.arrival_s <= time_s
                and b.departure_s - lead >= not_before_s
            ]
            pick = max(usable, key=lambda b: (b.departure_s, -b.arrival_s), default=None)
        if pick is not None:
            trip = tt.trips[pick.trip]
            options.append(
                FeederOption(
                    hub, drive, trip.line, pick.departure_s, pick.arrival_s, rule.transfer_buffer_s
                )
            )
    if kind == "pickup":
        options.sort(key=lambda o: (o.arrival_s, o.bus_s))
    else:
        options.sort(key=lambda o: (-o.departure_s, o.bus_s))
    return tuple(options[:MAX_SHOWN])


def departs(tt: Timetable, feeder: Feeder) -> bool:
    """Whether a trip of ``feeder.line`` leaves ``feeder.stop`` at ``feeder.departure_s``.

    Compared to the minute.
    """
    minute = feeder.departure_s - feeder.departure_s % 60
    return any(
        tt.trips[t].line == feeder.line
        for _, t, _ in tt.departures_between(feeder.stop, minute, minute + 59)
    )
