"""Per-file records keyed by a file's stamp: the one cache format of `status` and `check`.

A record remembers what a command computed from one file (its counts, its findings) with the
file's stamp (size, mtime, ctime, inode) and a digest of its bytes. An unchanged stamp answers
without opening the file; a changed stamp with the same digest (a `touch`, a fresh clone)
answers after one read and refreshes the stamp; anything else is a miss.

The racy window: a file changed within `RACY_WINDOW_NS` of the moment its record was made can
change again within the same timestamp tick without changing size ("racy git"), so such a
record keeps no stamp and the file is re-hashed on every run until it has settled.

The file (`build/.cache/<name>`) is built to load in a few milliseconds at 20,000 files:

    stampcache <FORMAT> <records> <crc32 of the body> <body bytes> <key>\\n
    body: NUL-separated fields, first three per record ("name\\nstamp", digest, payload
          field count), then every record's payload fields, in record order

so a warm run is one read, one CRC, one UTF-8 decode and one `split`, all in C, then one
dictionary probe by "name\\nstamp" per file (`fresh`): no JSON, no per-field parsing. The
payload is a list of strings the client encodes (NUL is the one character no field may hold:
such a record is simply not kept; nor is a file whose name has a newline). A file that does not parse,
fails its CRC, is of another format or was written for another key (the glossary, project
settings, transflow's code: whatever the client says every record depends on) is an empty
cache, with a note for `-v`; the next save replaces it (a folder in its place is left alone).
Nothing is written when nothing changed. Deleting the cache only costs time.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import os
import time
import zlib
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

MAGIC = "stampcache"
FORMAT = 2  # bump when the layout changes
# A file changed this close to the moment it was recorded may change again within the same
# timestamp tick without changing size: its record is re-hashed next time (see the docstring).
RACY_WINDOW_NS = 2_000_000_000
WRITE_BATCH = 4096  # fields encoded and written at a time by `save`
_FIXED = 3  # "name\nstamp", digest, payload field count
FACT = "\x01"  # the start of a fact's name (`store_fact`): no file name starts so
V = TypeVar("V")  # what a record keeps (`StampRecords`)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a warm run's bulk work.

    Loading a cache and answering 20,000 files from it allocates some 100,000 objects, none of
    them garbage: every 700 allocations the collector walks them all the same, a third of the
    time of a warm `check` at 10,000 articles. Nothing is freed later than it would be (no
    cycle is made), and the collector is back on for the parsing of what changed.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_header(data: bytes, magic: str, fmt: int) -> tuple[int, list[int], bytes] | str:
    """The header line of a cache file, `<magic> <format> <three numbers> <key>`: where the
    line ends, the three numbers and the key; or why the file is unusable."""
    end = data.find(b"\n")
    parts = data[:end].split(b" ", 5) if end > 0 else []
    if len(parts) != 6 or parts[0] != magic.encode():
        return "damaged"
    try:
        found, *numbers = (int(p) for p in parts[1:5])
    except ValueError:
        return "damaged"
    if found != fmt:
        return "of another format"
    return end, numbers, parts[5]


def file_stamp(st: os.stat_result) -> str:
    """What identifies a file's content without reading it: size, mtime, ctime and inode."""
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"


def digest(data: bytes) -> str:
    """The content digest records are compared by (BLAKE2b, 128 bits)."""
    try:  # (BLAKE2 itself: `hashlib` would load OpenSSL first, milliseconds of a warm status)
        from _blake2 import blake2b
    except ImportError:  # (a Python without the built-in module)
        from hashlib import blake2b

    return blake2b(data, digest_size=16).hexdigest()


def file_digest(path: str) -> str:
    """`digest` of a file's bytes (OSError when it cannot be read)."""
    with open(path, "rb") as fh:
        return digest(fh.read())


