"""Peak RSS of every process of one command (the command and each worker it starts), for
issue 11's memory rule ("the peak RSS of every process, workers each counted").

usage: python benchmarks/mem/tree_peak.py [--every SECONDS] -- COMMAND ARGS...

`/usr/bin/time` reports only the process it waits for; a worker's peak is lost. Here the tree
under the command is walked every `--every` seconds (10 ms by default) through
`/proc/PID/task/TID/children`, and each process's `VmHWM` (its own high-water mark, kept by
the kernel) is remembered: the last reading before a process exits is its peak unless it grew
in the last interval. `wait4`'s figure (what `/usr/bin/time` prints) is the largest of the
whole tree, exact: printed as `max`. Prints one line: wall, user+sys CPU of the whole tree,
that max, the command's own peak, then each worker's peak (MB).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time


def _children(pid: int) -> list[int]:
    out = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


def _status_kb(pid: int, field: str) -> int | None:
    """A `/proc/PID/status` figure in kB (`VmHWM`, `VmRSS`), None once the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _hwm(pid: int) -> int | None:
    return _status_kb(pid, "VmHWM")


def _cpu(pid: int) -> float | None:
    """CPU seconds (user + system) process `pid` has used so far; None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    """Run the command, sample its tree, print the per-process peaks."""
    args = sys.argv[1:]
    every = 0.01
    if args[:1] == ["--every"]:
        every, args = float(args[1]), args[2:]
    if args[:1] == ["--"]:
        args = args[1:]
    started = time.monotonic()
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    peaks: dict[int, int] = {}
    while True:
        todo, seen = [child.pid], set()
        while todo:  # (grandchildren too: a worker's own helpers)
            pid = todo.pop()
            if pid in seen:
                continue
            seen.add(pid)
            kb = _hwm(pid)
            if kb is not None:
                peaks[pid] = max(peaks.get(pid, 0), kb)
            todo += _children(pid)
        done, status, usage = os.wait4(child.pid, os.WNOHANG)
        if done:
            break
        time.sleep(every)
    wall = time.monotonic() - started
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = peaks.pop(child.pid, 0)
    workers = sorted(peaks.values(), reverse=True)
    cpu = children.ru_utime + children.ru_stime
    print(f"{wall:.2f} s wall {cpu:.2f} s cpu  max {usage.ru_maxrss / 1024:.1f} MB  "
          f"parent {own / 1024:.1f} MB  workers "
          + (" ".join(f"{kb / 1024:.1f}" for kb in workers) or "none")
          + f"  exit {os.waitstatus_to_exitcode(status)}")


if __name__ == "__main__":
    main()
