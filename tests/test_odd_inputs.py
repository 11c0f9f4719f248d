"""Odd but valid inputs work through every command (the other half of test_reliability.py).

A newsroom's files come from many editors and tools: PO files saved with CRLF or a BOM, pages
in Latin-1, with a BOM, without a body, with SVG, `<template>`, bogus entities; file names
with spaces or Georgian letters. None of these is an error. Each case goes through extract,
check, status, build and review as real processes, and must: exit 0, print no traceback,
keep the translator's work, write PO files that gettext's `msgfmt -c` accepts, and build
pages that parse. Where the input has a right reading, the test says what it is.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import html as lxml_html

from .smallproject import ForkServer, make_project, run_transflow, translate_first_item

PO = "locales/ru/news.po"
PAGE = "source/news.html"
COMMANDS = (("extract",), ("check",), ("status",), ("build",), ("review",))
TRANSLATION = "Первый пункт"


def _read(root: Path, rel: str) -> bytes:
    return (root / rel).read_bytes()


def _write(root: Path, rel: str, data: bytes) -> None:
    (root / rel).write_bytes(data)


def _latin1(root: Path) -> None:
    data = _read(root, PAGE).replace(b'charset="utf-8"', b'charset="iso-8859-1"')
    _write(root, PAGE, data.replace(b"News from", "News fr\u00f6m".encode("latin-1")))


def _copy_page_as(name: str) -> Callable[[Path], None]:
    return lambda root: _write(root, f"source/{name}", _read(root, PAGE))


CASES: dict[str, Callable[[Path], None]] = {
    "po-crlf": lambda r: _write(r, PO, _read(r, PO).replace(b"\n", b"\r\n")),
    "po-bom": lambda r: _write(r, PO, b"\xef\xbb\xbf" + _read(r, PO)),
    "po-no-header": lambda r: _write(r, PO, _read(r, PO).split(b"\n\n", 1)[1]),
    "po-huge-msgstr": lambda r: _write(
        r, PO, _read(r, PO) + ('\nmsgid "Huge"\nmsgstr "' + "ж" * 1_000_000 + '"\n').encode()),
    "html-bom": lambda r: _write(r, PAGE, b"\xef\xbb\xbf" + _read(r, PAGE)),
    "html-crlf": lambda r: _write(r, PAGE, _read(r, PAGE).replace(b"\n", b"\r\n")),
    "html-latin1": _latin1,
    "html-no-body": lambda r: _write(r, PAGE, b"<p>First item</p>"),
    "html-script-only": lambda r: _write(
        r, PAGE, b'<html><script>var a = "<p>x</p>";</script></html>'),
    "html-frameset": lambda r: _write(r, PAGE, b"<frameset><frame src=x></frameset>"),
    "html-entities": lambda r: _write(
        r, PAGE, b"<html><body><p>&bogus; &#0; &#xD800; &#99999999; &amp</p></body></html>"),
    "html-svg-math": lambda r: _write(
        r, PAGE, b"<html><body><p>a <svg><text>hi</text></svg> <math><mi>x</mi></math></p>"
        b"</body></html>"),
    "html-template": lambda r: _write(
        r, PAGE, b"<html><body><template><p>inert</p></template><p>First item</p></body></html>"),
    "html-cdata-comment": lambda r: _write(
        r, PAGE, b"<html><body><!-- <p>c</p> --><p><![CDATA[x]]>First item</p></body></html>"),
    "html-long-line": lambda r: _write(
        r, PAGE, _read(r, PAGE) + b"<p>" + b"word " * 200_000 + b"</p>\n"),
    "name-space": _copy_page_as("a b.html"),
    "name-georgian": _copy_page_as("\u10e5\u10d0\u10e0\u10d7\u10e3\u10da\u10d8.html"),
    "name-hidden": _copy_page_as(".draft.html"),
}


@pytest.fixture(scope="module")
def valid_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small valid project after extract, with one Russian translation."""
    return translate_first_item(make_project(tmp_path_factory.mktemp("valid") / "news"),
                                TRANSLATION)


def _run_all(root: Path, server: ForkServer) -> list[str]:
    problems = []
    for args in COMMANDS:
        result = server.run(root, *args)
        if result.returncode != 0 or "Traceback" in result.stdout + result.stderr:
            problems.append(f"{' '.join(args)}: exit {result.returncode}: {result.stderr[-400:]}")
    return problems


