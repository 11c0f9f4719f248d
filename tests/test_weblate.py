"""Weblate reads and writes this layout (issue 14, item 4; docs/weblate.md).

Weblate reads PO files with Translate Toolkit's PO storage: every catalogue of the newsroom
must come out of it with the same units, flags, contexts and comments as transflow reads, and
a catalogue saved back through it must give the same `status` counts and `check` findings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from transflow.catalog import read_catalog
from transflow.cli import main

from .newsroom import REPO, break_glossary, copy_newsroom

pypo = pytest.importorskip(
    "translate.storage.pypo",
    reason="Translate Toolkit is not installed (pip install -e '.[test]' brings it)",
)

CATALOGUES = sorted((REPO / "locales").glob("*/*.po")) + sorted(
    (REPO / "locales" / "templates").glob("*.pot"))


def _strings(value: Any) -> list[str]:
    """A Translate Toolkit multistring (or str) as its list of strings."""
    return [str(s) for s in getattr(value, "strings", [value])]


def _flags(typecomments: list[str]) -> list[str]:
    """`#, fuzzy, c-format` lines as the list of flags."""
    return [flag.strip() for line in typecomments
            for flag in line.strip().removeprefix("#,").split(",") if flag.strip()]


def ttk_units(path: Path) -> list[dict[str, Any]]:
    """What Weblate sees in a catalogue, unit by unit (the header left out)."""
    store = pypo.pofile.parsefile(str(path))
    units = []
    for u in store.units:
        if u.isheader():
            continue
        source, target = _strings(u.source), _strings(u.target)
        units.append({
            "msgctxt": u.getcontext() or None,
            "msgid": source[0],
            "msgid_plural": source[1] if len(source) > 1 else "",
            "msgstr": target if u.hasplural() else target[:1],
            "flags": _flags(u.typecomments),
            "translator": u.getnotes("translator"),
            "developer": u.getnotes("developer"),
            "locations": u.getlocations(),
            "obsolete": u.isobsolete(),
            "previous": str(u.prev_source) if u.has_previous() else None,
        })
    return units


def transflow_units(path: Path) -> list[dict[str, Any]]:
    """The same fields as transflow reads them."""
    units = []
    for e in read_catalog(path):
        if e.msgid_plural:
            msgstr = [e.msgstr_plural[i] for i in sorted(e.msgstr_plural)]
        else:
            msgstr = [e.msgstr]
        units.append({
            "msgctxt": e.msgctxt,
            "msgid": e.msgid,
            "msgid_plural": e.msgid_plural or "",
            "msgstr": msgstr,
            "flags": list(e.flags),
            "translator": e.tcomment,
            "developer": e.comment,
            "locations": [f"{f}:{n}" if n else f for f, n in e.occurrences],
            "obsolete": bool(e.obsolete),
            "previous": e.previous_msgid,
        })
    return units


def test_the_newsroom_has_catalogues_with_what_must_survive() -> None:
    assert len(CATALOGUES) == 15
    every = [u for path in CATALOGUES for u in transflow_units(path)]
    assert any("fuzzy" in u["flags"] for u in every)
    assert any(u["previous"] for u in every)
    assert any(u["developer"].count("\n") for u in every)  # element + glossary hints
    assert any(u["translator"] for u in every)


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_translate_toolkit_reads_the_same_units(path: Path) -> None:
    assert ttk_units(path) == transflow_units(path)


# What the newsroom does not have yet: contexts, plurals, obsolete entries, other flags.
FEATURES_PO = r"""msgid ""
msgstr ""
"Project-Id-Version: features\n"
"Language: ru\n"
"MIME-Version: 1.0\n"
"Content-Type: text/plain; charset=UTF-8\n"
"Content-Transfer-Encoding: 8bit\n"
"Plural-Forms: nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && "
"n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);\n"

# transflow: ignore=stepanakert
#. h2
#: source/a.html:3
msgctxt "menu"
msgid "Home"
msgstr "Главная"

#, fuzzy, python-format
#| msgctxt "old"
#| msgid "%(n)s trucks"
msgctxt "count"
msgid "%(n)s truck"
msgid_plural "%(n)s trucks"
msgstr[0] "%(n)s грузовик"
msgstr[1] "%(n)s грузовика"
msgstr[2] "%(n)s грузовиков"

