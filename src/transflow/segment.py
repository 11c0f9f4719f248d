"""HTML → translatable units (`Segment`s): the one segmenter shared by extract and build.

`walk_units(root)` decides what a unit is and keeps handles to the DOM (build replaces the
units in place); `extract_segments` is the pure view of the same walk that extract uses.

How a document is cut: every element that is not inline is a container; its content is cut into
*runs* of inline content between its block-level children, and every run with a letter or a
digit is a unit (so `<p>`, `<li>`, `<td>`, … are units, and text sitting directly in `<body>`,
`<div>` or `<ul>` is one too).  Inline elements become the light tags of `transflow.inline`;
a run wholly wrapped in one inline element (`<li><a href>Home</a></li>`) is shown without it.
Elements whose content is not text to translate but which sit inside a sentence (`<img>`,
`<br>`, `<time>`, inline `<code>`, `<svg>`, `<math>`, anything under `translate="no"`) are
void tags (`<time1/>`): build keeps them, content included, and localises `<time datetime>`
itself.  Comments, scripts, styles and empty inline elements (icons, anchors) inside a run are
invisible to translators and put back by build next to the same inline tag.  `<svg>` and
`<math>` internals, `<noscript>` fallbacks and `<pre>` blocks are never extracted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from transflow.errors import InputError
from transflow.htmltree import (  # (the encoding helpers live in htmltree; re-exported)
    ENCODING_ALIASES,  # noqa: F401
    SourceDoc,
    declared_encoding,  # noqa: F401
    decode_source,
    gc_paused,
)
from transflow.htmltree import parse_source as _parse_source
from transflow.inline import escape_text, notation_name, strip_tags

# --- policy -------------------------------------------------------------------------------

# Elements that end a run of inline content: their own content is cut into units separately.
BLOCK_TAGS = frozenset({
    "html", "body", "head",  # document structure
    "address", "article", "aside", "blockquote", "center", "details", "dialog", "dd", "dir",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "frameset",
    "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "legend", "li", "listing",
    "main", "menu", "nav", "ol", "p", "search", "section", "summary", "table", "caption",
    "colgroup", "col", "thead", "tbody", "tfoot", "tr", "td", "th", "ul", "optgroup", "option",
    "select", "datalist", "label", "button", "title",  # units of their own per SPEC §3
    "frame", "noframes",
})
# Never looked into: no units, no attributes (the brief and SPEC §3: code, scripts, styles).
SKIP_TAGS = frozenset({
    "script", "style", "template",  # not text
    "noscript",  # fallback for browsers without JS: tracking pixels and "enable JS" notices
    "pre", "listing", "xmp", "plaintext",  # preformatted code blocks
    "svg", "math",  # graphics and formulas: their text is not prose
    "textarea", "datalist",  # form values, not page text
    "iframe", "object", "embed", "noembed", "noframes", "frameset", "frame",  # foreign content
    "video", "audio", "canvas", "map",  # media: only their attributes could matter
    "head",  # handled field by field (title, meta), see HEAD_UNITS
})
# Inside a run: never shown to translators, kept by build next to the same inline tag.
HIDDEN_TAGS = frozenset({"script", "style", "template", "noscript", "link", "meta", "base"})
# Inside a run: shown as a void tag (`<img1/>`); the element is kept whole by build.
OPAQUE_TAGS = frozenset({
    "br", "wbr", "img", "input", "hr", "area", "source", "track", "param", "embed", "col",  # void
    "time",  # with `datetime`: its text is localised by build, not by translators
    "code", "kbd", "samp", "var", "tt",  # code in running text is not translated
    "svg", "math", "video", "audio", "canvas", "iframe", "object", "picture", "noembed",
    "textarea", "select", "datalist", "progress", "meter", "output", "map", "xmp", "pre",
    "listing", "plaintext", "noframes",
})
# Known inline (phrasing) elements; an unknown element is inline too unless it holds a block.
INLINE_TAGS = frozenset({
    "a", "abbr", "acronym", "b", "bdi", "bdo", "big", "cite", "data", "del", "dfn", "em",
    "font", "i", "ins", "mark", "nobr", "q", "rp", "rt", "ruby", "s", "small", "span",
    "strike", "strong", "sub", "sup", "u",
})
# Attributes that are text for readers (SPEC §3); each value is an entry of its own.
TRANSLATABLE_ATTRS = ("alt", "title", "aria-label", "placeholder")
# Elements whose translatable-looking attributes are not shown to readers.
ATTR_SKIP_ELEMENTS = frozenset({"html", "head", "link", "meta", "base", "script", "style"})
# `<meta name|property=…>` whose `content` is translated (SPEC §3).
META_FIELDS = frozenset({
    "description", "og:title", "og:description", "twitter:title", "twitter:description",
})
# Inside `<head>`, only these are units: the title and the meta fields above.
HEAD_UNITS = frozenset({"title", "meta"})
# The attribute that waives checks for a unit: `data-transflow-ignore="id1 id2"` (or "id1,id2").
IGNORE_ATTR = "data-transflow-ignore"
# The attribute that marks where build puts the language switcher (SPEC §7); never extracted.
SWITCHER_ATTR = "data-transflow"
SWITCHER_VALUE = "languages"
# Classes that mean "do not translate" besides HTML5 `translate="no"` (Google's convention).
NO_TRANSLATE_CLASSES = frozenset({"notranslate"})
# A unit that is only a URL or an e-mail address is not text to translate (SPEC §3).
URL_RE = re.compile(r"(?:[a-z][a-z0-9+.-]*://|www\.|mailto:)\S+|[^\s@]+@[^\s@]+\.\w+", re.I)
# A unit is only worth a translator's time if it has a letter or a digit.
_WORDY_RE = re.compile(r"\w", re.UNICODE)
_WS_RE = re.compile(r"[ \t\n\r\f]+")  # HTML whitespace; U+00A0 is a character, not spacing

# --- values -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Segment:
    """One translatable unit as extract sees it."""

    msgid: str
    line: int
    context: str
    # Checks waived for this unit: the ids of `data-transflow-ignore="id1 id2"` on its element
    # or an ancestor (house-style waivers in the source, SPEC §5).
    ignore: frozenset[str] = frozenset()


@dataclass(slots=True)
class Inline:
    """An inline element of a unit, as the notation tag `key` (`a1`, `br1/`)."""

    key: str
    element: Any  # lxml element
    void: bool
    content: list[Item] = field(default_factory=list)


@dataclass(slots=True)
class Hidden:
    """A node inside a run that translators never see (comment, script…), kept by build."""

    node: Any


Item = str | Inline | Hidden


@dataclass(slots=True)
class Unit:
    """A unit with its handles into the DOM; build replaces it in place.

    Text units: `content` is the run's items; the run is either the whole content of
    `element` (`members is None`) or the inline children `members` of `element` whose
    leading text is `element.text` (`lead_owner is None`) or `lead_owner.tail`.
    Attribute units: `attr` names the attribute of `element`.
    """

    msgid: str
    line: int
    context: str
    element: Any
    attr: str | None = None
    content: list[Item] = field(default_factory=list)
    members: list[Any] | None = None
    lead_owner: Any = None
    tags: dict[str, Inline] = field(default_factory=dict)
    ignore: frozenset[str] = frozenset()

    def segment(self) -> Segment:
        """The `Segment` value of this unit."""
        return Segment(self.msgid, self.line, self.context, self.ignore)


# --- parsing ------------------------------------------------------------------------------

def decode_html(data: bytes, path: Path | str) -> bytes:
    """The document as UTF-8 bytes: valid UTF-8 wins over any declaration, else BOM or charset."""
    text, _, _ = decode_source(data, path)
    return text.encode("utf-8", "replace")


def parse_source(data: bytes, path: Path | str) -> SourceDoc:
    """Parse a page as a browser does: its lxml copy for the walk, and its source ranges."""
    return _parse_source(data, path)


def parse_html(data: bytes, path: Path | str) -> Any:
    """Parse a whole HTML document (bytes in any encoding) into an lxml tree (see htmltree)."""
    return parse_source(data, path).root.getroottree()


# --- the walk -----------------------------------------------------------------------------

def normalise_space(text: str) -> str:
    """Collapse HTML whitespace to single spaces and strip the ends."""
    if "  " in text or "\n" in text or "\t" in text or "\r" in text or "\f" in text:
        text = _WS_RE.sub(" ", text)
    return text.strip()


def is_no_translate(el: Any) -> bool:
    """True when an element opts out of translation (`translate="no"`, class `notranslate`).

    The language switcher's place (`data-transflow="languages"`) is build's, not a translator's.
    """
    if el.get("translate", "").strip().lower() == "no":
        return True
    if el.get(SWITCHER_ATTR, "").strip().lower() == SWITCHER_VALUE:
        return True
    cls = el.get("class")
    return bool(cls) and not NO_TRANSLATE_CLASSES.isdisjoint(cls.split())


def _tag(node: Any) -> str | None:
    """Lower-case tag name of an element; None for comments, PIs and entities."""
    tag = node.tag
    return tag if isinstance(tag, str) else None  # libxml2's HTML parser lower-cases names


_BREAKING = BLOCK_TAGS - {"html", "body", "head"}


# Elements build edits besides units (`<link hreflang>`, `<time>`): `_survey` lists them.
MARKED_TAGS = frozenset({"link", "time"})


def _survey(root: Any) -> tuple[set[Any], set[Any], bool, list[Any]]:
    """One pass over the elements: (block holders, no-translate elements, any waiver, marked).

    Block holders are the elements with a block-level element somewhere below them (they
    cannot be inline); marked are the `<link>`, `<time>` and `data-transflow` elements, in
    document order, for build.  (One Python pass costs less than lxml's `iter(*tags)` plus
    XPath queries did: ~0.05 ms against ~0.35 ms for a 16 KB article.)
    """
    holders: set[Any] = set()
    no_translate: set[Any] = set()
    marked: list[Any] = []
    waivers = False
    breaking, marked_tags = _BREAKING, MARKED_TAGS
    for el in root.iter(etree.Element):
        tag = el.tag
        if tag in breaking:
            parent = el.getparent()
            while parent is not None and parent not in holders:
                holders.add(parent)
                parent = parent.getparent()
        elif tag in marked_tags:
            marked.append(el)
        names = el.keys()
        if names:
            if SWITCHER_ATTR in names and tag not in marked_tags:
                marked.append(el)
            if ("translate" in names or SWITCHER_ATTR in names
                    or ("class" in names and "notranslate" in el.get("class"))) \
                    and is_no_translate(el):
                no_translate.add(el)
            if IGNORE_ATTR in names:
                waivers = True
    return holders, no_translate, waivers, marked


_STATIC_KIND: dict[str, str] = {
    **{t: "opaque" for t in OPAQUE_TAGS}, **{t: "block" for t in BLOCK_TAGS},
    **{t: "hidden" for t in HIDDEN_TAGS},
}
_IGNORE_SPLIT_RE = re.compile(r"[\s,]+")


def ignored_ids(el: Any) -> frozenset[str]:
    """The ids of `data-transflow-ignore` on an element and its ancestors."""
    ids: set[str] = set()
    node = el
    while node is not None:
        value = node.get(IGNORE_ATTR) if isinstance(node.tag, str) else None
        if value:
            ids.update(part for part in _IGNORE_SPLIT_RE.split(value) if part)
        node = node.getparent()
    return frozenset(ids)


class _Walker:
    """One pass over a document that yields its units in document order."""

    def __init__(self, root: Any):
        self.root = root
        self.holders, self.no_translate, self.waivers, self.marked = _survey(root)
        self.units: list[Unit] = []

    # Classification of a child inside a container: "hidden", "opaque", "inline" or "block".
    def kind(self, node: Any) -> str:
        tag = node.tag
        if not isinstance(tag, str):
            return "hidden"  # comment, processing instruction
        static = _STATIC_KIND.get(tag)
        if static == "hidden" or static == "block":
            return static
        if self.no_translate and node in self.no_translate:
            return "opaque"
        if static == "opaque" and (tag != "time" or node.get("datetime") is not None):
            return "opaque"  # (a <time> without `datetime` is ordinary text to translate)
        if node in self.holders:
            return "block"
        if not len(node) and not (node.text or "").strip():
            return "hidden"  # an empty icon or anchor: nothing to place for a translator
        return "inline"

    def run(self) -> list[Unit]:
        root = self.root
        if is_no_translate(root):
            return []
        units = self._run()
        if self.waivers:  # waivers are rare: only then look at each unit's ancestors
            for unit in units:
                unit.ignore = ignored_ids(unit.element)
        return units

    def _run(self) -> list[Unit]:
        root = self.root
        head = root.find("head")
        if head is not None:
            self.walk_head(head)
        # Iterative depth-first walk: frames of [container, children, next index, run start].
        stack: list[list[Any]] = [[root, list(root), 0, 0]]
        self.attr_units(root)
        static_kind, kind, no_translate = _STATIC_KIND.get, self.kind, self.no_translate
        emit_run = self.emit_run
        while stack:
            frame = stack[-1]
            container, children, i, start = frame
            count = len(children)
            while i < count:  # (to the next block child, whose content is walked next)
                child = children[i]
                i += 1
                static = static_kind(child.tag)  # (a comment's tag is a function: not listed)
                if static != "block" and (static == "hidden" or kind(child) != "block"):
                    continue
                if start < i - 1:
                    emit_run(container, children, start, i - 1)
                else:  # (the usual empty run: only spacing between two blocks)
                    lead = container.text if start == 0 else children[start - 1].tail
                    if lead and not lead.isspace():
                        emit_run(container, children, start, i - 1)
                start = i
                if child.tag in SKIP_TAGS or child in no_translate:
                    continue
                if child.keys():
                    self.attr_units(child)
                frame[2], frame[3] = i, start
                stack.append([child, list(child), 0, 0])
                break
            else:
                self._run_between(container, children, start, count)
                stack.pop()
        return self.units

    def _run_between(self, container: Any, children: list[Any], start: int, end: int) -> None:
        """`emit_run`, skipping the usual empty run (only spacing between two blocks)."""
        if start == end:
            lead = container.text if start == 0 else children[start - 1].tail
            if not lead or lead.isspace():
                return
        self.emit_run(container, children, start, end)

    def walk_head(self, head: Any) -> None:
        for el in head:
            tag = _tag(el)
            if tag == "title":
                text = normalise_space(el.text or "")
                if _WORDY_RE.search(text) and not is_no_translate(el):
                    self.units.append(Unit(escape_text(text), el.sourceline or 1, "title", el,
                                           content=[el.text or ""]))
            elif tag == "meta":
                key = (el.get("property") or el.get("name") or "").strip().lower()
                if key in META_FIELDS:
                    self.attr_unit(el, "content", f"meta {key}")

    def attr_unit(self, el: Any, attr: str, context: str) -> None:
        value = el.get(attr)
        if not value:
            return
        text = normalise_space(value)
        if _WORDY_RE.search(text) and (" " in text or not URL_RE.fullmatch(text)):
            self.units.append(Unit(escape_text(text), el.sourceline or 1, context, el, attr=attr))

    def attr_units(self, el: Any) -> None:
        names = el.keys()
        if not names:
            return
        tag = _tag(el)
        if tag is None or tag in ATTR_SKIP_ELEMENTS:
            return
        for attr in TRANSLATABLE_ATTRS:
            if attr in names:
                self.attr_unit(el, attr, f"{tag} {attr}")

    def emit_run(self, container: Any, children: list[Any], start: int, end: int) -> None:
        """Make a unit of children[start:end] (all inline) and the text before/between them."""
        lead_owner = None if start == 0 else children[start - 1]
        lead = (container.text if start == 0 else children[start - 1].tail) or ""
        if start == end:
            if not lead or lead.isspace():
                return
            # Text alone (a heading, a plain paragraph, text after a block): the common case.
            text = normalise_space(lead)
            msgid = escape_text(text)
            if _WORDY_RE.search(text) and (" " in text or not URL_RE.fullmatch(text)):
                whole = start == 0 and end == len(children)
                line = container.sourceline if lead_owner is None else lead_owner.sourceline
                self.units.append(Unit(msgid, line or 1, container.tag, container,
                                       content=[lead], members=None if whole else [],
                                       lead_owner=lead_owner))
            return
        members = children[start:end]
        whole = start == 0 and end == len(children)
        unit_el = container
        # Unwrap: a run that is one inline element (plus spacing and hidden nodes) is shown
        # without it, so `<li><a href>Home</a></li>` gives `Home`.
        while True:
            wrapper = self.sole_inline(lead, members)
            if wrapper is None:
                break
            unit_el, whole = wrapper, True
            members = list(wrapper)
            lead = wrapper.text or ""
            lead_owner = None
            if not members:
                # Text alone in its wrapper (`<li><a href>Home</a></li>`, a third of a
                # newsroom page's units): what `items` and `_notation` would make of it.
                text = normalise_space(lead)
                if _WORDY_RE.search(text) and (" " in text or not URL_RE.fullmatch(text)):
                    self.units.append(Unit(escape_text(text), unit_el.sourceline or 1,
                                           _tag(unit_el) or "text", unit_el, content=[lead]))
                self.attr_units(unit_el)
                return
        counters: dict[str, int] = {}
        tags: dict[str, Inline] = {}
        attr_holders: list[Any] = []
        if unit_el is not container:
            attr_holders.append(unit_el)
        try:
            content = self.items(lead, members, counters, tags, attr_holders)
        except RecursionError as e:  # (browsers keep any depth; Python's stack does not)
            line = _first_line(unit_el, members, lead_owner)
            raise InputError("inline markup nested too deeply to segment", None, line) from e
        msgid = normalise_space(_notation(content))
        plain = strip_tags(msgid)  # entities read: "&amp;" alone is not a word
        if _WORDY_RE.search(plain) and (" " in plain or not URL_RE.fullmatch(plain)):
            line = _first_line(unit_el, members, lead_owner)
            context = _tag(unit_el) or "text"
            self.units.append(Unit(msgid, line, context, unit_el, content=content,
                                   members=None if whole else members,
                                   lead_owner=lead_owner, tags=tags))
        for el in attr_holders:
            self.attr_units(el)

    def sole_inline(self, lead: str, members: list[Any]) -> Any:
        if lead.strip():
            return None
        found = None
        for m in members:
            kind = self.kind(m)
            if kind == "hidden":
                if (m.tail or "").strip():
                    return None
                continue
            if kind != "inline" or found is not None or (m.tail or "").strip():
                return None
            found = m
        return found

    def items(self, lead: str, members: list[Any], counters: dict[str, int],
              tags: dict[str, Inline], attr_holders: list[Any]) -> list[Item]:
        """The content of a run (or of an inline element) as notation items."""
        out: list[Item] = []
        if lead:
            out.append(lead)
        for m in members:
            kind = self.kind(m)
            if kind == "hidden":
                out.append(Hidden(m))
            else:
                name = notation_name(_tag(m) or "x")
                counters[name] = counters.get(name, 0) + 1
                key = f"{name}{counters[name]}"
                inline = Inline(key, m, void=kind == "opaque")
                tags[key] = inline
                out.append(inline)
                if kind == "opaque":
                    tag = _tag(m)
                    if tag not in SKIP_TAGS and m not in self.no_translate:
                        # e.g. <picture><img alt></picture>: its attributes are still text.
                        attr_holders.extend(e for e in m.iter() if isinstance(e.tag, str))
                else:
                    attr_holders.append(m)
                    inline.content = self.items(m.text or "", list(m), counters, tags,
                                                attr_holders)
            if m.tail:
                out.append(m.tail)
        return out


def _notation(items: list[Item]) -> str:
    """The notation text of items (before whitespace normalisation)."""
    out: list[str] = []
    for item in items:
        if isinstance(item, str):
            out.append(escape_text(item))
        elif isinstance(item, Inline):
            if item.void:
                out.append(f"<{item.key}/>")
            else:
                out.append(f"<{item.key}>")
                out.append(_notation(item.content))
                out.append(f"</{item.key}>")
    return "".join(out)




def _first_line(unit_el: Any, members: list[Any], lead_owner: Any) -> int:
    for m in members:
        if m.sourceline:
            return int(m.sourceline)
    return int(unit_el.sourceline or 1)


def walk_units(tree: Any) -> list[Unit]:
    """Every unit of a parsed document, in document order, with its DOM handles."""
    return walk_page(tree)[0]


def walk_page(tree: Any) -> tuple[list[Unit], list[Any]]:
    """`walk_units`, and the elements build edits besides units, found on the same pass:
    every `<link>`, `<time>` and `data-transflow` element, in document order."""
    root = tree.getroot() if hasattr(tree, "getroot") else tree
    try:
        walker = _Walker(root)
        return walker.run(), walker.marked
    except RecursionError as e:
        raise InputError("markup nested too deeply to segment", None, 1) from e


def split_unit(msgid: str, sentences: bool) -> list[str]:
    """The msgids of one unit: itself, or its sentences in sentence mode."""
    if not sentences:
        return [msgid]
    splitter = _sentence_splitter()
    if splitter is None:
        return [msgid]
    parts = [normalise_space(s) for s in splitter(msgid)]
    return [p for p in parts if p] or [msgid]


def _sentence_splitter() -> Callable[[str], list[str]] | None:
    try:
        from transflow.sentences import split_sentences
    except ImportError:
        return None
    return split_sentences


def extract_segments(data: bytes, path: Path, *, sentences: bool = False) -> list[Segment]:
    """The translatable segments of an HTML document (bytes), in document order."""
    with gc_paused():  # (the tree and units are freed before collection resumes)
        return _extract_segments(data, path, sentences)


def _extract_segments(data: bytes, path: Path, sentences: bool) -> list[Segment]:
    tree = parse_html(data, path)
    try:
        units = walk_units(tree)
    except InputError as e:
        raise InputError(e.message, path, e.line) from e
    segments: list[Segment] = []
    for unit in units:
        if sentences and unit.attr is None:
            for part in split_unit(unit.msgid, True):
                segments.append(Segment(part, unit.line, unit.context))
        else:
            segments.append(unit.segment())
    return segments
