"""The writer's shortcuts are its slow path's answers: `pofile._first_cuts` (a simple string's
line breaks computed once, not twice) against the two-pass rule it replaces, on the newsroom's
catalogues, the third-party corpus's and generated texts."""

from __future__ import annotations

import random

import pytest

from transflow import pofile
from transflow.pofile import _cuts, _first_cuts, parse_po

from .conftest import corpus_po_files, needs_corpus
from .newsroom import newsroom_catalogues

# (width as `_wrap_lines` computes it for each prefix; the keyword's column after it)
WIDTHS = [pofile.PAGE_WIDTH - 1 - (len(prefix) + 1) for prefix in ("", "#~| ")]
STARTCOLS = [len(name) + 1 for name in ("msgid", "msgstr", "msgstr[0]")]


def _two_passes(portion: str, width: int, startcol: int, prohibited: set[int],
                more: bool) -> tuple[bool, list[int]]:  # fmt: skip
    """The rule as the writer applied it before: cuts from after the keyword; below an empty
    `name ""` line when more follows or those cuts are not empty, then cuts from column 0."""
    cuts = _cuts(portion, width, startcol, prohibited)
    if more or cuts:
        return True, _cuts(portion, width, 0, prohibited)
    return False, cuts


def _check(texts: list[str], first_cuts=_first_cuts) -> int:  # type: ignore[no-untyped-def]
    checked = 0
    for text in dict.fromkeys(texts):
        if not text:
            continue
        # The escaped portion as the writer breaks it (no escapes: none prohibited; with them,
        # the positions after each backslash, as `_wrap_lines` forbids them).
        portion = pofile._NEEDS_ESCAPE.sub(pofile._escape_match, text)
        prohibited = {m.start() + 1 for m in pofile._ESCAPED_PAIR.finditer(portion)}
        for width in WIDTHS:
            for startcol in STARTCOLS:
                for more in (False, True):
                    got = first_cuts(portion, width, startcol, prohibited, more)
                    assert got == _two_passes(portion, width, startcol, prohibited, more), (
                        text, width, startcol, more)  # fmt: skip
                    checked += 1
    return checked


def _strings(paths: list) -> list[str]:  # type: ignore[type-arg]
    out: list[str] = []
    for path in paths:
        for e in parse_po(path.read_bytes(), path):
            out += [e.msgid, e.msgstr, e.previous_msgid or "", *e.msgstr_plural.values()]
            out += e.msgid.split("\n") + e.msgstr.split("\n")
    return out


def test_first_cuts_on_the_newsroom() -> None:
    paths = newsroom_catalogues()
    assert paths
    assert _check(_strings(paths)) > 1000


@needs_corpus
def test_first_cuts_on_the_corpus() -> None:
    paths = corpus_po_files()
    assert paths
    assert _check(_strings(paths)) > 1000


def _generated(seed: int, count: int) -> list[str]:
    """Texts of every length around a line's width: words, long words, spaces, punctuation
    that forbids or allows breaks, Cyrillic, Georgian, wide and combining characters."""
    rng = random.Random(seed)
    pieces = ["word", "სიტყვა", "слово", "a", "-", "—", " ", "  ", ",", ".", "(", ")", "«", "»",
              "/", "%", "$", "5", "2026", "\u00a0", "…", "!", "?", "'", '"', "\\", "\t",
              "x" * 30, "y" * 90, "日本", "\u0301", "\u200b", "https://example.org/a-b/c"]
    out = []
    for _ in range(count):
        target = rng.choice([rng.randint(1, 70), rng.randint(60, 100), rng.randint(70, 400)])
        text = ""
        while len(text) < target:
            text += rng.choice(pieces)
        out.append(text[: target + rng.randint(0, 3)])
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_first_cuts_on_generated_texts(seed: int) -> None:
    assert _check(_generated(seed, 600)) > 5_000


def _cuts_from_zero_only(portion: str, width: int, startcol: int, prohibited: set[int],
                         more: bool) -> tuple[bool, list[int]]:  # fmt: skip
    """Broken on purpose: a text that fits a line of its own never goes below the keyword."""
    cuts = _cuts(portion, width, 0, prohibited)
    return more or bool(cuts), cuts


def _off_by_one(portion: str, width: int, startcol: int, prohibited: set[int],
                more: bool) -> tuple[bool, list[int]]:  # fmt: skip
    """Broken on purpose: a text exactly a line wide is taken as too long for any line."""
    if not more and len(portion) == width and pofile.is_simple(portion):
        cuts = pofile.simple_width_cuts(portion, width, 0, prohibited)
        return bool(cuts), cuts
    return _first_cuts(portion, width, startcol, prohibited, more)


@pytest.mark.parametrize("broken", [_cuts_from_zero_only, _off_by_one])
def test_a_broken_shortcut_is_caught(broken) -> None:  # type: ignore[no-untyped-def]
    """The comparison above sees a shortcut broken on purpose."""
    with pytest.raises(AssertionError):
        _check(_generated(1, 600), broken)
