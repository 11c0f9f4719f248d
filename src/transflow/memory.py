"""The translation memory on disk: every translated msgid of a language, in SQLite.

`extract` fills a new entry from what the newsroom already translated elsewhere (exact, or
fuzzy above `catalog.MEMORY_FUZZY_THRESHOLD`). The memory lives in
`build/.cache/memory.sqlite3` (Python's embedded `sqlite3`) and is refreshed incrementally:
a catalogue is re-read only when its stamp (size, mtime, ctime, inode) changed since the
memory last read it, so one edited article costs a stat per catalogue, not a parse.

Its answers are `catalog.TranslationMemory`'s, by construction:

- exact: the most frequent msgstr of the msgid over every catalogue, ties to the smallest;
- fuzzy: candidates share one of the query's three rarest words (document frequency per
  language, ties by the word): first the msgids that hold all three (an FTS5 `AND` query: a
  near-copy of the query holds them all, however common each word is alone), then at most
  `MEMORY_CANDIDATES` of each word's msgids, in the order the in-memory memory would have met
  them (article order, then entry order), `MEMORY_CANDIDATES` in all, scored with
  rapidfuzz's `ratio` exactly as `TranslationMemory._closest` does (a candidate whose length
  cannot reach the threshold is neither read nor scored: it could never be the answer).

The word index is an FTS5 table (contentless, `detail=none`: posting lists only) whose terms
are the query words hex-encoded and prefixed with the language, so FTS5's tokenizer cannot
split or fold them differently from Python's `\\w{3,}`; `fts5vocab` gives document
frequencies without scanning a posting list.

The database is a cache: anything in its place that is not a database of this schema and
version (garbage, zero bytes, truncated, a directory, a dangling symlink, a lock held by
another process) is set aside and the memory rebuilt from the catalogues, never an error.
Each refresh is one transaction: a killed run leaves the previous state (SQLite rolls the
journal back) and the stamps say what to re-read.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import os
import re
import sqlite3
import stat
import tempfile
import time
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from transflow import __version__
from transflow.lazyseq import LazySequence

DB_FILE = "memory.sqlite3"
SCHEMA = 6  # bump when the tables or what a row means change
MEMORY_DIR = "memory"  # locales/memory/<lang>.po: imported TMX units (`transflow memory import`)
# The memory file is met after every article (as if its slug sorted last): articles win ties.
MEMORY_FILE_ORDER = "\U0010ffff"
# A catalogue changed this close to the moment it was read may change again within the same
# timestamp tick without changing size ("racy git"): such catalogues are re-hashed next time.
RACY_WINDOW_NS = 2_000_000_000
# A msgid with this many pairs has its most frequent msgstr recorded by a cold fill: counting
# them costs a lookup ~2 ms at 10,000 articles, in every worker that meets it.
WINNER_MIN_PAIRS = 16
BULK_MIN_READS = 500  # catalogues to parse from which document frequencies are recounted whole
# A run that wrote at least 1/REBUILD_FRACTION of the catalogues: the memory is rebuilt, not patched.
REBUILD_FRACTION = 2
PARALLEL_MIN_READS = 200  # below this many catalogues to read, worker processes cost more
MAX_WORKERS = 4

Log = Callable[[str], None]
Pairs = list[tuple[str, str]]


class Hints(Protocol):
    """What a run wrote, by catalogue path: (digest of the bytes, the pairs they teach)."""

    def get(self, path: str) -> tuple[str, Pairs] | None:
        """The digest and pairs of what was written at `path`, or None."""

    def __contains__(self, path: object) -> bool:
        """True when the run wrote (or staged) `path`."""

    def export(self) -> object:
        """What a process forked before the run's merges needs to `adopt` (picklable)."""

    def adopt(self, state: object) -> None:
        """Take `export`'s state (in a process forked before it was complete)."""

# (language, path of the catalogue, order key: the article slug, or MEMORY_FILE_ORDER)
Catalogue = tuple[str, str, str]


def _no_log(message: str) -> None:
    pass


def memory_file(locales_dir: Path, lang: str) -> Path:
    """`locales/memory/<lang>.po`, where imported translation units live."""
    return locales_dir / MEMORY_DIR / f"{lang}.po"


def project_catalogues(project: Any, langs: Iterable[str],
                       articles: list[str] | None = None) -> Catalogues:  # fmt: skip
    """What the memory of `langs` learns from: each article's PO, then the memory file.

    The order is the one `TranslationMemory` was filled in (language, then article slug).
    """
    slugs = project.articles() if articles is None else articles
    return Catalogues(project, tuple(langs), slugs)


class Catalogues(LazySequence[Catalogue]):
    """`project_catalogues`: a sequence whose items are made when they are read.

    (As a list, 20,000 tuples and paths were ~5 MB of extract's parent at 10,000 articles,
    held to the end of the run and inherited by every article worker.)
    """

    def __init__(self, project: Any, langs: tuple[str, ...], slugs: list[str]) -> None:
        locales = os.fspath(project.locales_dir)
        self._slugs = slugs
        self._langs = [(lang, os.path.join(locales, lang),
                        (lang, os.fspath(memory_file(project.locales_dir, lang)), MEMORY_FILE_ORDER))
                       for lang in langs]  # fmt: skip

    def __len__(self) -> int:
        return len(self._langs) * (len(self._slugs) + 1)

    def _item(self, i: int) -> Catalogue:
        lang, base, memory_file = self._langs[i // (len(self._slugs) + 1)]
        j = i % (len(self._slugs) + 1)
        if j == len(self._slugs):
            return memory_file
        slug = self._slugs[j]
        return (lang, f"{base}/{slug}.po", slug)

    def __iter__(self) -> Iterator[Catalogue]:  # (faster than an `_item` each)
        for lang, base, memory_file in self._langs:
            for slug in self._slugs:
                yield (lang, f"{base}/{slug}.po", slug)
            yield memory_file


def catalogue_pairs(data: bytes, path: str) -> list[tuple[str, str]]:
    """The (msgid, msgstr) pairs a catalogue teaches (none from one that does not parse)."""
    from transflow.catalog import memory_pairs
    from transflow.errors import CatalogError
    from transflow.pofile import parse_entries

    try:
        # (`pofile.Entry` has the attributes `memory_pairs` reads: the light parse suffices.)
        return memory_pairs(parse_entries(data, path).entries)  # type: ignore[arg-type]
    except CatalogError:
        return []  # a catalogue that cannot be read teaches nothing (check reports it)


def _words(msgid: str) -> set[str]:
    return set(_word_pattern().findall(msgid.lower()))


@functools.cache
def _word_pattern() -> re.Pattern[str]:
    from transflow.catalog import _WORD  # (the in-memory memory's words, by construction)

    return _WORD


def _term(lang_hex: str, word: str) -> str:
    # Hex digits only (and one `x`): FTS5's tokenizer keeps the term whole and unfolded.
    return f"{lang_hex}x{word.encode('utf-8').hex()}"


def _hid(msgid: str) -> int:
    """A 63-bit hash of a msgid: the index key (the text itself is compared on a hit)."""
    return int.from_bytes(hashlib.blake2b(msgid.encode("utf-8", "surrogatepass"),
                                          digest_size=8).digest(), "big") >> 1


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


# Where a msgid is first met, as one integer: the FTS5 rowid, so that a word's msgids come
# out of the index already in the in-memory memory's order (`ORDER BY rowid` is native).
# key = slot << 30 | language << 22 | position in the catalogue; slots keep the articles'
# order within a language, with room between them for articles added later.
POS_BITS = 22  # entries per catalogue the memory learns from (4 million)
LANG_BITS = 8  # languages per project (256)
SLOT_SHIFT = POS_BITS + LANG_BITS
SLOT_MAX = (1 << (63 - SLOT_SHIFT)) - 1  # the memory file's slot: after every article
SLOT_STEP = 1 << 16  # room left after each article appended at the end

_TABLES = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE langs (lang TEXT PRIMARY KEY, no INTEGER NOT NULL UNIQUE)",
    # One row per catalogue read: its stamp when read, its order, and `base` (its keys' start).
    "CREATE TABLE catalogs (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, lang TEXT NOT NULL,"
    " ord TEXT NOT NULL, base INTEGER NOT NULL UNIQUE, size INTEGER, mtime INTEGER,"
    " ctime INTEGER, ino INTEGER, digest TEXT, checked INTEGER)",
    "CREATE INDEX catalogs_order ON catalogs (lang, ord)",
    # Distinct msgids per language, keyed by where the in-memory memory would first meet them;
    # `n`: the msgid's length in code points. The index on (key, n) gives a fuzzy lookup its
    # candidates' lengths without reading their rows (`_lookup`: one whose length cannot
    # reach the threshold is never read). Keys are unique by construction (a msgid's first
    # position, or minus its id while it is being re-keyed).
    "CREATE TABLE msgids (id INTEGER PRIMARY KEY, lang TEXT NOT NULL, hid INTEGER NOT NULL,"
    " msgid TEXT NOT NULL, key INTEGER NOT NULL, n INTEGER NOT NULL)",
    "CREATE INDEX msgids_hid ON msgids (hid)",
    "CREATE UNIQUE INDEX msgids_key ON msgids (key, n)",
    # (A rowid table: a msgstr is often longer than a `WITHOUT ROWID` row should be; as one
    # such a memory was a third bigger and slower to fill.)
    "CREATE TABLE pairs (cat INTEGER NOT NULL, pos INTEGER NOT NULL, mid INTEGER NOT NULL,"
    " msgstr TEXT NOT NULL, PRIMARY KEY (cat, pos))",
    "CREATE INDEX pairs_mid ON pairs (mid)",
    # (`columnsize=0`: no per-row sizes, which only ranking reads; this index is never ranked.)
    "CREATE VIRTUAL TABLE words USING fts5 (terms, content='', detail=none, columnsize=0)",
    # Document frequency of each term (msgids of the language containing the word): kept
    # beside FTS5 because `fts5vocab` takes ~70 µs a term, this ~3.
    "CREATE TABLE df (term TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID",
    # The most frequent msgstr of the msgids with many pairs (boilerplate: a footer held by
    # every article), worked out once by a cold fill instead of by every process's lookups.
    # A refresh that changes a msgid's pairs deletes its row (`_winner` counts again).
    "CREATE TABLE winners (mid INTEGER PRIMARY KEY, msgstr TEXT NOT NULL)",
)


