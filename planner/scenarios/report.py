"""The charts and labels of a scenario batch's report (matplotlib).

The page itself is made by :mod:`web.scenario_report`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import (  # noqa: E402
    FuncFormatter,
    MaxNLocator,
    MultipleLocator,
    PercentFormatter,
)

from planner.booking.views import DayPlan  # noqa: E402
from planner.fares import round_cents  # noqa: E402
from planner.timefmt import hhmm  # noqa: E402
from routing.sources.osm import read_area  # noqa: E402


def N_(message: str) -> str:  # noqa: N802 - gettext's "mark now, translate later"
    """Mark a German text for the catalogue (``make translations``); the pages translate it.

    The planner does not import the web layer, so the marker is repeated here; it only
    returns its argument.
    """
    return message


#: What a reader sees for each KPI and swept key: German source texts, translated where shown
#: (``web.i18n``); one place for the report's charts and tables and the comparison page.
LABELS = {
    "requests": N_("Anfragen"),
    "served": N_("bedient"),
    "rejection_rate": N_("abgelehnt"),
    "rejection_rate_single": N_("Einzelfahrgäste"),
    "rejection_rate_group": N_("Gruppen"),
    "rejection_rate_wheelchair": N_("Rollstuhlnutzer"),
    "vehicles_used": N_("Busse im Einsatz"),
    "vehicle_hours": N_("Fahrzeugstunden"),
    "vehicle_km": N_("Fahrzeug-km"),
    "empty_km": N_("Leer-km"),
    "passengers_per_vehicle_hour": N_("Fahrgäste je Fahrzeugstunde"),
    "pooling_rate": N_("Bündelungsquote"),
    "mean_occupancy": N_("mittlere Besetzung"),
    "mean_wait_min": N_("Abweichung vom Wunsch, Mittel (min)"),
    "p95_wait_min": N_("Abweichung vom Wunsch, 95 % (min)"),
    "mean_ride_min": N_("Fahrzeit, Mittel (min)"),
    "p95_ride_min": N_("Fahrzeit, 95 % (min)"),
    "mean_detour": N_("Umwegfaktor, Mittel"),
    "solver_seconds": N_("Rechenzeit (s)"),
    "revenue_cents": N_("Einnahmen (€, ohne Tarif: –)"),
    "overrides.fleet_size": N_("Busse"),
    "overrides.seats": N_("Sitzplätze je Bus"),
    "overrides.wheelchair_places": N_("Rollstuhlplätze je Bus"),
    "demand.requests": N_("Anfragen pro Tag"),
    "seed": N_("Seed"),
    "status": N_("Status"),
    "batch": N_("Szenario-Lauf"),
}
#: KPIs charted against the swept parameter.
CHART_KPIS = ("rejection_rate", "passengers_per_vehicle_hour", "vehicle_hours", "mean_wait_min")
#: Chart titles where a KPI's short table label would not say enough.
CHART_TITLES = {"rejection_rate": N_("Anteil abgelehnter Anfragen")}
TABLE_KPIS = (
    "requests", "served", "rejection_rate", "vehicles_used", "vehicle_hours", "vehicle_km",
    "empty_km", "passengers_per_vehicle_hour", "pooling_rate", "mean_occupancy",
    "mean_wait_min", "p95_wait_min", "mean_ride_min", "p95_ride_min", "mean_detour",
    "revenue_cents", "solver_seconds",
)  # fmt: skip
#: KPIs that are shares (shown in per cent).
SHARES = frozenset({"rejection_rate", "rejection_rate_single", "rejection_rate_group",
                    "rejection_rate_wheelchair", "pooling_rate"})  # fmt: skip
MARKERS = "osD^v*P"

#: Translates a German text into the reader's language.
Translate = Callable[[str], str]


@dataclass(frozen=True)
class Chart:
    """A chart of the report: its file under ``figures/<lang>/`` and its German caption."""

    file: str
    caption: str


SWEEP_CHARTS = (
    Chart("kpis.png", N_("Kennzahlen über dem variierten Parameter (Mittel über die Seeds)")),
    Chart("rejections.png", N_("Ablehnungsquote nach Fahrgastgruppe")),
)
DAY_CHARTS = (
    Chart("timeline.png", N_("Fahrzeuge über den Tag des typischen Laufs")),
    Chart("map.png", N_("Bediente und abgelehnte Fahrten dieses Tages")),
)


def label(key: str, _: Translate) -> str:
    """What a reader sees for a KPI or swept key (the key itself if it has no label)."""
    return _(LABELS[key]) if key in LABELS else key.split(".")[-1].replace("_", " ")


def format_kpi(key: str, value: object) -> str:
    """A KPI value as text: shares in per cent, counts whole, the rest with two decimals."""
    if not isinstance(value, int | float) or pd.isna(value):
        return "–" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    if key in SHARES:
        return f"{100 * value:.0f} %"
    if key == "revenue_cents":  # the fares of the served bookings, in whole euros
        return f"{value / 100:.0f}"
    if float(value).is_integer():
        return f"{int(value)}"
    return f"{value:.2f}"


def swept_columns(table: pd.DataFrame) -> list[str]:
    """The swept keys (``section.key``) present in the table."""
    return [c for c in table.columns if "." in c]


def _whole_numbers(values: pd.Index | pd.Series) -> bool:
    numbers = pd.to_numeric(pd.Series(values), errors="coerce")
    return bool(numbers.notna().all() and (numbers % 1 == 0).all())


def whole_ticks(ax: Axes, values: pd.Series) -> None:
    """Ticks of a count axis (buses, requests, seeds) on whole numbers only: no "12.5 buses".

    A few values get a tick each (they are what was simulated); a single one gets room around
    it, where matplotlib would otherwise tick 0.95, 0.975, ...
    """
    if not _whole_numbers(values):
        return
    steps = sorted({int(v) for v in values})
    if len(steps) <= 12:
        ax.set_xticks(steps)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if len(steps) == 1:
        ax.set_xlim(steps[0] - 1, steps[0] + 1)


def kpis_figure(table: pd.DataFrame, _: Translate) -> Figure:
    """One panel per KPI against the first swept key; one line per value of the second."""
    ok = table[table["status"] == "ok"]
    axes_keys = swept_columns(ok)
    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    x = axes_keys[0] if axes_keys else "seed"
    series = axes_keys[1] if len(axes_keys) > 1 else None
    for ax, kpi in zip(axes.ravel(), CHART_KPIS, strict=True):
        if kpi not in ok:
            continue
        groups = ok.groupby(series) if series else [(None, ok)]
        for k, (value, part) in enumerate(groups):
            mean = part.groupby(x)[kpi].mean()
            name = f"{label(series, _)} = {value!s}" if series else None
            ax.plot(mean.index, mean.values, marker=MARKERS[k % len(MARKERS)], label=name)
        whole_ticks(ax, ok[x])
        if kpi in SHARES:
            ax.yaxis.set_major_formatter(PercentFormatter(xmax=1))
        ax.set_xlabel(label(x, _))
        ax.set_title(_(CHART_TITLES[kpi]) if kpi in CHART_TITLES else label(kpi, _))
        ax.grid(alpha=0.3)
        if series:
            ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def rejections_figure(table: pd.DataFrame, _: Translate) -> Figure:
    """Rejected share per rider group, for each value of the first swept key."""
    ok = table[table["status"] == "ok"]
    keys = swept_columns(ok)
    x = keys[0] if keys else "seed"
    groups = ["rejection_rate_single", "rejection_rate_group", "rejection_rate_wheelchair"]
    present = [g for g in groups if g in ok]
    means = ok.groupby(x)[present].mean()
    fig, ax = plt.subplots(figsize=(9, 4))
    means.rename(columns=lambda c: label(c, _)).plot.bar(ax=ax, rot=0, edgecolor="black")
    for container, hatch in zip(ax.containers, ("", "//", ".."), strict=False):
        for bar in container:
            bar.set_hatch(hatch)  # the groups differ by pattern too, not by colour alone
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1))
    ax.set_xlabel(label(x, _))
    ax.set_ylabel(_("abgelehnter Anteil"))
    ax.legend(title=_("Fahrgastgruppe"))
    fig.tight_layout()
    return fig


def _hours(seconds: float) -> float:
    return seconds / 3600


def timeline_figure(plan: DayPlan, _: Translate) -> Figure:
    """Gantt of the vehicles of one day: in service from first stop to return; stops as ticks."""
    vehicles = [v for v in plan.vehicles if v.stops]
    fig, ax = plt.subplots(figsize=(10, 0.4 * len(vehicles) + 1.2))
    for row, vehicle in enumerate(vehicles):
        start = _hours(vehicle.stops[0].arrival_s)
        end = _hours(vehicle.return_s)
        ax.barh(row, end - start, left=start, height=0.5, color="#b9d4e4", edgecolor="#00507a")
        picks = [_hours(s.service_start_s) for s in vehicle.stops if s.kind == "pickup"]
        drops = [_hours(s.service_start_s) for s in vehicle.stops if s.kind == "dropoff"]
        ax.plot(picks, [row - 0.1] * len(picks), "|", color="#00507a", markersize=9)
        ax.plot(drops, [row + 0.1] * len(drops), "|", color="#a1001a", markersize=9)
    ax.set_yticks(range(len(vehicles)), [v.vehicle_id for v in vehicles])
    ax.set_xlim(5, 24)
    ax.xaxis.set_major_locator(MultipleLocator(2))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda h, _pos: hhmm(h * 3600)))
    ax.set_xlabel(_("Uhrzeit (| oben: Einstieg, | unten: Ausstieg)"))
    ax.invert_yaxis()
    fig.tight_layout()
    return fig


def map_figure(requests: pd.DataFrame, boundary_file: Path, _: Translate) -> Figure:
    """Served trips as solid lines, rejected ones dashed, over the district boundary."""
    fig, ax = plt.subplots(figsize=(7, 7))
    area = read_area(boundary_file)
    for polygon in getattr(area, "geoms", [area]):
        xs, ys = polygon.exterior.xy
        ax.plot(xs, ys, color="#4a4a4a", linewidth=1)
    outcomes = (("served", _("bedient"), "-", "#00507a"),
                ("rejected", _("abgelehnt"), "--", "#a1001a"))  # fmt: skip
    for outcome, name, style, colour in outcomes:
        part = requests[requests["outcome"] == outcome]
        # one column per trip: matplotlib draws each column as its own line
        lons = part[["origin_lon", "destination_lon"]].to_numpy().T
        lats = part[["origin_lat", "destination_lat"]].to_numpy().T
        ax.plot(lons, lats, style, color=colour, linewidth=0.6, alpha=0.6)
        ax.plot([], [], style, color=colour, label=f"{name} ({len(part)})")
    ax.set_aspect(1 / 0.62)  # about 1 / cos(51.8°)
    ax.legend(loc="lower left")
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    return fig


def representative_run(table: pd.DataFrame) -> pd.Series | None:
    """The finished run whose rejection rate is closest to the batch's median."""
    ok = table[table["status"] == "ok"]
    if ok.empty:
        return None
    median = ok["rejection_rate"].median()
    return ok.iloc[(ok["rejection_rate"] - median).abs().argmin()]


