"""The light inline tag notation translators see, and its validation.

A unit's inline markup becomes tags without attributes, numbered per tag name in order of
appearance: ``Read on <a1>OC Media</a1>``, a second link is ``<a2>``, and an element whose
content is not translatable (``<br>``, ``<img>``, ``<time>``, inline ``<code>``…) is a void tag
``<br1/>``.  Escaping: the three characters that could be mistaken for markup are written as
entities in msgids, as html2po does: ``&`` → ``&amp;``, ``<`` → ``&lt;``, ``>`` → ``&gt;``.  So
``a < b`` is ``a &lt; b``, and an article that literally talks about ``<em1>`` shows
``&lt;em1&gt;``.  No other entity is used: ``&nbsp;`` is the character U+00A0 itself.

>>> parse_notation("Read <a1>OC</a1><br1/>")
['Read ', Tag(key='a1', void=False, children=('OC',)), Tag(key='br1', void=True, children=())]
>>> tag_problems("Read on <a1>OC Media</a1>", "<a1>OC Media</a1>-ში წაიკითხეთ")
[]
>>> tag_problems("Read on <a1>OC Media</a1>", "Read <a1 href=x>OC</a1>")
['markup that is not a tag of the source: <a1 href=x>', 'unexpected closing tag </a1>', \
'missing tag <a1>']
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

# A notation tag: a name of letters (and inner hyphens) then a positive index; `/` marks a void.
# Names never end in a digit, so `<h1>`-like HTML cannot pass for a notation tag by accident.
TAG_RE = re.compile(r"<(/?)([a-z]+(?:-[a-z]+)*)([1-9][0-9]*)(/?)>")
# Anything a browser could take for markup: `<` followed by a letter, `/`, `!` or `?`.
MARKUP_START_RE = re.compile(r"<[A-Za-z/!?]")
NAME_RE = re.compile(r"[a-z]+(?:-[a-z]+)*")
# At most this many problems are listed for one msgstr.
MAX_PROBLEMS = 10
# The name used in the notation for an element whose tag name cannot be written as one.
FALLBACK_NAME = "x"

_UNESCAPES = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}
_UNESCAPE_RE = re.compile(r"&(?:amp|lt|gt);")
_TAG_ANY_RE = re.compile(r"<[^<>]*>?")


def escape_text(text: str) -> str:
    """Write plain text in the notation: `&`, `<`, `>` become entities."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def unescape_text(text: str) -> str:
    """Read notation text back to plain text (only `&amp;`, `&lt;`, `&gt;` are entities)."""
    if "&" not in text:
        return text
    return _UNESCAPE_RE.sub(lambda m: _UNESCAPES[m.group()], text)


def notation_name(tag: str) -> str:
    """The notation name of an HTML tag name (`a`, `em`, `my-widget`; `x` if unwritable)."""
    tag = tag.lower()
    return tag if NAME_RE.fullmatch(tag) else FALLBACK_NAME


@dataclass(frozen=True, slots=True)
class Tag:
    """One notation tag pair (or void tag) and what it contains."""

    key: str  # name + index, e.g. "a1"
    void: bool
    children: tuple[Node, ...]


Node = str | Tag


