"""CPU of each part of an extract worker's work on one article, in one process (no memory).

usage: PYTHON benchmarks/mem/worker_parts.py PROJECT N

Run with two checkouts' interpreters (each one's `.venv/bin/python`) to compare: the
`transflow` imported is the interpreter's install. For the first N articles of PROJECT (a raw
corpus such as `benchmarks/.corpora/a2000-s1`, read only): reading the source, segmenting,
the template and its bytes, then per language parsing the PO, merging (glossary hints, no
memory: that is `memory.py`'s), rendering and the memory's pairs. Prints each part's CPU and
the bytes rendered (the same on both sides when the outputs are).
"""

from __future__ import annotations

import gc
import marshal
import sys
import time
from pathlib import Path


def main() -> None:
    """Time the parts over the first N articles."""
    from transflow import extract
    from transflow.catalog import (
        build_template,
        catalog_bytes,
        memory_pairs,
        merge_catalog,
        parse_catalog,
    )
    from transflow.files import read_bytes
    from transflow.project import load_project
    from transflow.segment import extract_segments

    project = load_project(Path(sys.argv[1]))
    slugs = project.articles()[: int(sys.argv[2])]
    langs = tuple(project.languages)
    glossary = extract._glossary(project)
    gc.freeze()
    gc.set_threshold(extract.WORKER_GC_THRESHOLD, 10, 10)  # (as in the article workers)
    parts = dict.fromkeys(("read", "segment", "template", "parse", "merge", "render", "pairs"),
                          0.0)  # fmt: skip
    clock = time.process_time
    rendered = 0
    for slug in slugs:
        t0 = clock()
        source = project.source_path(slug)
        data = read_bytes(source)
        t1 = clock()
        segments = extract_segments(data, source, sentences=False)
        t2 = clock()
        template = build_template(segments, project.relative(source), project_id=slug,
                                  date="2026-01-01 00:00+0000")  # fmt: skip
        rendered += len(catalog_bytes(template))
        t3 = clock()
        parts["read"] += t1 - t0
        parts["segment"] += t2 - t1
        parts["template"] += t3 - t2
        for lang in langs:
            a = clock()
            path = project.po_path(lang, slug)
            old = parse_catalog(read_bytes(path), path)
            b = clock()
            po, _ = merge_catalog(template, old, lang, glossary=glossary, memory=None,
                                  path=str(path))  # fmt: skip
            c = clock()
            rendered += len(catalog_bytes(po))
            d = clock()
            marshal.dumps(memory_pairs(po))
            e = clock()
            parts["parse"] += b - a
            parts["merge"] += c - b
            parts["render"] += d - c
            parts["pairs"] += e - d
    print(" ".join(f"{k} {v:.3f}" for k, v in parts.items()),
          f"total {sum(parts.values()):.3f} s cpu, {rendered} bytes rendered")


if __name__ == "__main__":
    main()
