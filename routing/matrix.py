"""Many-to-many travel times and distances, and paths, with ``scipy.sparse.csgraph``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, overload

import networkx as nx
import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString

from routing.errors import NoRouteError, RoutingError

#: Dense cells (sources x all nodes) per Dijkstra batch: about 64 MB of float64, so that a
#: district-sized OSM graph (~100,000 nodes) never holds more than ~80 rows at once.
BATCH_CELLS = 1 << 23


@dataclass(frozen=True)
class CSRNetwork:
    """A graph as compressed sparse rows, built once and reused for every matrix.

    Parallel edges are reduced to the one with the smallest ``weight``; ``length`` holds that
    edge's length (m) at the same positions as ``weight`` so that the distance of the fastest
    path can be summed along it.

    Attributes
    ----------
    nodes
        Node ids, in row order.
    position
        Node id -> row.
    weight
        Travel time (or other weight) of every edge, as a CSR array.
    length
        Length of the same edges, same structure as ``weight``.
    weight_name
        The edge attribute ``weight`` was read from.
    """

    nodes: np.ndarray
    position: dict[int, int]
    weight: csr_array
    length: csr_array
    weight_name: str

    def rows(self, nodes: Sequence[int]) -> np.ndarray:
        """Return the row of each node id, raising ``RoutingError`` for unknown ids."""
        try:
            return np.fromiter((self.position[n] for n in nodes), dtype=np.int64, count=len(nodes))
        except KeyError as exc:
            raise RoutingError("nodes", f"node {exc.args[0]} is not in the network") from None


def to_csr(G: nx.MultiDiGraph, *, weight: str = "travel_time") -> CSRNetwork:
    """Convert ``G`` to a ``CSRNetwork`` keyed on ``weight``.

    Parameters
    ----------
    G
        Graph with ``weight`` and ``length`` on every edge.
    weight
        Edge attribute to minimise (``travel_time`` in s, or ``length`` in m).

    Returns
    -------
    net
        The compressed network.
    """
    nodes = np.fromiter(G.nodes, dtype=np.int64, count=len(G))
    position = {int(n): i for i, n in enumerate(nodes)}
    best: dict[tuple[int, int], tuple[float, float]] = {}
    for u, v, data in G.edges(data=True):
        w = data.get(weight)
        if w is None or not w > 0:
            raise RoutingError(f"edge ({u}, {v}).{weight}", f"must be positive, got {w}")
        key = (position[u], position[v])
        if key not in best or w < best[key][0]:
            best[key] = (float(w), float(data["length"]))
    rows = np.fromiter((k[0] for k in best), dtype=np.int64, count=len(best))
    cols = np.fromiter((k[1] for k in best), dtype=np.int64, count=len(best))
    values = np.array(list(best.values()), dtype=float).reshape(-1, 2)
    shape = (len(nodes), len(nodes))
    w_csr = csr_array((values[:, 0], (rows, cols)), shape=shape)
    # same (row, col) order for both, so the two data arrays stay aligned after sorting
    l_csr = csr_array((values[:, 1], (rows, cols)), shape=shape)
    w_csr.sort_indices()
    l_csr.sort_indices()
    return CSRNetwork(nodes, position, w_csr, l_csr, weight)


def _path_lengths(net: CSRNetwork, pred: np.ndarray) -> np.ndarray:
    """Sum edge lengths along shortest-path trees by pointer jumping, vectorised over all trees.

    ``pred[i, v]`` is v's predecessor on tree ``i`` (negative at the root and unreached nodes).
    """
    num_trees, n = pred.shape
    reached = pred >= 0
    cols = np.arange(n, dtype=np.int64)
    parent = np.where(reached, pred, cols[None, :]).astype(np.int64)
    # find the CSR position of each tree edge (parent -> v) by its key row * n + col
    w = net.weight
    keys = np.repeat(np.arange(n, dtype=np.int64), np.diff(w.indptr)) * n + w.indices
    pos = np.searchsorted(keys, (parent * n + cols[None, :]).ravel()).clip(max=len(keys) - 1)
    dist = np.where(reached.ravel(), net.length.data[pos], 0.0)
    # invariant: dist[v] is the length from anc[v] down to v; each round doubles the reach,
    # until every anc is a root (its own ancestor, with dist 0)
    anc = (parent + (np.arange(num_trees, dtype=np.int64) * n)[:, None]).ravel()
    while True:
        nxt = anc[anc]
        if np.array_equal(nxt, anc):
            return dist.reshape(num_trees, n)
        dist = dist + dist[anc]
        anc = nxt


@overload
def travel_matrices(
    net: CSRNetwork,
    sources: Sequence[int],
    targets: Sequence[int] | None = None,
    *,
    with_length: Literal[True] = True,
) -> tuple[np.ndarray, np.ndarray]: ...
@overload
def travel_matrices(
    net: CSRNetwork,
    sources: Sequence[int],
    targets: Sequence[int] | None = None,
    *,
    with_length: Literal[False],
) -> tuple[np.ndarray, None]: ...
@overload
def travel_matrices(
    net: CSRNetwork,
    sources: Sequence[int],
    targets: Sequence[int] | None = None,
    *,
    with_length: bool,
) -> tuple[np.ndarray, np.ndarray | None]: ...
def travel_matrices(
    net: CSRNetwork,
    sources: Sequence[int],
    targets: Sequence[int] | None = None,
    *,
    with_length: bool = True,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Compute the weight (travel time) matrix and the length of those fastest paths.

    One Dijkstra per source over the CSR network, in batches.

    Parameters
    ----------
    net
        From ``to_csr``.
    sources
        Origin node ids.
    targets
        Destination node ids; the sources if None.
    with_length
        Also return the length (m) of each fastest path.

    Returns
    -------
    weight
        ``len(sources) x len(targets)`` array of shortest path weights (``inf`` if unreachable).
    length
        Same shape, the length of each of those paths, or None if not asked for.
    """
    src = net.rows(sources)
    tgt = src if targets is None else net.rows(targets)
    weight = np.empty((len(src), len(tgt)))
    length = np.empty((len(src), len(tgt))) if with_length else None
    batch_size = max(1, BATCH_CELLS // max(1, len(net.nodes)))
    for start in range(0, len(src), batch_size):
        batch = src[start : start + batch_size]
        if length is not None:
            dist, pred = dijkstra(
                net.weight, directed=True, indices=batch, return_predecessors=True
            )
            length[start : start + len(batch)] = _path_lengths(net, pred)[:, tgt]
        else:
            dist = dijkstra(net.weight, directed=True, indices=batch)
        weight[start : start + len(batch)] = dist[:, tgt]
    return weight, length


def shortest_path(net: CSRNetwork, origin: int, destination: int) -> list[int]:
    """Return the node ids of the fastest path from ``origin`` to ``destination``.

    Raises
    ------
    NoRouteError
        If ``destination`` cannot be reached.
    """
    src, dst = net.rows([origin, destination])
    _, pred = dijkstra(net.weight, directed=True, indices=int(src), return_predecessors=True)
    path = [int(dst)]
    while path[-1] != src:
        p = int(pred[path[-1]])
        if p < 0:
            raise NoRouteError("destination", f"node {destination} unreachable from {origin}")
        path.append(p)
    return [int(net.nodes[i]) for i in reversed(path)]


def path_geometry(
    G: nx.MultiDiGraph, path: Sequence[int], *, weight: str = "travel_time"
) -> LineString:
    """Return the line (lon, lat) along ``path``, using each edge's geometry where it has one."""
    coords: list[tuple[float, float]] = [(G.nodes[path[0]]["x"], G.nodes[path[0]]["y"])]
    for u, v in zip(path[:-1], path[1:], strict=True):
        data = min(G[u][v].values(), key=lambda d: d.get(weight, float("inf")))
        if "geometry" in data:
            coords.extend(list(data["geometry"].coords)[1:])
        else:
            coords.append((G.nodes[v]["x"], G.nodes[v]["y"]))
    return LineString(coords) if len(coords) > 1 else LineString(coords * 2)


def path_totals(
    G: nx.MultiDiGraph, path: Sequence[int], *, weight: str = "travel_time"
) -> tuple[float, float]:
    """Return the total ``travel_time`` (s) and ``length`` (m) along ``path``."""
    time = length = 0.0
    for u, v in zip(path[:-1], path[1:], strict=True):
        data = min(G[u][v].values(), key=lambda d: d.get(weight, float("inf")))
        time += data["travel_time"]
        length += data["length"]
    return time, length
