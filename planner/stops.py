"""The bookable stops of a service and the travel times among them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from shapely import prepared
from shapely.geometry import MultiPolygon, Point, Polygon

from planner.errors import BookingError
from routing.errors import RoutingError
from routing.network import Network
from routing.stops import search_stops


@dataclass(frozen=True)
class StopCatalog:
    """Bookable stop places with their travel-time (s) and distance (m) matrices.

    Attributes
    ----------
    network
        The road network the stops are nodes of.
    nodes
        Bookable node ids; row ``i`` of the matrices belongs to ``nodes[i]``.
    row
        Node id -> matrix row.
    travel_s, distance_m
        Square matrices over ``nodes``.
    """

    network: Network
    nodes: tuple[int, ...]
    row: dict[int, int]
    travel_s: np.ndarray
    distance_m: np.ndarray

    def __post_init__(self) -> None:
        # read-only: every day's instance shares them (checked once, see planner.darp.model)
        self.travel_s.setflags(write=False)
        self.distance_m.setflags(write=False)

    def name(self, node: int) -> str:
        """The stop's name."""
        return str(self.network.graph.nodes[node].get("name", node))

    def describe(self, node: int) -> dict[str, Any]:
        """A stop as JSON: id, name, lon, lat."""
        data = self.network.graph.nodes[node]
        return {"id": int(node), "name": self.name(node), "lon": data["x"], "lat": data["y"]}

    def search(self, query: str, *, limit: int = 10) -> list[dict[str, Any]]:
        """Bookable stops whose name matches ``query``, best first."""
        found = search_stops(self.network.graph, query, limit=limit * 3)
        return [self.describe(n) for n in found if n in self.row][:limit]

    def resolve(self, value: Any, *, field: str) -> int:
        """Turn a stop id, a stop name or ``{"lon": .., "lat": ..}`` into a bookable node.

        Raises
        ------
        BookingError
            Naming ``field`` if the stop is unknown, not bookable, or the point is outside
            the service area or too far from a stop.
        """
        if isinstance(value, bool):
            raise BookingError(field, "must be a stop id, a stop name or {lon, lat}")
        if isinstance(value, int):
            if value not in self.row:
                raise BookingError(field, f"unknown stop id {value}")
            return value
        if isinstance(value, dict) and set(value) == {"lon", "lat"}:
            try:
                snapped = self.network.snap(float(value["lon"]), float(value["lat"]))
            except (TypeError, ValueError) as exc:
                if isinstance(exc, RoutingError):
                    raise BookingError(field, exc.reason) from None
                raise BookingError(field, "lon and lat must be numbers") from None
            if snapped.node not in self.row:
                raise BookingError(field, "the nearest stop is not bookable")
            return snapped.node
        if isinstance(value, str) and value.strip():
            matches = self.search(value, limit=2)
            exact = [m for m in matches if m["name"].casefold() == value.strip().casefold()]
            if len(exact) == 1 or len(matches) == 1:
                return (exact or matches)[0]["id"]
            if not matches:
                raise BookingError(field, f"no bookable stop named {value!r}")
            raise BookingError(field, f"{value!r} matches several stops; pick one by id")
        raise BookingError(field, "must be a stop id, a stop name or {lon, lat}")


def build_catalog(
    network: Network, area: Polygon | MultiPolygon | None, *, travel_time_factor: float = 1.0
) -> StopCatalog:
    """Collect the network's stop places inside ``area`` and their matrices.

    Parameters
    ----------
    network
        A network whose nodes have names (the GTFS stop network).
    area
        Service area; every named node if None.
    travel_time_factor
        Planned driving times are the network's times this factor: the one place where a
        margin for traffic enters planning (offers, solver, validator all read these times).

    Returns
    -------
    catalog
        The bookable stops.
    """
    G = network.graph
    inside = prepared.prep(area) if area is not None else None
    nodes = tuple(
        int(n)
        for n, data in G.nodes(data=True)
        if data.get("name") and (inside is None or inside.contains(Point(data["x"], data["y"])))
    )
    travel, distance = network.matrices(list(nodes))
    if travel_time_factor != 1.0:
        travel = travel * travel_time_factor
    return StopCatalog(network, nodes, {n: i for i, n in enumerate(nodes)}, travel, distance)
