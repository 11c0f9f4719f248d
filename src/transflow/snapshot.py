"""Snapshots: a command's whole answer, kept with the stamps of every file it was made from.

`status` and `check` of an unchanged newsroom give the answer they gave last time. A snapshot
keeps that answer with the stamp (size, mtime, ctime, inode: the `stampcache` criterion, so an
in-place save is seen) of each input, in the order the command lists them; a warm run stats
them all in C (`map(os.stat)`, `map(attrgetter)`) and compares the two lists with one `==`:
no per-file Python work at all. Only a mismatch costs more, and then the command falls back to
its per-file cache (`stampcache`) for what differs.

The racy window: a file whose ctime is within `stampcache.RACY_WINDOW_NS` of the moment the
command started could change again within the same timestamp tick, unseen: `settled` says
whether a snapshot may be kept at all.

The file (`build/.cache/<name>`):

    tfsnapshot <FORMAT> <crc32 of the body> <body bytes>\\n<body: marshal of (key, value)>

A file that does not parse, fails its CRC, is of another format or was made for another key
(whatever the client says the answer depends on besides the stamps) is absent, with a note for
`-v`. Python's `marshal` is fast and is fed only a body whose CRC matched; its value is checked
by the client before any use. Deleting a snapshot only costs time.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import marshal
import operator
import os
import struct
import zlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from transflow.project import Project

MAGIC = b"tfsnapshot"
FORMAT = 1  # bump when the layout of any client's value changes
# (size, mtime, ctime, inode) of a stat: what `stampcache.file_stamp` says, as a tuple.
STAMP = operator.attrgetter("st_size", "st_mtime_ns", "st_ctime_ns", "st_ino")
Stamp = tuple[int, int, int, int]


def stamps(paths: list[str]) -> list[Stamp] | None:
    """The stamp of every file, in order, in C; None when one cannot be stat'ed."""
    try:
        return list(map(STAMP, map(os.stat, paths)))
    except (OSError, ValueError):  # (gone, a dangling link; ValueError: a NUL in a name)
        return None


def pack(found: list[Stamp]) -> bytes:
    """Stamps as bytes (marshal version 2: no back-references, so equal stamps are equal
    bytes): a warm run compares one bytes object instead of loading thousands of tuples."""
    return marshal.dumps(found, 2)


def same_stamps(paths: Iterable[str], packed: bytes) -> bool:
    """Whether the stamps of `paths`, in order, are the ones `pack` made `packed` from: statted
    and compared a batch at a time, so 10,000 paths and stamps never stand at once.

    (`pack`'s bytes are a list header, then each stamp's own marshal bytes: version 2 makes
    no back-references, so a batch's stamps packed alone are the same bytes, in place.)
    """
    view = memoryview(packed)
    at = count = 0
    it = iter(paths)
    header = 5  # (b"[" and the count, a little-endian int32)
    while batch := list(itertools.islice(it, DIGEST_BATCH)):
        try:
            found = list(map(STAMP, map(os.stat, batch)))
        except (OSError, ValueError):
            return False
        data = b"".join(map(marshal.dumps, found, itertools.repeat(2)))
        if view[header + at:header + at + len(data)] != data:
            return False
        at += len(data)
        count += len(found)
    return header + at == len(packed) and packed[:header] == b"[" + count.to_bytes(4, "little")


def same_stamps_each(jobs: list[tuple[Iterable[str], bytes]]) -> list[bool]:
    """`same_stamps` of each (paths, packed), side by side: every job after the first in a
    forked child that answers one byte, the first here meanwhile.

    A warm `status` of a newsroom is mostly these stats (10,000 POs a language): on two cores
    two languages' stats take the time of one (47 -> 35 ms at 10,000 articles, the fork
    included). Threads do not help: each `os.stat` gives up the GIL and waits to get it
    back, and two threads took longer than one. One core, no `fork`, a fork or pipe that
    fails, or a child that does not answer: that job is done here.
    """
    from transflow.processes import usable_cpus

    if len(jobs) < 2 or not hasattr(os, "fork") or usable_cpus() < 2:
        return [same_stamps(paths, packed) for paths, packed in jobs]
    children: list[tuple[int, int] | None] = []
    for paths, packed in jobs[1:]:
        children.append(_fork_same_stamps(paths, packed))
    answers = [same_stamps(*jobs[0])]
    for job, child in zip(jobs[1:], children, strict=True):
        said = b""
        if child is not None:
            pid, fd = child
            try:
                said = os.read(fd, 1)
            except OSError:
                pass
            finally:
                os.close(fd)
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)
        answers.append(said == b"1" if said else same_stamps(*job))
    return answers


