"""Which stops of the district riders can book: the NASA stop list against the catalogue.

The stops meant by "every stop of the district that KVG serves" are worked out here, once:

1. **District**: the stops of NASA's list of Sachsen-Anhalt (``stops_sachsen_anhalt_nasa.csv``)
   whose position lies inside the service area (the Salzlandkreis boundary). The boundary, not
   the list's ``AGS Landkreis``, decides, because it is what the catalogue books in.
2. **Served by KVG**: a NASA stop matches a stop place of KVG's GTFS feed by **id** (a feed
   stop id is the NASA ``Globale ID``, a DHID such as ``de:15089:2588``, or a platform of it,
   ``de:15089:2588::01``), else by **name and position**: the same name after
   :func:`routing.stops.normalize_name` (so "Trebitz(Könnern)" is "Trebitz (Könnern)") within
   :data:`NAME_MATCH_M`, the nearest if several. NASA stops without a match (railway stations,
   the Bernburg park railway, replacement stops, other operators' stops) are not KVG's.
3. **Bookable**: the matched place is a stop of the catalogue, and its booking name (the NASA
   name, with the NASA municipality in parentheses if several served stops share the name)
   resolves to exactly that stop.

``rufbus stops coverage`` prints the figures; a test asserts that every served stop is bookable.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import osmnx as ox
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon

from planner.errors import BookingError
from planner.world import World
from routing.errors import DataMissingError
from routing.sources.gtfs import read_stop_places
from routing.stops import normalize_name

#: A NASA stop and a feed stop of the same name are one stop if at most this far apart (m).
#: NASA and the feed place most stops at the same point; the farthest same-named pair of the
#: district lies about 300 m apart ("Trebitz(Könnern)"), a village's width is more.
NAME_MATCH_M = 500.0

# a DHID and its platform suffixes: "de:15089:2588::01" -> "de:15089:2588"
_DHID = re.compile(r"^(de:\d+:\d+)")

#: Why a stop is or is not bookable, in the order the table lists them.
BOOKABLE = "bookable"
NOT_IN_NETWORK = "not in the network (outside its largest connected part)"
OUTSIDE_AREA = "in the network, outside the service area"
NAME_MISSES = "bookable, but its name does not find it"
NOT_SERVED = "not served by KVG (no stop in the feed)"
STATUSES = (BOOKABLE, NOT_IN_NETWORK, OUTSIDE_AREA, NAME_MISSES, NOT_SERVED)


@dataclass(frozen=True, slots=True)
class NasaStop:
    """One row of NASA's stop list: name, global id (DHID, may be empty), position, municipality."""

    name: str
    dhid: str
    lon: float
    lat: float
    municipality: str


@dataclass(frozen=True, slots=True)
class StopCoverage:
    """Whether one NASA stop of the district can be booked, and why not.

    Attributes
    ----------
    stop
        The NASA stop.
    place
        The feed's stop place it matches (its node id), or None if KVG does not serve it.
    matched_by
        ``"id"``, ``"name"`` or ``""``.
    booking_name
        What a rider types for it: the name, with the municipality if served stops share it.
    status
        One of :data:`STATUSES`.
    resolved
        The stop its booking name resolves to, or None.
    resolved_label
        That stop's label, or ``""``.
    """

    stop: NasaStop
    place: int | None
    matched_by: str
    booking_name: str
    status: str
    resolved: int | None
    resolved_label: str = ""

    @property
    def served(self) -> bool:
        """Whether KVG serves the stop (it matches a stop place of the feed)."""
        return self.place is not None


def read_nasa_stops(path: Path, area: Polygon | MultiPolygon) -> list[NasaStop]:
    """Read the NASA stops whose position lies inside ``area``.

    Parameters
    ----------
    path
        ``stops_sachsen_anhalt_nasa.csv`` (semicolons, decimal commas, WGS84).
    area
        The service area.

    Raises
    ------
    DataMissingError
        If the file is missing.
    """
    if not path.is_file():
        raise DataMissingError(str(path), "NASA stop list not found")
    table = pd.read_csv(path, sep=";", decimal=",", dtype=str, keep_default_na=False)
    # a few stops of the state have no position: they cannot lie in the area
    lon = pd.to_numeric(table["X-Koordinate"].str.replace(",", "."), errors="coerce")
    lat = pd.to_numeric(table["Y-Koordinate"].str.replace(",", "."), errors="coerce")
    table, lon, lat = table[lon.notna() & lat.notna()], lon.dropna(), lat.dropna()
    inside = shapely.contains_xy(area, lon.to_numpy(), lat.to_numpy())
    return [
        NasaStop(name, dhid, x, y, municipality)
        for name, dhid, x, y, municipality in zip(
            table["Haltestelle Name"][inside],
            table["Globale ID"][inside],
            lon[inside],
            lat[inside],
            table["Gemeinde"][inside],
            strict=True,
        )
    ]


