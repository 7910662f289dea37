"""Fixtures for the booking engine and the API: real data, a real SQLite file, a set clock."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from planner.booking import BookingEngine
from planner.service import load_service
from planner.stops import StopCatalog, build_catalog
from planner.store import Store, open_store
from routing.network import default_source, district_area, load_network
from routing.settings import Settings
from tests.web.helpers import Clock
from web import create_app
from web.auth import add_user
from web.config import AppConfig


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    real = Settings.from_env()
    return Settings(data_dir=real.data_dir, cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def catalog(settings: Settings) -> StopCatalog:
    area = district_area(settings)
    network = load_network(default_source(settings), cache_dir=settings.cache_dir, area=area)
    return build_catalog(network, area)


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
    return BookingEngine(load_service(), catalog, store, clock=clock)


@pytest.fixture
def app(settings: Settings, engine: BookingEngine, db_url: str) -> Flask:
    config = AppConfig(settings=settings, database_url=db_url, secret_key="test", testing=True)
    add_user(engine.store, "disp", "dispatcher", "dispatch-pw")
    add_user(engine.store, "ana", "analyst", "analyst-pw")
    return create_app(config, engine=engine)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
