"""Command-line interface of the planner: ``rufbus bench``."""

from __future__ import annotations

import click


@click.group()
def bench() -> None:
    """Solve public benchmark instances and compare with best-known costs."""
