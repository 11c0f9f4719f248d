"""`transflow extract`: source articles → POT templates → every language's PO, safely.

Everything is computed before anything is written, so a bad article stops the run with
every file as it was. Writes are atomic and only happen when bytes change; a PO that a
translator saved while extract ran is merged again from its new content, never overwritten
blindly. A cache in `build/.cache/` lets a run skip articles whose inputs have not changed.
"""

from __future__ import annotations

import contextlib
import json
import os
import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from transflow import __version__
from transflow.errors import CatalogError, ConflictError, TransflowError
from transflow.files import (
    delete_files,
    file_stamp,
    nothing_to_wait,
    project_lock,
    read_bytes,
    replace_if_unchanged,
    stage_file,
)
from transflow.lazyseq import LazySequence
from transflow.progress import Progress, no_progress
from transflow.project import Project

if TYPE_CHECKING:  # (imported where used: a run with nothing to do loads none of them)
    import polib

    from transflow.catalog import MemoryLike, MergeStats
    from transflow.memory import Prefill, SqliteMemory

CACHE_FILE = "extract.json"
CACHE_VERSION = 5  # bump when the output for the same input changes
MAX_CONCURRENT_RETRIES = 3  # re-merges of one PO that keeps changing under us before giving up
PARALLEL_MIN_ARTICLES = 64  # below this, worker processes cost more than they save
MAX_WORKERS = 4  # one per core, up to this
RENAME_THREADS = 16  # a rename over a file waits on the ext4 journal: overlap the waits
RENAME_SLICE = 512  # renames handed to the threads at a time
# From this many catalogues to look at, the memory refreshes in a forked child process: what
# a big refresh allocates (tens of MB, never given back) stays out of this process and out of
# the article workers forked from it (`SqliteMemory.refresh(isolated=True)`).
ISOLATED_MIN_CATALOGUES = 200
SAVE_SLICE = 500  # articles of the extract cache encoded at a time when it is saved
FSYNC_MAX_FILES = 64  # up to this many staged files, fsync each; beyond, one os.sync is cheaper
# Articles re-merged by runs that did not open the memory (a translator's save, a `git pull`),
# kept beside the memory's token for the next run that does (`_Memories.settle`); beyond this
# many, the token is dropped and that run looks at every catalogue.
PENDING_MAX = 1000

Stamp = tuple[int, int] | None


@dataclass(frozen=True, slots=True)
class FileResult:
    """One output file of the run."""

    path: str  # as the user sees it (relative to the project)
    written: bool
    stats: MergeStats | None = None  # None for templates


@dataclass(frozen=True, slots=True)
class ExtractReport:
    """What `extract_project` did."""

    articles: int
    skipped: int  # articles whose inputs had not changed since the last run (cache)
    # (A run's own is `_Files`: made from what it packed, one `FileResult` at a time.)
    files: Sequence[FileResult] = ()
    languages: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # what the caches did (for -v)
    checked: bool = False  # `--check`: nothing was written; `written` is what would be

    @property
    def written(self) -> list[FileResult]:
        """The files this run wrote."""
        return [f for f in self.files if f.written]

    def _total(self, name: str) -> int:
        if isinstance(self.files, _Files):
            return self.files.total(name)
        return sum(getattr(f.stats, name) for f in self.files if f.stats is not None)

    def _written_count(self) -> int:
        if isinstance(self.files, _Files):
            return self.files.written_count()
        return sum(1 for f in self.files if f.written)

    @property
    def new(self) -> int:
        """Entries with no translation from anywhere, over every written catalogue."""
        return self._total("new")

    @property
    def fuzzy(self) -> int:
        """Entries newly marked fuzzy (changed text, or a close memory match)."""
        return self._total("fuzzy")

    @property
    def obsolete(self) -> int:
        """Entries newly made obsolete (`#~`)."""
        return self._total("obsolete")

    @property
    def from_memory(self) -> int:
        """Entries filled from the translation memory."""
        return self._total("from_memory")

    def summary(self) -> str:
        """One line: articles, files written and unchanged, entry counts."""
        written = self._written_count()
        if self.checked:
            if not written:
                plural = "s" if self.articles != 1 else ""
                return f"extract --check: {self.articles} article{plural}, every catalogue is current"
            return (f"extract --check: {written} file{'s' if written != 1 else ''} would change "
                    "(run `transflow extract`)")
        unchanged = len(self.files) - written
        arts = f"{self.articles} article{'s' if self.articles != 1 else ''}"
        if self.skipped:
            arts += f" ({self.skipped} unchanged since the last run)"
        return (f"extract: {arts}; {written} file{'s' if written != 1 else ''} written, "
                f"{unchanged} unchanged; {self.new} new, {self.fuzzy} fuzzy, "
                f"{self.obsolete} obsolete entries, {self.from_memory} from memory")

    def detail_lines(self) -> Iterator[str]:
        """One line per written file, with what changed in it (made as they are read: a cold
        run of 10,000 articles has 30,000 of them)."""
        for f in self.files:
            if not f.written:
                continue
            if self.checked:
                yield f"would change {f.path}"
            elif f.stats is None:
                yield f"wrote {f.path}"
            else:
                s = f.stats
                yield (f"wrote {f.path} ({s.total} entries: {s.new} new, {s.fuzzy} fuzzy, "
                       f"{s.obsolete} obsolete, {s.from_memory} from memory)")


@dataclass(frozen=True, slots=True)
class _Merged:
    """One language's merged PO for one article, and the file as it was when read."""

    slug: str
    tmp: str | None  # the new content, staged in a temporary (None: same bytes as read)
    stats: MergeStats
    stamp: Stamp  # of the PO when read (None: there was none)
    digest: str | None  # of its bytes when read
    # (digest of the new bytes, `marshal` of the memory pairs they teach): handed to the
    # memory's `learn` through `_PairSpill` (None: unchanged, or `--check`)
    hint: tuple[str, bytes] | None = None


@dataclass(frozen=True, slots=True)
class _Staged:
    """A file to replace at commit time; for a PO, the stamp it must still have then."""

    path: str  # (a string: 30,000 `Path` objects were ~15 MB of the parent at 10,000 articles)
    tmp: str  # the temporary holding the new content, renamed over `path` at commit
    expect: Stamp
    lang: str | None = None  # None for a template
    digest: str | None = None  # of the PO's bytes that were merged (None: there was none)


@dataclass(slots=True)
class _Article:
    slug: str
    template: polib.POFile | None  # None once merged: rebuilt if a PO must be merged again
    pot_tmp: str | None  # the new template, staged (None: unchanged)
    merged: dict[str, _Merged] = field(default_factory=dict)
    staged: list[_Staged] = field(default_factory=list)


