"""File discovery, atomic writes and "write only if changed"."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import NoReturn

from transflow.errors import ConflictError, InputError

# What to tell the user when the OS refuses a write: the errno, then advice naming the folder.
OS_ERROR_ADVICE = {
    errno.ENOSPC: "no space left on the device: free some space and run the command again",
    errno.EDQUOT: "disk quota exceeded: free some space and run the command again",
    errno.EACCES: "permission denied: check the permissions of {folder}",
    errno.EPERM: "operation not permitted: check the permissions of {folder}",
    errno.EROFS: "{folder} is on a read-only file system",
    errno.ENOTDIR: "a file stands where a folder is expected in the path",
    errno.EISDIR: "a folder stands where the file should be written",
}


def write_error(error: OSError, path: Path | str, action: str = "cannot write") -> InputError:
    """A one-line error for an OS failure on `path`, the file the user knows (not a temporary).

    >>> write_error(OSError(errno.ENOSPC, "No space left on device"), Path("locales/ru/a.po")).format()
    'locales/ru/a.po: cannot write: no space left on the device: free some space and run the command again'
    """
    folder = Path(path).parent
    advice = OS_ERROR_ADVICE.get(error.errno or 0)
    what = advice.format(folder=f"{folder}/") if advice else (error.strerror or str(error))
    return InputError(f"{action}: {what}" if action else what, path)


# mkstemp's names for our temporaries: `.<target name>.<8 random characters><suffix>`.
_TEMPORARY_RE = re.compile(r"^\.(?P<name>.+)\.[A-Za-z0-9_]{8}(?:\.[a-z]+)?\.tmp$")


def user_path(filename: str | os.PathLike[str]) -> str:
    """The file a user knows for `filename`: a temporary of ours names the file it replaces.

    >>> user_path("/p/locales/ru/.news.po.md1ro_zc.extract.tmp")
    '/p/locales/ru/news.po'
    >>> user_path("build/ka/news.html")
    'build/ka/news.html'
    """
    text = os.fspath(filename)
    folder, _, name = text.rpartition("/")
    match = _TEMPORARY_RE.match(name)
    if match is None:
        return text
    return f"{folder}/{match['name']}" if folder else match["name"]


def describe_os_error(error: OSError, *, verbose: bool = False) -> str:
    """`path: what went wrong: what to do` for an OS error that reached the command line."""
    if error.filename is None:
        advice = OS_ERROR_ADVICE.get(error.errno or 0)
        return advice.format(folder="the project's folders") if advice else str(error.strerror or error)
    shown = user_path(error.filename)
    with contextlib.suppress(ValueError):
        if os.path.isabs(shown):
            shown = os.fspath(Path(shown).relative_to(Path.cwd()))
    if verbose and shown != os.fspath(error.filename):
        shown += f" (temporary {os.fspath(error.filename)})"
    return write_error(error, shown, "").format()


def _naming(error: OSError, path: Path) -> OSError:
    """The same OS error, naming `path` (the file the user knows) instead of a temporary."""
    renamed = OSError(error.errno, error.strerror or str(error), os.fspath(path))
    renamed.__cause__ = error
    return renamed


def stage_file(path: Path, data: bytes | Iterable[bytes], *, suffix: str = ".tmp",
               durable: bool = True) -> str:  # fmt: skip
    """Write `data` to a new temporary `.<name>.<random><suffix>` beside `path`; return its name.

    `data` may be pieces (an iterable of bytes), written as they come: a big file is then
    never whole in memory.

    The temporary gets the permission bits `path` has (or will have). On failure nothing is
    left behind and the `OSError` names `path` (the command line turns it into one line with
    what to do: `describe_os_error`); callers that treat a write as optional (caches) can
    still catch `OSError`.
    """
    import tempfile  # (here: it imports shutil, and most runs of a read-only command write nothing)

    folder = path.parent
    try:
        # The folder is made only when the temporary cannot be: one `mkdir` per file was
        # thousands in a cold extract, each locking the folder's parent.
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=folder)
    except OSError:
        try:  # (as before: an error names what the folder's making says)
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=folder)
        except OSError as e:
            raise _naming(e, path) from e
    try:
        with os.fdopen(fd, "wb") as fh:
            if isinstance(data, bytes):
                fh.write(data)
            else:
                for piece in data:
                    fh.write(piece)
            fh.flush()
            if durable:  # (build outputs, which can be rebuilt, skip the costly fsync)
                os.fsync(fh.fileno())
            os.fchmod(fh.fileno(), file_mode(path))  # (the open file: no second path lookup)
    except BaseException as e:
        _discard(tmp, e, path)
    return tmp


def atomic_write(path: Path, data: bytes | str | Iterable[bytes], *,
                 durable: bool = True) -> None:  # fmt: skip
    """Write `data` (or its pieces) to `path` through a temporary file in the same folder and
    `os.replace`.

    A crash at any moment leaves either the old file or the new one, never half of it; an OS
    error (disk full, permissions) is an `OSError` naming `path`, never the temporary.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    tmp = stage_file(path, data, durable=durable)
    try:
        os.replace(tmp, path)
    except BaseException as e:
        _discard(tmp, e, path)


