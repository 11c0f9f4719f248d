"""The translation memory's exchange with CAT tools: TMX 1.4b in and out (SPEC §8).

`memory import FILE.tmx` files the units of each project language L into
`locales/memory/L.po`: an ordinary PO catalogue (msgid = source segment, msgstr = target, a
translator comment `imported from FILE.tmx`), written by the project's PO writer, atomically,
and merged with what is already there: a re-import changes nothing, a newer import of the same
msgid replaces its msgstr. `extract` learns from it like from any translated catalogue.

`memory export --lang L FILE.tmx` writes every translated, non-fuzzy singular entry of
`locales/L/**.po` and of `locales/memory/L.po`, once per distinct (msgid, msgstr), in a
deterministic order (catalogues sorted by path, entries in file order, the memory last).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polib

from transflow.catalog import (
    creation_date,
    is_translated,
    new_po_metadata,
    read_catalog,
    write_catalog,
)
from transflow.files import (
    atomic_write,
    find_relative,
    read_bytes,
    writing,
)
from transflow.interchange import read_tmx, render_tmx
from transflow.project import Project

MEMORY_DIR = "memory"  # locales/memory/<lang>.po
IMPORTED_PREFIX = "imported from "  # the translator comment of an imported unit


def memory_po_path(project: Project, lang: str) -> Path:
    """`locales/memory/<lang>.po`: the imported translation memory of one language."""
    return project.locales_dir / MEMORY_DIR / f"{lang}.po"


@dataclass
class LanguageImport:
    """What an import did to one language's memory catalogue."""

    lang: str
    file: str  # locales/memory/<lang>.po as the user sees it
    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    written: bool = False


@dataclass
class MemoryImport:
    """What `memory import` did, per language, and the units it could not import."""

    languages: list[LanguageImport] = field(default_factory=list)
    skipped: tuple[str, ...] = ()
    other_languages: tuple[str, ...] = ()

    def summary_lines(self) -> list[str]:
        """One line per language, then the skipped units and ignored languages."""
        lines = [
            f"{li.lang}: {li.added} added, {li.replaced} replaced, {li.unchanged} unchanged"
            f" ({li.file}{'' if li.written else ', not changed'})"
            for li in self.languages
        ]
        if not self.languages:
            lines.append("no units for this project's languages")
        if self.skipped:
            lines.append(f"{len(self.skipped)} skipped (inline markup that is not a transflow "
                         f"tag, or no source segment; -v lists them)")
        if self.other_languages:
            lines.append(f"ignored languages not in this project: "
                         f"{', '.join(self.other_languages)}")
        return lines


def new_memory_catalog(lang: str, path: Path) -> polib.POFile:
    """An empty memory catalogue with the header `msgfmt -c` expects."""
    po = polib.POFile(wrapwidth=79, encoding="utf-8")
    po.metadata = new_po_metadata("translation memory", lang, creation_date())
    po.fpath = str(path)
    return po


def import_memory(project: Project, tmx: Path) -> MemoryImport:
    """Read a TMX file and merge its units into `locales/memory/<lang>.po` for each language."""
    read = read_tmx(read_bytes(tmx), tmx, source_language=project.source_language,
                    languages=project.languages)
    result = MemoryImport(skipped=read.skipped, other_languages=read.other_languages)
    comment = f"{IMPORTED_PREFIX}{tmx.name}"
    # Under the lock; the temporaries a killed earlier import left (atomic_write's naming) go first.
    folder = memory_po_path(project, project.languages[0]).parent
    with writing(project.cache_dir / "lock", folder, (".*.po.*.tmp",)):
        for lang in project.languages:
            pairs = read.pairs.get(lang) or []
            if not pairs:
                continue
            # The last unit of a msgid in the file wins, as a newer import wins over an older.
            latest = {pair.msgid: pair.msgstr for pair in pairs}
            path = memory_po_path(project, lang)
            result.languages.append(_merge(path, lang, latest, comment,
                                           project.relative(path)))
    return result


def _merge(path: Path, lang: str, latest: dict[str, str], comment: str,
           shown: str) -> LanguageImport:
    """Merge msgid → msgstr into one memory catalogue; write it only if anything changed."""
    po = read_catalog(path) if path.exists() else new_memory_catalog(lang, path)
    done = LanguageImport(lang, shown)
    entries = {e.msgid: e for e in po
               if not e.obsolete and not e.msgctxt and not e.msgid_plural and e.msgid}
    for msgid, msgstr in latest.items():
        entry = entries.get(msgid)
        if entry is None:
            entry = polib.POEntry(msgid=msgid, msgstr=msgstr, tcomment=comment)
            po.append(entry)
            entries[msgid] = entry
            done.added += 1
        elif entry.msgstr == msgstr and "fuzzy" not in entry.flags:
            done.unchanged += 1
        else:
            entry.msgstr = msgstr
            entry.tcomment = comment
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
            entry.previous_msgid = entry.previous_msgctxt = None
            done.replaced += 1
    if done.added or done.replaced:
        # Sorted by msgid, so two imports give the same file whatever their order.
        po.sort(key=lambda e: (e.obsolete, e.msgctxt or "", e.msgid))
        po.metadata["PO-Revision-Date"] = creation_date()
        done.written = write_catalog(path, po)
    return done


def export_memory(project: Project, lang: str, dest: Path) -> int:
    """Write the translations of one language as TMX to `dest`; return the number of units."""
    folder = project.locales_dir / lang
    files = [folder / rel for rel in find_relative(folder, ".po")]
    memory = memory_po_path(project, lang)
    if memory.is_file():
        files.append(memory)
    seen: set[tuple[str, str]] = set()
    pairs: list[tuple[str, str]] = []
    origin: list[tuple[str, int]] = []
    for path in files:
        for entry in read_catalog(path):
            if not entry.msgid or entry.msgid_plural or not is_translated(entry):
                continue
            key = (entry.msgid, entry.msgstr)
            if key in seen:
                continue
            seen.add(key)
            pairs.append(key)
            origin.append((project.relative(path), entry.linenum or 0))
    data = render_tmx(pairs, source_language=project.source_language, target_language=lang,
                      segtype=project.segmentation, origin=origin)
    atomic_write(dest, data)
    return len(pairs)
