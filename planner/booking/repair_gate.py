"""When the repair at offer time is worth a rider's wait: not on a day that is full.

The repair (:func:`planner.darp.insertion.repair_insertion`) re-plans the day around a wish
that no gap fits, for up to ``booking.repair_ms``. Early in a day it often finds room; once
the day is full it almost never does, and then every refused wish waits the whole budget
for nothing. On a simulated day of 2,000 requests on 40 buses, 1,021 repairs placed 4
riders and cost 51 s, and a full day's offer p95 went from 10 ms to 71 ms.

So the gate works like a circuit breaker, per day: after ``trip_after`` repairs in a row
found no room, the day counts as full, and only every ``probe_every``-th refused wish is
repaired (a probe); the first probe that finds room opens the day to every wish again.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

#: Repairs in a row without room, after which a day counts as full. A day where one repair
#: in ten finds room trips only by chance (0.9^20 = 12 % per 20 wishes).
TRIP_AFTER = 20
#: On a full day, every how many refused wishes one is still repaired: fewer than 5 % of
#: a full day's offers then wait for a repair, so they leave the offers' p95 alone.
PROBE_EVERY = 25


@dataclass
class RepairGate:
    """Counts, per service day, the repairs in a row that found no room (thread-safe)."""

    trip_after: int = TRIP_AFTER
    probe_every: int = PROBE_EVERY
    _misses: dict[str, int] = field(default_factory=dict)
    _skipped: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def worth_trying(self, day: str) -> bool:
        """Whether to repair a wish on ``day`` that no gap fits."""
        with self._lock:
            if self._misses.get(day, 0) < self.trip_after:
                return True
            skipped = self._skipped.get(day, 0) + 1
            self._skipped[day] = skipped
            return skipped % self.probe_every == 0

    def record(self, day: str, *, placed: bool) -> None:
        """Tell the gate whether a repair on ``day`` found room."""
        with self._lock:
            if placed:
                self._misses.pop(day, None)
                self._skipped.pop(day, None)
            else:
                self._misses[day] = self._misses.get(day, 0) + 1

    def is_full(self, day: str) -> bool:
        """Whether ``day`` counts as full (only probes are repaired)."""
        with self._lock:
            return self._misses.get(day, 0) >= self.trip_after