def match_places(stops: list[NasaStop], places: pd.DataFrame) -> list[tuple[int | None, str]]:
    """Match each NASA stop to a stop place of the feed (see the module's rule).

    Parameters
    ----------
    stops
        The NASA stops.
    places
        The feed's stop places (``routing.sources.gtfs.read_stop_places``).

    Returns
    -------
    matches
        Per stop: (node, ``"id"`` or ``"name"``), or (None, ``""``).
    """
    by_dhid: dict[str, int] = {}
    by_name: dict[str, list[int]] = {}
    xs, ys = places["x"].to_dict(), places["y"].to_dict()
    for node, name, ids in zip(places.index, places["name"], places["stop_ids"], strict=True):
        by_name.setdefault(normalize_name(name), []).append(int(node))
        for stop_id in ids.split(";"):
            if found := _DHID.match(stop_id):
                by_dhid.setdefault(found.group(1), int(node))
    matches: list[tuple[int | None, str]] = []
    for stop in stops:
        if stop.dhid in by_dhid:
            matches.append((by_dhid[stop.dhid], "id"))
            continue
        candidates = by_name.get(normalize_name(stop.name), [])
        distance = np.atleast_1d(
            ox.distance.great_circle(
                np.full(len(candidates), stop.lat),
                np.full(len(candidates), stop.lon),
                np.array([ys[n] for n in candidates]),
                np.array([xs[n] for n in candidates]),
            )
        )
        if candidates and distance.min() <= NAME_MATCH_M:
            matches.append((candidates[int(distance.argmin())], "name"))
        else:
            matches.append((None, ""))
    return matches


def stop_coverage(world: World, *, unserved_names: bool = True) -> list[StopCoverage]:
    """Check every NASA stop of ``world``'s service area against its bookable stops.

    Parameters
    ----------
    world
        The service's world.
    unserved_names
        Also try the names of stops KVG does not serve (they may name a KVG stop nearby:
        "Staßfurt, Bahnhof" finds "Staßfurt, Bahnhof (Bus)"); most of the time is spent here,
        since names that find nothing are compared with every stop for suggestions.

    Returns
    -------
    rows
        One per NASA stop inside the area, in the list's order.
    """
    settings = world.settings
    stops = read_nasa_stops(settings.data_file("nasa_stops"), world.area)
    places = read_stop_places(settings.data_file("gtfs"))
    matches = match_places(stops, places)
    # a name shared by several served stops is booked with its municipality
    served_places: dict[str, set[int]] = {}
    for stop, (place, _) in zip(stops, matches, strict=True):
        if place is not None:
            served_places.setdefault(normalize_name(stop.name), set()).add(place)
    shared = {name for name, found in served_places.items() if len(found) > 1}
    rows = []
    for stop, (place, matched_by) in zip(stops, matches, strict=True):
        name = stop.name
        if normalize_name(name) in shared:
            name = f"{name} ({stop.municipality})"
        resolved = _resolve(world, name) if place is not None or unserved_names else None
        if place is None:
            status = NOT_SERVED
        elif place not in world.network.graph:
            status = NOT_IN_NETWORK
        elif place not in world.catalog.row:
            status = OUTSIDE_AREA
        elif resolved != place:
            status = NAME_MISSES
        else:
            status = BOOKABLE
        label = world.catalog.label(resolved) if resolved is not None else ""
        rows.append(StopCoverage(stop, place, matched_by, name, status, resolved, label))
    return rows


def _resolve(world: World, name: str) -> int | None:
    try:
        return world.catalog.resolve(name, field="stop")
    except BookingError:
        return None


def coverage_table(
    rows: list[StopCoverage],
    *,
    details: bool = True,
    unserved_names: bool = True,
    unserved: bool = False,
) -> list[str]:
    """Lines of a short plain-text report of ``rows``: counts, then the stops not bookable.

    Parameters
    ----------
    rows
        From :func:`stop_coverage`.
    details
        List the served stops that are not bookable, one a line.
    unserved_names
        Whether ``rows`` tried the names of unserved stops too: then count the names that
        find a stop.
    unserved
        List the stops KVG does not serve too, with the stop their name finds.
    """
    served = [r for r in rows if r.served]
    counts = Counter(r.status for r in rows)
    names = {r.stop.name for r in rows}
    resolving = {r.stop.name for r in rows if r.resolved is not None}
    lines = [
        f"NASA stops in the service area: {len(rows)} ({len(names)} names)",
        f"served by KVG: {len(served)} (by id {sum(r.matched_by == 'id' for r in served)}, "
        f"by name and position {sum(r.matched_by == 'name' for r in served)}), "
        f"{len({r.place for r in served})} stop places of the feed",
        "",
        f"{'status':<60} {'stops':>5}",
    ]
    lines += [f"{status:<60} {counts[status]:>5}" for status in STATUSES]
    if unserved_names:
        found = f"{len(resolving)} of {len(names)}"
        lines += ["", f"NASA names that find a bookable stop: {found}"]
    missing = [r for r in served if r.status != BOOKABLE]
    if details and missing:
        lines += ["", "served but not bookable:"]
        lines += [f"  {r.stop.name} ({r.stop.municipality}): {r.status}" for r in missing]
    if unserved:
        lines += ["", "not served by KVG (what the name finds):"]
        lines += [
            f"  {r.stop.name} ({r.stop.municipality}): {r.resolved_label or '-'}"
            for r in rows
            if not r.served
        ]
    return lines
