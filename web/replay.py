"""A booked day replayed through the drivers' API, as drivers would report it.

The test bed of live operations. Every vehicle follows its tasks (``GET
/api/v1/vehicles/{id}/tasks``) and reports arrivals, boardings, no-shows, drop-offs and
departures (``POST /api/v1/vehicles/{id}/events``) on a clock the replay moves. Travel times
are the network's, times a lognormal factor per leg (``noise`` is its standard deviation);
a share of riders does not turn up; one bus breaks down at a random time. With
``replan`` the day is planned from what the buses report (offers, moves, the breakdown's
bookings moved to other buses, bookings the live state shows late moved to a bus that keeps
their promise); without it the buses drive the plan as it was made and a broken-down bus's
riders are left waiting.

The replay runs the real Flask app in-process (its test client; the driver's session is set
directly, and this private app does not check CSRF tokens). It writes to the database it is
given: use a copy, never the operator's database.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from flask.testing import FlaskClient
from sqlalchemy import select
from tqdm import tqdm

from planner.booking import BookingEngine
from planner.booking.disruption import rescue_late, take_out_of_service
from planner.live import journal
from planner.live.events import VehicleEvent
from planner.live.monitor import day_live
from planner.scenarios.demand import DemandParams, read_places, sample_demand
from planner.scenarios.simulate import SimClock, SimulationParams, simulate_day
from planner.service import load_service
from planner.store.db import Booking, ServiceDay, User, open_store
from planner.timefmt import parse_hhmm
from planner.world import WorldConfig, load_world
from web import create_app
from web.auth import add_user
from web.config import AppConfig

#: seconds of tolerance on promises (times are rounded to whole seconds on the way)
TOLERANCE_S = 60.0


@dataclass(frozen=True, slots=True)
class ReplayParams:
    """How the day goes.

    Attributes
    ----------
    noise
        Standard deviation of the lognormal travel-time factor per leg (0.2: +-20 %).
    no_show_rate
        Share of bookings whose riders do not turn up.
    breakdown
        Whether one bus breaks down at a random time.
    replan
        Plan from reality (see the module's docstring).
    check_every_min
        How often the live state is looked at, as the dispatcher's view polls it (bookings
        at risk are flagged then and, with ``replan``, those whose estimated pickup is late
        are moved if another bus keeps their promise).
    seed
        Of the noise, the no-shows and the breakdown.
    """

    noise: float = 0.2
    no_show_rate: float = 0.05
    breakdown: bool = True
    replan: bool = True
    check_every_min: int = 1
    seed: int = 1


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """What happened to the day's bookings (shares are of the bookings they apply to)."""

    bookings: int
    no_shows: int
    picked_up: int
    not_picked_up: int
    pickups_in_window: float
    delivered: int
    rides_kept: float
    broken_flagged_before: float  # of the bookings with a promise broken
    flagged: int
    false_alarms: int
    moved: int
    new_time: int
    delay_mean_min: float
    delay_p95_min: float
    problems: tuple[str, ...]
    breakdown: str | None
    breaks_taken: int = 0
    breaks_planned: int = 0

    def rows(self) -> list[tuple[str, str]]:
        """The figures as (label, value) rows for a table."""
        return [
            ("bookings", f"{self.bookings}"),
            ("no-shows (riders who did not turn up)", f"{self.no_shows}"),
            ("picked up", f"{self.picked_up}"),
            ("not picked up (bus broke down, not moved)", f"{self.not_picked_up}"),
            ("pickups inside the promised window", f"{self.pickups_in_window:.1%}"),
            ("ride-time promises kept (of delivered)", f"{self.rides_kept:.1%}"),
            (
                "bookings with a broken promise, flagged before it broke",
                (f"{self.broken_flagged_before:.1%}"),
            ),
            (
                "bookings flagged at risk / of them kept every promise",
                (f"{self.flagged} / {self.false_alarms}"),
            ),
            ("bookings moved to other vehicles", f"{self.moved}"),
            ("bookings that need a new time", f"{self.new_time}"),
            (
                "delay of pickups against the time told, mean / p95",
                (f"{self.delay_mean_min:.1f} / {self.delay_p95_min:.1f} min"),
            ),  # fmt: skip
            ("drivers' breaks taken / in the plan", f"{self.breaks_taken} / {self.breaks_planned}"),
            ("validator problems at the end", f"{len(self.problems)}"),
        ]


