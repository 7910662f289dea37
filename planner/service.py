"""The definition of an on-demand service: area, stops, hours, booking rules, fleet, objective.

A service is read from a TOML file (default ``fixtures/services/salzland.toml``); every key is
checked, and a bad file is refused with ``FILE:KEY`` and the reason.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from planner.darp.breaks import BreakRule
from planner.darp.objective import Objective
from planner.errors import ServiceFileError
from planner.fares import REDUCTIONS, FareBand, Tariff
from planner.timefmt import parse_hhmm

#: The default service of the project.
DEFAULT_SERVICE_FILE = Path(__file__).resolve().parent.parent / "fixtures/services/salzland.toml"


@dataclass(frozen=True, slots=True)
class VehicleSpec:
    """One bus of the fleet in one shift: depot stop (by name), capacities, shift times.

    A bus with several shifts a day (drivers change at the depot) is one entry per shift,
    ``id`` naming the bus and the shift (``BBG-1-S2``) and ``bus`` the bus itself.
    Times are seconds after midnight.
    """

    id: str
    depot: str
    seats: int
    wheelchair_places: int
    shift_start_s: int
    shift_end_s: int
    max_duty_s: int | None = None  # longest time from leaving the depot to returning
    bus: str = ""  # the physical bus; empty: ``id``

    @property
    def bus_id(self) -> str:
        """The bus this shift drives (the id of a bus with one shift)."""
        return self.bus or self.id


#: ArbZG §4: a break of at least 30 minutes after at most 6 hours of work.
WORK_WITHOUT_BREAK_S = 6 * 3600


def break_warnings(service: Service) -> list[str]:
    """Shifts longer than the law allows without a break, when breaks are not planned.

    Turn on ``[breaks]`` (the planner then places them), or split such shifts into several
    (``shift = [["05:30", "11:30"], ["11:30", "17:30"]]``): drivers then change at the depot.
    """
    if service.breaks is not None:
        return []
    return [
        f"{v.id}: a shift of {(v.shift_end_s - v.shift_start_s) / 3600:.1f} h; ArbZG §4 "
        "needs a break after 6 h of work, and [breaks] is off: turn it on, or split the "
        "shift into shifts of at most 6 h (drivers change at the depot)"
        for v in service.fleet
        if v.shift_end_s - v.shift_start_s > WORK_WITHOUT_BREAK_S
    ]


@dataclass(frozen=True, slots=True)
class TimetableRule:
    """How the on-demand bus gives way to scheduled lines (times in s).

    A scheduled connection leaving within ``before_s`` before to ``after_s`` after a pickup
    wish (for an arrive-by wish: arriving within ``after_s`` before the deadline) is offered
    instead of the bus, if it takes at most ``max_duration_factor`` times the bus's
    ride-time promise.
    """

    check: bool = False
    before_s: int = 15 * 60
    after_s: int = 45 * 60
    walk_max_m: float = 400.0
    min_transfer_s: int = 2 * 60
    transfer_buffer_s: int = 5 * 60
    max_duration_factor: float = 1.5
    feeds: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("before_s", "after_s", "min_transfer_s", "transfer_buffer_s"):
            if getattr(self, name) < 0:
                raise ServiceFileError(name, "must not be negative")
        if self.walk_max_m < 0:
            raise ServiceFileError("walk_max_m", "must not be negative")
        if self.max_duration_factor <= 0:
            raise ServiceFileError("max_duration_factor", "must be positive")


@dataclass(frozen=True, slots=True)
class PrivacyRule:
    """How long riders' personal data and offers are kept.

    Name, phone and note of a booking are erased ``erase_after_days`` after its service
    day (of a standing booking: after its last day); the rest of the booking stays, so the
    KPIs keep their figures. Offers are deleted ``offers_kept_hours`` after they expired.
    """

    erase_after_days: int = 30
    offers_kept_hours: int = 24


@dataclass(frozen=True, slots=True)
class OperationsRule:
    """How the day is run on the road.

    A driver may record a no-show only ``no_show_wait_s`` after arriving at the pickup
    stop, and never before the pickup window starts. The live state flags a booking at risk
    once its estimate leaves less than ``risk_margin_s`` before its promise breaks.
    """

    no_show_wait_s: int = 3 * 60
    risk_margin_s: int = 5 * 60


@dataclass(frozen=True, slots=True)
class ReoptimizePolicy:
    """When a day is re-optimised in the background, and for how long.

    A day is due after ``every_bookings`` changes (confirmations, cancellations, no-shows)
    since its last re-optimisation, or once ``every_min`` minutes have passed since then and
    the day changed at all. 0 turns a rule off. The background worker and the scenario
    simulation both ask :meth:`is_due`.
    """

    enabled: bool = True
    every_bookings: int = 25
    every_min: int = 30
    time_limit_s: float = 5.0
    #: moves of the search instead of the clock (0: the time limit alone), which then caps
    #: them: a scenario batch gives the same figures on a busy machine
    moves: int = 0

    def is_due(self, changes: int, seconds_since: float) -> bool:
        """Whether a day is to be re-optimised now.

        Parameters
        ----------
        changes
            Writes of the day since its last re-optimisation.
        seconds_since
            Seconds since its last re-optimisation.
        """
        if not self.enabled or changes <= 0:
            return False
        if self.every_bookings and changes >= self.every_bookings:
            return True
        return bool(self.every_min) and seconds_since >= self.every_min * 60


#: The channels a service may enable for riders' notifications.
NOTIFY_CHANNELS = ("email", "sms", "call")


@dataclass(frozen=True, slots=True)
class NotificationRule:
    """Riders' notifications (opt-in at booking): channels, times, sender and servers.

    ``channels`` are those enabled (none: no notifications, the form asks for nothing):
    ``email`` over SMTP, ``sms`` through the provider at ``sms_url``, ``call`` a list for
    dispatchers of riders with only a landline. The reminder goes out at ``reminder_s``
    (local) the evening before; "your bus arrives" ``arrival_min`` minutes before the live
    estimate of the pickup. A failed delivery is tried again after ``retry_base_s``, then
    twice as long each time, ``max_attempts`` times in all. Credentials never come from
    the file: see :mod:`planner.notify.channels`.
    """

    channels: tuple[str, ...] = ()
    reminder_s: int = 18 * 3600
    arrival_min: int = 5
    sender_name: str = "Rufbus"
    from_address: str = "rufbus@localhost"
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_starttls: bool = False
    sms_url: str = ""
    max_attempts: int = 6
    retry_base_s: int = 60

    @property
    def enabled(self) -> bool:
        """Whether any channel is enabled."""
        return bool(self.channels)


@dataclass(frozen=True, slots=True)
class Service:
    """Everything the booking engine needs to know about a service (times in s, local)."""

    name: str
    timezone: str
    phone: str
    booking_url: str
    boundary: str
    stops_source: str
    first_pickup_s: int
    last_dropoff_s: int
    min_lead_s: int
    horizon_days: int
    night_from_s: int
    night_deadline_s: int
    offer_ttl_s: int
    max_passengers: int
    window_s: int
    boarding_s: int
    alpha: float
    beta_s: float
    vehicle_time_weight: float
    ride_time_weight: float
    fleet: tuple[VehicleSpec, ...]
    path: str = ""
    min_trip_m: float = 1000.0
    timetable: TimetableRule = TimetableRule()
    privacy: PrivacyRule = PrivacyRule()
    operations: OperationsRule = OperationsRule()
    reoptimize: ReoptimizePolicy = ReoptimizePolicy()
    #: seconds an offer may re-plan the day to make room for the wish (0: insertion only)
    repair_s: float = 0.05
    #: moves of the repair's search, capped by ``repair_s`` (0: the time alone); with
    #: ``reoptimize.moves``, what makes a simulated day the same on a busy machine
    repair_moves: int = 0
    #: planned driving times are the network's times this factor (a margin for traffic)
    travel_time_factor: float = 1.0
    #: drivers' breaks the planner places (at the depot); None: not planned
    breaks: BreakRule | None = None
    #: the tariff; None: no fares configured (riders are told the fare is to be set)
    fares: Tariff | None = None
    notifications: NotificationRule = NotificationRule()

    def max_ride_s(self, direct_s: float) -> float:
        """The ride-time promise for a trip whose direct time is ``direct_s``."""
        return self.alpha * direct_s + self.beta_s

    @property
    def objective(self) -> Objective:
        """What planning minimises: weighted bus driving time plus riders' time on board."""
        return Objective(
            arc="time", arc_weight=self.vehicle_time_weight, ride_weight=self.ride_time_weight
        )


