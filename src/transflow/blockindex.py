"""Sorted per-file records in checksummed blocks, read a block at a time: the index format of
`stampcache.StampCache` and `recordfile.RecordFile`.

A record is (name, stamp, digest, fields): the file it is about, the stamp and content digest
it was made from, and what its client keeps (a list of strings). Records are sorted by name
and cut into blocks of `BLOCK_RECORDS`; each block is one UTF-8 string, its fields separated
by NUL (the first four of each record, then every record's fields, in record order, so a block
decodes with one `split` in C), with its own CRC. The directory says where each block is, its
first name, its CRC and how many records it holds:

    directory: marshal of (first names, offsets, lengths, crc32s, record counts)

so a lookup is a bisection of the directory and the decoding of one block (`Reader.get`), and
a command that looks up a few files holds a few blocks, not 20,000 records: a newsroom's index
is megabytes of strings once loaded whole. Reading every record (`Reader.__iter__`) and
writing a new index (`Writer`) go a block at a time too, so a save that merges the old records
with this run's changes never holds them all either.

Where the blocks and the directory are in the file, and what else it holds (a header line,
payloads), is the client's business. A directory that does not parse is an unusable file; a
block that fails its CRC or does not decode is a block without records (a note says so), so
its files are computed again: a damaged cache is slower, never wrong.
"""

from __future__ import annotations

import bisect
import itertools
import marshal
import os
import zlib
from collections.abc import Callable, Iterator
from typing import Any

BLOCK_RECORDS = 128  # records per block: a lookup decodes this many
_FIXED = 4  # name, stamp, digest, field count
CACHED_BLOCKS = 2  # decoded blocks kept (a sorted walk needs one; two spare a thrash)

Record = tuple[str, str, str, list[str]]  # name, stamp, digest, fields
_UNREAD: Any = object()  # (a block not in `Reader._decoded`)


class _Block:
    """One decoded block: its names (sorted), stamps, digests and fields."""

    __slots__ = ("at", "digests", "fields", "names", "stamps", "starts")

    def __init__(self, fields: list[str], n: int, starts: list[int]) -> None:
        fixed = _FIXED * n
        self.names = fields[0:fixed:_FIXED]
        self.stamps = fields[1:fixed:_FIXED]
        self.digests = fields[2:fixed:_FIXED]
        self.at = dict(zip(self.names, range(n), strict=True))
        self.starts = starts
        self.fields = fields

    def record(self, i: int) -> Record:
        return (self.names[i], self.stamps[i], self.digests[i],
                self.fields[self.starts[i]:self.starts[i + 1]])


def encode_block(records: list[Record]) -> bytes:
    """The bytes of one block (`decode_block` reads them back)."""
    head: list[str] = []
    for name, stamp, recorded, fields in records:
        head += (name, stamp, recorded, str(len(fields)))
    return "\0".join(itertools.chain(head, itertools.chain.from_iterable(
        r[3] for r in records))).encode("utf-8", "surrogatepass")  # fmt: skip


def decode_block(data: bytes, n: int) -> _Block | None:
    """A block of `n` records, or None when the bytes are not one (sorted, unique names)."""
    try:
        fields = str(data, "utf-8", "surrogatepass").split("\0")
    except UnicodeDecodeError:
        return None
    fixed = _FIXED * n
    try:
        counts = list(map(int, fields[3:fixed:_FIXED]))
    except ValueError:
        return None
    if n < 1 or len(counts) != n or min(counts) < 0:
        return None
    starts = list(itertools.accumulate(counts, initial=fixed))
    if starts[-1] != len(fields):
        return None
    block = _Block(fields, n, starts)
    if len(block.at) != n or any(map(str.__ge__, block.names, block.names[1:])):
        return None
    return block


