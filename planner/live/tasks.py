"""A vehicle's tasks: the stops of its plan, each with what the journal says is done.

Booking events (boarded, no-show, dropped off) belong to the stop of their booking. Stop
events (arrived, departed) name only a stop, and a bus may call at one stop several times a
day, so they are matched to *visits* (runs of consecutive tasks at the same stop) in driving
order: an arrival goes to the next visit at that stop that has none, a departure to the
visit the bus arrived at last (or, if it never reported arriving, the next one at that stop).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from planner.booking.views import PlanStop, VehicleDay
from planner.live.events import BOOKING_KINDS, STOP_KINDS, VehicleEvent
from planner.timefmt import hhmm

#: The done-flags of a task, in the order the API shows them.
DONE_KINDS = ("arrived", "departed", "boarded", "no_show", "dropped_off")


@dataclass(frozen=True, slots=True)
class Task:
    """One stop of the vehicle's plan and when each of its steps was reported done.

    Attributes
    ----------
    seq
        The stop's position in the vehicle's day (0 first).
    stop
        The planned stop.
    done
        Seconds of the service day of each of :data:`DONE_KINDS` that the journal has, the
        others None.
    """

    seq: int
    stop: PlanStop
    done: dict[str, float | None]

    def to_json(self) -> dict[str, Any]:
        """The stop as :meth:`PlanStop.to_json` gives it, with ``seq`` and ``done`` (HH:MM)."""
        done = {k: None if t is None else hhmm(t) for k, t in self.done.items()}
        return {"seq": self.seq, **self.stop.to_json(), "done": done}


def vehicle_tasks(vehicle: VehicleDay | None, events: Sequence[VehicleEvent]) -> list[Task]:
    """The tasks of ``vehicle`` (None: it does not drive) marked from its ``events``.

    ``events`` are the vehicle's events of the day in time order
    (:func:`planner.live.journal.events_of`).
    """
    if vehicle is None:
        return []
    stops = vehicle.stops
    done = [dict.fromkeys(DONE_KINDS) for _ in stops]
    # visits: (stop id, first task, last task), in driving order
    visits: list[tuple[int, int, int]] = []
    for k, s in enumerate(stops):
        if visits and visits[-1][0] == s.stop.id:
            visits[-1] = (s.stop.id, visits[-1][1], k)
        else:
            visits.append((s.stop.id, k, k))
    visit_times: list[dict[str, float]] = [{} for _ in visits]
    last_arrival: int | None = None
    for e in events:
        if e.kind in BOOKING_KINDS:
            for k, s in enumerate(stops):
                if s.code == e.booking and _step_of(s, e.kind):
                    done[k][e.kind] = e.at_s
        elif e.kind in STOP_KINDS:
            at = [v for v, visit in enumerate(visits) if visit[0] == e.stop_node]
            if e.kind == "arrived":
                v = next((v for v in at if "arrived" not in visit_times[v]), None)
                last_arrival = v if v is not None else last_arrival
            else:
                current = last_arrival if last_arrival in at else None
                v = current if current is not None else next(
                    (v for v in at if "departed" not in visit_times[v]), None
                )  # fmt: skip
            if v is not None:
                visit_times[v].setdefault(e.kind, e.at_s)
    for (_, first, last), times in zip(visits, visit_times, strict=True):
        for k in range(first, last + 1):
            done[k].update({kind: t for kind, t in times.items()})
    return [Task(k, s, d) for k, (s, d) in enumerate(zip(stops, done, strict=True))]


def _step_of(stop: PlanStop, kind: str) -> bool:
    """Whether a booking event of ``kind`` is done at ``stop`` (pickup or drop-off)."""
    return (kind == "dropped_off") == (stop.kind == "dropoff")