class NotationError(ValueError):
    """The text is not well-formed notation; `problems` lists why."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def _scan(text: str) -> tuple[list[Node], list[str], list[tuple[str, bool]]]:
    """Parse notation leniently: (tree, problems, tags in order as (key, void))."""
    problems: list[str] = []
    seen: list[tuple[str, bool]] = []
    root: list[Node] = []
    stack: list[tuple[str, list[Node]]] = []
    current = root
    pos = 0
    buf: list[str] = []

    def flush() -> None:
        joined = "".join(buf)
        if joined:
            current.append(unescape_text(joined))
        buf.clear()

    while True:
        lt = text.find("<", pos)
        if lt < 0:
            buf.append(text[pos:])
            break
        buf.append(text[pos:lt])
        m = TAG_RE.match(text, lt)
        if m is None:
            if MARKUP_START_RE.match(text, lt):
                bad = _TAG_ANY_RE.match(text, lt)
                shown = bad.group() if bad else text[lt : lt + 20]
                problems.append(f"markup that is not a tag of the source: {shown}")
                pos = lt + len(shown)
                continue
            buf.append("<")  # a lone `<` (e.g. "a < b") is text
            pos = lt + 1
            continue
        closing, name, index, void = m.group(1), m.group(2), m.group(3), m.group(4)
        key = name + index
        pos = m.end()
        if closing and void:
            problems.append(f"malformed tag {m.group()}")
            continue
        flush()
        if void:
            seen.append((key, True))
            current.append(Tag(key, True, ()))
        elif not closing:
            seen.append((key, False))
            stack.append((key, current))
            current = []
        elif not stack:
            problems.append(f"unexpected closing tag </{key}>")
        elif stack[-1][0] != key:
            open_keys = [k for k, _ in stack]
            if key in open_keys:
                problems.append(f"tags mis-nested: </{key}> closes before </{stack[-1][0]}>")
                # Recover: close up to the matching tag.
                while stack and stack[-1][0] != key:
                    k, parent = stack.pop()
                    parent.append(Tag(k, False, tuple(current)))
                    current = parent
                k, parent = stack.pop()
                parent.append(Tag(k, False, tuple(current)))
                current = parent
            else:
                problems.append(f"unexpected closing tag </{key}>")
        else:
            k, parent = stack.pop()
            parent.append(Tag(k, False, tuple(current)))
            current = parent
    flush()
    while stack:
        k, parent = stack.pop()
        problems.append(f"unclosed tag <{k}>")
        parent.append(Tag(k, False, tuple(current)))
        current = parent
    return current, problems, seen


def parse_notation(text: str) -> list[Node]:
    """Parse notation text into plain-text strings and `Tag`s; raise NotationError if malformed."""
    if "<" not in text:
        return [unescape_text(text)] if text else []
    tree, problems, _ = _scan(text)
    if problems:
        raise NotationError(problems)
    return tree


def tag_problems(msgid: str, msgstr: str) -> list[str]:
    """Why `msgstr`'s tags are not a valid rearrangement of `msgid`'s (empty list: they are).

    Translators may move tags, and change how they nest, but not add, drop, duplicate or rename
    them, nor turn a void tag into a pair; any other markup is reported.
    """
    return parse_translation(msgid, msgstr)[1]


@functools.lru_cache(maxsize=4096)
def _source_tags(msgid: str) -> tuple[tuple[str, ...], tuple[tuple[str, bool], ...]]:
    _, problems, seen = _scan(msgid)
    return tuple(problems), tuple(seen)


def parse_translation(msgid: str, msgstr: str) -> tuple[list[Node], list[str]]:
    """The tree of `msgstr` and its tag problems against `msgid` (see `tag_problems`)."""
    if "<" not in msgstr and "<" not in msgid:
        # The common case: plain text on both sides (a literal `<` is `&lt;`).
        return ([unescape_text(msgstr)] if msgstr else []), []
    src_problems, src_seen = _source_tags(msgid)
    tree, problems, seen = _scan(msgstr)
    if src_problems:
        return tree, [f"the source text itself is not valid notation: {'; '.join(src_problems)}"]
    source = dict(src_seen)
    counts: dict[str, int] = {}
    for key, void in seen:
        counts[key] = counts.get(key, 0) + 1
        if key not in source:
            problems.append(f"extra tag <{key}{'/' if void else ''}> (not in the source)")
        elif counts[key] == 2:
            problems.append(f"duplicate tag <{key}{'/' if void else ''}>")
        elif source[key] != void:
            want = f"<{key}/>" if source[key] else f"<{key}>…</{key}>"
            problems.append(f"tag {key} must be written {want}")
    for key, void in src_seen:
        if key not in counts:
            problems.append(f"missing tag <{key}{'/' if void else ''}>")
    if len(problems) > MAX_PROBLEMS:  # a hostile msgstr need not produce a hostile report
        problems[MAX_PROBLEMS:] = [f"and {len(problems) - MAX_PROBLEMS} more problems"]
    return tree, problems


def strip_tags(text: str) -> str:
    """The plain text of notation: tags removed, entities read.

    >>> strip_tags("Read on <a1>OC &amp; Media</a1><br1/>")
    'Read on OC & Media'
    """
    return unescape_text(TAG_RE.sub("", text) if "<" in text else text)


def render_notation(nodes: list[Node] | tuple[Node, ...]) -> str:
    """Write a parsed tree back as notation text (inverse of `parse_notation`)."""
    out: list[str] = []
    stack: list[tuple[Node, ...] | list[Node] | str] = [nodes]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)  # a closing tag, queued below
            continue
        for node in reversed(item):
            if isinstance(node, str):
                stack.append(escape_text(node))
            elif node.void:
                stack.append(f"<{node.key}/>")
            else:
                stack.append(f"</{node.key}>")
                stack.append(node.children)
                stack.append(f"<{node.key}>")
    return "".join(out)
