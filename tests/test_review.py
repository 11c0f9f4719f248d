"""`transflow review` (SPEC §10): the pure model and renderer, the CLI, incrementality, escaping.

The pages are parsed with lxml (structure, text) here; tests/test_review_browser.py loads them
in headless Chromium (scripts, filters, payloads that would run).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

import polib
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import html as lxml_html

from transflow.cli import main
from transflow.glossary import Glossary
from transflow.inline import unescape_text
from transflow.memo import Memo
from transflow.pofile import parse_entries
from transflow.review.model import entry_status, flatten, review_catalog, word_diff
from transflow.review.render import CSP, SCRIPT, render_article, render_index

REPO = Path(__file__).resolve().parent.parent
PAYLOADS_FILE = REPO / "tests" / "xss" / "payloads.txt"
PAYLOADS = [line for line in PAYLOADS_FILE.read_text("utf-8").splitlines()
            if line and not line.startswith("# ")]
# Aimed at this page: attribute break-outs (tooltips are title=/aria attributes elsewhere),
# the inline script's end tag, links.
EXTRA_PAYLOADS = [
    "\" onmouseover=\"alert(1)\" x=\"",
    "' onfocus='alert(1)' autofocus x='",
    "</script><script>alert(1)</script>",
    "</style><script>alert(1)</script>",
    "javascript:alert(1)",
    "<a1>javascript:alert(1)</a1>",
    "</td></tr></tbody></table><script>alert(1)</script>",
    "</mark><span class=\"tip\" id=\"x\">fake</span>",
    "--><script>alert(1)</script><!--",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
]
ALL_PAYLOADS = PAYLOADS + EXTRA_PAYLOADS

GLOSSARY = Glossary.from_data([
    {"id": "stepanakert", "en": "Stepanakert", "ru": "Степанакерт",
     "note": "House style.", "forbidden": {"ru": ["Ханкенди"]}},
    {"id": "oc-media", "en": "OC Media", "translate": False, "case_sensitive": True},
])
SEVERITIES = {"glossary": "error", "markup": "error", "numbers": "warning",
              "untranslated-copy": "warning", "whitespace": "warning", "plurals": "error"}

PO = """\
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Language: ru\\n"
"Plural-Forms: nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);\\n"

#. h1
#: source/a.html:5
msgid "News from Stepanakert"
msgstr "Новости из Степанакерта"

#. p
#: source/a.html:6
msgid "Read on <a1>OC Media</a1> in Stepanakert"
msgstr "Читайте <a1>OC Media</a1> в Ханкенди"

# checked by the desk
#. p
#, fuzzy
#| msgid "The city had 40 people"
#: source/a.html:7
msgid "The city had 50 people"
msgstr "В городе было 40 человек"

#. li
#: source/a.html:8
msgid "First item"
msgstr ""

#. li
#: source/a.html:9
msgid "Second <strong1>item</strong1>"
msgstr "Второй <strong1 onclick=x>пункт</strong1>"

