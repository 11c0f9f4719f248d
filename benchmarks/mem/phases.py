"""The parent of a cold `transflow extract`, phase by phase: RSS and Python heap (issue 11).

usage: python benchmarks/mem/phases.py N [--trace] [--top K] [--keep DIR]

Copies the raw corpus `benchmarks/.corpora/aN-s1` to a temporary folder and runs
`transflow -q extract` there in this process. On entry to and exit from the functions that
bound extract's phases (the end of the article workers, the write loop, the commit, the
memory's settle, the cache's save) it prints this process's VmRSS and VmHWM from
`/proc/self/status`, and with `--trace` the Python heap (tracemalloc, in this process only:
forked children stop tracing) and the `K` largest differences from the previous boundary.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[2]


def _status() -> str:
    with open("/proc/self/status") as f:
        fields = dict(line.split(":", 1) for line in f)
    return (f"rss {int(fields['VmRSS'].split()[0]) / 1024:6.1f} MB, "
            f"hwm {int(fields['VmHWM'].split()[0]) / 1024:6.1f} MB")


def main() -> None:
    """Copy the corpus, run extract here, print each phase boundary's figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("--trace", action="store_true")
    ap.add_argument("--top", type=int, default=8)
    ap.add_argument("--keep")
    args = ap.parse_args()
    raw = HERE / "benchmarks/.corpora" / f"a{args.n}-s1"
    tmp = tempfile.mkdtemp(prefix="phases-", dir=HERE / "benchmarks/.corpora/work")
    work = Path(args.keep) if args.keep else Path(tmp) / "p"
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(raw, work)
    os.chdir(work)
    if args.trace:
        tracemalloc.start(6)
        os.register_at_fork(after_in_child=tracemalloc.stop)
    started = time.monotonic()
    last: list[Any] = [None]

    def point(name: str) -> None:
        line = f"{time.monotonic() - started:7.2f} s {name:32s} {_status()}"
        if args.trace:
            cur, peak = tracemalloc.get_traced_memory()
            line += f", traced {cur / 1e6:6.1f} MB (peak {peak / 1e6:6.1f})"
            snap = tracemalloc.take_snapshot().filter_traces(
                [tracemalloc.Filter(False, tracemalloc.__file__)])
            print(line, file=sys.stderr)
            if last[0] is not None:
                for stat in snap.compare_to(last[0], "lineno")[: args.top]:
                    print(f"      {stat}", file=sys.stderr)
            last[0] = snap
            return
        print(line, file=sys.stderr)

    from transflow import extract, memory

    def wrap(owner: Any, name: str) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def wrapped(*a: Any, **k: Any) -> Any:
            point(f"> {name}")
            try:
                return original(*a, **k)
            finally:
                point(f"< {name}")

        setattr(owner, name, wrapped)

    for owner, name in [(extract._Memories, "before_fork"), (extract._Memories, "prefork"),
                        (extract._Memories, "prefill"), (extract, "_commit"),
                        (extract._Memories, "settle"), (memory.Prefill, "finish"),
                        (memory.SqliteMemory, "learn"), (memory.SqliteMemory, "mark_synced"),
                        (extract._Cache, "save"), (extract, "_stream_writes")]:
        if hasattr(owner, name):
            wrap(owner, name)
    from transflow.cli import main as cli

    try:
        cli.main(["-q", "extract"], standalone_mode=False)
    except SystemExit:
        pass
    point("end")
    os.chdir(HERE)
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
