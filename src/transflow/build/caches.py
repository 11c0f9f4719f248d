"""build/.cache/: the build manifest, compiled templates, and what a killed build leaves.

Caches are disposable: anything in a cache file's place that cannot be read (garbage, empty,
half a file, a folder, a link to nowhere) is a cache that is not there; it is removed or
rebuilt and a note says so under `-v`.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from transflow.build.template import CompiledTemplate, make_template
from transflow.cachekey import code_fingerprint
from transflow.files import read_bytes

MANIFEST_NAME = "build-manifest.json"
TEMPLATE_CACHE = "templates"  # build/.cache/templates/<slug>.json: compiled templates


def load_manifest(path: Path, notes: list[str]) -> dict[str, Any]:
    """The previous build's manifest; anything unusable in its place is a manifest not there."""
    if not discard_damaged(path, notes):
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        notes.append(f"{path}: unreadable build manifest ({e.__class__.__name__}): every page "
                     "is checked again")
        return {}
    if not isinstance(data, dict):
        notes.append(f"{path}: not a build manifest: every page is checked again")
        return {}
    if data.get("version") != code_fingerprint():
        notes.append(f"{path}: written by another transflow (or changed code): every page is "
                     "built again")
        return {}
    return data


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
# (`.<name>.<pid>.tmp`) leave behind when a build is killed, relative to build/.
STALE_TEMPORARIES = ("*/**/.*.html.*.tmp", ".cache/templates/**/.*.json.*.tmp",
                     f".cache/.{MANIFEST_NAME}.*.tmp")


def remove_stale_temporaries(build_dir: Path, notes: list[str], since: int) -> None:
    """Delete the temporaries of a killed build (older than the build lock taken at `since`)."""
    from transflow import files

    if not build_dir.is_dir():
        return
    for path in files.remove_stale_temporaries(build_dir, STALE_TEMPORARIES, since):
        notes.append(f"{path}: removed a temporary left by an interrupted build")


def cached_template(project: Any, slug: str, src_path: Path, src_sha: str,
                     store: bool, notes: list[str]) -> CompiledTemplate:
    """The compiled template of a source page, from build/.cache when the source is unchanged.

    A new template is stored only if `store` (the source was already known to the previous
    build): a first build writes no cache it may never read.  A cache entry that cannot be read
    is an entry that is not there.
    """
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