#~ msgid "Gone"
#~ msgstr "Ушло"
"""


def _review(po_text: str = PO, **kw: Any) -> Any:
    parsed = parse_entries(po_text.encode(), "locales/ru/a.po")
    args: dict[str, Any] = dict(lang="ru", article="a", po_file="locales/ru/a.po",
                                source_language="en", glossary=GLOSSARY,
                                severities=SEVERITIES, include_fuzzy=False, min_complete=0.0,
                                percent=50.0, built=True)
    args.update(kw)
    return review_catalog(parsed.entries, parsed.metadata, **args)


# --- the model --------------------------------------------------------------------------------


def test_rows_in_document_order_with_statuses() -> None:
    review = _review()
    assert [r.source.text for r in review.rows] == [
        "News from Stepanakert", "Read on OC Media in Stepanakert", "The city had 50 people",
        "First item", "Second item"]  # obsolete entries are not part of the article
    assert [r.status for r in review.rows] == [
        "translated", "translated", "fuzzy", "untranslated", "rejected"]
    assert [r.line for r in review.rows] == [9, 14, 22, 27, 32]
    rejected = review.rows[4]
    assert rejected.markup and "not a tag of the source" in rejected.markup[0]
    assert review.rows[2].tcomment == "checked by the desk"
    assert review.rows[2].context == ("p",)


def test_include_fuzzy_changes_what_build_would_publish() -> None:
    assert _review(include_fuzzy=True).rows[2].status == "fuzzy"
    entry = polib.POEntry(msgid="a <b1>x</b1>", msgstr="a <b1 x>", flags=["fuzzy"])
    assert entry_status(entry, include_fuzzy=False)[0] == "fuzzy"
    assert entry_status(entry, include_fuzzy=True)[0] == "rejected"


def test_findings_are_checks_findings_on_their_row() -> None:
    review = _review()
    by_row = {r.line: [(f.check, f.line) for f in r.findings] for r in review.rows}
    assert by_row[14] == [("glossary", 14)]  # forbidden Ханкенди
    assert by_row[32] == [("markup", 32)] * 3  # one per problem, as `check` prints them
    assert by_row[22] == []  # fuzzy entries are not checked, as `check` does
    assert review.findings_by_check["glossary"] == 1


def test_glossary_marks_point_at_the_words() -> None:
    review = _review()
    row = review.rows[0]
    (mark,) = row.source.marks
    assert row.source.text[mark.start:mark.end] == "Stepanakert"
    assert mark.kind == "term" and "Степанакерт" in mark.tip and "House style." in mark.tip
    (label, shown), = row.translations
    (tmark,) = shown.marks
    assert shown.text[tmark.start:tmark.end] == "Степанакерта"  # an inflected form matched
    assert tmark.kind == "match"
    row = review.rows[1]
    kinds = {(row.source.text[m.start:m.end], m.kind) for m in row.source.marks}
    assert ("OC Media", "term") in kinds and ("Stepanakert", "missing") in kinds
    shown = row.translations[0][1]
    tkinds = {(shown.text[m.start:m.end], m.kind) for m in shown.marks}
    assert tkinds == {("OC Media", "match"), ("Ханкенди", "forbidden")}
    # notes: only what the highlights do not say (a found, located term needs none)
    assert [(n.term, n.state, n.source) for n in row.terms] == [
        ("stepanakert", "forbidden", "Ханкенди")]
    assert _review().rows[0].terms == ()


def test_fuzzy_row_has_a_word_diff_of_the_previous_msgid() -> None:
    row = _review().rows[2]
    assert row.previous == (("=", "The city had "), ("-", "40"), ("+", "50"), ("=", " people"))
    assert word_diff("a b", "a b") == (("=", "a b"),)


_DIFF_PIECES = ["a", "b", "ab", " ", "  ", ",", ".", "-", "ü", "ა", "\t", "&amp;", "x1", "_", "\n"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_DIFF_PIECES), max_size=12),
       st.lists(st.sampled_from(_DIFF_PIECES), max_size=12), st.integers(0, 12), st.integers(0, 12))
def test_word_diff_reads_back_as_both_texts(old: list[str], middle: list[str], cut: int,
                                            resume: int) -> None:
    # The kept and removed parts spell the previous English, the kept and added parts the
    # current one, whatever the edit (here: a stretch of the old text replaced), and no part
    # is empty; a change never directly follows a change of the same kind.
    a = "".join(old)
    b = "".join(old[:cut] + middle + old[max(cut, resume):])
    diff = word_diff(a, b)
    assert "".join(t for op, t in diff if op != "+") == unescape_text(a)
    assert "".join(t for op, t in diff if op != "-") == unescape_text(b)
    assert all(t for _, t in diff)
    assert all(x[0] != y[0] for x, y in zip(diff, diff[1:], strict=False))


def test_flatten_keeps_only_notation_tags_as_tags() -> None:
    text, tags = flatten("<b1>x</b1> <script>y</script> &lt;b1&gt; &amp;")
    assert text == "x <script>y</script> <b1> &"
    assert tags == ((0, "<b1>"), (1, "</b1>"))


def test_index_summary_counts() -> None:
    s = _review().summary()
    assert (s["entries"], s["translated"], s["fuzzy"], s["untranslated"]) == (5, 3, 1, 1)
    assert s["rejected"] == 1
    assert s["findings"] == {"glossary": 1, "markup": 3}  # as many as check prints


# --- rendering and escaping -------------------------------------------------------------------


def _doc(page: str) -> Any:
    return lxml_html.document_fromstring(page)


def test_rendered_page_structure() -> None:
    page = render_article(_review())
    doc = _doc(page)
    rows = doc.xpath("//table[@class='units']/tbody/tr")
    assert [r.get("data-status") for r in rows] == [
        "translated", "translated", "fuzzy", "untranslated", "rejected"]
    assert [r.get("data-problem") is not None for r in rows] == [False, True, True, True, True]
    labels = [r.xpath(".//span[contains(@class,'status')]")[0].text_content() for r in rows]
    assert labels == ["translated", "translated", "fuzzy", "untranslated",
                      "rejected by build (markup)"]
    assert rows[0].xpath(".//th//a")[0].text_content() == "locales/ru/a.po:9"  # as check
    # the finding text exactly as check prints it
    findings = [p.text_content() for p in rows[1].xpath(".//p[contains(@class,'finding')]")]
    assert findings == ["locales/ru/a.po:14: error: [glossary] forbidden rendering 'Ханкенди' "
                        "(term stepanakert: use 'Степанакерт')"]
    # diff, tooltips (focusable, described), lang on texts
    assert rows[2].xpath(".//p[@class='diff']//del")[0].text == "40"
    assert rows[2].xpath(".//p[@class='diff']//ins")[0].text == "50"
    mark = rows[0].xpath(".//td[1]//mark")[0]
    assert mark.get("tabindex") == "0"
    tip = doc.get_element_by_id(mark.get("aria-describedby"))
    assert "Степанакерт" in tip.text_content() and tip.get("role") == "tooltip"
    assert rows[0].xpath("./td[1]/div[@class='text']")[0].get("lang") == "en"
    assert rows[0].xpath("./td[2]/div[@class='text']")[0].get("lang") == "ru"
    assert [t.text for t in rows[1].xpath("./td[2]//span[@class='tag']")] == ["<a1>", "</a1>"]
    assert doc.get("lang") == "en"


def test_self_contained_with_csp_hashes() -> None:
    page = render_article(_review())
    doc = _doc(page)
    assert [s.text for s in doc.iter("script")] == [SCRIPT]
    (style,) = list(doc.iter("style"))
    csp = doc.xpath("//meta[@http-equiv='Content-Security-Policy']")[0].get("content")
    assert csp == CSP and "default-src 'none'" in csp

    def sha(text: str) -> str:
        return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()

    assert f"'sha256-{sha(style.text)}'" in csp and f"'sha256-{sha(SCRIPT)}'" in csp
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # nothing from the network
    assert "@media print" in page and "Noto Sans Georgian" in page
    assert "style=" not in page  # no inline style attributes (the CSP would refuse them)


ALLOWED_TAGS = {"html", "head", "meta", "title", "style", "body", "header", "p", "a", "h1",
                "small", "span", "div", "svg", "rect", "ul", "li", "fieldset", "legend",
                "label", "input", "main", "table", "thead", "tbody", "tr", "th", "td", "mark",
                "del", "ins", "br", "code", "footer", "script", "b", "button"}


def _hostile_po(payloads: list[str]) -> str:
    out = [PO.split("#. h1")[0]]
    for i, p in enumerate(payloads):
        q = p.replace("\\", "\\\\").replace('"', '\\"')
        out.append(f'# {q.replace(chr(10), " ")}\n#. {q}\n#, fuzzy\n#| msgid "{q} Stepanakert"\n'
                   f'#: source/a.html:{i + 1}\nmsgctxt "{q}"\nmsgid "Unit {i} in Stepanakert"\n'
                   f'msgstr "{q}"\n\n')
        out.append(f'#: source/a.html:{i + 1}\nmsgid "Other {i} in Stepanakert"\nmsgstr "{q}"\n\n')
    return "".join(out)


def test_hostile_payloads_are_text_and_change_no_structure() -> None:
    review = _review(_hostile_po(ALL_PAYLOADS))
    page = render_article(review)
    doc = _doc(page)
    tags = {el.tag for el in doc.iter() if isinstance(el.tag, str)}
    assert tags <= ALLOWED_TAGS, tags - ALLOWED_TAGS
    assert [s.text for s in doc.iter("script")] == [SCRIPT]
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        for name, value in el.attrib.items():
            assert not name.lower().startswith("on"), (el.tag, name)
            if name == "href":
                assert not re.sub(r"[\x00-\x20]", "", value).lower().startswith(
                    ("javascript:", "data:", "vbscript:")), value
    rows = doc.xpath("//table[@class='units']/tbody/tr")
    assert len(rows) == 2 * len(ALL_PAYLOADS)
    for row, entry_row in zip(rows, review.rows, strict=True):
        assert len(row.xpath("./th")) == 1 and len(row.xpath("./td")) == 2
        # what the translator wrote is on the page as text (tags as badges, entities read)
        shown = row.xpath("./td[2]/div[@class='text']")[0].text_content()
        assert shown == _with_tags(entry_row.translations[0][1])


def _with_tags(shown: Any) -> str:
    """The displayed text with the light tags' badges where they stand."""
    out, pos = [], 0
    for at, tag in shown.tags:
        out += [shown.text[pos:at], tag]
        pos = at
    return "".join(out) + shown.text[pos:]


