"""Status: msgfmt-compatible counts, word counts, the cache, and the CLI table and JSON."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

import transflow.check as check_mod
import transflow.pofile as pofile
import transflow.status as status_mod
from transflow import stampcache
from transflow.catalog import read_catalog
from transflow.check import read_entries
from transflow.cli import main
from transflow.errors import CatalogError
from transflow.project import read_project
from transflow.report import render_status_json, render_status_table
from transflow.status import CACHE_FILE, count_catalog, count_words, project_status

from .conftest import CORPUS_PO, corpus_po_files

HEADER = (
    'msgid ""\nmsgstr ""\n'
    '"Content-Type: text/plain; charset=UTF-8\\n"\n'
    '"Plural-Forms: nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && '
    'n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);\\n"\n\n'
)

# Every case msgfmt counts in its own way: partial plurals, fuzzy with and without msgstr,
# msgctxt, obsolete entries.
EDGE_PO = HEADER + """\
msgid "Read on <a1>OC Media</a1>"
msgstr "Читать на <a1>OC Media</a1>"

msgid "one apple"
msgid_plural "%d apples"
msgstr[0] "одно яблоко"
msgstr[1] ""
msgstr[2] "%d яблок"

msgid "a pear"
msgid_plural "%d pears"
msgstr[0] ""
msgstr[1] "%d груши"
msgstr[2] "%d груш"

#, fuzzy
msgid "Nothing here yet"
msgstr ""

#, fuzzy
#| msgid "Old text"
msgid "New text"
msgstr "Старый текст"

msgctxt "main menu"
msgid "News"
msgstr ""

#~ msgid "Gone"
#~ msgstr "Ушло"
"""


def msgfmt_statistics(path: Path) -> dict[str, int]:
    """Run `msgfmt --statistics` and parse its (C locale) summary line."""
    result = subprocess.run(
        ["msgfmt", "--statistics", "-o", os.devnull, str(path)],
        capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"}, check=True,
    )
    counts = {"translated": 0, "fuzzy": 0, "untranslated": 0}
    for number, kind in re.findall(r"(\d+) (translated|fuzzy|untranslated)", result.stderr):
        counts[kind] = int(number)
    return counts


def our_statistics(path: Path) -> dict[str, int]:
    """Status's counts through the reader status uses, checked against polib's entries too."""
    c = count_catalog(read_entries(path)[0])
    assert c == count_catalog(read_catalog(path))
    return {"translated": c.translated, "fuzzy": c.fuzzy, "untranslated": c.untranslated}


needs_msgfmt = pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU msgfmt not installed")


@needs_msgfmt
@pytest.mark.skipif(not corpus_po_files(), reason=f"PO corpus not found at {CORPUS_PO}")
def test_counts_agree_with_msgfmt_on_the_real_corpus() -> None:
    files = corpus_po_files()
    assert len(files) == 26
    disagreements = {
        f"{p.parent.name}/{p.name}": (msgfmt_statistics(p), our_statistics(p))
        for p in files
        if msgfmt_statistics(p) != our_statistics(p)
    }
    assert disagreements == {}


@needs_msgfmt
@pytest.mark.skipif(not corpus_po_files(), reason=f"PO corpus not found at {CORPUS_PO}")
def test_a_file_msgfmt_c_rejects_is_still_counted_as_msgfmt_counts_it() -> None:
    path = CORPUS_PO / "ru" / "arctica-greeter.po"
    strict = subprocess.run(["msgfmt", "-c", "-o", os.devnull, str(path)], capture_output=True)
    assert strict.returncode != 0  # the format-string mismatch
    assert our_statistics(path) == msgfmt_statistics(path) == {
        "translated": 106, "fuzzy": 0, "untranslated": 0}


@needs_msgfmt
def test_edge_cases_agree_with_msgfmt(tmp_path: Path) -> None:
    path = tmp_path / "edge.po"
    path.write_text(EDGE_PO, encoding="utf-8")
    expected = msgfmt_statistics(path)
    assert our_statistics(path) == expected
    # msgfmt: an empty msgstr[0] is untranslated, fuzzy or not; a filled one is enough.
    assert expected == {"translated": 2, "fuzzy": 1, "untranslated": 3}
    c = count_catalog(read_catalog(path))
    assert c.obsolete == 1 and c.total == 6


def test_count_words_ignores_tags_urls_and_placeholders() -> None:
    assert count_words("Read on <a1>OC Media</a1>") == 4
    assert count_words("Line one<br1/>line two") == 4
    assert count_words('See <a href="https://x.org/a-b">the report</a>') == 3
    assert count_words("Visit https://oc-media.org/features/ or www.example.com today") == 3
    assert count_words("%(count)s files in %s, %d left, {0} of {name}") == 4
    assert count_words("Deleted %1$s and 100%% of it") == 5
    assert count_words("It&rsquo;s a well-known fact, don't you think?") == 7
    assert count_words("Тбилиси — столица Грузии") == 3
    assert count_words("საქართველოს პარლამენტი") == 2
    assert count_words("1,000 people on 12.05.2024") == 4
    assert count_words("") == 0
    assert count_words("<a1></a1> %s https://x.org") == 0


def test_percent_is_by_words_and_fuzzy_is_never_translated(tmp_path: Path) -> None:
    path = tmp_path / "edge.po"
    path.write_text(EDGE_PO, encoding="utf-8")
    c = count_catalog(read_catalog(path))
    # translated: "Read on OC Media" (4) + "one apple" (2); fuzzy: "New text" (2)
    assert (c.words_translated, c.words_fuzzy) == (6, 2)
    assert c.words_total == 6 + 2 + 2 + 3 + 1  # + "a pear", "Nothing here yet", "News"
    assert c.percent == pytest.approx(100 * 6 / 14)


# --- a small project on disk ----------------------------------------------------------------

PO_KA = HEADER.replace("nplurals=3", "nplurals=2").replace(
    "(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2)",
    "(n != 1)",
) + """\
msgid "The parliament in Tbilisi"
msgstr "პარლამენტი თბილისში"

