"""Snapping points to the network, inside and outside the district."""

from __future__ import annotations

import pytest

from routing.errors import SnapError
from routing.network import Network


def test_snap_inside_district(gtfs_network: Network) -> None:
    G = gtfs_network.graph
    node = next(n for n, name in G.nodes(data="name") if name == "Staßfurt, Bahnhof (Bus)")
    x, y = G.nodes[node]["x"], G.nodes[node]["y"]
    snapped = gtfs_network.snap(x + 0.001, y)  # about 70 m east of the stop
    assert snapped.node == node
    assert 50 < snapped.distance_m < 90


@pytest.mark.parametrize(
    ("lon", "lat", "message"),
    [
        (13.40, 52.52, r"\(lon 13.4, lat 52.52\) lies outside the Salzlandkreis"),
        (11.99, 51.48, r"lies outside the Salzlandkreis"),  # Halle, just south of the district
        (200.0, 51.0, r"is not a valid WGS84 coordinate"),
    ],
)
def test_snap_outside_district_errors(
    gtfs_network: Network, lon: float, lat: float, message: str
) -> None:
    with pytest.raises(SnapError, match=message) as info:
        gtfs_network.snap(lon, lat)
    assert info.value.field == "point"


def test_snap_too_far(gtfs_network: Network) -> None:
    # inside the district, but in fields more than 50 m from any stop
    with pytest.raises(SnapError, match=r"m from the nearest node; the limit is 50 m"):
        gtfs_network.snap(11.60, 51.90, max_distance_m=50)