class StampRecords(Generic[V]):
    """What a cache of per-file records does whatever it keeps per record (`V`: the payload
    itself in `StampCache`, where to read it in `recordfile.RecordFile`): find a record by
    name and stamp, else by digest (and refresh its stamp), and record a file seen again.

    `root` is prepended to a record's name (a path relative to the project root, or absolute)
    to find its file when a save drops the records of files that no longer exist.
    """

    def __init__(self, path: str, key: str, *, label: str, redo: str, root: str = "") -> None:
        self.path = path
        # In the header line as it is (digests and a path, usually); a digest when it has a
        # space or a line break (a path that has) or is long.
        self.key = key if key.isprintable() and " " not in key and len(key) < 1000 else digest(
            key.encode("utf-8", "surrogatepass"))  # fmt: skip
        self.label = label  # how -v notes name this cache ("status cache", "check cache")
        self.redo = redo  # what the command does instead ("counting again")
        self.root = root
        self.hits = 0
        self.notes: list[str] = []
        self.dirty = False
        # The loaded records: "name\nstamp" -> record number (the stamp is empty for a record
        # that must be re-hashed, and for a fact), then each record's digest.
        self._by_stamp: dict[str, int] = {}
        self._index: dict[str, int] | None = None  # name -> record number, made when needed
        self._keys: list[str] = []
        self._digests: list[str] = []
        self._changed: dict[str, tuple[str, str, V]] = {}  # name -> stamp, digest, value

    def _unusable(self, why: str) -> None:
        """Note for `-v` why the file on disk is not used, and what the command does instead."""
        self.notes.append(f"{self.label} {self.path}: {why}; {self.redo}")

    def _value(self, i: int) -> V:
        """What loaded record i keeps."""
        raise NotImplementedError

    def _names(self) -> dict[str, int]:
        """Name -> record number of the loaded records (made on the first look by name: a warm
        run only looks by name and stamp)."""
        if self._index is None:
            self._index = {key[:key.index("\n")]: i for i, key in enumerate(self._keys)}
        return self._index

    def _found(self, names: list[str], stats: list[os.stat_result]) -> list[int | None]:
        """The record number of each file whose stamp is the one recorded (and settled), else
        None: one dictionary probe per file, in comprehensions."""
        get = self._by_stamp.get
        found = [get(f"{name}\n{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}")
                 for name, st in zip(names, stats, strict=True)]  # (= `file_stamp`)
        if self._changed:  # recorded again in this run: that record is the one to use
            found = [None if name in self._changed else i
                     for name, i in zip(names, found, strict=True)]  # fmt: skip
        self.hits += len(found) - found.count(None)
        return found

    def _lookup_value(self, name: str, st: os.stat_result, path: str) -> V | None:
        """What is recorded for a file whose content is unchanged, or None (compute it).

        `st` is the file's stat, taken before it is read; `path` where to read it to compare
        digests when its stamp changed.
        """
        changed = self._changed.get(name)
        if changed is not None:  # (recorded earlier in this run)
            _, recorded, value = changed
        else:
            i = self._by_stamp.get(f"{name}\n{file_stamp(st)}")
            if i is not None:
                self.hits += 1
                return self._value(i)
            i = self._names().get(name)
            if i is None:
                return None
            recorded, value = self._digests[i], self._value(i)
        try:
            current = file_digest(path)
        except OSError:
            return None  # gone or unreadable now: computing it reports what is wrong
        if current != recorded:
            return None
        self._record(name, st, current, value)  # the same bytes: refresh the stamp
        self.hits += 1
        return value

    def _kept(self) -> Iterator[tuple[str, str, V]]:
        """What a save writes, by name: ("name\\nstamp", digest, value) of every record made in
        this run and every loaded one whose file still exists (facts are about no file)."""
        root, index = self.root, self._names()
        for name in sorted(index.keys() | self._changed.keys()):
            changed = self._changed.get(name)
            if changed is not None:
                stamp, recorded, value = changed
                yield f"{name}\n{stamp}", recorded, value
                continue
            i = index[name]
            if name.startswith(FACT) or os.path.exists(name if os.path.isabs(name)
                                                       else root + name):
                yield self._keys[i], self._digests[i], self._value(i)

    def _record(self, name: str, st: os.stat_result, content_digest: str, value: V) -> None:
        # A file changed within the racy window keeps no stamp: hashed again next time.
        settled = st.st_ctime_ns < time.time_ns() - RACY_WINDOW_NS
        stamp = file_stamp(st) if settled else ""
        i = self._names().get(name)
        if (i is not None and name not in self._changed and self._keys[i] == f"{name}\n{stamp}"
                and self._digests[i] == content_digest and self._value(i) == value):
            return  # (still racy, nothing new: no reason to rewrite the file)
        self._changed[name] = (stamp, content_digest, value)
        self.dirty = True


