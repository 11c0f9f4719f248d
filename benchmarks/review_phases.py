#!/usr/bin/env python3
"""Where the CPU of a cold `transflow review` goes: its phases, in one process.

Run by hand (not in CI) with the repository's interpreter, on a copy of a migrated newsroom
(the review pages are rewritten; nothing else is):

    .venv/bin/python benchmarks/review_phases.py benchmarks/.corpora/native-a2000-s1 --lang ka

Every page of `--lang` (or the first `--articles` articles) is reviewed in this one process
(no workers: the phases add up to the whole), as a cold run does it: each catalogue read and
keyed, parsed, checked, gathered into rows, counted, rendered and written. Printed: the CPU
seconds of each phase (process time, so a shared machine inflates them less than wall time),
the rows' share (what `review_catalog` spends beside `check_catalog` and `count_catalog`), and with `--glossary`
two more runs in fresh processes, without the highlights (the check still reads the glossary)
and without the glossary, which say what the glossary marks cost.
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

PHASES = (  # (module, function, label)
    ("transflow.review", "_read_job", "read and key the inputs"),
    ("transflow.pofile", "parse_entries", "parse the catalogue"),
    ("transflow.review", "_catalog_percent", "build's percentage"),
    ("transflow.review.model", "count_catalog", "status's counts"),
    ("transflow.review.model", "check_catalog", "check's findings"),
    ("transflow.review.model", "review_catalog", "gather (with check's findings)"),
    ("transflow.review.render", "render_article", "render the HTML"),
    ("transflow.review", "atomic_write", "write the page"),
)


def _timed(func: Callable[..., Any], label: str, spent: dict[str, float]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return func(*args, **kwargs)
        finally:
            spent[label] = spent.get(label, 0.0) + time.process_time() - start

    return wrapper


def phases(root: Path, lang: str, articles: int, marks: str) -> None:
    """Review `lang` in this process and print the CPU of each phase."""
    import importlib

    import transflow.review as review
    import transflow.review.model as model
    from transflow.project import load_project

    os.chdir(root)
    project = load_project(root)
    selected = sorted(project.articles())
    if articles:
        selected = selected[:articles]
    review._worker_count = lambda jobs: 1  # type: ignore[attr-defined]  # one process
    if marks == "none":
        model.Highlighter = lambda glossary, lang: None  # type: ignore[assignment,misc]
    elif marks == "no-glossary":
        review._load_glossary = lambda project: None  # type: ignore[attr-defined]
    spent: dict[str, float] = {}
    for module_name, name, label in PHASES:
        module = importlib.import_module(module_name)
        setattr(module, name, _timed(getattr(module, name), label, spent))
    gc.collect()
    start = time.process_time()
    review.review_project(project, [lang], selected, force=True)
    total = time.process_time() - start
    if marks != "all":
        print(f"{marks:12s} {total:7.2f} s CPU for {len(selected)} pages")
        return
    print(f"{len(selected)} pages of {lang}, one process: CPU seconds")
    for _, _, label in PHASES:
        print(f"  {label:36s} {spent.get(label, 0.0):7.2f}")
    rows = (spent.get(PHASES[5][2], 0.0) - spent.get(PHASES[4][2], 0.0)
            - spent.get(PHASES[3][2], 0.0))
    print(f"  {'(rows: gather without check, counts)':36s} {rows:7.2f}")
    print(f"  {'total':36s} {total:7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--lang", default="ka")
    parser.add_argument("--articles", type=int, default=0, help="only the first N (0: all)")
    parser.add_argument("--glossary", action="store_true",
                        help="also run without highlights and without the glossary")
    parser.add_argument("--marks", default="all", choices=("all", "none", "no-glossary"),
                        help=argparse.SUPPRESS)  # (the runs of --glossary)
    args = parser.parse_args()
    root = args.project.resolve()
    phases(root, args.lang, args.articles, args.marks)
    if args.glossary and args.marks == "all":
        for marks in ("none", "no-glossary"):
            subprocess.run([sys.executable, __file__, str(root), "--lang", args.lang,
                            "--articles", str(args.articles), "--marks", marks], check=True)


if __name__ == "__main__":
    main()
