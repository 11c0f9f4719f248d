"""A build's memory does not grow with the newsroom: the manifest is read a block of records at
a time (never whole), saved a block at a time, up-to-date articles are looked at a stretch at a
time ahead of the workers, and the command line keeps no result of an up-to-date page.

Each is checked against the plain way on the same inputs: blocks, stretches and reports made
small here (a few records, a few articles) give the same pages, the same manifest records and
the same report as one block and one stretch of everything.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import transflow.build.manifest as manifest_mod
import transflow.build.project as project_mod
from transflow.build import build_project
from transflow.build.caches import MANIFEST_NAME
from transflow.project import read_project

from .test_build import KA, SOURCE_A, SOURCE_B, write_po

LANGS = ["ka", "ru"]


def newsroom(root: Path, count: int) -> list[str]:
    """A project of `count` articles (two kinds of page, some in a sub-folder); their slugs."""
    (root / "source/news").mkdir(parents=True)
    (root / "transflow.toml").write_text('[project]\nlanguages = ["ka", "ru"]\n')
    slugs = []
    for i in range(count):
        slug = f"news/b{i:03d}" if i % 3 == 0 else f"a{i:03d}"
        html = SOURCE_B if i % 3 == 0 else SOURCE_A
        (root / f"source/{slug}.html").write_text(html)
        for lang in LANGS:
            # (every fifth article untranslated in ru: pages with units that fall back; the
            # short pages' ka translation has a tag the source lacks: a warning)
            translations = {} if lang == "ru" and i % 5 == 0 else KA
            if lang == "ka" and html is SOURCE_B:
                translations = {**KA, "Only one.": "<b1>x</b1>"}
            write_po(root / f"locales/{lang}/{slug}.po", html, translations, lang)
        slugs.append(slug)
    return sorted(slugs)


def records(root: Path) -> dict[str, object]:
    """The manifest's records by slug, without the stamps (other copies, other inodes)."""
    data = (root / "build/.cache" / MANIFEST_NAME).read_bytes()
    head, names, body = data.split(b"\n", 2)
    slugs, warnings = json.loads(names)
    layout = manifest_mod.RecordLayout(len(LANGS))
    stamps = {at + k for i in range(len(LANGS) + 1) for at in (layout.file(i),) for k in range(4)}
    stamps |= {at + k for i in range(len(LANGS) + 1) for at in (layout.page(i),)
               for k in range(5, 9)}
    out: dict[str, object] = {"warnings": tuple(sorted(warnings.items()))}
    for i, slug in enumerate(slugs):
        values = layout.struct.unpack_from(body, i * layout.size)
        # (digests, percents, states, versions, counts: what a stamp of a file does not say)
        out[slug] = tuple(v for k, v in enumerate(values) if k not in stamps)
    return out


def outputs(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root / "build")): p.read_bytes()
            for p in sorted((root / "build").rglob("*.html")) if ".cache" not in p.parts}


def steps(root: Path, slugs: list[str], jobs: int) -> list[tuple[object, ...]]:
    """Build, edit a few articles here and there, delete one, build again, then a warm build;
    what each build reported."""
    proj = read_project(root / "transflow.toml")
    seen: list[tuple[object, ...]] = []

    def build(articles: list[str], **options: object) -> None:
        report = build_project(proj, LANGS, articles, jobs=jobs, **options)  # type: ignore[arg-type]
        seen.append((report.summary(), report.warning_lines(), report.detail_lines(),
                     report.incomplete, [tuple(p) for p in report.pages]))

    build(slugs, every_article=True)
    for slug in slugs[1::7]:
        path = root / f"source/{slug}.html"
        path.write_text(path.read_text().replace("</body>", "<p>New.</p></body>"))
    gone = slugs[10]
    (root / f"source/{gone}.html").unlink()
    left = [s for s in slugs if s != gone]
    build(left, every_article=True)
    build(left)  # (warm)
    build(left[:5])  # (a selection: the others' records stay)
    build(left, force=True)
    build(left, every_article=True)
    return seen


