"""Source page → compiled template: the source's own text cut at the places a language changes.

A template is the page's text as a list of *parts*: literal slices of the source and numbered
*slots*.  A slot is a range of the source (or an insertion point) that each language fills: a
unit's content, a translatable attribute's value, `<html lang>`, `og:locale`'s value, `<time>`
text, the hreflang links before `</head>`, the language switcher, `lang="en"` on a unit that
fell back.  Everything between slots is the source's own text, byte for byte once encoded back:
doctype (or none), entities, quoting, case, comments, processing instructions, template
markup.  Slots nest (an `alt` inside a paragraph): each slot keeps its own source parts, which
is what it is filled with when the language leaves it unchanged.

The ranges come from `transflow.htmltree`: a unit whose content is not one contiguous slice of
source in tree order (misnested or cloned formatting, foster-parented table text) gets no slot;
its bytes stay the source's and build reports it as fallen back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from transflow.errors import InputError
from transflow.htmltree import SourceDoc, gc_paused, start_tag_attributes, tag_name_end
from transflow.segment import (
    SKIP_TAGS,
    Hidden,
    Item,
    Unit,
    is_no_translate,
    parse_source,
    walk_page,
)

Parts = list  # literal strings and slot numbers (int), in document order


# --- the compiled template: plain data, no DOM (what languages render from; cacheable) -----

@dataclass(slots=True)
class CHidden:
    """A node translators never see (comment, script, icon…), as its source parts."""

    parts: Parts


@dataclass(slots=True)
class CInline:
    """An inline element of a unit: its start tag (whole element if void) and end tag."""

    key: str
    void: bool
    start: Parts
    end: str
    content: list[Any]  # str | CHidden | CInline


@dataclass(slots=True)
class CUnit:
    """A unit as the renderer needs it: msgid, its content items and where it is written.

    `placed` is False when the unit has no contiguous source range: it is never rewritten.
    `lead`/`trail` are the source's own spacing at the ends of the unit's range.
    """

    msgid: str
    attr: str | None
    is_run: bool  # part of its element's content (a fallback is wrapped in <span lang>)
    content: list[Any]  # str | CHidden | CInline
    placed: bool = True
    lead: str = ""
    trail: str = ""
    tags: dict[str, CInline] = field(default_factory=dict)


@dataclass(slots=True)
class CSlot:
    """A slot: kind, attribute name, unit index, kind-specific data and its source parts."""

    kind: str
    name: str
    unit: int
    data: Any
    source: Parts


@dataclass(slots=True)
class CompiledTemplate:
    """A source page compiled once: literal parts with slots, and its units."""

    parts: Parts
    slots: list[CSlot]
    units: list[CUnit]
    encoding: str = "utf-8"
    bom: bytes = b""
    add_og_locale: bool = False
    source_hreflangs: tuple[str, ...] = ()  # the alternates the source itself declares

    def encode(self, text: str) -> bytes:
        """The bytes of a rendered page: the source's encoding and BOM (see SourceDoc.encode)."""
        if self.encoding == "utf-8":  # (SourceDoc.encode's common case, without a SourceDoc)
            return self.bom + text.encode("utf-8", "surrogateescape")
        return SourceDoc(text="", encoding=self.encoding, bom=self.bom, root=None).encode(text)

    def to_json(self) -> Any:
        """A JSON-able form (for the template cache)."""
        return [self.parts, [[s.kind, s.name, s.unit, s.data, s.source] for s in self.slots],
                [[u.msgid, u.attr, u.is_run, _items_json(u.content), u.placed, u.lead, u.trail]
                 for u in self.units],
                self.encoding, self.bom.decode("latin-1"), self.add_og_locale,
                list(self.source_hreflangs)]

    @classmethod
    def from_json(cls, data: Any) -> CompiledTemplate:
        """The inverse of `to_json` (raises on a malformed value)."""
        parts, slots, units, encoding, bom, add_og, hreflangs = data
        cunits = [_unit(msgid, attr, bool(is_run), _items_from_json(content), bool(placed),
                        str(lead), str(trail))
                  for msgid, attr, is_run, content, placed, lead, trail in units]
        return cls(list(parts), [CSlot(k, n, int(u), d, s) for k, n, u, d, s in slots], cunits,
                   str(encoding), str(bom).encode("latin-1"), bool(add_og),
                   tuple(str(h) for h in hreflangs))


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


