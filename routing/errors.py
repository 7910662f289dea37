"""Errors of the routing package: each names the field (or file) and the reason."""

from __future__ import annotations


class RoutingError(ValueError):
    """Bad input to a routing function.

    Parameters
    ----------
    field
        The argument, attribute or input that is wrong.
    reason
        Why it is wrong, in words a user can act on.
    """

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class DataMissingError(LookupError):
    """A data file Rufbus needs is not where the settings say it is."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class SnapError(RoutingError):
    """A point cannot be snapped to the network (outside the area or too far away)."""


class NoRouteError(RoutingError):
    """Two nodes of the network are not connected."""
