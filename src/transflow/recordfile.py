"""Per-file records keyed by a file's stamp, their payloads left on disk until asked for.

The findings cache of `check` (`build/.cache/findings.cache`). The contract is
`stampcache.StampCache`'s: a record remembers what was computed from one file with the file's
stamp (size, mtime, ctime, inode) and a digest of its bytes; an unchanged stamp answers without
opening the file, a changed stamp with the same digest answers after one read (and the stamp is
refreshed), anything else is a miss; a record made within the racy window keeps no stamp; a key
(glossary, settings, transflow's code) covers every record; facts are records about no file.

What differs is memory. A newsroom's findings are hundreds of megabytes (every finding keeps
its msgid and msgstr): loading them whole costs that much memory, and so does holding a cold
run's new findings until the end. Here only the index is loaded; a payload is read (`pread`)
and checked (its own CRC) when asked for, and a new payload is written to the next file at
once, so a check holds one catalogue's findings at a time. A payload that fails its CRC is a
miss (the caller computes it again), never a wrong answer.

    recordfile <FORMAT> <index offset> <index bytes> <index crc32> <key>\\n  (fixed widths)
    the payloads, one after another: a record's fields, NUL-joined, UTF-8
    the index: marshal of (keys "name\\nstamp", digests, offsets, lengths, crcs, field counts)

The next file is written beside the cache (a temporary, renamed over it by `save`): the new
payloads as they come, then at `save` the old records still wanted (copied, a record at a
time), then the index. A file that does not parse, fails its index CRC, is of another format
or was written for another key is an empty cache, with a note for `-v`; a folder in its place
is left alone. Nothing is written when nothing changed.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import time
import zlib
from typing import Any

from transflow import stampcache

MAGIC = "recordfile"
FORMAT = 1  # bump when the layout changes
HEAD_LIMIT = 65536  # bytes read to find the header line (the key is a few digests)

# Where a record's payload is: (0: the loaded file, or 1: the next file being written,
# offset, length, crc32, field count), or (2, fields) for one held in memory (it could not
# be written: the payload is then only for this run).
Handle = tuple[Any, ...]


STALE_AFTER_S = 600  # a temporary not written to for this long was left by a killed run


def remove_stale_temporaries(path: str) -> None:
    """Delete the temporaries a killed run left beside `path` (`.<name>.<random>.tmp`).

    A live run writes to its temporary every few milliseconds (a record, a piece of the
    report), so one untouched for `STALE_AFTER_S` is nobody's: without this a killed cold
    check would leave a findings file's worth of bytes behind for good.
    """
    folder, name = os.path.split(path)
    prefix, limit = f".{name}.", time.time() - STALE_AFTER_S
    try:
        names = os.listdir(folder or ".")
    except OSError:
        return
    for other in names:
        if other.startswith(prefix) and other.endswith(".tmp"):
            stale = os.path.join(folder, other)
            with contextlib.suppress(OSError):
                if os.lstat(stale).st_mtime < limit:
                    os.unlink(stale)


class RecordFile(stampcache.StampRecords[Handle]):
    """The index of one record file, loaded at once; payloads read when asked for; new and
    refreshed records written to the next file as they come, and saved at the end.

    `root` is prepended to a record's name to find its file when `save` drops the records of
    files that no longer exist. `replaces`: older caches' files beside this one, deleted on a
    save. Call `save` (or `close`) in the end: the loaded file stays open until then. A
    record keeps where its payload is (a `Handle`), not the payload.
    """

    def __init__(self, path: str, key: str, *, label: str, redo: str, root: str = "",
                 replaces: tuple[str, ...] = ()) -> None:  # fmt: skip
        super().__init__(path, key, label=label, redo=redo, root=root)
        self.replaces = replaces
        self._fd: int | None = None
        self._offsets: list[int] = []
        self._lengths: list[int] = []
        self._crcs: list[int] = []
        self._counts: list[int] = []
        self._tmp: str | None = None
        self._out: Any = None  # the next file, opened on the first new payload
        self._end = 0  # where the next payload goes in it
        self._load()

    # --- reading -------------------------------------------------------------------------

    def _load(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return
        except OSError as e:
            self._unusable(f"cannot be read ({e.strerror})")
            return
        try:
            why = self._parse(fd)
        except OSError as e:
            why = f"cannot be read ({e.strerror})"
        if why is None:
            self._fd = fd
            return
        os.close(fd)
        self._keys, self._by_stamp = [], {}
        if why:
            self._unusable(why)

    def _parse(self, fd: int) -> str | None:
        """Load the index; the reason the file is unusable ("" when it is simply empty), or
        None."""
        header = stampcache.read_header(os.pread(fd, HEAD_LIMIT, 0), MAGIC, FORMAT)
        if isinstance(header, str):
            return header
        end, (where, length, crc), key = header
        if key != self.key.encode("utf-8", "surrogatepass"):
            return "the inputs every record depends on changed (glossary, settings, transflow)"
        if where < end + 1 or length < 0 or os.fstat(fd).st_size != where + length:
            return "damaged"
        data = os.pread(fd, length, where)
        if len(data) != length or zlib.crc32(data) != crc:
            return "damaged"
        try:
            index = marshal.loads(data)
            keys, digests, offsets, lengths, crcs, counts = index
        except (ValueError, EOFError, TypeError):
            return "damaged"
        n = len(keys) if type(keys) is list else -1
        columns = (keys, digests, offsets, lengths, crcs, counts)
        if n < 0 or any(type(c) is not list or len(c) != n for c in columns) or not (
                set(map(type, keys)) <= {str} and set(map(type, digests)) <= {str}
                and set(map(type, offsets)) <= {int} and set(map(type, lengths)) <= {int}
                and set(map(type, crcs)) <= {int} and set(map(type, counts)) <= {int}):
            return "damaged"
        if n and (min(offsets) <= end or max(map(int.__add__, offsets, lengths)) > where
                  or min(lengths) < 0):
            return "damaged"
        self._keys, self._digests, self._offsets = keys, digests, offsets
        self._lengths, self._crcs, self._counts = lengths, crcs, counts
        self._by_stamp = dict(zip(keys, range(n), strict=True))
        return None

    def _old(self, i: int) -> Handle:
        return (0, self._offsets[i], self._lengths[i], self._crcs[i], self._counts[i])

    _value = _old

    def ids(self, names: list[str], stats: list[os.stat_result]) -> list[Handle | None]:
        """Where the payload of each file whose stamp is the one recorded (and settled) is,
        else None (then ask `lookup_id`, which compares digests). Nothing is read."""
        found = self._found(names, stats)
        return [None if i is None else self._old(i) for i in found]

    def lookup_id(self, name: str, st: os.stat_result, path: str) -> Handle | None:
        """Where the payload recorded for a file whose content is unchanged is, or None.

        `st` is the file's stat, taken before it is read; `path` where to read it to compare
        digests when its stamp changed.
        """
        return self._lookup_value(name, st, path)

    def read(self, handle: Handle) -> list[str] | None:
        """The payload a handle points to, or None when it cannot be read or fails its CRC."""
        if handle[0] == 2:
            return list(handle[1])
        source, offset, length, crc, count = handle
        if count == 0 and length == 0 and crc == 0:
            return []  # (nothing to read: most files have no findings)
        fd = self._fd if source == 0 else (None if self._out is None else self._out.fileno())
        if fd is None:
            return None
        try:
            data = os.pread(fd, length, offset)
        except OSError:
            return None
        if len(data) != length or zlib.crc32(data) != crc:
            return None
        if count == 0:
            return []
        try:
            fields = str(data, "utf-8", "surrogatepass").split("\0")
        except UnicodeDecodeError:
            return None
        return fields if len(fields) == count else None

    def lookup(self, name: str, st: os.stat_result, path: str) -> list[str] | None:
        """`lookup_id`, then `read`: the payload itself (`stampcache.StampCache.lookup`)."""
        handle = self.lookup_id(name, st, path)
        return None if handle is None else self.read(handle)

    def fact(self, name: str) -> list[str] | None:
        """A recorded fact that is not about one file (it depends on the key only), or None."""
        changed = self._changed.get(name)
        if changed is not None:
            return self.read(changed[2])
        i = self._by_stamp.get(f"{name}\n")
        return None if i is None else self.read(self._old(i))

    # --- writing -------------------------------------------------------------------------

    def store(self, name: str, st: os.stat_result, content_digest: str,
              payload: list[str]) -> Handle | None:  # fmt: skip
        """Record what was computed from a file whose bytes have `content_digest` (stat `st`
        taken before reading them); where its payload now is. A record that cannot be
        written (a NUL, a line break in the name) is not kept: None."""
        if "\0" in name or "\n" in name or any("\0" in field for field in payload):
            return None
        handle = self._append(payload)
        self._record(name, st, content_digest, handle)
        return handle

    def store_fact(self, name: str, payload: list[str]) -> None:
        """Record a fact under a `name` that starts with U+0001 (no file's name does)."""
        if not name.startswith(stampcache.FACT) or "\n" in name or any(
                "\0" in field for field in payload):
            return
        if self.fact(name) != payload:
            self._changed[name] = ("", "", self._append(payload))
            self.dirty = True

    def _open_next(self) -> bool:
        """Start the next file (its header a placeholder of the final width); False when it
        cannot be written (a read-only checkout, a folder in the cache's place)."""
        if self._out is not None:
            return True
        if self._tmp is not None or (os.path.isdir(self.path) and not os.path.islink(self.path)):
            return False  # (failed before, or someone's folder: left alone)
        from pathlib import Path

        from transflow.files import stage_file

        remove_stale_temporaries(self.path)
        try:
            self._tmp = stage_file(Path(self.path), b"", durable=False)
            self._out = open(self._tmp, "r+b")  # noqa: SIM115 (closed by save or close)
            head = self._head(0, 0, 0)
            self._out.write(head)
            self._end = len(head)
        except OSError:
            self._discard()
            self._tmp = ""  # (not again in this run)
            return False
        return True

    def _append(self, payload: list[str]) -> Handle:
        """Write a payload to the next file now; where it is (in memory when it cannot be)."""
        if not self._open_next():
            return (2, tuple(payload))
        data = "\0".join(payload).encode("utf-8", "surrogatepass")
        try:
            self._out.seek(self._end)
            self._out.write(data)
            self._out.flush()  # (read back by `read` through the descriptor)
        except OSError:
            self._discard()
            self._tmp = ""
            return (2, tuple(payload))
        offset, self._end = self._end, self._end + len(data)
        return (1, offset, len(data), zlib.crc32(data), len(payload))

    def _head(self, where: int, length: int, crc: int) -> bytes:
        return (f"{MAGIC} {FORMAT} {where:015d} {length:015d} {crc:010d} {self.key}\n"
                ).encode("utf-8", "surrogatepass")

    def save(self) -> None:
        """Write the next file if anything changed and put it in place; never fail the command
        over it. Records of files that no longer exist are dropped then."""
        try:
            if self.dirty and self._open_next():
                self._finish()
        except OSError:
            pass  # a full disk: the command still works, only slower next time
        finally:
            self.close()
        self.dirty = False

    def _finish(self) -> None:
        out = self._out
        keys: list[str] = []
        digests: list[str] = []
        offsets: list[int] = []
        lengths: list[int] = []
        crcs: list[int] = []
        counts: list[int] = []
        out.seek(self._end)
        for key, recorded, handle in self._kept():
            if handle[0] == 2:
                continue  # (held in memory: it could not be written)
            source, offset, length, crc, count = handle
            if source == 0:  # an old record still wanted: copied over, a record at a time
                if self._fd is None:
                    continue
                data = os.pread(self._fd, length, offset)
                if len(data) != length or zlib.crc32(data) != crc:
                    continue  # (damaged since it was loaded: dropped, computed next time)
                offset = self._end
                out.write(data)
                self._end += length
            keys.append(key)
            digests.append(recorded)
            offsets.append(offset)
            lengths.append(length)
            crcs.append(crc)
            counts.append(count)
        index_data = marshal.dumps((keys, digests, offsets, lengths, crcs, counts))
        out.write(index_data)
        out.seek(0)
        out.write(self._head(self._end, len(index_data), zlib.crc32(index_data)))
        out.close()
        self._out = None
        assert self._tmp
        os.replace(self._tmp, self.path)
        self._tmp = None
        for name in self.replaces:  # (older caches nobody reads any more; a folder is kept)
            with contextlib.suppress(OSError):
                os.remove(os.path.join(os.path.dirname(self.path), name))

    def _discard(self) -> None:
        if self._out is not None:
            with contextlib.suppress(OSError):
                self._out.close()
            self._out = None
        if self._tmp:
            with contextlib.suppress(OSError):
                os.unlink(self._tmp)
            self._tmp = None

    def close(self) -> None:
        """Forget the next file if it was not saved, and close the loaded one."""
        self._discard()
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
