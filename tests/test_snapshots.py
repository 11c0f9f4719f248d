"""Snapshots of whole answers: `status.snapshot` and the replayed report of `check`.

An unchanged project is answered from the snapshot (no cache loaded, no catalogue read), and
every change is seen after one: an in-place save of the same size and mtime, a touch, a new
or a deleted article, another glossary or project file. A damaged snapshot is absent: never an
error, never a wrong answer.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

import transflow.check as check_mod
import transflow.stampcache as stampcache
from transflow import snapshot
from transflow.cli import main
from transflow.project import Project
from transflow.status import SNAPSHOT_FILE

from .damage import DAMAGES, folder
from .test_caches import translate_with_findings
from .test_extract import make_project, page, write

FORMATS = ("text", "json", "github", "gitlab")


def cli(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["-C", str(root), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout


def answers(root: Path) -> dict[str, tuple[int, str]]:
    """What check (every format, and -q) and status (table, per article, JSON) answer."""
    out = {f"check {fmt}": cli(root, "check", "--format", fmt) for fmt in FORMATS}
    out["check -q"] = cli(root, "-q", "check")
    out["status"] = cli(root, "status")
    out["status --articles"] = cli(root, "status", "--articles")
    out["status --json"] = cli(root, "status", "--json")
    return out


def fresh(root: Path, tmp_path: Path) -> dict[str, tuple[int, str]]:
    """The answers of a copy without build/.cache (nothing remembered)."""
    clean = tmp_path / f"clean-{time.monotonic_ns()}"
    shutil.copytree(root, clean, ignore=shutil.ignore_patterns(".cache"))
    got = answers(clean)
    shutil.rmtree(clean)
    return {name: (code, text.replace(str(clean), str(root))) for name, (code, text) in got.items()}


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    monkeypatch.setattr(check_mod, "CACHE_MIN_CATALOGUES", 0)  # (a tiny newsroom, as a big one)
    # Files written this very second may keep their snapshot (each change below waits a tick).
    monkeypatch.setattr(stampcache, "RACY_WINDOW_NS", 0)
    proj = make_project(tmp_path / "news", glossary=True)
    write(proj.source_dir / "world" / "c.html", page("Border", "The border at Lars opened."))
    assert cli(proj.root, "-q", "extract")[0] == 0
    translate_with_findings(proj)
    return proj


def tick() -> None:
    """Let the file system's clock move on (its timestamps are coarser than nanoseconds)."""
    time.sleep(0.05)


