"""The fast path of `htmltree.parse_source`: a page whose tree is its own nesting.

Most newsroom pages are written cleanly: a standards-mode doctype, `<html><head>…</head>
<body>…</body></html>`, every element closed where it is opened.  For such a page the WHATWG
tree-construction algorithm builds exactly the nesting of its tags, so the tree and every
source range can be read off the tags themselves, several times faster than justhtml runs
its full tokenizer and tree builder in Python.

The reader is deliberately narrow: anything where the algorithm does more than nest (tables
and foster parenting, a `<p>` closed by a block, `<li>` and `<dd>` auto-closing, `<a>` in
`<a>`, headings in headings, forms, selects, foreign content, raw text other than
`<script>`/`<style>`/`<title>`, quirks-mode doctypes, stray or missing end tags, bogus
comments, ambiguous character references in attributes) makes it give up, and the page is
parsed by justhtml.  `tests/test_htmlfast.py` checks that wherever it does not give up, it
gives exactly what justhtml gives.
"""

from __future__ import annotations

import html
import html.entities
import re
from typing import Any

from lxml import etree

# Void elements (no end tag, no content).
VOID = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
    "source", "track", "wbr",
})
# Start tags whose tree construction is more than nesting (or that we do not model).
GIVE_UP = frozenset({
    "html", "head", "body", "frameset", "frame", "colgroup", "col", "select", "option", "optgroup", "datalist", "svg",
    "math", "template", "noscript", "plaintext", "xmp", "iframe", "noembed", "noframes",
    "textarea", "pre", "listing", "image", "isindex", "applet", "object",
    "marquee", "nobr", "keygen", "menuitem", "rb", "rt", "rp", "rtc", "title", "base",
    "basefont", "bgsound", "param", "embed", "area", "hr", "search", "font", "ruby",
})
# Table structure we follow: each written explicitly, each only under its own parent (anything
# else in a table is foster-parented or implies a <tbody>: the full parser's job).
TABLE_CHILDREN = {
    "table": frozenset({"caption", "thead", "tbody", "tfoot"}),
    "thead": frozenset({"tr"}), "tbody": frozenset({"tr"}), "tfoot": frozenset({"tr"}),
    "tr": frozenset({"td", "th"}),
}
TABLE_PARENT = {"caption": "table", "thead": "table", "tbody": "table", "tfoot": "table", "tr": "tbody|thead|tfoot",
                "td": "tr", "th": "tr"}
# Start tags that close an open <p> (WHATWG "in body"); we give up if a <p> is open.
CLOSES_P = frozenset({
    "address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div",
    "dl", "fieldset", "figcaption", "figure", "footer", "header", "hgroup", "main", "menu",
    "nav", "ol", "p", "section", "summary", "ul", "h1", "h2", "h3", "h4", "h5", "h6", "li",
    "dd", "dt", "table", "form",
})
# Start tags the checks in `_content` are about (any other tag nests, outside tables).
_CHECKED = GIVE_UP | CLOSES_P | {"a", "form", "button", "li", "dd", "dt"} | frozenset(TABLE_PARENT)
MAX_DEPTH = 400  # (deeper pages go to the full parser, which knows the real limit)
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
HEAD_CONTENT = frozenset({"title", "meta", "link", "script", "style"})
RAW = frozenset({"script", "style"})

# HTML's whitespace (Python's `\s` also takes U+00A0, U+2028…: `</em\u2028>` is no `</em>`).
_WS = "[\t\n\f\r ]"
_NAME = "[A-Za-z][A-Za-z0-9-]*"
# One attribute as the fast path takes it (anything else written in a tag makes it give up).
_ATTR = (rf"""{_WS}+[a-zA-Z_:][-a-zA-Z0-9_:.]*"""
         rf"""(?:{_WS}*={_WS}*(?:"[^"]*"|'[^']*'|[^\t\n\f\r "'=<>`]+))?""")
_ATTRS = re.compile(
    rf"""{_WS}+([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:{_WS}*={_WS}*(?:"([^"]*)"|'([^']*)'|([^\t\n\f\r "'=<>`]+)))?""")
# Characters that make the fast path give up: controls lxml cannot hold (U+000C included:
# HTML spacing, but not XML), lone surrogates (undecodable bytes) and noncharacters.
_BAD_CHARS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff"
# One step of the reader: the text up to the next markup (a `<` that starts none is text),
# then a start tag (name, attributes, `/`), an end tag (name) or a comment's `<!--`.  Where
# this does not match, the page holds what the fast path does not model: it gives up.
_STEP = re.compile(
    rf"([^<{_BAD_CHARS}]*+(?:<(?![A-Za-z/!?])[^<{_BAD_CHARS}]*+)*+)"
    rf"<(?:({_NAME})((?:{_ATTR})*+){_WS}*+(/?)>|/({_NAME}){_WS}*+>|(!--))")
