"""Build: faithful reassembly, fallbacks, hostile translations, dates, hreflang, incrementality."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import polib
import pytest
from click.testing import CliRunner
from lxml import etree
from lxml import html as lxml_html

from transflow.build import PageSettings, Translation, build_project, make_template, render_page
from transflow.cli import main
from transflow.inline import parse_notation, render_notation
from transflow.project import read_project
from transflow.segment import decode_html, extract_segments

from .conftest import corpus_html_pages, needs_corpus
from .htmlcompare import dom_tokens

P = Path("source/a.html")


# --- helpers ------------------------------------------------------------------------------

def pseudo(msgid: str) -> str:
    """Wrap every text run in ⟦…⟧, keeping the tags: a translation that changes every word."""
    def walk(nodes: list | tuple) -> list:
        out: list = []
        for n in nodes:
            if isinstance(n, str):
                out.append(f"⟦{n}⟧" if n.strip() else n)
            else:
                out.append(type(n)(n.key, n.void, tuple(walk(n.children))))
        return out
    return render_notation(walk(parse_notation(msgid)))


def build_one(html: str | bytes, translate: Callable[[str], str | None], lang: str = "ka",
              ) -> tuple[str, object]:
    data = html.encode("utf-8") if isinstance(html, str) else html
    template = make_template(data, P)
    lookup = {}
    for unit in template.units:
        msgstr = translate(unit.msgid)
        if msgstr is not None:
            lookup[unit.msgid] = Translation(msgstr, 7)
    return render_page(template, PageSettings(lang, "en", (("en", "a.html"),)), lookup, "a.po")


def parse(html: str) -> etree._Element:
    return etree.fromstring(html.encode("utf-8"), lxml_html.HTMLParser(encoding="utf-8"))


def page(body: str, head: str = "<title>Title</title>") -> str:
    return f"<!DOCTYPE html><html lang=en><head>{head}</head><body>{body}</body></html>"


# --- the corpus ---------------------------------------------------------------------------

@needs_corpus
def test_identity_round_trip_on_every_corpus_page() -> None:
    """msgstr == msgid through the full tag-parse/rebuild path: the same DOM on all 54 pages.

    There is no "unchanged translation → keep the nodes" shortcut in build: every unit is
    re-rendered from the parsed notation of its msgstr.
    """
    equal = []
    for path in corpus_html_pages():
        data = path.read_bytes()
        html, stats = build_one(data, lambda m: m)
        assert stats.fallbacks == 0 and not stats.warnings, path.name
        if dom_tokens(html.encode("utf-8")) == dom_tokens(decode_html(data, path)):
            equal.append(path.name)
    assert len(equal) == 54, sorted({p.name for p in corpus_html_pages()} - set(equal))


@needs_corpus
def test_source_page_round_trip_on_every_corpus_page() -> None:
    for path in corpus_html_pages():
        data = path.read_bytes()
        html, _ = render_page(make_template(data, path), PageSettings("en", "en"))
        assert dom_tokens(html.encode("utf-8")) == dom_tokens(decode_html(data, path)), path.name


_PSEUDO_RE = re.compile(r"⟦[^⟧]*⟧")


@needs_corpus
def test_pseudo_translation_reaches_every_unit_on_every_corpus_page() -> None:
    for path in corpus_html_pages():
        html, stats = build_one(path.read_bytes(), pseudo)
        assert stats.fallbacks == 0 and not stats.warnings, path.name
        parse(html)  # still HTML
        for seg in extract_segments(html.encode("utf-8"), path):
            plain = re.sub(r"</?[a-z-]+\d+/?>", "", seg.msgid)
            left = _PSEUDO_RE.sub("", plain)
            assert not re.search(r"\w", left), (path.name, seg)


# --- reassembly ---------------------------------------------------------------------------

def test_translation_replaces_units_and_keeps_everything_else() -> None:
    src = page("<!-- c1 --><p class=lead>Read <a href='/x?a=1&amp;b=2' data-j='{\"k\": \"<v>\"}'>"
               "this</a> now</p><script>if (a < b && c) {}</script><noembed><b>raw</b> &amp;</noembed>"
               "<div>Loose <b>text</b><p>Inner</p></div>",
               "<title>Title</title><meta name=description content='Say \"hi\"'>")
    html, stats = build_one(src, lambda m: {"Read <a1>this</a1> now": "<a1>ეს</a1> წაიკითხეთ",
                                            "Title": "სათაური", "Say \"hi\"": "თქვით \"გამარჯობა\"",
                                            "Loose <b1>text</b1>": "<b1>ტექსტი</b1>",
                                            "Inner": "შიდა"}.get(m))
    assert stats.fallbacks == 0
    root = parse(html)
    p = root.find(".//p")
    assert p.get("class") == "lead" and p.text_content() == "ეს წაიკითხეთ"
    a = p.find("a")
    assert a.get("href") == "/x?a=1&b=2" and a.get("data-j") == '{"k": "<v>"}'
    assert root.find(".//script").text == "if (a < b && c) {}"
    assert root.find(".//noembed").text == "<b>raw</b> &amp;"
    assert root.find(".//meta[@name='description']").get("content") == 'თქვით "გამარჯობა"'
    assert root.findtext(".//title") == "სათაური"
    assert root.xpath("//comment()")[0].text == " c1 "
    div = root.find(".//div")
    assert div.text is None and div.find("b").text == "ტექსტი" and div.find("p").text == "შიდა"


def test_tags_may_be_reordered() -> None:
    src = page("<p>Read <em class=e>more</em> on <a href='/oc'>OC Media</a></p>")
    html, stats = build_one(src, lambda m: "<a1>OC Media</a1>-ზე <em1>მეტი</em1> წაიკითხეთ"
                            if m.startswith("Read") else m)
    p = parse(html).find(".//p")
    assert [c.tag for c in p] == ["a", "em"]
    assert p[0].get("href") == "/oc" and p[1].get("class") == "e"
    assert p.text_content() == "OC Media-ზე მეტი წაიკითხეთ" and stats.fallbacks == 0


def test_comments_inside_text_survive_translation() -> None:
    src = page("<p><!-- start -->Hello <b>big</b> world<!-- end --></p>")
    html, _ = build_one(src, lambda m: "გამარჯობა <b1>დიდო</b1> სამყარო" if "big" in m else m)
    p = parse(html).find(".//p")
    assert [c.text for c in p.xpath("comment()")] == [" start ", " end "]
    assert etree.tostring(p, encoding="unicode").startswith("<p><!-- start -->")
    assert p.text_content() == "გამარჯობა დიდო სამყარო"


def test_untranslated_and_fuzzy_fall_back_marked_lang_en() -> None:
    src = page("<p>One</p><p lang=en-GB>Two</p><div>Loose <b>run</b><p>Three</p></div>")
    html, stats = build_one(src, lambda m: {"Three": "სამი"}.get(m))
    root = parse(html)
    ps = root.findall(".//p")
    assert ps[0].get("lang") == "en" and ps[0].text == "One"
    assert ps[1].get("lang") == "en-GB"
    span = root.find(".//div/span")
    assert span.get("lang") == "en" and span.text_content() == "Loose run"
    assert ps[2].get("lang") is None and ps[2].text == "სამი"
    assert stats.fallbacks == 4  # One, Two, the loose run, the title


def test_translated_unit_with_its_own_lang_gets_the_target() -> None:
    html, _ = build_one(page("<p lang=en>One</p>"), lambda m: "ერთი" if m == "One" else m)
    assert parse(html).find(".//p").get("lang") == "ka"


HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<a1 href=\"javascript:alert(1)\">OC Media</a1>",
    "<a1 onclick=alert(1)>OC Media</a1>",
    "<a1>OC Media</a1><a2>again</a2>",
    "<a1>OC Media</a1><a1>dup</a1>",
    "<a1>OC Media</a1><!-- <script>alert(1)</script> -->",
    "<a1>OC Media</a1><svg onload=alert(1)>",
    "<a1>OC Media</a1></p><script>alert(1)</script><p>",
    "<a1>OC Media</a1><iframe src=//evil>",
    "<a1>OC Media<b1>x</b1></a1>",
    "<a1>OC Media</a1><style>body{display:none}</style>",
    "<a1>OC Media</a1>&lt;script&gt;alert(1)&lt;/script&gt;",
]


@pytest.mark.parametrize("evil", HOSTILE)
def test_hostile_translation_cannot_create_markup(evil: str) -> None:
    src = page("<p>Read on <a href='/oc'>OC Media</a></p>")
    html, stats = build_one(src, lambda m: evil if m.startswith("Read") else None)
    root = parse(html)
    assert not root.xpath("//script|//iframe|//svg|//style|//img")
    assert not [a for el in root.iter() if isinstance(el.tag, str) for a in el.attrib
                if a.startswith("on")]
    links = root.findall(".//a")
    assert len(links) == 1 and links[0].attrib == {"href": "/oc"}
    assert len(root.xpath("//comment()")) == 0
    if "&lt;script" in evil:  # valid tags; the escaped text stays text
        assert stats.fallbacks == 1 and "<script>" in root.find(".//p").text_content()
    else:
        assert any("a.po:7: markup:" in w for w in stats.warnings), stats.warnings
        assert root.find(".//p").get("lang") == "en"


@pytest.mark.parametrize("evil", ['" onmouseover="alert(1)', "'><script>alert(1)</script>",
                                  "x\" data-x=\"y", "<b1>x</b1>"])
def test_attribute_translations_are_attribute_text(evil: str) -> None:
    src = page("<img src=a.png alt='A photo'>", "<meta name=description content='Desc'>")
    html, stats = build_one(src, lambda m: evil)
    root = parse(html)
    img, meta = root.find(".//img"), root.find(".//meta[@name='description']")
    assert set(img.attrib) == {"src", "alt"} and set(meta.attrib) == {"name", "content"}
    assert not root.xpath("//script")
    if "<" in evil:  # markup in an attribute translation is rejected like any other
        assert img.get("alt") == "A photo" and stats.warnings
    else:
        assert img.get("alt") == evil and meta.get("content") == evil


def test_dates_in_ka_and_ru() -> None:
    src = page("<p>Published <time datetime='2023-04-05'>April 5, 2023</time></p>"
               "<time datetime='2023-04-05T10:30:00+04:00'>April 5, 2023 at 10:30 AM</time>"
               "<time datetime='not a date'>soon</time>")
    for lang, date, both in [("ru", "5 апреля 2023 г.", "5 апреля 2023 г., 10:30"),
                             ("ka", "5 აპრილი, 2023", "5 აპრილი, 2023, 10:30")]:
        html, _ = build_one(src, lambda m: "Опубликовано <time1/>" if m.startswith("Pub") else None,
                            lang=lang)
        times = [t.text.replace("\u202f", " ") for t in parse(html).iter("time")]
        assert times == [date, both, "soon"], lang


def test_html_lang_dir_og_locale_and_hreflang(tmp_path: Path) -> None:
    proj = make_project(tmp_path, languages=("ka", "ar"))
    report = build_project(proj, ["ka", "ar"], ["a", "news/b"])
    assert report.count("built") == 6
    root = parse((tmp_path / "build/ar/news/b.html").read_text("utf-8"))
    assert root.get("lang") == "ar" and root.get("dir") == "rtl"
    links = {ln.get("hreflang"): ln.get("href") for ln in root.iter("link")}
    assert links == {"en": "../../en/news/b.html", "ka": "../../ka/news/b.html",
                     "ar": "b.html", "x-default": "../../en/news/b.html"}
    ka = parse((tmp_path / "build/ka/a.html").read_text("utf-8"))
    assert ka.get("lang") == "ka" and ka.get("dir") is None
    assert ka.find(".//meta[@property='og:locale']").get("content") == "ka_GE"
    en = parse((tmp_path / "build/en/a.html").read_text("utf-8"))
    assert en.find(".//meta[@property='og:locale']").get("content") == "en_US"
    # The source's own alternate (fr) is kept beside the built versions (SPEC §7).
    assert {ln.get("hreflang") for ln in en.iter("link")} == {"fr", "en", "ka", "ar", "x-default"}
    # og:locale is added where the source has Open Graph tags but none.
    html, _ = build_one(page("", "<meta property='og:title' content='T'>"), lambda m: None, "ru")
    assert parse(html).find(".//meta[@property='og:locale']").get("content") == "ru_RU"


# --- the project build --------------------------------------------------------------------

SOURCE_A = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Shusha today</title>
<meta property="og:locale" content="en_US">
<link rel="alternate" hreflang="fr" href="https://example.com/fr/a"></head>
<body><h1>Shusha today</h1><p>Read on <a href="/oc">OC Media</a>.</p><p>Second paragraph.</p>
<p>Third one, a longer paragraph with more words in it.</p></body></html>
"""
SOURCE_B = "<html><head><title>B page</title></head><body><p>Only one.</p></body></html>"
KA = {"Shusha today": "შუშა დღეს", "Read on <a1>OC Media</a1>.": "<a1>OC Media</a1>-ზე.",
      "Second paragraph.": "მეორე აბზაცი.", "B page": "B გვერდი", "Only one.": "მხოლოდ ერთი."}


