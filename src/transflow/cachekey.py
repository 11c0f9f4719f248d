"""What a cached result depends on beyond its own file: transflow's code and a project's inputs.

A cache keyed only by the version string would survive an edit of a check, a morphology rule
or a matcher between two releases (a development checkout, a patched install) and answer with
findings the current code would not give. The fingerprint hashes every file of the installed
package instead (a few hundred KB, ~1 ms), once per process.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

from transflow import __version__

PACKAGE_DIR = Path(__file__).resolve().parent
_SUFFIXES = (".py", ".toml", ".txt", ".html", ".json")


@functools.cache
def code_fingerprint() -> str:
    """A digest of transflow's version and every source and data file of the package."""
    h = hashlib.blake2b(__version__.encode(), digest_size=16)
    for folder, dirs, files in os.walk(PACKAGE_DIR):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(_SUFFIXES):
                path = os.path.join(folder, name)
                h.update(os.path.relpath(path, PACKAGE_DIR).encode())
                try:
                    with open(path, "rb") as fh:
                        h.update(fh.read())
                except OSError:
                    h.update(b"\0unreadable")
    return h.hexdigest()


def file_digest(path: Path | None) -> str:
    """A digest of a file's bytes; "absent" when there is none, "unreadable" when it fails."""
    if path is None:
        return "absent"
    try:
        with open(path, "rb") as fh:
            return hashlib.blake2b(fh.read(), digest_size=16).hexdigest()
    except FileNotFoundError:
        return "absent"
    except OSError:
        return "unreadable"