def _fork_same_stamps(paths: Iterable[str], packed: bytes) -> tuple[int, int] | None:
    """A child answering `same_stamps(paths, packed)` as b"1" or b"0" on a pipe: (its pid,
    the pipe's reading end), or None when it could not be started."""
    try:
        fd, out = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(fd)
        os.close(out)
        return None
    if pid == 0:  # the child: one answer, then out without Python's exit handlers
        code = 1
        try:
            os.close(fd)
            os.write(out, b"1" if same_stamps(paths, packed) else b"0")
            code = 0
        finally:
            os._exit(code)
    os.close(out)
    return pid, fd


def changed_stamps(paths: Iterable[str],
                   packed: bytes) -> tuple[bytes, list[int], int, dict[int, Stamp]] | None:
    """Which of `paths` have a stamp other than the one `pack` made `packed` from, a batch at
    a time: (the new stamps packed, the indexes of those that changed, the newest ctime, the
    new stamps of those that changed by index); None when a path cannot be stat'ed or `packed` is not `pack`'s for as many paths.

    (What `same_stamps` does, going on past a difference: an old stamp that differs is
    decoded alone to skip it. 10,000 stamps are never held as tuples, old or new.)
    """
    view = memoryview(packed)
    header = 5  # (b"[" and the count, a little-endian int32)
    at = header
    changed: list[int] = []
    seen: dict[int, Stamp] = {}
    pieces: list[bytes] = []
    newest = count = 0
    it = iter(paths)
    while batch := list(itertools.islice(it, DIGEST_BATCH)):
        try:
            found = list(map(STAMP, map(os.stat, batch)))
        except (OSError, ValueError):
            return None
        newest = max(newest, max(map(operator.itemgetter(2), found)))
        dumped = list(map(marshal.dumps, found, itertools.repeat(2)))
        data = b"".join(dumped)
        pieces.append(data)
        if view[at:at + len(data)] == data:  # (the common case: the whole batch the same)
            at += len(data)
            count += len(found)
            continue
        for stamp, new in zip(found, dumped, strict=True):
            if view[at:at + len(new)] != new:
                try:
                    old = marshal.loads(view[at:])  # (reads one value, ignores the rest)
                except (ValueError, EOFError, TypeError):
                    return None
                if type(old) is not tuple or len(old) != 4 or not all(
                        type(x) is int for x in old):
                    return None
                changed.append(count)
                seen[count] = stamp
                at += len(marshal.dumps(old, 2))
            else:
                at += len(new)
            count += 1
    if at != len(packed) or packed[:header] != b"[" + count.to_bytes(4, "little"):
        return None
    return b"[" + count.to_bytes(4, "little") + b"".join(pieces), changed, newest, seen


def unpack(data: bytes) -> list[Stamp] | None:
    """The stamps `pack` made, or None when `data` is not that."""
    try:
        found = marshal.loads(data)
    except (ValueError, EOFError, TypeError):
        return None
    if type(found) is not list or not all(
            type(s) is tuple and len(s) == 4 and all(type(x) is int for x in s) for s in found):
        return None
    return found


# A stamp packed for `stamps_digest`: size, mtime, ctime (signed), inode (unsigned).
_PACKED = struct.Struct("<qqqQ")
DIGEST_BATCH = 2048  # files statted at a time by `stamps_digest` (their stamps held at once)