def write_po(path: Path, html: str, translations: dict[str, str], lang: str,
             fuzzy: tuple[str, ...] = ()) -> None:
    po = polib.POFile(wrapwidth=79)
    po.metadata = {"Language": lang, "Content-Type": "text/plain; charset=UTF-8",
                   "MIME-Version": "1.0", "Content-Transfer-Encoding": "8bit"}
    seen = set()
    for seg in extract_segments(html.encode("utf-8"), P):
        if seg.msgid in seen:
            continue
        seen.add(seg.msgid)
        entry = polib.POEntry(msgid=seg.msgid, msgstr=translations.get(seg.msgid, ""))
        if seg.msgid in fuzzy:
            entry.flags.append("fuzzy")
        po.append(entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    po.save(str(path))


def make_project(tmp_path: Path, languages: tuple[str, ...] = ("ka", "ru"), extra: str = ""):
    langs = ", ".join(f'"{lang}"' for lang in languages)
    (tmp_path / "transflow.toml").write_text(f"[project]\nlanguages = [{langs}]\n{extra}")
    (tmp_path / "source/news").mkdir(parents=True)
    (tmp_path / "source/a.html").write_text(SOURCE_A)
    (tmp_path / "source/news/b.html").write_text(SOURCE_B)
    for lang in languages:
        write_po(tmp_path / f"locales/{lang}/a.po", SOURCE_A, KA, lang)
        write_po(tmp_path / f"locales/{lang}/news/b.po", SOURCE_B, KA, lang)
    return read_project(tmp_path / "transflow.toml")


def test_build_project_writes_every_version(tmp_path: Path) -> None:
    proj = make_project(tmp_path)
    report = build_project(proj, ["ka", "ru"], ["a", "news/b"])
    assert report.count("built") == 6 and report.incomplete  # "Third one" fell back
    ka = (tmp_path / "build/ka/a.html").read_text("utf-8")
    assert "<a href=\"/oc\">OC Media</a>-ზე." in ka
    assert 'hreflang="fr" href="https://example.com/fr/a"' in ka  # the source's own is kept
    assert '<p lang="en">Third one' in ka
    en = (tmp_path / "build/en/a.html").read_bytes()
    assert dom_tokens(en) == dom_tokens(SOURCE_A.encode())
    assert "Built 6 pages, 0 up to date" in report.summary()
    assert any("build/ka/a.html: built" in line for line in report.detail_lines())


def test_min_complete_skips_and_reports(tmp_path: Path) -> None:
    proj = make_project(tmp_path)
    report = build_project(proj, ["ka", "ru"], ["a", "news/b"], min_complete=90)
    skipped = [p for p in report.pages if p.status == "skipped"]
    assert {(p.lang, p.article) for p in skipped} == {("ka", "a"), ("ru", "a")}
    assert any("build/ka/a.html: skipped" in w and "under min_complete 90%" in w
               for w in report.warning_lines())
    assert not (tmp_path / "build/ka/a.html").exists()
    assert report.incomplete
    en = parse((tmp_path / "build/en/a.html").read_text("utf-8"))
    assert {ln.get("hreflang") for ln in en.iter("link")} == {"fr", "en", "x-default"}


def test_fuzzy_entries_only_with_include_fuzzy(tmp_path: Path) -> None:
    proj = make_project(tmp_path, languages=("ka",))
    write_po(tmp_path / "locales/ka/news/b.po", SOURCE_B, KA, "ka", fuzzy=("Only one.",))
    build_project(proj, ["ka"], ["news/b"])
    assert '<p lang="en">Only one.</p>' in (tmp_path / "build/ka/news/b.html").read_text("utf-8")
    build_project(proj, ["ka"], ["news/b"], include_fuzzy=True)
    assert "<p>მხოლოდ ერთი.</p>" in (tmp_path / "build/ka/news/b.html").read_text("utf-8")


def test_incremental_builds(tmp_path: Path) -> None:
    proj = make_project(tmp_path)
    build_project(proj, ["ka", "ru"], ["a", "news/b"])
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "build").rglob("*.html")}
    second = build_project(proj, ["ka", "ru"], ["a", "news/b"])
    assert second.count("built") == 0 and second.count("up to date") == 6
    assert second.incomplete  # fallbacks remembered from the manifest
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "build").rglob("*.html")} == stamps
    write_po(tmp_path / "locales/ru/a.po", SOURCE_A, {**KA, "Third one, a longer paragraph with "
                                                      "more words in it.": "Третий."}, "ru")
    third = build_project(proj, ["ka", "ru"], ["a", "news/b"])
    assert [(p.lang, p.article) for p in third.pages if p.status == "built"] == [("ru", "a")]
    forced = build_project(proj, ["ka", "ru"], ["a", "news/b"], force=True)
    assert forced.count("built") == 6
    # Deterministic: a forced rebuild writes the same bytes.
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "build").rglob("*.html")
            if "ru/a" not in str(p)} == {p: s for p, s in stamps.items() if "ru/a" not in str(p)}


