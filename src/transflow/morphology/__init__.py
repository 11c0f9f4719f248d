"""Per-language inflection for glossary matching, driven by data files (`<lang>.toml`).

The engine knows no language: `ru.toml` and `ka.toml` say which lemma endings select which
set of endings, which clitics attach to a word, and how letters fold before comparison. A
language without a data file falls back to exact (case-insensitive) matching, so a new
language is added by writing its TOML file, not code.

A rendering (lemma) becomes a `Phrase`: for every word position, the set of accepted word
forms, and the separators (`" "` or `"-"`) between positions. Matching compares whole
tokens, so a word that merely shares a prefix never matches (`Шушенский` is not `Шуша`).

>>> ru = load_morphology("ru")
>>> sorted(ru.word_forms("Шуша", "head"))[:6]
['шуш', 'шуша', 'шушам', 'шушами', 'шушах', 'шуше']
>>> "лачинского" in ru.phrase("Лачинский коридор").words[0]
True
>>> "სტეფანაკერტში" in load_morphology("ka").word_forms("სტეფანაკერტი", "head")
True
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from itertools import accumulate
from typing import Any

# Characters dropped before any comparison: they change no word (stress marks, soft hyphens).
_INVISIBLE = dict.fromkeys(map(ord, "\u0301\u0300\u00ad\u200b\u200c\u200d\u2060\ufeff"))
# Separators between the tokens of a phrase, as the matcher classifies them.
_HYPHENS = frozenset("-\u2010\u2011")
WORD_RE = re.compile(r"\w+")
_SPLIT_RE = re.compile(r"(\w+)")
_INVISIBLE_RE = re.compile("[\u0301\u0300\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_SEP_KINDS: dict[str, str] = {}  # separator text → kind, memoised (separators repeat a lot)
_LOOSE = frozenset((" ", "-"))  # separators that are one spelling where `hyphen_is_space`
POSITIONS = ("head", "modifier", "fixed")
CASES = ("any", "lower", "capitalized", "upper", "not-upper")
AFTER = ("any", "vowel", "consonant")


@dataclass(frozen=True, slots=True)
class Rule:
    """One inflection rule: lemmas ending in `ends` (after `after`) take `endings` on the stem."""

    name: str
    ends: tuple[str, ...]
    endings: tuple[str, ...]
    after: str = "any"
    case: str = "any"
    position: str = "any"
    example: str = ""
    before_hyphen: tuple[str, ...] = ()  # endings accepted only before a hyphen (compounds)
    # Other lemmas of the same word, stem + each, inflected by the rules too: the singular of a
    # plural lemma (миротворцы → миротворец/миротворца after numerals; სამშვიდობოები → სამშვიდობო).
    lemmas: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Clitic:
    """A clitic attached to the last word of a phrase, spelled by what precedes it."""

    after_vowel: str
    after_consonant: str


@dataclass(frozen=True, slots=True)
class Phrase:
    """Accepted forms per word position and the separators between positions."""

    words: tuple[frozenset[str], ...]
    seps: tuple[str, ...]
    # forms of the last word accepted only when a hyphen follows (სომხეთ-აზერბაიჯანის)
    compound: frozenset[str] = frozenset()
    # a hyphen and a space between words are the same spelling (მთიან-ყარაბაღში, მთიან ყარაბაღში)
    loose: bool = False


class Tokens:
    """The words of a text (folded for comparison) and the text before each word.

    `sep(i)` classifies the separator before word `i` (see `separator_kind`); `length` is the
    length of the folded text (-1: unknown), `bounds()` where its words stand in it.
    """

    __slots__ = ("words", "raw_seps", "length")

    def __init__(self, words: tuple[str, ...], raw_seps: tuple[str, ...], length: int = -1):
        self.words = words
        self.raw_seps = raw_seps
        self.length = length

    def bounds(self) -> tuple[list[int], list[int]]:
        """`(starts, ends)`: word `i` is `folded[starts[i]:ends[i]]` in the folded text.

        >>> Tokens(("a", "bc"), ("", ", ")).bounds()
        ([0, 3], [1, 5])
        """
        parts = [""] * (2 * len(self.words))  # separator, word, separator, word…
        parts[0::2] = self.raw_seps
        parts[1::2] = self.words
        ends = list(accumulate(map(len, parts)))
        return ends[0::2], ends[1::2]  # (the end of each separator is where its word starts)

    def sep(self, i: int) -> str:
        """The kind of separator before word `i`: `" "`, `"-"`, `""` or the text itself."""
        raw = self.raw_seps[i]
        kind = _SEP_KINDS.get(raw)
        if kind is None:
            kind = separator_kind(raw)
            if len(_SEP_KINDS) < 10_000:
                _SEP_KINDS[raw] = kind
        return kind


@dataclass(frozen=True, eq=False)
class Morphology:
    """The inflection rules of one language (or none: exact matching)."""

    lang: str
    letters: frozenset[str] = frozenset()
    vowels: frozenset[str] = frozenset()
    fold: dict[str, str] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()
    clitics: tuple[Clitic, ...] = ()
    stem_lemma: str = ""  # what a stem listed as `stem-` is completed with to inflect it
    hyphen_is_space: bool = False  # compound names are spelled with a hyphen or a space
    solid_compounds: bool = False  # … or solid: პრემიერ-მინისტრი / პრემიერმინისტრი
    source: str = "exact matching (no morphology data)"

    @property
    def inflects(self) -> bool:
        """True when the language has rules (False: exact matching only)."""
        return bool(self.rules or self.clitics)

    def normalize(self, text: str, *, keep_case: bool = False) -> str:
        """Fold text for comparison: NFC, invisible marks dropped, letters folded, lower case."""
        if not text.isascii():
            if not unicodedata.is_normalized("NFC", text):
                text = unicodedata.normalize("NFC", text)
            if _INVISIBLE_RE.search(text):
                text = text.translate(_INVISIBLE)
        if not keep_case:
            text = text.lower()
        for a, b in self.fold.items():
            if a in text:
                text = text.replace(a, b)
            if keep_case and a.upper() in text:
                text = text.replace(a.upper(), b.upper())
        return text

    def tokenize(self, text: str, *, keep_case: bool = False) -> Tokens:
        """Split folded text into words and the separator kind before each (`" "`, `"-"`, other)."""
        folded = self.normalize(text, keep_case=keep_case)
        parts = _SPLIT_RE.split(folded)
        return Tokens(tuple(parts[1::2]), tuple(parts[0:-1:2]), len(folded))

    def _is_foreign(self, word: str) -> bool:
        return bool(self.letters) and any(ch.isalpha() and ch.lower() not in self.letters
                                          for ch in word)

    def _letter_class(self, ch: str) -> str:
        return "vowel" if ch.lower() in self.vowels else "consonant"

    def matching_rules(self, word: str, position: str) -> list[tuple[Rule, str]]:
        """The rules that apply to `word` at `position`, with the lemma ending each matched.

        Only the rules with the longest matching ending apply (the most specific wins).
        """
        if position == "fixed" or self._is_foreign(word) or not word:
            return []
        found: list[tuple[Rule, str]] = []
        best = -1
        for rule in self.rules:
            if rule.position not in ("any", position) or not _case_ok(word, rule.case):
                continue
            for end in rule.ends:
                if not word.lower().endswith(end) or len(end) >= len(word):
                    continue
                if rule.after != "any" and self._letter_class(word[-len(end) - 1]) != rule.after:
                    continue
                if len(end) > best:
                    found, best = [], len(end)
                if len(end) == best:
                    found.append((rule, end))
                break
        return found

    def word_forms(self, word: str, position: str = "head", *, keep_case: bool = False,
                   clitics: bool | None = None) -> frozenset[str]:
        """Every accepted form of one word (folded), clitics included on a head word."""
        return self._word_forms(word, position, keep_case,
                                position == "head" if clitics is None else clitics)

    def written_forms(self, word: str, position: str = "head", *,
                      clitics: bool = False) -> list[str]:
        """The forms of one word as a linguist reads them: in the word's own capitalisation,
        unfolded (`Степанакерта`, not `степанакерта`), sorted (for `glossary show`)."""
        forms = self._raw_forms(word, position)
        if clitics and self.clitics and not self._is_foreign(word):
            forms = forms | {self.attach_clitic(f, c) for f in forms for c in self.clitics}
        return sorted(forms, key=lambda f: (f.lower(), f))

    def _raw_forms(self, word: str, position: str) -> frozenset[str]:
        """The lemma and stem + every ending of the rules that apply, as written (not folded)."""
        forms = {word}
        for rule, end in self.matching_rules(word, position):
            stem = word[: len(word) - len(end)]
            forms.update(stem + ending for ending in rule.endings)
            for lemma in rule.lemmas:  # one level: another lemma's own `lemmas` are not followed
                other = stem + lemma
                forms.add(other)
                for rule2, end2 in self.matching_rules(other, position):
                    stem2 = other[: len(other) - len(end2)]
                    forms.update(stem2 + ending for ending in rule2.endings)
        return frozenset(forms)

    @functools.lru_cache(maxsize=65536)  # noqa: B019 - Morphology objects live for the process
    def _word_forms(self, word: str, position: str, keep_case: bool,
                    clitics: bool) -> frozenset[str]:
        folded = {self.normalize(f, keep_case=keep_case) for f in self._raw_forms(word, position)}
        if clitics and self.clitics and not self._is_foreign(word):
            folded |= {self.attach_clitic(f, c) for f in folded for c in self.clitics}
        return frozenset(folded)

    def attach_clitic(self, form: str, clitic: Clitic) -> str:
        """`form` + clitic, spelled after a vowel or a consonant."""
        tail = form[-1:] if form else ""
        if tail and self._letter_class(tail) == "vowel":
            return form + clitic.after_vowel
        return form + clitic.after_consonant

    def positions(self, rendering: str, *, inflect: bool = True) -> list[tuple[str, str, str]]:
        """(separator before, word, position) of each word of a rendering.

        The last word is the head; a non-final part of a hyphenated word is fixed
        (премьер-министр); other words are modifiers.
        """
        tokens = _raw_tokens(rendering)
        n = len(tokens)
        out = []
        for i, (sep, word) in enumerate(tokens):
            nxt = tokens[i + 1][0] if i + 1 < n else ""
            if not inflect:
                position = "fixed"
            elif i == n - 1:
                position = "head"
            elif separator_kind(nxt) == "-":
                position = "fixed"
            else:
                position = "modifier"
            out.append((sep, word, position))
        return out

    def phrase(self, rendering: str, *, keep_case: bool = False, inflect: bool = True,
               attributive: bool = False) -> Phrase:
        """The accepted forms of a rendering, word by word (non-final parts of `a-b` are fixed).

        `attributive`: the last word may also stand before a noun it agrees with, so it takes
        the modifier forms too (a house-style phrase `არაღიარებული` in `არაღიარებულ რესპუბლიკაში`).
        """
        words: list[frozenset[str]] = []
        seps: list[str] = []
        parts = self.positions(rendering, inflect=inflect)
        for i, (sep, word, position) in enumerate(parts):
            if i:
                seps.append(separator_kind(sep))
            last = i == len(parts) - 1
            forms = self.word_forms(word, position, keep_case=keep_case,
                                    clitics=last and inflect)
            if last and attributive and inflect and position == "head":
                forms |= self.word_forms(word, "modifier", keep_case=keep_case)
            words.append(forms)
        compound: frozenset[str] = frozenset()
        if parts and inflect:
            word = parts[-1][1]
            stems = {word[: len(word) - len(end)] + e
                     for rule, end in self.matching_rules(word, "head") for e in rule.before_hyphen}
            compound = frozenset(self.normalize(x, keep_case=keep_case) for x in stems) - words[-1]
        return Phrase(tuple(words), tuple(seps), compound, self.hyphen_is_space)

    def listed_phrase(self, form: str, *, keep_case: bool = False) -> Phrase:
        """A form listed in the glossary: its words as written, clitics on the last word.

        A form ending in `-` is a stem: its last word is inflected like the lemma
        stem + `stem_lemma` of the language data (`დერეფნ-` like `დერეფნი`: დერეფნის,
        დერეფნით, დერეფნიდან…; Russian `Орл-` like `Орл`: Орла, Орле).
        """
        stem = form.rstrip().endswith("-")
        tokens = _raw_tokens(form)
        words = []
        for i, (_, word) in enumerate(tokens):
            last = i == len(tokens) - 1
            if last and stem:
                lemma = word + self.stem_lemma
                forms = self.word_forms(lemma, "head", keep_case=keep_case)
                words.append(forms - {self.normalize(lemma, keep_case=keep_case)})
            else:
                words.append(self.word_forms(word, "fixed", keep_case=keep_case, clitics=last))
        return Phrase(tuple(words),
                      tuple(separator_kind(sep) for sep, _ in tokens[1:]),
                      loose=self.hyphen_is_space)


def separator_kind(sep: str) -> str:
    """`" "` for whitespace, `"-"` for a hyphen, else the text itself (matches no phrase)."""
    if not sep:
        return ""
    if sep.isspace():
        return " "
    if len(sep) == 1 and sep in _HYPHENS:
        return "-"
    return sep


def _raw_tokens(text: str) -> list[tuple[str, str]]:
    """(separator before, word) pairs of a glossary string, in its own case."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    out: list[tuple[str, str]] = []
    last = 0
    for m in WORD_RE.finditer(text):
        out.append((text[last : m.start()] if out else "", m.group()))
        last = m.end()
    return out


