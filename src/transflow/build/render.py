"""Compiled template + catalogue → one page in one language (SPEC §7).

Every slot is filled with the source's own parts unless the language changes it.  A translated
unit is written from the notation tree of its msgstr: each notation tag as the source's own
start and end tag text (`<a href=/x class='y'>` as written), every piece of translator text
escaped (`&`, `<`; in attributes also the delimiting quote), so no translation can create an
element, an attribute or a URL.  A msgstr equal to its msgid keeps the source text verbatim.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from typing import Any

from transflow.build.catalogs import PageStats, Translation
from transflow.build.template import CHidden, CInline, CompiledTemplate, CSlot, CUnit
from transflow.inline import (
    NotationError,
    parse_notation,
    parse_translation,
    strip_tags,
    tag_problems,
)
from transflow.locales import og_locale, text_direction
from transflow.segment import split_unit

# Where the time shows a clock time in its source text, the translation shows one too.
_CLOCK_RE = re.compile(r"\d:\d\d|\b[ap]\.?m\b\.?", re.I)
_WS_RE = re.compile(r"[ \t\n\r\f]+")
_SPACES = " \t\n\r\f"


def esc_text(text: str) -> str:
    """Translator text as HTML text: `&` and `<` escaped, nothing else."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    return text


def esc_attr(text: str, quote: str = '"') -> str:
    """Translator text as an attribute value between `quote`s."""
    text = esc_text(text)
    if quote in text:
        text = text.replace(quote, "&quot;" if quote == '"' else "&#39;")
    return text


def _collapse(text: str) -> str:
    return _WS_RE.sub(" ", text).strip()


@dataclass(frozen=True, slots=True)
class PageSettings:
    """What one output page depends on besides the source and the catalogue."""

    lang: str
    source_language: str
    alternates: tuple[tuple[str, str], ...] = ()  # (hreflang, relative href)
    sentences: bool = False

    @property
    def is_source(self) -> bool:
        """True for the page in the source language."""
        return self.lang == self.source_language


