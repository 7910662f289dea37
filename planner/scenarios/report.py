"""The HTML report of a scenario batch, with matplotlib charts."""

from __future__ import annotations

import html
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from planner.booking.views import DayPlan  # noqa: E402
from planner.fares import format_money, round_cents  # noqa: E402
from routing.sources.osm import read_area  # noqa: E402

#: KPIs charted against the swept parameter, with their labels.
CHART_KPIS = (
    ("rejection_rate", "rejected share of requests"),
    ("passengers_per_vehicle_hour", "passengers per vehicle-hour"),
    ("vehicle_hours", "vehicle-hours"),
    ("mean_wait_min", "mean wait vs wish (min)"),
)
TABLE_KPIS = (
    "requests", "served", "rejection_rate", "vehicles_used", "vehicle_hours", "vehicle_km",
    "empty_km", "passengers_per_vehicle_hour", "pooling_rate", "mean_occupancy",
    "mean_wait_min", "p95_wait_min", "mean_ride_min", "p95_ride_min", "mean_detour",
    "revenue", "solver_seconds",
)  # fmt: skip
MARKERS = "osD^v*P"


def swept_columns(table: pd.DataFrame) -> list[str]:
    """The swept keys (``section.key``) present in the table."""
    return [c for c in table.columns if "." in c]


def kpis_vs_sweep(table: pd.DataFrame, path: Path) -> None:
    """One panel per KPI against the first swept key; one line per value of the second."""
    ok = table[table["status"] == "ok"]
    axes_keys = swept_columns(ok)
    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    x = axes_keys[0] if axes_keys else "seed"
    series = axes_keys[1] if len(axes_keys) > 1 else None
    for ax, (kpi, label) in zip(axes.ravel(), CHART_KPIS, strict=True):
        if kpi not in ok:
            continue
        groups = ok.groupby(series) if series else [(None, ok)]
        for k, (value, part) in enumerate(groups):
            mean = part.groupby(x)[kpi].mean()
            name = f"{series.split('.')[-1]} = {value!s}" if series else None
            ax.plot(mean.index, mean.values, marker=MARKERS[k % len(MARKERS)], label=name)
        ax.set_xlabel(x.split(".")[-1].replace("_", " "))
        ax.set_title(label)
        ax.grid(alpha=0.3)
        if series:
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def rejection_by_group(table: pd.DataFrame, path: Path) -> None:
    """Rejected share per rider group, for each value of the first swept key."""
    ok = table[table["status"] == "ok"]
    keys = swept_columns(ok)
    x = keys[0] if keys else "seed"
    groups = ["rejection_rate_single", "rejection_rate_group", "rejection_rate_wheelchair"]
    present = [g for g in groups if g in ok]
    means = ok.groupby(x)[present].mean()
    fig, ax = plt.subplots(figsize=(9, 4))
    means.rename(columns=lambda c: c.removeprefix("rejection_rate_")).plot.bar(
        ax=ax, rot=0, edgecolor="black"
    )
    for container, hatch in zip(ax.containers, ("", "//", ".."), strict=False):
        for bar in container:
            bar.set_hatch(hatch)  # the groups differ by pattern too, not by colour alone
    ax.set_xlabel(x.split(".")[-1].replace("_", " "))
    ax.set_ylabel("rejected share")
    ax.set_title("Rejection rate by rider group")
    ax.legend(title="rider group")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _hours(seconds: float) -> float:
    return seconds / 3600


