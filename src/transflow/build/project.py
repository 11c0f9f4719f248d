"""The project build: every article in every language, incrementally (`transflow build`).

What is rebuilt is decided by the manifest in `build/.cache/` (`build/manifest.py`: per article,
the stamps and digests of its source and catalogues, and per page the digests it was built
from and the stamp of the file written); compiled templates are cached there too. A warm build
stats each input and output once and decodes one fixed-size record per article: no hashing,
no path objects, nothing written when nothing changed. Articles are built in worker processes
when there are many.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISREG
from typing import TYPE_CHECKING, Any

from transflow.build.caches import (
    MANIFEST_NAME,
    TEMPLATE_CACHE,
    BuildFolders,
    cached_template,
    discard_damaged,
    discard_legacy_manifest,
)
from transflow.build.manifest import (
    MANIFEST_FORMAT,
    MISSING,
    NO_STAMP,
    PAGE_FIELDS,
    Manifest,
    RecordLayout,
    manifest_key,
)
from transflow.build.results import BuildReport, PageResult
from transflow.cachekey import code_fingerprint
from transflow.errors import InputError
from transflow.files import project_lock, read_bytes, write_if_changed
from transflow.progress import Progress
from transflow.project import SOURCE_SUFFIXES

if TYPE_CHECKING:
    from transflow.build.template import CompiledTemplate

# (render, template and their lxml, Babel and segmenter are imported when a page is built:
# a build with nothing to rebuild needs none of them.)

# --- the project build --------------------------------------------------------------------

# An input changed this close to the moment it was hashed may change again within the same
# timestamp tick without changing size ("racy git"): its stamp is not kept, so the next build
# hashes it again instead of trusting it.
RACY_WINDOW_NS = 2_000_000_000


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def _href(from_lang: str, to_lang: str, slug: str) -> str:
    """Relative URL from build/<from_lang>/<slug>.html to build/<to_lang>/<slug>.html.

    (What `posixpath.relpath` gives for these normalised paths, at a fraction of its cost.)
    >>> _href("ka", "en", "news/b"), _href("ka", "ka", "news/b"), _href("ru", "ka", "a")
    ('../../en/news/b.html', 'b.html', '../ka/a.html')
    """
    if from_lang == to_lang:
        return f"{posixpath.basename(slug)}.html"
    return "../" * (slug.count("/") + 1) + f"{to_lang}/{slug}.html"


class _BuildJob:
    """Everything a worker needs to build articles, worked out once per build (not per page):
    paths as prefixes, record offsets, what is shown, which catalogues are looked at."""

    def __init__(self, project: Any, langs: tuple[str, ...], min_complete: float,
                 include_fuzzy: bool, force: bool, started_ns: int = 0):  # fmt: skip
        self.project, self.langs, self.min_complete = project, langs, min_complete
        self.include_fuzzy, self.force = include_fuzzy, force
        self.started_ns = started_ns  # when this build began (inputs changed since are racy)
        languages = project.languages
        layout = self.layout = RecordLayout(len(languages))
        source = self.source_lang = project.source_language
        self.sentences = project.segmentation == "sentence"
        self.source_prefix = os.fspath(project.source_dir) + "/"
        locales, builds = os.fspath(project.locales_dir), os.fspath(project.build_dir)
        self.po_prefixes = [f"{locales}/{lang}/" for lang in languages]
        # Folders held open while building (`open_folders`): a file in one is statted by its
        # name there, not walked to from / (a fifth of the cost of 60,000 stats).
        self.fds: dict[str, int] = {}
        self.source_at: tuple[int | None, str] = (None, self.source_prefix)
        self.masks: dict[int, bytes] = {}  # eligible languages → as recorded
        # Catalogues looked at: (j, record offset of the file, of the percent, and where to stat
        # it: folder fd and prefix). With min_complete at 0 every page is built: others'
        # catalogues need not be read.
        self.catalogues: list[tuple[Any, ...]] = [
            (j, layout.file(1 + j), layout.pct(j), None, self.po_prefixes[j])
                           for j, lang in enumerate(languages)
                           if min_complete > 0 or lang in langs]  # fmt: skip
        self.always = sum(1 << j for j, lang in enumerate(languages)
                          if min_complete <= 0 and lang not in langs)  # fmt: skip
        # Pages: (lang, j (-1: the source), record offset, output prefix, as-shown prefixes of
        # the output and the catalogue, context (what else the page's bytes depend on), and
        # where to stat it: folder fd and prefix).
        self.pages: list[tuple[Any, ...]] = []
        for lang in (source, *langs):
            j = -1 if lang == source else languages.index(lang)
            context = 2 * self.sentences + (0 if j < 0 else include_fuzzy)
            self.pages.append((lang, j, layout.page(1 + j), f"{builds}/{lang}/",
                               project.relative(project.build_dir / lang) + "/",
                               project.relative(project.locales_dir / lang) + "/", context,
                               None, f"{builds}/{lang}/"))

    def open_folders(self) -> None:
        """Open the source, catalogue and output folders that exist: a file in one is then
        statted by its name there, not walked to from / (a fifth of the cost of 60,000 stats).
        """
        def opened(prefix: str) -> tuple[int | None, str]:  # (fd, what to put before a name)
            try:
                fd = self.fds[prefix] = os.open(prefix, os.O_RDONLY | os.O_DIRECTORY)
                return fd, ""
            except OSError:
                return None, prefix  # (not there yet: statted by its path)

        self.source_at = opened(self.source_prefix)
        self.catalogues = [(j, at, pct_at, *opened(self.po_prefixes[j]))
                           for j, at, pct_at, *_ in self.catalogues]  # fmt: skip
        self.pages = [(*page[:7], *opened(page[3])) for page in self.pages]

    def close_folders(self) -> None:
        """Close what `open_folders` opened (the end of the build: the job is not used after)."""
        for fd in self.fds.values():
            os.close(fd)
        self.fds.clear()


@dataclass(slots=True)
class _ArticleOutcome:
    slug: str
    pages: list[PageResult] = field(default_factory=list)
    record: tuple[Any, ...] | None = None  # the article's new record, None if unchanged
    warnings: dict[str, list[str] | None] = field(default_factory=dict)  # page key → lines
    notes: list[str] = field(default_factory=list)


def _rehash(job: _BuildJob, values: list[Any], at: int, path: str,
            st: os.stat_result | None) -> bytes:  # fmt: skip
    """The digest of an input file whose stamp is not the one recorded: hashed, recorded.

    (While the stamp is the one recorded, the record's digest is used, as git's index does;
    a stamp within RACY_WINDOW_NS of this build's start is not recorded.)
    """
    if st is None:
        values[at:at + 5] = (*NO_STAMP, MISSING)
        return MISSING
    digest = _digest(read_bytes(Path(path)))  # (a folder in its place: "is a folder", exit 2)
    if st.st_ctime_ns < job.started_ns - RACY_WINDOW_NS:
        values[at:at + 4] = (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)
    else:
        values[at:at + 4] = NO_STAMP
    values[at + 4] = digest
    return digest


def _source_file(job: _BuildJob, slug: str) -> tuple[str, os.stat_result]:
    """The source file of an article and its stat (`project.source_path`, without pathlib)."""
    fd, prefix = job.source_at
    for suffix in SOURCE_SUFFIXES:
        try:
            st = os.stat(prefix + slug + suffix, dir_fd=fd)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as e:  # (a link loop, a permission: named by its path, not dir_fd's name)
            raise OSError(e.errno, e.strerror, job.source_prefix + slug + suffix) from e
        if S_ISREG(st.st_mode):
            return job.source_prefix + slug + suffix, st
    path = job.project.source_path(slug)
    read_bytes(path)  # (says what is wrong: no such file, or a folder in its place)
    raise InputError("no such file", path)


def _build_article(job: _BuildJob, slug: str, old: tuple[Any, ...] | None,
                   check_only: bool = False, warnings: dict[str, list[str]] | None = None,
                   ) -> _ArticleOutcome | None:  # fmt: skip
    """Build one article in the source language and every selected language.

    `old` is the article's record in the manifest (`RecordLayout`); a page is up to date when
    the digests of its inputs, the versions it links and the stamp of its file are the ones
    recorded. With `check_only`, return None as soon as a page needs building.
    """
    layout = job.layout
    values = list(old if old is not None else layout.empty)
    outcome = _ArticleOutcome(slug)
    src_name, src_st = _source_file(job, slug)
    if (values[0] == src_st.st_mtime_ns and values[1] == src_st.st_ctime_ns
            and values[2] == src_st.st_size and values[3] == src_st.st_ino):
        src_digest = values[4]
    else:
        src_digest = _rehash(job, values, 0, src_name, src_st)
    po_digests: dict[int, bytes] = {}
    entries: dict[int, Any] = {}
    # Which languages get this page (all versions link each other with hreflang).
    eligible = job.always  # a bit per language
    percents: dict[int, float] = {}
    po_name = slug + ".po"
    for j, at, pct_at, fd, prefix in job.catalogues:
        try:
            po_st: os.stat_result | None = os.stat(prefix + po_name, dir_fd=fd)
        except (FileNotFoundError, NotADirectoryError):
            po_st = None
        if (po_st is not None and values[at] == po_st.st_mtime_ns
                and values[at + 1] == po_st.st_ctime_ns and values[at + 2] == po_st.st_size
                and values[at + 3] == po_st.st_ino):
            digest = po_digests[j] = values[at + 4]
        else:
            digest = po_digests[j] = _rehash(job, values, at, job.po_prefixes[j] + po_name,
                                             po_st)
        if (values[pct_at] == digest and values[pct_at + 1] == job.include_fuzzy
                and values[pct_at + 2] >= 0):
            pct = values[pct_at + 2]
        else:
            from transflow.build.catalogs import catalog_percent, read_entries

            po = entries[j] = None if digest == MISSING else read_entries(
                Path(job.po_prefixes[j] + po_name))
            pct = 0.0 if po is None else catalog_percent(po, job.include_fuzzy)
            values[pct_at:pct_at + 3] = (digest, job.include_fuzzy, pct)
        percents[j] = pct
        if pct >= job.min_complete:
            eligible |= 1 << j
    mask = job.masks.get(eligible)
    if mask is None:
        mask = job.masks[eligible] = layout.mask(eligible)
    template: CompiledTemplate | None = None
    versions: list[str] | None = None
    page_name = slug + ".html"
    for lang, j, at, out_prefix, shown_prefix, po_prefix, context, fd, stat_prefix in job.pages:
        out_name = out_prefix + page_name  # (= project.build_path, without pathlib)
        shown = shown_prefix + page_name
        if j < 0:
            pct, po_digest = 100.0, MISSING
        else:
            pct, po_digest = percents[j], po_digests[j]
            if not eligible >> j & 1:
                outcome.pages.append(PageResult(lang, slug, shown, "skipped", pct))
                if os.path.isfile(out_name):
                    os.unlink(out_name)  # a stale page would contradict the report
                if values[at]:
                    values[at:at + PAGE_FIELDS] = layout.empty[at:at + PAGE_FIELDS]
                    outcome.warnings[f"{lang}/{slug}"] = None
                continue
        if (values[at] & RecordLayout.BUILT and values[at + 1] == src_digest
                and values[at + 2] == po_digest and values[at + 3] == mask
                and values[at + 4] == context and not job.force):
            try:
                out_st: os.stat_result | None = os.stat(stat_prefix + page_name, dir_fd=fd)
            except (FileNotFoundError, NotADirectoryError):
                out_st = None
            # (An output's mtime and size, not its ctime and inode: a build/ restored by
            # `cp -a` or a CI cache is up to date; an edit by hand changes the mtime.)
            if (out_st is not None and values[at + 5] == out_st.st_mtime_ns
                    and values[at + 7] == out_st.st_size):
                lines: tuple[str, ...] = ()
                if values[at] & RecordLayout.WARNED and warnings is not None:
                    lines = tuple(warnings.get(f"{lang}/{slug}", ()))
                outcome.pages.append(PageResult(lang, slug, shown, "up to date", pct,
                                                values[at + 9], values[at + 10], lines, j < 0))
                continue
        if check_only:
            return None
        if template is None:
            from transflow.build.catalogs import Translation, catalog_lookup, read_entries
            from transflow.build.render import PageSettings, render_page

            store = old is not None and old[4] == src_digest  # (known to the last build)
            template = cached_template(job.project, slug, Path(src_name), src_digest.hex(),
                                       notes=outcome.notes, store=store)
        if versions is None:
            versions = [job.source_lang, *(v for i, v in enumerate(job.project.languages)
                                           if eligible >> i & 1)]
        alternates = tuple([(v, _href(lang, v, slug)) for v in versions]
                           + [("x-default", _href(lang, job.source_lang, slug))])
        lookup: dict[str, Translation] = {}
        po_label = ""
        if j >= 0:
            po_label = f"{po_prefix}{slug}.po"
            if j not in entries:
                entries[j] = None if po_digest == MISSING else read_entries(
                    Path(f"{job.po_prefixes[j]}{slug}.po"))
            if entries[j] is not None:
                lookup = catalog_lookup(entries[j], job.include_fuzzy)
        settings = PageSettings(lang, job.source_lang, alternates, job.sentences)
        html, stats = render_page(template, settings, lookup, po_label)
        write_if_changed(Path(out_name), template.encode(html), durable=False)  # rebuildable
        out_st = os.stat(out_name)
        fallbacks = 0 if j < 0 else stats.fallbacks
        state = RecordLayout.BUILT | (RecordLayout.WARNED if stats.warnings else 0)
        values[at:at + PAGE_FIELDS] = (state, src_digest, po_digest, mask, context,
                                       out_st.st_mtime_ns, out_st.st_ctime_ns, out_st.st_size,
                                       out_st.st_ino, stats.units, fallbacks)
        outcome.warnings[f"{lang}/{slug}"] = list(stats.warnings) or None
        outcome.pages.append(PageResult(lang, slug, shown, "built", pct, stats.units,
                                        fallbacks, tuple(stats.warnings), j < 0))
    if old is None or tuple(values) != old:
        outcome.record = tuple(values)
    return outcome


TEMPLATE_CACHE_PATH = f".cache/{TEMPLATE_CACHE}"  # (relative to build/)

# Below this many articles to rebuild, worker processes cost more than they save.
PARALLEL_MIN_ARTICLES = 40
_WORKER_STATE: dict[str, Any] = {}


def _built(job: _BuildJob, slug: str, manifest: Manifest) -> _ArticleOutcome:
    outcome = _build_article(job, slug, manifest.record(slug), warnings=manifest.warnings)
    assert outcome is not None
    return outcome


def _worker_build(slug: str) -> _ArticleOutcome:
    return _built(_WORKER_STATE["job"], slug, _WORKER_STATE["manifest"])


# Articles looked at ahead of the workers: the outcomes of the up-to-date ones among them are
# held until their turn comes, so a warm build holds at most this many (not 10,000).
LOOKAHEAD_ARTICLES = 1000


def _outcomes(job: _BuildJob, articles: list[str], manifest: Manifest,
              jobs: int) -> Iterator[_ArticleOutcome]:  # fmt: skip
    """Build every article, in worker processes when there are many (results in order).

    Up-to-date articles are seen here (cheap: stats), `LOOKAHEAD_ARTICLES` at a time; workers
    are started for the first stretch with `PARALLEL_MIN_ARTICLES` to rebuild, and then build
    what is stale in every later stretch; before that, a stretch with fewer is built here.
    """
    if jobs <= 1 or len(articles) < PARALLEL_MIN_ARTICLES:
        for slug in articles:
            yield _built(job, slug, manifest)
        return
    everything = job.force or not len(manifest)  # (a first build: every article is stale)
    step = len(articles) if everything else LOOKAHEAD_ARTICLES
    pool: Any = None
    try:
        for start in range(0, len(articles), step):
            stretch = articles[start:start + step]
            fresh = {} if everything else {
                slug: _build_article(job, slug, manifest.record(slug), check_only=True,
                                     warnings=manifest.warnings) for slug in stretch}
            stale = [slug for slug in stretch if fresh.get(slug) is None]
            if pool is None and len(stale) < PARALLEL_MIN_ARTICLES:
                for slug in stretch:
                    yield fresh.get(slug) or _built(job, slug, manifest)
                continue
            if pool is None:
                pool = _start_workers(job, manifest, jobs)
            built = pool.map(_worker_build, stale, chunksize=8)
            for slug in stretch:
                yield fresh.pop(slug, None) or next(built)
    finally:
        if pool is not None:
            pool.shutdown()


def _start_workers(job: _BuildJob, manifest: Manifest, jobs: int) -> Any:
    """A pool of forked workers that build with this job and manifest."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from transflow.build.render import localise_time
    from transflow.locales import og_locale, text_direction

    _WORKER_STATE.update(job=job, manifest=manifest)
    for lang in (job.project.source_language, *job.langs):  # load CLDR data once, before fork
        og_locale(lang), text_direction(lang), localise_time("2000-01-01T00:00", "0:00", lang)
    return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork"))


def build_project(project: Any, langs: list[str], articles: list[str], *,
                  min_complete: float = 0.0, include_fuzzy: bool = False, force: bool = False,
                  progress: Progress | None = None, jobs: int | None = None,
                  every_article: bool = False, keep_pages: bool = True) -> BuildReport:
    """Write build/<lang>/<slug>.html for each language and build/<source>/<slug>.html.

    `every_article`: `articles` are all the project's articles (no selection), so the
    manifest forgets the records of articles that are gone. `keep_pages`: the report keeps
    a result for every page (False: only what is not up to date, see `BuildReport`).

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
        folders = BuildFolders(project.build_dir, notes)
        folders.sweep(since, notes)
        templates = cache_dir / TEMPLATE_CACHE
        if os.path.lexists(templates) and not templates.is_dir():
            discard_damaged(templates, notes)
        report = _build(project, langs, articles, min_complete, include_fuzzy, force, progress,
                        jobs, notes, since, every_article, keep_pages)
        # Completed: the folders written to hold no temporary of this build.
        written = {".cache"}
        for page in report.pages:
            if page.status != "up to date":  # (built, or skipped: its page removed)
                folder = posixpath.dirname(page.article)
                written.add(f"{page.lang}/{folder}" if folder else page.lang)
                written.add(f"{TEMPLATE_CACHE_PATH}/{folder}" if folder else TEMPLATE_CACHE_PATH)
        folders.record(written)
        report.notes[:0] = notes
        return report


def _build(project: Any, langs: list[str], articles: list[str], min_complete: float,
           include_fuzzy: bool, force: bool, progress: Progress | None, jobs: int | None,
           notes: list[str], started_ns: int, every_article: bool = False,
           keep_pages: bool = True) -> BuildReport:
    from transflow.progress import no_progress

    progress = progress or no_progress
    job = _BuildJob(project, tuple(langs), min_complete, include_fuzzy, force, started_ns)
    # Every record depends on the code, the languages (the layout), the source language and
    # where catalogues are shown from (in warnings); anything else is in the records.
    key = manifest_key(MANIFEST_FORMAT, code_fingerprint(), project.source_language,
                       project.languages, project.relative(project.locales_dir))
    manifest_path = project.cache_dir / MANIFEST_NAME
    discard_damaged(manifest_path, notes)
    manifest = Manifest(manifest_path, key, job.layout, notes)
    jobs = jobs if jobs is not None else min(os.cpu_count() or 1, 4)
    report = BuildReport(min_complete=min_complete, keep_pages=keep_pages)
    job.open_folders()
    try:
        with progress(articles, "Building") as items:
            for _, outcome in zip(items, _outcomes(job, articles, manifest, jobs), strict=True):
                report.add(outcome.pages)
                if outcome.record is not None:
                    manifest.put(outcome.slug, outcome.record, outcome.warnings)
                report.notes.extend(outcome.notes)
        if every_article:  # (a deleted article's record would otherwise stay forever)
            manifest.retain(set(articles))
    finally:
        job.close_folders()
        # Whatever was built is recorded, even if a later article failed.
        try:
            if manifest.save():
                discard_legacy_manifest(project.cache_dir)
        except OSError as e:  # the manifest only saves time: the next build checks again
            report.notes.append(f"{manifest_path}: not saved ({e.strerror})")
        finally:
            manifest.close()
    return report
