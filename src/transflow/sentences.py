"""Sentence segmentation of one translation unit (SPEC §3, `segmentation = "sentence"`).

The unit is English news text in transflow's light tag notation (`<a1>…</a1>`, `<br1/>`),
whitespace already normalised. Sentences are split only at a single space between two words,
so the pieces joined by single spaces are the input again, and never inside an inline tag
pair, so every piece keeps its tags balanced.

A boundary is decided from the word before the space and the word after it:

- the word before must end a sentence: `.`, `?`, `!`, `…` or `...`, perhaps followed by
  closing quotes, brackets or closing tags;
- the word after must start one: a capital letter, a digit or a caseless script, perhaps
  after opening quotes, brackets or tags; a lowercase word never starts a sentence;
- a word ending in `.` that is a known abbreviation (`Dr.`, `U.S.`, `a.m.`), an initial
  (`W.`) or a dotted acronym (`Ph.D.`) ends a sentence only when its kind allows it: titles
  never; `No.`/`Jan.` not before a number; others (`U.S.`, `Inc.`, `etc.`, `a.m.`) only
  before a common sentence-opening word such as `The`, `In` or `He`.

>>> split_sentences('Dr. Ani Petrosyan, of Yerevan State University, said the talks had '
...                 'stalled. Officials in Baku disagreed.')
['Dr. Ani Petrosyan, of Yerevan State University, said the talks had stalled.', \
'Officials in Baku disagreed.']
>>> split_sentences('He said “No.” Then he left for the U.S. The next day he was back.')
['He said “No.”', 'Then he left for the U.S.', 'The next day he was back.']
>>> split_sentences('<a1>It rose. It fell.</a1> Prices rose 3.5 percent.')
['<a1>It rose. It fell.</a1>', 'Prices rose 3.5 percent.']
"""

from __future__ import annotations

import re
from enum import Enum

from transflow.inline import TAG_RE


class AbbreviationKind(Enum):
    """How an abbreviation followed by a period behaves at a possible sentence boundary."""

    TITLE = "title"  # capitalised, precedes a name ("Dr. Petrosyan"): never ends a sentence
    PREFIX = "prefix"  # "e.g.", "vs.": introduces more of the sentence, never ends it
    NUMBER = "number"  # precedes a number ("No. 5", "Jan. 12"): no boundary before a digit
    FINAL = "final"  # may end a sentence: boundary only before a common sentence opener


_T, _P = AbbreviationKind.TITLE, AbbreviationKind.PREFIX
_N, _F = AbbreviationKind.NUMBER, AbbreviationKind.FINAL

# Abbreviations, lowercased and without their final period (`u.s` for `U.S.`).
ABBREVIATIONS: dict[str, AbbreviationKind] = {
    # Titles and ranks stand before a name: "Dr. Petrosyan", "Gen. Mammadov".
    **dict.fromkeys(
        "mr mrs ms messrs dr prof gen col lt sgt rev st mt sen rep gov pres capt cmdr maj"
        " adm cpl pvt hon fr ft supt insp".split(),
        _T,
    ),
    # Prefix-type abbreviations that practically never end a sentence.
    **dict.fromkeys("e.g i.e vs cf approx ca viz incl esp".split(), _P),
    # Followed by a number: "No. 5", "Art. 9", "pp. 10-12".
    **dict.fromkeys("no nos art vol vols p pp fig figs ch sec para".split(), _N),
    # Month abbreviations: "Jan. 12"; before a word they may end a sentence ("late Jan. The").
    **dict.fromkeys("jan feb mar apr jun jul aug sep sept oct nov dec".split(), _N),
    # May end a sentence: "…in the U.S. The next day…", "…at 10 a.m. He said…".
    **dict.fromkeys(
        "jr sr inc ltd co corp bros plc llc etc al a.m p.m u.s u.k u.n e.u u.s.a u.a.e d.c"
        " ave blvd rd dept univ assn est govt".split(),
        _F,
    ),
}

# Common words that open a sentence (closed classes: determiners, pronouns, prepositions,
# conjunctions, sentence adverbs), so "U.S. The" splits while "U.S. Army" does not.
SENTENCE_OPENERS: frozenset[str] = frozenset(
    """
    a an the this that these those there here it its he she they we i you his her their our my
    your in on at by for from with without after before during since until as but and or so yet
    if when while where what who whom whose why how which although though however meanwhile
    moreover furthermore also still then now today yesterday tomorrow later earlier according
    some many most several both each every all no not none one two three such other another
    despite under over last next nevertheless instead indeed even only just neither nor once
    following among between against through within into because unlike like asked speaking
    officials authorities analysts critics residents
    """.split()
)

# Characters that close a sentence when they end the word before a space.
TERMINATORS = ".?!…。！？؟‼⁇⁈⁉"  # Latin, ellipsis, CJK full-width, Arabic question mark
# Trailing characters skipped before looking for a terminator: closing quotes and brackets.
CLOSERS = "\"'”’»)]}›"
# Leading characters skipped before looking at the first letter: opening quotes and brackets,
# and a leading ellipsis ("…And then").
OPENERS = "\"'“‘«([{‹¿¡.…"

