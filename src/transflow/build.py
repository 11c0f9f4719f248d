"""Source tree + catalogue → translated tree: `transflow build` (SPEC §7).

The source is parsed once and serialised once into a *template*: literal HTML with numbered
slots where a language changes something (a unit's content, a translatable attribute,
`<html lang>`, `og:locale`, `<time>` text, the hreflang links).  Each language then only fills
the slots.  A translated unit is rebuilt from the notation tree of its msgstr, each notation tag
written as the start tag of the SOURCE element it stands for (attributes from the source), and
all translator text written as escaped text: no translation can create an element or attribute.
The serialiser is our own (not libxml2's): libxml2 URI-escapes `href` values and escapes the
text of raw-text elements such as `<noembed>`, both of which change the DOM on re-parse.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from transflow import __version__
from transflow.errors import CatalogError, InputError
from transflow.files import read_bytes, write_if_changed
from transflow.inline import (
    NotationError,
    escape_text,
    parse_notation,
    parse_translation,
    strip_tags,
    tag_problems,
)
from transflow.locales import og_locale, text_direction
from transflow.progress import Progress
from transflow.segment import (
    LIBXML2_OPEN_VOIDS,
    SKIP_TAGS,
    Hidden,
    Item,
    Unit,
    is_no_translate,
    parse_html,
    split_unit,
    walk_units,
)

# --- policy -------------------------------------------------------------------------------

# Elements with no end tag (HTML Living Standard "void elements").
VOID_TAGS = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
    "source", "track", "wbr", "basefont", "bgsound", "frame", "keygen", "isindex",
})
# Elements whose text libxml2 reads raw (no entity decoding): written back unescaped.
RAW_TEXT_TAGS = frozenset({"script", "style", "noembed", "noframes", "xmp", "iframe", "plaintext"})
# Where the time shows a clock time in its source text, the translation shows one too.
_CLOCK_RE = re.compile(r"\d:\d\d|\b[ap]\.?m\b\.?", re.I)
_WS_RE = re.compile(r"[ \t\n\r\f]+")
_SPACES = " \t\n\r\f"
_BAD_ATTR_NAME_RE = re.compile(r"[\s/>=]|^$")
_XML_NS = "{http://www.w3.org/XML/1998/namespace}"
MANIFEST_NAME = "build-manifest.json"

# HTML text escaping is the notation's own: `&`, `<`, `>` become entities.
_esc_text = escape_text


def _esc_attr(text: str) -> str:
    text = _esc_text(text)
    return text.replace('"', "&quot;") if '"' in text else text


def _collapse(text: str) -> str:
    return _WS_RE.sub(" ", text).strip()


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


def _read_entries(path: Path) -> list[Any]:
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


def _catalog_lookup(po: Any, include_fuzzy: bool) -> dict[str, Translation]:
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


def _catalog_percent(po: Any, include_fuzzy: bool) -> float:
    """Percent of source words in usable translated entries (100 for an empty catalogue)."""
    total = done = 0
    for entry in po:
        if entry.obsolete or not entry.msgid:
            continue
        msgid = entry.msgid
        words = len((strip_tags(msgid) if "<" in msgid else msgid).split())
        total += words
        if entry.msgstr and ("fuzzy" not in entry.flags or include_fuzzy):
            done += words
    return 100.0 if total == 0 else round(100.0 * done / total, 2)


# --- the template -------------------------------------------------------------------------

@dataclass(slots=True)
class _Slot:
    """A place in the template that a language fills."""

    kind: str  # "attr", "lang", "unit", "time", "head"
    element: Any = None
    name: str = ""
    unit: int = -1


class Template:
    """A parsed source document serialised once, with slots for what each language changes."""

    def __init__(self, tree: Any, units: list[Unit], source_language: str):
        self.tree = tree
        self.root = tree.getroot()
        self.head = self.root.find("head")
        self.units = units
        self.source_language = source_language
        self.slots: list[_Slot] = []
        # What the writer must treat specially, keyed by element.
        self.attr_slot: dict[Any, dict[str, int]] = {}
        self.lang_slot: dict[Any, int] = {}
        self.content_slot: dict[Any, int] = {}
        self.text_slot: dict[Any, int] = {}
        self.tail_slot: dict[Any, int] = {}
        self.skip: set[Any] = set()
        self.time_slot: dict[Any, int] = {}
        self.head_slot: int | None = None
        self.add_og_locale = False
        self._emitted: dict[Any, list[str | int]] = {}
        self._prepare()
        # Elements the writer must look at closely (everything else is written as it is).
        self.special: set[Any] = set()
        for table in (self.attr_slot, self.lang_slot, self.content_slot, self.text_slot,
                      self.tail_slot, self.time_slot):
            self.special.update(table)
        self.special.update(el.getparent() for el in self.skip)
        if self.head is not None:
            self.special.add(self.head)
        self.parts = self._emit_document()

    # -- slots
    def _new_slot(self, slot: _Slot) -> int:
        self.slots.append(slot)
        return len(self.slots) - 1

    def _prepare(self) -> None:
        for index, unit in enumerate(self.units):
            el = unit.element
            if unit.attr is not None:
                self.attr_slot.setdefault(el, {})[unit.attr] = self._new_slot(
                    _Slot("attr", el, unit.attr, index))
                continue
            slot = self._new_slot(_Slot("unit", el, unit=index))
            if unit.members is None:
                self.content_slot[el] = slot
                self.lang_slot[el] = self._new_slot(_Slot("lang", el, unit=index))
            else:
                if unit.lead_owner is None:
                    self.text_slot[el] = slot
                else:
                    self.tail_slot[unit.lead_owner] = slot
                self.skip.update(unit.members)
        root = self.root
        self.lang_slot[root] = self._new_slot(_Slot("lang", root, unit=-1))
        head = self.head
        for meta in (head.iter("meta") if head is not None else ()):
            prop = (meta.get("property") or "").strip().lower()
            if prop == "og:locale" and meta.get("content") is not None:
                self.attr_slot.setdefault(meta, {})["content"] = self._new_slot(
                    _Slot("attr", meta, "content", -2))
            if meta.get("charset") is not None:
                self.attr_slot.setdefault(meta, {})["charset"] = self._new_slot(
                    _Slot("attr", meta, "charset", -3))
            if (meta.get("http-equiv") or "").strip().lower() == "content-type":
                self.attr_slot.setdefault(meta, {})["content"] = self._new_slot(
                    _Slot("attr", meta, "content", -3))
        for link in root.iter("link"):
            if link.get("hreflang") is not None and "alternate" in (link.get("rel") or "").lower():
                self.skip.add(link)  # replaced by links between this build's versions
        if head is not None:
            self.head_slot = self._new_slot(_Slot("head", head))
            # A page with Open Graph tags but no og:locale gets one in each translation.
            props = [(m.get("property") or "").strip().lower() for m in head.iter("meta")]
            self.add_og_locale = any(p.startswith("og:") for p in props) and "og:locale" not in props
        for time in root.iter("time"):
            if time.get("datetime") is not None and not _in_skipped(time):
                self.time_slot[time] = self._new_slot(_Slot("time", time))

    # -- the writer
    def start_tag(self, el: Any, out: list[str | int]) -> None:
        """Append the start tag of a source element (attribute slots included)."""
        tag = el.tag
        buf = "<" + tag
        slots = self.attr_slot.get(el)
        lang_slot = self.lang_slot.get(el)
        for name, value in el.items():
            if lang_slot is not None and name in ("lang", "dir"):
                continue
            if slots is not None and name in slots:
                out.append(buf)
                out.append(slots[name])
                buf = ""
                continue
            name = _attr_name(name)
            if name:
                buf += f' {name}="{_esc_attr(value)}"'
        if lang_slot is not None:
            out.append(buf)
            out.append(lang_slot)
            buf = ""
        # `<wbr/>`: the slash keeps libxml2 from opening these as containers; browsers ignore it.
        out.append(buf + ("/>" if tag in LIBXML2_OPEN_VOIDS else ">"))

    def emit(self, node: Any, out: list[str | int], tail: bool = True) -> None:
        """Append the serialisation of a source node (iteratively: no recursion limit)."""
        special = self.special
        append = out.append
        stack: list[tuple[Any, bool]] = [(node, False)]
        pop, push = stack.pop, stack.append
        while stack:
            n, closing = pop()
            if closing:
                if n is self.head and self.head_slot is not None:
                    append(self.head_slot)  # the hreflang links go last in <head>
                append(f"</{n.tag}>")
            else:
                tag = n.tag
                if not isinstance(tag, str):
                    if tag is etree.Comment:
                        append(f"<!--{n.text or ''}-->")
                    elif tag is etree.ProcessingInstruction:
                        append(f"<?{n.target}{' ' + n.text if n.text else ''}>")
                    elif tag is etree.Entity:
                        append(n.text or "")
                elif n not in special:
                    # The common case: an element build never changes.
                    attrs = "".join([f' {name}="{_esc_attr(v)}"' for k, v in n.items()
                                     if (name := _attr_name(k))])
                    if tag in VOID_TAGS:
                        append(f"<{tag}{attrs}{'/>' if tag in LIBXML2_OPEN_VOIDS else '>'}")
                    else:
                        text = n.text
                        if text:
                            append(f"<{tag}{attrs}>"
                                   + (text if tag in RAW_TEXT_TAGS else _esc_text(text)))
                        else:
                            append(f"<{tag}{attrs}>")
                        push((n, True))
                        if len(n):
                            stack.extend([(c, False) for c in reversed(n)])
                        continue
                else:
                    self.start_tag(n, out)
                    if tag not in VOID_TAGS:
                        slot = self.content_slot.get(n)
                        if slot is None:
                            slot = self.time_slot.get(n)
                        if slot is not None:
                            append(slot)
                            push((n, True))
                            continue
                        slot = self.text_slot.get(n)
                        if slot is not None:
                            append(slot)
                        elif n.text:
                            append(n.text if tag in RAW_TEXT_TAGS else _esc_text(n.text))
                        push((n, True))
                        skip = self.skip
                        for child in reversed(n):
                            if child not in skip:
                                push((child, False))
                        continue
            # The node is complete: its tail.
            if n is node and not tail:
                continue
            if n in special:
                slot = self.tail_slot.get(n)
                if slot is not None:
                    append(slot)
                    continue
            if n.tail:
                append(_esc_text(n.tail))

    def _emit_document(self) -> list[str | int]:
        out: list[str | int] = []
        doctype = self.tree.docinfo.doctype
        if doctype:
            out.append(doctype + "\n")
        for sib in reversed(list(self.root.itersiblings(preceding=True))):
            self.emit(sib, out, tail=False)
        self.emit(self.root, out, tail=False)
        for sib in self.root.itersiblings():
            self.emit(sib, out, tail=False)
        return out

    def emitted(self, node: Any) -> list[str | int]:
        """The serialisation of one node without its tail (cached: languages share it)."""
        parts = self._emitted.get(node)
        if parts is None:
            parts = []
            self.emit(node, parts, tail=False)
            self._emitted[node] = parts
        return parts


# --- the compiled template: plain data, no DOM (what languages render from; cacheable) -----

Parts = list  # literal strings and slot numbers (int), in document order


@dataclass(slots=True)
class CHidden:
    """A node translators never see, as its serialisation."""

    parts: Parts


@dataclass(slots=True)
class CInline:
    """An inline element of a unit: its start tag (or whole serialisation if void) and end."""

    key: str
    void: bool
    start: Parts
    end: str
    content: list[Any]  # str | CHidden | CInline


@dataclass(slots=True)
class CUnit:
    """A unit as the renderer needs it: msgid, source serialisation, inline items."""

    msgid: str
    attr: str | None
    is_run: bool  # part of its element's content (fallback wrapped in <span lang>)
    content: list[Any]  # str | CHidden | CInline
    source: Parts
    tags: dict[str, CInline] = field(default_factory=dict)


@dataclass(slots=True)
class CSlot:
    """A slot: kind, attribute name, unit index and the source values the renderer reads."""

    kind: str
    name: str
    unit: int
    data: Any  # attr: source value; lang: [lang, dir]; time: [datetime, text, parts]


@dataclass(slots=True)
class CompiledTemplate:
    """A source page compiled once: literal parts with slots, and its units (no lxml)."""

    parts: Parts
    slots: list[CSlot]
    units: list[CUnit]
    add_og_locale: bool

    def to_json(self) -> Any:
        """A JSON-able form (for the template cache)."""
        return [self.parts, [[s.kind, s.name, s.unit, s.data] for s in self.slots],
                [[u.msgid, u.attr, u.is_run, _items_json(u.content)] for u in self.units],
                self.add_og_locale]

    @classmethod
    def from_json(cls, data: Any) -> CompiledTemplate:
        """The inverse of `to_json` (raises on a malformed value)."""
        parts, slots, units, add_og = data
        cunits = []
        for msgid, attr, is_run, content in units:
            cunits.append(_unit(msgid, attr, bool(is_run), _items_from_json(content)))
        return cls(parts, [CSlot(k, n, int(u), d) for k, n, u, d in slots], cunits,
                   bool(add_og))


def _items_json(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if item.__class__ is str:
            out.append(item)
        elif item.__class__ is CHidden:
            out.append([0, item.parts])
        else:
            out.append([1, item.key, item.void, item.start, item.end, _items_json(item.content)])
    return out


def _items_from_json(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if isinstance(item, str):
            out.append(item)
        elif item[0] == 0:
            out.append(CHidden(item[1]))
        else:
            _, key, void, start, end, content = item
            out.append(CInline(key, bool(void), start, end, _items_from_json(content)))
    return out


def _merged(parts: Parts) -> Parts:
    """Parts with each run of adjacent literal strings joined (fewer items to fill and store)."""
    if len(parts) < 2:
        return parts
    slots = [i for i, part in enumerate(parts) if part.__class__ is not str]
    if not slots:
        return ["".join(parts)]
    out: Parts = []
    start = 0
    for i in slots:
        if i > start:
            out.append("".join(parts[start:i]))
        out.append(parts[i])
        start = i + 1
    if start < len(parts):
        out.append("".join(parts[start:]))
    return out


def _unit(msgid: str, attr: str | None, is_run: bool, content: list[Any]) -> CUnit:
    """A compiled unit, its source serialisation and tag index derived from its content."""
    unit = CUnit(msgid, attr, is_run, content, [])
    _index_tags(content, unit.tags)
    _source_parts(content, unit.source)
    unit.source = _merged(unit.source)
    return unit


def _source_parts(items: list[Any], out: Parts) -> None:
    for item in items:
        if item.__class__ is str:
            out.append(_esc_text(item))
        elif item.__class__ is CHidden:
            out.extend(item.parts)
        else:
            out.extend(item.start)
            if not item.void:
                _source_parts(item.content, out)
                out.append(item.end)


def _index_tags(items: list[Any], tags: dict[str, CInline]) -> None:
    for item in items:
        if item.__class__ is CInline:
            tags[item.key] = item
            _index_tags(item.content, tags)


def compile_template(template: Template) -> CompiledTemplate:
    """Everything rendering needs from a parsed template, as plain data."""
    slots: list[CSlot] = []
    for slot in template.slots:
        el = slot.element
        data: Any = None
        if slot.kind == "attr":
            data = el.get(slot.name) or ""
        elif slot.kind == "lang":
            data = [el.get("lang"), el.get("dir")]
        elif slot.kind == "time":
            data = [el.get("datetime") or "", "".join(el.itertext()),
                    _merged(_content_parts(template, el))]
        slots.append(CSlot(slot.kind, slot.name, slot.unit, data))
    units: list[CUnit] = []
    for unit in template.units:
        if unit.attr is not None:
            units.append(CUnit(unit.msgid, unit.attr, False, [], []))
            continue
        units.append(_unit(unit.msgid, None, unit.members is not None,
                           _compile_items(template, unit.content)))
    return CompiledTemplate(_merged(template.parts), slots, units, template.add_og_locale)


def _compile_items(template: Template, items: list[Item]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, Hidden):
            out.append(CHidden(_merged(template.emitted(item.node))))
        elif item.void:
            out.append(CInline(item.key, True, _merged(template.emitted(item.element)), "", []))
        else:
            start: Parts = []
            template.start_tag(item.element, start)
            out.append(CInline(item.key, False, _merged(start), f"</{item.element.tag}>",
                               _compile_items(template, item.content)))
    return out


_ATTR_NAMES: dict[str, str] = {}


def _attr_name(name: str) -> str:
    """An attribute name as written back ("" if it cannot be written: the parser's oddities)."""
    cached = _ATTR_NAMES.get(name)
    if cached is None:
        written = "xml:" + name[len(_XML_NS):] if name.startswith(_XML_NS) else name
        cached = "" if _BAD_ATTR_NAME_RE.search(written) else written
        if len(_ATTR_NAMES) < 10000:
            _ATTR_NAMES[name] = cached
    return cached


def _in_skipped(el: Any) -> bool:
    for anc in el.iterancestors():
        if anc.tag in SKIP_TAGS or is_no_translate(anc):
            return True
    return is_no_translate(el)


# --- one language -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PageSettings:
    """What one output page depends on besides the source and the catalogue."""

    lang: str
    source_language: str
    alternates: tuple[tuple[str, str], ...] = ()  # (hreflang, relative href)
    sentences: bool = False

    @property
    def is_source(self) -> bool:
        return self.lang == self.source_language


class _Renderer:
    """Fills a template's slots for one language."""

    def __init__(self, template: CompiledTemplate, settings: PageSettings,
                 lookup: dict[str, Translation], po_label: str):
        self.t = template
        self.s = settings
        self.lookup = lookup
        self.po_label = po_label
        self.values: list[str] = [""] * len(template.slots)
        self.fell_back: set[int] = set()
        self.translated: set[int] = set()
        self.trees: dict[int, list[Any]] = {}
        self.stats = PageStats()

    def fill(self, parts: Iterable[str | int]) -> str:
        values = self.values
        return "".join([p if p.__class__ is str else values[p] for p in parts])  # type: ignore[index]

    def render(self) -> str:
        slots = self.t.slots
        order = ("attr", "time", "head", "unit", "lang")
        by_kind: dict[str, list[int]] = {k: [] for k in order}
        for i, slot in enumerate(slots):
            by_kind[slot.kind].append(i)
        for kind in order:
            method = getattr(self, f"_fill_{kind}")
            for i in by_kind[kind]:
                self.values[i] = method(slots[i])
        return self.fill(self.t.parts)

    # -- translations
    def _translate(self, unit: CUnit, index: int) -> str | None:
        """The usable msgstr of a unit, or None (then it falls back to the source)."""
        self.stats.units += 1
        if self.s.is_source:
            return None
        if not self.s.sentences or unit.attr is not None:
            tr = self.lookup.get(unit.msgid)
            if tr is None:
                return self._fall_back(index)
            tree, problems = parse_translation(unit.msgid, tr.msgstr)
            if problems:
                return self._reject(index, tr, problems)
            if tr.msgstr != unit.msgid:  # a translation equal to its source is in that language
                self.translated.add(index)
            self.trees[index] = tree
            return tr.msgstr
        pieces = split_unit(unit.msgid, True)
        found = [self.lookup.get(p) for p in pieces]
        if not any(found):
            return self._fall_back(index)
        texts: list[str] = []
        for piece, tr in zip(pieces, found, strict=True):
            if tr is None:
                texts.append(piece)  # one untranslated sentence: the source sentence
                continue
            problems = tag_problems(piece, tr.msgstr)
            if problems:
                return self._reject(index, tr, problems)
            texts.append(tr.msgstr)
        if not all(found):
            self.stats.fallbacks += 1
        text = " ".join(texts)
        if text != unit.msgid:  # a translation equal to its source is still in that language
            self.translated.add(index)
        return text

    def _reject(self, index: int, tr: Translation, problems: list[str]) -> str | None:
        self.stats.warnings.append(f"{self.po_label}:{tr.line}: markup: {'; '.join(problems)}; "
                                   "the source text is used instead")
        return self._fall_back(index)

    def _fall_back(self, index: int) -> str | None:
        self.stats.fallbacks += 1
        self.fell_back.add(index)
        return None

    # -- slot kinds
    def _fill_attr(self, slot: CSlot) -> str:
        name = slot.name
        value = slot.data
        if slot.unit >= 0:
            text = self._translate(self.t.units[slot.unit], slot.unit)
            if text is not None:
                value = strip_tags(text)
        elif slot.unit == -2 and not self.s.is_source:
            value = og_locale(self.s.lang)
        elif slot.unit == -3:
            value = "utf-8" if name == "charset" else "text/html; charset=utf-8"
        return f' {name}="{_esc_attr(value)}"'

    def _fill_time(self, slot: CSlot) -> str:
        datetime, source_text, parts = slot.data
        original = self.fill(parts)
        if self.s.is_source:
            return original
        text = localise_time(datetime, source_text, self.s.lang)
        return original if text is None else _esc_text(text)

    def _fill_head(self, slot: CSlot) -> str:
        links = [f'<link rel="alternate" hreflang="{_esc_attr(code)}" href="{_esc_attr(href)}">'
                 for code, href in self.s.alternates]
        if self.t.add_og_locale and not self.s.is_source:
            links.append(f'<meta property="og:locale" content="{og_locale(self.s.lang)}">')
        return "".join(links)

    def _fill_unit(self, slot: CSlot) -> str:
        index = slot.unit
        unit = self.t.units[index]
        text = self._translate(unit, index)
        if text is not None:
            try:
                tree = self.trees.pop(index, None) or parse_notation(text)
            except NotationError:  # cannot happen after tag_problems; fall back all the same
                self.translated.discard(index)
                self._fall_back(index)
            else:
                out: list[str] = []
                self._render_nodes(unit, unit.content, tree, out, root=True)
                return "".join(out)
        source = self.fill(unit.source)
        if index in self.fell_back and unit.is_run:
            return f'<span lang="{_esc_attr(self.s.source_language)}">{source}</span>'
        return source

    def _fill_lang(self, slot: CSlot) -> str:
        lang, direction = slot.data
        if slot.unit == -1:  # <html>
            if self.s.is_source:
                lang = lang or self.s.source_language
            else:
                lang = self.s.lang
                rtl = text_direction(self.s.lang)
                direction = rtl if direction is not None or rtl == "rtl" else None
        elif slot.unit in self.fell_back:
            lang = lang or self.s.source_language
        elif slot.unit in self.translated:
            lang = self.s.lang if lang is not None else None
            direction = text_direction(self.s.lang) if direction is not None else None
        out = ""
        if lang is not None:
            out += f' lang="{_esc_attr(lang)}"'
        if direction is not None:
            out += f' dir="{_esc_attr(direction)}"'
        return out

    # -- rebuilding a unit from its translation
    def _render_nodes(self, unit: CUnit, src_items: list[Any], nodes: list[Any] | tuple[Any, ...],
                      out: list[str], root: bool = False) -> None:
        """Write translated nodes; tags become the source's own elements, text is escaped."""
        if root and len(src_items) == 1 and len(nodes) == 1 and isinstance(nodes[0], str):
            only = src_items[0]
            if isinstance(only, str):  # plain text unit: the common case
                lead = only[: len(only) - len(only.lstrip(_SPACES))]
                trail = only[len(only.rstrip(_SPACES)):]
                out.append(lead + _esc_text(nodes[0]) + trail)
                return
        # The source's text between tags, and the hidden nodes there, keyed by the tag before.
        segments: dict[str | None, list[str | CHidden]] = {}
        key: str | None = None
        for item in src_items:
            if item.__class__ is CInline:
                key = item.key
                continue
            segments.setdefault(key, []).append(item)
        start = len(out)
        key = None
        text = ""
        used: set[str | None] = set()
        for node in nodes:
            if isinstance(node, str):
                text += node
                continue
            self._render_segment(segments.get(key), text, out)
            used.add(key)
            text = ""
            inline = unit.tags[node.key]
            out.append(self.fill(inline.start))
            if not node.void:
                self._render_nodes(unit, inline.content, node.children, out)
                out.append(inline.end)
            key = node.key
        self._render_segment(segments.get(key), text, out)
        used.add(key)
        for orphan_key, seg in segments.items():  # the tag they followed moved elsewhere
            if orphan_key not in used:
                out.extend(self.fill(h.parts) for h in seg if h.__class__ is CHidden)
        if root and src_items:
            first, last = src_items[0], src_items[-1]
            lead = first[: len(first) - len(first.lstrip(_SPACES))] if isinstance(first, str) else ""
            trail = last[len(last.rstrip(_SPACES)):] if isinstance(last, str) else ""
            if lead and len(out) > start and not out[start][:1].isspace():
                out.insert(start, lead)
            if trail and out and not out[-1][-1:].isspace():
                out.append(trail)

    def _render_segment(self, source: list[str | CHidden] | None, text: str,
                        out: list[str]) -> None:
        hidden = [h for h in source or () if h.__class__ is CHidden]
        if not hidden:
            if text:
                out.append(_esc_text(text))
            return
        assert source is not None
        src_text = "".join(s for s in source if isinstance(s, str))
        if _collapse(src_text) == _collapse(text):
            # Same words: keep each comment (or script) exactly where it was among them.
            for s in source:
                if isinstance(s, str):
                    out.append(_esc_text(s))
                else:
                    out.append(self.fill(s.parts))
            return
        # Changed words: what came before any text stays first, the rest goes after the text.
        before = True
        head: list[str] = []
        tail: list[str] = []
        for s in source:
            if isinstance(s, str):
                if s.strip():
                    before = False
                continue
            (head if before else tail).append(self.fill(s.parts))
        out.extend(head)
        if text:
            out.append(_esc_text(text))
        out.extend(tail)


def _content_parts(template: Template, el: Any) -> list[str | int]:
    """The serialisation of an element's content (text and children), without its tags."""
    parts: list[str | int] = []
    if el.text:
        parts.append(_esc_text(el.text))
    for child in el:
        template.emit(child, parts, tail=True)
    return parts


def localise_time(value: str, source_text: str, lang: str) -> str | None:
    """`<time datetime>` text in `lang` via Babel, date only unless the source shows a clock.

    >>> localise_time("2023-04-05", "April 5, 2023", "ru").replace("\u202f", " ")
    '5 апреля 2023 г.'
    >>> localise_time("2023-04-05T10:30:00Z", "April 5, 2023, 10:30 AM", "ka")
    '5 აპრილი, 2023, 10:30'
    """
    from babel.dates import format_date, format_time, get_datetime_format

    value = value.strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ].*)?", value):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace(" ", "T", 1))
    except ValueError:
        return None
    locale = lang.replace("-", "_")
    try:
        date_text = format_date(moment.date(), "long", locale=locale)
        has_time = len(value) > 10 and (not source_text.strip() or _CLOCK_RE.search(source_text))
        if not has_time:
            return date_text
        time_text = format_time(moment.time(), "short", locale=locale)
        pattern = str(get_datetime_format("medium", locale=locale))
    except (ValueError, LookupError):
        return None
    return pattern.replace("{1}", date_text).replace("{0}", time_text)