@dataclass
class _Bus:
    id: str
    node: int
    ready_s: float
    done: set[tuple[str, str]] = field(default_factory=set)
    broken: bool = False
    moving: bool = False  # between leaving one stop and leaving the next
    started: bool = False  # has left its depot
    breaks_taken: int = 0  # the driver's breaks taken so far (the plan's first ones)
    token: int = 0  # of the one pending "drive" step that counts (a bus waits for it)


class _Driver:
    """The drivers' side of the API: tasks in, events out."""

    def __init__(self, client: FlaskClient, engine: BookingEngine, day: date) -> None:
        self.client, self.engine, self.day = client, engine, day
        self._tasks: dict[str, tuple[int, int, dict[str, Any]]] = {}

    def tasks(self, bus: str) -> list[dict[str, Any]]:
        """The bus's stops as the driver app gets them."""
        return list(self._answer(bus)["tasks"])

    def breaks(self, bus: str) -> list[dict[str, Any]]:
        """The driver's planned breaks, taken ones included, in order."""
        return list(self._answer(bus)["breaks"])

    def _answer(self, bus: str) -> dict[str, Any]:
        with self.engine.store.session() as session:
            mark = session.scalar(select(Booking.id).order_by(Booking.id.desc()).limit(1)) or 0
        version = self._version()
        kept = self._tasks.get(bus)
        if kept is not None and kept[:2] == (version, mark):
            return kept[2]
        answer = self.client.get(f"/api/v1/vehicles/{bus}/tasks?day={self.day.isoformat()}")
        assert answer.status_code == 200, answer.get_json()
        self._tasks[bus] = (version, mark, answer.get_json())
        return self._tasks[bus][2]

    def _version(self) -> int:
        with self.engine.store.session() as session:
            return (
                session.scalar(
                    select(ServiceDay.version).where(ServiceDay.day == self.day.isoformat())
                )
                or 0
            )

    def report(self, bus: str, *events: dict[str, Any]) -> None:
        batch = [{"client_id": str(uuid.uuid4()), **e, "at": self._at(e["at"])} for e in events]
        answer = self.client.post(f"/api/v1/vehicles/{bus}/events", json={"events": batch})
        assert answer.status_code == 200, answer.get_json()
        rejected = answer.get_json()["rejected"]
        assert not rejected, rejected

    def _at(self, seconds: float) -> str:
        return self.engine.local(self.day, seconds).isoformat()


def replay_day(
    engine: BookingEngine,
    world: WorldConfig,
    day: date,
    params: ReplayParams,
    *,
    clock: Any,
    progress: bool = False,
) -> ReplayResult:
    """Replay ``day`` of ``engine``'s database (see the module's docstring).

    ``clock`` is the engine's clock (with a settable ``now``); the replay moves it.
    """
    app = create_app(AppConfig(world, secret_key="replay", testing=True), engine=engine)
    app.config["WTF_CSRF_ENABLED"] = False  # a private in-process app (see above)
    name = f"replay-{uuid.uuid4().hex[:8]}"
    add_user(engine.store, name, "driver", uuid.uuid4().hex)
    client = app.test_client()
    with engine.store.session() as session:
        user_id = session.scalar(select(User.id).where(User.name == name))
    with client.session_transaction() as session_data:
        session_data["user_id"] = user_id
    replay = _Replay(engine, _Driver(client, engine, day), day, params, clock)
    replay.run(progress)
    return replay.outcome()