# An initial: "W." in "George W. Bush".
_INITIAL = re.compile(r"[A-Z]")
# A dotted acronym not in the list: "Ph.D.", "U.S.A.", "N.Y."
_DOTTED = re.compile(r"(?:[A-Za-z]{1,2}\.)+[A-Za-z]{1,2}")
# A list enumerator opening a unit: "1.", "(2)", "iv.", "B)".
_ENUMERATOR = re.compile(r"\(?(?:\d{1,2}|[ivxIVX]{1,4}|[A-Za-z])[.)]")
# The leading run of letters of a word, for the opener lookup ("It's" → "It").
_LEADING_WORD = re.compile(r"[^\W\d_]+")
# Georgian Mkhedruli is written caseless although Unicode calls it lowercase.
_CASELESS_RANGES = ((0x10D0, 0x10FF),)


def split_sentences(text: str) -> list[str]:
    """Split one unit into sentences; `" ".join(result) == text` always holds."""
    words = text.split(" ")
    if len(words) < 2 or not any(ch in text for ch in TERMINATORS):
        return [text]
    depths = _open_tags_after_each(words)
    if depths is None:  # unbalanced tags: never guess where a piece could be cut
        return [text]
    plains = [TAG_RE.sub("", w) if "<" in w else w for w in words]
    pieces: list[str] = []
    start = 0
    last = ""  # the last word with visible text in the current piece
    visible = 0  # how many words with visible text the current piece has
    for k in range(len(words) - 1):
        if plains[k]:
            last = plains[k]
            visible += 1
        if depths[k] or not last or not plains[k + 1]:
            continue
        if visible == 1 and _ENUMERATOR.fullmatch(last):
            continue  # "1. The talks…": a list number, not a sentence
        if _is_boundary(last, plains[k + 1]):
            pieces.append(" ".join(words[start : k + 1]))
            start = k + 1
            last = ""
            visible = 0
    pieces.append(" ".join(words[start:]))
    return pieces


def _open_tags_after_each(words: list[str]) -> list[int] | None:
    """Return how many tags are open after each word, or None if the tags are not balanced."""
    stack: list[str] = []
    depths: list[int] = []
    for word in words:
        if "<" in word:
            for m in TAG_RE.finditer(word):  # the notation's tags: `<a1>`, `</a1>`, `<br1/>`
                closing, name, index, void = m.groups()
                name += index
                if closing and void:
                    return None
                if void:
                    continue
                if closing:
                    if not stack or stack[-1] != name:
                        return None
                    stack.pop()
                else:
                    stack.append(name)
        depths.append(len(stack))
    return None if stack else depths


def _is_boundary(left: str, right: str) -> bool:
    """Decide whether a sentence ends between the visible words `left` and `right`."""
    body = left.rstrip(CLOSERS)
    if not body or body[-1] not in TERMINATORS:
        return False
    head = right.lstrip(OPENERS)
    if not head or not _can_start_sentence(head[0]):
        return False
    if body.endswith(("...", "…")):
        # An ellipsis standing alone ("said … Yerevan") is usually an omission mid-quote.
        if not body.rstrip(".…").lstrip(OPENERS):
            return _is_opener(head, right)
        return True
    if body[-1] != ".":
        return True
    token = body[:-1].lstrip(OPENERS)
    if not token:
        return True
    if _INITIAL.fullmatch(token):
        if _INITIAL.fullmatch(head.rstrip(".")) and right.endswith("."):
            return False  # "J. R. R. Tolkien": the next word is an initial too
        return _is_opener(head, right)
    kind = ABBREVIATIONS.get(token.lower())
    if kind is None:
        return not _DOTTED.fullmatch(token) or _is_opener(head, right)
    if kind is AbbreviationKind.TITLE:
        return not token[0].isupper()  # "dr." or "st." in lowercase is no title
    if kind is AbbreviationKind.PREFIX:
        return False
    if kind is AbbreviationKind.NUMBER:
        return not head[0].isdigit()
    return _is_opener(head, right)


def _can_start_sentence(ch: str) -> bool:
    """Capitals, digits and caseless letters can open a sentence; lowercase letters cannot."""
    if ch.isupper() or ch.isdigit():
        return True
    if not ch.isalpha():
        return False
    if not ch.islower():
        return True  # caseless scripts: CJK, Arabic, Hebrew…
    return any(lo <= ord(ch) <= hi for lo, hi in _CASELESS_RANGES)


def _is_opener(head: str, right: str) -> bool:
    """Whether the word after an abbreviation is a common sentence opener (or a quotation)."""
    if right[0] in '“"‘«' and head[0].isupper():
        return True  # "…in the U.S. “We will…": a quotation opens a new sentence
    m = _LEADING_WORD.match(head)
    if m is None or not head[0].isupper():
        return False
    return m.group().lower() in SENTENCE_OPENERS