def test_hostile_glossary_and_file_names_are_escaped() -> None:
    glossary = Glossary.from_data([{"id": "x", "en": "Stepanakert", "ru": "Степанакерт",
                                    "note": "\"><script>alert(1)</script>"}])
    review = _review(glossary=glossary, article="javascript:alert(1)/\"><b>")
    page = render_article(review)
    doc = _doc(page)
    assert [s.text for s in doc.iter("script")] == [SCRIPT]
    assert not list(doc.iter("b"))
    tips = [t.text_content() for t in doc.xpath("//span[@role='tooltip']")]
    assert any("\"><script>alert(1)</script>" in t for t in tips)
    index = render_index([review.summary()], {("ru", review.article): True}, ["ru"])
    idoc = _doc(index)
    hrefs = [a.get("href") for a in idoc.iter("a")]
    assert hrefs and all(not h.startswith("javascript") and '"' not in h for h in hrefs), hrefs
    assert [s.text for s in idoc.iter("script")] == [SCRIPT]


def test_index_default_order_is_most_work_left_first() -> None:
    def summary(article: str, untranslated: int, findings: int) -> dict[str, Any]:
        return {"article": article, "lang": "ru", "po_file": f"locales/ru/{article}.po",
                "words": {"total": 100, "translated": 100 - untranslated, "fuzzy": 0,
                          "untranslated": untranslated},
                "percent": 100.0 - untranslated, "min_complete": 50.0, "rejected": 0,
                "findings": {"glossary": findings} if findings else {}}

    page = render_index([summary("a", 10, 0), summary("b", 80, 0), summary("c", 10, 3)],
                        {("ru", "a"): True, ("ru", "c"): True}, ["ru"])
    doc = _doc(page)
    rows = doc.xpath("//tbody/tr")
    assert [r.get("data-article") for r in rows] == ["b", "c", "a"]
    assert "skipped by build: 20% < min_complete 50%" in rows[0].text_content()
    assert rows[1].xpath(".//a[@class='built']")[0].get("href") == "../ru/c.html"
    assert rows[0].xpath(".//a")[0].get("href") == "ru/b.html"


