"""Problem data of the dial-a-ride problem: requests, vehicles and the instance.

Times are floats in the instance's time unit (seconds for Rufbus's service, minutes for
the Cordeau benchmark files); locations are indices ``0..L-1`` into the travel-time and
distance matrices. Nothing here knows about file formats or solvers.
"""

from __future__ import annotations

import copy
import math
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from planner.errors import InvalidInstanceError

INF = math.inf


def max_ride_time(direct: float, *, alpha: float = 1.5, beta: float = 600.0) -> float:
    """Return Rufbus's maximum ride time ``alpha * direct + beta``.

    Parameters
    ----------
    direct
        Direct travel time from pickup to drop-off.
    alpha
        Detour factor (1.5 allows 50 % detour).
    beta
        Constant allowance in the same unit as ``direct`` (600 s = 10 min).

    Returns
    -------
    limit
        The maximum ride time.
    """
    if direct < 0 or alpha < 1 or beta < 0:
        msg = f"need direct >= 0, alpha >= 1, beta >= 0; got {direct}, {alpha}, {beta}"
        raise InvalidInstanceError("max_ride_time", msg)
    return alpha * direct + beta


def _check_window(owner: str, name: str, earliest: float, latest: float) -> None:
    if math.isnan(earliest) or math.isnan(latest) or earliest > latest:
        msg = f"earliest {earliest} is after latest {latest}"
        raise InvalidInstanceError(f"{owner}.{name}", msg)


@dataclass(frozen=True, slots=True)
class Request:
    """One ride: pickup and drop-off locations, load, windows and service times.

    A pickup window is ``earliest_pickup``/``latest_pickup``; an arrival-by deadline is
    ``latest_dropoff``. Any combination of the four bounds is allowed; unset bounds are open.
    Window bounds apply to the start of service.

    ``vehicle_id`` makes the request a task of that vehicle itself, such as a driver's
    break (:mod:`planner.darp.breaks`): only that vehicle serves it, and a plan may not
    leave it out.
    """

    id: str
    pickup: int
    dropoff: int
    passengers: int = 1
    wheelchairs: int = 0
    earliest_pickup: float = 0.0
    latest_pickup: float = INF
    earliest_dropoff: float = 0.0
    latest_dropoff: float = INF
    pickup_service_time: float = 0.0
    dropoff_service_time: float = 0.0
    max_ride_time: float = INF
    vehicle_id: str | None = None

    def __post_init__(self) -> None:
        owner = f"request {self.id!r}"
        if self.pickup < 0 or self.dropoff < 0:
            raise InvalidInstanceError(f"{owner}.pickup", "locations must be >= 0")
        if self.passengers < 0 or self.wheelchairs < 0 or self.passengers + self.wheelchairs == 0:
            msg = "passengers and wheelchairs must be >= 0 and not both 0"
            raise InvalidInstanceError(f"{owner}.passengers", msg)
        _check_window(owner, "earliest_pickup", self.earliest_pickup, self.latest_pickup)
        _check_window(owner, "earliest_dropoff", self.earliest_dropoff, self.latest_dropoff)
        for name in ("pickup_service_time", "dropoff_service_time", "max_ride_time"):
            value = getattr(self, name)
            if not value >= 0:
                raise InvalidInstanceError(f"{owner}.{name}", f"must be >= 0, got {value}")


@dataclass(frozen=True, slots=True)
class Vehicle:
    """One bus: depots, shift window and capacities."""

    id: str
    start_depot: int
    end_depot: int
    seats: int
    wheelchair_places: int = 0
    shift_start: float = 0.0
    shift_end: float = INF
    max_route_duration: float = INF

    def __post_init__(self) -> None:
        owner = f"vehicle {self.id!r}"
        if self.start_depot < 0 or self.end_depot < 0:
            raise InvalidInstanceError(f"{owner}.start_depot", "locations must be >= 0")
        if self.seats < 0 or self.wheelchair_places < 0:
            raise InvalidInstanceError(f"{owner}.seats", "capacities must be >= 0")
        _check_window(owner, "shift_start", self.shift_start, self.shift_end)
        if not self.max_route_duration >= 0:
            raise InvalidInstanceError(f"{owner}.max_route_duration", "must be >= 0")


#: Matrices already checked, by the identity of the (read-only) array handed in: a booking
#: day builds an instance per request over the same district matrices (millions of entries),
#: and copying and checking them each time cost more than the insertion itself. An entry
#: lives as long as the array it was made for.
_CHECKED: dict[int, tuple[weakref.ref[np.ndarray], np.ndarray | None]] = {}


