"""The Rufbus web app: JSON API (and, later, pages) over the booking engine."""

from __future__ import annotations

import logging
import secrets

import xstatic.pkg.leaflet
from flask import Flask, Response, render_template, request, send_from_directory
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from planner.booking import BookingEngine
from web import (
    api,
    auth,
    dispatch,
    driver,
    i18n,
    limits,
    live,
    realtime,
    resident,
    services,
    vehicles,
)
from web.config import AppConfig
from web.messages import http_error_text

log = logging.getLogger(__name__)


def create_app(config: AppConfig | None = None, *, engine: BookingEngine | None = None) -> Flask:
    """Create the Flask app.

    Parameters
    ----------
    config
        Configuration; read from the environment when None.
    engine
        A ready booking engine (tests pass one with a fixed clock); when None, built from
        ``config``'s world (:mod:`planner.world`).

    Returns
    -------
    app
        The app, with its schema migrated.
    """
    config = config or AppConfig.from_env()
    app = Flask(__name__)
    app.config.from_mapping(
        SECRET_KEY=config.secret_key or _random_secret(),
        MAX_CONTENT_LENGTH=config.max_body_bytes,
        TESTING=config.testing,
        JSON_SORT_KEYS=False,
    )
    services.init_app(app, config, engine)
    csrf = CSRFProtect(app)
    # the JSON API serves anonymous clients and Basic-auth scripts without forms; its
    # cookie-authenticated changes are checked by ``auth.guard_api_changes`` instead
    csrf.exempt(api.bp)
    csrf.exempt(vehicles.bp)
    csrf.exempt(live.bp)
    i18n.init_app(app)
    limits.init_app(app, config)
    auth.init_app(app)
    for blueprint in (resident.bp, dispatch.bp, driver.bp, api.bp, vehicles.bp, live.bp,
                      realtime.bp):  # fmt: skip
        app.register_blueprint(blueprint)
    app.register_error_handler(HTTPException, _error_page)
    app.add_url_rule("/vendor/leaflet/<path:filename>", "leaflet", _leaflet_file)
    app.after_request(_security_headers)
    return app


def _random_secret() -> str:
    """A session key for this run only, when ``RUFBUS_SECRET_KEY`` is not set."""
    log.warning("RUFBUS_SECRET_KEY is not set: using a random key for this run")
    return secrets.token_hex(32)


def _error_page(exc: HTTPException) -> ResponseReturnValue:
    """An HTTP error as a page in the reader's language (JSON under ``/api/``).

    Werkzeug's own pages are English; the API's blueprints answer their own errors, this
    catches the rest (unknown addresses, an expired form's CSRF error, a crash).
    """
    if request.path.startswith("/api/"):
        return api.http_error(exc)
    status = exc.code or 500
    title, message = http_error_text(status, form_expired=isinstance(exc, CSRFError))
    return render_template("error.html", title=title, message=message), status


def _leaflet_file(filename: str) -> Response:
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
