"""The solver's answer: routes with timed visits, and rejected requests with reasons."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from planner.darp.model import Instance
from planner.errors import InvalidPlanError

StopKind = Literal["pickup", "dropoff"]


@dataclass(frozen=True, slots=True)
class Visit:
    """One stop of a route: a pickup or drop-off with its schedule and the load after it.

    ``arrival`` is when the bus gets there, ``service_start`` when boarding or alighting
    starts (after any waiting) and ``departure`` when it leaves. The loads are on board
    after the stop.
    """

    request_id: str
    kind: StopKind
    location: int
    arrival: float
    service_start: float
    departure: float
    passengers_on_board: int
    wheelchairs_on_board: int

    def __post_init__(self) -> None:
        if self.kind not in ("pickup", "dropoff"):
            raise InvalidPlanError("kind", f"must be 'pickup' or 'dropoff', got {self.kind!r}")


@dataclass(frozen=True, slots=True)
class Route:
    """The plan of one vehicle: depot departure, visits in order, depot return."""

    vehicle_id: str
    departure: float
    visits: tuple[Visit, ...]
    arrival: float

    @property
    def duration(self) -> float:
        """Return to the end depot minus departure from the start depot."""
        return self.arrival - self.departure

    def locations(self, instance: Instance) -> list[int]:
        """Return the driven location sequence, depots included."""
        vehicle = next(v for v in instance.vehicles if v.id == self.vehicle_id)
        return [vehicle.start_depot, *(v.location for v in self.visits), vehicle.end_depot]


@dataclass(frozen=True, slots=True)
class Rejection:
    """A request the plan does not serve, and why."""

    request_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Plan:
    """Routes for the vehicles that drive and the requests that are not served.

    Vehicles without visits have no route. ``distance`` and ``travel_time`` are the totals
    over all driven arcs as computed by whoever built the plan; the validator recomputes them.
    """

    routes: tuple[Route, ...]
    rejected: tuple[Rejection, ...] = ()
    distance: float = 0.0
    travel_time: float = 0.0

    @property
    def num_served(self) -> int:
        """Number of requests served."""
        return sum(v.kind == "pickup" for r in self.routes for v in r.visits)

    @property
    def num_vehicles_used(self) -> int:
        """Number of routes with at least one visit."""
        return sum(bool(r.visits) for r in self.routes)

    def cost(self) -> float:
        """Return the total distance driven (the benchmarks' cost)."""
        return self.distance

    def summary(self) -> str:
        """Return a short human-readable summary."""
        lines = [
            f"{self.num_served} requests served, {len(self.rejected)} rejected, "
            f"{self.num_vehicles_used} vehicles, distance {self.distance:.2f}, "
            f"travel time {self.travel_time:.2f}"
        ]
        for route in self.routes:
            stops = " ".join(f"{v.kind[0]}{v.request_id}" for v in route.visits)
            lines.append(
                f"  {route.vehicle_id}: {route.departure:.1f}-{route.arrival:.1f} | {stops}"
            )
        lines.extend(f"  rejected {r.request_id}: {r.reason}" for r in self.rejected)
        return "\n".join(lines)