class _Exhausted(Exception):
    """No slot left between two articles (or too many languages): rebuild from scratch."""


class Unusable(Exception):
    """The file in the database's place cannot serve as this memory (why, for `-v`)."""


@dataclass(slots=True)
class RefreshStats:
    """What one refresh did (for `-v` and for tests)."""

    stat: int = 0  # catalogues looked at
    read: int = 0  # catalogues whose bytes were read (stamp changed)
    parsed: int = 0  # ... and whose content changed: pairs replaced
    removed: int = 0  # catalogues gone (article deleted) whose pairs were dropped
    notes: list[str] = field(default_factory=list)


# A stamp's inode is unsigned 64-bit; `_ToRead` keeps stamps in signed 64-bit integers.
_INO_WRAP = 1 << 64


class _ToRead:
    """The catalogues a refresh is to read, in compact columns, in the order added.

    At 10,000 articles a cold refresh reads 20,000 catalogues: a list of (catalogue, stat
    result, database row) tuples was ~15 MB of the refresh process, and of each reader
    process forked from it. Here: the catalogues (the caller's tuples), their stamps and row
    ids as 64-bit integers, and the recorded digests as 16 bytes each.
    """

    __slots__ = ("cats", "stamps", "ids", "digests")

    def __init__(self) -> None:
        self.cats: list[Catalogue] = []
        self.stamps = array("q")  # size, mtime, ctime, inode (wrapped); size -1: no stamp
        self.ids = array("q")  # the catalogue's row id (rowids start at 1), 0: no row
        self.digests: list[bytes | None] = []  # the row's digest (16 bytes), None: none

    def __len__(self) -> int:
        return len(self.cats)

    def add(self, cat: Catalogue, st: os.stat_result | None,
            row: tuple[Any, ...] | None) -> None:  # fmt: skip
        """Add a catalogue, its stamp now (None: unknown), and its row (None: new to the memory)."""
        self.cats.append(cat)
        if st is None:
            self.stamps.extend((-1, 0, 0, 0))
        else:
            size, mtime, ctime, ino = _stamp(st)
            self.stamps.extend((size, mtime, ctime, ino - _INO_WRAP if ino >= 1 << 63 else ino))
        self.ids.append(row[0] if row is not None else 0)
        digest = row[8] if row is not None else None
        packed: bytes | None = None
        if isinstance(digest, str) and len(digest) == 32:
            with contextlib.suppress(ValueError):
                packed = bytes.fromhex(digest)
        # (Any other recorded value equals no digest a read works out: as good as none.)
        self.digests.append(packed)

    def stamp(self, i: int) -> tuple[int | None, ...]:
        """The `i`th catalogue's stamp as the database records it (Nones: unknown)."""
        size, mtime, ctime, ino = self.stamps[4 * i : 4 * i + 4]
        if size < 0:
            return _NO_STAMP
        return size, mtime, ctime, ino + _INO_WRAP if ino < 0 else ino

    def digest(self, i: int) -> str | None:
        """The `i`th catalogue's recorded digest (hex), None when the memory has none."""
        packed = self.digests[i]
        return packed.hex() if packed is not None else None

    def in_memory_order(self) -> _ToRead:
        """The same catalogues by language, then order key (itself when they already are)."""
        cats = self.cats
        if all((a[0], a[2]) <= (b[0], b[2])
               for a, b in zip(cats, itertools.islice(cats, 1, None), strict=False)):  # fmt: skip
            return self
        order = sorted(range(len(cats)), key=lambda i: (cats[i][0], cats[i][2]))
        out = _ToRead()
        out.cats = [cats[i] for i in order]
        for i in order:
            out.stamps.extend(self.stamps[4 * i : 4 * i + 4])
        out.ids = array("q", (self.ids[i] for i in order))
        out.digests = [self.digests[i] for i in order]
        return out


class _Jobs(LazySequence["Job"]):
    """`_ToRead`'s read jobs (path, recorded digest, language), made when asked for."""

    def __init__(self, to_read: _ToRead) -> None:
        self.to_read = to_read

    def __len__(self) -> int:
        return len(self.to_read)

    def _item(self, i: int) -> Job:
        cat = self.to_read.cats[i]
        return cat[1], self.to_read.digest(i), cat[0]


