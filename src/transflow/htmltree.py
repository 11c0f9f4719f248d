"""Parse HTML as a browser does, and remember where every node came from in the source.

The parser is justhtml (pure Python, WHATWG-conformant: it passes html5lib-tests), run with
node locations: every element knows the offsets of its start and end tags, every text node
where it starts.  The result is copied into a plain lxml tree, which is what the segmenter
walks (one walk for extract and build), with side tables from lxml node to source range:

- `start[el]`/`end[el]`: the start tag `[s0, s1)` and end tag `[e0, e1)` as written (absent
  for a tag the parser implied, e.g. `<tbody>`, or an end tag the source never wrote);
- `text_span[el]`/`tail_span[el]`: where `el.text`/`el.tail` is written, only when reading
  that source slice as the parser does gives back exactly that text;
- `outer[el]`: the element (or comment) as one contiguous slice of source, only when its
  content tiles that slice in tree order (nothing misnested, moved by foster parenting or
  cloned by the adoption agency algorithm inside it).

Build splices translations into the source at these ranges, so a range is only given when it
is certain: where it is not, build keeps the source bytes and reports the unit as fallen back.
Offsets are character offsets into the decoded text (`SourceDoc.text`), which is decoded
losslessly (undecodable bytes as surrogate escapes) so that it encodes back to the same bytes.
"""

from __future__ import annotations

import bisect
import codecs
import contextlib
import functools
import gc
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from transflow.errors import InputError

# Elements whose content the tokenizer reads as raw text, to their end tag (or to the end of
# the file): their text is kept as written, never decoded.
RAW_TEXT = frozenset({
    "script", "style", "xmp", "iframe", "noembed", "noframes", "noscript", "plaintext",
})
# Elements whose text is read with entities but no tags (RCDATA).
RCDATA = frozenset({"title", "textarea"})
# Deeper than this, Chromium's parser stops nesting (it attaches elements as siblings), so
# what its readers see is not the WHATWG tree: such a page is refused.
MAX_DEPTH = 512
# Subtrees kept whole when they are complete in the source (their inside is not ours to check).
OPAQUE_SUBTREES = frozenset({"svg", "math", "template"})

# Characters lxml refuses in text (not XML 1.0 characters); shown as U+FFFD in the lxml copy.
_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9._-]*\Z")
# Where a run of text ends in the data state: a `<` that starts a tag, comment or declaration.
_MARKUP = re.compile(r"<[A-Za-z/!?]")
# What may lie between two nodes of a contiguous content: spacing and end tags the parser ignored.
_GAP = re.compile(r"(?:[ \t\n\r\f]+|</[A-Za-z][^>]*>)*")
# Encodings a page may declare, read as the WHATWG Encoding Standard says browsers read them.
ENCODING_ALIASES = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "iso-8859-1": "cp1252",
    "latin1": "cp1252", "latin-1": "cp1252", "ascii": "cp1252", "us-ascii": "cp1252",
    "iso-8859-9": "cp1254", "tis-620": "cp874", "shift_jis": "cp932", "euc-kr": "cp949",
    "big5": "big5hkscs",
}
_CHARSET_RE = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_HIDE_RE = re.compile(rb"<script\b.*?</script\s*>|<!--.*?-->|<style\b.*?</style\s*>", re.I | re.S)

Span = tuple[int, int]


@dataclass(slots=True)
class SourceDoc:
    """A parsed source page: its text, its lxml copy and where each node is in the text."""

    text: str
    encoding: str  # Python codec that gives the source bytes back from `text`
    bom: bytes
    root: Any  # lxml element <html>
    start: dict[Any, Span] = field(default_factory=dict)
    end: dict[Any, Span] = field(default_factory=dict)
    text_span: dict[Any, Span] = field(default_factory=dict)
    tail_span: dict[Any, Span] = field(default_factory=dict)
    outer: dict[Any, Span] = field(default_factory=dict)
    content: dict[Any, Span] = field(default_factory=dict)

    def encode(self, text: str) -> bytes:
        """The bytes of a page written from this source: its encoding, its BOM.

        Source text comes back byte for byte (surrogate escapes); a translated character the
        encoding cannot hold is written as a character reference.
        """
        if self.encoding == "utf-8":
            return self.bom + text.encode("utf-8", "surrogateescape")
        return self.bom + text.encode(self.encoding, "transflow-html")


