"""Replay one article worker's memory lookups against a built memory (issue 11 probe).

usage: python benchmarks/mem/lookup_replay.py PROJECT record [--share K]
       python benchmarks/mem/lookup_replay.py PROJECT replay [--answers F] [--profile F]

PROJECT: a copy of a raw corpus (`benchmarks/.corpora/aN-s1`). `record` runs a worker's share
of the articles (as `worker_probe.py`: chunks of 8, every K-th) with nothing written and saves
every `lookup` call, in order, to PROJECT/build/lookups.marshal. `replay` refreshes the memory
of PROJECT/build/.cache (built, or rebuilt for another schema, from the POs; not timed), then
times the same calls in a fresh `SqliteMemory` (its memo and caches start empty, as in a
forked worker): CPU per lookup, the share spent in rapidfuzz's `extractOne`, peak RSS.
`--answers F`: write the answers to F (marshal), or compare with F when it exists.
"""

from __future__ import annotations

import argparse
import marshal
import resource
import sys
import time
from pathlib import Path


def record(project_dir: Path, share: int) -> None:
    """Run a worker's share dry; save its lookups."""
    from transflow import extract, memory
    from transflow.project import load_project

    project = load_project(project_dir)
    langs = tuple(project.languages)
    memories = extract._Memories(project, langs)
    memories.get(langs[0])
    memories.before_fork()
    slugs = project.articles()
    mine = [s for i, s in enumerate(slugs) if (i // 8) % share == 0]
    glossary = extract._glossary(project)
    calls: list[tuple[str, str]] = []
    real = memory.SqliteMemory.lookup

    def lookup(self, lang, msgid):  # type: ignore[no-untyped-def]
        calls.append((lang, msgid))
        return real(self, lang, msgid)

    memory.SqliteMemory.lookup = lookup  # type: ignore[method-assign]
    for slug in mine:
        extract._process(project, slug, langs, glossary, memories, dry=True)
    out = project_dir / "build" / "lookups.marshal"
    out.write_bytes(marshal.dumps(calls))
    print(f"{len(mine)} articles, {len(calls)} lookups -> {out}")


def replay(project_dir: Path, answers: str | None, profile: str | None, repeat: int) -> None:
    """Time the recorded lookups in a fresh memory object."""
    import rapidfuzz.process

    from transflow import memory
    from transflow.project import load_project

    project = load_project(project_dir)
    langs = tuple(project.languages)
    calls = marshal.loads((project_dir / "build" / "lookups.marshal").read_bytes())
    path = project.cache_dir / memory.DB_FILE
    t0 = time.monotonic()
    mem = memory.SqliteMemory(path)
    stats = mem.refresh(list(memory.project_catalogues(project, langs)))
    mem.close()
    print(f"refresh: {time.monotonic() - t0:.2f} s wall, {stats.read} read; {mem.notes}")
    spent = [0.0]
    real = rapidfuzz.process.extractOne

    def timed(*a, **k):  # type: ignore[no-untyped-def]
        s = time.process_time()
        try:
            return real(*a, **k)
        finally:
            spent[0] += time.process_time() - s

    rapidfuzz.process.extractOne = timed
    prof = None
    results = []
    for _ in range(repeat):
        mem = memory.SqliteMemory(path)
        misses = [0]
        inner = mem._lookup

        def counted(lang, msgid, inner=inner, misses=misses):  # type: ignore[no-untyped-def]
            misses[0] += 1
            return inner(lang, msgid)

        mem._lookup = counted  # type: ignore[method-assign]
        spent[0] = 0.0
        if profile:
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
        t0 = time.process_time()
        got = [mem.lookup(lang, msgid) for lang, msgid in calls]
        cpu = time.process_time() - t0
        if prof is not None:
            prof.disable()
            prof.dump_stats(profile)
        mem.close()
        n = misses[0]
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{len(calls)} lookups, {n} past the memo: {cpu:.2f} s cpu, "
              f"{cpu / n * 1000:.3f} ms a lookup ({spent[0] / n * 1000:.3f} rapidfuzz, "
              f"{(cpu - spent[0]) / n * 1000:.3f} the rest); peak RSS {rss:.1f} MB")
        results = got
    if answers:
        f = Path(answers)
        if f.exists():
            want = marshal.loads(f.read_bytes())
            bad = sum(1 for a, b in zip(want, results, strict=True) if a != b)
            print(f"answers compared with {f}: {bad} differ of {len(results)}")
            if bad:
                sys.exit(1)
        else:
            f.write_bytes(marshal.dumps(results))
            print(f"answers written to {f}")


def main() -> None:
    """Record or replay."""
    ap = argparse.ArgumentParser()
    ap.add_argument("project")
    ap.add_argument("what", choices=("record", "replay"))
    ap.add_argument("--share", type=int, default=2)
    ap.add_argument("--answers")
    ap.add_argument("--profile")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    if args.what == "record":
        record(Path(args.project), args.share)
    else:
        replay(Path(args.project), args.answers, args.profile, args.repeat)


if __name__ == "__main__":
    main()
