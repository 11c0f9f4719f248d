"""extract's cache and the translation memory in step: skipping is never a stale answer.

When the memory and `build/.cache/extract.json` hold the same token, the memory looks only at
the catalogues of the articles that extract's cache did not find unchanged (at 10,000 articles,
20,000 stats fewer). Every step below is compared with a copy of the project whose caches are
deleted before each run: the catalogues must come out byte for byte the same.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from transflow.catalog import read_catalog, render_catalog
from transflow.extract import extract_project
from transflow.project import Project, read_project

from .conftest import corpus_po_files
from .test_extract import make_project, page, write
from .test_memory import needs_corpus_po

ROAD = "The road to the border was closed."
BRIDGE = "The bridge over the river reopened after repairs."


@pytest.fixture(params=["here", "isolated"])
def pair(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
         request: pytest.FixtureRequest) -> tuple[Project, Project]:  # fmt: skip
    """The project, and its control copy (extracted each time without any cache).

    "isolated": every refresh of the memory runs in a forked child process, as a big one does.
    """
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    if request.param == "isolated":
        monkeypatch.setattr("transflow.extract.ISOLATED_MIN_CATALOGUES", 0)
    project = make_project(tmp_path / "news")
    write(project.source_path("b"), page("Road closed", ROAD, BRIDGE,
                                         "Residents gathered outside the hall."))  # fmt: skip
    shutil.copytree(project.root, tmp_path / "control")
    return project, read_project(tmp_path / "control" / "transflow.toml")


def catalogues(project: Project) -> dict[str, bytes]:
    return {str(p.relative_to(project.root)): p.read_bytes()
            for p in sorted(project.locales_dir.rglob("*.po*"))}  # fmt: skip


def extract_both(pair: tuple[Project, Project], articles: list[str] | None = None) -> list[str]:
    """Extract in both (the control from no cache at all); the project's notes."""
    project, control = pair
    shutil.rmtree(control.cache_dir, ignore_errors=True)
    extract_project(control, articles or control.articles())
    report = extract_project(project, articles or project.articles())
    assert catalogues(project) == catalogues(control)
    return list(report.notes)


def in_both(pair: tuple[Project, Project], edit: object) -> None:
    for project in pair:
        edit(project)  # type: ignore[operator]


def translate(slug: str, lang: str, prefix: str) -> object:
    def edit(project: Project) -> None:
        path = project.po_path(lang, slug)
        po = read_catalog(path)
        for e in po:
            if not e.obsolete:
                e.msgstr = prefix + e.msgid
        path.write_text(render_catalog(po), "utf-8")
    return edit


def source(slug: str, title: str, *paragraphs: str) -> object:
    def edit(project: Project) -> None:
        write(project.source_path(slug), page(title, *paragraphs))
    return edit


def looked_at(notes: list[str]) -> int | None:
    for note in notes:
        if note.startswith("translation memory:"):
            return int(note.split(": ")[1].split()[0])
    return None


