"""Segments ↔ gettext catalogues: POT/PO creation, merge, fuzzy matching, memory, writing.

polib's `POFile` is the catalogue model; `transflow.pofile` reads and writes the PO syntax
(strictly, fast, and byte-identical to GNU msgcat). Merging follows msgmerge: unchanged
entries keep their translations, changed ones become `fuzzy` with `#| msgid`, removed ones
become obsolete `#~` entries and come back when their text does. No translation is lost.
"""

from __future__ import annotations

import itertools
import os
import re
import time
import weakref
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import polib
from rapidfuzz import fuzz, process

from transflow import __version__
from transflow.errors import CatalogError, InputError
from transflow.files import read_bytes, write_if_changed
from transflow.pofile import catalog_charset, parse_po, render_po

# --- policy -----------------------------------------------------------------------------

FUZZY_THRESHOLD = 60.0  # rapidfuzz ratio (0-100); msgmerge's fstrcmp threshold is 0.6
MEMORY_FUZZY_THRESHOLD = 75.0  # memory matches come from other articles: ask for more likeness
MEMORY_CANDIDATES = 100  # at most this many memory strings are scored per lookup (bounded cost)
MEMORY_RARE_WORDS = 3  # candidates share at least one of the query's N rarest words
MEMO_MAX = 20_000  # entries per memo (memory lookups): recurring msgids hit, memory stays flat
# Glossary hint lines remembered per glossary, then the older half goes: every msgid of every
# article passes through (both languages), and what recurs is a few hundred boilerplate
# paragraphs; each entry keeps its msgid alive (~250 characters), so 20,000 were ~9 MB.
HINT_MEMO_MAX = 4_000
GLOSSARY_PREFIX = "glossary: "  # `#. glossary: Stepanakert → Степанакерт`
DATE_FORMAT = "%Y-%m-%d %H:%M%z"  # gettext's POT-Creation-Date format
# msginit's values for a catalogue nobody has translated yet (`msgfmt --check-header` is happy).
NO_TRANSLATOR = "Automatically generated"
NO_TEAM = "none"
GENERATOR = f"transflow {__version__}"


class Hinter(Protocol):
    """What merge needs from a glossary (`transflow.glossary.Glossary`)."""

    def hints(self, msgid: str, lang: str) -> list[str]:
        """`source → rendering` lines for the terms the msgid triggers."""
        ...


class MemoryLike(Protocol):
    """What merge needs from a translation memory (`TranslationMemory`, or a lazy one)."""

    def lookup(self, msgid: str) -> tuple[str, str, float] | None:
        """(source msgid, msgstr, score 0-100) of the best match, or None."""
        ...


# --- reading and writing ----------------------------------------------------------------


def parse_catalog(data: bytes, path: Path | str) -> polib.POFile:
    """Parse PO/POT bytes; malformed input raises `CatalogError` (`path:line: what`)."""
    return parse_po(data, path)


def read_catalog(path: Path) -> polib.POFile:
    """Parse a PO/POT file into a `polib.POFile`; malformed input raises `CatalogError`."""
    try:
        data = read_bytes(path)
    except InputError as e:
        raise CatalogError(e.message, path) from e
    return parse_po(data, path)


def render_catalog(po: polib.POFile) -> str:
    """The catalogue as text, exactly as GNU gettext's `msgcat` (0.21, width 79) writes it."""
    return render_po(po)


def catalog_bytes(po: polib.POFile) -> bytes:
    """The rendered catalogue encoded in the charset its header declares."""
    charset = catalog_charset(po)
    try:
        return render_po(po).encode(charset)
    except UnicodeEncodeError as e:
        raise CatalogError(f"text not representable in the header's charset {charset}",
                           po.fpath) from e


def write_catalog(path: Path, po: polib.POFile) -> bool:
    """Write atomically, and only if the bytes differ; return True if the file was written."""
    return write_if_changed(path, catalog_bytes(po))


def entry_line(entry: polib.POEntry) -> int:
    """The line of an entry's `msgid` in the file it was read from (0 if not read from one)."""
    line = entry.__dict__.get("msgid_line") or entry.linenum or 0
    return int(line)


def is_translated(entry: polib.POEntry) -> bool:
    """True for an entry with every msgstr filled and no fuzzy flag."""
    if entry.obsolete or "fuzzy" in entry.flags:
        return False
    if entry.msgid_plural:
        return bool(entry.msgstr_plural) and all(entry.msgstr_plural.values())
    return bool(entry.msgstr)


