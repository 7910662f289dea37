"""OSMnx drive networks from a place, a polygon or an OSM XML file (the only osmnx download)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import osmnx as ox
from shapely.geometry import MultiPolygon, Polygon

from routing.errors import DataMissingError, RoutingError

log = logging.getLogger(__name__)

#: Speeds (km/h) by OSM ``highway`` class where a way has no ``maxspeed``: the German statutory
#: limits (StVO §3: 50 in built-up areas, 100 outside; motorways use the 130 advisory speed).
#: Residential and tertiary roads are mostly inside villages, so they get the built-up limit.
GERMAN_DEFAULT_SPEEDS_KPH: dict[str, float] = {
    "motorway": 130,
    "motorway_link": 80,
    "trunk": 100,
    "trunk_link": 60,
    "primary": 100,
    "primary_link": 50,
    "secondary": 100,
    "secondary_link": 50,
    "tertiary": 50,
    "tertiary_link": 50,
    "unclassified": 100,
    "residential": 50,
    "living_street": 7,
    "service": 20,
    "road": 50,
}

#: Highway classes OSMnx's "drive" filter leaves out (``osmnx._overpass._get_network_filter``).
NOT_DRIVABLE_HIGHWAYS = frozenset(
    (
        "abandoned bridleway bus_guideway construction corridor cycleway elevator escalator "
        "footway no path pedestrian planned platform proposed raceway razed rest_area service "
        "services steps track"
    ).split()
)
NOT_DRIVABLE_SERVICES = frozenset(
    ["alley", "driveway", "emergency_access", "parking", "parking_aisle", "private"]
)

#: Speed of a minibus relative to the speed limit. A 16-seat bus accelerates slowly, brakes for
#: curves and villages and rarely reaches the limit on rural roads; 0.85 matches the ratio of
#: scheduled regional bus times to free-flow car times commonly used in German transit planning.
MINIBUS_SPEED_FACTOR = 0.85


def add_bus_travel_times(
    G: nx.MultiDiGraph, *, speed_factor: float = MINIBUS_SPEED_FACTOR
) -> nx.MultiDiGraph:
    """Add ``speed_kph`` (bus speed) and ``travel_time`` (s) to every edge, in place.

    Missing ``maxspeed`` values are imputed with OSMnx from ``GERMAN_DEFAULT_SPEEDS_KPH``;
    the result is then scaled by ``speed_factor``.

    Parameters
    ----------
    G
        A drive network with ``length`` and ``highway`` on every edge; changed in place.
    speed_factor
        Bus speed as a share of the (imputed) speed limit, in (0, 1].

    Returns
    -------
    G
        The same graph.
    """
    if not 0 < speed_factor <= 1:
        raise RoutingError("speed_factor", f"must be in (0, 1], got {speed_factor}")
    G = ox.routing.add_edge_speeds(G, hwy_speeds=GERMAN_DEFAULT_SPEEDS_KPH, fallback=50)
    for _, _, data in G.edges(data=True):
        data["speed_kph"] = float(data["speed_kph"]) * speed_factor
    return ox.routing.add_edge_travel_times(G)


def graph_from_osm_file(path: Path) -> nx.MultiDiGraph:
    """Read the drivable network of an OSM XML file (``.osm``, ``.osm.gz``, ``.osm.bz2``).

    Parameters
    ----------
    path
        The OSM XML file.

    Returns
    -------
    G
        Simplified drive network, not yet restricted to a strongly connected component.
    """
    if not path.is_file():
        raise DataMissingError(str(path), "OSM file not found")
    suffixes = "".join(path.suffixes[-2:]) if path.suffix in {".gz", ".bz2"} else path.suffix
    if suffixes not in {".osm", ".osm.gz", ".osm.bz2", ".xml"}:
        raise RoutingError(str(path), "expected an OSM XML file (.osm, .osm.gz or .osm.bz2)")
    # graph_from_xml keeps every way of the file; keep what a bus may drive on.
    G = keep_drivable(ox.graph_from_xml(path, retain_all=True))
    log.info("OSM file %s: %d nodes, %d drivable edges", path.name, len(G), len(G.edges))
    return G


def keep_drivable(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Return the subgraph of edges that pass ``is_drivable`` (a new graph)."""
    keep = [(u, v, k) for u, v, k, data in G.edges(keys=True, data=True) if is_drivable(data)]
    return G.edge_subgraph(keep).copy()


