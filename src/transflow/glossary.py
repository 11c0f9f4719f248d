"""The terminology glossary (`glossary.toml`): loading, validation, and term matching.

A term is *triggered* when one of its source forms occurs in a msgid as whole words; the
translation must then contain one of its renderings in some grammatical form of the target
language (`transflow.morphology` generates the forms from data), and no forbidden rendering
may appear anywhere unless a triggered term approves it.

>>> g = Glossary.from_data([{"id": "stepanakert", "en": "Stepanakert", "ru": "Степанакерт",
...                          "forbidden": {"ru": ["Ханкенди"]}}])
>>> g.hints("Talks in <a1>Stepanakert</a1>’s centre", "ru")
['Stepanakert → Степанакерт']
>>> g.check_entry("Talks in Stepanakert", "Переговоры в Степанакерте", "ru", set())
[]
>>> [p.kind for p in g.check_entry("Talks in Stepanakert", "Переговоры в Ханкенди", "ru", set())]
['forbidden']
"""

from __future__ import annotations

import html
import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from itertools import compress, count
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transflow.errors import GlossaryError, InputError
from transflow.locales import is_known_language
from transflow.memo import Memo
from transflow.morphology import (
    Morphology,
    Phrase,
    Tokens,
    contains_phrase,
    describe_rules,
    find_phrase,
    load_morphology,
)
from transflow.tomlfile import key_line, load_toml

if TYPE_CHECKING:
    from transflow.project import Project

# The keys a [[term]] may have besides language codes, each with the type it must be.
TERM_KEYS: dict[str, str] = {
    "id": "a string of lowercase letters, digits and '-'",  # stable name for ignore= and show
    "note": "a string",  # guidance for translators and editors
    "forbidden": "a table of language = list of strings",  # renderings that must not appear
    "forms": "a table of language = list of strings",  # irregular forms the rules miss
    "derived": "a table of language = list of strings",  # derived words that also count
    "translate": "true or false",  # false: the source form must appear unchanged
    "case_sensitive": "true or false",  # compare letter case too (brands, acronyms)
}
# The keys a [[rule]] (house-style rule) may have besides language codes.
RULE_KEYS: dict[str, str] = {
    "id": "a string of lowercase letters, digits and '-'",  # the name ignore= waives it by
    "message": "a string",  # why the phrasing is banned, shown in every finding
}
TERM_ID_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Light notation tags and any raw HTML tag: neither is text a term can occur in.
_TAG_RE = re.compile(r"</?[A-Za-z][^<>]*>")
# How many of the last tokenized texts a glossary remembers (about one catalogue's entries, a
# few MB at most): enough for review to reuse what check has just read.
RECENT_TEXTS = 1024
# How many (msgid, msgstr) pairs a glossary remembers the problems of, per generation (see
# `Glossary.check_entry`): menus, bylines and footers recur on every page of a newsroom.
CHECKED_MEMO = 2048
# How many msgids a glossary remembers the triggered terms of, per generation (`triggered`):
# the boilerplate recurs on every page; the rest occurs once per article (in each language's
# catalogue of it, checked one after the other, so one generation keeps them meanwhile).
TRIGGER_MEMO = 1024
# A translator comment that silences glossary findings (or a whole check) on one entry.
IGNORE_RE = re.compile(r"transflow:\s*ignore\s*=\s*([A-Za-z0-9_,\s-]+)")
KEEP_SUFFIX = " (keep)"
_TERM_HEADER_RE = re.compile(r"^\s*\[\[\s*term\s*\]\]")
_RULE_HEADER_RE = re.compile(r"^\s*\[\[\s*rule\s*\]\]")


@dataclass(frozen=True, slots=True)
class Term:
    """One glossary entry."""

    id: str
    source: tuple[str, ...]
    renderings: dict[str, tuple[str, ...]]
    forbidden: dict[str, tuple[str, ...]] = field(default_factory=dict)
    forms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Derived words accepted in place of a rendering, inflected like one (ru Гальский for Gali):
    # the newsroom's call, per term and language.
    derived: dict[str, tuple[str, ...]] = field(default_factory=dict)
    note: str = ""
    translate: bool = True
    case_sensitive: bool = False
    line: int | None = None

    def approved(self, lang: str) -> tuple[str, ...]:
        """The approved renderings in `lang` (the source forms for a term never translated)."""
        if not self.translate:
            return self.source
        return self.renderings.get(lang, ())


@dataclass(frozen=True, slots=True)
class StyleRule:
    """A house-style rule: phrases banned in every language (`[[rule]]`, SPEC §4)."""

    id: str
    message: str
    phrases: dict[str, tuple[str, ...]]  # language (the source language too) → phrases
    line: int | None = None


