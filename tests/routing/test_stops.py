"""Finding stops by the names riders use."""

from __future__ import annotations

import pytest

from routing.errors import RoutingError
from routing.network import Network
from routing.stops import find_stop, normalize_name, search_stops, short_name


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("Schönebeck, Bahnhof", "Schönebeck (Elbe), Bahnhof (Bus)"),
        ("schönebeck (elbe), bahnhof (bus)", "Schönebeck (Elbe), Bahnhof (Bus)"),
        ("Stassfurt Bahnhof", "Staßfurt, Bahnhof (Bus)"),
        ("de:15089:4749::03", "Staßfurt, Bahnhof (Bus)"),
    ],
)
def test_find_stop(gtfs_network: Network, query: str, name: str) -> None:
    assert gtfs_network.graph.nodes[find_stop(gtfs_network.graph, query)]["name"] == name


def test_unknown_and_ambiguous(gtfs_network: Network) -> None:
    with pytest.raises(RoutingError, match="no stop named 'Atlantis'"):
        find_stop(gtfs_network.graph, "Atlantis")
    with pytest.raises(RoutingError, match=r"'Bernburg' matches several stops: .* and \d+ more"):
        find_stop(gtfs_network.graph, "Bernburg")


def test_search_ranks_prefix_first(gtfs_network: Network) -> None:
    G = gtfs_network.graph
    names = [G.nodes[n]["name"] for n in search_stops(G, "Staßfurt, Bahn", limit=3)]
    assert names[0] == "Staßfurt, Bahnhof (Bus)"
    assert normalize_name("Calbe (Saale), Damaschkeplan, Wartehalle") == (
        "calbe saale damaschkeplan wartehalle"
    )
    assert short_name("Calbe (Saale), Damaschkeplan, Wartehalle") == (
        "calbe damaschkeplan wartehalle"
    )


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Schönebeck", "Schoenebeck"),
        ("Schönebeck", "SCHONEBECK"),
        ("Gröna", "grona"),
        ("Walter-Husemann-Straße", "walter husemann strasse"),
        ("Hoymer Str.", "Hoymer Straße"),
        ("Staßfurt,  Bahnhof", "stassfurt bahnhof"),
        ("Güsten", "Gusten"),
        ("Ärztehaus", "Aerztehaus"),
    ],
)
def test_spelling_does_not_count(a: str, b: str) -> None:
    assert normalize_name(a) == normalize_name(b)


def test_the_cli_finds_names_without_umlauts_and_suggests(gtfs_network: Network) -> None:
    G = gtfs_network.graph
    assert G.nodes[find_stop(G, "Grona")]["name"] == "Gröna"
    with pytest.raises(RoutingError, match=r"did you mean: Bernburg \(Saale\), Busbahnhof"):
        find_stop(G, "Bernbrug Busbanhof")