msgid "Two more words"
msgstr ""

#, fuzzy
msgid "A fuzzy one"
msgstr "ბუნდოვანი"
"""

POT = """\
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"

msgid "Hello world"
msgstr ""

msgid "Goodbye"
msgstr ""
"""


def make_project(tmp_path: Path) -> Path:
    (tmp_path / "transflow.toml").write_text('[project]\nlanguages = ["ka", "ru"]\n')
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / "x.html").write_text("<p>The parliament in Tbilisi</p>")
    (tmp_path / "source" / "y.html").write_text("<p>Hello world</p><p>Goodbye</p>")
    (tmp_path / "locales" / "ka").mkdir(parents=True)
    (tmp_path / "locales" / "ka" / "x.po").write_text(PO_KA, encoding="utf-8")
    (tmp_path / "locales" / "templates").mkdir(parents=True)
    (tmp_path / "locales" / "templates" / "y.pot").write_text(POT, encoding="utf-8")
    return tmp_path


def status_of(root: Path) -> status_mod.ProjectStatus:
    project = read_project(root / "transflow.toml")
    return project_status(project, list(project.languages), project.articles())


def test_project_status_counts_missing_po_from_the_pot(tmp_path: Path) -> None:
    result = status_of(make_project(tmp_path))
    by_key = {(c.article, c.lang): c for c in result.catalogs}
    ka_x = by_key["x", "ka"].counts
    assert (ka_x.total, ka_x.translated, ka_x.fuzzy, ka_x.untranslated) == (3, 1, 1, 1)
    assert (ka_x.words_total, ka_x.words_translated) == (10, 4)
    # No PO for y: the POT's entries are all untranslated; no PO nor POT for ru/x: nothing.
    assert by_key["y", "ka"].exists is False
    assert by_key["y", "ka"].counts.untranslated == 2
    assert by_key["x", "ru"].counts.total == 0
    ka = {lang.lang: lang for lang in result.languages}["ka"].counts
    assert (ka.total, ka.words_total, ka.words_translated) == (5, 13, 4)
    # ru has nothing translated (only y's POT): 0 %, under any positive threshold.
    assert result.below(0.1) and not result.below(0.0)
    ka_only = project_status(read_project(tmp_path / "transflow.toml"), ["ka"], ["x", "y"])
    assert ka_only.below(31.0) and not ka_only.below(30.0)


def test_second_run_parses_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(tmp_path)
    first = status_of(root)
    assert (root / "build" / ".cache" / CACHE_FILE).is_file()

    def refuse(path: Path) -> None:
        raise AssertionError(f"parsed {path} although nothing changed")

    monkeypatch.setattr(pofile, "parse_entries", refuse)
    monkeypatch.setattr(check_mod, "read_entries", refuse)
    second = status_of(root)
    assert second.catalogs == first.catalogs
    assert second.stats["parsed"] == 0


def test_a_changed_file_is_recounted(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    status_of(root)
    po = root / "locales" / "ka" / "x.po"
    po.write_text(PO_KA.replace('msgstr ""\n\n#, fuzzy', 'msgstr "ორი სიტყვა"\n\n#, fuzzy'))
    result = status_of(root)
    assert result.stats["parsed"] == 1
    ka_x = next(c for c in result.catalogs if (c.article, c.lang) == ("x", "ka")).counts
    assert ka_x.translated == 2


def test_same_size_and_mtime_but_new_content_is_caught_when_racy(tmp_path: Path) -> None:
    # Written and counted within the same second: stat alone cannot be trusted, the hash is.
    root = make_project(tmp_path)
    status_of(root)
    po = root / "locales" / "ka" / "x.po"
    st = po.stat()
    po.write_text(PO_KA.replace('"ბუნდოვანი"', '"ბუნდოვანა"'), encoding="utf-8")
    os.utime(po, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert po.stat().st_size == st.st_size
    result = status_of(root)
    assert result.stats["parsed"] == 1  # counted moments ago: stat is not trusted, the hash is
    po.write_text(PO_KA.replace('msgstr "ბუნდოვანი"', 'msgstr ""'), encoding="utf-8")
    result = status_of(root)
    ka_x = next(c for c in result.catalogs if (c.article, c.lang) == ("x", "ka")).counts
    assert (ka_x.fuzzy, ka_x.untranslated) == (0, 2)


@pytest.mark.parametrize("garbage", [b"{not json", b'{"format": 1, "files": []}', b"\xff\x00",
                                     b'{"format": 1, "transflow": "0.1.0", "files": {"a": 1}}',
                                     b"stampcache 1 2 0 0 x\n", b"stampcache 1 1 0 5 x\nabcde"])
def test_a_corrupt_cache_is_ignored_and_rebuilt(tmp_path: Path, garbage: bytes) -> None:
    root = make_project(tmp_path)
    expected = status_of(root).catalogs
    cache = root / "build" / ".cache" / CACHE_FILE
    cache.write_bytes(garbage)
    assert status_of(root).catalogs == expected
    assert cache.read_bytes().startswith(b"stampcache %d " % stampcache.FORMAT)
    assert status_of(root).stats["parsed"] == 0  # (and it was rewritten whole)


def test_a_tampered_cache_body_is_not_trusted(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    status_of(root)
    cache = root / "build" / ".cache" / CACHE_FILE
    data = bytearray(cache.read_bytes())
    counts = data.index(b" ", data.index(b"\n") + 1)  # the first space of the first counts
    data[counts - 1] = ord("9") if data[counts - 1] != ord("9") else ord("8")
    cache.write_bytes(bytes(data))  # a count changed by hand
    result = status_of(root)
    assert result.stats["parsed"] == 3  # x/ka, and y's POT for ka and for ru: all again
    assert status_of(root).stats["parsed"] == 0


def test_records_of_deleted_files_are_dropped(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    status_of(root)
    cache = root / "build" / ".cache" / CACHE_FILE
    (root / "locales" / "ka" / "x.po").unlink()
    (root / "locales" / "ka" / "z.po").write_text(PO_KA, encoding="utf-8")
    (root / "source" / "z.html").write_text("<p>z</p>")
    status_of(root)
    files = stampcache.StampCache(str(cache), status_mod._cache_key(), label="", redo="").names()
    assert "locales/ka/x.po" not in files and "locales/ka/z.po" in files


def test_renderers(tmp_path: Path) -> None:
    result = status_of(make_project(tmp_path))
    table = render_status_table(result, per_article=True, color=False)
    assert "Georgian — ქართული (ka)" in table
    assert "\x1b[" not in table
    assert "█" in table and "░" in table
    colored = render_status_table(result, per_article=False, color=True)
    assert "\x1b[" in colored
    doc = json.loads(render_status_json(result))
    assert list(doc) == ["source_language", "languages", "articles", "orphaned"]
    assert list(doc["languages"]) == ["ka", "ru"]


# --- through the CLI ------------------------------------------------------------------------


def run(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["-C", str(root), "status", *args])
    return result.exit_code, result.output


def test_cli_table(tmp_path: Path) -> None:
    code, out = run(make_project(tmp_path), "--articles")
    assert code == 0
    lines = out.splitlines()
    header = lines[0]
    assert header.split()[:3] == ["Language", "Entries", "Translated"]
    ka = next(line for line in lines if line.startswith("Georgian — ქართული (ka)"))
    assert re.search(r"\b5\s+1\s+1\s+3\s+13\s+9\s+30\.8%", ka)
    assert next(line for line in lines if line.startswith("Russian — русский (ru)"))
    # The per-article table is sorted by words left: y/ka (3 words) after x/ka (6 words).
    article_rows = [line.split()[:2] for line in lines if re.match(r"^[xy]\s+(ka|ru)\b", line)]
    assert article_rows[:2] == [["x", "ka"], ["y", "ka"]]
    # Columns line up: every "%" of the language table ends in the same column.
    ends = {line.index("%") for line in lines[1:3]}
    assert len(ends) == 1


def test_cli_json(tmp_path: Path) -> None:
    code, out = run(make_project(tmp_path), "--json", "--lang", "ka")
    assert code == 0
    doc = json.loads(out)
    assert doc["source_language"] == "en"
    assert doc["languages"] == {"ka": {
        "name": "Georgian", "total": 5, "translated": 1, "fuzzy": 1, "untranslated": 3,
        "obsolete": 0, "words": {"total": 13, "translated": 4, "fuzzy": 3, "untranslated": 6},
        "percent": 30.8, "glossary_errors": 0}}
    assert [(a["article"], a["lang"], a["file"]) for a in doc["articles"]] == [
        ("x", "ka", "locales/ka/x.po"), ("y", "ka", "locales/ka/y.po")]
    assert list(doc["articles"][0]) == [
        "article", "lang", "file", "total", "translated", "fuzzy", "untranslated", "obsolete",
        "words", "percent", "glossary_errors"]
    # Deterministic: the same document twice.
    assert run(tmp_path, "--json", "--lang", "ka")[1] == out


def test_cli_one_article(tmp_path: Path) -> None:
    code, out = run(make_project(tmp_path), "--json", "y")
    assert code == 0
    assert {a["article"] for a in json.loads(out)["articles"]} == {"y"}


def test_cli_fail_under(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    assert run(root, "--lang", "ka", "--fail-under", "30")[0] == 0
    assert run(root, "--lang", "ka", "--fail-under", "31")[0] == 1
    assert run(root, "--fail-under", "0")[0] == 0


def test_cli_invalid_po_exits_2(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    (root / "locales" / "ka" / "x.po").write_bytes(b'msgid "a"\nmsgstr "b"\nnonsense here\n')
    code, out = run(root)
    assert code == 2
    assert "locales/ka/x.po" in out and "Traceback" not in out


def test_invalid_po_raises_catalog_error(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    (root / "locales" / "ka" / "x.po").write_bytes(b"this is not a PO file at all\n")
    with pytest.raises(CatalogError):
        status_of(root)


def test_parallel_cold_run_gives_the_same_counts(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(tmp_path)
    serial = status_of(root)
    shutil.rmtree(root / "build")
    monkeypatch.setattr(status_mod, "PARALLEL_MIN_JOBS", 1)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    parallel = status_of(root)
    assert parallel.stats["parsed"] == 3
    assert parallel.catalogs == serial.catalogs
    (root / "locales" / "ka" / "x.po").write_bytes(b"this is not a PO file at all\n")
    with pytest.raises(CatalogError) as info:
        status_of(root)
    assert info.value.path is not None and str(info.value.path).endswith("x.po")


def test_parallel_run_with_a_cache_of_no_use_gives_the_same_counts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A status.cache is there (the workers are forked once the jobs are known, not before the
    # stats): one of no use (damaged) has every catalogue counted in the workers all the same.
    root = make_project(tmp_path)
    serial = status_of(root)
    (root / "build" / ".cache" / "status.snapshot").unlink(missing_ok=True)
    (root / "build" / ".cache" / "status.cache").write_bytes(b"garbage\n")
    monkeypatch.setattr(status_mod, "PARALLEL_MIN_JOBS", 1)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    parallel = status_of(root)
    assert parallel.stats["parsed"] == 3
    assert parallel.catalogs == serial.catalogs


GLOSSARY = """\
[[term]]
id = "tbilisi"
en = "Tbilisi"
ka = "თბილისი"
ru = "Тбилиси"
forbidden = { ka = ["ტფილისი"] }
"""


def test_glossary_errors_are_counted_and_cached_with_the_glossary(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    (root / "glossary.toml").write_text(GLOSSARY, encoding="utf-8")
    po = root / "locales" / "ka" / "x.po"
    po.write_text(PO_KA.replace("თბილისში", "ტფილისში"), encoding="utf-8")

    def ka_x(result: status_mod.ProjectStatus) -> int:
        return next(c for c in result.catalogs if (c.article, c.lang) == ("x", "ka")) \
            .counts.glossary_errors

    first = status_of(root)
    assert first.glossary and ka_x(first) == 1
    second = status_of(root)
    assert second.stats["parsed"] == 0 and ka_x(second) == 1
    # A glossary change re-counts the glossary errors, though no PO changed.
    (root / "glossary.toml").write_text(GLOSSARY.replace('forbidden = { ka = ["ტფილისი"] }\n',
                                                         ""), encoding="utf-8")
    third = status_of(root)
    assert third.stats["parsed"] == 1
    code, out = run(root, "--json", "--lang", "ka")
    assert json.loads(out)["languages"]["ka"]["glossary_errors"] == ka_x(third)
    # The glossary check turned to a warning: no glossary errors to show.
    (root / "transflow.toml").write_text(
        '[project]\nlanguages = ["ka", "ru"]\n\n[checks]\nglossary = "warning"\n')
    assert status_of(root).glossary is False


def test_orphaned_catalogues_are_listed_never_counted_nor_deleted(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    gone = root / "locales" / "ka" / "old-story.po"
    gone.write_text(PO_KA, encoding="utf-8")
    (root / "locales" / "ru" / "politics").mkdir(parents=True)
    (root / "locales" / "ru" / "politics" / "vote.po").write_text(PO_KA, encoding="utf-8")
    # The imported translation memory is no article, and no language.
    (root / "locales" / "memory").mkdir()
    (root / "locales" / "memory" / "ka.po").write_text(PO_KA, encoding="utf-8")
    code, out = run(root, "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["orphaned"] == [
        {"article": "old-story", "lang": "ka", "file": "locales/ka/old-story.po"},
        {"article": "politics/vote", "lang": "ru", "file": "locales/ru/politics/vote.po"}]
    assert {a["article"] for a in doc["articles"]} == {"x", "y"}  # not counted
    assert set(doc["languages"]) == {"ka", "ru"}
    code, out = run(root)
    assert "orphaned: locales/ka/old-story.po (no source for old-story" in out
    assert "memory" not in out
    assert gone.read_text(encoding="utf-8") == PO_KA  # nothing deletes them
    # A selection of articles is about those articles: no project-wide orphan list.
    assert json.loads(run(root, "--json", "x")[1])["orphaned"] == []
    assert json.loads(run(root, "--json", "--lang", "ru")[1])["orphaned"] == [
        {"article": "politics/vote", "lang": "ru", "file": "locales/ru/politics/vote.po"}]


def test_articles_in_sub_folders_are_counted_and_no_orphans(tmp_path: Path) -> None:
    # The bulk path lists `locales/<lang>/` once: an article in a sub-folder is not in that
    # listing, and must still be counted (and its catalogue not taken for an orphan).
    root = make_project(tmp_path)
    (root / "source" / "politics").mkdir()
    (root / "source" / "politics" / "vote.html").write_text("<p>vote</p>")
    (root / "locales" / "ka" / "politics").mkdir()
    (root / "locales" / "ka" / "politics" / "vote.po").write_text(PO_KA, encoding="utf-8")
    (root / "locales" / "ka" / ".hidden.po").write_text(PO_KA, encoding="utf-8")
    for _ in range(2):  # counted, then from the cache
        doc = json.loads(run(root, "--json")[1])
        assert doc["orphaned"] == []
        vote = {(a["article"], a["lang"]): a for a in doc["articles"]}["politics/vote", "ka"]
        assert vote["file"] == "locales/ka/politics/vote.po"
        assert (vote["total"], vote["translated"]) == (3, 1)