class _Replay:
    """The day's events in time order: buses driving, halting, breaking down; live checks."""

    def __init__(
        self, engine: BookingEngine, driver: _Driver, day: date, params: ReplayParams, clock: Any
    ) -> None:
        self.engine, self.driver, self.day, self.params, self.clock = (
            engine, driver, day, params, clock
        )  # fmt: skip
        self.rng = np.random.default_rng(params.seed)
        with engine.store.session() as session:
            booked = list(
                session.scalars(
                    select(Booking)
                    .where(Booking.day == day.isoformat(), Booking.status == "confirmed")
                    .order_by(Booking.id)
                )
            )
        self.told = {b.code: (b.est_pickup_s, b.vehicle_id) for b in booked}
        codes = list(self.told)  # booking order: the same riders stay home for a seed
        size = round(params.no_show_rate * len(codes))
        self.no_show = {str(c) for c in self.rng.choice(codes, size=size, replace=False)}
        plan = engine.day_plan(day)
        depots = engine.depot_of
        # every bus of the fleet: one without rides yet may get the rides of another
        self.buses = {
            v.id: _Bus(
                v.id, depots[v.id], d.depart_s if (d := plan.vehicle(v.id)) else v.shift_start_s
            )
            for v in engine.service.fleet
        }
        self.queue: list[tuple[float, int, str, str]] = []
        self.counter = 0
        self.flagged: dict[str, float] = {}  # code -> first time at risk
        self.moved: set[str] = set()
        self.stranded: set[str] = set()
        self.pending: dict[str, list[dict[str, Any]]] = {}
        self.broken_bus: str | None = None
        for bus in self.buses.values():
            self.drive_at(bus.ready_s, bus)
        first = min((b.ready_s for b in self.buses.values()), default=0.0)
        last = max((v.return_s for v in plan.vehicles), default=0.0)
        check_s = 60.0 * params.check_every_min
        for k in range(int((last - first) // check_s) + 2):
            self.push(first + k * check_s, "", "check")
        if params.breakdown and self.buses:
            self.broken_bus = str(self.rng.choice(sorted(self.buses)))
            when = float(self.rng.uniform(first + 3600, max(first + 3600, last - 3 * 3600)))
            self.push(when, self.broken_bus, "breakdown")

    def push(self, at: float, bus: str, what: str) -> None:
        self.counter += 1
        heapq.heappush(self.queue, (at, self.counter, bus, what))

    def drive_at(self, at: float, bus: _Bus) -> None:
        """The bus looks at its tasks at ``at`` (any earlier look it waited for is off)."""
        bus.token += 1
        self.push(at, bus.id, f"drive:{bus.token}")

    def run(self, progress: bool) -> None:
        steps = {
            "check": self.check,
            "breakdown": self.breakdown,
            "drive": self.drive,
            "arrive": self.arrive,
            "depart": self.depart,
            "rest": self.rest,
            "resume": self.resume,
        }
        bar = tqdm(desc="replaying the day", unit="step", disable=not progress)
        while self.queue:
            at, _, bus_id, what = heapq.heappop(self.queue)
            bar.update()
            self.clock.now = self.engine.local(self.day, at)
            bus = self.buses.get(bus_id)
            step, _, token = what.partition(":")
            if bus is not None and (bus.broken or (token and int(token) != bus.token)):
                continue  # a broken bus does nothing; a superseded look is off
            steps[step](at, bus)  # type: ignore[arg-type]  # only checks have no bus
        bar.close()

    def open_tasks(self, bus: _Bus) -> list[dict[str, Any]]:
        return [
            t
            for t in self.driver.tasks(bus.id)
            if (t["code"], t["kind"]) not in bus.done
            and not (t["kind"] == "dropoff" and t["code"] in self.no_show)
        ]

    def wake(self, at: float) -> None:
        """Waiting buses look at their tasks again now (bookings may have moved to them)."""
        for bus in self.buses.values():
            if not bus.moving and not bus.broken:
                self.drive_at(at, bus)

    def check(self, at: float, _: _Bus | None) -> None:
        live = day_live(self.engine, self.day)
        for _v, stop in live.at_risk():
            self.flagged.setdefault(stop.stop.code, at)
        if self.params.replan:
            late = [
                s.stop.code
                for _v, s in live.at_risk()
                if s.risk == "late_pickup" and s.breaks_promise
            ]
            rescued = rescue_late(self.engine, self.day, late)
            self.moved.update(m.code for m in rescued)
            if rescued:
                self.wake(at)

    def breakdown(self, at: float, bus: _Bus) -> None:
        if not self.open_tasks(bus):
            return
        bus.broken = True
        self.driver.report(bus.id, {"kind": "breakdown", "at": at})
        if self.params.replan:
            result = take_out_of_service(self.engine, self.day, bus.id, at, by="replay")
            self.moved.update(m.code for m in result.moved)
            self.stranded.update(s.code for s in result.stranded)
            self.wake(at)

    def drive(self, at: float, bus: _Bus) -> None:
        """Drive to the next task (or break), or wait where the bus is until the plan says leave."""
        tasks = self.open_tasks(bus)
        breaks = self.driver.breaks(bus.id)[bus.breaks_taken :]
        if not tasks and not breaks:
            return  # waits until a booking moves to it (wake)
        if tasks:
            target = int(tasks[0]["stop"]["id"])
            due = parse_hhmm(tasks[0]["arrival"], field="tasks")
        rest = bool(breaks) and (not tasks or parse_hhmm(breaks[0]["start"], field="breaks") <= due)
        if rest:  # the plan's next break comes first: drive to its place
            target = int(breaks[0]["stop"]["id"])
            due = parse_hhmm(breaks[0]["start"], field="breaks")
        row, travel = self.engine.catalog.row, self.engine.catalog.travel_s
        planned = float(travel[row[bus.node], row[target]])
        leave = due - planned  # as the driver app says
        if leave > at + 60:
            self.drive_at(leave, bus)
            return
        # really driven: the network's time (the plan's, without its margin), with noise
        leg = planned / self.engine.service.travel_time_factor
        noise = self.params.noise
        factor = math.exp(self.rng.normal(-(noise**2) / 2, noise)) if leg else 1.0
        if not bus.started:  # the driver takes the bus: the app says so
            self.driver.report(bus.id, {"kind": "shift_start", "at": at})
            bus.started = True
        bus.moving = True
        self.push(at + leg * factor, bus.id, "rest" if rest else "arrive")
        bus.node = target

    def rest(self, at: float, bus: _Bus) -> None:
        """The driver takes the planned break on arrival at its place, for its planned length."""
        planned = self.driver.breaks(bus.id)[bus.breaks_taken]
        length = parse_hhmm(planned["end"], field="breaks") - parse_hhmm(
            planned["start"], field="breaks"
        )
        start = parse_hhmm(planned["start"], field="breaks")
        if at + 1 < start:  # early: the driver waits for the planned start
            self.push(start, bus.id, "rest")
            return
        self.driver.report(bus.id, {"kind": "break_start", "at": at})
        self.push(at + length, bus.id, "resume")

    def resume(self, at: float, bus: _Bus) -> None:
        self.driver.report(bus.id, {"kind": "break_end", "at": at})
        bus.breaks_taken += 1
        bus.ready_s, bus.moving = at, False
        self.drive_at(at, bus)

    def arrive(self, at: float, bus: _Bus) -> None:
        self.driver.report(bus.id, {"kind": "arrived", "at": at, "stop": bus.node})
        leave, events = _at_stop(self.engine, bus, self.open_tasks(bus), at, self.no_show)
        self.pending[bus.id] = events
        self.push(leave, bus.id, "depart")

    def depart(self, at: float, bus: _Bus) -> None:
        events = self.pending.pop(bus.id, [])
        self.driver.report(bus.id, *events, {"kind": "departed", "at": at, "stop": bus.node})
        bus.done.update((e["booking"], _task_kind(e["kind"])) for e in events)
        bus.ready_s, bus.moving = at, False
        self.drive_at(at, bus)

    def outcome(self) -> ReplayResult:
        return _outcome(
            self.engine,
            self.day,
            self.told,
            self.no_show,
            self.flagged,
            self.moved,
            self.stranded,
            self.broken_bus,
        )


def _task_kind(kind: str) -> str:
    return "dropoff" if kind == "dropped_off" else "pickup"


def _at_stop(
    engine: BookingEngine,
    bus: _Bus,
    tasks: list[dict[str, Any]],
    arrived: float,
    no_show: set[str],
) -> tuple[float, list[dict[str, Any]]]:
    """The events of one halt: every open task in a row at this stop, and when the bus leaves."""
    boarding = engine.service.boarding_s
    wait = engine.service.operations.no_show_wait_s
    events: list[dict[str, Any]] = []
    leave = arrived
    for task in _run_here(tasks, bus.node):
        code = task["code"]
        if task["kind"] == "dropoff":
            events.append({"kind": "dropped_off", "at": arrived, "booking": code})
            leave = max(leave, arrived + boarding)
            continue
        # as the driver app shows: not before the planned time (which keeps the ride-time
        # promises of those already on board), nor before the window
        window_start = parse_hhmm(task["window"][0], field="tasks")
        start = max(arrived, window_start, parse_hhmm(task["service_start"], field="tasks"))
        if code in no_show:
            unlock = max(arrived + wait, start)
            events.append({"kind": "no_show", "at": unlock, "booking": code})
            leave = max(leave, unlock)
        else:
            events.append({"kind": "boarded", "at": start, "booking": code})
            leave = max(leave, start + boarding)
    return leave, sorted(events, key=lambda e: e["at"])


def _run_here(tasks: list[dict[str, Any]], node: int) -> Iterator[dict[str, Any]]:
    for task in tasks:
        if int(task["stop"]["id"]) != node:
            return
        yield task


def _outcome(
    engine: BookingEngine,
    day: date,
    told: dict[str, tuple[float, str]],
    no_show: set[str],
    flagged: dict[str, float],
    moved: set[str],
    stranded: set[str],
    broken_bus: str | None,
) -> ReplayResult:
    """The figures of the replayed day, from the journal and the bookings."""
    with engine.store.session() as session:
        events = journal.events_of(session, day)
        bookings = {
            b.code: b for b in session.scalars(select(Booking).where(Booking.code.in_(list(told))))
        }
    boarded: dict[str, VehicleEvent] = {}
    dropped: dict[str, VehicleEvent] = {}
    departures: dict[tuple[str, int], list[float]] = {}
    for e in events:
        if e.kind == "boarded" and e.booking:
            boarded[e.booking] = e
        elif e.kind == "dropped_off" and e.booking:
            dropped[e.booking] = e
        elif e.kind == "departed" and e.stop_node is not None:
            departures.setdefault((e.vehicle_id, e.stop_node), []).append(e.at_s)
    in_window = kept = 0
    broken: dict[str, float] = {}  # code -> when its first broken promise broke
    fine: set[str] = set()  # delivered with every promise kept
    delays = []
    for code, b in bookings.items():
        if code in no_show:
            continue
        pick = boarded.get(code)
        if pick is None:
            broken[code] = b.window_end_s  # never picked up: the window passed
            continue
        delays.append((pick.at_s - told[code][0]) / 60)
        if pick.at_s <= b.window_end_s + TOLERANCE_S:
            in_window += 1
        else:
            broken[code] = b.window_end_s
        drop = dropped.get(code)
        if drop is None:
            continue
        left = min(
            (t for t in departures.get((pick.vehicle_id, b.origin_node), []) if t >= pick.at_s),
            default=pick.at_s + engine.service.boarding_s,
        )
        if drop.at_s - left <= b.max_ride_s + TOLERANCE_S:
            kept += 1
            if code not in broken:
                fine.add(code)
        else:
            broken.setdefault(code, left + b.max_ride_s)
    # a booking counts as flagged in time if the live state showed it before it broke
    flagged_before = sum(1 for code, t in broken.items() if flagged.get(code, math.inf) <= t)
    picked = len(boarded)
    delivered = len(dropped)
    finals = {code: b.vehicle_id for code, b in bookings.items()}
    moved_count = sum(1 for code in told if finals.get(code) != told[code][1]) if moved else 0
    return ReplayResult(
        bookings=len(told),
        no_shows=len(no_show),
        picked_up=picked,
        not_picked_up=len(told) - len(no_show) - picked,
        pickups_in_window=in_window / picked if picked else 1.0,
        delivered=delivered,
        rides_kept=kept / delivered if delivered else 1.0,
        broken_flagged_before=flagged_before / len(broken) if broken else 1.0,
        flagged=sum(1 for code in flagged if code in bookings and code not in no_show),
        false_alarms=sum(1 for code in flagged if code in fine),
        moved=max(moved_count, len(moved)),
        new_time=len(stranded),
        delay_mean_min=float(np.mean(delays)) if delays else 0.0,
        delay_p95_min=float(np.percentile(delays, 95)) if delays else 0.0,
        problems=tuple(engine.validate_day(day)),
        breaks_taken=sum(1 for e in events if e.kind == "break_start"),
        breaks_planned=sum(len(v.breaks) for v in engine.day_plan(day).vehicles),
        breakdown=broken_bus,
    )


def simulate_live(
    config: WorldConfig,
    *,
    day: date,
    requests: int,
    seed: int,
    params: ReplayParams,
    out_dir: Path,
    compare: bool = True,
    progress: bool = False,
    travel_time_factor: float | None = None,
) -> dict[str, ReplayResult]:
    """Book a demand day and replay it, with re-planning from reality and without.

    Each replay runs on its own copy of the booked day's database (``compare=False``: only
    with re-planning). The day is drawn from the scenario demand model (``requests``,
    ``seed``) and booked rider by rider through the engine
    (:func:`planner.scenarios.simulate.simulate_day`) in ``out_dir``; the operator's
    database is never touched. ``travel_time_factor`` overrides the service file's margin
    on planned driving times (the buses really drive the network's times, with noise).
    """
    service = load_service(config.service_file)
    if travel_time_factor is not None:
        service = dataclasses.replace(service, travel_time_factor=travel_time_factor)
    world = load_world(config.settings, service, timetable=False)
    service = dataclasses.replace(world.service, horizon_days=10_000)
    places = read_places(config.settings.data_file("places"), world.catalog)
    demand = sample_demand(places, day, DemandParams(requests=requests), seed=seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    booked = out_dir / "booked.sqlite3"
    booked.unlink(missing_ok=True)
    simulate_day(
        service,
        world.catalog,
        demand,
        day=day,
        params=SimulationParams(),
        db_url=f"sqlite:///{booked}",
        progress=progress,
    )
    modes = {"re-planning from reality": True} | ({"plan as made": False} if compare else {})
    results: dict[str, ReplayResult] = {}
    for name, replan in modes.items():
        path = out_dir / f"replay-{'replan' if replan else 'plain'}.sqlite3"
        _copy_sqlite(booked, path)
        clock = SimClock()
        engine = BookingEngine(service, world.catalog, open_store(f"sqlite:///{path}"), clock=clock)
        if not replan:
            engine.days.reality = None  # the plan never learns what the buses report
        run_config = dataclasses.replace(config, database_url=f"sqlite:///{path}")
        results[name] = replay_day(
            engine,
            run_config,
            day,
            dataclasses.replace(params, replan=replan),
            clock=clock,
            progress=progress,
        )
    return results


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database (its write-ahead log included)."""
    target.unlink(missing_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()