# One file of the run in `_Ledger`: what is in the fields (`_IS_*`), the random part of its
# staged temporary's name (`tempfile.mkstemp`'s 8 characters), the stamp it must still have
# at commit, the digest of the bytes merged, then the merge's counts (`MergeStats`' fields).
_IS_STAGED = 1  # a temporary to rename over the file at commit (the name below)
_IS_ODD = 4  # staged, but the temporary's name is not mkstemp's usual one: kept whole aside
_HAS_STAMP = 8
_HAS_DIGEST = 16
_IS_WRITTEN = 32  # the report's `FileResult.written`
_TOKEN = 8
_STATS = ("total", "new", "fuzzy", "obsolete", "revived", "from_memory")  # MergeStats' fields
_SLOT = struct.Struct(f"<B{_TOKEN}sqq16s{len(_STATS)}I")


class _Ledger:
    """What the run did to each file of the articles it merged, packed: the parent holds it
    from the merges to the report (every article's template, then each language's PO).

    As objects (`_Article`, `_Merged`, `_Staged`, `FileResult`, their paths) this was ~5 KB
    an article in the parent, ~50 MB at 10,000 articles; packed it is ~200 bytes. A staged
    file is made a `_Staged` again for the commit, a slice at a time, and an article an
    `_Article` again only if a catalogue must be merged once more (a save during the run).
    """

    def __init__(self, project: Project, slugs: list[str], langs: tuple[str, ...]) -> None:
        self.project = project
        self.slugs = slugs  # the articles merged, in the order they are added
        self.langs = langs
        self.width = 1 + len(langs)  # files an article: its template, then its POs
        self._table = bytearray()
        self._odd: dict[int, str] = {}  # slot → a staged temporary's whole name (`_IS_ODD`)
        self.count = 0  # articles added
        self.staged = 0  # files to rename at commit
        self.merged_changed = 0  # POs whose merge gave new bytes (the memory's `prefill`)
        self.written_pos = 0  # POs written (the memory's `settle`)
        self.written_files = 0  # files written (the report's summary)
        self.totals = [0] * len(_STATS)  # the merges' counts summed over every PO
        # Waits for the old catalogues the commit displaced, deleted in the background.
        self.deleted: Callable[[], None] = nothing_to_wait
        self._templates = os.fspath(project.templates_dir)
        self._locales = os.fspath(project.locales_dir)

    def path(self, slug: str, k: int) -> str:
        """File `k` of an article (0: its template, then the languages in order), as
        `str(project.pot_path(slug))` / `str(project.po_path(lang, slug))` (without pathlib)."""
        if k == 0:
            return f"{self._templates}/{slug}.pot"
        return f"{self._locales}/{self.langs[k - 1]}/{slug}.po"

    def add(self, article: _Article, outcome: list[tuple[bool, MergeStats | None]]) -> None:
        """Pack one article: its staged files (`article.staged`), and for each file whether it
        is written and the merge's counts (`outcome`, one per file in the ledger's order)."""
        assert article.slug == self.slugs[self.count], "articles are added in their order"
        staged = {item.lang: item for item in article.staged}
        for k, (written, stats) in enumerate(outcome):
            lang = self.langs[k - 1] if k else None
            flags = _IS_WRITTEN if written else 0
            self.written_files += written
            token: bytes | None = b""
            stamp: Stamp = None
            digest: str | None = None
            item = staged.get(lang)
            if item is not None:
                flags |= _IS_STAGED
                stamp, digest = item.expect, item.digest
                token = self._token(article.slug, k, item.tmp)
                if token is None:
                    flags |= _IS_ODD
                    self._odd[self.count * self.width + k] = item.tmp
                self.staged += 1
            if k:
                if written:
                    self.written_pos += 1
                merged = article.merged[lang]  # type: ignore[index]
                if merged.tmp is not None:
                    self.merged_changed += 1
            if stamp is not None:
                flags |= _HAS_STAMP
            if digest is not None:
                flags |= _HAS_DIGEST
            counts = [getattr(stats, name) for name in _STATS] if stats is not None else [0] * len(_STATS)
            if k:
                self.totals = [a + b for a, b in zip(self.totals, counts, strict=True)]
            self._table += _SLOT.pack(flags, token or b"", *(stamp or (0, 0)),
                                      bytes.fromhex(digest) if digest else b"", *counts)  # fmt: skip
        self.count += 1

    def _token(self, slug: str, k: int, tmp: str) -> bytes | None:
        """The random part of `tmp` when it is `_spill`'s usual name for file `k`, else None."""
        path = self.path(slug, k)
        folder, _, name = path.rpartition("/")
        head = f"{folder}/.{name}."
        if (len(tmp) == len(head) + _TOKEN + len(STAGED_SUFFIX) and tmp.startswith(head)
                and tmp.endswith(STAGED_SUFFIX) and tmp.isascii()):  # fmt: skip
            return tmp[len(head) : len(head) + _TOKEN].encode("ascii")
        return None

    def _slot(self, slot: int) -> tuple[Any, ...]:
        return _SLOT.unpack_from(self._table, slot * _SLOT.size)

    def staged_files(self) -> Iterator[tuple[int, _Staged]]:
        """Every file to rename at commit: (its article's index, a `_Staged`), in order."""
        width = self.width
        for slot in range(self.count * width):
            flags, token, mtime, size, digest, *_ = self._slot(slot)
            if not flags & _IS_STAGED:
                continue
            i, k = divmod(slot, width)
            path = self.path(self.slugs[i], k)
            if flags & _IS_ODD:
                tmp = self._odd[slot]
            else:
                folder, _, name = path.rpartition("/")
                tmp = f"{folder}/.{name}.{token.decode('ascii')}{STAGED_SUFFIX}"
            yield i, _Staged(path, tmp, (mtime, size) if flags & _HAS_STAMP else None,
                             self.langs[k - 1] if k else None,
                             digest.hex() if flags & _HAS_DIGEST else None)  # fmt: skip

    def article(self, i: int, lang: str) -> _Article:
        """Article `i` again, for `_write_po` to merge `lang`'s catalogue once more."""
        slot = i * self.width + 1 + self.langs.index(lang)
        stats = self.stats(slot)
        assert stats is not None
        slug = self.slugs[i]
        # (Merged again from what is on disk now: `_write_po` with `direct` reads it.)
        return _Article(slug, None, None, {lang: _Merged(slug, None, stats, None, None)})

    def stats(self, slot: int) -> MergeStats | None:
        """The merge's counts of a file (None for a template)."""
        if slot % self.width == 0:
            return None
        from transflow.catalog import MergeStats

        return MergeStats(*self._slot(slot)[5:])

    def files(self) -> _Files:
        """The report's view of every file (`ExtractReport.files`)."""
        return _Files(self)

    def written(self, slot: int) -> bool:
        """Whether the report says file `slot` is written (or, with `--check`, would be)."""
        return bool(self._table[slot * _SLOT.size] & _IS_WRITTEN)