_START = re.compile(rf"<({_NAME})((?:{_ATTR})*+){_WS}*+(/?)>")
_TAG_END = re.compile(rf"{_WS}*(/?)>")
_DOCTYPE = re.compile(rf"<!DOCTYPE{_WS}+html{_WS}*>", re.I | re.A)
_HTML_END = re.compile(rf"</html{_WS}*>", re.I | re.A)
_RAW_END = {name: re.compile(rf"</{name}[\t\n\f\r />]", re.I | re.A)
            for name in ("script", "style", "title")}
_NUM_REF = re.compile(r"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+))")
_REF_OK = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_BLANK = re.compile(r"[ \t\n\r\f]*")
_BAD_RAW = re.compile(f"[{_BAD_CHARS}]")  # in script and style text
_BAD_TEXT = re.compile(f"[{_BAD_CHARS}]|</|<\\?")  # in text: also `</ x>`, `<?x>` (bogus comments)


class GiveUp(Exception):
    """The page needs the full parser."""


def _text(raw: str) -> str:
    if "\r" in raw:
        raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    if "&" not in raw:
        return raw
    if "&#" in raw and _dropped_reference(raw):
        raise GiveUp
    return html.unescape(raw)


def _dropped_reference(raw: str) -> bool:
    """Whether raw holds a numeric reference `html.unescape` drops and a browser keeps.

    (`&#8;`, `&#x1;`, `&#xFDD0;`: the WHATWG tokenizer keeps a control or noncharacter code
    point, a parse error only; Python's `html.unescape` writes nothing for it.)
    """
    for m in _NUM_REF.finditer(raw):
        hexa, decimal = m.groups()
        n = int(hexa, 16) if hexa else int(decimal)
        if n <= 0x10FFFF and (0x1 <= n <= 0x8 or n == 0xB or 0xE <= n <= 0x1F or n == 0x7F
                              or 0xFDD0 <= n <= 0xFDEF or n & 0xFFFE == 0xFFFE):
            return True
    return False


def _attr_value(raw: str) -> str:
    if "&" not in raw:
        return raw.replace("\r\n", "\n").replace("\r", "\n") if "\r" in raw else raw
    # Only unambiguous references: in attributes `&copy=` is text, html.unescape would not say so.
    if raw.count("&") != len(_REF_OK.findall(raw)):
        raise GiveUp
    for m in _REF_OK.finditer(raw):
        if not m.group().startswith("&#") and m.group()[1:] not in html.entities.html5:
            raise GiveUp
    return _text(raw)


def _attributes(written: str) -> dict[str, str]:
    """The attributes of a start tag from what `_START`/`_STEP` matched after its name."""
    attrs: dict[str, str] = {}
    for key, double, single, bare in _ATTRS.findall(written):
        if not key.islower():
            key = key.lower()
        if key not in attrs:  # (the first of duplicates wins)
            value = double or single or bare
            attrs[key] = _attr_value(value) if "&" in value or "\r" in value else value
    return attrs


class _Reader:
    def __init__(self, doc: Any):
        self.doc = doc
        self.text = doc.text

    def line(self, pos: int) -> int:
        """The line of offset `pos` (1-based)."""
        return self.text.count("\n", 0, pos) + 1

    def start_tag(self, pos: int) -> tuple[str, dict[str, str], int, bool]:
        """(name, attributes, end offset, self-closing) of the start tag at `pos`."""
        m = _START.match(self.text, pos)
        if m is None:
            raise GiveUp
        name, written, slash = m.groups()
        return name.lower(), _attributes(written) if written else {}, m.end(), bool(slash)

    def element(self, parent: Any, name: str, attrs: dict[str, str], s0: int, s1: int) -> Any:
        try:
            el = etree.SubElement(parent, name, attrs)
        except ValueError:
            raise GiveUp from None
        self.doc.start[el] = (s0, s1)
        el.sourceline = self.line(s1 - 1)  # type: ignore[assignment]
        return el

    def add_text(self, owner: Any, is_tail: bool, a: int, b: int) -> None:
        if a >= b:
            return
        raw = self.text[a:b]
        if _BAD_TEXT.search(raw):
            raise GiveUp  # (control characters; `</ x>` and `<?x>` are bogus comments)
        value = _text(raw)
        doc = self.doc
        if is_tail:
            if owner.tail:
                raise GiveUp
            owner.tail = value
            doc.tail_span[owner] = (a, b)
        else:
            if owner.text:
                raise GiveUp
            owner.text = value
            doc.text_span[owner] = (a, b)

    def comment(self, parent: Any, a: int, line: int) -> int:
        text = self.text
        if text.startswith(("<!-->", "<!--->"), a):
            raise GiveUp
        close = text.find("-->", a + 4)
        if close < 0 or "--!>" in text[a:close + 3]:
            raise GiveUp
        end = close + 3
        node = etree.Comment("")
        parent.append(node)
        self.doc.outer[node] = (a, end)
        node.sourceline = line  # type: ignore[assignment]
        return end

    def raw_text(self, el: Any, name: str, pos: int) -> int:
        """Read a <script>/<style>/<title> body; return the offset after its end tag."""
        text = self.text
        m = _RAW_END[name].search(text, pos)
        if m is None:
            raise GiveUp
        body = text[pos:m.start()]
        if name == "script" and "<!--" in body:
            raise GiveUp  # (script data escaped states: not modelled)
        e = _TAG_END.match(text, m.end() - 1)
        if e is None or e.group(1):
            raise GiveUp
        if body:
            if name == "title":
                self.add_text(el, False, pos, m.start())
            else:
                if _BAD_RAW.search(body):
                    raise GiveUp
                el.text = body.replace("\r\n", "\n").replace("\r", "\n") if "\r" in body else body
                self.doc.text_span[el] = (pos, m.start())
        self.doc.end[el] = (m.start(), e.end())
        return e.end()


