#!/usr/bin/env python3
"""The CPU of review's own work on each page, in one process: rows, marks and HTML.

Run by hand (not in CI) with the interpreter whose transflow is measured:

    .venv/bin/python benchmarks/review_rows.py benchmarks/.corpora/native-a200-s1 --lang ka

Every catalogue of `--lang` is parsed (not timed), then gathered (`review_catalog`: check's
findings, statuses, word diffs, glossary marks) and rendered (`render_article`), with the
cyclic collector paused as `transflow review` pauses it. Nothing is written. Printed: the CPU
seconds (process time: a shared machine inflates them less than wall time) of the gathering
and of the rendering, and a digest of the pages, so two versions of the code can be compared
run for run, alternately (`PYTHONPATH=<other src> …` runs another checkout's code), and their
pages shown identical. `--marks none` leaves the glossary highlights out (the check still reads
the glossary): what the marks cost.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--lang", default="ka")
    parser.add_argument("--articles", type=int, default=0, help="only the first N (0: all)")
    parser.add_argument("--marks", default="all", choices=("all", "none"))
    args = parser.parse_args()

    import transflow
    import transflow.review.model as model
    from transflow.check import read_entries
    from transflow.glossary import load_project_glossary
    from transflow.project import load_project
    from transflow.review import COLLECT_EVERY, _catalog_percent
    from transflow.review.render import render_article

    os.chdir(args.project)
    project = load_project(Path.cwd())
    glossary = load_project_glossary(project)
    if args.marks == "none":
        model.Highlighter = lambda glossary, lang: None  # type: ignore[assignment,misc]
    articles = sorted(project.articles())
    if args.articles:
        articles = articles[: args.articles]
    digest = hashlib.sha256()
    gathered = rendered = 0.0
    gc.collect()
    gc.disable()
    for n, article in enumerate(articles, start=1):
        po = project.po_path(args.lang, article)
        rel = project.relative(po)
        entries, metadata = read_entries(po, rel)
        percent = _catalog_percent(entries, project.include_fuzzy)
        start = time.process_time()
        review = model.review_catalog(
            entries, metadata, lang=args.lang, article=article, po_file=rel,
            source_language=project.source_language, glossary=glossary,
            severities=project.checks, include_fuzzy=project.include_fuzzy,
            min_complete=project.min_complete, percent=percent, built=False)
        middle = time.process_time()
        page = render_article(review, review.summary())
        end = time.process_time()
        gathered += middle - start
        rendered += end - middle
        digest.update(page.encode())
        if n % COLLECT_EVERY == 0:
            gc.collect(1)
    print(f"{Path(transflow.__file__).parent}: {len(articles)} pages of {args.lang}, marks "
          f"{args.marks}: gather {gathered:.3f} s, render {rendered:.3f} s, "
          f"total {gathered + rendered:.3f} s CPU; pages {digest.hexdigest()[:12]}")


if __name__ == "__main__":
    main()