@dataclass(frozen=True, slots=True)
class StyleProblem:
    """A banned phrase found in one text: the rule, the phrase as listed, the words found."""

    rule: str
    phrase: str
    found: str
    message: str


@dataclass(frozen=True, slots=True)
class GlossaryProblem:
    """A glossary violation in one translation: a missing or a forbidden rendering."""

    term: str
    kind: str  # "missing" or "forbidden"
    message: str
    rendering: str | None = None


def plain_text(text: str) -> str:
    """Text without inline tags or HTML markup, entities read: what terms are matched in."""
    if "<" in text:
        text = _TAG_RE.sub("", text)
    if "&" in text:
        text = html.unescape(text)
    return text


def _scripts(word: str) -> set[str]:
    """The alphabets of a word's letters (LATIN, CYRILLIC, GEORGIAN…)."""
    return {unicodedata.name(ch, "?").split()[0] for ch in word if ch.isalpha()}


def mixed_script_word(text: str) -> str | None:
    """The first word of `text` whose letters come from two alphabets (`Cухуми` with a Latin C).

    >>> mixed_script_word("Степანакерт")
    'Степანакерт'
    >>> mixed_script_word("OC Media-ს") is None
    True
    """
    for word in re.findall(r"\w+", text):
        if not word.isascii() and len(_scripts(word)) > 1:
            return word
    return None


def parse_ignore(comment: str | None) -> set[str]:
    """The ids named by `# transflow: ignore=ID[,ID…]` lines of a translator comment.

    >>> sorted(parse_ignore("checked\\ntransflow: ignore=georgia, shusha"))
    ['georgia', 'shusha']
    """
    found: set[str] = set()
    for m in IGNORE_RE.finditer(comment or ""):
        found.update(x.strip() for x in re.split(r"[,\s]+", m.group(1)) if x.strip())
    return found


@dataclass(frozen=True, slots=True)
class _Source:
    """A source form indexed for triggering: its words (folded, and as written)."""

    term: Term
    words: tuple[str, ...]
    cased: tuple[str, ...]
    seps: tuple[str, ...]  # between the words, hyphens read as spaces


