"""Scenario files for analysts: a service, a demand, a simulation, and a sweep over any key.

A scenario is YAML::

    name: fleet-sweep
    service: salzland.toml          # under fixtures/services/, or a path
    overrides: {fleet_size: 8, window_min: 15}
    demand: {requests: 400, wheelchair_share: 0.04}
    simulation: {rider_tolerance_min: 30, reoptimize_every_min: 120}
    sweep:                          # any key of the sections above, as "section.key"
      overrides.fleet_size: [4, 8, 12, 16]
      demand.requests: [200, 400, 800]
    seeds: 2                        # every combination with seeds 1..N

Every key is checked; a bad file is refused with ``FILE:KEY`` and the reason. Defaults, and
where they come from, are in ``docs/scenarios.md``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from planner.errors import PlannerError
from planner.service import DEFAULT_SERVICE_FILE
from planner.timefmt import parse_hhmm


class ScenarioError(PlannerError):
    """A scenario file is invalid; ``field`` is ``FILE:KEY``."""


#: A key's default and checks: (default, kind, low, high).
Rule = tuple[Any, type[int] | type[float], float, float]

#: Allowed keys per section, with their defaults and checks (kind, low, high).
OVERRIDES: dict[str, Rule] = {
    "fleet_size": (None, int, 1, 200),
    "seats": (None, int, 1, 60),
    "wheelchair_places": (None, int, 0, 10),
    "window_min": (None, int, 1, 120),
    "alpha": (None, float, 1.0, 5.0),
    "beta_min": (None, float, 0.0, 120.0),
    "min_lead_min": (None, int, 0, 10080),
    "repair_ms": (None, int, 0, 5000),
    "repair_moves": (None, int, 0, 1_000_000),
    "ride_time_weight": (None, float, 0.0, 1000.0),
    "vehicle_time_weight": (None, float, 0.0, 1000.0),
}
DEMAND: dict[str, Rule] = {
    "requests": (300, int, 1, 100_000),
    "wheelchair_share": (0.04, float, 0.0, 1.0),
    "group_share": (0.25, float, 0.0, 1.0),
    "arrive_by_share": (0.3, float, 0.0, 1.0),
    "prebooked_share": (0.6, float, 0.0, 1.0),
    "short_notice_lead_min": (90, int, 0, 1440),
    "attractor_weight": (2.0, float, 0.0, 100.0),
    "gravity_km": (12.0, float, 0.5, 200.0),
}
SIMULATION: dict[str, Rule] = {
    "rider_tolerance_min": (30, int, 0, 240),
    "reoptimize_every_min": (180, int, 0, 1440),
    "reoptimize_seconds": (3.0, float, 0.5, 600.0),
    "reoptimize_every_bookings": (0, int, 0, 100_000),
    "reoptimize_moves": (0, int, 0, 10_000_000),
}
SECTIONS = {"overrides": OVERRIDES, "demand": DEMAND, "simulation": SIMULATION}
TOP_LEVEL = {"name", "description", "service", "day", "shift", "sweep", "seeds", *SECTIONS}

#: The simulated day: a Wednesday outside school holidays, inside the GTFS feed's validity.
DEFAULT_DAY = "2026-12-02"


@dataclass(frozen=True, slots=True)
class RunSpec:
    """One run of a batch: the scenario's resolved settings and a seed."""

    scenario: str
    service_file: str
    day: str
    shift: tuple[str, str] | None
    overrides: tuple[tuple[str, Any], ...]
    demand: tuple[tuple[str, Any], ...]
    simulation: tuple[tuple[str, Any], ...]
    swept: tuple[tuple[str, Any], ...]
    seed: int

    def key(self) -> str:
        """A stable hash of everything that decides the run's result (skip-if-done key)."""
        data = {
            "service": Path(self.service_file).read_text(encoding="utf-8"),
            "day": self.day,
            "shift": self.shift,
            "overrides": self.overrides,
            "demand": self.demand,
            "simulation": self.simulation,
            "seed": self.seed,
        }
        text = json.dumps(data, sort_keys=True, default=str)
        return hashlib.sha1(text.encode()).hexdigest()[:16]

    def section(self, name: str) -> dict[str, Any]:
        """The keys of section ``name`` (``overrides``, ``demand``, ``simulation``) as a dict."""
        return dict(getattr(self, name))


def _check_value(path: Path, key: str, value: Any, rule: Rule) -> int | float:
    _, kind, low, high = rule
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ScenarioError(f"{path}:{key}", f"must be a {kind.__name__}, got {value!r}")
    if not low <= value <= high:
        raise ScenarioError(f"{path}:{key}", f"must be between {low} and {high}, got {value}")
    return value


