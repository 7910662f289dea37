"""The ``rufbus`` command: one click group that gathers each package's commands."""

from __future__ import annotations

import logging

import click

from planner.cli import bench
from routing.cli import graph, route


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
def main(verbose: bool) -> None:
    """Rufbus: planner for rural on-demand buses in the Salzlandkreis."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


main.add_command(graph)
main.add_command(route)
main.add_command(bench)
