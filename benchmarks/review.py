#!/usr/bin/env python3
"""Time `transflow review` beside `transflow build --lang ka` on a generated newsroom.

Run by hand (not in CI), on a migrated newsroom (`benchmarks/run.py` makes
`benchmarks/.corpora/native-a2000-s1`: the generated corpus after one `transflow extract`):

    python3 benchmarks/review.py benchmarks/.corpora/native-a2000-s1 --repeat 2

Each repetition runs, as subprocesses and alternately:

- `build --lang ka (cold)`: every build output (`build/<lang>/` of each language and of the
  source language) and every cache in `build/.cache/` removed first, except the caches of
  other commands that build never reads (`KEPT`: extract's stamps and translation memory, the
  findings cache of `transflow check`, review's manifest is removed separately), so nothing
  the build would reuse is left;
- `review --lang ka (cold)`: `build/review/` and review's manifest (`build/.cache/review.json`)
  removed first. Review reads no other cache: what it keeps from the run before is only
  `build/ka/` (the cold build's pages), from which each page says "built" (a stat per page);
- `review, every language (cold)`: the same for ka and ru (ru has no built pages);
- `review, nothing changed`: review again.

Reported: wall-clock seconds and the CPU seconds (user + system) of the process and its workers
(`os.wait4`), since the machine may be shared (compare the CPU of build and review), the peak
resident memory of the largest of them, and the 1-minute load average around each command.
transflow runs from the repository's `.venv` (or `--python`), with its bytecode compiled.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Caches of other commands, kept by the cold runs: neither build nor review reads them.
KEPT = ("extract.json", "memory.sqlite3", "findings.cache", "lock")
OPERATIONS = ("build-ka", "review-ka", "review-all", "review-warm")


def timed(args: list[str], cwd: Path) -> tuple[float, float, float, float]:
    """(wall s, CPU s of the process tree, peak RSS MB, load before) of one command."""
    load = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed: {proc.stderr.read().decode()[-500:]}"
                         if proc.stderr else f"{' '.join(args)} failed")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, load


def remove(path: Path) -> None:
    """Remove a file or a folder, if present."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def clean_build(root: Path) -> None:
    """What a build has never run leaves: no build output, no cache but other commands'."""
    build = root / "build"
    if not build.is_dir():
        return
    for child in build.iterdir():
        if child.name not in ("review", ".cache"):
            remove(child)  # build/<lang>/, build/en/
    cache = build / ".cache"
    if cache.is_dir():
        for child in cache.iterdir():
            if child.name not in KEPT and child.name != "review.json":
                remove(child)  # build-manifest.bin, templates/, build-folders.json, build.lock…


def clean_review(root: Path) -> None:
    """What a review has never run leaves."""
    remove(root / "build" / "review")
    remove(root / "build" / ".cache" / "review.json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--python", type=Path, default=REPO / ".venv" / "bin" / "python",
                        help="the interpreter whose transflow runs (default: the repo's .venv)")
    parser.add_argument("--only", default=",".join(OPERATIONS),
                        help=f"some of {', '.join(OPERATIONS)} (comma-separated)")
    args = parser.parse_args()
    only = args.only.split(",")
    if unknown := set(only) - set(OPERATIONS):
        parser.error(f"unknown operation(s): {', '.join(sorted(unknown))}")
    root = args.project.resolve()
    transflow = [str(args.python), "-m", "transflow"]
    env_src = subprocess.run([str(args.python), "-c", "import transflow, os; "
                              "print(os.path.dirname(transflow.__file__))"],
                             check=True, capture_output=True, text=True).stdout.strip()
    subprocess.run([str(args.python), "-m", "compileall", "-q", env_src], check=True)
    results: dict[str, list[tuple[float, float, float, float]]] = {}
    for _ in range(args.repeat):
        if "build-ka" in only or not (root / "build" / "ka").is_dir():
            clean_build(root)
            results.setdefault("build --lang ka (cold)", []).append(
                timed([*transflow, "build", "--lang", "ka"], root))
        if "review-ka" in only:
            clean_review(root)
            results.setdefault("review --lang ka (cold)", []).append(
                timed([*transflow, "review", "--lang", "ka"], root))
        if "review-all" in only or "review-warm" in only:
            clean_review(root)
            run = timed([*transflow, "review"], root)
            if "review-all" in only:
                results.setdefault("review, every language (cold)", []).append(run)
        if "review-warm" in only:
            results.setdefault("review, nothing changed", []).append(
                timed([*transflow, "review"], root))
    print(f"transflow: {env_src}; kept in build/.cache: "
          + (", ".join(sorted(p.name for p in (root / "build" / ".cache").iterdir()
                              if p.name in KEPT)) or "nothing"))
    print(f"{'operation':34} {'wall s':>8} {'CPU s':>8} {'RSS MB':>8} {'load':>6}")
    for name, runs in results.items():
        wall = min(w for w, _, _, _ in runs)
        cpu = min(c for _, c, _, _ in runs)
        rss = max(m for _, _, m, _ in runs)
        load = max(x for _, _, _, x in runs)
        print(f"{name:34} {wall:8.2f} {cpu:8.2f} {rss:8.0f} {load:6.2f}")


if __name__ == "__main__":
    sys.exit(main())