def _discard(tmp: str, error: BaseException, path: Path) -> NoReturn:
    """Remove our temporary after a failure and raise again (an OS error naming `path`)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    if isinstance(error, OSError):
        raise _naming(error, path) from error
    raise error


# --- replacing a file that someone else may be saving -------------------------------------

_RENAME_NOREPLACE = 1  # <linux/fs.h>
_RENAME_EXCHANGE = 2
_renameat2: Callable[..., int] | None = None
_renameat2_known = False


def _load_renameat2() -> Callable[..., int] | None:
    """glibc's `renameat2` (Linux 3.15+, glibc 2.28+), or None where the platform lacks it."""
    global _renameat2, _renameat2_known
    if not _renameat2_known:
        _renameat2_known = True
        if sys.platform.startswith("linux"):
            import ctypes

            try:
                libc = ctypes.CDLL(None, use_errno=True)
                func = libc.renameat2
            except (OSError, AttributeError):
                func = None
            if func is not None:
                func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                                 ctypes.c_uint]
                func.restype = ctypes.c_int
                _renameat2 = func
    return _renameat2


def _rename2(src: str, dst: str, flags: int) -> bool:
    """renameat2(src, dst, flags); False when the call or the flag is unsupported here."""
    import ctypes

    func = _load_renameat2()
    if func is None:
        return False
    AT_FDCWD = -100
    if func(AT_FDCWD, os.fsencode(src), AT_FDCWD, os.fsencode(dst), flags) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):  # old kernel, or a file system
        return False                                         # (e.g. some FUSE) without it
    raise OSError(err, os.strerror(err), dst)


# Called between the last look at the file and the exchange: tests force a save into the window.
_before_exchange: Callable[[Path], None] | None = None


def replace_if_unchanged(tmp: str, path: Path, expected: bytes | str | None, *,
                         digest: Callable[[bytes], str] | None = None,
                         displaced: list[str] | None = None,
                         _hook: bool = True) -> bytes | None:
    """Put the staged file `tmp` in place of `path` unless `path` no longer holds `expected`.

    `expected` is what the caller read and merged (None: the file did not exist), or its
    `digest(...)` when a digest function is given. Returns None
    when the staged file is in place. Otherwise `path` keeps what someone saved meanwhile, its
    current bytes are returned and `tmp` is gone: the caller merges them and tries again.

    On Linux there is no window: the files are exchanged atomically
    (`renameat2(RENAME_EXCHANGE)`), what came out is compared with `expected`, and a save that
    landed in between is exchanged back. Where renameat2 is missing (other systems, old
    kernels, some file systems) the file is compared and then replaced, which leaves the
    instant between the two open (SECURITY.md).

    With `displaced`, the old file that came out of an exchange (what `path` held: now under
    `tmp`'s name, a staged temporary's) is appended there for the caller to delete, rather
    than deleted here: deleting a file frees its blocks, which waits on the file system's
    journal (most of the time of replacing thousands of catalogues, one after the other), so
    a caller replacing many deletes them afterwards, beside other work (`delete_files`).
    """
    if _hook and _before_exchange is not None:
        _before_exchange(path)
    name = os.fspath(path)
    if expected is None:
        try:
            placed = _rename2(tmp, name, _RENAME_NOREPLACE)
        except FileExistsError:
            placed = False
        else:
            if not placed and not os.path.lexists(name):
                os.replace(tmp, name)  # (no renameat2 here: the ordinary way)
                placed = True
        if placed:
            return None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        return read_bytes(path)
    with open(tmp, "rb") as fh:
        staged = fh.read()
    try:
        exchanged = _rename2(tmp, name, _RENAME_EXCHANGE)
    except FileNotFoundError:  # removed meanwhile: write it as a new file
        return replace_if_unchanged(tmp, path, None, _hook=False)

    def unchanged(data: bytes) -> bool:
        return (digest(data) if digest is not None else data) == expected

    if not exchanged:
        try:
            current = path.read_bytes()
        except FileNotFoundError:
            return replace_if_unchanged(tmp, path, None, _hook=False)
        except OSError as e:
            raise InputError(f"cannot read: {e.strerror}", path) from e
        if not unchanged(current):
            os.unlink(tmp)
            return current
        os.replace(tmp, name)
        return None
    # `tmp` now holds what was at `path` at the instant of the exchange.
    with open(tmp, "rb") as fh:
        old = fh.read()
    if unchanged(old):
        if displaced is not None:
            displaced.append(tmp)
        else:
            os.unlink(tmp)
        return None
    # A save landed in the window: give it its place back. If yet another save replaced ours
    # in the meantime, that newer one is what comes out now: it goes back in place instead.
    _rename2(tmp, name, _RENAME_EXCHANGE)
    with open(tmp, "rb") as fh:
        out = fh.read()
    if out != staged:
        _rename2(tmp, name, _RENAME_EXCHANGE)  # the newest save in place; the older one drops
    os.unlink(tmp)
    return read_bytes(path)


