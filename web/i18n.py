"""German by default, English on request: Flask-Babel with gettext catalogues.

German is the source language: every message in the code is German (the msgid), and
``web/translations/en/LC_MESSAGES/messages.po`` gives its English (the msgstr). A message
without an English entry shows in German. ``tests/web/test_catalogue.py`` checks that the
catalogue covers every message of the templates, the Python views and :mod:`web.messages`,
and ``tests/web/test_language.py`` renders every page in both languages and fails on any
text of the other language.

Which language a request reads (:func:`current_language`): the language switch (the
session's ``lang``) wins, then the browser's ``Accept-Language`` (the better of German and
English), then German. Dates and numbers follow the language's conventions (Babel's
``de_DE`` and ``en_GB``: "Mittwoch, 2. Dezember 2026", "Wednesday, 2 December 2026").

How to add a message
--------------------
1. Write it in German in the code: ``_("Fahrt buchen")`` in Python (``from web.i18n
   import gettext as _``) and in templates. Values go in as named placeholders, never by
   f-string: ``_("Abholung um %(time)s Uhr") % {"time": t}`` (or ``_(..., time=t)``). A
   German text kept in a constant and translated later is marked ``N_("...")``; refusals and
   errors said by code live in :mod:`web.messages` (its ``MESSAGES`` are extracted too).
2. Give it its English, either with the standard tools (``make translations`` extracts
   every message into ``messages.pot`` and updates the ``.po``; then fill the empty
   ``msgstr`` with any PO editor) or without them::

       python -m web.translations add pairs.py     # a block of "German": "English", lines
       python -m web.translations add --rev BRANCH # the old ENGLISH dict of BRANCH's i18n.py

3. Nothing to compile by hand: the app compiles the ``.mo`` at start when it is missing or
   older than the ``.po`` (:func:`web.translations.compiled_directory`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import babel.dates
import babel.numbers
import flask_babel
from flask import Flask, has_request_context, request, session

from planner.timefmt import hhmm
from web import translations

LANGUAGES = ("de", "en")
#: The Babel locale of each language: its dates and numbers. British English writes dates
#: day first and times on the 24-hour clock, as the German original does.
LOCALES = {"de": "de_DE", "en": "en_GB"}

#: The catalogue's German->English pairs, read-only, for tests that compare the languages
#: (the catalogue itself is the ``.po`` file; add messages as the module docstring says).
ENGLISH: dict[str, str] = translations.english()


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    """Mark a German ``message`` for the catalogue; it is translated where it is shown."""
    return message


def gettext(message: str, **variables: Any) -> str:
    """Translate a German ``message`` into the request's language.

    With ``variables``, the ``%(name)s`` placeholders are filled (else the text is returned
    as it is, so ``_("...") % {...}`` works as well).
    """
    return flask_babel.gettext(message, **variables)


def chosen_language() -> str:
    """The language the request asks for: the switch, then ``Accept-Language``, then German."""
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    return request.accept_languages.best_match(LANGUAGES, default="de") or "de"


def current_language() -> str:
    """The language of the text being made: ``"de"`` or ``"en"``.

    That of the request (:func:`chosen_language`), or the one a block forced
    (``flask_babel.force_locale``, as the API does); German outside a request.
    """
    if not has_request_context():
        return "de"
    locale = flask_babel.get_locale()
    return locale.language if locale is not None and locale.language in LANGUAGES else "de"


def api_language() -> str | None:
    """The language of the API's ``message``, or None without ``Accept-Language``.

    The header's better of German and English (English if it names neither).

    Without the header the API answers as it always has (English words for developers);
    its machine-readable codes never change with the language.
    """
    if "Accept-Language" not in request.headers:
        return None
    return request.accept_languages.best_match(LANGUAGES, default="en") or "en"


@contextmanager
def forced_language(lang: str) -> Iterator[None]:
    """Make the messages of the block in ``lang`` (``"de"`` or ``"en"``)."""
    with flask_babel.force_locale(LOCALES[lang]):
        yield


def _locale() -> str:
    # Flask-Babel also asks outside requests (in an app context): German then
    return LOCALES[chosen_language() if has_request_context() else "de"]


def format_day(day: date | str) -> str:
    """A date as people read it, always with the weekday.

    For example "Mittwoch, 2. Dezember 2026" ("Wednesday, 2 December 2026").
    """
    if isinstance(day, str):
        day = date.fromisoformat(day)
    return babel.dates.format_date(day, format="full", locale=LOCALES[current_language()])


def format_number(value: Any) -> str:
    """A number as the reader writes it: ``1,5`` and ``1.200`` in German, ``1.5`` in English.

    At most one decimal; other values as they are.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    locale = LOCALES[current_language()]
    return babel.numbers.format_decimal(value, format="#,##0.#", locale=locale)


def init_app(app: Flask) -> None:
    """Set up Flask-Babel; give every template ``_``, the language and the filters.

    Templates get :func:`gettext` as ``_`` rather than Jinja's "newstyle" gettext, which
    would apply ``%`` to every message and break the ``_("...") % {...}`` of the pages.
    """
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(translations.compiled_directory())
    app.config.setdefault("BABEL_DEFAULT_LOCALE", LOCALES["de"])
    flask_babel.Babel(app, locale_selector=_locale)
    app.jinja_env.globals.update(_=gettext, current_language=current_language)
    app.jinja_env.filters["day"] = format_day
    app.jinja_env.filters["hhmm"] = hhmm
    app.jinja_env.filters["number"] = format_number
