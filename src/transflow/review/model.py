"""What a review page shows, gathered from one catalogue: rows, statuses, marks, findings.

Everything here is a pure function of a catalogue's entries, the glossary and the settings, so
the renderer (`render.py`) and the tests need no files. Statuses follow `build` (what the
published page will show), findings come from `check.check_catalog` (what `transflow check`
prints), glossary highlights from the glossary's own matcher (`Glossary.triggered`,
`accepted_phrases`, `morphology.find_phrase`), so the page can never disagree with the tools.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any, NamedTuple, cast

from rapidfuzz.distance import Indel

from transflow.check import Finding, check_catalog
from transflow.glossary import Glossary, Term, parse_ignore, plain_text
from transflow.inline import TAG_RE, tag_problems, unescape_text
from transflow.memo import Memo
from transflow.morphology import WORD_RE, Morphology, Tokens, find_phrase, load_morphology
from transflow.status import Counts, count_catalog

# Row statuses, in the order the legend lists them.
STATUSES = ("translated", "fuzzy", "untranslated", "rejected")
# Regions of a displayed text that the glossary matcher does not read as words: raw HTML tags
# and entities (`glossary.plain_text` removes them before matching).
_NOT_WORDS_RE = re.compile(r"</?[A-Za-z][^<>]*>|&#?\w+;")
# Word-level diff tokens: words, runs of whitespace, single other characters (punctuation).
_DIFF_TOKEN_RE = re.compile(r"\w+|\s+|[^\w\s]")
# Two characters within one diff token: two word characters, or two spaces.
_SAME_RUN_RE = re.compile(r"\w\w|\s\s")
# Words and what lies between them, as `morphology.WORD_RE` finds words (odd items: words).
_WORD_SPLIT_RE = re.compile(r"(\w+)")
# `#.` lines that extract writes as glossary hints: the page shows the terms highlighted instead.
_HINT_PREFIX = "glossary:"


class Mark(NamedTuple):
    """A highlighted stretch `[start, end)` of a displayed text (see `flatten`)."""

    start: int
    end: int
    kind: str  # "term" (English), "match" (its rendering), "missing", "forbidden"
    tip: str  # what hovering or focusing the mark shows


class Shown(NamedTuple):
    """A notation text as shown: plain text (entities read), the light tags with their
    positions in it, and the marks over it."""

    text: str
    tags: tuple[tuple[int, str], ...] = ()
    marks: tuple[Mark, ...] = ()


class TermNote(NamedTuple):
    """One triggered glossary term on a row, and what the matcher made of the translation."""

    term: str
    source: str  # the English form, as the glossary writes it
    wanted: str  # the approved renderings ("keep unchanged" for translate = false)
    state: str  # "found", "missing", "forbidden", "ignored", "not checked"
    pointed: bool  # False: the matcher's words could not be located in the displayed text


class Row(NamedTuple):
    """One entry of the catalogue: one unit of the article (a named tuple: a page makes one
    per unit, a hundred thousand on a cold run, and a frozen dataclass costs ten times more to
    make)."""

    number: int  # its place in the page, from 1 (a named tuple's `index` is tuple's method)
    line: int  # the line of its msgid in the PO file (as `check` reports it)
    status: str  # one of STATUSES
    msgctxt: str | None
    source: Shown
    translations: tuple[tuple[str, Shown], ...]  # (label, text): one, or one per plural form
    context: tuple[str, ...]  # `#.` lines (element context), glossary hints left out
    tcomment: str
    previous: tuple[tuple[str, str], ...] | None  # fuzzy: word diff of `#| msgid` → msgid
    findings: tuple[Finding, ...]
    markup: tuple[str, ...]  # why build rejects the markup (status "rejected")
    terms: tuple[TermNote, ...]
    occurrences: tuple[str, ...]
    # fuzzy: `#| msgctxt` when it differs from the msgctxt ("" for none): why an entry whose
    # English did not change is fuzzy
    previous_msgctxt: str | None = None

    @property
    def problem(self) -> bool:
        """True when an editor must look: a finding, rejected markup, or not usable yet."""
        return bool(self.findings) or self.status != "translated"


@dataclass(frozen=True, slots=True)
class ArticleReview:
    """Everything one review page shows."""

    article: str
    lang: str
    source_language: str
    po_file: str  # as the user sees it (locales/ru/x.po)
    rows: tuple[Row, ...]
    counts: Counts
    percent: float  # as build computes it (translated source words / all words)
    min_complete: float
    include_fuzzy: bool
    built: bool  # build/<lang>/<slug>.html exists
    glossary: bool  # False: the project has no glossary (or its check is off)
    findings_by_check: dict[str, int] = field(default_factory=dict)

    @property
    def skipped(self) -> bool:
        """True when `build` skips this article for this language (under `min_complete`)."""
        return self.percent < self.min_complete

    def summary(self) -> dict[str, Any]:
        """What the index shows of this page (kept in the manifest for unchanged pages)."""
        c = self.counts
        return {
            "article": self.article, "lang": self.lang, "po_file": self.po_file,
            "entries": c.total, "translated": c.translated, "fuzzy": c.fuzzy,
            "untranslated": c.untranslated,
            "words": {"total": c.words_total, "translated": c.words_translated,
                      "fuzzy": c.words_fuzzy, "untranslated": c.words_untranslated},
            "percent": self.percent, "min_complete": self.min_complete,
            "rejected": sum(r.status == "rejected" for r in self.rows),
            "findings": dict(sorted(self.findings_by_check.items())),
            "errors": sum(f.severity == "error" for r in self.rows for f in r.findings),
            "warnings": sum(f.severity == "warning" for r in self.rows for f in r.findings),
        }


# --- texts ------------------------------------------------------------------------------------


def flatten(notation: str) -> tuple[str, tuple[tuple[int, str], ...]]:
    """Split notation into its plain text (entities read) and its light tags with positions.

    Only well-formed notation tags (`<a1>`, `</a1>`, `<br1/>`) are tags; anything else that looks
    like markup (`<script>`, `<a1 href=…>`) stays text, so the page shows it as written.

    >>> flatten("Read <a1>OC &amp; Media</a1>")
    ('Read OC & Media', ((5, '<a1>'), (15, '</a1>')))
    """
    if "<" not in notation:
        return unescape_text(notation), ()
    parts: list[str] = []
    tags: list[tuple[int, str]] = []
    pos = length = 0
    for m in TAG_RE.finditer(notation):
        chunk = unescape_text(notation[pos : m.start()])
        parts.append(chunk)
        length += len(chunk)
        tags.append((length, m.group()))
        pos = m.end()
    parts.append(unescape_text(notation[pos:]))
    return "".join(parts), tuple(tags)


def word_bounds(morph: Morphology, shown: str, tokens: Tokens, text: str,
                keep_case: bool) -> tuple[list[int], list[int]] | None:
    """Where the matcher's words stand in `shown`: word `i` of `tokens` (the matcher's words of
    `text`, the same text as the matcher reads it) is `shown[starts[i]:ends[i]]`.

    None when the displayed text does not split into exactly those words (a raw entity such as
    `&eacute;` inside a word, an unusual normalisation): the page then says it cannot point.
    """
    words = tokens.words
    masked = _NOT_WORDS_RE.sub(lambda m: " " * len(m.group()), shown) if (
        "<" in shown or "&" in shown) else shown
    if masked == text and tokens.length == len(text):
        # The common case: the page shows the very text the matcher read, and folding kept
        # every character in place, so its words stand where the matcher found them.
        return tokens.bounds()
    folded = morph.normalize(masked, keep_case=keep_case)
    if len(folded) == len(masked):
        # Folding kept every character in place: the words of the folded text stand where
        # the displayed words stand.
        parts = _WORD_SPLIT_RE.split(folded)
        if len(parts) == 2 * len(words) + 1 and tuple(parts[1::2]) == tuple(words):
            bounds = list(accumulate(map(len, parts)))  # bounds[j]: where parts[j] ends
            return bounds[0::2], bounds[1::2]
    starts: list[int] = []
    ends: list[int] = []
    for m in WORD_RE.finditer(masked):
        folded = morph.normalize(m.group(), keep_case=keep_case)
        pieces = WORD_RE.findall(folded)
        if len(pieces) != 1:
            return None
        starts.append(m.start())
        ends.append(m.end())
        if len(starts) > len(words) or pieces[0] != words[len(starts) - 1]:
            return None
    return (starts, ends) if len(starts) == len(words) else None


def _common_prefix(a: str, b: str) -> int:
    """The length of the longest common prefix of `a` and `b` (halving over C comparisons)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        mid = (low + high + 1) // 2
        if a[:mid] == b[:mid]:
            low = mid
        else:
            high = mid - 1
    return low