def read(doc: Any, line_starts: list[int] | None = None) -> Any | None:
    """Fill `doc` (a SourceDoc) for a cleanly nested page and return its lxml root, or None.

    (`line_starts` is not needed any more: lines are counted as the page is read.)
    """
    try:
        return _read(_Reader(doc))
    except GiveUp:
        doc.start.clear()
        doc.end.clear()
        doc.text_span.clear()
        doc.tail_span.clear()
        doc.outer.clear()
        doc.content.clear()
        return None


def _skip_prolog(r: _Reader, pos: int, allow_doctype: bool) -> int:
    """Spacing, comments (not kept: they are outside <html>) and the doctype."""
    text = r.text
    while True:
        pos = _BLANK.match(text, pos).end()  # type: ignore[union-attr]
        if text.startswith("<!--", pos):
            close = text.find("-->", pos + 4)
            if close < 0 or text.startswith(("<!-->", "<!--->"), pos):
                raise GiveUp
            pos = close + 3
        elif allow_doctype and text.startswith("<!", pos):
            m = _DOCTYPE.match(text, pos)
            if m is None:
                raise GiveUp  # (another doctype may mean quirks mode)
            pos = m.end()
            allow_doctype = False
        else:
            return pos


def _read(r: _Reader) -> Any:
    text = r.text
    if "\f" in text:
        raise GiveUp  # (U+000C is spacing to HTML, a character XML (lxml) cannot hold)
    n = len(text)
    pos = _skip_prolog(r, 0, True)
    name, attrs, end, _ = r.start_tag(pos)
    if name != "html":
        raise GiveUp
    try:
        root = etree.Element("html", attrs)
    except ValueError:
        raise GiveUp from None  # (an attribute name XML cannot hold, `xml:lang`)
    r.doc.start[root] = (pos, end)
    root.sourceline = r.line(end - 1)  # type: ignore[assignment]
    # Between <html> and <head>: spacing only (the parser drops it).
    pos = _BLANK.match(text, end).end()  # type: ignore[union-attr]
    name, attrs, end, _ = r.start_tag(pos)
    if name != "head":
        raise GiveUp
    head = r.element(root, "head", attrs, pos, end)
    pos = _content(r, head, end, in_head=True)
    # </head> read; between it and <body>: spacing (it stays in <html>, after the head).
    after = _BLANK.match(text, pos).end()  # type: ignore[union-attr]
    r.add_text(head, True, pos, after)
    name, attrs, end, _ = r.start_tag(after)
    if name != "body":
        raise GiveUp
    body = r.element(root, "body", attrs, after, end)
    pos = _content(r, body, end, in_head=False)
    # </body> read: spacing, </html>, spacing; the parser adds the spacing to the body's text.
    rest = pos
    pos = _BLANK.match(text, pos).end()  # type: ignore[union-attr]
    m = _HTML_END.match(text, pos)
    if m is None:
        raise GiveUp
    r.doc.end[root] = (m.start(), m.end())
    if _BLANK.match(text, m.end()).end() != n:  # type: ignore[union-attr]
        raise GiveUp  # (comments after the document go to the Document node)
    # The parser adds the spacing after </body> and </html> to the body's last text node (a
    # new one if the body ends with an element); its slice runs over those end tags.
    spacing = text[rest:pos] + text[m.end():]
    if spacing:
        last = body[-1] if len(body) else None
        owner, is_tail = (body, False) if last is None else (last, True)
        existing = owner.tail if is_tail else owner.text
        table = r.doc.tail_span if is_tail else r.doc.text_span
        if existing:
            start = table[owner][0]
            value = existing + _text(spacing)
        else:
            start = rest if pos > rest else m.end()
            value = _text(spacing)
        if is_tail:
            owner.tail = value
        else:
            owner.text = value
        table[owner] = (start, n if m.end() < n else pos)
    return root


