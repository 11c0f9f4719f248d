"""Catalogues as build reads them: usable translations by msgid, and how complete they are."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transflow.errors import CatalogError, InputError
from transflow.files import read_bytes
from transflow.inline import strip_tags

# --- translations -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Translation:
    """A usable msgstr for a msgid, and where it is in its catalogue."""

    msgstr: str
    line: int


@dataclass(slots=True)
class PageStats:
    """What happened to the units of one output page."""

    units: int = 0
    fallbacks: int = 0
    warnings: list[str] = field(default_factory=list)


Lookup = Callable[[str], "Translation | None"]


def read_entries(path: Path) -> list[Any]:
    """A catalogue's entries, header left out, by the strict reader (no polib objects).

    Each has polib's field names and `msgid_line`, the line `transflow check` names.
    """
    from transflow.pofile import parse_entries

    try:
        data = read_bytes(path)
    except InputError as e:
        raise CatalogError(e.message, path) from e
    return parse_entries(data, path).entries


def _entry_line(entry: Any) -> int:
    """The line of an entry's msgid (pofile's light entries, or polib's via catalog.entry_line)."""
    line = getattr(entry, "msgid_line", None)
    if line:
        return int(line)
    from transflow.catalog import entry_line

    return entry_line(entry)


def catalog_lookup(po: Any, include_fuzzy: bool) -> dict[str, Translation]:
    """msgid → usable translation (non-obsolete, singular, translated; fuzzy if allowed)."""
    table: dict[str, Translation] = {}
    for entry in po:
        if entry.obsolete or entry.msgid_plural or not entry.msgstr:
            continue
        if "fuzzy" in entry.flags and not include_fuzzy:
            continue
        if entry.msgid not in table:
            table[entry.msgid] = Translation(entry.msgstr, _entry_line(entry))
    return table


def source_words(msgid: str) -> int:
    """The words of a msgid as build counts them (its markup stripped)."""
    return len((strip_tags(msgid) if "<" in msgid else msgid).split())


def catalog_percent(po: Any, include_fuzzy: bool,
                    words_of: Callable[[str], int] = source_words) -> float:
    """Percent of source words in usable translated entries (100 for an empty catalogue).

    `words_of` counts a msgid's words (`source_words`, or a memo of it: review's)."""
    total = done = 0
    for entry in po:
        if entry.obsolete or not entry.msgid:
            continue
        words = words_of(entry.msgid)
        total += words
        if entry.msgstr and ("fuzzy" not in entry.flags or include_fuzzy):
            done += words
    return 100.0 if total == 0 else round(100.0 * done / total, 2)