def no_cache_at_all(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any use of the per-file caches or of the checking engine fail the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the snapshot should have answered")

    monkeypatch.setattr(stampcache, "StampCache", refuse)
    monkeypatch.setattr(check_mod, "check_project", refuse)


def test_an_unchanged_project_is_answered_from_the_snapshots(
        project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    expected = fresh(project.root, tmp_path)
    assert expected["check text"][0] == 1 and "[glossary]" in expected["check text"][1]
    assert answers(project.root) == expected  # (made now)
    cache = project.cache_dir
    assert (cache / SNAPSHOT_FILE).is_file()
    for fmt in FORMATS:
        assert (cache / f"check-{fmt}.snapshot").is_file()
        assert (cache / f"check-{fmt}.out").is_file()
    with monkeypatch.context() as m:
        no_cache_at_all(m)
        assert answers(project.root) == expected
    result = CliRunner().invoke(main, ["-C", str(project.root), "-v", "check"])
    assert result.exit_code == 1 and "the report of the last check" in result.stderr


def _same_size_same_mtime(project: Project) -> None:
    path = project.po_path("ru", "a")
    st = path.stat()
    text = path.read_text("utf-8").replace("Ханкенди", "Степанак")  # (8 letters for 8)
    path.write_text(text, "utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns


def _touch(project: Project) -> None:
    os.utime(project.po_path("ka", "a"))


def _new_article(project: Project) -> None:
    write(project.source_path("c"), page("Bridge", "The bridge at Stepanakert reopened."))
    assert cli(project.root, "-q", "extract")[0] == 0


def _deleted_article(project: Project) -> None:
    project.source_path("b").unlink()
    assert cli(project.root, "-q", "extract")[0] == 0


def _deleted_catalogue(project: Project) -> None:
    project.po_path("ka", "b").unlink()


def _glossary(project: Project) -> None:
    path = project.root / "glossary.toml"
    path.write_text(path.read_text("utf-8").replace("Степанакерт", "Ханкенди"), "utf-8")


def _settings(project: Project) -> None:
    path = project.config_path
    path.write_text(path.read_text("utf-8") + '\n[checks]\nglossary = "warning"\n', "utf-8")


def _new_article_in_a_sub_folder(project: Project) -> None:
    write(project.source_dir / "world" / "d.html", page("Pass", "The pass at Lars reopened."))
    assert cli(project.root, "-q", "extract")[0] == 0


def _orphan(project: Project) -> None:
    shutil.copy(project.po_path("ka", "a"), project.po_path("ka", "a").with_name("gone.po"))


CHANGES = [_same_size_same_mtime, _touch, _new_article, _deleted_article, _deleted_catalogue,
           _glossary, _settings, _orphan, _new_article_in_a_sub_folder]


@pytest.mark.parametrize("change", CHANGES, ids=lambda f: f.__name__.strip("_"))
def test_a_change_is_seen_after_a_snapshot(project: Project, tmp_path: Path,
                                           change: Callable[[Project], None]) -> None:  # fmt: skip
    before = answers(project.root)
    assert answers(project.root) == before  # (from the snapshots)
    tick()
    change(project)
    expected = fresh(project.root, tmp_path)
    assert (expected == before) == (change is _touch)  # (a touch changes no answer)
    assert answers(project.root) == expected
    assert answers(project.root) == expected  # (and from the snapshots made then)


def _other_format(path: Path) -> None:
    """A snapshot of another transflow (another layout)."""
    head, _, body = path.read_bytes().partition(b"\n")
    parts = head.split(b" ")
    parts[1] = b"%d" % (snapshot.FORMAT + 1)
    path.write_bytes(b" ".join(parts) + b"\n" + body)


def _other_shape(path: Path) -> None:
    """A well-formed snapshot (its checksum matches) whose value is not what it should be."""
    import marshal
    import zlib

    key, value = marshal.loads(path.read_bytes().partition(b"\n")[2])
    wrong = (value[0], {"ka": ([1, 2], "no", (), [])}, {"ka": ("x", 3)}) if isinstance(
        value[2], dict) else (value[0], ["/no/such"], [(1, 2, 3, 4)], 7, 1, 2)
    body = marshal.dumps((key, wrong))
    path.write_bytes(b"tfsnapshot %d %d %d\n" % (snapshot.FORMAT, zlib.crc32(body), len(body))
                     + body)


def _other_report(path: Path) -> None:
    """The kept report, changed (same length, another checksum)."""
    data = bytearray(path.read_bytes())
    if data:
        data[0] = ord("X") if data[0] != ord("X") else ord("Y")
    path.write_bytes(bytes(data))


SNAPSHOT_FILES = [SNAPSHOT_FILE, "articles.snapshot", "check-text.snapshot", "check-json.snapshot", "check-text.out",
                  "check-gitlab.out"]


def _damages(name: str) -> list[Callable[[Path], None]]:
    """What can happen to a cache file: a kept report is raw bytes (its checksum is in its
    snapshot), so it has no format or shape of its own to get wrong, only other bytes."""
    if name.endswith(".out"):
        return [*DAMAGES, _other_report]
    return [*DAMAGES, _other_format, _other_shape]


@pytest.mark.parametrize(("name", "damage"),
                         [(name, damage) for name in SNAPSHOT_FILES for damage in _damages(name)],
                         ids=lambda v: v if isinstance(v, str) else v.__name__.strip("_"))
def test_any_damage_to_a_snapshot_changes_no_answer(project: Project, tmp_path: Path, name: str,
                                                    damage: Callable[[Path], None]) -> None:  # fmt: skip
    expected = fresh(project.root, tmp_path)
    assert answers(project.root) == expected
    path = project.cache_dir / name
    damage(path)
    assert answers(project.root) == expected
    assert answers(project.root) == expected  # (and from whatever that run left)
    if damage is folder:
        assert (path / "keep").read_text() == "mine"  # nobody's folder is deleted
    assert not [p for p in project.cache_dir.iterdir() if p.name.endswith(".tmp")]


def test_a_damaged_snapshot_is_noted_with_minus_v(project: Project) -> None:
    answers(project.root)
    (project.cache_dir / SNAPSHOT_FILE).write_bytes(b"tfsnapshot 1 2 3\nnonsense")
    (project.cache_dir / "check-text.snapshot").write_bytes(b"\0garbage")
    result = CliRunner().invoke(main, ["-C", str(project.root), "-v", "status"])
    assert "status snapshot" in result.stderr and "damaged" in result.stderr
    result = CliRunner().invoke(main, ["-C", str(project.root), "-v", "check"])
    assert "check report" in result.stderr and "damaged" in result.stderr
    quiet = CliRunner().invoke(main, ["-C", str(project.root), "status"])
    assert "snapshot" not in quiet.stderr


def test_a_racy_project_keeps_no_snapshot(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stampcache, "RACY_WINDOW_NS", 3_600_000_000_000)  # (all changed "now")
    answers(project.root)
    assert not (project.cache_dir / SNAPSHOT_FILE).exists()
    assert not (project.cache_dir / "check-text.snapshot").exists()
    assert not [p for p in project.cache_dir.iterdir() if p.name.endswith(".tmp")]


def test_a_selection_other_than_the_whole_project_keeps_its_own_answer(project: Project) -> None:
    whole = answers(project.root)
    assert cli(project.root, "status", "--lang", "ka")[0] == 0
    code, only_a = cli(project.root, "check", "a")
    assert code == 1 and "locales/ka/b.po" not in only_a
    assert cli(project.root, "check", "--lang", "ka") == (0, "No problems found.\n")
    assert answers(project.root) == whole


def test_after_a_snapshot_only_the_changed_catalogue_is_counted(project: Project) -> None:
    from transflow.project import read_project
    from transflow.status import project_status

    answers(project.root)
    tick()
    _same_size_same_mtime(project)
    proj = read_project(project.config_path)
    result = project_status(proj, ["ka", "ru"], proj.articles(), orphans=True)
    assert result.stats == {"cached": 5, "parsed": 1}  # (ru/a: counted again; the rest held)
    assert result.catalogs  # (rows made from the snapshot's numbers and the new count)
    again = project_status(proj, ["ka", "ru"], proj.articles(), orphans=True)
    assert again.stats == {"cached": 6, "parsed": 0} and again.catalogs == result.catalogs


STYLE_RULE = '''
[[rule]]
id = "no-status-qualifiers"
message = "No status qualifiers."
en = ["de facto"]
ru = ["де-факто"]
'''


def _source_edit_same_size_same_mtime(project: Project, path: Path) -> None:
    st = path.stat()
    text = path.read_text("utf-8").replace("the hall", "de facto")  # (8 letters for 8)
    assert text != path.read_text("utf-8")
    path.write_text(text, "utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns


@pytest.mark.parametrize("which", ["a.html", "world/c.htm"])
def test_the_kept_report_is_not_replayed_after_a_source_changed(
        project: Project, tmp_path: Path, which: str) -> None:  # fmt: skip
    """With house-style rules for the source language, the English pages are inputs of the
    report too (whatever their suffix, in a sub-folder or not): an in-place edit of one is seen."""
    glossary = project.root / "glossary.toml"
    glossary.write_text(glossary.read_text("utf-8") + STYLE_RULE, "utf-8")
    (project.source_dir / "world" / "c.html").rename(project.source_dir / "world" / "c.htm")
    write(project.source_dir / "world" / "c.htm", page("Border", "The hall at Lars opened.",
                                                       "Residents gathered outside the hall."))
    assert cli(project.root, "-q", "extract")[0] == 0
    before = answers(project.root)
    assert "[style]" not in before["check text"][1]
    assert answers(project.root) == before  # (from the snapshots)
    result = CliRunner().invoke(main, ["-C", str(project.root), "-v", "check"])
    assert "the report of the last check, every one of its 9 files unchanged" in result.stderr
    tick()
    _source_edit_same_size_same_mtime(project, project.source_dir / which)
    expected = fresh(project.root, tmp_path)
    assert f"source/{which}" in expected["check text"][1] and "[style]" in expected["check text"][1]
    assert answers(project.root) == expected
    assert answers(project.root) == expected  # (and from the snapshots made then)


def test_a_report_too_big_to_keep_is_not_kept(project: Project, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    expected = fresh(project.root, tmp_path)
    assert answers(project.root) == expected
    cache = project.cache_dir
    assert (cache / "check-json.out").is_file()  # (kept: under the cap)
    size = (cache / "check-text.out").stat().st_size
    monkeypatch.setattr(check_mod, "MAX_KEPT_REPORT", size - 1)  # (text: over; -q: under)
    for _ in range(2):
        assert answers(project.root) == expected
        result = CliRunner().invoke(main, ["-C", str(project.root), "-v", "check"])
        assert result.exit_code == 1 and "the report of the last check" not in result.stderr
        assert "answered from the cache" in result.stderr
        assert not (cache / "check-text.out").exists()  # (nor the older one)
        assert not (cache / "check-text.snapshot").exists()
        assert (cache / "check-text-quiet.out").stat().st_size < size
        assert not [p for p in cache.iterdir() if p.name.endswith(".tmp")]


def test_stamps_compared_a_batch_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshot, "DIGEST_BATCH", 2)
    paths = []
    for i in range(5):
        (tmp_path / f"f{i}").write_text("x" * i)
        paths.append(str(tmp_path / f"f{i}"))
    packed = snapshot.pack(snapshot.stamps(paths) or [])
    assert snapshot.same_stamps(iter(paths), packed)
    assert not snapshot.same_stamps(paths[:4], packed)  # (one fewer)
    assert not snapshot.same_stamps([*paths, paths[0]], packed)  # (one more)
    assert not snapshot.same_stamps([*paths[:3], str(tmp_path / "gone"), paths[4]], packed)
    assert not snapshot.same_stamps(paths[::-1], packed)
    assert snapshot.same_stamps([], snapshot.pack([]))
    for i in (0, 3, 4):  # (in the first batch, the second, the last)
        tick()
        os.utime(paths[i])
        assert not snapshot.same_stamps(paths, packed)
        packed = snapshot.pack(snapshot.stamps(paths) or [])
        assert snapshot.same_stamps(paths, packed)


@pytest.mark.parametrize("way", ["forked", "fork fails", "child says nothing", "one core"])
def test_stamps_of_several_folders_compared_side_by_side(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, way: str) -> None:  # fmt: skip
    """`same_stamps_each` answers what `same_stamps` answers for each job, in order, whether a
    forked child answers, the fork fails, the child dies without a word or there is one core."""
    folders = []
    for lang in ("ka", "ru", "de"):
        (tmp_path / lang).mkdir()
        for i in range(4):
            (tmp_path / lang / f"{i}.po").write_text(lang * i)
        folders.append([str(tmp_path / lang / f"{i}.po") for i in range(4)])
    packed = [snapshot.pack(snapshot.stamps(paths) or []) for paths in folders]
    if way == "fork fails":
        def no_fork() -> int:
            raise OSError("no more processes")
        monkeypatch.setattr(os, "fork", no_fork)
    elif way == "child says nothing":
        real = snapshot.same_stamps
        parent = os.getpid()

        def dies_in_a_child(paths: object, data: bytes) -> bool:
            if os.getpid() != parent:
                raise RuntimeError("a child that fails")
            return real(paths, data)  # type: ignore[arg-type]
        monkeypatch.setattr(snapshot, "same_stamps", dies_in_a_child)
    elif way == "one core":
        monkeypatch.setattr("transflow.processes.usable_cpus", lambda: 1)
    jobs = [(iter(paths), data) for paths, data in zip(folders, packed, strict=True)]
    assert snapshot.same_stamps_each(jobs) == [True, True, True]
    tick()
    os.utime(folders[1][2])  # (the second folder's: a child's job when forked)
    jobs = [(iter(paths), data) for paths, data in zip(folders, packed, strict=True)]
    assert snapshot.same_stamps_each(jobs) == [True, False, True]
    jobs = [(iter(folders[2]), packed[2]), (iter(folders[0][:3]), packed[0])]  # (one fewer)
    assert snapshot.same_stamps_each(jobs) == [True, False]
    assert snapshot.same_stamps_each([]) == []
    assert snapshot.same_stamps_each([(iter(folders[0]), packed[0])]) == [True]


def test_a_po_renamed_into_place_is_counted_alone(project: Project, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """`extract` writes a PO through a temporary and a rename, which changes its folder's
    stamp: the folder is listed again, and when it holds the same names only that PO is
    counted (the cache is not walked); a name added to the folder is seen (an orphan)."""
    from transflow.project import read_project
    from transflow.status import _cached_language, project_status

    answers(project.root)
    tick()
    before = os.stat(project.locales_dir / "ru").st_mtime_ns
    path = project.po_path("ru", "a")
    tmp = path.with_name(".a.po.tmp")
    tmp.write_text(path.read_text("utf-8").replace("Ханкенди", "Степанакерт"), "utf-8")
    os.replace(tmp, path)
    assert os.stat(project.locales_dir / "ru").st_mtime_ns != before

    def no_walk(*args: object, **kwargs: object) -> None:
        raise AssertionError("the whole language went to the cache")

    monkeypatch.setattr("transflow.status._cached_language", no_walk)
    proj = read_project(project.config_path)
    result = project_status(proj, ["ka", "ru"], proj.articles(), orphans=True)
    assert result.stats == {"cached": 5, "parsed": 1}
    assert (project.cache_dir / SNAPSHOT_FILE).is_file()  # (kept, with the new stamps)
    got = cli(project.root, "status", "--json")  # (from that snapshot)
    monkeypatch.setattr("transflow.status._cached_language", _cached_language)
    assert got == fresh(project.root, tmp_path)["status --json"]
    tick()
    (project.locales_dir / "ru" / "gone.po").write_text("", "utf-8")  # (an orphan now)
    again = project_status(proj, ["ka", "ru"], proj.articles(), orphans=True)
    assert [o.file for o in again.orphaned] == ["locales/ru/gone.po"]
    assert again.languages == result.languages


def test_packed_stamps_are_the_stamps_and_pack_the_same(tmp_path: Path) -> None:
    # A cold status keeps a stamp per catalogue packed (issue 11: 32 bytes, not a tuple):
    # read back the same, and packed for the snapshot into exactly `pack`'s bytes.
    paths = []
    for i in range(5):
        path = tmp_path / f"a{i}.po"
        path.write_text("x" * i, "utf-8")
        paths.append(str(path))
    found = snapshot.stamps(paths) or []
    found.append((0, -1_000_000_000, 2**62, 2**64 - 1))  # (before 1970; a huge inode)
    kept = snapshot.Stamps(len(found) + 1)
    assert not kept.complete() and kept[0] is None
    kept[0] = found[0]
    kept.set_from(1, found[:3])
    for i, stamp in enumerate(found[3:], 4):
        kept[i] = stamp
    assert [kept[i] for i in range(len(kept))] == [found[0], *found]
    assert kept.complete() and kept.newest_ctime() == 2**62
    assert kept.pack() == snapshot.pack([found[0], *found])
    kept[2] = None
    assert not kept.complete() and kept[2] is None
