"""Booking: trip requests, offers, confirmations, the wire format, key figures, privacy."""
