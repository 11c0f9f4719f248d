"""Per-file records keyed by a file's stamp: the one cache format of `status` and `check`.

A record remembers what a command computed from one file (its counts, its findings) with the
file's stamp (size, mtime, ctime, inode) and a digest of its bytes. An unchanged stamp answers
without opening the file; a changed stamp with the same digest (a `touch`, a fresh clone)
answers after one read and refreshes the stamp; anything else is a miss.

The racy window: a file changed within `RACY_WINDOW_NS` of the moment its record was made can
change again within the same timestamp tick without changing size ("racy git"), so such a
record keeps no stamp and the file is re-hashed on every run until it has settled.

The file (`build/.cache/<name>`):

    stampcache <FORMAT> <records> <directory offset> <directory bytes> <its crc32> <key>\\n
    the records, sorted by name, in blocks, then their directory (`blockindex`)

A record's fields are its payload: a list of strings the client encodes (NUL is the one
character no field may hold: such a record is simply not kept; nor is a file whose name has a
newline). Nothing is loaded up front but the directory: a lookup reads and decodes the one
block its name is in (`blockindex.Reader`), so a run that looks up a few files holds a few
blocks, and one that looks up every file walks the blocks in order, one at a time; a save
merges the old records with this run's, a block at a time, into the next file. A file that
does not parse, is of another format or was written for another key (the glossary, project
settings, transflow's code: whatever the client says every record depends on) is an empty
cache, with a note for `-v`; a block that fails its CRC is a block without records (its files
are computed again). The next save replaces it (a folder in its place is left alone).
Nothing is written when nothing changed. Deleting the cache only costs time.
"""

from __future__ import annotations

import contextlib
import gc
import os
import time
from collections.abc import Iterator
from typing import IO, Any, Generic, TypeVar

from transflow import blockindex

MAGIC = "stampcache"
# Bump when the layout changes. 2: every record in one NUL-separated body, loaded whole;
# 3: sorted blocks read when asked for (`blockindex`).
FORMAT = 3
# A file changed this close to the moment it was recorded may change again within the same
# timestamp tick without changing size: its record is re-hashed next time (see the docstring).
RACY_WINDOW_NS = 2_000_000_000
HEAD_LIMIT = 65536  # bytes read to find the header line (the key is a few digests)
FACT = "\x01"  # the start of a fact's name (`store_fact`): no file name starts so
# Records made in this run kept in memory at most: then they are written, sorted, to a spill
# file (a run of `blockindex` blocks) and looked up there; a save merges the runs with the old
# records. A cold run's 20,000 new records held until the save were 11 MB of its peak.
SPILL_AT = 2048
# Bits of the filter that says which names may be in a spill run (two bits a name): a name it
# rules out is not looked up on disk. 2 ** 21 bits (256 KB): 1 false positive in 500 names
# at 20,000 records; more only cost a lookup each, never a wrong answer.
FILTER_BITS = 1 << 21
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


