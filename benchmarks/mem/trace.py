"""Python heap of one transflow command, measured with tracemalloc (peak, and where the
allocations live at the moment of that peak), for issue 11's memory rule.

usage: python benchmarks/mem/trace.py [--top N] -- ARGS...   (run in the project's folder)

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
    if args[:1] == ["--"]:
        args = args[1:]
    tracemalloc.start(8)
    from transflow.cli import main as cli

    snaps = []

    def keep_peak() -> None:  # (the peak of the heap, and a snapshot taken at the end)
        snaps.append(tracemalloc.take_snapshot())

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


if __name__ == "__main__":
    main()
