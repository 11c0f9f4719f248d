"""Segmentation: what is a unit, what is never extracted, and messy real-world input."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from transflow.errors import InputError
from transflow.segment import Segment, extract_segments, parse_html, walk_units

from .conftest import corpus_html_pages, needs_corpus

P = Path("source/t.html")


def msgids(html: str, **kw: bool) -> list[str]:
    return [s.msgid for s in extract_segments(html.encode("utf-8"), P, **kw)]


def segs(html: str) -> list[Segment]:
    return extract_segments(html.encode("utf-8"), P)


def page(body: str, head: str = "") -> str:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>"


def test_blocks_and_inline_tags() -> None:
    html = page("<h1>Title</h1><p>Read <em>more</em> on <a href='x'>OC <b>Media</b></a>.<br>"
                "Thanks</p><ul><li>One</li><li>Two <a href=y>links</a> and <a href=z>more</a></li></ul>"
                "<table><caption>Cap</caption><tr><th>Head</th><td>Cell</td></tr></table>"
                "<blockquote>Quote</blockquote><figure><img src=a alt='A photo'>"
                "<figcaption>The caption</figcaption></figure><dl><dt>Term</dt><dd>Def</dd></dl>")
    assert msgids(html) == [
        "Title", "Read <em1>more</em1> on <a1>OC <b1>Media</b1></a1>.<br1/>Thanks", "One",
        "Two <a1>links</a1> and <a2>more</a2>", "Cap", "Head", "Cell", "Quote", "A photo",
        "The caption", "Term", "Def",
    ]


def test_contexts_and_lines() -> None:
    html = "<html><head><title>T</title>\n<meta name=description content='Desc'>\n</head>\n" \
           "<body>\n<p>One</p>\n<figure><img alt='Alt'><figcaption>Cap</figcaption></figure></body></html>"
    assert segs(html) == [
        Segment("T", 1, "title"), Segment("Desc", 2, "meta description"),
        Segment("One", 5, "p"), Segment("Alt", 6, "img alt"), Segment("Cap", 6, "figcaption"),
    ]


def test_mixed_content_in_containers_is_extracted() -> None:
    html = page("Loose text <b>bold</b><div>Div text<p>Para</p>tail of div</div>"
                "<ul>List text<li>Item</li></ul><section>Sec <i>x</i></section>after")
    assert msgids(html) == ["Loose text <b1>bold</b1>", "Div text", "Para", "tail of div",
                            "List text", "Item", "Sec <i1>x</i1>", "after"]


def test_never_extracted() -> None:
    html = page("<script>var a = 'Text';</script><style>p{}</style><template><p>Tpl</p></template>"
                "<pre>code block</pre><code>code</code><svg><text>Svg text</text><title>t</title></svg>"
                "<math><mi>x</mi></math><p translate='no'>Brand</p><div class='notranslate'>Name</div>"
                "<textarea>Default</textarea><noscript>Enable JS</noscript>"
                "<p>https://example.com/x</p><p>www.example.org</p><p>1234</p><p>— · —</p><p>&amp;</p>"
                "<p><b>&lt;&gt;</b> &amp;</p>"
                "<p>Kept</p>")
    assert msgids(html) == ["1234", "Kept"]


def test_time_and_code_inside_text_are_void_tags() -> None:
    html = page("<p>Published <time datetime='2023-04-05'>April 5, 2023</time> by <code>bot</code></p>"
                "<p><time>Last week</time> we saw</p>")
    assert msgids(html) == ["Published <time1/> by <code1/>", "<time1>Last week</time1> we saw"]


def test_untranslatable_inline_is_void() -> None:
    html = page("<p>Read <span translate='no'>OC Media</span> daily</p>")
    assert msgids(html) == ["Read <span1/> daily"]


def test_wrapping_inline_is_not_shown() -> None:
    html = page("<ul><li><a href='/'>Home</a></li><li> <a href='/a'><span>Deep</span></a> </li>"
                "<li><a href='/'><i class=icon></i><span>Menu</span></a></li></ul>")
    assert msgids(html) == ["Home", "Deep", "Menu"]


def test_attributes_of_inline_elements_are_entries() -> None:
    html = page("<p>The <abbr title='North Atlantic Treaty Organization'>NATO</abbr> summit "
                "<img src=x alt='a flag'> <a href=x title='Read it'>here</a></p>"
                "<input placeholder='Search the site'><button aria-label='Close menu'>X</button>")
    assert segs(html) == [
        Segment("The <abbr1>NATO</abbr1> summit <img1/> <a1>here</a1>", 1, "p"),
        Segment("North Atlantic Treaty Organization", 1, "abbr title"),
        Segment("a flag", 1, "img alt"), Segment("Read it", 1, "a title"),
        Segment("Search the site", 1, "input placeholder"), Segment("Close menu", 1, "button aria-label"),
        Segment("X", 1, "button"),
    ]


def test_meta_fields() -> None:
    head = ("<title>The title</title><meta name=description content='D'>"
            "<meta property='og:title' content='OT'><meta property='og:description' content='OD'>"
            "<meta name='twitter:title' content='TT'><meta name='twitter:description' content='TD'>"
            "<meta name=keywords content='not this'><meta property='og:url' content='https://x'>")
    assert msgids(page("", head)) == ["The title", "D", "OT", "OD", "TT", "TD"]


def test_whitespace_comments_and_escaping() -> None:
    html = page("<p>\n  Some   text\t<!-- a comment -->here\n <b> and</b>\n</p>"
                "<p>a &lt; b &amp; c &gt; d, not &lt;em1&gt;</p><p>nbsp\u00a0kept</p>")
    assert msgids(html) == ["Some text here <b1> and</b1>", "a &lt; b &amp; c &gt; d, not &lt;em1&gt;",
                            "nbsp\u00a0kept"]


def test_numbering_per_tag_name() -> None:
    html = page("<p><a>1</a><em>2</em><a>3<a>4</a></a><br><br></p>")
    assert msgids(html) == ["<a1>1</a1><em1>2</em1><a2>3</a2><a3>4</a3><br1/><br2/>"]


def test_walk_units_keeps_dom_handles() -> None:
    tree = parse_html(page("<p id=x>Hi <b>you</b></p><img alt=Alt>").encode(), P)
    units = walk_units(tree)
    assert [u.msgid for u in units] == ["Hi <b1>you</b1>", "Alt"]
    assert units[0].element.get("id") == "x" and units[0].tags["b1"].element.tag == "b"
    assert units[1].attr == "alt"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # Declares gb2312 but is UTF-8 (corpus qq.html): valid UTF-8 wins.
        ('<meta charset="gb2312"><p>中文 text</p>'.encode(), "中文 text"),
        # Really windows-1252, declared.
        ('<meta charset="windows-1252"><p>caf\xe9</p>'.encode("cp1252"), "café"),
        # Really GBK, declared gb2312.
        ('<meta http-equiv="Content-Type" content="text/html; charset=gb2312"><p>中文</p>'.encode("gbk"),
         "中文"),
        # A charset string inside a script does not count.
        ('<script>var s="<meta charset=koi8-r>";</script><p>caf\xe9</p>'.encode("cp1252"), "café"),
        # BOMs.
        (b"\xef\xbb\xbf<p>bom</p>", "bom"),
        ("<p>utf16</p>".encode("utf-16"), "utf16"),
    ],
)
def test_encodings(data: bytes, expected: str) -> None:
    assert [s.msgid for s in extract_segments(data, P)] == [expected]


@pytest.mark.parametrize("data", [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"<p>a\x00b</p>"])
def test_binary_input_is_an_input_error(data: bytes) -> None:
    with pytest.raises(InputError) as info:
        extract_segments(data, P)
    assert str(P) in str(info.value)


@pytest.mark.parametrize("data", [b"", b"   \n", b"\t\r\n \n"])
def test_empty_input_is_a_document_with_nothing_to_translate(data: bytes) -> None:
    # Issue 12: "a document with nothing to translate gets an empty catalogue and an
    # identical page, not an error" - an empty or whitespace-only file is one.
    assert extract_segments(data, P) == []


def test_deep_and_huge_input_does_not_crash() -> None:
    deep = "<div><span>" * 5000 + "deep" + "</span></div>" * 5000
    with pytest.raises(InputError, match="nested more than 512 deep"):
        msgids(page(deep))  # Chromium flattens what lies deeper: not the tree we would cut
    nested = "<p>" + "<span>" * 500 + "deep" + "</span>" * 500 + "</p>"
    assert msgids(page(nested)) == ["deep"]
    many = "".join(f"<p>Paragraph {i}</p>" for i in range(20000))
    assert len(msgids(page(many))) == 20000


@pytest.mark.skipif(importlib.util.find_spec("transflow.sentences") is None,
                    reason="transflow.sentences not written yet")
def test_sentence_mode_splits_units() -> None:
    html = page("<p>Dr. Smith arrived at 5 p.m. He left. <a href=x>Read on</a>.</p><img alt='One. Two.'>")
    assert msgids(html) == ["Dr. Smith arrived at 5 p.m. He left. <a1>Read on</a1>.", "One. Two."]
    split = msgids(html, sentences=True)
    assert len(split) >= 3 and split[-1] == "One. Two."  # attributes are not split
    assert " ".join(split[:-1]) == msgids(html)[0]


@needs_corpus
def test_every_corpus_page_segments() -> None:
    pages = corpus_html_pages()
    assert len(pages) == 54
    total = 0
    for path in pages:
        found = extract_segments(path.read_bytes(), path)
        assert found, path.name
        for seg in found:
            assert seg.msgid == seg.msgid.strip() and "  " not in seg.msgid
            assert "<!--" not in seg.msgid and "<script" not in seg.msgid
            assert seg.line >= 1
        total += len(found)
    assert total > 10000


@needs_corpus
def test_corpus_qq_is_read_as_utf8() -> None:
    path = next(p for p in corpus_html_pages() if p.name == "qq.html")
    first = extract_segments(path.read_bytes(), path)[0]
    assert first.msgid.startswith("DeepMind新电脑")


def test_form_and_details_units() -> None:
    html = page("<form><fieldset><legend>Your details</legend><label>Name <input placeholder=Jane>"
                "</label><select><option value=1>First choice</option></select><button>Send now</button>"
                "</fieldset></form><details><summary>More info</summary>Hidden text</details>")
    assert [(s.msgid, s.context) for s in segs(html)] == [
        ("Your details", "legend"), ("Name <input1/>", "label"), ("Jane", "input placeholder"),
        ("First choice", "option"), ("Send now", "button"), ("More info", "summary"),
        ("Hidden text", "details"),
    ]
