"""`transflow extract` end to end on a small project: outputs, no churn, safety."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

import transflow.extract as extract_mod
from transflow.catalog import read_catalog, render_catalog
from transflow.cli import main
from transflow.errors import ConflictError, InputError
from transflow.extract import extract_project
from transflow.files import project_lock
from transflow.project import Project, read_project

from .conftest import needs_gettext

PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{title}</title>
<meta name="description" content="A story from Stepanakert."></head>
<body>
<h1>{title}</h1>
{paragraphs}
<footer><p>Support independent journalism in the Caucasus.</p></footer>
</body>
</html>
"""


def page(title: str, *paragraphs: str) -> str:
    return PAGE.format(title=title, paragraphs="\n".join(f"<p>{p}</p>" for p in paragraphs))


def make_project(root: Path, glossary: bool = False) -> Project:
    (root / "source").mkdir(parents=True)
    toml = '[project]\nsource_language = "en"\nlanguages = ["ka", "ru"]\n'
    (root / "transflow.toml").write_text(toml, "utf-8")
    if glossary:
        (root / "glossary.toml").write_text(
            '[[term]]\nid = "stepanakert"\nen = "Stepanakert"\nka = "სტეფანაკერტი"\n'
            'ru = "Степанакерт"\n', "utf-8")  # fmt: skip
    write(root / "source" / "a.html", page("Talks resume", "The minister said talks would "
          "resume on <em>Monday</em>.", "Residents gathered outside the hall."))  # fmt: skip
    write(root / "source" / "b.html", page("Road closed", "The road to the border was closed.",
                                           "Residents gathered outside the hall."))  # fmt: skip
    return read_project(root / "transflow.toml")


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under locales/ with its bytes and modification time."""
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted((root / "locales").rglob("*")) if p.is_file()}  # fmt: skip


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    return make_project(tmp_path / "news")


def test_first_extract_writes_templates_and_catalogues(project: Project) -> None:
    report = extract_project(project, project.articles())
    root = project.root
    assert sorted(snapshot(root)) == [
        "locales/ka/a.po", "locales/ka/b.po", "locales/ru/a.po", "locales/ru/b.po",
        "locales/templates/a.pot", "locales/templates/b.pot"]  # fmt: skip
    assert len(report.written) == 6
    pot = read_catalog(project.pot_path("a"))
    assert pot.metadata["POT-Creation-Date"] == "2023-11-14 22:13+0000"
    title = pot.find("Talks resume")
    assert title is not None and title.comment == "title, h1"
    assert [ref for ref, _ in title.occurrences] == ["source/a.html", "source/a.html"]
    po = read_catalog(project.po_path("ru", "a"))
    assert po.metadata["Language"] == "ru"
    assert po.metadata["Plural-Forms"].startswith("nplurals=3;")
    assert "extract: 2 articles; 6 files written" in report.summary()
    assert any(line.startswith("wrote locales/ru/a.po") for line in report.detail_lines())


@needs_gettext
def test_outputs_are_as_gettext_writes_them(project: Project) -> None:
    extract_project(project, project.articles())
    for path in sorted((project.root / "locales").rglob("*.po*")):
        subprocess.run(["msgfmt", "-c", "-o", "/dev/null", str(path)], check=True)
        cat = subprocess.run(["msgcat", str(path)], capture_output=True, check=True).stdout
        assert cat == path.read_bytes(), path


def test_second_extract_changes_no_byte(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    extract_project(project, project.articles())
    before = snapshot(project.root)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")  # a later clock must not matter
    report = extract_project(project, project.articles())
    assert report.written == [] and report.skipped == 2
    assert snapshot(project.root) == before
    # Without the cache (always safe to delete) every article is redone: still no change.
    for path in project.cache_dir.glob("*.json"):
        path.unlink()
    report = extract_project(project, project.articles())
    assert report.written == [] and report.skipped == 0
    assert snapshot(project.root) == before


def test_the_extract_cache_is_saved_a_slice_at_a_time_as_one_json_document(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    import json

    monkeypatch.setattr(extract_mod, "SAVE_SLICE", 1)
    write(project.source_dir / "c.html", page("Third", "A third story."))
    extract_project(project, project.articles())
    text = (project.cache_dir / "extract.json").read_text("utf-8")
    data = json.loads(text)
    assert text == json.dumps(data, separators=(",", ":"))
    assert sorted(data["articles"]) == ["a", "b", "c"] and data["memory"]
    assert not list(project.cache_dir.glob(".extract.json.*"))  # (no temporary left)
    assert extract_project(project, project.articles()).skipped == 3


def test_htm_sources_are_found_unchanged_too(project: Project) -> None:
    # `.htm` with no `.html` beside it: the cache stamps that file (found by listing source/
    # only once some article looks changed), so a second run skips it like any other; an
    # `.html` added beside it then takes over, as `Project.source_path` says.
    (project.source_dir / "a.html").rename(project.source_dir / "a.htm")
    extract_project(project, project.articles())
    before = snapshot(project.root)
    report = extract_project(project, project.articles())
    assert report.written == [] and report.skipped == 2
    assert snapshot(project.root) == before
    write(project.source_dir / "a.html", page("Talks resumed", "Residents gathered outside."))
    report = extract_project(project, project.articles())
    assert report.skipped == 1
    assert read_catalog(project.pot_path("a")).find("Talks resumed") is not None
    assert extract_project(project, project.articles()).skipped == 2


def test_changed_source_keeps_translations(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    extract_project(project, project.articles())
    po_path = project.po_path("ru", "a")
    po = read_catalog(po_path)
    for e in po:
        e.msgstr = "RU " + e.msgid
    po_path.write_text(render_catalog(po), "utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")
    write(project.source_path("a"), page("Talks resume", "The minister said talks would "
          "resume on <em>Tuesday</em>.", "A new paragraph about the weather."))  # fmt: skip
    report = extract_project(project, ["a"])
    assert report.fuzzy == 1 and report.obsolete == 1
    po = read_catalog(po_path)
    changed = po.find("The minister said talks would resume on <em1>Tuesday</em1>.")
    assert changed is not None and "fuzzy" in changed.flags
    assert changed.previous_msgid == "The minister said talks would resume on <em1>Monday</em1>."
    gone = [e for e in po if e.obsolete]
    assert [e.msgstr for e in gone] == ["RU Residents gathered outside the hall."]
    assert read_catalog(project.pot_path("a")).metadata["POT-Creation-Date"] == (
        "2027-01-15 08:00+0000")
    # b.html did not change: its template keeps its date.
    assert read_catalog(project.pot_path("b")).metadata["POT-Creation-Date"] == (
        "2023-11-14 22:13+0000")


def test_memory_fills_entries_of_a_new_article(project: Project) -> None:
    extract_project(project, project.articles())
    po_path = project.po_path("ru", "a")
    po = read_catalog(po_path)
    footer = po.find("Support independent journalism in the Caucasus.")
    assert footer is not None
    footer.msgstr = "Поддержите независимую журналистику на Кавказе."
    po_path.write_text(render_catalog(po), "utf-8")
    write(project.source_path("c"), page("New story", "Something else happened."))
    report = extract_project(project, ["c"])
    assert report.from_memory >= 1
    new = read_catalog(project.po_path("ru", "c")).find(footer.msgid)
    assert new is not None and new.msgstr == footer.msgstr and "fuzzy" not in new.flags


def test_glossary_hints_in_catalogues(tmp_path: Path) -> None:
    project = make_project(tmp_path / "g", glossary=True)
    extract_project(project, project.articles())
    text = project.po_path("ru", "a").read_text("utf-8")
    assert "#. glossary: Stepanakert → Степанакерт" in text
    assert "glossary:" not in project.pot_path("a").read_text("utf-8")


def test_bad_article_leaves_every_file_as_it_was(project: Project) -> None:
    extract_project(project, project.articles())
    before = snapshot(project.root)
    write(project.source_path("a"), page("Talks resume", "Changed text."))
    project.source_path("b").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")  # not an HTML document
    write(project.source_path("c"), page("Brand new", "A new article."))
    with pytest.raises(InputError) as info:
        extract_project(project, project.articles())
    assert str(info.value).startswith(str(project.source_path("b")))
    assert snapshot(project.root) == before


def test_second_run_at_once_gets_a_conflict(project: Project) -> None:
    with project_lock(project.cache_dir / "lock"):
        with pytest.raises(ConflictError) as info:
            extract_project(project, project.articles())
    assert "another transflow command" in str(info.value)


def _extract_with_a_save_midway(project: Project, monkeypatch: pytest.MonkeyPatch,
                                new_paragraph: str, save: Callable[[Path], None]) -> Path:
    """Extract everything, add `new_paragraph` to article a, then extract a again with the
    translator's `save(ru/a.po)` made once, just before extract writes that catalogue."""
    extract_project(project, project.articles())
    write(project.source_path("a"), page("Talks resume", new_paragraph))
    po_path = project.po_path("ru", "a")
    original = extract_mod._write_po
    saved: list[bool] = []

    def translator_saves_first(project: Project, article: object, lang: str, glossary: object,
                               **kw: bool):  # fmt: skip
        if lang == "ru" and not saved:
            saved.append(True)
            save(po_path)
        return original(project, article, lang, glossary, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(extract_mod, "_write_po", translator_saves_first)
    extract_project(project, ["a"])
    return po_path


def test_concurrent_save_is_merged_not_overwritten(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    def save(po_path: Path) -> None:
        po = read_catalog(po_path)
        entry = po.find("Talks resume")
        assert entry is not None
        entry.msgstr = "Переговоры возобновились"
        po_path.write_text(render_catalog(po), "utf-8")
        os.utime(po_path, ns=(1, 1))  # even a save that keeps size and mtime odd is seen

    po_path = _extract_with_a_save_midway(project, monkeypatch, "A brand new paragraph.", save)
    po = read_catalog(po_path)
    entry = po.find("Talks resume")
    assert entry is not None and entry.msgstr == "Переговоры возобновились"
    assert po.find("A brand new paragraph.") is not None


def test_a_save_that_keeps_size_and_mtime_is_merged_not_overwritten(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Staging a merged catalogue does not read it again when its stamp is the one the merge
    # read: the commit compares what it replaces, so such a save still comes through.
    def save_in_the_same_tick(po_path: Path) -> None:
        st = po_path.stat()
        data = po_path.read_bytes()
        assert b"Automatically generated" in data
        po_path.write_bytes(data.replace(b"Automatically generated", b"Automatically generatex"))
        os.utime(po_path, ns=(st.st_atime_ns, st.st_mtime_ns))

    po_path = _extract_with_a_save_midway(project, monkeypatch, "A brand new paragraph.",
                                          save_in_the_same_tick)
    data = po_path.read_bytes()
    assert b"Automatically generatex" in data  # the save is kept...
    assert read_catalog(po_path).find("A brand new paragraph.") is not None  # ...and merged


def test_save_just_before_the_renames_is_merged_too(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    extract_project(project, project.articles())
    write(project.source_path("a"), page("Talks resume", "Another new paragraph."))
    po_path = project.po_path("ka", "a")
    original = extract_mod._commit

    def translator_saves_at_commit(project: Project, work: list, glossary: object) -> None:
        po = read_catalog(po_path)
        entry = po.find("Talks resume")
        assert entry is not None
        entry.msgstr = "მოლაპარაკებები განახლდა"
        po_path.write_text(render_catalog(po), "utf-8")
        os.utime(po_path, ns=(2, 2))
        original(project, work, glossary)

    monkeypatch.setattr(extract_mod, "_commit", translator_saves_at_commit)
    extract_project(project, ["a"])
    po = read_catalog(po_path)
    entry = po.find("Talks resume")
    assert entry is not None and entry.msgstr == "მოლაპარაკებები განახლდა"
    assert po.find("Another new paragraph.") is not None
    assert not list(po_path.parent.glob(".*.tmp"))


def test_cli_extract_and_bad_input_exit_code(project: Project) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["-C", str(project.root), "extract"])
    assert result.exit_code == 0, result.output
    assert "6 files written" in result.output
    project.source_path("a").write_bytes(b"\x00\x01binary")
    result = runner.invoke(main, ["-C", str(project.root), "extract"])
    assert result.exit_code == 2
    assert "a.html" in result.output and "Traceback" not in result.output


# --- `extract --check` (CI) and the translation memory on disk ------------------------------


def run_cli(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["-C", str(root), *args])
    return result.exit_code, result.output


def test_extract_check_writes_nothing_and_lists_what_would_change(project: Project) -> None:
    root = project.root
    code, out = run_cli(root, "extract", "--check")
    assert code == 1
    assert "would change locales/templates/a.pot" in out and "would change locales/ru/b.po" in out
    assert not (root / "locales").exists()  # nothing written, not even a folder
    assert run_cli(root, "-q", "extract")[0] == 0
    code, out = run_cli(root, "extract", "--check")
    assert (code, "every catalogue is current" in out) == (0, True)
    before = snapshot(root)
    write(project.source_path("b"), page("Road closed", "The road to the border was closed.",
                                         "A new paragraph nobody translated yet."))  # fmt: skip
    code, out = run_cli(root, "-q", "extract", "--check")
    assert code == 1
    assert sorted(line for line in out.splitlines() if line.startswith("would change")) == [
        "would change locales/ka/b.po", "would change locales/ru/b.po",
        "would change locales/templates/b.pot"]  # fmt: skip
    assert snapshot(root) == before
    assert not list((root / "locales").rglob("*.tmp"))
    # A translator's save alone changes nothing extract would write: still current.
    assert run_cli(root, "-q", "extract")[0] == 0
    po = read_catalog(project.po_path("ru", "b"))
    for e in po:
        e.msgstr = "RU " + e.msgid
    project.po_path("ru", "b").write_text(render_catalog(po), "utf-8")
    assert run_cli(root, "extract", "--check")[0] == 0


def translate_all(project: Project, slug: str, lang: str, prefix: str) -> None:
    po = read_catalog(project.po_path(lang, slug))
    for e in po:
        e.msgstr = prefix + e.msgid
    project.po_path(lang, slug).write_text(render_catalog(po), "utf-8")


def test_a_new_paragraph_close_to_another_articles_comes_out_fuzzy_from_the_memory(
        project: Project) -> None:  # fmt: skip
    extract_project(project, project.articles())
    translate_all(project, "b", "ru", "RU ")
    write(project.source_path("a"), page("Talks resume", "The minister said talks would "
          "resume on <em>Monday</em>.", "Residents gathered outside the hall.",
          "The road to the border was closed again."))  # fmt: skip
    report = extract_project(project, ["a"])
    assert report.from_memory >= 1
    po = read_catalog(project.po_path("ru", "a"))
    close = po.find("The road to the border was closed again.")
    assert close is not None and "fuzzy" in close.flags
    assert close.msgstr == "RU The road to the border was closed."
    assert close.previous_msgid == "The road to the border was closed."
    assert (project.cache_dir / "memory.sqlite3").is_file()


def test_imported_units_in_the_memory_file_fill_new_entries(project: Project) -> None:
    extract_project(project, project.articles())
    memory = project.locales_dir / "memory" / "ka.po"
    write(memory, 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
          '# imported from agency.tmx\nmsgid "The bridge over the river reopened."\n'
          'msgstr "ხიდი გაიხსნა."\n')  # fmt: skip
    write(project.source_path("b"), page("Road closed", "The road to the border was closed.",
                                         "The bridge over the river reopened."))  # fmt: skip
    extract_project(project, ["b"])
    entry = read_catalog(project.po_path("ka", "b")).find("The bridge over the river reopened.")
    assert entry is not None and entry.msgstr == "ხიდი გაიხსნა." and "fuzzy" not in entry.flags
    assert memory.read_text("utf-8").count("msgid") == 2  # extract never writes the memory file
    # The memory file is no article: status counts no "memory" language nor catalogue.
    code, out = run_cli(project.root, "status", "--json")
    assert code == 0 and '"memory"' not in out


@pytest.mark.parametrize("damage", ["garbage", "directory", "empty"])
def test_extract_with_a_damaged_memory_database_still_fills(project: Project, damage: str) -> None:
    extract_project(project, project.articles())
    translate_all(project, "b", "ru", "RU ")
    db = project.cache_dir / "memory.sqlite3"
    assert db.is_file()  # the first extract made it
    if damage == "directory":
        db.unlink()
        db.mkdir()
    else:
        db.parent.mkdir(parents=True, exist_ok=True)
        db.write_bytes(b"" if damage == "empty" else b"\x00garbage" * 999)
    write(project.source_path("a"), page("Talks resume", "The road to the border was closed."))
    code, out = run_cli(project.root, "-v", "extract")
    assert code == 0, out
    assert "translation memory" in out  # -v says what happened to it
    entry = read_catalog(project.po_path("ru", "a")).find("The road to the border was closed.")
    assert entry is not None and entry.msgstr == "RU The road to the border was closed."


def test_the_memory_learns_what_a_run_wrote_so_the_next_edit_parses_nothing_again(
        project: Project) -> None:  # fmt: skip
    extract_project(project, project.articles())
    translate_all(project, "b", "ru", "RU ")
    write(project.source_path("a"), page("Talks resume", "The road to the border was closed."))
    first = extract_project(project, ["a"])  # the memory is used, then told what was written
    assert any("translation memory:" in note for note in first.notes)
    write(project.source_path("a"), page("Talks resume", "The road to the border was closed.",
                                         "Another new paragraph."))  # fmt: skip
    second = extract_project(project, ["a"])
    note = next(n for n in second.notes if n.startswith("translation memory:"))
    assert ", 0 changed," in note, note  # nothing parsed again: a stat (and a hash) at most
