"""`transflow review`: static pages where an editor sees a whole translation and its problems.

`build/review/<lang>/<slug>.html` puts every unit of an article side by side (English |
translation) with its status as build will publish it, the glossary terms and their matched
renderings highlighted, the findings of `check` on their row, and for a fuzzy unit what
changed in the English; `build/review/index.html` lists every article × language with its
progress, findings and build state, most work left first.

`model.py` gathers (pure), `render.py` writes HTML (pure); this module does the I/O: it is
incremental like build (a page is rewritten only when one of its inputs changed: the
catalogue, the source, the glossary, the settings, the code) through a manifest in
`build/.cache/review.json`, which is treated as absent when it is damaged.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transflow.errors import InputError
from transflow.files import atomic_write, read_bytes, write_if_changed
from transflow.memo import Memo
from transflow.progress import Progress, no_progress

if TYPE_CHECKING:
    from transflow.glossary import Glossary
    from transflow.project import Project

REVIEW_DIR = "review"  # under the build folder
MANIFEST_FILE = "review.json"  # under build/.cache/
MANIFEST_FORMAT = 1
# A file modified this recently may change again within its mtime's resolution: its stamp is
# not trusted next time (git's "racy clean" rule), so it is hashed again.
RACY_WINDOW_NS = 2_000_000_000
PARALLEL_MIN_JOBS = 40  # below this, worker processes cost more than they save
MAX_WORKERS = 8
COLLECT_EVERY = 1000  # pages between two collections of the young generations (see _do_jobs)


@dataclass
class ReviewReport:
    """What a review run did."""

    index: str  # the index page, as the user sees its path
    written: list[str] = field(default_factory=list)
    up_to_date: list[str] = field(default_factory=list)
    no_catalog: list[str] = field(default_factory=list)  # article × language without a PO file
    removed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line: pages written and up to date, and where to look."""
        text = (f"review: {len(self.written)} page{'s' if len(self.written) != 1 else ''} written, "
                f"{len(self.up_to_date)} up to date")
        if self.no_catalog:
            text += f", {len(self.no_catalog)} without a catalogue (run transflow extract)"
        return f"{text}; open {self.index}"

    def detail_lines(self) -> list[str]:
        """One line per page written or removed (for -v)."""
        return ([f"wrote {p}" for p in self.written] + [f"removed {p}" for p in self.removed]
                + [f"no catalogue: {p}" for p in self.no_catalog])


class _Hasher:
    """sha256 of input files, skipped when (mtime, size) match the manifest's record."""

    def __init__(self, known: dict[str, Any]):
        self.known = known
        self.new: dict[str, list[Any]] = {}
        self.now = time.time_ns()

    def sha(self, path: Path | str, rel: str) -> str:
        try:
            st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            return "-"
        old = self.known.get(rel)
        if (isinstance(old, list) and len(old) == 3 and old[0] == st.st_mtime_ns
                and old[1] == st.st_size):
            self.new[rel] = old
            return str(old[2])
        digest = hashlib.sha256(read_bytes(Path(path))).hexdigest()
        if st.st_mtime_ns < self.now - RACY_WINDOW_NS:
            self.new[rel] = [st.st_mtime_ns, st.st_size, digest]
        return digest


def _catalog_state(po: str) -> str:
    """"-" when there is no PO file at `po` (as `_Hasher.sha` says it; a folder there is
    reported by the caller), else "" (its digest is taken later, by the worker)."""
    return "" if os.path.isfile(po) else "-"


def _page_key(settings: str, lang: str, article: str, po_sha: str, src_sha: str,
              built: bool) -> str:
    """What a page is a function of: the settings, its catalogue, its source, its build."""
    return hashlib.sha256(json.dumps(
        [settings, lang, article, po_sha, src_sha, built]).encode()).hexdigest()


def _record(data: bytes, st: os.stat_result, now: int) -> tuple[str, list[Any] | None]:
    """sha256 of a file's bytes read after `st`, and its record in the manifest's `files`
    (None when it is racy: see `_Hasher`)."""
    digest = hashlib.sha256(data).hexdigest()
    if st.st_mtime_ns < now - RACY_WINDOW_NS:
        return digest, [st.st_mtime_ns, st.st_size, digest]
    return digest, None