DELETE_THREADS = 16  # deleting a file waits on the journal: many at once share the waits


def delete_files(names: list[str]) -> Callable[[], None]:
    """Delete these files in background threads; the function returned waits until they are
    gone (call it before the project lock is released) and raises the first error met. A file
    already gone is skipped.

    What a run displaced (`replace_if_unchanged(displaced=...)`): deleted while the run does
    its other work, not one by one in its commit. A run killed first leaves them under their
    temporary names, which the next run removes as stale (`writing`).
    """
    if not names:
        return nothing_to_wait
    import threading

    pending = iter(names)  # (shared: `next` on a list's iterator is one step under the GIL)
    errors: list[OSError] = []

    def work() -> None:  # (plain threads, no futures: a future per file is ~2 KB)
        for name in pending:
            try:
                os.unlink(name)
            except FileNotFoundError:
                pass
            except OSError as e:
                errors.append(e)

    threads = [threading.Thread(target=work, name="transflow-delete", daemon=True)
               for _ in range(min(DELETE_THREADS, len(names)))]  # fmt: skip
    for thread in threads:
        thread.start()

    def wait() -> None:
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]

    return wait


def nothing_to_wait() -> None:
    """Nothing was deleted in the background: nothing to wait for (`delete_files` of none)."""


def remove_stale_temporaries(folder: Path, patterns: tuple[str, ...], older_than_ns: int) -> list[Path]:
    """Delete this command's own temporaries left by a killed earlier run; return them.

    Only files matching `patterns` (globs under `folder`) and last modified before
    `older_than_ns` (when this run took the project lock) are removed, so a temporary that a
    concurrent writer is filling right now is never touched.
    """
    removed: list[Path] = []
    for pattern in patterns:
        for path in folder.glob(pattern):
            try:
                if path.lstat().st_mtime_ns < older_than_ns and not path.is_dir():
                    path.unlink()
                    removed.append(path)
            except OSError:
                continue
    return removed


def file_mode(path: Path) -> int:
    """The permission bits to give a rewritten file: the old file's, or 0o644."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        return 0o644


def write_if_changed(path: Path, data: bytes | str, *, durable: bool = True) -> bool:
    """Atomically write `data` unless `path` already holds exactly it; return True if written."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", path) from e
    atomic_write(path, data, durable=durable)
    return True


def read_bytes(path: Path) -> bytes:
    """Read a file, turning OS errors into a one-line `InputError`."""
    try:
        return path.read_bytes()
    except FileNotFoundError as e:
        raise InputError("no such file", path) from e
    except IsADirectoryError as e:
        raise InputError("is a folder, not a file", path) from e
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", path) from e


def file_stamp(path: Path) -> tuple[int, int] | None:
    """(mtime_ns, size) of a file, or None if it does not exist: detects a concurrent save."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size)


def find_relative(root: Path, suffix: str | tuple[str, ...], *,
                  folders: list[str] | None = None) -> list[str]:  # fmt: skip
    """Every file under `root` ending in `suffix`, as sorted POSIX paths relative to `root`.

    Hidden files and folders are skipped; symlinked folders are not followed (no loops).
    `folders`, when given, receives the path of every folder listed (`root` first).

    Thousands of articles are listed on every run, so this walks with `os.scandir` on strings.
    """
    found: list[str] = []
    stack = [""]
    base = os.fspath(root)
    while stack:
        rel = stack.pop()
        folder = os.path.join(base, rel) if rel else base
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            continue
        if folders is not None:
            folders.append(folder)
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            path = f"{rel}/{name}" if rel else name
            if entry.is_dir(follow_symlinks=False):  # as os.walk: no symlink loops
                stack.append(path)
            elif name.endswith(suffix):
                found.append(path)
    found.sort()
    return found


@contextlib.contextmanager
def project_lock(lock_path: Path) -> Iterator[int]:
    """Hold an exclusive, non-blocking lock for a writing command; a second run fails clearly.

    Yields the time (ns) the lock was taken: a temporary of ours older than that is stale.
    """
    import fcntl

    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            raise ConflictError(
                "another transflow command is writing this project; try again when it ends",
                lock_path,
            ) from e
        yield time.time_ns()
    finally:
        os.close(fd)


@contextlib.contextmanager
def writing(lock_path: Path, folder: Path, stale: tuple[str, ...]) -> Iterator[None]:
    """Hold the project lock and first remove, under it, this command's own temporaries that
    a killed earlier run left in `folder` (globs `stale`, older than the lock)."""
    with project_lock(lock_path) as since:
        remove_stale_temporaries(folder, stale, since)
        yield
