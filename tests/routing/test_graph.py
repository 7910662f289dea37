"""Building the network from GTFS, OSM files and (stubbed) OSM downloads."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import osmnx as ox
import pytest

from routing import graph as graph_module
from routing.errors import DataMissingError, RoutingError
from routing.graph import (
    CIRCUITY_FACTOR,
    CONNECTOR_CIRCUITY,
    CONNECTOR_MAX_M,
    CONNECTOR_NEIGHBOURS,
    CONNECTOR_SPEED_KPH,
    Source,
    build_graph,
    connect_stranded_stops,
    graph_cache_path,
    graph_from_stop_network,
    load_graph,
    parse_source,
)
from routing.network import Network
from routing.settings import Settings
from routing.sources.gtfs import MIN_LINK_TIME_S, read_stop_network
from routing.sources.osm import GERMAN_DEFAULT_SPEEDS_KPH, MINIBUS_SPEED_FACTOR


def assert_routable(G: nx.MultiDiGraph) -> None:
    """Every node has coordinates, every edge a positive length and travel time."""
    assert nx.is_strongly_connected(G)
    for _, data in G.nodes(data=True):
        assert -180 <= data["x"] <= 180 and -90 <= data["y"] <= 90
    for u, v, data in G.edges(data=True):
        assert data["length"] > 0, (u, v)
        assert data["travel_time"] > 0, (u, v)


def test_gtfs_graph(gtfs_network: Network) -> None:
    G = gtfs_network.graph
    assert_routable(G)
    # all 593 stop places: the 4 outside the largest strongly connected part are joined to it
    assert len(G) == 593
    assert G.graph["num_dropped_nodes"] == 0
    assert 0 < G.graph["num_connector_edges"] <= 4 * 2 * CONNECTOR_NEIGHBOURS
    assert len(G.edges) == 1523 + G.graph["num_connector_edges"]
    assert G.graph["crs"] == "EPSG:4326"
    # lengths are great-circle distances times the circuity factor
    u, v, data = next(iter(G.edges(data=True)))
    direct = ox.distance.great_circle(
        G.nodes[u]["y"], G.nodes[u]["x"], G.nodes[v]["y"], G.nodes[v]["x"]
    )
    assert data["length"] == pytest.approx(direct * CIRCUITY_FACTOR)


def test_connectors_are_never_shorter_or_faster_than_the_straight_line(
    gtfs_network: Network,
) -> None:
    G = gtfs_network.graph
    connectors = [(u, v, d) for u, v, d in G.edges(data=True) if d.get("connector")]
    assert len(connectors) == G.graph["num_connector_edges"]
    for u, v, data in connectors:
        direct = ox.distance.great_circle(
            G.nodes[u]["y"], G.nodes[u]["x"], G.nodes[v]["y"], G.nodes[v]["x"]
        )
        assert direct <= CONNECTOR_MAX_M
        assert data["length"] >= direct * CONNECTOR_CIRCUITY - 1e-6
        assert data["speed_kph"] <= CONNECTOR_SPEED_KPH + 1e-9
        assert data["travel_time"] >= MIN_LINK_TIME_S
    # the stranded stops can be both reached and left, and only through their links or
    # connectors to the places nearby
    names = {G.nodes[n]["name"]: n for n in G}
    frose = names["Frose (Bus)"]
    assert G.in_degree(frose) >= 1 and G.out_degree(frose) >= 1
    assert {G.nodes[v]["name"] for _, v in G.out_edges(frose)} >= {"Frose, Hoymer Str."}


def test_stop_network_keeps_its_links_when_nothing_is_stranded(settings: Settings) -> None:
    network = read_stop_network(settings.data_file("gtfs"))
    G = graph_from_stop_network(network)
    assert connect_stranded_stops(G) > 0
    edges = len(G.edges)
    assert connect_stranded_stops(G) == 0  # strongly connected now: nothing more to join
    assert len(G.edges) == edges


def test_connector_settings_are_part_of_the_cache_key(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = Source("gtfs", str(settings.data_file("gtfs")))
    before = graph_cache_path(source, cache_dir=settings.cache_dir)
    monkeypatch.setattr(graph_module, "CONNECTOR_SPEED_KPH", CONNECTOR_SPEED_KPH + 5)
    assert graph_cache_path(source, cache_dir=settings.cache_dir) != before


def test_osm_extracts(settings: Settings, bayreuth_network: Network, bautzen_path: Path) -> None:
    G = bayreuth_network.graph
    assert_routable(G)
    assert 900 <= len(G) <= 1300
    assert 2000 <= len(G.edges) <= 3000
    assert G.graph["num_dropped_nodes"] > 0  # OSM networks get no connectors: stubs go
    assert G.graph["num_connector_edges"] == 0
    # no edge a bus may not use
    for *_, hwy in G.edges(data="highway"):
        for h in hwy if isinstance(hwy, list) else [hwy]:
            assert h not in {"track", "path", "footway", "cycleway", "service"} or isinstance(
                hwy, list
            )
    small = build_graph(Source("osm-file", str(bautzen_path)), cache_dir=settings.cache_dir)
    assert_routable(small)
    assert 10 <= len(small) <= 60


def test_osm_speeds_follow_german_defaults(bayreuth_network: Network) -> None:
    for *_, data in bayreuth_network.graph.edges(data=True):
        hwy = data["highway"]
        if "maxspeed" not in data and isinstance(hwy, str) and hwy in GERMAN_DEFAULT_SPEEDS_KPH:
            expected = GERMAN_DEFAULT_SPEEDS_KPH[hwy] * MINIBUS_SPEED_FACTOR
            assert data["speed_kph"] == pytest.approx(expected)
        assert data["travel_time"] == pytest.approx(data["length"] / (data["speed_kph"] / 3.6))


def test_graph_is_cached(settings: Settings) -> None:
    source = Source("gtfs", str(settings.data_file("gtfs")))
    first = load_graph(source, cache_dir=settings.cache_dir)
    path = graph_cache_path(source, cache_dir=settings.cache_dir)
    assert path.is_file()
    again = load_graph(source, cache_dir=settings.cache_dir)
    assert nx.utils.graphs_equal(first, again)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("gtfs", "is not KIND:VALUE"),
        ("osm:foo.osm", "unknown kind 'osm'"),
        ("gtfs:", "needs a path or query"),
    ],
)
def test_bad_sources(text: str, message: str) -> None:
    with pytest.raises(RoutingError, match=message):
        parse_source(text)


def test_missing_input_file(tmp_path: Path) -> None:
    with pytest.raises(DataMissingError, match="osm-file input file not found"):
        load_graph(Source("osm-file", str(tmp_path / "x.osm")), cache_dir=tmp_path)


def test_wrong_osm_suffix(tmp_path: Path) -> None:
    f = tmp_path / "roads.pbf"
    f.write_bytes(b"")
    with pytest.raises(RoutingError, match="expected an OSM XML file"):
        build_graph(Source("osm-file", str(f)), cache_dir=tmp_path)


@pytest.fixture
def stub_osm_network(monkeypatch: pytest.MonkeyPatch, bautzen_path: Path) -> list[str]:
    """Replace OSMnx's two HTTP calls (Nominatim, Overpass) with the Bautzen extract.

    Returns the list of Overpass queries made, so tests can see the download was asked for.
    """
    queries: list[str] = []
    elements = ox._osm_xml._overpass_json_from_xml(bautzen_path, "utf-8")  # noqa: SLF001
    polygon = {
        "type": "Polygon",
        "coordinates": [
            [[14.40, 51.18], [14.43, 51.18], [14.43, 51.20], [14.40, 51.20], [14.40, 51.18]]
        ],
    }

    def fake_nominatim(params: dict, request_type: str = "search") -> list[dict]:
        return [
            {
                "place_id": 1,
                "osm_type": "relation",
                "osm_id": 1,
                "boundingbox": ["51.18", "51.20", "14.40", "14.43"],
                "lat": "51.19",
                "lon": "14.41",
                "display_name": params["q"],
                "class": "boundary",
                "type": "administrative",
                "importance": 0.9,
                "geojson": polygon,
            }
        ]

    def fake_overpass(data: dict) -> dict:
        queries.append(data["data"])
        return elements

    monkeypatch.setattr(ox._nominatim, "_nominatim_request", fake_nominatim)  # noqa: SLF001
    monkeypatch.setattr(ox._overpass, "_overpass_request", fake_overpass)  # noqa: SLF001
    return queries


def test_osm_place_download_stubbed(stub_osm_network: list[str], tmp_path: Path) -> None:
    source = parse_source('osm-place:"Salzlandkreis, Sachsen-Anhalt, Deutschland"')
    assert source == Source("osm-place", "Salzlandkreis, Sachsen-Anhalt, Deutschland")
    G = build_graph(source, cache_dir=tmp_path)
    assert_routable(G)
    assert len(G) > 10
    assert stub_osm_network and '"highway"' in stub_osm_network[0]
    assert G.graph["bus_speed_factor"] == MINIBUS_SPEED_FACTOR


def test_osm_polygon_download_stubbed(stub_osm_network: list[str], tmp_path: Path) -> None:
    area = tmp_path / "area.geojson"
    feature = {
        "type": "Feature",
        "properties": {},
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [[14.40, 51.18], [14.43, 51.18], [14.43, 51.20], [14.40, 51.20], [14.40, 51.18]]
            ],
        },
    }
    area.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    G = build_graph(Source("osm-polygon", str(area)), cache_dir=tmp_path)
    assert_routable(G)
    assert len(stub_osm_network) == 1