class _Reader:
    """Reads typed keys of one TOML table and names ``FILE:KEY`` in every error."""

    def __init__(self, path: Path, table: dict[str, Any], prefix: str = "") -> None:
        self.path, self.table, self.prefix = path, table, prefix

    def field(self, key: str) -> str:
        return f"{self.path}:{self.prefix}{key}"

    def sub(self, key: str) -> _Reader:
        value = self.table.get(key, {})
        if not isinstance(value, dict):
            raise ServiceFileError(self.field(key), "must be a table")
        return _Reader(self.path, value, f"{self.prefix}{key}.")

    def get(self, key: str, kind: type, default: Any = None) -> Any:
        if key not in self.table:
            if default is None:
                raise ServiceFileError(self.field(key), "is missing")
            return default
        value = self.table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            raise ServiceFileError(self.field(key), f"must be a {kind.__name__}, got {value!r}")
        return value

    def number(self, key: str, kind: type, default: Any, *, low: float, high: float) -> Any:
        value = self.get(key, kind, default)
        if not low <= value <= high:
            raise ServiceFileError(self.field(key), f"must be between {low} and {high}")
        return value

    def clock(self, key: str, default: str | None = None) -> int:
        return parse_hhmm(self.get(key, str, default), field=self.field(key))

    def only(self, keys: tuple[str, ...]) -> None:
        """Refuse keys other than ``keys`` (a misspelt key must not fall back to a default)."""
        for key in self.table:
            if key not in keys:
                raise ServiceFileError(self.field(key), f"unknown key; expected {', '.join(keys)}")


