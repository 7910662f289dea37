"""Snap points (lon, lat) to the nearest node of a network."""

from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx
import numpy as np
import osmnx as ox
from scipy.spatial import cKDTree
from shapely import prepared
from shapely.geometry import MultiPolygon, Point, Polygon

from routing.errors import SnapError

EARTH_RADIUS_M = 6_371_009.0

#: Farthest a point may lie from its node by default: a rider walks at most about 1 km to a stop.
DEFAULT_MAX_SNAP_M = 1_000.0


@dataclass(frozen=True, slots=True)
class Snapped:
    """A point snapped to a node: the ``node`` id and the great-circle ``distance_m`` to it."""

    node: int
    distance_m: float


@dataclass(frozen=True)
class NodeIndex:
    """A k-d tree over the nodes of a graph, in a local equirectangular projection (m).

    The projection is exact to well under 1 % over a district-sized area; the returned
    distance is recomputed on the sphere.
    """

    nodes: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    lat0_rad: float
    tree: cKDTree
    area: prepared.PreparedGeometry | None = None
    area_name: str = "the area"

    def project(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Project WGS84 degrees to local metres."""
        k = EARTH_RADIUS_M * math.pi / 180
        return np.column_stack([np.asarray(lon) * k * math.cos(self.lat0_rad), np.asarray(lat) * k])


def build_node_index(
    G: nx.MultiDiGraph,
    *,
    area: Polygon | MultiPolygon | None = None,
    area_name: str = "the area",
) -> NodeIndex:
    """Build the nearest-node index of ``G``.

    Parameters
    ----------
    G
        Graph in EPSG:4326 with ``x`` (lon) and ``y`` (lat) on every node.
    area
        Points outside this polygon are refused by ``snap`` (e.g. the district boundary).
    area_name
        How to name the area in error messages.

    Returns
    -------
    index
        The index.
    """
    nodes = np.fromiter(G.nodes, dtype=np.int64, count=len(G))
    lon = np.array([G.nodes[n]["x"] for n in nodes], dtype=float)
    lat = np.array([G.nodes[n]["y"] for n in nodes], dtype=float)
    lat0 = math.radians(float(lat.mean())) if len(lat) else 0.0
    index = NodeIndex(nodes, lon, lat, lat0, cKDTree(np.empty((0, 2))), None, area_name)
    return NodeIndex(
        nodes,
        lon,
        lat,
        lat0,
        cKDTree(index.project(lon, lat)),
        prepared.prep(area) if area is not None else None,
        area_name,
    )


def snap(
    index: NodeIndex, lon: float, lat: float, *, max_distance_m: float = DEFAULT_MAX_SNAP_M
) -> Snapped:
    """Snap one point to its nearest node.

    Parameters
    ----------
    index
        From ``build_node_index``.
    lon, lat
        The point in WGS84 degrees.
    max_distance_m
        Refuse points farther than this from every node.

    Returns
    -------
    snapped
        Nearest node and its distance.

    Raises
    ------
    SnapError
        If the coordinates are not valid, the point lies outside the index's area, or it is
        farther than ``max_distance_m`` from the network.
    """
    point = f"(lon {lon}, lat {lat})"
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise SnapError("point", f"{point} is not a valid WGS84 coordinate")
    if index.area is not None and not index.area.contains(Point(lon, lat)):
        raise SnapError("point", f"{point} lies outside {index.area_name}")
    _, i = index.tree.query(index.project(np.array([lon]), np.array([lat]))[0])
    distance_m = float(ox.distance.great_circle(lat, lon, index.lat[i], index.lon[i]))
    if distance_m > max_distance_m:
        raise SnapError(
            "point",
            f"{point} is {distance_m:,.0f} m from the nearest node; the limit is "
            f"{max_distance_m:,.0f} m",
        )
    return Snapped(int(index.nodes[i]), distance_m)