def test_a_changed_transflow_rebuilds_every_page(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages built by other code are not "up to date": the manifest and the template cache
    are keyed by the fingerprint of transflow's code, not only by its version string."""
    import transflow.build.caches as caches_mod
    import transflow.build.project as project_mod

    proj = make_project(tmp_path)
    build_project(proj, ["ka", "ru"], ["a", "news/b"])
    assert build_project(proj, ["ka", "ru"], ["a", "news/b"]).count("up to date") == 6
    for module in (caches_mod, project_mod):
        monkeypatch.setattr(module, "code_fingerprint", lambda: "another transflow")
    again = build_project(proj, ["ka", "ru"], ["a", "news/b"])
    assert again.count("built") == 6 and again.count("up to date") == 0


def test_cli_build_strict_exit_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(main, ["build"])
    assert result.exit_code == 0, result.output
    assert "Built 6 pages" in result.output
    result = runner.invoke(main, ["build", "--strict"])
    assert result.exit_code == 1 and "0 up to date" not in result.output


def test_worker_processes_build_the_same_pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import transflow.build.project as build_mod

    proj = make_project(tmp_path)
    serial = build_project(proj, ["ka", "ru"], ["a", "news/b"], jobs=1)
    outputs = {p: p.read_bytes() for p in (tmp_path / "build").rglob("*.html")}
    monkeypatch.setattr(build_mod, "PARALLEL_MIN_ARTICLES", 1)
    parallel = build_project(proj, ["ka", "ru"], ["a", "news/b"], jobs=2, force=True)
    assert [(p.lang, p.article, p.fallbacks) for p in parallel.pages] == \
        [(p.lang, p.article, p.fallbacks) for p in serial.pages]
    assert {p: p.read_bytes() for p in (tmp_path / "build").rglob("*.html")} == outputs


def test_sentence_mode_joins_translated_sentences(tmp_path: Path) -> None:
    pytest.importorskip("transflow.sentences")
    html = page("<p>First sentence here. Second <a href=x>one</a> there.</p>")
    template = make_template(html.encode(), P)
    lookup = {"First sentence here.": Translation("პირველი.", 3),
              "Second <a1>one</a1> there.": Translation("მეორე <a1>ერთი</a1>.", 4)}
    out, stats = render_page(template, PageSettings("ka", "en", (), sentences=True), lookup)
    p = parse(out).find(".//p")
    assert p.text_content() == "პირველი. მეორე ერთი." and p.find("a").get("href") == "x"
    del lookup["First sentence here."]
    out, stats = render_page(template, PageSettings("ka", "en", (), sentences=True), lookup)
    assert parse(out).find(".//p").text_content() == "First sentence here. მეორე ერთი."
    assert stats.fallbacks == 2  # the half-translated paragraph and the title


def test_bad_source_is_an_input_error_with_path(tmp_path: Path) -> None:
    from transflow.errors import InputError

    proj = make_project(tmp_path)
    (tmp_path / "source/a.html").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")  # binary data
    with pytest.raises(InputError) as info:
        build_project(proj, ["ka"], ["a"])
    assert "source/a.html" in str(info.value)


def test_build_and_check_name_the_same_line(tmp_path: Path) -> None:
    """A rejected translation is reported at its msgid's line, the line `transflow check` names."""
    from transflow.check import check_project

    proj = make_project(tmp_path, ("ka",))
    (tmp_path / "locales/ka/a.po").write_text(
        'msgid ""\nmsgstr ""\n"Language: ka\\n"\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        '#. p\n#: source/a.html:5\nmsgid "Read on <a1>OC Media</a1>."\nmsgstr "<b1>x</b1>"\n',
        "utf-8")
    report = build_project(proj, ["ka"], ["a"])
    warnings = [w for w in report.warning_lines() if ": markup:" in w]
    assert len(warnings) == 1 and warnings[0].startswith("locales/ka/a.po:8: markup:"), warnings
    findings = [f for f in check_project(proj, ["ka"], ["a"]) if f.check == "markup"]
    assert findings and {f.line for f in findings} == {8}


def test_template_cache_is_used_only_for_the_same_source(tmp_path: Path) -> None:
    proj = make_project(tmp_path, ("ka",))
    cache = tmp_path / "build/.cache/templates/a.json"
    build_project(proj, ["ka"], ["a"])
    assert not cache.exists()  # a first build writes no cache it may never read
    first = (tmp_path / "build/ka/a.html").read_bytes()
    build_project(proj, ["ka"], ["a"], force=True)
    assert cache.is_file()
    build_project(proj, ["ka"], ["a"], force=True)  # from the cache
    assert (tmp_path / "build/ka/a.html").read_bytes() == first
    cache.write_text("[1, 2", "utf-8")  # a damaged cache is compiled again
    build_project(proj, ["ka"], ["a"], force=True)
    assert (tmp_path / "build/ka/a.html").read_bytes() == first
    source = tmp_path / "source/a.html"
    source.write_text(SOURCE_A.replace("Second paragraph.", "Changed paragraph."), "utf-8")
    build_project(proj, ["ka"], ["a"])
    assert "Changed paragraph." in (tmp_path / "build/ka/a.html").read_text("utf-8")