FLEET_KEYS = ("id", "count", "depot", "seats", "wheelchair_places", "shift", "max_duty_min")


def _fleet(path: Path, entries: Any) -> tuple[VehicleSpec, ...]:
    if not isinstance(entries, list) or not entries:
        raise ServiceFileError(f"{path}:fleet", "needs at least one [[fleet]] entry")
    vehicles: list[VehicleSpec] = []
    for k, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ServiceFileError(f"{path}:fleet[{k}]", "must be a table")
        r = _Reader(path, entry, f"fleet[{k}].")
        r.only(FLEET_KEYS)
        base = r.get("id", str)
        count = r.number("count", int, 1, low=1, high=500)
        shifts = _shifts(r.field("shift"), r.get("shift", list))
        seats = r.number("seats", int, None, low=1, high=100)
        places = r.number("wheelchair_places", int, 0, low=0, high=10)
        depot = r.get("depot", str)
        duty_s = None  # optional: no limit but the shift
        if "max_duty_min" in entry:
            duty_s = r.number("max_duty_min", int, None, low=10, high=24 * 60) * 60
        buses = [base] if count == 1 else [f"{base}-{i}" for i in range(1, count + 1)]
        for bus in buses:
            if len(shifts) == 1:
                vehicles.append(VehicleSpec(bus, depot, seats, places, *shifts[0], duty_s))
                continue
            vehicles += [
                VehicleSpec(f"{bus}-S{j}", depot, seats, places, start, end, duty_s, bus)
                for j, (start, end) in enumerate(shifts, start=1)
            ]
    seen: set[str] = set()
    for v in vehicles:
        if v.id in seen:
            raise ServiceFileError(f"{path}:fleet", f"vehicle id {v.id!r} appears twice")
        seen.add(v.id)
    return tuple(vehicles)


