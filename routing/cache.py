"""On-disk cache of built graphs and matrices, keyed by a hash of all their inputs."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Bump when the meaning of a cached object changes, so that old entries are not reused.
CACHE_VERSION = 2  # 2: the GTFS stop network joins its stranded stops (connectors)


def file_fingerprint(path: Path) -> str:
    """Return the SHA-1 of a file's bytes, so that a changed input means a new cache key."""
    digest = hashlib.sha1()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_key(inputs: dict[str, Any]) -> str:
    """Return a stable hex key for JSON-serialisable ``inputs`` (plus ``CACHE_VERSION``)."""
    text = json.dumps({"version": CACHE_VERSION, **inputs}, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def cached(path: Path, build: Callable[[], T], *, refresh: bool = False) -> T:
    """Load the object pickled at ``path``, or build it, save it atomically and return it.

    Parameters
    ----------
    path
        Cache file; its name should carry the key of every input.
    build
        Makes the object when the cache has none.
    refresh
        Rebuild even if the file exists.

    Returns
    -------
    obj
        The cached or freshly built object.
    """
    if path.is_file() and not refresh:
        try:
            with path.open("rb") as f:
                # what ``build`` made before; a pickle cannot be checked statically
                return cast(T, pickle.load(f))
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
            log.warning("ignoring unreadable cache file %s: %s", path, exc)
    obj = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    # write to a temporary file and rename, so that a crash never leaves half a cache file
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)
    log.info("cached %s", path)
    return obj
