"""CSV files that are safe to open in a spreadsheet (OWASP "CSV injection").

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a
formula by Excel and LibreOffice, so a rider named ``=HYPERLINK(...)`` could run a formula
on a dispatcher's machine. Every CSV meant for people goes through this module, which puts
a single quote before such text cells. Numbers stay numbers. Machine formats that must stay
exact (the GTFS tables) do not use it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value``, with a leading single quote if it is text that starts like a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A CSV document (RFC 4180 line ends) of ``header`` and ``rows``, every cell made safe."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(h) for h in header])
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return out.getvalue()


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells are made safe (for ``DataFrame.to_csv``)."""
    out = frame.copy()
    for column in frame.select_dtypes(include=["object", "string"]).columns:
        out[column] = frame[column].map(safe_cell)
    return out