def _shifts(field: str, value: list[Any]) -> list[tuple[int, int]]:
    """``["05:30", "23:30"]`` or ``[["05:30", "11:30"], ["11:30", "17:30"], ...]``.

    A bus's shifts follow one another without overlap: each ends at the depot, where the
    next driver takes over.
    """
    pairs = value if value and all(isinstance(p, list) for p in value) else [value]
    shifts: list[tuple[int, int]] = []
    for j, pair in enumerate(pairs):
        where = field if len(pairs) == 1 else f"{field}[{j}]"
        if len(pair) != 2:
            raise ServiceFileError(where, "must be [start, end]")
        start, end = (parse_hhmm(t, field=where) for t in pair)
        if end <= start:
            raise ServiceFileError(where, "must end after it starts")
        if shifts and start < shifts[-1][1]:
            raise ServiceFileError(where, "starts before the shift before it ends")
        shifts.append((start, end))
    return shifts


def _timetable(r: _Reader) -> TimetableRule:
    feeds = r.get("feeds", list, [])
    if not all(isinstance(f, str) and f for f in feeds):
        raise ServiceFileError(r.field("feeds"), "must be a list of GTFS file paths")
    minutes = 24 * 60
    return TimetableRule(
        check=r.get("check", bool, False),
        before_s=r.number("rule_before_min", int, 15, low=0, high=minutes) * 60,
        after_s=r.number("rule_after_min", int, 45, low=0, high=minutes) * 60,
        walk_max_m=r.number("walk_max_m", float, 400.0, low=0.0, high=2000.0),
        min_transfer_s=r.number("min_transfer_min", int, 2, low=0, high=60) * 60,
        transfer_buffer_s=r.number("transfer_buffer_min", int, 5, low=0, high=60) * 60,
        max_duration_factor=r.number("max_duration_factor", float, 1.5, low=0.1, high=10.0),
        feeds=tuple(feeds),
    )


def _privacy(r: _Reader) -> PrivacyRule:
    r.only(("erase_after_days", "offers_kept_hours"))
    return PrivacyRule(
        # at least a day: the day's manifest needs the riders' names until the day is over
        erase_after_days=r.number("erase_after_days", int, 30, low=1, high=3650),
        offers_kept_hours=r.number("offers_kept_hours", int, 24, low=0, high=24 * 366),
    )


def _operations(r: _Reader) -> OperationsRule:
    r.only(("no_show_wait_min", "risk_margin_min"))
    return OperationsRule(
        no_show_wait_s=r.number("no_show_wait_min", int, 3, low=0, high=60) * 60,
        risk_margin_s=r.number("risk_margin_min", int, 5, low=0, high=60) * 60,
    )


def _reoptimize(r: _Reader) -> ReoptimizePolicy:
    r.only(("enabled", "every_bookings", "every_min", "time_limit_s", "moves"))
    return ReoptimizePolicy(
        enabled=r.get("enabled", bool, True),
        every_bookings=r.number("every_bookings", int, 25, low=0, high=100_000),
        every_min=r.number("every_min", int, 30, low=0, high=24 * 60),
        time_limit_s=r.number("time_limit_s", float, 5.0, low=0.1, high=600.0),
        moves=r.number("moves", int, 0, low=0, high=10_000_000),
    )


NOTIFICATION_KEYS = (
    "channels", "reminder_time", "arrival_min", "sender_name", "from_address", "smtp_host",
    "smtp_port", "smtp_starttls", "sms_url", "max_attempts", "retry_base_s",
)  # fmt: skip


def _notifications(r: _Reader) -> NotificationRule:
    r.only(NOTIFICATION_KEYS)
    channels = r.get("channels", list, [])
    for channel in channels:
        if channel not in NOTIFY_CHANNELS:
            choices = ", ".join(NOTIFY_CHANNELS)
            raise ServiceFileError(
                r.field("channels"), f"unknown channel {channel!r}; use {choices}"
            )
    sms_url = r.get("sms_url", str, "")
    if "sms" in channels and not sms_url.startswith(("http://", "https://")):
        raise ServiceFileError(
            r.field("sms_url"), "the sms channel needs the provider's http(s) URL"
        )
    return NotificationRule(
        channels=tuple(dict.fromkeys(channels)),
        reminder_s=r.clock("reminder_time", "18:00"),
        arrival_min=r.number("arrival_min", int, 5, low=1, high=60),
        sender_name=r.get("sender_name", str, "Rufbus"),
        from_address=r.get("from_address", str, "rufbus@localhost"),
        smtp_host=r.get("smtp_host", str, "localhost"),
        smtp_port=r.number("smtp_port", int, 25, low=1, high=65535),
        smtp_starttls=r.get("smtp_starttls", bool, False),
        sms_url=sms_url,
        max_attempts=r.number("max_attempts", int, 6, low=1, high=50),
        retry_base_s=r.number("retry_base_s", int, 60, low=1, high=24 * 3600),
    )


