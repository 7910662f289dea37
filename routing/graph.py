"""Build the road network every plan is computed on: an OSMnx MultiDiGraph with travel times."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import networkx as nx
import osmnx as ox
import pandas as pd
from shapely.geometry import LineString, Point

from routing import cache
from routing.errors import DataMissingError, RoutingError
from routing.sources import gtfs, osm

log = logging.getLogger(__name__)

#: Road distance over great-circle distance between neighbouring stops. Studies of road networks
#: find 1.2-1.4 for rural and regional trips (Ballou et al. 2002; Giacomin & Levinson 2015);
#: we take 1.3 for the district's village-to-village links.
CIRCUITY_FACTOR = 1.3

SOURCE_KINDS = ("gtfs", "osm-file", "osm-place", "osm-polygon")


@dataclass(frozen=True, slots=True)
class Source:
    """Where a network comes from: ``kind`` (one of ``SOURCE_KINDS``) and its ``value``.

    ``value`` is a file path for ``gtfs``, ``osm-file`` and ``osm-polygon``, and a place query for
    ``osm-place``.
    """

    kind: str
    value: str

    def __post_init__(self) -> None:
        if self.kind not in SOURCE_KINDS:
            kinds = ", ".join(SOURCE_KINDS)
            raise RoutingError("source", f"unknown kind {self.kind!r}; use one of {kinds}")
        if not self.value:
            raise RoutingError("source", f"{self.kind}: needs a path or query after the colon")

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"

    @property
    def path(self) -> Path | None:
        """The input file, for kinds that read one."""
        return None if self.kind == "osm-place" else Path(self.value).expanduser()


def parse_source(text: str) -> Source:
    """Parse ``KIND:VALUE`` (e.g. ``gtfs:feed.zip``, ``osm-place:"Salzlandkreis, ..."``).

    Raises
    ------
    RoutingError
        If the kind is unknown or the value empty.
    """
    kind, sep, value = text.partition(":")
    if not sep:
        kinds = ", ".join(SOURCE_KINDS)
        raise RoutingError("source", f"{text!r} is not KIND:VALUE with KIND one of {kinds}")
    return Source(kind.strip(), value.strip().strip('"'))


def graph_from_stop_network(
    network: gtfs.StopNetwork, *, circuity: float = CIRCUITY_FACTOR
) -> nx.MultiDiGraph:
    """Turn GTFS stop places and links into an OSMnx-style MultiDiGraph.

    Nodes are stop places with ``x``, ``y``, ``name`` and ``stop_ids``; edges carry ``length``
    (great-circle distance times ``circuity``, m), ``travel_time`` (median scheduled s),
    ``speed_kph`` and a straight ``geometry``. Built with ``osmnx.convert.graph_from_gdfs`` so
    that the result is the same kind of graph as one from OpenStreetMap.

    Parameters
    ----------
    network
        Stop places and links from ``routing.sources.gtfs.read_stop_network``.
    circuity
        Road distance over great-circle distance, at least 1.

    Returns
    -------
    G
        The stop network as a MultiDiGraph in EPSG:4326.
    """
    if circuity < 1:
        raise RoutingError("circuity", f"must be at least 1, got {circuity}")
    places = network.places
    nodes = gpd.GeoDataFrame(
        places[["name", "stop_ids", "x", "y"]],
        geometry=[Point(x, y) for x, y in zip(places["x"], places["y"], strict=True)],
        crs="EPSG:4326",
    )
    nodes.index.name = "osmid"
    links = network.links
    ux, uy = places.loc[links["u"], "x"].to_numpy(), places.loc[links["u"], "y"].to_numpy()
    vx, vy = places.loc[links["v"], "x"].to_numpy(), places.loc[links["v"], "y"].to_numpy()
    length = ox.distance.great_circle(uy, ux, vy, vx) * circuity
    edges = gpd.GeoDataFrame(
        {
            "length": length,
            "travel_time": links["travel_time"].to_numpy(),
            "speed_kph": length / links["travel_time"].to_numpy() * 3.6,
            "num_trips": links["num_trips"].to_numpy(),
        },
        geometry=[LineString([(a, b), (c, d)]) for a, b, c, d in zip(ux, uy, vx, vy, strict=True)],
        index=pd.MultiIndex.from_arrays(
            [links["u"].to_numpy(), links["v"].to_numpy(), [0] * len(links)],
            names=["u", "v", "key"],
        ),
        crs="EPSG:4326",
    )
    return ox.convert.graph_from_gdfs(nodes, edges, graph_attrs={"crs": "EPSG:4326"})


def largest_strong_component(G: nx.MultiDiGraph) -> tuple[nx.MultiDiGraph, int]:
    """Restrict ``G`` to its largest strongly connected component.

    A bus must be able to get from every node to every other, so nodes outside the largest
    strongly connected part (dead-end one-way stubs, edges of the extract) are dropped.

    Returns
    -------
    G
        The largest strongly connected component (a copy).
    num_dropped
        How many nodes were dropped.
    """
    H = ox.truncate.largest_component(G, strongly=True)
    return H, len(G) - len(H)


def _read_source(source: Source, *, cache_dir: Path) -> nx.MultiDiGraph:
    """Build the raw (not yet strongly connected) graph of ``source``, with travel times."""
    path = source.path
    if path is None:  # osm-place: the value is a place query, not a file
        G = osm.graph_from_place(source.value, cache_dir=cache_dir)
    elif source.kind == "gtfs":
        return graph_from_stop_network(gtfs.read_stop_network(path))
    elif source.kind == "osm-file":
        G = osm.graph_from_osm_file(path)
    else:
        G = osm.graph_from_polygon_file(path, cache_dir=cache_dir)
    return osm.add_bus_travel_times(G)


def build_graph(source: Source, *, cache_dir: Path) -> nx.MultiDiGraph:
    """Build the network of ``source`` and restrict it to its largest strongly connected part.

    ``G.graph`` records ``source``, ``num_dropped_nodes`` and the settings used.

    Parameters
    ----------
    source
        Where the network comes from.
    cache_dir
        Folder for downloads (OSMnx's HTTP cache).

    Returns
    -------
    G
        MultiDiGraph with ``x``, ``y`` on nodes and ``length`` (m), ``travel_time`` (s) on edges.
    """
    raw = _read_source(source, cache_dir=cache_dir)
    G, num_dropped = largest_strong_component(raw)
    if len(G) == 0:
        raise RoutingError("source", f"{source} has no drivable road")
    G.graph.update(
        source=str(source),
        num_raw_nodes=len(raw),
        num_dropped_nodes=num_dropped,
        circuity=CIRCUITY_FACTOR if source.kind == "gtfs" else None,
        bus_speed_factor=None if source.kind == "gtfs" else osm.MINIBUS_SPEED_FACTOR,
    )
    log.info("%s: %d nodes kept, %d dropped", source, len(G), num_dropped)
    return G


def graph_cache_path(source: Source, *, cache_dir: Path) -> Path:
    """Return the cache file of ``source``'s graph, keyed by source, input bytes and settings."""
    inputs = {
        "source": str(source),
        "circuity": CIRCUITY_FACTOR,
        "min_link_time_s": gtfs.MIN_LINK_TIME_S,
        "speeds": osm.GERMAN_DEFAULT_SPEEDS_KPH,
        "bus_speed_factor": osm.MINIBUS_SPEED_FACTOR,
        "osmnx": ox.__version__,
    }
    path = source.path
    if path is not None and path.is_file():
        inputs["file"] = cache.file_fingerprint(path)
    return cache_dir / "graphs" / f"{source.kind}-{cache.cache_key(inputs)}.pickle"


def load_graph(source: Source, *, cache_dir: Path, refresh: bool = False) -> nx.MultiDiGraph:
    """Return the graph of ``source`` from the cache, building and caching it if needed.

    Parameters
    ----------
    source
        Where the network comes from.
    cache_dir
        Cache folder.
    refresh
        Rebuild even if cached.

    Returns
    -------
    G
        As from ``build_graph``.
    """
    if source.path is not None and not source.path.is_file():
        # checked before the cache so that a missing input is reported, not a stale graph used
        raise DataMissingError(str(source.path), f"{source.kind} input file not found")
    path = graph_cache_path(source, cache_dir=cache_dir)
    return cache.cached(path, lambda: build_graph(source, cache_dir=cache_dir), refresh=refresh)
