"""One article worker of a cold extract, in one process, with counters (issue 11 probe).

usage: python benchmarks/mem/worker_probe.py PROJECT [--share K] [--limit N] [--profile F]

PROJECT: a copy of a raw corpus (`benchmarks/.corpora/aN-s1`); its memory is built from its
POs first (as the cold run's refresh does; kept in its build/.cache for the next probe).
Then the articles a worker would get (chunks of 8, every K-th chunk) are merged `dry` (nothing
written), as `extract._process` does in a worker. Prints CPU, peak RSS and the lookup counters.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path


def main() -> None:
    """Build the memory, run a worker's share of articles, print the figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("project")
    ap.add_argument("--share", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--profile")
    ap.add_argument("--trace", action="store_true")
    ap.add_argument("--memo", type=int, default=0)
    args = ap.parse_args()
    from transflow import extract, memory
    from transflow.project import load_project

    if args.memo:
        memory._memo_max = lambda: args.memo
    project = load_project(Path(args.project))
    langs = tuple(project.languages)
    memories = extract._Memories(project, langs)
    t0 = time.process_time()
    memories.get(langs[0])
    memories.before_fork()
    print(f"memory ready: {time.process_time() - t0:.2f} s cpu; {memories.notes}")
    slugs = project.articles()
    mine = [s for i, s in enumerate(slugs) if (i // 8) % args.share == 0]
    if args.limit:
        mine = mine[: args.limit]
    glossary = extract._glossary(project)
    counts = {"lookup": 0, "miss": 0}
    real_lookup, real_inner = memory.SqliteMemory.lookup, memory.SqliteMemory._lookup

    def lookup(self, lang, msgid):  # type: ignore[no-untyped-def]
        counts["lookup"] += 1
        return real_lookup(self, lang, msgid)

    def inner(self, lang, msgid):  # type: ignore[no-untyped-def]
        counts["miss"] += 1
        return real_inner(self, lang, msgid)

    memory.SqliteMemory.lookup, memory.SqliteMemory._lookup = lookup, inner
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    prof = None
    if args.trace:
        import tracemalloc

        tracemalloc.start(1)
    if args.profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    t0, w0 = time.process_time(), time.monotonic()
    for slug in mine:
        extract._process(project, slug, langs, glossary, memories, dry=True)
    cpu, wall = time.process_time() - t0, time.monotonic() - w0
    if prof is not None:
        prof.disable()
        prof.dump_stats(args.profile)
    mem = memories.memory
    cache = mem._cache if mem is not None else None
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{len(mine)} articles: {cpu:.2f} s cpu ({cpu / len(mine) * 1000:.2f} ms/article), "
          f"{wall:.2f} s wall; peak RSS {rss0 / 1024:.1f} -> {rss / 1024:.1f} MB; "
          f"lookups {counts['lookup']}, memo misses {counts['miss']}; "
          + (f"cache df {len(cache.df)} heads {len(cache.heads)} texts {len(cache.texts)}"
             if cache is not None else ""))
    if args.trace:
        snap = tracemalloc.take_snapshot()
        print("traced now/peak MB", [round(x / 2**20, 1) for x in tracemalloc.get_traced_memory()])
        for stat in snap.statistics("lineno")[:12]:
            print(" ", stat)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
