"""A service day in the database: loading its bookings and routes, saving a new plan version.

Loading turns the day's confirmed bookings and current routes into the model. The booking
engine's SQL lives here and in :mod:`planner.store.db`.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from typing import Any, cast

import numpy as np
from sqlalchemy import bindparam, case, event, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from planner.booking import kpis as kpi_module
from planner.booking.trip import TripRequest
from planner.darp.breaks import break_requests, place_breaks
from planner.darp.codec import TimedRoute, assemble_plan, kind_of, routes_of_refs, time_route
from planner.darp.insertion import PreparedRoutes, prepare
from planner.darp.model import Instance, Request, Vehicle
from planner.darp.plan import Plan, StopKind
from planner.darp.schedule import StopTable
from planner.darp.validate import Violation, validate
from planner.errors import ConflictError
from planner.fares import request_fare
from planner.live.events import VehicleEvent
from planner.live.replan import pin
from planner.service import Service
from planner.stops import StopCatalog
from planner.store.db import Booking, PlanVersion, ServiceDay, utcnow

log = logging.getLogger(__name__)

#: Booking codes use Crockford's base-32 letters (no I, L, O, U): easy to read on the phone.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10
#: Days kept in memory per process, the least recently used dropped first (the booking
#: horizon is two weeks; a day costs a few MB at district scale).
MAX_OPEN_DAYS = 32


#: What the vehicles reported on a day: its events by vehicle id, each in time order, all
#: but positions (:func:`planner.live.journal.plan_events`).
Reality = Callable[[Session, str], Mapping[str, Sequence[VehicleEvent]]]


@dataclass(frozen=True, eq=False)
class OpenDay:
    """A day kept in memory: its requests, routes and timed plan, ready for insertion.

    ``version`` is the day's version (:class:`planner.store.db.ServiceDay`) it shows and
    ``mark`` the vehicles' events it is pinned to (``ServiceDay.events``); ``instance`` holds the
    requests of the confirmed bookings (in booking order) and the fleet; ``timed`` each
    vehicle's timed route; ``prepared`` the routes, prepared once for every offer's
    insertion screen.
    """

    day: str
    version: int
    mark: int
    instance: Instance
    table: StopTable
    routes: tuple[tuple[int, ...], ...]
    timed: tuple[TimedRoute | None, ...]
    prepared: PreparedRoutes
    events: Mapping[str, Sequence[VehicleEvent]]
    stored: StoredPlan | None = None
    #: whether the day counts as full for the repair at offer time, as last stored by any
    #: process (``ServiceDay.repair_full``; it moves no version, so it is read every time)
    repair_full: bool = False


# Statements run for every offer or booking, built once (building one costs about as much
# as running it on SQLite).
#: the day's version, the vehicles' events it is pinned to, and whether it counts as full
_DAY_VERSION = select(ServiceDay.version, ServiceDay.events, ServiceDay.repair_full).where(
    ServiceDay.day == bindparam("day")
)
#: the day's newest plan version and its last whole one
_NEWEST_AND_LAST_FULL = select(
    func.max(PlanVersion.version), func.max(case((PlanVersion.full, PlanVersion.version)))
).where(PlanVersion.day == bindparam("day"))

#: A day's stored plan: its plan version and each vehicle's stops as ``[code, kind]`` pairs.
StoredPlan = tuple[int, dict[str, list[list[str]]]]


@dataclass
class DayState:
    """A service day being changed: its requests, routes and the routes timed so far.

    ``instance`` holds the confirmed bookings' requests in booking order (and any requests
    added for insertion), pinned to what the vehicles reported (``mark``, see
    :class:`Reality`); ``routes`` the stop sequence per vehicle. Change a route with
    :meth:`set_route`: the plan then times that route anew, and :meth:`changed` names it.
    """

    day: str
    instance: Instance
    table: StopTable
    routes: list[list[int]]
    timed: list[TimedRoute | None] = field(default_factory=list)
    fresh: set[int] = field(default_factory=set)
    mark: int = 0
    events: Mapping[str, Sequence[VehicleEvent]] = field(default_factory=dict)
    #: the routes as loaded, prepared for insertion (from memory; None: prepare anew)
    prepared: PreparedRoutes | None = None
    #: the plan stored last as this state knows it (None: not known), so that a save
    #: stores only the routes that changed since
    stored: StoredPlan | None = None

    def __post_init__(self) -> None:
        if not self.timed:  # nothing timed yet: every route is new
            self.timed = [None] * len(self.routes)
            self.fresh = {v for v, stops in enumerate(self.routes) if stops}

    def set_route(self, vehicle: int, stops: Sequence[int]) -> None:
        """Give ``vehicle`` a new stop sequence."""
        self.routes[vehicle] = list(stops)
        self.timed[vehicle] = None
        self.fresh.add(vehicle)

    def replace_routes(self, routes: Sequence[Sequence[int]]) -> None:
        """Give every vehicle a new stop sequence (a re-optimised plan)."""
        for v, stops in enumerate(routes):
            self.set_route(v, stops)

    def changed(self) -> set[int]:
        """The vehicles whose routes were timed anew in this state."""
        return set(self.fresh)

    def plan(self) -> Plan:
        """The routes timed as a plan (only new routes are timed).

        Raises
        ------
        InvalidPlanError
            If a route has no feasible schedule.
        """
        for v in self.fresh:
            stops = self.routes[v]
            if self.timed[v] is None and stops:
                self.timed[v] = time_route(self.instance, self.table, v, stops)
        return assemble_plan(self.instance, self.timed)


class DayStore:
    """Loads service days from the database into the model and saves their plans.

    Parameters
    ----------
    service
        The service (fleet, boarding time).
    catalog
        Bookable stops and their matrices.
    depots
        The depot stop of each fleet vehicle.
    clock
        Returns the current time (timezone-aware): the time of each saved plan version
        (the engine's clock, so that a simulated day's versions carry simulated times).
    reality
        What the vehicles reported on a day; days are planned from it
        (:func:`planner.live.replan.pin`). None: as planned.
    """

    def __init__(
        self,
        service: Service,
        catalog: StopCatalog,
        depots: Sequence[int],
        clock: Callable[[], datetime] = utcnow,
        reality: Reality | None = None,
    ) -> None:
        self.service = service
        self.clock = clock
        self.catalog = catalog
        self.depots = list(depots)
        self.reality = reality
        # converted once: every day state reuses them instead of converting per request
        self.matrix_lists = (catalog.travel_s.tolist(), catalog.distance_m.tolist())
        self._open: OrderedDict[str, OpenDay] = OrderedDict()  # least recently used first
        self._lock = threading.Lock()

    def request(
        self,
        code: str,
        b: Booking | TripRequest,
        window: tuple[float, float],
        latest_dropoff: float | None,
        max_ride: float,
    ) -> Request:
        """The model's request for a booking or a trip with the given promise."""
        row = self.catalog.row
        origin = b.origin_node if isinstance(b, Booking) else b.origin
        dest = b.destination_node if isinstance(b, Booking) else b.destination
        return Request(
            id=code,
            pickup=row[origin],
            dropoff=row[dest],
            passengers=b.passengers,
            wheelchairs=b.wheelchairs,
            earliest_pickup=window[0],
            latest_pickup=window[1],
            latest_dropoff=np.inf if latest_dropoff is None else latest_dropoff,
            pickup_service_time=self.service.boarding_s,
            dropoff_service_time=self.service.boarding_s,
            max_ride_time=max_ride,
        )

    def kpis(self, instance: Instance, plan: Plan) -> dict[str, Any]:
        """The plan's key figures (:func:`planner.booking.kpis.plan_kpis`), revenue included.

        The one place where KPIs are computed for a day of this service: its tariff prices
        each served booking (no tariff: revenue is None, "not configured").
        """
        tariff = self.service.fares
        fares = None if tariff is None else partial(request_fare, tariff, self.catalog)
        return kpi_module.plan_kpis(instance, plan, fares=fares)

    def vehicles(self) -> list[Vehicle]:
        """The fleet as the model's vehicles."""
        row = self.catalog.row
        return [
            Vehicle(
                id=v.id,
                start_depot=row[depot],
                end_depot=row[depot],
                seats=v.seats,
                wheelchair_places=v.wheelchair_places,
                shift_start=v.shift_start_s,
                shift_end=v.shift_end_s,
                max_route_duration=np.inf if v.max_duty_s is None else v.max_duty_s,
            )
            for v, depot in zip(self.service.fleet, self.depots, strict=True)
        ]

    def load(
        self,
        session: Session,
        day: str,
        extra: Sequence[Request] = (),
        *,
        without: Collection[str] = (),
    ) -> DayState:
        """Load the day's confirmed bookings and current routes.

        ``extra`` requests are added to the instance (candidates for insertion) but to no route.
        The bookings ``without`` (codes) are left out, as if cancelled: a booking being
        changed is planned anew.
        """
        bookings = [b for b in self.bookings(session, day) if b.code not in without]
        requests = [
            self.request(
                b.code, b, (b.window_start_s, b.window_end_s), b.latest_dropoff_s, b.max_ride_s
            )
            for b in bookings
        ]
        vehicles = self.vehicles()
        breaks = self.breaks(vehicles)
        instance = self._instance(day, requests + breaks + list(extra), vehicles)
        table = StopTable.from_instance(instance, matrices=self.matrix_lists)
        stored = stored_plan(session, day)
        known = {b.code for b in bookings} | {b.id for b in breaks}
        # a stored plan still lists bookings cancelled since (or breaks of old rules); the
        # kinds are read from JSON, and routes_of_refs checks them
        refs = {
            vid: [(code, cast(StopKind, kind)) for code, kind in stops if code in known]
            for vid, stops in stored[1].items()
        }
        routes = routes_of_refs(instance, refs, where=f"plan of {day}")
        if breaks:  # a day planned before the rule (or the fleet) changed: breaks added now
            routes, unplaced = place_breaks(table, routes)
            if unplaced:
                instance, routes = self._without(instance, routes, unplaced)
                table = StopTable.from_instance(instance, matrices=self.matrix_lists)
        mark = session.scalar(select(ServiceDay.events).where(ServiceDay.day == day)) or 0
        events = self.reality(session, day) if self.reality else {}
        if events:  # buses are driving: plan from where they really are
            instance, routes = pin(instance, routes, self.catalog.nodes, events)
            table = StopTable.from_instance(instance, matrices=self.matrix_lists)
        return DayState(day, instance, table, routes, mark=mark, events=events, stored=stored)

    def breaks(self, vehicles: Sequence[Vehicle]) -> list[Request]:
        """The drivers' breaks the service's rule asks for, as the vehicles' own tasks."""
        rule = self.service.breaks
        if rule is None:
            return []
        return [r for v in vehicles for r in break_requests(v, rule)]

    def _instance(
        self, day: str, requests: Sequence[Request], vehicles: Sequence[Vehicle]
    ) -> Instance:
        return Instance(
            name=day,
            travel_times=self.catalog.travel_s,
            distances=self.catalog.distance_m,
            requests=tuple(requests),
            vehicles=tuple(vehicles),
        )

    def _without(
        self, instance: Instance, routes: list[list[int]], gone: Sequence[int]
    ) -> tuple[Instance, list[list[int]]]:
        """The model without the breaks ``gone`` that fit nowhere (told to the log)."""
        names = {instance.requests[r].id for r in gone}
        log.warning("%s: no room for the breaks %s; planned without them", instance.name, names)
        refs = {
            instance.vehicles[v].id: [(instance.requests[s >> 1].id, kind_of(s)) for s in route]
            for v, route in enumerate(routes)
        }
        requests = [r for r in instance.requests if r.id not in names]
        smaller = self._instance(instance.name, requests, instance.vehicles)
        return smaller, routes_of_refs(smaller, refs, where=f"plan of {instance.name}")

    def bookings(self, session: Session, day: str) -> list[Booking]:
        """The day's confirmed bookings, in booking order (the order of the requests)."""
        return list(
            session.scalars(
                select(Booking)
                .where(Booking.day == day, Booking.status == "confirmed")
                .order_by(Booking.id)
            )
        )

    def for_write(self, session: Session, lock: ServiceDay, extra: Sequence[Request]) -> DayState:
        """The day to change under its ``lock``, with ``extra`` requests added (in no route).

        From memory if the copy there is the locked version (nothing to load, and only the
        routes changed from now on are timed and checked again); else loaded.
        """
        with self._lock:
            kept = self._open.get(lock.day)
        if kept is None or (kept.version, kept.mark) != (lock.version, lock.events):
            return self.load(session, lock.day, extra)
        instance = kept.instance.with_requests(extra)
        return DayState(
            kept.day,
            instance,
            kept.table.with_requests(extra),
            [list(r) for r in kept.routes],
            list(kept.timed),
            mark=kept.mark,
            events=kept.events,
            prepared=kept.prepared.with_requests(extra),
            stored=kept.stored,
        )

    def open_day(self, session: Session, day: str) -> OpenDay:
        """The day as offers see it, from memory if no one has written it since.

        The day's version (bumped by every write, in any process) tells whether the copy in
        memory is current; if not, the day is loaded and kept.
        """
        row = session.execute(_DAY_VERSION, {"day": day}).first()
        version, mark, full = (row.version, row.events, row.repair_full) if row else (0, 0, False)
        with self._lock:
            kept = self._open.get(day)
            if kept is not None:
                self._open.move_to_end(day)
        if kept is None or (kept.version, kept.mark) != (version, mark):
            kept = self._keep(self.load(session, day), version)
        return kept if kept.repair_full == full else replace(kept, repair_full=full)

    def open_without(self, session: Session, day: str, codes: Collection[str]) -> OpenDay:
        """The day as offers see it with the bookings ``codes`` left out (not kept in memory).

        A changed booking is offered on this day: its own seats and detours are free for it.
        """
        row = session.execute(_DAY_VERSION, {"day": day}).first()
        version, full = (row.version, row.repair_full) if row else (0, False)
        opened = self._opened(self.load(session, day, without=codes), version)
        return replace(opened, repair_full=full)

    def _keep(self, state: DayState, version: int) -> OpenDay:
        """Keep the state of a committed ``version`` of its day in memory (never an older one)."""
        opened = self._opened(state, version)
        with self._lock:
            kept = self._open.get(state.day)
            if kept is None or (kept.version, kept.mark) <= (version, state.mark):
                self._open[state.day] = opened
                self._open.move_to_end(state.day)
            while len(self._open) > MAX_OPEN_DAYS:  # a server runs for months: past days go
                self._open.popitem(last=False)
        return opened

    def _opened(self, state: DayState, version: int) -> OpenDay:
        """The state, every route timed and prepared for insertion, as an :class:`OpenDay`."""
        state.plan()  # every route timed
        same = state.prepared is not None and len(state.prepared.arrays.loc) == len(
            state.table.location
        )
        if state.prepared is not None and same:
            # from memory, a few routes changed: only theirs are prepared again
            fresh = {v: state.routes[v] for v in state.fresh}
            prepared = replace(state.prepared.with_routes(fresh), table=state.table)
        else:
            prepared = prepare(state.table, state.routes, self.service.objective)
        return OpenDay(
            state.day,
            version,
            state.mark,
            state.instance,
            state.table,
            tuple(tuple(r) for r in state.routes),
            tuple(state.timed),
            prepared,
            state.events,
            state.stored,
        )

    def save_plan(
        self,
        session: Session,
        lock: ServiceDay,
        state: DayState,
        reason: str,
        *,
        kpis: bool = False,
    ) -> None:
        """Save the state's routes as the day's next plan version.

        Every route timed anew in ``state`` passes the independent validator first (a
        state loaded from the database: the whole plan); nothing is stored if a promise
        would break or a booking would not be served. Bumps the day's version (``lock``,
        held by the caller's transaction); once the transaction commits, the state is what
        offers see of the day (:meth:`open_day`). ``kpis`` stores the plan's KPIs with the
        version (re-optimisations, whose figures are compared); otherwise they are computed
        when read.

        Raises
        ------
        ConflictError
            If the plan would break a constraint or leave a booking unserved.
        """
        plan = state.plan()
        problems = _violations(state, plan)
        if problems:  # never store a plan that breaks a promise
            raise ConflictError("plan", f"would break a constraint: {problems[0]}")
        if plan.rejected:
            raise ConflictError("plan", f"booking {plan.rejected[0].request_id} not served")
        newest, last_full = session.execute(_NEWEST_AND_LAST_FULL, {"day": state.day}).one()
        last = newest or 0
        if state.stored is not None and state.stored[0] == last:
            before = state.stored[1]
            # a route not timed anew is the one stored last (a loaded state times every route)
            fresh = {state.instance.vehicles[v].id for v in state.fresh}
        else:  # another process wrote the day since this state was read
            before = stored_plan(session, state.day)[1]
            fresh = {route.vehicle_id for route in plan.routes}
        routes = {
            route.vehicle_id: [[v.request_id, v.kind] for v in route.visits]
            if route.vehicle_id in fresh or route.vehicle_id not in before
            else before[route.vehicle_id]
            for route in plan.routes
        }
        changes = {
            v: None if before.get(v) is stops or before.get(v) == stops else stops
            for v, stops in routes.items()
        }
        changed = sum(stops is not None for stops in changes.values())
        # a whole plan once per as many versions as vehicles drive: the history grows by
        # about two routes per write, and a plan is read from at most that many rows
        full = last_full is None or last - last_full >= len(routes) or 2 * changed > len(routes)
        figures = self.kpis(state.instance, plan) if kpis else {}
        session.add(
            PlanVersion(
                day=state.day,
                version=last + 1,
                reason=reason,
                routes=routes if full else changes,
                full=full,
                kpis=figures,
                created_at=self.clock(),
            )
        )
        state.stored = (last + 1, routes)
        update_estimates(session, state)
        lock.version += 1
        saved = session.info.setdefault("rufbus.saved_days", {})
        if not saved:  # first save of this transaction: keep the days once it commits
            event.listen(session, "after_commit", self._after_commit, once=True)
        saved[state.day] = (state, lock.version)

    def _after_commit(self, session: Session) -> None:
        for state, version in session.info.pop("rufbus.saved_days", {}).values():
            self._keep(state, version)


