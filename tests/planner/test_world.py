"""``planner.world``: one service's world on the real data, built without the web app."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from shapely.geometry import Point

from planner.service import DEFAULT_SERVICE_FILE, load_service
from planner.store.db import Store
from planner.world import World, load_world, make_engine
from routing.settings import PROJECT_ROOT, Settings

BERNBURG = "Bernburg (Saale), Busbahnhof"
STASSFURT = "Staßfurt, Bahnhof (Bus)"


def service_file(tmp_path: Path, *replacements: tuple[str, str]) -> Path:
    text = DEFAULT_SERVICE_FILE.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "service.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_world(settings: Settings, store: Store) -> None:
    world = load_world(settings)
    assert world.service == load_service()
    # the bookable stops: the named network nodes inside the district, and only those
    graph = world.network.graph
    inside = {
        int(n)
        for n, data in graph.nodes(data=True)
        if data.get("name") and world.area.contains(Point(data["x"], data["y"]))
    }
    assert set(world.catalog.nodes) == inside
    assert 500 < len(inside) < graph.number_of_nodes()  # stops outside the district are not
    for name in (BERNBURG, STASSFURT):
        assert world.catalog.name(world.catalog.resolve(name, field="stop")) == name
    # the service checks the timetable: it is there, keeping every bookable day
    assert world.service.timetable.check
    assert world.timetable is not None
    assert world.timetable.max_dates == world.service.horizon_days + 2
    assert world.timetable.walk_max_m == world.service.timetable.walk_max_m
    assert world.timetable.paths == (settings.data_file("gtfs"),)
    engine = make_engine(world, store)
    assert engine.service is world.service and engine.catalog is world.catalog
    assert engine.timetable is world.timetable
    assert [engine.catalog.name(d) for d in engine.depots][:1] == [BERNBURG]


def test_timetable_only_when_the_service_checks_it(settings: Settings, tmp_path: Path) -> None:
    unchecked = service_file(tmp_path, ("check = true", "check = false"))
    assert load_world(settings, unchecked).timetable is None
    assert load_world(settings, unchecked, timetable=True).timetable is not None
    assert load_world(settings, timetable=False).timetable is None


def test_own_boundary_limits_the_bookable_stops(world: World, tmp_path: Path) -> None:
    """A service file's GeoJSON boundary, not the district, decides which stops are bookable."""
    box = [[11.68, 51.76], [11.80, 51.76], [11.80, 51.83], [11.68, 51.83], [11.68, 51.76]]
    area = tmp_path / "bernburg.geojson"
    area.write_text(json.dumps({"type": "Polygon", "coordinates": [box]}), encoding="utf-8")
    path = service_file(tmp_path, ('boundary = "district"', f'boundary = "{area}"'))
    small = load_world(world.settings, path, timetable=False)
    assert set(small.catalog.nodes) < set(world.catalog.nodes)
    assert small.catalog.resolve(BERNBURG, field="stop") in small.catalog.nodes
    assert STASSFURT not in {small.catalog.name(n) for n in small.catalog.nodes}


def test_world_needs_no_web_app() -> None:
    code = "import sys, planner.world, planner.cli; print('flask' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
