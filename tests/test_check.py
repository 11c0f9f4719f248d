"""The checks (glossary, markup, numbers, untranslated-copy, whitespace, plurals), check's
catalogue reading (`pofile.parse_entries`) against polib and msgfmt, and `transflow check`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import polib
import pytest
from click.testing import CliRunner

from transflow.catalog import read_catalog
from transflow.check import (
    check_catalog,
    check_catalog_glossary,
    check_project,
    copy_problems,
    format_problems,
    number_problems,
    read_entries,
    whitespace_problems,
)
from transflow.cli import main
from transflow.errors import CatalogError
from transflow.glossary import Glossary
from transflow.project import read_project

from .conftest import corpus_po_files, needs_corpus, needs_gettext

ALL = {"glossary": "error", "markup": "error", "numbers": "warning",
       "untranslated-copy": "warning", "whitespace": "warning", "plurals": "error"}


@pytest.mark.parametrize(
    ("msgid", "msgstr", "missing"),
    [
        ("1,000 people", "1 000 человек", []),
        ("1,000 people", "1000 человек", []),
        ("1,000 people", "1\u00a0000 человек", []),
        ("1.5 km", "1,5 км", []),
        ("1,500 km", "1,5 тыс. км", []),  # 1,500 may be 1.5 where a comma is decimal
        ("1,500 km", "150 км", ["1,500"]),
        ("12,345,678", "12 345 678", []),
        ("In 2023, 40 died", "В 2023 году погибли 40 человек", []),
        ("In 2023, 40 died", "В 2023 году погибли сорок человек", ["40"]),
        ("Read <a1>this</a1> and <br1/>that", "Читайте <a1>это</a1> и <br1/>то", []),
        ("Call 112", "Позвоните по номеру 911", ["112"]),
        ("The 21st century", "XXI век", ["21"]),
        ("Up 3.5%", "Рост на 3,5 %", []),
        ("%1$s has %2$d files", "у %1$s %2$d файлов", []),
        ("No numbers", "Без чисел 5", []),
        ('<a href="/2024/05/x">Link</a>', "<a1>Ссылка</a1>", []),
    ],
)
def test_numbers(msgid: str, msgstr: str, missing: list[str]) -> None:
    assert number_problems(msgid, msgstr) == [
        f"number {n} of the source is missing from the translation" for n in missing]


def test_untranslated_copy() -> None:
    assert copy_problems("Protesters gathered outside parliament.",
                         "Protesters gathered outside parliament.")
    assert not copy_problems("OC Media", "OC Media")
    assert not copy_problems("%(class_name)s %(instance)s", "%(class_name)s %(instance)s")
    assert not copy_problems("{count} {unit_name} left", "{count} {unit_name} left")
    assert not copy_problems("Protesters gathered.", "Протестующие собрались.")
    assert not copy_problems("<a1>EU</a1> and <em1>UN</em1>", "<a1>EU</a1> and <em1>UN</em1>")


def test_whitespace() -> None:
    assert whitespace_problems(" a", "b") == ["leading whitespace differs from the source"]
    assert whitespace_problems("a\n", "b") == ["trailing whitespace differs from the source"]
    assert whitespace_problems("a b", "a  b") == ["double space in the translation"]
    assert whitespace_problems("a  b", "a  b") == []
    assert whitespace_problems("a", "b") == []


def test_format_problems() -> None:
    assert format_problems("c-format", "%d files", "%d файлов", exact=True) == []
    assert format_problems("c-format", "%d files", "файлов", exact=True)
    assert format_problems("c-format", "%d files", "файлов", exact=False) == []
    assert format_problems("c-format", "%d files", "%s файлов", exact=False)
    assert format_problems("c-format", "%s of %d", "%2$d из %1$s", exact=True) == []
    assert format_problems("c-format", "%u left", "%lu осталось", exact=True)
    assert format_problems("c-format", "100%% done", "100%% готово", exact=True) == []
    assert format_problems("python-format", "%(n)s of %(m)s", "%(m)s из %(n)s", exact=True) == []
    assert format_problems("python-format", "%(n)s", "%(x)s", exact=True)
    assert format_problems("python-brace-format", "{name} left", "{name} ушёл", exact=True) == []
    assert format_problems("python-brace-format", "{name} left", "{nom} ушёл", exact=True)


PO_HEADER = '''msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Language: ru\\n"
"Plural-Forms: nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && "
"(n%100<10 || n%100>=20) ? 1 : 2);\\n"
'''

PO_BODY = '''
# transflow: ignore=sukhumi
#. p
#: source/x.html:3
msgid "The road from Stepanakert to Sukhumi, 1,500 km."
msgstr "Дорога из Ханкенди в Сухум, 1 500 км."

#: source/x.html:4
msgid "Read <a1>OC Media</a1> on 2 May."
msgstr "Читайте <a2>OC Media</a2> 3 мая."

#, fuzzy
msgid "Stepanakert fuzzy"
msgstr "Ханкенди"

msgid "Stepanakert untranslated"
msgstr ""

#, c-format
msgid "One file in Stepanakert"
msgid_plural "%d files in Stepanakert"
msgstr[0] "Один файл в Степанакерте"
msgstr[1] "%d файла в Степанакерте"
msgstr[2] ""

msgctxt "menu"
msgid "Protesters gathered outside parliament."
msgstr "Protesters gathered outside parliament."

#~ msgid "Stepanakert obsolete"
#~ msgstr "Ханкенди"
'''

GLOSSARY = '''
[[term]]
id = "stepanakert"
en = "Stepanakert"
ru = "Степанакерт"
forbidden = { ru = ["Ханкенди"] }

[[term]]
id = "sukhumi"
en = "Sukhumi"
ru = "Сухуми"
forbidden = { ru = ["Сухум"] }

[[term]]
id = "oc-media"
en = "OC Media"
translate = false
case_sensitive = true
'''


def make_project(root: Path, po: str = PO_HEADER + PO_BODY, checks: str = "") -> Path:
    (root / "source").mkdir(parents=True, exist_ok=True)
    (root / "locales" / "ru").mkdir(parents=True, exist_ok=True)
    (root / "transflow.toml").write_text(
        '[project]\nlanguages = ["ru"]\nglossary = "glossary.toml"\n' + checks)
    (root / "glossary.toml").write_text(GLOSSARY, encoding="utf-8")
    (root / "source" / "x.html").write_text("<html><body><p>x</p></body></html>")
    (root / "locales" / "ru" / "x.po").write_text(po, encoding="utf-8")
    return root


def test_check_project_findings(tmp_path: Path) -> None:
    project = read_project(make_project(tmp_path) / "transflow.toml")
    findings = check_project(project, ["ru"], ["x"])
    got = [(f.line, f.check, f.term, f.severity) for f in findings]
    assert got == [
        (11, "glossary", "stepanakert", "error"),  # Сухум is ignored; numbers agree
        (15, "markup", None, "error"),
        (15, "markup", None, "error"),
        (15, "numbers", None, "warning"),
        (26, "plurals", None, "error"),  # the empty msgstr[2]
        (26, "plurals", None, "error"),  # msgstr[0] serves 1, 21, 31…: it needs the %d
        (33, "untranslated-copy", None, "warning"),
    ]
    first = findings[0]
    assert first.file == "locales/ru/x.po" and first.article == "x" and first.lang == "ru"
    assert first.msgid.startswith("The road") and first.msgstr.startswith("Дорога")
    assert findings[-1].msgctxt == "menu"
    assert "2" in findings[3].message


def test_severity_off_and_warning(tmp_path: Path) -> None:
    root = make_project(tmp_path, checks='[checks]\nmarkup = "off"\nglossary = "warning"\n')
    findings = check_project(read_project(root / "transflow.toml"), ["ru"], ["x"])
    assert not [f for f in findings if f.check == "markup"]
    assert [f.severity for f in findings if f.check == "glossary"] == ["warning"]


def test_line_is_the_msgid_line(tmp_path: Path) -> None:
    path = make_project(tmp_path) / "locales" / "ru" / "x.po"
    entries, _ = read_entries(path)
    lines = path.read_text().splitlines()
    assert entries
    for entry in entries:
        assert lines[entry.msgid_line - 1].lstrip("#~ ").startswith("msgid ")


def test_check_catalog_glossary_count(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    project = read_project(root / "transflow.toml")
    from transflow.glossary import load_project_glossary

    glossary = load_project_glossary(project)
    po = polib.pofile(str(root / "locales" / "ru" / "x.po"))
    assert check_catalog_glossary(project, glossary, po, "ru", "x") == 1


def test_plural_entries_are_checked_per_form() -> None:
    entry = polib.POEntry(msgid="One file", msgid_plural="%d files", flags=["c-format"],
                        msgstr_plural={0: "Один файл", 1: "%d файла"}, linenum=3)
    metadata = {"Plural-Forms": "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : "
                                "n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"}
    messages = [f.message for f in check_catalog([entry], metadata, lang="ru", article="a",
                                                 file="f", glossary=None, severities=ALL)]
    assert "2 plural forms, but the header says nplurals=3" in messages
    # Russian form 0 serves 1, 21, 31…: it must keep the %d (msgfmt -c says the same)
    assert any("msgstr[0]" in m and "missing" in m for m in messages)
    ka = {"Plural-Forms": "nplurals=2; plural=(n != 1);"}
    entry = polib.POEntry(msgid="One file", msgid_plural="%d files", flags=["c-format"],
                        msgstr_plural={0: "ერთი ფაილი", 1: "%d ფაილი"}, linenum=3)
    assert check_catalog([entry], ka, lang="ka", article="a", file="f", glossary=None,
                         severities=ALL) == []


def test_glossary_on_plural_entries() -> None:
    glossary = Glossary.from_data([{"id": "s", "en": "Stepanakert", "ru": "Степанакерт"}])
    entry = polib.POEntry(msgid="A file in Stepanakert", msgid_plural="%d files in Stepanakert",
                        msgstr_plural={0: "Файл в городе", 1: "%d файла в Степанакерте",
                                      2: "%d файлов в Степанакерте"}, linenum=1)
    assert check_catalog([entry], {}, lang="ru", article="a", file="f", glossary=glossary,
                         severities=ALL) == []


# --- reading: `read_entries` is `pofile.parse_entries` (the strict reader) --------------------


def _msgid_lines(path: Path) -> list[int]:
    return [i for i, raw in enumerate(path.read_bytes().split(b"\n"), start=1)
            if raw.startswith(b"msgid ") or raw.startswith(b"#~ msgid ")]


def _polib_view(path: Path) -> list[tuple[object, ...]]:
    """polib's entries, with the line of each `msgid` (polib gives where the entry starts)."""
    starts = _msgid_lines(path)
    out = []
    for e in polib.pofile(str(path)):
        line = next((n for n in starts if n >= e.linenum), None)
        out.append((e.msgid, e.msgstr, e.msgid_plural, e.msgctxt, e.flags, e.tcomment,
                    bool(e.obsolete), dict(e.msgstr_plural), e.occurrences, e.comment,
                    *([None, None] if e.obsolete else [e.previous_msgid, e.previous_msgctxt]),
                    None if e.obsolete else line))
    return out


