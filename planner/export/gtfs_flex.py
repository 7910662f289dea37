"""The service as a GTFS-Flex feed (a day's plan: :mod:`planner.export.plan`).

Tables are built as pandas DataFrames (one per GTFS file, all values strings) and written
to a zip by :func:`write_gtfs`; :func:`check_flex` checks a feed against the GTFS-Flex
rules that consumers such as OpenTripPlanner rely on.
"""

from __future__ import annotations

import zipfile
from collections.abc import Hashable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from planner.errors import PlannerError
from planner.service import Service
from planner.stops import StopCatalog
from planner.timefmt import hhmm, hhmmss, parse_hhmmss

AGENCY_ID = "rufbus"
ROUTE_ID = "rufbus"
SERVICE_ID = "rufbus"
GROUP_ID = "rufbus-stops"

#: GTFS route_type of a bus; the service is marked on-demand by its stop_times.
BUS = "3"

#: Files (and their required columns) every GTFS-Flex feed of a zone-to-zone service has.
FLEX_REQUIRED = {
    "agency.txt": ("agency_id", "agency_name", "agency_url", "agency_timezone"),
    "routes.txt": ("route_id", "agency_id", "route_short_name", "route_type"),
    "trips.txt": ("route_id", "service_id", "trip_id"),
    "calendar.txt": (
        "service_id", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
        "sunday", "start_date", "end_date",
    ),
    "stops.txt": ("stop_id", "stop_name", "stop_lat", "stop_lon"),
    "location_groups.txt": ("location_group_id", "location_group_name"),
    "location_group_stops.txt": ("location_group_id", "stop_id"),
    "booking_rules.txt": ("booking_rule_id", "booking_type"),
    "stop_times.txt": (
        "trip_id", "stop_sequence", "location_group_id", "start_pickup_drop_off_window",
        "end_pickup_drop_off_window", "pickup_type", "drop_off_type",
        "pickup_booking_rule_id", "drop_off_booking_rule_id",
    ),
}  # fmt: skip

Tables = dict[str, pd.DataFrame]


class ExportError(PlannerError):
    """The service or plan cannot be exported as asked; ``field`` names what to fix."""


