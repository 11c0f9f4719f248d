"""The newsroom's tools: GitLab Code Quality output of `check` (issue 14, item 1)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from transflow.check import Finding
from transflow.cli import main
from transflow.report import GITLAB_SEVERITIES, gitlab_fingerprint, render_findings

from .newsroom import break_glossary, copy_newsroom

GITLAB_ALLOWED = {"info", "minor", "major", "critical", "blocker"}

ERROR = Finding("glossary", "error", "ru", "news/vote", "locales/ru/news/vote.po", 12, None,
                "In Stepanakert", "В Ханкенди", "stepanakert",
                "forbidden rendering 'Ханкенди' (term stepanakert: use 'Степанакерт')")
WARNING = Finding("numbers", "warning", "ka", "a", "locales/ka/a.po", 3, "menu", "In 2023, 5%",
                  "2023 წელს", None, "number 5 of the source is missing")


def assert_code_quality_shape(doc: object) -> None:
    """GitLab's Code Quality report: a list of issues with exactly the fields it requires."""
    assert isinstance(doc, list)
    for issue in doc:
        assert set(issue) == {"description", "check_name", "fingerprint", "severity", "location"}
        assert isinstance(issue["description"], str) and issue["description"]
        assert isinstance(issue["check_name"], str) and issue["check_name"]
        assert isinstance(issue["fingerprint"], str) and len(issue["fingerprint"]) == 64
        int(issue["fingerprint"], 16)
        assert issue["severity"] in GITLAB_ALLOWED
        assert set(issue["location"]) == {"path", "lines"}
        assert isinstance(issue["location"]["path"], str)
        assert set(issue["location"]["lines"]) == {"begin"}
        assert isinstance(issue["location"]["lines"]["begin"], int)
        assert issue["location"]["lines"]["begin"] >= 1
    fingerprints = [issue["fingerprint"] for issue in doc]
    assert len(set(fingerprints)) == len(fingerprints), "GitLab would merge duplicate fingerprints"


def test_gitlab_shape_and_fields() -> None:
    doc = json.loads(render_findings([ERROR, WARNING], "gitlab", color=False, summary=True))
    assert_code_quality_shape(doc)
    assert doc[0] == {
        "description": "[glossary] forbidden rendering 'Ханкенди' (term stepanakert: use "
                       "'Степанакерт')",
        "check_name": "transflow-glossary",
        "fingerprint": gitlab_fingerprint(ERROR),
        "severity": "major",
        "location": {"path": "locales/ru/news/vote.po", "lines": {"begin": 12}},
    }
    assert doc[1]["severity"] == "minor" and doc[1]["check_name"] == "transflow-numbers"
    assert GITLAB_SEVERITIES == {"error": "major", "warning": "minor"}


def test_gitlab_empty_is_an_empty_list_without_summary() -> None:
    assert json.loads(render_findings([], "gitlab", color=False, summary=True)) == []


def test_gitlab_fingerprint_ignores_the_line_but_not_the_content() -> None:
    from dataclasses import replace

    assert gitlab_fingerprint(replace(ERROR, line=400)) == gitlab_fingerprint(ERROR)
    for change in ({"file": "locales/ka/news/vote.po"}, {"msgid": "In Stepanakert today"},
                   {"check": "markup"}, {"message": "other"}, {"msgctxt": "title"}):
        assert gitlab_fingerprint(replace(ERROR, **change)) != gitlab_fingerprint(ERROR), change
    # Stable across runs and processes: a plain sha256, no salt.
    import hashlib

    expected = hashlib.sha256("\x00".join(
        [ERROR.file, ERROR.check, "", ERROR.msgid, "stepanakert", ERROR.message]
    ).encode()).hexdigest()
    assert gitlab_fingerprint(ERROR) == expected


def test_gitlab_identical_findings_get_distinct_stable_fingerprints() -> None:
    from dataclasses import replace

    twin = replace(ERROR, line=30)
    doc = json.loads(render_findings([ERROR, twin], "gitlab", color=False, summary=False))
    assert_code_quality_shape(doc)
    again = json.loads(render_findings([ERROR, replace(twin, line=31)], "gitlab",
                                       color=False, summary=False))
    assert [i["fingerprint"] for i in doc] == [i["fingerprint"] for i in again]


def test_cli_check_format_gitlab_on_the_newsroom(tmp_path: Path) -> None:
    root = copy_newsroom(tmp_path / "newsroom")
    runner = CliRunner()
    clean = runner.invoke(main, ["-C", str(root), "check", "--format", "gitlab"])
    assert clean.exit_code == 0, clean.output
    assert json.loads(clean.stdout) == []
    file, line = break_glossary(root)
    result = runner.invoke(main, ["-C", str(root), "check", "--format", "gitlab"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert_code_quality_shape(doc)
    glossary = [i for i in doc if i["check_name"] == "transflow-glossary"]
    assert len(glossary) == 1
    assert glossary[0]["location"] == {"path": file, "lines": {"begin": line}}
    assert glossary[0]["severity"] == "major"
    assert "Ханкенди" in glossary[0]["description"]
    # The same finding after an edit above it keeps its fingerprint (GitLab sees no new issue).
    po = root / file
    text = po.read_text("utf-8")
    head_end = text.index("\n\n") + 2
    po.write_text(text[:head_end] + "# a new translator comment\n#  on two lines\n"
                  + text[head_end:], "utf-8")
    moved = json.loads(runner.invoke(main, ["-C", str(root), "check", "--format",
                                            "gitlab"]).stdout)
    moved_glossary = [i for i in moved if i["check_name"] == "transflow-glossary"]
    assert moved_glossary[0]["location"]["lines"]["begin"] == line + 2
    assert moved_glossary[0]["fingerprint"] == glossary[0]["fingerprint"]
