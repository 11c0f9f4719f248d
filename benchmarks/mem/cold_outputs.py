"""Outputs of a cold `transflow extract` by two transflows (A: main's, B: this tree's), compared.

usage: python benchmarks/mem/cold_outputs.py CORPUS TF_A TF_B [--work DIR]

Each side: CORPUS copied to the same path (`--work`, default under benchmarks/.corpora/work),
`build/.cache` removed (a first run), `transflow -q extract` (`SOURCE_DATE_EPOCH` set); then every file under `locales/`
(POT and PO) and the translation memory's tables are kept and compared. The memory is
compared by content: every table's rows in a stable order (`catalogs` without its stamps,
which name the copy's inodes and times), and the word index by term and posting list (the
msgid keys each term of `words` holds, as `fts5vocab` and `MATCH` give them).
Prints what differs, or "same outputs and memory tables".
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]


def _files(root: Path) -> dict[str, str]:
    out = {}
    for path in sorted((root / "locales").rglob("*")):
        if path.is_file():
            out[os.fspath(path.relative_to(root))] = hashlib.blake2b(path.read_bytes()).hexdigest()
    return out


def _memory(db: Path) -> dict[str, str]:
    """A digest of each table's content (catalogs without stamps; words by term)."""
    con = sqlite3.connect(db)
    out: dict[str, str] = {}
    queries = {
        "meta": "SELECT key, value FROM meta WHERE key != 'synced' ORDER BY key",
        "langs": "SELECT * FROM langs ORDER BY lang",
        "catalogs": "SELECT id, path, lang, ord, base, size, digest FROM catalogs ORDER BY id",
        "msgids": "SELECT * FROM msgids ORDER BY id",
        "pairs": "SELECT * FROM pairs ORDER BY cat, pos",
        "df": "SELECT * FROM df ORDER BY term",
        "winners": "SELECT * FROM winners ORDER BY mid",
        "words_config": "SELECT * FROM words_config ORDER BY k",
    }
    for name, query in queries.items():
        h = hashlib.blake2b()
        n = 0
        for row in con.execute(query):
            h.update(repr(row).encode())
            n += 1
        out[name] = f"{n} rows {h.hexdigest()[:16]}"
    con.execute("CREATE VIRTUAL TABLE temp.v USING fts5vocab (main, words, 'row')")
    h = hashlib.blake2b()
    terms = [t for (t,) in con.execute("SELECT term FROM temp.v ORDER BY term")]
    for term in terms:
        keys = [k for (k,) in con.execute(
            "SELECT rowid FROM words WHERE words MATCH ? ORDER BY rowid", (f'"{term}"',))]
        h.update(f"{term}:{keys}".encode())
    out["words"] = f"{len(terms)} terms {h.hexdigest()[:16]}"
    con.close()
    return out


def _side(tf: str, corpus: Path, work: Path) -> tuple[dict[str, str], dict[str, str]]:
    if work.exists():
        shutil.rmtree(work)
    subprocess.run(["cp", "-a", os.fspath(corpus), os.fspath(work)], check=True)
    shutil.rmtree(work / "build" / ".cache", ignore_errors=True)
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["SOURCE_DATE_EPOCH"] = "1700000000"  # (the headers' dates: the same on both sides)
    done = subprocess.run([tf, "-q", "extract"], cwd=work, env=env, stdout=subprocess.DEVNULL)
    if done.returncode != 0:
        sys.exit(f"{tf}: exit {done.returncode}")
    files = _files(work)
    memory = _memory(work / "build" / ".cache" / "memory.sqlite3")
    shutil.rmtree(work)
    return files, memory


def main() -> None:
    """Run both sides, print the differences."""
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("tf_a")
    ap.add_argument("tf_b")
    ap.add_argument("--work", default=os.fspath(HERE / "benchmarks/.corpora/work/cold-outputs"))
    args = ap.parse_args()
    corpus, work = Path(args.corpus).resolve(), Path(args.work)
    files_a, memory_a = _side(args.tf_a, corpus, work)
    files_b, memory_b = _side(args.tf_b, corpus, work)
    differ = sorted(p for p in files_a.keys() | files_b.keys() if files_a.get(p) != files_b.get(p))
    for path in differ[:20]:
        print(f"differs: {path}")
    if len(differ) > 20:
        print(f"... {len(differ)} files differ")
    for table in memory_a:
        if memory_a[table] != memory_b.get(table):
            print(f"memory table {table}: {memory_a[table]} vs {memory_b.get(table)}")
        else:
            print(f"  {table}: {memory_a[table]}")
    if not differ and memory_a == memory_b:
        print(f"same outputs ({len(files_a)} files) and memory tables")


if __name__ == "__main__":
    main()