class _Files(LazySequence[FileResult]):
    """`ExtractReport.files` of a run: each `FileResult` made from the ledger when it is read;
    the counts the summary needs come from it without making any."""

    def __init__(self, ledger: _Ledger) -> None:
        self.ledger = ledger
        project = ledger.project
        # The paths as the user sees them (`Project.relative`), built as strings.
        self._heads = [_relative_head(project, project.templates_dir)]
        self._heads += [_relative_head(project, project.locales_dir / lang)
                        for lang in ledger.langs]  # fmt: skip
        self._suffixes = [".pot"] + [".po"] * len(ledger.langs)

    def __len__(self) -> int:
        return self.ledger.count * self.ledger.width

    def _item(self, slot: int) -> FileResult:
        ledger = self.ledger
        i, k = divmod(slot, ledger.width)
        path = f"{self._heads[k]}{ledger.slugs[i]}{self._suffixes[k]}"
        return FileResult(path, ledger.written(slot), ledger.stats(slot))

    def written_count(self) -> int:
        """How many files are written."""
        return self.ledger.written_files

    def total(self, name: str) -> int:
        """The sum of one of `MergeStats`' counts over every catalogue."""
        return self.ledger.totals[_STATS.index(name)]


def _relative_head(project: Project, folder: Path) -> str:
    """What `project.relative(folder / name)` puts before `name` (for a plain relative name)."""
    head = project.relative(folder)
    return "" if head == "." else f"{head}/"


def _digest(data: bytes) -> str:
    import hashlib

    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _list_sources(sources: str) -> tuple[list[str], set[str]]:
    """Every article slug under `sources` (as `Project.articles`), and those whose source is
    `.htm` with no `.html` beside it: one listing of the folder serves both."""
    from transflow.files import find_relative

    found = find_relative(Path(sources), (".htm", ".html"))
    html = {name[:-5] for name in found if name.endswith(".html")}
    htm_only = {name[:-4] for name in found if name.endswith(".htm") and name[:-4] not in html}
    return sorted(html | htm_only), htm_only


class _Cache:
    """`build/.cache/extract.json`: the stamps of each article's files at its last extract.

    An article's entry is one flat list, `[mtime_ns, size]` of its source, its template and
    each language's PO in turn (the paths follow from the slug and the key's languages):
    10,000 articles decode in a few milliseconds, and nothing in it depends on where the
    project lives. It is written only when an entry changed.
    """

    def __init__(self, project: Project, key: str) -> None:
        self.path = project.cache_dir / CACHE_FILE
        self.key = key
        # (An entry this run records is packed, `_packed`: 10,000 lists of eight ints were
        # ~3.7 MB of a cold run's parent, the same as bytes ~1.2 MB.)
        self.articles: dict[str, list[int] | bytes] = {}
        # The stats `fresh` took of the articles it found changed: the memory's refresh reuses
        # them (no second stat). Those of unchanged articles are not kept: 40,000 `stat_result`
        # objects were ~25 MB of a warm run at 10,000 articles, and the memory only looks at
        # an unchanged article's catalogues when it is out of step with the cache (rare).
        self.seen: dict[str, os.stat_result] = {}
        self.notes: list[str] = []  # what happened to an unusable cache (for -v)
        self.dirty = False  # an entry changed since it was read: `save` writes
        # [token, what it covers, pending]: the memory held every catalogue as this cache
        # stamps it when it recorded the same token (`_Memories`), but those of the articles
        # `pending` (re-merged since by runs that did not open the memory); None: not known to.
        self.memory: list[Any] | None = None
        try:
            with open(self.path, "rb") as fh:
                data = json.loads(fh.read())
            if data.get("key") == key and isinstance(data.get("articles"), dict):
                self.articles = data["articles"]
                memory = data.get("memory")
                if (isinstance(memory, list) and len(memory) in (2, 3)
                        and all(isinstance(x, str) for x in memory[:2])):
                    pending = memory[2] if len(memory) == 3 else []
                    if isinstance(pending, list) and all(isinstance(x, str) for x in pending):
                        self.memory = [memory[0], memory[1], pending]
            else:
                self.articles = _from_version_4(data, key)  # (an upgrade re-merges nothing)
                self.dirty = True  # another version's or settings': replaced by this run's
        except FileNotFoundError:
            self.dirty = True
        except (OSError, ValueError, AttributeError) as e:
            # Unreadable or damaged: it is only a cache (every article is looked at again).
            why = e.strerror if isinstance(e, OSError) and e.strerror else "damaged"
            self.notes.append(f"extract cache {self.path}: {why}; ignored")
            self.dirty = True

    def fresh(self, slug: str, paths: list[str]) -> bool:
        """True when the source and every output (`paths`) are as the last run left them.

        Paths are strings and stamps plain `os.stat`: a warm run of 10,000 articles is
        40,000 of these.
        """
        entry = _unpacked(self.articles.get(slug))
        if type(entry) is not list or len(entry) != 2 * len(paths):
            return False
        i = 0
        for path in paths:
            try:
                st = os.stat(path)
            except (FileNotFoundError, NotADirectoryError):
                return False
            if entry[i] != st.st_mtime_ns or entry[i + 1] != st.st_size:
                self.seen[path] = st
                return False
            i += 2
        return True

    def record(self, slug: str, paths: list[str]) -> None:
        """Remember the article's source and outputs (`paths`) as they are now."""
        entry: list[int] = []
        for path in paths:
            try:
                st = os.stat(path)
            except (FileNotFoundError, NotADirectoryError):
                if self.articles.pop(slug, None) is not None:
                    self.dirty = True
                return
            entry += (st.st_mtime_ns, st.st_size)
        if _unpacked(self.articles.get(slug)) != entry:
            self.articles[slug] = _packed(entry)
            self.dirty = True

    def save(self) -> None:
        """Write the cache if an entry changed (atomically; failure only costs time next run)."""
        if not self.dirty:
            return
        tmp = None
        try:
            # Written a slice of articles at a time (the same JSON as one `json.dumps`, never
            # the whole text in memory: ~6 MB at 10,000 articles), then renamed into place.
            tmp = stage_file(self.path, b"", durable=False)  # (a torn cache is only ignored)
            with open(tmp, "w", encoding="utf-8") as fh:
                head = json.dumps({"key": self.key, "memory": self.memory, "articles": {}},
                                  separators=(",", ":"))  # fmt: skip
                fh.write(head[:-2])
                items = list(self.articles.items())
                for start in range(0, len(items), SAVE_SLICE):
                    part = json.dumps({slug: _unpacked(entry) for slug, entry
                                       in items[start : start + SAVE_SLICE]},
                                      separators=(",", ":"))  # fmt: skip
                    fh.write(("," if start else "") + part[1:-1])
                fh.write("}}")
            os.replace(tmp, self.path)
        except OSError:
            # A cache that cannot be written costs time, never correctness.
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        self.dirty = False