def timeline(plan: DayPlan, path: Path, title: str) -> None:
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
    ax.set_xlabel("hour of day (| above: boarding, | below: alighting)")
    ax.set_title(title)
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def trip_map(requests: pd.DataFrame, boundary_file: Path, path: Path, title: str) -> None:
    """Served trips as solid lines, rejected ones dashed, over the district boundary."""
    fig, ax = plt.subplots(figsize=(7, 7))
    area = read_area(boundary_file)
    for polygon in getattr(area, "geoms", [area]):
        xs, ys = polygon.exterior.xy
        ax.plot(xs, ys, color="#4a4a4a", linewidth=1)
    for outcome, style, colour in (("served", "-", "#00507a"), ("rejected", "--", "#a1001a")):
        part = requests[requests["outcome"] == outcome]
        # one column per trip: matplotlib draws each column as its own line
        lons = part[["origin_lon", "destination_lon"]].to_numpy().T
        lats = part[["origin_lat", "destination_lat"]].to_numpy().T
        ax.plot(lons, lats, style, color=colour, linewidth=0.6, alpha=0.6)
        ax.plot([], [], style, color=colour, label=f"{outcome} ({len(part)})")
    ax.set_aspect(1 / 0.62)  # about 1 / cos(51.8°)
    ax.set_title(title)
    ax.legend(loc="lower left")
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def representative_run(table: pd.DataFrame) -> pd.Series | None:
    """The finished run whose rejection rate is closest to the batch's median."""
    ok = table[table["status"] == "ok"]
    if ok.empty:
        return None
    median = ok["rejection_rate"].median()
    return ok.iloc[(ok["rejection_rate"] - median).abs().argmin()]


def revenue_summary(table: pd.DataFrame) -> str:
    """The batch's revenue in a sentence.

    The mean over finished runs of the fares of the served bookings, or that the service
    file has no tariff (``[fares]``).
    """
    ok = table[table["status"] == "ok"]
    cents = ok["revenue_cents"].dropna() if "revenue_cents" in ok else pd.Series(dtype=float)
    if cents.empty:
        return "Revenue: not configured (the service file has no [fares] tariff)."
    mean = format_money(round_cents(float(cents.mean())), "en")
    return f"Revenue: {mean} per run on average (the fares of the served bookings)."


def revenue_column(table: pd.DataFrame) -> pd.Series:
    """Each run's revenue as text ("not configured" without a tariff)."""
    if "revenue_cents" not in table:
        return pd.Series("not configured", index=table.index)
    return table["revenue_cents"].map(
        lambda c: "not configured" if pd.isna(c) else format_money(int(c), "en")
    )


def write_report(table: pd.DataFrame, out_dir: Path, *, boundary_file: Path, title: str) -> Path:
    """Write ``report.html`` and its charts into ``out_dir``; return the report's path."""
    figures = out_dir / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    charts = []
    if (table["status"] == "ok").any():
        kpis_vs_sweep(table, figures / "kpis.png")
        rejection_by_group(table, figures / "rejections.png")
        charts += [("kpis.png", "KPIs against the swept parameter (mean over seeds)"),
                   ("rejections.png", "Rejection rate by rider group")]  # fmt: skip
    run = representative_run(table)
    if run is not None:
        folder = out_dir / "runs" / run["run"]
        label = ", ".join(f"{c.split('.')[-1]} {run[c]}" for c in swept_columns(table))
        plan = DayPlan.from_json(json.loads((folder / "plan.json").read_text()))
        timeline(plan, figures / "timeline.png",
                 f"Vehicles over a representative day ({label}, seed {run['seed']})")  # fmt: skip
        trip_map(pd.read_csv(folder / "requests.csv"), boundary_file, figures / "map.png",
                 f"Served and rejected trips ({label}, seed {run['seed']})")  # fmt: skip
        charts += [("timeline.png", "Vehicle timeline of a representative day"),
                   ("map.png", "Served and rejected trips of that day")]  # fmt: skip
    table = table.assign(revenue=revenue_column(table))
    columns = ["status", *swept_columns(table), "seed", *[k for k in TABLE_KPIS if k in table]]
    errors = table[table["status"] == "error"]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        "<link rel='stylesheet' href='/static/rufbus.css'></head><body><main>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{len(table)} runs, {int((table['status'] == 'ok').sum())} finished, "
        f"{len(errors)} failed.</p>",
        f"<p>{html.escape(revenue_summary(table))}</p>",
    ]
    for name, caption in charts:
        text = html.escape(caption)
        parts.append(
            f"<figure><img src='figures/{name}' alt='{text}' width='900'>"
            f"<figcaption>{text}</figcaption></figure>"
        )
    parts.append("<h2>KPIs per run</h2><div class='table-wrap'>")
    parts.append(table[[c for c in columns if c in table]].to_html(index=False, border=0))
    parts.append("</div>")
    if not errors.empty:
        parts.append("<h2>Failed runs</h2>")
        parts.append(errors[["run", "error"]].to_html(index=False, border=0))
    parts.append("</main></body></html>")
    path = out_dir / "report.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
