"""A DOM token stream for comparing two HTML documents (used by the build tests)."""

from __future__ import annotations

import re
from typing import Any

from lxml import etree
from lxml import html as lxml_html

_WS = re.compile(r"[ \t\n\r\f]+")

# Void elements that libxml2's HTML 4 parser opens as containers, swallowing what follows
# (`mozilla<wbr>.org` puts `.org` inside the `<wbr>`); browsers never do.
LIBXML2_OPEN_VOIDS = ("wbr", "source", "track", "embed", "bgsound", "keygen")


def _hoist_void_content(root: Any) -> None:
    """Move what libxml2 put inside a void element back after it, as a browser has it."""
    found = [el for el in root.iter(*LIBXML2_OPEN_VOIDS) if el.text or len(el)]
    for el in reversed(found):  # innermost first
        parent = el.getparent()
        if parent is None:
            continue
        after = el.tail or ""
        el.tail = el.text
        el.text = None
        index = parent.index(el)
        children = list(el)
        for offset, child in enumerate(children, 1):
            parent.insert(index + offset, child)
        if children:
            children[-1].tail = (children[-1].tail or "") + after
        else:
            el.tail = (el.tail or "") + after
        if not el.tail:
            el.tail = None


def _norm(text: str | None) -> str:
    return _WS.sub(" ", text or "").strip()


def _ignored(el: Any) -> bool:
    """What build changes on purpose: hreflang links and og:locale."""
    if el.tag == "link" and el.get("hreflang") is not None:
        return True
    return el.tag == "meta" and (el.get("property") or "").lower() == "og:locale"


def dom_tokens(data: bytes, *, ignore_time_text: bool = True) -> list[tuple[str, ...]]:
    """Element/comment token stream with whitespace-normalised text and attribute values."""
    root = etree.fromstring(data, lxml_html.HTMLParser(encoding="utf-8"))
    # As a browser has it: libxml2 opens `<wbr>`, `<source>`… as containers; undo that.
    _hoist_void_content(root)
    tokens: list[tuple[str, ...]] = []
    text: list[str] = []
    in_time = 0

    def flush() -> None:
        joined = _norm("".join(text))
        if joined:
            tokens.append(("text", joined))
        text.clear()

    skip_depth = 0
    for event, el in etree.iterwalk(root, events=("start", "end", "comment", "pi")):
        if event in ("comment", "pi"):
            if not skip_depth:
                flush()
                tokens.append((event, el.text or ""))
                if el.tail and not in_time:
                    text.append(el.tail)
            continue
        if event == "start":
            if skip_depth or _ignored(el):
                skip_depth += 1
                continue
            flush()
            attrs = dict(el.attrib)
            if el.tag == "html":
                attrs.pop("lang", None)
                attrs.pop("dir", None)
            if el.tag == "meta":
                if "charset" in attrs:
                    attrs["charset"] = "*"
                if (attrs.get("http-equiv") or "").lower() == "content-type":
                    attrs["content"] = "*"
            tokens.append(("start", el.tag, *sorted(f"{k}={_norm(v)}" for k, v in attrs.items())))
            if el.tag == "time" and ignore_time_text:
                in_time += 1
                skip_depth += 1  # build replaces the content of <time datetime>
                continue
            if el.text and not in_time:
                text.append(el.text)
        else:
            if skip_depth:
                skip_depth -= 1
                if el.tag == "time" and ignore_time_text and in_time and skip_depth == 0:
                    in_time -= 1
                    tokens.append(("end", "time"))
                if skip_depth == 0 and el.tail and not in_time:
                    text.append(el.tail)
                continue
            flush()
            tokens.append(("end", el.tag))
            if el.tag == "time" and ignore_time_text:
                in_time -= 1
            if el.tail and not in_time:
                text.append(el.tail)
    flush()
    return tokens


# --- the browser's view (html5lib: the WHATWG reference parser, pure Python) ------------------

def whatwg_tokens(data: bytes | str, *, ours: frozenset[str] = frozenset(),
                  ignore_lang: bool = False, ignore_time_text: bool = False,
                  fragment: bool = False) -> list[tuple[object, ...]]:
    """The document as a browser builds it: a token stream of html5lib's tree, plus its mode.

    What build changes on purpose is left out: `lang`/`dir` of `<html>`, `og:locale`'s value,
    `<link hreflang>` whose href is in `ours`; with `ignore_lang` every `lang` attribute and
    the `<span lang>` wrappers of fallen-back runs; with `ignore_time_text` `<time>` content.
    """
    import html5lib

    text = data.decode("utf-8") if isinstance(data, bytes) else data
    parser = html5lib.HTMLParser(tree=html5lib.getTreeBuilder("etree"), namespaceHTMLElements=True)
    tree = parser.parseFragment(text) if fragment else parser.parse(text)
    walker = html5lib.getTreeWalker("etree")
    tokens: list[tuple[object, ...]] = [("mode", getattr(parser, "compatMode", ""))]
    buf: list[str] = []
    spans: list[bool] = []  # for each open <span>: whether it is a fallback's wrapper
    in_head = False  # (spacing in <head> is left out when build's links are: they add lines)
    in_body = False
    in_time = 0

    def flush() -> None:
        if buf:
            joined = "".join(buf)
            if joined and not ((in_head or not in_body) and ours
                               and not joined.strip(" \t\n\r\f")):
                tokens.append(("text", joined))
            buf.clear()

    for tok in walker(tree):
        kind = tok["type"]
        if kind in ("Characters", "SpaceCharacters"):
            if not in_time:
                buf.append(tok["data"])
            continue
        name = tok.get("name")
        if in_time and not (kind == "EndTag" and name == "time" and in_time == 1):
            # Build writes the content of <time datetime> anew: all of it is left out.
            if name == "time":
                in_time += 1 if kind == "StartTag" else -1
            continue
        attrs = {k[1] if isinstance(k, tuple) else k: v for k, v in (tok.get("data") or {}).items()} \
            if kind in ("StartTag", "EmptyTag") else {}
        if kind in ("StartTag", "EmptyTag"):
            if name == "link" and attrs.get("hreflang") is not None and attrs.get("href") in ours:
                continue
            if name == "meta" and (attrs.get("property") or "").lower() == "og:locale":
                if ours:
                    continue  # (build adds one where the source has Open Graph tags but none)
                attrs["content"] = "*"
            if name == "html":
                attrs.pop("lang", None)
                attrs.pop("dir", None)
            if ignore_lang:
                attrs.pop("lang", None)
                if name == "span" and not attrs and kind == "StartTag":
                    # A fallback's <span lang> wrapper (and, alike on both sides, a bare span).
                    spans.append(True)
                    continue
            if kind == "StartTag" and name == "span":
                spans.append(False)
            flush()
            in_head = in_head or name == "head"
            in_body = in_body or name == "body"
            tokens.append((kind, tok.get("namespace"), name, tuple(sorted(attrs.items()))))
            if name == "time" and ignore_time_text and kind == "StartTag":
                in_time += 1
            continue
        if kind == "EndTag":
            if name == "span" and spans and spans.pop():
                continue
            if name == "time" and in_time:
                in_time -= 1
            flush()
            in_head = in_head and name != "head"
            tokens.append((kind, tok.get("namespace"), name))
            continue
        flush()
        tokens.append((kind, tok.get("data"), tok.get("publicId"), tok.get("systemId")))
    flush()
    return tokens
