"""Build the road network every plan is computed on: an OSMnx MultiDiGraph with travel times."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
from shapely.geometry import LineString, Point

from routing import cache, snap
from routing.errors import DataMissingError, RoutingError
from routing.sources import gtfs, osm

log = logging.getLogger(__name__)

#: Road distance over great-circle distance between neighbouring stops. Studies of road networks
#: find 1.2-1.4 for rural and regional trips (Ballou et al. 2002; Giacomin & Levinson 2015);
#: we take 1.3 for the district's village-to-village links.
CIRCUITY_FACTOR = 1.3

#: Connectors (see ``connect_stranded_stops``) join each stop place outside the largest strongly
#: connected part to this many of its nearest nodes inside it, in both directions ...
CONNECTOR_NEIGHBOURS = 2
#: ... that lie at most this far away (great circle, m); farther stops stay unconnected.
CONNECTOR_MAX_M = 5_000.0
#: A connector follows no scheduled link, so its road is unknown: the upper end of the studies'
#: circuity range (short trips detour more than long ones), never the straight line.
CONNECTOR_CIRCUITY = 1.4
#: Speed on a connector. The feed's links under 1.5 km run at a median 24 km/h (dwell time
#: included); 20 km/h keeps times on village roads without a scheduled bus pessimistic.
CONNECTOR_SPEED_KPH = 20.0

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


def connect_stranded_stops(
    G: nx.MultiDiGraph,
    *,
    neighbours: int = CONNECTOR_NEIGHBOURS,
    max_distance_m: float = CONNECTOR_MAX_M,
    circuity: float = CONNECTOR_CIRCUITY,
    speed_kph: float = CONNECTOR_SPEED_KPH,
) -> int:
    """Join the stop places outside ``G``'s largest strongly connected part to it, in place.

    Why: the GTFS stop network knows only the links its trips drive. A stop where trips only
    start or only end ("Bebitz (Könnern), Ort", "Frose (Bus)") or a one-way loop ("Unseburg,
    Walter-Husemann-Str.") cannot be both reached and left, and would be dropped with
    ``largest_strong_component`` although KVG serves it and a Rufbus can drive there on the
    village's roads. Each such node gets a connector edge to and from each of its
    ``neighbours`` nearest nodes of the largest part within ``max_distance_m``: ``length`` is the
    great-circle distance times ``circuity`` (never shorter than the straight line) and
    ``travel_time`` that length at ``speed_kph``, at least ``gtfs.MIN_LINK_TIME_S``, so that
    times are not optimistic. Existing links are kept and not duplicated. Only for stop networks:
    an OpenStreetMap network has the roads themselves, and its stranded nodes are dead-end stubs.

    Parameters
    ----------
    G
        Stop network from ``graph_from_stop_network`` (changed in place).
    neighbours
        Nodes of the largest part each stranded node is joined to.
    max_distance_m
        Farthest a connector reaches (great circle).
    circuity
        Connector length over great-circle distance, at least 1.
    speed_kph
        Connector speed.

    Returns
    -------
    num_edges
        How many connector edges were added (marked ``connector=True``).
    """
    if circuity < 1:
        raise RoutingError("circuity", f"must be at least 1, got {circuity}")
    if len(G) == 0:
        return 0
    core = max(nx.strongly_connected_components(G), key=len)
    stranded = [n for n in G.nodes if n not in core]
    if not stranded:
        return 0
    index = snap.build_node_index(G.subgraph(core))
    k = min(neighbours, len(core))
    xs = np.array([G.nodes[n]["x"] for n in stranded])
    ys = np.array([G.nodes[n]["y"] for n in stranded])
    _, nearest = index.tree.query(index.project(xs, ys), k=k)
    added = 0
    for node, x, y, rows in zip(
        stranded, xs, ys, np.asarray(nearest).reshape(len(xs), k), strict=True
    ):
        for i in rows:
            other = int(index.nodes[i])
            direct = float(ox.distance.great_circle(y, x, index.lat[i], index.lon[i]))
            if direct > max_distance_m:
                continue
            length = max(direct * circuity, 1.0)  # two places at one point still take a metre
            travel_time = max(length / (speed_kph / 3.6), float(gtfs.MIN_LINK_TIME_S))
            for u, v in ((node, other), (other, node)):
                if G.has_edge(u, v):
                    continue
                ends = [(G.nodes[u]["x"], G.nodes[u]["y"]), (G.nodes[v]["x"], G.nodes[v]["y"])]
                G.add_edge(
                    u,
                    v,
                    length=length,
                    travel_time=travel_time,
                    speed_kph=length / travel_time * 3.6,
                    num_trips=0,
                    connector=True,
                    geometry=LineString(ends),
                )
                added += 1
    return added


def _read_source(source: Source, *, cache_dir: Path) -> nx.MultiDiGraph:
    """Build the raw (not yet strongly connected) graph of ``source``, with travel times.

    A stop network gets its connectors here (``connect_stranded_stops``), counted in
    ``G.graph["num_connector_edges"]``.
    """
    path = source.path
    if path is None:  # osm-place: the value is a place query, not a file
        G = osm.graph_from_place(source.value, cache_dir=cache_dir)
    elif source.kind == "gtfs":
        G = graph_from_stop_network(gtfs.read_stop_network(path))
        G.graph["num_connector_edges"] = connect_stranded_stops(G)
        return G
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
        num_connector_edges=raw.graph.get("num_connector_edges", 0),
    )
    log.info("%s: %d nodes kept, %d dropped", source, len(G), num_dropped)
    return G


def graph_cache_path(source: Source, *, cache_dir: Path) -> Path:
    """Return the cache file of ``source``'s graph, keyed by source, input bytes and settings."""
    inputs = {
        "source": str(source),
        "circuity": CIRCUITY_FACTOR,
        "min_link_time_s": gtfs.MIN_LINK_TIME_S,
        "connectors": [
            CONNECTOR_NEIGHBOURS,
            CONNECTOR_MAX_M,
            CONNECTOR_CIRCUITY,
            CONNECTOR_SPEED_KPH,
        ],
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
