"""Errors raised by the planner: bad instances, bad files, bad parameters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class PlannerError(ValueError):
    """Base class: something the caller gave is not acceptable.

    Parameters
    ----------
    field
        Name of the offending field (``"requests[3].pickup"``, ``"line 4"``...).
    reason
        What is wrong with it, in plain (English) words, for the API and the logs.
    code
        A machine-readable reason (``"past"``, ``"too_many_people"``...), or None.
    params
        The values the reason names (``{"max": 8}``), so that pages can say it in the
        reader's language (:mod:`web.messages`).
    """

    def __init__(
        self,
        field: str,
        reason: str,
        *,
        code: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        self.field = field
        self.reason = reason
        self.code = code
        self.params = dict(params or {})
        super().__init__(f"{field}: {reason}")


class InvalidInstanceError(PlannerError):
    """An :class:`~planner.darp.model.Instance`, request or vehicle is inconsistent."""


class InvalidParamsError(PlannerError):
    """Solver parameters are out of range."""


class InvalidPlanError(PlannerError):
    """A plan (initial routes, locked prefix) does not fit the instance."""


class InstanceFormatError(PlannerError):
    """A benchmark file cannot be read; ``field`` names the file and line."""


class ServiceFileError(PlannerError):
    """A service definition file is invalid; ``field`` is ``FILE:KEY``."""


class BookingError(PlannerError):
    """A booking request is malformed (unknown stop, bad time, too many passengers...)."""


class UnknownStopError(BookingError):
    """No stop or several stops have the name given; ``suggestions`` are stop labels to pick.

    Parameters
    ----------
    field, reason
        As for :class:`PlannerError`.
    suggestions
        Up to five stop labels, best first; each is accepted as a stop name.
    """

    def __init__(
        self,
        field: str,
        reason: str,
        suggestions: tuple[str, ...] = (),
        *,
        code: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(field, reason, code=code, params=params)
        self.suggestions = suggestions


class NotFoundError(LookupError):
    """No booking, offer or plan with the given key."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class ConflictError(PlannerError):
    """The request is valid but cannot be done now (offer expired, booking already cancelled)."""
