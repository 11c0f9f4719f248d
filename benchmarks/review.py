#!/usr/bin/env python3
"""Time `transflow review` beside `transflow build --lang ka` on a generated newsroom.

Run by hand (not in CI):

    python3 /work/shared/bench/gen_corpus.py /tmp/news --articles 2000 --seed 1
    (cd /tmp/news && transflow extract)
    python3 benchmarks/review.py /tmp/news --repeat 2

Each repetition runs, as subprocesses and alternately: a cold `build --lang ka` (its outputs
and caches removed first), a cold `review --lang ka`, a cold `review` (every language), and a
`review` with nothing changed. Reported: wall-clock seconds and the CPU seconds (user + system)
of the process and its workers (`os.wait4`), since the machine may be shared, and the peak
resident memory of the largest of them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

TRANSFLOW = [sys.executable, "-m", "transflow"]


def timed(args: list[str], cwd: Path) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds of the process tree, peak RSS in MB) of one command."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed: {proc.stderr.read().decode()[-500:]}"
                         if proc.stderr else f"{' '.join(args)} failed")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def clean(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    root = args.project.resolve()
    results: dict[str, list[tuple[float, float, float]]] = {}
    for _ in range(args.repeat):
        clean(root, "build/ka", "build/en", "build/.cache/build-manifest.json",
              "build/.cache/templates")
        results.setdefault("build --lang ka (cold)", []).append(
            timed([*TRANSFLOW, "build", "--lang", "ka"], root))
        clean(root, "build/review", "build/.cache/review.json")
        results.setdefault("review --lang ka (cold)", []).append(
            timed([*TRANSFLOW, "review", "--lang", "ka"], root))
        clean(root, "build/review", "build/.cache/review.json")
        results.setdefault("review, every language (cold)", []).append(
            timed([*TRANSFLOW, "review"], root))
        results.setdefault("review, nothing changed", []).append(
            timed([*TRANSFLOW, "review"], root))
    print(f"{'operation':34} {'wall s':>8} {'CPU s':>8} {'RSS MB':>8}")
    for name, runs in results.items():
        wall = min(w for w, _, _ in runs)
        cpu = min(c for _, c, _ in runs)
        rss = max(m for _, _, m in runs)
        print(f"{name:34} {wall:8.2f} {cpu:8.2f} {rss:8.0f}")


if __name__ == "__main__":
    main()
