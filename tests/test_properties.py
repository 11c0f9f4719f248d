"""Property tests (hypothesis): random HTML round-trips through extract → identity build;
random PO, glossary and project text either load or fail with a clean `path:line` error.

Examples per run: HTML round trip 200, PO mutations 300, random PO text 200, glossary 300,
transflow.toml 200. `deadline=None` (the machine is shared); sizes are kept small.
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transflow.build import (
    CompiledTemplate,
    PageSettings,
    Translation,
    make_template,
    render_page,
)
from transflow.catalog import parse_catalog
from transflow.check import read_entries
from transflow.errors import CatalogError, ConfigError, GlossaryError
from transflow.glossary import Glossary, load_glossary
from transflow.project import read_project
from transflow.segment import decode_html, extract_segments

from .htmlcompare import dom_tokens, whatwg_tokens


def examples(n: int) -> settings:
    """`n` examples, no deadline (shared machine), no example database in the repository."""
    return settings(max_examples=n, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])

# --- random HTML ---------------------------------------------------------------------------

WORDS = ["Stepanakert", "talks", "resumed", "on", "Monday", "Baku", "OC", "Media", "2024",
         "50 000", "სტეფანაკერტი", "მოლაპარაკება", "Степанакерт", "переговоры", "🙂", "☕",
         "a", "the", "e.g.", "“quoted”", "(brackets)", "x<y", "R&D", "—", "", "  ", "\n"]
ENTITIES = ["&amp;", "&lt;", "&gt;", "&nbsp;", "&eacute;", "&#8217;", "&#x10D0;", "&quot;"]

text = st.lists(st.one_of(st.sampled_from(WORDS).map(
    lambda w: w.replace("&", "&amp;").replace("<", "&lt;")), st.sampled_from(ENTITIES)),
    min_size=1, max_size=6).map(" ".join)
attr_text = st.sampled_from(["A view", "Photo: Baku", "ფოტო", "Фото города", "x & y", ""])


def inline(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    wrap = st.sampled_from(["a href=\"https://example.org/x?a=1&amp;b=2\"", "em", "strong", "b",
                            "i", "span class=\"k\"", "abbr title=\"Organisation\"", "sup",
                            "sub", "a href=\"/y\" title=\"More\"", "code"])
    return st.one_of(
        st.tuples(wrap, children).map(lambda t: f"<{t[0]}>{t[1]}</{t[0].split()[0]}>"),
        st.just("<br>"),
        attr_text.map(lambda a: f'<img src="p.jpg" alt="{a}">'),
        st.just("<!-- a note -->"),
    )


phrasing = st.recursive(text, lambda kids: st.lists(st.one_of(kids, inline(kids)),
                                                    min_size=1, max_size=4).map("".join),
                        max_leaves=8)


def blocks(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(st.sampled_from(["p", "h1", "h2", "h3", "blockquote", "figcaption", "td"]),
                  phrasing).map(lambda t: f"<{t[0]}>{t[1]}</{t[0]}>"),
        st.lists(phrasing, min_size=1, max_size=3).map(
            lambda items: "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"),
        st.lists(children, min_size=1, max_size=3).map(
            lambda kids: "<div>" + "".join(kids) + "</div>"),
        st.lists(children, min_size=1, max_size=2).map(
            lambda kids: "<section translate=\"no\">" + "".join(kids) + "</section>"),
        st.just("<script>var s = '<p>not text</p>';</script>"),
        st.just("<pre><code>x = 1 &lt; 2</code></pre>"),
        st.just("<!-- block comment -->"),
    )


body = st.recursive(phrasing.map(lambda p: f"<p>{p}</p>"),
                    lambda kids: blocks(kids), max_leaves=10)
documents = st.tuples(text, attr_text, st.lists(body, min_size=1, max_size=4)).map(
    lambda t: ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
               f"<title>{t[0]}</title>\n<meta name=\"description\" content=\"{t[1]}\">\n"
               "</head>\n<body>\n" + "\n".join(t[2]) + "\n</body>\n</html>\n"))


@examples(200)
@given(documents)
def test_random_html_identity_build_round_trips(document: str) -> None:
    data = document.encode("utf-8")
    path = Path("random.html")
    segments = extract_segments(data, path)
    lookup = {s.msgid: Translation(s.msgid, 1) for s in segments}
    template = make_template(data, path)
    html, stats = render_page(template, PageSettings("ka", "en", (("en", "a.html"),)), lookup)
    assert stats.fallbacks == 0, [u.msgid for u in template.units if u.msgid not in lookup]
    assert not stats.warnings
    assert dom_tokens(html.encode("utf-8")) == dom_tokens(decode_html(data, path))


# --- fidelity: identity builds give the source back, translations change only units ------

def _soup(document: str, drops: list[int]) -> str:
    """The document with some of its end tags left out (tag soup a parser has to repair)."""
    ends = [m for m in re.finditer(r"</(?:p|li|b|em|strong|a|span|div|td|ul)>", document)]
    cut = {ends[i % len(ends)].span() for i in drops} if ends else set()
    out, pos = [], 0
    for start, end in sorted(cut):
        out.append(document[pos:start])
        pos = end
    out.append(document[pos:])
    return "".join(out)


def _fragment(document: str) -> str:
    """The body of a document alone: a CMS include, a static-site partial."""
    return document[document.index("<body>") + 6:document.index("</body>")]


def _slot_ranges(template: CompiledTemplate) -> list[tuple[int, int, str]]:
    """Where each slot of a template lies in the source text (start, end, kind)."""
    ranges: list[tuple[int, int, str]] = []

    def walk(parts: list, pos: int) -> int:
        for part in parts:
            if isinstance(part, str):
                pos += len(part)
            else:
                slot = template.slots[part]
                end = walk(slot.source, pos)
                ranges.append((pos, end, slot.kind))
                pos = end
        return pos

    walk(template.parts, 0)
    return ranges


pages = st.tuples(documents, st.lists(st.integers(0, 50), max_size=4), st.booleans()).map(
    lambda t: _soup(_fragment(t[0]) if t[2] else t[0], t[1]))


@examples(40)
@given(pages)
def test_identity_builds_give_the_source_back(document: str) -> None:
    """The source-language page is the source plus the hreflang links (a fragment: nothing);
    msgstr == msgid changes nothing but `<html lang>`, og:locale and the links."""
    data = document.encode("utf-8")
    template = make_template(data, Path("random.html"))
    alternates = (("en", "../en/r.html"), ("ka", "r.html"))
    en, _ = render_page(template, PageSettings("en", "en", alternates))
    link = re.compile(r'<link rel="alternate" hreflang="[^"]*" href="[^"]*">\n?')
    if "<head>" in document:
        assert link.sub("", en) == document
    else:
        assert en == document
    lookup = {u.msgid: Translation(u.msgid, 1) for u in template.units}
    ka, stats = render_page(template, PageSettings("ka", "en", alternates), lookup)
    assert stats.fallbacks == 0
    for start, end, kind in _slot_ranges(template):
        if kind in ("unit", "attr"):
            assert ka.count(document[start:end]) >= 1  # (kept verbatim)
    ours = frozenset(h for _, h in alternates)
    assert whatwg_tokens(ka, ours=ours) == whatwg_tokens(document, ours=ours)


@examples(40)
@given(pages)
def test_a_translated_build_changes_bytes_only_inside_units(document: str) -> None:
    data = document.encode("utf-8")
    template = make_template(data, Path("random.html"))
    lookup = {u.msgid: Translation(_pseudo(u.msgid), 1) for u in template.units}
    ka, _ = render_page(template, PageSettings("ka", "en", ()), lookup)
    # The template is the source cut at its slots; what lies between slots is written as is.
    ranges = _slot_ranges(template)
    assert {kind for _, _, kind in ranges} <= INTENDED
    pos = cursor = 0
    for part in template.parts:
        if isinstance(part, str):
            assert document[pos:pos + len(part)] == part
            found = ka.find(part, cursor)
            assert found >= 0, part[:80]
            cursor = found + len(part)
            pos += len(part)
        else:
            pos += _source_length(template, part)
    assert pos == len(document)


def _source_length(template: CompiledTemplate, index: int) -> int:
    return sum(len(p) if isinstance(p, str) else _source_length(template, p)
               for p in template.slots[index].source)


# What a slot may be: a unit, or one of the intended edits of SPEC §7.
INTENDED = {"unit", "attr", "lang", "lang-insert", "dir", "html-lang", "html-lang-insert",
            "html-dir", "html-dir-insert", "og-locale", "time", "head", "switcher"}


def _pseudo(msgid: str) -> str:
    from transflow.inline import parse_notation, render_notation

    def walk(nodes: list | tuple) -> list:
        return [f"⟦{n}⟧" if isinstance(n, str) and n.strip() else n if isinstance(n, str)
                else type(n)(n.key, n.void, tuple(walk(n.children))) for n in nodes]
    return render_notation(walk(parse_notation(msgid)))


# --- random PO text ------------------------------------------------------------------------

VALID_PO = (
    'msgid ""\nmsgstr ""\n"Language: ru\\n"\n"MIME-Version: 1.0\\n"\n'
    '"Content-Type: text/plain; charset=UTF-8\\n"\n"Content-Transfer-Encoding: 8bit\\n"\n'
    '"Plural-Forms: nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && '
    '(n%100<10 || n%100>=20) ? 1 : 2);\\n"\n\n'
    '#. p\n#: source/a.html:3\nmsgid "Read on <a1>OC Media</a1>."\nmsgstr "Читайте <a1>OC Media</a1>."\n\n'
    '#, fuzzy\n#| msgid "Old"\nmsgctxt "menu"\nmsgid "Home"\nmsgstr "Главная"\n\n'
    'msgid "one file"\nmsgid_plural "%d files"\nmsgstr[0] "файл"\nmsgstr[1] "файла"\n'
    'msgstr[2] "файлов"\n\n'
    '# transflow: ignore=baku\nmsgid "Tab\\there \\"q\\" \\\\"\nmsgstr ""\n"line one\\n"\n"two"\n\n'
    '#~ msgid "Gone"\n#~ msgstr "Ушло"\n'
)
PO_PIECES = ['"', "\\", "\n", "\n\n", "#", "#~ ", "#, fuzzy\n", "msgid ", "msgstr ", "msgctxt ",
             "msgid_plural ", "msgstr[1] ", "msgstr[7] ", '""', '"x"', "\x00", "\r\n", "ж", "\t",
             "\\n", "\\q", "nplurals=2", "charset=latin-1", "\ufeff"]


@st.composite
def mutated_po(draw: st.DrawFn) -> bytes:
    text = VALID_PO
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["insert", "delete", "truncate", "duplicate", "swap"]))
        lines = text.split("\n")
        if len(lines) < 2 or len(text) < 2:
            break
        if kind == "insert":
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(st.sampled_from(PO_PIECES)) + text[at:]
        elif kind == "delete":
            at = draw(st.integers(0, len(text) - 1))
            text = text[:at] + text[at + draw(st.integers(1, 5)):]
        elif kind == "truncate":
            text = text[: draw(st.integers(0, len(text)))]
        elif kind == "duplicate":
            i = draw(st.integers(0, len(lines) - 1))
            text = "\n".join(lines[: i + 1] + [lines[i]] + lines[i + 1:])
        else:
            i = draw(st.integers(0, len(lines) - 2))
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
            text = "\n".join(lines)
    return text.encode("utf-8")


def _strict_and_fast_agree(data: bytes, tmp_path: Path) -> None:
    """The strict reader gives a catalogue or a `path:line` error; check's reader agrees."""
    path = tmp_path / "x.po"
    path.write_bytes(data)
    try:
        po = parse_catalog(data, path)
    except CatalogError as e:
        assert e.path is not None and e.line is not None and e.line >= 1, e.format()
        strict_ok = False
    else:
        strict_ok = True
    try:
        entries, _ = read_entries(path, "x.po")
    except CatalogError as e:
        assert e.line is not None, e.format()
        assert not strict_ok, f"check's reader refused what the strict reader read: {e}"
        return
    assert strict_ok, "check's reader read what the strict reader refused"
    ours = sorted((e.msgctxt or "", e.msgid, e.msgstr, bool(e.obsolete)) for e in entries
                  if e.msgid or e.msgctxt)
    theirs = sorted((e.msgctxt or "", e.msgid, e.msgstr, bool(e.obsolete)) for e in po)
    assert ours == theirs