def gtfs_frame(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """A GTFS table of ``rows``: the given columns, every value a string (None: empty)."""
    return pd.DataFrame([{c: "" if r.get(c) is None else str(r[c]) for c in columns} for r in rows],
                        columns=list(columns))  # fmt: skip


def platform_stops(catalog: StopCatalog, nodes: Sequence[int]) -> pd.DataFrame:
    """``stops.txt`` rows for the GTFS platforms (stop ids) of stop places ``nodes``.

    The ids are those of the district's GTFS feed, so consumers can match the stops.
    """
    G = catalog.network.graph
    rows = []
    for node in nodes:
        data = G.nodes[node]
        for stop_id in str(data.get("stop_ids") or f"node-{node}").split(";"):
            rows.append(
                {
                    "stop_id": stop_id,
                    "stop_name": data.get("name", str(node)),
                    "stop_lat": f"{data['y']:.6f}",
                    "stop_lon": f"{data['x']:.6f}",
                    "location_type": 0,
                }
            )
    return gtfs_frame(rows, ("stop_id", "stop_name", "stop_lat", "stop_lon", "location_type"))


def _booking_rule(rule_id: str, service: Service, *, lead_s: int, message: str) -> dict:
    row: dict[str, Any] = {
        "booking_rule_id": rule_id,
        "message": message,
        "phone_number": service.phone,
        "booking_url": service.booking_url,
        "info_url": service.booking_url,
    }
    if lead_s == 0:
        row["booking_type"] = 0  # real time
    else:
        row.update(
            booking_type=1,  # same day, with prior notice
            prior_notice_duration_min=lead_s // 60,
            prior_notice_duration_max=service.horizon_days * 24 * 60,
        )
    return row


def require_agency_url(service: Service, agency_url: str) -> str:
    """The operator's web site: ``agency_url``, else the service's booking page."""
    url = agency_url or service.booking_url
    if not url:
        raise ExportError("agency_url", "GTFS needs the operator's web site: give --agency-url "
                          "or set booking_url in the service file")  # fmt: skip
    return url


def gtfs_flex_tables(
    service: Service,
    catalog: StopCatalog,
    *,
    start: date,
    end: date,
    agency_url: str = "",
) -> Tables:
    """The on-demand service as a GTFS-Flex feed (stop-based, zone to zone).

    All bookable stops form one location group; a trip of two ``stop_times`` rows (pick up
    anywhere in the group, drop off anywhere in it) covers the service hours, with
    ``pickup_type``/``drop_off_type`` 2 (book by phone or online) and a booking rule with
    the prior notice, phone and booking URL. When the service has night trips
    (``booking.night_from`` before the last drop-off), they get a second trip and rule.

    Parameters
    ----------
    service
        The service definition.
    catalog
        Its bookable stops.
    start, end
        The calendar's first and last date.
    agency_url
        The operator's web site; the service's ``booking_url`` when empty.

    Returns
    -------
    tables
        File name -> table.

    Raises
    ------
    ExportError
        If the service has neither phone nor booking URL, no agency URL is known, or the
        dates are reversed.
    """
    if not service.phone and not service.booking_url:
        raise ExportError("phone", "set phone or booking_url in the service file: "
                          "riders of a GTFS-Flex feed need a way to book")  # fmt: skip
    url = require_agency_url(service, agency_url)
    if end < start:
        raise ExportError("end", f"{end} is before the start {start}")
    first, last, night = service.first_pickup_s, service.last_dropoff_s, service.night_from_s
    lead_min = service.min_lead_s // 60
    periods = [("rufbus-day", "day", first, min(last, night), service.min_lead_s,
                f"Rufbus bitte mindestens {lead_min} Minuten vorher buchen.")]  # fmt: skip
    if first < night < last:
        notice = max(service.min_lead_s, night - service.night_deadline_s)
        periods.append(
            ("rufbus-night", "night", night, last, notice,
             f"Fahrten ab {hhmm(night)} bis {hhmm(service.night_deadline_s)} "
             "Uhr am selben Tag buchen.")
        )  # fmt: skip
    tables: Tables = {
        "agency.txt": gtfs_frame(
            [
                {
                    "agency_id": AGENCY_ID,
                    "agency_name": service.name,
                    "agency_url": url,
                    "agency_timezone": service.timezone,
                    "agency_lang": "de",
                    "agency_phone": service.phone,
                }
            ],
            (
                "agency_id",
                "agency_name",
                "agency_url",
                "agency_timezone",
                "agency_lang",
                "agency_phone",
            ),
        ),  # fmt: skip
        "feed_info.txt": gtfs_frame(
            [
                {
                    "feed_publisher_name": service.name,
                    "feed_publisher_url": url,
                    "feed_lang": "de",
                    "feed_start_date": f"{start:%Y%m%d}",
                    "feed_end_date": f"{end:%Y%m%d}",
                    "feed_version": f"{start:%Y%m%d}",
                }
            ],
            (
                "feed_publisher_name",
                "feed_publisher_url",
                "feed_lang",
                "feed_start_date",
                "feed_end_date",
                "feed_version",
            ),
        ),  # fmt: skip
        "routes.txt": gtfs_frame(
            [
                {
                    "route_id": ROUTE_ID,
                    "agency_id": AGENCY_ID,
                    "route_short_name": "Rufbus",
                    "route_long_name": service.name,
                    "route_type": BUS,
                    "route_desc": "Rufbus auf Bestellung zwischen allen Haltestellen des Gebiets",
                }
            ],
            (
                "route_id",
                "agency_id",
                "route_short_name",
                "route_long_name",
                "route_type",
                "route_desc",
            ),
        ),  # fmt: skip
        "calendar.txt": gtfs_frame(
            [
                {
                    "service_id": SERVICE_ID,
                    **{d: 1 for d in FLEX_REQUIRED["calendar.txt"][1:8]},
                    "start_date": f"{start:%Y%m%d}",
                    "end_date": f"{end:%Y%m%d}",
                }
            ],
            FLEX_REQUIRED["calendar.txt"],
        ),  # fmt: skip
        "trips.txt": gtfs_frame(
            [
                {
                    "route_id": ROUTE_ID,
                    "service_id": SERVICE_ID,
                    "trip_id": trip_id,
                    "trip_headsign": service.name,
                }
                for trip_id, *_ in periods
            ],
            ("route_id", "service_id", "trip_id", "trip_headsign"),
        ),  # fmt: skip
        "stops.txt": platform_stops(catalog, catalog.nodes),
        "booking_rules.txt": gtfs_frame(
            [
                _booking_rule(rule, service, lead_s=lead, message=msg)
                for _, rule, _, _, lead, msg in periods
            ],
            (
                "booking_rule_id",
                "booking_type",
                "prior_notice_duration_min",
                "prior_notice_duration_max",
                "message",
                "phone_number",
                "info_url",
                "booking_url",
            ),
        ),  # fmt: skip
    }
    tables["location_groups.txt"] = gtfs_frame(
        [{"location_group_id": GROUP_ID, "location_group_name": f"{service.name}: Haltestellen"}],
        FLEX_REQUIRED["location_groups.txt"],
    )
    tables["location_group_stops.txt"] = gtfs_frame(
        [{"location_group_id": GROUP_ID, "stop_id": s} for s in tables["stops.txt"]["stop_id"]],
        FLEX_REQUIRED["location_group_stops.txt"],
    )
    rows = []
    for trip_id, rule, begin, finish, _, _ in periods:
        for seq, (pickup, drop_off) in enumerate(((2, 1), (1, 2)), start=1):
            rows.append(
                {
                    "trip_id": trip_id,
                    "stop_sequence": seq,
                    "location_group_id": GROUP_ID,
                    "start_pickup_drop_off_window": hhmmss(begin),
                    "end_pickup_drop_off_window": hhmmss(finish),
                    "pickup_type": pickup,
                    "drop_off_type": drop_off,
                    "pickup_booking_rule_id": rule,
                    "drop_off_booking_rule_id": rule,
                }
            )
    columns = ("trip_id", "arrival_time", "departure_time", "stop_id", *FLEX_REQUIRED[
        "stop_times.txt"][1:])  # fmt: skip
    tables["stop_times.txt"] = gtfs_frame(rows, columns)
    return tables


def check_flex(tables: Tables, *, hours: tuple[int, int] | None = None) -> list[str]:
    """Find the problems of a GTFS-Flex feed.

    Missing files or columns, ids that do not resolve, bad windows (outside ``hours`` if
    given), forbidden field combinations.

    Returns
    -------
    problems
        One line each; empty if the feed is consistent.
    """
    problems = _missing_columns(tables)
    if problems:
        return problems
    problems = _unresolved_ids(tables)
    rules = set(tables["booking_rules.txt"]["booking_rule_id"])
    groups = set(tables["location_groups.txt"]["location_group_id"])
    for k, row in enumerate(tables["stop_times.txt"].to_dict("records"), start=1):
        problems += _stop_time_problems(row, f"stop_times.txt row {k}", rules, groups, hours)
    for rule in tables["booking_rules.txt"].to_dict("records"):
        problems += _booking_rule_problems(rule)
    return problems


def _missing_columns(tables: Tables) -> list[str]:
    """Required files and columns that are missing, and required values that are empty."""
    problems = []
    for name, columns in FLEX_REQUIRED.items():
        if name not in tables:
            problems.append(f"{name}: missing")
            continue
        for column in columns:
            if column not in tables[name].columns:
                problems.append(f"{name}: no column {column}")
            elif name != "stop_times.txt" and (tables[name][column] == "").any():
                problems.append(f"{name}: empty {column}")
    return problems


def _unresolved_ids(tables: Tables) -> list[str]:
    """References to ids that the referenced table does not hold (the first one of each)."""

    def ids(name: str, column: str) -> set[str]:
        return set(tables[name][column])

    refs = [
        ("routes.txt", "agency_id", "agency.txt", "agency_id"),
        ("trips.txt", "route_id", "routes.txt", "route_id"),
        ("trips.txt", "service_id", "calendar.txt", "service_id"),
        ("location_group_stops.txt", "location_group_id", "location_groups.txt",
         "location_group_id"),
        ("location_group_stops.txt", "stop_id", "stops.txt", "stop_id"),
        ("stop_times.txt", "trip_id", "trips.txt", "trip_id"),
    ]  # fmt: skip
    problems = []
    for name, column, target, key in refs:
        missing = ids(name, column) - ids(target, key)
        if missing:
            problems.append(f"{name}: {column} {sorted(missing)[0]!r} not in {target}")
    return problems


def _stop_time_problems(
    row: dict[Hashable, Any],
    where: str,
    rules: set[str],
    groups: set[str],
    hours: tuple[int, int] | None,
) -> list[str]:
    """Problems of one ``stop_times.txt`` row: unknown ids, bad or forbidden windows."""
    problems = []
    if row["location_group_id"] and row["location_group_id"] not in groups:
        problems.append(f"{where}: location_group_id {row['location_group_id']!r} unknown")
    for column in ("pickup_booking_rule_id", "drop_off_booking_rule_id"):
        if row[column] and row[column] not in rules:
            problems.append(f"{where}: {column} {row[column]!r} not in booking_rules.txt")
    windowed = bool(row["start_pickup_drop_off_window"] or row["end_pickup_drop_off_window"])
    if row["location_group_id"] and not windowed:
        problems.append(f"{where}: a location group needs both pickup/drop-off windows")
    if not windowed:
        return problems
    if row.get("arrival_time") or row.get("departure_time"):
        problems.append(f"{where}: arrival/departure times are forbidden with windows")
    if row.get("stop_id") and row["location_group_id"]:
        problems.append(f"{where}: stop_id and location_group_id are exclusive")
    if row["pickup_type"] in ("0", "3") or row["drop_off_type"] == "0":
        problems.append(f"{where}: pickup_type 0/3 and drop_off_type 0 are forbidden")
    try:
        begin = parse_hhmmss(row["start_pickup_drop_off_window"], field="start")
        finish = parse_hhmmss(row["end_pickup_drop_off_window"], field="end")
    except PlannerError as exc:
        return [*problems, f"{where}: window {exc.field}: {exc.reason}"]
    if finish <= begin:
        problems.append(f"{where}: the window ends before it starts")
    if hours and not (hours[0] <= begin and finish <= hours[1]):
        problems.append(f"{where}: window outside the service hours")
    return problems


def _booking_rule_problems(rule: dict[Hashable, Any]) -> list[str]:
    """Problems of one ``booking_rules.txt`` row: its type and the prior notice it needs."""
    where = f"booking_rules.txt {rule['booking_rule_id']}"
    problems = []
    if rule["booking_type"] not in ("0", "1", "2"):
        problems.append(f"{where}: booking_type must be 0, 1 or 2")
    if rule["booking_type"] == "1" and not rule.get("prior_notice_duration_min"):
        problems.append(f"{where}: booking_type 1 needs prior_notice_duration_min")
    if rule["booking_type"] == "0" and rule.get("prior_notice_duration_min"):
        problems.append(f"{where}: booking_type 0 forbids prior_notice_duration_min")
    return problems


def write_gtfs(tables: Tables, path: Path) -> Path:
    """Write ``tables`` as a GTFS zip file (UTF-8 CSV, one file per table)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, table in tables.items():
            zf.writestr(name, table.to_csv(index=False, lineterminator="\n"))
    return path


def read_tables(path: Path) -> Tables:
    """Read every ``.txt`` table of a GTFS zip as strings (for checks and tests)."""
    with zipfile.ZipFile(path) as zf:
        return {
            name: pd.read_csv(zf.open(name), dtype=str, keep_default_na=False)
            for name in zf.namelist()
            if name.endswith(".txt")
        }