class Reader:
    """The records of an index whose directory is at `where` (`length` bytes, `crc`) in the
    open file `fd`, its blocks within [`low`, `high`); `error` says why it is unusable (then
    it holds no record). Blocks are read with `os.pread`, when asked for."""

    def __init__(self, fd: int, where: int, length: int, crc: int, records: int, *,
                 low: int, high: int) -> None:  # fmt: skip
        self.fd = fd
        self.error: str | None = None
        self.damaged = False  # a block failed its CRC or did not decode (its records missing)
        self.firsts: list[str] = []
        self._offsets: list[int] = []
        self._lengths: list[int] = []
        self._crcs: list[int] = []
        self._counts: list[int] = []
        self._decoded: dict[int, _Block | None] = {}  # the last few blocks read
        try:
            data = os.pread(fd, length, where) if length > 0 else b""
        except OSError as e:
            self.error = f"cannot be read ({e.strerror})"
            return
        if len(data) != length or zlib.crc32(data) != crc:
            self.error = "damaged"
            return
        try:
            firsts, offsets, lengths, crcs, counts = marshal.loads(data)
        except (ValueError, EOFError, TypeError):
            self.error = "damaged"
            return
        columns = (firsts, offsets, lengths, crcs, counts)
        n = len(firsts) if type(firsts) is list else -1
        if n < 0 or any(type(c) is not list or len(c) != n for c in columns) or not (
                set(map(type, firsts)) <= {str} and set(map(type, offsets)) <= {int}
                and set(map(type, lengths)) <= {int} and set(map(type, crcs)) <= {int}
                and set(map(type, counts)) <= {int}):
            self.error = "damaged"
            return
        if n and (min(offsets) < low or max(map(int.__add__, offsets, lengths)) > high
                  or min(lengths) < 0 or min(counts) < 1 or sum(counts) != records
                  or any(map(str.__ge__, firsts, firsts[1:]))):
            self.error = "damaged"
            return
        if not n and records:
            self.error = "damaged"
            return
        self.firsts, self._offsets, self._lengths = firsts, offsets, lengths
        self._crcs, self._counts = crcs, counts

    def _block(self, b: int) -> _Block | None:
        """Block b decoded (None when it is damaged: its records are simply not there)."""
        if b in self._decoded:
            return self._decoded[b]
        try:
            data = os.pread(self.fd, self._lengths[b], self._offsets[b])
        except OSError:
            data = b""
        block = None
        if len(data) == self._lengths[b] and zlib.crc32(data) == self._crcs[b]:
            block = decode_block(data, self._counts[b])
            if block is not None and block.names[0] != self.firsts[b]:
                block = None
        if block is None:
            self.damaged = True
        if len(self._decoded) >= CACHED_BLOCKS:
            del self._decoded[next(iter(self._decoded))]  # (the oldest)
        self._decoded[b] = block
        return block

    def get(self, name: str) -> Record | None:
        """The record of `name`, or None: one bisection and (at most) one block read."""
        b = bisect.bisect_right(self.firsts, name) - 1
        if b < 0:
            return None
        block = self._decoded.get(b, _UNREAD)  # (inlined: called for every file of a run)
        if block is _UNREAD:
            block = self._block(b)
        if block is None:
            return None
        i = block.at.get(name)
        if i is None:
            return None
        return (name, block.stamps[i], block.digests[i],
                block.fields[block.starts[i]:block.starts[i + 1]])

    def __iter__(self) -> Iterator[Record]:
        """Every record, by name, a block at a time (a damaged block's are skipped)."""
        for b in range(len(self.firsts)):
            block = self._block(b)
            if block is not None:
                yield from map(block.record, range(len(block.names)))
            self._decoded.pop(b, None)  # (a full walk keeps nothing behind it)


class Writer:
    """Write records, given in order of name, as blocks through `write` (which puts bytes at
    the end of the file and says where), then the directory (`finish`)."""

    def __init__(self, write: Callable[[bytes], int]) -> None:
        self.write = write
        self.records = 0
        self._pending: list[Record] = []
        self._firsts: list[str] = []
        self._offsets: list[int] = []
        self._lengths: list[int] = []
        self._crcs: list[int] = []
        self._counts: list[int] = []

    def add(self, record: Record) -> None:
        """One more record (its name after the last one's)."""
        self._pending.append(record)
        if len(self._pending) >= BLOCK_RECORDS:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        data = encode_block(self._pending)
        self._firsts.append(self._pending[0][0])
        self._offsets.append(self.write(data))
        self._lengths.append(len(data))
        self._crcs.append(zlib.crc32(data))
        self._counts.append(len(self._pending))
        self.records += len(self._pending)
        self._pending = []

    def finish(self) -> tuple[int, int, int]:
        """Write the last block and the directory: where it is, its length and its CRC."""
        self._flush()
        data = marshal.dumps((self._firsts, self._offsets, self._lengths, self._crcs,
                              self._counts))
        return self.write(data), len(data), zlib.crc32(data)
