"""Fixtures of the API tests: the app with two staff accounts, and its test client."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from planner.booking import BookingEngine
from planner.world import WorldConfig
from web import create_app
from web.auth import add_user
from web.config import AppConfig, RateLimit


@pytest.fixture
def app(world_config: WorldConfig, engine: BookingEngine) -> Flask:
    # the API tests send hundreds of offers from one address; tests of the throttle make
    # an app with the default limits
    roomy = RateLimit(10_000, 60)
    config = AppConfig(
        world_config, secret_key="test", testing=True,
        optimize_seconds=2, offer_limit=roomy, lookup_limit=roomy,
    )  # fmt: skip
    add_user(engine.store, "disp", "dispatcher", "dispatch-pw")
    add_user(engine.store, "ana", "analyst", "analyst-pw")
    return create_app(config, engine=engine)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