def _has_translation(entry: polib.POEntry) -> bool:
    """True when the entry carries any translation text (fuzzy or not)."""
    if entry.msgid_plural:
        return any(entry.msgstr_plural.values())
    return bool(entry.msgstr)


_ENTRY_DEFAULTS: dict[str, object] = dict(
    msgid="", msgstr="", msgid_plural="", msgctxt=None, obsolete=False, encoding="utf-8",
    comment="", tcomment="", previous_msgctxt=None, previous_msgid=None,
    previous_msgid_plural=None, linenum=None,
)  # fmt: skip


def _new_entry(**fields: object) -> polib.POEntry:
    """A `polib.POEntry` built without polib's slow keyword handling (same attributes)."""
    entry = polib.POEntry.__new__(polib.POEntry)
    values = dict(_ENTRY_DEFAULTS, msgstr_plural={}, occurrences=[], flags=[])
    values.update(fields)
    entry.__dict__ = values
    return entry


def _new_file(metadata: dict[str, str], header: str = "", fuzzy: list[str] | None = None,
              path: str | None = None) -> polib.POFile:  # fmt: skip
    po = polib.POFile.__new__(polib.POFile)
    po.__dict__.update(
        fpath=path, wrapwidth=79, encoding="utf-8", check_for_duplicates=False,
        header=header, metadata=dict(metadata), metadata_is_fuzzy=list(fuzzy or []),
    )  # fmt: skip
    return po


# --- templates --------------------------------------------------------------------------


class SegmentLike(Protocol):
    """`transflow.segment.Segment`: msgid, 1-based source line, element context."""

    @property
    def msgid(self) -> str: ...
    @property
    def line(self) -> int: ...
    @property
    def context(self) -> str: ...


def creation_date(now: float | None = None) -> str:
    """A POT-Creation-Date: `SOURCE_DATE_EPOCH` when set (reproducible builds), else now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if now is None:
        now = float(epoch) if epoch and epoch.strip().isdigit() else time.time()
    return time.strftime(DATE_FORMAT, time.gmtime(now))


def build_template(
    segments: Iterable[SegmentLike], source_ref: str, *, project_id: str, date: str
) -> polib.POFile:
    """The POT of one article: one entry per distinct msgid, references in document order.

    `source_ref` is the source path as references show it (`source/<slug>.html`).
    """
    entries: dict[str, polib.POEntry] = {}
    contexts: dict[str, list[str]] = {}
    for seg in segments:
        entry = entries.get(seg.msgid)
        if entry is None:
            entry = entries[seg.msgid] = _new_entry(msgid=seg.msgid, occurrences=[])
            contexts[seg.msgid] = []
        ref = (source_ref, str(seg.line))
        if ref not in entry.occurrences:
            entry.occurrences.append(ref)
        if seg.context and seg.context not in contexts[seg.msgid]:
            contexts[seg.msgid].append(seg.context)
    for msgid, entry in entries.items():
        entry.comment = ", ".join(contexts[msgid])
    metadata = {
        "Project-Id-Version": project_id,
        "POT-Creation-Date": date,
        "PO-Revision-Date": date,
        "Last-Translator": NO_TRANSLATOR,
        "Language-Team": NO_TEAM,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        "X-Generator": GENERATOR,
    }
    po = _new_file(metadata)
    list.extend(po, entries.values())
    return po


def same_entries(a: polib.POFile, b: polib.POFile) -> bool:
    """True when two templates differ at most in their header (creation date)."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if (x.msgid, x.msgctxt, x.occurrences, x.comment, x.obsolete) != (
            y.msgid, y.msgctxt, y.occurrences, y.comment, y.obsolete
        ):
            return False
    return True


# --- translation memory ------------------------------------------------------------------

_WORD = re.compile(r"\w{3,}")


