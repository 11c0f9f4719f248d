"""TOML reading with the line numbers that error messages need.

`tomllib` gives values but no positions; `key_line` finds where a key was written so that
a wrong value is reported as `file.toml:LINE: …`.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from transflow.errors import InputError, TransflowError
from transflow.files import read_bytes

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.-]+)\s*=""")
_LINE_IN_MESSAGE = re.compile(r"\(at line (\d+), column \d+\)")


def load_toml(path: Path, error: type[TransflowError] = InputError) -> tuple[dict[str, Any], str]:
    """Parse a TOML file; return (data, text). Syntax errors become `error` with the line."""
    raw = read_bytes(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise error("not valid UTF-8", path, raw[: e.start].count(b"\n") + 1) from e
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = _LINE_IN_MESSAGE.search(msg)
        line = int(m.group(1)) if m else None
        if line is None and "end of document" in msg:
            line = len(text.rstrip().splitlines()) or 1
        msg = re.sub(r"\s*\((at line \d+, column \d+|at end of document)\)", "", msg).strip()
        raise error(f"TOML syntax error: {msg}", path, line) from e
    return data, text


def key_line(text: str, table: str | None, key: str | None = None, index: int = 0) -> int | None:
    """The 1-based line where `key` is set inside `[table]` (the `index`-th `[[table]]`).

    With `key=None`, the line of the table header itself. Top-level keys use `table=None`.

    >>> key_line('[project]\\nlanguages = ["ka"]\\n', "project", "languages")
    2
    >>> key_line('[[term]]\\nid = "a"\\n[[term]]\\nid = "b"\\n', "term", "id", index=1)
    4
    """
    current: str | None = None
    seen = 0 if table is None else -1  # top-level keys live before any header
    for lineno, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header and not _KEY.match(line):
            current = header.group(2).replace(" ", "")
            if current == table:
                seen += 1
                if key is None and seen == index:
                    return lineno
            continue
        if key is None or current != table or (table is not None and seen != index):
            continue
        m = _KEY.match(line)
        if m and m.group(1).strip("\"'") == key:
            return lineno
    if table is not None and key is not None:
        return key_line(text, table, None, index)
    if table is not None:  # `name = value` at the top level, where a table was expected
        return key_line(text, None, table)
    return None
