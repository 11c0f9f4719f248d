"""Per-file records keyed by a file's stamp, their payloads left on disk until asked for.

The findings cache of `check` (`build/.cache/findings.cache`). The contract is
`stampcache.StampCache`'s: a record remembers what was computed from one file with the file's
stamp (size, mtime, ctime, inode) and a digest of its bytes; an unchanged stamp answers without
opening the file, a changed stamp with the same digest answers after one read (and the stamp is
refreshed), anything else is a miss; a record made within the racy window keeps no stamp; a key
(glossary, settings, transflow's code) covers every record; facts are records about no file.

What differs is memory. A newsroom's findings are hundreds of megabytes (every finding keeps
its msgid and msgstr): loading them whole costs that much memory, and so does holding a cold
run's new findings until the end. Here nothing is loaded up front but the index's directory:
a record is found in its block of the index (`blockindex`: a bisection, one block read), a
payload is read (`pread`) and checked (its own CRC) when asked for, and a new payload is
written to the next file at once, so a check holds one catalogue's findings at a time. A
payload that fails its CRC is a miss (the caller computes it again), never a wrong answer.

    recordfile <FORMAT> <records> <directory offset> <directory bytes> <its crc32> <key>\\n
    the payloads (a record's fields, NUL-joined, UTF-8) and the index's blocks, in any order
    the index's directory (`blockindex`); a record's fields: its payload's offset, length,
    crc32 and field count

The next file is written beside the cache (a temporary, renamed over it by `save`): the new
payloads as they come, then at `save` the old records still wanted, merged with this run's in
order of name a block at a time (each old payload copied over as its record comes), then the
directory. A file that does not parse, fails its directory's CRC, is of another format or was
written for another key is an empty cache, with a note for `-v`; a block of the index that
fails its CRC is a block without records; a folder in its place is left alone. Nothing is
written when nothing changed.
"""

from __future__ import annotations

import contextlib
import os
import time
import zlib
from typing import Any, cast

from transflow import blockindex, stampcache

MAGIC = "recordfile"
# Bump when the layout changes. 1: the index one marshal, loaded whole; 2: the index in sorted
# blocks read when asked for (`blockindex`).
FORMAT = 2

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
    """The index of one record file, read a block at a time when asked for; payloads read
    when asked for; new and refreshed records written to the next file as they come, and
    saved at the end.

    `root` is prepended to a record's name to find its file when `save` drops the records of
    files that no longer exist. `replaces`: older caches' files beside this one, deleted on a
    save. Call `save` (or `close`) in the end: the loaded file stays open until then. A
    record keeps where its payload is (a `Handle`), not the payload.
    """

    magic = MAGIC
    format = FORMAT

    def __init__(self, path: str, key: str, *, label: str, redo: str, root: str = "",
                 replaces: tuple[str, ...] = ()) -> None:  # fmt: skip
        super().__init__(path, key, label=label, redo=redo, root=root)
        self.replaces = replaces
        self._tmp: str | None = None
        self._out: Any = None  # the next file, opened on the first new payload
        self._end = 0  # where the next payload goes in it
        self._open_index()

    @property
    def _fd(self) -> int | None:
        return None if self._file is None else self._file.fileno()

    def _value(self, fields: list[str]) -> Handle | None:
        """The handle of a loaded record (None: fields that are not four numbers)."""
        try:
            offset, length, crc, count = map(int, fields)  # (ValueError: not four numbers)
        except ValueError:
            return None
        return None if offset | length | crc | count < 0 else (0, offset, length, crc, count)

    def _fields(self, value: Handle) -> list[str]:
        if value[0] == 2:  # (a payload held in memory: its fields after the 2)
            return ["2", *value[1]]
        return list(map(str, value))

    def _unspilled(self, fields: list[str]) -> Handle:
        if fields[0] == "2":
            return (2, tuple(fields[1:]))
        return tuple(map(int, fields))

    def ids(self, names: list[str], stats: list[os.stat_result]) -> list[Handle | None]:
        """Where the payload of each file whose stamp is the one recorded (and settled) is,
        else None (then ask `lookup_id`, which compares digests). Nothing is read."""
        return self._found(names, stats)

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
        if source == 0:
            fd = None if self._file is None else self._file.fileno()
        else:
            fd = None if self._out is None else self._out.fileno()
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
        changed = self._made(name)
        if changed is not None:
            return self.read(changed[2])
        loaded = self._loaded(name)
        return None if loaded is None or loaded[0] else self.read(loaded[2])

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
            self._put(name, ("", "", self._append(payload)))
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
            head = self._head(0, 0, 0, 0)
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
        out.seek(self._end)

        def put(data: bytes) -> int:
            out.write(data)
            at, self._end = self._end, self._end + len(data)
            return at

        writer = blockindex.Writer(put)
        fd = self._fd
        for name, stamp, recorded, value, new in self._kept():
            handle = (cast("Handle", value) if new
                      else self._value(cast("list[str]", value)))
            if handle is None or handle[0] == 2:
                continue  # (held in memory: it could not be written; or not a handle)
            source, offset, length, crc, count = handle
            if source == 0:  # an old record still wanted: its payload copied over
                if fd is None:
                    continue
                if length:
                    data = os.pread(fd, length, offset)
                    if len(data) != length or zlib.crc32(data) != crc:
                        continue  # (damaged since it was loaded: dropped, computed next time)
                    offset = put(data)
                else:
                    offset = 0
            writer.add((name, stamp, recorded, [str(offset), str(length), str(crc), str(count)]))
        where, length, crc = writer.finish()
        out.seek(0)
        out.write(self._head(writer.records, where, length, crc))
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
        super().close()
