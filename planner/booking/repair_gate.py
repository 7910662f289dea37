"""When the repair at offer time is worth a rider's wait: not on a day that is full.

The repair (:func:`planner.darp.insertion.repair_insertion`) re-plans the day around a wish
that no gap fits, for up to ``booking.repair_ms``. Early in a day it often finds room; once
the day is full it almost never does, and then every refused wish waits the whole budget
for nothing. On a simulated day of 2,000 requests on 40 buses, 1,021 repairs placed 4
riders and cost 51 s, and a full day's offer p95 went from 10 ms to 71 ms.

So the gate judges each day by its last ``window`` repairs: while at least ``min_placed``
of them found room, every refused wish is repaired. Below that the day counts as full, and
only every ``probe_every``-th refused wish is repaired (a probe); the probes' outcomes enter
the count, so a day where room opens up again (cancellations, a re-optimisation) is noticed.

The bar is low on purpose: a placed rider is worth many others' 50 ms. A gate that asked
for one repair in ten to find room cost 43 of 526 riders on the online 1,000/30 day of
``benchmarks/bench_online.py``, where late repairs still found room one time in ten to
twenty.

A process learns a day's repairs itself, but whether a day counts as full is also stored
with the day (``service_days.repair_full``, written only when it flips), so that a server
process started on a full day, or each of several worker processes, does not first make 40
riders wait for repairs that find nothing. Every offer reads the stored judgement with the
day's version, and the gate adopts it when it has changed (:meth:`adopt`): a flip by
another process is seen at the next offer.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

#: The last repairs of a day its success is judged on.
WINDOW = 40
#: Of them, how many must have found room for every refused wish to be repaired: a day
#: counts as full only when 40 repairs in a row found none.
MIN_PLACED = 1
#: On a full day, every how many refused wishes one is still repaired: fewer than 5 % of
#: a full day's offers then wait for a repair, so they leave the offers' p95 alone.
PROBE_EVERY = 25


@dataclass
class RepairGate:
    """The recent repairs per service day, and whether the next is worth it (thread-safe)."""

    window: int = WINDOW
    min_placed: int = MIN_PLACED
    probe_every: int = PROBE_EVERY
    _recent: dict[str, deque[bool]] = field(default_factory=dict)
    _skipped: dict[str, int] = field(default_factory=dict)
    _stored: dict[str, bool] = field(default_factory=dict)  # the judgement last seen stored
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def worth_trying(self, day: str) -> bool:
        """Whether to repair a wish on ``day`` that no gap fits."""
        with self._lock:
            if not self._full(day):
                return True
            skipped = self._skipped.get(day, 0) + 1
            self._skipped[day] = skipped
            return skipped % self.probe_every == 0

    def adopt(self, day: str, *, full: bool) -> None:
        """Take the stored judgement of ``day`` if this gate has none, or if it flipped.

        The stored one is the last flip any process wrote: a day another process found
        full counts as full here too (as if 40 repairs had found nothing), and a day where
        its probe found room is judged afresh. Only a change of the stored value counts, so
        an offer that read the day just before this process's own flip was written does not
        undo that flip (the flip is seen as a change when it is read back, and agrees).
        """
        with self._lock:
            if day in self._recent and self._stored.get(day) == full:
                return
            self._stored[day] = full
            if day not in self._recent or self._full(day) != full:
                self._recent[day] = deque([False] * self.window if full else [], maxlen=self.window)

    def record(self, day: str, *, placed: bool) -> bool:
        """Tell the gate whether a repair on ``day`` found room.

        Returns whether that changed whether the day counts as full; the caller then stores
        the new judgement.
        """
        with self._lock:
            was_full = self._full(day)
            self._recent.setdefault(day, deque(maxlen=self.window)).append(placed)
            return self._full(day) != was_full

    def is_full(self, day: str) -> bool:
        """Whether ``day`` counts as full (only probes are repaired)."""
        with self._lock:
            return self._full(day)

    def _full(self, day: str) -> bool:
        recent = self._recent.get(day)
        return recent is not None and len(recent) == self.window and sum(recent) < self.min_placed
