"""Scheduled connections between two stop places: direct trips and trips with one transfer.

A pure search over a :class:`routing.timetable.Timetable`. Riders may walk from the origin
to a stop within the walking radius, between the two trips of a transfer, and from the last
stop to the destination. Times are seconds from the start of the service day.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

from planner.timefmt import hhmm
from routing.timetable import Timetable

#: Shortest time to change between two trips at one stop place, on top of any walking.
MIN_TRANSFER_S = 2 * 60

#: Longest wait at a transfer: a connection that waits longer is not one riders would take.
MAX_TRANSFER_WAIT_S = 30 * 60


@dataclass(frozen=True, slots=True)
class Leg:
    """One ride on a scheduled trip, from boarding to alighting."""

    line: str
    headsign: str
    trip_id: str
    board: int
    departure_s: int
    alight: int
    arrival_s: int

    def __post_init__(self) -> None:
        if self.arrival_s < self.departure_s:
            raise ValueError(f"arrival_s: {self.arrival_s} is before departure_s")


@dataclass(frozen=True, slots=True)
class Connection:
    """A scheduled connection: one or two legs plus walking at the ends (and between)."""

    legs: tuple[Leg, ...]
    walk_start_s: int = 0
    walk_end_s: int = 0

    def __post_init__(self) -> None:
        if not 1 <= len(self.legs) <= 2:
            raise ValueError(f"legs: one or two legs, got {len(self.legs)}")

    @property
    def departure_s(self) -> int:
        """When the rider leaves the origin (walking included)."""
        return self.legs[0].departure_s - self.walk_start_s

    @property
    def arrival_s(self) -> int:
        """When the rider reaches the destination (walking included)."""
        return self.legs[-1].arrival_s + self.walk_end_s

    @property
    def num_transfers(self) -> int:
        """How often the rider changes vehicles."""
        return len(self.legs) - 1

    @property
    def duration_s(self) -> int:
        """From leaving the origin to reaching the destination, walking included."""
        return self.arrival_s - self.departure_s

    def to_json(self, names: dict[int, str]) -> dict[str, Any]:
        """The connection as the API shows it (``names``: node -> stop name)."""
        return {
            "lines": [leg.line for leg in self.legs],
            "departure": hhmm(self.legs[0].departure_s),
            "arrival": hhmm(self.legs[-1].arrival_s),
            "transfers": self.num_transfers,
            "walk_start_min": round(self.walk_start_s / 60),
            "walk_end_min": round(self.walk_end_s / 60),
            "legs": [
                {
                    "line": leg.line,
                    "headsign": leg.headsign,
                    "from": {"id": leg.board, "name": names.get(leg.board, str(leg.board))},
                    "departure": hhmm(leg.departure_s),
                    "to": {"id": leg.alight, "name": names.get(leg.alight, str(leg.alight))},
                    "arrival": hhmm(leg.arrival_s),
                }
                for leg in self.legs
            ],
        }


@dataclass(frozen=True, slots=True)
class Boarding:
    """Where and when a trip towards the destination can be boarded, and when it gets there."""

    departure_s: int
    trip: int
    position: int
    node: int
    arrival_s: int
    alight_position: int
    walk_end_s: int


def towards(tt: Timetable, destination: int) -> dict[int, list[Boarding]]:
    """Every boarding event from which a trip reaches ``destination``, by node.

    Reaching a stop within walking distance of it counts. Sorted by departure; each with
    the earliest arrival at the destination (walking included).

    Parameters
    ----------
    tt
        The day's timetable.
    destination
        Stop place node.

    Returns
    -------
    boardings
        Node -> boardings sorted by departure.
    """
    # per trip: positions where riders may alight near the destination
    reach: dict[int, list[tuple[int, int, int]]] = {}
    for node, walk in tt.near(destination):
        for arrival, t, pos in tt.arrivals.get(node, ()):
            reach.setdefault(t, []).append((pos, arrival + walk, walk))
    out: dict[int, list[Boarding]] = {}
    for t, ends in reach.items():
        trip = tt.trips[t]
        # best arrival for boarding at each position: the earliest among the later ends
        best: tuple[int, int, int] | None = None
        ends.sort()
        k = len(ends) - 1
        for pos in range(len(trip.nodes) - 1, -1, -1):
            while k >= 0 and ends[k][0] > pos:
                if best is None or ends[k][1] <= best[1]:
                    best = ends[k]
                k -= 1
            if best is not None and trip.can_board[pos] and trip.nodes[pos] != destination:
                alight, arrival, walk = best
                out.setdefault(trip.nodes[pos], []).append(
                    Boarding(trip.departure_s[pos], t, pos, trip.nodes[pos], arrival, alight, walk)
                )
    for boardings in out.values():
        boardings.sort(key=lambda b: (b.departure_s, b.arrival_s))
    return out


def _leg(tt: Timetable, t: int, board: int, alight: int) -> Leg:
    trip = tt.trips[t]
    return Leg(
        trip.line,
        trip.headsign,
        trip.trip_id,
        trip.nodes[board],
        trip.departure_s[board],
        trip.nodes[alight],
        trip.arrival_s[alight],
    )


class _Reachable:
    """Boardings of one node with a suffix minimum of arrival.

    It answers 'catch the best trip departing at or after a time' in O(log n).
    """

    def __init__(self, boardings: list[Boarding]) -> None:
        self.times = [b.departure_s for b in boardings]
        self.best: list[Boarding] = list(boardings)
        for k in range(len(boardings) - 2, -1, -1):
            if self.best[k + 1].arrival_s < self.best[k].arrival_s:
                self.best[k] = self.best[k + 1]

    def after(self, time_s: int) -> Boarding | None:
        k = bisect.bisect_left(self.times, time_s)
        return self.best[k] if k < len(self.best) else None


def find_connections(
    tt: Timetable,
    origin: int,
    destination: int,
    *,
    depart_from_s: int,
    depart_until_s: int,
    min_transfer_s: int = MIN_TRANSFER_S,
    max_wait_s: int = MAX_TRANSFER_WAIT_S,
    max_transfers: int = 1,
    boardings: dict[int, list[Boarding]] | None = None,
) -> list[Connection]:
    """Scheduled connections leaving ``origin`` in a time window, fastest first.

    For each boarding near the origin in the window, the earliest arrival at the
    destination is found, directly or with one transfer (walking between stops within the
    timetable's walking radius, at least ``min_transfer_s`` to change). Connections that
    another leaves no earlier and arrives no later with no more transfers are dropped.

    Parameters
    ----------
    tt
        The day's timetable.
    origin, destination
        Stop place nodes.
    depart_from_s, depart_until_s
        The rider leaves the origin (walking included) in this window.
    min_transfer_s
        Time to change trips, on top of walking.
    max_wait_s
        Longest wait at the transfer stop (after walking and ``min_transfer_s``).
    max_transfers
        0 or 1.
    boardings
        ``towards(tt, destination)`` if already computed.

    Returns
    -------
    connections
        Sorted by arrival, then departure (latest first), then transfers.
    """
    if max_transfers not in (0, 1):
        raise ValueError(f"max_transfers: must be 0 or 1, got {max_transfers}")
    if origin == destination:
        return []
    boardings = towards(tt, destination) if boardings is None else boardings
    by_event = {(b.trip, b.position): b for bs in boardings.values() for b in bs}
    reachable: dict[int, _Reachable] = {}
    found: list[Connection] = []
    start = tt.near(origin)
    at_start = {node for node, _ in start}  # changing there means the first leg was useless
    for node, walk in start:
        for _, t, pos in tt.departures_between(node, depart_from_s + walk, depart_until_s + walk):
            trip = tt.trips[t]
            direct = by_event.get((t, pos))
            if direct is not None:
                leg = _leg(tt, t, pos, direct.alight_position)
                found.append(Connection((leg,), walk, direct.walk_end_s))
            if max_transfers == 0:
                continue
            best: tuple[int, int, Boarding] | None = None  # (arrival, alight position, next)
            for alight in range(pos + 1, len(trip.nodes)):
                if not trip.can_alight[alight]:
                    continue
                for q, walk_q in tt.near(trip.nodes[alight]):
                    if q not in boardings or q in at_start:
                        continue
                    if q not in reachable:
                        reachable[q] = _Reachable(boardings[q])
                    ready = trip.arrival_s[alight] + walk_q + min_transfer_s
                    nxt = reachable[q].after(ready)
                    if nxt is None or nxt.trip == t or nxt.departure_s - ready > max_wait_s:
                        continue
                    if best is None or nxt.arrival_s < best[0]:
                        best = (nxt.arrival_s, alight, nxt)
            if best is not None:
                _, alight, nxt = best
                legs = (
                    _leg(tt, t, pos, alight),
                    _leg(tt, nxt.trip, nxt.position, nxt.alight_position),
                )
                found.append(Connection(legs, walk, nxt.walk_end_s))
    return _pareto(found)


def _pareto(connections: list[Connection]) -> list[Connection]:
    ordered = sorted(set(connections), key=lambda c: (c.arrival_s, -c.departure_s, c.num_transfers))
    kept: list[Connection] = []
    for c in ordered:
        dominated = any(
            k.departure_s >= c.departure_s
            and k.arrival_s <= c.arrival_s
            and k.num_transfers <= c.num_transfers
            for k in kept
        )
        if not dominated:
            kept.append(c)
    return kept
