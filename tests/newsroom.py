"""The repository's own newsroom (transflow.toml, glossary, source/, locales/) as test material.

Tests copy it to a temporary folder before changing anything, and can put a known glossary
violation into a copy (`break_glossary`) to see how a tool reports it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NEWSROOM_FILES = ("transflow.toml", "glossary.toml")
NEWSROOM_DIRS = ("source", "locales")
# The entry that `break_glossary` spoils: its msgid is on this line of this catalogue.
BROKEN_PO = "locales/ru/goris-three-years-on.po"
BROKEN_TEXT = ("в Степанакерте", "в Ханкенди")  # approved rendering -> the forbidden one


def newsroom_catalogues() -> list[Path]:
    """Every PO catalogue of the repository's newsroom."""
    return sorted((REPO / "locales").glob("*/*.po"))


def copy_newsroom(dest: Path) -> Path:
    """Copy the newsroom into `dest` (without build/), return `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in NEWSROOM_FILES:
        shutil.copy2(REPO / name, dest / name)
    for name in NEWSROOM_DIRS:
        shutil.copytree(REPO / name, dest / name)
    return dest


def break_glossary(root: Path) -> tuple[str, int]:
    """Put the forbidden rendering 'Ханкенди' into one Russian translation.

    Returns (file, line of the entry's msgid), where `check` must report it.
    """
    path = root / BROKEN_PO
    text = path.read_text("utf-8")
    good, bad = BROKEN_TEXT
    at = text.index(good)
    assert text.count(good) == 1, "the newsroom changed: pick another entry to spoil"
    head = text[:at]
    msgid_line = head.rfind("\nmsgid ")
    line = head[:msgid_line + 1].count("\n") + 1
    path.write_text(text.replace(good, bad), "utf-8")
    return BROKEN_PO, line