def stored_plan(session: Session, day: str) -> StoredPlan:
    """The day's newest stored plan, whole: read from its last full version on.

    Version 0 with no routes if the day has no plan yet.
    """
    of_day = PlanVersion.day == day
    base = session.scalar(select(func.max(PlanVersion.version)).where(of_day, PlanVersion.full))
    if base is None:
        return 0, {}
    rows = session.execute(
        select(PlanVersion.version, PlanVersion.routes)
        .where(of_day, PlanVersion.version >= base)
        .order_by(PlanVersion.version)
    ).all()
    routes: dict[str, list[list[str]]] = {}
    for _, changes in rows:
        routes = with_changes(routes, changes)
    return rows[-1].version, routes


def with_changes(
    routes: Mapping[str, list[list[str]]], changes: Mapping[str, list[list[str]] | None]
) -> dict[str, list[list[str]]]:
    """The plan ``routes`` after a version's ``changes`` (a whole version: every route).

    A vehicle named with None keeps its route; a vehicle not named does not drive.
    """
    return {v: routes.get(v, []) if stops is None else stops for v, stops in changes.items()}


def current_plan(session: Session, day: str) -> PlanVersion | None:
    """The day's newest plan version, if any: its number, reason and KPIs.

    Its ``routes`` may hold only what it changed; :func:`stored_plan` reads the whole plan.
    """
    return session.scalars(
        select(PlanVersion)
        .where(PlanVersion.day == day)
        .order_by(PlanVersion.version.desc())
        .limit(1)
    ).first()


