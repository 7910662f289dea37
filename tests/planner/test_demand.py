"""The demand generator reproduces its inputs: place weights, time profile, shares."""

from __future__ import annotations

from collections import Counter
from datetime import date

import numpy as np
import pytest

from planner.scenarios.demand import (
    HOURLY_PROFILE,
    DemandParams,
    PlaceStops,
    gravity_weights,
    read_places,
    sample_demand,
)
from planner.stops import StopCatalog
from routing.settings import Settings

DAY = date(2026, 12, 2)
N = 4000


@pytest.fixture(scope="module")
def places(settings: Settings, catalog: StopCatalog) -> PlaceStops:
    return read_places(settings.data_file("places"), catalog)


@pytest.fixture(scope="module")
def demand(places: PlaceStops):
    return sample_demand(places, DAY, DemandParams(requests=N), seed=7)


def test_places_and_their_stops(places: PlaceStops) -> None:
    assert len(places.names) == 70
    assert places.names[0] == "Bernburg"
    assert all(stops for stops in places.stops)
    # a town has many stops, among them its rail station, an attractor
    assert len(places.stops[0]) > 20
    assert any(places.attractor_stops[0])


def test_same_seed_same_demand(places: PlaceStops) -> None:
    a = sample_demand(places, DAY, DemandParams(requests=50), seed=3)
    b = sample_demand(places, DAY, DemandParams(requests=50), seed=3)
    c = sample_demand(places, DAY, DemandParams(requests=50), seed=4)
    assert a == b and a != c
    assert [r.booked_at_s for r in a] == sorted(r.booked_at_s for r in a)


def test_shares_match_parameters(demand) -> None:
    params = DemandParams()
    trips = [r.trip for r in demand]

    def within(observed: float, expected: float) -> bool:
        sigma = (expected * (1 - expected) / N) ** 0.5
        return abs(observed - expected) <= 4 * sigma

    assert within(np.mean([t.wheelchairs > 0 for t in trips]), params.wheelchair_share)
    assert within(np.mean([t.kind == "arrival" for t in trips]), params.arrive_by_share)
    assert within(np.mean([r.booked_at_s < 0 for r in demand]), params.prebooked_share)
    assert within(np.mean([t.passengers + t.wheelchairs > 1 for t in trips]), params.group_share)
    # short-notice requests are booked the set lead time before the wish (pickup-at)
    short = [r for r in demand if r.booked_at_s >= 0 and r.trip.kind == "pickup"]
    assert all(r.trip.time_s - r.booked_at_s == params.short_notice_lead_min * 60 for r in short)


def test_time_profile(demand) -> None:
    hours = Counter(r.trip.time_s // 3600 for r in demand)
    total = sum(HOURLY_PROFILE.values())
    for hour, weight in HOURLY_PROFILE.items():
        expected = weight / total
        sigma = (expected * (1 - expected) / N) ** 0.5
        assert abs(hours[hour] / N - expected) <= 4 * sigma, hour
    assert set(hours) <= set(HOURLY_PROFILE)


def test_origins_follow_population_gravity(places: PlaceStops, demand) -> None:
    # the exact probability of each origin stop under the model
    origin_place = gravity_weights(places, DemandParams()).sum(axis=1)
    expected: Counter[int] = Counter()
    for p, stops in enumerate(places.stops):
        for stop in stops:  # origins: every stop of the place is equally likely
            expected[stop] += origin_place[p] / len(stops)
    observed = Counter(r.trip.origin for r in demand)
    # the self-loops the sampler redraws (origin == destination) are rare: 4 sigma holds
    for stop, p in expected.most_common(10):
        sigma = (p * (1 - p) / N) ** 0.5
        assert abs(observed[stop] / N - p) <= 4 * sigma + 0.005, stop
    # the towns draw most trips: Bernburg alone more than a village of 500 people
    bernburg = sum(observed[s] for s in places.stops[0])
    smallest = int(np.argmin(places.population))
    assert bernburg > 5 * sum(observed[s] for s in places.stops[smallest])
