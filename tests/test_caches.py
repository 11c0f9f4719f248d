"""The caches of extract, check and status under build/.cache: right answers, whatever is there.

Every cache is disposable: garbage, zero bytes, half a file, a folder or a link to nowhere in
its place is treated as absent (rebuilt, or left alone for a folder), never an error, never a
wrong answer. And a warm check reads no catalogue at all.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

import transflow.check as check_mod
import transflow.glossary as glossary_mod
import transflow.pofile as pofile_mod
import transflow.stampcache as stampcache
from transflow.check import FINDINGS_CACHE_FILE, check_project
from transflow.cli import main
from transflow.project import Project, read_project
from transflow.status import CACHE_FILE as STATUS_CACHE_FILE

from .damage import DAMAGES, folder, garbage
from .test_extract import make_project, page, write


def cli(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["-C", str(root), *args])
    return result.exit_code, result.output


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    # (This newsroom is tiny: cache its findings as a big one's would be.)
    monkeypatch.setattr(check_mod, "CACHE_MIN_CATALOGUES", 0)
    proj = make_project(tmp_path / "news", glossary=True)
    assert cli(proj.root, "-q", "extract")[0] == 0
    translate_with_findings(proj)
    return proj


def translate_with_findings(proj: Project) -> None:
    """Translate article a in ru and ka with findings: a glossary violation, a number mismatch."""
    for lang, stepanakert in (("ru", "Ханкенди"), ("ka", "სტეფანაკერტი")):
        path = proj.po_path(lang, "a")
        text = path.read_text("utf-8")
        text = text.replace('msgid "Residents gathered outside the hall."\nmsgstr ""',
                            'msgid "Residents gathered outside the hall."\nmsgstr "X 5 Y"')
        text = text.replace('msgid "A story from Stepanakert."\nmsgstr ""',
                            f'msgid "A story from Stepanakert."\nmsgstr "{stepanakert}."')
        path.write_text(text, "utf-8")


def findings_json(root: Path) -> str:
    code, out = cli(root, "check", "--format", "json")
    assert code in (0, 1), out
    return out


def test_a_warm_check_reads_no_catalogue(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stampcache, "RACY_WINDOW_NS", 0)  # (files written this very second)
    first = findings_json(project.root)
    assert json.loads(first)["summary"]["errors"] >= 1
    assert (project.cache_dir / FINDINGS_CACHE_FILE).is_file()

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("a catalogue was read")

    monkeypatch.setattr(check_mod, "read_bytes", no_reading)
    monkeypatch.setattr(pofile_mod, "parse_entries", no_reading)
    monkeypatch.setattr(stampcache, "file_digest", no_reading)
    monkeypatch.setattr(glossary_mod, "load_project_glossary", no_reading)
    assert findings_json(project.root) == first
    notes: list[str] = []
    check_project(project, ["ka", "ru"], project.articles(), notes=notes)
    assert "4 catalogues answered from the cache, 0 read" in notes[-1]


@pytest.mark.parametrize("batch", [1, 3])
def test_catalogues_are_answered_a_batch_at_a_time(project: Project, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   batch: int) -> None:  # fmt: skip
    monkeypatch.setattr(stampcache, "RACY_WINDOW_NS", 0)  # (files written this very second)
    for slug in ("c", "d", "e"):
        write(project.source_path(slug), page(slug, f"The road to {slug} reopened."))
    assert cli(project.root, "-q", "extract")[0] == 0
    first = findings_json(project.root)
    monkeypatch.setattr(check_mod, "STAT_BATCH", batch)
    assert findings_json(project.root) == first
    path = project.po_path("ru", "a")  # (one changed: read again, the others answered)
    path.write_text(path.read_text("utf-8").replace("Ханкенди", "Степанакерт"), "utf-8")
    notes: list[str] = []
    found = check_project(project, ["ka", "ru"], project.articles(), notes=notes)
    assert "9 catalogues answered from the cache, 1 read" in notes[-1]
    clean = tmp_path / "clean"
    shutil.copytree(project.root, clean, ignore=shutil.ignore_patterns(".cache"))
    assert found == check_project(read_project(clean / "transflow.toml"), ["ka", "ru"],
                                  project.articles())


def test_what_the_findings_depend_on_invalidates_them(project: Project,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    root = project.root
    before = json.loads(findings_json(root))["findings"]
    assert any(f["check"] == "glossary" for f in before)
    # The catalogue: a fix is seen.
    path = project.po_path("ru", "a")
    path.write_text(path.read_text("utf-8").replace("Ханкенди", "Степанакерт"), "utf-8")
    after = json.loads(findings_json(root))["findings"]
    assert not any(f["check"] == "glossary" and f["lang"] == "ru" for f in after)
    # The glossary: a new rendering makes the old translation a finding.
    gpath = root / "glossary.toml"
    gpath.write_text(gpath.read_text("utf-8").replace("Степанакерт", "Ханкенди"), "utf-8")
    assert any(f["check"] == "glossary" and f["lang"] == "ru"
               for f in json.loads(findings_json(root))["findings"])
    # The project settings: a check turned off.
    toml = root / "transflow.toml"
    toml.write_text(toml.read_text("utf-8") + '\n[checks]\nnumbers = "off"\n', "utf-8")
    assert not any(f["check"] == "numbers" for f in json.loads(findings_json(root))["findings"])
    # transflow's code: another fingerprint, nothing from the cache.
    monkeypatch.setattr("transflow.cachekey.code_fingerprint", lambda: "another transflow")
    notes: list[str] = []
    check_project(read_project(toml), ["ka", "ru"], project.articles(), notes=notes)
    assert "0 catalogues answered from the cache" in notes[-1]


def _wrong_rows(path: Path) -> None:
    """A well-formed cache of another content: its checksum no longer matches the body."""
    head, _, body = path.read_bytes().partition(b"\n")
    if head.startswith(b"stampcache "):  # status: other counts
        wrong = body.replace(b"\0glossary\0", b"\0markup\0").replace(b" 0 ", b" 7 ")
        assert wrong != body
        body = wrong
    if head.startswith(b"recordfile "):  # check: other findings, in the same bytes
        wrong = body.replace(b"glossary\0", b"markupXX\0")
        assert wrong != body
        body = wrong
    path.write_bytes(head + b"\n" + body.replace(b'"glossary"', b'"markup"'))


CACHE_FILES = ["extract.json", STATUS_CACHE_FILE, FINDINGS_CACHE_FILE, "memory.sqlite3"]


def outputs(root: Path) -> tuple[str, str, str, dict[str, bytes]]:
    """What the commands answer and write: findings, status, extract's summary, the catalogues."""
    findings = findings_json(root)
    code, status = cli(root, "status", "--json")
    assert code == 0, status
    code, extract = cli(root, "extract")
    assert code == 0, extract
    files = {str(p.relative_to(root)): p.read_bytes()
             for p in sorted((root / "locales").rglob("*.po*"))}  # fmt: skip
    # (How many files were skipped as unchanged depends on the cache: not an answer.)
    parts = extract.split(";")
    return findings, status, parts[1].split(",")[0] + ";" + parts[2], files