def mean_revenue_cents(table: pd.DataFrame) -> int | None:
    """The batch's mean revenue per finished run (fares of the served bookings), in cents.

    None when the service file has no tariff (``[fares]``): no run has a revenue.
    """
    ok = table[table["status"] == "ok"]
    cents = ok["revenue_cents"].dropna() if "revenue_cents" in ok else pd.Series(dtype=float)
    return None if cents.empty else round_cents(float(cents.mean()))


def run_label(run: pd.Series, table: pd.DataFrame, _: Translate) -> str:
    """The swept values and seed of a run, e.g. "Busse 2, Seed 1"."""
    keys = [*swept_columns(table), "seed"]
    return ", ".join(f"{label(k, _)} {run[k]}" for k in keys)


def representative_day(table: pd.DataFrame, out_dir: Path) -> tuple[pd.Series, DayPlan] | None:
    """The representative run of the batch in ``out_dir`` and its final plan, or None."""
    run = representative_run(table)
    if run is None:
        return None
    plan_file = out_dir / "runs" / run["run"] / "plan.json"
    return run, DayPlan.from_json(json.loads(plan_file.read_text()))


def _save(fig: Figure, path: Path) -> None:
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_figures(
    table: pd.DataFrame, out_dir: Path, *, boundary_file: Path, lang: str, _: Translate
) -> list[Chart]:
    """Draw the report's charts in language ``lang`` into ``out_dir/figures/<lang>/``.

    Returns the charts drawn (none when no run finished).
    """
    folder = out_dir / "figures" / lang
    folder.mkdir(parents=True, exist_ok=True)
    charts: list[Chart] = []
    if (table["status"] == "ok").any():
        _save(kpis_figure(table, _), folder / "kpis.png")
        _save(rejections_figure(table, _), folder / "rejections.png")
        charts += SWEEP_CHARTS
    day = representative_day(table, out_dir)
    if day is not None:
        run, plan = day
        requests = pd.read_csv(out_dir / "runs" / run["run"] / "requests.csv")
        _save(timeline_figure(plan, _), folder / "timeline.png")
        _save(map_figure(requests, boundary_file, _), folder / "map.png")
        charts += DAY_CHARTS
    return charts