def _read_view(path: Path) -> list[tuple[object, ...]]:
    entries, _ = read_entries(path)
    return [(e.msgid, e.msgstr, e.msgid_plural, e.msgctxt, e.flags, e.tcomment,
             bool(e.obsolete), dict(e.msgstr_plural), e.occurrences, e.comment,
             # polib drops the `#|` lines of obsolete entries (`#~|`); gettext keeps them
             *([None, None] if e.obsolete else [e.previous_msgid, e.previous_msgctxt]),
             None if e.obsolete else e.msgid_line)
            for e in entries]


@needs_corpus
@pytest.mark.parametrize("path", corpus_po_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_read_entries_agrees_with_polib(path: Path) -> None:
    entries, metadata = read_entries(path)
    assert metadata == polib.pofile(str(path)).metadata
    assert _read_view(path) == _polib_view(path)


def test_read_entries_agrees_on_our_own_file(tmp_path: Path) -> None:
    path = make_project(tmp_path) / "locales" / "ru" / "x.po"
    assert _read_view(path) == _polib_view(path)


@pytest.mark.parametrize("text", [
    PO_HEADER + '\nmsgid "a"\nmsgstr "b\n',  # unterminated string
    PO_HEADER + '\nmsgid "a"\n',  # no msgstr
    PO_HEADER + '\nmsgid "a"\nmsgstr "b"\ngarbage\n',
    PO_HEADER + '\nmsgid "a"\nmsgstr "b\\q"\n',  # an escape gettext does not know
])
def test_malformed_catalogues_are_input_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.po"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        read_entries(path)
    assert info.value.format().startswith(f"{path}:")
    with pytest.raises(CatalogError) as strict:
        read_catalog(path)
    assert strict.value.format() == info.value.format()  # one reader, one message


@needs_corpus
@needs_gettext
def test_format_findings_agree_with_msgfmt() -> None:
    """The plurals check flags format errors in exactly the files `msgfmt -c` rejects for them."""
    for path in corpus_po_files():
        entries, metadata = read_entries(path)
        findings = check_catalog(entries, metadata, lang=path.parent.name, article=path.stem,
                                 file=str(path), glossary=None,
                                 severities={"plurals": "error"} | {
                                     k: "off" for k in ALL if k != "plurals"})
        ours = {f.line for f in findings if "format specification" in f.message}
        run = subprocess.run(["msgfmt", "-c", "-o", "/dev/null", str(path)],
                             capture_output=True, text=True)
        msgid_lines = [i for i, line in enumerate(path.read_text("utf-8").splitlines(), 1)
                       if line.startswith("msgid ")]
        theirs = set()
        for line in run.stderr.splitlines():
            if "format specification" in line and line.startswith(str(path)):
                at = int(line.split(":")[1])  # msgfmt names the msgstr line: find its entry
                theirs.add(max(n for n in msgid_lines if n <= at))
        assert ours == theirs, path


@needs_corpus
def test_corpus_catalogues_check_without_crashing() -> None:
    for path in corpus_po_files():
        entries, metadata = read_entries(path)
        check_catalog(entries, metadata, lang=path.parent.name, article=path.stem,
                      file=str(path), glossary=None, severities=ALL)


# --- CLI -------------------------------------------------------------------------------------


def run(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["-C", str(root), "check", *args])
    return result.exit_code, result.stdout, result.stderr


def test_cli_text(tmp_path: Path) -> None:
    code, out, _ = run(make_project(tmp_path))
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == ("locales/ru/x.po:11: error: [glossary] forbidden rendering 'Ханкенди' "
                        "(term stepanakert: use 'Степанакерт')")
    assert lines[-1] == "5 errors, 2 warnings in 1 file."
    assert "\x1b[" not in out


def test_cli_json(tmp_path: Path) -> None:
    code, out, _ = run(make_project(tmp_path), "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert doc["summary"] == {"errors": 5, "warnings": 2}
    first = doc["findings"][0]
    assert list(first) == ["check", "severity", "lang", "article", "file", "line", "msgctxt",
                           "msgid", "msgstr", "term", "message"]
    assert first["term"] == "stepanakert" and first["line"] == 11
    assert doc["findings"][1]["term"] is None


def test_cli_github(tmp_path: Path) -> None:
    code, out, _ = run(make_project(tmp_path), "--format", "github")
    assert code == 1
    assert out.splitlines()[0].startswith(
        "::error file=locales/ru/x.po,line=11,title=transflow glossary (stepanakert)::")
    assert "::warning file=locales/ru/x.po,line=15,title=transflow numbers::" in out


def test_cli_clean_exit_0(tmp_path: Path) -> None:
    clean = PO_HEADER + '\nmsgid "In Stepanakert"\nmsgstr "В Степанакерте"\n'
    code, out, _ = run(make_project(tmp_path, po=clean))
    assert code == 0
    assert out.strip() == "No problems found."
    code, out, _ = run(make_project(tmp_path, po=clean), "--format", "json")
    assert json.loads(out) == {"findings": [], "summary": {"errors": 0, "warnings": 0}}


def test_cli_warnings_only_exit_0(tmp_path: Path) -> None:
    po = PO_HEADER + '\nmsgid "In 2023"\nmsgstr "В прошлом году"\n'
    code, out, _ = run(make_project(tmp_path, po=po))
    assert code == 0 and "warning: [numbers]" in out


def test_cli_input_errors_exit_2(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    (root / "glossary.toml").write_text('[[term]]\nid = "x"\n', encoding="utf-8")
    code, out, err = run(root)
    assert code == 2 and "glossary.toml:1: " in err and "Traceback" not in err
    make_project(tmp_path, po=PO_HEADER + '\nmsgid "a"\nmsgstr "b\n')
    code, _, err = run(root)
    assert code == 2 and "locales/ru/x.po" in err
    code, _, err = run(make_project(tmp_path), "--lang", "de")
    assert code == 2
    code, _, err = run(make_project(tmp_path), "nosuch")
    assert code == 2 and "no such article" in err


def test_cli_quiet_drops_the_summary(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["-C", str(make_project(tmp_path)), "-q", "check"])
    assert result.exit_code == 1
    assert "errors," not in result.stdout


def test_ignore_comment_can_silence_a_whole_check(tmp_path: Path) -> None:
    po = PO_HEADER + ('\n# transflow: ignore=numbers\nmsgid "In 2023"\nmsgstr "В прошлом году"\n'
                      '\nmsgid "In 2024"\nmsgstr "В этом году"\n')
    findings = check_project(read_project(make_project(tmp_path, po=po) / "transflow.toml"),
                             ["ru"], ["x"])
    assert [(f.check, f.msgid) for f in findings] == [("numbers", "In 2024")]


GEN_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "bench" / "gen_corpus.py"


@pytest.mark.skipif(not GEN_CORPUS.is_file(), reason=f"benchmark generator not found: {GEN_CORPUS}")
def test_worker_processes_find_what_one_process_finds(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """On a generated newsroom (50 catalogues, 114-term glossary), forked workers and a single
    process report the same findings, and the glossary finds the injected violations."""
    import os
    import sys

    import transflow.check as check_module

    subprocess.run([sys.executable, str(GEN_CORPUS), str(tmp_path / "news"), "--articles", "25",
                    "--seed", "3", "--terms", "50", "--jobs", "1"], check=True,
                   capture_output=True)
    project = read_project(tmp_path / "news" / "transflow.toml")
    articles = project.articles()
    assert check_module._worker_count(2 * len(articles)) > 1 or len(os.sched_getaffinity(0)) == 1
    parallel = check_project(project, ["ka", "ru"], articles)
    monkeypatch.setattr(check_module, "PARALLEL_MIN_FILES", 10**9)
    serial = check_project(project, ["ka", "ru"], articles)
    assert parallel == serial
    manifest = json.loads((tmp_path / "news" / "manifest.json").read_text())
    injected = sum(manifest["languages"][lang]["glossary_violations_injected"]
                   for lang in ("ka", "ru"))
    found = sum(f.check == "glossary" for f in serial)
    assert injected and 0.8 * injected <= found <= injected


# --- house-style rules (issue 14 item 6) -------------------------------------------------------

RULE = '''
[[rule]]
id = "no-status-qualifiers"
message = "No status qualifiers for the institutions of breakaway regions."
en = ["de facto", "unrecognised"]
ru = ["де-факто", "непризнанный"]
'''

STYLE_PO = PO_HEADER + '''
msgid "The authorities in Sukhumi said so."
msgstr "Так заявили де-факто власти в Сухуми."

# transflow: ignore=no-status-qualifiers
msgid "“The de facto authorities lied,” he said."
msgstr "«Де-факто власти солгали», — сказал он."

#. transflow: ignore=no-status-qualifiers
msgid "“An unrecognised state,” she said."
msgstr "«Непризнанное государство», — сказала она."

msgid "The parliament met."
msgstr "Собрался парламент непризнанной республики."
'''

STYLE_HTML = '''<!DOCTYPE html>
<html><head><title>Crossing</title></head>
<body>
<p>The de facto authorities closed the crossing.</p>
<blockquote data-transflow-ignore="no-status-qualifiers">
  <p>“The de-facto government will not talk,” the minister said.</p>
</blockquote>
<p data-transflow-ignore="some-term style">Unrecognised, and proud of it.</p>
<p>An unrecognized republic
and its <a href="/x">de facto</a> leaders.</p>
</body></html>
'''


def make_style_project(root: Path, checks: str = "") -> Path:
    make_project(root, po=STYLE_PO, checks=checks)
    (root / "glossary.toml").write_text(GLOSSARY + RULE, encoding="utf-8")
    (root / "source" / "x.html").write_text(STYLE_HTML, encoding="utf-8")
    return root


def test_style_findings_in_translations_and_their_waivers(tmp_path: Path) -> None:
    project = read_project(make_style_project(tmp_path) / "transflow.toml")
    findings = [f for f in check_project(project, ["ru"], ["x"]) if f.file.endswith(".po")]
    assert [(f.check, f.severity, f.msgid) for f in findings] == [
        ("style", "error", "The authorities in Sukhumi said so."),
        ("style", "error", "The parliament met."),  # the # and #. waivers hold
    ]
    assert findings[0].message == ("'де-факто' (де-факто): No status qualifiers for the "
                                   "institutions of breakaway regions. "
                                   "(rule no-status-qualifiers)")
    assert "'непризнанной' (непризнанный)" in findings[1].message
    assert findings[0].term is None


def test_style_findings_in_the_english_source(tmp_path: Path) -> None:
    project = read_project(make_style_project(tmp_path) / "transflow.toml")
    findings = [f for f in check_project(project, ["ru"], ["x"]) if f.file.startswith("source")]
    # the lines extract gives the units (their `#:` references): a unit with inline children
    # is placed at its first child's line
    want = [4, 10]
    assert [(f.file, f.line, f.lang) for f in findings] == [
        ("source/x.html", want[0], "en"), ("source/x.html", want[1], "en"),
        ("source/x.html", want[1], "en")]
    assert [f.message.split(":")[0] for f in findings] == [
        "'de facto' (de facto)", "'unrecognized' (unrecognised)", "'de facto' (de facto)"]
    assert findings[1].msgid.startswith("An unrecognized republic and its <a1>de facto</a1>")
    assert all(f.check == "style" and f.msgstr == "" for f in findings)


def test_style_severity_and_off(tmp_path: Path) -> None:
    root = make_style_project(tmp_path, checks='[checks]\nstyle = "warning"\n')
    code, out, _ = run(root, "--format", "json")
    doc = json.loads(out)
    style = [f for f in doc["findings"] if f["check"] == "style"]
    assert len(style) == 5 and {f["severity"] for f in style} == {"warning"}
    root2 = make_style_project(tmp_path / "off", checks='[checks]\nstyle = "off"\n')
    code, out, _ = run(root2, "--format", "json")
    assert not [f for f in json.loads(out)["findings"] if f["check"] == "style"]
    # the glossary file still serves the rules when the glossary check is off
    root3 = make_style_project(tmp_path / "g", checks='[checks]\nglossary = "off"\n')
    code, out, _ = run(root3, "--format", "json")
    checks = {f["check"] for f in json.loads(out)["findings"]}
    assert "style" in checks and "glossary" not in checks


def test_cli_style_text_lines(tmp_path: Path) -> None:
    code, out, _ = run(make_style_project(tmp_path))
    assert code == 1
    assert [line for line in out.splitlines() if line.startswith("source/")] == [
        "source/x.html:4: error: [style] 'de facto' (de facto): No status qualifiers for the "
        "institutions of breakaway regions. (rule no-status-qualifiers)",
        "source/x.html:10: error: [style] 'unrecognized' (unrecognised): No status qualifiers "
        "for the institutions of breakaway regions. (rule no-status-qualifiers)",
        "source/x.html:10: error: [style] 'de facto' (de facto): No status qualifiers for the "
        "institutions of breakaway regions. (rule no-status-qualifiers)",
    ]


def test_segment_ignore_agrees_with_the_checks_reading(tmp_path: Path) -> None:
    """Once segmentation carries `Segment.ignore` (the fidelity branch), it must name the same
    ids the source check reads from `data-transflow-ignore` on a unit or its ancestors."""
    from transflow.segment import Segment, extract_segments

    if "ignore" not in getattr(Segment, "__dataclass_fields__", {}):
        pytest.skip("segment.Segment has no `ignore` field yet (added by the fidelity branch)")
    segments = extract_segments(STYLE_HTML.encode(), tmp_path / "x.html")
    ignored = {s.msgid.split()[0]: set(s.ignore) for s in segments}
    assert ignored["“The"] == {"no-status-qualifiers"}
    assert ignored["Unrecognised,"] == {"some-term", "style"}
    assert ignored["The"] == set()


def test_source_style_reports_bad_html_as_input_error(tmp_path: Path) -> None:
    root = make_style_project(tmp_path)
    (root / "source" / "x.html").write_bytes(b"<p>de facto</p>" + b"<div>" * 600)
    code, _, err = run(root)
    assert code == 2 and "source/x.html" in err and "Traceback" not in err