def _packed(entry: list[int]) -> bytes:
    """An extract cache entry as this run keeps it (`_Cache.articles`)."""
    return struct.pack(f"<{len(entry)}q", *entry)


def _unpacked(entry: Any) -> Any:
    """An extract cache entry as a list of ints, whether it was packed or read (else as is)."""
    if type(entry) is bytes:
        return list(struct.unpack(f"<{len(entry) // 8}q", entry))
    return entry


def _from_version_4(data: Any, key: str) -> dict[str, list[int] | bytes]:
    """The entries of a cache written by the previous format (version 4: a dict of stamps by
    absolute path per article), when everything else in its key is this run's; else none."""
    try:
        old, new = json.loads(data["key"]), json.loads(key)
        if old[0] != 4 or old[1:] != new[1:]:
            return {}
        langs = new[-1]
        articles: dict[str, list[int] | bytes] = {}
        for slug, entry in data["articles"].items():
            outputs = entry["outputs"]
            pot = [path for path in outputs if path.endswith(f"/{slug}.pot")]
            pos = [[path for path in outputs if path.endswith(f"/{lang}/{slug}.po")]
                   for lang in langs]  # fmt: skip
            if len(pot) != 1 or any(len(found) != 1 for found in pos):
                continue
            flat = [*entry["source"], *outputs[pot[0]]]
            for (path,) in pos:
                flat += outputs[path]
            if len(flat) == 2 * (2 + len(langs)) and all(type(n) is int for n in flat):
                articles[slug] = flat
        return articles
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        return {}


def _glossary_key(project: Project) -> str:
    """A key that changes when the glossary file does (its bytes; "absent" without one)."""
    from transflow.cachekey import file_digest

    return file_digest(project.glossary_path)


def _glossary(project: Project) -> Any:
    """The project glossary, or None (loaded only when some article is to be merged)."""
    from transflow.glossary import load_project_glossary

    return load_project_glossary(project)


def _segment(project: Project, slug: str) -> tuple[Path, list[Any]]:
    from transflow.segment import extract_segments

    source = project.source_path(slug)
    data = read_bytes(source)
    return source, extract_segments(data, source, sentences=project.segmentation == "sentence")


def _template(
    project: Project, slug: str, segments: list[Any]
) -> tuple[polib.POFile, bytes, bytes | None]:
    """The article's POT, its bytes and the old POT's; the old date stays if no entry changed."""
    from transflow.catalog import (
        build_template,
        catalog_bytes,
        creation_date,
        parse_catalog,
        same_entries,
    )

    source_ref = project.relative(project.source_path(slug))
    pot_path = project.pot_path(slug)
    template = build_template(segments, source_ref, project_id=slug, date=creation_date())
    old_data = None
    try:
        old_data = pot_path.read_bytes()
    except OSError:
        pass
    if old_data is not None:
        try:
            old = parse_catalog(old_data, pot_path)
        except CatalogError:
            old = None  # a broken template is regenerated: it is extract's own output
        if old is not None and same_entries(old, template):
            for name in ("POT-Creation-Date", "PO-Revision-Date"):
                date = old.metadata.get(name)
                if date:
                    template.metadata[name] = date
    return template, catalog_bytes(template), old_data


# What `_spill` returns in `--check` mode: the file would change, nothing was staged.
NOT_STAGED = ""


def _spill(path: Path, data: bytes, dry: bool = False) -> str:
    """Stage `data` for `path` in a temporary beside it (renamed over it at commit).

    Not synced here: `_commit` syncs every staged file at once. An OS error (a full disk)
    names `path`, not the temporary.
    """
    if dry:
        return NOT_STAGED
    return stage_file(path, data, suffix=STAGED_SUFFIX, durable=False)


