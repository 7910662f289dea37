"""Find stop places of a network by name or id, however riders spell the name."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache

import networkx as nx
from rapidfuzz import fuzz, process

from routing.errors import RoutingError

# one level of nesting: "Gröna (Bernburg (Saale))"
_PARENTHESES = re.compile(r"\((?:[^()]|\([^()]*\))*\)")
_NON_WORD = re.compile(r"[^\w]+")
# spelt-out umlauts, folded like the umlauts themselves ("Schoenebeck" = "Schönebeck")
_SPELT_UMLAUT = re.compile(r"([aou])e")
# "Straße", "Strasse" and the timetable's "Str." are one word
_STREET = re.compile(r"(?<=\w)str(?:asse)?\b|\bstr(?:asse)?\b")

#: Fuzzy suggestions score at least this (rapidfuzz token_set_ratio, 0-100); below it, names
#: share little more than a common word such as "Bahnhof".
SUGGESTION_CUTOFF = 70.0


@lru_cache(maxsize=16384)  # every lookup folds every stop name: fold each once
def normalize_name(name: str) -> str:
    """Fold a stop name (or what a rider typed) to the form names are compared in.

    Case, accents and umlauts, spelt-out umlauts (``oe``), ``ß``/``ss``, "Straße"/"Str.",
    punctuation and extra spaces do not count: ``"Schönebeck (Elbe), Bahnhof (Bus)"`` and
    ``"schoenebeck elbe  bahnhof-bus"`` both become ``"schonebeck elbe bahnhof bus"``. Every
    lookup of a stop by name compares these forms.
    """
    text = unicodedata.normalize("NFKD", name.casefold().replace("ß", "ss"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = " ".join(_NON_WORD.sub(" ", text.replace("_", " ")).split())
    return _STREET.sub("str", _SPELT_UMLAUT.sub(r"\1", text))


@lru_cache(maxsize=16384)
def short_name(name: str) -> str:
    """:func:`normalize_name` without the parenthesised parts: ``"schonebeck bahnhof"``.

    Riders leave out "(Elbe)", "(Bus)" and municipalities, so a name typed like this counts
    as exact too.
    """
    return normalize_name(_PARENTHESES.sub(" ", name))


def rank_stops(names: Mapping[int, str], query: str, *, limit: int = 10) -> list[int]:
    """Return up to ``limit`` keys of ``names`` whose name matches ``query``, best first.

    Exact names (in full or both without parenthesised parts) come first, then names starting
    with the query, then names that contain every word of it outside parentheses; ties are
    broken by name.
    """
    q, q_short = normalize_name(query), short_name(query)
    if not q:
        return []
    # words in parentheses may be missing from the name ("Frose (Bus)" is not "Frose, ...")
    words = (q_short or q).split()
    ranked: list[tuple[int, str, int]] = []
    for node, name in names.items():
        full, short = normalize_name(name), short_name(name)
        if q == full or (q_short and q_short == short):
            rank = 0
        elif full.startswith(q) or short.startswith(q):
            rank = 1
        elif all(w in full for w in words):
            rank = 2
        else:
            continue
        ranked.append((rank, name, node))
    ranked.sort()
    return [node for _, _, node in ranked[:limit]]


def exact_stops(names: Mapping[int, str], query: str) -> list[int]:
    """Keys of ``names`` that ``query`` names exactly.

    In full if any, else both without their parenthesised parts.
    """
    q, q_short = normalize_name(query), short_name(query)
    full = [n for n, name in names.items() if normalize_name(name) == q]
    return full or [n for n, name in names.items() if q_short and short_name(name) == q_short]


def suggest_stops(names: Mapping[int, str], query: str, *, limit: int = 5) -> list[int]:
    """Keys of ``names`` whose name looks like a misspelling of ``query``, best first.

    Uses rapidfuzz's token set ratio on the folded names (word order does not count); nothing below
    :data:`SUGGESTION_CUTOFF`, so that nonsense gets no suggestions.
    """
    q = normalize_name(query)
    if not q:
        return []
    choices = {node: short_name(name) for node, name in names.items()}
    found = process.extract(
        q, choices, scorer=fuzz.token_set_ratio, score_cutoff=SUGGESTION_CUTOFF, limit=limit
    )
    return [node for _, _, node in found]


def _graph_names(G: nx.MultiDiGraph) -> dict[int, str]:
    return {int(node): name for node, name in G.nodes(data="name") if name}


def search_stops(G: nx.MultiDiGraph, query: str, *, limit: int = 10) -> list[int]:
    """Return up to ``limit`` stop nodes of ``G`` whose name matches ``query``, best first.

    See :func:`rank_stops`.
    """
    return rank_stops(_graph_names(G), query, limit=limit)


def _listing(names: Iterable[str], total: int) -> str:
    shown = list(names)
    more = f" and {total - len(shown)} more" if total > len(shown) else ""
    return "; ".join(shown) + more


def find_stop(G: nx.MultiDiGraph, query: str) -> int:
    """Return the one stop node named by ``query`` (a name or a GTFS stop id).

    Raises
    ------
    RoutingError
        If no stop matches (the message suggests similar names), or several match equally
        well (the message lists them).
    """
    for node, ids in G.nodes(data="stop_ids"):
        if ids and query in ids.split(";"):
            return int(node)
    names = _graph_names(G)
    matches = rank_stops(names, query, limit=50)
    exact = exact_stops(names, query)
    if len(exact) == 1 or len(matches) == 1:
        return (exact or matches)[0]
    if not matches:
        similar = [names[n] for n in suggest_stops(names, query)]
        hint = f"; did you mean: {'; '.join(similar)}" if similar else ""
        raise RoutingError("stop", f"no stop named {query!r}{hint}")
    listing = _listing((names[n] for n in matches[:5]), len(matches))
    raise RoutingError("stop", f"{query!r} matches several stops: {listing}")