@examples(300)
@given(mutated_po())
def test_mutated_po_parses_or_fails_cleanly(tmp_path: Path, data: bytes) -> None:
    _strict_and_fast_agree(data, tmp_path)


@examples(200)
@given(st.one_of(st.binary(max_size=300),
                 st.lists(st.sampled_from(PO_PIECES + list("ab \n")), max_size=20)
                 .map(lambda t: "".join(t).encode("utf-8"))))
def test_random_po_text_parses_or_fails_cleanly(tmp_path: Path, data: bytes) -> None:
    _strict_and_fast_agree(data, tmp_path)


# --- random glossary and project files -------------------------------------------------------

toml_value = st.one_of(
    st.sampled_from(['"Baku"', '"Баку"', '"ბაქო"', '""', '"  "', '"Stepanakert"', "7", "true",
                     '["Baku", "Baki"]', "[]", '[1, "a"]', '{ ru = ["Бакы"] }', "{ ru = 1 }",
                     '{ xx = ["a"] }', '{ ka = ["ბაქოში"], ru = ["Баку"] }', '"Bak' + "\\" + 'u"',
                     '"unterminated']))
toml_key = st.sampled_from(["id", "en", "ka", "ru", "note", "forbidden", "forms", "translate",
                            "case_sensitive", "colour", "xx-qq", "EN"])
