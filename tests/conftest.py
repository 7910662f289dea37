"""Fixtures shared by the test packages: the real data with a fresh cache, and the engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.booking import BookingEngine
from planner.service import load_service
from planner.stops import StopCatalog, build_catalog
from planner.store.db import Store, open_store
from routing.network import default_source, district_area, load_network
from routing.settings import Settings
from routing.timetable import TimetableCache
from tests.web.helpers import Clock


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Real data folder (``RUFBUS_DATA_DIR`` or the default) and a fresh cache folder."""
    real = Settings.from_env()
    return Settings(data_dir=real.data_dir, cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def catalog(settings: Settings) -> StopCatalog:
    """The bookable stops of the district on the default (GTFS) network."""
    area = district_area(settings)
    network = load_network(default_source(settings), cache_dir=settings.cache_dir, area=area)
    return build_catalog(network, area)


@pytest.fixture(scope="session")
def timetable(settings: Settings) -> TimetableCache:
    """The KVG Salzland timetable (built per date on first use), walking up to 400 m."""
    return TimetableCache([settings.data_file("gtfs")], walk_max_m=400)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'rufbus.sqlite3'}"


@pytest.fixture
def store(db_url: str) -> Store:
    return open_store(db_url)


@pytest.fixture
def engine(catalog: StopCatalog, store: Store, clock: Clock) -> BookingEngine:
    """The booking engine of the default service, on a fresh database, at a set time."""
    return BookingEngine(load_service(), catalog, store, clock=clock)
