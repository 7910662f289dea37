"""The one place that turns seconds after midnight into clock text and back.

Inside the planner every time of a service day is a number of seconds after local midnight.
Text appears only at the edges: ``HH:MM`` in the API, pages, CSV files and service files,
GTFS ``H:MM:SS`` in feeds. (:func:`routing.sources.gtfs.parse_gtfs_time` reads whole GTFS
columns at once; ``routing`` does not import the planner.)
"""

from __future__ import annotations

import re
from typing import Any

from planner.errors import PlannerError, ServiceFileError

#: Seconds of a day; ``24:00`` is the latest ``HH:MM`` accepted (the end of a shift).
DAY_S = 24 * 3600

# ASCII digits only: str.isdigit() and \d also admit '²' or '٣', which int() refuses or reads
_HHMM = re.compile(r"([0-9]{1,2}):([0-9]{2})")
_HHMMSS = re.compile(r"([0-9]{1,3}):([0-9]{2}):([0-9]{2})")


def hhmm(seconds: float) -> str:
    """Seconds after midnight as ``HH:MM`` (rounded down to the minute).

    Examples
    --------
    >>> hhmm(8 * 3600 + 10 * 60 + 59)
    '08:10'
    """
    minutes = int(seconds // 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_hhmm(text: Any, *, field: str) -> int:
    """Parse ``"HH:MM"`` (``00:00`` to ``24:00``) into seconds after midnight.

    Parameters
    ----------
    text
        The value as given (anything; only a string of that form is accepted).
    field
        Named in the error.

    Returns
    -------
    seconds
        Seconds after midnight, a whole number of minutes.

    Raises
    ------
    ServiceFileError
        Naming ``field``: not ``HH:MM``, minutes of 60 or more, or after ``24:00``.
    """
    match = _HHMM.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ServiceFileError(field, f"expected a time 'HH:MM', got {text!r}")
    hours, minutes = match.groups()
    seconds = int(hours) * 3600 + int(minutes) * 60
    if int(minutes) >= 60 or seconds > DAY_S:
        raise ServiceFileError(field, f"{text!r} is not a time of day")
    return seconds


def hhmmss(seconds: float) -> str:
    """Seconds after midnight as GTFS ``HH:MM:SS`` (hours may pass 24)."""
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def parse_hhmmss(text: Any, *, field: str) -> int:
    """Parse GTFS ``H:MM:SS`` (hours may pass 24) into seconds after midnight.

    Raises
    ------
    PlannerError
        Naming ``field`` if the text is not of that form.
    """
    match = _HHMMSS.fullmatch(text) if isinstance(text, str) else None
    if match is None or int(match[2]) >= 60 or int(match[3]) >= 60:
        raise PlannerError(field, f"expected a GTFS time 'H:MM:SS', got {text!r}")
    hours, minutes, seconds = (int(x) for x in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def whole_minute(seconds: float) -> int:
    """``seconds`` rounded down to the minute, as :func:`hhmm` shows it."""
    return int(seconds // 60) * 60
