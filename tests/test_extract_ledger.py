"""What extract's parent keeps between the merges and the report, packed (`extract._Ledger`,
`extract._PairSpill`): the same report, files and memory hints as objects gave; a failure
while the files are renamed leaves every file whole and no temporary behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import transflow.extract as extract_mod
from transflow.catalog import MergeStats, read_catalog
from transflow.extract import STAGED_SUFFIX, extract_project
from transflow.project import Project

from .test_extract import make_project, page, write


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    return make_project(tmp_path / "news")


def _more_articles(project: Project, count: int) -> None:
    for n in range(count):
        write(project.source_dir / "more" / f"story-{n:02d}.html",
              page(f"Story {n}", f"Paragraph {n} of the day.",
                   "Residents gathered outside the hall."))  # fmt: skip


def _temporaries(project: Project) -> list[Path]:
    return sorted(p for p in project.root.rglob(f"*{STAGED_SUFFIX}"))


@pytest.mark.parametrize("workers", [False, True], ids=["one process", "article workers"])
def test_the_report_names_every_file_as_the_project_does(
        project: Project, monkeypatch: pytest.MonkeyPatch, workers: bool) -> None:  # fmt: skip
    _more_articles(project, 5)
    if workers:
        monkeypatch.setattr(extract_mod, "PARALLEL_MIN_ARTICLES", 1)
    articles = project.articles()
    report = extract_project(project, articles)
    expected = []
    for slug in articles:
        expected.append(project.relative(project.pot_path(slug)))
        expected += [project.relative(project.po_path(lang, slug)) for lang in project.languages]
    files = list(report.files)
    assert [f.path for f in files] == expected
    assert len(report.files) == len(files) and report.files[-1] == files[-1]
    assert all(f.written for f in files) and len(report.written) == len(files)
    assert all((f.stats is None) == f.path.endswith(".pot") for f in files)
    # The summary's counts are the sums of the files' (as with a tuple of `FileResult`).
    plain = extract_mod.ExtractReport(report.articles, report.skipped, tuple(files),
                                      report.languages)  # fmt: skip
    assert report.summary() == plain.summary()
    assert list(report.detail_lines()) == list(plain.detail_lines())
    assert report.new == sum(f.stats.new for f in files if f.stats) > 0
    # Every file named exists, and is whole.
    for f in files:
        assert (project.root / f.path).is_file()
        if f.path.endswith(".po"):
            read_catalog(project.root / f.path)
    assert _temporaries(project) == []
    # Nothing changed: nothing written, every file counted as unchanged.
    again = extract_project(project, articles)
    assert again.written == [] and again.skipped == len(articles)


def test_check_reports_the_files_that_would_change(project: Project,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extract_mod, "PARALLEL_MIN_ARTICLES", 1)
    extract_project(project, project.articles())
    write(project.source_path("b"), page("Road closed", "The road to the border was closed.",
                                         "A paragraph added since."))  # fmt: skip
    report = extract_project(project, project.articles(), check=True)
    assert [f.path for f in report.written] == [
        "locales/templates/b.pot", "locales/ka/b.po", "locales/ru/b.po"]
    assert list(report.detail_lines()) == [f"would change {f.path}" for f in report.written]
    assert _temporaries(project) == []


def test_a_temporary_with_another_name_is_still_committed(project: Project) -> None:
    ledger = extract_mod._Ledger(project, ["a"], ("ka", "ru"))
    stats = MergeStats(total=3, new=1, fuzzy=1, obsolete=0, revived=0, from_memory=1)
    odd = os.fspath(project.locales_dir / "ka" / "elsewhere.tmp")
    usual = extract_mod._spill(project.po_path("ru", "a"), b"x")
    article = extract_mod._Article("a", None, None, {
        "ka": extract_mod._Merged("a", odd, stats, (1, 2), "ab" * 16),
        "ru": extract_mod._Merged("a", usual, stats, None, None)})
    article.staged += [
        extract_mod._Staged(os.fspath(project.po_path("ka", "a")), odd, (1, 2), "ka", "ab" * 16),
        extract_mod._Staged(os.fspath(project.po_path("ru", "a")), usual, None, "ru", None)]
    ledger.add(article, [(False, None), (True, stats), (True, stats)])
    assert [(i, item) for i, item in ledger.staged_files()] == [(0, s) for s in article.staged]
    assert (ledger.staged, ledger.merged_changed, ledger.written_pos) == (2, 2, 2)
    files = list(ledger.files())
    assert [(f.path, f.written, f.stats) for f in files] == [
        ("locales/templates/a.pot", False, None), ("locales/ka/a.po", True, stats),
        ("locales/ru/a.po", True, stats)]


def test_the_pair_spill_finds_each_catalogue_by_path(project: Project) -> None:
    slugs = ["b", "a/x", "c"]  # (not sorted: found through a dict, not by bisection)
    for order in (slugs, sorted(slugs)):
        spill = extract_mod._PairSpill(project.cache_dir)
        spill.begin(project, order, ("ka", "ru"))
        try:
            for i, slug in enumerate(order):
                merged = {lang: extract_mod._Merged(slug, None, MergeStats(), None, None,
                                                    (f"{i:032x}", f"{slug}/{lang}".encode()))
                          for lang in ("ka", "ru") if (slug, lang) != ("c", "ru")}  # fmt: skip
                taken = spill.take(i, extract_mod._Article(slug, None, None, merged))
                assert all(m.hint is None for m in taken.merged.values())
            project.cache_dir.mkdir(parents=True, exist_ok=True)
            state = spill.export()
            child = extract_mod._PairSpill(project.cache_dir)  # (as a child forked after begin)
            child.begin(project, order, ("ka", "ru"))
            child._file = spill._file
            child.adopt(state)
            for reader in (spill, child):
                for i, slug in enumerate(order):
                    for lang in ("ka", "ru"):
                        path = os.fspath(project.po_path(lang, slug))
                        raw = reader._entry(path)
                        if (slug, lang) == ("c", "ru"):
                            assert raw is None and path not in reader
                            continue
                        assert path in reader
                        assert raw is not None and raw[0] == bytes.fromhex(f"{i:032x}")
                assert reader._entry(os.fspath(project.po_path("ka", "zz"))) is None
                assert reader._entry(os.fspath(project.locales_dir / "ka.po")) is None
                assert os.fspath(project.po_path("de", "a/x")) not in reader
        finally:
            spill.close()


def test_the_pair_spill_hands_back_the_pairs(project: Project) -> None:
    import marshal

    spill = extract_mod._PairSpill(project.root)
    spill.begin(project, ["a", "b"], ("ka",))
    pairs = [("Talks resume", "მოლაპარაკებები")]
    merged = extract_mod._Merged("b", None, MergeStats(), None, None,
                                 ("cd" * 16, marshal.dumps(pairs)))  # fmt: skip
    spill.take(1, extract_mod._Article("b", None, None, {"ka": merged}))
    try:
        assert spill.get(os.fspath(project.po_path("ka", "b"))) == ("cd" * 16, pairs)
        assert spill.get(os.fspath(project.po_path("ka", "a"))) is None
    finally:
        spill.close()


@pytest.mark.parametrize("many", [False, True], ids=["fsync each", "one sync, threads"])
def test_a_failed_rename_leaves_every_file_whole_and_no_temporary(
        project: Project, monkeypatch: pytest.MonkeyPatch, many: bool) -> None:  # fmt: skip
    _more_articles(project, 30)
    if many:  # (more staged files than FSYNC_MAX_FILES: os.sync and the renaming threads)
        monkeypatch.setattr(extract_mod, "FSYNC_MAX_FILES", 4)
        monkeypatch.setattr(extract_mod, "RENAME_SLICE", 7)
    monkeypatch.setattr(extract_mod, "PARALLEL_MIN_ARTICLES", 1)
    articles = project.articles()
    extract_project(project, articles)
    for slug in articles:  # every article changed: every file is to be replaced
        text = project.source_path(slug).read_text("utf-8")
        project.source_path(slug).write_text(text.replace("</h1>", "</h1>\n<p>Update.</p>"))
    before = {p: p.read_bytes() for p in project.locales_dir.rglob("*.po*")}
    real = extract_mod.replace_if_unchanged
    calls: list[int] = []

    def disk_full(tmp: str, path: Path, *args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 20:
            raise OSError(28, "No space left on device")
        return real(tmp, path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(extract_mod, "replace_if_unchanged", disk_full)
    with pytest.raises(OSError):
        extract_project(project, articles)
    assert _temporaries(project) == []
    after = {p: p.read_bytes() for p in project.locales_dir.rglob("*.po*")}
    assert sorted(after) == sorted(before)
    replaced = [p for p in after if after[p] != before[p]]
    assert replaced and len(replaced) < len(after)  # (the failure came midway)
    for path in after:  # each file is the old one or the new one, whole
        assert b"Update." in after[path] or after[path] == before[path]
        if path.suffix == ".po":
            assert read_catalog(path).find("Update.") is not None or after[path] == before[path]
    monkeypatch.setattr(extract_mod, "replace_if_unchanged", real)
    report = extract_project(project, articles)  # the next run finishes the job
    assert all(b"Update." in p.read_bytes() for p in project.locales_dir.rglob("*.po*"))
    assert report.skipped == 0 and _temporaries(project) == []


def test_a_save_during_the_run_leaves_no_temporary_behind(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    from .test_extract import _extract_with_a_save_midway

    def save(po_path: Path) -> None:
        po_path.write_bytes(po_path.read_bytes().replace(b"Talks resume\"\nmsgstr \"\"",
                                                         b"Talks resume\"\nmsgstr \"Saved\""))

    po_path = _extract_with_a_save_midway(project, monkeypatch, "A brand new paragraph.", save)
    po = read_catalog(po_path)
    entry = po.find("Talks resume")
    assert entry is not None and entry.msgstr == "Saved"  # the save is kept, and merged
    assert po.find("A brand new paragraph.") is not None
    # (The first merge's temporary was replaced by the second's: deleted, not left behind.)
    assert _temporaries(project) == []


def test_the_catalogues_listed_as_read_are_the_memorys_list(project: Project) -> None:
    from transflow.memory import MEMORY_FILE_ORDER, memory_file, project_catalogues

    for slugs in (["a", "b", "sub/c"], [], ["a"]):
        for langs in (("ka", "ru"), ("ru",)):
            made = project_catalogues(project, langs, slugs)
            # (The list the memory was filled from: language, then each article, then the
            # language's memory file, met as if its slug sorted last.)
            expected = []
            for lang in langs:
                expected += [(lang, f"{project.locales_dir}/{lang}/{slug}.po", slug)
                             for slug in slugs]
                expected.append((lang, str(memory_file(project.locales_dir, lang)),
                                 MEMORY_FILE_ORDER))
            assert list(made) == expected and len(made) == len(expected)
            assert [made[i] for i in range(len(made))] == expected
            assert made[-1] == expected[-1] and made[1:3] == expected[1:3]
            with pytest.raises(IndexError):
                made[len(made)]


def test_the_ledger_packs_every_count_of_a_merge() -> None:
    import dataclasses

    assert tuple(f.name for f in dataclasses.fields(MergeStats)) == extract_mod._STATS


def test_a_cold_commit_deletes_the_old_catalogues_in_the_background(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Many files: the old catalogues the exchanges displaced are deleted by background threads
    (`files.delete_files`), waited for before extract returns: every catalogue is the new one
    and no temporary is left."""
    _more_articles(project, 30)
    monkeypatch.setattr(extract_mod, "FSYNC_MAX_FILES", 4)
    monkeypatch.setattr(extract_mod, "PARALLEL_MIN_ARTICLES", 1)
    articles = project.articles()
    extract_project(project, articles)
    for slug in articles:
        text = project.source_path(slug).read_text("utf-8")
        project.source_path(slug).write_text(text.replace("</h1>", "</h1>\n<p>Update.</p>"))
    real = extract_mod.delete_files
    handed: list[list[str]] = []
    waited: list[bool] = []

    def spy(names: list[str]) -> object:
        handed.append(list(names))
        assert all(Path(n).is_file() for n in names)  # (not yet deleted when handed over)
        wait = real(names)

        def wait_and_note() -> None:
            wait()
            waited.append(True)

        return wait_and_note

    monkeypatch.setattr(extract_mod, "delete_files", spy)
    extract_project(project, articles)
    assert len(handed) == 1 and waited == [True]
    catalogues = sorted(project.locales_dir.rglob("*.po"))
    assert len(handed[0]) == len(catalogues)  # (every PO replaced: each displaced an old one)
    assert all(n.endswith(STAGED_SUFFIX) and not Path(n).exists() for n in handed[0])
    assert all(b"Update." in p.read_bytes() for p in catalogues)
    assert _temporaries(project) == []