def test_the_memory_skips_what_the_cache_vouches_for_and_answers_as_from_scratch(
        pair: tuple[Project, Project]) -> None:  # fmt: skip
    project = pair[0]
    extract_both(pair)
    token = json.loads((project.cache_dir / "extract.json").read_text())["memory"]
    assert token is not None  # the first run opened the memory: both record a token
    in_both(pair, translate("b", "ru", "RU "))
    in_both(pair, translate("b", "ka", "KA "))
    # A subset run: b was not looked at by extract's cache, so the memory looks at it.
    in_both(pair, source("a", "Talks resume", "Residents gathered outside the hall.", ROAD))
    notes = extract_both(pair, ["a"])
    a_ru = read_catalog(project.po_path("ru", "a")).find(ROAD)
    assert a_ru is not None and a_ru.msgstr == "RU " + ROAD and "fuzzy" not in a_ru.flags
    # A whole run with one new paragraph: b's catalogues changed since extract last stamped
    # them (the translator), so they are looked at too; the next such run, a's alone.
    in_both(pair, source("a", "Talks resume", "Residents gathered outside the hall.", ROAD,
                         "A paragraph nobody wrote before."))  # fmt: skip
    notes = extract_both(pair)
    assert looked_at(notes) == 6, notes  # a's and b's ka and ru, locales/memory/{ka,ru}.po
    in_both(pair, source("a", "Talks resume", "Residents gathered outside the hall.", ROAD,
                         "A second paragraph nobody wrote before."))  # fmt: skip
    notes = extract_both(pair)
    assert looked_at(notes) == 4, notes  # a's ka and ru, locales/memory/{ka,ru}.po
    # b loses BRIDGE (made obsolete in b's catalogues) in a run that needs no memory...
    in_both(pair, source("b", "Road closed", ROAD, "Residents gathered outside the hall."))
    notes = extract_both(pair)
    assert looked_at(notes) is None  # (the memory was not opened)
    # ... so the next run's memory must not fill BRIDGE from b's old catalogue.
    in_both(pair, source("a", "Talks resume", BRIDGE))
    notes = extract_both(pair)
    assert looked_at(notes) == 2 * 2 + 2, notes  # no token: every catalogue looked at
    a_ru = read_catalog(project.po_path("ru", "a")).find(BRIDGE)
    assert a_ru is not None and a_ru.msgstr == ""
    # A translator's save of a catalogue the cache recorded: a is no longer fresh, looked at
    # (b revives its own obsolete translation of BRIDGE: the memory is not asked for it).
    in_both(pair, translate("a", "ru", "RU2 "))
    in_both(pair, source("b", "Road closed", ROAD, "Residents gathered outside the hall.",
                         BRIDGE, "Another paragraph of b nobody wrote before."))  # fmt: skip
    notes = extract_both(pair)
    assert looked_at(notes) == 6, notes  # a's and b's, and the memory files
    # A new article: the token covers the article list, so every catalogue is looked at.
    in_both(pair, source("c", "Bridge", BRIDGE, "A paragraph of c nobody wrote before."))
    notes = extract_both(pair)
    assert looked_at(notes) == 2 * 3 + 2, notes
    c_ru = read_catalog(project.po_path("ru", "c")).find(BRIDGE)
    assert c_ru is not None and c_ru.msgstr in ("RU2 " + BRIDGE, "RU " + BRIDGE)
    # An article deleted: the token covers the article list, so every catalogue is looked at.
    for p in pair:
        p.source_path("c").unlink()
    in_both(pair, source("a", "Talks resume", BRIDGE, "Yet another paragraph nobody wrote."))
    notes = extract_both(pair)
    assert looked_at(notes) == 2 * 2 + 2, notes


def test_runs_without_the_memory_keep_its_token_and_what_they_re_merged(
        pair: tuple[Project, Project]) -> None:  # fmt: skip
    """A translator's save re-merged by a run that needs no memory keeps the token, with the
    article pending: the next run that opens the memory looks at it (and learns the save), not
    at every catalogue; answers as from scratch at every step."""
    project = pair[0]
    third = "A paragraph of c nobody else wrote."
    in_both(pair, source("c", "Hall", third))
    in_both(pair, source("d", "Quiet", "Nothing happened in d."))
    extract_both(pair)

    def memory() -> list[object]:
        return list(json.loads((project.cache_dir / "extract.json").read_text())["memory"])

    token = memory()[0]
    assert memory()[2] == []
    in_both(pair, translate("b", "ru", "RU "))  # (b's BRIDGE, translated)
    notes = extract_both(pair)
    assert looked_at(notes) is None  # (nothing new to fill: the memory was not opened)
    assert memory() == [token, memory()[1], ["b"]]
    in_both(pair, translate("c", "ru", "RU "))
    notes = extract_both(pair)
    assert looked_at(notes) is None
    assert memory() == [token, memory()[1], ["b", "c"]]
    # New paragraphs in a, translated only in the saves the memory has not seen yet.
    in_both(pair, source("a", "Talks resume", BRIDGE, third))
    notes = extract_both(pair)
    assert looked_at(notes) == 3 * 2 + 2, notes  # a's, b's, c's, the memory files: not d's
    a_ru = read_catalog(project.po_path("ru", "a"))
    assert [a_ru.find(m).msgstr for m in (BRIDGE, third)] == ["RU " + BRIDGE, "RU " + third]
    assert memory()[0] != token and memory()[2] == []
    # b loses BRIDGE in a run without the memory: pending again, and looked at next time.
    in_both(pair, source("b", "Road closed", ROAD, "Residents gathered outside the hall."))
    assert looked_at(extract_both(pair)) is None and memory()[2] == ["b"]
    in_both(pair, source("d", "Quiet", "Nothing happened in d.", BRIDGE))
    notes = extract_both(pair)
    assert looked_at(notes) == 2 * 2 + 2, notes  # b's, d's, the memory files
    d_ru = read_catalog(project.po_path("ru", "d")).find(BRIDGE)
    assert d_ru is not None and d_ru.msgstr == "RU " + BRIDGE  # (a's, filled above)
    assert memory()[2] == []


