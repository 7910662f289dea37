"""Synthetic ride requests weighted by where people live (GeoNames places with population).

Origins and destinations are places drawn by a gravity model, ``P(o, d) ~ pop(o) * pop(d) *
exp(-distance / scale)``, each mapped to one of its nearest bookable stops. Wish times follow
a daily profile with the school and work peaks of a rural district.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from planner.booking import TripRequest
from planner.stops import StopCatalog

#: Share of requests per hour of the day (06-21 h); morning and afternoon peaks.
HOURLY_PROFILE = {
    6: 6, 7: 10, 8: 9, 9: 6, 10: 5, 11: 5, 12: 6, 13: 7,
    14: 7, 15: 8, 16: 8, 17: 7, 18: 5, 19: 4, 20: 3, 21: 2,
}  # fmt: skip

#: Distance decay of the gravity model (km): most rural trips stay within 10-20 km.
GRAVITY_SCALE_KM = 12.0

#: Stops per place among which a trip end is drawn (a place's nearest bookable stops).
STOPS_PER_PLACE = 3


@dataclass(frozen=True)
class PlaceStops:
    """Places with population and, for each, its nearest bookable stops."""

    names: tuple[str, ...]
    population: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    stops: tuple[tuple[int, ...], ...]


def read_places(path: Path, catalog: StopCatalog) -> PlaceStops:
    """Read ``places.csv`` (name, lat, lon, population) and attach the nearest stops."""
    places = pd.read_csv(path)
    G = catalog.network.graph
    nodes = np.array(catalog.nodes)
    lon = np.array([G.nodes[n]["x"] for n in nodes])
    lat = np.array([G.nodes[n]["y"] for n in nodes])
    stops = []
    for plon, plat in zip(places["lon"], places["lat"], strict=True):
        dx = (lon - plon) * math.cos(math.radians(plat))
        dy = lat - plat
        nearest = np.argsort(dx * dx + dy * dy)[:STOPS_PER_PLACE]
        stops.append(tuple(int(n) for n in nodes[nearest]))
    return PlaceStops(
        tuple(places["name"]),
        places["population"].to_numpy(dtype=float),
        places["lon"].to_numpy(dtype=float),
        places["lat"].to_numpy(dtype=float),
        tuple(stops),
    )


def gravity_weights(places: PlaceStops, *, scale_km: float = GRAVITY_SCALE_KM) -> np.ndarray:
    """Origin-destination weights ``pop(o) * pop(d) * exp(-km / scale)``, zero on the diagonal."""
    km_per_deg = 111.2
    dx = (places.lon[:, None] - places.lon[None, :]) * km_per_deg * math.cos(math.radians(51.8))
    dy = (places.lat[:, None] - places.lat[None, :]) * km_per_deg
    km = np.hypot(dx, dy)
    weights = places.population[:, None] * places.population[None, :] * np.exp(-km / scale_km)
    np.fill_diagonal(weights, 0.0)
    return weights / weights.sum()


def sample_trips(
    places: PlaceStops, day: date, count: int, *, seed: int = 0, arrive_by_share: float = 0.3
) -> list[TripRequest]:
    """Draw ``count`` trip requests for ``day``.

    Parameters
    ----------
    places
        From :func:`read_places`.
    day
        The service day.
    count
        Number of requests.
    seed
        Random seed; the same seed gives the same trips.
    arrive_by_share
        Share of "arrive by" wishes (the rest are "pick me up at").

    Returns
    -------
    trips
        In no particular order.
    """
    rng = np.random.default_rng(seed)
    weights = gravity_weights(places).ravel()
    n = len(places.names)
    hours = np.array(list(HOURLY_PROFILE))
    hour_p = np.array(list(HOURLY_PROFILE.values()), dtype=float)
    hour_p /= hour_p.sum()
    trips = []
    while len(trips) < count:
        o, d = divmod(int(rng.choice(n * n, p=weights)), n)
        origin = int(rng.choice(places.stops[o]))
        destination = int(rng.choice(places.stops[d]))
        if origin == destination:
            continue
        minute = int(rng.choice(hours, p=hour_p)) * 60 + int(rng.integers(0, 12)) * 5
        kind = "arrival" if rng.random() < arrive_by_share else "pickup"
        people = int(rng.choice([1, 1, 1, 1, 2, 2, 3]))
        wheelchairs = 1 if rng.random() < 0.04 else 0
        trips.append(
            TripRequest(
                day, origin, destination, kind, minute * 60, people - wheelchairs, wheelchairs
            )  # fmt: skip
        )
    return trips