def _unit(msgid: str, attr: str | None, is_run: bool, content: list[Any], placed: bool,
          lead: str, trail: str) -> CUnit:
    unit = CUnit(msgid, attr, is_run, content, placed, lead, trail)
    if len(content) > 1 or (content and content[0].__class__ is not str):
        _index_tags(content, unit.tags)
    return unit


def _index_tags(items: list[Any], tags: dict[str, CInline]) -> None:
    for item in items:
        if item.__class__ is CInline:
            tags[item.key] = item
            _index_tags(item.content, tags)


def merged(parts: Parts) -> Parts:
    """Parts with each run of adjacent literal strings joined (fewer items to fill and store)."""
    if len(parts) < 2 and (not parts or parts[0].__class__ is not str or parts[0]):
        return parts  # (nothing to join or drop: most slots' sources)
    out: Parts = []
    buf: list[str] = []
    for part in parts:
        if part.__class__ is str:
            if part:
                buf.append(part)
        else:
            if buf:
                out.append("".join(buf))
                buf = []
            out.append(part)
    if buf:
        out.append("".join(buf))
    return out


# --- compiling ----------------------------------------------------------------------------

_SPACES = " \t\n\r\f"
# The HTML parser's formatting elements (WHATWG "list of active formatting elements").
FORMATTING = frozenset({
    "a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u",
})
_LINK_HREFLANG_RE = re.compile(r"alternate", re.I)
_SELF_CLOSED_RE = re.compile(r"/\s*>\Z")


# Elements that, left open, run to the end of the file as text.
OPEN_TO_EOF = frozenset({"script", "style", "title", "textarea", "xmp", "iframe", "noembed",
                         "noframes", "noscript", "plaintext"})


@dataclass(slots=True)
class _Edit:
    start: int
    end: int
    slot: int


