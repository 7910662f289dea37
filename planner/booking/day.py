"""A service day in the database: loading its bookings and routes, saving a new plan version.

Loading turns the day's confirmed bookings and current routes into the model. The booking
engine's SQL lives here and in :mod:`planner.store.db`.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from planner.booking import kpis as kpi_module
from planner.booking.trip import TripRequest
from planner.darp.codec import build_plan, routes_of_refs
from planner.darp.insertion import PreparedRoutes, prepare
from planner.darp.model import Instance, Request, Vehicle
from planner.darp.plan import Plan
from planner.darp.schedule import StopTable
from planner.darp.validate import validate
from planner.errors import ConflictError
from planner.service import Service
from planner.stops import StopCatalog
from planner.store.db import Booking, PlanVersion, ServiceDay

#: Booking codes use Crockford's base-32 letters (no I, L, O, U): easy to read on the phone.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10


@dataclass(frozen=True, eq=False)
class OpenDay:
    """A day kept in memory for offers: its requests and routes ready for insertion.

    ``version`` is the day's version (:class:`planner.store.db.ServiceDay`) it shows;
    ``instance`` holds the requests of the confirmed bookings (in booking order) and the
    fleet; ``prepared`` the routes, prepared once for every offer's insertion screen.
    """

    day: str
    version: int
    instance: Instance
    prepared: PreparedRoutes


@dataclass
class DayState:
    """A service day as the engine sees it: confirmed bookings, the instance, the routes."""

    day: str
    bookings: list[Booking]
    instance: Instance
    table: StopTable
    routes: list[list[int]]

    def plan(self) -> Plan:
        """The routes timed as a plan."""
        return build_plan(self.instance, self.routes, table=self.table)


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
    """

    def __init__(self, service: Service, catalog: StopCatalog, depots: Sequence[int]) -> None:
        self.service = service
        self.catalog = catalog
        self.depots = list(depots)
        # converted once: every day state reuses them instead of converting per request
        self.matrix_lists = (catalog.travel_s.tolist(), catalog.distance_m.tolist())
        self._open: dict[str, OpenDay] = {}
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

    def load(self, session: Session, day: str, extra: Sequence[Request] = ()) -> DayState:
        """Load the day's confirmed bookings and current routes.

        ``extra`` requests are added to the instance (candidates for insertion) but to no route.
        """
        bookings = list(
            session.scalars(
                select(Booking)
                .where(Booking.day == day, Booking.status == "confirmed")
                .order_by(Booking.id)
            )
        )
        requests = [
            self.request(
                b.code, b, (b.window_start_s, b.window_end_s), b.latest_dropoff_s, b.max_ride_s
            )
            for b in bookings
        ]
        requests += list(extra)
        instance = Instance(
            name=day,
            travel_times=self.catalog.travel_s,
            distances=self.catalog.distance_m,
            requests=tuple(requests),
            vehicles=tuple(self.vehicles()),
        )
        table = StopTable.from_instance(instance, matrices=self.matrix_lists)
        current = current_plan(session, day)
        confirmed = {b.code for b in bookings}
        refs = {  # a stored plan still lists bookings cancelled since
            vid: [(code, kind) for code, kind in stops if code in confirmed]
            for vid, stops in (current.routes if current is not None else {}).items()
        }
        routes = routes_of_refs(instance, refs, where=f"plan of {day}")
        return DayState(day, bookings, instance, table, routes)

    def open_day(self, session: Session, day: str) -> OpenDay:
        """The day as offers see it, from memory if no one has written it since.

        The day's version (bumped by every write, in any process) tells whether the copy in
        memory is current; if not, the day is loaded and kept.
        """
        version = session.scalar(select(ServiceDay.version).where(ServiceDay.day == day)) or 0
        with self._lock:
            kept = self._open.get(day)
        if kept is not None and kept.version == version:
            return kept
        return self._keep(self.load(session, day), version)

    def _keep(self, state: DayState, version: int) -> OpenDay:
        """Keep the state of a committed ``version`` of its day in memory (never an older one)."""
        opened = OpenDay(
            state.day,
            version,
            state.instance,
            prepare(state.table, state.routes, self.service.objective),
        )
        with self._lock:
            kept = self._open.get(state.day)
            if kept is None or kept.version <= version:
                self._open[state.day] = opened
        return opened

    def save_plan(
        self,
        session: Session,
        lock: ServiceDay,
        state: DayState,
        reason: str,
        wish: dict | None = None,
    ) -> dict:
        """Save the state's routes as the day's next plan version; return its KPIs.

        Bumps the day's version (``lock``, held by the caller's transaction). Once the
        transaction commits, the state is what offers see of the day (:meth:`open_day`).
        """
        plan = state.plan()
        problems = validate(state.instance, plan)
        if problems:  # never store a plan that breaks a promise
            raise ConflictError("plan", f"would break a constraint: {problems[0]}")
        figures = kpi_module.plan_kpis(state.instance, plan, wish=wish)
        last = session.scalar(
            select(PlanVersion.version)
            .where(PlanVersion.day == state.day)
            .order_by(PlanVersion.version.desc())
        )
        routes = {
            route.vehicle_id: [[v.request_id, v.kind] for v in route.visits]
            for route in plan.routes
        }
        session.add(
            PlanVersion(
                day=state.day, version=(last or 0) + 1, reason=reason, routes=routes, kpis=figures
            )
        )
        update_estimates(state, plan)
        lock.version += 1
        saved = session.info.setdefault("rufbus.saved_days", {})
        if not saved:  # first save of this transaction: keep the days once it commits
            event.listen(session, "after_commit", self._after_commit, once=True)
        saved[state.day] = (state, lock.version)
        return figures

    def _after_commit(self, session: Session) -> None:
        for state, version in session.info.pop("rufbus.saved_days", {}).values():
            self._keep(state, version)


def current_plan(session: Session, day: str) -> PlanVersion | None:
    """The day's newest stored plan, if any."""
    return session.scalars(
        select(PlanVersion)
        .where(PlanVersion.day == day)
        .order_by(PlanVersion.version.desc())
        .limit(1)
    ).first()


def find_booking(session: Session, code: str) -> Booking | None:
    """The booking with this code (case and spaces around it do not matter)."""
    return session.scalar(select(Booking).where(Booking.code == code.strip().upper()))


def update_estimates(state: DayState, plan: Plan) -> None:
    """Copy the plan's vehicle and estimated times onto the day's bookings."""
    by_code = {b.code: b for b in state.bookings}
    for route in plan.routes:
        for visit in route.visits:
            b = by_code.get(visit.request_id)
            if b is None:
                continue
            b.vehicle_id = route.vehicle_id
            if visit.kind == "pickup":
                b.est_pickup_s = visit.service_start
            else:
                b.est_arrival_s = visit.service_start


def new_code(session: Session) -> str:
    """A booking code no booking has yet."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if session.scalar(select(Booking.id).where(Booking.code == code)) is None:
            return code
