"""Configuration of the web app and server, read from the environment at the entry point."""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from planner.service import DEFAULT_SERVICE_FILE
from planner.store import default_database_url
from routing.settings import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AppConfig:
    """Everything ``create_app`` needs.

    Attributes
    ----------
    settings
        Data and cache folders (``RUFBUS_DATA_DIR``, ``RUFBUS_CACHE_DIR``).
    database_url
        ``DATABASE_URL``; default a SQLite file under ``var/``.
    secret_key
        ``RUFBUS_SECRET_KEY``; signs session cookies. A random key is used (and sessions end
        at restart) when it is not set.
    service_file
        ``RUFBUS_SERVICE_FILE``; default ``fixtures/services/salzland.toml``.
    max_body_bytes
        Larger request bodies are refused with 413.
    optimize_seconds
        Solver time limit of the dispatcher's re-optimise button.
    scenario_dir
        ``RUFBUS_SCENARIO_DIR``: folder of scenario batches shown to analysts.
    testing
        Flask's testing mode.
    """

    settings: Settings
    database_url: str
    secret_key: str
    service_file: Path = DEFAULT_SERVICE_FILE
    max_body_bytes: int = 64 * 1024
    optimize_seconds: float = 10.0
    scenario_dir: Path = PROJECT_ROOT / "var" / "scenarios"
    testing: bool = False

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> AppConfig:
        """Read the configuration from ``RUFBUS_*`` and ``DATABASE_URL``."""
        env = os.environ if environ is None else environ
        secret = env.get("RUFBUS_SECRET_KEY")
        if not secret:
            log.warning("RUFBUS_SECRET_KEY is not set: using a random key for this run")
            secret = secrets.token_hex(32)
        return cls(
            settings=Settings.from_env(env),
            database_url=env.get("DATABASE_URL") or default_database_url(PROJECT_ROOT / "var"),
            secret_key=secret,
            service_file=Path(env.get("RUFBUS_SERVICE_FILE") or DEFAULT_SERVICE_FILE),
            scenario_dir=Path(env.get("RUFBUS_SCENARIO_DIR") or PROJECT_ROOT / "var" / "scenarios"),
        )