def _checked_matrix(name: str, value: object) -> np.ndarray:
    """A read-only copy of a square, finite, non-negative matrix (checked once per array)."""
    if isinstance(value, np.ndarray):
        ref, copy = _CHECKED.get(id(value), (None, None))
        if ref is not None and ref() is value:
            return value if copy is None else copy  # None: value is a checked copy itself
    arr = np.array(value, dtype=float)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise InvalidInstanceError(name, f"must be a square matrix, got {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise InvalidInstanceError(name, "must be finite and >= 0")
    arr.setflags(write=False)
    _remember(arr, None)
    if isinstance(value, np.ndarray) and not value.flags.writeable:
        # a read-only array cannot change under the check: its copy lives as long as it does
        _remember(value, arr)
    return arr


def _remember(key: np.ndarray, copy: np.ndarray | None) -> None:
    _CHECKED[id(key)] = (weakref.ref(key), copy)
    weakref.finalize(key, _CHECKED.pop, id(key), None)


@dataclass(frozen=True, slots=True, eq=False)
class Instance:
    """A dial-a-ride instance: matrices over locations, requests and the fleet.

    ``travel_times[i, j]`` and ``distances[i, j]`` are from location ``i`` to ``j``. The
    arrays are copied and made read-only.
    """

    name: str
    travel_times: np.ndarray
    distances: np.ndarray
    requests: tuple[Request, ...]
    vehicles: tuple[Vehicle, ...]
    time_unit: str = "s"
    _request_index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("travel_times", "distances"):
            object.__setattr__(self, name, _checked_matrix(name, getattr(self, name)))
        if self.travel_times.shape != self.distances.shape:
            msg = f"shape {self.distances.shape} differs from travel_times"
            raise InvalidInstanceError("distances", msg)
        object.__setattr__(self, "requests", tuple(self.requests))
        object.__setattr__(self, "vehicles", tuple(self.vehicles))
        seen: set[str] = set()
        for k, veh in enumerate(self.vehicles):
            if veh.id in seen:
                raise InvalidInstanceError(f"vehicles[{k}].id", f"duplicate id {veh.id!r}")
            seen.add(veh.id)
            if max(veh.start_depot, veh.end_depot) >= self.num_locations:
                msg = f"location out of range 0..{self.num_locations - 1}"
                raise InvalidInstanceError(f"vehicles[{k}].start_depot", msg)
        object.__setattr__(self, "_request_index", {})
        self._index_requests(0)

    def _index_requests(self, start: int) -> None:
        """Check the requests from ``start`` on and add them to the index by id."""
        index = self._request_index
        vehicles = {veh.id for veh in self.vehicles}
        for k in range(start, len(self.requests)):
            req = self.requests[k]
            if req.id in index:
                raise InvalidInstanceError(f"requests[{k}].id", f"duplicate id {req.id!r}")
            index[req.id] = k
            if max(req.pickup, req.dropoff) >= self.num_locations:
                msg = f"location out of range 0..{self.num_locations - 1}"
                raise InvalidInstanceError(f"requests[{k}].pickup", msg)
            if req.vehicle_id is not None and req.vehicle_id not in vehicles:
                msg = f"no vehicle {req.vehicle_id!r}"
                raise InvalidInstanceError(f"requests[{k}].vehicle_id", msg)

    def with_requests(self, extra: Sequence[Request]) -> Instance:
        """The same instance with ``extra`` requests added after its own.

        Only the new requests are checked: a booking day adds one or a few requests to
        hundreds for every offer and confirmation.
        """
        grown = copy.copy(self)
        object.__setattr__(grown, "requests", self.requests + tuple(extra))
        object.__setattr__(grown, "_request_index", dict(self._request_index))
        grown._index_requests(len(self.requests))
        return grown

    @property
    def num_locations(self) -> int:
        """Number of locations (rows of the matrices)."""
        return int(self.travel_times.shape[0])

    @property
    def num_requests(self) -> int:
        """Number of requests."""
        return len(self.requests)

    @property
    def num_vehicles(self) -> int:
        """Number of vehicles."""
        return len(self.vehicles)

    def request_index(self, request_id: str) -> int:
        """Return the position of the request with this id.

        Raises
        ------
        KeyError
            If no request has this id.
        """
        return self._request_index[request_id]

    def direct_time(self, request: Request) -> float:
        """Return the direct travel time from the request's pickup to its drop-off."""
        return float(self.travel_times[request.pickup, request.dropoff])
