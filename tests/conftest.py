"""Shared fixtures: where the third-party corpus lives, and whether gettext's tools are here."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from .smallproject import ForkServer

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("TRANSFLOW_SHARED", REPO.parent / "shared"))
CORPUS = SHARED / "corpus"
CORPUS_HTML = CORPUS / "html"
CORPUS_PO = CORPUS / "po"


def corpus_html_pages() -> list[Path]:
    """The real pages of ../shared/corpus/html (empty when the corpus is absent)."""
    return sorted(CORPUS_HTML.glob("*.html")) if CORPUS_HTML.is_dir() else []


def corpus_po_files() -> list[Path]:
    """The real Georgian and Russian catalogues of ../shared/corpus/po."""
    return sorted(CORPUS_PO.glob("*/*.po")) if CORPUS_PO.is_dir() else []


needs_corpus = pytest.mark.skipif(
    not CORPUS_HTML.is_dir(),
    reason=f"third-party corpus not found at {CORPUS} (set TRANSFLOW_SHARED to ../shared)",
)
needs_gettext = pytest.mark.skipif(
    shutil.which("msgfmt") is None or shutil.which("msgcat") is None,
    reason="GNU gettext (msgfmt, msgcat) is not installed",
)


@pytest.fixture(scope="module")
def server() -> Iterator[ForkServer]:
    """Commands run in forked children of one interpreter (see smallproject.ForkServer)."""
    srv = ForkServer()
    yield srv
    srv.close()
