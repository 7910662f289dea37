"""Configuration of the web app and server, read from the environment at the entry point."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from planner.errors import PlannerError
from planner.world import WorldConfig
from routing.settings import PROJECT_ROOT


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``count`` events per client address within ``window_s`` seconds."""

    count: int
    window_s: float


#: Failed logins (form or HTTP Basic) per address before every login is refused.
LOGIN_LIMIT = RateLimit(5, 300)
#: Anonymous offer searches (API and form) per address. A rider needs a few; the limit
#: stops scripted flooding.
OFFER_LIMIT = RateLimit(30, 60)
#: Anonymous booking lookups and cancellations by code per address: a rider checks one
#: code; the limit makes guessing codes hopeless.
LOOKUP_LIMIT = RateLimit(10, 60)
#: Anonymous GTFS-Realtime requests per address: a journey planner polls every 10-30 s.
FEED_LIMIT = RateLimit(60, 60)


#: Where scenario batches are, unless ``RUFBUS_SCENARIO_DIR`` says otherwise.
DEFAULT_SCENARIO_DIR = PROJECT_ROOT / "var" / "scenarios"


@dataclass(frozen=True, slots=True)
class AppConfig:
    """Everything ``create_app`` needs.

    Attributes
    ----------
    world
        Where the app's world comes from: data and cache folders, ``DATABASE_URL`` and
        ``RUFBUS_SERVICE_FILE``, read as the ``rufbus`` commands read them
        (:class:`planner.world.WorldConfig`).
    secret_key
        ``RUFBUS_SECRET_KEY``; signs session cookies. Only the app needs it: when it is not
        set, ``create_app`` uses a random key (and sessions end at restart).
    max_body_bytes
        Larger request bodies are refused with 413.
    optimize_seconds
        Solver time limit of the dispatcher's re-optimise button.
    scenario_dir
        ``RUFBUS_SCENARIO_DIR``: folder of scenario batches shown to analysts.
    testing
        Flask's testing mode.
    login_limit, offer_limit, lookup_limit, feed_limit
        Rate limits per client address (dispatchers are not throttled);
        ``RUFBUS_OFFERS_PER_MINUTE``, ``RUFBUS_LOOKUPS_PER_MINUTE`` and
        ``RUFBUS_FEEDS_PER_MINUTE`` set the last three.
    trusted_proxies
        ``RUFBUS_TRUSTED_PROXIES``: how many reverse proxies in front of the app set
        ``X-Forwarded-For``/``-Proto``/``-Host``; their values are trusted so that limits
        count the real client address. 0 (the default) trusts none.
    """

    world: WorldConfig
    secret_key: str | None = None
    max_body_bytes: int = 64 * 1024
    optimize_seconds: float = 10.0
    scenario_dir: Path = DEFAULT_SCENARIO_DIR
    testing: bool = False
    login_limit: RateLimit = LOGIN_LIMIT
    offer_limit: RateLimit = OFFER_LIMIT
    lookup_limit: RateLimit = LOOKUP_LIMIT
    feed_limit: RateLimit = FEED_LIMIT
    trusted_proxies: int = 0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AppConfig:
        """Read the configuration from ``RUFBUS_*`` and ``DATABASE_URL``."""
        env = os.environ if environ is None else environ
        return cls(
            world=WorldConfig.from_env(env),
            secret_key=env.get("RUFBUS_SECRET_KEY") or None,
            scenario_dir=Path(env.get("RUFBUS_SCENARIO_DIR") or DEFAULT_SCENARIO_DIR),
            offer_limit=RateLimit(_count(env, "RUFBUS_OFFERS_PER_MINUTE", OFFER_LIMIT.count), 60),
            lookup_limit=RateLimit(
                _count(env, "RUFBUS_LOOKUPS_PER_MINUTE", LOOKUP_LIMIT.count), 60
            ),
            feed_limit=RateLimit(_count(env, "RUFBUS_FEEDS_PER_MINUTE", FEED_LIMIT.count), 60),
            trusted_proxies=_count(env, "RUFBUS_TRUSTED_PROXIES", 0, minimum=0),
        )


def _count(env: Mapping[str, str], name: str, default: int, *, minimum: int = 1) -> int:
    """The whole number in ``env[name]``, or ``default`` when it is not set."""
    text = env.get(name, "").strip()
    if not text:
        return default
    if not text.isascii() or not text.isdigit() or int(text) < minimum:
        raise PlannerError(name, f"must be a whole number of at least {minimum}, got {text!r}")
    return int(text)
