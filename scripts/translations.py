"""The interface catalogues: extract, update, compile and check (CONTRIBUTING.md, Translations).

    python scripts/translations.py extract   # lms/translations/messages.pot from the code
    python scripts/translations.py update    # merge the .pot into every language's .po
    python scripts/translations.py compile   # .po -> .mo (committed, so pip installs work)
    python scripts/translations.py check     # fails if the .pot is stale or a msgstr is missing
    python scripts/translations.py init de   # start a new language

Runs pybabel (from Babel, a dependency of Flask-Babel) with the options below, so every
contributor produces the same files.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "babel.cfg"
FOLDER = ROOT / "lms" / "translations"
TEMPLATE = FOLDER / "messages.pot"
KEYWORDS = ["_", "_l", "gettext", "lazy_gettext", "ngettext:1,2", "lazy_ngettext:1,2"]


def _pybabel(*args: str) -> None:
    if CommandLineInterface().run(["pybabel", "--quiet", *args]):
        raise SystemExit(f"pybabel {args[0]} failed")


def extract(output: Path = TEMPLATE) -> None:
    keywords = [arg for word in KEYWORDS for arg in ("-k", word)]
    # No line numbers or dates: the catalogue changes only when a message does.
    _pybabel("extract", "-F", str(CONFIG), "--no-default-keywords", *keywords,
             "--no-location", "--omit-header", "--sort-output", "--project", "lms",
             "--width", "100", "-o", str(output), ".")


def languages() -> list[str]:
    return sorted(p.parent.parent.name for p in FOLDER.glob("*/LC_MESSAGES/messages.po"))


def update() -> None:
    _pybabel("update", "-i", str(TEMPLATE), "-d", str(FOLDER), "--no-wrap",
             "--ignore-obsolete")


def compile_all() -> None:
    _pybabel("compile", "-d", str(FOLDER), "--statistics")


def init(language: str) -> None:
    _pybabel("init", "-i", str(TEMPLATE), "-d", str(FOLDER), "-l", language, "--no-wrap")


def _ids(path: Path) -> set:
    with path.open("rb") as handle:
        return {message.id for message in read_po(handle) if message.id}


def problems() -> list[str]:
    """Everything that makes the catalogues out of date, as lines to print."""
    found: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        fresh = Path(folder) / "messages.pot"
        extract(fresh)
        new, old = _ids(fresh), _ids(TEMPLATE) if TEMPLATE.exists() else set()
    for msgid in sorted(new - old, key=str):
        found.append(f"messages.pot lacks: {msgid!r}")
    for msgid in sorted(old - new, key=str):
        found.append(f"messages.pot has a message no longer in the code: {msgid!r}")
    for language in languages():
        path = FOLDER / language / "LC_MESSAGES" / "messages.po"
        with path.open("rb") as handle:
            catalogue = read_po(handle)
        ids = set()
        for message in catalogue:
            if not message.id:
                continue
            ids.add(message.id)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if message.fuzzy:
                found.append(f"{language}: fuzzy: {message.id!r}")
            elif not all(strings):
                found.append(f"{language}: untranslated: {message.id!r}")
        for msgid in sorted(new - ids, key=str):
            found.append(f"{language}: missing: {msgid!r}")
        if _compiled(path) != _translated(catalogue):
            found.append(f"{language}: messages.mo differs from messages.po: compile")
    return found


def _translated(catalogue) -> dict:
    return {_plain(message.id): _plain(message.string) for message in catalogue
            if message.id and not message.fuzzy and message.string}


def _plain(value):  # a .mo gives plural forms as lists, a .po as tuples
    return tuple(value) if isinstance(value, (list, tuple)) else value


def _compiled(po: Path) -> dict:
    mo = po.with_suffix(".mo")
    if not mo.exists():
        return {}
    with mo.open("rb") as handle:
        return _translated(read_mo(handle))


def check() -> int:
    found = problems()
    for line in found:
        print(line)
    if found:
        print(f"{len(found)} problem(s): run extract, update, translate, compile "
              "(CONTRIBUTING.md, Translations)")
        return 1
    print("catalogues are up to date")
    return 0


def main(argv: list[str]) -> int:
    os.chdir(ROOT)  # babel.cfg's patterns are relative to the checkout
    commands = {"extract": extract, "update": update, "compile": compile_all}
    if len(argv) == 1 and argv[0] in commands:
        commands[argv[0]]()
        return 0
    if argv == ["check"]:
        return check()
    if len(argv) == 2 and argv[0] == "init":
        init(argv[1])
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