class _Compiler:
    """Finds the slots of one source page and cuts its text at them."""

    def __init__(self, doc: SourceDoc, units: list[Unit], source_language: str,
                 marked: list[Any] | None = None):
        self.doc = doc
        self.text = doc.text
        self.units = units
        # `<link>`, `<time>` and `data-transflow` elements in document order (the walk's)
        self.marked = marked if marked is not None else [
            el for el in doc.root.iter(etree.Element)
            if el.tag in ("link", "time") or el.get("data-transflow") is not None]
        self.source_language = source_language
        self.slots: list[CSlot] = []
        self.edits: list[_Edit] = []
        self.attrs_cache: dict[Any, Any] = {}

    # -- helpers
    def attributes(self, el: Any) -> Any:
        """The attributes of el's start tag as written (None if the parser implied the tag)."""
        if el in self.attrs_cache:
            return self.attrs_cache[el]
        st = self.doc.start.get(el)
        found = None if st is None else start_tag_attributes(self.text, st[0], st[1])
        self.attrs_cache[el] = found
        return found

    def slot(self, kind: str, start: int, end: int, name: str = "", unit: int = -1,
             data: Any = None) -> int:
        self.slots.append(CSlot(kind, name, unit, data, []))
        index = len(self.slots) - 1
        self.edits.append(_Edit(start, end, index))
        return index

    def attr_value_slot(self, kind: str, el: Any, name: str, unit: int = -1) -> bool:
        """A slot over the value of attribute `name` as written in el's start tag."""
        attrs = self.attributes(el)
        span = None if attrs is None else attrs.get(name)
        if span is None:
            return False
        self.slot(kind, span.value_start, span.value_end, name, unit, span.quote)
        return True

    def insert_slot(self, kind: str, el: Any, name: str, unit: int = -1) -> bool:
        """A slot just after el's tag name, where a new attribute can be written."""
        st = self.doc.start.get(el)
        if st is None:
            return False
        at = tag_name_end(self.text, st[0])
        self.slot(kind, at, at, name, unit)
        return True

    # -- units
    def unit_range(self, unit: Unit) -> tuple[int, int] | None:
        """The source range of a text unit's content, if it is one contiguous slice."""
        doc = self.doc
        if unit.members is None:
            return doc.content.get(unit.element)
        pieces: list[tuple[int, int] | None] = []
        lead_owner = unit.lead_owner
        lead = unit.element.text if lead_owner is None else lead_owner.tail
        if lead:
            pieces.append(doc.text_span.get(unit.element) if lead_owner is None
                          else doc.tail_span.get(lead_owner))
        for m in unit.members:
            pieces.append(doc.outer.get(m))
            if m.tail:
                pieces.append(doc.tail_span.get(m))
        if not pieces or any(p is None for p in pieces):
            return None
        spans = [p for p in pieces if p is not None]
        for before, after in zip(spans, spans[1:], strict=False):
            if after[0] != before[1]:
                return None  # (a gap: something the parser ignored or moved; not ours)
        return spans[0][0], spans[-1][1]

    def compile_items(self, items: list[Item]) -> list[Any] | None:
        """A unit's items with source parts, or None if an element is not written whole."""
        if len(items) == 1 and items[0].__class__ is str:
            return [items[0]]  # (text alone: most units)
        out: list[Any] = []
        doc = self.doc
        for item in items:
            if isinstance(item, str):
                out.append(item)
            elif isinstance(item, Hidden):
                span = doc.outer.get(item.node)
                if span is None or _open_to_eof(doc, item.node):
                    return None
                out.append(CHidden([span]))
            elif item.void:
                span = doc.outer.get(item.element)
                if span is None or _open_to_eof(doc, item.element):
                    return None
                out.append(CInline(item.key, True, [span], "", []))
            else:
                st = doc.start.get(item.element)
                if st is None or doc.outer.get(item.element) is None:
                    return None
                en = doc.end.get(item.element)
                if en is not None:
                    end = self.text[en[0]:en[1]]
                elif _closed_by_next(item.element):
                    end = "</" + self.text[st[0] + 1:tag_name_end(self.text, st[0])] + ">"
                else:
                    # Closed by what follows: a formatting element stays open for the parser
                    # (and is reopened in the next block), which an end tag of ours would stop.
                    return None
                content = self.compile_items(item.content)
                if content is None:
                    return None
                out.append(CInline(item.key, False, [st], end, content))
        return out

    def compile_units(self) -> list[CUnit]:
        cunits: list[CUnit] = []
        for index, unit in enumerate(self.units):
            if unit.attr is not None:
                placed = self.attr_value_slot("attr", unit.element, unit.attr, index)
                cunits.append(CUnit(unit.msgid, unit.attr, False, [], placed))
                continue
            rng = self.unit_range(unit)
            content = None if rng is None else self.compile_items(unit.content)
            if rng is None or content is None:
                cunits.append(_unit(unit.msgid, None, unit.members is not None, [], False, "", ""))
                continue
            raw = self.text[rng[0]:rng[1]]
            stripped = raw.lstrip(_SPACES)
            lead = raw[: len(raw) - len(stripped)]
            trail = stripped[len(stripped.rstrip(_SPACES)):]
            cunits.append(_unit(unit.msgid, None, unit.members is not None, content, True,
                                lead, trail))
            self.slot("unit", rng[0], rng[1], unit=index)
            if unit.members is None and unit.element.tag in FORMATTING:
                # Attributes of formatting elements take part in the parser's bookkeeping
                # (Noah's Ark clause, clones): a fallback is marked by a <span lang> inside.
                cunits[-1].is_run = True
            elif unit.members is None:
                # (the lxml copy has the source's attributes: the start tag is only read when
                # there is a value to replace)
                el = unit.element
                if el.get("lang") is None:
                    self.insert_slot("lang-insert", el, "lang", index)
                else:
                    self.attr_value_slot("lang", el, "lang", index)
                if el.get("dir") is not None:
                    self.attr_value_slot("dir", el, "dir", index)
        return cunits

    # -- the page
    def page_slots(self) -> tuple[bool, tuple[str, ...]]:
        doc, root = self.doc, self.doc.root
        attrs = self.attributes(root)
        if attrs is not None:  # a fragment has no <html> to mark
            if "lang" in attrs:
                self.attr_value_slot("html-lang", root, "lang")
            else:
                self.insert_slot("html-lang-insert", root, "lang")
            if "dir" in attrs:
                self.attr_value_slot("html-dir", root, "dir")
            else:
                self.insert_slot("html-dir-insert", root, "dir")
        head = root.find("head")
        props: list[str] = []
        hreflangs: list[str] = []
        void_style = ">"
        if head is not None:
            for el in head.iter("meta", "link"):
                st = doc.start.get(el)
                if st is not None and _SELF_CLOSED_RE.search(self.text, st[0], st[1]):
                    void_style = " />"
                if el.tag == "meta":
                    prop = (el.get("property") or "").strip().lower()
                    props.append(prop)
                    if prop == "og:locale" and el.get("content") is not None:
                        self.attr_value_slot("og-locale", el, "content")
        marked = self.marked
        for link in marked:
            if link.tag == "link" and link.get("hreflang") is not None \
                    and _LINK_HREFLANG_RE.search(link.get("rel") or ""):
                hreflangs.append(link.get("hreflang", "").strip().lower())
        add_og = any(p.startswith("og:") for p in props) and "og:locale" not in props
        if head is not None:
            self.head_slot(head, void_style)
        for time in marked:
            if time.tag == "time" and time.get("datetime") is not None \
                    and not _in_skipped(time):
                rng = doc.content.get(time)
                if rng is not None and doc.end.get(time) is not None:
                    self.slot("time", rng[0], rng[1],
                              data=[time.get("datetime") or "", "".join(time.itertext())])
        for el in marked:
            if (el.get("data-transflow") or "").strip().lower() == "languages":
                rng = doc.content.get(el)
                if rng is not None and doc.end.get(el) is not None:
                    self.slot("switcher", rng[0], rng[1], data=[el.tag, self.line_style(el)])
        return add_og, tuple(hreflangs)

    def line_style(self, el: Any) -> list[str]:
        """[indent of el's line, newline] as the source writes them."""
        text = self.text
        st = self.doc.start.get(el)
        pos = st[0] if st is not None else 0
        line_start = text.rfind("\n", 0, pos) + 1
        indent = text[line_start:pos]
        if indent.strip(" \t"):
            indent = ""
        newline = "\r\n" if "\r\n" in text[:4096] else "\n"
        return [indent, newline]

    def head_slot(self, head: Any, void_style: str) -> None:
        """Where the hreflang links go: before `</head>`, on lines of their own if it is."""
        doc, text = self.doc, self.text
        if doc.start.get(head) is None and doc.start.get(doc.root) is None:
            return  # a fragment (a partial, an include): it stays a fragment
        en = doc.end.get(head)
        if en is not None:
            at = en[0]
        else:
            children = [c for c in head if doc.outer.get(c) is not None]
            if children and isinstance(children[-1].tag, str) and \
                    doc.end.get(children[-1]) is None and children[-1].tag in OPEN_TO_EOF:
                return  # (`<head><script>…` never closed: whatever follows is its text)
            if children:
                at = doc.outer[children[-1]][1]
            elif doc.start.get(head) is not None:
                at = doc.start[head][1]
            else:
                return  # a fragment: no head to add to
        line_start = text.rfind("\n", 0, at) + 1
        own_line = not text[line_start:at].strip(" \t")
        newline = "\r\n" if "\r\n" in text[:4096] else "\n"
        indent = ""
        if own_line:
            # The indentation of the head's last element, the closing tag's line otherwise.
            last = [c for c in head if isinstance(c.tag, str) and doc.start.get(c) is not None]
            if last:
                pos = doc.start[last[-1]][0]
                ls = text.rfind("\n", 0, pos) + 1
                if not text[ls:pos].strip(" \t"):
                    indent = text[ls:pos]
            at = line_start
        self.slot("head", at, at, data=[own_line, indent, newline, void_style])

    def cut(self, start: int, end: int, edits: list[_Edit], index: int,
            inner: bool) -> tuple[Parts, int]:
        """The parts of text[start:end] (slots for the edits inside it), and the next edit."""
        parts: Parts = []
        cursor = start
        text = self.text
        taken: _Edit | None = None
        slots = self.slots
        count = len(edits)
        while index < count:
            e = edits[index]
            e_start, e_end = e.start, e.end
            if e_start > end or (e_start == end and (e_end > end or inner)):
                break
            if e_start < cursor or e_end > end or (inner and start < end and e_start == start
                                                   and e_end == end) \
                    or (taken is not None and e_start == taken.start and e_end == taken.end
                        and slots[e.slot].kind == slots[taken.slot].kind
                        and slots[e.slot].name == slots[taken.slot].name):
                # An edit that overlaps another, or a second one of the same range (an element
                # the parser cloned shares its start tag): dropped; its unit stays the source's.
                index += 1
                continue
            taken = e
            if e_start > cursor:
                parts.append(text[cursor:e_start])
            index += 1
            if index >= count or edits[index].start >= e_end:
                # Nothing inside (the usual case): the source is the range's text.
                slots[e.slot].source = [text[e_start:e_end]] if e_end > e_start else []
            else:
                source, index = self.cut(e_start, e_end, edits, index, True)
                slots[e.slot].source = merged(source)
            parts.append(e.slot)
            cursor = e_end
        if end > cursor:
            parts.append(text[cursor:end])
        return parts, index

    def compile(self) -> CompiledTemplate:
        units = self.compile_units()
        add_og, hreflangs = self.page_slots()
        # Outer first at one start; insertion points before what starts where they are.
        edits = sorted(self.edits, key=lambda e: (e.start, e.end != e.start, -e.end))
        parts, _ = self.cut(0, len(self.text), edits, 0, False)
        placed = _slots_in(parts, self.slots)
        # Source parts of units' tags: the text of their ranges (cut for the slots inside).
        spans_to_parts = _SpanCutter(self, edits)
        for cunit, unit_slot in zip(units, self._unit_slots(), strict=True):
            if unit_slot is not None and unit_slot not in placed:
                cunit.placed = False
            _resolve(cunit.content, spans_to_parts)
        return CompiledTemplate(merged(parts), self.slots, units, self.doc.encoding, self.doc.bom,
                                add_og, hreflangs)

    def _unit_slots(self) -> list[int | None]:
        found: list[int | None] = [None] * len(self.units)
        for i, slot in enumerate(self.slots):
            if slot.kind in ("unit", "attr") and slot.unit >= 0:
                found[slot.unit] = i
        return found