def read_header(data: bytes, magic: str, fmt: int,
                numbers: int = 3) -> tuple[int, list[int], bytes] | str:  # fmt: skip
    """The header line of a cache file, `<magic> <format> <numbers...> <key>`: where the
    line ends, the numbers and the key; or why the file is unusable."""
    end = data.find(b"\n")
    parts = data[:end].split(b" ", numbers + 2) if end > 0 else []
    if len(parts) < 2 or parts[0] != magic.encode():
        return "damaged"
    try:
        found = int(parts[1])
    except ValueError:
        return "damaged"
    if found != fmt:  # (before the rest: another format may have other fields)
        return "of another format"
    try:
        values = [int(p) for p in parts[2:numbers + 2]]
    except ValueError:
        return "damaged"
    if len(parts) != numbers + 3 or min(values, default=0) < 0:
        return "damaged"
    return end, values, parts[numbers + 2]


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
    name and stamp, else by digest (and refresh its stamp), record a file seen again, and
    open the file's index (`_open_index`): a header line, then `blockindex` blocks.

    `root` is prepended to a record's name (a path relative to the project root, or absolute)
    to find its file when a save drops the records of files that no longer exist.
    """

    magic = ""
    format = 0

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
        self._file: IO[bytes] | None = None  # the loaded file, open until `close`
        self._index: blockindex.Reader | None = None
        # The records made in this run: the last ones (name -> stamp, digest, value), and the
        # earlier ones spilled to `_spill` in sorted runs (`SPILL_AT`), oldest first.
        self._changed: dict[str, tuple[str, str, V]] = {}
        self._spill: IO[bytes] | None = None  # an unnamed temporary beside the cache
        self._runs: list[blockindex.Reader] = []
        self._filter: bytearray | None = None  # names that may be in a run (`FILTER_BITS`)
        self._no_spill = False  # (the temporary could not be made: all kept in memory)
        self._noted_damage = False

    def _unusable(self, why: str) -> None:
        """Note for `-v` why the file on disk is not used, and what the command does instead."""
        self.notes.append(f"{self.label} {self.path}: {why}; {self.redo}")

    def _open_index(self) -> None:
        """Open the file and read its header and directory (nothing else: blocks are read when
        asked for). An absent or unusable file is an empty cache (with a note)."""
        try:
            fh = open(self.path, "rb", buffering=0)  # noqa: SIM115 (closed by `close`)
        except FileNotFoundError:
            return
        except OSError as e:
            self._unusable(f"cannot be read ({e.strerror})")
            return
        try:
            why = self._parse_head(fh.fileno())
        except OSError as e:
            why = f"cannot be read ({e.strerror})"
        if why is None:
            self._file = fh
            return
        fh.close()
        self._index = None
        if why:
            self._unusable(why)

    def _parse_head(self, fd: int) -> str | None:
        """Read the header and the directory; why the file is unusable ("" when it is simply
        empty), or None."""
        size = os.fstat(fd).st_size
        if size == 0:
            return ""
        head = os.pread(fd, 4096, 0)  # (a header line is a few hundred bytes: digests)
        if b"\n" not in head and len(head) == 4096:
            head = os.pread(fd, HEAD_LIMIT, 0)
        header = read_header(head, self.magic, self.format, 4)
        if isinstance(header, str):
            return header
        end, (records, where, length, crc), key = header
        if key != self.key.encode("utf-8", "surrogatepass"):
            return "the inputs every record depends on changed (glossary, settings, transflow)"
        if where < end + 1 or size != where + length:
            return "damaged"
        index = blockindex.Reader(fd, where, length, crc, records, low=end + 1, high=where)
        if index.error:
            return index.error
        self._index = index
        return None

    @property
    def empty(self) -> bool:
        """True when no record could be loaded (no file, or an unusable one): every file's
        answer is to be computed (a cold run)."""
        return self._index is None

    def _fields(self, value: V) -> list[str]:
        """A value made in this run as a spill record's fields (`_unspilled` reads it back)."""
        raise NotImplementedError

    def _unspilled(self, fields: list[str]) -> V:
        """The value of a spilled record (the fields `_fields` made)."""
        raise NotImplementedError

    def _bits(self, name: str) -> tuple[int, int]:
        h = hash(name)  # (within this process only: the filter is never written)
        return h & (FILTER_BITS - 1), (h >> 32) & (FILTER_BITS - 1)

    def _made(self, name: str) -> tuple[str, str, V] | None:
        """The record of `name` made in this run (held, or spilled), or None."""
        made = self._changed.get(name)
        if made is not None or self._filter is None:
            return made
        a, b = self._bits(name)
        flt = self._filter
        if not (flt[a >> 3] >> (a & 7) & 1 and flt[b >> 3] >> (b & 7) & 1):
            return None
        for run in reversed(self._runs):  # (the newest first: a name recorded again wins)
            record = run.get(name)
            if record is not None:
                return record[1], record[2], self._unspilled(record[3])
        return None

    def _put(self, name: str, record: tuple[str, str, V]) -> None:
        """Keep a record made in this run, spilling the held ones when there are `SPILL_AT`."""
        self._changed[name] = record
        if len(self._changed) >= SPILL_AT and not self._no_spill:
            self._spill_run()

    def _spill_run(self) -> None:
        """Write the held records, sorted, as one more run of the spill file."""
        import tempfile

        if self._spill is None:
            try:
                folder = os.path.dirname(self.path) or "."
                os.makedirs(folder, exist_ok=True)
                self._spill = tempfile.TemporaryFile(dir=folder)
            except OSError:
                self._no_spill = True  # (a read-only checkout: this run's records held)
                return
        fh = self._spill
        start = fh.seek(0, os.SEEK_END)
        end = [start]

        def put(data: bytes) -> int:
            fh.write(data)
            at = end[0]
            end[0] += len(data)
            return at

        try:
            writer = blockindex.Writer(put)
            held = self._changed
            for name in sorted(held):
                stamp, recorded, value = held[name]
                writer.add((name, stamp, recorded, self._fields(value)))
            where, length, crc = writer.finish()
            fh.flush()
        except OSError:  # (a full disk: held in memory from now on)
            self._no_spill = True
            return
        run = blockindex.Reader(fh.fileno(), where, length, crc, writer.records,
                                low=start, high=where)
        if run.error:
            self._no_spill = True
            return
        if self._filter is None:
            self._filter = bytearray(FILTER_BITS // 8)
        flt = self._filter
        for name in held:
            a, b = self._bits(name)
            flt[a >> 3] |= 1 << (a & 7)
            flt[b >> 3] |= 1 << (b & 7)
        self._runs.append(run)
        self._changed = {}

    def _made_in_order(self) -> Iterator[tuple[str, str, str, V]]:
        """Every record made in this run, by name (the newest of a name recorded again)."""
        import heapq

        held = self._changed
        sources: list[Iterator[tuple[str, int, str, str, Any]]] = [
            ((name, -age, stamp, recorded, fields) for name, stamp, recorded, fields in run)
            for age, run in enumerate(self._runs)]
        sources.append((name, -len(self._runs), *held[name]) for name in sorted(held))
        last = None
        for name, age, stamp, recorded, value in heapq.merge(*sources):
            if name == last:
                continue  # (an older record of a name recorded again)
            last = name
            yield name, stamp, recorded, (value if -age == len(self._runs)
                                          else self._unspilled(value))

    def _value(self, fields: list[str]) -> V | None:
        """What a loaded record's fields keep (None: fields of another shape, a miss)."""
        raise NotImplementedError

    def _loaded(self, name: str) -> tuple[str, str, V] | None:
        """The loaded record of `name`: (stamp, digest, value), or None."""
        if self._index is None:
            return None
        record = self._index.get(name)
        self._note_damage()
        if record is None:
            return None
        value = self._value(record[3])
        return None if value is None else (record[1], record[2], value)

    def _note_damage(self) -> None:
        if self._index is not None and self._index.damaged and not self._noted_damage:
            self._noted_damage = True
            self._unusable("damaged in part (the records of a block fail their checksum)")

    def _found(self, names: list[str], stats: list[os.stat_result]) -> list[V | None]:
        """The value of each file whose stamp is the one recorded (and settled), else None;
        looked up in order of name, so the blocks are read one at a time, each once."""
        out: list[V | None] = [None] * len(names)
        index = self._index
        if index is None or not names:
            return out
        get, changed, value_of = index.get, self._changed, self._value
        for i in sorted(range(len(names)), key=names.__getitem__):
            name = names[i]
            record = get(name)
            if record is None or name in changed or (
                    self._filter is not None and self._made(name) is not None):
                continue  # (recorded again in this run: not this)
            st = stats[i]
            if record[1] == f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}":
                out[i] = value_of(record[3])  # (= `file_stamp`)
        self._note_damage()
        self.hits += len(out) - out.count(None)
        return out

    def _lookup_value(self, name: str, st: os.stat_result, path: str) -> V | None:
        """What is recorded for a file whose content is unchanged, or None (compute it).

        `st` is the file's stat, taken before it is read; `path` where to read it to compare
        digests when its stamp changed.
        """
        changed = self._made(name)
        if changed is not None:  # (recorded earlier in this run)
            _, recorded, value = changed
        else:
            loaded = self._loaded(name)
            if loaded is None:
                return None
            stamp, recorded, value = loaded
            if stamp and stamp == file_stamp(st):
                self.hits += 1
                return value
        try:
            current = file_digest(path)
        except OSError:
            return None  # gone or unreadable now: computing it reports what is wrong
        if current != recorded:
            return None
        self._record(name, st, current, value)  # the same bytes: refresh the stamp
        self.hits += 1
        return value

    def recorded(self, name: str) -> V | None:
        """What is recorded for `name` now (in this run, else in the loaded file), with no
        stamp check: for a second pass over files that a first pass found unchanged."""
        changed = self._changed.get(name)  # (`_made` inlined: a warm check asks for 20,000)
        if changed is None and self._filter is not None:
            changed = self._made(name)
        if changed is not None:
            return changed[2]
        loaded = self._loaded(name)
        return None if loaded is None else loaded[2]

    def _kept(self) -> Iterator[tuple[str, str, str, V | list[str], bool]]:
        """What a save writes, by name: (name, stamp, digest, value, new) of every record made
        in this run (new: its value) and every loaded one whose file still exists (its
        fields); facts are about no file. The loaded records are read a block at a time and
        merged with this run's, never all held."""
        root = self.root
        made = self._made_in_order()
        old: Iterator[blockindex.Record] = iter(self._index) if self._index is not None else (
            iter(()))  # fmt: skip
        following = next(made, None)
        for name, stamp, recorded, fields in old:
            while following is not None and following[0] < name:
                yield *following, True
                following = next(made, None)
            if following is not None and following[0] == name:
                continue  # (recorded again: yielded with the rest of this run's, in order)
            if name.startswith(FACT) or os.path.exists(name if os.path.isabs(name)
                                                       else root + name):
                yield name, stamp, recorded, fields, False
        while following is not None:
            yield *following, True
            following = next(made, None)
        self._note_damage()

    def _record(self, name: str, st: os.stat_result, content_digest: str, value: V) -> None:
        # A file changed within the racy window keeps no stamp: hashed again next time.
        settled = st.st_ctime_ns < time.time_ns() - RACY_WINDOW_NS
        stamp = file_stamp(st) if settled else ""
        if self._made(name) is None:
            loaded = self._loaded(name)
            if loaded is not None and loaded == (stamp, content_digest, value):
                return  # (still racy, nothing new: no reason to rewrite the file)
        self._put(name, (stamp, content_digest, value))
        self.dirty = True

    def names(self) -> set[str]:
        """The names of the files that have a record (loaded or made in this run): every
        block is read (for tests and tools; a command never needs them all)."""
        loaded = {record[0] for record in self._index} if self._index is not None else set()
        return loaded | {record[0] for record in self._made_in_order()}

    def _head(self, records: int, where: int, length: int, crc: int) -> bytes:
        """The header line, its numbers at a fixed width (so it can be written last)."""
        return (f"{self.magic} {self.format} {records:012d} {where:015d} {length:015d} "
                f"{crc:010d} {self.key}\n").encode("utf-8", "surrogatepass")

    def close(self) -> None:
        """Close the loaded file and the spill file (no lookup after this)."""
        self._index = None
        self._runs = []
        self._filter = None
        if self._spill is not None:
            with contextlib.suppress(OSError):
                self._spill.close()
            self._spill = None
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None