@pytest.mark.parametrize("name", CACHE_FILES)
@pytest.mark.parametrize("damage", [*DAMAGES, _wrong_rows], ids=lambda f: getattr(f, "__name__", f))
def test_any_damage_to_any_cache_changes_no_answer(project: Project, tmp_path: Path, name: str,
                                                   damage: Callable[[Path], None]) -> None:  # fmt: skip
    root = project.root
    # A new paragraph that the memory fills (another article's translation, nearly).
    write(project.source_path("b"), page("Road closed", "The road to the border was closed.",
                                         "Residents gathered outside the hall again."))  # fmt: skip
    clean = tmp_path / "clean"
    shutil.copytree(root, clean)
    shutil.rmtree(clean / "build", ignore_errors=True)
    expected = outputs(clean)
    outputs(root)  # every cache written
    path = project.cache_dir / name
    assert path.is_file()
    if damage is _wrong_rows and name == "memory.sqlite3":
        pytest.skip("a database has no body checksum (its damage kinds are in test_memory)")
    damage(path)
    write(project.source_path("b"), page("Road closed", "The road to the border was closed.",
                                         "Residents gathered outside the hall again!"))  # fmt: skip
    write(clean / "source" / "b.html", page("Road closed", "The road to the border was closed.",
                                            "Residents gathered outside the hall again!"))  # fmt: skip
    expected = outputs(clean)
    assert outputs(root) == expected
    assert outputs(root) == outputs(clean)  # and again, from whatever the run left
    if damage is folder:
        assert (path / "keep").read_text() == "mine"  # nobody's folder is deleted
    assert not [p for p in (root / "locales").rglob("*") if p.name.endswith(".tmp")]


