"""The service's booking rules as pure functions.

They say which wishes may be offered, the window a wish asks for, the window an offer
promises, and when a no-show may be recorded.

Every time is in seconds of the service day (:mod:`planner.service_time`); ``now_s`` is
"now" on the trip's day, negative before that day starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from planner.booking.trip import WishKind
from planner.service import Service
from planner.timefmt import hhmm

#: Stops scheduled to start within this time from now cannot be moved or preceded.
FREEZE_S = 10 * 60

#: Shifts of the wish tried for offers, nearest first (pickup-at may move both ways,
#: arrive-by only earlier), and how far alternatives are searched.
PICKUP_SHIFTS_MIN = (0, 15, -15, 30, -30)
ARRIVAL_SHIFTS_MIN = (0, -15, -30)
ALTERNATIVE_RANGE_MIN = 180
MAX_OFFERS = 3
#: A suggested pickup time (the phone booking's default) is a multiple of this.
SUGGEST_STEP_S = 5 * 60


@dataclass(frozen=True, slots=True)
class Violation:
    """Why no offer is made: a reason code, an English message and the values it names.

    ``reason`` and ``message`` are the API's; pages say it in the reader's language from
    ``reason`` and ``params`` (:mod:`web.messages`).
    """

    reason: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WishWindow:
    """What a wish (moved by a shift) asks of the plan.

    That is the pickup window, the latest drop-off (arrive-by only) and the ride-time promise.
    """

    earliest_pickup: float
    latest_pickup: float
    latest_dropoff: float | None
    max_ride: float


def day_violation(service: Service, day: date, today: date) -> Violation | None:
    """The booking horizon, checked before anything costly is done for the day."""
    horizon = service.horizon_days
    if day < today or day > today + timedelta(days=horizon):
        message = f"rides can be booked from today up to {horizon} days ahead"
        return Violation("horizon", message, {"days": horizon})
    return None


def rule_violation(service: Service, window_start: float, now_s: float) -> Violation | None:
    """The booking rule a pickup at ``window_start`` breaks, booked at ``now_s``."""
    s = service
    if window_start < s.first_pickup_s or window_start > s.last_dropoff_s:
        first, last = hhmm(s.first_pickup_s), hhmm(s.last_dropoff_s)
        message = f"the bus runs from {first} to {last}"
        return Violation("outside_hours", message, {"first": first, "last": last})
    if window_start - now_s < s.min_lead_s:
        minutes = s.min_lead_s // 60
        return Violation(
            "lead_time", f"book at least {minutes} minutes ahead", {"minutes": minutes}
        )
    if window_start >= s.night_from_s and now_s > s.night_deadline_s:
        night, deadline = hhmm(s.night_from_s), hhmm(s.night_deadline_s)
        message = f"trips from {night} must be booked by {deadline} the same day"
        return Violation("night_deadline", message, {"from": night, "deadline": deadline})
    return None


def wish_window(
    service: Service, kind: WishKind, wish_s: float, direct_s: float, shift_s: float = 0
) -> WishWindow:
    """The window a wish moved by ``shift_s`` asks for.

    Pickup-at: a window of the service's width from the wished time. Arrive-by: any pickup
    that can still arrive by the deadline within the ride-time promise.
    """
    max_ride = service.max_ride_s(direct_s)
    if kind == "pickup":
        start = wish_s + shift_s
        return WishWindow(start, start + service.window_s, None, max_ride)
    deadline = wish_s + shift_s
    latest = deadline - direct_s - service.boarding_s
    earliest = deadline - max_ride - 2 * service.boarding_s
    return WishWindow(max(0.0, earliest), latest, deadline, max_ride)


def offered_window(service: Service, wish: WishWindow, pickup_s: float) -> tuple[float, float]:
    """The pickup window an offer promises, given the planned pickup.

    Pickup-at keeps the wished window. Arrive-by promises a window of the usual width that
    starts at the planned pickup (rounded down to the minute), within the latest pickup.
    """
    if wish.latest_dropoff is None:
        return wish.earliest_pickup, wish.latest_pickup
    start = 60 * (pickup_s // 60)
    end = min(start + service.window_s, wish.latest_pickup)
    return start, max(end, pickup_s)


def wish_shift_s(
    kind: WishKind, wish_s: float, window_start_s: float, latest_dropoff_s: float | None
) -> float:
    """How far an offer (or booking) is from the rider's wish; negative is earlier.

    Pickup-at: the promised window's start minus the wished time. Arrive-by: the latest
    arrival promised minus the wished one (offers for arrive-by move the deadline).
    """
    if kind == "arrival" and latest_dropoff_s is not None:
        return latest_dropoff_s - wish_s
    return window_start_s - wish_s


def no_show_allowed(window_start_s: float, now_s: float) -> bool:
    """Whether a no-show may be recorded: only once the pickup window has started.

    Before that, nobody can have missed the bus.
    """
    return now_s >= window_start_s


def next_bookable(service: Service, today: date, now_s: float) -> tuple[date, int]:
    """The earliest pickup a booking made now may ask for: the phone booking's default.

    Now plus the minimum lead, rounded up to :data:`SUGGEST_STEP_S`, not before the first
    pickup; if the rules refuse that today (too late, or a night trip past its deadline),
    the first pickup of the next day.
    """
    step = SUGGEST_STEP_S
    start = max(int(-(-(now_s + service.min_lead_s) // step) * step), service.first_pickup_s)
    if rule_violation(service, start, now_s) is None:
        return today, start
    return today + timedelta(days=1), service.first_pickup_s