class Glossary:
    """The loaded glossary: terms, source-side index, and per-language form caches."""

    def __init__(self, terms: Sequence[Term], path: Path | None = None,
                 source_language: str = "en", rules: Sequence[StyleRule] = ()):
        self.terms: tuple[Term, ...] = tuple(terms)
        self.rules: tuple[StyleRule, ...] = tuple(rules)
        self._style_index: dict[str, dict[str, list[tuple[StyleRule, str, Phrase]]]] = {}
        self._style_anchors: dict[str, tuple[str, ...]] = {}
        self._missing_messages: dict[tuple[str, str], str] = {}
        self.path = path
        self.source_language = source_language
        self.by_id = {t.id: t for t in self.terms}
        self._index: dict[str, list[_Source]] = {}
        self._source_morph = Morphology(lang=source_language)
        for term in self.terms:
            for form in term.source:
                tokens = self._source_morph.tokenize(form, keep_case=True)
                if not tokens.words:
                    continue
                entry = _Source(term, tuple(w.lower() for w in tokens.words), tokens.words,
                                tuple(_source_sep(tokens.sep(j)) for j in range(1, len(tokens.words))))
                self._index.setdefault(entry.words[0], []).append(entry)
        for entries in self._index.values():
            entries.sort(key=lambda e: -len(e.words))
        self._accepted: dict[tuple[str, str], list[Phrase]] = {}
        self._forbidden_index: dict[str, dict[str, list[tuple[Term, str, Phrase]]]] = {}
        self._trigger_cache: Memo[str, list[Term]] = Memo(TRIGGER_MEMO)
        # The last texts tokenized and scanned: review reads the rows check has just checked,
        # and takes their words (and where each term matched) from here instead of again.
        self._recent_tokens: dict[tuple[str, bool, str], Tokens] = {}
        self._recent_scans: dict[str, tuple[Tokens, list[tuple[Term, int, int]]]] = {}
        self._forbidden_keys: dict[str, frozenset[str]] = {}
        # check_entry's answers for the last pairs checked without waivers, in two generations
        # (a pair looked up again moves back into the current one: what recurs stays)
        self._checked: dict[tuple[str, str, str], tuple[GlossaryProblem, ...]] = {}
        self._checked_before: dict[tuple[str, str, str], tuple[GlossaryProblem, ...]] = {}
        self._approved_norm: dict[tuple[str, str], frozenset[str]] = {}

    @classmethod
    def from_data(cls, data: Iterable[dict[str, Any]], source_language: str = "en",
                  rules: Iterable[dict[str, Any]] = ()) -> Glossary:
        """Build a glossary from term (and rule) tables as in the TOML file, validating them."""
        items, rule_items = list(data), list(rules)
        text = "".join("[[term]]\n" + "".join(f"{k} = 0\n" for k in item) for item in items)
        text += "".join("[[rule]]\n" + "".join(f"{k} = 0\n" for k in item)
                        for item in rule_items)
        path = Path("glossary.toml")
        terms = _parse_terms({"term": items}, text, path, source_language)
        return cls(terms, None, source_language,
                   _parse_rules(rule_items, text, path, {t.id for t in terms}))

    def term(self, term_id: str) -> Term:
        """The term with this id; `GlossaryError` if there is none."""
        try:
            return self.by_id[term_id]
        except KeyError:
            raise GlossaryError(f"no term with id {term_id!r} "
                                f"(`transflow glossary list` shows them)", self.path) from None

    def rule(self, rule_id: str) -> StyleRule | None:
        """The house-style rule with this id, or None."""
        return next((r for r in self.rules if r.id == rule_id), None)

    def rule_forms(self, rule: StyleRule, lang: str) -> list[tuple[str, list[tuple[str, str]]]]:
        """For `glossary show`: each phrase of a rule in `lang` with, per word, the word and the
        forms matched (sorted, as written)."""
        morph = load_morphology(lang)
        out = []
        for text in rule.phrases.get(lang, ()):
            parts = morph.positions(text)
            shown = []
            for i, (_, word, position) in enumerate(parts):
                forms = set(morph.written_forms(word, position, clitics=i == len(parts) - 1))
                if i == len(parts) - 1 and position == "head":
                    forms |= set(morph.written_forms(word, "modifier"))
                shown.append((word, " ".join(sorted(forms, key=lambda f: (f.lower(), f)))))
            out.append((text, shown))
        return out

    # --- the source side ---------------------------------------------------------------------

    def triggered(self, msgid: str) -> list[Term]:
        """The terms whose source form occurs in `msgid` (longest match first, in text order)."""
        cached = self._trigger_cache.get(msgid)
        if cached is None:
            cached = self._trigger_cache.recall(msgid)
        if cached is not None:
            return cached
        found: list[Term] = []
        seen: set[str] = set()  # (ids are unique: comparing terms field by field costs more)
        for term, _, _ in self._scan_source(msgid)[1]:
            if term.id not in seen:
                seen.add(term.id)
                found.append(term)
        # Two generations of TRIGGER_MEMO msgids: what recurs (menus, bylines) stays, and a
        # process's memory does not grow with the newsroom (issue 11: it once kept 20,000
        # msgids, 15 MB in every worker of a cold check or status).
        self._trigger_cache.put(msgid, found)
        return found

    def source_matches(self, msgid: str, only: AbstractSet[str] | None = None
                       ) -> tuple[Tokens, list[tuple[Term, int, int]]]:
        """Where `triggered` found its terms: the msgid's words (folded, case kept) and each
        match `(term, start, end)` in word indexes, in text order (for the review page).

        `only`: ids of the terms that may match (the others are not looked for, so a shorter
        term inside one of them is found); None: every term, exactly `triggered`'s matches.
        """
        if only is None:
            return self._scan_source(msgid)
        tokens = self._source_morph.tokenize(plain_text(msgid), keep_case=True)
        return tokens, self._scan(tokens, only)

    def _scan_source(self, msgid: str) -> tuple[Tokens, list[tuple[Term, int, int]]]:
        """The words of `msgid` and every term's matches (remembered for the last msgids)."""
        recent = self._recent_scans.get(msgid)
        if recent is None:
            tokens = self._source_morph.tokenize(plain_text(msgid), keep_case=True)
            recent = (tokens, self._scan(tokens, None))
            if len(self._recent_scans) >= RECENT_TEXTS:
                self._recent_scans.clear()
            self._recent_scans[msgid] = recent
        return recent

    def target_tokens(self, text: str, lang: str, *, keep_case: bool = False) -> Tokens:
        """The words of a translation's plain text as `check_entry` compares them (the same
        object for a text checked a moment ago: review marks them without reading it again)."""
        key = (lang, keep_case, text)
        tokens = self._recent_tokens.get(key)
        if tokens is None:
            tokens = load_morphology(lang).tokenize(text, keep_case=keep_case)
            if len(self._recent_tokens) >= RECENT_TEXTS:
                self._recent_tokens.clear()
            self._recent_tokens[key] = tokens
        return tokens

    def _scan(self, tokens: Tokens,
              only: AbstractSet[str] | None) -> list[tuple[Term, int, int]]:
        """The source forms in `tokens`, left to right, the longest at each word first; the
        words of a match are not looked at again."""
        matches: list[tuple[Term, int, int]] = []
        index = self._index
        cased = tokens.words
        words = tuple(map(str.lower, cased))  # word by word: token indexes stay aligned
        # the indexes of the words that begin some source form (found in C)
        starts = list(compress(count(), map(index.__contains__, words)))
        if not starts:
            return matches
        n = len(words)
        done = 0  # words before this index belong to a match already
        for i in starts:
            if i < done:
                continue
            for cand in index[words[i]]:
                k = len(cand.words)
                if i + k > n:
                    continue
                if only is not None and cand.term.id not in only:
                    continue
                if cand.term.case_sensitive:
                    got, want = cased[i : i + k], cand.cased
                else:
                    got, want = words[i : i + k], cand.words
                if got != want:
                    continue
                if k > 1 and tuple(_source_sep(tokens.sep(j)) for j in range(i + 1, i + k)) \
                        != cand.seps:
                    continue
                matches.append((cand.term, i, i + k))
                done = i + k
                break
        return matches

    def hints(self, msgid: str, lang: str) -> list[str]:
        """One `source → rendering` line per term the msgid triggers (for `#. glossary:`)."""
        out = []
        for term in self.triggered(msgid):
            if not term.translate:
                out.append(f"{term.source[0]} → {term.source[0]}{KEEP_SUFFIX}")
            elif term.renderings.get(lang):
                out.append(f"{term.source[0]} → {' / '.join(term.renderings[lang])}")
        return out

    # --- the target side ---------------------------------------------------------------------

    def accepted_phrases(self, term: Term, lang: str) -> list[Phrase]:
        """Every accepted phrase of a term in `lang`: generated forms and listed `forms`."""
        key = (term.id, lang)
        cached = self._accepted.get(key)
        if cached is not None:
            return cached
        morph = load_morphology(lang)
        keep = term.case_sensitive
        phrases = [morph.phrase(r, keep_case=keep, inflect=term.translate)
                   for r in term.approved(lang)]
        phrases += [morph.listed_phrase(f, keep_case=keep) for f in term.forms.get(lang, ())]
        if morph.solid_compounds and term.translate:
            phrases += [morph.phrase(r.replace("-", ""), keep_case=keep)
                        for r in term.approved(lang) if "-" in r]
        # a derived word is mostly an adjective: it stands before its noun too (ყარაბაღელ ქალს)
        phrases += [morph.phrase(d, keep_case=keep, attributive=True)
                    for d in term.derived.get(lang, ())]
        phrases = [p for p in phrases if p.words]
        self._accepted[key] = phrases
        return phrases

    def _approved_keys(self, term: Term, lang: str, morph: Morphology) -> frozenset[str]:
        key = (term.id, lang)
        keys = self._approved_norm.get(key)
        if keys is None:
            keys = frozenset(morph.normalize(r) for r in term.approved(lang))
            self._approved_norm[key] = keys
        return keys

    def _forbidden(self, lang: str) -> dict[str, list[tuple[Term, str, Phrase]]]:
        """Forbidden renderings of `lang`, indexed by every form of their first word."""
        index = self._forbidden_index.get(lang)
        if index is not None:
            return index
        morph = load_morphology(lang)
        index = {}
        for term in self.terms:
            for rendering in term.forbidden.get(lang, ()):
                phrase = morph.phrase(rendering, keep_case=term.case_sensitive)
                if not phrase.words:
                    continue
                for first in phrase.words[0]:
                    index.setdefault(first.lower(), []).append((term, rendering, phrase))
        self._forbidden_index[lang] = index
        self._forbidden_keys[lang] = frozenset(index)
        return index

    def check_entry(self, msgid: str, msgstr: str, lang: str,
                    ignore: AbstractSet[str]) -> list[GlossaryProblem]:
        """Glossary problems of one translation: missing renderings, forbidden renderings.

        The answer is a function of the four arguments (and the glossary): the boilerplate
        pairs that every page of a newsroom repeats are remembered, not matched again.
        """
        if ignore:
            return self._check_entry(msgid, msgstr, lang, ignore)
        key = (lang, msgid, msgstr)
        known = self._checked.get(key)
        if known is None:
            known = self._checked_before.pop(key, None)
            if known is None:
                known = tuple(self._check_entry(msgid, msgstr, lang, ignore))
            if len(self._checked) >= CHECKED_MEMO:
                self._checked_before = self._checked
                self._checked = {}
            self._checked[key] = known
        return list(known)

    def _check_entry(self, msgid: str, msgstr: str, lang: str,
                     ignore: AbstractSet[str]) -> list[GlossaryProblem]:
        morph = load_morphology(lang)
        triggered = self.triggered(msgid)
        forbidden = self._forbidden(lang)
        if not triggered and not forbidden:
            return []
        text = plain_text(msgstr)
        tokens = self.target_tokens(text, lang)
        cased: list[Tokens] = []

        def tokens_for(term: Term) -> Tokens:
            if not term.case_sensitive:
                return tokens
            if not cased:
                cased.append(self.target_tokens(text, lang, keep_case=True))
            return cased[0]

        hits = self._forbidden_keys[lang].intersection(tokens.words) if forbidden else ()
        missing: list[Term] = []
        approved_spans: list[tuple[int, int]] = []
        approved_renderings: set[str] = set()
        candidates = [(term, phrases) for term in triggered
                      if (phrases := self.accepted_phrases(term, lang))]
        if hits or len(candidates) > 1:
            # Longest renderings claim their words first: a shorter term is not found inside a
            # longer one's rendering (Красного Креста within Международный комитет Красного
            # Креста), as on the source side.
            claimed: list[tuple[int, int]] = []
            absent: set[str] = set()
            for term, phrases in sorted(candidates,
                                        key=lambda c: -max(len(p.words) for p in c[1])):
                spans = [s for p in phrases for s in find_phrase(tokens_for(term), p)]
                own = [s for s in spans if not _inside_another(s, claimed)]
                claimed.extend(own)
                approved_spans.extend(spans)
                if hits:
                    approved_renderings.update(self._approved_keys(term, lang, morph))
                if not own:
                    absent.add(term.id)
            missing = [term for term, _ in candidates if term.id in absent]
        else:
            missing = [term for term, phrases in candidates
                       if not any(contains_phrase(tokens_for(term), p) for p in phrases)]

        problems: list[GlossaryProblem] = []
        reported: set[str] = set()
        flagged_terms: set[str] = set()
        if hits:
            for word in sorted(hits, key=tokens.words.index):
                for term, rendering, phrase in forbidden[word]:
                    key = morph.normalize(rendering)
                    if key in reported or key in approved_renderings:
                        continue
                    spans = [s for s in find_phrase(tokens_for(term), phrase)
                             if not any(a <= s[0] and s[1] <= b for a, b in approved_spans)]
                    if spans:
                        # A form shared with the term's own approved rendering is approved
                        # (Сухуми is not a form of the forbidden Сухум).
                        own = [s for p in self.accepted_phrases(term, lang)
                               for s in find_phrase(tokens_for(term), p)]
                        spans = [s for s in spans
                                 if not any(a <= s[0] and s[1] <= b for a, b in own)]
                    if not spans:
                        continue
                    owner = _forbidding_owner(term, rendering, lang, [*missing, *triggered])
                    reported.add(key)
                    flagged_terms.add(owner.id)
                    problems.append(GlossaryProblem(
                        owner.id, "forbidden", _forbidden_message(owner, rendering, lang),
                        rendering))
        for term in missing:
            if term.id not in flagged_terms:
                problems.append(GlossaryProblem(term.id, "missing",
                                                self.missing_message(term, lang)))
        return [p for p in problems if p.term not in ignore]

    def missing_message(self, term: Term, lang: str) -> str:
        """What a missing term's finding says: the renderings (and derived words) required and,
        shortened, the forms looked for, so a translator sees why a word did not count."""
        key = (term.id, lang)
        cached = self._missing_messages.get(key)
        if cached is None:
            cached = _missing_message(term, lang)
            if term.translate:
                lemmas = [*term.approved(lang), *term.derived.get(lang, ())]
                total = sum(_count_forms(p) for p in self.accepted_phrases(term, lang))
                more = max(0, total - len(lemmas))
                cached += (f"; looked for {', '.join(lemmas)} +{more} form"
                           f"{'' if more == 1 else 's'} (`transflow glossary show {term.id}`)")
            self._missing_messages[key] = cached
        return cached

    # --- house-style rules -------------------------------------------------------------------

    def _style(self, lang: str) -> dict[str, list[tuple[StyleRule, str, Phrase]]]:
        """The rules' phrases in `lang` (any inflected form), indexed by their first word's forms."""
        index = self._style_index.get(lang)
        if index is not None:
            return index
        morph = load_morphology(lang)
        index = {}
        anchors = set()
        for rule in self.rules:
            for text in rule.phrases.get(lang, ()):
                phrase = morph.phrase(text, attributive=True)
                if not phrase.words:
                    continue
                firsts = phrase.words[0] | (phrase.compound if len(phrase.words) == 1
                                            else frozenset())
                for first in firsts:
                    index.setdefault(first, []).append((rule, text, phrase))
                # every form of the first word starts with this: a text without it has no match
                anchors.add(os.path.commonprefix(sorted(firsts)))
        self._style_index[lang] = index
        self._style_anchors[lang] = tuple(sorted(anchors))
        return index

    def has_rules(self, lang: str) -> bool:
        """True when some rule lists a phrase in `lang`."""
        return any(lang in rule.phrases for rule in self.rules)

    def style_problems(self, text: str, lang: str,
                       ignore: AbstractSet[str] = frozenset()) -> list[StyleProblem]:
        """The banned phrases of the house-style rules found in `text` (a msgstr, or a source
        msgid in the source language), in text order; rules named in `ignore` are waived."""
        index = self._style(lang)
        if not index:
            return []
        morph = load_morphology(lang)
        plain = plain_text(text)
        folded = morph.normalize(plain)
        if not any(anchor in folded for anchor in self._style_anchors[lang]):
            return []  # the common case, decided without tokenizing
        tokens = morph.tokenize(plain)
        hits = set(index).intersection(tokens.words)
        if not hits:
            return []
        found: list[tuple[int, StyleProblem]] = []
        seen: set[tuple[str, int]] = set()
        for word in hits:
            for rule, listed, phrase in index[word]:
                if rule.id in ignore:
                    continue
                for start, end in find_phrase(tokens, phrase):
                    if (rule.id, start) in seen:
                        continue
                    seen.add((rule.id, start))
                    words = "".join(
                        (tokens.raw_seps[i] if i > start else "") + tokens.words[i]
                        for i in range(start, end))
                    found.append((start, StyleProblem(
                        rule.id, listed, words,
                        f"'{words}' ({listed}): {rule.message} (rule {rule.id})")))
        found.sort(key=lambda x: (x[0], x[1].rule))
        return [p for _, p in found]

    def word_forms(self, term: Term, lang: str, *, derived: bool = False
                   ) -> list[tuple[str, list[tuple[str, str, str]]]]:
        """For display in `glossary show`: each rendering (or, with `derived`, each derived
        word) with, per word, the word, the rules that inflect it and the forms the matcher
        accepts, sorted and in the rendering's own capitalisation (`Степанакерта`)."""
        morph = load_morphology(lang)
        out = []
        inflect = term.translate
        for rendering in (term.derived.get(lang, ()) if derived else term.approved(lang)):
            rules = describe_rules(morph, rendering, inflect=inflect)
            parts = morph.positions(rendering, inflect=inflect)
            shown = []
            for i, ((_, word, position), rule) in enumerate(zip(parts, rules, strict=True)):
                last = i == len(parts) - 1
                forms = morph.written_forms(word, position, clitics=last and inflect)
                shown.append((word, rule, " ".join(forms)))
            out.append((rendering, shown))
        return out


