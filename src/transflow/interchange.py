"""Interchange formats (SPEC §8): TBX for the glossary, XLIFF 1.2 for one PO catalogue, TMX.

Every XML document is read with `parse_xml`, which never resolves entities, never loads a DTD
and never touches the network: an XXE or entity-expansion payload is refused, not expanded.

TBX 2 (MARTIF) and TBX 3 entries map to glossary terms: `termEntry` > `langSet xml:lang` >
`tig`/`ntig`/`termSec` > `term`. A term whose `termNote type="administrativeStatus"` says
deprecated or superseded is a `forbidden` rendering; `termNote type="termType"` `variant` is
one of the `forms`; `descrip` and `note` become the term's `note`.

XLIFF 1.2: one `trans-unit` per PO entry (a `group` per plural entry), notation tags as `<g>`
and `<x/>` so CAT tools protect them; fuzzy is `state="needs-review-translation"`. Importing
writes targets back as msgstr and never loses a translation: an empty target changes nothing,
and a target still under review does not replace an approved translation.

TMX 1.4b: one `<tu>` per (msgid, msgstr), light tags as `<bpt>`/`<ept>` pairs and `<ph>` whose
native code is the tag itself (`&lt;a1&gt;`), so CAT tools protect them. Reading maps those, and
the HTML tags other tools put in `<bpt>`/`<ept>`/`<ph>`, back to light tags; a unit whose codes
cannot become light tags (`<it>`, placeholders, tags unlike the source's) is skipped and listed.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polib
from lxml import etree

from transflow.errors import GlossaryError, InputError
from transflow.files import read_bytes
from transflow.glossary import Glossary, load_glossary
from transflow.inline import (
    NotationError,
    Tag,
    escape_text,
    notation_name,
    parse_notation,
    render_notation,
    tag_problems,
)
from transflow.tomlfile import load_toml

# ----------------------------------------------------------------------------- safe XML

# Parser settings for every document we read: untrusted files from CAT tools and term bases.
SAFE_XML_PARSER: dict[str, bool] = {
    "resolve_entities": False,  # no XXE, no entity expansion ("billion laughs")
    "no_network": True,  # never fetch a DTD or entity over the network
    "load_dtd": False,  # never read an external DTD (the MARTIF DOCTYPE names one)
    "huge_tree": False,  # keep libxml2's limits on depth and text size
    "dtd_validation": False,  # validation would need the DTD
    "remove_comments": True,  # comments carry nothing we import
    "remove_pis": True,  # processing instructions neither
}

XML_NS = "http://www.w3.org/XML/1998/namespace"
XLIFF_NS = "urn:oasis:names:tc:xliff:document:1.2"


def parse_xml(data: bytes, path: Path) -> etree._Element:
    """Parse untrusted XML safely; malformed XML or any entity declaration raises InputError."""
    parser = etree.XMLParser(
        resolve_entities=SAFE_XML_PARSER["resolve_entities"],
        no_network=SAFE_XML_PARSER["no_network"],
        load_dtd=SAFE_XML_PARSER["load_dtd"],
        huge_tree=SAFE_XML_PARSER["huge_tree"],
        dtd_validation=SAFE_XML_PARSER["dtd_validation"],
        remove_comments=SAFE_XML_PARSER["remove_comments"],
        remove_pis=SAFE_XML_PARSER["remove_pis"],
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        line = e.lineno or (e.position[0] if e.position else None)
        what = re.sub(r",? line \d+, column \d+$", "", str(e.msg))
        raise InputError(f"not well-formed XML: {what}", path, line or 1) from e
    if root is None:
        raise InputError("empty XML document", path, 1)
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):  # type: ignore[union-attr]
        raise InputError(
            "XML entity declarations are not allowed (they can read local files or expand "
            "without bound)",
            path,
            1,
        )
    for node in root.iter(etree.Entity):
        where = node.sourceline if isinstance(node.sourceline, int) else None
        raise InputError(f"undefined XML entity {node.text}", path, where)
    return root


def _local(el: etree._Element) -> str:
    """The local name of an element, whatever its namespace ('' for non-elements)."""
    tag = el.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _text(el: etree._Element) -> str:
    """All text inside an element, whitespace-normalised."""
    return " ".join("".join(t for t in el.itertext() if isinstance(t, str)).split())


# ----------------------------------------------------------------------------- TBX

# termNote values (TBX 2 `administrativeStatus`, older `normativeAuthorization`) that forbid.
FORBIDDEN_STATUSES = frozenset(
    {
        "deprecatedterm-admn-sts",  # TBX-Basic: "do not use"
        "supersededterm-admn-sts",  # replaced by the preferred term
        "deprecatedterm",  # ISO 12620 normativeAuthorization value
        "supersededterm",
        "deprecated",  # TBX 3 / tbx-basic v3 short values
        "superseded",
        "forbidden",
    }
)
# termNote types that carry those values.
STATUS_NOTE_TYPES = frozenset({"administrativestatus", "normativeauthorization"})
# Element names of the three levels, TBX 2 (MARTIF) and TBX 3 alike.
ENTRY_TAGS = frozenset({"termEntry", "conceptEntry"})
LANG_TAGS = frozenset({"langSet", "langSec"})
TERM_GROUP_TAGS = frozenset({"tig", "ntig", "termSec"})
NOTE_TAGS = frozenset({"descrip", "note"})
# A glossary term id (SPEC §4).
TERM_ID_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_USABLE_ENTRY_ID = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")

MARTIF_DOCTYPE = (
    '<!DOCTYPE martif PUBLIC "ISO 12200:1999A//DTD MARTIF core (DXFcdV04)//EN" "TBXcdv04.dtd">'
)


@dataclass(frozen=True, slots=True)
class TbxImport:
    """Glossary terms read from a TBX file, and why some entries were left out."""

    terms: tuple[dict[str, Any], ...]
    skipped: tuple[str, ...]  # `path:line: why` for each entry not imported


def slugify(text: str) -> str:
    """A glossary term id from an English term.

    >>> slugify("Nagorno-Karabakh’s Lachin Corridor")
    'nagorno-karabakhs-lachin-corridor'
    >>> slugify("Тбилиси")
    'term'
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug or "term"