def find_booking(session: Session, code: str) -> Booking | None:
    """The booking with this code (case and spaces around it do not matter)."""
    return session.scalar(select(Booking).where(Booking.code == code.strip().upper()))


def require_confirmed(booking: Booking) -> None:
    """Refuse to change a booking that is no longer confirmed (cancelled, no-show)."""
    if booking.status != "confirmed":
        raise ConflictError(
            "code",
            f"booking {booking.code} is already {booking.status}",
            code="not_confirmed",
            params={"code": booking.code, "status": booking.status},
        )


def update_estimates(session: Session, state: DayState) -> None:
    """Copy the vehicle and estimated times of the state's changed routes onto their bookings."""
    times: dict[str, tuple[str, float, float]] = {}
    for v in state.changed():
        timed = state.timed[v]
        if timed is None:
            continue
        starts = {(x.request_id, x.kind): x.service_start for x in timed.route.visits}
        for (code, kind), start in starts.items():
            if kind == "pickup":
                times[code] = (timed.route.vehicle_id, start, starts[(code, "dropoff")])
    if not times:
        return
    # only the bookings whose estimates moved are written (a route of a full day holds dozens)
    stored = session.execute(
        select(Booking.id, Booking.code, Booking.vehicle_id, Booking.est_pickup_s,
               Booking.est_arrival_s).where(Booking.code.in_(list(times)))
    )  # fmt: skip
    moved = [
        {"id": row.id, "vehicle_id": new[0], "est_pickup_s": new[1], "est_arrival_s": new[2]}
        for row in stored
        if (new := times[row.code]) != (row.vehicle_id, row.est_pickup_s, row.est_arrival_s)
    ]
    if moved:
        session.execute(update(Booking), moved)
        by_id = {m["id"]: m for m in moved}
        for obj in list(session.identity_map.values()):  # bookings this session holds agree
            if isinstance(obj, Booking) and obj.id in by_id:
                for key in ("vehicle_id", "est_pickup_s", "est_arrival_s"):
                    set_committed_value(obj, key, by_id[obj.id][key])


