"""The Rufbus web app: JSON API (and, later, pages) over the booking engine."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import xstatic.pkg.leaflet
from flask import Flask, Response, current_app, send_from_directory
from flask_wtf.csrf import CSRFProtect

from planner.booking.engine import BookingEngine
from planner.service import Service, load_service
from planner.stops import StopCatalog, build_catalog
from planner.store.db import Store, open_store
from routing.network import default_source, load_network
from routing.sources.osm import read_area
from routing.timetable import TimetableCache
from web.config import AppConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    """What the app's views use, built once per app (never at module level)."""

    config: AppConfig
    store: Store
    engine: BookingEngine


def load_catalog(config: AppConfig, service: Service) -> StopCatalog:
    """Load the network and the service's bookable stops."""
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
    return build_catalog(network, area)


def load_timetable(config: AppConfig, service: Service) -> TimetableCache:
    """The scheduled lines: the district's feed plus the service's ``timetable.feeds``.

    Their paths are relative to the data folder, or absolute.
    """
    settings = config.settings
    extra = [settings.data_dir / f for f in service.timetable.feeds]
    # every bookable day stays cached: a far date could otherwise evict today's timetable
    return TimetableCache(
        [settings.data_file("gtfs"), *extra],
        walk_max_m=service.timetable.walk_max_m,
        max_dates=service.horizon_days + 2,
    )


def build_engine(config: AppConfig, store: Store) -> BookingEngine:
    """Make the booking engine.

    Loads the service, the network, the bookable stops and (if the service checks it) the
    timetable.
    """
    service = load_service(config.service_file)
    timetable = load_timetable(config, service) if service.timetable.check else None
    return BookingEngine(service, load_catalog(config, service), store, timetable=timetable)


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

    from web import api, auth, dispatch, i18n, limits, resident

    csrf = CSRFProtect(app)
    # the JSON API serves anonymous clients and Basic-auth scripts without forms; its
    # cookie-authenticated changes are checked by ``auth.guard_api_changes`` instead
    csrf.exempt(api.bp)
    i18n.init_app(app)
    limits.init_app(app, config)
    auth.init_app(app)
    for blueprint in (resident.bp, dispatch.bp, api.bp):
        app.register_blueprint(blueprint)
    app.add_url_rule("/vendor/leaflet/<path:filename>", "leaflet", _leaflet_file)
    app.after_request(_security_headers)
    return app


def _leaflet_file(filename: str):
    """Leaflet from the ``xstatic-leaflet`` package: no CDN, works offline."""
    return send_from_directory(xstatic.pkg.leaflet.BASE_DIR, filename, max_age=86400)


#: Content Security Policy: no inline script or style elements; tiles only if ever enabled.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: "
    "https://tile.openstreetmap.org; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def services() -> Services:
    """The current app's services (inside a request or app context)."""
    return current_app.extensions["rufbus"]