def is_drivable(edge: dict[str, Any]) -> bool:
    """Whether an OSM edge passes the same tests as OSMnx's ``network_type="drive"`` query.

    Parameters
    ----------
    edge
        Edge attributes with OSM tags (``highway``, ``area``, ``access``, ``service``).

    Returns
    -------
    drivable
        True if a public bus may use the way.
    """

    # after OSMnx's simplification a merged edge may carry a list of values per tag
    def values(tag: str) -> list[Any]:
        value = edge.get(tag)
        return value if isinstance(value, list) else [value]

    return (
        any(c is not None and c not in NOT_DRIVABLE_HIGHWAYS for c in values("highway"))
        and "yes" not in values("area")
        and not all(a in {"private", "no"} for a in values("access"))
        and not all(s in NOT_DRIVABLE_SERVICES for s in values("service"))
    )


def graph_from_place(query: str, *, cache_dir: Path) -> nx.MultiDiGraph:
    """Download the drive network of a named place with OSMnx (needs internet).

    Parameters
    ----------
    query
        A place name Nominatim knows, e.g. ``"Salzlandkreis, Sachsen-Anhalt, Deutschland"``.
    cache_dir
        Folder for OSMnx's HTTP cache.

    Returns
    -------
    G
        Drive network, not yet restricted to a strongly connected component.
    """
    _use_osmnx_cache(cache_dir)
    return keep_drivable(ox.graph_from_place(query, network_type="drive", retain_all=True))


def graph_from_polygon_file(path: Path, *, cache_dir: Path) -> nx.MultiDiGraph:
    """Download the drive network inside the (multi)polygons of a GeoJSON file (needs internet).

    Parameters
    ----------
    path
        GeoJSON file with one or more polygon features, any CRS.
    cache_dir
        Folder for OSMnx's HTTP cache.

    Returns
    -------
    G
        Drive network, not yet restricted to a strongly connected component.
    """
    polygon = read_area(path)
    _use_osmnx_cache(cache_dir)
    return keep_drivable(ox.graph_from_polygon(polygon, network_type="drive", retain_all=True))


def read_area(path: Path) -> Polygon | MultiPolygon:
    """Read the union of the polygons in a GeoJSON file, in WGS84.

    Raises
    ------
    DataMissingError
        If the file does not exist.
    RoutingError
        If it holds no polygon.
    """
    if not path.is_file():
        raise DataMissingError(str(path), "polygon file not found")
    gdf = gpd.read_file(path).to_crs(epsg=4326)
    area = gdf.geometry.union_all()
    if not isinstance(area, Polygon | MultiPolygon) or area.is_empty:
        raise RoutingError(str(path), "holds no polygon")
    return area


def read_named_areas(path: Path, *, name_key: str = "GEN") -> dict[str, Polygon | MultiPolygon]:
    """Read the named polygons of a GeoJSON file (e.g. municipalities by ``GEN``), in WGS84.

    Raises
    ------
    DataMissingError
        If the file does not exist.
    """
    if not path.is_file():
        raise DataMissingError(str(path), "polygon file not found")
    gdf = gpd.read_file(path).to_crs(epsg=4326)
    return {str(name): geom for name, geom in zip(gdf[name_key], gdf.geometry, strict=True)}


def _use_osmnx_cache(cache_dir: Path) -> None:
    # OSMnx keeps its settings as module attributes; setting them here, at the only place that
    # downloads, keeps the HTTP cache under Rufbus's cache folder.
    ox.settings.use_cache = True
    ox.settings.cache_folder = str(cache_dir / "osmnx-http")
