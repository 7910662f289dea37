"""Scheduled lines for one service date: active trips, their stop times and walking links.

Feeds are read with gtfs-kit once; a :class:`Timetable` holds the trips running on one date
(``calendar.txt`` and ``calendar_dates.txt``), with times in seconds from the start of the
service day and stops as stop-place nodes, merged exactly as in the road network
(``routing.sources.gtfs.merge_stop_places``), so that a node id means the same place in
both.
"""

from __future__ import annotations

import bisect
import logging
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import gtfs_kit as gk
import numpy as np
import pandas as pd

from routing.errors import DataMissingError, RoutingError
from routing.snap import EARTH_RADIUS_M
from routing.sources.gtfs import merge_stop_places, parse_gtfs_time

log = logging.getLogger(__name__)

#: Walking speed of riders between stops (m/s), a slow adult pace.
WALK_SPEED_MPS = 1.2

#: Dates whose timetables a :class:`TimetableCache` keeps.
CACHED_DATES = 4

#: Operators are warned this many days before the feeds' service period ends.
FEED_WARNING_DAYS = 30


@dataclass(frozen=True, slots=True)
class Trip:
    """One scheduled trip on the day: its line and, per stop, node, times and permissions."""

    trip_id: str
    line: str
    headsign: str
    nodes: tuple[int, ...]
    arrival_s: tuple[int, ...]
    departure_s: tuple[int, ...]
    can_board: tuple[bool, ...]
    can_alight: tuple[bool, ...]

    def __post_init__(self) -> None:
        n = len(self.nodes)
        lengths = (len(self.arrival_s), len(self.departure_s), len(self.can_board))
        if n < 2 or any(k != n for k in (*lengths, len(self.can_alight))):
            raise RoutingError(f"trip {self.trip_id}", "needs two or more stops with times")


@dataclass(frozen=True, slots=True)
class Timetable:
    """The scheduled network on one service date.

    Attributes
    ----------
    day
        The service date.
    trips
        Trips running on ``day``.
    departures
        Node -> ``(departure_s, trip index, position)`` of every stop event where riders may
        board, sorted by departure.
    arrivals
        Node -> ``(arrival_s, trip index, position)`` of every stop event where riders may
        alight, sorted by arrival.
    walks
        Node -> ``(other node, walking seconds)`` for stop places within the walking radius.
    names
        Node -> stop place name.
    """

    day: date
    trips: tuple[Trip, ...]
    departures: dict[int, tuple[tuple[int, int, int], ...]]
    arrivals: dict[int, tuple[tuple[int, int, int], ...]]
    walks: dict[int, tuple[tuple[int, int], ...]]
    names: dict[int, str]

    def departures_between(self, node: int, start_s: int, end_s: int) -> list[tuple[int, int, int]]:
        """Boarding events at ``node`` departing in ``[start_s, end_s]``."""
        events = self.departures.get(node, ())
        lo = bisect.bisect_left(events, (start_s, -1, -1))
        hi = bisect.bisect_right(events, (end_s, len(self.trips), 1 << 30))
        return list(events[lo:hi])

    def node_named(self, name: str) -> int:
        """The stop place with exactly this name.

        Raises
        ------
        RoutingError
            If no place or several have the name.
        """
        found = [n for n, text in self.names.items() if text == name]
        if len(found) != 1:
            raise RoutingError("stop", f"{len(found)} stop places are named {name!r}")
        return found[0]

    def near(self, node: int) -> list[tuple[int, int]]:
        """``node`` itself (0 s) and the places within walking distance."""
        return [(node, 0), *self.walks.get(node, ())]


@dataclass(frozen=True, slots=True)
class Feeds:
    """GTFS feeds read once: the stop places and each feed's tables (gtfs-kit ``Feed``)."""

    places: pd.DataFrame
    node_of_stop: dict[str, int]
    feeds: tuple[gk.Feed, ...]
    paths: tuple[Path, ...]

    @property
    def period(self) -> tuple[date, date]:
        """The first and last date any feed's calendar covers (its service period)."""
        periods = [_service_period(feed) for feed in self.feeds]
        return min(p[0] for p in periods), max(p[1] for p in periods)