def _case_ok(word: str, case: str) -> bool:
    letters = [ch for ch in word if ch.isalpha()]
    if not letters or case == "any":
        return True
    has_case = any(ch.lower() != ch.upper() for ch in letters)
    upper = has_case and len(letters) > 1 and all(ch.isupper() for ch in letters
                                                  if ch.lower() != ch.upper())
    if case == "upper":
        return upper
    if case == "not-upper":
        return not upper
    if case == "capitalized":
        return letters[0].isupper() and not upper
    if case == "lower":
        return not letters[0].isupper()
    return True


def _occurrences(words: tuple[str, ...], word: str) -> list[int]:
    """Every index of `word` in `words` (searched in C by `tuple.index`)."""
    out = []
    i = -1
    try:
        while True:
            i = words.index(word, i + 1)
            out.append(i)
    except ValueError:
        return out


def find_phrase(tokens: Tokens, phrase: Phrase) -> list[tuple[int, int]]:
    """Spans `(start, end)` of word indexes where `phrase` occurs in `tokens`."""
    n = len(phrase.words)
    if not n:
        return []
    words = tokens.words
    hits = phrase.words[0].intersection(words)
    if n == 1 and phrase.compound:  # (not the union of the two sets: hundreds of forms)
        hits |= phrase.compound.intersection(words)
    if not hits:
        return []
    last = len(words) - n
    spans = []
    for hit in hits:
        for i in _occurrences(words, hit):
            if i > last:
                break
            for k in range(1, n):
                if words[i + k] not in phrase.words[k] and not (
                    k == n - 1 and words[i + k] in phrase.compound
                ):
                    break
                sep = tokens.sep(i + k)
                if sep != phrase.seps[k - 1] and not (
                        phrase.loose and sep in _LOOSE and phrase.seps[k - 1] in _LOOSE):
                    break
            else:
                end = i + n
                if phrase.compound and words[end - 1] in phrase.compound and \
                        words[end - 1] not in phrase.words[-1] and \
                        (end >= len(words) or not _joins(tokens.sep(end), phrase.loose)):
                    continue  # a compound stem needs its hyphen (or, where it is one, a space)
                spans.append((i, end))
    spans.sort()
    return spans