# --- the command ------------------------------------------------------------------------------


@pytest.fixture
def newsroom(tmp_path: Path) -> Path:
    root = tmp_path / "news"
    root.mkdir()
    for name in ("transflow.toml", "glossary.toml"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "source", root / "source")
    shutil.copytree(REPO / "locales", root / "locales")
    return root


def _run(root: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["-C", str(root), *args])


def _pages(root: Path) -> dict[str, bytes]:
    base = root / "build" / "review"
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in sorted(base.rglob("*.html"))}


def test_cli_writes_every_page_and_is_incremental(newsroom: Path) -> None:
    result = _run(newsroom, "review")
    assert result.exit_code == 0, result.output
    assert "10 pages written, 0 up to date" in result.output
    pages = _pages(newsroom)
    assert sorted(pages) == ["index.html"] + [f"{lang}/{slug}.html" for lang in ("ka", "ru")
                                              for slug in sorted(p.stem for p in
                                                                 (newsroom / "source").iterdir())]
    stamps = {p: (newsroom / "build/review" / p).stat().st_mtime_ns for p in pages}
    result = _run(newsroom, "review")
    assert "0 pages written, 10 up to date" in result.output, result.output
    assert {p: (newsroom / "build/review" / p).stat().st_mtime_ns for p in pages} == stamps
    # a deleted page or index comes back, nothing else is touched
    (newsroom / "build/review/index.html").unlink()
    (newsroom / "build/review/ka/goris-three-years-on.html").unlink()
    assert "1 page written, 9 up to date" in _run(newsroom, "review").output
    assert _pages(newsroom) == pages
    # one catalogue changes: only its page is rewritten
    po = newsroom / "locales" / "ru" / "goris-three-years-on.po"
    po.write_text(po.read_text("utf-8").replace("Главное меню", "Меню"), "utf-8")
    result = _run(newsroom, "-v", "review")
    assert "1 page written, 9 up to date" in result.output, result.output
    assert "wrote build/review/ru/goris-three-years-on.html" in result.output
    assert "Меню" in (newsroom / "build/review/ru/goris-three-years-on.html").read_text("utf-8")
    # the glossary changes: every page is rewritten
    g = newsroom / "glossary.toml"
    g.write_text(g.read_text("utf-8") + "\n", "utf-8")
    assert "10 pages written" in _run(newsroom, "review").output


