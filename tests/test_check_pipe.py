"""`transflow check | head`: a reader that closes the pipe early changes nothing but what it
reads. The check finishes without writing: every catalogue's findings reach the findings
cache, the report is kept whole for the next replay, and the exit code is the findings' (SPEC
§5: 0 or 1), with no "Broken pipe" message and no traceback.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import transflow.check as check_mod
import transflow.stampcache as stampcache
from transflow.check import run_check
from transflow.cli import main
from transflow.project import Project, read_project

from .test_caches import translate_with_findings
from .test_extract import make_project, page, write


@pytest.fixture()
def project(tmp_path: Path) -> Project:
    """Nine articles (18 catalogues: enough for the findings cache), one with findings."""
    proj = make_project(tmp_path / "news", glossary=True)
    for i in range(7):
        write(proj.source_dir / f"c{i}.html", page(f"Story {i}", f"The road {i} reopened."))
    done = subprocess.run([sys.executable, "-m", "transflow", "-C", str(proj.root), "-q",
                           "extract"], capture_output=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    translate_with_findings(proj)
    return read_project(proj.config_path)


def verbose_check(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["-C", str(root), "-v", "check", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_closed_pipe_exits_as_the_findings_say_and_saves_the_cache(project: Project,
                                                                     fmt: str) -> None:  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "transflow", "-C", str(project.root),
                             "check", "--format", fmt], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # (the reader is gone before the first line)
    err = proc.stderr.read()
    assert proc.wait() == 1 and err == b""  # (findings: 1, as when it is read to the end)
    code, _, notes = verbose_check(project.root, "--format", fmt)
    assert code == 1 and "18 catalogues answered from the cache, 0 read" in notes


def test_a_reader_gone_mid_report_leaves_the_cache_and_the_whole_report(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr(check_mod, "WRITE_CHUNK", 1)  # (a write per finding: gone mid-report)
    monkeypatch.setattr(stampcache, "RACY_WINDOW_NS", 0)  # (files written this very second)
    written: list[str] = []

    def head(text: str) -> None:
        if written:
            raise BrokenPipeError(32, "Broken pipe")
        written.append(text)

    articles = project.articles()
    notes: list[str] = []
    code = run_check(project, ["ka", "ru"], articles, fmt="json", color=False, summary=True,
                     write=head, notes=notes)
    assert code == 1 and len(written) == 1
    assert any("0 catalogues answered from the cache, 18 read" in n for n in notes)
    # The whole report was kept: the next check replays it, byte for byte what a check
    # without the cache writes.
    code, replayed, notes_text = verbose_check(project.root, "--format", "json")
    assert code == 1 and "the report of the last check" in notes_text
    assert replayed.startswith(written[0])
    for cache in project.cache_dir.iterdir():
        cache.unlink()
    assert verbose_check(project.root, "--format", "json")[:2] == (1, replayed)