def render_page(template: CompiledTemplate, settings: PageSettings,
                lookup: dict[str, Translation] | None = None,
                po_label: str = "") -> tuple[str, PageStats]:
    """Fill a template for one language: the page's HTML and what fell back."""
    renderer = _Renderer(template, settings, lookup or {}, po_label)
    html = renderer.render()
    return html, renderer.stats


def make_template(data: bytes, path: Path, source_language: str = "en") -> CompiledTemplate:
    """Parse a source page once into a template all languages share."""
    tree = parse_html(data, path)
    try:
        units = walk_units(tree)
        return compile_template(Template(tree, units, source_language))
    except RecursionError as e:
        raise InputError("markup nested too deeply to build", path) from e
    except InputError as e:
        raise InputError(e.message, path) from e


# --- the project build --------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PageResult:
    """What build did with one output page."""

    lang: str
    article: str
    output: str  # path as shown to the user
    status: str  # "built", "up to date", "skipped"
    percent: float = 100.0
    units: int = 0
    fallbacks: int = 0
    warnings: tuple[str, ...] = ()
    is_source: bool = False


@dataclass(slots=True)
class BuildReport:
    """The outcome of `transflow build`."""

    pages: list[PageResult] = field(default_factory=list)
    min_complete: float = 0.0

    @property
    def incomplete(self) -> bool:
        """True when a unit fell back to the source or a page was skipped (`--strict`)."""
        return any(p.status == "skipped" or p.fallbacks for p in self.pages)

    def count(self, status: str) -> int:
        """How many pages have this status."""
        return sum(1 for p in self.pages if p.status == status)

    def summary(self) -> str:
        """One line: pages built, up to date, skipped, units that fell back."""
        built, fresh, skipped = self.count("built"), self.count("up to date"), self.count("skipped")
        fallbacks = sum(p.fallbacks for p in self.pages)
        text = f"Built {built} page{'s' if built != 1 else ''}, {fresh} up to date"
        if skipped:
            text += f", {skipped} skipped (under {self.min_complete:g}% translated)"
        if fallbacks:
            text += f"; {fallbacks} unit{'s' if fallbacks != 1 else ''} fell back to the source text"
        return text + "."

    def detail_lines(self) -> list[str]:
        """One line per page."""
        lines = []
        for p in self.pages:
            if p.status == "skipped":
                continue  # reported by warning_lines
            if p.is_source:
                lines.append(f"{p.output}: {p.status} (source)")
                continue
            extra = f", {p.fallbacks} fell back" if p.fallbacks else ""
            lines.append(f"{p.output}: {p.status} ({p.percent:g}% translated{extra})")
        return lines

    def warning_lines(self) -> list[str]:
        """Skipped pages and translations that could not be used."""
        lines = []
        for p in self.pages:
            if p.status == "skipped":
                lines.append(f"{p.output}: skipped: {p.percent:g}% translated, under "
                             f"min_complete {self.min_complete:g}%")
            lines.extend(p.warnings)
        return lines


