"""Segments ↔ gettext catalogues: POT/PO creation, merge, fuzzy matching, memory, writing.

polib's `POFile` is the catalogue model. (This module is being filled in: reading works.)
"""

from __future__ import annotations

from pathlib import Path

import polib

from transflow.errors import CatalogError


def read_catalog(path: Path) -> polib.POFile:
    """Parse a PO/POT file into a `polib.POFile`; malformed input raises `CatalogError`."""
    if not path.is_file():
        raise CatalogError("no such file", path)
    try:
        return polib.pofile(str(path), wrapwidth=79)
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise CatalogError(f"not a valid PO file: {e}", path) from e
