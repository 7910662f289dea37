"""Fixtures shared by the test packages: the real data with a fresh cache, and the engine."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from planner.booking import BookingEngine
from planner.stops import StopCatalog
from planner.store.db import Store, open_store
from planner.world import World, WorldConfig, load_timetable, load_world, make_engine
from routing.settings import Settings
from routing.timetable import TimetableCache
from tests.web.helpers import Clock

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Real data folder (``RUFBUS_DATA_DIR`` or the default) and a fresh cache folder."""
    real = Settings.from_env()
    return Settings(data_dir=real.data_dir, cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def world(settings: Settings) -> World:
    """The default service's world without the timetable (most tests book by bus only)."""
    return load_world(settings, timetable=False)


@pytest.fixture(scope="session")
def catalog(world: World) -> StopCatalog:
    """The bookable stops of the district on the default (GTFS) network."""
    return world.catalog


@pytest.fixture(scope="session")
def timetable(world: World) -> TimetableCache:
    """The default service's timetable: KVG Salzland (built per date on first use),
    walking up to 400 m."""
    return load_timetable(world.settings, world.service)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'rufbus.sqlite3'}"


@pytest.fixture
def world_config(settings: Settings, db_url: str) -> WorldConfig:
    """Where the test world comes from: the test folders, the fresh database, the default
    service file."""
    return WorldConfig(settings, db_url)


@pytest.fixture
def store(db_url: str) -> Store:
    return open_store(db_url)


@pytest.fixture
def engine(world: World, store: Store, clock: Clock) -> BookingEngine:
    """The booking engine of the default service (without the timetable), on a fresh
    database, at a set time."""
    return make_engine(world, store, clock=clock)


@pytest.fixture(scope="session")
def scenario_root(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scenario folder with two real small batches, ``small-a`` and ``small-b``.

    Both are one run of ``fixtures/scenarios/tiny.yaml`` (one bus, 30 requests) with seeds 1
    and 2, so that they share their swept value and differ in their results.
    """
    # imported here: the scenario modules draw charts (matplotlib), which most tests need not
    from planner.scenarios.batch import run_batch
    from planner.scenarios.scenario import load_scenario
    from web.scenario_report import write_report

    root = tmp_path_factory.mktemp("scenarios")
    spec = load_scenario(REPO / "fixtures" / "scenarios" / "tiny.yaml")[0]
    for name, seed in (("small-a", 1), ("small-b", 2)):
        folder = root / name
        table = run_batch([dataclasses.replace(spec, seed=seed)], folder, settings=settings,
                          progress=False)  # fmt: skip
        write_report(table, folder, boundary_file=settings.data_file("boundary"))
    return root
