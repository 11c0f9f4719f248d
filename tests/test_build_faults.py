"""Build under faults (issue 15, items 1 and 2, for `transflow build`).

A killed build leaves temporaries that the next build removes, so `build/<lang>/` ends equal to
a clean build, byte for byte; anything in place of a cache file (garbage, empty, half a file,
a folder, a link to nowhere) is a cache that is not there: the build succeeds, prints its
summary and says what it set aside under `-v`.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from transflow.cli import main

ARTICLE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Article {i}</title>
</head>
<body>
  <h1>Article {i}</h1>
  <p>Paragraph one of article {i}, with <a href="/x">a link</a>.</p>
  <p>Paragraph two of article {i}.</p>
</body>
</html>
"""


def make_project(root: Path, articles: int = 12) -> Path:
    (root / "transflow.toml").write_text('[project]\nlanguages = ["ka", "ru"]\n')
    (root / "source").mkdir(parents=True)
    for i in range(articles):
        (root / "source" / f"a{i:03d}.html").write_text(ARTICLE.format(i=i))
    result = CliRunner().invoke(main, ["-C", str(root), "extract"])
    assert result.exit_code == 0, result.output
    for po in (root / "locales" / "ka").glob("*.po"):  # some translations, so pages differ
        text = po.read_text("utf-8")
        po.write_text(text.replace('msgstr ""\n\n#', 'msgstr "თარგმანი"\n\n#', 1), "utf-8")
    return root


def snapshot(build: Path) -> dict[str, bytes]:
    """Every file under build/<lang>/ (the cache aside), by relative path."""
    return {str(p.relative_to(build)): p.read_bytes() for p in sorted(build.rglob("*"))
            if p.is_file() and ".cache" not in p.relative_to(build).parts}


def run_build(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "transflow", "-C", str(root), "build", *args],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    root = make_project(tmp_path_factory.mktemp("clean"))
    assert run_build(root).returncode == 0
    return snapshot(root / "build")


def test_stale_temporaries_of_a_killed_build_are_removed(tmp_path: Path,
                                                          clean: dict[str, bytes]) -> None:
    root = make_project(tmp_path)
    (root / "build" / "ka").mkdir(parents=True)
    (root / "build" / "ka" / ".a000.html.k3j9x_2a.tmp").write_bytes(b"")
    (root / "build" / ".cache" / "templates").mkdir(parents=True)
    (root / "build" / ".cache" / "templates" / ".a000.json.4242.tmp").write_text("[")
    (root / "build" / ".cache" / ".build-manifest.json.zz9.tmp").write_text("{")
    result = subprocess.run([sys.executable, "-m", "transflow", "-v", "-C", str(root), "build"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "interrupted build" in result.stderr
    assert snapshot(root / "build") == clean
    assert not list((root / "build").rglob("*.tmp"))


def test_a_kill_loop_ends_with_a_clean_build(tmp_path: Path, clean: dict[str, bytes]) -> None:
    root = make_project(tmp_path)
    rng = random.Random(12)
    for _ in range(5):
        proc = subprocess.Popen([sys.executable, "-m", "transflow", "-C", str(root), "build",
                                 "--force"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 2.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # What a kill can leave: a temporary the writer had not yet renamed.
        victim = root / "build" / "ru"
        if victim.is_dir():
            (victim / f".a001.html.{rng.randrange(10**6)}.tmp").write_bytes(b"")
    result = run_build(root)
    assert result.returncode == 0, result.stderr
    assert snapshot(root / "build") == clean


DAMAGE = {
    "garbage": lambda p: p.write_bytes(b"\x00\xff not json"),
    "empty": lambda p: p.write_bytes(b""),
    "half": lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),
    "folder": lambda p: (p.unlink(), p.mkdir(), (p / "x").write_text("x")),
    "dangling link": lambda p: (p.unlink(), os.symlink(p.parent / "nowhere", p)),
    "wrong json": lambda p: p.write_text('["a list", 1]'),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
@pytest.mark.parametrize("which", ["build-manifest.bin", "build-folders.json", "templates/a000.json"])
def test_a_damaged_cache_is_a_cache_not_there(tmp_path: Path, clean: dict[str, bytes],
                                              damage: str, which: str) -> None:
    root = make_project(tmp_path)
    assert run_build(root).returncode == 0
    assert run_build(root, "--force").returncode == 0  # (a second build stores templates)
    cache = root / "build" / ".cache" / which
    assert cache.is_file(), sorted(p.name for p in cache.parent.iterdir())
    DAMAGE[damage](cache)
    for run in range(2):  # the damage is repaired, not met again
        result = subprocess.run([sys.executable, "-m", "transflow", "-v", "-C", str(root),
                                 "build", "--force"], capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        noted = cache.name in result.stderr
        if run == 0 and not (damage == "wrong json" and which.startswith("templates")):
            assert noted, result.stderr  # -v says what was set aside
        if run == 1:
            assert not noted, result.stderr
        assert "Built 36 pages" in result.stdout
        assert snapshot(root / "build") == clean
    shutil.rmtree(root / "build" / ".cache")
    assert run_build(root).returncode == 0 and snapshot(root / "build") == clean
