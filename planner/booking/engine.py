"""The booking engine: offers, confirmations, cancellations, no-shows and re-optimisation.

Promises are kept: a confirmed booking's pickup window and maximum ride time are hard
constraints of every later insertion (checked with an exact schedule) and every
re-optimisation (the new plan is validated and stored only if it serves every booking).

Times inside a service day are seconds after local midnight; the wire format is ``HH:MM``.
"""

from __future__ import annotations

import logging
import secrets
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import update
from sqlalchemy.orm import Session

from planner.booking import change, reoptimize, rules, standing
from planner.booking.day import (
    DayState,
    DayStore,
    OpenDay,
    current_plan,
    find_booking,
    new_code,
    require_confirmed,
)
from planner.booking.repair_gate import RepairGate
from planner.booking.rules import Violation
from planner.booking.trip import TripRequest, check_contact
from planner.booking.views import DayPlan, build_day_plan
from planner.booking.wire import Notify
from planner.darp.codec import kind_of, request_of, stop_of, stop_of_ref
from planner.darp.insertion import (
    Insertion,
    PreparedRoutes,
    Repair,
    best_insertion,
    held_repair,
    prepare,
    repair_insertion,
)
from planner.darp.model import Instance, Request
from planner.darp.validate import validate
from planner.errors import BookingError, ConflictError, InvalidPlanError, NotFoundError
from planner.fares import Fare, trip_fare
from planner.live import journal
from planner.service import Service
from planner.service_time import local_datetime, service_seconds
from planner.stops import StopCatalog
from planner.store.db import Booking, Offer, ServiceDay, Store, utcnow
from planner.timefmt import hhmm
from planner.timetable.lines_first import Feeder, ScheduledCheck, check_scheduled, departs
from routing.timetable import FEED_WARNING_DAYS, TimetableCache

log = logging.getLogger(__name__)


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
    shift_s: float = 0.0
    fare: Fare | None = None

    def to_json(self) -> dict[str, Any]:
        """The offer in the wire format (times as ``HH:MM``).

        ``shift_min`` is how far it is from the wish (:func:`rules.wish_shift_s`); ``fare``
        and ``fare_status`` what it costs (:func:`fare_json`).
        """
        return {
            "offer_id": self.id,
            "vehicle": self.vehicle_id,
            "pickup_window": [hhmm(self.window_start_s), hhmm(self.window_end_s)],
            "shift_min": round(self.shift_s / 60),
            "estimated_pickup": hhmm(self.est_pickup_s),
            "estimated_arrival": hhmm(self.est_arrival_s),
            "expires_at": self.expires_at.isoformat(),
            **fare_json(self.fare),
        }


def fare_json(fare: Fare | None) -> dict[str, Any]:
    """``fare`` (the party's fare, or null) and ``fare_status`` of an offer.

    ``fare_status`` is ``quoted`` with a fare, else ``to_be_confirmed``: the service has no
    tariff (or none for so long a trip), and the rider learns the fare from the hotline.
    """
    return {
        "fare": None if fare is None else fare.to_json(),
        "fare_status": "to_be_confirmed" if fare is None else "quoted",
    }