def _count_forms(phrase: Phrase) -> int:
    """How many word sequences a phrase accepts (its words' forms multiplied)."""
    count = 1
    for forms in phrase.words:
        count *= len(forms)
    return count + len(phrase.compound)


def _inside_another(span: tuple[int, int], claimed: list[tuple[int, int]]) -> bool:
    """True when `span` lies strictly inside a longer claimed span."""
    return any(a <= span[0] and span[1] <= b and b - a > span[1] - span[0] for a, b in claimed)


def _source_sep(sep: str) -> str:
    """A separator between source words: a hyphen reads as a space (Nagorno-Karabakh)."""
    return " " if sep == "-" else sep.replace("\u2019", "'")


def _forbidding_owner(term: Term, rendering: str, lang: str, candidates: list[Term]) -> Term:
    """The term a forbidden rendering is reported under: the first of `candidates` (triggered
    terms, those whose rendering is missing first) that forbids it, else `term`."""
    for other in candidates:
        if rendering in other.forbidden.get(lang, ()):
            return other
    return term


def _quote_all(items: Sequence[str]) -> str:
    return " or ".join(f"'{x}'" for x in items)


def _missing_message(term: Term, lang: str) -> str:
    if not term.translate:
        return (f"'{term.source[0]}' must appear unchanged in the translation "
                f"(term {term.id}, not translated)")
    derived = term.derived.get(lang, ())
    also = f" or as a derived word {_quote_all(derived)}" if derived else ""
    return (f"'{term.source[0]}' must be rendered {_quote_all(term.approved(lang))} "
            f"(any grammatical form){also}: not found (term {term.id})")