def stamps_digest(groups: Iterable[tuple[str, Iterable[str]]]) -> tuple[bytes, int, int] | None:
    """The stamps of many files as one digest, in constant memory: (BLAKE2b of the packed
    stamps in order, the newest ctime, how many files); None when one cannot be stat'ed.

    `groups` are (folder, names in it): each folder is opened once and its files statted by
    name there (`dir_fd`), a batch at a time in C, so a newsroom's 30,000 inputs never stand
    as 30,000 paths and tuples at once (`stamps` holds them all: for the few of `status`).
    Two runs give the same digest exactly when every stamp is the same, in the same order.
    """
    # (Imported here: hashlib loads OpenSSL, 3.5 MB, which `check ARTICLE` never needs.)
    from hashlib import blake2b

    digest = blake2b(digest_size=20)
    newest = count = 0
    pack = _PACKED.pack
    for folder, names in groups:
        try:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        except (OSError, ValueError):
            return None
        try:
            stat_at = functools.partial(os.stat, dir_fd=fd)
            it = iter(names)
            while batch := list(itertools.islice(it, DIGEST_BATCH)):
                try:
                    found = list(map(STAMP, map(stat_at, batch)))
                except (OSError, ValueError):
                    return None
                digest.update(b"".join(itertools.starmap(pack, found)))
                newest = max(newest, max(map(operator.itemgetter(2), found)))
                count += len(found)
        finally:
            os.close(fd)
    return digest.digest(), newest, count


def names_digest(names: Iterable[str]) -> bytes:
    """A digest of a list of names (NUL-separated: no file name holds a NUL), in constant
    memory: a snapshot compares it instead of keeping the whole list."""
    from hashlib import blake2b

    digest = blake2b(digest_size=20)
    it = iter(names)
    while batch := list(itertools.islice(it, DIGEST_BATCH)):
        digest.update("\0".join(batch).encode("utf-8", "surrogatepass") + b"\0")
    return digest.digest()


class Stamps:
    """A list of stamps by slot, packed (32 bytes a stamp, not a tuple of four ints: 200 bytes;
    a cold status holds one per catalogue, 20,000 at 10,000 articles); None: not known."""

    __slots__ = ("_data", "_known")

    def __init__(self, n: int) -> None:
        self._data = bytearray(_PACKED.size * n)
        self._known = bytearray(n)  # 1 where a stamp is set

    def __len__(self) -> int:
        return len(self._known)

    def __setitem__(self, i: int, stamp: Stamp | None) -> None:
        if stamp is None:
            self._known[i] = 0
        else:
            _PACKED.pack_into(self._data, i * _PACKED.size, *stamp)
            self._known[i] = 1

    def __getitem__(self, i: int) -> Stamp | None:
        return (cast("Stamp", _PACKED.unpack_from(self._data, i * _PACKED.size))
                if self._known[i] else None)

    def set_from(self, first: int, found: Iterable[Stamp]) -> None:
        """Set the slots from `first` on, one per stamp (in C but for the call)."""
        data = b"".join(itertools.starmap(_PACKED.pack, found))
        at = first * _PACKED.size
        self._data[at:at + len(data)] = data
        n = len(data) // _PACKED.size
        self._known[first:first + n] = b"\1" * n

    def complete(self) -> bool:
        """Whether every slot has a stamp."""
        return 0 not in self._known

    def newest_ctime(self) -> int:
        """The newest ctime of the stamps set (0: none)."""
        return max(map(operator.itemgetter(2), _PACKED.iter_unpack(self._data)), default=0)

    def pack(self) -> bytes:
        """`pack` of every stamp (all set), made a batch at a time: the same bytes."""
        out = [b"[" + len(self._known).to_bytes(4, "little")]
        view = memoryview(self._data)
        step = DIGEST_BATCH * _PACKED.size
        for at in range(0, len(view), step):
            out.append(b"".join(map(marshal.dumps, _PACKED.iter_unpack(view[at:at + step]),
                                    itertools.repeat(2))))
        return b"".join(out)


def settled_ns(newest_ctime_ns: int, started_ns: int) -> bool:
    """`settled`, given the newest ctime of the inputs."""
    from transflow.stampcache import RACY_WINDOW_NS

    return newest_ctime_ns < started_ns - RACY_WINDOW_NS