def _boundary(text: str, i: int) -> bool:
    """True when a diff token (`_DIFF_TOKEN_RE`) ends at `i`: the text's ends, and between two
    characters unless both are word characters or both are spaces."""
    if i <= 0 or i >= len(text):
        return True
    return _SAME_RUN_RE.fullmatch(text, i - 1, i + 1) is None


def word_diff(old: str, new: str) -> tuple[tuple[str, str], ...]:
    """A word-level diff of two notation texts: ("=", same) / ("-", removed) / ("+", added).

    Tokens are words, runs of spaces and single punctuation marks; the longest common
    subsequence of tokens is kept (rapidfuzz's Indel opcodes: difflib is quadratic here). A
    lone space between two changes joins them, and within a changed stretch the removed text
    comes before the added text, so a rewritten phrase reads as one change.

    >>> word_diff("Talks in Goris today", "Talks in Gori today")
    (('=', 'Talks in '), ('-', 'Goris'), ('+', 'Gori'), ('=', ' today'))
    >>> word_diff("built near the village", "put up near the village")
    (('-', 'built'), ('+', 'put up'), ('=', ' near the village'))
    """
    old, new = unescape_text(old), unescape_text(new)
    # Most edits touch a few words of a long sentence: the unchanged ends are found by comparing
    # strings (in C), and only the middle is split into tokens and aligned. Cut where both
    # texts have a token boundary, the ends are exactly the common leading and trailing tokens,
    # which the alignment keeps as they are anyway.
    start = _common_prefix(old, new)
    while not (_boundary(old, start) and _boundary(new, start)):
        start -= 1
    tail = _common_prefix(old[start:][::-1], new[start:][::-1])
    while not (_boundary(old, len(old) - tail) and _boundary(new, len(new) - tail)):
        tail -= 1
    a = _DIFF_TOKEN_RE.findall(old, start, len(old) - tail)
    b = _DIFF_TOKEN_RE.findall(new, start, len(new) - tail)
    ops = [(tag == "equal", "".join(a[i1:i2]), "".join(b[j1:j2]))
           for tag, i1, i2, j1, j2 in cast("list[tuple[str, int, int, int, int]]",
                                            Indel.opcodes(a, b).as_list())]
    if start:
        ops.insert(0, (True, old[:start], old[:start]))
    if tail:
        ops.append((True, old[len(old) - tail :], old[len(old) - tail :]))
    for i in range(1, len(ops) - 1):
        same, text, _ = ops[i]
        if same and text.isspace() and not ops[i - 1][0] and not ops[i + 1][0]:
            ops[i] = (False, text, text)
    out: list[tuple[str, str]] = []
    removed: list[str] = []
    added: list[str] = []
    ops.append((True, "", ""))  # (flushes the last change)
    for same, old_text, new_text in ops:
        if not same:
            removed.append(old_text)
            added.append(new_text)
            continue
        if removed:
            if gone := "".join(removed):
                out.append(("-", gone))
            if came := "".join(added):
                out.append(("+", came))
            removed = []
            added = []
        if old_text:
            out.append(("=", old_text))
    return tuple(out)


