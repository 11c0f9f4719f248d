"""Renderings of findings (text, JSON, GitHub) and of the glossary; the findings exit code."""

from __future__ import annotations

import json

import pytest

from transflow.check import Finding
from transflow.errors import GlossaryError
from transflow.glossary import Glossary
from transflow.report import (
    findings_exit_code,
    findings_summary,
    render_findings,
    render_glossary_list,
    render_glossary_term,
)

ERROR = Finding("glossary", "error", "ru", "news/vote", "locales/ru/news/vote.po", 12, None,
                "In Stepanakert", "В Ханкенди", "stepanakert",
                "forbidden rendering 'Ханкенди' (term stepanakert: use 'Степанакерт')")
WARNING = Finding("numbers", "warning", "ka", "a", "locales/ka/a.po", 3, "menu", "In 2023, 5%",
                  "2023 წელს", None, "number 5 of the source is missing, 100%\nsure")


def test_text() -> None:
    out = render_findings([ERROR, WARNING], "text", color=False, summary=True)
    assert out.splitlines() == [
        "locales/ru/news/vote.po:12: error: [glossary] forbidden rendering 'Ханкенди' "
        "(term stepanakert: use 'Степанакерт')",
        "locales/ka/a.po:3: warning: [numbers] number 5 of the source is missing, 100%",
        "sure",
        "1 error, 1 warning in 2 files.",
    ]
    assert render_findings([], "text", color=False, summary=True) == "No problems found."
    assert render_findings([], "text", color=False, summary=False) == ""


def test_text_colour_only_when_asked() -> None:
    plain = render_findings([ERROR], "text", color=False, summary=False)
    coloured = render_findings([ERROR], "text", color=True, summary=False)
    assert "\x1b[" not in plain and "\x1b[" in coloured
    assert plain in coloured.replace("\x1b[1;31m", "").replace("\x1b[1m", "").replace(
        "\x1b[36m", "").replace("\x1b[0m", "")


def test_json_shape() -> None:
    doc = json.loads(render_findings([ERROR, WARNING], "json", color=False, summary=True))
    assert doc["summary"] == {"errors": 1, "warnings": 1}
    assert doc["findings"][0] == {
        "check": "glossary", "severity": "error", "lang": "ru", "article": "news/vote",
        "file": "locales/ru/news/vote.po", "line": 12, "msgctxt": None,
        "msgid": "In Stepanakert", "msgstr": "В Ханкенди", "term": "stepanakert",
        "message": "forbidden rendering 'Ханкенди' (term stepanakert: use 'Степанакерт')"}
    assert doc["findings"][1]["msgctxt"] == "menu" and doc["findings"][1]["term"] is None
    assert json.loads(render_findings([], "json", color=False, summary=False)) == {
        "findings": [], "summary": {"errors": 0, "warnings": 0}}


def test_github_escapes() -> None:
    out = render_findings([ERROR, WARNING], "github", color=False, summary=False).splitlines()
    assert out[0] == ("::error file=locales/ru/news/vote.po,line=12,title=transflow glossary "
                      "(stepanakert)::forbidden rendering 'Ханкенди' (term stepanakert: use "
                      "'Степанакерт')")
    assert out[1] == ("::warning file=locales/ka/a.po,line=3,title=transflow numbers::"
                      "number 5 of the source is missing, 100%25%0Asure")


def test_exit_code_and_summary() -> None:
    assert findings_exit_code([]) == 0
    assert findings_exit_code([WARNING]) == 0
    assert findings_exit_code([WARNING, ERROR]) == 1
    assert findings_summary([ERROR, ERROR]) == "2 errors, 0 warnings in 1 file."


def test_unknown_format() -> None:
    with pytest.raises(ValueError):
        render_findings([ERROR], "xml", color=False, summary=False)


GLOSSARY = Glossary.from_data([
    {"id": "lachin-corridor", "en": "Lachin Corridor", "ru": "Лачинский коридор",
     "ka": "ლაჩინის დერეფანი", "forms": {"ka": ["ლაჩინის დერეფნის"]},
     "forbidden": {"ru": ["Лачинский проход"]}, "note": "The road."},
    {"id": "oc-media", "en": "OC Media", "translate": False, "case_sensitive": True},
])


def test_glossary_list() -> None:
    out = render_glossary_list(GLOSSARY, ["ka", "ru"])
    lines = out.splitlines()
    assert lines[0].startswith("lachin-corridor  Lachin Corridor")
    assert "ka: ლაჩინის დერეფანი" in lines[0] and "ru: Лачинский коридор" in lines[0]
    assert "oc-media" in lines[1] and "(kept)" in lines[1]
    assert lines[-1] == "2 terms."
    assert "No glossary" in render_glossary_list(None, ["ru"])


def test_glossary_show() -> None:
    out = render_glossary_term(GLOSSARY, "lachin-corridor", ["ru", "ka", "de"])
    assert "source: Lachin Corridor" in out and "note: The road." in out
    # generated forms, word by word, in the rendering's capitalisation (issue 14)
    assert "Лачинского" in out and "коридоре" in out and "лачинского" not in out
    assert "ლაჩინის" in out and "დერეფანში" in out
    assert "listed form: ლაჩინის დერეფნის" in out
    assert "forbidden: Лачинский проход" in out
    assert "de (no rules: exact matching):" in out and "no rendering" in out
    kept = render_glossary_term(GLOSSARY, "oc-media", ["ka"])
    assert "never translated" in kept and "case-sensitive" in kept and "OC Media" in kept
    with pytest.raises(GlossaryError, match="no term with id 'x'"):
        render_glossary_term(GLOSSARY, "x", ["ru"])
