"""The booking engine: offers, confirmations, cancellations, no-shows and re-optimisation.

Promises are kept: a confirmed booking's pickup window and maximum ride time are hard
constraints of every later insertion (checked with an exact schedule) and every
re-optimisation (the new plan is validated and stored only if it serves every booking).

Times inside a service day are seconds after local midnight; the wire format is ``HH:MM``.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select

from planner.booking import kpis as kpi_module
from planner.booking import wire
from planner.booking.views import DayPlan, build_day_plan
from planner.darp.codec import (
    build_plan,
    kind_of,
    request_of,
    routes_of_plan,
    routes_of_refs,
    stop_of,
)
from planner.darp.insertion import Insertion, RouteState, best_insertions, route_state
from planner.darp.model import Instance, Request, Vehicle
from planner.darp.plan import Plan
from planner.darp.schedule import StopTable, earliest_schedule
from planner.darp.solve import SolveParams, solve
from planner.darp.validate import validate
from planner.errors import BookingError, ConflictError, NotFoundError
from planner.service import Service
from planner.service_time import local_datetime, service_seconds
from planner.stops import StopCatalog
from planner.store.db import (
    Booking,
    Offer,
    PlanVersion,
    ServiceDay,
    StandingBooking,
    Store,
    utcnow,
)
from planner.timefmt import hhmm
from planner.timetable.lines_first import Feeder, ScheduledCheck, check_scheduled, departs
from routing.timetable import FEED_WARNING_DAYS, TimetableCache

log = logging.getLogger(__name__)

WishKind = Literal["pickup", "arrival"]

#: Booking codes use Crockford's base-32 letters (no I, L, O, U): easy to read on the phone.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10

#: Stops scheduled to start within this time from now cannot be moved or preceded.
FREEZE_S = 10 * 60

#: Shifts of the wish tried for offers, nearest first (pickup-at may move both ways,
#: arrive-by only earlier), and how far alternatives are searched.
PICKUP_SHIFTS_MIN = (0, 15, -15, 30, -30)
ARRIVAL_SHIFTS_MIN = (0, -15, -30)
ALTERNATIVE_RANGE_MIN = 180
MAX_OFFERS = 3


@dataclass(frozen=True, slots=True)
class TripRequest:
    """What a rider asks for: from, to, day, a pickup or arrival time, party size, and the
    scheduled departure a feeder trip must reach (then ``kind`` is ``arrival``).

    The party is counted as the vehicle holds it, as in :class:`planner.darp.model.Request`:
    ``passengers`` on seats and ``wheelchairs`` in wheelchair places. Riders and the API
    count everyone as passengers and say how many of them use a wheelchair
    (:class:`planner.booking.wire.TripWish`); :func:`trip_request` and :func:`booking_json` convert.
    """

    day: date
    origin: int
    destination: int
    kind: WishKind
    time_s: int
    passengers: int = 1
    wheelchairs: int = 0
    connection: Feeder | None = None


def parse_trip_request(payload: Any, catalog: StopCatalog, service: Service) -> TripRequest:
    """Check an offer request (parsed JSON, the shape of
    :class:`~planner.booking.wire.TripWish`) and turn it into a :class:`TripRequest`.

    Raises
    ------
    BookingError
        Naming the first bad field and the reason.
    """
    return trip_request(wire.validate(wire.TripWish, payload), catalog, service)


def trip_request(wish: wire.TripWish, catalog: StopCatalog, service: Service) -> TripRequest:
    """Resolve a checked trip wish's stops and apply the service's rules to it.

    A feeder trip (``connection`` given) goes to the connection's stop (``destination``
    may only repeat it) and must arrive by the departure minus the transfer buffer.

    Raises
    ------
    BookingError
        If a stop is unknown or not bookable, origin and destination are the same stop, or
        the party is larger than the service takes.
    """
    feeder = None
    kind, time_s = wish.kind or "pickup", wish.time
    if wish.connection is not None:
        stop = catalog.resolve(wish.connection.stop, field="connection.stop")
        feeder = Feeder(stop, wish.connection.line, wish.connection.departure)
        kind, time_s = "arrival", feeder.departure_s - service.timetable.transfer_buffer_s
        if time_s < 0:
            raise BookingError("connection.departure", "leaves too early to be reached")
        if wish.destination is not None and _stop(wish.destination, catalog, "destination") != stop:
            raise BookingError("destination", "a feeder trip goes to the connection's stop")
    if wish.passengers > service.max_passengers:
        msg = f"at most {service.max_passengers} people per booking; call the dispatcher"
        raise BookingError("passengers", msg)
    origin = _stop(wish.origin, catalog, "origin")
    destination = feeder.stop if feeder else _stop(wish.destination, catalog, "destination")
    if origin == destination:
        raise BookingError("destination", "is the same stop as the origin")
    assert time_s is not None  # the wish names a time or a connection
    return TripRequest(
        wish.date,
        origin,
        destination,
        kind,
        time_s,
        passengers=wish.seated,
        wheelchairs=wish.wheelchairs,
        connection=feeder,
    )


def _stop(value: int | str | wire.Point | None, catalog: StopCatalog, field: str) -> int:
    if isinstance(value, wire.Point):
        value = value.model_dump()
    return catalog.resolve(value, field=field)


def check_contact(name: str, phone: str, note: str = "") -> tuple[str, str, str]:
    """Check and trim the rider's name, phone number and note (rules of
    :class:`~planner.booking.wire.Contact`).

    Raises
    ------
    BookingError
        Naming the bad field.
    """
    contact = wire.validate(
        wire.Contact, {"name": name or "", "phone": phone or "", "note": note or ""}
    )
    return contact.name, contact.phone, contact.note


@dataclass(frozen=True, slots=True)
class OfferView:
    """One offer as shown to the rider."""

    id: str
    vehicle_id: str
    window_start_s: float
    window_end_s: float
    est_pickup_s: float
    est_arrival_s: float
    expires_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "offer_id": self.id,
            "vehicle": self.vehicle_id,
            "pickup_window": [hhmm(self.window_start_s), hhmm(self.window_end_s)],
            "estimated_pickup": hhmm(self.est_pickup_s),
            "estimated_arrival": hhmm(self.est_arrival_s),
            "expires_at": self.expires_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class OfferResult:
    """Up to three offers, or the reason there are none and the nearest times that work."""

    offers: tuple[OfferView, ...]
    reason: str | None = None
    message: str | None = None
    alternatives: tuple[str, ...] = ()
    scheduled: tuple[dict[str, Any], ...] = ()
    feeders: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"offers": [o.to_json() for o in self.offers]}
        if self.reason:
            out.update(reason=self.reason, message=self.message, alternatives=self.alternatives)
        if self.scheduled:
            out["scheduled"] = list(self.scheduled)
        if self.feeders:
            out["feeders"] = list(self.feeders)
        return out


def booking_json(b: Booking, *, personal: bool = True) -> dict[str, Any]:
    """A booking as JSON (name and phone only when ``personal``)."""
    out = {
        "code": b.code,
        "status": b.status,
        "date": b.day,
        "origin": {"id": b.origin_node, "name": b.origin_name},
        "destination": {"id": b.destination_node, "name": b.destination_name},
        "passengers": b.passengers + b.wheelchairs,  # everyone, as riders count
        "wheelchairs": b.wheelchairs,
        "wish": {"kind": b.wish_kind, "time": hhmm(b.wish_s)},
        "pickup_window": [hhmm(b.window_start_s), hhmm(b.window_end_s)],
        "estimated_pickup": hhmm(b.est_pickup_s),
        "estimated_arrival": hhmm(b.est_arrival_s),
        "latest_arrival": hhmm(b.latest_dropoff_s) if b.latest_dropoff_s is not None else None,
        "max_ride_min": round(b.max_ride_s / 60, 1),
        "vehicle": b.vehicle_id,
        "linked_code": b.linked_code,
        "standing_id": b.standing_id,
        "connection": b.connection,
    }
    if personal:
        out.update(name=b.name, phone=b.phone, note=b.note)
    return out


@dataclass
class DayState:
    """A service day as the engine sees it: confirmed bookings, the instance, the routes."""

    day: str
    bookings: list[Booking]
    instance: Instance
    table: StopTable
    routes: list[list[int]]
    version: int
    extra: list[str] = field(default_factory=list)

    def plan(self) -> Plan:
        return build_plan(self.instance, self.routes, table=self.table)


class BookingEngine:
    """Takes offers, confirmations and cancellations for a service, keeping every promise.

    Parameters
    ----------
    service
        The service definition (hours, rules, fleet).
    catalog
        Bookable stops and their matrices.
    store
        The database.
    clock
        Returns the current time (timezone-aware); tests pass a fixed clock.
    timetable
        The scheduled lines; when given (and the service's ``timetable.check`` is on), a
        line near the wish replaces the bus, and feeder connections are checked.
    """

    def __init__(
        self,
        service: Service,
        catalog: StopCatalog,
        store: Store,
        *,
        clock: Callable[[], datetime] = utcnow,
        timetable: TimetableCache | None = None,
    ) -> None:
        self.service = service
        self.catalog = catalog
        self.store = store
        self.clock = clock
        self.timetable = timetable
        self.tz = ZoneInfo(service.timezone)
        self.depots = [catalog.resolve(v.depot, field="fleet.depot") for v in service.fleet]
        # converted once: every day state reuses them instead of converting per request
        self.matrix_lists = (catalog.travel_s.tolist(), catalog.distance_m.tolist())

    # -- time -----------------------------------------------------------------------------

    def local(self, day: date, seconds: float) -> datetime:
        """The local date-time of ``seconds`` of the service day ``day``."""
        return local_datetime(day, seconds, self.tz)

    def now_s(self, day: date) -> float:
        """Now, in seconds of the service day ``day`` (see :mod:`planner.service_time`)."""
        return service_seconds(self.clock(), day, self.tz)

    # -- building the day -----------------------------------------------------------------

    def _request(
        self,
        code: str,
        b: Booking | TripRequest,
        window: tuple[float, float],
        latest_dropoff: float | None,
        max_ride: float,
    ) -> Request:
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

    def _vehicles(self) -> list[Vehicle]:
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
            )
            for v, depot in zip(self.service.fleet, self.depots, strict=True)
        ]

    def _day_state(self, session, day: str, version: int, extra: Sequence[Request] = ()):
        """Load the day's confirmed bookings and current routes; ``extra`` requests are added
        to the instance (candidates for insertion) but to no route."""
        bookings = list(
            session.scalars(
                select(Booking)
                .where(Booking.day == day, Booking.status == "confirmed")
                .order_by(Booking.id)
            )
        )
        requests = [
            self._request(
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
            vehicles=tuple(self._vehicles()),
        )
        table = StopTable.from_instance(instance, matrices=self.matrix_lists)
        current = self._current_plan(session, day)
        confirmed = {b.code for b in bookings}
        refs = {  # a stored plan still lists bookings cancelled since
            vid: [(code, kind) for code, kind in stops if code in confirmed]
            for vid, stops in (current.routes if current is not None else {}).items()
        }
        routes = routes_of_refs(instance, refs, where=f"plan of {day}")
        return DayState(day, bookings, instance, table, routes, version)

    @staticmethod
    def _current_plan(session, day: str) -> PlanVersion | None:
        return session.scalars(
            select(PlanVersion)
            .where(PlanVersion.day == day)
            .order_by(PlanVersion.version.desc())
            .limit(1)
        ).first()

    def _prepare(self, state: DayState, day: date) -> list[RouteState]:
        """Prepare every route for insertion; stops in the past or the freeze horizon stay."""
        now = self.now_s(day) + FREEZE_S
        prepared = []
        for v, stops in enumerate(state.routes):
            times = earliest_schedule(state.table, v, stops)
            if times is None:  # cannot happen for a stored plan; skip the bus rather than fail
                log.error("day %s: route of vehicle %d has no schedule", state.day, v)
                continue
            first = sum(1 for t in times[1 : len(stops) + 1] if t < now)
            prepared.append(route_state(state.table, v, stops, times, first_position=first))
        return prepared

    # -- offers ---------------------------------------------------------------------------

    def _rule_violation(self, trip: TripRequest, window_start: float) -> tuple[str, str] | None:
        """The booking rule a pickup at ``window_start`` breaks, as (reason, message)."""
        s = self.service
        if window_start < s.first_pickup_s or window_start > s.last_dropoff_s:
            return "outside_hours", (
                f"the bus runs from {hhmm(s.first_pickup_s)} to {hhmm(s.last_dropoff_s)}"
            )
        if window_start - self.now_s(trip.day) < s.min_lead_s:
            return "lead_time", f"book at least {s.min_lead_s // 60} minutes ahead"
        if window_start >= s.night_from_s and self.now_s(trip.day) > s.night_deadline_s:
            return "night_deadline", (
                f"trips from {hhmm(s.night_from_s)} must be booked by "
                f"{hhmm(s.night_deadline_s)} the same day"
            )
        return None

    def _day_violation(self, trip: TripRequest) -> tuple[str, str] | None:
        """The booking horizon, checked before anything costly is done for the day."""
        horizon = self.service.horizon_days
        today = self.clock().astimezone(self.tz).date()
        if trip.day < today or trip.day > today + timedelta(days=horizon):
            return "horizon", f"rides can be booked from today up to {horizon} days ahead"
        return None

    def timetable_ends(self, *, warn_days: int = FEED_WARNING_DAYS) -> date | None:
        """The last date of the timetable feeds if it is ``warn_days`` or fewer away
        (operators must load a new feed before it), else None."""
        if self.timetable is None or not self.service.timetable.check:
            return None
        last = self.timetable.period[1]
        today = self.clock().astimezone(self.tz).date()
        return last if (last - today).days <= warn_days else None

    def warm_timetable(self) -> int:
        """Build the timetables of every bookable day now (a server does this at start, so
        that no rider waits for a build); returns how many days were warmed."""
        if self.timetable is None or not self.service.timetable.check:
            return 0
        today = self.clock().astimezone(self.tz).date()
        days = [today + timedelta(days=k) for k in range(self.service.horizon_days + 1)]
        for day in days:
            self.timetable.get(day)
        return len(days)

    def _candidate(self, trip: TripRequest, code: str, shift_s: int) -> Request | None:
        """The request for the wish moved by ``shift_s``, or None if no window can fit."""
        direct = float(
            self.catalog.travel_s[self.catalog.row[trip.origin], self.catalog.row[trip.destination]]
        )
        max_ride = self.service.max_ride_s(direct)
        w = self.service.window_s
        if trip.kind == "pickup":
            start = trip.time_s + shift_s
            return self._request(code, trip, (start, start + w), None, max_ride)
        deadline = trip.time_s + shift_s
        # any pickup that can still arrive by the deadline within the ride-time promise
        latest = deadline - direct - self.service.boarding_s
        earliest = deadline - max_ride - 2 * self.service.boarding_s
        return self._request(code, trip, (max(0.0, earliest), latest), deadline, max_ride)

    def _try(
        self, state: DayState, request_index: int, routes: list[RouteState]
    ) -> list[Insertion]:
        return best_insertions(
            state.table, routes, request_index, ride_time_weight=self.service.ride_time_weight
        )

    def _window_of(
        self, state: DayState, ins: Insertion, r: int
    ) -> tuple[float, float, float, float]:
        """(window start, window end, estimated pickup, estimated arrival) of an insertion."""
        req = state.instance.requests[r]
        pickup = ins.service_start(stop_of(r, "pickup"))
        arrival = ins.service_start(stop_of(r, "dropoff"))
        if req.latest_dropoff == np.inf:
            return req.earliest_pickup, req.latest_pickup, pickup, arrival
        # arrive-by: promise a window of the usual width that starts at the planned pickup
        start = 60 * (pickup // 60)
        end = min(start + self.service.window_s, req.latest_pickup)
        return start, max(end, pickup), pickup, arrival

    def offer(self, trip: TripRequest, *, with_alternatives: bool = True) -> OfferResult:
        """Find up to three offers for ``trip`` and hold them for ``offer_ttl_s``.

        ``with_alternatives=False`` skips the search for alternative times when nothing fits
        (simulations, whose riders do not ask again).

        Returns
        -------
        result
            Offers nearest the wish first; or no offers, a ``reason`` (``horizon``,
            ``outside_hours``, ``lead_time``, ``night_deadline``, ``no_capacity``,
            ``fully_booked``, ``too_short``, ``scheduled_line``) and up to three
            alternative wish times that would work. With the timetable on, ``scheduled``
            holds the scheduled connections near the wish (they replace the bus:
            ``scheduled_line``) and ``feeders`` combinations of the bus and a line.

        Raises
        ------
        BookingError
            If the wish is in the past, or a feeder's connection does not exist.
        """
        s = self.service
        if self.local(trip.day, trip.time_s) < self.clock():
            raise BookingError("time", "is in the past")
        violation = self._day_violation(trip)
        if violation is not None:
            return OfferResult((), *violation)
        if trip.passengers > max(v.seats for v in s.fleet) or trip.wheelchairs > max(
            v.wheelchair_places for v in s.fleet
        ):
            return OfferResult((), "no_capacity", "no bus of the fleet has room for this party")
        row = self.catalog.row
        distance = float(self.catalog.distance_m[row[trip.origin], row[trip.destination]])
        if distance < s.min_trip_m:
            return OfferResult((), "too_short", (
                f"the stops are {distance:.0f} m apart; the bus takes trips of at least "
                f"{s.min_trip_m / 1000:.1f} km"
            ))  # fmt: skip
        scheduled = self._check_timetable(trip)
        if scheduled is not None and scheduled.replaces_bus:
            first = scheduled.connections[0]
            return OfferResult(
                (),
                "scheduled_line",
                f"line {' + '.join(leg.line for leg in first.legs)} leaves at "
                f"{hhmm(first.legs[0].departure_s)} and arrives at {hhmm(first.arrival_s)}; "
                "the on-demand bus runs only where and when no scheduled line does",
                scheduled=self._connections_json(scheduled),
            )
        result = self._offer_bus(trip, with_alternatives=with_alternatives)
        if scheduled is not None and scheduled.feeders:
            names = self._stop_names()
            feeders = tuple(f.to_json(names) for f in scheduled.feeders)
            result = replace(result, feeders=feeders)
        return result

    def _stop_names(self) -> dict[int, str]:
        return self.timetable.names if self.timetable else {}

    def _connections_json(self, check: ScheduledCheck) -> tuple[dict[str, Any], ...]:
        names = self._stop_names()
        return tuple(c.to_json(names) for c in check.connections)

    def _check_timetable(self, trip: TripRequest) -> ScheduledCheck | None:
        """The scheduled-lines-first rule for ``trip``, or None without a timetable."""
        if self.timetable is None or not self.service.timetable.check:
            return None
        if trip.connection is not None and not self.timetable.covers(trip.day):
            raise BookingError(
                "connection",
                f"no timetable is known for {trip.day.isoformat()}; "
                "the connection cannot be checked",
            )
        tt = self.timetable.get(trip.day)  # empty past the feeds' end: the bus is offered
        if trip.connection is not None and not departs(tt, trip.connection):
            c = trip.connection
            raise BookingError(
                "connection",
                f"line {c.line} does not leave {self.catalog.name(c.stop)} at "
                f"{hhmm(c.departure_s)} on {trip.day.isoformat()}",
            )
        row = self.catalog.row
        travel = self.catalog.travel_s[row[trip.origin]]
        direct = float(travel[row[trip.destination]])
        return check_scheduled(
            tt,
            trip.origin,
            trip.destination,
            kind=trip.kind,
            time_s=trip.time_s,
            rule=self.service.timetable,
            ride_promise_s=self.service.max_ride_s(direct),
            not_before_s=self.now_s(trip.day),
            bus_s=None
            if trip.connection
            else dict(zip(self.catalog.nodes, travel.tolist(), strict=True)),
            boarding_s=self.service.boarding_s,
        )

    def _offer_bus(self, trip: TripRequest, *, with_alternatives: bool) -> OfferResult:
        """Up to three on-demand offers for ``trip`` (see :meth:`offer`)."""
        s = self.service
        shifts = PICKUP_SHIFTS_MIN if trip.kind == "pickup" else ARRIVAL_SHIFTS_MIN
        day = trip.day.isoformat()
        candidates = [self._candidate(trip, f"offer-{k}", m * 60) for k, m in enumerate(shifts)]
        with self.store.session() as session:
            state = self._day_state(session, day, 0, candidates)
        first = self._prepare(state, trip.day)
        base = len(state.bookings)
        found: list[tuple[int, Insertion, tuple[float, float, float, float]]] = []
        first_violation = None
        for k, req in enumerate(candidates):
            violation = self._rule_violation(
                trip, req.earliest_pickup if trip.kind == "pickup" else req.latest_pickup
            )
            if violation:
                first_violation = first_violation or violation
                continue
            insertions = self._try(state, base + k, first)
            if insertions:
                window = self._window_of(state, insertions[0], base + k)
                if self._rule_violation(trip, window[0]) is None:
                    found.append((k, insertions[0], window))
            if len(found) == MAX_OFFERS:
                break
        if not found:
            reason, message = first_violation or (
                "fully_booked",
                "no bus can take this trip near the wished time",
            )
            alternatives = self.alternatives(trip) if with_alternatives else ()
            return OfferResult((), reason, message, alternatives)
        expires = self.clock() + timedelta(seconds=s.offer_ttl_s)
        views = []
        with self.store.session() as session:
            for _, ins, (w0, w1, pickup, arrival) in found:
                view = OfferView(
                    id=secrets.token_urlsafe(16),
                    vehicle_id=state.instance.vehicles[ins.vehicle].id,
                    window_start_s=w0,
                    window_end_s=w1,
                    est_pickup_s=pickup,
                    est_arrival_s=arrival,
                    expires_at=expires,
                )
                req = state.instance.requests[base + found[len(views)][0]]
                session.add(
                    Offer(
                        id=view.id,
                        day=day,
                        expires_at=expires,
                        payload={
                            "origin": trip.origin,
                            "destination": trip.destination,
                            "passengers": trip.passengers,
                            "wheelchairs": trip.wheelchairs,
                            "kind": trip.kind,
                            "wish_s": trip.time_s,
                            "window": [w0, w1],
                            "latest_dropoff": None if trip.kind == "pickup" else req.latest_dropoff,
                            "max_ride": req.max_ride_time,
                            "vehicle": view.vehicle_id,
                            "est_pickup": pickup,
                            "est_arrival": arrival,
                            "connection": self._feeder_json(trip.connection),
                        },
                    )
                )
                views.append(view)
        return OfferResult(tuple(views))

    def _feeder_json(self, feeder: Feeder | None) -> dict[str, Any] | None:
        return None if feeder is None else feeder.to_json(self.catalog.name(feeder.stop))

    def alternatives(self, trip: TripRequest, *, limit: int = 3) -> tuple[str, ...]:
        """Wish times nearest ``trip.time_s`` (15-minute steps, up to 3 h away) that fit."""
        steps = range(15, ALTERNATIVE_RANGE_MIN + 1, 15)
        shifts = [s for m in steps for s in (m, -m)]
        candidates = [self._candidate(trip, f"alt-{k}", m * 60) for k, m in enumerate(shifts)]
        with self.store.session() as session:
            state = self._day_state(session, trip.day.isoformat(), 0, candidates)
        first = self._prepare(state, trip.day)
        base = len(state.bookings)
        out = []
        for k, m in enumerate(shifts):
            wish = trip.time_s + m * 60
            req = candidates[k]
            start = req.earliest_pickup if trip.kind == "pickup" else req.latest_pickup
            if not 0 <= wish < 24 * 3600 or self._rule_violation(trip, start):
                continue
            if self._try(state, base + k, first):
                out.append(hhmm(wish))
                if len(out) == limit:
                    break
        return tuple(out)

    # -- confirm, cancel, no-show -----------------------------------------------------------

    def _new_code(self, session) -> str:
        while True:
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            if session.scalar(select(Booking.id).where(Booking.code == code)) is None:
                return code

    def _store_plan(self, session, state: DayState, reason: str, wish: dict | None = None) -> dict:
        """Save the state's routes as the day's next plan version; return its KPIs."""
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
        self._update_estimates(state, plan)
        return figures

    @staticmethod
    def _update_estimates(state: DayState, plan: Plan) -> None:
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

    def confirm(
        self,
        offer_id: str,
        *,
        name: str,
        phone: str,
        note: str = "",
        created_by: str = "web",
        return_offer_id: str | None = None,
        standing_id: int | None = None,
    ) -> list[dict[str, Any]]:
        """Turn an offer (and optionally a linked return offer) into confirmed bookings.

        The offer is checked again under the day's write lock: if the plan changed so that
        it no longer fits, the rider gets a clear refusal, never a double booking. The
        bookings are committed to disk before this returns.

        Raises
        ------
        BookingError
            If name or phone are missing or too long.
        NotFoundError
            If the offer does not exist.
        ConflictError
            If it expired, was used, or no longer fits.
        """
        name, phone, note = check_contact(name, phone, note)
        offer_ids = [offer_id] + ([return_offer_id] if return_offer_id else [])
        with self.store.session() as session:
            offers = [session.get(Offer, oid) for oid in offer_ids]
        for oid, offer in zip(offer_ids, offers, strict=True):
            if offer is None:
                raise NotFoundError("offer_id", f"no offer {oid!r}")
        created: list[Booking] = []
        # a linked return may be on another day: hold the lock of every day written
        with self.store.writing_days(o.day for o in offers) as (session, locks):
            for offer in offers:
                created.append(
                    self._confirm_one(session, offer.id, name, phone, note, created_by, standing_id)
                )
            if len(created) == 2:
                created[0].linked_code, created[1].linked_code = created[1].code, created[0].code
            for lock in locks.values():
                lock.version += 1
        return [booking_json(b) for b in created]

    def _confirm_one(self, session, offer_id, name, phone, note, created_by, standing_id):
        offer = session.get(Offer, offer_id)
        if offer.used:
            raise ConflictError("offer_id", "this offer was already used")
        expires = offer.expires_at
        if expires.tzinfo is None:  # SQLite returns naive UTC
            expires = expires.replace(tzinfo=self.clock().tzinfo or ZoneInfo("UTC"))
        if self.clock() > expires:
            raise ConflictError("offer_id", "this offer has expired; please ask for a new one")
        p = offer.payload
        day = date.fromisoformat(offer.day)
        trip = TripRequest(
            day,
            p["origin"],
            p["destination"],
            p["kind"],
            p["wish_s"],
            p["passengers"],
            p["wheelchairs"],
        )
        code = self._new_code(session)
        request = self._request(code, trip, tuple(p["window"]), p["latest_dropoff"], p["max_ride"])
        state = self._day_state(session, offer.day, 0, [request])
        r = len(state.bookings)
        insertions = self._try(state, r, self._prepare(state, day))
        if not insertions:
            raise ConflictError("offer_id", "this offer is no longer available; please ask again")
        # keep the offered bus if it still fits, so that what the rider was told holds
        ins = next(
            (i for i in insertions if state.instance.vehicles[i.vehicle].id == p["vehicle"]),
            insertions[0],
        )
        pickup = ins.service_start(stop_of(r, "pickup"))
        arrival = ins.service_start(stop_of(r, "dropoff"))
        booking = Booking(
            code=code,
            day=offer.day,
            status="confirmed",
            origin_node=trip.origin,
            origin_name=self.catalog.name(trip.origin),
            destination_node=trip.destination,
            destination_name=self.catalog.name(trip.destination),
            passengers=trip.passengers,
            wheelchairs=trip.wheelchairs,
            wish_kind=trip.kind,
            wish_s=trip.time_s,
            window_start_s=p["window"][0],
            window_end_s=p["window"][1],
            latest_dropoff_s=p["latest_dropoff"],
            max_ride_s=p["max_ride"],
            direct_s=state.instance.direct_time(request),
            est_pickup_s=pickup,
            est_arrival_s=arrival,
            vehicle_id=state.instance.vehicles[ins.vehicle].id,
            name=name,
            phone=phone,
            note=note,
            created_by=created_by,
            standing_id=standing_id,
            connection=p.get("connection"),
        )
        session.add(booking)
        offer.used = True
        state.routes[ins.vehicle] = list(ins.stops)
        state.bookings.append(booking)
        self._store_plan(session, state, f"booking {code}")
        session.flush()
        return booking

    def offer_details(self, offer_id: str) -> dict[str, Any]:
        """An offer as JSON with its stops' names, for the confirmation page.

        Raises
        ------
        NotFoundError
            If there is no such offer.
        """
        with self.store.session() as session:
            offer = session.get(Offer, offer_id)
        if offer is None:
            raise NotFoundError("offer_id", f"no offer {offer_id!r}")
        p = offer.payload
        return {
            "offer_id": offer.id,
            "date": offer.day,
            "origin": self.catalog.describe(p["origin"]),
            "destination": self.catalog.describe(p["destination"]),
            "passengers": p["passengers"] + p["wheelchairs"],  # everyone, as riders count
            "wheelchairs": p["wheelchairs"],
            "pickup_window": [hhmm(p["window"][0]), hhmm(p["window"][1])],
            "estimated_pickup": hhmm(p["est_pickup"]) if "est_pickup" in p else None,
            "estimated_arrival": hhmm(p["est_arrival"]) if "est_arrival" in p else None,
            "vehicle": p["vehicle"],
            "used": offer.used,
        }

    def booking(self, code: str) -> Booking:
        """The booking with this code.

        Raises
        ------
        NotFoundError
            If there is none.
        """
        with self.store.session() as session:
            found = session.scalar(select(Booking).where(Booking.code == code.strip().upper()))
        if found is None:
            raise NotFoundError("code", f"no booking {code!r}")
        return found

    def _end_booking(self, code: str, status: str) -> dict[str, Any]:
        day = self.booking(code).day
        with self.store.writing(day) as (session, lock):
            b = session.scalar(select(Booking).where(Booking.code == code.strip().upper()))
            if b.status != "confirmed":
                raise ConflictError("code", f"booking {b.code} is already {b.status}")
            if status == "no_show" and not self.may_mark_no_show(b):
                raise ConflictError("code", (
                    f"the pickup window of {b.code} starts at {hhmm(b.window_start_s)}; "
                    "a no-show can be recorded only from then"
                ))  # fmt: skip
            b.status = status
            b.updated_at = utcnow()
            session.flush()
            state = self._day_state(session, day, lock.version)
            self._store_plan(session, state, f"{status} {b.code}")
            lock.version += 1
            return booking_json(b)

    def may_mark_no_show(self, booking: Booking) -> bool:
        """Whether the rider's pickup window has started (before it, nobody can have
        missed the bus)."""
        day = date.fromisoformat(booking.day)
        return self.now_s(day) >= booking.window_start_s

    def cancel(self, code: str) -> dict[str, Any]:
        """Cancel a confirmed booking; its seats are free for others at once."""
        return self._end_booking(code, "cancelled")

    def no_show(self, code: str) -> dict[str, Any]:
        """Mark a rider as not having turned up; the rest of the plan no longer waits.

        Raises
        ------
        ConflictError
            Before the pickup window starts, or if the booking is not confirmed.
        """
        return self._end_booking(code, "no_show")

    # -- plans ------------------------------------------------------------------------------

    def day_plan(self, day: date) -> DayPlan:
        """The current plan of ``day`` for dispatchers: per vehicle the timed stops."""
        with self.store.session() as session:
            state = self._day_state(session, day.isoformat(), 0)
            version = self._current_plan(session, state.day)
        plan = state.plan()
        return build_day_plan(
            day,
            plan,
            state.bookings,
            version=version.version if version else 0,
            kpis=version.kpis if version else kpi_module.plan_kpis(state.instance, plan),
            describe=self.catalog.describe,
            may_mark_no_show=self.may_mark_no_show,
        )

    def kpis(self, day: date) -> dict[str, Any]:
        """The KPIs of the day's current plan."""
        with self.store.session() as session:
            state = self._day_state(session, day.isoformat(), 0)
        return kpi_module.plan_kpis(state.instance, state.plan())

    def validate_day(self, day: date) -> list[str]:
        """Run the independent validator on the stored plan of ``day``; return problems."""
        with self.store.session() as session:
            state = self._day_state(session, day.isoformat(), 0)
        plan = state.plan()
        problems = [str(v) for v in validate(state.instance, plan)]
        problems += [f"booking {r.request_id} is not served" for r in plan.rejected]
        return problems

    def optimize(self, day: date, *, time_limit: float = 10.0) -> dict[str, Any]:
        """Re-plan the whole day with OR-Tools, warm-started from the current plan.

        Stops already served or within the freeze horizon stay where they are; every
        confirmed booking keeps its window and ride-time promise. The new plan is stored
        only if it is valid, serves every booking and costs less; otherwise the current
        plan stays.

        Returns
        -------
        result
            ``stored`` (bool), ``reason``, ``before`` and ``after`` KPIs and costs.
        """
        key = day.isoformat()
        with self.store.session() as session:
            row = session.get(ServiceDay, key)
            version = row.version if row else 0
            state = self._day_state(session, key, version)
        if not state.bookings:
            return {"stored": False, "reason": "no bookings on this day"}
        current = state.plan()
        before = kpi_module.plan_kpis(state.instance, current)
        locked = {
            self.service.fleet[r.vehicle].id: [
                (state.instance.requests[request_of(s)].id, kind_of(s))
                for s in r.stops[: r.first_position]
            ]
            for r in self._prepare(state, day)
            if r.first_position
        }
        params = SolveParams(
            time_limit=time_limit,
            objective="time",
            ride_time_weight=self.service.ride_time_weight,
            construction=False,
        )
        new = solve(state.instance, params=params, initial_plan=current, locked=locked)
        after = kpi_module.plan_kpis(state.instance, new)
        cost_before = self._cost(state.instance, current)
        cost_after = self._cost(state.instance, new)
        out = {
            "before": before,
            "after": after,
            "cost_before": round(cost_before, 1),
            "cost_after": round(cost_after, 1),
        }
        problems = validate(state.instance, new)
        if problems or new.rejected:
            return {**out, "stored": False, "reason": "the new plan would break a promise"}
        if cost_after >= cost_before - 1e-6:
            return {**out, "stored": False, "reason": "the current plan is already as good"}
        with self.store.writing(key) as (session, lock):
            if lock.version != version:
                return {**out, "stored": False, "reason": "bookings changed meanwhile; try again"}
            fresh = self._day_state(session, key, version)
            fresh.routes = routes_of_plan(fresh.instance, new)
            self._store_plan(session, fresh, "re-optimisation")
            lock.version += 1
        return {**out, "stored": True, "reason": "stored a better plan"}

    def _cost(self, instance: Instance, plan: Plan) -> float:
        """Objective of the service: weighted vehicle travel time plus passenger ride time."""
        ride = 0.0
        for route in plan.routes:
            picked = {}
            for v in route.visits:
                if v.kind == "pickup":
                    picked[v.request_id] = v.departure
                else:
                    ride += v.service_start - picked.get(v.request_id, v.service_start)
        return (
            self.service.vehicle_time_weight * plan.travel_time
            + self.service.ride_time_weight * ride
        )

    # -- standing bookings ------------------------------------------------------------------

    def add_standing(
        self,
        trip: TripRequest,
        *,
        weekdays: Sequence[int],
        last_day: date,
        name: str,
        phone: str,
        note: str = "",
        created_by: str = "dispatcher",
    ) -> dict[str, Any]:
        """Book ``trip`` on every ISO weekday in ``weekdays`` from ``trip.day`` to ``last_day``.

        Days within the booking horizon are booked at once with the offer nearest the wish;
        each day's result (a booking code, or the reason it could not be booked) is returned.
        """
        if not weekdays or any(d not in range(1, 8) for d in weekdays):
            raise BookingError("weekdays", "must list ISO weekdays 1 (Monday) to 7 (Sunday)")
        if last_day < trip.day:
            raise BookingError("until", "must not be before the first date")
        name, phone, note = check_contact(name, phone, note)
        with self.store.session() as session:
            standing = StandingBooking(
                weekdays=",".join(map(str, sorted(set(weekdays)))),
                wish_kind=trip.kind,
                wish_s=trip.time_s,
                origin_node=trip.origin,
                destination_node=trip.destination,
                passengers=trip.passengers,
                wheelchairs=trip.wheelchairs,
                name=name,
                phone=phone,
                note=note,
                first_day=trip.day.isoformat(),
                last_day=last_day.isoformat(),
            )
            session.add(standing)
            session.flush()
            standing_id = standing.id
        today = self.clock().astimezone(self.tz).date()
        horizon = min(last_day, today + timedelta(days=self.service.horizon_days))
        results = []
        day = trip.day
        while day <= horizon:
            if day.isoweekday() in weekdays:
                result = self.offer(replace(trip, day=day))
                if result.offers:
                    booked = self.confirm(
                        result.offers[0].id,
                        name=name,
                        phone=phone,
                        note=note,
                        created_by=created_by,
                        standing_id=standing_id,
                    )
                    results.append({"date": day.isoformat(), "code": booked[0]["code"]})
                else:
                    results.append(
                        {
                            "date": day.isoformat(),
                            "reason": result.reason,
                            "message": result.message,
                        }
                    )
            day += timedelta(days=1)
        return {"standing_id": standing_id, "days": results}
