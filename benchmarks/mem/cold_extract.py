"""Per-process peak RSS, wall and CPU of a cold `transflow extract` (issue 11's memory rule).

usage: python benchmarks/mem/cold_extract.py N [--tf PATH] [--keep DIR] [--profile DIR]

Copies the raw corpus `benchmarks/.corpora/aN-s1` (POs, no POT, no `build/.cache`) to a
temporary folder and runs `transflow -q extract` there, walking the process tree every 10 ms
(`/proc/PID/task/TID/children`, each process's `VmHWM`, as `tree_peak.py`). Each process is
printed with its parent, when it was first and last seen (seconds from the start) and its
peak, so the roles show: the parent, the memory's refresh child (and its readers), the
article workers, the memory's prefill child. `--tf`: another tree's transflow (main's, to
compare). `--keep DIR`: the project is copied there and left (to diff outputs).
`--profile DIR`: every process writes a cProfile dump there (`TRANSFLOW_PROFILE`, see
`profile/sitecustomize.py`).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).parent))
from tree_peak import _children, _cpu, _hwm, _status_kb  # noqa: E402  (the same /proc walk)


def _rss(pid: int) -> int:
    return _status_kb(pid, "VmRSS") or 0


def main() -> None:
    """Copy the corpus, run a cold extract, print every process's peak."""
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("--tf", default=str(HERE / ".venv/bin/transflow"))
    ap.add_argument("--keep")
    ap.add_argument("--profile")
    ap.add_argument("--trace")
    ap.add_argument("--series", type=float, default=0.0, help="print the parent's RSS every S s")
    args = ap.parse_args()
    raw = HERE / "benchmarks/.corpora" / f"a{args.n}-s1"
    if args.keep:
        work = Path(args.keep)
        if work.exists():
            shutil.rmtree(work)
        tmp = None
    else:
        tmp = tempfile.mkdtemp(prefix="cold-extract-", dir=HERE / "benchmarks/.corpora/work")
        work = Path(tmp) / "p"
    shutil.copytree(raw, work)
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if args.trace:
        Path(args.trace).mkdir(parents=True, exist_ok=True)
        env["TRANSFLOW_TRACEMALLOC"] = str(Path(args.trace).resolve())
        env["PYTHONPATH"] = str(HERE / "benchmarks/mem/profile") + os.pathsep + env.get("PYTHONPATH", "")
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
        env["TRANSFLOW_PROFILE"] = str(Path(args.profile).resolve())
        env["PYTHONPATH"] = str(HERE / "benchmarks/mem/profile") + os.pathsep + env.get("PYTHONPATH", "")
    load = open("/proc/loadavg").read().split()[:3]
    started = time.monotonic()
    child = subprocess.Popen([args.tf, "-q", "extract"], cwd=work, env=env,
                             stdout=subprocess.DEVNULL)
    seen: dict[int, list[float | int]] = {}  # pid -> [ppid, first, last, peak kB, cpu s]
    series: list[str] = []
    next_series = 0.0
    while True:
        now = time.monotonic() - started
        if args.series and now >= next_series:
            series.append(f"{now:.0f}:{_rss(child.pid) // 1024}")
            next_series = now + args.series
        todo, walked = [(child.pid, 0)], set()
        while todo:
            pid, parent = todo.pop()
            if pid in walked:
                continue
            walked.add(pid)
            kb = _hwm(pid)
            if kb is not None:
                row = seen.setdefault(pid, [parent, now, now, 0, 0.0])
                row[2] = now
                row[3] = max(int(row[3]), kb)
                row[4] = _cpu(pid) or row[4]
            todo += [(c, pid) for c in _children(pid)]
        done, status, usage = os.wait4(child.pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.01)
    wall = time.monotonic() - started
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_after = open("/proc/loadavg").read().split()[:3]
    print(f"a{args.n}: {wall:.2f} s wall, cpu {ru.ru_utime + ru.ru_stime:.2f} s "
          f"(user {ru.ru_utime:.2f}, sys {ru.ru_stime:.2f}), max {usage.ru_maxrss / 1024:.1f} MB, "
          f"exit {os.waitstatus_to_exitcode(status)}, load {' '.join(load)} -> "
          f"{' '.join(load_after)}; {wall / args.n * 1000:.2f} ms/article wall, "
          f"{(ru.ru_utime + ru.ru_stime) / args.n * 1000:.2f} ms/article cpu")
    own = seen.pop(child.pid)
    print(f"  parent {child.pid}: peak {int(own[3]) / 1024:.1f} MB (wait4: "
          f"{usage.ru_maxrss / 1024:.1f}), cpu >= {own[4]:.2f} s (its own, not its children's)")
    for pid, (ppid, first, last, kb, cpu) in sorted(seen.items(), key=lambda kv: kv[1][1]):
        depth = "    " if ppid != child.pid else "  "
        print(f"{depth}pid {pid} (of {ppid}): {first:7.2f}-{last:7.2f} s, peak {int(kb) / 1024:.1f} MB,"
              f" cpu >= {cpu:.2f} s")
    if series:
        print("  parent RSS (s:MB):", " ".join(series))
    if tmp is not None:
        shutil.rmtree(tmp)
    sys.exit(0)


if __name__ == "__main__":
    main()