def _primary(lang: str) -> str:
    """The primary subtag of a language tag, lowercased: `en-US` → `en`."""
    return re.split(r"[-_]", lang, maxsplit=1)[0].lower()


def _as_list(value: Any) -> list[str]:
    """A glossary value (string or list of strings) as a list."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _one_or_list(values: list[str]) -> str | list[str]:
    """Write one value as a string, several as a list, as glossary.toml does."""
    return values[0] if len(values) == 1 else values


def import_tbx(
    path: Path,
    *,
    source_language: str = "en",
    languages: Sequence[str] | None = None,
    existing: Sequence[Mapping[str, Any]] = (),
) -> TbxImport:
    """Read a TBX file into glossary terms (see `parse_tbx`)."""
    return parse_tbx(
        read_bytes(path),
        path,
        source_language=source_language,
        languages=languages,
        existing=existing,
    )


def parse_tbx(
    data: bytes,
    path: Path,
    *,
    source_language: str = "en",
    languages: Sequence[str] | None = None,
    existing: Sequence[Mapping[str, Any]] = (),
) -> TbxImport:
    """Turn TBX bytes into glossary term dicts; entries already in `existing` are skipped.

    With `languages` (the project's target languages), a langSet is kept only if its
    language is one of them, and is filed under the project's code (`ka-GE` → `ka`).
    """
    root = parse_xml(data, path)
    if _local(root) not in {"martif", "tbx"}:
        raise InputError(f"not a TBX file: the root element is <{_local(root)}>", path, 1)
    source = _primary(source_language)
    taken = {str(t.get("id")) for t in existing}
    known = {
        form.lower(): str(t.get("id"))
        for t in existing
        for form in _as_list(t.get(source_language))
    }
    terms: list[dict[str, Any]] = []
    in_file: dict[str, dict[str, Any]] = {}  # lowercased source form → term read from this file
    lines: dict[str, int | None] = {}  # term id → line of its (first) entry
    skipped: list[str] = []
    where = str(path)
    for entry in root.iter():
        if _local(entry) not in ENTRY_TAGS:
            continue
        term = _read_entry(entry, source, root, languages)
        line = entry.sourceline
        sources = _as_list(term.get(_SOURCE))
        if not sources:
            skipped.append(f"{where}:{line}: entry has no {source_language} term")
            continue
        if not any(k not in {_SOURCE, "note"} for k in term):
            skipped.append(f"{where}:{line}: {sources[0]!r} has no translation")
            continue
        dup = next((known[s.lower()] for s in sources if s.lower() in known), None)
        if dup is not None:
            skipped.append(f"{where}:{line}: {sources[0]!r} is already in the glossary as {dup!r}")
            continue
        same = next((in_file[s.lower()] for s in sources if s.lower() in in_file), None)
        if same is not None:  # the same term twice in one file: keep every rendering
            _merge_term(same, term, source_language)
            in_file.update((s.lower(), same) for s in _as_list(same[source_language]))
            continue
        entry_id = str(entry.get("id") or "")
        base = entry_id if _USABLE_ENTRY_ID.fullmatch(entry_id) else slugify(sources[0])
        term_id, n = base, 1
        while term_id in taken:
            n += 1
            term_id = f"{base}-{n}"
        taken.add(term_id)
        ordered: dict[str, Any] = {"id": term_id, source_language: term.pop(_SOURCE)}
        ordered |= term
        terms.append(ordered)
        lines[term_id] = line if isinstance(line, int) else None
        in_file.update((s.lower(), ordered) for s in sources)
    valid: list[dict[str, Any]] = []
    for term in terms:  # what the glossary loader would refuse is reported, not imported
        _mark_untranslatable(term, source_language)
        try:
            Glossary.from_data([term], source_language)
        except GlossaryError as e:
            reason = re.sub(r"^term '[^']*': ", "", e.message)
            skipped.append(f"{where}:{lines[term['id']]}: {term['id']!r} not imported: {reason}")
            continue
        valid.append(term)
    return TbxImport(tuple(valid), tuple(skipped))


def _mark_untranslatable(term: dict[str, Any], source_language: str) -> None:
    """A term rendered as its own source form in every language becomes `translate = false`.

    This is how `render_tbx` writes such terms, so export and import are inverses.
    """
    langs = [k for k in term if _is_language_key(k, source_language)]
    if not langs or "forbidden" in term or "forms" in term:
        return
    sources = _as_list(term[source_language])
    if all(_as_list(term[lang]) == sources for lang in langs):
        for lang in langs:
            del term[lang]
        term["translate"] = False


def _merge_term(into: dict[str, Any], other: dict[str, Any], source_language: str) -> None:
    """Add another entry's renderings and note to a term read earlier from the same file."""
    for key, value in other.items():
        target_key = source_language if key == _SOURCE else key
        if key == "note":
            into["note"] = f"{into['note']}; {value}" if into.get("note") else value
        elif key in {"forbidden", "forms"}:
            table = into.setdefault(key, {})
            for lang, values in value.items():
                table[lang] = _union(table.get(lang, []), values)
        else:
            into[target_key] = _one_or_list(_union(_as_list(into.get(target_key)), _as_list(value)))


def _union(first: list[str], second: list[str]) -> list[str]:
    """Both lists' items, first-seen order, no repeats (ignoring case, as the matcher does)."""
    seen: dict[str, str] = {}
    for item in [*first, *second]:
        seen.setdefault(item.casefold(), item)
    return list(seen.values())


# The key under which `_read_entry` returns the source-language forms.
_SOURCE = "\x00source"


def _language_key(lang: str, source: str, languages: Sequence[str] | None) -> str | None:
    """The glossary key for a TBX language: `_SOURCE`, a project language, or None (skip)."""
    if _primary(lang) == source:
        return _SOURCE
    if languages is None:
        return lang
    if lang in languages:
        return lang
    return next((code for code in languages if _primary(code) == _primary(lang)), None)


def _read_entry(
    entry: etree._Element, source: str, root: etree._Element, languages: Sequence[str] | None
) -> dict[str, Any]:
    """One TBX entry as a glossary dict, the source forms under the key `_SOURCE`."""
    approved: dict[str, list[str]] = {}
    forbidden: dict[str, list[str]] = {}
    forms: dict[str, list[str]] = {}
    notes: list[str] = []
    default_lang = root.get(f"{{{XML_NS}}}lang") or ""
    for child in entry:
        name = _local(child)
        if name in NOTE_TAGS:
            notes.append(_text(child))
        elif name in LANG_TAGS:
            lang = child.get(f"{{{XML_NS}}}lang") or child.get("lang") or default_lang
            key = _language_key(lang, source, languages)
            if key is None:
                continue
            for node in child:
                if _local(node) in NOTE_TAGS and key == _SOURCE:
                    notes.append(_text(node))
                if _local(node) not in TERM_GROUP_TAGS:
                    continue
                text = next((_text(t) for t in node.iter() if _local(t) == "term"), "")
                if not text:
                    continue  # `<term/>`: an untranslated glossary entry
                bucket = approved
                for note in node.iter():
                    if _local(note) != "termNote":
                        continue
                    kind, value = (note.get("type") or "").lower(), _text(note).lower()
                    if kind in STATUS_NOTE_TYPES and value in FORBIDDEN_STATUSES:
                        bucket = forbidden
                    elif kind == "termtype" and value == "variant" and bucket is approved:
                        bucket = forms
                values = bucket.setdefault(key, [])
                # Source forms match ignoring case, so case variants are one form.
                fold = str.casefold if key == _SOURCE else str
                if fold(text) not in {fold(v) for v in values}:
                    values.append(text)
    term: dict[str, Any] = {}
    if approved.get(_SOURCE):
        term[_SOURCE] = _one_or_list(approved.pop(_SOURCE))
    for lang, values in approved.items():
        term[lang] = _one_or_list(values)
    note_text = " ".join(n for n in notes if n)
    if note_text:
        term["note"] = note_text
    forbidden.pop(_SOURCE, None)
    forms.pop(_SOURCE, None)
    if forbidden:
        term["forbidden"] = forbidden
    if forms:
        term["forms"] = forms
    return term


def read_glossary_terms(path: Path, source_language: str = "en") -> list[dict[str, Any]]:
    """The `[[term]]` tables of a glossary.toml as written, after the glossary loader's checks."""
    load_glossary(path, source_language)  # raises GlossaryError path:line on a bad glossary
    data, _ = load_toml(path, GlossaryError)
    terms: list[dict[str, Any]] = data.get("term", [])
    return terms


def render_tbx(
    terms: Iterable[Mapping[str, Any]],
    *,
    source_language: str = "en",
    languages: Sequence[str] = (),
) -> bytes:
    """Write glossary terms as a TBX 2 (MARTIF) document, deterministic byte for byte.

    `languages` are the project's target languages: a `translate = false` term is exported
    with its source form as the rendering in each of them.
    """
    martif = etree.Element("martif", {"type": "TBX", f"{{{XML_NS}}}lang": source_language})
    header = etree.SubElement(martif, "martifHeader")
    desc = etree.SubElement(etree.SubElement(header, "fileDesc"), "sourceDesc")
    etree.SubElement(desc, "p").text = "transflow glossary"
    body = etree.SubElement(etree.SubElement(martif, "text"), "body")
    for term in terms:
        entry = etree.SubElement(body, "termEntry", {"id": str(term["id"])})
        if term.get("note"):
            etree.SubElement(entry, "note").text = str(term["note"])
        sources = _as_list(term.get(source_language))
        langs = [k for k in term if _is_language_key(k, source_language)]
        if term.get("translate") is False:
            langs += [lang for lang in languages if lang not in langs]
        forbidden: Mapping[str, Any] = term.get("forbidden") or {}
        forms: Mapping[str, Any] = term.get("forms") or {}
        langs += [k for k in (*forbidden, *forms) if k not in langs and k != source_language]
        _add_lang_set(entry, source_language, sources, [], [])
        for lang in langs:
            approved = _as_list(term.get(lang))
            if not approved and term.get("translate") is False:
                approved = sources
            _add_lang_set(
                entry, lang, approved, _as_list(forms.get(lang)), _as_list(forbidden.get(lang))
            )
    return etree.tostring(
        martif, xml_declaration=True, encoding="UTF-8", pretty_print=True, doctype=MARTIF_DOCTYPE
    )


# Keys of a glossary term that are not language codes.
_TERM_KEYS = frozenset({"id", "note", "forbidden", "forms", "derived", "translate",
                        "case_sensitive"})  # `derived` words have no TBX equivalent: not exported


def _is_language_key(key: str, source_language: str) -> bool:
    """Whether a term key names a target language (`ka`, `ru`, `pt-BR`)."""
    return key not in _TERM_KEYS and key != source_language


def _add_lang_set(
    entry: etree._Element, lang: str, approved: list[str], forms: list[str], forbidden: list[str]
) -> None:
    """Append a langSet with one tig per approved, variant and forbidden rendering."""
    lang_set = etree.SubElement(entry, "langSet", {f"{{{XML_NS}}}lang": lang})
    for text, note in (
        *((t, None) for t in approved),
        *((t, ("termType", "variant")) for t in forms),
        *((t, ("administrativeStatus", "deprecatedTerm-admn-sts")) for t in forbidden),
    ):
        tig = etree.SubElement(lang_set, "tig")
        etree.SubElement(tig, "term").text = text
        if note is not None:
            etree.SubElement(tig, "termNote", {"type": note[0]}).text = note[1]


def render_glossary_toml(terms: Iterable[Mapping[str, Any]], *, comment: str = "") -> str:
    """Write glossary terms as `[[term]]` tables in glossary.toml's format.

    >>> print(render_glossary_toml([{"id": "baku", "en": "Baku", "ru": ["Баку"],
    ...                              "forbidden": {"ka": ["ბაკუ"]}}]), end="")
    [[term]]
    id = "baku"
    en = "Baku"
    ru = ["Баку"]
    forbidden = { ka = ["ბაკუ"] }
    """
    out: list[str] = [f"# {line}".rstrip() for line in comment.splitlines()]
    if out:
        out.append("")
    for term in terms:
        out.append("[[term]]")
        out.extend(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in term.items())
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f",
                 "\r": "\\r"}  # fmt: skip


