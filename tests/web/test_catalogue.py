"""Every text a person reads exists in German and English: the gettext catalogue
(web/translations/en/LC_MESSAGES/messages.po) covers every message of the templates, of the
Python views and of web/messages.py, and ``make translations`` can extract them all."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest
from babel.support import Translations
from jinja2 import Environment
from jinja2.ext import extract_from_ast

from planner.scenarios import report
from web.messages import MESSAGES
from web.translations import (
    PO,
    add,
    compile_catalogue,
    compiled_directory,
    english,
    pairs_from_source,
)

WEB = Path(__file__).resolve().parents[2] / "web"


def template_messages() -> dict[str, str]:
    env = Environment()
    found = {}
    for path in sorted((WEB / "templates").rglob("*.html")):
        tree = env.parse(path.read_text(encoding="utf-8"))
        for _line, _function, message in extract_from_ast(tree, gettext_functions=("_",)):
            if isinstance(message, str):
                found[message] = path.name
    return found


def python_messages() -> dict[str, str]:
    found = {}
    # the scenario report's charts are drawn in the planner, in the reader's language
    for path in [*sorted(WEB.glob("*.py")), Path(report.__file__)]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("_", "gettext", "N_")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found[node.args[0].value] = path.name
    return found


def test_every_message_has_an_english_translation() -> None:
    said = dict.fromkeys(MESSAGES, "messages.py")  # refusals and errors said by code
    charts = (*report.SWEEP_CHARTS, *report.DAY_CHARTS)
    texts = [*report.LABELS.values(), *report.CHART_TITLES.values(), *(c.caption for c in charts)]
    said |= dict.fromkeys(texts, "report.py")
    messages = {**template_messages(), **python_messages(), **said}
    assert len(messages) > 100  # the extraction found the pages' texts
    catalogue = english()  # fuzzy entries (guesses of pybabel update) do not count
    missing = {m: where for m, where in messages.items() if m not in catalogue}
    assert missing == {}


def test_placeholders_survive_translation() -> None:
    placeholder = re.compile(r"%\(\w+\)s|\{\w+\}")
    for german, english_text in english().items():
        assert sorted(placeholder.findall(german)) == sorted(placeholder.findall(english_text))


def test_no_message_hides_in_an_f_string() -> None:
    """pybabel cannot see a ``_()`` inside an f-string: ``make translations`` would drop it."""
    hidden = []
    for path in sorted(WEB.glob("*.py")):
        for string in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(string, ast.JoinedStr):
                hidden += [
                    f"{path.name}:{node.lineno}"
                    for node in ast.walk(string)
                    if isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in ("_", "gettext")
                ]
    assert hidden == []


def test_the_app_runs_on_a_fresh_compiled_catalogue() -> None:
    # the .mo is not in the repository: the app compiles it when missing or older than the .po
    mo = compiled_directory() / "en" / "LC_MESSAGES" / "messages.mo"
    assert mo.stat().st_mtime >= PO.stat().st_mtime
    with mo.open("rb") as handle:
        assert Translations(handle).gettext("Fahrt buchen") == "Book a ride"


def test_a_block_of_pairs_goes_into_the_catalogue(tmp_path: Path) -> None:
    po = tmp_path / "messages.po"
    shutil.copy(PO, po)
    block = """
    # --- helper
    "Neue Seite": "New page",
    "Abholung um %(time)s Uhr": (
        "Pickup at %(time)s"
    ),
    "Fahrt buchen": "Book a trip",
    """
    conflicts = add(pairs_from_source(block), po)
    assert conflicts == ["Fahrt buchen"]  # kept as it was: the catalogue may have been edited
    assert english(po)["Neue Seite"] == "New page"
    assert english(po)["Abholung um %(time)s Uhr"] == "Pickup at %(time)s"
    assert english(po)["Fahrt buchen"] == "Book a ride"
    with pytest.raises(ValueError, match="placeholders"):
        add({"Abholung um %(time)s Uhr": "Pickup"}, po)
    mo = tmp_path / "messages.mo"
    compile_catalogue(po, mo)
    with mo.open("rb") as handle:
        assert Translations(handle).gettext("Neue Seite") == "New page"