# --- glossary marks ---------------------------------------------------------------------------


def _keep_outermost(marks: list[Mark]) -> tuple[Mark, ...]:
    """Marks sorted, those overlapping an earlier (or longer) one dropped: marks never nest."""
    if len(marks) < 2:  # (most texts: one term, once)
        return tuple(marks)
    out: list[Mark] = []
    for m in sorted(marks, key=lambda m: (m.start, -(m.end - m.start))):
        if out and m.start < out[-1].end:
            continue
        out.append(m)
    return tuple(out)


KEEP_NOTE = " (keep unchanged)"  # after the source form of a term that is never translated


def _wanted(term: Term, lang: str) -> str:
    if not term.translate:
        return f"{term.source[0]}{KEEP_NOTE}"
    return " / ".join(term.approved(lang)) or "(no rendering in this language)"


def _tip(term: Term, lang: str) -> str:
    tip = f"{term.source[0]} → {_wanted(term, lang)} [term {term.id}]"
    return f"{tip}: {term.note}" if term.note else tip




class _SourceCache:
    """Per glossary: each language's memo of row texts (see `_row`) and the terms' tooltips."""

    def __init__(self) -> None:
        self.texts: dict[str, Memo[Any, _Texts]] = {}  # per language: see `_row`
        self.tips: dict[str, dict[str, str]] = {}
        self.match_tips: dict[str, dict[str, str]] = {}