def _toml_key(key: str) -> str:
    """A TOML key, quoted when it is not bare (`pt-BR` is bare, `zh Hant` is not)."""
    return key if _BARE_KEY.fullmatch(key) else _toml_str(key)


def _toml_str(text: str) -> str:
    """A TOML basic string."""

    def esc(ch: str) -> str:
        if ch in _TOML_ESCAPES:
            return _TOML_ESCAPES[ch]
        if ord(ch) < 0x20 or ord(ch) == 0x7F:
            return f"\\u{ord(ch):04X}"
        return ch

    return '"' + "".join(esc(ch) for ch in text) + '"'


def _toml_value(value: Any) -> str:
    """A TOML value: string, boolean, integer, list of those, or inline table."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _toml_str(value)
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    return "[" + ", ".join(_toml_value(v) for v in value) + "]"


# ----------------------------------------------------------------------------- XLIFF 1.2

# XLIFF target states (1.2 §state) that mean a finished translation.
TRANSLATED_STATES = frozenset({"translated", "final", "signed-off"})
# States that mean a draft: imported as fuzzy.
DRAFT_STATES = frozenset(
    {
        "new",  # a target the tool has not confirmed
        "needs-translation",
        "needs-adaptation",
        "needs-l10n",
        "needs-review-translation",  # our export's state for fuzzy entries
        "needs-review-adaptation",
        "needs-review-l10n",
    }
)
STATE_FUZZY = "needs-review-translation"
STATE_TRANSLATED = "translated"
PLURALS_RESTYPE = "x-gettext-plurals"

_XLIFF = f"{{{XLIFF_NS}}}"


@dataclass(frozen=True, slots=True)
class XliffImport:
    """What importing an XLIFF file did to a catalogue."""

    updated: int  # entries whose msgstr or fuzzy flag changed
    unchanged: int  # units that matched their entry already
    kept: int  # drafts not applied because the entry has an approved translation
    problems: tuple[str, ...]  # `path:line: what` for units that could not be applied

    def summary(self) -> str:
        """One line for the CLI."""
        return (
            f"{self.updated} updated, {self.unchanged} unchanged, {self.kept} kept "
            f"(draft over an approved translation), {len(self.problems)} not applied"
        )


def unit_id(entry: polib.POEntry) -> str:
    """A stable trans-unit id for a PO entry: a hash of its msgctxt and msgid."""
    key = f"{entry.msgctxt or ''}\x04{entry.msgid}\x00{entry.msgid_plural or ''}"
    return "u" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def _nplurals(po: polib.POFile) -> int:
    """The number of plural forms the catalogue's header declares (2 if it says nothing)."""
    m = re.search(r"nplurals\s*=\s*(\d+)", po.metadata.get("Plural-Forms", ""))
    return int(m.group(1)) if m else 2


