"""The fast reader of cleanly nested pages gives exactly what the full parser gives.

Wherever `htmlfast` does not give up, its SourceDoc (the lxml tree, every line number, every
source range) must equal justhtml's: on the newsroom, the real corpus pages, the conformance
documents and generated pages.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from lxml import etree

from transflow.htmltree import SourceDoc, parse_source

from .conftest import corpus_html_pages
from .test_conformance import DOCUMENTS
from .test_properties import documents, examples

REPO = Path(__file__).resolve().parent.parent
CLEAN = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Goris &amp; Stepanakert</title>
  <script>var a = 1 < 2;</script>
</head>
<body class="article">
  <!-- main -->
  <h1>Three years on</h1>
  <p>Read on <a href="/oc?a=1&amp;b=2">OC&nbsp;Media</a> &mdash; <em>now</em>.<br>
  Next line</p>
  <ul><li>One</li><li>Two <b>bold</b></li></ul>
  <figure><img src="a.jpg" alt="A &quot;view&quot;"><figcaption>Caption</figcaption></figure>
  <time datetime="2023-04-05">April 5</time>
  <table class="data">
    <caption>Results <em>2024</em></caption>
    <thead><tr><th>Town</th><th>Votes</th></tr></thead>
    <tbody>
      <!-- rows -->
      <tr><td>Goris</td><td>1 200</td></tr>
    </tbody>
  </table>
  <form action="/s"><label>Search <input name="q"></label> <button>Go</button></form>
  <script>document.write("<p>x</p>")</script>
  <dl><dt>Term</dt><dd>Definition</dd></dl>
</body>
</html>
"""


def _dump(doc: SourceDoc) -> list[object]:
    """Everything build and segment read from a SourceDoc, by document order."""
    nodes = list(doc.root.iter())
    index = {id(n): i for i, n in enumerate(nodes)}
    out: list[object] = [etree.tostring(doc.root, encoding="unicode")]
    for n in nodes:
        out.append((index[id(n)], n.sourceline if isinstance(n.tag, str) else None,
                    doc.start.get(n), doc.end.get(n), doc.text_span.get(n),
                    doc.tail_span.get(n), doc.outer.get(n), doc.content.get(n)))
    return out


def _same_or_gave_up(data: bytes) -> bool:
    """True if the fast reader took the page (and then it must agree with justhtml)."""
    from transflow import htmlfast
    from transflow.htmltree import decode_source

    text, encoding, bom = decode_source(data, "x")
    probe = SourceDoc(text, encoding, bom, None)
    import re

    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    if htmlfast.read(probe, starts) is None:
        return False
    assert _dump(parse_source(data, "x")) == _dump(parse_source(data, "x", fast=False))
    return True


def test_a_clean_page_is_read_fast_and_the_same() -> None:
    assert _same_or_gave_up(CLEAN.encode())
    assert _same_or_gave_up(CLEAN.replace("\n", "\r\n").encode())


def test_the_newsroom_is_read_fast_and_the_same() -> None:
    taken = [_same_or_gave_up(p.read_bytes()) for p in sorted((REPO / "source").glob("*.html"))]
    assert taken and all(taken)


def test_corpus_pages_agree_where_taken() -> None:
    taken = sum(_same_or_gave_up(p.read_bytes()) for p in corpus_html_pages())
    print(f"fast reader took {taken}/{len(corpus_html_pages())} corpus pages")


@pytest.mark.parametrize("source", DOCUMENTS)
def test_soup_gives_up_or_agrees(source: str) -> None:
    _same_or_gave_up(source.encode())
    _same_or_gave_up(("<!DOCTYPE html><html><head></head><body>" + source +
                      "</body></html>").encode())


@examples(100)
@given(documents)
def test_generated_pages_agree(document: str) -> None:
    _same_or_gave_up(document.encode())


# Tags and text a reader using Python's `\s` (which takes U+00A0, U+2028, U+000B…) or Unicode
# case folding (`ſ` is `s`) or `html.unescape` (it drops `&#8;`) would read differently from a
# browser, and a form feed (HTML spacing, but no XML character): each must give up or agree,
# never crash.
TRICKY = [
    "<p>Photo: <em>Name</em\u2028></p>",  # `</em\u2028>` closes nothing
    "<p>a</p\xa0>",
    "<p\xa0class=x>t</p>",
    "<p class=a\xa0b>t</p>",
    "<p>Human\x0crights</p>",  # (lxml refuses U+000C in text)
    "<p>a\x0c</p>\x0c",
    "<p>a</p>\x0b",
    '<p title="a\x0cb">t</p>',
    "<p>x</p><script>a</\u017fcript>b</script>",  # `ſ` folds to `s` in Unicode regexes
    "<p>x</p><style>a</st\u212ayle>b</style>",  # (U+212A KELVIN SIGN folds to `k`: no k here, kept)
    "<p><span a=1\u2028b=2>t</span></p>",
    "<p>a < b and <3</p>",
    "<p>a <b>bold</b\t></p>",
    # Numeric references to controls and noncharacters: a browser keeps the code point,
    # Python's html.unescape drops it.
    "<p>a &#8 b &#x1; c</p>",
    "<p>&#8<wbr>0;km</p>",
    "<p title='x&#11;y'>t</p>",
    "<p>&#xFDD0;&#x10FFFE;&#127;</p>",
    "<p>&#x80;&#x81;&#0;&#xD800;&#1114112;</p>",
]


@pytest.mark.parametrize("fragment", TRICKY)
def test_unicode_spacing_and_form_feeds_give_up_or_agree(fragment: str) -> None:
    page = f"<!DOCTYPE html><html><head><title>T</title></head><body>{fragment}</body></html>"
    _same_or_gave_up(page.encode())
    _same_or_gave_up(page.replace("<body>", "<body>\n").encode())


def test_spacing_as_browsers_see_it_is_read_fast() -> None:
    """ASCII spacing inside tags and `<` that starts no tag stay on the fast path."""
    page = ("<!DOCTYPE html>\n<html lang=en>\n<head>\n<title>T</title>\n</head>\n<body>\n"
            "<p\n class='a'\tid=b >a &lt; b, 1 < 2 <b >x</b\n></p>\n</body>\n</html>\n")
    assert _same_or_gave_up(page.encode())
