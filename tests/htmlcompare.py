"""A DOM token stream for comparing two HTML documents (used by the build tests)."""

from __future__ import annotations

import re
from typing import Any

from lxml import etree
from lxml import html as lxml_html

from transflow.segment import _hoist_void_content

_WS = re.compile(r"[ \t\n\r\f]+")


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