def _forbidden_message(term: Term, rendering: str, lang: str) -> str:
    use = term.approved(lang)
    hint = f": use {_quote_all(use)}" if use else ""
    return f"forbidden rendering '{rendering}' (term {term.id}{hint})"


# --- loading and validation -------------------------------------------------------------------


def load_project_glossary(project: Project) -> Glossary | None:
    """The project's glossary, or None when it has none and does not require one."""
    path = project.glossary_path
    if path is None or not path.exists():
        if project.glossary_required and path is not None:
            raise GlossaryError(
                "glossary file not found (set in transflow.toml [project] glossary)",
                project.relative(path),
            )
        return None
    return load_glossary(path, project.source_language, display=project.relative(path))


def load_glossary(path: Path, source_language: str = "en", *,
                  display: str | None = None) -> Glossary:
    """Load and validate a glossary file; errors are `GlossaryError` with `path:line`."""
    try:
        data, text = load_toml(path, GlossaryError)
    except GlossaryError:
        raise
    except InputError as e:
        raise GlossaryError(e.message, e.path, e.line) from e
    shown = Path(display) if display else path
    terms = _parse_terms(data, text, shown, source_language)
    rules = data.get("rule", [])
    if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
        raise GlossaryError("`rule` must be an array of tables ([[rule]])", shown,
                            key_line(text, None, "rule"))
    return Glossary(terms, shown, source_language,
                    _parse_rules(rules, text, shown, {t.id for t in terms}))


