"""Travel-time and distance matrices and paths, checked against networkx."""

from __future__ import annotations

import random
import zipfile

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import routing.matrix
from routing.errors import NoRouteError, RoutingError
from routing.matrix import path_geometry, path_totals, shortest_path, to_csr, travel_matrices
from routing.network import Network
from routing.settings import Settings
from routing.sources.gtfs import parse_gtfs_time
from routing.stops import find_stop


def networkx_matrix(G: nx.MultiDiGraph, nodes: list[int], weight: str) -> np.ndarray:
    out = np.empty((len(nodes), len(nodes)))
    for i, s in enumerate(nodes):
        dist = nx.single_source_dijkstra_path_length(G, s, weight=weight)
        out[i] = [dist.get(t, np.inf) for t in nodes]
    return out


@pytest.mark.parametrize("network_name", ["gtfs_network", "bayreuth_network"])
def test_matrix_equals_networkx(network_name: str, request: pytest.FixtureRequest) -> None:
    net: Network = request.getfixturevalue(network_name)
    nodes = random.Random(7).sample(list(net.graph.nodes), 60)
    duration, distance = travel_matrices(net.csr, nodes)
    np.testing.assert_allclose(duration, networkx_matrix(net.graph, nodes, "travel_time"))
    assert np.all(np.diag(duration) == 0)
    # distance is the length of the fastest path, never shorter than the shortest path
    shortest = networkx_matrix(net.graph, nodes, "length")
    assert np.all(distance >= shortest - 1e-6)
    for i, j in [(0, 1), (5, 40), (59, 2)]:
        path = shortest_path(net.csr, nodes[i], nodes[j])
        seconds, metres = path_totals(net.graph, path)
        assert seconds == pytest.approx(duration[i, j])
        assert metres == pytest.approx(distance[i, j])


def test_rectangular_matrix_and_batches(
    bayreuth_network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    nodes = list(bayreuth_network.graph.nodes)
    sources, targets = nodes[:300], nodes[-7:]
    # batches of 100 sources, so that three of them are stitched together
    monkeypatch.setattr(routing.matrix, "BATCH_CELLS", 100 * len(nodes))
    duration, distance = travel_matrices(bayreuth_network.csr, sources, targets)
    full, _ = travel_matrices(bayreuth_network.csr, nodes, with_length=False)
    assert duration.shape == distance.shape == (300, 7)
    np.testing.assert_allclose(duration, full[:300, -7:])


def test_unreachable_and_unknown_nodes() -> None:
    G = nx.MultiDiGraph()
    G.add_node(1, x=0.0, y=0.0)
    G.add_node(2, x=0.001, y=0.0)
    G.add_node(3, x=0.002, y=0.0)
    G.add_edge(1, 2, length=100.0, travel_time=10.0)
    G.add_edge(1, 2, length=90.0, travel_time=12.0)  # parallel edge: slower, shorter
    G.add_edge(2, 3, length=100.0, travel_time=10.0)
    net = to_csr(G)
    duration, distance = travel_matrices(net, [1, 2, 3])
    assert duration[0].tolist() == [0.0, 10.0, 20.0]
    assert distance[0].tolist() == [0.0, 100.0, 200.0]  # along the fastest edge
    assert np.isinf(duration[2, 0])
    with pytest.raises(NoRouteError, match="node 1 unreachable from 3"):
        shortest_path(net, 3, 1)
    with pytest.raises(RoutingError, match="node 9 is not in the network"):
        travel_matrices(net, [1, 9])
    G.add_edge(3, 1, length=5.0, travel_time=0.0)
    with pytest.raises(RoutingError, match=r"edge \(3, 1\).travel_time: must be positive"):
        to_csr(G)


def test_path_geometry_follows_nodes(gtfs_network: Network) -> None:
    G = gtfs_network.graph
    u = find_stop(G, "Bernburg, Busbahnhof")
    v = find_stop(G, "Schönebeck, Bahnhof")
    path = shortest_path(gtfs_network.csr, u, v)
    line = path_geometry(G, path)
    assert line.coords[0] == (G.nodes[u]["x"], G.nodes[u]["y"])
    assert line.coords[-1] == (G.nodes[v]["x"], G.nodes[v]["y"])
    assert len(line.coords) == len(path)


def test_matrix_cache_roundtrip(gtfs_network: Network) -> None:
    nodes = list(gtfs_network.graph.nodes)[:50]
    folder = gtfs_network.cache_dir / "matrices"
    before = set(folder.glob(f"{gtfs_network.key}-*.pickle"))
    first = gtfs_network.matrices(nodes)
    written = set(folder.glob(f"{gtfs_network.key}-*.pickle")) - before
    assert len(written) == 1  # one file for this node list
    again = gtfs_network.matrices(nodes)
    assert set(folder.glob(f"{gtfs_network.key}-*.pickle")) - before == written
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])


#: A route on the stop network against the timetable: links carry median scheduled times of
#: at least a minute, and the fastest path may combine links of several lines, so a route
#: between two stops a line serves directly takes 0.75 to 1.05 times the scheduled time
#: (documented in the README).
TIMETABLE_FACTOR = (0.75, 1.05)


@pytest.mark.parametrize(
    ("line", "origin", "destination"),
    [
        ("140", "Aschersleben, Busbahnhof", "Quedlinburg, Bahnhof (Bus)"),
        ("140", "Quedlinburg, Bahnhof (Bus)", "Aschersleben, Busbahnhof"),
    ],
)
def test_route_time_matches_timetable(
    settings: Settings, gtfs_network: Network, line: str, origin: str, destination: str
) -> None:
    with zipfile.ZipFile(settings.data_file("gtfs")) as feed:
        routes = pd.read_csv(feed.open("routes.txt"), dtype=str)
        trips = pd.read_csv(feed.open("trips.txt"), dtype=str)
        stop_times = pd.read_csv(feed.open("stop_times.txt"), dtype=str)
        stops = pd.read_csv(feed.open("stops.txt"), dtype=str)
    route_ids = routes.loc[routes["route_short_name"] == line, "route_id"]
    trip_ids = set(trips.loc[trips["route_id"].isin(route_ids), "trip_id"])
    st = stop_times[stop_times["trip_id"].isin(trip_ids)].merge(stops, on="stop_id")
    st["seconds"] = parse_gtfs_time(st["departure_time"])
    st["seq"] = st["stop_sequence"].astype(int)
    a = st[st["stop_name"] == origin].set_index("trip_id")
    b = st[st["stop_name"] == destination].set_index("trip_id")
    both = a.add_suffix("_a").join(b.add_suffix("_b"), how="inner")
    both = both[both["seq_b"] > both["seq_a"]]
    assert len(both) >= 5, "the line should serve this pair several times a day"
    scheduled = (both["seconds_b"] - both["seconds_a"]).median()

    G = gtfs_network.graph
    path = shortest_path(gtfs_network.csr, find_stop(G, origin), find_stop(G, destination))
    seconds, _ = path_totals(G, path)
    low, high = TIMETABLE_FACTOR
    assert low * scheduled <= seconds <= high * scheduled, (seconds, scheduled)