def _section(path: Path, data: dict[str, Any], name: str) -> dict[str, Any]:
    rules = SECTIONS[name]
    given = data.get(name) or {}
    if not isinstance(given, dict):
        raise ScenarioError(f"{path}:{name}", "must be a mapping")
    out = {k: rule[0] for k, rule in rules.items() if rule[0] is not None}
    for key, value in given.items():
        if key not in rules:
            known = ", ".join(rules)
            raise ScenarioError(f"{path}:{name}.{key}", f"unknown key; known keys: {known}")
        out[key] = _check_value(path, f"{name}.{key}", value, rules[key])
    return out


def resolve_service_file(path: Path, value: Any) -> Path:
    """A service file named in a scenario: a path, or a name under ``fixtures/services``."""
    if value is None:
        return DEFAULT_SERVICE_FILE
    if not isinstance(value, str):
        raise ScenarioError(f"{path}:service", "must be a file name")
    for candidate in (Path(value), path.parent / value, DEFAULT_SERVICE_FILE.parent / value):
        if candidate.is_file():
            return candidate.resolve()
    raise ScenarioError(f"{path}:service", f"service file {value!r} not found")


def load_scenario(path: Path | str) -> list[RunSpec]:
    """Read a scenario file and expand its sweep into runs (cross product times seeds).

    Raises
    ------
    ScenarioError
        Naming ``FILE:KEY`` and the reason for the first problem found.
    """
    path = Path(path)
    data = _read_mapping(path)
    for key in data:
        if key not in TOP_LEVEL:
            raise ScenarioError(
                f"{path}:{key}", f"unknown key; known keys: {', '.join(sorted(TOP_LEVEL))}"
            )
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ScenarioError(f"{path}:name", "is required")
    service_file = resolve_service_file(path, data.get("service"))
    day = str(data.get("day", DEFAULT_DAY))
    try:
        date.fromisoformat(day)
    except ValueError:
        raise ScenarioError(f"{path}:day", f"expected YYYY-MM-DD, got {day!r}") from None
    shift = _shift(path, data.get("shift"))
    base = {name: _section(path, data, name) for name in SECTIONS}
    seeds = data.get("seeds", 1)
    if not isinstance(seeds, int) or isinstance(seeds, bool) or not 1 <= seeds <= 100:
        raise ScenarioError(f"{path}:seeds", "must be a whole number from 1 to 100")
    axes = _sweep_axes(path, data.get("sweep") or {})
    runs = []
    for combination in itertools.product(*(values for *_, values in axes)):
        sections = {name: dict(values) for name, values in base.items()}
        swept = []
        for (section, key, _), value in zip(axes, combination, strict=True):
            sections[section][key] = value
            swept.append((f"{section}.{key}", value))
        for seed in range(1, seeds + 1):
            runs.append(
                RunSpec(
                    scenario=name,
                    service_file=str(service_file),
                    day=day,
                    shift=shift,
                    overrides=tuple(sorted(sections["overrides"].items())),
                    demand=tuple(sorted(sections["demand"].items())),
                    simulation=tuple(sorted(sections["simulation"].items())),
                    swept=tuple(swept),
                    seed=seed,
                )
            )
    return runs


def _read_mapping(path: Path) -> dict[Any, Any]:
    """Read the scenario file's YAML mapping."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(str(path), "scenario file not found") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(str(path), f"not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ScenarioError(str(path), "must be a YAML mapping")
    return data


def _shift(path: Path, shift: Any) -> tuple[str, str] | None:
    """Check the scenario's ``shift: [start, end]``; None if it is not given."""
    if shift is None:
        return None
    if not isinstance(shift, list) or len(shift) != 2:
        raise ScenarioError(f"{path}:shift", "must be [start, end]")
    for value in shift:
        parse_hhmm(value, field=f"{path}:shift")
    return (shift[0], shift[1])


def _sweep_axes(path: Path, sweep: Any) -> list[tuple[str, str, list[Any]]]:
    """The swept ``(section, key, values)``, each value checked like the key's own."""
    if not isinstance(sweep, dict):
        raise ScenarioError(f"{path}:sweep", "must map 'section.key' to a list of values")
    axes: list[tuple[str, str, list[Any]]] = []
    for dotted, values in sweep.items():
        section, _, key = str(dotted).partition(".")
        if section not in SECTIONS or key not in SECTIONS[section]:
            raise ScenarioError(f"{path}:sweep.{dotted}", "names no known 'section.key'")
        if not isinstance(values, list) or not values:
            raise ScenarioError(f"{path}:sweep.{dotted}", "must be a non-empty list")
        checked = [_check_value(path, f"sweep.{dotted}", v, SECTIONS[section][key]) for v in values]
        axes.append((section, key, checked))
    return axes
