"""A cold check (no usable findings cache) forks its workers before the first pass and makes
its jobs as they are sent (issue 11: memory flat in the size of the newsroom); its findings
are those of one process checking everything, and a warm check forks nothing up front."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import transflow.check as check_module
from transflow.check import check_project
from transflow.project import read_project

GEN_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "bench" / "gen_corpus.py"


@pytest.mark.skipif(not GEN_CORPUS.is_file(), reason=f"benchmark generator not found: {GEN_CORPUS}")
def test_a_cold_check_forks_first_and_finds_what_one_process_finds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    subprocess.run([sys.executable, str(GEN_CORPUS), str(tmp_path / "news"), "--articles", "25",
                    "--seed", "5", "--terms", "50", "--jobs", "1"], check=True,
                   capture_output=True)
    project = read_project(tmp_path / "news" / "transflow.toml")
    articles = project.articles()
    monkeypatch.setattr(check_module, "_worker_count", lambda jobs: 2)  # (whatever the CPUs)
    forked_first: list[bool] = []
    scan = check_module._cached_catalogues

    def first_pass(*args: Any, **kwargs: Any) -> bytearray:
        forked_first.append(bool(check_module._INHERITED))  # (set while a pool is forked)
        return scan(*args, **kwargs)

    monkeypatch.setattr(check_module, "_cached_catalogues", first_pass)
    cold = check_project(project, ["ka", "ru"], articles)
    assert forked_first == [True, True] and not check_module._INHERITED
    assert (project.cache_dir / check_module.FINDINGS_CACHE_FILE).is_file()
    forked_first.clear()
    warm = check_project(project, ["ka", "ru"], articles)  # (answered by the cache)
    assert forked_first == [False, False] and warm == cold
    shutil.rmtree(project.cache_dir)
    monkeypatch.setattr(check_module, "_worker_count", lambda jobs: 1)
    serial = check_project(project, ["ka", "ru"], articles)
    assert serial == cold and any(f.check == "glossary" for f in cold)
