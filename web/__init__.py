"""The Rufbus web app: JSON API (and, later, pages) over the booking engine."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask, current_app

from planner.booking import BookingEngine
from planner.service import load_service
from planner.stops import build_catalog
from planner.store import Store, open_store
from routing.network import default_source, load_network
from routing.sources.osm import read_area
from web.config import AppConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    """What the app's views use, built once per app (never at module level)."""

    config: AppConfig
    store: Store
    engine: BookingEngine


def build_engine(config: AppConfig, store: Store) -> BookingEngine:
    """Load the service, the network and the bookable stops, and make the booking engine."""
    service = load_service(config.service_file)
    settings = config.settings
    area_path = (
        settings.data_file("boundary") if service.boundary == "district" else service.boundary
    )
    area = read_area(area_path)
    network = load_network(
        default_source(settings),
        cache_dir=settings.cache_dir,
        area=area,
        area_name="the service area",
    )
    return BookingEngine(service, build_catalog(network, area), store)


def create_app(config: AppConfig | None = None, *, engine: BookingEngine | None = None) -> Flask:
    """Create the Flask app.

    Parameters
    ----------
    config
        Configuration; read from the environment when None.
    engine
        A ready booking engine (tests pass one with a fixed clock); built from ``config``
        when None.

    Returns
    -------
    app
        The app, with its schema migrated.
    """
    config = config or AppConfig.from_env()
    app = Flask(__name__)
    app.config.from_mapping(
        SECRET_KEY=config.secret_key,
        MAX_CONTENT_LENGTH=config.max_body_bytes,
        TESTING=config.testing,
        JSON_SORT_KEYS=False,
    )
    store = engine.store if engine is not None else open_store(config.database_url)
    engine = engine or build_engine(config, store)
    app.extensions["rufbus"] = Services(config, store, engine)

    from web import api, auth

    app.register_blueprint(api.bp)
    auth.init_app(app)
    return app


def services() -> Services:
    """The current app's services (inside a request or app context)."""
    return current_app.extensions["rufbus"]