def _sha(data: bytes | None) -> str:
    return "-" if data is None else hashlib.sha256(data).hexdigest()


def _read_optional(path: Path) -> bytes | None:
    return read_bytes(path) if path.is_file() else None


def _load_manifest(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and data.get("version") == __version__ else {}


def _href(from_lang: str, to_lang: str, slug: str) -> str:
    """Relative URL from build/<from_lang>/<slug>.html to build/<to_lang>/<slug>.html.

    (What `posixpath.relpath` gives for these normalised paths, at a fraction of its cost.)
    >>> _href("ka", "en", "news/b"), _href("ka", "ka", "news/b"), _href("ru", "ka", "a")
    ('../../en/news/b.html', 'b.html', '../ka/a.html')
    """
    if from_lang == to_lang:
        return f"{posixpath.basename(slug)}.html"
    return "../" * (slug.count("/") + 1) + f"{to_lang}/{slug}.html"


class _Catalogs:
    """The catalogues of one article, each read at most once per build."""

    def __init__(self, project: Any, slug: str, reader: Callable[[Path], Any]):
        self.project, self.slug, self.reader = project, slug, reader
        self.cache: dict[str, Any] = {}

    def get(self, lang: str) -> Any:
        if lang not in self.cache:
            path = self.project.po_path(lang, self.slug)
            self.cache[lang] = self.reader(path) if path.is_file() else None
        return self.cache[lang]


@dataclass(frozen=True, slots=True)
class _BuildJob:
    """Everything a worker needs to build one article in every language (picklable)."""

    project: Any
    langs: tuple[str, ...]
    min_complete: float
    include_fuzzy: bool
    force: bool
    shown: dict[str, str] = field(default_factory=dict)  # "build/ka", "po/ka" → as shown


@dataclass(slots=True)
class _ArticleOutcome:
    pages: list[PageResult] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)  # "lang/slug" → entry or None
    percents: dict[str, Any] = field(default_factory=dict)
    hashes: dict[str, Any] = field(default_factory=dict)


