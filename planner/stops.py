"""The bookable stops of a service and the travel times among them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from shapely import prepared
from shapely.geometry import MultiPolygon, Point, Polygon

from planner.errors import BookingError, UnknownStopError
from routing.errors import RoutingError
from routing.network import Network
from routing.stops import exact_stops, normalize_name, rank_stops, short_name, suggest_stops

#: At most this many stop names are suggested for a name that finds none or several.
MAX_SUGGESTIONS = 5


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
    places
        Node id -> the municipality it lies in (none for stops outside every known one).
    """

    network: Network
    nodes: tuple[int, ...]
    row: dict[int, int]
    travel_s: np.ndarray
    distance_m: np.ndarray
    places: Mapping[int, str] = field(default_factory=dict)
    labels: Mapping[int, str] = field(init=False)

    def __post_init__(self) -> None:
        # read-only: every day's instance shares them (checked once, see planner.darp.model)
        self.travel_s.setflags(write=False)
        self.distance_m.setflags(write=False)
        labels = {n: _label(self.name(n), self.places.get(n)) for n in self.nodes}
        object.__setattr__(self, "labels", labels)

    def name(self, node: int) -> str:
        """The stop's name."""
        return str(self.network.graph.nodes[node].get("name", node))

    def label(self, node: int) -> str:
        """The stop's name as riders see and type it, unique among the stops.

        With its municipality ("Gröna (Bernburg (Saale))") unless the name says it already
        ("Bernburg (Saale), Busbahnhof").
        """
        return self.labels[node]

    def describe(self, node: int) -> dict[str, Any]:
        """A stop as JSON: id, name, lon, lat."""
        data = self.network.graph.nodes[node]
        return {"id": int(node), "name": self.name(node), "lon": data["x"], "lat": data["y"]}

    def search(self, query: str, *, limit: int = 10) -> list[dict[str, Any]]:
        """Bookable stops whose name matches ``query``, best first, with their labels.

        Spelling does not count (:func:`routing.stops.normalize_name`); if nothing matches,
        similar names (:func:`routing.stops.suggest_stops`).
        """
        found = rank_stops(self.labels, query, limit=limit) or suggest_stops(
            self.labels, query, limit=limit
        )
        return [{**self.describe(n), "label": self.labels[n]} for n in found]

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
        if isinstance(value, str) and normalize_name(value):
            return self._resolve_name(value, field)
        raise BookingError(field, "must be a stop id, a stop name or {lon, lat}")

    def _resolve_name(self, value: str, field: str) -> int:
        """The one stop named ``value`` (its name or label, however spelt).

        Raises :class:`UnknownStopError` with labels to pick if none or several are.
        """
        exact = exact_stops(self.labels, value)
        if len(exact) != 1:
            # a name in full may be the short form of others: "Ilbersdorf (Wiendorf)"
            exact = exact_stops({n: self.name(n) for n in self.nodes}, value) or exact
        if len(exact) == 1:
            return exact[0]
        matches = exact or rank_stops(self.labels, value, limit=MAX_SUGGESTIONS + 1)
        if len(matches) == 1:
            return matches[0]
        if matches:
            suggestions = tuple(self.labels[n] for n in matches[:MAX_SUGGESTIONS])
            reason = f"{value!r} matches several stops; pick one of them"
            raise UnknownStopError(
                field, reason, suggestions, code="ambiguous_stop", params={"name": value}
            )
        similar = suggest_stops(self.labels, value, limit=MAX_SUGGESTIONS)
        reason = f"no bookable stop named {value!r}"
        raise UnknownStopError(
            field,
            reason,
            tuple(self.labels[n] for n in similar),
            code="unknown_stop",
            params={"name": value},
        )


def _label(name: str, place: str | None) -> str:
    """``name`` with ``place`` in parentheses, unless there is none or the name contains it."""
    if not place or f" {short_name(place)} " in f" {normalize_name(name)} ":
        return name
    return f"{name} ({place})"


def build_catalog(
    network: Network,
    area: Polygon | MultiPolygon | None,
    *,
    travel_time_factor: float = 1.0,
    municipalities: Mapping[str, Polygon | MultiPolygon] | None = None,
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
    municipalities
        Municipality name -> its area; a stop's label names the one it lies in.

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
    places = _places(G, nodes, municipalities or {})
    row = {n: i for i, n in enumerate(nodes)}
    return StopCatalog(network, nodes, row, travel, distance, places)


def _places(
    G: Any, nodes: tuple[int, ...], municipalities: Mapping[str, Polygon | MultiPolygon]
) -> dict[int, str]:
    """Node -> the municipality containing it (stops outside all of them are left out)."""
    areas = [(name, prepared.prep(area)) for name, area in municipalities.items()]
    places = {}
    for n in nodes:
        point = Point(G.nodes[n]["x"], G.nodes[n]["y"])
        inside = [name for name, area in areas if area.contains(point)]
        if inside:
            places[n] = inside[0]
    return places
