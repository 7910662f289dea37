"""Processes that open one store at the same moment, as ``rufbus serve`` and ``rufbus worker``
do on a first start. The child's code lives here, not in a test module, so that the spawned
processes import little."""

from __future__ import annotations

import multiprocessing
from typing import Any

from planner.store.db import open_store


def migrate_at_once(url: str, barrier: Any, answers: Any) -> None:
    """In a process of its own: wait for the others, then open (and so migrate) the store."""
    barrier.wait()
    try:
        open_store(url).close()
        answers.put("ok")
    except Exception as exc:  # the test shows what went wrong in which process
        answers.put(f"{type(exc).__name__}: {exc}")


def migrate_concurrently(url: str, processes: int) -> list[str]:
    """Open the store at ``url`` in ``processes`` processes at one moment; what each said."""
    spawn = multiprocessing.get_context("spawn")
    barrier, answers = spawn.Barrier(processes), spawn.Queue()
    workers = [spawn.Process(target=migrate_at_once, args=(url, barrier, answers))
               for _ in range(processes)]  # fmt: skip
    for w in workers:
        w.start()
    said = [answers.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(timeout=30)
    return said