_CACHES: weakref.WeakKeyDictionary[Glossary, _SourceCache] = weakref.WeakKeyDictionary()


_Texts = tuple[Shown, tuple[tuple[str, Shown], ...], tuple[TermNote, ...]]
# Bounds of the per-process memos (see `memo.Memo`: what recurs stays).
TEXTS_MEMO = 3_000
DIFF_MEMO = 1_000
_PLAIN_TEXTS: Memo[Any, _Texts] = Memo(TEXTS_MEMO)  # rows of projects without a glossary


class Highlighter:
    """Glossary marks for the rows of one language (caches the morphology and tokenisers)."""

    def __init__(self, glossary: Glossary, lang: str):
        self.glossary = glossary
        self.lang = lang
        self.source_morph = Morphology(lang=glossary.source_language)
        self.morph = load_morphology(lang)
        cache = _CACHES.get(glossary)
        if cache is None:
            cache = _CACHES[glossary] = _SourceCache()
        self.cache = cache
        texts = cache.texts.get(lang)
        if texts is None:
            texts = cache.texts[lang] = Memo(TEXTS_MEMO)
        self.texts = texts
        self._tips = cache.tips.setdefault(lang, {})  # term id → its tooltip in the English
        self._match_tips = cache.match_tips.setdefault(lang, {})  # … in the translation

    def _match_tip(self, term: Term) -> str:
        tip = self._match_tips.get(term.id)
        if tip is None:
            tip = self._match_tips[term.id] = (
                f"{_wanted(term, self.lang)}: approved rendering of {term.source[0]}")
        return tip

    def source(self, msgid: str, shown: str, terms: list[Term],
               missing: set[str]) -> tuple[tuple[Mark, ...], set[str]]:
        """Marks over the English text; the ids of the terms it could not point at."""
        if not terms:
            return (), set()
        spans = self._source_char_spans(msgid, shown, terms)
        marks: list[Mark] = []
        lost: set[str] = set()
        for term in terms:
            found = spans.get(term.id)
            if not found:
                lost.add(term.id)
                continue
            kind = "missing" if term.id in missing else "term"
            tip = self._tips.get(term.id)
            if tip is None:
                tip = self._tips[term.id] = _tip(term, self.lang)
            marks += [Mark(a, b, kind, tip) for a, b in found]
        return _keep_outermost(marks), lost

    def _source_char_spans(self, msgid: str, shown: str,
                           terms: list[Term]) -> dict[str, list[tuple[int, int]]]:
        """Character spans of each term in the English: the very matches `Glossary.triggered`
        made (`Glossary.source_matches`), so what is highlighted is what check compared.

        `terms` are the triggered terms this language checks; when some triggered term is left
        out (no rendering in this language), the others are matched without it, so a shorter
        term inside its words is highlighted.
        """
        only = None if len(terms) == len(self.glossary.triggered(msgid)) else frozenset(
            t.id for t in terms)
        tokens, matches = self.glossary.source_matches(msgid, only)
        if not matches:
            return {}
        bounds = word_bounds(self.source_morph, shown, tokens, plain_text(msgid), True)
        out: dict[str, list[tuple[int, int]]] = {}
        if bounds is not None:
            starts, ends = bounds
            for term, a, b in matches:
                out.setdefault(term.id, []).append((starts[a], ends[b - 1]))
        return out

    def target(self, msgstr: str, shown: str, terms: list[Term],
               forbidden: list[tuple[Term, str]]) -> tuple[tuple[Mark, ...], set[str], set[str]]:
        """Marks over the translation: the words that satisfied each term, forbidden renderings.

        Returns the marks, the ids of the terms found, and of those found but not locatable.
        """
        if not terms and not forbidden:
            return (), set(), set()
        text = plain_text(msgstr)
        tokenized: dict[bool, Tokens] = {}
        located: dict[bool, tuple[list[int], list[int]] | None] = {}

        def tokens_for(keep_case: bool) -> Tokens:
            tokens = tokenized.get(keep_case)
            if tokens is None:  # (check has usually just read this text: the same tokens)
                tokens = tokenized[keep_case] = self.glossary.target_tokens(
                    text, self.lang, keep_case=keep_case)
            return tokens

        def bounds_for(keep_case: bool) -> tuple[list[int], list[int]] | None:
            # only for a text with something to mark: most translated rows have nothing
            if keep_case not in located:
                located[keep_case] = word_bounds(self.morph, shown, tokens_for(keep_case),
                                                 text, keep_case)
            return located[keep_case]

        marks: list[Mark] = []
        found: set[str] = set()
        lost: set[str] = set()
        for term in terms:
            tokens = tokens_for(term.case_sensitive)
            spans = [s for p in self.glossary.accepted_phrases(term, self.lang)
                     for s in find_phrase(tokens, p)]
            if not spans:
                continue
            found.add(term.id)
            bounds = bounds_for(term.case_sensitive)
            if bounds is None:
                lost.add(term.id)
                continue
            starts, ends = bounds
            tip = self._match_tip(term)
            marks += [Mark(starts[a], ends[b - 1], "match", tip) for a, b in spans]
        for term, rendering in forbidden:
            tokens = tokens_for(term.case_sensitive)
            phrase = self.morph.phrase(rendering, keep_case=term.case_sensitive)
            spans = find_phrase(tokens, phrase)
            if not spans:
                continue
            bounds = bounds_for(term.case_sensitive)
            if bounds is None:
                continue
            starts, ends = bounds
            use = " / ".join(term.approved(self.lang))
            tip = f"forbidden rendering {rendering} [term {term.id}]" + (
                f": use {use}" if use else "")
            marks += [Mark(starts[a], ends[b - 1], "forbidden", tip) for a, b in spans]
        return _keep_outermost(marks), found, lost