def _parse_terms(data: dict[str, Any], text: str, path: Path,
                 source_language: str) -> list[Term]:
    for key in data:
        if key not in ("term", "rule"):
            raise GlossaryError(f"unknown key {key!r} (a glossary holds only [[term]] and "
                                f"[[rule]] tables)", path, _top_level_line(text, key))
    raw_terms = data.get("term", [])
    if not isinstance(raw_terms, list) or not all(isinstance(t, dict) for t in raw_terms):
        raise GlossaryError("`term` must be an array of tables ([[term]])", path,
                            key_line(text, None, "term"))
    headers = [i for i, line in enumerate(text.splitlines(), start=1)
               if _TERM_HEADER_RE.match(line)]
    terms: list[Term] = []
    seen_ids: dict[str, int] = {}
    seen_sources: dict[tuple[str, bool], str] = {}
    for index, raw in enumerate(raw_terms):
        term = _parse_term(raw, index, text, path, source_language,
                           headers[index] if index < len(headers) else None)
        if term.id in seen_ids:
            raise GlossaryError(f"duplicate term id {term.id!r} (first used in term "
                                f"{seen_ids[term.id] + 1})", path, key_line(text, "term", "id", index))
        seen_ids[term.id] = index
        for form in term.source:
            seen = (form if term.case_sensitive else form.lower(), term.case_sensitive)
            if seen_sources.get(seen) == term.id:
                continue  # the same form twice in one term (Lachin Corridor / corridor): harmless
            if seen in seen_sources:
                raise GlossaryError(
                    f"source form {form!r} of term {term.id!r} is already a source form of "
                    f"term {seen_sources[seen]!r}", path,
                    key_line(text, "term", source_language, index))
            seen_sources[seen] = term.id
        terms.append(term)
    return terms


