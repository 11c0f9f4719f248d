"""build/.cache/: the build manifest, compiled templates, and what a killed build leaves.

Caches are disposable: anything in a cache file's place that cannot be read (garbage, empty,
half a file, a folder, a link to nowhere) is a cache that is not there; it is removed or
rebuilt and a note says so under `-v`.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import json
import os
import shutil
from pathlib import Path
from stat import S_ISDIR
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
# `files.remove_stale_temporaries`; `BuildFolders.sweep` below matches them in one walk).
STALE_TEMPORARIES = ("*/**/.*.html.*.tmp", ".cache/templates/**/.*.json.*.tmp",
                     ".cache/.build-manifest.*.tmp", ".cache/.build-folders.json.*.tmp")


def _is_stale_temporary(rel: str, name: str) -> bool:
    """Whether build/<rel> (a hidden `.tmp` file called `name`) matches STALE_TEMPORARIES."""
    if rel.startswith(".cache/templates/") and fnmatch.fnmatchcase(name, ".*.json.*.tmp"):
        return True
    if rel == f".cache/{name}" and (fnmatch.fnmatchcase(name, ".build-manifest.*.tmp")
                                    or fnmatch.fnmatchcase(name, ".build-folders.json.*.tmp")):
        return True
    return "/" in rel and fnmatch.fnmatchcase(name, ".*.html.*.tmp")


FOLDERS_NAME = "build-folders.json"  # the folders under build/, as last seen clean
FOLDERS_FORMAT = 1


def _folder_stamp(st: os.stat_result) -> list[int] | None:
    """What changes when a file is added to or removed from a folder (None: not trusted)."""
    if st.st_mtime_ns % 1_000_000_000 == 0:
        return None  # (whole seconds: a coarse file system, where two changes can look alike)
    return [st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


class BuildFolders:
    """Every folder under build/ with its stamp when it was last seen free of temporaries.

    A killed build can leave temporaries (STALE_TEMPORARIES) in any folder of build/; finding
    them by listing every folder reads 40,000 names at 10,000 articles. But a file cannot
    appear in a folder without changing the folder's mtime and ctime: a folder whose stamp is
    the one recorded holds no temporary, and its subfolders are the ones recorded. So a build
    stats the folders and lists only those that changed (`sweep`), and a build that completes
    records the folders it wrote to (`record`), where no temporary of its own is left.
    The record (`build/.cache/build-folders.json`) is disposable: anything wrong with it
    (garbage, half a file, a checksum that does not match) only means every folder is listed.
    """

    def __init__(self, build_dir: Path, notes: list[str]):
        self.build_dir = build_dir
        self.path = build_dir / ".cache" / FOLDERS_NAME
        self.known: dict[str, list[int] | None] = {}
        self.seen: dict[str, list[int] | None] = {}
        if not discard_damaged(self.path, notes):
            return
        try:
            data = json.loads(self.path.read_bytes())
            folders = data["folders"]
            if (data.get("format") != FOLDERS_FORMAT or not isinstance(folders, dict)
                    or data.get("blake2b") != _checksum(folders)):
                raise ValueError("not a record of this format, or damaged")
            self.known = folders
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as e:
            notes.append(f"{self.path}: unreadable ({e.__class__.__name__}): every folder of "
                         "build/ is listed for temporaries")

    def sweep(self, since: int, notes: list[str]) -> None:
        """Delete the temporaries of a killed build (older than the build lock, taken at
        `since`) from every folder whose stamp changed since it was recorded."""
        base = os.fspath(self.build_dir)
        children: dict[str, list[str]] = {}
        for rel in self.known:
            if rel:
                children.setdefault(rel.rpartition("/")[0], []).append(rel)
        stack = [""]
        while stack:
            rel = stack.pop()
            folder = f"{base}/{rel}" if rel else base
            try:
                st = os.stat(folder) if not rel else os.lstat(folder)
            except (FileNotFoundError, NotADirectoryError):
                continue
            if not S_ISDIR(st.st_mode):
                continue
            # (.cache itself changes whenever any command saves a cache: it is always listed,
            # a few names; its templates/ folder is recorded like the others.)
            stamp = None if rel == ".cache" else _folder_stamp(st)
            if stamp is not None and self.known.get(rel) == stamp:
                self.seen[rel] = stamp  # unchanged: no new file, the same subfolders
                stack.extend(children.get(rel, ()))
                continue
            removed = False
            try:
                with os.scandir(folder) as entries:
                    for entry in entries:
                        name = entry.name
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(f"{rel}/{name}" if rel else name)
                        elif name[0] == "." and name.endswith(".tmp"):
                            path = f"{rel}/{name}" if rel else name
                            if _is_stale_temporary(path, name):
                                removed |= _remove_if_older(self.build_dir / path, since, notes)
            except (FileNotFoundError, NotADirectoryError):
                continue
            self.seen[rel] = None if removed else stamp  # (a removal changed it: list again)

    def record(self, written: set[str]) -> None:
        """After a build that completed: record the folders as they are now, the ones it wrote
        to (`written`, relative to build/, with their parents) included; save if changed."""
        folders = set(self.seen)
        for rel in written:
            while rel:
                folders.add(rel)
                rel = rel.rpartition("/")[0]
        base = os.fspath(self.build_dir)
        stamps: dict[str, list[int] | None] = {}
        for rel in sorted(folders):
            try:
                st = os.stat(base) if not rel else os.lstat(f"{base}/{rel}")
            except OSError:
                continue
            if S_ISDIR(st.st_mode):
                stamps[rel] = None if rel == ".cache" else _folder_stamp(st)
        if stamps == self.known:
            return
        data = {"format": FOLDERS_FORMAT, "blake2b": _checksum(stamps), "folders": stamps}
        from transflow.files import atomic_write

        try:
            atomic_write(self.path, json.dumps(data, separators=(",", ":")), durable=False)
        except OSError:
            pass  # (the record only saves time)


def _checksum(folders: dict[str, Any]) -> str:
    text = json.dumps(folders, sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def _remove_if_older(path: Path, since: int, notes: list[str]) -> bool:
    try:
        if path.lstat().st_mtime_ns < since and not path.is_dir():
            path.unlink()
            notes.append(f"{path}: removed a temporary left by an interrupted build")
            return True
    except OSError:
        pass
    return False


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
    tmp = cache_path.with_name(f".{cache_path.name}.{os.getpid()}.tmp")
    try:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, cache_path)
    except OSError:
        with contextlib.suppress(OSError):  # (no temporary left: the folder is recorded clean)
            tmp.unlink()
    return template