def _breaks(r: _Reader) -> BreakRule | None:
    r.only(("enabled", "max_work_h", "minutes", "long_day_h", "long_day_minutes", "freedom_min"))
    if not r.table or not r.get("enabled", bool, True):
        return None
    max_work_h = r.number("max_work_h", float, 6.0, low=1.0, high=12.0)
    return BreakRule(
        max_work_s=max_work_h * 3600,
        break_s=r.number("minutes", int, 30, low=5, high=180) * 60,
        long_day_s=r.number("long_day_h", float, 9.0, low=1.0, high=24.0) * 3600,
        long_day_break_s=r.number("long_day_minutes", int, 45, low=0, high=240) * 60,
        freedom_s=r.number("freedom_min", int, 60, low=1, high=int(max_work_h * 60) - 1) * 60,
    )


FARES_KEYS = (
    "mode", "surcharge_eur", "band", "same_municipality_eur", "between_municipalities_eur",
    "reductions", "deutschlandticket_valid", "deutschlandticket_surcharge",
)  # fmt: skip
#: The highest amount a fare key takes, in euros (a typo of a decimal point is refused).
MAX_EUR = 1000.0


def _euros(r: _Reader, key: str, default: float | None = None) -> int:
    """An amount in euros (``2.50``), as whole cents."""
    value = r.number(key, float, default, low=0.0, high=MAX_EUR)
    cents = round(value * 100)
    if abs(value * 100 - cents) > 1e-6:
        raise ServiceFileError(r.field(key), f"must be whole cents, got {value!r}")
    return cents


def _bands(r: _Reader) -> tuple[FareBand, ...]:
    entries = r.get("band", list)
    if not entries:
        raise ServiceFileError(r.field("band"), "needs at least one [[fares.band]]")
    bands: list[FareBand] = []
    for k, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ServiceFileError(r.field(f"band[{k}]"), "must be a table")
        b = _Reader(r.path, entry, f"{r.prefix}band[{k}].")
        b.only(("up_to_km", "price_eur"))
        up_to = b.number("up_to_km", float, None, low=0.0, high=float("inf"))
        if up_to <= 0 or bands and up_to <= bands[-1].up_to_km:
            raise ServiceFileError(
                b.field("up_to_km"), "must be above 0 and above the band before it"
            )
        bands.append(FareBand(up_to, _euros(b, "price_eur")))
    return tuple(bands)


def _fares(r: _Reader) -> Tariff | None:
    """The tariff of ``[fares]``; None without the section (no fares configured)."""
    if not r.table:
        return None
    r.only(FARES_KEYS)
    mode = r.get("mode", str)
    reductions = r.sub("reductions")
    reductions.only(REDUCTIONS)
    shares = tuple(
        (kind, reductions.number(kind, float, None, low=0.0, high=1.0))
        for kind in REDUCTIONS
        if kind in reductions.table
    )
    common = {
        "surcharge_cents": _euros(r, "surcharge_eur", 0.0),
        "reductions": shares,
        "deutschlandticket_valid": r.get("deutschlandticket_valid", bool),
        "deutschlandticket_surcharge": r.get("deutschlandticket_surcharge", bool, True),
    }
    zone_keys = ("same_municipality_eur", "between_municipalities_eur")
    if mode == "distance":
        for key in zone_keys:
            if key in r.table:
                raise ServiceFileError(r.field(key), 'only with mode = "zones"')
        return Tariff("distance", bands=_bands(r), **common)
    if mode == "zones":
        if "band" in r.table:
            raise ServiceFileError(r.field("band"), 'only with mode = "distance"')
        same, between = (_euros(r, key) for key in zone_keys)
        return Tariff(
            "zones", same_municipality_cents=same, between_municipalities_cents=between, **common
        )
    raise ServiceFileError(r.field("mode"), f'must be "distance" or "zones", got {mode!r}')