# --- rows -------------------------------------------------------------------------------------


def entry_status(entry: Any, include_fuzzy: bool) -> tuple[str, tuple[str, ...]]:
    """The status the published page gives an entry, and build's markup objections.

    `rejected`: a translation build would use but refuses for its markup (`inline.tag_problems`),
    so the page shows the English there. Plural entries are never used by build: their status
    is msgfmt's (translated / fuzzy / untranslated).
    """
    if entry.msgid_plural:
        first = entry.msgstr_plural.get(0, "")
        if not first:
            return "untranslated", ()
        return ("fuzzy" if "fuzzy" in entry.flags else "translated"), ()
    if not entry.msgstr:
        return "untranslated", ()
    fuzzy = "fuzzy" in entry.flags
    if fuzzy and not include_fuzzy:
        return "fuzzy", ()
    problems = tuple(tag_problems(entry.msgid, entry.msgstr))
    if problems:
        return "rejected", problems
    return ("fuzzy" if fuzzy else "translated"), ()


def _texts(entry: Any, targets: tuple[tuple[str, str], ...], has_glossary_findings: bool,
           marker: Highlighter | None, lang: str) -> _Texts:
    """The English, the translations (with their glossary marks) and the term notes of a row."""
    text, tags = flatten(entry.msgid)
    if entry.msgid_plural:
        plural_text, plural_tags = flatten(entry.msgid_plural)
        text, tags = f"{text} | {plural_text}", tags + tuple(
            (p + len(text) + 3, t) for p, t in plural_tags)
        msgid_all = entry.msgid + "\n" + entry.msgid_plural
    else:
        msgid_all = entry.msgid
    if marker is None:
        return (Shown(text, tags), tuple((label, Shown(*flatten(t))) for label, t in targets),
                ())
    notes: list[TermNote] = []
    terms = [t for t in marker.glossary.triggered(msgid_all)
             if t.translate is False or t.approved(lang)]
    ignore = parse_ignore(entry.tcomment) if entry.tcomment and "transflow" in entry.tcomment \
        else set()
    missing: set[str] = set()
    forbidden: list[tuple[Term, str]] = []
    if has_glossary_findings:
        # The same matcher once more, for what the finding's text does not carry: which
        # rendering is forbidden, which term is missing.
        for problem in marker.glossary.check_entry(msgid_all, "\n".join(
                t for _, t in targets), lang, ignore):
            if problem.kind == "forbidden" and problem.rendering:
                forbidden.append((marker.glossary.by_id[problem.term], problem.rendering))
            else:
                missing.add(problem.term)
    # The English side marks every term with a problem (a forbidden rendering stands where the
    # approved one should).
    flagged = missing | {term.id for term, _ in forbidden}
    marks, source_lost = marker.source(msgid_all, text, terms, flagged)
    shown_targets = []
    found: set[str] = set()
    target_lost: set[str] = set()
    for label, t in targets:
        flat, ttags = flatten(t)
        tmarks, tfound, tlost = marker.target(t, flat, terms, forbidden) if t else ((), set(),
                                                                                     set())
        found |= tfound
        target_lost |= tlost
        shown_targets.append((label, Shown(flat, ttags, tmarks)))
    forbidding = {term.id for term, _ in forbidden}
    for term in terms:
        if term.id in forbidding:
            continue  # its forbidden-rendering note below says it
        if term.id in ignore or "glossary" in ignore:
            state = "ignored"
        elif term.id in missing:
            state = "missing"
        elif term.id in found:
            state = "found"
        elif not any(t for _, t in targets):
            continue  # not translated yet: the English highlight and its tooltip say it all
        else:
            state = "not found"  # unchecked (fuzzy) or the check is off
        pointed = term.id not in source_lost and term.id not in target_lost
        if state == "found" and pointed:
            continue  # the two highlights and their tooltips say it
        notes.append(TermNote(term.id, term.source[0], _wanted(term, lang), state, pointed))
    for term, rendering in forbidden:
        notes.append(TermNote(term.id, rendering, " / ".join(term.approved(lang)),
                              "forbidden", True))
    return Shown(text, tags, marks), tuple(shown_targets), tuple(notes)


