#!/usr/bin/env python3
"""Benchmark transflow beside Translate Toolkit and GNU gettext on a synthetic newsroom.

Run by hand (not in CI), from anywhere:

    python3 benchmarks/run.py --articles 200
    python3 benchmarks/run.py --articles 2000 --repeat 3 --only status-cold,status-warm

See benchmarks/README.md for what each operation does and the targets. Every operation runs
as a subprocess; transflow and its peers run alternately, repetition after repetition, so a
noisy machine slows both sides alike. Time is wall-clock (`time.perf_counter`), memory the
peak RSS of the process tree (`os.wait4`'s `ru_maxrss`: the largest of the process and its
waited-for descendants). Results: benchmarks/results/bench-<N>.md and .json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHARED = Path(os.environ.get("TRANSFLOW_SHARED", REPO.parent / "shared"))
GEN_CORPUS = SHARED / "bench" / "gen_corpus.py"
CORPORA = HERE / ".corpora"  # git-ignored: generated corpora and working copies
RESULTS = HERE / "results"
PEERS_BIN = HERE / ".venv-peers" / "bin"  # translate-toolkit==3.20.4 (see README)
TRANSFLOW_PY = REPO / ".venv" / "bin" / "python"
SEED = "1"
LANGS = ("ka", "ru")
OPERATION_NAMES = ("extract-cold", "extract-warm", "build-ka", "build-warm", "status-cold",
                   "status-warm", "check-64", "check-1000", "check-warm", "ci-check",
                   "one-changed", "one-new-paragraph", "one-new-paragraph-fuzzy", "floor-read",
                   "floor-polib")
NOTES: list[str] = []  # caveats of this run, printed under the table


def transflow(*args: str) -> list[str]:
    return [str(TRANSFLOW_PY), "-m", "transflow", *args]


def peer(tool: str) -> str:
    return str(PEERS_BIN / tool)


# --- corpora and working copies --------------------------------------------------------------


def corpus_path(articles: int, terms: int = 0) -> Path:
    return CORPORA / (f"a{articles}-s{SEED}" + (f"-t{terms}" if terms else ""))


@functools.cache
def corpus(articles: int, terms: int = 0) -> Path:
    """The generated corpus for these parameters (generated once, then reused)."""
    out = corpus_path(articles, terms)
    name = out.name
    if not (out / "manifest.json").is_file():
        cmd = [sys.executable, str(GEN_CORPUS), str(out), "--articles", str(articles),
               "--seed", SEED, "--force"]
        if terms:
            cmd += ["--terms", str(terms)]
        print(f"generating {name} ...", file=sys.stderr)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return out


def fresh_copy(src: Path, name: str) -> Path:
    """A working copy of a corpus or project (untimed), replacing any previous one."""
    dst = CORPORA / "work" / name
    if dst.exists():
        shutil.rmtree(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cp", "-a", str(src), str(dst)], check=True)
    return dst


@functools.cache
def same_files(articles: int, terms: int = 0) -> Path:
    """transflow's own copy of the corpus as generated: the peers' files, transflow's build/."""
    src = corpus(articles, terms)
    out = CORPORA / "work" / f"same-{src.name}"
    if not (out / ".copy-ok").is_file():
        fresh_copy(src, out.name)
        (out / ".copy-ok").write_text("ok\n")
    return out


@functools.cache
def native_project(articles: int, terms: int = 0) -> Path:
    """The corpus after one `transflow extract` (POT + POs in transflow's notation), cached."""
    src = corpus(articles, terms)
    out = CORPORA / f"native-{src.name}"
    stamp = out / ".native-ok"
    if not stamp.is_file():
        fresh = fresh_copy(src, f"native-{src.name}")
        if out.exists():
            shutil.rmtree(out)
        fresh.rename(out)
        print(f"migrating {src.name} with transflow extract ...", file=sys.stderr)
        done = subprocess.run(transflow("-q", "extract"), cwd=out, stdout=subprocess.DEVNULL)
        if done.returncode != 0:
            # No working extract yet: measure on the generator's POs as they are.
            print("  transflow extract failed: using the raw corpus", file=sys.stderr)
            NOTES.append(f"{src.name}: transflow extract failed, transflow ran on the "
                         "generator's raw-notation POs")
            return out
        stamp.write_text("ok\n")
    return out