@functools.lru_cache(maxsize=64)
def language_name(lang: str) -> str:
    """A language's name in that language (Babel's CLDR data): `ქართული`, `русский`."""
    from babel import Locale, UnknownLocaleError

    try:
        name = Locale.parse(lang.replace("-", "_")).get_display_name(lang.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return lang
    return name or lang


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

    def fill(self, parts: list[str | int]) -> str:
        if len(parts) == 1 and parts[0].__class__ is str:
            return parts[0]  # (most slots: the source's text)
        values = self.values
        return "".join([p if p.__class__ is str else values[p] for p in parts])  # type: ignore[index]

    def render(self) -> str:
        slots = self.t.slots
        # Inner slots before the units that hold them; a unit before its own `lang`.
        order = ("attr", "og-locale", "time", "switcher", "head", "unit", "lang", "lang-insert",
                 "dir", "html-lang", "html-lang-insert", "html-dir", "html-dir-insert")
        by_kind: dict[str, list[int]] = {k: [] for k in order}
        for i, slot in enumerate(slots):
            by_kind[slot.kind].append(i)
        for unit_index, unit in enumerate(self.t.units):
            if not unit.placed:  # no slot: counted here, kept as the source wrote it
                text = self._translate(unit, unit_index)
                if text is not None and unit_index in self.translated:
                    self.translated.discard(unit_index)
                    self._fall_back(unit_index)
        for kind in order:
            method = getattr(self, "_fill_" + kind.replace("-", "_"))
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
        unit = self.t.units[slot.unit]
        text = self._translate(unit, slot.unit)
        if text is None or text == unit.msgid:
            return self.fill(slot.source)
        quote = slot.data
        value = strip_tags(text)
        return esc_attr(value, quote) if quote else f'"{esc_attr(value)}"'

    def _fill_og_locale(self, slot: CSlot) -> str:
        if self.s.is_source:
            return self.fill(slot.source)
        return esc_attr(og_locale(self.s.lang), slot.data or '"')

    def _fill_time(self, slot: CSlot) -> str:
        datetime, source_text = slot.data
        if self.s.is_source:
            return self.fill(slot.source)
        text = localise_time(datetime, source_text, self.s.lang)
        return self.fill(slot.source) if text is None else esc_text(text)

    def _links(self) -> list[tuple[str, str]]:
        """(hreflang, href) of the versions that were built, the source's own codes left out."""
        own = set(self.t.source_hreflangs)
        return [(code, href) for code, href in self.s.alternates if code.lower() not in own]

    def _fill_head(self, slot: CSlot) -> str:
        own_line, indent, newline, void_end = slot.data
        tags = [f'<link rel="alternate" hreflang="{esc_attr(code)}" href="{esc_attr(href)}"'
                f'{void_end}' for code, href in self._links()]
        if self.t.add_og_locale and not self.s.is_source:
            tags.append(f'<meta property="og:locale" content="{og_locale(self.s.lang)}"'
                        f'{void_end}')
        if not own_line:
            return "".join(tags)
        return "".join(f"{indent}{tag}{newline}" for tag in tags)

    def _fill_switcher(self, slot: CSlot) -> str:
        tag, (indent, newline) = slot.data
        links = []
        for code, href in self.s.alternates:
            if code == "x-default" or code == self.s.lang:
                continue
            links.append(f'<a href="{esc_attr(href)}" hreflang="{esc_attr(code)}" '
                         f'lang="{esc_attr(code)}">{esc_text(language_name(code))}</a>')
        if tag in ("ul", "ol", "menu"):
            inner = indent + "  "
            return newline + "".join(f"{inner}<li>{a}</li>{newline}" for a in links) + indent
        return " ".join(links)

    def _fill_unit(self, slot: CSlot) -> str:
        index = slot.unit
        unit = self.t.units[index]
        text = self._translate(unit, index)
        if text is not None and text != unit.msgid:
            try:
                tree = self.trees.pop(index, None) or parse_notation(text)
            except NotationError:  # cannot happen after tag_problems; fall back all the same
                self.translated.discard(index)
                self._fall_back(index)
            else:
                out: list[str] = []
                self._render_nodes(unit, unit.content, tree, out, root=True)
                return "".join(out)
        source = self.fill(slot.source)
        if index in self.fell_back and unit.is_run:
            return f'<span lang="{esc_attr(self.s.source_language)}">{source}</span>'
        return source

    def _fill_lang(self, slot: CSlot) -> str:
        if slot.unit in self.translated:
            return esc_attr(self.s.lang, slot.data or '"') if slot.data else f'"{self.s.lang}"'
        return self.fill(slot.source)

    def _fill_lang_insert(self, slot: CSlot) -> str:
        if slot.unit in self.fell_back and not self.t.units[slot.unit].is_run:
            return f' lang="{esc_attr(self.s.source_language)}"'
        return ""

    def _fill_dir(self, slot: CSlot) -> str:
        if slot.unit in self.translated:
            value = text_direction(self.s.lang)
            return esc_attr(value, slot.data) if slot.data else f'"{value}"'
        return self.fill(slot.source)

    def _fill_html_lang(self, slot: CSlot) -> str:
        if self.s.is_source:
            return self.fill(slot.source)
        return esc_attr(self.s.lang, slot.data) if slot.data else f'"{esc_attr(self.s.lang)}"'

    def _fill_html_lang_insert(self, slot: CSlot) -> str:
        return "" if self.s.is_source else f' lang="{esc_attr(self.s.lang)}"'

    def _fill_html_dir(self, slot: CSlot) -> str:
        if self.s.is_source:
            return self.fill(slot.source)
        value = text_direction(self.s.lang)
        return esc_attr(value, slot.data) if slot.data else f'"{value}"'

    def _fill_html_dir_insert(self, slot: CSlot) -> str:
        if self.s.is_source or text_direction(self.s.lang) != "rtl":
            return ""
        return ' dir="rtl"'

    # -- rebuilding a unit from its translation
    def _render_nodes(self, unit: CUnit, src_items: list[Any], nodes: list[Any] | tuple[Any, ...],
                      out: list[str], root: bool = False) -> None:
        """Write translated nodes; tags become the source's own tags, text is escaped."""
        if root and len(src_items) == 1 and len(nodes) == 1 and isinstance(nodes[0], str):
            if isinstance(src_items[0], str):  # plain text unit: the common case
                out.append(unit.lead + esc_text(nodes[0]) + unit.trail)
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
        if root:
            if unit.lead and len(out) > start and not out[start][:1].isspace():
                out.insert(start, unit.lead)
            if unit.trail and out and not out[-1][-1:].isspace():
                out.append(unit.trail)

    def _render_segment(self, source: list[str | CHidden] | None, text: str,
                        out: list[str]) -> None:
        hidden = [h for h in source or () if h.__class__ is CHidden]
        if not hidden:
            if text:
                out.append(esc_text(text))
            return
        assert source is not None
        src_text = "".join(s for s in source if isinstance(s, str))
        if _collapse(src_text) == _collapse(text):
            # Same words: keep each comment (or script) exactly where it was among them.
            for s in source:
                if isinstance(s, str):
                    out.append(esc_text(s))
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
            out.append(esc_text(text))
        out.extend(tail)


@functools.lru_cache(maxsize=1024)  # (Babel takes ~50 µs; a newsroom repeats its dates)
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
    """Fill a template for one language: the page's text and what fell back.

    (`template.encode(text)` gives the bytes to write.)
    """
    renderer = _Renderer(template, settings, lookup or {}, po_label)
    html = renderer.render()
    return html, renderer.stats