def test_small_blocks_and_stretches_build_what_one_block_builds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    slugs = newsroom(tmp_path / "plain", 41)
    shutil.copytree(tmp_path / "plain", tmp_path / "small")
    expected = steps(tmp_path / "plain", slugs, jobs=1)
    monkeypatch.setattr(manifest_mod, "BLOCK_RECORDS", 4)
    monkeypatch.setattr(manifest_mod, "CHUNK", 64)
    monkeypatch.setattr(project_mod, "LOOKAHEAD_ARTICLES", 7)
    monkeypatch.setattr(project_mod, "PARALLEL_MIN_ARTICLES", 3)
    assert steps(tmp_path / "small", slugs, jobs=2) == expected
    assert outputs(tmp_path / "small") == outputs(tmp_path / "plain")
    assert records(tmp_path / "small") == records(tmp_path / "plain")
    assert slugs[10] not in records(tmp_path / "small")


def test_workers_start_for_the_first_stretch_with_enough_to_build(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    slugs = newsroom(tmp_path, 30)
    proj = read_project(tmp_path / "transflow.toml")
    build_project(proj, LANGS, slugs, jobs=1)
    for slug in slugs[12:20]:  # (the second stretch of 10 has 8 to build, the others none)
        path = tmp_path / f"source/{slug}.html"
        path.write_text(path.read_text().replace("</body>", "<p>New.</p></body>"))
    started: list[int] = []
    real = project_mod._start_workers

    def start(*args: object) -> object:
        started.append(1)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(project_mod, "_start_workers", start)
    monkeypatch.setattr(project_mod, "LOOKAHEAD_ARTICLES", 10)
    monkeypatch.setattr(project_mod, "PARALLEL_MIN_ARTICLES", 5)
    report = build_project(proj, LANGS, slugs, jobs=2)
    assert started == [1] and report.count("built") == 24 and report.count("up to date") == 66
    assert [p.article for p in report.pages] == [s for s in slugs for _ in range(3)]


def test_a_report_without_pages_says_what_the_whole_report_says(tmp_path: Path) -> None:
    slugs = newsroom(tmp_path, 12)
    proj = read_project(tmp_path / "transflow.toml")
    build_project(proj, LANGS, slugs)
    path = tmp_path / f"source/{slugs[4]}.html"
    path.write_text(path.read_text().replace("</body>", "<p>New.</p></body>"))
    shutil.copytree(tmp_path, tmp_path.parent / "copy")
    whole = build_project(proj, LANGS, slugs, min_complete=50)
    lean = build_project(read_project(tmp_path.parent / "copy/transflow.toml"), LANGS, slugs,
                         min_complete=50, keep_pages=False)
    assert lean.summary() == whole.summary() and "skipped" in whole.summary()
    assert lean.warning_lines() == whole.warning_lines()
    assert any(": markup:" in line for line in whole.warning_lines())
    assert lean.incomplete == whole.incomplete
    for status in ("built", "up to date", "skipped"):
        assert lean.count(status) == whole.count(status)
    # Only what is not up to date (or warns) is kept: the others are counted.
    assert lean.pages == [p for p in whole.pages if p.status != "up to date" or p.warnings]
    assert len(lean.pages) < len(whole.pages)


def test_a_manifest_cut_short_while_a_build_reads_it_is_an_error_not_a_wrong_page(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    slugs = newsroom(tmp_path, 9)
    proj = read_project(tmp_path / "transflow.toml")
    build_project(proj, LANGS, slugs)
    monkeypatch.setattr(manifest_mod, "BLOCK_RECORDS", 2)
    key = "k"
    layout = manifest_mod.RecordLayout(2)
    manifest = manifest_mod.Manifest(tmp_path / "build/.cache" / MANIFEST_NAME, key, layout, [])
    assert manifest.fd is None  # (another key: not used)
    path = tmp_path / "build/.cache" / MANIFEST_NAME
    head = json.loads(path.read_bytes().split(b"\n", 1)[0])
    notes: list[str] = []
    manifest = manifest_mod.Manifest(path, head["key"], layout, notes)
    assert notes == [] and manifest.record(slugs[0]) is not None
    with open(path, "r+b") as fh:
        fh.truncate(path.stat().st_size - layout.size)
    with pytest.raises(OSError, match="changed while read"):
        manifest.record(slugs[-1])
    manifest.close()
