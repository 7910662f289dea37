"""Fixtures for the road network tests: the real data, with caches in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.graph import Source
from routing.network import Network, district_area, load_network
from routing.settings import Settings


@pytest.fixture(scope="session")
def gtfs_network(settings: Settings) -> Network:
    """The default offline network of the district, snapping limited to the district."""
    source = Source("gtfs", str(settings.data_file("gtfs")))
    return load_network(
        source,
        cache_dir=settings.cache_dir,
        area=district_area(settings),
        area_name="the Salzlandkreis",
    )


@pytest.fixture(scope="session")
def bayreuth_network(settings: Settings) -> Network:
    """The real OSM extract north of Bayreuth."""
    source = Source("osm-file", str(settings.data_file("osm_north_bayreuth")))
    return load_network(source, cache_dir=settings.cache_dir)


@pytest.fixture(scope="session")
def bautzen_path(settings: Settings) -> Path:
    return settings.data_file("osm_bautzen")