def _html_errors(error: UnicodeError) -> tuple[str | bytes, int]:
    """Encoding error handler: surrogate escapes are source bytes, anything else `&#N;`."""
    assert isinstance(error, UnicodeEncodeError)
    out = bytearray()
    for ch in error.object[error.start:error.end]:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:
            out.append(code - 0xDC00)
        else:
            out += f"&#{code};".encode("ascii")
    return bytes(out), error.end


codecs.register_error("transflow-html", _html_errors)


# --- collecting ---------------------------------------------------------------------------

@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside (reference counting still frees everything else).

    Reading a page allocates tens of thousands of container objects (tree nodes, source
    ranges, units) that all live until the page is done: the collector would run dozens of
    times per page and each full collection walks every live object of the process (~12 %
    of a cold build's template time, more on the large pages justhtml reads).  Collection
    resumes when the page is done and takes what it left behind in one pass.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# --- decoding -----------------------------------------------------------------------------

def declared_encoding(data: bytes) -> str | None:
    """The Python codec of the page's `<meta charset>` (scripts and comments ignored), if any."""
    head = _HIDE_RE.sub(b"", data[:65536])
    m = _CHARSET_RE.search(head)
    if not m:
        return None
    name = m.group(1).decode("ascii", "replace").lower()
    name = ENCODING_ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


@functools.cache
def _ascii_compatible(codec: str) -> bool:
    """Whether ASCII bytes read the same in `codec` (not UTF-16/32, not a 7-bit shift codec)."""
    probe = bytes(range(0x20, 0x7F)) + b"\t\n\r"
    try:
        return probe.decode(codec) == probe.decode("ascii") and codec not in _STATEFUL
    except (UnicodeDecodeError, LookupError):
        return False


# Codecs that read ASCII bytes as ASCII but give `~{` or `+` a meaning of their own.
_STATEFUL = frozenset({"hz", "utf_7", "iso2022_jp", "iso2022_jp_1", "iso2022_jp_2",
                       "iso2022_jp_2004", "iso2022_jp_3", "iso2022_jp_ext", "iso2022_kr"})


def decode_source(data: bytes, path: Path | str) -> tuple[str, str, bytes]:
    """(text, codec, BOM): valid UTF-8 wins over any declaration, else BOM or charset.

    Bytes the codec cannot decode become surrogate escapes, so `text` encodes back to `data`.
    A page of plain ASCII bytes is valid UTF-8 and valid in the legacy encoding it may declare
    (`<meta charset="windows-1252">` on an English page): its declaration is kept as the
    codec, so a translation written into it is what a browser reading that declaration sees
    (characters the encoding lacks become character references), not UTF-8 bytes it would
    show as mojibake.
    """
    if data.startswith(codecs.BOM_UTF8):
        bom, body = data[:3], data[3:]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        codec = "utf-16-le" if data.startswith(codecs.BOM_UTF16_LE) else "utf-16-be"
        try:
            return data[2:].decode(codec), codec, data[:2]
        except UnicodeDecodeError as e:
            raise InputError(f"not valid UTF-16 text: {e.reason}", path) from e
    else:
        bom, body = b"", data
    if b"\x00" in body[:8192]:
        raise InputError("not an HTML file (binary data)", path)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if not bom and body.isascii():
            declared = declared_encoding(body)
            if declared is not None and declared != "utf-8" and _ascii_compatible(declared):
                return text, declared, bom
        return text, "utf-8", bom
    encoding = declared_encoding(body) or "cp1252"
    return body.decode(encoding, errors="surrogateescape"), encoding, bom


# --- parsing ------------------------------------------------------------------------------

def _comment_end(text: str, pos: int) -> int:
    """Where a comment (or bogus comment: `<?php …?>`, `<!x>`, `</ 1>`) starting at `pos` ends."""
    n = len(text)
    if text.startswith("<!--", pos):
        if text.startswith(">", pos + 4):
            return pos + 5  # <!-->
        if text.startswith("->", pos + 4):
            return pos + 6  # <!--->
        i = pos + 4
        while True:
            j = text.find("--", i)
            if j < 0:
                return n
            k = j + 2
            while text.startswith("-", k):  # `--->`: the last two dashes close it
                k += 1
            if text.startswith(">", k):
                return k + 1
            if text.startswith("!>", k):
                return k + 2
            i = k
    j = text.find(">", pos + 2)
    return n if j < 0 else j + 1


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _verified(text: str, a: int, b: int, data: str) -> bool:
    """Whether text[a:b], read as the tokenizer reads text, is `data`."""
    chunk = text[a:b]
    if chunk == data:
        return True
    if "&" in chunk:
        chunk = html.unescape(chunk)
    chunk = _newlines(chunk)
    return chunk == data or chunk.replace("\x00", "") == data  # (NUL is dropped in body text)


_END_TAG = re.compile(r"</[A-Za-z][^>]*>")


def _text_end(text: str, pos: int, data: str) -> int | None:
    """Where the text node `data` that starts at `pos` ends, if the source slice reads as it.

    A text node may run on over end tags the parser ignored (the spacing after `</body>` and
    `</html>` joins the body's last text): those are inside its slice.
    """
    m = _MARKUP.search(text, pos)
    stop = m.start() if m else len(text)
    if _verified(text, pos, stop, data):
        return stop
    read = _read_text(text[pos:stop])
    while m is not None and data.startswith(read):
        tag = _END_TAG.match(text, stop)
        if tag is None:
            return None
        pos = tag.end()
        m = _MARKUP.search(text, pos)
        stop = m.start() if m else len(text)
        read += _read_text(text[pos:stop])
        if read == data:
            return stop
    return None


def _read_text(chunk: str) -> str:
    if "&" in chunk:
        chunk = html.unescape(chunk)
    return _newlines(chunk)


def _lxml_tag(name: str) -> str:
    return name if _XML_NAME.match(name) else "x"


def _xml_text(data: str) -> str:
    return _NOT_XML.sub("\ufffd", data) if _NOT_XML.search(data) else data


class _Builder:
    """Copies a justhtml document into lxml, filling a SourceDoc's tables."""

    def __init__(self, doc: SourceDoc):
        self.doc = doc
        self.text = doc.text
        self.bad_text: set[tuple[Any, bool]] = set()  # (element, is_tail) with unknown span
        self.line_starts = [0]
        self.line_starts.extend(m.end() for m in re.finditer("\n", doc.text))

    def build(self, jroot: Any) -> Any:
        html_node = None
        for child in jroot.children:
            if child.name == "html":
                html_node = child
        root = etree.Element("html")
        if html_node is None:  # (the parser always makes one; be safe)
            return root
        self._meta(html_node, root, None)
        for name, value in html_node.attrs.items():
            try:
                root.set(name, _xml_text(value or ""))
            except ValueError:
                pass
        # Iterative copy: (justhtml parent, lxml parent, depth).
        stack: list[tuple[Any, Any, int]] = [(html_node, root, 1)]
        while stack:
            jparent, parent, depth = stack.pop()
            if depth > MAX_DEPTH:
                raise InputError(f"elements nested more than {MAX_DEPTH} deep: browsers "
                                 "(Chromium) flatten what lies deeper", None,
                                 int(parent.sourceline or 1))
            self._children(jparent, parent, stack, depth)
        return root

    def _element(self, node: Any, parent: Any) -> Any:
        """The lxml copy of a justhtml element under `parent`, with its source ranges."""
        tag = _lxml_tag(node.name)
        attrs = node.attrs
        if attrs:
            try:  # one C call in the common case
                el = etree.SubElement(parent, tag, {k: v or "" for k, v in attrs.items()})
            except ValueError:  # a name or value XML cannot hold (`xlink:href`, `a"b`, `\x01`)
                el = etree.SubElement(parent, tag)
                for name, value in attrs.items():
                    try:
                        el.set(name, _xml_text(value or ""))
                    except ValueError:
                        pass  # (nothing the walker reads)
        else:
            el = etree.SubElement(parent, tag)
        self._meta(node, el, parent)
        return el

    def _meta(self, node: Any, el: Any, parent: Any) -> None:
        meta = node._metadata
        doc = self.doc
        line: int | None = None
        if meta is not None:
            if meta[4] is not None and meta[5] is not None:
                doc.start[el] = (meta[4], meta[5])
                # The line of the tag's `>`, as libxml2 numbers elements (extract's `#:` lines).
                line = bisect.bisect_right(self.line_starts, meta[5] - 1)
            elif meta[1] is not None:
                line = bisect.bisect_right(self.line_starts, meta[1])
            if meta[6] is not None and meta[7] is not None:
                doc.end[el] = (meta[6], meta[7])
        if line is None and parent is not None:
            line = parent.sourceline
        if line is not None:
            el.sourceline = line

    def _children(self, jparent: Any, parent: Any, stack: list[Any], depth: int) -> None:
        doc, text = self.doc, self.text
        last: Any = None
        raw = parent.tag in RAW_TEXT
        rcdata = parent.tag in RCDATA
        for node in jparent.children:
            name = node.name
            if name == "#text":
                data = node.data or ""
                meta = node._metadata
                key = (parent, False) if last is None else (last, True)
                table = doc.text_span if last is None else doc.tail_span
                owner = parent if last is None else last
                existing = (parent.text if last is None else last.tail) or ""
                if existing or key in self.bad_text:
                    table.pop(owner, None)
                    self.bad_text.add(key)
                elif meta is not None:
                    pos = meta[0]
                    if raw or rcdata:
                        end = doc.end.get(parent)
                        stop: int | None = end[0] if end is not None else len(text)
                        if not raw and not _verified(text, pos, stop or 0, data):
                            stop = None
                    else:
                        stop = _text_end(text, pos, data)
                    if stop is not None:
                        table[owner] = (pos, stop)
                    else:
                        self.bad_text.add(key)
                else:
                    self.bad_text.add(key)
                value = existing + _xml_text(data)
                if last is None:
                    parent.text = value
                else:
                    last.tail = value
            elif name == "#comment" or name == "#processing-instruction":
                comment = etree.Comment("")
                parent.append(comment)
                last = comment
                meta = node._metadata
                if meta is not None and meta[1] is not None:
                    pos = meta[1]
                    doc.outer[comment] = (pos, _comment_end(text, pos))
                    comment.sourceline = bisect.bisect_right(self.line_starts, pos)  # type: ignore[assignment]
            elif name.startswith("#") or name == "!doctype":
                continue
            else:
                el = self._element(node, parent)
                last = el
                if node.children and name != "template":
                    stack.append((node, el, depth + 1))


def _gap_ok(text: str, a: int, b: int) -> bool:
    return a == b or _GAP.fullmatch(text, a, b) is not None


def _measure(doc: SourceDoc, elements: list[Any] | None = None) -> None:
    """Fill `doc.content` and `doc.outer` bottom-up (see the module docstring).

    `elements`: only these, children before parents (the others are measured already).
    """
    text = doc.text
    start, end, text_span, tail_span = doc.start, doc.end, doc.text_span, doc.tail_span
    outer, content = doc.outer, doc.content
    if elements is None:
        elements = list(doc.root.iter(etree.Element))
        elements.reverse()
    for el in elements:
        st = start.get(el)
        en = end.get(el)
        tag = el.tag
        if tag in RAW_TEXT or tag in OPAQUE_SUBTREES:
            if st is not None:
                if en is not None:
                    content[el] = (st[1], en[0])
                    outer[el] = (st[0], en[1])
                elif tag in RAW_TEXT and tag != "noscript":
                    content[el] = (st[1], len(text))  # an unclosed <script> runs to the end
                    outer[el] = (st[0], len(text))
            continue
        cursor = st[1] if st is not None else None
        first: int | None = None
        ok = True
        if el.text:
            span = text_span.get(el)
            if span is None:
                ok = False
            else:
                first = span[0]
                if cursor is not None and (span[0] < cursor or not _gap_ok(text, cursor, span[0])):
                    ok = False
                cursor = span[1]
        if ok:
            for child in el:
                span = outer.get(child)
                if span is None:
                    ok = False
                    break
                if first is None:
                    first = span[0]
                if cursor is not None and (span[0] < cursor or not _gap_ok(text, cursor, span[0])):
                    ok = False
                    break
                cursor = span[1]
                if child.tail:
                    span = tail_span.get(child)
                    if span is None or span[0] < cursor or not _gap_ok(text, cursor, span[0]):
                        ok = False
                        break
                    cursor = span[1]
        if not ok:
            continue
        stop = cursor
        if en is not None and st is None and first is not None and en[1] <= first:
            en = None  # (`</body>` before the text the parser put in the body after it)
        if en is not None:
            if cursor is not None and en[0] < cursor <= en[1]:
                continue
            if cursor is not None and en[0] < cursor:
                # `</body>` inside the spacing that follows it (the parser puts that spacing
                # in the body): the content ends at the end tag, the element after the spacing.
                stop = en[0]
            else:
                if cursor is not None and not _gap_ok(text, cursor, en[0]):
                    continue
                stop = cursor = en[0]
        if cursor is None or stop is None:
            continue  # an implied element with nothing in it: no place in the source
        c0 = st[1] if st is not None else (first if first is not None else stop)
        if stop < c0:
            continue
        content[el] = (c0, stop)
        if st is not None:
            outer[el] = (st[0], max(en[1], cursor) if en is not None else cursor)


_ENGINE: Any = None


def _engine_class() -> Any:
    """justhtml's parse engine, made to read bogus markup as browsers do while it tracks tags.

    With tag positions on and sanitising off, justhtml keeps markup it would otherwise drop or
    turn into a comment as *text* (a source-preserving mode for its own sanitiser): `<?php …?>`,
    `<![if IE]>`, an unclosed `<!--`, a misplaced `<!DOCTYPE>`, `</x y>` for an element that is
    not open, a tag cut off by the end of the file.  The WHATWG tokenizer makes the first three
    comments and ignores the rest; this subclass does the same, so the tree is a browser's.
    """
    global _ENGINE
    if _ENGINE is None:
        from justhtml.parser.engine import ParseEngine

        class Engine(ParseEngine):
            __slots__ = ()

            def _line_col_at_pos(self, pos: int) -> tuple[int, int]:
                return 0, 0  # (htmltree numbers lines itself, only where it needs them)

            def _append_text(self, raw: str, source_pos: int | None = None) -> None:
                if len(raw) > 1 and raw[0] == "<":
                    kind = _bogus_kind(raw)
                    if kind == "comment":
                        self._append_comment("", source_pos)
                        return
                    if kind == "ignore":
                        return
                super()._append_text(raw, source_pos)

        _ENGINE = Engine
    return _ENGINE


def _bogus_kind(raw: str) -> str | None:
    """What the WHATWG tokenizer makes of markup justhtml handed over as text."""
    second = raw[1]
    if second == "!":
        return "ignore" if raw[2:9].lower() == "doctype" else "comment"
    if second == "?":
        return "comment"
    if second == "/":
        if len(raw) == 2:
            return None  # `</` at the end of the file is text
        third = raw[2]
        return "ignore" if third.isascii() and (third.isalpha() or third == ">") else "comment"
    if second.isascii() and second.isalpha():
        return "ignore"  # a start tag the end of the file cut off
    return None


def _parse_tree(text: str) -> Any:
    from justhtml.parser.engine import compile_raw_engine_plan

    engine = _engine_class()(
        text, fragment=False, fragment_context=None, scripting_enabled=True,
        plan=compile_raw_engine_plan(False, True), collect_errors=False, max_errors=1,
        iframe_srcdoc=False, track_node_locations=True, track_tag_spans=True,
        emit_bogus_markup_as_text=False, xml_coercion=False)
    return engine.parse()


def parse_source_full(data: bytes, path: Path | str) -> SourceDoc:
    """Parse a page (bytes in any encoding) with justhtml, the full WHATWG parser.

    An empty or whitespace-only file is a document with nothing to translate (issue 12): the
    browser's empty `<html><head></head><body></body></html>`, none of it in the source.
    """
    text, encoding, bom = decode_source(data, path)
    try:
        parsed = _parse_tree(text)
    except RecursionError as e:
        raise InputError("markup nested too deeply to parse", path, 1) from e
    doc = SourceDoc(text, encoding, bom, None)
    try:
        doc.root = _Builder(doc).build(parsed)
    except InputError as e:
        raise InputError(e.message, path, e.line) from e
    _measure(doc)
    return doc


def parse_source(data: bytes, path: Path | str, *, fast: bool = True) -> SourceDoc:
    """Parse a page (bytes in any encoding) as a browser does, with source ranges.

    A cleanly nested page is read by `htmlfast` (its tree is its nesting); any other page, or
    with `fast=False`, by justhtml.  Both give the same SourceDoc where the first applies.
    """
    if not fast or not data.strip():
        return parse_source_full(data, path)
    text, encoding, bom = decode_source(data, path)
    doc = SourceDoc(text, encoding, bom, None)
    from transflow import htmlfast

    root = htmlfast.read(doc)
    if root is None:
        return parse_source_full(data, path)
    doc.root = root
    # htmlfast measured every element it closed; <body>, <head> and <html> are left (the
    # spacing after `</body>` and `</html>` is the body's: `_measure` knows that case).
    _measure(doc, [root[1], root[0], root])
    return doc


# --- start tags as written ------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class AttrSpan:
    """Where one attribute of a start tag is written: its value's range and quote."""

    name_start: int
    value_start: int  # (== value_end, after the name, for an attribute written without value)
    value_end: int
    quote: str  # '"', "'", or "" (unquoted or no value)


_TAG_NAME = re.compile(r"</?[^\t\n\f\r />]*")
_ATTR_NAME = re.compile(r"[^\t\n\f\r />][^\t\n\f\r /=>]*")
_SPACE = re.compile(r"[\t\n\f\r /]*")
_UNQUOTED = re.compile(r"[^\t\n\f\r >]*")
_BLANK = re.compile(r"[\t\n\f\r ]*")


def tag_name_end(text: str, start: int) -> int:
    """The offset just after a start tag's name (`<p|`)."""
    m = _TAG_NAME.match(text, start)
    return m.end() if m else start + 1


def start_tag_attributes(text: str, start: int, end: int) -> dict[str, AttrSpan]:
    """The attributes of the start tag text[start:end], as the WHATWG tokenizer reads them.

    Names are lower-cased; the first of duplicate attributes wins (the others are dropped by
    the parser, so they are not the element's).
    """
    found: dict[str, AttrSpan] = {}
    pos = tag_name_end(text, start)
    stop = end - 1  # the closing `>`
    while pos < stop:
        pos = _SPACE.match(text, pos, stop).end()  # type: ignore[union-attr]
        if pos >= stop:
            break
        m = _ATTR_NAME.match(text, pos, stop)
        if m is None:
            break
        name_start, pos = pos, m.end()
        name = m.group().lower()
        after = _BLANK.match(text, pos, stop).end()  # type: ignore[union-attr]
        if after < stop and text[after] == "=":
            pos = _BLANK.match(text, after + 1, stop).end()  # type: ignore[union-attr]
            quote = text[pos] if pos < stop and text[pos] in "\"'" else ""
            if quote:
                close = text.find(quote, pos + 1, stop)
                if close < 0:
                    break  # (cannot happen in a tag the tokenizer closed at `end`)
                span = AttrSpan(name_start, pos + 1, close, quote)
                pos = close + 1
            else:
                vend = _UNQUOTED.match(text, pos, stop).end()  # type: ignore[union-attr]
                span = AttrSpan(name_start, pos, vend, "")
                pos = vend
        else:
            span = AttrSpan(name_start, pos, pos, "")
        found.setdefault(name, span)
    return found
