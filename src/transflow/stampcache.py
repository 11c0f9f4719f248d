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
    body: NUL-separated fields, first four per record (name, stamp, digest, payload field
          count), then every record's payload fields, in record order

so a warm run is one read, one CRC, one UTF-8 decode and one `split`, all in C: no JSON, no
per-field parsing. The payload is a list of strings the client encodes (NUL is the one
character no field may hold: such a record is simply not kept). A file that does not parse,
fails its CRC, is of another format or was written for another key (the glossary, project
settings, transflow's code: whatever the client says every record depends on) is an empty
cache, with a note for `-v`; the next save replaces it (a folder in its place is left alone).
Nothing is written when nothing changed. Deleting the cache only costs time.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import time
import zlib

MAGIC = "stampcache"
FORMAT = 1  # bump when the layout changes
# A file changed this close to the moment it was recorded may change again within the same
# timestamp tick without changing size: its record is re-hashed next time (see the docstring).
RACY_WINDOW_NS = 2_000_000_000
_FIXED = 4  # name, stamp, digest, payload field count
FACT = "\x01"  # the start of a fact's name (`store_fact`): no file name starts so


def file_stamp(st: os.stat_result) -> str:
    """What identifies a file's content without reading it: size, mtime, ctime and inode."""
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"


def digest(data: bytes) -> str:
    """The content digest records are compared by (BLAKE2b, 128 bits)."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def file_digest(path: str) -> str:
    """`digest` of a file's bytes (OSError when it cannot be read)."""
    with open(path, "rb") as fh:
        return digest(fh.read())


class StampCache:
    """The records of one cache file, loaded at once; new and refreshed ones saved at the end.

    `root` is prepended to a record's name (a path relative to the project root, or absolute)
    to find its file when `save` drops the records of files that no longer exist.
    """

    def __init__(self, path: str, key: str, *, label: str, redo: str, root: str = "") -> None:
        self.path = path
        # (A digest: the key may be long, or hold any character; the header is one line.)
        self.key = digest(key.encode("utf-8", "surrogatepass"))
        self.label = label  # how -v notes name this cache ("status cache", "check cache")
        self.redo = redo  # what the command does instead ("counting again")
        self.root = root
        self.hits = 0
        self.notes: list[str] = []
        self.dirty = False
        self._index: dict[str, int] = {}  # name -> record number in the loaded file
        self._stamps: list[str] = []
        self._digests: list[str] = []
        self._starts: list[int] = []  # payload slice of record i: fields[starts[i]:starts[i+1]]
        self._fields: list[str] = []
        self._changed: dict[str, tuple[str, str, list[str]]] = {}  # name -> stamp, digest, payload
        self._load()

    # --- reading -------------------------------------------------------------------------

    def _load(self) -> None:
        try:
            with open(self.path, "rb") as fh:
                data = fh.read()
        except FileNotFoundError:
            return
        except OSError as e:
            self.notes.append(f"{self.label} {self.path}: cannot be read ({e.strerror}); "
                              f"{self.redo}")  # fmt: skip
            return
        head, newline, body = data.partition(b"\n")
        del data
        why = self._parse(head, newline, body)
        if why:
            self.notes.append(f"{self.label} {self.path}: {why}; {self.redo}")
            self._index, self._fields = {}, []

    def _parse(self, head: bytes, newline: bytes, body: bytes) -> str | None:
        """Load the records; the reason the file is unusable, or None."""
        parts = head.split(b" ", 5)
        if len(parts) != 6 or parts[0] != MAGIC.encode() or not newline:
            return "damaged"
        try:
            fmt, records, crc, length = (int(p) for p in parts[1:5])
        except ValueError:
            return "damaged"
        if fmt != FORMAT:
            return "of another format"
        if length != len(body) or crc != zlib.crc32(body):
            return "damaged"
        if parts[5] != self.key.encode():
            return "the inputs every record depends on changed (glossary, settings, transflow)"
        if records == 0:
            return None
        try:
            fields = body.decode("utf-8", "surrogatepass").split("\0")
        except UnicodeDecodeError:
            return "damaged"
        fixed = _FIXED * records
        try:
            counts = list(map(int, fields[3:fixed:_FIXED]))
        except ValueError:
            return "damaged"
        starts = list(itertools.accumulate(counts, initial=fixed))
        if len(counts) != records or starts[-1] != len(fields):
            return "damaged"
        names = fields[0:fixed:_FIXED]
        self._index = dict(zip(names, range(records), strict=True))
        self._stamps = fields[1:fixed:_FIXED]
        self._digests = fields[2:fixed:_FIXED]
        self._starts = starts
        self._fields = fields
        return None

    def fact(self, name: str) -> list[str] | None:
        """A recorded fact that is not about one file (it depends on the key only), or None."""
        changed = self._changed.get(name)
        if changed is not None:
            return changed[2]
        i = self._index.get(name)
        return None if i is None else self._fields[self._starts[i]:self._starts[i + 1]]

    def store_fact(self, name: str, payload: list[str]) -> None:
        """Record a fact under a `name` that starts with U+0001 (no file's name does)."""
        if not name.startswith(FACT) or any("\0" in field for field in payload):
            return
        if self.fact(name) != payload:
            self._changed[name] = ("", "", payload)
            self.dirty = True

    def names(self) -> set[str]:
        """The names of the files that have a record (loaded or made in this run)."""
        return self._index.keys() | self._changed.keys()

    def lookup(self, name: str, st: os.stat_result, path: str) -> list[str] | None:
        """The payload recorded for a file whose content is unchanged, or None (compute it).

        `st` is the file's stat, taken before it is read; `path` where to read it to compare
        digests when its stamp changed.
        """
        changed = self._changed.get(name)
        if changed is not None:  # (recorded earlier in this run)
            stamp, recorded, payload = changed
        else:
            i = self._index.get(name)
            if i is None:
                return None
            stamp = self._stamps[i]
            if stamp and stamp == file_stamp(st):
                self.hits += 1
                return self._fields[self._starts[i]:self._starts[i + 1]]
            recorded = self._digests[i]
            payload = self._fields[self._starts[i]:self._starts[i + 1]]
        try:
            current = file_digest(path)
        except OSError:
            return None  # gone or unreadable now: computing it reports what is wrong
        if current != recorded:
            return None
        self._record(name, st, current, payload)  # the same bytes: refresh the stamp
        self.hits += 1
        return payload

    # --- writing -------------------------------------------------------------------------

    def store(self, name: str, st: os.stat_result, content_digest: str,
              payload: list[str]) -> None:  # fmt: skip
        """Record what was computed from a file whose bytes have `content_digest` (stat `st`
        taken before reading them). A record that cannot be written (a NUL) is not kept."""
        if "\0" in name or "\n" in name or any("\0" in field for field in payload):
            return
        self._record(name, st, content_digest, payload)

    def _record(self, name: str, st: os.stat_result, content_digest: str,
                payload: list[str]) -> None:  # fmt: skip
        # A file changed within the racy window keeps no stamp: hashed again next time.
        settled = st.st_ctime_ns < time.time_ns() - RACY_WINDOW_NS
        stamp = file_stamp(st) if settled else ""
        i = self._index.get(name)
        if (i is not None and name not in self._changed and self._stamps[i] == stamp
                and self._digests[i] == content_digest
                and self._fields[self._starts[i]:self._starts[i + 1]] == payload):
            return  # (still racy, nothing new: no reason to rewrite the file)
        self._changed[name] = (stamp, content_digest, payload)
        self.dirty = True

    def save(self) -> None:
        """Write the cache if anything changed; never fail the command over it.

        Records of files that no longer exist are dropped then (only when something changed,
        so a warm run does not pay for it).
        """
        if not self.dirty:
            return
        root = self.root
        names, stamps, digests, counts, payloads = [], [], [], [], []
        for name in sorted(self._index.keys() | self._changed.keys()):
            changed = self._changed.get(name)
            if changed is not None:
                stamp, recorded, payload = changed
            else:
                i = self._index[name]
                if not name.startswith(FACT) and not os.path.exists(
                        name if os.path.isabs(name) else root + name):
                    continue
                stamp, recorded = self._stamps[i], self._digests[i]
                payload = self._fields[self._starts[i]:self._starts[i + 1]]
            names.append(name)
            stamps.append(stamp)
            digests.append(recorded)
            counts.append(str(len(payload)))
            payloads.append(payload)
        fixed = [field for row in zip(names, stamps, digests, counts, strict=True)
                 for field in row]  # fmt: skip
        body = "\0".join(itertools.chain(fixed, itertools.chain.from_iterable(payloads)))
        data = body.encode("utf-8", "surrogatepass")
        head = f"{MAGIC} {FORMAT} {len(names)} {zlib.crc32(data)} {len(data)} {self.key}\n"
        try:
            if os.path.isdir(self.path) and not os.path.islink(self.path):
                return  # someone's folder: leave it alone (the cache is only a cache)
            from pathlib import Path

            from transflow.files import atomic_write

            atomic_write(Path(self.path), head.encode("utf-8", "surrogatepass") + data,
                         durable=False)
        except OSError:
            pass  # a read-only checkout: the command still works, only slower next time
        self.dirty = False