def _joins(sep: str, loose: bool) -> bool:
    """True when `sep` joins a compound stem to the next word: a hyphen, or (where hyphen and
    space are one spelling) a space: სომხეთ-აზერბაიჯანის, and a title before a name in its bare
    stem, პრემიერ-მინისტრ ნიკოლ ფაშინიანთან."""
    return sep == "-" or (loose and sep == " ")


def contains_phrase(tokens: Tokens, phrase: Phrase) -> bool:
    """True when `phrase` occurs in `tokens` (a faster `bool(find_phrase(...))`)."""
    if len(phrase.words) == 1 and not (phrase.compound and
                                       not phrase.compound.isdisjoint(tokens.words)):
        return not phrase.words[0].isdisjoint(tokens.words)
    return bool(find_phrase(tokens, phrase))


class MorphologyDataError(ValueError):
    """A morphology data file is malformed (a bug in shipped data, reported with the file)."""


def parse_morphology(lang: str, data: dict[str, Any], source: str) -> Morphology:
    """Build a `Morphology` from the parsed TOML of a data file."""

    def fail(message: str) -> MorphologyDataError:
        return MorphologyDataError(f"{source}: {message}")

    named: dict[str, list[str]] = {}
    for name, items in data.get("endings", {}).items():
        if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
            raise fail(f"[endings] {name} must be a list of strings")
        named[name] = items

    def expand(items: Iterable[Any], where: str) -> tuple[str, ...]:
        out: list[str] = []
        for item in items:
            if not isinstance(item, str):
                raise fail(f"{where}: endings must be strings, not {item!r}")
            if item.startswith("@"):
                if item[1:] not in named:
                    raise fail(f"{where}: no ending set {item!r} in [endings]")
                out.extend(named[item[1:]])
            else:
                out.append(item)
        return tuple(dict.fromkeys(out))

    rules = []
    for i, raw in enumerate(data.get("rule", [])):
        where = f"rule {i + 1} ({raw.get('name', '?')})"
        unknown = set(raw) - {"name", "ends", "endings", "after", "case", "position", "example",
                              "before_hyphen", "lemmas"}
        if unknown:
            raise fail(f"{where}: unknown keys {sorted(unknown)}")
        rule = Rule(
            name=str(raw.get("name", f"rule {i + 1}")),
            ends=tuple(sorted(raw.get("ends", [""]), key=len, reverse=True)),
            endings=expand(raw.get("endings", []), where),
            after=raw.get("after", "any"),
            case=raw.get("case", "any"),
            position=raw.get("position", "any"),
            example=str(raw.get("example", "")),
            before_hyphen=expand(raw.get("before_hyphen", []), where),
            lemmas=expand(raw.get("lemmas", []), where),
        )
        if rule.after not in AFTER or rule.case not in CASES or rule.position not in (
            "any", "head", "modifier"
        ):
            raise fail(f"{where}: bad after/case/position")
        rules.append(rule)
    clitics = tuple(
        Clitic(c.get("after_vowel", c.get("any", "")), c.get("after_consonant", c.get("any", "")))
        for c in data.get("clitic", [])
    )
    fold = {str(k): str(v) for k, v in data.get("fold", {}).items()}
    return Morphology(
        lang=lang,
        letters=frozenset(str(data.get("letters", ""))),
        vowels=frozenset(str(data.get("vowels", ""))),
        fold=fold,
        rules=tuple(rules),
        clitics=clitics,
        stem_lemma=str(data.get("stem_lemma", "")),
        hyphen_is_space=bool(data.get("hyphen_is_space", False)),
        solid_compounds=bool(data.get("solid_compounds", False)),
        source=source,
    )


@functools.cache
def load_morphology(lang: str) -> Morphology:
    """The rules for `lang` from `morphology/<lang>.toml` (base language too: `pt-BR` → `pt`)."""
    for name in dict.fromkeys([lang, lang.replace("_", "-").split("-")[0]]):
        res = resources.files(__name__).joinpath(f"{name}.toml")
        if res.is_file():
            data = tomllib.loads(res.read_text(encoding="utf-8"))
            return parse_morphology(lang, data, f"morphology/{name}.toml")
    return Morphology(lang=lang)


def available_languages() -> list[str]:
    """The languages that have a morphology data file."""
    return sorted(
        p.name[:-5] for p in resources.files(__name__).iterdir() if p.name.endswith(".toml")
    )


def describe_rules(morph: Morphology, rendering: str, *, inflect: bool = True) -> list[str]:
    """For each word of a rendering, the rules that inflect it (for `glossary show`)."""
    out = []
    for _, word, position in morph.positions(rendering, inflect=inflect):
        names = [r.name for r, _ in morph.matching_rules(word, position)]
        out.append(", ".join(names) if names else "as written")
    return out