class SqliteMemory:
    """The translation memory of a project's languages, in one SQLite file.

    `refresh` brings it up to date with the catalogues (one transaction); `lookup` answers
    as `TranslationMemory.lookup` would for one language. A process that forked after
    opening it reconnects on its first lookup (a connection never crosses a fork).
    """

    def __init__(self, path: Path, *, log: Log = _no_log) -> None:
        self.path = path
        self.log = log
        self.notes: list[str] = []
        self._temporary = False
        self._con: sqlite3.Connection | None = None
        self._pid = os.getpid()
        self._owner = self._pid  # the process that opened it (forked workers only read)
        self._memo: dict[tuple[str, str], tuple[str, str, float] | None] = {}
        self._cache = _LookupCache()  # what lookups read from the database, kept for the next
        self._first_new = 1 << 62  # msgids numbered from here were created by this refresh
        self._partial = False  # the refresh in progress looks at some catalogues only
        self._term_of: dict[str, dict[str, str]] = {}  # language → word → its term
        self._new_msgids = 0
        self._next_mid = 1
        self._bulk = False
        # Filling an empty memory: each language's number and the last slot given out.
        self._last_slot: dict[str, tuple[int, int]] | None = None
        # The last refresh's whole list (to rebuild from), or what makes it (listed only if a
        # rebuild needs it: 20,000 catalogues are ~5 MB at 10,000 articles).
        self._everything: list[Catalogue] | Callable[[], list[Catalogue]] | None = None
        # What `mark_synced` last recorded in the database (None: never, or a new database).
        self.synced: str | None = None
        self._hints: Hints | None = None  # what `learn` was told the run wrote
        # `_prefill_child`: the hinted catalogues are taken from the hints, unread, stamps unknown
        self._trusting = False
        # `_prefill_child`'s second pass: every catalogue read and hashed, hardly any parsed
        self._stamping = False
        self._open()

    # --- opening -------------------------------------------------------------------------

    def _note(self, message: str) -> None:
        self.notes.append(message)
        self.log(message)

    def _open(self) -> None:
        """Open the database, or set aside what is in its place and start an empty one."""
        try:
            self._con = self._connect_existing(self.path)
            return
        except Unusable as e:
            reason = str(e)
        if "locked" in reason or "busy" in reason:
            # Another process is using it: leave it alone, work in a temporary one.
            self._note(f"translation memory {self.path}: {reason}; using a temporary one "
                       "for this run")  # fmt: skip
            self._con = self._temporary_database()
            return
        if reason != "absent":
            self._note(f"translation memory {self.path}: {reason}; rebuilding it")
        self._con = self._create()

    def _connect_existing(self, path: Path) -> sqlite3.Connection:
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            raise Unusable("absent") from None
        except OSError as e:
            raise Unusable(f"cannot be read ({e.strerror})") from None
        if stat.S_ISLNK(st.st_mode):
            if not os.path.exists(path):
                raise Unusable("a dangling symbolic link") from None
            st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise Unusable("not a file")
        if st.st_size == 0:
            raise Unusable("an empty file")
        con: sqlite3.Connection | None = None
        try:
            con = sqlite3.connect(path, timeout=0, isolation_level=None,
                                  check_same_thread=False)  # fmt: skip
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
            if meta.get("schema") != str(SCHEMA) or meta.get("transflow") != __version__:
                raise Unusable("written by another transflow version")
            self.synced = meta.get("synced")
            page_size = con.execute("PRAGMA page_size").fetchone()[0]
            pages = con.execute("PRAGMA page_count").fetchone()[0]
            if pages * page_size > os.stat(path).st_size:
                raise Unusable("truncated")
            # Reading takes a shared lock: another process writing it fails here, not later.
            con.execute("SELECT count(*) FROM catalogs WHERE id = 0").fetchone()
            if con.execute("PRAGMA schema_version").fetchone()[0] <= 0:
                raise Unusable("not a memory database")
            return con
        except sqlite3.Error as e:
            if con is not None:
                con.close()
            raise Unusable(_why(e)) from None
        except Unusable:
            if con is not None:
                con.close()
            raise

    def _create(self) -> sqlite3.Connection:
        """A new, empty database at `path`, or in a temporary file if `path` is not ours to use."""
        path = self.path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if os.path.islink(path) or path.is_file():
                # A regular file (or a link) in our cache's place: a dead cache, ours to drop.
                for suffix in ("", "-journal", "-wal", "-shm"):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(f"{path}{suffix}")
            if not os.path.lexists(path):
                return self._initialise(path)
        except (OSError, sqlite3.Error) as e:
            self._note(f"translation memory {path}: cannot be rewritten ({_why(e)}); "
                       "using a temporary one for this run")  # fmt: skip
        else:
            self._note(f"translation memory {path}: something else is in its place; "
                       "using a temporary one for this run")  # fmt: skip
        return self._temporary_database()

    def _temporary_database(self) -> sqlite3.Connection:
        """A private database for this run only (deleted by `close`), beside the real one."""
        path = self.path
        fd, tmp = tempfile.mkstemp(prefix=".memory.", suffix=".sqlite3",
                                   dir=path.parent if path.parent.is_dir() else None)
        os.close(fd)
        os.unlink(tmp)
        self.path = Path(tmp)
        self._temporary = True
        return self._initialise(self.path)

    @staticmethod
    def _initialise(path: Path | str) -> sqlite3.Connection:
        con = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
        con.execute("BEGIN IMMEDIATE")
        for statement in _TABLES:
            con.execute(statement)
        con.executemany("INSERT INTO meta VALUES (?, ?)",
                        [("schema", str(SCHEMA)), ("transflow", __version__)])
        con.execute("COMMIT")
        return con

    @property
    def con(self) -> sqlite3.Connection:
        """This process's connection (a forked child opens its own, read-only by use)."""
        if self._pid != os.getpid() or self._con is None:
            self._pid = os.getpid()
            self._con = sqlite3.connect(self.path, timeout=5, isolation_level=None,
                                        check_same_thread=False)  # fmt: skip
            self._forget()
        return self._con

    def close(self) -> None:
        """Close the connection (and delete a temporary database)."""
        if self._con is not None and self._pid == os.getpid():
            self._con.close()
        self._con = None
        if self._temporary and self._pid == os.getpid():
            for suffix in ("", "-journal"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(f"{self.path}{suffix}")

    def detach(self) -> None:
        """Close the connection before forking workers (each opens its own)."""
        if self._con is not None and self._pid == os.getpid():
            self._con.close()
        self._con = None

    def _rebuild_after(self, error: sqlite3.Error) -> None:
        """A fault found while using the database: start over from an empty one.

        In a worker process (forked by extract) the shared file is left to the process that
        owns it: the worker rebuilds into a private database of its own, deleted on exit.
        """
        self._note(f"translation memory {self.path}: {_why(error)}; rebuilding it")
        if os.getpid() != self._owner:
            with contextlib.suppress(sqlite3.Error):
                if self._con is not None and self._pid == os.getpid():
                    self._con.close()
            self._pid = os.getpid()
            self._forget()
            self._con = self._initialise("")  # SQLite's private temporary database
            return
        self._recreate()

    # --- refreshing ----------------------------------------------------------------------

    def refresh(self, wanted: list[Catalogue], *,
                seen: dict[str, os.stat_result] | None = None,
                partial: bool = False,
                everything: list[Catalogue] | Callable[[], list[Catalogue]] | None = None,
                isolated: bool = False) -> RefreshStats:  # fmt: skip
        """Bring the memory up to date with `wanted`, reading only what changed (one transaction).

        With `partial`, only the catalogues of `wanted` are looked at (the caller knows the
        others are as the memory last saw them); `everything` is then the whole list (or a
        function that lists it, called only if a rebuild needs it).
        A fault of the database found on the way (corruption SQLite only now notices) rebuilds
        it from the catalogues. The whole list is remembered: a fault a lookup finds rebuilds
        from it. With `isolated`, the work is done in a forked child process (`_isolated`).
        """
        if not partial:
            self._everything = wanted
        elif everything is not None:
            self._everything = everything
        if isolated:
            return self._isolated(lambda: self.refresh(wanted, seen=seen, partial=partial,
                                                       everything=everything))  # fmt: skip
        self._partial = partial
        try:
            return self._refresh(wanted, seen or {})
        except sqlite3.Error as e:
            self._rebuild_after(e)
            self._partial = False  # (an empty database needs everything)
            return self._refresh(self._wanted() or wanted, {})

    def _wanted(self) -> list[Catalogue] | None:
        """The last refresh's whole list (listed now if it was given as a function)."""
        everything = self._everything
        if callable(everything):
            everything = self._everything = everything()
        return everything

    def learn(self, written: list[Catalogue], *, written_count: int | None = None,
              hints: Hints | None = None, isolated: bool = False) -> RefreshStats:  # fmt: skip
        """Take in the catalogues a run just wrote (after `refresh` of the whole project).

        A few: a partial refresh replaces their pairs (`written` may list more catalogues
        than were written, `written_count`: their stamps say which changed). Most of the
        project (a cold run, a migration): replacing pair by pair costs more than loading
        every catalogue into an empty database in bulk, so the memory is rebuilt from the
        last full refresh's list (the same answers: the memory is a function of the
        catalogues' content).

        `hints` gives, by path, the digest of the bytes the run wrote and the pairs they
        teach (as the run's merges already had them): a catalogue whose bytes on disk have
        that digest is not parsed again. Any other is read as usual. With `isolated`, the work
        is done in a forked child process (`_isolated`).
        """
        if isolated:
            return self._isolated(lambda: self.learn(written, written_count=written_count,
                                                     hints=hints))  # fmt: skip
        count = len(written) if written_count is None else written_count
        self._hints = hints
        try:
            # (`_wanted` lists the whole project only when the run wrote that much.)
            wanted = self._wanted() if count >= BULK_MIN_READS else None
            if wanted is not None and count * REBUILD_FRACTION >= len(wanted):
                self._recreate()
                return self.refresh(wanted)
            return self.refresh(written, partial=True)
        finally:
            self._hints = None

    def prefill(self, hints: Hints, count: int) -> Prefill | None:
        """`prefork` and `Prefill.start` at once (the hints are complete)."""
        prefill = self.prefork(hints, count)
        if prefill is not None and not prefill.start(hints, count):
            return None
        return prefill

    def prefork(self, hints: Hints, count: int) -> Prefill | None:
        """Fork `learn`'s rebuild child now; `Prefill.start` lets it fill while the run writes.

        Forked before the article workers, from a process that is still small, the child
        waits idle until `start` hands it what the merges taught (`Hints.export`): forked
        after them it was as big as extract's parent was then (every article's results).

        When a run is about to write most of the project (`count` catalogues: a cold run, a
        migration), `learn` would rebuild the memory from its hints after the commit, the
        other core idle meanwhile. Here a child fills a new database from the hints (the
        catalogues without one read as usual) while this process writes; `Prefill.finish`,
        after the commit, lets it read and stamp every catalogue as it is now (what no hint
        describes, a translator's save, is parsed as usual) and put the new database in
        place. The same content as `learn`'s. None when `learn` would not rebuild, or where
        there is no `fork`.
        """
        wanted = self._wanted() if count >= BULK_MIN_READS else None
        if (wanted is None or count * REBUILD_FRACTION < len(wanted) or self._temporary
                or not hasattr(os, "fork")):  # fmt: skip
            return None
        folder = self.path.parent
        for stale in folder.glob(f"{PREFILL_PREFIX}*"):  # (a killed run's: we hold the lock)
            with contextlib.suppress(OSError):
                stale.unlink()
        try:
            fd, tmp = tempfile.mkstemp(prefix=PREFILL_PREFIX, suffix=".sqlite3", dir=folder)
        except OSError:
            return None
        os.close(fd)
        os.unlink(tmp)
        self.detach()
        go_read, go_write = os.pipe()
        out_read, out_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: fill, wait for the commit, stamp, put in place, report
            code = 1
            try:
                os.close(go_write)
                os.close(out_read)
                code = self._prefill_child(Path(tmp), wanted, hints, go_read, out_write)
            finally:
                os._exit(code)
        os.close(go_read)
        os.close(out_write)
        return Prefill(self, pid, tmp, go_write, out_read)

    def _prefill_child(self, tmp: Path, wanted: list[Catalogue], hints: Hints, go: int,
                       out: int) -> int:  # fmt: skip
        import pickle

        real = self.path
        self._owner = self._pid = os.getpid()
        self.log = _no_log  # (the parent logs the notes it is sent)
        with os.fdopen(go, "rb") as fh:
            # `Prefill.start`: b"s", the length and pickle of the hints' state; else the
            # run gave up (or wrote too little for a rebuild): no new memory.
            if fh.read(1) != b"s":
                _unlink_database(tmp)
                return 0
            size = int.from_bytes(fh.read(8), "big")
            state = fh.read(size)
            if len(state) != size:
                _unlink_database(tmp)
                return 0
            hints.adopt(pickle.loads(state))
            del state
            self._con = self._initialise(tmp)
            self.path = tmp
            self._forget()
            self._hints = hints
            self._trusting = True
            self._partial = False
            try:
                self._refresh(wanted)
            finally:
                self._trusting = False
            if fh.read(1) != b"1":  # the run failed or gave up: no new memory
                self.detach()
                _unlink_database(tmp)
                return 0
        # Every catalogue read, hashed and stamped (none was): those whose digest is the hint's
        # (all, unless someone saved meanwhile) only stamped. No hints now: a catalogue not on
        # disk when the fill began is parsed like any other, and the reads go to workers.
        self._hints = None
        self._partial = True
        self._stamping = True
        try:
            stats = self._refresh(wanted)
        finally:
            self._partial = self._stamping = False
        self.detach()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{real}-journal")  # (none under our lock; never one for the new file)
        os.replace(tmp, real)
        self.path = real
        with os.fdopen(out, "wb") as fh:
            fh.write(pickle.dumps((stats, self.notes)))
        return 0

    def _isolated(self, work: Callable[[], RefreshStats]) -> RefreshStats:
        """Run `work` (a refresh) in a forked child process; its outcome is adopted here.

        A refresh of thousands of catalogues grows a process by tens of MB that it never
        gives back (SQLite's page cache and sorter, the lists of catalogues, malloc's arenas):
        in extract's parent, which then forks the article workers, every worker would start
        that big too. The child does the work and exits; this process only learns what
        changed (the database file in use, the notes, whether the token still holds).
        Where `fork` is missing, or the child fails in any way, the work is done here.
        """
        if not hasattr(os, "fork"):
            return work()
        import pickle

        self.detach()  # (the child opens its own connection; this one reopens afterwards)
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: do the work, send the outcome, leave without cleanups
            code = 1
            try:
                os.close(read_fd)
                self._owner = self._pid = os.getpid()
                self._con = None
                notes_before = len(self.notes)
                self.log = _no_log  # (the parent logs the notes it is sent)
                stats = work()
                self.detach()
                outcome = pickle.dumps((stats, self.notes[notes_before:], self.synced,
                                        os.fspath(self.path), self._temporary))  # fmt: skip
                with os.fdopen(write_fd, "wb") as out:
                    out.write(outcome)
                code = 0
            finally:
                os._exit(code)
        os.close(write_fd)
        try:
            with os.fdopen(read_fd, "rb") as fh:
                data = fh.read()
            _, status = os.waitpid(pid, 0)
        except BaseException:
            with contextlib.suppress(OSError):
                os.kill(pid, 15)  # (killed mid-transaction: the next open rolls it back)
                os.waitpid(pid, 0)
            raise
        if status != 0 or not data:
            self._note(f"translation memory {self.path}: the refresh process failed; "
                       "refreshing here")  # fmt: skip
            return work()
        stats, notes, synced, path, temporary = pickle.loads(data)
        for message in notes:
            self._note(message)
        self.synced = synced
        self.path = Path(path)
        self._temporary = temporary
        self._forget()
        return stats

    def mark_synced(self, token: str) -> bool:
        """Record `token` (the caller's name for the catalogues' state the memory now holds).

        `extract` keeps the same token in its own cache: when both still agree on the next
        run, the catalogues its cache finds unchanged need no look from the memory. False
        when it cannot be recorded (the next run then looks at every catalogue).
        """
        try:
            self.con.execute("INSERT OR REPLACE INTO meta VALUES ('synced', ?)", (token,))
        except sqlite3.Error:
            return False
        self.synced = token
        return not self._temporary

    def _refresh(self, wanted: list[Catalogue],
                 seen: dict[str, os.stat_result] | None = None) -> RefreshStats:  # fmt: skip
        seen = seen or {}
        try:
            return self._refresh_once(wanted, seen)
        except _Exhausted:
            # Articles were added between the same two so often that no slot is left: renumber
            # by building again (rare: 16 additions between the same two neighbours).
            self._note(f"translation memory {self.path}: renumbering; rebuilding it")
            self._recreate()
            return self._refresh_once(wanted, seen)

    def _refresh_once(self, wanted: list[Catalogue],
                      seen: dict[str, os.stat_result]) -> RefreshStats:  # fmt: skip
        con = self.con
        stats = RefreshStats()
        self._new_msgids = 0
        self._next_mid = int(con.execute("SELECT coalesce(max(id), 0) + 1 FROM msgids").fetchone()[0])
        # (A number, not a set of ids: a cold memory of 10,000 articles creates 600,000.)
        self._first_new = self._next_mid
        columns = "id, path, lang, ord, size, mtime, ctime, ino, digest, checked"
        any_row = con.execute("SELECT EXISTS (SELECT 1 FROM catalogs)").fetchone()[0] == 1
        # The ids of the rows met so far. Only what is to be read is kept (`_ToRead`), not every
        # row: the rows and stat results of 20,000 catalogues were ~25 MB of a refresh process
        # (and of the readers forked from it).
        matched: set[int] = set()
        found_any = False
        now = time.time_ns()
        to_read = _ToRead()
        gone: list[int] = []  # ids of the catalogues whose pairs go
        trusted = self._hints if self._trusting else None
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            rows = {row[1]: row for row in con.execute(
                f"SELECT {columns} FROM catalogs WHERE path IN ({','.join('?' * len(part))})",
                [cat[1] for cat in part])}  # fmt: skip
            for cat in part:
                stats.stat += 1
                row = rows.pop(cat[1], None)
                if row is not None:
                    found_any = True
                    if row[0] in matched:
                        row = None  # (a path listed twice: the second is new, as it always was)
                    else:
                        matched.add(row[0])
                if row is not None and (row[2], row[3]) != (cat[0], cat[2]):
                    gone.append(row[0])  # the same path in another role: start it afresh
                    row = None
                if trusted is not None and cat[1] in trusted:
                    to_read.add(cat, None, row)  # (not on disk yet: stamped later)
                    continue
                st = seen.get(cat[1])  # (taken moments ago by extract's own freshness check)
                if st is None:
                    try:
                        st = os.stat(cat[1])
                    except OSError:
                        st = None
                if st is None or not stat.S_ISREG(st.st_mode):
                    if row is not None:
                        gone.append(row[0])
                    continue
                if (row is not None and (row[4], row[5], row[6], row[7]) == _stamp(st)
                        and st.st_ctime_ns < row[9] - RACY_WINDOW_NS):  # fmt: skip
                    continue
                to_read.add(cat, st, row)
        # (Partial: only the listed catalogues were looked at, the others are not gone.)
        known_any = (found_any if self._partial else any_row) or self._first_new > 1
        if not self._partial and any_row:
            # No longer wanted (article deleted, language dropped): every row not met.
            gone += [cat_id for (cat_id,) in con.execute("SELECT id FROM catalogs")
                     if cat_id not in matched]  # fmt: skip
        del matched
        if not to_read and not gone:
            return stats
        stats.read = len(to_read)
        stats.removed = len(gone)
        # In memory order: a msgid created here is first met where it is created, and a new
        # catalogue's slot is chosen between neighbours already in place. Catalogues are read
        # (in workers when there are many) while the transaction inserts: one at a time in
        # this process, so memory stays flat however many catalogues changed.
        to_read = to_read.in_memory_order()
        # Many catalogues to parse (a cold memory): document frequencies are counted once at
        # the end from the index itself instead of updated msgid by msgid.
        self._bulk = len(to_read) >= BULK_MIN_READS
        jobs = _Jobs(to_read)
        # A bigger page cache while writing: inserts into the hash index land anywhere.
        con.execute(f"PRAGMA cache_size = -{WRITE_CACHE_KB}")
        con.execute("BEGIN IMMEDIATE")
        try:
            # The memory changes: whatever a caller's token said of it no longer holds until
            # `mark_synced` records a new one (a run killed after this commit leaves none).
            con.execute("DELETE FROM meta WHERE key = 'synced'")
            self.synced = None
            # Filling an empty memory: the index of pairs by msgid (read by lookups, never by
            # the fill) is built once at the end from the sorted rows, not row by row.
            empty = self._bulk and not known_any
            if empty:
                con.execute("DROP INDEX pairs_mid")
                self._last_slot = {}  # (catalogues come in article order: `_allocate`)
            touched: set[int] = set()
            for cat_id in gone:
                touched |= self._drop_pairs(cat_id)
                con.execute("DELETE FROM catalogs WHERE id = ?", (cat_id,))
            with _reads(jobs, self._hints, trusting=self._trusting,
                        threads=self._stamping) as reads:  # fmt: skip
                for i, (digest, pairs, derived) in zip(range(len(to_read)), reads,
                                                       strict=True):  # fmt: skip
                    cat = to_read.cats[i]
                    row_id = to_read.ids[i]  # (0: a catalogue the memory has no row for)
                    # (No stamp: the next refresh reads it again; `_prefill_child` then does.)
                    record = (*to_read.stamp(i), digest, now)
                    if row_id and (pairs is None or self._same_pairs(row_id, pairs)):
                        # Same bytes, or what the memory learns from them is the same (a new
                        # untranslated or fuzzy entry): a new stamp only, no key moves.
                        con.execute("UPDATE catalogs SET size=?, mtime=?, ctime=?, ino=?,"
                                    " digest=?, checked=? WHERE id=?", (*record, row_id))  # fmt: skip
                        continue
                    stats.parsed += 1
                    if row_id:
                        touched |= self._drop_pairs(row_id)
                        con.execute("UPDATE catalogs SET size=?, mtime=?, ctime=?, ino=?,"
                                    " digest=?, checked=? WHERE id=?", (*record, row_id))  # fmt: skip
                        cat_id = row_id
                        base = con.execute("SELECT base FROM catalogs WHERE id = ?",
                                           (cat_id,)).fetchone()[0]  # fmt: skip
                    else:
                        base = self._allocate(cat[0], cat[2])
                        cat_id = int(con.execute(
                            "INSERT INTO catalogs (path, lang, ord, base, size, mtime, ctime, ino,"
                            " digest, checked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            (cat[1], cat[0], cat[2], base, *record)).lastrowid or 0)  # fmt: skip
                    touched |= self._add_pairs(cat[0], base, cat_id, pairs or [], derived)
            self._settle(touched)
            mids = sorted(touched)  # (their pairs changed: a recorded winner no longer holds)
            for start in range(0, len(mids), 500):
                chunk = mids[start : start + 500]
                con.execute(f"DELETE FROM winners WHERE mid IN ({','.join('?' * len(chunk))})",
                            chunk)  # fmt: skip
            if empty:
                # (The sorter that builds the index takes as much memory as the page cache is
                # allowed: the smallest it uses anyway, ~1 MB, costs no time here.)
                con.execute(f"PRAGMA cache_size = -{SORT_CACHE_KB}")
                con.execute("CREATE INDEX pairs_mid ON pairs (mid)")
                if self._hints is None:
                    # (Not when learning what a run wrote: that memory serves the next runs,
                    # which look up little, and the run waits for it.)
                    con.execute(
                        "INSERT INTO winners SELECT h.mid, (SELECT msgstr FROM pairs p"
                        " WHERE p.mid = h.mid GROUP BY msgstr ORDER BY count(*) DESC, msgstr"
                        " LIMIT 1) FROM (SELECT mid FROM pairs GROUP BY mid HAVING count(*) >= ?)"
                        " h", (WINNER_MIN_PAIRS,))  # fmt: skip
            if self._bulk and self._new_msgids:
                con.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocab"
                            " USING fts5vocab (main, words, 'row')")  # fmt: skip
                con.execute("DELETE FROM df")
                con.execute("INSERT INTO df SELECT term, doc FROM temp.vocab WHERE doc > 0")
            if empty:
                if self._hints is None:
                    # The fill flushed the word index segment by segment (8 at 10,000 articles):
                    # a term's posting list is then read from each. Merged into one (0.5 s of
                    # CPU at 10,000 articles), the three-word `AND` queries of the lookups cost
                    # a quarter less and a lookup ~8 % (~5 % at 2,000). The same index content.
                    # (Not when learning what a run wrote, as the winners: the merge grew the
                    # rebuild child by ~2.5 MB at 10,000 articles, for runs that look up little.)
                    con.execute("INSERT INTO words (words) VALUES ('optimize')")
                con.execute(f"PRAGMA cache_size = -{WRITE_CACHE_KB}")  # (for this process's lookups)
            con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                con.execute("ROLLBACK")
            raise
        finally:
            self._last_slot = None
        self._forget()
        return stats

    def _same_pairs(self, cat_id: int, pairs: list[tuple[str, str]]) -> bool:
        """True when a catalogue teaches exactly the pairs the memory holds for it, in order."""
        held = self.con.execute("SELECT m.msgid, p.msgstr FROM pairs p JOIN msgids m"
                                " ON m.id = p.mid WHERE p.cat = ? ORDER BY p.pos",
                                (cat_id,)).fetchall()  # fmt: skip
        return held == pairs[: 1 << POS_BITS]

    def _recreate(self) -> None:
        self.synced = None
        with contextlib.suppress(sqlite3.Error):
            if self._con is not None:
                self._con.close()
        self._con = None
        self._forget()
        if not self._temporary:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
        self._con = self._create()

    def _allocate(self, lang: str, ord_: str) -> int:
        """The key base of a new catalogue: a slot between its neighbours in article order."""
        last = self._last_slot
        if last is not None and lang in last and ord_ != MEMORY_FILE_ORDER:
            # Filling an empty memory in article order: the neighbour before is the catalogue
            # allocated just before, none after (what the queries below find, without them).
            low = last[lang][1]
            slot = low + min(SLOT_STEP, (SLOT_MAX + 1 - low) // 2)
            if slot <= low or slot >= SLOT_MAX + 1:
                raise _Exhausted
            last[lang] = (last[lang][0], slot)
            return (slot << SLOT_SHIFT) | (last[lang][0] << POS_BITS)
        con = self.con
        row = con.execute("SELECT no FROM langs WHERE lang = ?", (lang,)).fetchone()
        if row is None:
            no = con.execute("SELECT count(*) FROM langs").fetchone()[0]
            if no >= 1 << LANG_BITS:
                raise _Exhausted
            con.execute("INSERT INTO langs VALUES (?, ?)", (lang, no))
        else:
            no = row[0]
        if ord_ == MEMORY_FILE_ORDER:
            slot = SLOT_MAX
        else:
            # The neighbours in article order (bases grow with `ord` within a language: one
            # step down the index each, not max()/min() over every row before or after it,
            # which made a cold memory of 20,000 catalogues quadratic).
            prev = con.execute("SELECT base FROM catalogs WHERE lang = ? AND ord < ?"
                               " ORDER BY ord DESC LIMIT 1", (lang, ord_)).fetchone()  # fmt: skip
            after = con.execute("SELECT base FROM catalogs WHERE lang = ? AND ord > ?"
                                " ORDER BY ord LIMIT 1", (lang, ord_)).fetchone()  # fmt: skip
            low = prev[0] >> SLOT_SHIFT if prev is not None else 0
            high = after[0] >> SLOT_SHIFT if after is not None else SLOT_MAX + 1
            slot = low + min(SLOT_STEP, (high - low) // 2)
            if slot <= low or slot >= high:
                raise _Exhausted
            if last is not None:
                last[lang] = (no, slot)
        return (slot << SLOT_SHIFT) | (no << POS_BITS)

    def _drop_pairs(self, cat_id: int) -> set[int]:
        """Delete a catalogue's pairs; the msgids they used come back (to settle).

        A msgid first met in this catalogue loses its key now (and its index entry), so that
        the catalogue's positions are free for what is inserted next; `_settle` re-keys it.
        """
        con = self.con
        mids = {mid for (mid,) in con.execute("SELECT mid FROM pairs WHERE cat = ?", (cat_id,))}
        con.execute("DELETE FROM pairs WHERE cat = ?", (cat_id,))
        base = con.execute("SELECT base FROM catalogs WHERE id = ?", (cat_id,)).fetchone()[0]
        for mid, lang, msgid, key in con.execute(
                "SELECT id, lang, msgid, key FROM msgids WHERE key >= ? AND key < ?",
                (base, base + (1 << POS_BITS))).fetchall():  # fmt: skip
            terms = " ".join(_terms(lang.encode("utf-8").hex(), msgid))
            con.execute("INSERT INTO words (words, rowid, terms) VALUES ('delete', ?, ?)",
                        (key, terms))  # fmt: skip
            con.execute("UPDATE msgids SET key = ? WHERE id = ?", (-mid, mid))
            mids.add(mid)
        return mids

    def _add_pairs(self, lang: str, base: int, cat_id: int, pairs: list[tuple[str, str]],
                   derived: Derived | None = None) -> set[int]:  # fmt: skip
        """Insert a catalogue's pairs; the msgids that already existed (to settle) come back.

        Batched per catalogue (one query finds every known msgid, `executemany` inserts):
        a cold memory inserts a whole newsroom through here. `derived`: the pairs' hashes and
        index terms as a reader process worked them out (`_read_derived`), else done here.
        """
        con = self.con
        pairs = pairs[: 1 << POS_BITS]  # (a catalogue beyond 4 million entries teaches that many)
        given: list[str | None] | None = None
        if derived is not None:
            hids, given = derived[0][: len(pairs)], derived[1]
        else:
            hids = [_hid(msgid) for msgid, _ in pairs]
        known: dict[str, int] = {}
        unique = list(dict.fromkeys(hids))
        for start in range(0, len(unique), 500):
            part = unique[start : start + 500]
            for mid, text, mlang in con.execute(
                    f"SELECT id, msgid, lang FROM msgids WHERE hid IN ({','.join('?' * len(part))})",
                    part):  # fmt: skip
                if mlang == lang:
                    known[text] = mid
        existing: set[int] = set()
        new_msgids, new_words, rows = [], [], []
        df: dict[str, int] = {}
        bulk = self._bulk
        for pos, ((msgid, msgstr), hid) in enumerate(zip(pairs, hids, strict=True)):
            mid = known.get(msgid)
            if mid is None:
                mid = known[msgid] = self._next_mid
                self._next_mid += 1
                key = base + pos
                joined = given[pos] if given is not None else None
                if joined is None:
                    joined = " ".join(self._terms(lang, msgid))
                new_msgids.append((mid, lang, hid, msgid, key, len(msgid)))
                new_words.append((key, joined))
                if not bulk:  # (in bulk, counted once at the end from the index)
                    for term in joined.split():
                        df[term] = df.get(term, 0) + 1
            elif mid < self._first_new:
                existing.add(mid)
            rows.append((cat_id, pos, mid, msgstr))
        if new_msgids:
            con.executemany("INSERT INTO msgids (id, lang, hid, msgid, key, n)"
                            " VALUES (?, ?, ?, ?, ?, ?)", new_msgids)  # fmt: skip
            con.executemany("INSERT INTO words (rowid, terms) VALUES (?, ?)", new_words)
            self._new_msgids += len(new_msgids)
            if not self._bulk:
                con.executemany("INSERT INTO df VALUES (?, ?) ON CONFLICT (term) DO UPDATE"
                                " SET n = n + excluded.n", df.items())  # fmt: skip
        con.executemany("INSERT INTO pairs (cat, pos, mid, msgstr) VALUES (?, ?, ?, ?)", rows)
        return existing

    def _terms(self, lang: str, msgid: str) -> list[str]:
        """`_terms` of a msgid (the language's prefix worked out once a refresh)."""
        known = self._term_of.get(lang)
        if known is None:
            known = self._term_of[lang] = {}
        if len(known) >= TERM_MEMO_MAX:
            known.clear()
        prefix = f"{lang.encode('utf-8').hex()}x"
        # (A newsroom's words recur: each is hex-encoded once a refresh, not once a msgid.)
        return [known.get(word) or known.setdefault(word, prefix + word.encode("utf-8").hex())
                for word in sorted(_words(msgid))]

    def _settle(self, mids: set[int]) -> None:
        """Re-derive where each touched msgid is first met; drop msgids no pair uses any more."""
        con = self.con
        for mid in sorted(m for m in mids if m < self._first_new):
            row = con.execute("SELECT lang, msgid, key FROM msgids WHERE id = ?", (mid,)).fetchone()
            if row is None:
                continue
            first = con.execute("SELECT min(c.base + p.pos) FROM pairs p JOIN catalogs c"
                                " ON c.id = p.cat WHERE p.mid = ?", (mid,)).fetchone()[0]  # fmt: skip
            if first == row[2]:
                continue
            terms = " ".join(_terms(row[0].encode("utf-8").hex(), row[1]))
            if row[2] >= 0:  # (a negative key: `_drop_pairs` took it out of the index already)
                con.execute("INSERT INTO words (words, rowid, terms) VALUES ('delete', ?, ?)",
                            (row[2], terms))  # fmt: skip
            if first is None:
                con.execute("DELETE FROM msgids WHERE id = ?", (mid,))
                if not self._bulk:
                    con.executemany("UPDATE df SET n = n - 1 WHERE term = ?",
                                    [(t,) for t in terms.split()])  # fmt: skip
            else:
                con.execute("UPDATE msgids SET key = ? WHERE id = ?", (first, mid))
                con.execute("INSERT INTO words (rowid, terms) VALUES (?, ?)", (first, terms))

    def _find(self, lang: str, msgid: str) -> int | None:
        for mid, text, mlang in self.con.execute(
                "SELECT id, msgid, lang FROM msgids WHERE hid = ?", (_hid(msgid),)):
            if text == msgid and mlang == lang:
                return int(mid)
        return None

    # --- looking up ----------------------------------------------------------------------

    def _forget(self) -> None:
        """Drop what lookups remembered (the database changed, or this is a new process)."""
        self._memo = {}
        self._cache = _LookupCache()

    def for_language(self, lang: str) -> LanguageMemory:
        """What merge needs (`catalog.MemoryLike`) for one language."""
        return LanguageMemory(self, lang)

    def lookup(self, lang: str, msgid: str) -> tuple[str, str, float] | None:
        """(source msgid, msgstr, score 0-100) of the best match in `lang`, or None."""
        key = (lang, msgid)
        memo = self._memo
        if self._pid == os.getpid() and key in memo:
            return memo[key]
        try:
            result = self._lookup(lang, msgid)
        except sqlite3.Error as e:
            # Corruption SQLite noticed only now: rebuild from the catalogues, then answer.
            self._rebuild_after(e)
            everything = self._wanted()
            if everything is not None:
                self._refresh(everything)
            result = self._lookup(lang, msgid)
        memo = self._memo  # (a reconnect after a fork starts a new memo)
        _make_room(memo, _memo_max(), 1)
        memo[key] = result
        return result

    def _winner(self, mid: int) -> str:
        # The most frequent translation; ties to the smallest string (UTF-8 order = code points).
        row = self.con.execute("SELECT msgstr FROM winners WHERE mid = ?", (mid,)).fetchone()
        if row is not None:
            return str(row[0])
        row = self.con.execute(
            "SELECT msgstr, count(*) AS n FROM pairs WHERE mid = ? GROUP BY msgstr"
            " ORDER BY n DESC, msgstr LIMIT 1", (mid,)).fetchone()  # fmt: skip
        return str(row[0])

    def _lookup(self, lang: str, msgid: str) -> tuple[str, str, float] | None:
        from rapidfuzz import fuzz, process

        from transflow.catalog import (
            MEMORY_CANDIDATES,
            MEMORY_FUZZY_THRESHOLD,
            MEMORY_RARE_WORDS,
        )

        mid = self._find(lang, msgid)
        if mid is not None:
            return msgid, self._winner(mid), 100.0
        con = self.con
        cache = self._cache
        lang_hex = lang.encode("utf-8").hex()
        terms = {_term(lang_hex, w): w for w in _words(msgid)}
        if not terms:
            return None
        # Every word's document frequency (those not yet known in one query, not one a word).
        frequency: list[tuple[int, str, str]] = []
        df = cache.df
        missing = [term for term in terms if term not in df]
        if missing:
            _make_room(df, LOOKUP_CACHE_MAX, len(terms))
            missing = [term for term in terms if term not in df]
        for start in range(0, len(missing), 500):
            some = missing[start : start + 500]
            df.update(dict.fromkeys(some, 0))
            df.update(con.execute(
                f"SELECT term, n FROM df WHERE term IN ({','.join('?' * len(some))})", some))
        for term, word in terms.items():
            n = df[term]
            if n > 0:
                frequency.append((int(n), word, term))
        if not frequency:
            return None
        frequency.sort()
        heads = cache.heads

        def first(query: str, keep: bool = True) -> tuple[array[int], array[int]]:
            # The first msgids an FTS5 query matches and their lengths: the index keeps them
            # in the order the in-memory memory met them (`ORDER BY rowid`; the lengths come
            # from the index on (key, n), no msgid row is read), cached for the run's next
            # lookups when `keep` (one word's: 9 in 10 are met again; three words together:
            # 1 in 25). Kept as 64-bit integers in arrays: 100 keys are 0.8 KB, not 4 KB of
            # `int`s. (A key without a msgid row, which a consistent memory never has, gets
            # length -1: it stays a candidate, as before, and finds no text.)
            found = heads.get(query)
            if found is None:
                keys, lengths = array("q"), array("i")
                for key, n in con.execute(
                        "SELECT w.rowid, m.n FROM words w LEFT JOIN msgids m ON m.key = w.rowid"
                        " WHERE words MATCH ? ORDER BY w.rowid LIMIT ?",
                        (query, MEMORY_CANDIDATES)):  # fmt: skip
                    keys.append(key)
                    lengths.append(-1 if n is None else n)
                found = (keys, lengths)
                if keep:
                    _make_room(heads, HEADS_MAX, 1)
                    heads[query] = found
            return found

        rare = [f'"{term}"' for _, _, term in frequency[:MEMORY_RARE_WORDS]]
        # The candidates (key → length), in order: (`catalog._together`) msgids holding every
        # rarest word first (when the rarest word has no more msgids than the candidates,
        # they are all candidates anyway), then each rare word's first msgids.
        keys: dict[int, int] = {}
        together: array[int] | None = None
        if len(rare) > 1 and frequency[0][0] > MEMORY_CANDIDATES:
            together, lengths = first(" AND ".join(rare), keep=False)
            keys.update(zip(together, lengths, strict=True))
        headed: set[int] = set()
        for query in rare:
            if len(keys) >= MEMORY_CANDIDATES:
                break  # (the first `MEMORY_CANDIDATES` are chosen: no later one counts)
            head = first(query)
            keys.update(zip(*head, strict=True))
            if together is not None:
                headed.update(head[0])
        # Only a candidate whose length lets `fuzz.ratio` reach the threshold can be the
        # answer (ratio <= 200 * min(a, b) / (a + b)): the others are never read nor scored.
        # The answer is the same: `extractOne` returns the first best of those at or above
        # the threshold, and these are all of them, in the same order. (The bounds are
        # widened by a hair, so a float rounding can only keep one too many.)
        size = len(msgid)
        low, high = _length_bounds(size, MEMORY_FUZZY_THRESHOLD)
        chosen = [key for key, n in itertools.islice(keys.items(), MEMORY_CANDIDATES)
                  if n < 0 or low <= n <= high]  # fmt: skip
        texts = cache.texts
        # The candidates' texts: those already read by an earlier lookup (moved to the young
        # end: `_make_room` drops the old end), the others read now.
        entries: dict[int, str] = {}
        unknown: list[int] = []
        for key in chosen:
            text = texts.pop(key, None)
            if text is None:
                unknown.append(key)
            else:
                texts[key] = entries[key] = text
        if unknown:
            _make_room(texts, TEXTS_MAX, len(unknown))
            for start in range(0, len(unknown), 500):
                part = unknown[start : start + 500]
                for key, text in con.execute(
                        f"SELECT key, msgid FROM msgids WHERE key IN ({','.join('?' * len(part))})",
                        part):  # fmt: skip
                    entries[key] = text
                    if together is None or key in headed:
                        texts[key] = text
        # (Distinct keys are distinct msgids of the language: no text comes twice.)
        order = [key for key in chosen if key in entries]
        if not order:
            return None
        best = process.extractOne(msgid, [entries[key] for key in order], scorer=fuzz.ratio,
                                  score_cutoff=MEMORY_FUZZY_THRESHOLD)  # fmt: skip
        if best is None:
            return None
        row = con.execute("SELECT id FROM msgids WHERE key = ?", (order[best[2]],)).fetchone()
        return best[0], self._winner(int(row[0])), float(best[1])

    def __len__(self) -> int:
        return int(self.con.execute("SELECT count(*) FROM msgids").fetchone()[0])

    def languages(self) -> dict[str, int]:
        """Distinct msgids per language (for `-v` and tests)."""
        return {str(lang): int(n) for lang, n in self.con.execute(
            "SELECT lang, count(*) FROM msgids GROUP BY lang")}  # fmt: skip


PREFILL_PREFIX = ".memory-fill."  # `SqliteMemory.prefill`'s new database, until it is in place


def _unlink_database(path: Path | str) -> None:
    for suffix in ("", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")


class Prefill:
    """A rebuild of the memory started by `SqliteMemory.prefill`, running in a child process."""

    def __init__(self, memory: SqliteMemory, pid: int, tmp: str, go: int, out: int) -> None:
        self.memory = memory
        self.pid: int | None = pid
        self.tmp = tmp
        self.go = go
        self.out = out

    def start(self, hints: Hints, count: int) -> bool:
        """The merges are done: hand the child what they taught, to fill while the run writes.

        False (the child stopped) when the run is to write too little (`count` catalogues)
        for `learn` to rebuild, or the child cannot be told.
        """
        import pickle

        wanted = self.memory._wanted()
        if (self.pid is None or wanted is None or count < BULK_MIN_READS
                or count * REBUILD_FRACTION < len(wanted)):  # fmt: skip
            self.cancel()
            return False
        state = pickle.dumps(hints.export(), protocol=pickle.HIGHEST_PROTOCOL)
        try:
            with memoryview(b"s" + len(state).to_bytes(8, "big") + state) as view:
                while view:
                    view = view[os.write(self.go, view) :]
        except OSError:
            self.cancel()
            return False
        return True

    def finish(self) -> RefreshStats | None:
        """After the commit: the child stamps every catalogue and puts the new memory in place.

        None when it failed (the memory is then as it was: the caller learns as usual).
        """
        import pickle

        if self.pid is None:
            return None
        try:
            os.write(self.go, b"1")
        except OSError:
            pass
        os.close(self.go)
        try:
            with os.fdopen(self.out, "rb") as fh:
                data = fh.read()
            _, status = os.waitpid(self.pid, 0)
        except BaseException:
            self.cancel()
            raise
        self.pid = None
        memory = self.memory
        memory._forget()
        if status != 0 or not data:
            _unlink_database(self.tmp)
            memory._note(f"translation memory {memory.path}: the rebuild process failed; "
                         "learning here")  # fmt: skip
            return None
        stats, notes = pickle.loads(data)
        for message in notes:
            memory._note(message)
        memory.synced = None
        return stats

    def cancel(self) -> None:
        """Stop the child and delete its database (the run failed: the memory is as it was)."""
        if self.pid is None:
            return
        with contextlib.suppress(OSError):
            os.close(self.go)  # (the child, at the commit's wait, sees the run gave up)
        with contextlib.suppress(OSError):
            os.close(self.out)
        with contextlib.suppress(OSError):
            os.kill(self.pid, 15)
        with contextlib.suppress(OSError):
            os.waitpid(self.pid, 0)
        self.pid = None
        _unlink_database(self.tmp)


# Entries of a process's lookup caches (`_LookupCache`): words' document frequencies, the heads
# of words (an array of at most `MEMORY_CANDIDATES` keys each), the candidates' texts (a msgid
# each, ~250 characters in a newsroom: 20,000 are ~8 MB). When one is full, its older half goes.
LOOKUP_CACHE_MAX = 50_000
HEADS_MAX = 20_000
TEXTS_MAX = 20_000
# Answers a process remembers (`SqliteMemory.lookup`), then the older half goes. Each holds its
# msgid and msgstr (~1 KB in a newsroom); the answers met again are a few hundred recurring
# paragraphs (at 10,000 articles 4,000 miss 2 % more lookups than 20,000, for ~15 MB less).
LOOKUP_MEMO_MAX = 4_000


def _make_room(cache: dict[Any, Any], limit: int, adding: int) -> None:
    """Drop the oldest entries of `cache` (insertion order) when `adding` more would pass
    `limit`: down to half of it, so that what recent lookups met stays."""
    excess = len(cache) + adding - limit
    if excess > 0:
        for key in list(itertools.islice(cache, excess + limit // 2)):
            del cache[key]


@dataclass(slots=True)
class _LookupCache:
    """What fuzzy lookups read from the database, for the next lookups of the same run.

    Between two refreshes the database does not change, and the lookups of a run meet the
    same rare words again and again (at 2,000 articles 10,000 lookups use 1,500 words whose
    heads hold 23,000 msgids): each is read once, not once a lookup. Bounded (emptied when
    full), so a worker's RSS stays flat.
    """

    df: dict[str, int] = field(default_factory=dict)  # term → document frequency (0: none)
    # query → its first keys and their lengths
    heads: dict[str, tuple[array[int], array[int]]] = field(default_factory=dict)
    texts: dict[int, str] = field(default_factory=dict)  # key → msgid (young at the end)


@dataclass(frozen=True, slots=True)
class LanguageMemory:
    """One language of a `SqliteMemory`, as merge calls it (`catalog.MemoryLike`)."""

    memory: SqliteMemory
    lang: str

    def lookup(self, msgid: str) -> tuple[str, str, float] | None:
        """(source msgid, msgstr, score 0-100) of the best memory match, or None."""
        return self.memory.lookup(self.lang, msgid)


def _length_bounds(size: int, threshold: float) -> tuple[float, float]:
    """The lengths a candidate may have for `fuzz.ratio` with a text of `size` to reach
    `threshold` (at most 200 * min / sum), widened by a hair against float rounding."""
    if threshold <= 0:
        return -1.0, float("inf")
    if threshold >= 200:
        return float("inf"), -1.0
    return (threshold * size / (200 - threshold) * (1 - 1e-9) - 1e-9,
            (200 - threshold) * size / threshold * (1 + 1e-9) + 1e-9)


def _memo_max() -> int:
    return LOOKUP_MEMO_MAX


def _terms(lang_hex: str, msgid: str) -> list[str]:
    return [_term(lang_hex, w) for w in sorted(_words(msgid))]


_NO_STAMP = (None, None, None, None)


def _stamp(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _why(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text[:1].lower() + text[1:]


# Worked out by a reader process for the writer (`_read_derived`): each pair's `_hid`, and the
# joined index terms of its msgid, None where this reader sent them for the same msgid before.
Derived = tuple[list[int], list[str | None]]
# What a refresh reads of one catalogue: (digest of its bytes, the pairs it teaches or None
# when the digest is the recorded one, `Derived` or None); a job is (path, recorded digest,
# language).
Read = tuple[str | None, Pairs | None, Derived | None]
Job = tuple[str, str | None, str]


def _read_one(job: Job) -> Read:
    """(digest, pairs, None) of one catalogue; pairs None when its digest is the recorded one."""
    path, recorded = job[0], job[1]
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return None, [], None  # gone or unreadable since the stat: teaches nothing this run
    digest = _digest(data)
    if digest == recorded:
        return digest, None, None
    return digest, catalogue_pairs(data, path), None


# By language, the `_hid`s of the msgids whose terms this reader process already sent: the
# writer has inserted them by the time it meets them again (it takes the catalogues in the
# order each reader read them), so their terms are not sent twice. Bounded (ints only, but
# ~70 B each in a set: 200,000 per language grew each reader by ~28 MB at 10,000 articles);
# emptied when full: a recurring msgid's terms are then sent again, and the writer, which
# knows the msgid, ignores them.
_SENT: dict[str, set[int]] = {}
SENT_MAX = 30_000
_SENT_WORDS: dict[str, dict[str, str]] = {}  # language → word → its term (per reader process)


def _read_derived(job: Job) -> Read:
    """`_read_one`, with what the writer would otherwise work out pair by pair (`Derived`).

    The readers of a big refresh are mostly idle while the one writer inserts: hashing each
    msgid and splitting it into index terms here takes ~40 % off the writer's time.
    """
    digest, pairs, _ = _read_one(job)
    if not pairs:
        return digest, pairs, None
    lang = job[2]
    sent = _SENT.get(lang)
    if sent is None:
        # (A refresh reads the catalogues language by language: the previous language's
        # msgids are not met again; its set was ~2 MB of each reader at 10,000 articles.)
        _SENT.clear()
        _SENT_WORDS.clear()
        sent = _SENT[lang] = set()
    if len(sent) >= SENT_MAX:
        sent.clear()
    known = _SENT_WORDS.setdefault(lang, {})
    if len(known) >= TERM_MEMO_MAX:
        known.clear()
    prefix = f"{lang.encode('utf-8').hex()}x"
    hids: list[int] = []
    terms: list[str | None] = []
    for msgid, _ in pairs[: 1 << POS_BITS]:
        hid = _hid(msgid)
        hids.append(hid)
        if hid in sent:
            terms.append(None)
            continue
        sent.add(hid)
        terms.append(" ".join([known.get(word) or known.setdefault(
            word, prefix + word.encode("utf-8").hex()) for word in sorted(_words(msgid))]))
    return digest, pairs, (hids, terms)


def _read_trusted(job: Job, hints: Hints) -> Read:
    """The hint's digest and pairs, unread (the file is not written yet); else `_read_one`."""
    hint = hints.get(job[0])
    if hint is None:
        return _read_one(job)
    return hint[0], hint[1], None


def _read_hinted(job: Job, hints: Hints) -> Read:
    """`_read_one`, taking the pairs from `hints` when the bytes are the ones written."""
    path, recorded = job[0], job[1]
    hint = hints.get(path)
    if hint is None:
        return _read_one(job)
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return None, [], None
    digest = _digest(data)
    if digest == recorded:
        return digest, None, None
    if digest == hint[0]:
        return digest, hint[1], None
    return digest, catalogue_pairs(data, path), None  # (saved by someone since the run wrote it)


@contextlib.contextmanager
def _reads(jobs: Sequence[Job], hints: Hints | None = None, *, trusting: bool = False,
           threads: bool = False) -> Iterator[Iterator[Read]]:  # fmt: skip
    """`_read_one` of every job, in order, in worker processes when there are many.

    With `threads`, in threads of this process instead (reading and hashing a file lets
    other threads run): for reads that are mostly a digest equal to the recorded one, where
    worker processes forked from a big process would each be as big as it.

    With `hints`, in this process: the catalogues a run just wrote are read and hashed here
    (no parse when the digest is the one written), the few others parsed here too. With
    `trusting` as well, a hinted catalogue is not read at all (`SqliteMemory._prefill_child`).
    """
    if hints is not None:
        if trusting:
            yield (_read_trusted(job, hints) for job in jobs)
        else:
            yield (_read_hinted(job, hints) for job in jobs)
        return
    workers = min(MAX_WORKERS, os.cpu_count() or 1)
    if len(jobs) < PARALLEL_MIN_READS or workers < 2:
        yield map(_read_one, jobs)
        return
    if threads:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as threaded:
            yield _read_ahead(threaded, jobs)
        return
    import multiprocessing as mp

    # (A worker of extract's pool is a daemon: it may not start processes of its own.)
    if mp.current_process().daemon:
        yield map(_read_one, jobs)
        return

    if "fork" not in mp.get_all_start_methods():
        yield map(_read_one, jobs)
        return
    from transflow.processes import fork_pool

    with fork_pool(workers) as pool:
        yield _windowed(pool, jobs)


TERM_MEMO_MAX = 100_000  # words whose term a refresh remembers (per language), then emptied
# SQLite page cache of a refresh (the default is 2 MB). 16 MB grew a cold refresh of 10,000
# articles by 24 MB more than 4 MB did, and 4 MB by 2 MB more than 2 MB, for the same CPU time
# (the pages it re-reads come from the operating system's cache).
WRITE_CACHE_KB = 2_000
SORT_CACHE_KB = 1_000  # ... and while a cold fill builds `pairs_mid` and the winners
# Catalogues read ahead of the inserts (bounds what waits in memory: two windows of parsed
# pairs, ~70 KB a catalogue in a newsroom; 128 were ~18 MB of the refresh process, 32 1.5 MB
# more than 16, for the same time).
READ_WINDOW = 16


def _read_ahead(pool: Any, jobs: Sequence[Job]) -> Iterator[Read]:
    """`_read_one` of every job by a thread pool, in order, `READ_WINDOW` jobs ahead."""
    from collections import deque

    pending = deque(pool.submit(_read_one, job) for job in jobs[:READ_WINDOW])
    following = READ_WINDOW
    while pending:
        future = pending.popleft()
        if following < len(jobs):
            pending.append(pool.submit(_read_one, jobs[following]))
            following += 1
        yield future.result()


def _windowed(pool: Any, jobs: Sequence[Job]) -> Iterator[Read]:
    """The pool's results in order, one window read ahead while the previous is consumed.

    (A window is dispatched only once the previous one is done, and each reader takes its
    chunks in order: what one reader sends, the writer meets in the order it was sent, which
    `_read_derived` relies on. Each window's jobs are made when it is dispatched.)
    """
    starts = range(0, len(jobs), READ_WINDOW)
    pending = (pool.map_async(_read_derived, jobs[: READ_WINDOW], chunksize=8)
               if starts else None)  # fmt: skip
    for start in starts:
        assert pending is not None
        results = pending.get()
        following = start + READ_WINDOW
        pending = (pool.map_async(_read_derived, jobs[following : following + READ_WINDOW],
                                  chunksize=8)
                   if following < len(jobs) else None)  # fmt: skip
        yield from results


@contextlib.contextmanager
def opened(cache_dir: Path, *, log: Log = _no_log) -> Iterator[SqliteMemory]:
    """The project's memory database (`build/.cache/memory.sqlite3`), closed at the end."""
    memory = SqliteMemory(cache_dir / DB_FILE, log=log)
    try:
        yield memory
    finally:
        memory.close()
