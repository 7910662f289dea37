"""Find stop places of a network by name or id."""

from __future__ import annotations

import re
import unicodedata

import networkx as nx

from routing.errors import RoutingError

_PARENTHESES = re.compile(r"\([^)]*\)")
_NON_WORD = re.compile(r"[^\w]+")


def normalize_name(name: str) -> str:
    """Lower-case a stop name, drop parenthesised parts and punctuation, fold whitespace.

    ``"Schönebeck (Elbe), Bahnhof (Bus)"`` becomes ``"schönebeck bahnhof"``, so that riders can
    type the name as they say it.
    """
    text = unicodedata.normalize("NFC", name).casefold().replace("ß", "ss")
    text = _PARENTHESES.sub(" ", text)
    return " ".join(_NON_WORD.sub(" ", text).split())


def search_stops(G: nx.MultiDiGraph, query: str, *, limit: int = 10) -> list[int]:
    """Return up to ``limit`` stop nodes whose name matches ``query``, best first.

    Exact (normalised) names come first, then names starting with the query, then names that
    contain every word of it; ties are broken by name.
    """
    q = normalize_name(query)
    if not q:
        return []
    words = q.split()
    ranked: list[tuple[int, str, int]] = []
    for node, name in G.nodes(data="name"):
        if not name:
            continue
        n = normalize_name(name)
        if n == q:
            rank = 0
        elif n.startswith(q):
            rank = 1
        elif all(w in n for w in words):
            rank = 2
        else:
            continue
        ranked.append((rank, name, node))
    ranked.sort()
    return [node for _, _, node in ranked[:limit]]


def find_stop(G: nx.MultiDiGraph, query: str) -> int:
    """Return the one stop node named by ``query`` (a name or a GTFS stop id).

    Raises
    ------
    RoutingError
        If no stop matches, or several match equally well (the message lists them).
    """
    for node, ids in G.nodes(data="stop_ids"):
        if ids and query in ids.split(";"):
            return int(node)
    matches = search_stops(G, query, limit=50)
    if not matches:
        raise RoutingError("stop", f"no stop named {query!r}")
    exact = [n for n in matches if normalize_name(G.nodes[n]["name"]) == normalize_name(query)]
    if len(exact) == 1 or len(matches) == 1:
        return (exact or matches)[0]
    names = "; ".join(G.nodes[n]["name"] for n in matches[:5])
    more = f" and {len(matches) - 5} more" if len(matches) > 5 else ""
    raise RoutingError("stop", f"{query!r} matches several stops: {names}{more}")
