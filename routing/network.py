"""A loaded road network: the graph with its CSR form and nearest-node index, built once."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
from shapely.geometry import MultiPolygon, Polygon

from routing import cache, matrix, snap
from routing.graph import Source, graph_cache_path, load_graph
from routing.settings import Settings
from routing.sources.osm import read_area

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Network:
    """Everything a planner needs to ask of a road network.

    Attributes
    ----------
    graph
        The MultiDiGraph (``x``, ``y`` on nodes; ``length``, ``travel_time`` on edges).
    csr
        Its compressed form for fast matrices.
    index
        Its nearest-node index, limited to the service area if one is known.
    key
        Cache key of the graph (source, inputs and settings), reused for matrix caches.
    cache_dir
        Where matrices are cached.
    """

    graph: nx.MultiDiGraph
    csr: matrix.CSRNetwork
    index: snap.NodeIndex
    key: str
    cache_dir: Path

    def snap(
        self, lon: float, lat: float, *, max_distance_m: float = snap.DEFAULT_MAX_SNAP_M
    ) -> snap.Snapped:
        """Snap a point to the nearest node (see ``routing.snap.snap``)."""
        return snap.snap(self.index, lon, lat, max_distance_m=max_distance_m)

    def matrices(
        self, nodes: Sequence[int], *, use_cache: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Travel time (s) and distance (m) matrices among ``nodes``, cached on disk.

        Parameters
        ----------
        nodes
            Node ids; row and column ``i`` belong to ``nodes[i]``.
        use_cache
            Read and write the on-disk cache.

        Returns
        -------
        duration_s, distance_m
            Square arrays; the distance is that of the fastest path.
        """

        def build() -> tuple[np.ndarray, np.ndarray]:
            return matrix.travel_matrices(self.csr, nodes)

        if not use_cache:
            return build()
        digest = hashlib.sha1(np.asarray(nodes, dtype=np.int64).tobytes()).hexdigest()[:16]
        path = self.cache_dir / "matrices" / f"{self.key}-{digest}.pickle"
        return cache.cached(path, build)


def default_source(settings: Settings) -> Source:
    """The default network: the GTFS stop network of KVG Salzland (works offline)."""
    return Source("gtfs", str(settings.data_file("gtfs")))


def load_network(
    source: Source,
    *,
    cache_dir: Path,
    area: Polygon | MultiPolygon | None = None,
    area_name: str = "the service area",
    refresh: bool = False,
) -> Network:
    """Load (or build and cache) the graph of ``source`` and prepare it for queries.

    Parameters
    ----------
    source
        Where the network comes from.
    cache_dir
        Cache folder.
    area
        Snapping refuses points outside this polygon.
    area_name
        How error messages name ``area``.
    refresh
        Rebuild the graph even if cached.

    Returns
    -------
    network
        The loaded network.
    """
    G = load_graph(source, cache_dir=cache_dir, refresh=refresh)
    key = graph_cache_path(source, cache_dir=cache_dir).stem
    index = snap.build_node_index(G, area=area, area_name=area_name)
    return Network(G, matrix.to_csr(G), index, key, cache_dir)


def district_area(settings: Settings) -> Polygon | MultiPolygon:
    """The Salzlandkreis boundary from the data folder."""
    return read_area(settings.data_file("boundary"))