term = st.lists(st.tuples(toml_key, toml_value), max_size=6).map(
    lambda kv: "[[term]]\n" + "".join(f"{k} = {v}\n" for k, v in kv))
glossary_text = st.one_of(
    st.lists(st.one_of(term, st.sampled_from(
        ['[[term]]\nid = "baku"\nen = "Baku"\nru = "Баку"\n', "[term]\n", "term = 1\n",
         "[[term\n", "# comment\n", "[other]\nx = 1\n"])), max_size=4).map("\n".join),
    st.text(max_size=80),
)


@examples(300)
@given(glossary_text)
def test_random_glossary_loads_or_fails_cleanly(tmp_path: Path, text: str) -> None:
    path = tmp_path / "glossary.toml"
    path.write_text(text, "utf-8")
    try:
        glossary = load_glossary(path, "en")
    except GlossaryError as e:
        assert e.path is not None and "glossary.toml" in e.format()
        return
    assert isinstance(glossary, Glossary)
    for t in glossary.terms if hasattr(glossary, "terms") else ():
        assert t.id


project_key = st.sampled_from(["source_language", "languages", "source_dir", "glossary",
                               "segmentation", "min_complete", "include_fuzzy", "glossary",
                               "markup", "colour"])
project_value = st.sampled_from(['"en"', '["ka", "ru"]', '["ka"]', "[]", '"ka"', "150", "50",
                                 "true", '"sentence"', '"error"', '"off"', '["en"]', "-1",
                                 '["pt-BR"]', "{ a = 1 }"])
project_text = st.lists(st.tuples(st.sampled_from(["[project]", "[build]", "[checks]", "[x]", ""]),
                                  st.lists(st.tuples(project_key, project_value), max_size=4)),
                        max_size=4).map(lambda tables: "".join(
                            f"{h}\n" + "".join(f"{k} = {v}\n" for k, v in kv)
                            for h, kv in tables))


@examples(200)
@given(project_text)
def test_random_project_file_loads_or_fails_cleanly(tmp_path: Path, text: str) -> None:
    path = tmp_path / "transflow.toml"
    path.write_text(text, "utf-8")
    try:
        project = read_project(path)
    except ConfigError as e:
        assert e.path is not None and "transflow.toml" in e.format()
        return
    assert project.languages and project.source_language not in project.languages
