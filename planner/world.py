"""The world of a service, built once: settings -> network -> catalog -> timetable -> engine.

Every entry point (the web app, the ``rufbus`` commands, scenario batches, benchmarks and the
tests) builds the booking engine through this module, so the chain is written once. Nothing
here needs Flask or a session secret.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from shapely.geometry import MultiPolygon, Polygon

from planner.booking import BookingEngine
from planner.service import DEFAULT_SERVICE_FILE, Service, load_service
from planner.stops import StopCatalog, build_catalog
from planner.store.db import Store, default_database_url, open_store, utcnow
from routing.network import Network, default_source, load_network
from routing.settings import PROJECT_ROOT, Settings
from routing.sources.osm import read_area, read_named_areas
from routing.timetable import TimetableCache


@dataclass(frozen=True, slots=True)
class WorldConfig:
    """Where the world comes from, as the environment says.

    Attributes
    ----------
    settings
        Data and cache folders (``RUFBUS_DATA_DIR``, ``RUFBUS_CACHE_DIR``).
    database_url
        ``DATABASE_URL``; default a SQLite file under ``var/``.
    service_file
        ``RUFBUS_SERVICE_FILE``; default ``fixtures/services/salzland.toml``.
    """

    settings: Settings
    database_url: str
    service_file: Path = DEFAULT_SERVICE_FILE

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WorldConfig:
        """Read the configuration from the environment.

        The variables are ``RUFBUS_DATA_DIR``, ``RUFBUS_CACHE_DIR``, ``DATABASE_URL`` and
        ``RUFBUS_SERVICE_FILE``, each with its documented default.
        """
        env = os.environ if environ is None else environ
        return cls(
            settings=Settings.from_env(dict(env)),
            database_url=env.get("DATABASE_URL") or default_database_url(PROJECT_ROOT / "var"),
            service_file=Path(env.get("RUFBUS_SERVICE_FILE") or DEFAULT_SERVICE_FILE),
        )


@dataclass(frozen=True)
class World:
    """Everything a booking engine of one service needs besides its database.

    Attributes
    ----------
    settings
        Data and cache folders.
    service
        The service definition.
    area
        The service area (the district boundary, or the service file's GeoJSON).
    network
        The road network (the default GTFS stop network), snapping inside ``area``.
    catalog
        The bookable stops and their matrices.
    timetable
        The scheduled lines (read on first use), or None when the world was loaded without.
    """

    settings: Settings
    service: Service
    area: Polygon | MultiPolygon
    network: Network
    catalog: StopCatalog
    timetable: TimetableCache | None


def service_area(settings: Settings, service: Service) -> Polygon | MultiPolygon:
    """The area of ``service``: the district boundary, or the GeoJSON file it names.

    The file's path is relative to the data folder (like ``timetable.feeds``) or absolute.
    """
    if service.boundary == "district":
        return read_area(settings.data_file("boundary"))
    return read_area(settings.data_dir / service.boundary)


def load_timetable(settings: Settings, service: Service) -> TimetableCache:
    """The scheduled lines of ``service``: the district's feed plus its ``timetable.feeds``.

    Parameters
    ----------
    settings
        Data folder (feeds are relative to it, or absolute).
    service
        Walking radius and further feeds.

    Returns
    -------
    timetable
        The cache; the feeds are read on first use.
    """
    extra = [settings.data_dir / f for f in service.timetable.feeds]
    # every bookable day stays cached: a far date could otherwise evict today's timetable
    return TimetableCache(
        [settings.data_file("gtfs"), *extra],
        walk_max_m=service.timetable.walk_max_m,
        max_dates=service.horizon_days + 2,
    )


def load_world(
    settings: Settings,
    service: Service | Path | str = DEFAULT_SERVICE_FILE,
    *,
    timetable: bool | None = None,
) -> World:
    """Load the network, the bookable stops and the timetable of a service.

    Parameters
    ----------
    settings
        Data and cache folders.
    service
        The service, or its file.
    timetable
        Whether to include the timetable; None: if the service checks it
        (``timetable.check``).

    Returns
    -------
    world
        The loaded world.
    """
    if not isinstance(service, Service):
        service = load_service(service)
    area = service_area(settings, service)
    network = load_network(
        default_source(settings),
        cache_dir=settings.cache_dir,
        area=area,
        area_name="the service area",
    )
    catalog = build_catalog(
        network,
        area,
        travel_time_factor=service.travel_time_factor,
        municipalities=read_named_areas(settings.data_file("municipalities")),
    )
    with_timetable = service.timetable.check if timetable is None else timetable
    lines = load_timetable(settings, service) if with_timetable else None
    return World(settings, service, area, network, catalog, lines)


def make_engine(
    world: World, store: Store, *, clock: Callable[[], datetime] = utcnow
) -> BookingEngine:
    """The booking engine of ``world``'s service on ``store``.

    Parameters
    ----------
    world
        Service, stops and (if loaded) timetable.
    store
        The database.
    clock
        Returns the current time (timezone-aware); tests and simulations pass their own.

    Returns
    -------
    engine
        The engine.
    """
    return BookingEngine(
        world.service, world.catalog, store, clock=clock, timetable=world.timetable
    )


def open_engine(config: WorldConfig) -> BookingEngine:
    """Load the world of ``config``'s service and open its database (schema migrated)."""
    world = load_world(config.settings, config.service_file)
    return make_engine(world, open_store(config.database_url))
