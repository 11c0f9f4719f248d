"""The project build: every article in every language, incrementally (`transflow build`).

What is rebuilt is decided by a manifest in `build/.cache/` (the sha256 of each source and
catalogue, the settings, and the stamp of each page written); compiled templates are cached
there too.  Articles are built in worker processes when there are many.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transflow.build.caches import (
    MANIFEST_NAME,
    TEMPLATE_CACHE,
    cached_template,
    discard_damaged,
    load_manifest,
    remove_stale_temporaries,
)
from transflow.build.catalogs import Translation, catalog_lookup, catalog_percent, read_entries
from transflow.build.render import PageSettings, localise_time, render_page
from transflow.build.results import BuildReport, PageResult
from transflow.build.template import CompiledTemplate
from transflow.cachekey import code_fingerprint
from transflow.errors import InputError
from transflow.files import project_lock, read_bytes, write_if_changed
from transflow.locales import og_locale, text_direction
from transflow.progress import Progress

# --- the project build --------------------------------------------------------------------

def _sha(data: bytes | None) -> str:
    return "-" if data is None else hashlib.sha256(data).hexdigest()


def _href(from_lang: str, to_lang: str, slug: str) -> str:
    """Relative URL from build/<from_lang>/<slug>.html to build/<to_lang>/<slug>.html.

    (What `posixpath.relpath` gives for these normalised paths, at a fraction of its cost.)
    >>> _href("ka", "en", "news/b"), _href("ka", "ka", "news/b"), _href("ru", "ka", "a")
    ('../../en/news/b.html', 'b.html', '../ka/a.html')
    """
    if from_lang == to_lang:
        return f"{posixpath.basename(slug)}.html"
    return "../" * (slug.count("/") + 1) + f"{to_lang}/{slug}.html"


class _Catalogs:
    """The catalogues of one article, each read at most once per build."""

    def __init__(self, project: Any, slug: str, reader: Callable[[Path], Any]):
        self.project, self.slug, self.reader = project, slug, reader
        self.cache: dict[str, Any] = {}

    def get(self, lang: str) -> Any:
        if lang not in self.cache:
            path = self.project.po_path(lang, self.slug)
            self.cache[lang] = self.reader(path) if path.is_file() else None
        return self.cache[lang]


@dataclass(frozen=True, slots=True)
class _BuildJob:
    """Everything a worker needs to build one article in every language (picklable)."""

    project: Any
    langs: tuple[str, ...]
    min_complete: float
    include_fuzzy: bool
    force: bool
    shown: dict[str, str] = field(default_factory=dict)  # "build/ka", "po/ka" → as shown


@dataclass(slots=True)
class _ArticleOutcome:
    pages: list[PageResult] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)  # "lang/slug" → entry or None
    percents: dict[str, Any] = field(default_factory=dict)
    hashes: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class _Hasher:
    """sha256 of files, skipped when (mtime, size) match the manifest's record, as git's index."""

    def __init__(self, known: dict[str, Any]):
        self.known = known
        self.new: dict[str, Any] = {}
        self.memo: dict[str, str] = {}

    def sha(self, path: Path | str) -> str:
        key = os.fspath(path)
        digest = self.memo.get(key)
        if digest is None:
            digest = self.memo[key] = self._sha(key)
        return digest

    def _sha(self, key: str) -> str:
        try:
            st = os.stat(key)
        except (FileNotFoundError, NotADirectoryError):
            return "-"
        old = self.known.get(key)
        if old and old[0] == st.st_mtime_ns and old[1] == st.st_size:
            return str(old[2])
        digest = _sha(read_bytes(Path(key)))
        self.new[key] = [st.st_mtime_ns, st.st_size, digest]
        return digest


def _stamp(path: Path | str) -> list[int] | None:
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return [st.st_mtime_ns, st.st_size]


def _shown(job: _BuildJob, kind: str, lang: str, slug: str, suffix: str,
           path: Path | str) -> str:  # fmt: skip
    """`project.relative(path)` for build/<lang>/ or locales/<lang>/ files, from a prefix."""
    prefix = job.shown.get(f"{kind}/{lang}")
    return job.project.relative(Path(path)) if prefix is None else f"{prefix}/{slug}{suffix}"


def _build_article(job: _BuildJob, slug: str, manifest: dict[str, Any],
                   check_only: bool = False) -> _ArticleOutcome | None:
    """Build one article in the source language and every selected language.

    With `check_only`, return None as soon as a page needs building (the outcome otherwise).
    """
    project = job.project
    source_lang = project.source_language
    sentences = project.segmentation == "sentence"
    outcome = _ArticleOutcome()
    hasher = _Hasher(manifest.get("hashes", {}))
    src_path = project.source_path(slug)
    src_sha = hasher.sha(src_path)
    if src_sha == "-":
        raise InputError("no such file", src_path)
    template: CompiledTemplate | None = None
    catalogs = _Catalogs(project, slug, read_entries)
    locales, builds = os.fspath(project.locales_dir), os.fspath(project.build_dir)
    po_paths = {lang: f"{locales}/{lang}/{slug}.po" for lang in project.languages}
    # Which languages get this page (all versions link each other with hreflang).
    eligible: list[str] = []
    page_percent: dict[str, float] = {}
    for lang in project.languages:
        if job.min_complete <= 0 and lang not in job.langs:
            eligible.append(lang)  # every page is built: no need to read this catalogue
            continue
        po_sha = hasher.sha(po_paths[lang])
        key = f"{lang}/{slug}|{int(job.include_fuzzy)}"
        cached = manifest.get("percent", {}).get(key)
        if cached and cached[0] == po_sha:
            pct = float(cached[1])
        else:
            po = catalogs.get(lang)
            pct = 0.0 if po is None else catalog_percent(po, job.include_fuzzy)
            outcome.percents[key] = [po_sha, pct]
        page_percent[lang] = pct
        if pct >= job.min_complete:
            eligible.append(lang)
    versions = [source_lang, *eligible]
    fingerprint = code_fingerprint()
    for lang in [source_lang, *job.langs]:
        out_name = f"{builds}/{lang}/{slug}.html"  # (= project.build_path, without pathlib)
        shown = _shown(job, "build", lang, slug, ".html", out_name)
        page_key = f"{lang}/{slug}"
        is_source = lang == source_lang
        pct = 100.0 if is_source else page_percent.get(lang, 0.0)
        if not is_source and lang not in eligible:
            outcome.pages.append(PageResult(lang, slug, shown, "skipped", pct))
            if os.path.isfile(out_name):
                os.unlink(out_name)  # a stale page would contradict the report
            outcome.manifest[page_key] = None
            continue
        po_sha = "-" if is_source else hasher.sha(po_paths[lang])
        alternates = tuple([(v, _href(lang, v, slug)) for v in versions]
                           + [("x-default", _href(lang, source_lang, slug))])
        # repr of strings, tuples and booleans is deterministic (and cheaper than json here)
        key_data = repr((fingerprint, src_sha, po_sha, lang, source_lang, alternates,
                         job.include_fuzzy, sentences))
        key = hashlib.sha256(key_data.encode()).hexdigest()
        old = manifest.get("pages", {}).get(page_key)
        if (not job.force and old and old.get("key") == key
                and old.get("stamp") == _stamp(out_name)):
            outcome.pages.append(PageResult(lang, slug, shown, "up to date", pct,
                                            old.get("units", 0), old.get("fallbacks", 0),
                                            tuple(old.get("warnings", ())), is_source))
            continue
        if check_only:
            return None
        if template is None:
            known = hasher.known.get(str(src_path))
            template = cached_template(project, slug, src_path, src_sha, notes=outcome.notes,
                                        store=known is not None and known[2] == src_sha)
        lookup: dict[str, Translation] = {}
        po_label = ""
        if not is_source:
            po = catalogs.get(lang)
            po_label = _shown(job, "po", lang, slug, ".po", project.po_path(lang, slug))
            if po is not None:
                lookup = catalog_lookup(po, job.include_fuzzy)
        settings = PageSettings(lang, source_lang, alternates, sentences)
        html, stats = render_page(template, settings, lookup, po_label)
        write_if_changed(Path(out_name), template.encode(html), durable=False)  # rebuildable
        fallbacks = 0 if is_source else stats.fallbacks
        outcome.manifest[page_key] = {
            "key": key, "stamp": _stamp(out_name), "units": stats.units,
            "fallbacks": fallbacks, "warnings": stats.warnings,
        }
        outcome.pages.append(PageResult(lang, slug, shown, "built", pct, stats.units,
                                        fallbacks, tuple(stats.warnings), is_source))
    outcome.hashes = hasher.new
    return outcome


# Below this many articles to rebuild, worker processes cost more than they save.
PARALLEL_MIN_ARTICLES = 40
_WORKER_STATE: dict[str, Any] = {}


def _built(job: _BuildJob, slug: str, manifest: dict[str, Any]) -> _ArticleOutcome:
    outcome = _build_article(job, slug, manifest)
    assert outcome is not None
    return outcome


def _worker_build(slug: str) -> _ArticleOutcome:
    return _built(_WORKER_STATE["job"], slug, _WORKER_STATE["manifest"])


def _outcomes(job: _BuildJob, articles: list[str], manifest: dict[str, Any],
              jobs: int) -> Iterable[_ArticleOutcome]:
    """Build every article, in worker processes when there are many (results in order)."""
    if jobs <= 1 or len(articles) < PARALLEL_MIN_ARTICLES:
        for slug in articles:
            yield _built(job, slug, manifest)
        return
    # Up-to-date articles are seen here (cheap: stats); workers only pay for real work.
    nothing_built = not manifest.get("pages")  # a first build: every article is stale
    fresh = {} if job.force or nothing_built else {
        slug: _build_article(job, slug, manifest, check_only=True) for slug in articles}
    stale = [slug for slug in articles if fresh.get(slug) is None]
    if len(stale) < PARALLEL_MIN_ARTICLES:
        for slug in articles:
            yield fresh.get(slug) or _built(job, slug, manifest)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    _WORKER_STATE.update(job=job, manifest=manifest)
    for lang in (job.project.source_language, *job.langs):  # load CLDR data once, before fork
        og_locale(lang), text_direction(lang), localise_time("2000-01-01T00:00", "0:00", lang)
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        built = pool.map(_worker_build, stale, chunksize=8)
        for slug in articles:
            yield fresh.get(slug) or next(built)


def build_project(project: Any, langs: list[str], articles: list[str], *,
                  min_complete: float = 0.0, include_fuzzy: bool = False, force: bool = False,
                  progress: Progress | None = None, jobs: int | None = None) -> BuildReport:
    """Write build/<lang>/<slug>.html for each language and build/<source>/<slug>.html.

    One build at a time (a lock in build/.cache/): under it, what a killed build left behind
    is removed first, so build/<lang>/ ends as a clean build would leave it.
    """
    if not project.locales_dir.is_dir():  # not "every unit fell back": nothing was extracted
        raise InputError("no such folder (run `transflow extract` first)",
                         project.relative(project.locales_dir))
    notes: list[str] = []
    cache_dir = project.cache_dir
    if os.path.lexists(cache_dir) and not cache_dir.is_dir():
        discard_damaged(cache_dir, notes)  # (a file where the cache folder belongs)
    with project_lock(cache_dir / "build.lock") as since:
        remove_stale_temporaries(project.build_dir, notes, since)
        templates = cache_dir / TEMPLATE_CACHE
        if os.path.lexists(templates) and not templates.is_dir():
            discard_damaged(templates, notes)
        report = _build(project, langs, articles, min_complete, include_fuzzy, force, progress,
                        jobs, notes)
        report.notes[:0] = notes
        return report


def _build(project: Any, langs: list[str], articles: list[str], min_complete: float,
           include_fuzzy: bool, force: bool, progress: Progress | None, jobs: int | None,
           notes: list[str]) -> BuildReport:
    from transflow.progress import no_progress

    progress = progress or no_progress
    manifest_path = project.cache_dir / MANIFEST_NAME
    manifest = load_manifest(manifest_path, notes)
    pages: dict[str, Any] = dict(manifest.get("pages", {}))
    percents: dict[str, Any] = dict(manifest.get("percent", {}))
    hashes: dict[str, Any] = dict(manifest.get("hashes", {}))
    shown = {}
    for lang in (project.source_language, *langs):
        shown[f"build/{lang}"] = project.relative(project.build_dir / lang)
        shown[f"po/{lang}"] = project.relative(project.locales_dir / lang)
    job = _BuildJob(project, tuple(langs), min_complete, include_fuzzy, force, shown)
    jobs = jobs if jobs is not None else min(os.cpu_count() or 1, 4)
    report = BuildReport(min_complete=min_complete)
    try:
        with progress(articles, "Building") as items:
            for _, outcome in zip(items, _outcomes(job, articles, manifest, jobs), strict=True):
                report.pages.extend(outcome.pages)
                for key, entry in outcome.manifest.items():
                    if entry is None:
                        pages.pop(key, None)
                    else:
                        pages[key] = entry
                percents.update(outcome.percents)
                hashes.update(outcome.hashes)
                report.notes.extend(outcome.notes)
    finally:
        # Whatever was built is recorded, even if a later article failed.
        new_manifest = {"version": code_fingerprint(), "pages": dict(sorted(pages.items())),
                        "percent": dict(sorted(percents.items())),
                        "hashes": dict(sorted(hashes.items()))}
        # (no `indent`: json's C encoder only serves compact output; 10x faster on 4,000 pages)
        write_if_changed(manifest_path, json.dumps(new_manifest, ensure_ascii=False,
                                                   separators=(",", ":")))
    return report