class _Hasher:
    """sha256 of files, skipped when (mtime, size) match the manifest's record, as git's index."""

    def __init__(self, known: dict[str, Any]):
        self.known = known
        self.new: dict[str, Any] = {}
        self.memo: dict[str, str] = {}

    def sha(self, path: Path) -> str:
        key = str(path)
        digest = self.memo.get(key)
        if digest is None:
            digest = self.memo[key] = self._sha(path, key)
        return digest

    def _sha(self, path: Path, key: str) -> str:
        try:
            st = path.stat()
        except FileNotFoundError:
            return "-"
        old = self.known.get(key)
        if old and old[0] == st.st_mtime_ns and old[1] == st.st_size:
            return str(old[2])
        digest = _sha(read_bytes(path))
        self.new[key] = [st.st_mtime_ns, st.st_size, digest]
        return digest


TEMPLATE_CACHE = "templates"  # build/.cache/templates/<slug>.json: compiled templates


@functools.lru_cache(maxsize=1)
def _code_key() -> str:
    """What compiled templates depend on besides the source: transflow and the code that cuts."""
    digest = hashlib.sha256(__version__.encode())
    for module in ("build.py", "segment.py", "inline.py"):
        digest.update(read_bytes(Path(__file__).with_name(module)))
    return digest.hexdigest()


