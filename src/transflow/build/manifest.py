"""The build manifest (`build/.cache/build-manifest.bin`): what the last build saw, per article.

At 10,000 articles a warm build must answer "nothing changed" in a few hundred milliseconds,
so the manifest is shaped for that:

- One fixed-size binary record per article (`RecordLayout`: `struct`, no parsing), located
  through one JSON list of slugs: opening 10,000 records costs a checksum streamed through
  the file and one `json.loads` of the slugs (a few ms); a record is read (a block of
  `BLOCK_RECORDS` at a time, `os.pread`) and decoded only when its article is looked at, so
  the file (5 MB at 10,000 articles) is never held whole, not even when it is saved.
- A record holds, for the source and each language's catalogue, the stamp (mtime, ctime,
  size, inode) and the digest of the bytes last seen; the percent translated of each
  catalogue (for the digest it was counted from); and, for each output page, the digests
  of the inputs it was built from, the versions it links, the stamp of the file written,
  and its unit and fallback counts. A page's warnings (rare) are kept beside, by page.
- Written only when a record changed, atomically; nothing is rewritten when nothing changed.

Layout on disk: one JSON header line (format, key, record size and count, BLAKE2b of the rest),
one JSON line `[slugs, warnings]`, then the records back to back. Anything that does not match
(garbage, half a file, another format, another key: other code, languages or settings) is a
manifest not there: every page is checked again, and the next save replaces the file.
"""

from __future__ import annotations

import errno
import hashlib
import itertools
import json
import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from transflow.files import atomic_write

MANIFEST_FORMAT = 2  # bump when a record's layout changes
MISSING = bytes(16)  # the digest recorded for a file that is not there
NO_STAMP = (0, 0, 0, 0)  # never a real file's stamp (inode 0): hash the file next time
FILE_FIELDS, PCT_FIELDS, PAGE_FIELDS = 5, 3, 11


