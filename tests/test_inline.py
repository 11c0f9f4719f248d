"""The light inline notation: parsing, escaping and tag validation."""

from __future__ import annotations

import pytest

from transflow.inline import (
    NotationError,
    Tag,
    escape_text,
    notation_name,
    parse_notation,
    render_notation,
    strip_tags,
    tag_problems,
    unescape_text,
)

SOURCE = "Read <em1>more</em1> on <a1>OC <b1>Media</b1></a1>.<br1/>Thanks"


def test_parse_nested_and_void() -> None:
    tree = parse_notation(SOURCE)
    assert tree[0] == "Read "
    assert tree[1] == Tag("em1", False, ("more",))
    assert tree[3] == Tag("a1", False, ("OC ", Tag("b1", False, ("Media",))))
    assert tree[5] == Tag("br1", True, ())
    assert render_notation(tree) == SOURCE


@pytest.mark.parametrize("text", ["a &lt; b &amp;&amp; c &gt; d", "&lt;em1&gt; is a tag", "x&amp;lt;y"])
def test_escapes_round_trip(text: str) -> None:
    assert render_notation(parse_notation(text)) == text


def test_escape_and_unescape() -> None:
    assert escape_text("a < b & <em1>") == "a &lt; b &amp; &lt;em1&gt;"
    assert unescape_text("&amp;lt;") == "&lt;"
    assert strip_tags("<a1>x &lt; y</a1>") == "x < y"
    # A literal tag typed in an article is text, not a tag.
    assert parse_notation("&lt;em1&gt;") == ["<em1>"]


def test_notation_names() -> None:
    assert notation_name("a") == "a"
    assert notation_name("my-widget") == "my-widget"
    assert notation_name("h1") == "x"  # cannot end in a digit: the index would be ambiguous
    assert notation_name("o:p") == "x"


def test_reordering_is_allowed() -> None:
    msgstr = "<a1><b1>Media</b1> OC</a1>-ზე <em1>მეტი</em1> წაიკითხეთ.<br1/>მადლობა"
    assert tag_problems(SOURCE, msgstr) == []
    # Nesting may change too: em out of the link is still the same set of tags.
    assert tag_problems("<a1>x <em1>y</em1></a1>", "<em1>y</em1> <a1>x</a1>") == []


@pytest.mark.parametrize(
    ("msgstr", "expected"),
    [
        ("Read more on OC Media.<br1/>", "missing tag <em1>"),
        ("<em1>a</em1><em1>b</em1><a1>c<b1>d</b1></a1><br1/>", "duplicate tag <em1>"),
        ("<em1>a</em1><a1>c<b1>d</b1></a1><br1/><i1>x</i1>", "extra tag <i1>"),
        ("<em1>a</em1><a1>c<b1>d</a1></b1><br1/>", "mis-nested"),
        ("<em1>a<a1>c<b1>d</b1></a1><br1/>", "unclosed tag <em1>"),
        ("<em1>a</em1></em1><a1>c<b1>d</b1></a1><br1/>", "unexpected closing tag </em1>"),
        ("<em1>a</em1><a1>c<b1>d</b1></a1><br1>x</br1>", "must be written <br1/>"),
        ("<em1>a</em1><a1>c<b1>d</b1></a1><br1/><script>alert(1)</script>", "<script>"),
        ("<em1>a</em1><a1 href=x>c<b1>d</b1></a1><br1/>", "<a1 href=x>"),
        ("<em1>a</em1><a1>c<b1>d</b1></a1><br1/><img src=x onerror=alert(1)>", "<img src=x"),
        ("<em1>a</em1><a1>c<b1>d</b1></a1><br1/><!-- x -->", "<!--"),
        ("<em1>a</em1><a1>c<b1>d</b1></a1><br1/></div>", "</div>"),
        ("<EM1>a</EM1><a1>c<b1>d</b1></a1><br1/>", "<EM1>"),
    ],
)
def test_problems_are_reported(msgstr: str, expected: str) -> None:
    problems = tag_problems(SOURCE, msgstr)
    assert problems, msgstr
    assert any(expected in p for p in problems), problems


def test_lone_angle_bracket_is_text() -> None:
    assert tag_problems("a &lt; b", "a < b") == []
    assert parse_notation("a < b") == ["a < b"]


def test_parse_rejects_malformed() -> None:
    with pytest.raises(NotationError) as info:
        parse_notation("<a1>x")
    assert info.value.problems == ["unclosed tag <a1>"]


def test_problems_are_capped() -> None:
    problems = tag_problems("<a1>x</a1>", "<a1>" * 10000)
    assert len(problems) == 11 and problems[-1].startswith("and ")
