"""What the views use, built once per app (flaskr's ``db.py`` pattern).

``init_app`` puts the services on the app; views get them with :func:`services` inside a
request or app context. Blueprints import this module, not the package root, so that
``web/__init__.py`` can import the blueprints at its top without an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from planner.booking import BookingEngine
from planner.store.db import Store
from planner.world import open_engine
from web.config import AppConfig

#: The key of the services in ``app.extensions``.
EXTENSION = "rufbus"


@dataclass(frozen=True)
class Services:
    """What the app's views use: the configuration, the database and the booking engine."""

    config: AppConfig
    store: Store
    engine: BookingEngine


def init_app(app: Flask, config: AppConfig, engine: BookingEngine | None = None) -> Services:
    """Build the app's services and keep them on ``app``.

    Parameters
    ----------
    app
        The app.
    config
        Configuration.
    engine
        A ready booking engine (tests pass one with a fixed clock); loaded from ``config``'s
        world (:mod:`planner.world`) when None.

    Returns
    -------
    services
        The services now on ``app``.
    """
    engine = engine or open_engine(config.world)
    app.extensions[EXTENSION] = Services(config, engine.store, engine)
    return app.extensions[EXTENSION]


def services() -> Services:
    """The current app's services (inside a request or app context)."""
    return current_app.extensions[EXTENSION]
