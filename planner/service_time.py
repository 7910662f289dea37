"""Seconds of the service day: the one convention for times inside a day.

Every time inside a service day (wishes, windows, schedules, shifts, "now") is the
wall-clock reading in the service's time zone, as seconds after local midnight: 08:00 is
28,800 on every day of the year, also on the two days a year the clocks change. Riders and
timetables speak wall-clock time, so the engine does too; elapsed time since midnight would
put "now" an hour off on daylight-saving days (23 h and 25 h days).

The price is the hour the clocks repeat in autumn (02:00-03:00 happens twice): there a
reading is ambiguous and :func:`local_datetime` takes the first one. No bus runs then.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def service_seconds(moment: datetime, day: date, tz: ZoneInfo) -> float:
    """The wall-clock seconds of ``moment`` counted from local midnight of ``day``.

    Parameters
    ----------
    moment
        A timezone-aware instant (e.g. now).
    day
        The service day.
    tz
        The service's time zone.

    Returns
    -------
    seconds
        Negative before ``day`` starts, above 86,400 after it ends; whole days are
        counted as 86,400 s each, so that the value compares with wish times.
    """
    if moment.tzinfo is None:
        raise ValueError("moment: must be timezone-aware")
    wall = moment.astimezone(tz).replace(tzinfo=None)
    return (wall - datetime.combine(day, time(0))).total_seconds()


def local_datetime(day: date, seconds: float, tz: ZoneInfo) -> datetime:
    """The aware local date-time that a clock in ``tz`` shows at ``seconds`` of ``day``.

    A wall-clock time the spring change skips (02:30 on the last Sunday of March) maps
    to the instant an hour later, as :mod:`zoneinfo` does.
    """
    wall = datetime.combine(day, time(0)) + timedelta(seconds=seconds)
    return wall.replace(tzinfo=tz)