def _stamp(path: Path | str) -> list[int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return [st.st_mtime_ns, st.st_size]


def load_manifest(path: Path) -> dict[str, Any]:
    """The manifest of the last run, or an empty one when absent, damaged or of another format."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    if (not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT
            or not isinstance(data.get("pages"), dict) or not isinstance(data.get("files"), dict)):
        return {}
    return data


@dataclass(frozen=True, slots=True)
class _Job:
    lang: str
    article: str
    key: str | None  # None: the worker keys the page by the bytes it reads (see review_project)
    built: bool
    source: tuple[str, str]  # the source file: its path, and as the manifest names it
    po_rel: str


def review_dir(project: Project) -> Path:
    """`build/review/`: where the review pages go."""
    return project.build_dir / REVIEW_DIR


def page_path(project: Project, lang: str, article: str) -> Path:
    """`build/review/<lang>/<slug>.html`."""
    return review_dir(project) / lang / f"{article}.html"


def review_project(project: Project, langs: list[str], articles: list[str], *,
                   force: bool = False, progress: Progress = no_progress) -> ReviewReport:
    """Write the review pages of `articles` × `langs` (changed ones only) and the index."""
    if not project.locales_dir.is_dir():
        raise InputError("no such folder (run `transflow extract` first)",
                         project.relative(project.locales_dir))
    manifest_path = project.cache_dir / MANIFEST_FILE
    manifest = load_manifest(manifest_path)
    old_pages: dict[str, Any] = manifest.get("pages", {})
    hasher = _Hasher(manifest.get("files", {}))
    glossary_on = project.checks.get("glossary", "error") != "off"
    gpath = project.glossary_path
    glossary_sha = "off"
    if glossary_on and gpath is not None:
        glossary_sha = hasher.sha(gpath, project.relative(gpath))
    from transflow.cachekey import code_fingerprint

    # Pages depend on transflow's code: the fingerprint of every file of the package, as for
    # every other cache (a hand-kept list of files once lost `build.py` when it became the
    # `build/` package, and pages would have stayed stale after a change to build's percentage).
    settings = json.dumps([code_fingerprint(), project.source_language,
                           sorted(project.checks.items()),
                           project.min_complete, project.include_fuzzy, glossary_sha])
    report = ReviewReport(project.relative(review_dir(project) / "index.html"))
    pages: dict[str, Any] = {}
    built_pages: dict[tuple[str, str], bool] = {}
    jobs: list[_Job] = []
    # Thousands of pages are checked on every run: paths as strings, one stat each.
    locales, locales_rel = os.fspath(project.locales_dir), project.relative(project.locales_dir)
    builds = os.fspath(project.build_dir)
    reviews, reviews_rel = os.fspath(review_dir(project)), project.relative(review_dir(project))
    sources: dict[str, tuple[str, str]] = {}
    sources_dir = os.fspath(project.source_dir)
    sources_rel = project.relative(project.source_dir) + "/"
    if sources_rel == "./":  # the sources at the project's root
        sources_rel = ""
    for lang in langs:
        for article in articles:
            po_rel = f"{locales_rel}/{lang}/{article}.po"
            po = f"{locales}/{lang}/{article}.po"
            page_key = f"{lang}/{article}"
            old = old_pages.get(page_key)
            # A page without a usable record (a cold run, --force, a page changed or removed
            # by hand) is rewritten whatever its inputs are: their digests are taken by the
            # worker from the very bytes it reads, in parallel, instead of by this process
            # reading every catalogue and source once more before the workers start.
            keep = (not force and isinstance(old, dict) and isinstance(old.get("summary"), dict)
                    and old.get("stamp") == _stamp(f"{reviews}/{lang}/{article}.html"))
            po_sha = hasher.sha(po, po_rel) if keep else _catalog_state(po)
            if po_sha == "-":
                if os.path.exists(po):
                    raise InputError("is a folder, not a PO file", po_rel)
                report.no_catalog.append(page_key)
                continue
            if article not in sources:
                src = os.fspath(project.source_path(article))
                # (as project.relative says it, without a Path per article)
                src_rel = sources_rel + src[len(sources_dir) + 1:] if src.startswith(
                    sources_dir + os.sep) else project.relative(Path(src))
                sources[article] = (src, src_rel)
            built = built_pages[(lang, article)] = os.path.isfile(
                f"{builds}/{lang}/{article}.html")
            if not keep:
                jobs.append(_Job(lang, article, None, built, sources[article], po_rel))
                continue
            src_sha = hasher.sha(*sources[article])
            key = _page_key(settings, lang, article, po_sha, src_sha, built)
            if isinstance(old, dict) and old.get("key") == key:
                pages[page_key] = old
                report.up_to_date.append(f"{reviews_rel}/{lang}/{article}.html")
            else:
                jobs.append(_Job(lang, article, key, built, sources[article], po_rel))
    for page_key, record, files in _run_jobs(project, jobs, settings, hasher.now, progress):
        pages[page_key] = record
        hasher.new.update(files)
        lang, article = page_key.split("/", 1)
        report.written.append(project.relative(page_path(project, lang, article)))
    # Pages of other articles and languages reviewed earlier stay listed while they exist.
    known_articles = set(project.articles())
    for page_key, record in old_pages.items():
        if page_key in pages or not isinstance(record, dict):
            continue
        lang, article = page_key.split("/", 1)
        out = page_path(project, lang, article)
        if lang not in project.languages or article not in known_articles or \
                not project.po_path(lang, article).is_file():
            if out.is_file():
                out.unlink()
                report.removed.append(project.relative(out))
            continue
        if isinstance(record.get("summary"), dict) and out.is_file():
            pages[page_key] = record
    summaries = [pages[k]["summary"] for k in sorted(pages)]
    for s in summaries:  # pages reviewed in earlier runs
        if (s["lang"], s["article"]) not in built_pages:
            built_pages[(s["lang"], s["article"])] = project.build_path(
                s["lang"], s["article"]).is_file()
    index_path = review_dir(project) / "index.html"
    index_key = hashlib.sha256(json.dumps(
        [settings, project.languages, [[k, pages[k].get("key")] for k in sorted(pages)],
         sorted(f"{lang}/{article}" for (lang, article), b in built_pages.items() if b)]
    ).encode()).hexdigest()
    old_index = manifest.get("index")
    if force or not (isinstance(old_index, dict) and old_index.get("key") == index_key
                     and old_index.get("stamp") == _stamp(index_path)):
        from transflow.review.render import render_index  # (not imported when up to date)

        write_if_changed(index_path, render_index(summaries, built_pages,
                                                  list(project.languages)), durable=False)
    new_manifest = {"format": MANIFEST_FORMAT, "pages": dict(sorted(pages.items())),
                    "files": dict(sorted(hasher.new.items())),
                    "index": {"key": index_key, "stamp": _stamp(index_path)}}
    # (no indent: json's C encoder, ten times faster on thousands of pages)
    write_if_changed(manifest_path, json.dumps(new_manifest, ensure_ascii=False,
                                               separators=(",", ":"), sort_keys=True),
                     durable=False)
    report.written.sort()
    return report


# msgid → its words as build counts them (see below); two generations, 50,000 at most as before
_PERCENT_WORDS: Memo[str, int] = Memo(25_000)


def _remembered_words(msgid: str) -> int:
    """`build.catalogs.source_words`, remembered: menus, bylines and footers are counted
    once, not on every page."""
    memo = _PERCENT_WORDS
    words = memo.get(msgid)
    if words is None:
        words = memo.recall(msgid)
        if words is None:
            from transflow.build.catalogs import source_words

            words = source_words(msgid)
            memo.put(msgid, words)
    return words


def _catalog_percent(entries: list[Any], include_fuzzy: bool) -> float:
    """Build's percentage (`build.catalogs.catalog_percent`, the same count and rounding), so
    "skipped" here is what build does; each msgid's words remembered."""
    from transflow.build.catalogs import catalog_percent

    return catalog_percent(entries, include_fuzzy, _remembered_words)


def review_one(project: Project, glossary: Glossary | None, lang: str, article: str,
               built: bool, data: bytes | None = None) -> tuple[dict[str, Any], str]:
    """Read one catalogue and render its page: (the index summary, the HTML).

    `data`: the catalogue's bytes, when the caller has read them already.
    """
    from transflow.review.model import review_catalog
    from transflow.review.render import render_article

    po = project.po_path(lang, article)
    po_rel = project.relative(po)
    if data is None:
        from transflow.check import read_entries

        entries, metadata = read_entries(po, po_rel)
    else:
        from transflow.pofile import parse_entries  # (what check.read_entries does)

        parsed = parse_entries(data, po_rel)
        entries, metadata = parsed.entries, parsed.metadata
    review = review_catalog(
        entries, metadata, lang=lang, article=article, po_file=po_rel,
        source_language=project.source_language, glossary=glossary,
        severities=project.checks, include_fuzzy=project.include_fuzzy,
        min_complete=project.min_complete,
        percent=_catalog_percent(entries, project.include_fuzzy), built=built)
    summary = review.summary()
    return summary, render_article(review, summary)


_Done = tuple[str, dict[str, Any], dict[str, list[Any]]]


def _read_job(project: Project, job: _Job, settings: str, now: int,
              sources: dict[str, tuple[str, list[Any] | None]]
              ) -> tuple[str, bytes, dict[str, list[Any]]]:
    """The page key of a job without one, taken from the bytes of its catalogue read here
    (returned, to be parsed) and of its source; the records of the manifest's `files`."""
    from transflow.errors import CatalogError

    files: dict[str, list[Any]] = {}
    po = os.fspath(project.po_path(job.lang, job.article))
    try:
        st = os.stat(po)
        data = read_bytes(Path(po))
    except FileNotFoundError:
        raise CatalogError("no such file", job.po_rel) from None
    except InputError as e:
        raise CatalogError(e.message, job.po_rel) from e
    po_sha, record = _record(data, st, now)
    if record is not None:
        files[job.po_rel] = record
    src, src_rel = job.source
    known = sources.get(src)
    if known is None:  # (read once per article: its languages are reviewed one after another)
        try:
            st = os.stat(src)
        except (FileNotFoundError, NotADirectoryError):
            known = ("-", None)
        else:
            known = _record(read_bytes(Path(src)), st, now)
        sources.clear()
        sources[src] = known
    src_sha, record = known
    if record is not None:
        files[src_rel] = record
    return _page_key(settings, job.lang, job.article, po_sha, src_sha, job.built), data, files


def _do_jobs(project: Project, glossary: Glossary | None, jobs: Iterable[_Job],
             settings: str, now: int) -> list[_Done]:
    """Review and write the pages of `jobs`: (page key, manifest record, records of the
    manifest's `files` for the inputs read) of each."""
    out: list[_Done] = []
    sources: dict[str, tuple[str, list[Any] | None]] = {}  # the last source read
    # A page allocates a million short-lived objects and no reference cycles to speak of,
    # while the caches (glossary forms, repeated rows) grow to millions of long-lived ones: the
    # collector's automatic passes over those cost a fifth of a cold run. It is paused while
    # pages are made (in a worker, for good: see `_chunk`), except for the young generations
    # (a recent page's cycles, if any) every COLLECT_EVERY pages of the process.
    enabled = gc.isenabled()
    gc.disable()
    try:
        for job in jobs:
            key, data, files = (job.key, None, {}) if job.key is not None else _read_job(
                project, job, settings, now, sources)
            summary, page = review_one(project, glossary, job.lang, job.article, job.built,
                                       data)
            path = page_path(project, job.lang, job.article)
            atomic_write(path, page, durable=False)  # rebuilt from the catalogue if lost
            out.append((f"{job.lang}/{job.article}",
                        {"key": key, "stamp": _stamp(path), "summary": summary}, files))
            _PAGES[0] += 1
            if _PAGES[0] % COLLECT_EVERY == 0:
                gc.collect(1)
    finally:
        if enabled:
            gc.enable()
    return out


# The parent's glossary, inherited by forked workers.
_INHERITED: list[Glossary | None] = []
_PAGES = [0]  # pages this process has made (for COLLECT_EVERY)


def _chunk(project: Project, jobs: list[_Job], settings: str, now: int) -> list[_Done]:
    """Worker-process entry point."""
    # The collector stays paused between chunks too: re-enabled, its first automatic pass
    # would go over everything the last chunk left in the caches (as a collection every chunk).
    gc.disable()
    if _INHERITED:
        glossary = _INHERITED[0]
    else:
        glossary = _load_glossary(project)
    return _do_jobs(project, glossary, jobs, settings, now)


def _load_glossary(project: Project) -> Glossary | None:
    """The glossary exactly as `check` loads it, so the findings shown are check's."""
    from transflow.check import glossary_for_checks

    return glossary_for_checks(project)


def _worker_count(jobs: int) -> int:
    from transflow.processes import worker_count

    return worker_count(jobs, PARALLEL_MIN_JOBS, MAX_WORKERS)


def _run_jobs(project: Project, jobs: list[_Job], settings: str, now: int,
              progress: Progress) -> list[_Done]:
    """Review the changed pages, in worker processes when there are many (`settings` and
    `now` key the pages whose inputs the workers read: see `_read_job`)."""
    if not jobs:
        return []
    glossary = _load_glossary(project)
    workers = _worker_count(len(jobs))
    if workers == 1:
        with progress(jobs, "review") as items:
            return _do_jobs(project, glossary, items, settings, now)
    import concurrent.futures
    import multiprocessing

    ordered = sorted(jobs, key=lambda j: (j.article, j.lang))  # one article's msgids together
    size = -(-len(ordered) // (workers * 8))  # small last chunks: the workers end together
    chunks = [ordered[i : i + size] for i in range(0, len(ordered), size)]
    fork = "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if fork else "spawn")
    results: list[_Done] = []
    if fork:
        _INHERITED[:] = [glossary]
        # imported once here rather than in every worker
        import transflow.build.catalogs
        import transflow.pofile
        import transflow.review.model
        import transflow.review.render  # noqa: F401
    try:
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
            futures = [pool.submit(_chunk, project, chunk, settings, now) for chunk in chunks]
            with progress(futures, "review") as items:
                for future in items:
                    results += future.result()
    finally:
        _INHERITED.clear()
    return results
