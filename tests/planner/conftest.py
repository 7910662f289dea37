"""Fixtures of the planner tests: the benchmark folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from darp_fixtures import REPO


@pytest.fixture(scope="session")
def bench_dir() -> Path:
    """The public benchmark data (``RUFBUS_BENCH_DIR``, default ``<repo>/../shared/bench``).

    The data is present in CI; a missing folder is an error, not a skip.
    """
    path = Path(os.environ.get("RUFBUS_BENCH_DIR", REPO.parent / "shared" / "bench"))
    if not (path / "darp" / "a2-16.txt").is_file():
        pytest.fail(f"benchmark data not found in {path} (set RUFBUS_BENCH_DIR)")
    return path
