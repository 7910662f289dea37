"""Settings come from the environment, with documented defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.errors import DataMissingError
from routing.settings import PROJECT_ROOT, Settings


def test_from_env_reads_variables(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"RUFBUS_DATA_DIR": str(tmp_path / "data"), "RUFBUS_CACHE_DIR": str(tmp_path / "c")}
    )
    assert settings == Settings(data_dir=tmp_path / "data", cache_dir=tmp_path / "c")


def test_defaults() -> None:
    settings = Settings.from_env({})
    shared = PROJECT_ROOT.parent / "shared" / "data"
    expected = shared if shared.is_dir() else Path.home() / ".cache" / "rufbus" / "data"
    assert settings.data_dir == expected
    assert settings.cache_dir == PROJECT_ROOT / "var" / "cache"


def test_missing_file_names_file_and_folder(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, cache_dir=tmp_path)
    with pytest.raises(DataMissingError) as info:
        settings.data_file("boundary")
    assert info.value.field == "salzlandkreis/district_boundary.geojson"
    assert str(tmp_path / "salzlandkreis" / "district_boundary.geojson") in info.value.reason
    assert "RUFBUS_DATA_DIR" in info.value.reason
