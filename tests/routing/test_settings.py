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


def test_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The documented defaults (README, Configuration): data in ``../shared/data`` beside the
    project if that folder exists, else ``~/.cache/rufbus/data``; caches in ``var/cache``."""
    assert (PROJECT_ROOT / "routing" / "settings.py").is_file()  # the project's own root
    project = tmp_path / "work" / "rufbus"
    monkeypatch.setattr("routing.settings.PROJECT_ROOT", project)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    project.mkdir(parents=True)
    assert Settings.from_env({}) == Settings(
        data_dir=tmp_path / "home" / ".cache" / "rufbus" / "data",
        cache_dir=tmp_path / "work" / "rufbus" / "var" / "cache",
    )
    (tmp_path / "work" / "shared" / "data").mkdir(parents=True)
    assert Settings.from_env({}) == Settings(
        data_dir=tmp_path / "work" / "shared" / "data",
        cache_dir=tmp_path / "work" / "rufbus" / "var" / "cache",
    )
    # an empty variable counts as unset
    empty = {"RUFBUS_DATA_DIR": "", "RUFBUS_CACHE_DIR": ""}
    assert Settings.from_env(empty) == Settings.from_env({})


def test_missing_file_names_file_and_folder(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, cache_dir=tmp_path)
    with pytest.raises(DataMissingError) as info:
        settings.data_file("boundary")
    assert info.value.field == "salzlandkreis/district_boundary.geojson"
    assert str(tmp_path / "salzlandkreis" / "district_boundary.geojson") in info.value.reason
    assert "RUFBUS_DATA_DIR" in info.value.reason