def test_cli_is_deterministic_and_survives_a_damaged_manifest(newsroom: Path) -> None:
    assert _run(newsroom, "review").exit_code == 0
    first = _pages(newsroom)
    manifest = newsroom / "build" / ".cache" / "review.json"
    json.loads(manifest.read_text("utf-8"))
    manifest.write_text('{"format": 1, "pages": ', "utf-8")
    result = _run(newsroom, "review")
    assert result.exit_code == 0 and "10 pages written" in result.output, result.output
    assert _pages(newsroom) == first
    assert _run(newsroom, "review", "--force").exit_code == 0
    assert _pages(newsroom) == first


def test_cli_cold_run_keys_pages_by_the_bytes_the_workers_read(newsroom: Path) -> None:
    # A page without a record is keyed by the worker from the bytes it reads: the manifest
    # records each input as the next run's hasher would, and that run finds every page current.
    past = time.time() - 3600  # (files modified just now are racy: not recorded)
    inputs = [*newsroom.glob("locales/*/*.po"), *newsroom.glob("source/*.html")]
    for path in inputs:
        os.utime(path, (past, past))
    assert _run(newsroom, "review").exit_code == 0
    files = json.loads((newsroom / "build/.cache/review.json").read_text("utf-8"))["files"]
    for path in inputs:
        st = path.stat()
        assert files[path.relative_to(newsroom).as_posix()] == [
            st.st_mtime_ns, st.st_size, hashlib.sha256(path.read_bytes()).hexdigest()]
    assert "0 pages written, 10 up to date" in _run(newsroom, "review").output
    # a catalogue that became a folder: one line, exit 2, also when its page is rewritten
    po = newsroom / "locales" / "ru" / "goris-three-years-on.po"
    po.unlink()
    po.mkdir()
    shutil.rmtree(newsroom / "build" / "review")
    result = _run(newsroom, "review")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "locales/ru/goris-three-years-on.po: is a folder, not a PO file" in result.output


def test_cli_findings_are_the_lines_check_prints(newsroom: Path) -> None:
    po = newsroom / "locales" / "ru" / "goris-three-years-on.po"
    text = po.read_text("utf-8").replace("в Горисе", "в Гори").replace("Главное меню",
                                                                         "Главное  меню")
    po.write_text(text, "utf-8")
    check = _run(newsroom, "check", "--lang", "ru", "goris-three-years-on")
    lines = [line for line in check.output.splitlines() if line.startswith("locales/")]
    assert len(lines) >= 2, check.output
    assert _run(newsroom, "review", "--lang", "ru", "goris-three-years-on").exit_code == 0
    doc = lxml_html.parse(str(newsroom / "build/review/ru/goris-three-years-on.html"))
    shown = [p.text_content() for p in doc.xpath("//p[contains(@class,'finding')]")]
    assert shown == lines
    for line in lines:  # each on the row of its PO line
        where = line.split(": ", 1)[0]
        row = doc.xpath(f"//tr[.//th//a[string(.)='{where}']]")[0]
        assert line in [p.text_content() for p in row.xpath(".//p[contains(@class,'finding')]")]


