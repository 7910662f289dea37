"""The report of a scenario batch and the comparison of batches, as pages and as a file.

The app shows a batch's report at ``/dispatch/analysis/<name>/`` in the reader's language;
``rufbus scenarios run`` writes the same page as ``report.html`` (with the app's style sheet
inside) in the language of ``--lang``. The charts are drawn once per language at the run
(``figures/<lang>/``), so the page only reads files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from flask import Flask, render_template, session

from planner.errors import NotFoundError
from planner.scenarios.compare import Comparison, read_kpis
from planner.scenarios.report import (
    DAY_CHARTS,
    SHARES,
    SWEEP_CHARTS,
    TABLE_KPIS,
    Chart,
    format_kpi,
    label,
    mean_revenue_cents,
    representative_day,
    run_label,
    swept_columns,
    write_figures,
)
from web.i18n import LANGUAGES, gettext, init_app
from web.messages import revenue_text

WEB = Path(__file__).resolve().parent
#: A name is a batch only if it is one plain folder name (no path tricks).
_PLAIN = frozenset("/\\")


@dataclass(frozen=True)
class Cell:
    """One value of a comparison.

    Attributes
    ----------
    text
        The value.
    difference
        Its difference to the first batch ("" for the first batch itself).
    better
        Whether the difference is an improvement (None: nothing to mark).
    """

    text: str
    difference: str = ""
    better: bool | None = None


def batch_folder(root: Path, name: str) -> Path:
    """The folder of the batch ``name`` under ``root``.

    Raises
    ------
    NotFoundError
        If ``name`` is not a folder of ``root`` with a KPI table.
    """
    folder = root / name
    if (
        not name
        or _PLAIN & set(name)
        or name.startswith(".")
        or not (folder / "kpis.csv").is_file()
    ):
        raise NotFoundError("batch", gettext("Kein Szenario-Lauf „%(name)s“.") % {"name": name})
    return folder


def batch_names(root: Path) -> list[str]:
    """The batches under ``root`` (folders with a KPI table), newest first."""
    if not root.is_dir():
        return []
    folders = [p for p in root.iterdir() if (p / "kpis.csv").is_file()]
    return [p.name for p in sorted(folders, key=lambda p: p.stat().st_mtime, reverse=True)]


def figure(folder: Path, chart: Chart, lang: str) -> str | None:
    """Where the report finds ``chart`` (relative to the report), or None if it was not drawn.

    Batches made before the charts were drawn per language have them in ``figures/``.
    """
    for src in (f"figures/{lang}/{chart.file}", f"figures/{chart.file}"):
        if (folder / src).is_file():
            return src
    return None


def report_context(folder: Path, lang: str) -> dict[str, Any]:
    """What the report template shows of the batch in ``folder``, in language ``lang``."""
    table = read_kpis(folder)
    finished = table[table["status"] == "ok"]
    errors = table[table["status"] == "error"]
    day = representative_day(table, folder)
    charts = [
        (src, c.caption) for c in (*SWEEP_CHARTS, *DAY_CHARTS) if (src := figure(folder, c, lang))
    ]
    columns = [*swept_columns(table), "seed", *[k for k in TABLE_KPIS if k in table]]
    rows = [[format_kpi(c, row[c]) for c in columns] for _, row in finished.iterrows()]
    return {
        "title": str(table["scenario"].iloc[0])
        if "scenario" in table and len(table)
        else folder.name,
        "runs": len(table),
        "finished": len(finished),
        "failed": len(errors),
        "typical": run_label(day[0], table, gettext) if day else None,
        "day": day[1].day if day else None,
        "charts": charts,
        "headers": [label(c, gettext) for c in columns],
        "rows": rows,
        "errors": [(row["run"], row["error"]) for _, row in errors.iterrows()],
        "revenue": revenue_text(mean_revenue_cents(table)),
    }


def _renderer() -> Flask:
    """A bare app with the templates and the catalogue, to render pages outside a request."""
    app = Flask(__name__, template_folder=str(WEB / "templates"))
    app.secret_key = "report"  # the session only carries the language here
    init_app(app)
    return app


def write_report(
    table: pd.DataFrame, out_dir: Path, *, boundary_file: Path, lang: str = "de"
) -> Path:
    """Draw the charts in every language and write ``report.html`` in ``lang``.

    Returns the report's path.
    """
    app = _renderer()
    css = (WEB / "static" / "rufbus.css").read_text(encoding="utf-8")
    for each in LANGUAGES:
        with app.test_request_context():
            session["lang"] = each
            write_figures(table, out_dir, boundary_file=boundary_file, lang=each, _=gettext)
    with app.test_request_context():
        session["lang"] = lang
        page = render_template(
            "dispatch/report_file.html", css=css, **report_context(out_dir, lang)
        )
    path = out_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


def format_difference(kpi: str, change: float) -> str:
    """A difference with its sign; shares in percentage points."""
    sign = "+" if change > 0 else "−" if change < 0 else "±"
    if kpi in SHARES:
        return gettext("%(sign)s%(points)s Prozentpunkte") % {
            "sign": sign,
            "points": f"{100 * abs(change):.0f}",
        }
    return sign + format_kpi(kpi, round(abs(change), 2))


def comparison_table(result: Comparison) -> dict[str, Any]:
    """Headers and cells of a comparison for the page, differences marked per KPI."""
    keys = list(result.summary.index.names)
    kpis = list(result.summary.columns)
    rows = []
    for index, values in result.summary.iterrows():
        index = index if isinstance(index, tuple) else (index,)
        changes = result.differences.loc[index if len(index) > 1 else index[0]]
        cells = [Cell(str(v)) for v in index]
        for kpi in kpis:
            change = changes[kpi]
            if pd.isna(change):
                cells.append(Cell(format_kpi(kpi, values[kpi])))
                continue
            better = None if change == 0 else bool(change > 0) == result.higher_is_better[kpi]
            text = format_kpi(kpi, values[kpi])
            cells.append(Cell(text, format_difference(kpi, change), better))
        rows.append(cells)
    return {"headers": [label(str(k), gettext) for k in keys + kpis], "rows": rows}
