"""The ``rufbus graph`` and ``rufbus route`` commands, on the real data."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from routing.settings import Settings
from web.cli import main


@pytest.fixture
def run(settings: Settings):
    def invoke(*args: str, data_dir: Path | None = None):
        env = {
            "RUFBUS_DATA_DIR": str(data_dir or settings.data_dir),
            "RUFBUS_CACHE_DIR": str(settings.cache_dir),
        }
        return CliRunner().invoke(main, list(args), env=env)

    return invoke


def test_graph_build_and_info(run) -> None:
    built = run("graph", "build")
    assert built.exit_code == 0, built.output
    assert "593 nodes" in built.output and "0 nodes outside" in built.output
    info = run("graph", "info")
    assert info.exit_code == 0, info.output
    assert "nodes          593" in info.output
    assert "nodes dropped  0" in info.output
    assert "connectors     14 (edges joining stranded stops)" in info.output
    assert "bounding box   lon 11.1509..11.9541" in info.output
    assert "total length" in info.output


def test_graph_info_osm_file(run, settings: Settings) -> None:
    result = run("graph", "info", "--source", f"osm-file:{settings.data_file('osm_bautzen')}")
    assert result.exit_code == 0, result.output
    assert "lon 14.4" in result.output


def test_route_between_stops(run) -> None:
    result = run("route", "Bernburg, Busbahnhof", "Schönebeck, Bahnhof")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "from   Bernburg (Saale), Busbahnhof"
    assert lines[1] == "to     Schönebeck (Elbe), Bahnhof (Bus)"
    minutes = float(lines[2].split()[1])
    assert 25 < minutes < 60
    assert lines[-1].strip() == "Schönebeck (Elbe), Bahnhof (Bus)"


def test_route_from_coordinates(run) -> None:
    result = run("route", "51.7946,11.7401", "Staßfurt, Bahnhof")
    assert result.exit_code == 0, result.output
    assert "snapped" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("route", "52.52,13.40", "Staßfurt, Bahnhof"), "lies outside the Salzlandkreis"),
        (("route", "Atlantis", "Staßfurt, Bahnhof"), "no stop named 'Atlantis'"),
        (("graph", "info", "--source", "osm:x"), "unknown kind 'osm'"),
        (("graph", "build", "--source", "osm-file:/nope.osm"), "input file not found"),
    ],
)
def test_bad_input_exits_2(run, args: tuple[str, ...], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.output


def test_missing_data_dir(run, tmp_path: Path) -> None:
    result = run("graph", "info", data_dir=tmp_path / "nowhere")
    assert result.exit_code == 2
    expected = f"looked for {tmp_path / 'nowhere' / 'salzlandkreis' / 'gtfs_kvg_salzland.zip'}"
    assert "salzlandkreis/gtfs_kvg_salzland.zip" in result.output
    assert expected in result.output