def settled(found: list[Stamp], started_ns: int) -> bool:
    """True when no file changed within the racy window before `started_ns` (when the command
    started, before its first stat): only then can an unchanged stamp vouch for the content."""
    from transflow.stampcache import RACY_WINDOW_NS

    newest = max(map(operator.itemgetter(2), found), default=0)
    return newest < started_ns - RACY_WINDOW_NS


def load(path: str, key: Any, notes: list[str], label: str) -> Any:
    """The value saved under `key`, or None (absent, damaged, another key: a note says which)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return None
    except OSError as e:
        notes.append(f"{label} {path}: cannot be read ({e.strerror}); not used")
        return None
    end = data.find(b"\n")
    parts = data[:end].split(b" ") if end > 0 else []
    why = None
    if len(parts) != 4 or parts[0] != MAGIC:
        why = "damaged"
    else:
        try:
            fmt, crc, length = (int(p) for p in parts[1:])
        except ValueError:
            fmt = crc = length = -1
        body = memoryview(data)[end + 1:]
        if fmt != FORMAT:
            why = "of another format" if fmt >= 0 else "damaged"
        elif length != len(body) or crc != zlib.crc32(body):
            why = "damaged"
        else:
            try:
                saved_key, value = marshal.loads(body)
            except (ValueError, EOFError, TypeError):
                why = "damaged"
            else:
                if saved_key == key:
                    return value
                why = "made for other inputs"
    notes.append(f"{label} {path}: {why}; not used")
    return None


def save(path: str, key: Any, value: Any) -> None:
    """Write the snapshot through a temporary and a rename; never fail the command over it
    (a read-only checkout, a folder in its place: left alone)."""
    from pathlib import Path

    from transflow.files import stage_file

    if os.path.isdir(path) and not os.path.islink(path):
        return  # someone's folder: leave it alone
    try:
        body = marshal.dumps((key, value))
    except ValueError:  # (a value marshal cannot write: no snapshot, only slower next time)
        return
    head = b"%s %d %d %d\n" % (MAGIC, FORMAT, zlib.crc32(body), len(body))
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = stage_file(Path(path), (head, body), durable=False)  # (not joined: 2 MB)
    except OSError:
        return
    try:
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def remove(path: str) -> None:
    """Delete a snapshot that no longer holds (a folder in its place is left alone)."""
    with contextlib.suppress(OSError):
        if not os.path.isdir(path) or os.path.islink(path):
            os.remove(path)


ARTICLES_FILE = "articles.snapshot"


def project_articles(project: Project) -> list[str]:
    """`Project.articles()` (every article slug under `source_dir`), answered from
    `build/.cache/articles.snapshot` when no folder of `source_dir` changed.

    Adding, removing or renaming a file changes its folder's stamp, so the stamps of the
    folders listed last time (kept only when settled since before the listing) vouch for the
    list of slugs; anything else lists them again, exactly as `Project.articles` does.
    """
    import time

    from transflow.files import find_relative
    from transflow.project import SOURCE_SUFFIXES

    path = os.path.join(project.cache_dir, ARTICLES_FILE)
    key = ("articles", os.fspath(project.source_dir), SOURCE_SUFFIXES)
    value = load(path, key, [], "articles snapshot")
    if value is not None:
        try:
            folders, found, slugs = value
            if (type(folders) is list and all(type(f) is str for f in folders)
                    and type(slugs) is list and all(type(s) is str for s in slugs)
                    and found == stamps(folders)):
                return slugs
        except (TypeError, ValueError):
            pass
    if not project.source_dir.is_dir():
        return project.articles()  # (its error for a missing source_dir)
    started = time.time_ns()
    listed: list[str] = []
    # (As `Project.articles`: the slug of `a/b.html` is `a/b`.)
    slugs = sorted({rel.rsplit(".", 1)[0] for rel in find_relative(
        project.source_dir, SOURCE_SUFFIXES, folders=listed)})  # fmt: skip
    found = stamps(listed)
    if found is not None and settled(found, started):
        save(path, key, (listed, found, slugs))
    else:
        remove(path)
    return slugs
