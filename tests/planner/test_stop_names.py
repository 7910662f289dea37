"""Stops riders can find: any spelling, suggestions, names with their municipality."""

from __future__ import annotations

import pytest

from planner.errors import BookingError, UnknownStopError
from planner.stops import StopCatalog

#: What riders type -> the stop they mean (umlauts left out or spelt out, ß as ss, odd case,
#: punctuation and spaces).
SPELLINGS = [
    ("Schonebeck Bahnhof", "Schönebeck (Elbe), Bahnhof (Bus)"),
    ("Schoenebeck Bahnhof", "Schönebeck (Elbe), Bahnhof (Bus)"),
    ("SCHÖNEBECK  -  bahnhof", "Schönebeck (Elbe), Bahnhof (Bus)"),
    ("Grona", "Gröna"),
    ("Groena", "Gröna"),
    ("Stassfurt Bahnhof", "Staßfurt, Bahnhof (Bus)"),
    ("staßfurt,bahnhof", "Staßfurt, Bahnhof (Bus)"),
    ("Frose Hoymer Strasse", "Frose, Hoymer Str."),
    ("Frose, Hoymer Straße", "Frose, Hoymer Str."),
    ("Bernburg Busbahnhof", "Bernburg (Saale), Busbahnhof"),
]


@pytest.mark.parametrize(("typed", "name"), SPELLINGS)
def test_names_are_found_however_they_are_spelt(
    catalog: StopCatalog, typed: str, name: str
) -> None:
    assert catalog.name(catalog.resolve(typed, field="origin")) == name
    assert catalog.search(typed, limit=3)[0]["name"] == name


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("Bernbrug Busbanhof", "Bernburg (Saale), Busbahnhof"),
        ("Stasfurt Bahnhof", "Staßfurt, Bahnhof (Bus)"),
        ("Aschersleben Busbahnhoff", "Aschersleben, Busbahnhof"),
    ],
)
def test_unknown_names_get_suggestions(catalog: StopCatalog, typed: str, meant: str) -> None:
    with pytest.raises(UnknownStopError) as caught:
        catalog.resolve(typed, field="destination")
    error = caught.value
    assert error.field == "destination"
    assert "no bookable stop named" in error.reason
    assert 1 <= len(error.suggestions) <= 5
    assert meant in [catalog.name(catalog.resolve(s, field="x")) for s in error.suggestions]


def test_nonsense_gets_no_suggestions(catalog: StopCatalog) -> None:
    with pytest.raises(UnknownStopError) as caught:
        catalog.resolve("Atlantis", field="origin")
    assert caught.value.suggestions == ()


def test_ambiguous_names_are_suggested_with_their_municipality(catalog: StopCatalog) -> None:
    with pytest.raises(UnknownStopError) as caught:
        catalog.resolve("Nachterstedt", field="origin")
    error = caught.value
    assert "matches several stops" in error.reason
    assert "Nachterstedt, Schulstr. (Seeland)" in error.suggestions
    # each suggestion is accepted as it is written, and names one stop
    nodes = [catalog.resolve(s, field="origin") for s in error.suggestions]
    assert len(set(nodes)) == len(nodes)
    picked = nodes[error.suggestions.index("Nachterstedt, Schulstr. (Seeland)")]
    assert catalog.name(picked) == "Nachterstedt, Schulstr."


def test_every_stop_has_a_label_that_finds_it(catalog: StopCatalog) -> None:
    labels = [catalog.label(n) for n in catalog.nodes]
    assert len(set(labels)) == len(labels)
    for node, label in zip(catalog.nodes, labels, strict=True):
        assert catalog.resolve(label, field="origin") == node
        assert label.startswith(catalog.name(node))
    # a municipality is only added where the name does not say it already
    bernburg = catalog.resolve("Bernburg (Saale), Busbahnhof", field="origin")
    assert catalog.label(bernburg) == "Bernburg (Saale), Busbahnhof"
    assert catalog.label(catalog.resolve("Gröna", field="origin")) == "Gröna (Bernburg (Saale))"


def test_the_search_lists_labels(catalog: StopCatalog) -> None:
    found = catalog.search("Frose", limit=5)
    assert "Frose, Hoymer Str. (Seeland)" in [s["label"] for s in found]


def test_bad_values_stay_booking_errors(catalog: StopCatalog) -> None:
    for value in ("   ", "!!!", "(", "ß" * 300):
        with pytest.raises(BookingError):
            catalog.resolve(value, field="origin")


def test_a_stop_once_off_the_network_is_its_own_stop(catalog: StopCatalog) -> None:
    # "Frose (Bus)" is a stop of its own (trips only end there; the network joins it to its
    # neighbours): it is booked as itself, never as "Frose, Hoymer Str."
    frose = catalog.resolve("Frose (Bus)", field="origin")
    assert catalog.name(frose) == "Frose (Bus)"
    assert catalog.label(frose) == "Frose (Bus) (Seeland)"
    assert catalog.resolve("Frose (Bus) (Seeland)", field="origin") == frose
    assert catalog.resolve("Frose, Hoymer Str.", field="origin") != frose
    # the village's name alone is the stop "Frose (Bus)", as "Grona" is "Gröna"
    assert catalog.resolve("Frose", field="origin") == frose
    labels = [s["label"] for s in catalog.search("Frose", limit=5)]
    assert labels[0] == "Frose (Bus) (Seeland)" and "Frose, Hoymer Str. (Seeland)" in labels