class _Memories:
    """The project's translation memory (`transflow.memory`), opened and refreshed on first use.

    Refreshing re-reads only the catalogues whose stamps changed since the last run; a run
    whose merges look nothing up (an edit the article's own catalogue covers) opens nothing.
    """

    def __init__(self, project: Project, langs: tuple[str, ...]) -> None:
        self.project = project
        self.langs = langs
        self.memory: SqliteMemory | None = None
        self.notes: list[str] = []
        self.seen: dict[str, os.stat_result] = {}  # stats already taken this run (by path)
        self.articles: list[str] | None = None  # every article, when the run already listed them
        self._catalogues: list[tuple[str, str, str]] | None = None
        # The extract cache's token, when the memory last recorded the same one: it held every
        # catalogue as the cache stamps them; the articles the cache found unchanged this run
        # (`verified`) then need no look from the memory (20,000 stats at 10,000 articles).
        self.token: str | None = None
        self.verified: set[str] = set()
        self._prefill: Prefill | None = None  # the memory's rebuild, started before the commit

    def _ready(self) -> SqliteMemory:
        memory = self.memory
        if memory is None:
            from transflow.memory import DB_FILE, SqliteMemory

            memory = SqliteMemory(self.project.cache_dir / DB_FILE, log=self.notes.append)
            if self.token is not None and memory.synced == self.token:
                verified = self.verified
                # The catalogues of the articles not verified, and the memory files (whose
                # order key is in no cache); the whole list only if a rebuild needs it.
                wanted = self._catalogues_of([s for s in self.slugs() if s not in verified])
                stats = memory.refresh(wanted, seen=self.seen, partial=True,
                                       everything=self.catalogues,
                                       isolated=len(wanted) >= ISOLATED_MIN_CATALOGUES)  # fmt: skip
            else:
                everything = self.catalogues()
                stats = memory.refresh(everything, seen=self.seen,
                                       isolated=len(everything) >= ISOLATED_MIN_CATALOGUES)
            self.notes.append(f"translation memory: {stats.stat} catalogues looked at, "
                              f"{stats.read} read, {stats.parsed} changed, "
                              f"{stats.removed} gone")  # fmt: skip
            self.memory = memory
        return memory

    def catalogues(self) -> list[tuple[str, str, str]]:
        """What the memory learns from (`memory.project_catalogues`), listed once a run."""
        if self._catalogues is None:
            self._catalogues = self._catalogues_of(self.slugs())
        return self._catalogues

    def slugs(self) -> list[str]:
        """Every article of the project (listed by the run, else now)."""
        if self.articles is None:
            self.articles = self.project.articles()
        return self.articles

    def _catalogues_of(self, slugs: list[str]) -> list[tuple[str, str, str]]:
        """`memory.project_catalogues` of these articles (and the memory files), made as read."""
        from transflow.memory import project_catalogues

        # (A sequence, not a list: the memory only takes its length and iterates over it.)
        return cast("list[tuple[str, str, str]]", project_catalogues(self.project, self.langs,
                                                                     slugs))

    def get(self, lang: str) -> MemoryLike:
        """The language's memory (the database refreshed now if it was not yet)."""
        return self._ready().for_language(lang)

    def before_fork(self) -> None:
        """Refresh now (workers only read) and close this process's connection."""
        self._ready().detach()

    def prefork(self, hints: _PairSpill, estimate: int) -> None:
        """Fork the child of the rebuild `settle` may do (`SqliteMemory.prefork`), while this
        process is small: if the run may write that much (`estimate` catalogues)."""
        if self.memory is not None:
            hints.open()  # (the child reads the hints from this file: it must exist now)
            self._prefill = self.memory.prefork(hints, estimate)

    def prefill(self, hints: _PairSpill, count: int) -> None:
        """Start the rebuild `settle` would do, if the run is about to write that much."""
        if self._prefill is not None:
            if not self._prefill.start(hints, count):
                self._prefill = None
        elif self.memory is not None:
            self._prefill = self.memory.prefill(hints, count)

    def settle(self, cache: _Cache, todo: list[str], written: int,
               hints: _PairSpill | None = None) -> None:  # fmt: skip
        """At the end of a run: the memory takes in the catalogues of `todo` (re-reading those
        whose stamps changed: the `written` ones, or a translator's save), and the memory and `cache`
        record one new token, so that the next run skips what the cache finds unchanged.

        A run that did not open the memory but changed the cache (it re-merged `todo`: a
        translator saved a PO, say) keeps the token, with `todo` added to the articles the
        memory has not seen since (`pending`): the next run that opens the memory looks at
        their catalogues and at those of the articles its cache finds changed, not at every
        catalogue of the newsroom (20,000 at 10,000 articles). Without a token, another set
        of articles, or too many pending, the next run's memory looks at every catalogue.
        """
        memory = self.memory
        if memory is None:
            if cache.dirty:
                kept = cache.memory
                pending = sorted(set(kept[2]).union(todo)) if kept is not None else []
                if (kept is not None and todo and self.articles is not None
                        and kept[1] == self.scope() and len(pending) <= PENDING_MAX):
                    cache.memory = [kept[0], kept[1], pending]
                else:
                    cache.memory = None
            return
        prefill, self._prefill = self._prefill, None
        if prefill is not None and prefill.finish() is not None:
            pass  # (rebuilt beside the commit: every catalogue as it is now)
        elif todo:
            chosen = set(todo)
            # (Their catalogues in memory order; the memory files are not the run's.)
            written_catalogues = [c for c in self._catalogues_of(
                [s for s in self.slugs() if s in chosen]) if c[2] in chosen]  # fmt: skip
            memory.learn(written_catalogues,
                         written_count=written, hints=hints,
                         isolated=written >= ISOLATED_MIN_CATALOGUES)  # fmt: skip
        import secrets

        token = secrets.token_hex(8)
        cache.memory = [token, self.scope(), []] if memory.mark_synced(token) else None
        cache.dirty = True

    def scope(self) -> str:
        """What a token covers: where the catalogues are and which articles there are."""
        import hashlib

        h = hashlib.blake2b(os.fspath(self.project.locales_dir).encode("utf-8", "surrogateescape"),
                            digest_size=16)  # fmt: skip
        for slug in self.articles or ():
            h.update(b"\0" + slug.encode("utf-8", "surrogateescape"))
        return h.hexdigest()

    def close(self) -> None:
        """Close the database (and delete it if it was a temporary one)."""
        if self._prefill is not None:  # (the run failed before `settle`)
            self._prefill.cancel()
            self._prefill = None
        if self.memory is not None:
            self.memory.close()


@dataclass(frozen=True, slots=True)
class _LazyMemory:
    """A language's memory that is only opened if a merge actually looks something up."""

    memories: _Memories
    lang: str

    def lookup(self, msgid: str) -> tuple[str, str, float] | None:
        """As `TranslationMemory.lookup` (opens and refreshes the memory on the first call)."""
        return self.memories.get(self.lang).lookup(msgid)


def _prepare(project: Project, slug: str) -> tuple[polib.POFile, bytes, bytes | None]:
    """Segment one article and build its template (its bytes, and the old template's)."""
    _, segments = _segment(project, slug)
    return _template(project, slug, segments)


def _process(project: Project, slug: str, langs: tuple[str, ...], glossary: Any,
             memories: _Memories, dry: bool = False) -> _Article:  # fmt: skip
    """One article: its template and each language's PO, merged and staged in temporaries.

    What comes back is small (paths, stamps, counts): memory stays flat in the corpus size.
    """
    template, pot_bytes, old_pot = _prepare(project, slug)
    pot_tmp = _spill(project.pot_path(slug), pot_bytes, dry) if pot_bytes != old_pot else None
    article = _Article(slug, None, pot_tmp)
    for lang in langs:
        article.merged[lang] = _merge_language(project, slug, lang, template, glossary, memories,
                                               dry)  # fmt: skip
    return article


def _merge_language(project: Project, slug: str, lang: str, template: polib.POFile,
                    glossary: Any, memories: _Memories, dry: bool = False) -> _Merged:  # fmt: skip
    """Read, merge and stage one language's PO of one article."""
    from transflow.catalog import catalog_bytes, merge_catalog, parse_catalog

    path = project.po_path(lang, slug)
    stamp = file_stamp(path)
    data = read_bytes(path) if stamp is not None else None
    old = parse_catalog(data, path) if data is not None else None
    # Built on first lookup: an edit that the article's own catalogue covers needs none.
    memory = _LazyMemory(memories, lang) if _has_new_entries(template, old) else None
    po, stats = merge_catalog(template, old, lang, glossary=glossary, memory=memory,
                              path=str(path))  # fmt: skip
    new = catalog_bytes(po)
    hint = None
    if new != data and not dry:
        import marshal

        from transflow.catalog import memory_pairs

        hint = (_digest(new), marshal.dumps(memory_pairs(po)))
    return _Merged(slug, _spill(path, new, dry) if new != data else None, stats, stamp,
                   _digest(data) if data is not None else None, hint)  # fmt: skip


_SPILL_ENTRY = struct.Struct("<16sQQ")  # the new bytes' digest, offset, length (0: no hint)


