"""A vehicle's tasks: the stops of its plan, each with what the journal says is done.

What the events say happened at each stop is read by the one reading the live state uses
(:func:`planner.live.state.happened`): booking events belong to the stop of their booking;
arrivals and departures, which name only a stop, go to the next run of consecutive tasks at
that stop (one halt) that has none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from planner.booking.views import PlanStop, VehicleDay
from planner.live.events import VehicleEvent
from planner.live.state import happened
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
    refs = [(s.code, s.kind, s.stop.id) for s in vehicle.stops]
    tasks = []
    for k, (stop, h) in enumerate(zip(vehicle.stops, happened(refs, events), strict=True)):
        done: dict[str, float | None] = dict.fromkeys(DONE_KINDS)
        done["arrived"], done["departed"] = h.arrived_s, h.departed_s
        if h.outcome is not None:
            done[h.outcome] = h.outcome_s
        tasks.append(Task(k, stop, done))
    return tasks
