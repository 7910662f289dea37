"""Read a GTFS feed into stop places and scheduled stop-to-stop links (the only GTFS parser)."""

from __future__ import annotations

import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from routing.errors import DataMissingError, RoutingError

log = logging.getLogger(__name__)

#: Shortest travel time given to a scheduled link, in seconds. Timetables are in whole minutes,
#: so consecutive stops often share a minute; a bus still needs time to get there.
MIN_LINK_TIME_S = 60


@dataclass(frozen=True, slots=True)
class StopNetwork:
    """Stop places of a feed and the scheduled links between consecutive stop places.

    Attributes
    ----------
    places
        One row per stop place, indexed by ``node`` (0..n-1), with ``name``, ``x`` (lon),
        ``y`` (lat) and ``stop_ids`` (the feed's platform ids joined with ``;``).
    links
        One row per directed link ``u`` -> ``v`` between consecutive stop places of any trip, with
        ``travel_time`` (median scheduled seconds, at least ``MIN_LINK_TIME_S``) and
        ``num_trips`` (how many trips use it).
    """

    places: pd.DataFrame
    links: pd.DataFrame


def _read_table(
    feed: zipfile.ZipFile, name: str, path: Path, dtype: dict[str, type]
) -> pd.DataFrame:
    try:
        with feed.open(name) as f:
            return pd.read_csv(f, dtype=dtype, keep_default_na=False)
    except KeyError:
        raise DataMissingError(f"{path}:{name}", "the GTFS feed has no such table") from None


def parse_gtfs_time(values: pd.Series) -> pd.Series:
    """Turn GTFS ``H:MM:SS`` strings (hours may exceed 24) into seconds from the day start.

    Parameters
    ----------
    values
        Strings like ``"5:28:00"`` or ``"25:10:00"``.

    Returns
    -------
    seconds
        Integer seconds from the start of the service day.
    """
    if values.empty:  # a day without trips; split(expand=True) would have no columns
        return pd.Series([], index=values.index, dtype=int)
    parts = values.str.split(":", expand=True).astype(int)
    return parts[0] * 3600 + parts[1] * 60 + parts[2]


def merge_stop_places(stops: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Merge the platforms (stop ids) of ``stops.txt`` that share name and coordinates.

    Every reader of a feed uses this one merge, so that stop places get the same node ids
    in the road network and in the timetable.

    Parameters
    ----------
    stops
        ``stops.txt`` with ``stop_id``, ``stop_name``, ``stop_lat`` and ``stop_lon``.

    Returns
    -------
    places
        One row per stop place, indexed by ``node`` (0..n-1, in order of name and
        coordinates), with ``name``, ``y`` (lat), ``x`` (lon) and ``stop_ids`` (joined with
        ``;``).
    node_of_stop
        Stop id -> node.
    """
    table = pd.DataFrame(
        {
            "stop_id": stops["stop_id"].astype(str).to_numpy(),
            "stop_name": stops["stop_name"].astype(str).to_numpy(),
            "stop_lat": stops["stop_lat"].astype(float).to_numpy(),
            "stop_lon": stops["stop_lon"].astype(float).to_numpy(),
        }
    )
    key = ["stop_name", "stop_lat", "stop_lon"]
    grouped = table.groupby(key, sort=True)["stop_id"].agg(lambda ids: ";".join(sorted(ids)))
    places = grouped.reset_index().rename(
        columns={"stop_name": "name", "stop_lat": "y", "stop_lon": "x", "stop_id": "stop_ids"}
    )
    places.index.name = "node"
    node_of_stop = {
        stop_id: int(node)
        for node, ids in zip(places.index, places["stop_ids"], strict=True)
        for stop_id in ids.split(";")
    }
    return places, node_of_stop


def _open_feed(path: Path) -> zipfile.ZipFile:
    if not path.is_file():
        raise DataMissingError(str(path), "GTFS file not found")
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise RoutingError(str(path), "not a GTFS zip archive") from None


def read_stop_places(path: Path) -> pd.DataFrame:
    """Read the stop places of a GTFS zip file (``stops.txt`` only), as ``merge_stop_places``.

    The node ids are those of the network built by ``read_stop_network``, also of places the
    network later drops.

    Raises
    ------
    DataMissingError
        If the file or its ``stops.txt`` is missing.
    RoutingError
        If the file is not a zip archive.
    """
    with _open_feed(path) as feed:
        stops = _read_table(feed, "stops.txt", path, {"stop_id": str, "stop_name": str})
    return merge_stop_places(stops)[0]


def read_stop_network(path: Path) -> StopNetwork:
    """Read the stop places and scheduled stop-to-stop links of a GTFS zip file.

    Platforms (stop ids) with the same name and coordinates are merged into one stop place.
    Every pair of consecutive stops of every trip becomes a link; its travel time is the median
    scheduled time over all trips (departure at the first to arrival at the second).

    Parameters
    ----------
    path
        The GTFS zip file.

    Returns
    -------
    network
        The stop places and links.

    Raises
    ------
    DataMissingError
        If the file or one of ``stops.txt``/``stop_times.txt`` is missing.
    RoutingError
        If the file is not a zip archive.
    """
    with _open_feed(path) as feed:
        stops = _read_table(feed, "stops.txt", path, {"stop_id": str, "stop_name": str})
        stop_times = _read_table(
            feed,
            "stop_times.txt",
            path,
            {"trip_id": str, "stop_id": str, "arrival_time": str, "departure_time": str},
        )

    places, node_of_stop = merge_stop_places(stops)
    st = stop_times.assign(
        stop_sequence=stop_times["stop_sequence"].astype(int),
        arrival_s=parse_gtfs_time(stop_times["arrival_time"]),
        departure_s=parse_gtfs_time(stop_times["departure_time"]),
        node=stop_times["stop_id"].map(node_of_stop),
    ).sort_values(["trip_id", "stop_sequence"])
    unknown = st["node"].isna()
    if unknown.any():
        bad = st.loc[unknown, "stop_id"].iloc[0]
        raise RoutingError(f"{path}:stop_times.txt", f"stop_id {bad!r} is not in stops.txt")
    st["node"] = st["node"].astype(int)

    nxt = st.groupby("trip_id", sort=False).shift(-1)
    links = pd.DataFrame(
        {
            "u": st["node"],
            "v": nxt["node"],
            "travel_time": nxt["arrival_s"] - st["departure_s"],
        }
    ).dropna()
    links = links[links["u"] != links["v"]].astype({"u": int, "v": int})
    links = (
        links.groupby(["u", "v"])["travel_time"]
        .agg(travel_time="median", num_trips="size")
        .reset_index()
    )
    links["travel_time"] = links["travel_time"].clip(lower=MIN_LINK_TIME_S).astype(float)
    log.info(
        "GTFS %s: %d stop ids, %d stop places, %d links",
        path.name,
        len(stops),
        len(places),
        len(links),
    )
    return StopNetwork(places=places, links=links)