def rm(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def removing(path: Path, cwd: Path) -> Callable[[], Path]:
    """A setup that deletes `path` (an output of the last run) and runs in `cwd`."""
    def setup() -> Path:
        rm(path)
        return cwd
    return setup


# --- operations ------------------------------------------------------------------------------


@dataclass
class Side:
    """One contender of an operation: a command run in a folder prepared by `setup`."""

    label: str
    setup: Callable[[], Path]  # untimed; returns the working folder
    command: list[str] | str | Callable[[], list[str] | str]  # argv or bash script (or maker)
    ok_codes: tuple[int, ...] = (0,)


@dataclass
class Operation:
    name: str
    what: str
    transflow: Side
    peers: list[Side] = field(default_factory=list)
    target: str = ""
    # (peer label or None for an absolute limit, max ratio or seconds)
    goal: tuple[str | None, float] | None = None


def shell(script: str) -> str:
    return "set -e\n" + script


def msgmerge_all(pot_dir: str) -> str:
    return "".join(
        f"for f in locales/{lang}/*.po; do b=${{f##*/}}; "
        f"msgmerge -q -U --backup=off --previous \"$f\" \"{pot_dir}/${{b%.po}}.pot\"; done\n"
        for lang in LANGS
    )


def operations(n: int) -> list[Operation]:
    """Every operation of issue 7 for an n-article newsroom."""
    raw = corpus(n, 0)
    ops: list[Operation] = []

    # extract, cold: the corpus as generated (POs, no POT): segment every page, write every POT,
    # merge every PO (the generator's POs are in html2po's raw-HTML notation: transflow migrates
    # them, fuzzy-matching what changed notation: the real cost of adopting transflow).
    ops.append(Operation(
        "extract-cold", "extract: no POT yet, POs exist (ka, ru)",
        Side("transflow extract", lambda: fresh_copy(raw, f"tf-extract-{n}"),
             transflow("-q", "extract")),
        [Side("html2po -P + msgmerge (ka, ru)", lambda: fresh_copy(raw, f"tt-extract-{n}"),
              shell(f"{peer('html2po')} -P --progress=none -i source -o locales/templates\n"
                    + msgmerge_all("locales/templates")))],
        "≥2× faster than the Translate Toolkit equivalent", ("html2po -P + msgmerge (ka, ru)", 0.5)))

    # extract, warm: nothing changed since the last extract.
    def warm_tf() -> Path:
        work = CORPORA / "work" / f"tf-extract-warm-{n}"
        if not (work / "locales" / "templates").is_dir():
            work = fresh_copy(raw, f"tf-extract-warm-{n}")
            subprocess.run(transflow("-q", "extract"), cwd=work, check=True,
                           stdout=subprocess.DEVNULL)
        return work

    def warm_tt() -> Path:
        work = CORPORA / "work" / f"tt-extract-warm-{n}"
        if not (work / "locales" / "templates").is_dir():
            work = fresh_copy(raw, f"tt-extract-warm-{n}")
        return work

    ops.append(Operation(
        "extract-warm", "extract again, nothing changed",
        Side("transflow extract", warm_tf, transflow("-q", "extract")),
        [Side("html2po -P + msgmerge (ka, ru)", warm_tt,
              shell(f"{peer('html2po')} -P --progress=none -i source -o locales/templates\n"
                    + msgmerge_all("locales/templates")))],
        "under 1 s", (None, 1.0)))

    # build of one language, from a clean build folder.
    same = same_files(n, 0)

    tt_build = CORPORA / "work" / f"tt-build-{n}"
    ops.append(Operation(
        "build-ka", "build one language (ka) from scratch",
        Side("transflow build --lang ka", removing(same / "build", same),
             transflow("-q", "build", "--lang", "ka")),
        [Side("po2html (ka)", removing(tt_build, raw),
              shell(f"mkdir -p {tt_build}\n"
                    f"{peer('po2html')} --progress=none -i locales/ka -t source -o {tt_build}/ka"))],
        "≥3× faster than po2html", ("po2html (ka)", 1 / 3)))

    def built() -> Path:
        if not (same / "build" / "ka").is_dir():
            subprocess.run(transflow("-q", "build", "--lang", "ka"), cwd=same, check=True,
                           stdout=subprocess.DEVNULL)
        return same

    ops.append(Operation(
        "build-warm", "build ka again, nothing changed",
        Side("transflow build --lang ka", built, transflow("-q", "build", "--lang", "ka")),
        [], "under 1 s", (None, 1.0)))

    # status: cold (no cache) and warm (nothing changed), both languages.
    def no_cache() -> Path:
        for name in ("status.cache", "status.snapshot", "articles.snapshot"):
            rm(same / "build" / ".cache" / name)
        return same

    status_peers = [
        Side("pocount (ka+ru)", lambda: same,
             [peer("pocount"), *(f"{raw}/locales/{lang}" for lang in LANGS)]),
        Side("msgfmt --statistics loop (ka+ru)", lambda: same,
             shell(f"for f in {raw}/locales/ka/*.po {raw}/locales/ru/*.po; do "
                   "msgfmt --statistics -o /dev/null \"$f\" 2>/dev/null; done")),
    ]
    ops.append(Operation(
        "status-cold", "status of ka+ru, no cache",
        Side("transflow status", no_cache, transflow("status")), status_peers,
        "faster than the msgfmt --statistics loop",
        ("msgfmt --statistics loop (ka+ru)", 1.0)))

    def with_cache() -> Path:
        if not (same / "build" / ".cache" / "status.cache").is_file():
            subprocess.run(transflow("status"), cwd=same, check=True, stdout=subprocess.DEVNULL)
        return same

    ops.append(Operation(
        "status-warm", "status of ka+ru, nothing changed",
        Side("transflow status", with_cache, transflow("status")), status_peers,
        "under 0.3 s", (None, 0.3)))

    # check, 64-term glossary and 1,000 terms, one language (ka) like the pofilter reference.
    for terms, label in ((0, "64"), (1000, "1000")):
        # The 1,000-term corpus is generated and migrated only when this operation runs.
        src = corpus_path(n, terms)
        out = CORPORA / "work" / f"pofilter-{label}-{n}"

        def pofilter_setup(terms: int = terms, out: Path = out) -> Path:
            rm(out)
            return corpus(n, terms)

        def cold_check(terms: int = terms) -> Path:
            # Every catalogue checked, as pofilter does: no findings cache (check-warm has it).
            work = same_files(n, terms)
            for cache in (work / "build" / ".cache").glob("check*"):  # (and the kept reports)
                rm(cache)
            rm(work / "build" / ".cache" / "findings.cache")
            return work

        ops.append(Operation(
            f"check-{label}", f"check ka, {label}-term glossary (no findings cache)",
            Side("transflow check --lang ka", cold_check,
                 transflow("check", "--lang", "ka"), ok_codes=(0, 1)),
            [Side("pofilter (ka, default checks)", pofilter_setup,
                  [peer("pofilter"), "--progress=none", "-i", f"{src}/locales/ka", "-o", str(out)])],
            "≥2× faster than pofilter" if terms else "",
            ("pofilter (ka, default checks)", 0.5) if terms else None))

    # One article changed in the newsroom: extract + check + build of what changed.
    native = native_project(n, 0)
    slug_file = sorted((native / "source").glob("*.html"))[n // 2]
    slug = slug_file.stem
    counter = {"n": 0}

    def edit(base: Path, prepare: str) -> Callable[[], Path]:
        def setup() -> Path:
            work = CORPORA / "work" / f"{prepare}-one-changed-{n}"
            if not (work / ".ready").is_file():
                work = fresh_copy(base, f"{prepare}-one-changed-{n}")
                if prepare == "tf":
                    for cmd in (transflow("-q", "build"),):
                        subprocess.run(cmd, cwd=work, check=True, stdout=subprocess.DEVNULL)
                (work / ".ready").write_text("ok\n")
            counter["n"] += 1
            page = work / "source" / f"{slug}.html"
            text = page.read_text(encoding="utf-8")
            text = re.sub(r"(<h1[^>]*>)(?:\(update \d+\) )?", rf"\1(update {counter['n']}) ",
                          text, count=1)
            page.write_text(text, encoding="utf-8")
            return work
        return setup

    tt_script = shell(
        "mkdir -p locales/templates\n"
        f"{peer('html2po')} -P --progress=none -i source/{slug}.html "
        f"-o locales/templates/{slug}.pot\n"
        + "".join(
            f"msgmerge -q -U --backup=off --previous locales/{lang}/{slug}.po "
            f"locales/templates/{slug}.pot\n"
            f"{peer('pofilter')} --progress=none -i locales/{lang}/{slug}.po -o /dev/null "
            "|| true\n"
            f"mkdir -p build/{lang}\n"
            f"{peer('po2html')} --progress=none -i locales/{lang}/{slug}.po "
            f"-t source/{slug}.html -o build/{lang}/{slug}.html\n"
            for lang in LANGS))
    ops.append(Operation(
        "one-changed", f"one article edited ({slug}): extract + check + build (ka, ru)",
        Side("transflow extract; check ARTICLE; build", edit(native, "tf"),
             shell(f"{' '.join(transflow('-q', 'extract'))}\n"
                   f"{' '.join(transflow('check', slug))} > /dev/null || true\n"
                   f"{' '.join(transflow('-q', 'build'))}")),
        [Side("html2po + msgmerge + pofilter + po2html (1 file)", edit(raw, "tt"), tt_script)],
        "under 1 s", (None, 1.0)))

    ops += newsroom_operations(n, native, slug)

    # The floor: reading every file; parsing every PO with polib.
    read_all = ("import os,sys\nn=0\nfor d,_,fs in os.walk(sys.argv[1]):\n"
                "    for f in fs:\n        n+=len(open(os.path.join(d,f),'rb').read())\n")
    parse_all = ("import glob,sys,polib\nfor f in sorted(glob.glob(sys.argv[1]+'/locales/*/*.po')):"
                 "\n    polib.pofile(f)\n")
    ops.append(Operation("floor-read", "read every file of the corpus",
                         Side("python: read every file", lambda: raw,
                              [sys.executable, "-c", read_all, str(raw)])))
    ops.append(Operation("floor-polib", "polib.pofile() on every PO (ka+ru)",
                         Side("python: polib.pofile every PO", lambda: raw,
                              [str(TRANSFLOW_PY), "-c", parse_all, str(raw)])))
    return ops


def transflow_script(*commands: list[str]) -> str:
    """A bash script running transflow commands in turn; `check` may exit 1 (findings)."""
    lines = []
    for argv in commands:
        line = " ".join(transflow(*argv))
        lines.append(f"{line} > /dev/null || [ $? -eq 1 ]" if "check" in argv
                     and "--check" not in argv else line)  # fmt: skip
    return shell("\n".join(lines))


@functools.cache
def settled(native: Path) -> Path:
    """A working copy of the migrated project with every cache warm (built, checked, counted).

    One copy shared by check-warm and the one-new-paragraph runs (a copy of a 10,000-article
    newsroom and its first build take minutes): each run's warm-up absorbs the last one's edit.
    """
    work = CORPORA / "work" / f"tf-settled-{native.name}"
    if (work / ".settled-ok").is_file():
        return work  # (a later invocation: reused, its caches are warm for its own paths)
    work = fresh_copy(native, work.name)
    for argv in (("-q", "extract"), ("-q", "build"), ("status",), ("check",)):
        subprocess.run(transflow(*argv), cwd=work, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, env=run_env())
    (work / ".settled-ok").write_text("ok\n")
    return work


PARAGRAPH_FINDER = """
import json, sys
from pathlib import Path
from rapidfuzz import fuzz
from transflow.catalog import read_catalog
root, targets, source = Path(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
def translated(lang, slug):
    return {e.msgid: e.msgstr for e in read_catalog(root / "locales" / lang / f"{slug}.po")
            if e.msgstr and not e.obsolete and "fuzzy" not in e.flags and not e.msgid_plural}
ka, ru = translated("ka", source), translated("ru", source)
own = [e.msgid for slug in targets for e in read_catalog(root / "locales" / "ka" / f"{slug}.po")]
plain = [m for m in ka if m in ru and len(m) > 120 and not any(c in m for c in "<>&'" + chr(34))]
# The one least like anything in the target articles (merge's own fuzzy match needs 60).
scored = sorted((max((fuzz.ratio(m, o) for o in own), default=0), m)
                for m in sorted(plain, key=len, reverse=True)[:300])
if scored and scored[0][0] < 55:
    print(scored[0][1])
"""


# Earlier fuzzy runs' paragraphs ("Update N: …", any session's) and their entries: taken out of
# the target articles before each run, or the settled copy gathers them run after run until
# the paragraph finder sees its own paragraph in every target and finds nothing to add.
UPDATE_PARAGRAPH = re.compile(r"\n    <p>Update \d+: [^\n]*</p>")
UPDATE_PURGER = """
import re, sys
from pathlib import Path
from transflow.catalog import read_catalog, write_catalog
root = Path(sys.argv[1])
for slug in sys.argv[2:]:
    for lang in ("ka", "ru"):
        path = root / "locales" / lang / f"{slug}.po"
        po = read_catalog(path)
        gone = [e for e in po if e.obsolete and re.match(r"Update \\d+: ", e.msgid)]
        for e in gone:
            po.remove(e)
        if gone:
            write_catalog(path, po)
"""


def tidy_targets(work: Path, targets: list[str]) -> None:
    """Untimed: remove earlier fuzzy runs' paragraphs and entries, then settle every cache."""
    touched = []
    for target in targets:
        page = work / "source" / f"{target}.html"
        text = page.read_text("utf-8")
        if (kept := UPDATE_PARAGRAPH.sub("", text)) != text:
            page.write_text(kept, "utf-8")
            touched.append(target)
    if not touched:
        return
    subprocess.run(transflow("-q", "extract"), cwd=work, check=True,  # their entries: obsolete
                   stdout=subprocess.DEVNULL, env=run_env())
    subprocess.run([str(TRANSFLOW_PY), "-c", UPDATE_PURGER, str(work), *touched], check=True,
                   env=run_env())
    for argv in (("-q", "extract"), ("-q", "build"), ("status",), ("check",)):
        subprocess.run(transflow(*argv), cwd=work, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, env=run_env())


def newsroom_operations(n: int, native: Path, slug: str) -> list[Operation]:
    """Issue 11: the everyday path of a big newsroom, and CI on a fresh clone."""
    ops: list[Operation] = []
    def check_ready() -> Path:
        return settled(native)

    ops.append(Operation(
        "check-warm", "check ka+ru, nothing changed since the last check",
        Side("transflow check", check_ready, transflow_script(["check"])),
        [], "under 0.3 s", (None, 0.3)))

    ci_work = CORPORA / "work" / f"tf-ci-check-{n}"

    def fresh_clone() -> Path:
        if not (ci_work / ".ready").is_file():
            fresh_copy(native, ci_work.name)
            subprocess.run(transflow("-q", "extract"), cwd=ci_work, check=True,
                           stdout=subprocess.DEVNULL, env=run_env())
            (ci_work / ".ready").write_text("ok\n")
        rm(ci_work / "build")  # a fresh clone: no build/, no build/.cache
        return ci_work

    ops.append(Operation(
        "ci-check", "CI on a fresh clone (no build/.cache): extract --check, then check",
        Side("transflow extract --check; check", fresh_clone,
             transflow_script(["-q", "extract", "--check"], ["check"])),
        []))

    # One new paragraph in one article: extract + check ARTICLE + build (three processes).
    pages = sorted(p.stem for p in (native / "source").glob("*.html"))
    counter = {"n": 0}
    def unmatched() -> Path:
        work = settled(native)
        counter["n"] += 1
        page = work / "source" / f"{slug}.html"
        text = re.sub(r"\n    <p>Zyxwv update \d+[^\n]*</p>", "", page.read_text("utf-8"))
        k = counter["n"]
        text = text.replace("<!-- article body -->", "<!-- article body -->\n    <p>Zyxwv "
                            f"update {k}: flibbertigibbet quokka marmalade zeppelin {k}.</p>", 1)
        page.write_text(text, "utf-8")
        return work

    ops.append(Operation(
        "one-new-paragraph", f"a new paragraph matching nothing in {slug}: extract + check "
        "ARTICLE + build (three processes)",
        Side("transflow extract; check ARTICLE; build", unmatched,
             shell(f"{' '.join(transflow('-q', 'extract'))}\n"
                   f"{' '.join(transflow('check', slug))} > /dev/null || [ $? -eq 1 ]\n"
                   f"{' '.join(transflow('-q', 'build'))}")),
        [], "under 1 s (2,000), 1.2 s (10,000)", (None, 1.0 if n <= 2000 else 1.2)))

    # The same with a paragraph close to a translated one of another article: it must come
    # out fuzzy from the memory, `#| msgid` the other article's. A different article each
    # time, so that the article's own catalogue never holds a close entry already.
    targets = [pages[(len(pages) * (2 + 2 * i)) // 19] for i in range(8)]
    source = pages[len(pages) // 5]
    state: dict[str, str] = {}

    def near() -> Path:
        work = settled(native)
        if "msgid" not in state:
            tidy_targets(work, targets)
            found = subprocess.run([str(TRANSFLOW_PY), "-c", PARAGRAPH_FINDER, str(work),
                                    json.dumps(targets), source], capture_output=True,
                                   text=True, check=True, env=run_env()).stdout.strip()
            if not found:
                raise RuntimeError(f"no translated paragraph in {source} fit for the fuzzy run")
            state["msgid"] = found
        if "slug" in state:
            verify_fuzzy(work, state["slug"], state["msgid"])
        tidy_targets(work, targets)
        counter["n"] += 1
        target = targets[counter["n"] % len(targets)]
        state["slug"] = target
        page = work / "source" / f"{target}.html"
        text = page.read_text("utf-8")
        new = f"Update {counter['n']}: {state['msgid']}"
        text = text.replace("<!-- article body -->",
                            f"<!-- article body -->\n    <p>{new}</p>", 1)
        page.write_text(text, "utf-8")
        return work

    ops.append(Operation(
        "one-new-paragraph-fuzzy", "a new paragraph close to another article's translated one "
        "(fuzzy from the memory): extract + check ARTICLE + build",
        Side("transflow extract; check ARTICLE; build", near,
             lambda: shell(f"{' '.join(transflow('-q', 'extract'))}\n"
                           f"{' '.join(transflow('check', state['slug']))} > /dev/null "
                           "|| [ $? -eq 1 ]\n"
                           f"{' '.join(transflow('-q', 'build'))}")),
        [], "under 1 s (2,000), 1.2 s (10,000)", (None, 1.0 if n <= 2000 else 1.2)))
    return ops


VERIFIED: set[str] = set()


def verify_fuzzy(work: Path, slug: str, msgid: str) -> None:
    """The last fuzzy run's paragraph came out fuzzy, from the memory, with the source msgid."""
    script = ("import sys\nfrom transflow.catalog import read_catalog\n"
              "for lang in ('ka', 'ru'):\n"
              "    po = read_catalog(__import__('pathlib').Path(sys.argv[1]) / 'locales' / lang"
              " / (sys.argv[2] + '.po'))\n"
              "    e = [e for e in po if e.msgid.endswith(sys.argv[3]) and not e.obsolete][0]\n"
              "    assert 'fuzzy' in e.flags and e.msgstr and e.previous_msgid == sys.argv[3], "
              "(lang, e.flags, e.previous_msgid)\n")
    done = subprocess.run([str(TRANSFLOW_PY), "-c", script, str(work), slug, msgid],
                          capture_output=True, text=True, env=run_env())
    if done.returncode != 0:
        raise RuntimeError(f"one-new-paragraph-fuzzy: not filled from the memory as expected:\n"
                           f"{done.stderr[-1500:]}")
    if "fuzzy" not in VERIFIED:
        VERIFIED.add("fuzzy")
        NOTES.append("one-new-paragraph-fuzzy: checked after every run (but the last) that the new paragraph "
                     "came out `#, fuzzy` in ka and ru with the other article's msgid as `#| msgid`")


def run_env() -> dict[str, str]:
    """The environment of every timed command: a user's (bytecode cached, no colour)."""
    env = {**os.environ, "NO_COLOR": "1", "LC_ALL": "C.UTF-8"}
    # This sandbox sets PYTHONDONTWRITEBYTECODE: every run would recompile transflow (~0.1 s).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


# --- timing ----------------------------------------------------------------------------------


@dataclass
class Sample:
    seconds: float
    max_rss_kb: int
    cpu_seconds: float  # user + system of the whole tree: steadier than wall time on a busy box


def run_once(side: Side) -> Sample:
    """Prepare (untimed), then run the command once as a subprocess and measure it."""
    cwd = side.setup()
    command = side.command() if callable(side.command) else side.command
    argv = ["bash", "-c", command] if isinstance(command, str) else command
    env = run_env()
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in side.ok_codes:
        raise RuntimeError(f"{side.label} exited {proc.returncode}:\n{err.decode()[-2000:]}")
    return Sample(seconds, usage.ru_maxrss, usage.ru_utime + usage.ru_stime)


def summarise(samples: list[Sample]) -> dict[str, float]:
    times = [s.seconds for s in samples]
    return {"median": statistics.median(times), "min": min(times), "max": max(times),
            "runs": len(times), "max_rss_mb": max(s.max_rss_kb for s in samples) / 1024,
            "cpu_median": statistics.median(s.cpu_seconds for s in samples)}


def measure(op: Operation, repeat: int, warmup: int) -> dict[str, dict[str, float]]:
    sides = [op.transflow, *op.peers]
    samples: dict[str, list[Sample]] = {s.label: [] for s in sides}
    for i in range(warmup + repeat):
        for side in sides:  # alternate: tf, peer, peer…, tf, peer…
            sample = run_once(side)
            if i >= warmup:
                samples[side.label].append(sample)
            print(f"  {op.name:13} {side.label:48} {sample.seconds:8.2f} s "
                  f"(cpu {sample.cpu_seconds:6.2f} s) "
                  f"{sample.max_rss_kb / 1024:7.0f} MB{'  (warm-up)' if i < warmup else ''}",
                  file=sys.stderr)
    out: dict[str, dict[str, float]] = {label: summarise(s) for label, s in samples.items()}
    return out


# --- machine and report ----------------------------------------------------------------------


def machine() -> dict[str, str]:
    def first(cmd: list[str]) -> str:
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, check=False)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "not available"

    cpu = "unknown"
    try:
        cpu = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text()).group(1)  # type: ignore[union-attr]
    except (OSError, AttributeError):
        pass
    mem = "unknown"
    try:
        kb = int(re.search(r"MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "ram": mem,
        "os": platform.platform(),
        "python": platform.python_version(),
        "transflow": first([str(TRANSFLOW_PY), "-m", "transflow", "--version"]),
        "transflow commit": first(["git", "-C", str(REPO), "log", "-1", "--format=%h %cI"]),
        "translate-toolkit": first([peer("python"), "-c",
                                    "from translate.__version__ import sver; print(sver)"]),
        "gettext": first(["msgfmt", "--version"]),
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def ratio_and_verdict(op: Operation, res: dict[str, dict[str, float]]) -> tuple[str, str]:
    # A saved run may lack a peer (measured with --no-peers): no ratio, no verdict against it.
    tf = res[op.transflow.label]["median"]
    ratios = [f"{tf / res[p.label]['median']:.2f}× vs {p.label.split(' (')[0]}"
              for p in op.peers if p.label in res and res[p.label]["median"] > 0]
    verdict = ""
    if op.goal is not None:
        against, limit = op.goal
        if against is None:
            verdict = "met" if tf < limit else "missed"
        elif against in res and res[against]["median"] > 0:
            verdict = "met" if tf / res[against]["median"] <= limit else "missed"
    return "; ".join(ratios), verdict


def fmt_time(r: dict[str, float]) -> str:
    cpu = r.get("cpu_median", float("nan"))
    return f"{r['median']:.2f} s ({r['min']:.2f}–{r['max']:.2f}, n={r['runs']}); cpu {cpu:.2f} s"


def markdown(n: int, info: dict[str, str], ops: list[Operation],
             results: dict[str, dict[str, dict[str, float]]], repeat: int, warmup: int) -> str:
    lines = [
        f"# transflow benchmarks: {n:,} articles, ka + ru",
        "",
        f"{dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}; median (min–max, n runs) "
        f"after {warmup} warm-up (the last run's settings); transflow and peers alternate. "
        "Ratio = transflow time / peer time (under 1: transflow faster). "
        "cpu = median user+system time of the process tree (steadier on a busy machine). "
        "RSS = peak resident memory of the largest process of the tree. "
        "load = the 1-minute load average before → after the operation (2 cores; other "
        "processes share the machine: read cpu beside wall time).",
        "",
        "Machine: " + "; ".join(f"{k}: {v}" for k, v in info.items()),
        "",
        "| operation | transflow | RSS | peer | peer time | peer RSS | ratio | target | |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    current = info.get("transflow commit", "").split(" ")[0]
    for op in ops:
        if op.name not in results:
            continue
        res = results[op.name]
        tf = res[op.transflow.label]
        _, verdict = ratio_and_verdict(op, res)
        peers: list[Side | None] = list(op.peers) or [None]
        run: Any = res.get("run")
        commit = run.get("commit") if isinstance(run, dict) else None
        when = ("" if commit == current else f"; commit {commit}, an earlier run" if commit
                else "; an earlier run, commit not recorded")
        for i, p in enumerate(peers):
            load = res.get("load average")
            what = op.what + (f" (load {load['start']:.1f} → {load['end']:.1f}{when})" if load
                              else f" ({when[2:]})" if when else "")
            cells = [f"**{op.name}**: {what}", fmt_time(tf), f"{tf['max_rss_mb']:.0f} MB"] \
                if i == 0 else ["", "", ""]
            if p is None or p.label not in res:
                cells += ["—" if p is None else f"{p.label}: not measured", "", "", ""]
            else:
                pr = res[p.label]
                cells += [p.label, fmt_time(pr), f"{pr['max_rss_mb']:.0f} MB",
                          f"{tf['median'] / pr['median']:.2f}"]
            cells += [op.target, verdict] if i == 0 else ["", ""]
            lines.append("| " + " | ".join(cells) + " |")
    lines += ["", *(f"- {note}" for note in NOTES)] if NOTES else []
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=200,
                        help="corpus size (200, 2000, 10000…; default 200)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per side (default 3)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs first (default 1)")
    parser.add_argument("--only", default="", help="comma-separated operation names")
    parser.add_argument("--list", action="store_true", help="list the operations and exit")
    parser.add_argument("--no-peers", action="store_true",
                        help="time transflow only (for the 10,000-article scale run)")
    parser.add_argument("--render", action="store_true",
                        help="only rewrite results/bench-N.md from its JSON")
    parser.add_argument("--scaling", action="store_true",
                        help="only write results/scaling.md from the existing bench-*.json")
    args = parser.parse_args()
    if not GEN_CORPUS.is_file():
        parser.error(f"{GEN_CORPUS} not found (set TRANSFLOW_SHARED)")
    if not PEERS_BIN.is_dir() and not args.no_peers and not (args.list or args.scaling
                                                            or args.render):
        parser.error(f"peers not installed: see benchmarks/README.md ({PEERS_BIN}), "
                     "or run with --no-peers")
    if args.list:
        print("\n".join(OPERATION_NAMES))
        return 0
    if args.scaling:
        print(write_scaling())
        return 0
    if args.render:
        doc = json.loads((RESULTS / f"bench-{args.articles}.json").read_text())
        ops = operations(args.articles)
        table = markdown(args.articles, doc["machine"], ops, doc["results"], doc["repeat"],
                         doc["warmup"])
        (RESULTS / f"bench-{args.articles}.md").write_text(table)
        print(table)
        return 0
    ops = operations(args.articles)
    chosen = [op for op in ops if not args.only or op.name in args.only.split(",")]
    if args.no_peers:
        # Only what is measured now goes without its peers: the rows kept from earlier runs
        # (`--only`) keep theirs in the table (the peers' figures are in the JSON).
        chosen = [replace(op, peers=[], goal=op.goal if op.goal is None or op.goal[0] is None
                          else None) for op in chosen]  # fmt: skip
    info = machine()
    out_json = RESULTS / f"bench-{args.articles}.json"
    previous = json.loads(out_json.read_text()) if out_json.is_file() and args.only else {}
    results: dict[str, dict[str, dict[str, float]]] = previous.get("results", {})
    subprocess.run([str(TRANSFLOW_PY), "-m", "compileall", "-q", str(REPO / "src")],
                   stdout=subprocess.DEVNULL, env=run_env())  # bytecode, as an install has
    for op in chosen:
        print(f"{op.name}: {op.what}", file=sys.stderr)
        before = os.getloadavg()
        try:
            results[op.name] = measure(op, args.repeat, args.warmup)
        except (RuntimeError, subprocess.CalledProcessError) as e:
            # One broken operation must not lose the others' figures.
            print(f"  {op.name} failed: {e}", file=sys.stderr)
            NOTES.append(f"{op.name}: not measured ({str(e).splitlines()[0][:200]})")
            continue
        after = os.getloadavg()
        # The machine is shared: the load during the operation says how far to trust wall time.
        results[op.name]["load average"] = {"start": before[0], "end": after[0],
                                            "5 min": after[1]}
        # Rows of earlier runs stay in the table (`--only`): each says which code it measured.
        results[op.name]["run"] = {"commit": info["transflow commit"].split(" ")[0]}  # type: ignore[dict-item]
        save_results(args, info, ops, results)
    save_results(args, info, ops, results)
    return 0


def save_results(args: argparse.Namespace, info: dict[str, str], ops: list[Operation],
                 results: dict[str, dict[str, dict[str, float]]]) -> None:
    """Write bench-N.json, bench-N.md and scaling.md (after every operation: nothing lost)."""
    RESULTS.mkdir(exist_ok=True)
    out_json = RESULTS / f"bench-{args.articles}.json"
    doc = {
        "articles": args.articles, "repeat": args.repeat, "warmup": args.warmup,
        "machine": info, "results": results,
        "operations": {op.name: {"what": op.what, "target": op.target,
                                 "transflow": op.transflow.label,
                                 "peers": [p.label for p in op.peers],
                                 "verdict": ratio_and_verdict(op, results[op.name])[1]}
                       for op in ops if op.name in results},
    }
    out_json.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    table = markdown(args.articles, info, ops, results, args.repeat, args.warmup)
    (RESULTS / f"bench-{args.articles}.md").write_text(table)
    print(table)
    write_scaling()


def write_scaling() -> str:
    """results/scaling.md: each operation's transflow time and memory across corpus sizes."""
    runs = {}
    for path in RESULTS.glob("bench-*.json"):
        doc = json.loads(path.read_text())
        runs[int(doc["articles"])] = doc
    sizes = sorted(runs)
    lines = ["# How transflow's time and memory grow with the newsroom", "",
             "Median wall time (peak RSS) of the transflow side of each operation; "
             "`growth` is the time ratio per 10× articles between consecutive sizes "
             "(10 = linear, under 10 = better than linear). Each cell is the last run of that "
             "operation at that size: `bench-N.md` gives its commit, its load average and its CPU "
             "time (runs before issue 11 and after it both appear; see benchmarks/README.md).", "",
             "| operation | " + " | ".join(f"{n:,} articles" for n in sizes) + " | growth |",
             "|---|" + "---|" * (len(sizes) + 1)]
    for name in OPERATION_NAMES:
        cells: list[str] = []
        times: list[tuple[int, float] | None] = []
        for n in sizes:
            res = runs[n]["results"].get(name)
            label = runs[n].get("operations", {}).get(name, {}).get("transflow")
            if not res or label not in res:
                cells.append("—")
                times.append(None)
                continue
            r = res[label]
            cells.append(f"{r['median']:.2f} s ({r['max_rss_mb']:.0f} MB)")
            times.append((n, r["median"]))
        growth = []
        known = [t for t in times if t is not None]
        for (n1, t1), (n2, t2) in zip(known, known[1:], strict=False):
            if t1 > 0:
                per10 = (t2 / t1) ** (1 / max(1e-9, math.log10(n2 / n1)))
                growth.append(f"{per10:.1f}")
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {' → '.join(growth) or '—'} |")
    text = "\n".join(lines) + "\n"
    if sizes:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "scaling.md").write_text(text)
    return text


if __name__ == "__main__":
    sys.exit(main())