def render_xliff(
    po: polib.POFile,
    *,
    original: str,
    source_language: str = "en",
    target_language: str | None = None,
) -> bytes:
    """Write a catalogue's live entries as an XLIFF 1.2 document (one `<file>`)."""
    target_language = target_language or po.metadata.get("Language") or ""
    root = etree.Element(f"{_XLIFF}xliff", {"version": "1.2"}, nsmap={None: XLIFF_NS})  # type: ignore[dict-item]
    attrs = {"original": original, "source-language": source_language, "datatype": "po"}
    if target_language:
        attrs["target-language"] = target_language
    file_el = etree.SubElement(root, f"{_XLIFF}file", attrs)
    header = etree.SubElement(file_el, f"{_XLIFF}header")
    etree.SubElement(header, f"{_XLIFF}tool", {"tool-id": "transflow", "tool-name": "transflow"})
    body = etree.SubElement(file_el, f"{_XLIFF}body")
    nplurals = _nplurals(po)
    for entry in po:
        if entry.obsolete:
            continue
        try:
            _add_entry(body, entry, nplurals)
        except ValueError as e:  # lxml refuses text XML cannot carry (control characters)
            raise InputError(
                f"entry cannot be written as XLIFF: {e}", po.fpath, entry.linenum
            ) from e
    _indent(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8") + b"\n"


# Elements whose content is text (maybe with inline `<g>`/`<x/>`): never re-indented, since
# lxml's pretty printer would add whitespace inside a `<source>` that holds only tags.
_TEXT_ELEMENTS = frozenset({"source", "target", "note", "context", "tool"})


def _indent(el: etree._Element, level: int = 0,
            text_elements: frozenset[str] = _TEXT_ELEMENTS) -> None:  # fmt: skip
    """Indent the structure of an XML document, never the content of `text_elements`
    (XLIFF's by default)."""
    if _local(el) in text_elements or len(el) == 0:
        return
    inner = "\n" + "  " * (level + 1)
    el.text = inner
    for child in el:
        _indent(child, level + 1, text_elements)
        child.tail = inner
    el[-1].tail = "\n" + "  " * level


def _add_entry(body: etree._Element, entry: polib.POEntry, nplurals: int) -> None:
    """Append one PO entry: a trans-unit, or a group of them for a plural entry."""
    uid = unit_id(entry)
    fuzzy = "fuzzy" in entry.flags
    if entry.msgid_plural:
        group = etree.SubElement(body, f"{_XLIFF}group", {"id": uid, "restype": PLURALS_RESTYPE})
        for i in range(max(nplurals, len(entry.msgstr_plural))):
            source = entry.msgid if i == 0 else entry.msgid_plural
            _add_unit(group, f"{uid}[{i}]", source, entry.msgstr_plural.get(i, ""), fuzzy)
        _add_notes(group, entry)
    else:
        unit = _add_unit(body, uid, entry.msgid, entry.msgstr, fuzzy)
        _add_notes(unit, entry)


def _add_unit(
    parent: etree._Element, uid: str, source: str, target: str, fuzzy: bool
) -> etree._Element:
    """Append one trans-unit; the target is written only when there is a translation."""
    attrs = {"id": uid, f"{{{XML_NS}}}space": "preserve"}
    if target:
        attrs["approved"] = "no" if fuzzy else "yes"
    unit = etree.SubElement(parent, f"{_XLIFF}trans-unit", attrs)
    notation = _is_notation(source)
    _fill(etree.SubElement(unit, f"{_XLIFF}source"), _to_nodes(source, notation))
    if target:
        state = STATE_FUZZY if fuzzy else STATE_TRANSLATED
        target_el = etree.SubElement(unit, f"{_XLIFF}target", {"state": state})
        _fill(target_el, _to_nodes(target, notation))
    return unit


def _add_notes(parent: etree._Element, entry: polib.POEntry) -> None:
    """Extracted comments, translator comments and references, for the translator's eyes."""
    if entry.occurrences:
        group = etree.SubElement(
            parent, f"{_XLIFF}context-group", {"name": "po-reference", "purpose": "location"}
        )
        for file_name, line in entry.occurrences:
            etree.SubElement(
                group, f"{_XLIFF}context", {"context-type": "sourcefile"}
            ).text = file_name
            if line:
                etree.SubElement(
                    group, f"{_XLIFF}context", {"context-type": "linenumber"}
                ).text = str(line)
    if entry.comment:
        etree.SubElement(parent, f"{_XLIFF}note", {"from": "developer"}).text = entry.comment
    if entry.tcomment:
        etree.SubElement(parent, f"{_XLIFF}note", {"from": "translator"}).text = entry.tcomment


def _is_notation(text: str) -> bool:
    """Whether text is well-formed light notation that reads back to itself exactly."""
    try:
        return render_notation(parse_notation(text)) == text
    except NotationError:
        return False


Node = str | Tag


def _to_nodes(text: str, notation: bool) -> list[Node]:
    """Text as XLIFF content: notation tags become Tags, entities are read; else verbatim."""
    if notation:
        try:
            return _merge_text(parse_notation(text))
        except NotationError:
            pass  # a translator's broken tags: carried as text, not lost
    return [text] if text else []


def _from_nodes(nodes: Sequence[Node], notation: bool) -> str:
    """XLIFF content back to msgstr text (the inverse of `_to_nodes`)."""
    if notation or any(isinstance(n, Tag) for n in nodes):
        return render_notation(list(nodes))
    return "".join(n for n in nodes if isinstance(n, str))


def _merge_text(nodes: Iterable[Node]) -> list[Node]:
    """Join adjacent strings and drop empty ones, so equal content compares equal."""
    out: list[Node] = []
    for node in nodes:
        if isinstance(node, str):
            if not node:
                continue
            if out and isinstance(out[-1], str):
                out[-1] += node
                continue
        elif not node.void:
            node = Tag(node.key, False, tuple(_merge_text(node.children)))
        out.append(node)
    return out


def _fill(el: etree._Element, nodes: Sequence[Node]) -> None:
    """Write nodes into an element: strings as text, Tags as `<g id>` and `<x id/>`."""
    last: etree._Element | None = None
    for node in nodes:
        if isinstance(node, str):
            if last is None:
                el.text = (el.text or "") + node
            else:
                last.tail = (last.tail or "") + node
            continue
        if node.void:
            last = etree.SubElement(el, f"{_XLIFF}x", {"id": node.key})
        else:
            last = etree.SubElement(el, f"{_XLIFF}g", {"id": node.key})
            _fill(last, node.children)


class _UnsupportedInline(ValueError):
    """A target holds inline markup we cannot map back to the notation."""


def _read_nodes(el: etree._Element) -> list[Node]:
    """Read XLIFF content back into nodes: `<g>`, `<x/>`, `<mrk>` (its text) and text."""
    out: list[Node] = [el.text or ""]
    for child in el:
        name = _local(child)
        if name == "g":
            out.append(Tag(child.get("id") or "", False, tuple(_read_nodes(child))))
        elif name == "x":
            out.append(Tag(child.get("id") or "", True, ()))
        elif name == "mrk":
            out.extend(_read_nodes(child))
        elif name:
            raise _UnsupportedInline(f"inline element <{name}> is not supported; use <g> or <x/>")
        out.append(child.tail or "")
    return _merge_text(out)


def apply_xliff(po: polib.POFile, data: bytes, path: Path) -> XliffImport:
    """Write an XLIFF file's targets into the catalogue `po` (in place); never lose a msgstr."""
    root = parse_xml(data, path)
    if _local(root) != "xliff":
        raise InputError(f"not an XLIFF file: the root element is <{_local(root)}>", path, 1)
    version = root.get("version", "")
    if not version.startswith("1."):
        raise InputError(f"XLIFF version {version or '?'} is not supported (1.2 is)", path, 1)
    entries = {unit_id(e): e for e in po if not e.obsolete}
    counts = {"updated": 0, "unchanged": 0, "kept": 0}
    problems: list[str] = []
    where = str(path)
    for el in root.iter():
        name = _local(el)
        if name == "group" and el.get("restype") == PLURALS_RESTYPE:
            outcome = _apply_plural_group(el, entries.get(el.get("id") or ""))
        elif name == "trans-unit" and not _in_plural_group(el):
            outcome = _apply_unit(el, entries.get(el.get("id") or ""))
        else:
            continue
        if outcome in counts:
            counts[outcome] += 1
        else:
            problems.append(f"{where}:{el.sourceline}: {outcome}")
    return XliffImport(counts["updated"], counts["unchanged"], counts["kept"], tuple(problems))


def _in_plural_group(unit: etree._Element) -> bool:
    """Whether a trans-unit is one form of a plural entry (handled with its group)."""
    parent = unit.getparent()
    return (
        parent is not None
        and _local(parent) == "group"
        and (parent.get("restype") == PLURALS_RESTYPE)
    )


@dataclass(frozen=True, slots=True)
class _Target:
    """One unit's target as read: its nodes and whether it is only a draft."""

    nodes: tuple[Node, ...]
    draft: bool


def _read_unit(unit: etree._Element) -> tuple[list[Node], _Target | None]:
    """The source nodes and the target (None when absent or empty) of a trans-unit."""
    source = next((c for c in unit if _local(c) == "source"), None)
    target = next((c for c in unit if _local(c) == "target"), None)
    source_nodes = _read_nodes(source) if source is not None else []
    if target is None:
        return source_nodes, None
    nodes = _read_nodes(target)
    if not nodes:
        return source_nodes, None
    state = target.get("state")
    if state is not None:
        draft = state not in TRANSLATED_STATES
    else:
        draft = unit.get("approved") == "no"
    return source_nodes, _Target(tuple(nodes), draft)


def _apply_unit(unit: etree._Element, entry: polib.POEntry | None) -> str:
    """Apply one singular trans-unit; return an outcome name or a problem message."""
    uid = unit.get("id") or "?"
    if entry is None or entry.msgid_plural:
        return f"unit {uid}: no such entry in the catalogue (its text changed since the export?)"
    try:
        source, target = _read_unit(unit)
    except _UnsupportedInline as e:
        return f"unit {uid}: {e}"
    notation = _is_notation(entry.msgid)
    if source != _to_nodes(entry.msgid, notation):
        return f"unit {uid}: its source text differs from the catalogue's msgid"
    if target is None:
        return "unchanged"
    if list(target.nodes) == _to_nodes(entry.msgstr, notation):
        return _set_fuzzy(entry, target.draft)
    if target.draft and entry.msgstr and "fuzzy" not in entry.flags:
        return "kept"
    entry.msgstr = _from_nodes(target.nodes, notation)
    _set_fuzzy(entry, target.draft)
    return "updated"


def _apply_plural_group(group: etree._Element, entry: polib.POEntry | None) -> str:
    """Apply a group of plural trans-units to one plural entry."""
    gid = group.get("id") or "?"
    if entry is None or not entry.msgid_plural:
        return f"plural group {gid}: no such entry in the catalogue"
    notation = _is_notation(entry.msgid)
    new_forms: dict[int, str] = {}
    draft = False
    for unit in group:
        if _local(unit) != "trans-unit":
            continue
        m = re.fullmatch(re.escape(gid) + r"\[(\d+)\]", unit.get("id") or "")
        if m is None:
            return f"plural group {gid}: unit id {unit.get('id')!r} is not {gid}[N]"
        index = int(m.group(1))
        try:
            source, target = _read_unit(unit)
        except _UnsupportedInline as e:
            return f"plural group {gid}: {e}"
        expected = entry.msgid if index == 0 else entry.msgid_plural
        if source != _to_nodes(expected, notation):
            return f"plural group {gid}: its source text differs from the catalogue's msgid"
        if target is not None:
            new_forms[index] = _from_nodes(target.nodes, notation)
            draft = draft or target.draft
    if not new_forms:
        return "unchanged"
    merged = dict(entry.msgstr_plural) | new_forms
    if merged == entry.msgstr_plural:
        return _set_fuzzy(entry, draft)
    translated = all(entry.msgstr_plural.values()) and bool(entry.msgstr_plural)
    if draft and translated and "fuzzy" not in entry.flags:
        return "kept"
    entry.msgstr_plural = merged
    _set_fuzzy(entry, draft)
    return "updated"


def _set_fuzzy(entry: polib.POEntry, fuzzy: bool) -> str:
    """Set or clear the fuzzy flag; return "updated" if that changed anything."""
    if fuzzy == ("fuzzy" in entry.flags):
        return "unchanged"
    if fuzzy:
        entry.flags.append("fuzzy")
    else:
        entry.flags.remove("fuzzy")
        # msgmerge keeps `#|` previous strings only on fuzzy entries.
        entry.previous_msgctxt = None
        entry.previous_msgid = None
        entry.previous_msgid_plural = None
    return "updated"


# ----------------------------------------------------------------------------- TMX 1.4b

# How light tags travel in TMX (decided for CAT tools, see docs/ARCHITECTURE.md): a tag pair
# `<a1>…</a1>` is `<bpt i="N" x="N">&lt;a1&gt;</bpt>…<ept i="N">&lt;/a1&gt;</ept>`, a void tag
# `<br1/>` is `<ph x="N">&lt;br1/&gt;</ph>`: the native code is the tag as translators see it,
# so a CAT tool protects it as a tag and a plain-text reader still shows the notation.
TMX_VERSION = "1.4"
TMX_CREATION_TOOL = "transflow"
TMX_O_TMF = "transflow PO"  # the "original translation memory format" attribute
VERBATIM_PROP = "x-transflow-verbatim"  # a <tuv> whose text is a PO string as is (no light tags)
# Inline elements that carry native code. `it` (a tag whose partner is in another segment),
# `ut` (TMX 1.4 deprecated) and `sub` cannot become a light tag: such units are skipped.
_PAIRED_CODES = frozenset({"bpt", "ept"})
_NOTATION_OPEN_RE = re.compile(r"<([a-z]+(?:-[a-z]+)*[1-9][0-9]*)>")
_NOTATION_CLOSE_RE = re.compile(r"</([a-z]+(?:-[a-z]+)*[1-9][0-9]*)>")
_NOTATION_VOID_RE = re.compile(r"<([a-z]+(?:-[a-z]+)*[1-9][0-9]*)/>")
# Native HTML code (as other CAT tools write it for HTML files): a start, end or void tag.
_HTML_OPEN_RE = re.compile(r"<([A-Za-z][A-Za-z0-9:-]*)(?:\s[^<>]*)?>", re.S)
_HTML_CLOSE_RE = re.compile(r"</([A-Za-z][A-Za-z0-9:-]*)\s*>")
_HTML_VOID_RE = re.compile(r"<([A-Za-z][A-Za-z0-9:-]*)(?:\s[^<>]*)?/?>", re.S)


@dataclass(frozen=True, slots=True)
class TmxPair:
    """One translation unit for one target language: notation msgid and msgstr."""

    msgid: str
    msgstr: str
    line: int  # of the `<tu>` in the TMX file


@dataclass(frozen=True, slots=True)
class TmxRead:
    """What a TMX file holds for the project: pairs per project language, and what was left."""

    source_language: str
    pairs: dict[str, list[TmxPair]]  # project language → pairs, document order
    skipped: tuple[str, ...]  # `path:line: why` for each unit (or language variant) left out
    other_languages: tuple[str, ...]  # languages of the file that are not the project's


def render_tmx(
    pairs: Iterable[tuple[str, str]],
    *,
    source_language: str,
    target_language: str,
    segtype: str = "paragraph",
    origin: Sequence[tuple[str, int]] = (),
) -> bytes:
    """Write (msgid, msgstr) pairs as a TMX 1.4b document; light tags become bpt/ept/ph.

    Deterministic: no dates, pairs in the order given. `origin[i]` (path, line) names the
    PO entry of pair i in the error raised for text XML cannot carry.
    """
    from transflow import __version__

    root = etree.Element("tmx", {"version": TMX_VERSION})
    etree.SubElement(root, "header", {
        "creationtool": TMX_CREATION_TOOL,
        "creationtoolversion": __version__,
        "segtype": segtype if segtype in {"paragraph", "sentence"} else "block",
        "o-tmf": TMX_O_TMF,
        "adminlang": "en",
        "srclang": source_language,
        "datatype": "plaintext",
    })
    body = etree.SubElement(root, "body")
    for n, (msgid, msgstr) in enumerate(pairs):
        tu = etree.SubElement(body, "tu")
        numbers: dict[str, int] = {}  # tag key → its i/x number, shared by both languages
        try:
            for lang, text in ((source_language, msgid), (target_language, msgstr)):
                tuv = etree.SubElement(tu, "tuv", {f"{{{XML_NS}}}lang": lang})
                notation = _is_notation(text)
                if not notation:
                    # Not light-tag text (a translation with broken tags, a catalogue migrated
                    # from html2po): it goes out as its characters, and is marked so that
                    # importing gives back exactly these characters, not an escaped copy.
                    etree.SubElement(tuv, "prop", {"type": VERBATIM_PROP}).text = "yes"
                seg = etree.SubElement(tuv, "seg")
                _fill_tmx(seg, _to_nodes(text, notation), numbers)
        except ValueError as e:  # lxml refuses text XML cannot carry (control characters)
            path, line = origin[n] if n < len(origin) else ("", 0)
            raise InputError(f"entry cannot be written as TMX: {e}", path or None,
                             line or None) from e
    _indent(root, text_elements=frozenset({"seg"}))  # tmx, body, tu, tuv; never a <seg>
    doctype = '<!DOCTYPE tmx SYSTEM "tmx14.dtd">'
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", doctype=doctype) + b"\n"


def _fill_tmx(seg: etree._Element, nodes: Sequence[Node], numbers: dict[str, int]) -> None:
    """Write nodes into a `<seg>`: text as text, Tags as bpt/ept pairs and ph (flat, TMX)."""
    last: etree._Element | None = None

    def text(value: str) -> None:
        nonlocal last
        if last is None:
            seg.text = (seg.text or "") + value
        else:
            last.tail = (last.tail or "") + value

    def code(name: str, attrs: dict[str, str], native: str) -> None:
        nonlocal last
        last = etree.SubElement(seg, name, attrs)
        last.text = native

    def walk(items: Sequence[Node]) -> None:
        for node in items:
            if isinstance(node, str):
                text(node)
                continue
            number = str(numbers.setdefault(node.key, len(numbers) + 1))
            if node.void:
                code("ph", {"x": number}, f"<{node.key}/>")
            else:
                code("bpt", {"i": number, "x": number}, f"<{node.key}>")
                walk(node.children)
                code("ept", {"i": number}, f"</{node.key}>")

    walk(nodes)


def _tmx_lang(el: etree._Element) -> str:
    """The language of a `<tuv>`: `xml:lang` (TMX 1.4) or `lang` (TMX 1.1)."""
    return el.get(f"{{{XML_NS}}}lang") or el.get("lang") or ""


def _same_language(tag: str, project_code: str) -> bool:
    """Whether a TMX language tag is the project's language (`ru-RU` is `ru`), via Babel."""
    from transflow.locales import parse_locale

    norm = tag.replace("_", "-").lower()
    if norm == project_code.replace("_", "-").lower():
        return True
    try:
        got, want = parse_locale(tag), parse_locale(project_code)
    except ValueError:
        return False
    if got.language != want.language:
        return False
    # `ru-RU` matches `ru`; `pt-PT` does not match a project's `pt-BR`.
    return all(getattr(want, part) in (None, getattr(got, part))
               for part in ("territory", "script", "variant"))


class _Unmappable(ValueError):
    """Inline markup of a segment that no light tag can stand for."""


# One inline token of a segment: ("text", s) | ("open", key|None, name, pair, x) |
# ("close", pair) | ("void", key|None, name, x)
_Token = tuple[str, ...]


def _seg_tokens(seg: etree._Element) -> list[_Token]:
    """A `<seg>` as a flat list of text and tag tokens (nested `<hi>` is read as its content)."""
    out: list[_Token] = []
    if seg.text:
        out.append(("text", seg.text))
    for child in seg:
        name = _local(child)
        native = "".join(t for t in child.itertext() if isinstance(t, str))
        if name == "bpt":
            m = _NOTATION_OPEN_RE.fullmatch(native)
            h = _HTML_OPEN_RE.fullmatch(native)
            if m is None and h is None:
                raise _Unmappable(f"<bpt> native code {native!r} is not a tag")
            key = m.group(1) if m else ""
            tag = notation_name(h.group(1)) if h else ""
            out.append(("open", key, tag, child.get("i") or "", child.get("x") or ""))
        elif name == "ept":
            out.append(("close", child.get("i") or ""))
        elif name == "ph":
            m = _NOTATION_VOID_RE.fullmatch(native)
            h = _HTML_VOID_RE.fullmatch(native)
            if m is None and (h is None or _HTML_CLOSE_RE.fullmatch(native)):
                raise _Unmappable(f"<ph> native code {native!r} is not a tag")
            out.append(("void", m.group(1) if m else "",
                        notation_name(h.group(1)) if h else "", child.get("x") or ""))
        elif name == "hi":
            out.extend(_seg_tokens(child))
        elif name:
            raise _Unmappable(f"inline element <{name}> has no light-tag equivalent")
        if child.tail:
            out.append(("text", child.tail))
    return out


def _tokens_to_notation(tokens: list[_Token], literal: bool,
                        by_x: dict[str, str] | None) -> tuple[str, dict[str, str]]:
    """Notation text of a segment's tokens, and the x → tag key map of its tags.

    Tags written in the notation keep their key; HTML tags are numbered per name in order
    (as extract numbers them), or take the key of the source tag with the same `x`.
    `literal`: the text is plain text (escaped). Else a segment without inline codes is read
    as notation written as text (`_as_notation_text`).
    """
    if not literal and all(token[0] == "text" for token in tokens):
        return _as_notation_text("".join(token[1] for token in tokens)), {}
    out: list[str] = []
    keys_by_x: dict[str, str] = {}
    counts: dict[str, int] = {}
    open_pairs: dict[str, str] = {}  # bpt i → key

    def key_for(explicit: str, name: str, x: str) -> str:
        if explicit:
            return explicit
        if by_x is not None and x and x in by_x:
            return by_x[x]
        counts[name] = counts.get(name, 0) + 1
        return f"{name}{counts[name]}"

    for token in tokens:
        kind = token[0]
        if kind == "text":
            out.append(escape_text(token[1]))  # beside real inline codes, text is text
        elif kind == "open":
            _, explicit, name, pair, x = token
            key = key_for(explicit, name, x)
            if pair in open_pairs:
                raise _Unmappable(f"two <bpt> with i={pair!r}")
            open_pairs[pair] = key
            if x:
                keys_by_x[x] = key
            out.append(f"<{key}>")
        elif kind == "close":
            key = open_pairs.pop(token[1], "")
            if not key:
                raise _Unmappable(f"<ept i={token[1]!r}> has no <bpt>")
            out.append(f"</{key}>")
        else:
            _, explicit, name, x = token
            key = key_for(explicit, name, x)
            if x:
                keys_by_x[x] = key
            out.append(f"<{key}/>")
    if open_pairs:
        raise _Unmappable(f"<bpt i={next(iter(open_pairs))!r}> has no <ept>")
    text = "".join(out)
    if not _is_notation(text):
        raise _Unmappable("its tags do not nest")
    return text, keys_by_x


def _as_notation_text(text: str) -> str:
    """Plain segment text from a tool that wrote our catalogues' notation as text.

    Translate Toolkit's po2tmx and Weblate write a PO msgid such as `Read <a1>x</a1> &amp; y`
    as the characters themselves: read such text as notation when it is well-formed, so it
    matches our msgids again; anything else is plain text.
    """
    try:
        return render_notation(parse_notation(text))
    except NotationError:
        return escape_text(text)


def read_tmx(data: bytes, path: Path, *, source_language: str,
             languages: Sequence[str]) -> TmxRead:
    """Read a TMX document (1.1-1.4) into notation pairs for each project language.

    Raises InputError (`path:line: what`) for a file that is not TMX, is hostile or
    malformed, or whose source language is not the project's; units that cannot be
    imported are listed in `skipped` with their line.
    """
    root = parse_xml(data, path)
    where = str(path)
    if _local(root) != "tmx":
        raise InputError(f"not a TMX file: the root element is <{_local(root)}>", path, 1)
    version = root.get("version", "")
    if not version.startswith("1."):
        raise InputError(f"TMX version {version or '?'} is not supported (1.4b is)", path,
                         _line(root))
    header = next((c for c in root if _local(c) == "header"), None)
    if header is None:
        raise InputError("TMX file without <header>", path, _line(root))
    srclang = header.get("srclang") or ""
    if srclang != "*all*" and not _same_language(srclang, source_language):
        raise InputError(
            f"the memory's source language is {srclang or 'not given'!r}, this project's is "
            f"{source_language!r}", path, _line(header))
    literal = (header.get("creationtool") or "") == TMX_CREATION_TOOL
    body = next((c for c in root if _local(c) == "body"), None)
    pairs: dict[str, list[TmxPair]] = {lang: [] for lang in languages}
    skipped: list[str] = []
    others: set[str] = set()
    for tu in body.iter() if body is not None else ():
        if _local(tu) != "tu":
            continue
        line = _line(tu) or 0
        tu_src = tu.get("srclang") or source_language
        if tu_src != "*all*" and not _same_language(tu_src, source_language):
            skipped.append(f"{where}:{line}: unit's source language {tu_src!r} is not "
                           f"{source_language!r}")
            continue
        variants = [(tuv, _tmx_lang(tuv)) for tuv in tu if _local(tuv) == "tuv"]
        source_tuv = next((t for t, lang in variants if _same_language(lang, source_language)),
                          None)
        seg = _tuv_seg(source_tuv)
        if seg is None or source_tuv is None:
            skipped.append(f"{where}:{line}: unit has no {source_language} segment")
            continue
        try:
            msgid, by_x = _read_seg(source_tuv, seg, literal, None)
        except _Unmappable as e:
            skipped.append(f"{where}:{line}: source segment: {e}")
            continue
        if not msgid.strip():
            skipped.append(f"{where}:{line}: empty source segment")
            continue
        for tuv, lang in variants:
            if tuv is source_tuv:
                continue
            project_lang = next((p for p in languages if _same_language(lang, p)), None)
            if project_lang is None:
                if lang and not _same_language(lang, source_language):
                    others.add(lang)
                continue
            target = _tuv_seg(tuv)
            if target is None:
                continue
            try:
                msgstr, _ = _read_seg(tuv, target, literal, by_x)
            except _Unmappable as e:
                skipped.append(f"{where}:{_line(tuv)}: {lang} segment: {e}")
                continue
            if not msgstr.strip():
                continue
            problems = tag_problems(msgid, msgstr) if _is_notation(msgid) else []
            if problems:
                skipped.append(f"{where}:{_line(tuv)}: {lang} segment: tags differ from "
                               f"the source's ({'; '.join(problems[:2])})")
                continue
            pairs[project_lang].append(TmxPair(msgid, msgstr, line))
    return TmxRead(srclang, pairs, tuple(skipped), tuple(sorted(others)))


def _read_seg(tuv: etree._Element, seg: etree._Element, literal: bool,
              by_x: dict[str, str] | None) -> tuple[str, dict[str, str]]:
    """A segment as msgid/msgstr text: verbatim when our export marked it so, else notation."""
    verbatim = any(_local(c) == "prop" and c.get("type") == VERBATIM_PROP for c in tuv)
    if verbatim:
        return "".join(t for t in seg.itertext() if isinstance(t, str)), {}
    return _tokens_to_notation(_seg_tokens(seg), literal, by_x)


def _tuv_seg(tuv: etree._Element | None) -> etree._Element | None:
    """The `<seg>` of a `<tuv>` (None when either is missing)."""
    if tuv is None:
        return None
    return next((c for c in tuv if _local(c) == "seg"), None)


def _line(el: etree._Element) -> int | None:
    """The source line of an element (None if lxml does not know it)."""
    line = el.sourceline
    return line if isinstance(line, int) else None