@dataclass(frozen=True, slots=True)
class OfferResult:
    """Up to three offers, or the reason there are none and the nearest times that work.

    ``offers`` are nearest the wish first (simulated riders and standing bookings take the
    first); riders read them by time, so the wire format lists them by pickup window.
    """

    offers: tuple[OfferView, ...]
    reason: str | None = None
    message: str | None = None
    alternatives: tuple[str, ...] = ()
    scheduled: tuple[dict[str, Any], ...] = ()
    feeders: tuple[dict[str, Any], ...] = ()
    reason_params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def refused(cls, why: Violation, **kwargs: Any) -> OfferResult:
        """No offer, for the reason ``why`` (``kwargs``: alternatives, scheduled...)."""
        return cls((), why.reason, why.message, reason_params=why.params, **kwargs)

    def to_json(self) -> dict[str, Any]:
        """The result in the wire format; reason, scheduled and feeders only when set."""
        by_time = sorted(self.offers, key=lambda o: (o.window_start_s, abs(o.shift_s)))
        out: dict[str, Any] = {"offers": [o.to_json() for o in by_time]}
        if self.reason:
            out.update(
                reason=self.reason,
                reason_params=self.reason_params,
                message=self.message,
                alternatives=self.alternatives,
            )
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
        "shift_min": round(
            rules.wish_shift_s(
                "arrival" if b.wish_kind == "arrival" else "pickup",
                b.wish_s,
                b.window_start_s,
                b.latest_dropoff_s,
            )
            / 60
        ),
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
        # days are planned from what the vehicles reported (the event journal)
        self.days = DayStore(service, catalog, self.depots, clock, reality=journal.plan_events)
        self.repairs = RepairGate()

    @property
    def depot_of(self) -> dict[str, int]:
        """Vehicle id -> its depot node, in the fleet's order."""
        return dict(zip((v.id for v in self.service.fleet), self.depots, strict=True))

    # -- time -----------------------------------------------------------------------------

    def local(self, day: date, seconds: float) -> datetime:
        """The local date-time of ``seconds`` of the service day ``day``."""
        return local_datetime(day, seconds, self.tz)

    def now_s(self, day: date) -> float:
        """Now, in seconds of the service day ``day`` (see :mod:`planner.service_time`)."""
        return service_seconds(self.clock(), day, self.tz)

    def fare(self, origin: int, destination: int, people: int) -> Fare | None:
        """The full fare of ``people`` between two stops; None without a tariff."""
        return trip_fare(self.service.fares, self.catalog, origin, destination, people)

    # -- building the day -----------------------------------------------------------------

    def _prepare(self, state: DayState, day: date) -> PreparedRoutes:
        """Prepare every route for insertion; stops in the past or the freeze horizon stay."""
        fixed_before = self.now_s(day) + rules.FREEZE_S
        if state.prepared is not None and not state.fresh:  # from memory, as it is
            return state.prepared.holding(fixed_before)
        return prepare(state.table, state.routes, self.service.objective, fixed_before=fixed_before)

    # -- offers ---------------------------------------------------------------------------

    def _rule_violation(self, trip: TripRequest, window_start: float) -> Violation | None:
        return rules.rule_violation(self.service, window_start, self.now_s(trip.day))

    def _day_violation(self, trip: TripRequest) -> Violation | None:
        today = self.clock().astimezone(self.tz).date()
        return rules.day_violation(self.service, trip.day, today)

    def next_bookable(self) -> tuple[date, int]:
        """The day and pickup time a booking made now may ask for first.

        See :func:`rules.next_bookable`.
        """
        today = self.clock().astimezone(self.tz).date()
        return rules.next_bookable(self.service, today, self.now_s(today))

    def timetable_ends(self, *, warn_days: int = FEED_WARNING_DAYS) -> date | None:
        """The last date of the timetable feeds if it is ``warn_days`` or fewer away, else None.

        Operators must load a new feed before that date.
        """
        if self.timetable is None or not self.service.timetable.check:
            return None
        last = self.timetable.period[1]
        today = self.clock().astimezone(self.tz).date()
        return last if (last - today).days <= warn_days else None

    def warm_timetable(self) -> int:
        """Build the timetables of every bookable day now; return how many days were warmed.

        A server does this at start, so that no rider waits for a build.
        """
        if self.timetable is None or not self.service.timetable.check:
            return 0
        today = self.clock().astimezone(self.tz).date()
        days = [today + timedelta(days=k) for k in range(self.service.horizon_days + 1)]
        for day in days:
            self.timetable.get(day)
        return len(days)

    def _candidate(self, trip: TripRequest, code: str, shift_s: int) -> Request:
        """The request for the wish moved by ``shift_s``."""
        row = self.catalog.row
        direct = float(self.catalog.travel_s[row[trip.origin], row[trip.destination]])
        wish = rules.wish_window(self.service, trip.kind, trip.time_s, direct, shift_s)
        window = (wish.earliest_pickup, wish.latest_pickup)
        return self.days.request(code, trip, window, wish.latest_dropoff, wish.max_ride)

    def _window_of(self, req: Request, ins: Insertion, r: int) -> tuple[float, float, float, float]:
        """(window start, window end, estimated pickup, estimated arrival) of an insertion.

        ``req`` is the inserted request, ``r`` its index in the prepared routes.
        """
        pickup = ins.service_start(stop_of(r, "pickup"))
        arrival = ins.service_start(stop_of(r, "dropoff"))
        latest_dropoff = None if req.latest_dropoff == np.inf else req.latest_dropoff
        wish = rules.WishWindow(
            req.earliest_pickup, req.latest_pickup, latest_dropoff, req.max_ride_time
        )
        return (*rules.offered_window(self.service, wish, pickup), pickup, arrival)

    def offer(
        self, trip: TripRequest, *, with_alternatives: bool = True, replacing: str | None = None
    ) -> OfferResult:
        """Find up to three offers for ``trip`` and hold them for ``offer_ttl_s``.

        ``with_alternatives=False`` skips the search for alternative times when nothing fits
        (simulations, whose riders do not ask again). ``replacing`` is the code of a booking
        being changed (:mod:`planner.booking.change`): the day is planned without it, and
        the offers may only replace it.

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
            raise BookingError("time", "is in the past", code="past")
        violation = self._day_violation(trip)
        if violation is not None:
            return OfferResult.refused(violation)
        if trip.passengers > max(v.seats for v in s.fleet) or trip.wheelchairs > max(
            v.wheelchair_places for v in s.fleet
        ):
            return OfferResult.refused(
                Violation("no_capacity", "no bus of the fleet has room for this party")
            )
        row = self.catalog.row
        distance = float(self.catalog.distance_m[row[trip.origin], row[trip.destination]])
        if distance < s.min_trip_m:
            meters, km = round(distance), round(s.min_trip_m / 1000, 1)
            message = f"the stops are {meters} m apart; the bus takes trips of at least {km:.1f} km"
            return OfferResult.refused(
                Violation("too_short", message, {"distance_m": meters, "min_km": km})
            )
        scheduled = self._check_timetable(trip)
        if scheduled is not None and scheduled.replaces_bus:
            first = scheduled.connections[0]
            lines = " + ".join(leg.line for leg in first.legs)
            leaves, arrives = hhmm(first.legs[0].departure_s), hhmm(first.arrival_s)
            message = (
                f"line {lines} leaves at {leaves} and arrives at {arrives}; "
                "the on-demand bus runs only where and when no scheduled line does"
            )
            params = {"lines": lines, "departure": leaves, "arrival": arrives}
            return OfferResult.refused(
                Violation("scheduled_line", message, params),
                scheduled=self._connections_json(scheduled),
            )
        result = self._offer_bus(trip, with_alternatives=with_alternatives, replacing=replacing)
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

    def _open_day(self, trip: TripRequest, replacing: str | None = None) -> OpenDay:
        """The trip's day as stored now (from memory if current), without ``replacing``."""
        with self.store.session() as session:
            if replacing is not None:
                return self.days.open_without(session, trip.day.isoformat(), {replacing})
            return self.days.open_day(session, trip.day.isoformat())

    def _with_candidates(
        self, opened: OpenDay, trip: TripRequest, candidates: Sequence[Request]
    ) -> tuple[PreparedRoutes, int]:
        """The day's routes prepared for inserting ``candidates`` (in no route yet).

        Stops in the past or the freeze horizon stay at the head of their routes. Returns
        the prepared routes and the index of the first candidate.
        """
        fixed_before = self.now_s(trip.day) + rules.FREEZE_S
        prepared = opened.prepared.with_requests(candidates).holding(fixed_before)
        return prepared, opened.instance.num_requests

    @staticmethod
    def _judged_start(trip: TripRequest, request: Request) -> float:
        """The pickup time the booking rules judge for a candidate request.

        The window's start for pickup-at, the latest pickup for arrive-by.
        """
        return request.earliest_pickup if trip.kind == "pickup" else request.latest_pickup

    def _offer_bus(
        self, trip: TripRequest, *, with_alternatives: bool, replacing: str | None = None
    ) -> OfferResult:
        """Up to three on-demand offers for ``trip`` (see :meth:`offer`)."""
        s = self.service
        shifts = rules.PICKUP_SHIFTS_MIN if trip.kind == "pickup" else rules.ARRIVAL_SHIFTS_MIN
        day = trip.day.isoformat()
        candidates = [self._candidate(trip, f"offer-{k}", m * 60) for k, m in enumerate(shifts)]
        opened = self._open_day(trip, replacing)
        prepared, base = self._with_candidates(opened, trip, candidates)
        found: list[tuple[int, Insertion, tuple[float, float, float, float]]] = []
        first_violation = None
        for k, req in enumerate(candidates):
            violation = self._rule_violation(trip, self._judged_start(trip, req))
            if violation:
                first_violation = first_violation or violation
                continue
            insertion = best_insertion(prepared, base + k)
            if insertion is not None:
                window = self._window_of(req, insertion, base + k)
                if self._rule_violation(trip, window[0]) is None:
                    found.append((k, insertion, window))
            if len(found) == rules.MAX_OFFERS:
                break
        held: dict[str, list[list[Any]]] = {}  # routes a repair re-planned, by vehicle id
        if not found and first_violation is None:
            found, held = self._repaired(trip, opened, candidates[0], prepared, base)
        if not found:
            why = first_violation or Violation(
                "fully_booked", "no bus can take this trip near the wished time"
            )
            alternatives = self.alternatives(trip, opened=opened) if with_alternatives else ()
            return OfferResult.refused(why, alternatives=alternatives)
        expires = self.clock() + timedelta(seconds=s.offer_ttl_s)
        fare = self.fare(trip.origin, trip.destination, trip.passengers + trip.wheelchairs)
        views: list[OfferView] = []
        with self.store.session() as session:
            for k, ins, (w0, w1, pickup, arrival) in found:
                req = candidates[k]
                latest_dropoff = None if trip.kind == "pickup" else req.latest_dropoff
                view = OfferView(
                    id=secrets.token_urlsafe(16),
                    vehicle_id=opened.instance.vehicles[ins.vehicle].id,
                    window_start_s=w0,
                    window_end_s=w1,
                    est_pickup_s=pickup,
                    est_arrival_s=arrival,
                    expires_at=expires,
                    shift_s=rules.wish_shift_s(trip.kind, trip.time_s, w0, latest_dropoff),
                    fare=fare,
                )
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
                            "latest_dropoff": latest_dropoff,
                            "max_ride": req.max_ride_time,
                            "vehicle": view.vehicle_id,
                            "est_pickup": pickup,
                            "est_arrival": arrival,
                            "connection": self._feeder_json(trip.connection),
                            "replaces": replacing,
                            "routes": held,
                        },
                    )
                )
                views.append(view)
        return OfferResult(tuple(views))

    def _repaired(
        self,
        trip: TripRequest,
        opened: OpenDay,
        wish: Request,
        prepared: PreparedRoutes,
        r: int,
    ) -> tuple[
        list[tuple[int, Insertion, tuple[float, float, float, float]]], dict[str, list[list[Any]]]
    ]:
        """The wished window by re-planning the day around it, where no insertion fits.

        ``wish`` is the candidate at the wish (request ``r`` of ``prepared``; the requests
        before it are those of the ``opened`` day). Within
        ``booking.repair_ms`` the other bookings move within their promises to make room
        (:func:`planner.darp.insertion.repair_insertion`). Returns the offer and the changed
        routes by vehicle id, each stop as ``[booking code, kind]`` (``None`` for the new
        rider), which the offer holds for its confirmation (:meth:`place_offer`).
        """
        repair = self._repair(prepared, r, trip, shared_full=opened.repair_full)
        if repair is None:
            return [], {}
        instance = opened.instance
        window = self._window_of(wish, repair.insertion, r)
        if self._rule_violation(trip, window[0]) is not None:
            return [], {}
        held = {
            instance.vehicles[v].id: [
                [None if request_of(s) == r else instance.requests[request_of(s)].id, kind_of(s)]
                for s in stops
            ]
            for v, stops in repair.routes.items()
        }
        return [(0, repair.insertion, window)], held

    def _repair(
        self, prepared: PreparedRoutes, r: int, trip: TripRequest, *, shared_full: bool
    ) -> Repair | None:
        """Room for request ``r`` by re-planning the day, within ``booking.repair_ms``.

        Not on a day that is full (:class:`~planner.booking.repair_gate.RepairGate`);
        ``shared_full`` is the judgement last stored by any process, read with the day.
        """
        day = trip.day.isoformat()
        if self.service.repair_s <= 0:
            return None
        self.repairs.adopt(day, full=shared_full)  # what other processes learnt of the day
        if not self.repairs.worth_trying(day):
            return None
        seed = zlib.crc32(f"{trip.origin}:{trip.destination}:{trip.kind}:{trip.time_s}".encode())
        found = repair_insertion(
            prepared,
            r,
            self.service.objective,
            time_limit=self.service.repair_s,
            seed=seed,
            moves=self.service.repair_moves,
        )
        if self.repairs.record(day, placed=found is not None):
            with self.store.maintaining() as session:  # no plan moves: no day lock
                session.execute(
                    update(ServiceDay)
                    .where(ServiceDay.day == day)
                    .values(repair_full=self.repairs.is_full(day))
                )
        return found

    @staticmethod
    def _held_repair(
        instance: Instance,
        prepared: PreparedRoutes,
        r: int,
        held: dict[str, list[list[Any]]] | None,
    ) -> Repair | None:
        """The routes an offer's repair re-planned, if they still fit the day as it is now.

        ``held`` is the offer's routes by vehicle id, each stop ``[booking code, kind]``
        (``None`` for the new rider); ``instance`` holds the day's requests, request ``r``
        (the new rider) last. None if a booking or bus is gone or the routes no longer fit
        (:func:`planner.darp.insertion.held_repair`): the day moved on since the offer.
        """
        if not held:
            return None
        vehicle_of = {vehicle.id: v for v, vehicle in enumerate(instance.vehicles)}
        rider = instance.requests[r].id
        try:
            changes = {
                vehicle_of[vehicle_id]: tuple(
                    stop_of_ref(instance, (rider if code is None else code, kind), "routes")
                    for code, kind in visits
                )
                for vehicle_id, visits in held.items()
            }
        except (KeyError, InvalidPlanError):  # a bus or booking of the offer is gone
            return None
        return held_repair(prepared, r, changes)

    def _feeder_json(self, feeder: Feeder | None) -> dict[str, Any] | None:
        return None if feeder is None else feeder.to_json(self.catalog.name(feeder.stop))

    def alternatives(
        self, trip: TripRequest, *, limit: int = 3, opened: OpenDay | None = None
    ) -> tuple[str, ...]:
        """Wish times nearest ``trip.time_s`` (15-minute steps, up to 3 h away) that fit.

        ``opened`` is the day as the refused offer saw it (one look at the day for both).
        """
        steps = range(15, rules.ALTERNATIVE_RANGE_MIN + 1, 15)
        shifts = [m for step in steps for m in (step, -step)]
        tried = [
            (m, req)
            for m in shifts
            if 0 <= trip.time_s + m * 60 < 24 * 3600
            and (req := self._candidate(trip, f"alt-{m}", m * 60))
            and not self._rule_violation(trip, self._judged_start(trip, req))
        ]
        opened = opened or self._open_day(trip)
        prepared, base = self._with_candidates(opened, trip, [req for _, req in tried])
        out = []
        for k, (m, _) in enumerate(tried):
            if best_insertion(prepared, base + k) is not None:
                out.append(hhmm(trip.time_s + m * 60))
                if len(out) == limit:
                    break
        return tuple(out)

    # -- confirm, cancel, no-show -----------------------------------------------------------

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
        notify: Notify | None = None,
    ) -> list[dict[str, Any]]:
        """Turn an offer (and optionally a linked return offer) into confirmed bookings.

        ``notify`` is what the rider opted into (:mod:`planner.notify`; default: nothing).

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
        offers: list[Offer] = []
        with self.store.session() as session:
            for oid in offer_ids:
                found = session.get(Offer, oid)
                if found is None:
                    raise NotFoundError("offer_id", f"no offer {oid!r}")
                offers.append(found)
        created: list[Booking] = []
        # a linked return may be on another day: hold the lock of every day written
        with self.store.writing_days(o.day for o in offers) as (session, locks):
            for offer in offers:
                lock = locks[offer.day]
                created.append(
                    self._confirm_one(
                        session, lock, offer.id, name, phone, note, created_by, standing_id
                    )
                )
            for booking in created:  # both trips of a return are told
                opted = notify or Notify()
                booking.notify_email, booking.notify_sms = opted.email, opted.sms
                booking.language = opted.language
            if len(created) == 2:
                created[0].linked_code, created[1].linked_code = created[1].code, created[0].code
        return [booking_json(b) for b in created]

    def _confirm_one(
        self,
        session: Session,
        lock: ServiceDay,
        offer_id: str,
        name: str,
        phone: str,
        note: str,
        created_by: str,
        standing_id: int | None,
    ) -> Booking:
        """Book one offer inside the caller's write transaction (see :meth:`confirm`)."""
        offer = self.usable_offer(session, offer_id)
        if offer.payload.get("replaces"):  # an offer to change a booking books nothing new
            msg = "this offer changes a booking; confirm it as the change"
            raise ConflictError("offer_id", msg, code="offer_is_change")
        code = new_code(session)
        state = self.days.for_write(session, lock, [self.offered_request(code, offer)])
        booking = Booking(
            code=code,
            status="confirmed",
            **self.place_offer(state, offer),
            name=name,
            phone=phone,
            note=note,
            created_by=created_by,
            standing_id=standing_id,
        )
        session.add(booking)
        offer.used = True
        self.days.save_plan(session, lock, state, f"booking {code}")
        session.flush()
        return booking

    def usable_offer(self, session: Session, offer_id: str) -> Offer:
        """The offer ``offer_id``, if it may still be booked (inside a write transaction).

        Raises
        ------
        NotFoundError
            If there is no such offer.
        ConflictError
            If it was used or has expired.
        """
        offer = session.get(Offer, offer_id)
        if offer is None:
            raise NotFoundError("offer_id", f"no offer {offer_id!r}")
        if offer.used:
            raise ConflictError("offer_id", "this offer was already used", code="offer_used")
        expires = offer.expires_at
        if expires.tzinfo is None:  # SQLite returns naive UTC
            expires = expires.replace(tzinfo=self.clock().tzinfo or ZoneInfo("UTC"))
        if self.clock() > expires:
            msg = "this offer has expired; please ask for a new one"
            raise ConflictError("offer_id", msg, code="offer_expired")
        return offer

    def offered_request(self, code: str, offer: Offer) -> Request:
        """The model's request of an offer, as booking ``code``."""
        p = offer.payload
        trip = self._offered_trip(offer)
        return self.days.request(code, trip, tuple(p["window"]), p["latest_dropoff"], p["max_ride"])

    @staticmethod
    def _offered_trip(offer: Offer) -> TripRequest:
        p = offer.payload
        return TripRequest(
            date.fromisoformat(offer.day),
            p["origin"],
            p["destination"],
            p["kind"],
            p["wish_s"],
            p["passengers"],
            p["wheelchairs"],
        )

    def place_offer(self, state: DayState, offer: Offer) -> dict[str, Any]:
        """Insert the offer's request (the last of ``state``) into its day's routes.

        The offered bus is kept if it still fits, so that what the rider was told holds.
        Returns the booking's trip fields (the columns of :class:`Booking` the offer sets).

        Raises
        ------
        ConflictError
            If the offer no longer fits the day.
        """
        p = offer.payload
        day = date.fromisoformat(offer.day)
        r = state.instance.num_requests - 1
        prepared = self._prepare(state, day)
        offered = next(
            (v for v, bus in enumerate(state.instance.vehicles) if bus.id == p["vehicle"]), None
        )
        ins = None if offered is None else best_insertion(prepared, r, vehicle=offered)
        ins = ins or best_insertion(prepared, r)
        trip = self._offered_trip(offer)
        if ins is None and (
            repair := self._held_repair(state.instance, prepared, r, p.get("routes"))
        ):
            for vehicle, stops in repair.routes.items():  # others moved within their promises
                state.set_route(vehicle, stops)
            ins = repair.insertion
        if ins is None:
            msg = "this offer is no longer available; please ask again"
            raise ConflictError("offer_id", msg, code="offer_taken")
        state.set_route(ins.vehicle, ins.stops)
        return {
            "day": offer.day,
            "origin_node": trip.origin,
            "origin_name": self.catalog.name(trip.origin),
            "destination_node": trip.destination,
            "destination_name": self.catalog.name(trip.destination),
            "passengers": trip.passengers,
            "wheelchairs": trip.wheelchairs,
            "wish_kind": trip.kind,
            "wish_s": trip.time_s,
            "window_start_s": p["window"][0],
            "window_end_s": p["window"][1],
            "latest_dropoff_s": p["latest_dropoff"],
            "max_ride_s": p["max_ride"],
            "direct_s": state.instance.direct_time(state.instance.requests[r]),
            "est_pickup_s": ins.service_start(stop_of(r, "pickup")),
            "est_arrival_s": ins.service_start(stop_of(r, "dropoff")),
            "vehicle_id": state.instance.vehicles[ins.vehicle].id,
            "connection": p.get("connection"),
        }

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
        shift = rules.wish_shift_s(p["kind"], p["wish_s"], p["window"][0], p["latest_dropoff"])
        people = p["passengers"] + p["wheelchairs"]
        return {
            "offer_id": offer.id,
            "date": offer.day,
            "wish": {"kind": p["kind"], "time": hhmm(p["wish_s"])},
            "shift_min": round(shift / 60),
            "origin": self.catalog.describe(p["origin"]),
            "destination": self.catalog.describe(p["destination"]),
            "passengers": people,  # everyone, as riders count
            "wheelchairs": p["wheelchairs"],
            "pickup_window": [hhmm(p["window"][0]), hhmm(p["window"][1])],
            "estimated_pickup": hhmm(p["est_pickup"]) if "est_pickup" in p else None,
            "estimated_arrival": hhmm(p["est_arrival"]) if "est_arrival" in p else None,
            "vehicle": p["vehicle"],
            "used": offer.used,
            **fare_json(self.fare(p["origin"], p["destination"], people)),
        }

    def booking(self, code: str) -> Booking:
        """The booking with this code.

        Raises
        ------
        NotFoundError
            If there is none.
        """
        with self.store.session() as session:
            found = find_booking(session, code)
        if found is None:
            raise NotFoundError("code", f"no booking {code!r}")
        return found

    def _end_booking(self, code: str, status: str) -> dict[str, Any]:
        day = self.booking(code).day
        with self.store.writing(day) as (session, lock):
            b = find_booking(session, code)
            if b is None:  # deleted since self.booking() found it
                raise NotFoundError("code", f"no booking {code!r}")
            require_confirmed(b)
            if status == "no_show" and not self.may_mark_no_show(b):
                raise ConflictError(
                    "code",
                    f"the pickup window of {b.code} starts at {hhmm(b.window_start_s)}; "
                    "a no-show can be recorded only from then",
                    code="no_show_too_early",
                    params={"time": hhmm(b.window_start_s)},
                )
            b.status = status
            b.updated_at = utcnow()
            session.flush()
            state = self.days.load(session, day)
            self.days.save_plan(session, lock, state, f"{status} {b.code}")
            return booking_json(b)

    def may_mark_no_show(self, booking: Booking) -> bool:
        """Whether the rider's pickup window has started (see :func:`rules.no_show_allowed`)."""
        now = self.now_s(date.fromisoformat(booking.day))
        return rules.no_show_allowed(booking.window_start_s, now)

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
            state = self.days.load(session, day.isoformat())
            bookings = self.days.bookings(session, state.day)
            version = current_plan(session, state.day)
        plan = state.plan()
        return build_day_plan(
            day,
            plan,
            bookings,
            version=version.version if version else 0,
            kpis=(version.kpis if version else None) or self.days.kpis(state.instance, plan),
            describe=self.catalog.describe,
            may_mark_no_show=self.may_mark_no_show,
            node_of=self.catalog.nodes,
        )

    def kpis(self, day: date) -> dict[str, Any]:
        """The KPIs of the day's current plan."""
        with self.store.session() as session:
            state = self.days.load(session, day.isoformat())
        return self.days.kpis(state.instance, state.plan())

    def validate_day(self, day: date) -> list[str]:
        """Run the independent validator on the stored plan of ``day``; return problems."""
        with self.store.session() as session:
            state = self.days.load(session, day.isoformat())
        plan = state.plan()
        problems = [str(v) for v in validate(state.instance, plan)]
        problems += [f"booking {r.request_id} is not served" for r in plan.rejected]
        return problems

    def optimize(
        self,
        day: date,
        *,
        time_limit: float = 10.0,
        moves: int = 0,
        preview: bool = False,
    ) -> dict[str, Any]:
        """Re-plan ``day``, keeping every promise (see :func:`reoptimize.optimize`).

        ``preview`` stores no plan but keeps the candidate (:func:`reoptimize.preview`);
        ``moves`` is a budget of moves, capped by ``time_limit`` (0: the clock alone).
        """
        if preview:
            return reoptimize.preview(self, day, time_limit=time_limit)
        return reoptimize.optimize(self, day, time_limit=time_limit, moves=moves)

    def accept_proposal(self, day: date, proposal_id: str) -> dict[str, Any]:
        """Store a previewed plan if the day is unchanged (:func:`reoptimize.accept`)."""
        return reoptimize.accept(self, day, proposal_id)

    def discard_proposal(self, day: date, proposal_id: str) -> dict[str, Any]:
        """Throw a previewed plan away (:func:`reoptimize.discard`)."""
        return reoptimize.discard(self, day, proposal_id)

    def change_offer(self, code: str, trip: TripRequest) -> OfferResult:
        """Offers for booking ``code`` changed to ``trip`` (see :func:`change.change_offer`)."""
        return change.change_offer(self, code, trip)

    def confirm_change(self, code: str, offer_id: str, *, by: str) -> dict[str, Any]:
        """Change booking ``code`` to an offer's trip (see :func:`change.confirm_change`)."""
        return change.confirm_change(self, code, offer_id, by=by)

    def add_standing(self, trip: TripRequest, **kwargs: Any) -> dict[str, Any]:
        """Book ``trip`` on chosen weekdays (see :func:`standing.add_standing`)."""
        return standing.add_standing(self, trip, **kwargs)