def _service_period(feed: gk.Feed) -> tuple[date, date]:
    """First and last date of a feed's ``calendar.txt`` ranges and added ``calendar_dates``."""
    dates: list[str] = []
    if feed.calendar is not None and len(feed.calendar):
        dates += [str(feed.calendar["start_date"].min()), str(feed.calendar["end_date"].max())]
    if feed.calendar_dates is not None and len(feed.calendar_dates):
        added = feed.calendar_dates[feed.calendar_dates["exception_type"].astype(int) == 1]
        dates += [str(d) for d in added["date"]]
    if not dates:
        raise DataMissingError("calendar.txt", "the feed's calendar has no dates")
    parsed = [datetime.strptime(d, "%Y%m%d").date() for d in dates]
    return min(parsed), max(parsed)


def _read(path: Path) -> gk.Feed:
    if not path.is_file():
        raise DataMissingError(str(path), "GTFS file not found")
    if not zipfile.is_zipfile(path):
        raise RoutingError(str(path), "not a GTFS zip archive")
    feed = gk.read_feed(path, dist_units="km")
    for table in ("stops", "routes", "trips", "stop_times"):
        if getattr(feed, table) is None:
            raise DataMissingError(f"{path}:{table}.txt", "the GTFS feed has no such table")
    if feed.calendar is None and feed.calendar_dates is None:
        raise DataMissingError(f"{path}:calendar.txt", "the feed has no calendar")
    return feed


def read_feeds(paths: Sequence[Path]) -> Feeds:
    """Read GTFS zip files; the first one defines the stop places (as the road network does).

    Stops of further feeds that match a place by name and coordinates join it; others
    become new places after the first feed's. Trip ids of further feeds get the prefix
    ``"<k>:"`` so that they cannot clash.

    Raises
    ------
    DataMissingError
        If a file or a required table is missing.
    RoutingError
        If a file is not a zip archive.
    """
    if not paths:
        raise RoutingError("feeds", "give at least one GTFS file")
    feeds = [_read(Path(p)) for p in paths]
    places, node_of_stop = merge_stop_places(feeds[0].stops)
    key_of: dict[tuple[str, float, float], int] = {
        (name, y, x): node
        for node, name, y, x in zip(
            places.index, places["name"], places["y"], places["x"], strict=True
        )
    }
    extra_rows: list[dict[str, object]] = []
    for feed in feeds[1:]:
        for row in feed.stops.itertuples(index=False):
            key = (str(row.stop_name), float(row.stop_lat), float(row.stop_lon))
            if key not in key_of:
                key_of[key] = len(places) + len(extra_rows)
                extra_rows.append({"name": key[0], "y": key[1], "x": key[2], "stop_ids": ""})
            node_of_stop.setdefault(str(row.stop_id), key_of[key])
    if extra_rows:
        extra = pd.DataFrame(extra_rows, index=range(len(places), len(places) + len(extra_rows)))
        places = pd.concat([places, extra])
        places.index.name = "node"
    return Feeds(places, node_of_stop, tuple(feeds), tuple(Path(p) for p in paths))


def _place_names(places: pd.DataFrame) -> dict[int, str]:
    """Node -> stop place name."""
    return {int(n): str(name) for n, name in zip(places.index, places["name"], strict=True)}


