"""Every table of a translation memory database as text, rows sorted (to diff two of them).

usage: python benchmarks/mem/dump_memory.py build/.cache/memory.sqlite3

The `synced` token (random each run) and the catalogues' stamps (mtime, ctime, inode: not
the same in two copies) are left out; everything else is printed.
"""

from __future__ import annotations

import sqlite3
import sys


def main() -> None:
    """Print each table's rows, sorted."""
    con = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
    tables = [name for (name,) in con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    for table in tables:
        if table == "words":  # (FTS5 contentless: not scannable; its shadow tables are)
            continue
        if table == "catalogs":
            query = "SELECT id, path, lang, ord, base, size, digest FROM catalogs"
        elif table == "meta":
            query = "SELECT key, value FROM meta WHERE key != 'synced'"
        else:
            query = f"SELECT * FROM {table}"
        rows = sorted(con.execute(query).fetchall(), key=repr)
        print(f"## {table}: {len(rows)} rows")
        for row in rows:
            print(repr(row))


if __name__ == "__main__":
    main()
