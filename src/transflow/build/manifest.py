"""The build manifest (`build/.cache/build-manifest.bin`): what the last build saw, per article.

At 10,000 articles a warm build must answer "nothing changed" in a few hundred milliseconds,
so the manifest is shaped for that:

- One fixed-size binary record per article (`RecordLayout`: `struct`, no parsing), located
  through one JSON list of slugs: loading 10,000 records costs a read, a checksum and one
  `json.loads` of the slugs (a few ms), and a record is decoded only when its article is
  looked at.
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

import hashlib
import json
import struct
from pathlib import Path
from typing import Any

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


class Manifest:
    """The records of the last build, read lazily by slug; changed records saved at the end."""

    def __init__(self, path: Path, key: str, layout: RecordLayout, notes: list[str]):
        self.path, self.key, self.layout = path, key, layout
        self.data = b""
        self.offset = 0
        self.slugs: list[str] = []
        self.index: dict[str, int] = {}
        self.warnings: dict[str, list[str]] = {}
        self.changed: dict[str, bytes] = {}
        self.dirty = False
        self._load(notes)

    def __len__(self) -> int:
        return len(self.index)

    def _load(self, notes: list[str]) -> None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            self.dirty = True  # (a first build, or a deleted cache: write one)
            return
        except OSError as e:
            notes.append(f"{self.path}: unreadable build manifest ({e.strerror}): every page is "
                         "checked again")
            self.dirty = True
            return
        # (Offsets into `data`, not slices: the records, 5 MB at 10,000 articles, are not copied.)
        try:
            head_end = data.index(b"\n")
            header = json.loads(data[:head_end])
            if not isinstance(header, dict) or header.get("format") != MANIFEST_FORMAT:
                raise ValueError("not a build manifest of this format")
            body = memoryview(data)[head_end + 1:]
            if header.get("blake2b") != hashlib.blake2b(body, digest_size=16).hexdigest():
                raise ValueError("damaged: its checksum does not match")
            if header.get("key") != self.key:
                notes.append(f"{self.path}: written by another transflow, or for other "
                             "settings: every page is built again")
                self.dirty = True
                return
            names_end = data.index(b"\n", head_end + 1)
            slugs, warnings = json.loads(data[head_end + 1:names_end])
            count = len(slugs)
            if (header.get("size") != self.layout.size or header.get("count") != count
                    or len(data) - names_end - 1 != count * self.layout.size
                    or not isinstance(warnings, dict)
                    or not all(isinstance(s, str) for s in slugs)):
                raise ValueError("damaged: its records do not match its header")
        except (ValueError, TypeError, UnicodeDecodeError) as e:
            notes.append(f"{self.path}: unreadable build manifest ({e}): every page is checked "
                         "again")
            self.dirty = True
            return
        self.data, self.offset = data, names_end + 1
        self.slugs, self.warnings = slugs, warnings
        self.index = {slug: i for i, slug in enumerate(slugs)}

    def record(self, slug: str) -> tuple[Any, ...] | None:
        """The values of an article's record (`RecordLayout`), or None if it has none."""
        changed = self.changed.get(slug)
        if changed is not None:
            return self.layout.struct.unpack(changed)
        i = self.index.get(slug)
        if i is None:
            return None
        return self.layout.struct.unpack_from(self.data, self.offset + i * self.layout.size)

    def put(self, slug: str, values: tuple[Any, ...] | list[Any],
            warnings: dict[str, list[str] | None]) -> None:  # fmt: skip
        """Replace an article's record and its pages' warnings (page key → lines, or None)."""
        self.changed[slug] = self.layout.struct.pack(*values)
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
        gone = [slug for slug in self.index if slug not in slugs]
        gone += [slug for slug in self.changed if slug not in slugs and slug not in self.index]
        if not gone:
            return 0
        dropped = set(gone)
        for slug in gone:
            self.changed.pop(slug, None)
        self.warnings = {key: lines for key, lines in self.warnings.items()
                         if key.partition("/")[2] not in dropped}
        kept = [i for i, slug in enumerate(self.slugs) if slug not in dropped]
        size, data, offset = self.layout.size, self.data, self.offset
        self.data = b"".join(data[offset + i * size:offset + (i + 1) * size] for i in kept)
        self.offset = 0
        self.slugs = [self.slugs[i] for i in kept]
        self.index = {slug: i for i, slug in enumerate(self.slugs)}
        self.dirty = True
        return len(gone)

    def save(self, write: Any) -> bool:
        """Write the manifest with `write(path, bytes)` if anything changed; True if written.

        The records of the last build are copied as one block and the changed ones patched in
        at their places (one article changed at 10,000: no loop over the others).
        """
        if not self.dirty:
            return False
        size, data, offset = self.layout.size, self.data, self.offset
        new = [s for s in self.changed if s not in self.index]
        slugs = self.slugs + new
        records = bytearray(data[offset:offset + len(self.slugs) * size])
        for slug, record in self.changed.items():
            i = self.index.get(slug)
            if i is not None:
                records[i * size:(i + 1) * size] = record
        records += b"".join(self.changed[s] for s in new)
        names = json.dumps([slugs, dict(sorted(self.warnings.items()))], ensure_ascii=False,
                           separators=(",", ":")).encode("utf-8")
        digest = hashlib.blake2b(names, digest_size=16)
        digest.update(b"\n")
        digest.update(records)
        header = json.dumps({"format": MANIFEST_FORMAT, "key": self.key, "size": size,
                             "count": len(slugs), "blake2b": digest.hexdigest()})
        write(self.path, b"".join((header.encode("utf-8"), b"\n", names, b"\n", records)))
        return True


def manifest_key(*parts: object) -> str:
    """What every record depends on besides its own files (code, languages, settings)."""
    return hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=16).hexdigest()
