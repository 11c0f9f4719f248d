"""Hostile translations never reach the built HTML as markup (SPEC §7), and `check` flags them.

Every payload of tests/xss/payloads.txt goes into the msgstr of every unit of one article
(text units, `alt`/`title` attributes, `<title>` and `<meta>` content): alone in the Georgian
catalogue, after the msgid with the source's own tags kept in the Russian one. One build and
one `check --format json` of the whole project, then each output page is parsed with lxml and
scanned as text. Also: XML interchange through the CLI (XXE, billion laughs, external DTD).
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from lxml import html as lxml_html

from transflow.catalog import read_catalog, render_catalog
from transflow.inline import MARKUP_START_RE

from .smallproject import make_project, run_transflow, tree_digest

PAYLOADS_FILE = Path(__file__).resolve().parent / "xss" / "payloads.txt"
PAYLOADS = [line for line in PAYLOADS_FILE.read_text("utf-8").splitlines()
            if line and not line.startswith("# ")]

SOURCE = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>News from the city</title>
<meta name="description" content="A report from the city">
<meta property="og:title" content="City news">
<link rel="canonical" href="https://news.example/city">
<script>var analytics = 1;</script>
</head>
<body>
<h1>News from the city</h1>
<p>Read on <a href="https://oc-media.org/">OC Media</a> and <em>elsewhere</em>.</p>
<p><img src="a.jpg" alt="A view of the city"> The city had many people.</p>
<ul><li>First item</li><li>Second <strong>item</strong></li></ul>
<p><abbr title="Organization for Security">OSCE</abbr> monitors came.<br>Then they left.</p>
<textarea placeholder="Your comment">Comment here</textarea>
<noscript><p>Please enable scripts</p></noscript>
</body>
</html>
"""

# What build itself adds to a page: `lang` (on <html>, and on units that fell back to the
# source, or a <span lang> around them), the hreflang links and og:locale.
ADDED_ATTRS = {"link": {"rel", "hreflang", "href"}, "meta": {"property", "content"}}
URL_ATTRS = ("href", "src", "action", "formaction", "data", "srcdoc", "xlink:href", "poster")
RAW_MARKUP_RE = re.compile(r"<\s*(script|iframe|svg|math|object|embed|base|form|input|details"
                           r"|video|source|body|x|style)\b", re.I)


def _slug(i: int) -> str:
    return f"p{i:02d}"


