"""Peak RSS and CPU of the translation memory's cold refresh alone (issue 11's memory rule).

usage: python benchmarks/mem/memory_probe.py N [--trace [--snap-at K]] [--every S] [--set NAME=INT]

Fills an empty memory from the raw corpus `benchmarks/.corpora/aN-s1` (its catalogues are
only read) in this process, as the refresh child of a cold `extract` does
(`SqliteMemory.refresh` of every catalogue, its readers forked from here), into a temporary
database. A thread samples this process's VmRSS (and the readers' VmHWM and CPU from /proc)
every `--every` seconds; printed: this process's peak and CPU, each reader's, the RSS series.
`--trace`: tracemalloc in this process (what Python holds at its traced peak; SQLite's own
allocations are not seen by it: compare with the RSS series).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).parent))
from tree_peak import _children, _cpu, _hwm, _status_kb  # noqa: E402  (the same /proc walk)


def main() -> None:
    """Fill an empty memory from the corpus; print peaks and CPU by process."""
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("--trace", action="store_true")
    ap.add_argument("--every", type=float, default=0.02)
    ap.add_argument("--series", type=float, default=2.0)
    ap.add_argument("--keep", help="copy the filled database to this path")
    ap.add_argument("--set", action="append", default=[],
                    help="NAME=INT: a constant of transflow.memory set for this run")
    ap.add_argument("--snap-at", type=int, default=0, help="with --trace: snapshot at the Kth catalogue")
    args = ap.parse_args()
    if args.trace:
        import tracemalloc

        tracemalloc.start(6)
        os.register_at_fork(after_in_child=tracemalloc.stop)
    from transflow import memory as memory_module
    from transflow.memory import SqliteMemory, project_catalogues

    for setting in args.set:
        name, _, value = setting.partition("=")
        setattr(memory_module, name, int(value))
    from transflow.project import load_project

    me = os.getpid()
    snaps: list[object] = []
    if args.trace and args.snap_at:
        import tracemalloc

        original = SqliteMemory._add_pairs
        calls = [0]

        def counted(self: SqliteMemory, *a: object, **k: object) -> object:
            calls[0] += 1
            if calls[0] == args.snap_at:
                snaps.append(tracemalloc.take_snapshot())
                print(f"  at catalogue {calls[0]}: RSS {(_status_kb(me, 'VmRSS') or 0) / 1024:.1f} MB,"
                      f" traced {tracemalloc.get_traced_memory()[0] / 1e6:.1f} MB")
            return original(self, *a, **k)  # type: ignore[arg-type]

        SqliteMemory._add_pairs = counted  # type: ignore[method-assign]
    project = load_project(HERE / "benchmarks/.corpora" / f"a{args.n}-s1")
    langs = project.languages
    readers: dict[int, list[float]] = {}
    series: list[str] = []
    stop = threading.Event()

    def sample() -> None:
        started = time.monotonic()
        following = 0.0
        while not stop.is_set():
            now = time.monotonic() - started
            if now >= following:
                series.append(f"{now:.0f}:{(_status_kb(me, 'VmRSS') or 0) // 1024}")
                following = now + args.series
            for pid in _children(me):
                kb, cpu = _hwm(pid), _cpu(pid)
                if kb is not None:
                    row = readers.setdefault(pid, [0, 0.0])
                    row[0] = max(row[0], kb)
                    row[1] = cpu or row[1]
            time.sleep(args.every)

    watcher = threading.Thread(target=sample, daemon=True)
    with tempfile.TemporaryDirectory(dir=HERE / "benchmarks/.corpora/work") as tmp:
        wanted = project_catalogues(project, langs)
        cpu0, wall0 = time.process_time(), time.monotonic()
        watcher.start()
        memory = SqliteMemory(Path(tmp) / "memory.sqlite3")
        stats = memory.refresh(wanted)
        memory.close()
        if args.keep:
            import shutil

            shutil.copyfile(Path(tmp) / "memory.sqlite3", args.keep)
        stop.set()
        watcher.join()
        wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
    print(f"a{args.n}: refresh {wall:.2f} s wall, this process cpu {cpu:.2f} s, peak "
          f"{(_hwm(me) or 0) / 1024:.1f} MB; {stats.read} read, {stats.parsed} parsed; "
          f"load {' '.join(open('/proc/loadavg').read().split()[:3])}")
    for pid, (kb, rcpu) in readers.items():
        print(f"  reader {pid}: peak {kb / 1024:.1f} MB, cpu >= {rcpu:.2f} s")
    print("  RSS (s:MB):", " ".join(series))
    if args.trace:
        import tracemalloc

        current, peak = tracemalloc.get_traced_memory()
        print(f"  tracemalloc: peak {peak / 1e6:.1f} MB, now {current / 1e6:.1f} MB")
        for snap in snaps or [tracemalloc.take_snapshot()]:
            for stat in snap.statistics("lineno")[:15]:  # type: ignore[attr-defined]
                print(f"    {stat}")


if __name__ == "__main__":
    main()