def _slots_in(parts: Parts, slots: list[CSlot]) -> set[int]:
    """The slots that are written: those in `parts` and, recursively, in their sources."""
    found: set[int] = set()
    stack = [p for p in parts if p.__class__ is int]
    while stack:
        index = stack.pop()
        if index not in found:
            found.add(index)
            stack.extend(p for p in slots[index].source if p.__class__ is int)
    return found


class _SpanCutter:
    """Turns a source span into parts, with the slots inside it."""

    def __init__(self, compiler: _Compiler, edits: list[_Edit]):
        self.compiler = compiler
        self.edits = edits
        self.starts = [e.start for e in edits]

    def __call__(self, span: tuple[int, int]) -> Parts:
        import bisect

        index = bisect.bisect_left(self.starts, span[0])
        parts, _ = self.compiler.cut(span[0], span[1], self.edits, index, True)
        return merged(parts)


def _resolve(items: list[Any], cutter: _SpanCutter) -> None:
    for item in items:
        if item.__class__ is CHidden:
            item.parts = cutter(item.parts[0])
        elif item.__class__ is CInline:
            item.start = cutter(item.start[0])
            _resolve(item.content, cutter)


def _open_to_eof(doc: SourceDoc, node: Any) -> bool:
    """An unclosed `<script>`, `<plaintext>`…: all that follows it is its text, so nothing can
    be written after it (a translation's words, the end tag of a fallback's wrapper)."""
    if not isinstance(node.tag, str) or doc.end.get(node) is not None:
        return False
    return node.tag in OPEN_TO_EOF or any(d.tag in OPEN_TO_EOF and doc.end.get(d) is None
                                          for d in node.iter() if isinstance(d.tag, str))


def _closed_by_next(el: Any) -> bool:
    """`<a>one <a>two</a>`: the second start tag closed the first (adoption agency), so an
    end tag written where the first ends changes nothing."""
    after = el.getnext()
    return el.tag in ("a", "nobr") and after is not None and after.tag == el.tag \
        and not el.tail


def _in_skipped(el: Any) -> bool:
    for anc in el.iterancestors():
        if anc.tag in SKIP_TAGS or is_no_translate(anc):
            return True
    return is_no_translate(el)


def make_template(data: bytes, path: Path, source_language: str = "en") -> CompiledTemplate:
    """Parse a source page once into a template all languages share."""
    with gc_paused():  # (the tree and units are freed before collection resumes)
        return _make_template(data, path, source_language)


def _make_template(data: bytes, path: Path, source_language: str) -> CompiledTemplate:
    doc = parse_source(data, path)
    try:
        units, marked = walk_page(doc.root)
        return _Compiler(doc, units, source_language, marked).compile()
    except RecursionError as e:
        raise InputError("markup nested too deeply to build", path, 1) from e
    except InputError as e:
        raise InputError(e.message, path, e.line) from e