#, no-wrap
msgid "A very long line that must not be wrapped by any writer at all, whatever its width is"
msgstr "Очень длинная строка"

#~ msgid "Gone"
#~ msgstr "Ушло"
"""


def test_translate_toolkit_reads_contexts_plurals_obsolete_and_flags(tmp_path: Path) -> None:
    from transflow.catalog import catalog_bytes

    path = tmp_path / "features.po"
    path.write_text(FEATURES_PO, "utf-8")
    path.write_bytes(catalog_bytes(read_catalog(path)))  # in transflow's own style
    units = transflow_units(path)
    assert [u["msgctxt"] for u in units] == ["menu", "count", None, None]
    assert units[1]["msgid_plural"] and units[3]["obsolete"]
    assert ttk_units(path) == units
    assert bytes(pypo.pofile.parsefile(str(path))) == path.read_bytes()


def _status_and_findings(root: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    runner = CliRunner()
    status = runner.invoke(main, ["-C", str(root), "status", "--json"])
    assert status.exit_code == 0, status.output
    check = runner.invoke(main, ["-C", str(root), "check", "--format", "json"])
    assert check.exit_code in (0, 1), check.output
    return json.loads(status.stdout), json.loads(check.stdout)["findings"]


def test_catalogues_saved_by_translate_toolkit_give_the_same_status_and_findings(
        tmp_path: Path) -> None:
    root = copy_newsroom(tmp_path / "newsroom")
    break_glossary(root)  # so that there is a finding to keep
    status, findings = _status_and_findings(root)
    assert any(f["check"] == "glossary" for f in findings)
    for path in sorted((root / "locales").glob("*/*.po")):
        store = pypo.pofile.parsefile(str(path))
        saved = bytes(store)  # what Weblate commits after an edit
        # Weblate's writer wraps as gettext does: saving changes no byte (no noisy diffs).
        assert saved == path.read_bytes(), path
        path.write_bytes(saved)
    status_after, findings_after = _status_and_findings(root)
    assert status_after == status
    # A finding's line may move if the writer wraps differently; nothing else may change.
    def without_line(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in f.items() if k != "line"} for f in items]

    assert without_line(findings_after) == without_line(findings)


def test_weblate_translation_round_trip_is_seen_by_transflow(tmp_path: Path) -> None:
    """A translator fills an entry and clears a fuzzy flag in Weblate: transflow counts it."""
    root = copy_newsroom(tmp_path / "newsroom")
    path = root / "locales" / "ru" / "enguri-crossing-students.po"
    before, _ = _status_and_findings(root)
    store = pypo.pofile.parsefile(str(path))
    fuzzy = next(u for u in store.units if u.isfuzzy())
    empty = next(u for u in store.units if not u.isheader() and not u.target
                 and not u.isobsolete())
    fuzzy.markfuzzy(False)
    empty.target = "Перевод из Weblate."
    path.write_bytes(bytes(store))
    after, _ = _status_and_findings(root)
    ru_before, ru_after = before["languages"]["ru"], after["languages"]["ru"]
    assert ru_after["translated"] == ru_before["translated"] + 2
    assert ru_after["fuzzy"] == ru_before["fuzzy"] - 1
    assert ru_after["untranslated"] == ru_before["untranslated"] - 1


def test_glossary_tbx_export_reads_in_translate_toolkit_per_language(tmp_path: Path) -> None:
    """Weblate's glossary upload reads TBX with Translate Toolkit, one target language at a
    time: our one multilingual export serves every language's glossary."""
    tbx = pytest.importorskip("translate.storage.tbx")
    out = tmp_path / "glossary.tbx"
    result = CliRunner().invoke(main, ["-C", str(REPO), "glossary", "export", "-o", str(out)])
    assert result.exit_code == 0, result.output
    import tomllib

    terms = tomllib.loads((REPO / "glossary.toml").read_text("utf-8"))["term"]
    for lang in ("ka", "ru"):
        with out.open("rb") as fh:
            store = tbx.tbxfile(fh, sourcelanguage="en", targetlanguage=lang)
        pairs = {(str(u.source), str(u.target)) for u in store.units}
        for term in terms:
            if lang not in term:
                continue
            source = term["en"] if isinstance(term["en"], str) else term["en"][0]
            rendering = term[lang] if isinstance(term[lang], str) else term[lang][0]
            assert (source, rendering) in pairs, (lang, term["id"])
