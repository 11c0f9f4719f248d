"""Python heap of one transflow command, measured with tracemalloc (peak, and where the
allocations live at the moment of that peak), for issue 11's memory rule.

usage: python benchmarks/mem/trace.py [--top N] [--at MODULE:FUNCTION]... -- ARGS...
(run in the project's folder). `--at`: a snapshot also on each entry to that function (e.g.
`transflow.stampcache:StampCache.save`); the largest of them is shown too.

Peak RSS (what the rule counts) is measured by `measure.sh`; this shows what makes it.
"""

from __future__ import annotations

import sys
import tracemalloc


def main() -> None:
    args = sys.argv[1:]
    top = 12
    if args[:1] == ["--top"]:
        top, args = int(args[1]), args[2:]
    at = []
    while args[:1] == ["--at"]:
        at.append(args[1])
        args = args[2:]
    if args[:1] == ["--"]:
        args = args[1:]
    tracemalloc.start(8)
    import os

    def forking() -> None:  # (what a forked worker starts with: its parent's pages)
        with open("/proc/self/status") as f:
            rss = next(line for line in f if line.startswith("VmRSS:")).split()[1]
        print(f"fork: parent RSS {int(rss) / 1024:.1f} MB, traced "
              f"{tracemalloc.get_traced_memory()[0] / 1e6:.1f} MB", file=sys.stderr)

    # Workers are not traced (tracing them would only slow them down): the parent is.
    os.register_at_fork(before=forking, after_in_child=tracemalloc.stop)
    from transflow.cli import main as cli

    snaps = []

    def keep_peak() -> None:  # (the peak of the heap, and a snapshot taken at the end)
        snaps.append(tracemalloc.take_snapshot())

    import functools
    import importlib

    points: list[tuple[int, str, tracemalloc.Snapshot]] = []
    for spec in at:
        module_name, _, qual = spec.partition(":")
        owner: object = importlib.import_module(module_name)
        *parents, name = qual.split(".")
        for part in parents:
            owner = getattr(owner, part)
        original = getattr(owner, name)

        def wrapped(*a: object, _f: object = original, _spec: str = spec, **k: object) -> object:
            points.append((tracemalloc.get_traced_memory()[0], _spec,
                           tracemalloc.take_snapshot()))
            return _f(*a, **k)  # type: ignore[operator]

        setattr(owner, name, functools.wraps(original)(wrapped))
    try:
        cli.main(args, standalone_mode=False)
    except SystemExit:
        pass
    current, peak = tracemalloc.get_traced_memory()
    keep_peak()
    print(f"tracemalloc: peak {peak / 1e6:.1f} MB, at exit {current / 1e6:.1f} MB",
          file=sys.stderr)
    for stat in snaps[0].statistics("lineno")[:top]:
        print(f"  {stat}", file=sys.stderr)
    if points:
        size, spec, snap = max(points, key=lambda p: p[0])
        print(f"at {spec}: {size / 1e6:.1f} MB traced", file=sys.stderr)
        for stat in snap.statistics("lineno")[:top]:
            print(f"  {stat}", file=sys.stderr)


if __name__ == "__main__":
    main()