class _PairSpill:
    """What the merges of a run taught the memory, by catalogue path (`memory.Hints`).

    Kept in an unnamed temporary file, not in this process: a cold run of 10,000 articles
    would hold hundreds of MB of strings until the memory learns them after the commit. Where
    each catalogue's pairs are is one packed entry a catalogue, in the order of the run's
    articles and languages (`begin`): no path is kept (a dict by path was ~250 bytes a
    catalogue, and its pickle for the memory's rebuild child ~7 MB at 10,000 articles).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._file: Any = None
        self._slugs: list[str] = []
        self._where: dict[str, int] | None = None  # slug → its index, if they are not sorted
        self._langs: dict[str, int] = {}
        self._bases: list[tuple[str, int]] = []  # ("<locales>/<lang>/", the language's index)
        self._index: bytes | bytearray = b""  # `_SPILL_ENTRY` by (article, language)

    def begin(self, project: Project, slugs: list[str], langs: tuple[str, ...]) -> None:
        """The articles the run merges, in the order `take` gets them, and its languages.

        Before the memory's rebuild child is forked (it reads the index through the slugs).
        """
        import itertools

        self._slugs = slugs
        self._where = (None if all(a < b for a, b in itertools.pairwise(slugs))
                       else {slug: i for i, slug in enumerate(slugs)})  # fmt: skip
        self._langs = {lang: j for j, lang in enumerate(langs)}
        locales = os.fspath(project.locales_dir)
        # (The paths the memory asks for are `memory.project_catalogues`': joined the same way.)
        self._bases = [(os.path.join(locales, lang) + "/", j) for j, lang in enumerate(langs)]
        self._index = bytearray(len(slugs) * len(langs) * _SPILL_ENTRY.size)

    def take(self, i: int, article: _Article) -> _Article:
        """Move the hints of the run's `i`-th article here (its `_Merged` keep none); the article."""
        assert isinstance(self._index, bytearray)
        for lang, merged in article.merged.items():
            if merged.hint is None:
                continue
            digest, blob = merged.hint
            article.merged[lang] = replace(merged, hint=None)
            self.open()
            self._file.seek(0, os.SEEK_END)
            slot = i * len(self._langs) + self._langs[lang]
            _SPILL_ENTRY.pack_into(self._index, slot * _SPILL_ENTRY.size, bytes.fromhex(digest),
                                   self._file.tell(), len(blob))  # fmt: skip
            self._file.write(blob)
        return article

    def _entry(self, path: str) -> tuple[bytes, int, int] | None:
        for base, j in self._bases:
            if path.startswith(base) and path.endswith(".po"):
                slug = path[len(base) : -3]
                if self._where is not None:
                    i = self._where.get(slug)
                else:
                    import bisect

                    i = bisect.bisect_left(self._slugs, slug)
                    if i == len(self._slugs) or self._slugs[i] != slug:
                        i = None
                if i is None:
                    return None
                found: tuple[bytes, int, int] = _SPILL_ENTRY.unpack_from(
                    self._index, (i * len(self._bases) + j) * _SPILL_ENTRY.size)
                return found if found[2] else None
        return None

    def open(self) -> None:
        """Create the temporary file now (a child forked before the merges reads it)."""
        if self._file is None:
            import tempfile

            try:
                self._file = tempfile.TemporaryFile(dir=self.folder)
            except OSError:
                self._file = tempfile.TemporaryFile()

    def __contains__(self, path: object) -> bool:
        """True when the run staged new content for `path` (`memory.Hints`)."""
        return isinstance(path, str) and self._entry(path) is not None

    def export(self) -> object:
        """The index of what was spilled (`memory.Hints`: for a child forked after `begin`)."""
        if self._file is not None:
            self._file.flush()  # (the child reads the file itself: every byte written now)
        return bytes(self._index)

    def adopt(self, state: object) -> None:
        """Take the index `export` gave (in a child forked after `begin`, before the merges)."""
        assert isinstance(state, bytes) and len(state) == len(self._index)
        self._index = state

    def get(self, path: str) -> tuple[str, list[tuple[str, str]]] | None:
        """The digest and pairs of what the run wrote at `path` (`memory.Hints`)."""
        found = self._entry(path)
        if found is None:
            return None
        import marshal

        digest, offset, length = found
        # (`pread`: no shared file offset moves; a forked child reads the same file.)
        self._file.flush()
        pairs: list[tuple[str, str]] = marshal.loads(os.pread(self._file.fileno(), length,
                                                              offset))  # fmt: skip
        return digest.hex(), pairs

    def close(self) -> None:
        """Delete the temporary file (an unnamed one: a killed run leaves nothing behind)."""
        if self._file is not None:
            self._file.close()
            self._file = None


# State a forked worker inherits (fork: no pickling of the glossary or the memories).
_FORK_STATE: dict[str, Any] = {}


def _process_in_worker(slug: str) -> _Article:
    state = _FORK_STATE
    return _process(state["project"], slug, state["langs"], state["glossary"], state["memories"],
                    state["dry"])


# The youngest generation's threshold in the article workers (Python's default is 700).
WORKER_GC_THRESHOLD = 20_000


