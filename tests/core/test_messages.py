"""The English catalogue keeps up with the code: every string marked for translation (gettext,
{% translate %}, {% blocktranslate %} …) has an English translation in the one catalogue
Django uses, src/civicgrid/locale.

``make messages`` regenerates the catalogue; here the same makemessages command runs on a copy
of the package, so the committed catalogue must be exactly what it produces (apart from
xgettext's POT-Creation-Date): a new string, a changed one or one moved to another file fails
until ``make messages`` is run and the new entries are translated.
"""

from __future__ import annotations

import difflib
import gettext
import os
import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test.utils import override_settings

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "civicgrid"
MAKEFILE = PACKAGE.parents[1] / "Makefile"
CATALOGUE = Path("locale/en/LC_MESSAGES/django.po")
# the `messages` target's makemessages arguments, run from src/civicgrid
MAKEMESSAGES = ["-l", "en", "--no-obsolete", "--add-location=file"]
GETTEXT_TOOLS = ("xgettext", "msgmerge", "msgattrib")


def _without_creation_date(po: str) -> str:
    return re.sub(r'^"POT-Creation-Date: .*"\n', "", po, flags=re.M)


def _unquote(lines: list[str]) -> str:
    text = "".join(line[line.index('"') + 1 : -1] for line in lines)
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m[1], m[0]), text)


def _entries(po: str) -> list[dict]:
    """The catalogue's entries: msgctxt, msgid, msgid_plural, msgstr (msgstr[n]) and flags."""
    entries = []
    for block in po.strip().split("\n\n"):
        entry: dict = {"flags": set(), "msgstr": {}}
        key = None
        fields: dict[object, list[str]] = {}
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] |= {f.strip() for f in line[2:].split(",")}
            elif line.startswith("#~"):
                raise AssertionError(f"obsolete entry left in the catalogue:\n{block}")
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                fields[key].append(line)
            else:
                name, _, rest = line.partition(" ")
                plural = re.fullmatch(r"msgstr\[(\d+)\]", name)
                key = ("msgstr", int(plural[1])) if plural else name
                fields[key] = [rest]
        for key, lines in fields.items():
            if isinstance(key, tuple):
                entry["msgstr"][key[1]] = _unquote(lines)
            elif key == "msgstr":
                entry["msgstr"][0] = _unquote(lines)
            else:
                entry[key] = _unquote(lines)
        entries.append(entry)
    return entries


def _name(entry: dict) -> str:
    return entry["msgid"] + (f" (context {entry['msgctxt']})" if "msgctxt" in entry else "")


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    """The catalogue as `make messages` would write it now: makemessages on a copy."""
    missing = [tool for tool in GETTEXT_TOOLS if not shutil.which(tool)]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found: install Debian's gettext package")
    copy = tmp_path_factory.mktemp("messages") / "civicgrid"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "var"))
    cwd = Path.cwd()
    try:  # as from src/civicgrid, with the copy's catalogue in LOCALE_PATHS
        os.chdir(copy)
        with override_settings(LOCALE_PATHS=[copy / "locale"]):
            call_command("makemessages", *MAKEMESSAGES, verbosity=0)
    finally:
        os.chdir(cwd)
    return (copy / CATALOGUE).read_text(encoding="utf-8")


def test_the_makefile_runs_the_same_command():
    recipe = MAKEFILE.read_text()
    assert "cd src/civicgrid" in recipe
    assert f"makemessages {' '.join(MAKEMESSAGES)}" in recipe


def test_one_catalogue_serves_every_app():
    """An app's own locale/ would take its strings out of the project catalogue."""
    catalogues = sorted(p for p in PACKAGE.rglob("locale") if p.is_dir())
    assert catalogues == [PACKAGE / "locale"]


def test_the_committed_catalogue_is_what_make_messages_writes(regenerated):
    committed = (PACKAGE / CATALOGUE).read_text(encoding="utf-8")
    expected, actual = _without_creation_date(regenerated), _without_creation_date(committed)
    diff = "".join(
        difflib.unified_diff(
            actual.splitlines(keepends=True),
            expected.splitlines(keepends=True),
            "committed django.po",
            "makemessages now",
        )
    )
    assert not diff, f"the catalogue is out of date: run `make messages` and translate\n{diff}"


def test_every_marked_string_has_an_english_translation(regenerated):
    entries = [e for e in _entries(regenerated) if e["msgid"]]  # not the header
    assert len(entries) > 300
    fuzzy = [_name(e) for e in entries if "fuzzy" in e["flags"]]
    untranslated = [_name(e) for e in entries if not all(e["msgstr"].values())]
    assert not fuzzy, f"fuzzy entries (check the translation, then drop the flag): {fuzzy}"
    assert not untranslated, f"strings without English: {untranslated}"


def test_the_compiled_catalogue_matches_the_po_file():
    """django.mo is what Django reads: compilemessages must have run after the last edit."""
    with open(PACKAGE / CATALOGUE.with_suffix(".mo"), "rb") as fp:
        compiled = gettext.GNUTranslations(fp)._catalog
    compiled.pop("")  # the header, which msgfmt rewrites
    expected = {}
    for e in _entries((PACKAGE / CATALOGUE).read_text(encoding="utf-8")):
        msgid = e["msgid"] if "msgctxt" not in e else f"{e['msgctxt']}\x04{e['msgid']}"
        if not e["msgid"] or "fuzzy" in e["flags"]:
            continue  # the header; msgfmt leaves fuzzy entries out
        if "msgid_plural" in e:
            expected |= {(msgid, n): s for n, s in e["msgstr"].items()}
        elif e["msgstr"][0]:
            expected[msgid] = e["msgstr"][0]
    assert compiled == expected, "run `make messages` (compilemessages) after editing django.po"
