"""The gettext catalogues of the pages (German source, English translation).

``en/LC_MESSAGES/messages.po`` is the one place where a German text gets its English
translation; translators edit it with standard tools (Poedit, Weblate, ``pybabel``). The
compiled ``messages.mo`` is not in the repository: :func:`compiled_directory` compiles it
when it is missing or older than the ``.po``, and ``make translations`` re-extracts every
message from the code (``babel.cfg``), updates and compiles the catalogue.

Adding German->English pairs without the extraction tools::

    python -m web.translations add pairs.py            # a block of "de": "en", lines
    python -m web.translations add --rev BRANCH        # the ENGLISH dict of BRANCH's web/i18n.py
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_python
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

#: The folder of the catalogues (``<lang>/LC_MESSAGES/messages.po``).
HERE = Path(__file__).resolve().parent
#: The English catalogue: msgid German, msgstr English.
PO = HERE / "en" / "LC_MESSAGES" / "messages.po"
#: Where the compiled catalogues go when the package folder is read-only.
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "rufbus" / "translations"

PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}")


def read_catalogue(po: Path = PO) -> Catalog:
    """The catalogue of ``po``."""
    with po.open("rb") as handle:
        return read_po(handle, locale="en")


def write_catalogue(catalogue: Catalog, po: Path = PO) -> None:
    """Write ``catalogue`` to ``po`` (wrapped at 100 characters, like the code)."""
    with po.open("wb") as handle:
        write_po(handle, catalogue, width=100)


def english(po: Path = PO) -> dict[str, str]:
    """Every translated German text of ``po`` and its English (fuzzy entries left out)."""
    return {
        str(m.id): str(m.string)
        for m in read_catalogue(po)
        if m.id and m.string and not m.fuzzy and isinstance(m.id, str)
    }


def add(pairs: Mapping[str, str], po: Path = PO, *, overwrite: bool = False) -> list[str]:
    """Add German->English ``pairs`` to ``po``.

    A German text already in the catalogue keeps its English unless ``overwrite``.

    Returns
    -------
    conflicts
        The German texts whose English in ``pairs`` differs from the catalogue's.

    Raises
    ------
    ValueError
        If an English text lacks a placeholder of its German text or adds one.
    """
    catalogue = read_catalogue(po)
    conflicts = []
    for german, english_text in pairs.items():
        if sorted(PLACEHOLDER.findall(german)) != sorted(PLACEHOLDER.findall(english_text)):
            raise ValueError(f"placeholders differ: {german!r} -> {english_text!r}")
        known = catalogue.get(german)
        if known is not None and known.string and known.string != english_text:
            conflicts.append(german)
            if not overwrite:
                continue
        flags = ("python-format",) if "%(" in german else ()
        catalogue.add(german, english_text, flags=flags)  # replaces, and drops "fuzzy"
    write_catalogue(catalogue, po)
    return conflicts


def pairs_from_source(source: str) -> dict[str, str]:
    """The German->English pairs of Python ``source``.

    ``source`` is a file with an ``ENGLISH = {...}`` dict (web/i18n.py before the move to
    gettext catalogues) or a bare block of ``"German": "English",`` lines.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        tree = ast.parse("{\n" + source + "\n}")
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign | ast.Assign) and isinstance(node.value, ast.Dict):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "ENGLISH" for t in targets):
                return ast.literal_eval(node.value)
    if isinstance(tree.body[0], ast.Expr) and isinstance(tree.body[0].value, ast.Dict):
        return ast.literal_eval(tree.body[0].value)
    raise ValueError("no ENGLISH dict and no block of pairs found")


def compiled_directory() -> Path:
    """The folder of up-to-date compiled catalogues (``<lang>/LC_MESSAGES/messages.mo``).

    The ``.mo`` files are compiled next to their ``.po`` if that folder is writable (a
    checkout), else into :data:`CACHE` (an installed, read-only package). Either way only
    when missing or older than the ``.po``, so the pages never run on a stale catalogue.
    """
    pos = sorted(HERE.glob("*/LC_MESSAGES/messages.po"))
    target = HERE if all(os.access(po.parent, os.W_OK) for po in pos) else CACHE
    for po in pos:
        mo = target / po.relative_to(HERE).with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            compile_catalogue(po, mo)
    return target


def compile_catalogue(po: Path, mo: Path) -> None:
    """Compile ``po`` into ``mo`` (written to a temporary file first: servers may race)."""
    mo.parent.mkdir(parents=True, exist_ok=True)
    with po.open("rb") as handle:
        catalogue = read_po(handle)
    partial = mo.with_suffix(f".{os.getpid()}.tmp")
    with partial.open("wb") as handle:
        write_mo(handle, catalogue)
    partial.replace(mo)


def extract_messages_module(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[Any, ...]]:
    """Babel extractor for web/messages.py: its ``_()`` calls and its :data:`MESSAGES`.

    The refusals and errors are said by code from dicts of German texts, which the plain
    Python extractor cannot see (``babel.cfg`` names this function).
    """
    from web.messages import MESSAGES  # noqa: PLC0415 - only when extracting

    # (line, function, message, comments), as Babel's extractors yield them
    yield from extract_python(fileobj, keywords, comment_tags, options)
    for text in MESSAGES:
        yield 0, "_", text, []


def main(argv: list[str] | None = None) -> int:
    """``python -m web.translations add [--overwrite] (FILE | --rev REV)``."""
    import argparse  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="python -m web.translations")
    commands = parser.add_subparsers(dest="command", required=True)
    adding = commands.add_parser("add", help="add German->English pairs to the .po")
    source = adding.add_mutually_exclusive_group(required=True)
    source.add_argument("file", nargs="?", type=Path, help='a block of "de": "en", lines')
    source.add_argument("--rev", help="a git revision whose web/i18n.py has an ENGLISH dict")
    adding.add_argument("--overwrite", action="store_true", help="replace differing English")
    commands.add_parser("compile", help="compile the .po files (as the app does at start)")
    args = parser.parse_args(argv)
    if args.command == "compile":
        print(compiled_directory())
        return 0
    if args.rev:
        text = subprocess.run(
            ["git", "show", f"{args.rev}:web/i18n.py"], check=True, capture_output=True, text=True
        ).stdout
    else:
        text = args.file.read_text(encoding="utf-8")
    pairs = pairs_from_source(text)
    conflicts = add(pairs, overwrite=args.overwrite)
    print(f"{len(pairs)} pairs read, {len(conflicts)} differing English")
    for german in conflicts:
        print(f"  {'replaced' if args.overwrite else 'kept'}: {german!r}")
    return 0
