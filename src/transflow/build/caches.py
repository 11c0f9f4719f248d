"""build/.cache/: the build manifest, compiled templates, and what a killed build leaves.

Caches are disposable: anything in a cache file's place that cannot be read (garbage, empty,
half a file, a folder, a link to nowhere) is a cache that is not there; it is removed or
rebuilt and a note says so under `-v`.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transflow.cachekey import code_fingerprint
from transflow.files import read_bytes

if TYPE_CHECKING:
    from transflow.build.template import CompiledTemplate

MANIFEST_NAME = "build-manifest.bin"  # see build/manifest.py
LEGACY_MANIFEST = "build-manifest.json"  # (transflow before the binary manifest: 16 MB at 10k)
TEMPLATE_CACHE = "templates"  # build/.cache/templates/<slug>.json: compiled templates


def discard_legacy_manifest(cache_dir: Path) -> None:
    """Remove the JSON manifest of an older transflow (the binary one replaces it)."""
    with contextlib.suppress(OSError):
        os.unlink(cache_dir / LEGACY_MANIFEST)


def discard_damaged(path: Path, notes: list[str]) -> bool:
    """True if `path` is a regular file; a folder, a link or anything else there is removed
    (caches are disposable: it is rebuilt) and noted.  False if nothing usable is there."""
    if path.is_file() and not path.is_symlink():
        return True
    if not os.path.lexists(path):
        return False
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
        notes.append(f"{path}: not a cache file; removed, it is rebuilt")
    except OSError as e:
        notes.append(f"{path}: not a cache file and cannot be removed ({e.strerror})")
    return False


# What `files.atomic_write` (`.<name>.<random>.tmp`) and the template cache
# (`.<name>.<pid>.tmp`) leave behind when a build is killed, relative to build/ (the globs of
# `files.remove_stale_temporaries`; `remove_stale_temporaries` below matches them in one walk).
STALE_TEMPORARIES = ("*/**/.*.html.*.tmp", ".cache/templates/**/.*.json.*.tmp",
                     ".cache/.build-manifest.*.tmp")


def _is_stale_temporary(rel: str, name: str) -> bool:
    """Whether build/<rel> (a hidden `.tmp` file called `name`) matches STALE_TEMPORARIES."""
    if rel.startswith(".cache/templates/") and fnmatch.fnmatchcase(name, ".*.json.*.tmp"):
        return True
    if rel == f".cache/{name}" and fnmatch.fnmatchcase(name, ".build-manifest.*.tmp"):
        return True
    return "/" in rel and fnmatch.fnmatchcase(name, ".*.html.*.tmp")


def remove_stale_temporaries(build_dir: Path, notes: list[str], since: int) -> None:
    """Delete the temporaries of a killed build (older than the build lock taken at `since`).

    Every build does this, so it is one walk of build/ with `os.scandir` looking only at hidden
    `.tmp` names (pathlib's globs of STALE_TEMPORARIES took 50 ms over 40,000 files).
    """
    base = os.fspath(build_dir)
    stack = [""]
    while stack:
        rel = stack.pop()
        try:
            with os.scandir(f"{base}/{rel}" if rel else base) as entries:
                for entry in entries:
                    name = entry.name
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(f"{rel}/{name}" if rel else name)
                    elif name[0] == "." and name.endswith(".tmp"):
                        path = f"{rel}/{name}" if rel else name
                        if _is_stale_temporary(path, name):
                            _remove_if_older(build_dir / path, since, notes)
        except (FileNotFoundError, NotADirectoryError):
            continue


def _remove_if_older(path: Path, since: int, notes: list[str]) -> None:
    try:
        if path.lstat().st_mtime_ns < since and not path.is_dir():
            path.unlink()
            notes.append(f"{path}: removed a temporary left by an interrupted build")
    except OSError:
        pass


def cached_template(project: Any, slug: str, src_path: Path, src_sha: str,
                     store: bool, notes: list[str]) -> CompiledTemplate:
    """The compiled template of a source page, from build/.cache when the source is unchanged.

    A new template is stored only if `store` (the source was already known to the previous
    build): a first build writes no cache it may never read.  A cache entry that cannot be read
    is an entry that is not there.
    """
    from transflow.build.template import CompiledTemplate, make_template

    cache_path = project.cache_dir / TEMPLATE_CACHE / f"{slug}.json"
    key = f"{code_fingerprint()}:{src_sha}:{project.source_language}"
    if discard_damaged(cache_path, notes):
        try:
            stored_key, data = json.loads(cache_path.read_bytes())
            if stored_key == key:
                return CompiledTemplate.from_json(data)
        except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError) as e:
            notes.append(f"{cache_path}: unreadable template cache ({e.__class__.__name__}): "
                         "compiled again")
    template = make_template(read_bytes(src_path), src_path, project.source_language)
    if not store:
        return template
    text = json.dumps([key, template.to_json()], ensure_ascii=False, separators=(",", ":"))
    try:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_path.with_name(f".{cache_path.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, cache_path)
    except OSError:
        pass  # the cache only saves time
    return template