def test_cli_style_findings_with_the_glossary_check_off(newsroom: Path) -> None:
    """With `glossary = "off"` the glossary file still holds the house-style rules: review
    loads it as check does and shows the same style finding."""
    config = newsroom / "transflow.toml"
    config.write_text(config.read_text("utf-8").replace('glossary = "error"', 'glossary = "off"'),
                      "utf-8")
    po = newsroom / "locales" / "ru" / "goris-three-years-on.po"
    po.write_text(po.read_text("utf-8").replace("в Степанакерте", "в де-факто Степанакерте"),
                  "utf-8")
    check = _run(newsroom, "check", "--lang", "ru", "goris-three-years-on")
    lines = [line for line in check.output.splitlines() if "[style]" in line]
    assert len(lines) == 1, check.output
    assert _run(newsroom, "review", "--lang", "ru", "goris-three-years-on").exit_code == 0
    doc = lxml_html.parse(str(newsroom / "build/review/ru/goris-three-years-on.html"))
    shown = [p.text_content() for p in doc.xpath("//p[contains(@class,'finding')]")]
    assert lines[0] in shown


def test_cli_only_selected_language_and_index_lists_earlier_pages(newsroom: Path) -> None:
    result = _run(newsroom, "review", "--lang", "ru")
    assert "5 pages written" in result.output
    assert not (newsroom / "build/review/ka").exists()
    _run(newsroom, "review", "--lang", "ka", "goris-three-years-on")
    index = lxml_html.parse(str(newsroom / "build/review/index.html"))
    assert len(index.xpath("//tbody/tr")) == 6


def test_cli_skipped_under_min_complete(newsroom: Path) -> None:
    cfg = newsroom / "transflow.toml"
    cfg.write_text(cfg.read_text("utf-8").replace("min_complete = 0", "min_complete = 90"))
    assert _run(newsroom, "review").exit_code == 0
    index = (newsroom / "build/review/index.html").read_text("utf-8")
    doc = _doc(index)
    row = doc.xpath("//tbody/tr[@data-article='sadakhlo-market-traders']")[0]
    assert "skipped by build" in row.text_content()
    row = doc.xpath("//tbody/tr[@data-article='goris-three-years-on']")[0]
    assert "not built yet" in row.text_content()
    assert _run(newsroom, "build").exit_code == 0
    assert _run(newsroom, "review").exit_code == 0
    doc = _doc((newsroom / "build/review/index.html").read_text("utf-8"))
    row = doc.xpath("//tbody/tr[@data-article='goris-three-years-on']")[0]
    assert row.xpath(".//a[@class='built']")
    assert (newsroom / "build/review" / row.xpath(".//a[@class='built']")[0].get("href")).is_file()
    row = doc.xpath("//tbody/tr[@data-article='sadakhlo-market-traders']")[0]
    assert "skipped by build" in row.text_content()


def test_cli_removed_article_loses_its_page(newsroom: Path) -> None:
    assert _run(newsroom, "review").exit_code == 0
    (newsroom / "source" / "goris-three-years-on.html").unlink()
    result = _run(newsroom, "-v", "review")
    assert result.exit_code == 0, result.output
    assert not (newsroom / "build/review/ru/goris-three-years-on.html").exists()
    assert "goris-three-years-on" not in (newsroom / "build/review/index.html").read_text()


def test_cli_bad_catalogue_is_one_line_exit_2(newsroom: Path) -> None:
    po = newsroom / "locales" / "ru" / "goris-three-years-on.po"
    po.write_text(po.read_text("utf-8") + '\nmsgid "unterminated\n', "utf-8")
    result = _run(newsroom, "review")
    assert result.exit_code == 2
    assert re.match(r"transflow: locales/ru/goris-three-years-on\.po:\d+: ", result.output)
    assert "Traceback" not in result.output
    assert _run(newsroom, "review", "--lang", "de").exit_code == 2