def walk_links(
    places: pd.DataFrame, *, max_m: float, speed_mps: float = WALK_SPEED_MPS
) -> dict[int, tuple[tuple[int, int], ...]]:
    """Stop places within ``max_m`` (great-circle) of each other and the walking time (s).

    Parameters
    ----------
    places
        Stop places with ``x`` (lon) and ``y`` (lat), indexed by node.
    max_m
        Walking radius.
    speed_mps
        Walking speed.

    Returns
    -------
    walks
        Node -> ``(other node, seconds)``, nearest first.
    """
    if max_m < 0 or speed_mps <= 0:
        raise RoutingError("walk", "radius must be >= 0 and speed > 0")
    nodes = places.index.to_numpy()
    lat = np.radians(places["y"].to_numpy(dtype=float))
    lon = np.radians(places["x"].to_numpy(dtype=float))
    out: dict[int, tuple[tuple[int, int], ...]] = {}
    for i, node in enumerate(nodes):
        dlat, dlon = lat - lat[i], lon - lon[i]
        a = np.sin(dlat / 2) ** 2 + np.cos(lat[i]) * np.cos(lat) * np.sin(dlon / 2) ** 2
        dist = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))
        close = np.flatnonzero(dist <= max_m)
        close = close[close != i]
        if len(close):
            order = close[np.argsort(dist[close], kind="stable")]
            out[int(node)] = tuple(
                (int(nodes[j]), int(np.ceil(dist[j] / speed_mps))) for j in order
            )
    return out


def _active_trips(feed: gk.Feed, day: date) -> pd.DataFrame:
    services = set(feed.get_active_services(day.strftime("%Y%m%d")))
    trips = feed.trips[feed.trips["service_id"].astype(str).isin(services)]
    routes = feed.routes[["route_id", "route_short_name", "route_long_name"]]
    trips = trips.merge(routes, on="route_id", how="left")
    short = trips["route_short_name"].astype("string").fillna("")
    long = trips["route_long_name"].astype("string").fillna("")
    headsign = trips.get("trip_headsign", pd.Series("", index=trips.index))
    return pd.DataFrame(
        {
            "trip_id": trips["trip_id"].astype(str).to_numpy(),
            "line": short.where(short != "", long).to_numpy(),
            "headsign": headsign.astype("string").fillna("").to_numpy(),
        }
    )


def _allowed(st: pd.DataFrame, column: str) -> np.ndarray:
    """True where riders may board (``pickup_type``) or alight (``drop_off_type``).

    That is any type but 1 (none); an empty value is 0 (regular).
    """
    if column not in st:
        return np.ones(len(st), dtype=bool)
    return np.asarray(st[column].astype("Int64").fillna(0).to_numpy(dtype=int) != 1)


def build_timetable(
    feeds: Feeds, day: date, *, walks: dict[int, tuple[tuple[int, int], ...]]
) -> Timetable:
    """The trips of every feed that run on ``day``, indexed for connection search.

    Parameters
    ----------
    feeds
        From :func:`read_feeds`.
    day
        The service date (trips are taken from this date's calendar; trips of the day
        before that run past midnight are not included).
    walks
        From :func:`walk_links`.

    Returns
    -------
    timetable
        The day's scheduled network.
    """
    trips: list[Trip] = []
    for k, feed in enumerate(feeds.feeds):
        active = _active_trips(feed, day)
        st = feed.stop_times
        st = st[st["trip_id"].astype(str).isin(set(active["trip_id"]))]
        st = st.dropna(subset=["arrival_time", "departure_time", "stop_id"])
        st = st.assign(
            trip_id=st["trip_id"].astype(str),
            node=st["stop_id"].astype(str).map(feeds.node_of_stop),
            arrival_s=parse_gtfs_time(st["arrival_time"].astype(str)),
            departure_s=parse_gtfs_time(st["departure_time"].astype(str)),
            board=_allowed(st, "pickup_type"),
            alight=_allowed(st, "drop_off_type"),
        ).sort_values(["trip_id", "stop_sequence"])
        if st["node"].isna().any():
            bad = st.loc[st["node"].isna(), "stop_id"].iloc[0]
            raise RoutingError(f"{feeds.paths[k]}:stop_times.txt", f"unknown stop_id {bad!r}")
        info = active.set_index("trip_id")
        prefix = "" if k == 0 else f"{k}:"
        for trip_id, group in st.groupby("trip_id", sort=True):
            if len(group) < 2:
                continue
            trips.append(
                Trip(
                    trip_id=prefix + str(trip_id),
                    line=str(info.at[trip_id, "line"]),
                    headsign=str(info.at[trip_id, "headsign"]),
                    nodes=tuple(int(n) for n in group["node"]),
                    arrival_s=tuple(int(t) for t in group["arrival_s"]),
                    departure_s=tuple(int(t) for t in group["departure_s"]),
                    can_board=tuple(bool(b) for b in group["board"]),
                    can_alight=tuple(bool(b) for b in group["alight"]),
                )
            )
    boards: dict[int, list[tuple[int, int, int]]] = {}
    alights: dict[int, list[tuple[int, int, int]]] = {}
    for t, trip in enumerate(trips):
        for pos, node in enumerate(trip.nodes):
            if trip.can_board[pos] and pos < len(trip.nodes) - 1:
                boards.setdefault(node, []).append((trip.departure_s[pos], t, pos))
            if trip.can_alight[pos] and pos > 0:
                alights.setdefault(node, []).append((trip.arrival_s[pos], t, pos))
    names = _place_names(feeds.places)
    log.info("timetable %s: %d trips", day, len(trips))
    return Timetable(
        day,
        tuple(trips),
        {node: tuple(sorted(ev)) for node, ev in boards.items()},
        {node: tuple(sorted(ev)) for node, ev in alights.items()},
        walks,
        names,
    )


