"""File discovery, atomic writes and "write only if changed"."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from transflow.errors import ConflictError, InputError


def atomic_write(path: Path, data: bytes | str, *, durable: bool = True) -> None:
    """Write `data` to `path` through a temporary file in the same folder and `os.replace`.

    A crash at any moment leaves either the old file or the new one, never half of it.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if durable:  # (build outputs, which can be rebuilt, skip the costly fsync)
                os.fsync(fh.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


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


def find_relative(root: Path, suffix: str | tuple[str, ...]) -> list[str]:
    """Every file under `root` ending in `suffix`, as sorted POSIX paths relative to `root`.

    Hidden files and folders are skipped; symlinked folders are not followed (no loops).

    Thousands of articles are listed on every run, so this walks with `os.scandir` on strings.
    """
    found: list[str] = []
    stack = [""]
    base = os.fspath(root)
    while stack:
        rel = stack.pop()
        try:
            entries = list(os.scandir(os.path.join(base, rel) if rel else base))
        except (FileNotFoundError, NotADirectoryError):
            continue
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
def project_lock(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive, non-blocking lock for a writing command; a second run fails clearly."""
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
        yield
    finally:
        os.close(fd)
