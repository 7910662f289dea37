"""Readers for the public benchmark files: Cordeau DARP (a and pr formats) and Li & Lim PDPTW.

Locations are the file's node ids, so a route's locations are the ids the file uses.
Distances and travel times are the unrounded Euclidean distances (speed 1).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from planner.darp.model import Instance, Request, Vehicle
from planner.errors import InstanceFormatError


@dataclass(frozen=True, slots=True)
class BestKnown:
    """A best-known solution value from a ``bks.csv`` file."""

    instance: str
    vehicles: int
    requests: int
    cost: float
    source: str


def _rows(path: Path) -> list[list[str]]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise InstanceFormatError(str(path), f"cannot read file ({exc.strerror})") from exc
    rows = [line.split() for line in text.splitlines()]
    return [row for row in rows if row]


def _numbers(path: Path, rows: list[list[str]], k: int, width: int) -> list[float]:
    if k >= len(rows):
        raise InstanceFormatError(f"{path}: line {k + 1}", "missing (file too short)")
    row = rows[k]
    if len(row) < width:
        msg = f"expected {width} fields, got {len(row)}"
        raise InstanceFormatError(f"{path}: line {k + 1}", msg)
    try:
        return [float(x) for x in row[:width]]
    except ValueError as exc:
        raise InstanceFormatError(f"{path}: line {k + 1}", f"not a number ({exc})") from exc


def _euclidean(coords: np.ndarray) -> np.ndarray:
    diff = coords[:, None, :] - coords[None, :, :]
    distances: np.ndarray = np.sqrt((diff**2).sum(axis=2))
    return distances


def read_cordeau(path: str | Path) -> Instance:
    """Read a Cordeau dial-a-ride file (``a``/``b`` sets with N = n, ``pr`` set with N = 2n).

    Parameters
    ----------
    path
        The instance file: header ``K N T Q L``, then ``id x y service load tw_start tw_end``
        per node, node 0 the depot, nodes ``1..n`` pickups and ``n+i`` the drop-off of ``i``;
        a/b files end with a copy of the depot as node ``2n+1``.

    Returns
    -------
    instance
        Times in minutes; request ``i`` has id ``"i"``; vehicles ``"1".."K"``.

    Raises
    ------
    InstanceFormatError
        If the file is missing or malformed; ``field`` names the file and line.
    """
    path = Path(path)
    rows = _rows(path)
    num_vehicles, big_n, max_duration, capacity, max_ride = _numbers(path, rows, 0, 5)
    nodes = rows[1:]
    # a/b files: N = n and 2n + 2 node lines; pr files: N = 2n and 2n + 1 node lines.
    if len(nodes) == 2 * int(big_n) + 2:
        n = int(big_n)
    elif len(nodes) == int(big_n) + 1 and int(big_n) % 2 == 0:
        n = int(big_n) // 2
    else:
        msg = (
            f"header N={int(big_n)} fits neither 2N+2 (a/b) nor N+1 (pr) node lines, "
            f"got {len(nodes)}"
        )
        raise InstanceFormatError(f"{path}: line 1", msg)
    v = [_numbers(path, rows, k + 1, 7) for k in range(len(nodes))]
    for k, row in enumerate(v):
        if int(row[0]) != k:
            raise InstanceFormatError(f"{path}: line {k + 2}", f"node id {int(row[0])} != {k}")
    for i in range(1, n + 1):
        if v[i][4] <= 0 or v[n + i][4] != -v[i][4]:
            msg = f"load {v[i][4]:g} / drop-off load {v[n + i][4]:g} do not pair up"
            raise InstanceFormatError(f"{path}: line {i + 2}", msg)
    dist = _euclidean(np.array(v)[:, 1:3])
    requests = tuple(
        Request(
            id=str(i),
            pickup=i,
            dropoff=n + i,
            passengers=int(v[i][4]),
            earliest_pickup=v[i][5],
            latest_pickup=v[i][6],
            earliest_dropoff=v[n + i][5],
            latest_dropoff=v[n + i][6],
            pickup_service_time=v[i][3],
            dropoff_service_time=v[n + i][3],
            max_ride_time=max_ride,
        )
        for i in range(1, n + 1)
    )
    end = 2 * n + 1 if len(nodes) == 2 * n + 2 else 0
    vehicles = tuple(
        Vehicle(
            id=str(k + 1),
            start_depot=0,
            end_depot=end,
            seats=int(capacity),
            shift_start=v[0][5],
            shift_end=v[0][6],
            max_route_duration=max_duration,
        )
        for k in range(int(num_vehicles))
    )
    return Instance(path.stem, dist, dist, requests, vehicles, time_unit="min")


def read_li_lim(path: str | Path) -> Instance:
    """Read a Li & Lim PDPTW file.

    Parameters
    ----------
    path
        Header ``K Q speed`` (speed ignored: travel time = distance), then
        ``id x y demand tw_start tw_end service pickup_id delivery_id`` per node.

    Returns
    -------
    instance
        Request ids are the pickup node ids; no ride-time or duration limits; the depot's
        window is the vehicles' shift.

    Raises
    ------
    InstanceFormatError
        If the file is missing or malformed.
    """
    path = Path(path)
    rows = _rows(path)
    num_vehicles, capacity, _speed = _numbers(path, rows, 0, 3)
    data = np.array([_numbers(path, rows, k, 9) for k in range(1, len(rows))])
    if len(data) < 3:
        raise InstanceFormatError(str(path), "fewer than 3 node lines")
    if any(int(row[0]) != k for k, row in enumerate(data)):
        raise InstanceFormatError(f"{path}: line 2", "node ids must be 0, 1, 2, ... in order")
    v = data.tolist()
    requests = []
    for k, row in enumerate(v):
        if k == 0 or row[3] <= 0:
            continue
        d = int(row[8])
        if not 0 < d < len(v) or int(v[d][7]) != k or v[d][3] != -row[3]:
            msg = f"pickup {k} and delivery {d} do not link up"
            raise InstanceFormatError(f"{path}: line {k + 2}", msg)
        requests.append(
            Request(
                id=str(k),
                pickup=k,
                dropoff=d,
                passengers=int(row[3]),
                earliest_pickup=row[4],
                latest_pickup=row[5],
                earliest_dropoff=v[d][4],
                latest_dropoff=v[d][5],
                pickup_service_time=row[6],
                dropoff_service_time=v[d][6],
            )
        )
    dist = _euclidean(data[:, 1:3])
    vehicles = tuple(
        Vehicle(
            id=str(k + 1),
            start_depot=0,
            end_depot=0,
            seats=int(capacity),
            shift_start=v[0][4],
            shift_end=v[0][5],
        )
        for k in range(int(num_vehicles))
    )
    return Instance(path.stem, dist, dist, tuple(requests), vehicles, time_unit="min")


def read_bks(path: str | Path) -> dict[str, BestKnown]:
    """Read a ``bks.csv`` (``instance,vehicles,requests,bks_cost,source``) keyed by instance.

    Raises
    ------
    InstanceFormatError
        If the file is missing or a row is malformed.
    """
    path = Path(path)
    try:
        with path.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise InstanceFormatError(str(path), f"cannot read file ({exc.strerror})") from exc
    out = {}
    for k, row in enumerate(rows):
        try:
            out[row["instance"]] = BestKnown(
                row["instance"],
                int(row["vehicles"]),
                int(row["requests"]),
                float(row["bks_cost"]),
                row.get("source", ""),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InstanceFormatError(f"{path}: row {k + 2}", f"malformed ({exc})") from exc
    return out


def gap_pct(cost: float, best: float) -> float:
    """Return ``100 * (cost - best) / best`` (``nan`` if ``best`` is not positive)."""
    return 100.0 * (cost - best) / best if best > 0 else math.nan