class StampCache(StampRecords[list[str]]):
    """The records of one cache file, read a block at a time when asked for; new and
    refreshed ones saved at the end (`save`, which closes it)."""

    magic = MAGIC
    format = FORMAT

    def __init__(self, path: str, key: str, *, label: str, redo: str, root: str = "",
                 replaces: str | None = None) -> None:  # fmt: skip
        super().__init__(path, key, label=label, redo=redo, root=root)
        self.replaces = replaces  # an older cache's file beside this one, deleted on a save
        self._open_index()

    def _value(self, fields: list[str]) -> list[str]:
        return fields

    def _fields(self, value: list[str]) -> list[str]:
        return value

    def _unspilled(self, fields: list[str]) -> list[str]:
        return fields

    def fresh(self, names: list[str], stats: list[os.stat_result]) -> list[list[str] | None]:
        """`lookup` of many files at once, for the common case and without reading any: the
        payload of each file whose stamp is the one recorded (and settled), else None (then
        ask `lookup`, which compares digests)."""
        return self._found(names, stats)

    def lookup(self, name: str, st: os.stat_result, path: str) -> list[str] | None:
        """The payload recorded for a file whose content is unchanged, or None (compute it).

        `st` is the file's stat, taken before it is read; `path` where to read it to compare
        digests when its stamp changed.
        """
        return self._lookup_value(name, st, path)

    def fact(self, name: str) -> list[str] | None:
        """A recorded fact that is not about one file (it depends on the key only), or None."""
        changed = self._made(name)
        if changed is not None:
            return changed[2]
        loaded = self._loaded(name)
        return None if loaded is None or loaded[0] else loaded[2]

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
            self._put(name, ("", "", payload))
            self.dirty = True

    def _write(self) -> None:
        """Write the next file through a temporary and a rename: the kept records merged a
        block at a time (`_kept`), never held all at once."""
        from pathlib import Path

        from transflow.files import stage_file

        tmp = stage_file(Path(self.path), b"", durable=False)  # (named, with the file's mode)
        try:
            with open(tmp, "r+b") as fh:
                head = self._head(0, 0, 0, 0)
                fh.write(head)
                end = [len(head)]

                def put(data: bytes) -> int:
                    fh.write(data)
                    at = end[0]
                    end[0] += len(data)
                    return at

                writer = blockindex.Writer(put)
                for name, stamp, recorded, payload, _ in self._kept():
                    writer.add((name, stamp, recorded, payload))
                where, length, crc = writer.finish()
                fh.seek(0)
                fh.write(self._head(writer.records, where, length, crc))  # (the same width)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def save(self) -> None:
        """Write the cache if anything changed, then close it; never fail the command over it.

        Records of files that no longer exist are dropped then (only when something changed,
        so a warm run does not pay for it).
        """
        try:
            if not self.dirty:
                return
            if os.path.isdir(self.path) and not os.path.islink(self.path):
                return  # someone's folder: leave it alone (the cache is only a cache)
            try:
                self._write()
            except OSError:
                pass  # a read-only checkout: the command still works, only slower next time
            else:
                if self.replaces:  # (megabytes nobody reads any more; a folder is left alone)
                    with contextlib.suppress(OSError):
                        os.remove(os.path.join(os.path.dirname(self.path), self.replaces))
            self.dirty = False
        finally:
            self.close()
