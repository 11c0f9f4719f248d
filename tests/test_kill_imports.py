"""A killed `xliff import` or `glossary import` loses nothing and leaves nothing behind.

SIGKILL each command at random moments (seeded delays over [0, 1.2 × an unkilled run]); after
every kill the target file is either exactly as before or exactly as a completed run writes it.
Then one run to completion, and `locales/` plus `glossary.toml` must equal, byte for byte, the
tree of a clean copy on which the command simply ran once: no temporary survives.
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

from .smallproject import make_project, run_transflow, tree_digest

KILLS = 12
SEED = 20261206


def _cmd(root: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "transflow", "-C", str(root), *args]


def _kill_loop(root: Path, args: tuple[str, ...], target: Path) -> dict[str, int]:
    """Kill `args` on `root` KILLS times; after each, `target` is the old or the new file."""
    before = target.read_bytes()
    probe = root.parent / "probe"
    shutil.copytree(root, probe)
    start = time.monotonic()
    done = subprocess.run(_cmd(probe, *args), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    duration = time.monotonic() - start
    after = (probe / target.relative_to(root)).read_bytes()
    assert after != before  # the command has real work to do
    shutil.rmtree(probe)
    rng = random.Random(SEED)
    outcomes = {"old": 0, "new": 0}
    for _ in range(KILLS):
        proc = subprocess.Popen(_cmd(root, *args), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(rng.uniform(0, 1.2 * duration))
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        now = target.read_bytes()
        assert now in (before, after), "a half-written file after a kill"
        outcomes["old" if now == before else "new"] += 1
        if now == after:  # start the next round from the old file again
            target.write_bytes(before)
    return outcomes


def _clean_run_digest(pristine: Path, args: tuple[str, ...], where: Path) -> dict[str, str]:
    shutil.copytree(pristine, where)
    done = run_transflow(where, *args)
    assert done.returncode == 0, done.stderr
    return tree_digest(where)


@pytest.mark.slow
def test_killed_xliff_import(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    xlf = tmp_path / "news.xlf"
    assert run_transflow(root, "xliff", "export", "ru", "news", "-o", str(xlf)).returncode == 0
    text = xlf.read_text("utf-8")
    # Translate every unit in the XLIFF, as a CAT tool would.
    import re

    count = 0

    def fill(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return f"{match.group(0)}\n        <target>перевод {count}</target>"

    xlf.write_text(re.sub(r"<source>.*?</source>", fill, text, flags=re.S), "utf-8")
    assert count > 3
    pristine = tmp_path / "pristine"
    shutil.copytree(root, pristine)
    args = ("xliff", "import", "ru", "news", str(xlf))
    outcomes = _kill_loop(root, args, root / "locales" / "ru" / "news.po")
    assert run_transflow(root, *args).returncode == 0
    assert tree_digest(root) == _clean_run_digest(pristine, args, tmp_path / "clean"), outcomes


@pytest.mark.slow
def test_killed_glossary_import(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    tbx = tmp_path / "g.tbx"
    other = tmp_path / "other"
    other.mkdir()
    (other / "transflow.toml").write_text(
        '[project]\nsource_language = "en"\nlanguages = ["ka", "ru"]\n', "utf-8")
    (other / "glossary.toml").write_text(
        "".join(f'[[term]]\nid = "place-{i}"\nen = "Place{i}"\nru = "Место{i}"\n\n'
                for i in range(200)), "utf-8")
    assert run_transflow(other, "glossary", "export", "-o", str(tbx)).returncode == 0
    pristine = tmp_path / "pristine"
    shutil.copytree(root, pristine)
    args = ("glossary", "import", str(tbx))
    tmp_before = set(Path(os.environ.get("TMPDIR", "/tmp")).iterdir())
    outcomes = _kill_loop(root, args, root / "glossary.toml")
    assert run_transflow(root, *args).returncode == 0
    assert tree_digest(root) == _clean_run_digest(pristine, args, tmp_path / "clean"), outcomes
    leaked = [p for p in set(Path(os.environ.get("TMPDIR", "/tmp")).iterdir()) - tmp_before
              if p.name.startswith("tmp") and p.is_dir()
              and any(q.name == "glossary.toml" for q in p.iterdir())]
    assert not leaked, leaked
