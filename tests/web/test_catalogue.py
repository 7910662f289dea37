"""Every text a person reads exists in German and English: the catalogue covers every
message of the templates and of the Python views."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from jinja2 import Environment
from jinja2.ext import extract_from_ast

from planner.scenarios import report
from web.i18n import ENGLISH
from web.messages import MESSAGES

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
                and node.func.id in ("_", "gettext")
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
    missing = {m: where for m, where in messages.items() if m not in ENGLISH}
    assert missing == {}


def test_placeholders_survive_translation() -> None:
    placeholder = re.compile(r"%\(\w+\)s|\{\w+\}")
    for german, english in ENGLISH.items():
        assert sorted(placeholder.findall(german)) == sorted(placeholder.findall(english))