def _violations(state: DayState, plan: Plan) -> list[Violation]:
    """What the independent validator finds in the routes timed anew in ``state``.

    A state whose every route is new is checked as one plan. Otherwise each new route is
    checked as a plan of its own, over just the requests it serves: the other routes are
    unchanged since they were checked, and a request can only be on a new route or an old one.
    """
    changed = state.changed()
    driven = {v for v, stops in enumerate(state.routes) if stops}
    if driven <= changed:
        return validate(state.instance, plan)
    out: list[Violation] = []
    visits = [(x.request_id, x.kind) for route in plan.routes for x in route.visits]
    if len(set(visits)) != len(visits):  # the one check across routes: nothing served twice
        out.append(Violation("served_twice", "a request is on two routes"))
    instance = state.instance
    for v in sorted(changed):
        timed = state.timed[v]
        if timed is None:
            continue
        # the vehicle's breaks belong to its route, served or not: none may get lost
        vid = instance.vehicles[v].id
        tasks = {r.id for r in instance.requests if r.vehicle_id == vid}
        ids = sorted({x.request_id for x in timed.route.visits} | tasks)
        sub = Instance(
            instance.name,
            instance.travel_times,
            instance.distances,
            tuple(instance.requests[instance.request_index(i)] for i in ids),
            (instance.vehicles[v],),
        )
        own = Plan((timed.route,), (), timed.distance, timed.travel_time)
        out += validate(sub, own)
    return out


def new_code(session: Session) -> str:
    """A booking code no booking has yet."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if session.scalar(select(Booking.id).where(Booking.code == code)) is None:
            return code
