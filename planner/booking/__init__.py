"""Booking: riders' trips, offers, confirmations and the day's plan, keeping every promise.

The public API; the modules hold the parts (:mod:`~planner.booking.trip`,
:mod:`~planner.booking.rules`, :mod:`~planner.booking.day`, :mod:`~planner.booking.engine`,
:mod:`~planner.booking.reoptimize`, :mod:`~planner.booking.standing`).
"""

from planner.booking.engine import BookingEngine, OfferResult, booking_json
from planner.booking.trip import TripRequest, check_contact, parse_trip_request, trip_request

__all__ = [
    "BookingEngine",
    "OfferResult",
    "TripRequest",
    "booking_json",
    "check_contact",
    "parse_trip_request",
    "trip_request",
]