class RecordLayout:
    """The fields of one article's record, for a project's languages (source first).

    Flat, in this order (`values` indexes):
    - per file (source, then each language's catalogue): mtime_ns, ctime_ns, size, inode,
      digest (16 bytes) — `file(i)`;
    - per language: digest the percent was counted from, include_fuzzy, percent (-1: none)
      — `pct(j)`;
    - per page (source, then each language): state bits (`BUILT`, `WARNED`), source digest,
      catalogue digest, versions (a bit per language), context (fuzzy, sentences), the output's
      mtime_ns, ctime_ns, size, inode, units, fallbacks — `page(k)`.
    """

    BUILT, WARNED = 1, 2

    def __init__(self, languages: int):
        self.languages = languages
        self.mask_bytes = max(1, (languages + 7) // 8)
        fmt = ("<" + "qqqQ16s" * (languages + 1) + "16s?d" * languages
               + f"B16s16s{self.mask_bytes}sBqqqQII" * (languages + 1))
        self.struct = struct.Struct(fmt)
        self.size = self.struct.size
        self.pct0 = FILE_FIELDS * (languages + 1)
        self.page0 = self.pct0 + PCT_FIELDS * languages
        no_mask = bytes(self.mask_bytes)
        self.empty: tuple[Any, ...] = (
            (*NO_STAMP, MISSING) * (languages + 1) + (MISSING, False, -1.0) * languages
            + (0, MISSING, MISSING, no_mask, 0, *NO_STAMP, 0, 0) * (languages + 1))

    def __reduce__(self) -> tuple[type[RecordLayout], tuple[int]]:
        return RecordLayout, (self.languages,)  # (a Struct is not picklable)

    def file(self, i: int) -> int:
        """Where file i's fields start (0: the source, 1 + j: language j's catalogue)."""
        return FILE_FIELDS * i

    def pct(self, j: int) -> int:
        """Where language j's percent fields start."""
        return self.pct0 + PCT_FIELDS * j

    def page(self, k: int) -> int:
        """Where page k's fields start (0: the source page, 1 + j: language j's)."""
        return self.page0 + PAGE_FIELDS * k

    def mask(self, bits: int) -> bytes:
        """A set of languages (bit j: language j) as stored."""
        return bits.to_bytes(self.mask_bytes, "little")


# Records read (and written) at a time: a block of a few hundred KB, so a warm build that
# walks 10,000 articles in the manifest's order reads it once, a block at a time, and never
# holds the whole file (5 MB at 10,000 articles).
BLOCK_RECORDS = 256
CHUNK = 1 << 20  # bytes hashed at a time while the manifest is checked


class Manifest:
    """The records of the last build, read lazily by slug; changed records saved at the end.

    The file is checked once (its checksum streamed through) and kept open: a record is read
    from it (`os.pread`, a block at a time) when its article is looked at, so the manifest of
    a newsroom never stands in memory whole; `close` when done (`save` does not need it closed).
    """

    def __init__(self, path: Path, key: str, layout: RecordLayout, notes: list[str]):
        self.path, self.key, self.layout = path, key, layout
        self.fd: int | None = None  # the manifest file, open while records are read from it
        self.offset = 0  # where the records start in it
        self.slugs: list[str] = []  # of the records in the file, in their order
        self.index: dict[str, int] = {}
        self.warnings: dict[str, list[str]] = {}
        self.changed: dict[str, bytes] = {}
        self.dropped: set[str] = set()  # records of the file not written again (`retain`)
        self.dirty = False
        self._block = -1  # the block of records last read, and its bytes
        self._block_data = b""
        self._load(notes)

    def __len__(self) -> int:
        return len(self.index)

    def _load(self, notes: list[str]) -> None:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            self.dirty = True  # (a first build, or a deleted cache: write one)
            return
        except OSError as e:
            notes.append(f"{self.path}: unreadable build manifest ({e.strerror}): every page is "
                         "checked again")
            self.dirty = True
            return
        try:
            if self._check(fd, notes):
                self.fd, fd = fd, -1
        except OSError as e:
            notes.append(f"{self.path}: unreadable build manifest ({e.strerror}): every page is "
                         "checked again")
            self.dirty = True
        finally:
            if fd >= 0:
                os.close(fd)

    def _check(self, fd: int, notes: list[str]) -> bool:
        """Read the header and the slugs, stream the rest through its checksum; True if usable."""
        size = os.fstat(fd).st_size
        try:
            with open(fd, "rb", closefd=False) as fh:  # (buffered lines; the fd stays open)
                head = fh.readline()
                header = json.loads(head)
                if not isinstance(header, dict) or header.get("format") != MANIFEST_FORMAT:
                    raise ValueError("not a build manifest of this format")
                names = fh.readline()
                digest = hashlib.blake2b(names, digest_size=16)
                while chunk := fh.read(CHUNK):
                    digest.update(chunk)
                if not head.endswith(b"\n") or header.get("blake2b") != digest.hexdigest():
                    raise ValueError("damaged: its checksum does not match")
            if header.get("key") != self.key:
                notes.append(f"{self.path}: written by another transflow, or for other "
                             "settings: every page is built again")
                self.dirty = True
                return False
            if not names.endswith(b"\n"):
                raise ValueError("damaged: its records do not match its header")
            slugs, warnings = json.loads(names)
            count, offset = len(slugs), len(head) + len(names)
            del names
            if (header.get("size") != self.layout.size or header.get("count") != count
                    or size - offset != count * self.layout.size
                    or not isinstance(warnings, dict)
                    or not all(isinstance(s, str) for s in slugs)):
                raise ValueError("damaged: its records do not match its header")
        except (ValueError, TypeError, UnicodeDecodeError) as e:
            notes.append(f"{self.path}: unreadable build manifest ({e}): every page is checked "
                         "again")
            self.dirty = True
            return False
        self.offset = offset
        self.slugs, self.warnings = slugs, warnings
        self.index = {slug: i for i, slug in enumerate(slugs)}
        return True

    def record(self, slug: str) -> tuple[Any, ...] | None:
        """The values of an article's record (`RecordLayout`), or None if it has none."""
        changed = self.changed.get(slug)
        if changed is not None:
            return self.layout.struct.unpack(changed)
        i = self.index.get(slug)
        if i is None or slug in self.dropped:
            return None
        block, at = divmod(i, BLOCK_RECORDS)
        if block != self._block:
            self._block_data = self._read_block(block)
            self._block = block
        return self.layout.struct.unpack_from(self._block_data, at * self.layout.size)

    def _read_block(self, block: int) -> bytes:
        """The records of block `block` of the file (fewer in the last block)."""
        assert self.fd is not None
        size = self.layout.size
        first = block * BLOCK_RECORDS
        want = (min(first + BLOCK_RECORDS, len(self.slugs)) - first) * size
        data = os.pread(self.fd, want, self.offset + first * size)
        if len(data) != want:  # (the file was cut short under us since it was checked)
            raise OSError(errno.EIO, "build manifest changed while read", str(self.path))
        return data

    def put(self, slug: str, values: tuple[Any, ...] | list[Any],
            warnings: dict[str, list[str] | None]) -> None:  # fmt: skip
        """Replace an article's record and its pages' warnings (page key → lines, or None)."""
        self.changed[slug] = self.layout.struct.pack(*values)
        self.dropped.discard(slug)
        for key, lines in warnings.items():
            if lines:
                self.warnings[key] = lines
            else:
                self.warnings.pop(key, None)
        self.dirty = True

    def retain(self, slugs: set[str]) -> int:
        """Forget the records (and pages' warnings) of articles not in `slugs`; how many.

        Called after a build of every article, so that the manifest does not keep the
        records of deleted articles forever. The records are dropped at the next save.
        """
        gone = [slug for slug in self.index if slug not in slugs and slug not in self.dropped]
        gone += [slug for slug in self.changed if slug not in slugs and slug not in self.index]
        if not gone:
            return 0
        dropped = set(gone)
        for slug in gone:
            self.changed.pop(slug, None)
        self.dropped |= {slug for slug in dropped if slug in self.index}
        self.warnings = {key: lines for key, lines in self.warnings.items()
                         if key.partition("/")[2] not in dropped}
        self.dirty = True
        return len(gone)

    def _records(self, slugs: list[str]) -> Iterator[bytes]:
        """The records of `slugs` as saved: the file's (a block at a time, the changed ones
        patched in), then the new ones."""
        size, changed, dropped = self.layout.size, self.changed, self.dropped
        for block in range(0, len(self.slugs), BLOCK_RECORDS):
            data = self._read_block(block // BLOCK_RECORDS)
            names = self.slugs[block:block + BLOCK_RECORDS]
            if not dropped and not any(slug in changed for slug in names):
                yield data  # (the common case: the block as it was)
                continue
            yield b"".join(changed.get(slug) or data[k * size:(k + 1) * size]
                           for k, slug in enumerate(names) if slug not in dropped)
        yield b"".join(changed[slug] for slug in slugs[len(self.slugs) - len(dropped):])

    def save(self) -> bool:
        """Write the manifest (atomically, not durably: it only saves time) if anything
        changed; True if written.

        The records of the last build are copied a block at a time and the changed ones
        patched in at their places (one article changed at 10,000: no loop over the others);
        the blocks are read twice (the checksum, in the header, comes first), never held.
        """
        if not self.dirty:
            return False
        dropped = self.dropped
        kept = [s for s in self.slugs if s not in dropped] if dropped else self.slugs
        slugs = kept + [s for s in self.changed if s not in self.index]
        names = json.dumps([slugs, dict(sorted(self.warnings.items()))], ensure_ascii=False,
                           separators=(",", ":")).encode("utf-8")
        digest = hashlib.blake2b(names, digest_size=16)
        digest.update(b"\n")
        for data in self._records(slugs):
            digest.update(data)
        header = json.dumps({"format": MANIFEST_FORMAT, "key": self.key, "size": self.layout.size,
                             "count": len(slugs), "blake2b": digest.hexdigest()})
        atomic_write(self.path, itertools.chain(
            (header.encode("utf-8"), b"\n", names, b"\n"), self._records(slugs)), durable=False)
        return True

    def close(self) -> None:
        """Close the manifest file (records are not read after)."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def manifest_key(*parts: object) -> str:
    """What every record depends on besides its own files (code, languages, settings)."""
    return hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=16).hexdigest()
