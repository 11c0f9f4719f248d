"""Incremental build (issue 11): what makes a page stale, and what a warm build does not do.

A warm build decides from the manifest (`build/.cache/build-manifest.bin`) and one stat per
input and output file: these tests change each thing a page depends on and check that exactly
the pages that depend on it are rebuilt, with the bytes a clean build writes; and that a build
with nothing changed reads no input and writes nothing, not even its manifest.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from lxml import html as lxml_html

import transflow.build.catalogs as catalogs_mod
import transflow.build.manifest as manifest_mod
import transflow.build.project as project_mod
import transflow.build.render as render_mod
from transflow.build import build_project
from transflow.build.caches import LEGACY_MANIFEST, MANIFEST_NAME
from transflow.project import read_project

from .test_build import KA, SOURCE_A, SOURCE_B, make_project, write_po

LANGS = ["ka", "ru"]
ARTICLES = ["a", "news/b"]


def built(report: object) -> list[tuple[str, str]]:
    return sorted((p.lang, p.article) for p in report.pages if p.status == "built")  # type: ignore[attr-defined]


def outputs(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root / "build")): p.read_bytes()
            for p in sorted((root / "build").rglob("*.html")) if ".cache" not in p.parts}


def clean_build(root: Path, tmp_path: Path, **options: object) -> dict[str, bytes]:
    """What a build from scratch writes for the same inputs (the reference)."""
    copy = tmp_path / "clean-copy"
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("build"))
    proj = read_project(copy / "transflow.toml")
    build_project(proj, LANGS, ARTICLES, **options)  # type: ignore[arg-type]
    return outputs(copy)


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    (tmp_path / "p").mkdir()
    make_project(tmp_path / "p")
    return tmp_path / "p"


def project(root: Path):  # noqa: ANN201
    return read_project(root / "transflow.toml")


def test_a_warm_build_reads_no_input_and_writes_nothing(root: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr(project_mod, "RACY_WINDOW_NS", 0)  # (files written this very second)
    write_po(root / "locales/ka/news/b.po", SOURCE_B, {**KA, "Only one.": "<b1>x</b1>"}, "ka")
    first = build_project(project(root), LANGS, ARTICLES)
    manifest = root / "build/.cache" / MANIFEST_NAME
    before = os.stat(manifest)

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a warm build read or wrote {args[:1]}")

    for name in ("read_bytes", "write_if_changed", "cached_template"):
        monkeypatch.setattr(project_mod, name, forbidden)
    monkeypatch.setattr(manifest_mod, "atomic_write", forbidden)  # (the manifest's writer)
    monkeypatch.setattr(render_mod, "render_page", forbidden)
    monkeypatch.setattr(catalogs_mod, "read_entries", forbidden)
    report = build_project(project(root), LANGS, ARTICLES)
    assert report.count("up to date") == 6 and report.count("built") == 0
    after = os.stat(manifest)
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == \
        (before.st_ino, before.st_mtime_ns, before.st_size)
    # What the report says of up-to-date pages is what the build said when it built them.
    assert [p._replace(status="") for p in report.pages] == \
        [p._replace(status="") for p in first.pages]
    assert report.warning_lines() == first.warning_lines()
    assert any(": markup:" in line for line in report.warning_lines())
    assert report.summary() == first.summary().replace("Built 6 pages, 0", "Built 0 pages, 6")


def test_a_touched_input_is_hashed_not_rebuilt(root: Path) -> None:
    build_project(project(root), LANGS, ARTICLES)
    stamps = {p: p.stat().st_mtime_ns for p in (root / "build").rglob("*.html")}
    for path in (root / "source/a.html", root / "locales/ru/a.po"):
        os.utime(path, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    assert build_project(project(root), LANGS, ARTICLES).count("built") == 0
    assert {p: p.stat().st_mtime_ns for p in (root / "build").rglob("*.html")} == stamps


def test_an_edit_that_keeps_size_and_mtime_is_seen(root: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """A catalogue rewritten in place with its old mtime and size: its ctime tells."""
    monkeypatch.setattr(project_mod, "RACY_WINDOW_NS", 0)  # (trust stamps of this second)
    build_project(project(root), LANGS, ARTICLES)
    path = root / "locales/ka/a.po"
    st = path.stat()
    text = path.read_text("utf-8")
    assert "მეორე აბზაცი." in text
    path.write_text(text.replace("მეორე აბზაცი.", "მეორე აბზაცა."), "utf-8")  # same length
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
    report = build_project(project(root), LANGS, ARTICLES)
    assert built(report) == [("ka", "a")]
    assert "მეორე აბზაცა." in (root / "build/ka/a.html").read_text("utf-8")
    assert outputs(root) == clean_build(root, tmp_path)


def test_a_deleted_or_hand_edited_page_is_built_again(root: Path, tmp_path: Path) -> None:
    build_project(project(root), LANGS, ARTICLES)
    clean = outputs(root)
    (root / "build/ru/news/b.html").unlink()
    page = root / "build/ka/a.html"
    page.write_text(page.read_text("utf-8").replace("შუშა", "XXXX"), "utf-8")
    report = build_project(project(root), LANGS, ARTICLES)
    assert built(report) == [("ka", "a"), ("ru", "news/b")]
    assert outputs(root) == clean
    assert build_project(project(root), LANGS, ARTICLES).count("built") == 0


def test_a_changed_source_rebuilds_its_article_only(root: Path, tmp_path: Path) -> None:
    build_project(project(root), LANGS, ARTICLES)
    (root / "source/news/b.html").write_text(SOURCE_B.replace("Only one.", "Only one!"))
    assert built(build_project(project(root), LANGS, ARTICLES)) == \
        [("en", "news/b"), ("ka", "news/b"), ("ru", "news/b")]
    assert outputs(root) == clean_build(root, tmp_path)


def test_crossing_min_complete_rebuilds_the_other_versions(root: Path, tmp_path: Path) -> None:
    """ka of `a` goes over min_complete: its page appears, and the source and ru pages of `a`
    gain the hreflang link to it; back under, the page goes and the links with it."""
    full = {**KA, "Third one, a longer paragraph with more words in it.": "მესამე."}
    write_po(root / "locales/ru/a.po", SOURCE_A, full, "ru")
    build_project(project(root), LANGS, ARTICLES, min_complete=90)
    assert not (root / "build/ka/a.html").exists()

    def links(lang: str) -> set[str]:
        tree = lxml_html.fromstring((root / f"build/{lang}/a.html").read_bytes())
        return {ln.get("hreflang") for ln in tree.iter("link")}

    assert links("en") == {"fr", "en", "ru", "x-default"}
    write_po(root / "locales/ka/a.po", SOURCE_A, full, "ka")
    report = build_project(project(root), LANGS, ARTICLES, min_complete=90)
    assert built(report) == [("en", "a"), ("ka", "a"), ("ru", "a")]
    assert links("en") == links("ru") == links("ka") == {"fr", "en", "ka", "ru", "x-default"}
    assert outputs(root) == clean_build(root, tmp_path, min_complete=90)
    write_po(root / "locales/ka/a.po", SOURCE_A, KA, "ka")
    report = build_project(project(root), LANGS, ARTICLES, min_complete=90)
    assert built(report) == [("en", "a"), ("ru", "a")]
    assert [p.article for p in report.pages if p.status == "skipped"] == ["a"]
    assert not (root / "build/ka/a.html").exists()
    assert links("en") == {"fr", "en", "ru", "x-default"}
    assert outputs(root) == clean_build(root, tmp_path, min_complete=90)


def test_a_language_built_later_sees_what_changed_meanwhile(root: Path, tmp_path: Path) -> None:
    """`--lang ka` while ru's catalogue changes: the next full build rebuilds ru's page."""
    build_project(project(root), LANGS, ARTICLES)
    write_po(root / "locales/ru/a.po", SOURCE_A, {**KA, "Second paragraph.": "Второй."}, "ru")
    assert built(build_project(project(root), ["ka"], ARTICLES)) == []
    assert built(build_project(project(root), ["ka"], ARTICLES, min_complete=1)) == []
    assert built(build_project(project(root), LANGS, ARTICLES)) == [("ru", "a")]
    assert outputs(root) == clean_build(root, tmp_path)


def test_articles_built_alone_keep_the_others_records(root: Path) -> None:
    build_project(project(root), LANGS, ["a"])
    assert built(build_project(project(root), LANGS, ["news/b"])) == \
        [("en", "news/b"), ("ka", "news/b"), ("ru", "news/b")]
    report = build_project(project(root), LANGS, ARTICLES)
    assert report.count("built") == 0 and report.count("up to date") == 6


def test_a_build_of_every_article_forgets_deleted_articles(root: Path) -> None:
    import json

    def slugs() -> list[str]:  # (the manifest's second line: `[slugs, warnings]`)
        lines = (root / "build/.cache" / MANIFEST_NAME).read_bytes().split(b"\n", 2)
        return json.loads(lines[1])[0]  # type: ignore[no-any-return]

    write_po(root / "locales/ka/news/b.po", SOURCE_B, {**KA, "Only one.": "<b1>x</b1>"}, "ka")
    first = build_project(project(root), LANGS, ARTICLES, every_article=True)
    assert any("news/b" in line for line in first.warning_lines())
    assert sorted(slugs()) == ["a", "news/b"]
    # A selection is not every article: the others' records stay.
    build_project(project(root), LANGS, ["a"])
    assert sorted(slugs()) == ["a", "news/b"]
    (root / "source/news/b.html").unlink()
    report = build_project(project(root), LANGS, ["a"], every_article=True)
    assert report.count("up to date") == 3
    assert slugs() == ["a"]
    assert not any("news/b" in line for line in report.warning_lines())
    # What is left still answers: nothing to build.
    assert build_project(project(root), LANGS, ["a"], every_article=True).count("built") == 0


@pytest.mark.parametrize(("setting", "value"), [("include_fuzzy", "true"),
                                                ("segmentation", '"sentence"')])
def test_a_changed_setting_rebuilds_translations(root: Path, tmp_path: Path, setting: str,
                                                 value: str) -> None:  # fmt: skip
    build_project(project(root), LANGS, ARTICLES)
    toml = root / "transflow.toml"
    table = "build" if setting == "include_fuzzy" else "project"
    text = toml.read_text("utf-8")
    if table == "project":
        text = text.replace("[project]\n", f"[project]\n{setting} = {value}\n")
    else:
        text += f"\n[build]\n{setting} = {value}\n"
    toml.write_text(text, "utf-8")
    proj = project(root)
    report = build_project(proj, LANGS, ARTICLES, include_fuzzy=proj.include_fuzzy)
    expected = 4 if setting == "include_fuzzy" else 6  # (fuzziness: translations only)
    assert report.count("built") == expected
    assert build_project(proj, LANGS, ARTICLES, include_fuzzy=proj.include_fuzzy
                         ).count("built") == 0


def test_a_new_language_builds_its_pages_and_links_them(root: Path, tmp_path: Path) -> None:
    build_project(project(root), LANGS, ARTICLES)
    toml = root / "transflow.toml"
    toml.write_text(toml.read_text("utf-8").replace('"ka", "ru"', '"ka", "ru", "de"'))
    write_po(root / "locales/de/a.po", SOURCE_A, {}, "de")
    report = build_project(project(root), [*LANGS, "de"], ARTICLES)
    assert report.count("built") == 8
    en = lxml_html.fromstring((root / "build/en/a.html").read_bytes())
    assert "de" in {ln.get("hreflang") for ln in en.iter("link")}


def test_force_rebuilds_and_the_legacy_manifest_goes(root: Path) -> None:
    legacy = root / "build/.cache" / LEGACY_MANIFEST
    legacy.parent.mkdir(parents=True)
    legacy.write_text("{}")
    build_project(project(root), LANGS, ARTICLES)
    assert not legacy.exists()
    assert build_project(project(root), LANGS, ARTICLES, force=True).count("built") == 6


def test_a_deleted_cache_costs_only_time(root: Path) -> None:
    build_project(project(root), LANGS, ARTICLES)
    clean = outputs(root)
    shutil.rmtree(root / "build/.cache")
    report = build_project(project(root), LANGS, ARTICLES)
    assert report.count("built") == 6 and outputs(root) == clean
    assert build_project(project(root), LANGS, ARTICLES).count("built") == 0


def test_a_warm_build_lists_no_folder_yet_finds_what_a_kill_left(root: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Temporaries of a killed build are found by the folders' stamps: a folder that gained
    a file is listed, one that did not is only statted (none listed in a warm build)."""
    (root / "source/news/new").mkdir()
    (root / "source/news/new/c.html").write_text(SOURCE_B)
    write_po(root / "locales/ka/news/new/c.po", SOURCE_B, KA, "ka")
    articles = [*ARTICLES, "news/new/c"]
    build_project(project(root), LANGS, articles)
    build_project(project(root), LANGS, articles)  # (the folders recorded as they are)
    listed: list[str] = []
    scandir = os.scandir

    def spy(path: str) -> object:
        listed.append(os.path.relpath(path, root / "build"))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", spy)
    build_project(project(root), LANGS, articles)
    assert [p for p in listed if not p.startswith("..")] == [".cache"]  # (a few names)
    old = 1_600_000_000_000_000_000
    stale = [root / "build/ka/news/new/.c.html.k3j9x_2a.tmp", root / "build/en/.a.html.zz9.tmp",
             root / "build/.cache/templates/news/.b.json.4242.tmp"]
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
        os.utime(path, ns=(old, old))
    listed.clear()
    report = build_project(project(root), LANGS, articles)
    assert not [p for p in stale if p.exists()]
    assert sum("interrupted build" in n for n in report.notes) == 3
    assert "ka/news/new" in listed and "ru" not in listed


def test_a_build_folder_restored_by_a_copy_is_up_to_date(root: Path, tmp_path: Path) -> None:
    """`cp -a` (or a CI cache) keeps mtimes and sizes, not inodes or ctimes: sources and
    catalogues are hashed again, no page is rebuilt."""
    build_project(project(root), LANGS, ARTICLES)
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)  # (copy2: mtimes kept, new inodes and ctimes)
    report = build_project(project(copy), LANGS, ARTICLES)
    assert report.count("built") == 0 and report.count("up to date") == 6
