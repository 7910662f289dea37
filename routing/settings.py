"""Settings read from the environment, once, at the entry points."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from routing.errors import DataMissingError

#: The project root (the folder holding ``routing/``); the data default is relative to it.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: Files below the data folder that Rufbus reads, by the name the code uses for them.
DATA_FILES = {
    "gtfs": Path("salzlandkreis/gtfs_kvg_salzland.zip"),
    "boundary": Path("salzlandkreis/district_boundary.geojson"),
    "municipalities": Path("salzlandkreis/municipalities.geojson"),
    "places": Path("salzlandkreis/places.csv"),
    "nasa_stops": Path("salzlandkreis/stops_sachsen_anhalt_nasa.csv"),
    "osm_bautzen": Path("osm/bautzen.osm"),
    "osm_north_bayreuth": Path("osm/north-bayreuth.osm.gz"),
}


def default_data_dir() -> Path:
    """Return ``../shared/data`` beside the project if it exists, else ``~/.cache/rufbus/data``."""
    shared = PROJECT_ROOT.parent / "shared" / "data"
    if shared.is_dir():
        return shared
    return Path.home() / ".cache" / "rufbus" / "data"


def default_cache_dir() -> Path:
    """Return the cache folder: ``var/cache`` inside the project (ignored by git)."""
    return PROJECT_ROOT / "var" / "cache"


@dataclass(frozen=True, slots=True)
class Settings:
    """Where Rufbus finds its data and keeps its caches.

    Attributes
    ----------
    data_dir
        Folder with the open data (``RUFBUS_DATA_DIR``).
    cache_dir
        Folder for built graphs and matrices (``RUFBUS_CACHE_DIR``).
    """

    data_dir: Path
    cache_dir: Path

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Build settings from ``RUFBUS_*`` environment variables with documented defaults."""
        env = os.environ if environ is None else environ
        data_dir = env.get("RUFBUS_DATA_DIR")
        cache_dir = env.get("RUFBUS_CACHE_DIR")
        return cls(
            data_dir=Path(data_dir).expanduser() if data_dir else default_data_dir(),
            cache_dir=Path(cache_dir).expanduser() if cache_dir else default_cache_dir(),
        )

    def data_file(self, name: str) -> Path:
        """Return the path of data file ``name`` (a key of ``DATA_FILES``), checking it exists.

        Raises
        ------
        DataMissingError
            If the file is not there; the message names the file and the folder searched.
        """
        path = self.data_dir / DATA_FILES[name]
        if not path.is_file():
            msg = (
                f"not found: looked for {path} "
                "(set RUFBUS_DATA_DIR to the folder holding Rufbus's open data)"
            )
            raise DataMissingError(str(DATA_FILES[name]), msg)
        return path