class StampCache(StampRecords[list[str]]):
    """The records of one cache file, loaded at once; new and refreshed ones saved at the end."""

    def __init__(self, path: str, key: str, *, label: str, redo: str, root: str = "",
                 replaces: str | None = None) -> None:  # fmt: skip
        super().__init__(path, key, label=label, redo=redo, root=root)
        self.replaces = replaces  # an older cache's file beside this one, deleted on a save
        self._starts: list[int] = []  # payload slice of record i: fields[starts[i]:starts[i+1]]
        self._fields: list[str] = []
        self._load()

    # --- reading -------------------------------------------------------------------------

    def _load(self) -> None:
        try:
            with open(self.path, "rb") as fh:
                data = fh.read()
        except FileNotFoundError:
            return
        except OSError as e:
            self._unusable(f"cannot be read ({e.strerror})")
            return
        why = self._parse(data)
        if why:
            self._unusable(why)

    def _parse(self, data: bytes) -> str | None:
        """Load the records; the reason the file is unusable, or None."""
        header = read_header(data, MAGIC, FORMAT)
        if isinstance(header, str):
            return header
        end, (records, crc, length), key = header
        body = memoryview(data)[end + 1:]  # (no copy of megabytes)
        if length != len(body) or crc != zlib.crc32(body):
            return "damaged"
        if key != self.key.encode("utf-8", "surrogatepass"):
            return "the inputs every record depends on changed (glossary, settings, transflow)"
        if records == 0:
            return None
        try:
            fields = str(body, "utf-8", "surrogatepass").split("\0")
        except UnicodeDecodeError:
            return "damaged"
        fixed = _FIXED * records
        try:
            counts = list(map(int, fields[2:fixed:_FIXED]))
        except ValueError:
            return "damaged"
        starts = list(itertools.accumulate(counts, initial=fixed))
        if len(counts) != records or starts[-1] != len(fields):
            return "damaged"
        keys = fields[0:fixed:_FIXED]
        self._by_stamp = dict(zip(keys, range(records), strict=True))
        self._keys = keys
        self._digests = fields[1:fixed:_FIXED]
        self._starts = starts
        self._fields = fields
        return None

    def _payload(self, i: int) -> list[str]:
        return self._fields[self._starts[i]:self._starts[i + 1]]

    _value = _payload

    def fresh(self, names: list[str], stats: list[os.stat_result]) -> list[list[str] | None]:
        """`lookup` of many files at once, for the common case and without reading any: the
        payload of each file whose stamp is the one recorded (and settled), else None (then
        ask `lookup`, which compares digests).

        One dictionary probe per file, keyed by name and stamp together, in comprehensions: a
        warm run of 20,000 catalogues spends its time in `stat`, not here.
        """
        starts, fields = self._starts, self._fields
        found = self._found(names, stats)
        return [None if i is None else fields[starts[i]:starts[i + 1]] for i in found]

    def lookup(self, name: str, st: os.stat_result, path: str) -> list[str] | None:
        """The payload recorded for a file whose content is unchanged, or None (compute it).

        `st` is the file's stat, taken before it is read; `path` where to read it to compare
        digests when its stamp changed.
        """
        return self._lookup_value(name, st, path)

    def fact(self, name: str) -> list[str] | None:
        """A recorded fact that is not about one file (it depends on the key only), or None."""
        changed = self._changed.get(name)
        if changed is not None:
            return changed[2]
        i = self._by_stamp.get(f"{name}\n")
        return None if i is None else self._payload(i)

    def names(self) -> set[str]:
        """The names of the files that have a record (loaded or made in this run)."""
        return self._names().keys() | self._changed.keys()

    # --- writing -------------------------------------------------------------------------

    def store(self, name: str, st: os.stat_result, content_digest: str,
              payload: list[str]) -> None:  # fmt: skip
        """Record what was computed from a file whose bytes have `content_digest` (stat `st`
        taken before reading them). A record that cannot be written (a NUL) is not kept."""
        if "\0" in name or "\n" in name or any("\0" in field for field in payload):
            return
        self._record(name, st, content_digest, payload)

    def store_fact(self, name: str, payload: list[str]) -> None:
        """Record a fact under a `name` that starts with U+0001 (no file's name does)."""
        if not name.startswith(FACT) or "\n" in name or any("\0" in field for field in payload):
            return
        if self.fact(name) != payload:
            self._changed[name] = ("", "", payload)
            self.dirty = True

    def _write(self, records: int, fields: Iterable[str]) -> None:
        """Write the file through a temporary and a rename, a batch of fields at a time: a
        newsroom's findings are tens of megabytes, never held twice (as text, as bytes)."""
        from pathlib import Path

        from transflow.files import stage_file

        tmp = stage_file(Path(self.path), b"", durable=False)  # (named, with the file's mode)
        try:
            with open(tmp, "r+b") as fh:
                head = self._head(0, 0, 0)
                fh.write(head)
                crc = length = 0
                separator = ""
                while batch := list(itertools.islice(fields, WRITE_BATCH)):
                    chunk = (separator + "\0".join(batch)).encode("utf-8", "surrogatepass")
                    fh.write(chunk)
                    crc, length = zlib.crc32(chunk, crc), length + len(chunk)
                    separator = "\0"
                fh.seek(0)
                fh.write(self._head(records, crc, length))  # (the same width as the first)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def _head(self, records: int, crc: int, length: int) -> bytes:
        """The header line, its numbers at a fixed width (so it can be written last)."""
        return (f"{MAGIC} {FORMAT} {records:012d} {crc:010d} {length:015d} {self.key}\n"
                ).encode("utf-8", "surrogatepass")

    def save(self) -> None:
        """Write the cache if anything changed; never fail the command over it.

        Records of files that no longer exist are dropped then (only when something changed,
        so a warm run does not pay for it).
        """
        if not self.dirty:
            return
        keys, digests, counts, payloads = [], [], [], []
        for key, recorded, payload in self._kept():
            keys.append(key)
            digests.append(recorded)
            counts.append(str(len(payload)))
            payloads.append(payload)
        fields = itertools.chain(
            (field for row in zip(keys, digests, counts, strict=True) for field in row),
            itertools.chain.from_iterable(payloads))  # fmt: skip
        if os.path.isdir(self.path) and not os.path.islink(self.path):
            return  # someone's folder: leave it alone (the cache is only a cache)
        try:
            self._write(len(keys), fields)
        except OSError:
            pass  # a read-only checkout: the command still works, only slower next time
        else:
            if self.replaces:  # (megabytes nobody reads any more; a folder is left alone)
                with contextlib.suppress(OSError):
                    os.remove(os.path.join(os.path.dirname(self.path), self.replaces))
        self.dirty = False