class TimetableCache:
    """Reads the feeds on first use and keeps the timetables of the last few dates.

    Safe to share between the threads of a server: a date being built by one request is
    waited for by the others instead of being built again.

    Parameters
    ----------
    paths
        GTFS zip files; the first defines the stop places (the road network's feed).
    walk_max_m
        Walking radius between stops.
    walk_speed_mps
        Walking speed.
    max_dates
        How many dates to keep (at least the bookable days, so that none is rebuilt).
    """

    def __init__(
        self,
        paths: Sequence[Path],
        *,
        walk_max_m: float = 400.0,
        walk_speed_mps: float = WALK_SPEED_MPS,
        max_dates: int = CACHED_DATES,
    ) -> None:
        self.paths = tuple(Path(p) for p in paths)
        self.walk_max_m = walk_max_m
        self.walk_speed_mps = walk_speed_mps
        self.max_dates = max_dates
        self.builds = 0  # timetables built so far (each costs 0.2-0.7 s)
        self._feeds: Feeds | None = None
        self._walks: dict[int, tuple[tuple[int, int], ...]] | None = None
        self._days: OrderedDict[date, Timetable] = OrderedDict()
        # one build at a time: builds are CPU-bound, so parallel ones would gain nothing
        # under the GIL, and a waiting request finds its date built when it gets the lock
        self._lock = threading.RLock()

    @property
    def feeds(self) -> Feeds:
        """The feeds, read on first use."""
        with self._lock:
            if self._feeds is None:
                feeds = read_feeds(self.paths)
                self._walks = walk_links(
                    feeds.places, max_m=self.walk_max_m, speed_mps=self.walk_speed_mps
                )
                self._feeds = feeds
            return self._feeds

    @property
    def names(self) -> dict[int, str]:
        """Node -> stop place name."""
        return _place_names(self.feeds.places)

    @property
    def period(self) -> tuple[date, date]:
        """The first and last service date the feeds cover."""
        return self.feeds.period

    def covers(self, day: date) -> bool:
        """Whether the feeds' calendars cover ``day`` (else no scheduled line is known)."""
        first, last = self.period
        return first <= day <= last

    def get(self, day: date) -> Timetable:
        """The timetable of ``day``, built on first use.

        It is empty on a day the feeds do not cover: no scheduled line is known then.
        """
        with self._lock:
            if day in self._days:
                self._days.move_to_end(day)
                return self._days[day]
            timetable = build_timetable(self.feeds, day, walks=self._walks or {})
            self.builds += 1
            self._days[day] = timetable
            while len(self._days) > self.max_dates:
                self._days.popitem(last=False)
            return timetable