@pytest.mark.parametrize("name", sorted(CASES))
def test_odd_input_works_everywhere(name: str, valid_project: Path, tmp_path: Path,
                                    server: ForkServer) -> None:
    root = tmp_path / "news"
    shutil.copytree(valid_project, root)
    CASES[name](root)
    assert not _run_all(root, server)
    for po in sorted((root / "locales").rglob("*.po")):
        fmt = subprocess.run(["msgfmt", "-c", "-o", "/dev/null", str(po)],
                             capture_output=True, text=True)
        assert fmt.returncode == 0, (po, fmt.stderr)
    pages = sorted((root / "build").glob("*/*.html"))
    assert pages and all(lxml_html.fromstring(p.read_bytes()) is not None for p in pages)
    assert (root / "build/review/index.html").is_file()
    # A page still holding "First item" keeps its translation through extract and build.
    if name.startswith("po-") or name.startswith("name-") or "First item" in (
            root / PAGE).read_text("utf-8", "replace"):
        assert f'msgstr "{TRANSLATION}"' in (root / PO).read_text("utf-8")
        built = lxml_html.fromstring(_page_text((root / "build/ru/news.html").read_bytes()))
        assert TRANSLATION in built.text_content()


def _page_text(data: bytes) -> str:
    """A built page as text: by its `<meta charset>`; a page that declares none is UTF-8 (what
    build writes, and what browsers detect)."""
    m = re.search(rb'<meta charset="([^"]+)"', data)
    return data.decode(m.group(1).decode() if m else "utf-8")


def _msgids(root: Path, rel: str = PO) -> list[str]:
    text = (root / rel).read_text("utf-8")
    return [line[7:-1] for line in text.splitlines() if line.startswith('msgid "') and line != 'msgid ""']


@pytest.fixture
def done(valid_project: Path, tmp_path: Path, server: ForkServer) -> Callable[[str], Path]:
    """Run one case through every command and return the project."""
    def run(name: str) -> Path:
        root = tmp_path / name / "news"
        shutil.copytree(valid_project, root)
        CASES[name](root)
        assert not _run_all(root, server)
        return root
    return run


def test_what_odd_inputs_mean(done: Callable[[str], Path]) -> None:
    # A Latin-1 page is read as Latin-1 and rebuilt in its own encoding.
    root = done("html-latin1")
    assert "News fröm Stepanakert" in _msgids(root)
    assert b"News fr\xf6m" in (root / "build/en/news.html").read_bytes()
    # A BOM is not text: the first msgid does not start with U+FEFF.
    root = done("html-bom")
    assert not any(m.startswith("\ufeff") for m in _msgids(root))
    # A CRLF or BOM catalogue is read and rewritten as gettext writes them; its header stays.
    for name in ("po-crlf", "po-bom"):
        data = (done(name) / PO).read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf") and b"\r\n" not in data
        assert b'"Content-Type: text/plain; charset=UTF-8\\n"' in data
    # Inert or non-text content is not offered for translation (WHATWG parsing).
    assert _msgids(done("html-template")) == ["First item"]
    assert _msgids(done("html-cdata-comment")) == ["First item"]
    assert _msgids(done("html-script-only")) == []
    # Bogus references: as a browser reads them (&#0; and surrogates become U+FFFD).
    assert _msgids(done("html-entities")) == ["&amp;bogus; \ufffd \ufffd \ufffd &amp;"]
    # Odd names are articles like any other; a hidden file is not an article.
    assert (done("name-space") / "build/ru/a b.html").is_file()
    root = done("name-georgian")
    assert (root / "locales/ka/\u10e5\u10d0\u10e0\u10d7\u10e3\u10da\u10d8.po").is_file()
    root = done("name-hidden")
    assert not list((root / "locales").rglob(".draft*"))
    assert not list((root / "build").rglob(".draft*"))


def test_a_plain_process_agrees_with_the_fork_server(valid_project: Path, tmp_path: Path) -> None:
    root = tmp_path / "news"
    shutil.copytree(valid_project, root)
    CASES["po-crlf"](root)
    for args in COMMANDS:
        result = run_transflow(root, *args)
        assert result.returncode == 0 and not result.stderr, (args, result.stderr)
