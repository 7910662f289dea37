"""Synthetic ride requests weighted by where people live and where they go.

Origins and destinations are GeoNames places drawn by a gravity model,
``P(o, d) ~ pop(o) * mass(d) * exp(-km(o, d) / gravity_km)``, where a destination's mass is
its population, times ``attractor_weight`` for the four towns (Bernburg, Schönebeck,
Aschersleben, Staßfurt: shops, doctors, offices). Each trip end is one of the place's
bookable stops (those nearer to it than to any other place), and at the destination rail
stations and hospitals weigh ``attractor_weight`` times more than other stops. Wish times
follow a daily profile; each request also gets the time it is booked (the evening before,
or at short notice). Defaults and their sources are in ``docs/scenarios.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from planner.booking import TripRequest
from planner.booking.trip import WishKind
from planner.stops import StopCatalog

#: Relative number of trips starting in each hour (06-21 h): a school and work peak in the
#: morning, a broad afternoon peak, few trips at night. The shape follows the usual weekday
#: pattern of trip start times; the exact weights are an assumption.
HOURLY_PROFILE = {
    6: 6, 7: 10, 8: 9, 9: 6, 10: 5, 11: 5, 12: 6, 13: 7,
    14: 7, 15: 8, 16: 8, 17: 7, 18: 5, 19: 4, 20: 3, 21: 2,
}  # fmt: skip

TOWNS = ("Bernburg", "Schönebeck", "Aschersleben", "Staßfurt")
ATTRACTOR_WORDS = ("Bahnhof", "Klinikum", "Krankenhaus")


@dataclass(frozen=True, slots=True)
class DemandParams:
    """How many requests and of which kind (see ``docs/scenarios.md`` for the defaults)."""

    requests: int = 300
    wheelchair_share: float = 0.04
    group_share: float = 0.25
    arrive_by_share: float = 0.3
    prebooked_share: float = 0.6
    short_notice_lead_min: int = 90
    attractor_weight: float = 2.0
    gravity_km: float = 12.0


@dataclass(frozen=True, slots=True)
class DemandRequest:
    """A trip request and when it is made.

    ``booked_at_s`` counts seconds from the service day's midnight; negative is the day before.
    """

    trip: TripRequest
    booked_at_s: int

    @property
    def group(self) -> str:
        """Rider group for the KPIs: ``wheelchair``, ``group`` (2+ people) or ``single``."""
        if self.trip.wheelchairs:
            return "wheelchair"
        return "group" if self.trip.passengers > 1 else "single"


@dataclass(frozen=True)
class PlaceStops:
    """Places with population and, for each, its nearest bookable stops and their weights."""

    names: tuple[str, ...]
    population: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    stops: tuple[tuple[int, ...], ...]
    attractor_stops: tuple[tuple[bool, ...], ...]


def read_places(path: Path, catalog: StopCatalog) -> PlaceStops:
    """Read ``places.csv`` (name, lat, lon, population) and give each place its stops.

    Every bookable stop belongs to its nearest place, so a town's trips spread over all of
    its stops (including its rail station and hospital); a place no stop is nearest to gets
    its single nearest stop.
    """
    places = pd.read_csv(path)
    G = catalog.network.graph
    nodes = np.array(catalog.nodes)
    lon = np.array([G.nodes[n]["x"] for n in nodes])
    lat = np.array([G.nodes[n]["y"] for n in nodes])
    plon = places["lon"].to_numpy(dtype=float)
    plat = places["lat"].to_numpy(dtype=float)
    scale = math.cos(math.radians(float(plat.mean())))
    d2 = ((lon[:, None] - plon[None, :]) * scale) ** 2 + (lat[:, None] - plat[None, :]) ** 2
    owner = d2.argmin(axis=1)
    stops, attractors = [], []
    for p in range(len(places)):
        mine = [int(n) for n in nodes[owner == p]] or [int(nodes[d2[:, p].argmin()])]
        stops.append(tuple(mine))
        attractors.append(tuple(any(w in catalog.name(n) for w in ATTRACTOR_WORDS) for n in mine))
    return PlaceStops(
        tuple(places["name"]),
        places["population"].to_numpy(dtype=float),
        plon,
        plat,
        tuple(stops),
        tuple(attractors),
    )


def gravity_weights(places: PlaceStops, params: DemandParams) -> np.ndarray:
    """Origin-destination probabilities of the gravity model, zero on the diagonal."""
    km_per_deg = 111.2
    dx = (places.lon[:, None] - places.lon[None, :]) * km_per_deg * math.cos(math.radians(51.8))
    dy = (places.lat[:, None] - places.lat[None, :]) * km_per_deg
    km = np.hypot(dx, dy)
    town = np.array([name in TOWNS for name in places.names])
    mass = places.population * np.where(town, params.attractor_weight, 1.0)
    weights = places.population[:, None] * mass[None, :] * np.exp(-km / params.gravity_km)
    np.fill_diagonal(weights, 0.0)
    return weights / weights.sum()


def _stop(rng: np.random.Generator, places: PlaceStops, place: int, weight: float) -> int:
    w = np.where(places.attractor_stops[place], weight, 1.0)
    return int(rng.choice(places.stops[place], p=w / w.sum()))


def sample_demand(
    places: PlaceStops, day: date, params: DemandParams, *, seed: int = 0
) -> list[DemandRequest]:
    """Draw ``params.requests`` requests for ``day``, in booking-time order.

    The same seed and parameters give the same requests.
    """
    rng = np.random.default_rng(seed)
    weights = gravity_weights(places, params).ravel()
    n = len(places.names)
    hours = np.array(list(HOURLY_PROFILE))
    hour_p = np.array(list(HOURLY_PROFILE.values()), dtype=float)
    hour_p /= hour_p.sum()
    out: list[DemandRequest] = []
    while len(out) < params.requests:
        o, d = divmod(int(rng.choice(n * n, p=weights)), n)
        origin = _stop(rng, places, o, 1.0)
        destination = _stop(rng, places, d, params.attractor_weight)
        if origin == destination:
            continue
        minute = int(rng.choice(hours, p=hour_p)) * 60 + int(rng.integers(0, 12)) * 5
        kind: WishKind = "arrival" if rng.random() < params.arrive_by_share else "pickup"
        wheelchairs = int(rng.random() < params.wheelchair_share)
        people = int(rng.choice([2, 3], p=[0.75, 0.25])) if rng.random() < params.group_share else 1
        # a wheelchair user travels with people - 1 companions on seats
        trip = TripRequest(day, origin, destination, kind, minute * 60, people - wheelchairs,
                           wheelchairs)  # fmt: skip
        if rng.random() < params.prebooked_share:
            booked = int(rng.integers(16 * 3600, 20 * 3600)) - 24 * 3600  # the evening before
        else:
            lead = params.short_notice_lead_min * 60
            # an arrive-by wish is about an hour after its pickup
            booked = minute * 60 - lead - (3600 if kind == "arrival" else 0)
        out.append(DemandRequest(trip, booked))
    out.sort(key=lambda r: r.booked_at_s)
    return out