def _timezone(r: _Reader) -> str:
    name = r.get("timezone", str, "Europe/Berlin")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # a path-like, empty or huge key
        raise ServiceFileError(r.field("timezone"), f"unknown time zone {name!r}") from None
    return name


def load_service(path: Path | str = DEFAULT_SERVICE_FILE) -> Service:
    """Read and check a service file.

    Parameters
    ----------
    path
        A TOML service file.

    Returns
    -------
    service
        The service, with all times in seconds after local midnight.

    Raises
    ------
    ServiceFileError
        If the file is missing, not TOML, or a key is missing or out of range; the error's
        ``field`` is ``FILE:KEY``.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ServiceFileError(str(path), "service file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ServiceFileError(str(path), f"not valid TOML: {exc}") from None
    top = _Reader(path, data)
    hours, booking, rides = top.sub("hours"), top.sub("booking"), top.sub("rides")
    objective = top.sub("objective")
    service = Service(
        name=top.get("name", str),
        timezone=_timezone(top),
        phone=top.get("phone", str, ""),
        booking_url=top.get("booking_url", str, ""),
        boundary=top.sub("area").get("boundary", str, "district"),
        stops_source=top.sub("stops").get("source", str, "gtfs-in-area"),
        first_pickup_s=hours.clock("first_pickup"),
        last_dropoff_s=hours.clock("last_dropoff"),
        min_lead_s=booking.number("min_lead_min", int, 60, low=0, high=7 * 24 * 60) * 60,
        horizon_days=booking.number("horizon_days", int, 14, low=0, high=366),
        night_from_s=booking.clock("night_from", "24:00"),
        night_deadline_s=booking.clock("night_deadline", "24:00"),
        offer_ttl_s=booking.number("offer_ttl_s", int, 300, low=10, high=3600),
        repair_s=booking.number("repair_ms", int, 50, low=0, high=5000) / 1000,
        repair_moves=booking.number("repair_moves", int, 0, low=0, high=1_000_000),
        max_passengers=booking.number("max_passengers", int, 8, low=1, high=100),
        window_s=rides.number("window_min", int, 15, low=1, high=120) * 60,
        boarding_s=rides.number("boarding_s", int, 60, low=0, high=900),
        alpha=rides.number("alpha", float, 1.5, low=1.0, high=5.0),
        beta_s=rides.number("beta_min", float, 10.0, low=0.0, high=120.0) * 60,
        travel_time_factor=rides.number("travel_time_factor", float, 1.0, low=1.0, high=2.0),
        vehicle_time_weight=objective.number(
            "vehicle_time_weight", float, 1.0, low=0.0, high=1000.0
        ),
        ride_time_weight=objective.number("ride_time_weight", float, 0.1, low=0.0, high=1000.0),
        fleet=_fleet(path, data.get("fleet")),
        path=str(path),
        min_trip_m=booking.number("min_trip_m", float, 1000.0, low=0.0, high=100_000.0),
        timetable=_timetable(top.sub("timetable")),
        privacy=_privacy(top.sub("privacy")),
        operations=_operations(top.sub("operations")),
        reoptimize=_reoptimize(top.sub("reoptimize")),
        breaks=_breaks(top.sub("breaks")),
        fares=_fares(top.sub("fares")),
        notifications=_notifications(top.sub("notifications")),
    )
    if service.stops_source != "gtfs-in-area":
        raise ServiceFileError(f"{path}:stops.source", "only 'gtfs-in-area' is supported")
    if service.last_dropoff_s <= service.first_pickup_s:
        raise ServiceFileError(f"{path}:hours.last_dropoff", "must be after first_pickup")
    return service