def test_a_memory_token_that_does_not_match_means_a_full_look(
        pair: tuple[Project, Project]) -> None:  # fmt: skip
    project = pair[0]
    extract_both(pair)
    cache = project.cache_dir / "extract.json"
    data = json.loads(cache.read_text())
    data["memory"][0] = "0" * 16  # another run's token (the memory was updated without it)
    cache.write_text(json.dumps(data))
    in_both(pair, translate("b", "ru", "RU "))
    in_both(pair, source("a", "Talks resume", ROAD))
    notes = extract_both(pair)
    assert looked_at(notes) == 2 * 2 + 2, notes


def test_a_run_that_rewrites_most_catalogues_hands_the_memory_its_merges(
        pair: tuple[Project, Project], monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    import transflow.memory as memory_mod
    from transflow.memory import DB_FILE, SqliteMemory, project_catalogues

    monkeypatch.setattr(memory_mod, "BULK_MIN_READS", 1)  # (this newsroom is tiny)
    project = pair[0]
    extract_both(pair)
    in_both(pair, translate("b", "ru", "RU "))
    in_both(pair, translate("a", "ka", "KA "))
    in_both(pair, source("a", "Talks resume", "Residents gathered outside the hall!", ROAD))
    in_both(pair, source("b", "Road closed", ROAD, BRIDGE, "A paragraph nobody wrote before."))
    learning: list[bool] = []
    parsed: list[str] = []
    real_pairs, real_learn = memory_mod.catalogue_pairs, SqliteMemory.learn

    def counting(data: bytes, path: str) -> list[tuple[str, str]]:
        if learning:
            parsed.append(path)
        return real_pairs(data, path)

    def learn(self: SqliteMemory, *args: object, **kwargs: object) -> object:
        learning.append(True)
        try:
            return real_learn(self, *args, **kwargs)  # type: ignore[arg-type]
        finally:
            learning.clear()

    monkeypatch.setattr(memory_mod, "catalogue_pairs", counting)
    monkeypatch.setattr(SqliteMemory, "learn", learn)
    extract_both(pair)
    # Every catalogue rewritten, the memory rebuilt after the commit from what the merges
    # taught: none parsed again (the control, from no cache, parses only the memory files).
    assert parsed == [], parsed
    monkeypatch.setattr(memory_mod, "catalogue_pairs", real_pairs)
    cats = project_catalogues(project, project.languages)
    learned = SqliteMemory(project.cache_dir / DB_FILE)
    scratch = SqliteMemory(project.root / "scratch.sqlite3")
    scratch.refresh(cats)
    assert learned.languages() == scratch.languages()
    for lang in project.languages:
        for cat in cats:
            if cat[0] == lang and Path(cat[1]).is_file():
                for e in read_catalog(Path(cat[1])):
                    for query in (e.msgid, e.msgid + " again", e.msgid[:-3]):
                        assert learned.lookup(lang, query) == scratch.lookup(lang, query)
    assert learned.lookup("ru", ROAD) == (ROAD, "RU " + ROAD, 100.0)


@needs_corpus_po
def test_the_pairs_a_merge_hands_over_are_those_its_bytes_teach() -> None:
    # What `memory.Hints` relies on: rendering a catalogue and parsing it back teaches the
    # memory the same pairs, in the same order, as the catalogue object did (real catalogues).
    from transflow.catalog import catalog_bytes, memory_pairs, parse_catalog
    from transflow.memory import catalogue_pairs

    files = corpus_po_files()
    assert files
    for path in files:
        po = parse_catalog(path.read_bytes(), path)
        assert memory_pairs(po) == catalogue_pairs(catalog_bytes(po), str(path)), path


def test_a_run_with_nothing_to_do_writes_no_cache(pair: tuple[Project, Project]) -> None:
    project = pair[0]
    extract_both(pair)
    cache = project.cache_dir / "extract.json"
    before = cache.stat().st_mtime_ns, cache.read_bytes()
    extract_project(project, project.articles())
    assert (cache.stat().st_mtime_ns, cache.read_bytes()) == before


def test_many_files_renamed_by_threads_in_slices_come_out_the_same(
        pair: tuple[Project, Project], monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    import transflow.extract as extract_mod

    # (The path a cold run of thousands of files takes: one sync, renames by threads.)
    project, control = pair
    defaults = extract_mod.FSYNC_MAX_FILES, extract_mod.RENAME_SLICE
    monkeypatch.setattr(extract_mod, "FSYNC_MAX_FILES", 0)
    monkeypatch.setattr(extract_mod, "RENAME_SLICE", 2)
    extract_project(project, project.articles())
    monkeypatch.setattr(extract_mod, "FSYNC_MAX_FILES", defaults[0])
    monkeypatch.setattr(extract_mod, "RENAME_SLICE", defaults[1])
    extract_project(control, control.articles())
    assert catalogues(project) == catalogues(control)
    assert not [p for p in project.locales_dir.rglob("*") if p.name.endswith(".tmp")]


def test_a_run_that_fails_after_the_memory_changed_leaves_no_token(
        pair: tuple[Project, Project], monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    import sqlite3

    import transflow.extract as extract_mod

    project = pair[0]
    extract_both(pair)
    in_both(pair, translate("b", "ru", "RU "))
    in_both(pair, source("a", "Talks resume", ROAD))

    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("killed before the commit")

    monkeypatch.setattr(extract_mod, "_commit", fail)
    with pytest.raises(RuntimeError):
        extract_project(project, project.articles())  # the memory read b's save, then died
    con = sqlite3.connect(project.cache_dir / "memory.sqlite3")
    assert con.execute("SELECT value FROM meta WHERE key = 'synced'").fetchall() == []
    con.close()
    monkeypatch.undo()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    notes = extract_both(pair)
    assert looked_at(notes) == 2 * 2 + 2, notes  # no token: every catalogue looked at


def test_a_cache_of_the_previous_format_is_taken_over_not_thrown_away(
        pair: tuple[Project, Project]) -> None:  # fmt: skip
    import transflow.extract as extract_mod

    project = pair[0]
    extract_both(pair)
    path = project.cache_dir / "extract.json"
    data = json.loads(path.read_text())
    key = json.loads(data["key"])
    root = str(project.root)
    # As version 4 wrote it: stamps by absolute path.
    old = {slug: {"source": flat[:2], "outputs": {
        f"{root}/locales/templates/{slug}.pot": flat[2:4],
        **{f"{root}/locales/{lang}/{slug}.po": flat[4 + 2 * i : 6 + 2 * i]
           for i, lang in enumerate(key[-1])}}} for slug, flat in data["articles"].items()}
    path.write_text(json.dumps({"key": json.dumps([4, *key[1:]]), "articles": old}))
    report = extract_project(project, project.articles())
    assert report.skipped == len(project.articles())  # nothing merged again after an upgrade
    assert json.loads(path.read_text())["articles"] == data["articles"]
    assert extract_mod.CACHE_VERSION == 5
    # Another version's settings (here: the languages) are not taken over.
    key[-1] = ["ka"]
    path.write_text(json.dumps({"key": json.dumps([4, *key[1:]]), "articles": old}))
    assert extract_project(project, project.articles()).skipped == 0


def _rewrite_most(pair: tuple[Project, Project], monkeypatch: pytest.MonkeyPatch) -> None:
    """A first extract, then edits that make the next run rewrite every catalogue."""
    import transflow.memory as memory_mod

    monkeypatch.setattr(memory_mod, "BULK_MIN_READS", 1)  # (this newsroom is tiny)
    extract_both(pair)
    in_both(pair, translate("b", "ru", "RU "))
    in_both(pair, source("a", "Talks resume", "Residents gathered outside the hall!", ROAD))
    in_both(pair, source("b", "Road closed", ROAD, BRIDGE, "A paragraph nobody wrote before."))


def _same_answers_as_a_fresh_memory(project: Project) -> None:
    from transflow.memory import DB_FILE, SqliteMemory, project_catalogues

    cats = project_catalogues(project, project.languages)
    learned = SqliteMemory(project.cache_dir / DB_FILE)
    scratch = SqliteMemory(project.root / "scratch.sqlite3")
    scratch.refresh(cats)
    assert learned.languages() == scratch.languages()
    for cat in cats:
        if Path(cat[1]).is_file():
            for e in read_catalog(Path(cat[1])):
                for query in (e.msgid, e.msgid + " again", e.msgid[:-3]):
                    assert learned.lookup(cat[0], query) == scratch.lookup(cat[0], query)
    assert not list(project.cache_dir.glob(".memory-fill.*"))


def _with_article_workers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Article workers even in this tiny newsroom; the counts `prefork` was called with."""
    import transflow.extract as extract_mod
    from transflow.memory import SqliteMemory

    monkeypatch.setattr(extract_mod, "PARALLEL_MIN_ARTICLES", 1)
    calls: list[int] = []
    real = SqliteMemory.prefork

    def prefork(self: SqliteMemory, hints: object, count: int) -> object:
        calls.append(count)
        return real(self, hints, count)  # type: ignore[arg-type]

    monkeypatch.setattr(SqliteMemory, "prefork", prefork)
    return calls


@pytest.mark.parametrize("workers", [False, True], ids=["one process", "article workers"])
def test_a_run_rewriting_most_catalogues_rebuilds_the_memory_beside_its_commit(
        pair: tuple[Project, Project], monkeypatch: pytest.MonkeyPatch,
        workers: bool) -> None:  # fmt: skip
    from transflow.memory import SqliteMemory

    _rewrite_most(pair, monkeypatch)
    calls = _with_article_workers(monkeypatch) if workers else None
    project = pair[0]

    def no_learning(self: SqliteMemory, *args: object, **kwargs: object) -> object:
        raise AssertionError("learned after the commit: the rebuild beside it was not used")

    monkeypatch.setattr(SqliteMemory, "learn", no_learning)
    extract_both(pair)
    if workers:
        assert calls  # (the rebuild child forked before the workers, handed the hints after)
    _same_answers_as_a_fresh_memory(project)
    assert SqliteMemory(project.cache_dir / "memory.sqlite3").lookup("ru", ROAD) == (
        ROAD, "RU " + ROAD, 100.0)


def test_a_save_landing_after_the_commit_is_what_the_rebuilt_memory_learns(
        pair: tuple[Project, Project], monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    import transflow.extract as extract_mod

    _rewrite_most(pair, monkeypatch)
    project = pair[0]
    real_commit = extract_mod._commit

    def commit_then_a_save(*args: object) -> None:
        real_commit(*args)  # type: ignore[arg-type]
        translate("a", "ka", "KA ")(project)  # a translator's save, before the memory learns

    monkeypatch.setattr(extract_mod, "_commit", commit_then_a_save)
    extract_project(project, project.articles())
    _same_answers_as_a_fresh_memory(project)
    from transflow.memory import SqliteMemory

    assert SqliteMemory(project.cache_dir / "memory.sqlite3").lookup("ka", ROAD) == (
        ROAD, "KA " + ROAD, 100.0)


@pytest.mark.parametrize("workers", [False, True], ids=["one process", "article workers"])
def test_a_failed_commit_leaves_the_memory_as_it_was_and_no_rebuild_behind(
        pair: tuple[Project, Project], monkeypatch: pytest.MonkeyPatch,
        workers: bool) -> None:  # fmt: skip
    import transflow.extract as extract_mod
    from transflow.memory import SqliteMemory

    _rewrite_most(pair, monkeypatch)
    calls = _with_article_workers(monkeypatch) if workers else None
    project = pair[0]
    db = project.cache_dir / "memory.sqlite3"
    real_commit = extract_mod._commit

    def failing(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(extract_mod, "_commit", failing)
    with pytest.raises(OSError):
        extract_project(project, project.articles())
    if workers:
        assert calls  # (a rebuild child was started, and stopped: no file left, below)
    # The catalogues are as they were, and so is the memory (as the run's start found them).
    _same_answers_as_a_fresh_memory(project)
    assert SqliteMemory(db).lookup("ru", ROAD) == (ROAD, "RU " + ROAD, 100.0)
    monkeypatch.setattr(extract_mod, "_commit", real_commit)
    extract_project(project, project.articles())
    _same_answers_as_a_fresh_memory(project)


def test_a_rebuild_process_that_fails_leaves_the_learning_to_the_run(
        pair: tuple[Project, Project], monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    from transflow.memory import SqliteMemory

    _rewrite_most(pair, monkeypatch)
    project = pair[0]

    def dying(self: SqliteMemory, *args: object) -> int:
        return 3

    learned: list[bool] = []
    real_learn = SqliteMemory.learn

    def learn(self: SqliteMemory, *args: object, **kwargs: object) -> object:
        learned.append(True)
        return real_learn(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(SqliteMemory, "_prefill_child", dying)
    monkeypatch.setattr(SqliteMemory, "learn", learn)
    extract_project(project, project.articles())
    assert learned == [True]
    _same_answers_as_a_fresh_memory(project)


def test_with_article_workers_a_run_writing_little_stops_the_rebuild_child(
        pair: tuple[Project, Project], monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    import transflow.memory as memory_mod

    _rewrite_most(pair, monkeypatch)
    calls = _with_article_workers(monkeypatch)
    project = pair[0]
    # Forked on the estimate (every article to merge), then the merges write too little.
    real_start = memory_mod.Prefill.start

    def start(self: memory_mod.Prefill, hints: object, count: int) -> bool:
        return real_start(self, hints, 0)  # type: ignore[arg-type]

    monkeypatch.setattr(memory_mod.Prefill, "start", start)
    extract_both(pair)
    assert calls
    _same_answers_as_a_fresh_memory(project)
