"""Precision and recall of the glossary check on a hand-written Russian and Georgian set.

The cases live in tests/accuracy/<lang>.toml (msgid, msgstr, expected findings), with their own
frozen glossary. Run `pytest tests/test_accuracy.py -s` to see the figures.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from transflow.glossary import Glossary, load_glossary

HERE = Path(__file__).parent / "accuracy"
LANGS = ("ru", "ka")
MIN_CASES = 60
THRESHOLD = 0.98


@dataclass(frozen=True)
class Score:
    """Counts of one language's run."""

    cases: int
    expected: int
    tp: int
    fp: int
    fn: int
    errors: tuple[str, ...]

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def load_cases(lang: str) -> list[dict[str, object]]:
    return tomllib.loads((HERE / f"{lang}.toml").read_text(encoding="utf-8"))["case"]


def score(glossary: Glossary, lang: str) -> Score:
    tp = fp = fn = expected_total = 0
    errors = []
    cases = load_cases(lang)
    for i, case in enumerate(cases, start=1):
        msgid, msgstr = str(case["msgid"]), str(case["msgstr"])
        ignore = set(case.get("ignore", []))  # type: ignore[call-overload]
        got = {f"{p.kind}:{p.term}" for p in glossary.check_entry(msgid, msgstr, lang, ignore)}
        want = set(case["expect"])  # type: ignore[call-overload]
        expected_total += len(want)
        tp += len(got & want)
        fp += len(got - want)
        fn += len(want - got)
        if got != want:
            errors.append(f"{lang} case {i}: {msgid!r} → {msgstr!r}: expected {sorted(want)}, "
                          f"got {sorted(got)}")
    return Score(len(cases), expected_total, tp, fp, fn, tuple(errors))


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return load_glossary(HERE / "glossary.toml")


@pytest.mark.parametrize("lang", LANGS)
def test_accuracy(glossary: Glossary, lang: str) -> None:
    s = score(glossary, lang)
    negatives = sum(1 for c in load_cases(lang) if not c["expect"])
    print(f"\n[accuracy {lang}] {s.cases} cases ({negatives} must stay clean, "
          f"{s.expected} expected findings): precision {s.precision:.3f}, "
          f"recall {s.recall:.3f} (tp {s.tp}, fp {s.fp}, fn {s.fn})")
    for line in s.errors:
        print("  " + line)
    assert s.cases >= MIN_CASES
    assert s.precision >= THRESHOLD, "\n".join(s.errors)
    assert s.recall >= THRESHOLD, "\n".join(s.errors)


@pytest.mark.parametrize("lang", LANGS)
def test_every_case_is_well_formed(lang: str) -> None:
    known = {"msgid", "msgstr", "expect", "ignore", "note"}
    terms = {t["id"] for t in tomllib.loads((HERE / "glossary.toml").read_text())["term"]}
    for case in load_cases(lang):
        assert set(case) <= known, case
        for item in case["expect"]:  # type: ignore[attr-defined]
            kind, _, term = str(item).partition(":")
            assert kind in ("missing", "forbidden") and term in terms, item