def _top_level_line(text: str, key: str) -> int | None:
    """The line of a top-level key or table header (`title = …`, `[meta]`)."""
    pattern = re.compile(rf"^\s*(?:\[+\s*{re.escape(key)}\b|\"?{re.escape(key)}\"?\s*=)")
    for lineno, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return lineno
    return None


def _parse_term(raw: dict[str, Any], index: int, text: str, path: Path,
                source_language: str, header_line: int | None) -> Term:
    def fail(message: str, key: str | None = None) -> GlossaryError:
        return GlossaryError(message, path, key_line(text, "term", key, index))

    def strings(key: str, value: Any, what: str, *, dedupe: bool = False) -> tuple[str, ...]:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items or not all(isinstance(x, str) for x in items):
            raise fail(f"{what} must be a string or a non-empty list of strings, not {value!r}",
                       key)
        out = []
        for item in items:
            if not item.strip():
                raise fail(f"{what} has an empty rendering", key)
            if not any(ch.isalnum() for ch in item):
                raise fail(f"{what} {item!r} has no letters or digits", key)
            mixed = mixed_script_word(item)
            if mixed:
                raise fail(f"{what} {item!r}: the word {mixed!r} mixes alphabets "
                           f"({', '.join(sorted(_scripts(mixed)))}): a typing slip?", key)
            out.append(" ".join(item.split()))
        if dedupe:  # a source form listed twice is harmless (SPEC §4): keep the first
            return tuple(dict.fromkeys(out))
        if len(set(out)) != len(out):
            raise fail(f"{what} lists the same string twice", key)
        return tuple(out)

    label = f"term {index + 1}"
    term_id = raw.get("id")
    if term_id is None:
        raise fail(f"{label}: missing required key 'id'")
    if not isinstance(term_id, str) or not TERM_ID_RE.fullmatch(term_id):
        raise fail(f"{label}: id must be {TERM_KEYS['id']}, not {term_id!r}", "id")
    label = f"term {term_id!r}"
    renderings: dict[str, tuple[str, ...]] = {}
    for key, value in raw.items():
        if key in TERM_KEYS or key == source_language:
            continue
        if not is_known_language(key):
            expected = ", ".join([*TERM_KEYS, source_language])
            raise fail(f"{label}: unknown key {key!r} (expected {expected} or a language code)",
                       key)
        renderings[key] = strings(key, value, f"{label}: {key}")
    if source_language not in raw:
        raise fail(f"{label}: missing the source form {source_language!r}")
    source = strings(source_language, raw[source_language], f"{label}: {source_language}",
                     dedupe=True)
    flags = {}
    for key in ("translate", "case_sensitive"):
        value = raw.get(key, key == "translate")
        if not isinstance(value, bool):
            raise fail(f"{label}: {key} must be true or false, not {value!r}", key)
        flags[key] = value
    note = raw.get("note", "")
    if not isinstance(note, str):
        raise fail(f"{label}: note must be a string, not {note!r}", "note")
    tables: dict[str, dict[str, tuple[str, ...]]] = {}
    for key in ("forbidden", "forms", "derived"):
        value = raw.get(key, {})
        if not isinstance(value, dict):
            raise fail(f"{label}: {key} must be {TERM_KEYS[key]} (e.g. {key} = {{ ru = [\"…\"] }})",
                       key)
        table = {}
        for lang, items in value.items():
            if lang == source_language or not is_known_language(lang):
                raise fail(f"{label}: {key} has an unknown language {lang!r}", key)
            table[lang] = strings(key, items, f"{label}: {key}.{lang}")
        tables[key] = table
    if not flags["translate"] and renderings:
        raise fail(f"{label}: translate = false, so it cannot have renderings "
                   f"({', '.join(renderings)}): the source form is kept in every language",
                   next(iter(renderings)))
    if not flags["translate"] and tables["derived"]:
        raise fail(f"{label}: translate = false, so it cannot have derived words", "derived")
    if flags["translate"]:
        for key in ("forms", "derived"):
            for lang in tables[key]:
                if lang not in renderings:
                    raise fail(f"{label}: {key} lists {lang} words but the term has no {lang} "
                               f"rendering", key)
    for lang, bad in tables["forbidden"].items():
        clash = set(bad) & set(renderings.get(lang, ()))
        if clash:
            raise fail(f"{label}: {sorted(clash)[0]!r} is both approved and forbidden in {lang}",
                       "forbidden")
    return Term(
        id=term_id,
        source=source,
        renderings=renderings,
        forbidden=tables["forbidden"],
        forms=tables["forms"],
        derived=tables["derived"],
        note=" ".join(note.split()),
        translate=flags["translate"],
        case_sensitive=flags["case_sensitive"],
        line=header_line,
    )