def _fill(po_path: Path, make: Any) -> None:
    po = read_catalog(po_path)
    for entry in po:
        entry.msgstr = make(entry.msgid)
    po_path.write_text(render_catalog(po), "utf-8")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One article per payload; ka holds the bare payload, ru the msgid plus the payload."""
    root = tmp_path_factory.mktemp("xss") / "news"
    make_project(root, article=SOURCE)
    (root / "source" / "news.html").unlink()
    for i in range(len(PAYLOADS)):
        (root / "source" / f"{_slug(i)}.html").write_text(SOURCE, "utf-8")
    result = run_transflow(root, "extract")
    assert result.returncode == 0, result.stderr
    for i, payload in enumerate(PAYLOADS):
        _fill(root / "locales" / "ka" / f"{_slug(i)}.po", lambda msgid, p=payload: p)
        _fill(root / "locales" / "ru" / f"{_slug(i)}.po",
              lambda msgid, p=payload: f"{msgid} {p}")
    return root


def _tags(doc: Any) -> Counter[str]:
    return Counter(el.tag for el in doc.iter() if isinstance(el.tag, str))


def _page_problems(page: bytes, source: Any, payload: str) -> list[str]:
    """Everything in a built page that the source page did not have."""
    problems = []
    doc = lxml_html.document_fromstring(page)
    src_attrs: dict[str, set[str]] = {}
    src_urls = set()
    for el in source.iter():
        if isinstance(el.tag, str):
            src_attrs.setdefault(el.tag, set()).update(el.attrib)
            src_urls.update(v for k, v in el.attrib.items() if k in URL_ATTRS)
    src_tags = _tags(source)
    out_tags = _tags(doc)
    for tag, n in out_tags.items():
        allowed = src_tags.get(tag, 0) + (n if tag in ("span", "link", "meta") else 0)
        if n > allowed:
            problems.append(f"{n} <{tag}> (source: {src_tags.get(tag, 0)})")
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        for name, value in el.attrib.items():
            if name.lower().startswith("on"):
                problems.append(f"event handler {name}= on <{el.tag}>")
            if name not in src_attrs.get(el.tag, set()) | ADDED_ATTRS.get(el.tag, set()) | {"lang"}:
                problems.append(f"attribute {name}= on <{el.tag}> the source never has")
            squeezed = re.sub(r"[\x00-\x20]", "", value).lower()
            if name in URL_ATTRS:
                if squeezed.startswith(("javascript:", "data:", "vbscript:")):
                    problems.append(f"{name}={value!r}")
                if value not in src_urls and not (el.tag == "link" and el.get("hreflang")):
                    problems.append(f"foreign URL {name}={value!r}")
    scripts = [el.text or "" for el in doc.iter("script")]
    if scripts != [el.text or "" for el in source.iter("script")]:
        problems.append(f"scripts differ: {scripts}")
    text = page.decode("utf-8")
    found = Counter(m.group(1).lower() for m in RAW_MARKUP_RE.finditer(text))
    expected = Counter(m.group(1).lower() for m in RAW_MARKUP_RE.finditer(SOURCE))
    if found != expected:
        problems.append(f"raw markup in the text: {found - expected}")
    if "\x00" in text:
        problems.append("NUL in output")
    return problems


def test_payload_corpus_size() -> None:
    assert len(PAYLOADS) >= 30
    assert len(set(PAYLOADS)) == len(PAYLOADS)


def test_no_payload_reaches_the_build(hostile: Path) -> None:
    result = run_transflow(hostile, "build")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    source = lxml_html.document_fromstring(SOURCE.encode())
    problems = []
    pages = 0
    for i, payload in enumerate(PAYLOADS):
        for lang in ("ka", "ru"):
            page = (hostile / "build" / lang / f"{_slug(i)}.html").read_bytes()
            pages += 1
            problems += [f"{lang} {payload!r}: {p}" for p in _page_problems(page, source, payload)]
            # lxml's HTML parser and an XML-ish strict parse agree there is one document.
            assert etree.fromstring(page, lxml_html.HTMLParser()) is not None
    assert pages == 2 * len(PAYLOADS)
    assert not problems, "\n".join(problems)


def test_check_reports_every_markup_payload(hostile: Path) -> None:
    result = run_transflow(hostile, "check", "--format", "json")
    assert result.returncode == 1, result.stderr
    findings = json.loads(result.stdout)["findings"]
    markup = {(f["file"], f["msgid"]) for f in findings if f["check"] == "markup"}
    assert all(f["severity"] == "error" for f in findings if f["check"] == "markup")
    missed = []
    checked = 0
    for i, payload in enumerate(PAYLOADS):
        if not MARKUP_START_RE.search(payload):
            continue  # plain text (`javascript:alert(1)` as words): escaped, not markup
        for lang in ("ka", "ru"):
            po_file = f"locales/{lang}/{_slug(i)}.po"
            for entry in read_catalog(hostile / po_file):
                checked += 1
                if (po_file, entry.msgid) not in markup:
                    missed.append(f"{po_file}: {entry.msgid!r} ← {payload!r}")
    assert checked > 0
    assert not missed, "\n".join(missed)


def test_text_payloads_are_shown_as_text(hostile: Path) -> None:
    """A payload with no markup is the translation: it appears escaped, as words."""
    run_transflow(hostile, "build")
    i = PAYLOADS.index("&lt;script&gt;alert(1)&lt;/script&gt;")
    page = (hostile / "build" / "ka" / f"{_slug(i)}.html").read_text("utf-8")
    # Escaped minimally (SPEC §7: `&`, `<`): `>` is text in HTML and stays as the translator wrote.
    assert "&lt;script>alert(1)&lt;/script>" in page
    doc = lxml_html.document_fromstring(page)
    assert doc.findtext(".//h1") == "<script>alert(1)</script>"


def test_nul_in_a_translation_is_refused(tmp_path: Path) -> None:
    """A NUL cannot be written in a PO string, but a raw one in the file stops build cleanly."""
    root = make_project(tmp_path / "news", article=SOURCE)
    po = root / "locales" / "ru" / "news.po"
    po.write_bytes(po.read_bytes().replace(
        b'msgid "First item"\nmsgstr ""', b'msgid "First item"\nmsgstr "<scr\x00ipt>"'))
    result = run_transflow(root, "build")
    assert result.returncode == 2
    assert "news.po:" in result.stderr and "Traceback" not in result.stderr
    assert not (root / "build" / "ru" / "news.html").exists()


# --- XML interchange through the CLI ------------------------------------------------------------

SECRET = "TOP-SECRET-FILE-CONTENT"

XXE_TBX = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE martif [<!ENTITY xxe SYSTEM "file://{secret}">]>
<martif type="TBX" xml:lang="en"><text><body>
<termEntry id="x"><langSet xml:lang="en"><tig><term>&xxe;</term></tig></langSet>
<langSet xml:lang="ru"><tig><term>Баку</term></tig></langSet></termEntry>
</body></text></martif>
"""
LAUGHS = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
BILLION_TBX = f"""<?xml version="1.0"?>
<!DOCTYPE martif [<!ENTITY l0 "lol">{LAUGHS}]>
<martif type="TBX"><text><body><termEntry id="x"><langSet xml:lang="en"><tig><term>&l9;</term>
</tig></langSet></termEntry></body></text></martif>
"""
DTD_TBX = """<?xml version="1.0"?>
<!DOCTYPE martif SYSTEM "http://127.0.0.1:9/evil.dtd">
<martif type="TBX"><text><body><termEntry id="x"><langSet xml:lang="en"><tig><term>&ext;</term>
</tig></langSet></termEntry></body></text></martif>
"""
XXE_XLIFF = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE xliff [<!ENTITY xxe SYSTEM "file://{secret}">]>
<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2">
<file original="news" source-language="en" target-language="ru" datatype="plaintext"><body>
<trans-unit id="1"><source>First item</source><target>&xxe;</target></trans-unit>
</body></file></xliff>
"""
BILLION_XLIFF = f"""<?xml version="1.0"?>
<!DOCTYPE xliff [<!ENTITY l0 "lol">{LAUGHS}]>
<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2">
<file original="news" source-language="en" target-language="ru" datatype="plaintext"><body>
<trans-unit id="1"><source>First item</source><target>&l9;</target></trans-unit>
</body></file></xliff>
"""

XML_CASES = {
    "tbx-xxe": ("glossary", XXE_TBX),
    "tbx-billion-laughs": ("glossary", BILLION_TBX),
    "tbx-external-dtd": ("glossary", DTD_TBX),
    "xliff-xxe": ("xliff", XXE_XLIFF),
    "xliff-billion-laughs": ("xliff", BILLION_XLIFF),
}


@pytest.fixture(scope="module")
def xml_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("xml") / "news")


@pytest.mark.parametrize("name", list(XML_CASES))
def test_hostile_xml_import_is_refused(name: str, xml_project: Path, tmp_path: Path) -> None:
    root = tmp_path / "news"
    shutil.copytree(xml_project, root)
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    kind, text = XML_CASES[name]
    evil = tmp_path / f"evil.{'tbx' if kind == 'glossary' else 'xlf'}"
    evil.write_text(text.replace("{secret}", str(secret)), "utf-8")
    before = tree_digest(root)
    if kind == "glossary":
        args: tuple[str, ...] = ("glossary", "import", str(evil))
    else:
        args = ("xliff", "import", "ru", "news", str(evil))
    result = run_transflow(root, *args, timeout=60)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "evil." in result.stderr
    assert "Traceback" not in result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert "lollollol" not in result.stdout + result.stderr
    assert tree_digest(root) == before
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert SECRET.encode() not in data and b"lollollol" not in data, path


def test_the_scanner_sees_injections() -> None:
    """The page scanner itself catches what it is there to catch (else the tests above prove nothing)."""
    source = lxml_html.document_fromstring(SOURCE.encode())
    assert _page_problems(SOURCE.encode(), source, "") == []
    for bad in ('<h1>News<script>alert(1)</script></h1>', '<h1 onclick="alert(1)">News</h1>',
                '<h1><a href="javascript:alert(1)">News</a></h1>', '<h1><iframe></iframe></h1>',
                '<h1><a href="https://evil.example/">News</a></h1>', '<h1 style="x">News</h1>'):
        page = SOURCE.replace("<h1>News from the city</h1>", bad).encode()
        assert _page_problems(page, source, ""), bad