def test_says_where_the_matcher_cannot_point_at_the_words() -> None:
    # `&shy;` is an entity only for the matcher (glossary.plain_text reads every entity); the
    # page shows it as written, so the matched word has no place on the page to highlight.
    po = PO.replace('msgstr "Новости из Степанакерта"', 'msgstr "Новости из Степана&shy;керта"')
    row = _review(po).rows[0]
    assert row.findings == ()  # the matcher found the term
    shown = row.translations[0][1]
    assert shown.text == "Новости из Степана&shy;керта" and shown.marks == ()
    (note,) = row.terms
    assert (note.term, note.state, note.pointed) == ("stepanakert", "found", False)
    page = render_article(_review(po))
    assert "the matcher found it but cannot point at the words here" in page


def test_plural_entry_shows_every_form() -> None:
    po = PO.replace("#~ msgid", '''#: source/a.html:10
msgid "%d day in Stepanakert"
msgid_plural "%d days in Stepanakert"
msgstr[0] "%d день в Степанакерте"
msgstr[1] "%d дня в Степанакерте"
msgstr[2] ""

#~ msgid''')
    row = _review(po).rows[-1]
    assert row.status == "translated"  # msgfmt's rule: the first form decides
    assert [label for label, _ in row.translations] == ["msgstr[0]", "msgstr[1]", "msgstr[2]"]
    assert row.source.text == "%d day in Stepanakert | %d days in Stepanakert"
    assert [row.source.text[m.start:m.end] for m in row.source.marks] == ["Stepanakert"] * 2
    assert [[s.text[m.start:m.end] for m in s.marks] for _, s in row.translations] == [
        ["Степанакерте"], ["Степанакерте"], []]
    assert [f.check for f in row.findings] == ["plurals"]  # the empty form, as check says
    doc = _doc(render_article(_review(po)))
    cell = doc.xpath("//tbody/tr")[-1].xpath("./td[2]")[0]
    assert [s.text for s in cell.xpath("./span[@class='label']")] == [
        "msgstr[0]", "msgstr[1]", "msgstr[2]"]


def test_fuzzy_row_whose_english_did_not_change_says_so() -> None:
    po = PO.replace('#| msgid "The city had 40 people"',
                    '#| msgctxt "old <b>"\n#| msgid "The city had 50 people"')
    row = _review(po).rows[2]
    assert row.previous == (("=", "The city had 50 people"),)
    assert row.previous_msgctxt == "old <b>"
    doc = _doc(render_article(_review(po)))
    diff = doc.xpath("//tbody/tr")[2].xpath(".//p[@class='diff']")[0]
    assert "The English is unchanged" in diff.text_content()
    assert "#| msgctxt “old <b>” → (none)" in diff.text_content()
    assert not diff.xpath(".//del|.//ins|.//b")


def test_other_code_rewrites_every_page(newsroom: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The key is the fingerprint of every file of the package: a hand-kept list of files once
    # lost `build.py` when it became the `build/` package, and pages would have stayed stale.
    assert "10 pages written" in _run(newsroom, "review").output
    assert "0 pages written, 10 up to date" in _run(newsroom, "review").output
    monkeypatch.setattr("transflow.cachekey.code_fingerprint", lambda: "another transflow")
    assert "10 pages written" in _run(newsroom, "review").output


def test_percentage_is_builds(newsroom: Path) -> None:
    # review counts build's percentage itself (remembering each msgid's words): the same figure
    from transflow.build.catalogs import catalog_percent
    from transflow.review import _catalog_percent

    catalogues = sorted(newsroom.glob("locales/*/*.po"))
    corpus = REPO / "../shared/corpus"
    if corpus.is_dir():
        catalogues += sorted(corpus.rglob("*.po"))[:300]
    assert catalogues
    for po in catalogues * 2:  # the second time from the memo
        entries = parse_entries(po.read_bytes(), po).entries
        for include_fuzzy in (False, True):
            assert _catalog_percent(entries, include_fuzzy) == catalog_percent(
                entries, include_fuzzy), po


def test_memo_is_bounded_and_keeps_what_recurs() -> None:
    memo: Memo[str, int] = Memo(100)
    for n in range(10_000):
        key = f"once {n}"
        assert memo.get(key) is None and memo.recall(key) is None
        memo.put(key, n)
        if n % 10 == 0:  # the menu, on every page
            if memo.get("menu") is None and memo.recall("menu") is None:
                memo.put("menu", -1)
        assert len(memo) <= 100 and len(memo._previous) <= 100
    assert memo.get("menu") == -1 or memo.recall("menu") == -1
    assert memo.recall("once 0") is None
