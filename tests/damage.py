"""Ways a cache file gets damaged on disk, shared by the cache tests (each cache must come
through every one of them: rebuilt or recomputed, never an error, never a wrong answer)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def garbage(path: Path) -> None:
    """Bytes that are no cache at all."""
    path.write_bytes(b"\x00\xffnot a cache at all" * 50)


def empty(path: Path) -> None:
    """Zero bytes (a disk that filled up)."""
    path.write_bytes(b"")


def half(path: Path) -> None:
    """Truncated mid-way (a killed writer without an atomic rename)."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def folder(path: Path) -> None:
    """A folder in its place, holding somebody's file."""
    path.unlink()
    path.mkdir()
    (path / "keep").write_text("mine")


def dangling_link(path: Path) -> None:
    """A symbolic link to nowhere in its place."""
    path.unlink()
    path.symlink_to(path.parent / "no" / "such" / "file")


DAMAGES: list[Callable[[Path], None]] = [garbage, empty, half, folder, dangling_link]