@dataclass(slots=True)
class TranslationMemory:
    """Translated msgids of one language across its catalogues: exact dict + word index.

    Only strings are kept (never the catalogues): learn from each catalogue as it is read.
    """

    exact: dict[str, str] = field(default_factory=dict)
    _first: dict[str, str] = field(default_factory=dict)  # msgid → first msgstr seen
    _repeats: dict[str, int] = field(default_factory=dict)  # msgid → times its one msgstr seen
    _counts: dict[str, Counter[str]] = field(default_factory=dict)  # only msgids with rivals
    _by_word: dict[str, list[str]] = field(default_factory=dict)
    _indexed: bool = False
    _memo: dict[str, tuple[str, str, float] | None] = field(default_factory=dict)

    def add_catalog(self, po: Iterable[polib.POEntry]) -> None:
        """Learn every translated, non-fuzzy singular entry of a catalogue."""
        self.add_pairs(memory_pairs(po))

    def add_pairs(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Learn (msgid, msgstr) pairs (as `memory_pairs` gives them)."""
        first, repeats, all_counts = self._first, self._repeats, self._counts
        for msgid, msgstr in pairs:
            seen = first.get(msgid)
            if seen is None:
                first[msgid] = msgstr
                continue
            counts = all_counts.get(msgid)
            if counts is None:
                if msgstr == seen:
                    repeats[msgid] = repeats.get(msgid, 1) + 1
                    continue
                counts = all_counts[msgid] = Counter({seen: repeats.pop(msgid, 1)})
            counts[msgstr] += 1
        self._indexed = False

    def _index(self) -> None:
        # The most frequent translation wins; ties go to the smallest string (deterministic).
        # `_first` itself becomes the exact dict (no copy of the newsroom's msgids): a rival's
        # entry is only ever read through `_counts` again, so its winner can replace it.
        exact = self._first
        for msgid, counts in self._counts.items():
            exact[msgid] = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        self.exact = exact
        by_word: dict[str, list[str]] = {}
        for msgid in self.exact:
            for word in set(_WORD.findall(msgid.lower())):
                by_word.setdefault(word, []).append(msgid)
        self._by_word = by_word
        self._memo = {}
        self._indexed = True

    def __len__(self) -> int:
        if not self._indexed:
            self._index()
        return len(self.exact)

    def lookup(self, msgid: str) -> tuple[str, str, float] | None:
        """(source msgid, msgstr, score 0-100) of the best memory match, or None."""
        if not self._indexed:
            self._index()
        found = self.exact.get(msgid)
        if found is not None:
            return msgid, found, 100.0
        if msgid in self._memo:
            return self._memo[msgid]
        result = self._closest(msgid)
        if len(self._memo) >= MEMO_MAX:
            self._memo.clear()
        self._memo[msgid] = result
        return result

    def _closest(self, msgid: str) -> tuple[str, str, float] | None:
        by_word = self._by_word
        words = set(_WORD.findall(msgid.lower()))
        # Rarest first; words of equal frequency in their own order (deterministic: a set's
        # order changes with the hash seed, and the SQLite memory must give the same answers).
        postings = sorted((by_word[w] for w in sorted(words) if w in by_word), key=len)
        if not postings:
            return None
        # Candidates share one of the query's rarest words: a bounded set, scored in C.
        rare = postings[:MEMORY_RARE_WORDS]
        heads = (p[:MEMORY_CANDIDATES] for p in rare)
        candidates = list(dict.fromkeys(itertools.chain(_together(rare), *heads)))
        best = process.extractOne(msgid, candidates[:MEMORY_CANDIDATES], scorer=fuzz.ratio,
                                  score_cutoff=MEMORY_FUZZY_THRESHOLD)  # fmt: skip
        if best is None:
            return None
        return best[0], self.exact[best[0]], float(best[1])


def _together(rare: list[list[str]]) -> list[str]:
    """The first msgids (at most `MEMORY_CANDIDATES`) that hold every one of the rarest words,
    in the rarest word's order: they come before the words' own first msgids.

    A near-copy of the query holds all its rarest words, however common each is alone: in a
    big archive the first hundred msgids of even the rarest word can all be other texts, and a
    paragraph translated in another article would not be offered.
    """
    if len(rare) < 2 or len(rare[0]) <= MEMORY_CANDIDATES:
        return []  # (all the rarest word's msgids are candidates anyway, in this order)
    others = [set(p) for p in rare[1:]]
    found = [m for m in rare[0] if all(m in s for s in others)]
    return found[:MEMORY_CANDIDATES]


def memory_pairs(po: Iterable[polib.POEntry]) -> list[tuple[str, str]]:
    """The (msgid, msgstr) pairs a memory learns from a catalogue: translated, not fuzzy."""
    return [(e.msgid, e.msgstr) for e in po
            if e.msgstr and e.msgid and not e.obsolete and not e.msgid_plural
            and "fuzzy" not in e.flags]  # fmt: skip


# --- merging -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MergeStats:
    """What a merge did to one catalogue."""

    total: int = 0
    new: int = 0  # entries with no translation from anywhere
    fuzzy: int = 0  # entries newly marked fuzzy (changed text, or a close memory match)
    obsolete: int = 0  # entries newly made obsolete
    revived: int = 0  # obsolete entries whose text came back
    from_memory: int = 0  # entries filled from the translation memory


# Per glossary object: (msgid, lang) → `glossary: …` comment lines.
_HINTS: weakref.WeakKeyDictionary[Hinter, dict[tuple[str, str], list[str]]] = (
    weakref.WeakKeyDictionary()
)


def _hint_memo(glossary: Hinter) -> dict[tuple[str, str], list[str]]:
    """The memo of `glossary: …` lines for one glossary (the same msgids recur everywhere)."""
    try:
        return _HINTS.setdefault(glossary, {})
    except TypeError:  # an object that cannot be weakly referenced: no shared memo
        return {}


def _hints(glossary: Hinter, memo: dict[tuple[str, str], list[str]], msgid: str,
           lang: str) -> list[str]:  # fmt: skip
    found = memo.get((msgid, lang))
    if found is None:
        if len(memo) >= HINT_MEMO_MAX:
            for key in list(itertools.islice(memo, HINT_MEMO_MAX // 2)):
                del memo[key]
        found = memo[(msgid, lang)] = [GLOSSARY_PREFIX + h for h in glossary.hints(msgid, lang)]
    return found


def _key(e: polib.POEntry) -> tuple[str | None, str]:
    return (e.msgctxt, e.msgid)


def _fuzzy_copy(new: polib.POEntry, old: polib.POEntry) -> None:
    """Give a changed entry its closest old translation, marked fuzzy with the old msgid."""
    new.msgstr = old.msgstr
    new.tcomment = old.tcomment
    new.flags = ["fuzzy"] + [f for f in old.flags if f != "fuzzy"]
    # As msgmerge: an already fuzzy entry keeps the text it was first translated from.
    was_fuzzy = "fuzzy" in old.flags and old.previous_msgid is not None
    new.previous_msgid = old.previous_msgid if was_fuzzy else old.msgid
    new.previous_msgctxt = (old.previous_msgctxt if was_fuzzy else old.msgctxt)


def merge_catalog(
    template: polib.POFile,
    old: polib.POFile | None,
    lang: str,
    *,
    glossary: Hinter | None = None,
    memory: MemoryLike | None = None,
    path: str | None = None,
) -> tuple[polib.POFile, MergeStats]:
    """Merge a template into a language's catalogue as msgmerge does (see module doc)."""
    old_entries: list[polib.POEntry] = list(old) if old is not None else []
    active = {_key(e): e for e in old_entries if not e.obsolete}
    obsolete = {_key(e): e for e in old_entries if e.obsolete}
    # Old translations a changed entry may inherit: singular ones with text.
    sources = [e for e in old_entries if not e.msgid_plural and e.msgstr and e.msgid]
    source_ids = [e.msgid for e in sources]
    used: set[int] = set()  # id() of old entries that live on in the new catalogue
    memo = _hint_memo(glossary) if glossary is not None else {}
    counts = Counter[str]()
    merged: list[polib.POEntry] = []
    for t in template:
        new = _new_entry(msgid=t.msgid, msgctxt=t.msgctxt, occurrences=list(t.occurrences))
        comments = [t.comment] if t.comment else []
        if glossary is not None:
            comments += _hints(glossary, memo, t.msgid, lang)
        new.comment = "\n".join(comments)
        key = _key(t)
        match = active.get(key)
        if match is None and key in obsolete:
            match = obsolete[key]
            counts["revived"] += 1
        if match is not None:
            used.add(id(match))
            new.msgstr = match.msgstr
            new.msgid_plural = match.msgid_plural
            new.msgstr_plural = dict(match.msgstr_plural)
            new.tcomment = match.tcomment
            new.flags = list(match.flags)
            if "fuzzy" in match.flags:
                new.previous_msgid = match.previous_msgid
                new.previous_msgctxt = match.previous_msgctxt
                new.previous_msgid_plural = match.previous_msgid_plural
        elif sources and (best := process.extractOne(
            t.msgid, source_ids, scorer=fuzz.ratio, score_cutoff=FUZZY_THRESHOLD
        )) is not None:
            source = sources[best[2]]
            used.add(id(source))
            _fuzzy_copy(new, source)
            counts["fuzzy"] += 1
        if match is None and not _has_translation(new) and memory is not None:
            found = memory.lookup(t.msgid)
            if found is not None:
                source_msgid, msgstr, score = found
                new.msgstr = msgstr
                counts["from_memory"] += 1
                if score < 100.0:
                    new.flags = ["fuzzy"] + [f for f in new.flags if f != "fuzzy"]
                    new.previous_msgid = source_msgid
                    counts["fuzzy"] += 1
        if not _has_translation(new):
            new.flags = [f for f in new.flags if f != "fuzzy"]
            new.previous_msgid = new.previous_msgctxt = new.previous_msgid_plural = None
            if match is None:
                counts["new"] += 1
        merged.append(new)
    keys = {_key(e) for e in merged}
    for e in old_entries:
        if id(e) in used or _key(e) in keys or not _has_translation(e):
            continue
        if e.obsolete:
            merged.append(e)
            continue
        gone = _new_entry(
            msgid=e.msgid, msgctxt=e.msgctxt, msgstr=e.msgstr, msgid_plural=e.msgid_plural,
            msgstr_plural=dict(e.msgstr_plural), tcomment=e.tcomment, flags=list(e.flags),
            previous_msgid=e.previous_msgid, previous_msgctxt=e.previous_msgctxt,
            previous_msgid_plural=e.previous_msgid_plural, obsolete=True,
        )  # fmt: skip
        merged.append(gone)
        counts["obsolete"] += 1
    po = _merged_header(template, old, lang, path)
    list.extend(po, merged)
    stats = MergeStats(total=len(template), new=counts["new"], fuzzy=counts["fuzzy"],
                       obsolete=counts["obsolete"], revived=counts["revived"],
                       from_memory=counts["from_memory"])  # fmt: skip
    return po, stats


def _merged_header(
    template: polib.POFile, old: polib.POFile | None, lang: str, path: str | None
) -> polib.POFile:
    """Keep the translator's header; update the creation date; add what a PO must carry."""
    date = template.metadata.get("POT-Creation-Date", creation_date())
    if old is not None and (old.metadata or isinstance(old.metadata_is_fuzzy, list)):
        metadata = dict(old.metadata)
        metadata["POT-Creation-Date"] = date
        metadata.setdefault("Language", lang)
        if not metadata.get("Language"):
            metadata["Language"] = lang
        metadata.setdefault("MIME-Version", "1.0")
        metadata.setdefault("Content-Type", "text/plain; charset=UTF-8")
        metadata.setdefault("Content-Transfer-Encoding", "8bit")
        if "Plural-Forms" not in metadata:
            from transflow.locales import plural_forms  # (Babel: only when a header lacks it)

            metadata["Plural-Forms"] = plural_forms(lang)
        fuzzy_flags: object = old.metadata_is_fuzzy
        fuzzy_header: list[str] = list(fuzzy_flags) if isinstance(fuzzy_flags, list) else []
        po = _new_file(metadata, old.header, fuzzy_header, path)
        raw = old.__dict__.get("raw_header")
        if raw is not None:
            po.__dict__["raw_header"] = raw
        return po
    return _new_file(new_po_metadata(template.metadata.get("Project-Id-Version", ""), lang, date),
                     path=path)


def new_po_metadata(project_id: str, lang: str, date: str) -> dict[str, str]:
    """The header of a new catalogue of `lang`, as msginit writes it (what `msgfmt -c` wants)."""
    from transflow.locales import plural_forms  # (Babel: only for a new catalogue)

    return {
        "Project-Id-Version": project_id,
        "POT-Creation-Date": date,
        "PO-Revision-Date": date,
        "Last-Translator": NO_TRANSLATOR,
        "Language-Team": NO_TEAM,
        "Language": lang,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        "Plural-Forms": plural_forms(lang),
        "X-Generator": GENERATOR,
    }


def strings_of(po: Iterable[polib.POEntry]) -> list[str]:
    """Every translation string in a catalogue (active and obsolete), for safety checks."""
    out: list[str] = []
    for e in po:
        if e.msgid_plural:
            out += [s for s in e.msgstr_plural.values() if s]
        elif e.msgstr:
            out.append(e.msgstr)
    return out