def _content(r: _Reader, parent: Any, pos: int, in_head: bool) -> int:  # noqa: C901
    """Read the content of <head> or <body> to its end tag; return the offset after it.

    (The loop runs once per tag of the page: one regex match reads the text before a tag and
    the tag itself, and `_Reader`'s helpers are inlined in their common cases.)
    """
    text = r.text
    doc = r.doc
    content, outer, starts, ends = doc.content, doc.outer, doc.start, doc.end
    text_span, tail_span = doc.text_span, doc.tail_span
    step = _STEP.match
    count = text.count
    sub_element = etree.SubElement
    # Lines are counted as the reader moves on (an element's line is its `>`'s, as libxml2's).
    line_pos = pos
    line = count("\n", 0, pos) + 1
    stack: list[Any] = [parent]
    names: list[str] = [parent.tag]
    last: list[Any] = [None]  # per open element: its last child (for tails)
    while True:
        m = step(text, pos)
        if m is None:
            raise GiveUp  # (markup not modelled, a bad character, or EOF with elements open)
        raw, name, written, slash, end_name, is_comment = m.groups()
        start = m.start(1) + len(raw)
        if raw:
            if (in_head or names[-1] in TABLE_CHILDREN) and raw.strip(" \t\n\r\f"):
                raise GiveUp  # (text in a table is moved out of it)
            value = _text(raw) if "&" in raw or "\r" in raw else raw
            # A tag separates two texts, so the text or tail set here is not set yet.
            child = last[-1]
            if child is None:
                owner = stack[-1]
                owner.text = value
                text_span[owner] = (pos, start)
            else:
                child.tail = value
                tail_span[child] = (pos, start)
        if is_comment:
            line += count("\n", line_pos, start)
            line_pos = start
            pos = r.comment(stack[-1], start, line)
            last[-1] = stack[-1][-1]
            continue
        pos = m.end()
        if end_name is not None:  # end tag
            if not end_name.islower():
                end_name = end_name.lower()
            if end_name != names[-1]:
                raise GiveUp
            el = stack.pop()
            names.pop()
            last.pop()
            s0, s1 = starts[el]
            if end_name != "form":  # (justhtml does not record where </form> is: agree with it)
                ends[el] = (start, pos)
                outer_end = pos
            else:
                outer_end = start  # (where `_measure` ends a form: after its last child)
            if not stack:
                return pos  # (<head>/<body>: `htmltree._measure` places them)
            # Cleanly nested: the content is every byte between the tags, as `_measure` finds.
            content[el] = (s1, start)
            outer[el] = (s0, outer_end)
            last[-1] = el
            continue
        tag = name if name.islower() else name.lower()
        attrs = _attributes(written) if written else {}
        current_name = names[-1]
        if in_head:
            if tag not in HEAD_CONTENT:
                raise GiveUp
        elif tag in _CHECKED or current_name in TABLE_CHILDREN or len(stack) >= MAX_DEPTH:
            if tag in GIVE_UP or len(stack) >= MAX_DEPTH:
                raise GiveUp
            if tag in CLOSES_P and "p" in names:
                raise GiveUp
            if tag in HEADINGS and current_name in HEADINGS:
                raise GiveUp
            if tag in ("a", "form", "button") and tag in names:
                raise GiveUp  # (a second one closes or is dropped)
            if tag == "li" and current_name not in ("ul", "ol", "menu"):
                raise GiveUp
            if tag in ("dd", "dt") and current_name != "dl":
                raise GiveUp
            allowed = TABLE_CHILDREN.get(current_name)
            if allowed is not None and tag not in allowed:
                raise GiveUp
            parent_name = TABLE_PARENT.get(tag)
            if parent_name is not None and current_name not in parent_name.split("|"):
                raise GiveUp
        if slash and tag not in VOID:
            raise GiveUp
        try:
            el = sub_element(stack[-1], tag, attrs)
        except ValueError:
            raise GiveUp from None
        starts[el] = (start, pos)
        line += count("\n", line_pos, pos - 1)
        line_pos = pos - 1
        el.sourceline = line
        last[-1] = el
        if tag in VOID:
            content[el] = (pos, pos)
            outer[el] = (start, pos)
            continue
        if tag in RAW or tag == "title":
            end = pos
            pos = r.raw_text(el, tag, end)
            content[el] = (end, ends[el][0])
            outer[el] = (start, pos)
            continue
        stack.append(el)
        names.append(tag)
        last.append(None)
