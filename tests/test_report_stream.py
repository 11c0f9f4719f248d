"""The streamed report: byte for byte what the whole one was, and nothing before an error.

`check` writes its report as the findings come (a newsroom's is tens of megabytes): every
format must be exactly `render_findings` plus the line break `click.echo` adds, and a
catalogue that does not parse must still fail before a byte of the report is written.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

import transflow.check as check_mod
from transflow.check import Finding, sort_findings
from transflow.cli import main
from transflow.report import FindingsTally, render_findings, stream_findings

from .test_extract import make_project

ALPHABET = 'ab "\\\n\t<é\u10d0%,:\x1b{}'


def random_findings(rnd: random.Random) -> list[Finding]:
    def text() -> str:
        return "".join(rnd.choice(ALPHABET) for _ in range(rnd.randint(0, 8)))

    return sort_findings(
        Finding(rnd.choice(["glossary", "markup", "numbers", "plurals"]),
                rnd.choice(["error", "warning"]), "ka", "a",
                rnd.choice(["locales/ka/a.po", "locales/ka/b.po", "source/x.html"]),
                rnd.randint(0, 5), rnd.choice([None, text()]), rnd.choice(["same", text()]),
                text(), rnd.choice([None, text()]), rnd.choice(["same", text()]))
        for _ in range(rnd.randint(0, 7)))  # fmt: skip


@pytest.mark.parametrize("fmt", ["text", "json", "github", "gitlab"])
def test_the_streamed_report_is_the_whole_one(fmt: str) -> None:
    rnd = random.Random(20261206)
    for _ in range(300):
        findings = random_findings(rnd)
        for color in (False, True):
            for summary in (False, True):
                whole = render_findings(findings, fmt, color=color, summary=summary)
                tally = FindingsTally()
                pieces = list(stream_findings(findings, fmt, color=color, summary=summary,
                                              tally=tally))  # fmt: skip
                assert "".join(pieces) == (whole + "\n" if whole else "")
                assert tally.exit_code == (1 if any(f.severity == "error" for f in findings)
                                           else 0)  # fmt: skip
                if fmt in ("text", "github"):
                    assert all(piece.endswith("\n") for piece in pieces)  # (whole lines)
                if fmt in ("json", "gitlab"):
                    json.loads("".join(pieces))


def test_identical_findings_get_distinct_gitlab_fingerprints_file_by_file() -> None:
    same = Finding("glossary", "error", "ka", "a", "locales/ka/a.po", 3, None, "m", "s", "t", "x")
    other = Finding("glossary", "error", "ka", "b", "locales/ka/b.po", 3, None, "m", "s", "t", "x")
    findings = [same, same, other, other]
    doc = json.loads("".join(stream_findings(findings, "gitlab", color=False, summary=True)))
    prints = [issue["fingerprint"] for issue in doc]
    assert len(set(prints)) == 4
    assert doc == json.loads(render_findings(findings, "gitlab", color=False, summary=True))


def test_a_malformed_catalogue_fails_before_any_of_the_report(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr(check_mod, "CACHE_MIN_CATALOGUES", 0)
    project = make_project(tmp_path / "news", glossary=True)
    runner = CliRunner()
    assert runner.invoke(main, ["-C", str(project.root), "-q", "extract"]).exit_code == 0
    path = project.po_path("ru", "b")  # (sorted after locales/ka/…: the report would be started)
    path.write_text(path.read_text("utf-8") + '\nmsgid "x"\nmsgstr "y\n', "utf-8")
    for fmt in ("text", "json", "gitlab"):
        result = runner.invoke(main, ["-C", str(project.root), "check", "--format", fmt])
        assert result.exit_code == 2, result.output
        assert result.stdout == ""
        assert "locales/ru/b.po:" in result.stderr
    assert not [p for p in project.cache_dir.iterdir() if p.name.endswith(".tmp")]