_DIFFS: Memo[tuple[str, str], tuple[tuple[str, str], ...]] = Memo(DIFF_MEMO)
_CONTEXTS: Memo[str, tuple[str, ...]] = Memo(DIFF_MEMO)  # `#.` comments → context lines


def group_occurrences(occurrences: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    """`#:` references, one per file with its lines: `source/a.html:7, 11, 76`.

    >>> group_occurrences([("source/a.html", "7"), ("source/a.html", "11"), ("b.html", "")])
    ('source/a.html:7, 11', 'b.html')
    """
    lines: dict[str, list[str]] = {}
    for path, line in occurrences:
        lines.setdefault(path, [])
        if line:
            lines[path].append(line)
    return tuple(f"{path}:{', '.join(found)}" if found else path
                 for path, found in lines.items())


def _entry_line(entry: Any) -> int:
    return int(getattr(entry, "msgid_line", 0) or entry.linenum or 0)


def review_catalog(entries: Sequence[Any], metadata: dict[str, str], *, lang: str, article: str,
                   po_file: str, source_language: str, glossary: Glossary | None,
                   severities: dict[str, str], include_fuzzy: bool, min_complete: float,
                   percent: float, built: bool) -> ArticleReview:
    """The review of one catalogue: a row per live entry in file (= document) order.

    `entries` as `check.read_entries` returns them; `percent` as build computes it.
    """
    live = [e for e in entries if not e.obsolete and e.msgid]
    findings = check_catalog(live, metadata, lang=lang, article=article, file=po_file,
                             glossary=glossary, severities=severities)
    by_line: dict[int, list[Finding]] = {}
    by_check: dict[str, int] = {}
    for f in findings:
        by_line.setdefault(f.line, []).append(f)
        by_check[f.check] = by_check.get(f.check, 0) + 1
    use_glossary = glossary is not None and severities.get("glossary", "error") != "off"
    marker = Highlighter(glossary, lang) if use_glossary and glossary is not None else None
    no_findings: list[Finding] = []
    rows = [_row(i, e, line, by_line.get(line, no_findings), marker, lang, include_fuzzy)
            for i, e in enumerate(live, start=1) for line in (_entry_line(e),)]
    return ArticleReview(article, lang, source_language, po_file, tuple(rows),
                         count_catalog(live), percent, min_complete, include_fuzzy, built,
                         marker is not None, by_check)


def _row(index: int, entry: Any, msgid_line: int, findings: list[Finding],
         marker: Highlighter | None, lang: str, include_fuzzy: bool) -> Row:
    status, markup = entry_status(entry, include_fuzzy)
    if entry.msgid_plural:
        targets = tuple((f"msgstr[{i}]", entry.msgstr_plural[i])
                        for i in sorted(entry.msgstr_plural))
    else:
        targets = (("", entry.msgstr),)
    has_glossary_findings = bool(findings) and any(f.check == "glossary" for f in findings)
    key = (entry.msgid, entry.msgid_plural, targets, entry.tcomment, has_glossary_findings)
    # Menus, footers and bylines repeat on every page: the texts and their marks are a pure
    # function of `key`, computed once per language and process.
    cache = marker.texts if marker is not None else _PLAIN_TEXTS
    texts = cache.get(key)
    if texts is None:
        texts = cache.recall(key)
        if texts is None:
            texts = _texts(entry, targets, has_glossary_findings, marker, lang)
            cache.put(key, texts)
    source, translations, notes = texts
    previous = None
    previous_msgctxt = None
    if status == "fuzzy" and entry.previous_msgid is not None:
        diff_key = (entry.previous_msgid, entry.msgid)
        previous = _DIFFS.get(diff_key)
        if previous is None and (previous := _DIFFS.recall(diff_key)) is None:
            previous = word_diff(*diff_key)
            _DIFFS.put(diff_key, previous)
        if entry.previous_msgctxt != entry.msgctxt:
            previous_msgctxt = entry.previous_msgctxt or ""
    comment = entry.comment or ""
    context = _CONTEXTS.get(comment)
    if context is None and (context := _CONTEXTS.recall(comment)) is None:
        context = tuple(line for line in comment.splitlines()
                        if line.strip() and not line.startswith(_HINT_PREFIX))
        _CONTEXTS.put(comment, context)
    refs = entry.occurrences
    if len(refs) == 1:  # (most units: group_occurrences's answer, without its dictionary)
        path, line = refs[0]
        occurrences: tuple[str, ...] = (f"{path}:{line}" if line else path,)
    else:
        occurrences = group_occurrences(refs)
    return Row(index, msgid_line, status, entry.msgctxt, source, translations,
               context, entry.tcomment or "", previous, tuple(findings), markup, notes,
               occurrences, previous_msgctxt)