def _cached_template(project: Any, slug: str, src_path: Path, src_sha: str,
                     store: bool) -> CompiledTemplate:
    """The compiled template of a source page, from build/.cache when the source is unchanged.

    A new template is stored only if `store` (the source was already known to the previous
    build): a first build writes no cache it may never read.
    """
    cache_path = project.cache_dir / TEMPLATE_CACHE / f"{slug}.json"
    key = f"{_code_key()}:{src_sha}:{project.source_language}"
    try:
        stored_key, data = json.loads(cache_path.read_bytes())
        if stored_key == key:
            return CompiledTemplate.from_json(data)
    except (OSError, ValueError, TypeError, KeyError, IndexError):
        pass  # no cache, or an unusable one: compile the page again
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


def _stamp(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return [st.st_mtime_ns, st.st_size]


def _shown(job: _BuildJob, kind: str, lang: str, slug: str, suffix: str, path: Path) -> str:
    """`project.relative(path)` for build/<lang>/ or locales/<lang>/ files, from a prefix."""
    prefix = job.shown.get(f"{kind}/{lang}")
    return job.project.relative(path) if prefix is None else f"{prefix}/{slug}{suffix}"


def _build_article(job: _BuildJob, slug: str, manifest: dict[str, Any],
                   check_only: bool = False) -> _ArticleOutcome | None:
    """Build one article in the source language and every selected language.

    With `check_only`, return None as soon as a page needs building (the outcome otherwise).
    """
    project = job.project
    source_lang = project.source_language
    sentences = project.segmentation == "sentence"
    outcome = _ArticleOutcome()
    hasher = _Hasher(manifest.get("hashes", {}))
    src_path = project.source_path(slug)
    src_sha = hasher.sha(src_path)
    if src_sha == "-":
        raise InputError("no such file", src_path)
    template: CompiledTemplate | None = None
    catalogs = _Catalogs(project, slug, _read_entries)
    # Which languages get this page (all versions link each other with hreflang).
    eligible: list[str] = []
    page_percent: dict[str, float] = {}
    for lang in project.languages:
        if job.min_complete <= 0 and lang not in job.langs:
            eligible.append(lang)  # every page is built: no need to read this catalogue
            continue
        po_sha = hasher.sha(project.po_path(lang, slug))
        key = f"{lang}/{slug}|{int(job.include_fuzzy)}"
        cached = manifest.get("percent", {}).get(key)
        if cached and cached[0] == po_sha:
            pct = float(cached[1])
        else:
            po = catalogs.get(lang)
            pct = 0.0 if po is None else _catalog_percent(po, job.include_fuzzy)
            outcome.percents[key] = [po_sha, pct]
        page_percent[lang] = pct
        if pct >= job.min_complete:
            eligible.append(lang)
    versions = [source_lang, *eligible]
    for lang in [source_lang, *job.langs]:
        out_path = project.build_path(lang, slug)
        shown = _shown(job, "build", lang, slug, ".html", out_path)
        page_key = f"{lang}/{slug}"
        is_source = lang == source_lang
        pct = 100.0 if is_source else page_percent.get(lang, 0.0)
        if not is_source and lang not in eligible:
            outcome.pages.append(PageResult(lang, slug, shown, "skipped", pct))
            if out_path.is_file():
                out_path.unlink()  # a stale page would contradict the report
            outcome.manifest[page_key] = None
            continue
        po_sha = "-" if is_source else hasher.sha(project.po_path(lang, slug))
        alternates = tuple([(v, _href(lang, v, slug)) for v in versions]
                           + [("x-default", _href(lang, source_lang, slug))])
        key_data = json.dumps([__version__, src_sha, po_sha, lang, source_lang, alternates,
                               job.include_fuzzy, sentences], sort_keys=True)
        key = hashlib.sha256(key_data.encode()).hexdigest()
        old = manifest.get("pages", {}).get(page_key)
        if (not job.force and old and old.get("key") == key
                and old.get("stamp") == _stamp(out_path)):
            outcome.pages.append(PageResult(lang, slug, shown, "up to date", pct,
                                            old.get("units", 0), old.get("fallbacks", 0),
                                            tuple(old.get("warnings", ())), is_source))
            continue
        if check_only:
            return None
        if template is None:
            known = hasher.known.get(str(src_path))
            template = _cached_template(project, slug, src_path, src_sha,
                                        store=known is not None and known[2] == src_sha)
        lookup: dict[str, Translation] = {}
        po_label = ""
        if not is_source:
            po = catalogs.get(lang)
            po_label = _shown(job, "po", lang, slug, ".po", project.po_path(lang, slug))
            if po is not None:
                lookup = _catalog_lookup(po, job.include_fuzzy)
        settings = PageSettings(lang, source_lang, alternates, sentences)
        html, stats = render_page(template, settings, lookup, po_label)
        write_if_changed(out_path, html.encode("utf-8"), durable=False)  # rebuildable output
        fallbacks = 0 if is_source else stats.fallbacks
        outcome.manifest[page_key] = {
            "key": key, "stamp": _stamp(out_path), "units": stats.units,
            "fallbacks": fallbacks, "warnings": stats.warnings,
        }
        outcome.pages.append(PageResult(lang, slug, shown, "built", pct, stats.units,
                                        fallbacks, tuple(stats.warnings), is_source))
    outcome.hashes = hasher.new
    return outcome


# Below this many articles to rebuild, worker processes cost more than they save.
PARALLEL_MIN_ARTICLES = 40
_WORKER_STATE: dict[str, Any] = {}


def _built(job: _BuildJob, slug: str, manifest: dict[str, Any]) -> _ArticleOutcome:
    outcome = _build_article(job, slug, manifest)
    assert outcome is not None
    return outcome


def _worker_build(slug: str) -> _ArticleOutcome:
    return _built(_WORKER_STATE["job"], slug, _WORKER_STATE["manifest"])


def _outcomes(job: _BuildJob, articles: list[str], manifest: dict[str, Any],
              jobs: int) -> Iterable[_ArticleOutcome]:
    """Build every article, in worker processes when there are many (results in order)."""
    if jobs <= 1 or len(articles) < PARALLEL_MIN_ARTICLES:
        for slug in articles:
            yield _built(job, slug, manifest)
        return
    # Up-to-date articles are seen here (cheap: stats); workers only pay for real work.
    nothing_built = not manifest.get("pages")  # a first build: every article is stale
    fresh = {} if job.force or nothing_built else {
        slug: _build_article(job, slug, manifest, check_only=True) for slug in articles}
    stale = [slug for slug in articles if fresh.get(slug) is None]
    if len(stale) < PARALLEL_MIN_ARTICLES:
        for slug in articles:
            yield fresh.get(slug) or _built(job, slug, manifest)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    _WORKER_STATE.update(job=job, manifest=manifest)
    for lang in (job.project.source_language, *job.langs):  # load CLDR data once, before fork
        og_locale(lang), text_direction(lang), localise_time("2000-01-01T00:00", "0:00", lang)
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        built = pool.map(_worker_build, stale, chunksize=8)
        for slug in articles:
            yield fresh.get(slug) or next(built)


def build_project(project: Any, langs: list[str], articles: list[str], *,
                  min_complete: float = 0.0, include_fuzzy: bool = False, force: bool = False,
                  progress: Progress | None = None, jobs: int | None = None) -> BuildReport:
    """Write build/<lang>/<slug>.html for each language and build/<source>/<slug>.html."""
    from transflow.progress import no_progress

    progress = progress or no_progress
    if not project.locales_dir.is_dir():  # not "every unit fell back": nothing was extracted
        raise InputError("no such folder (run `transflow extract` first)",
                         project.relative(project.locales_dir))
    manifest_path = project.cache_dir / MANIFEST_NAME
    manifest = _load_manifest(manifest_path)
    pages: dict[str, Any] = dict(manifest.get("pages", {}))
    percents: dict[str, Any] = dict(manifest.get("percent", {}))
    hashes: dict[str, Any] = dict(manifest.get("hashes", {}))
    shown = {}
    for lang in (project.source_language, *langs):
        shown[f"build/{lang}"] = project.relative(project.build_dir / lang)
        shown[f"po/{lang}"] = project.relative(project.locales_dir / lang)
    job = _BuildJob(project, tuple(langs), min_complete, include_fuzzy, force, shown)
    jobs = jobs if jobs is not None else min(os.cpu_count() or 1, 4)
    report = BuildReport(min_complete=min_complete)
    try:
        with progress(articles, "Building") as items:
            for _, outcome in zip(items, _outcomes(job, articles, manifest, jobs), strict=True):
                report.pages.extend(outcome.pages)
                for key, entry in outcome.manifest.items():
                    if entry is None:
                        pages.pop(key, None)
                    else:
                        pages[key] = entry
                percents.update(outcome.percents)
                hashes.update(outcome.hashes)
    finally:
        # Whatever was built is recorded, even if a later article failed.
        new_manifest = {"version": __version__, "pages": dict(sorted(pages.items())),
                        "percent": dict(sorted(percents.items())),
                        "hashes": dict(sorted(hashes.items()))}
        # (no `indent`: json's C encoder only serves compact output; 10x faster on 4,000 pages)
        write_if_changed(manifest_path, json.dumps(new_manifest, ensure_ascii=False,
                                                   separators=(",", ":")))
    return report