@contextlib.contextmanager
def _worker_gc() -> Iterator[None]:
    """The garbage collector as the article workers (forked inside) should run it.

    What the parent holds is frozen (a worker's collections never walk it, nor copy its
    pages by touching their reference counts), and a worker collects its young objects
    every 20,000 allocations, not 700: merging an article allocates hundreds of thousands
    of short-lived objects, few of them in cycles. (~1,800 collections and ~1 s of CPU per
    worker at 2,000 articles became ~10 and 0.15 s.) Restored when the workers are done.
    """
    import gc

    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(WORKER_GC_THRESHOLD, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _workers(jobs: int) -> int:
    """How many processes to use for `jobs` articles (1: stay in this process)."""
    if jobs < PARALLEL_MIN_ARTICLES:
        return 1
    import multiprocessing as mp

    if "fork" not in mp.get_all_start_methods():
        return 1
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


def extract_project(
    project: Project, articles: list[str], *, progress: Progress = no_progress,
    check: bool = False,
) -> ExtractReport:
    """Extract every article into its POT and merge that into each language's PO.

    With `check`, nothing is written to the project: the report lists the files that
    extract would change (`ExtractReport.written`). Caches under `build/.cache` may be.
    """
    with project_lock(project.cache_dir / "lock"):
        if check:
            return _extract(project, articles, progress, dry=True)
        marker = project.cache_dir / STAGING_MARKER
        if marker.exists() or not (project.cache_dir / CACHE_FILE).is_file():
            _remove_stale_temporaries(project)  # a killed run's (or an unknown past's) leftovers
        try:
            report = _extract(project, articles, progress, marker=marker)
        except BaseException:
            # A failure may leave the staged files of articles merged before it: ours, under
            # the lock. (On success the commit renamed or removed every one of them, so no
            # walk of locales/ is needed: 30,000 files at 10,000 articles.)
            _remove_stale_temporaries(project)
            with contextlib.suppress(OSError):
                marker.unlink()
            raise
        with contextlib.suppress(OSError):
            marker.unlink()
        return report


# What `_spill` stages and a killed or failed run leaves behind (`.<name>.<random>.extract.tmp`).
# Under the lock no other extract is writing, so these are stale; other writers' temporaries
# (`files.atomic_write` in `xliff import`, editors) have other names and are left alone.
STAGED_SUFFIX = ".extract.tmp"
# Present in build/.cache while a run may have temporaries in locales/: only then (or with no
# extract cache at all) does the next run walk locales/ for them (30,000 files at 10,000 articles).
STAGING_MARKER = "extract.staging"
STALE_TEMPORARIES = (f"*/**/.*.po.*{STAGED_SUFFIX}", f"templates/**/.*.pot.*{STAGED_SUFFIX}")


def _remove_stale_temporaries(project: Project) -> None:
    """Delete the temporaries of a killed run, which would otherwise pile up in locales/."""
    for pattern in STALE_TEMPORARIES:
        for path in project.locales_dir.glob(pattern):
            with contextlib.suppress(OSError):
                path.unlink()
    from transflow.memory import PREFILL_PREFIX

    for path in project.cache_dir.glob(f"{PREFILL_PREFIX}*"):  # (a killed memory rebuild's)
        with contextlib.suppress(OSError):
            path.unlink()


def _extract(project: Project, articles: list[str], progress: Progress, *, dry: bool = False,
             marker: Path | None = None) -> ExtractReport:  # fmt: skip
    memories = _Memories(project, tuple(project.languages))
    spill = _PairSpill(project.cache_dir)
    try:
        return _extract_with(project, articles, progress, memories, spill, dry, marker)
    finally:
        spill.close()
        memories.close()


def _extract_with(project: Project, articles: list[str], progress: Progress, memories: _Memories,
                  spill: _PairSpill, dry: bool, marker: Path | None) -> ExtractReport:  # fmt: skip
    glossary_key = _glossary_key(project)
    langs = tuple(project.languages)
    key = json.dumps([CACHE_VERSION, __version__, project.segmentation, glossary_key, langs])
    cache = _Cache(project, key)

    # The same strings as str(project.pot_path(slug)) etc., built without pathlib (10,000s).
    templates, locales = os.fspath(project.templates_dir), os.fspath(project.locales_dir)
    sources = os.fspath(project.source_dir)

    def stamped(slug: str) -> list[str]:  # what the cache stamps: the source, then outputs
        source = f"{sources}/{slug}.htm" if slug in htm_only else f"{sources}/{slug}.html"
        return [source, f"{templates}/{slug}.pot",
                *(f"{locales}/{lang}/{slug}.po" for lang in langs)]  # fmt: skip

    # Those whose source is `.htm` (no `.html`, rare; `.html` first as `Project.source_path`):
    # known once source/ is listed, which only a run with something to do needs.
    htm_only: set[str] = set()
    todo = [s for s in articles if not cache.fresh(s, stamped(s))]
    if todo:
        # Every article (the memory learns from all, whichever are extracted now), and the
        # `.htm` ones, found changed above because their `.html` is missing: looked at again.
        every, htm_only = _list_sources(sources)
        # (The run's own list when it is every article: one copy of 10,000 slugs, not two.)
        memories.articles = articles if every == articles else every
        del every  # (or a second list of 10,000 slugs stays for the whole run)
        todo = [s for s in todo if s not in htm_only or not cache.fresh(s, stamped(s))]
    memories.seen = cache.seen
    if cache.memory is not None and todo:
        # (An article the memory has not seen since its token is looked at, fresh or not.)
        memories.verified = set(articles).difference(todo, cache.memory[2])
        memories.token = cache.memory[0] if cache.memory[1] == memories.scope() else None
    memories.notes += cache.notes
    workers = _workers(len(todo))
    # The glossary's terms and forms are only needed for the hints of what is merged now.
    glossary = _glossary(project) if todo else None
    if todo and marker is not None:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    # 1. Read and compute everything; any bad input stops here, before a single write.
    #    Article by article (streaming): each is staged as it comes (temporaries beside the
    #    files, renamed at the commit) and kept packed (`_Ledger`); its hints go to `spill`.
    ledger = _Ledger(project, todo, langs)
    spill.begin(project, todo, langs)

    def take(article: _Article) -> None:
        article = spill.take(ledger.count, article)
        if dry:
            outcome: list[tuple[bool, MergeStats | None]] = [(article.pot_tmp is not None, None)]
            outcome += [(article.merged[lang].tmp is not None, article.merged[lang].stats)
                        for lang in langs]  # fmt: skip
        else:
            outcome = _stage(project, article, langs, glossary)
        ledger.add(article, outcome)

    with progress(todo, "Reading articles") as items:
        if workers > 1:
            _FORK_STATE.update(project=project, langs=langs, glossary=glossary,
                               memories=memories, dry=dry)  # fmt: skip
            try:
                # Many articles: refresh the memory first (its own workers read what changed);
                # the article workers then only read the database, each with its connection.
                memories.before_fork()
                if not dry:
                    # The memory's rebuild child, forked now while this process is small (it
                    # waits for the merges: `_Memories.prefill`).
                    memories.prefork(spill, len(todo) * len(langs))
                from transflow.processes import fork_pool

                with _worker_gc(), fork_pool(workers) as pool:
                    for article in pool.imap(_process_in_worker, items, chunksize=8):
                        take(article)
            finally:
                _FORK_STATE.clear()
        else:
            for slug in items:
                take(_process(project, slug, langs, glossary, memories, dry))
    if not dry:
        # Most of the project about to be rewritten (a cold run): the memory's rebuild from
        # what the merges taught starts now, beside the writing below (`SqliteMemory.prefill`).
        memories.prefill(spill, ledger.merged_changed)
    notes = tuple(memories.notes)
    if dry:
        return _dry_report(project, articles, todo, ledger, langs, cache, stamped, notes,
                           memories)  # fmt: skip
    # 2. Write what changed. (The old catalogues the commit displaced are deleted in the
    #    background meanwhile: `ledger.deleted` waits for them, before the lock is released.)
    try:
        _commit(project, ledger, glossary)
        for slug in todo:
            cache.record(slug, stamped(slug))
        # The memory learns what this run wrote now, so that the next run (a one-article edit
        # after a migration, say) does not re-read every catalogue this one rewrote.
        memories.settle(cache, todo, ledger.written_pos, spill)
        cache.save()
    except BaseException:
        with contextlib.suppress(OSError):  # (the error that stopped the run is the one told)
            ledger.deleted()
        raise
    ledger.deleted()
    return ExtractReport(articles=len(articles), skipped=len(articles) - len(todo),
                         files=ledger.files(), languages=langs, notes=notes)


def _stage(project: Project, article: _Article, langs: tuple[str, ...],
           glossary: Any) -> list[tuple[bool, MergeStats | None]]:  # fmt: skip
    """Stage an article's files for the commit (`article.staged`); for each file (its template,
    then each language's PO) whether it is written, and the merge's counts."""
    if article.pot_tmp is not None:
        # (A template is extract's own output: replaced at commit whatever its stamp.)
        article.staged.append(_Staged(os.fspath(project.pot_path(article.slug)), article.pot_tmp,
                                      None))  # fmt: skip
    outcome: list[tuple[bool, MergeStats | None]] = [(article.pot_tmp is not None, None)]
    for lang in langs:
        outcome.append(_write_po(project, article, lang, glossary))
    return outcome


def _dry_report(project: Project, articles: list[str], todo: list[str], ledger: _Ledger,
                langs: tuple[str, ...], cache: _Cache, stamped: Any,
                notes: tuple[str, ...], memories: _Memories) -> ExtractReport:  # fmt: skip
    """`--check`: the files extract would change; articles that would not change are fresh."""
    recorded: list[str] = []
    width = ledger.width
    for i, slug in enumerate(todo):
        if not any(ledger.written(i * width + k) for k in range(width)):
            cache.record(slug, stamped(slug))
            recorded.append(slug)
    memories.settle(cache, recorded, 0)
    cache.save()
    return ExtractReport(articles=len(articles), skipped=len(articles) - len(todo),
                         files=ledger.files(), languages=langs, notes=notes, checked=True)


def _has_new_entries(template: polib.POFile, old: polib.POFile | None) -> bool:
    """True when some template msgid has no entry in the old catalogue (memory may help)."""
    if old is None:
        return len(template) > 0
    known = {(e.msgctxt, e.msgid) for e in old}
    return any((t.msgctxt, t.msgid) not in known for t in template)


def _commit(project: Project, work: _Ledger, glossary: Any) -> None:
    """Replace every staged file (the temporaries were written while merging): sync, rename.

    A few files are fsynced one by one; thousands (a cold run) with one `os.sync`. A crash
    before the renames leaves every file as it was. A PO saved by someone in the meantime is
    merged again rather than replaced. With many files, the old catalogues the exchanges
    displaced are deleted in background threads once every file is in place (deleting one
    waits on the journal: most of a cold commit's time, one by one): `work.deleted` waits
    for them (the caller calls it before the lock is released; a killed run leaves them as
    temporaries, which the next run removes).
    """
    if not work.staged:
        return
    few = work.staged <= FSYNC_MAX_FILES
    displaced: list[str] | None = None if few else []
    renamed = False
    try:
        if few:
            for _, item in work.staged_files():
                _sync(item.tmp)
        else:
            os.sync()

        def rename(entry: tuple[int, _Staged]) -> tuple[int, _Staged] | None:
            item = entry[1]
            if item.lang is None:  # a template: extract's own output
                os.replace(item.tmp, item.path)
                return None
            if file_stamp(Path(item.path)) != item.expect:
                os.unlink(item.tmp)  # saved meanwhile: merged again below, from the new content
                return entry
            # Exchanged atomically and compared (Linux): a save landing after the stamp
            # check is put back and merged again below; it is never overwritten.
            if replace_if_unchanged(item.tmp, Path(item.path), item.digest, digest=_digest,
                                    displaced=displaced) is not None:  # fmt: skip
                return entry
            return None

        if few:  # (a few: threads would cost more than they save)
            conflicts = [c for c in map(rename, work.staged_files()) if c is not None]
        else:
            import itertools
            from concurrent.futures import ThreadPoolExecutor

            # Replacing a file waits on the journal; many renames at once share the waits.
            # (In slices: `map` makes every future at once, ~2 KB each: 30,000 of them at
            # 10,000 articles were 60 MB of this process.)
            conflicts = []
            staged = work.staged_files()
            with ThreadPoolExecutor(RENAME_THREADS) as pool:
                while chunk := list(itertools.islice(staged, RENAME_SLICE)):
                    conflicts += [c for c in pool.map(rename, chunk) if c is not None]
        renamed = True
    finally:
        # (After a failure too: what was displaced is old content, never needed again.)
        if displaced:
            work.deleted = delete_files(displaced)
        if not renamed:  # (those renamed are gone: only the others are deleted)
            for _, item in work.staged_files():
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(item.tmp)
    for i, item in conflicts:
        assert item.lang is not None
        _write_po(project, work.article(i, item.lang), item.lang, glossary, direct=True)


def _sync(path: str) -> None:
    """fsync one staged file before it replaces a catalogue."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_po(
    project: Project, article: _Article, lang: str, glossary: Any, *, direct: bool = False
) -> tuple[bool, MergeStats]:
    """Stage (or with `direct`, write) one merged PO, re-merging first if it was saved meanwhile;
    whether it is written, and the merge's counts."""
    from transflow.catalog import catalog_bytes, merge_catalog, parse_catalog

    merged = article.merged[lang]
    path = project.po_path(lang, article.slug)
    stamp, digest, stats = merged.stamp, merged.digest, merged.stats
    tmp = merged.tmp
    data: bytes | None = None  # the content of a merge done again here
    for _ in range(MAX_CONCURRENT_RETRIES):
        now = file_stamp(path)
        if now == stamp and tmp is not None and data is None and not direct:
            # As the merge read it: staged without reading it again (thousands of catalogues
            # in a cold run). The commit compares what it replaces with `digest`, so a save
            # that kept size and time is merged again there, never overwritten.
            article.staged.append(_Staged(os.fspath(path), tmp, now, lang, digest))
            return True, stats
        current = None
        if now is not None:
            try:
                current = path.read_bytes()
            except OSError as e:
                raise ConflictError(f"cannot read before writing: {e.strerror}", path) from e
        now_digest = _digest(current) if current is not None else None
        # `direct` comes after a conflict at commit: the run's own staged file is gone.
        if now == stamp and now_digest == digest and (data is not None or not direct):
            if data is None:
                if tmp is None:
                    return False, stats
                article.staged.append(_Staged(os.fspath(path), tmp, now, lang, now_digest))
                return True, stats
            if current == data:
                return False, stats
            if not direct:
                article.staged.append(_Staged(os.fspath(path), _spill(path, data), now, lang,
                                              now_digest))  # fmt: skip
                return True, stats
            staged = _spill(path, data)
            _sync(staged)
            if replace_if_unchanged(staged, path, now_digest, digest=_digest) is None:
                return True, stats
            continue  # saved yet again in the meantime: merge once more from that save
        # Changed on disk since we read it: merge again from what the translator saved.
        if tmp is not None and not direct:
            # (The first merge's temporary is not used now: deleted, not left in locales/.)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            tmp = None
        try:
            fresh = parse_catalog(current, path) if current is not None else None
        except TransflowError as e:
            raise ConflictError(f"changed on disk during extract and is now unreadable "
                                f"({e.message}); nothing was written to it", path) from e
        if article.template is None:
            article.template = _prepare(project, article.slug)[0]
        po, stats = merge_catalog(article.template, fresh, lang, glossary=glossary,
                                  path=str(path))  # fmt: skip
        stamp, digest, data = now, now_digest, catalog_bytes(po)
    raise ConflictError("keeps changing on disk while extract runs; run extract again", path)