def _parse_rules(raw_rules: list[Any], text: str, path: Path,
                 term_ids: AbstractSet[str]) -> list[StyleRule]:
    """Validate the `[[rule]]` tables: an id (unique among rules and terms, so that
    `ignore=ID` names one thing), a message, and phrases per language."""
    headers = [i for i, line in enumerate(text.splitlines(), start=1)
               if _RULE_HEADER_RE.match(line)]
    rules: list[StyleRule] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_rules):
        def fail(message: str, key: str | None = None, index: int = index) -> GlossaryError:
            return GlossaryError(message, path, key_line(text, "rule", key, index))

        label = f"rule {index + 1}"
        rule_id = raw.get("id")
        if rule_id is None:
            raise fail(f"{label}: missing required key 'id'")
        if not isinstance(rule_id, str) or not TERM_ID_RE.fullmatch(rule_id):
            raise fail(f"{label}: id must be {RULE_KEYS['id']}, not {rule_id!r}", "id")
        label = f"rule {rule_id!r}"
        if rule_id in seen:
            raise fail(f"duplicate rule id {rule_id!r}", "id")
        if rule_id in term_ids:
            raise fail(f"{label}: a term has the same id (ignore= must name one thing)", "id")
        seen.add(rule_id)
        message = raw.get("message")
        if not isinstance(message, str) or not message.strip():
            raise fail(f"{label}: message must be a non-empty string", "message")
        phrases: dict[str, tuple[str, ...]] = {}
        for key, value in raw.items():
            if key in RULE_KEYS:
                continue
            if not is_known_language(key):
                raise fail(f"{label}: unknown key {key!r} (expected id, message or a language "
                           f"code)", key)
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, list) or not items or not all(
                    isinstance(x, str) and any(ch.isalnum() for ch in x) for x in items):
                raise fail(f"{label}: {key} must be a phrase or a non-empty list of phrases "
                           f"with letters, not {value!r}", key)
            mixed = next((m for x in items if (m := mixed_script_word(x))), None)
            if mixed:
                raise fail(f"{label}: {key}: the word {mixed!r} mixes alphabets: a typing slip?",
                           key)
            phrases[key] = tuple(dict.fromkeys(" ".join(x.split()) for x in items))
        if not phrases:
            raise fail(f"{label}: no phrases (add e.g. en = [\"…\"], ru = [\"…\"])")
        rules.append(StyleRule(rule_id, " ".join(message.split()), phrases,
                               headers[index] if index < len(headers) else None))
    return rules