def test_check_cache_notes_say_what_happened(project: Project) -> None:
    findings_json(project.root)
    garbage(project.cache_dir / FINDINGS_CACHE_FILE)
    code, out = cli(project.root, "-v", "check")
    assert code == 1
    assert "check cache" in out and "damaged; checking again" in out
    assert os.path.getsize(project.cache_dir / FINDINGS_CACHE_FILE) > 100  # rewritten


def test_a_check_of_a_few_catalogues_neither_reads_nor_rewrites_the_cache(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    everything = findings_json(project.root)
    cache = project.cache_dir / FINDINGS_CACHE_FILE
    before = cache.read_bytes()
    monkeypatch.setattr(check_mod, "CACHE_MIN_CATALOGUES", 16)
    code, out = cli(project.root, "check", "--format", "json", "a")
    assert code == 1
    assert json.loads(out)["findings"] == [f for f in json.loads(everything)["findings"]
                                           if f["article"] == "a"]
    assert cache.read_bytes() == before


@pytest.mark.parametrize(("name", "command", "says"), [
    (STATUS_CACHE_FILE, ["status"], "status cache"),
    ("extract.json", ["extract"], "extract cache"),
    (FINDINGS_CACHE_FILE, ["check"], "check cache"),
    ("memory.sqlite3", ["extract"], "translation memory"),
])  # fmt: skip
def test_minus_v_says_what_happened_to_a_damaged_cache(project: Project, name: str,
                                                       command: list[str], says: str) -> None:  # fmt: skip
    outputs(project.root)
    garbage(project.cache_dir / name)
    if name == "memory.sqlite3":  # (the memory is opened when a new entry needs it)
        write(project.source_path("b"), page("Road closed", "A paragraph nobody wrote yet."))
    code, out = cli(project.root, "-v", *command)
    assert code in (0, 1), out
    assert says in out, out
    code, quiet = cli(project.root, *command)
    assert says not in quiet  # only with -v


def test_the_report_is_in_order_of_path_whatever_the_article_names(
        project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """`a-b.po` comes before `a.po` as a path but `a-b` after `a` as a name: the report (made
    from the cache in a second pass, language by language) follows the paths, every time."""
    monkeypatch.setattr(stampcache, "RACY_WINDOW_NS", 0)  # (files written this very second)
    for slug in ("a-b", "a.b", "a0", "world/z"):
        write(project.source_path(slug), page(slug, "Residents gathered outside the hall."))
    assert cli(project.root, "-q", "extract")[0] == 0
    for slug in ("a-b", "a.b", "a0", "world/z"):
        for lang in ("ka", "ru"):
            path = project.po_path(lang, slug)
            text = re.sub(r'msgid "A story from Stepanakert\."\nmsgstr "[^"]*"',
                          'msgid "A story from Stepanakert."\nmsgstr "X."', path.read_text("utf-8"))
            assert 'msgstr "X."' in text
            path.write_text(text, "utf-8")
    articles = project.articles()
    cold = check_project(project, ["ru", "ka"], articles)
    files = [f.file for f in cold]
    assert files == sorted(files) and len(set(files)) == 9  # (all but ka/a.po and b.po)
    assert cold == check_mod.sort_findings(cold)
    notes: list[str] = []
    assert check_project(project, ["ru", "ka"], articles, notes=notes) == cold
    assert "12 catalogues answered from the cache, 0 read" in notes[-1]
    path = project.po_path("ka", "a-b")  # (one changed: the rest from the cache, in order)
    path.write_text(path.read_text("utf-8").replace('msgstr "X."', 'msgstr "Y."'), "utf-8")
    again = check_project(project, ["ru", "ka"], articles)
    assert [f.file for f in again] == files
    clean = tmp_path / "clean"
    shutil.copytree(project.root, clean, ignore=shutil.ignore_patterns(".cache"))
    assert again == check_project(read_project(clean / "transflow.toml"), ["ru", "ka"], articles)
