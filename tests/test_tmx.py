"""Translation memory exchange: `transflow memory export|import` as TMX 1.4b (issue 14, item 5).

Checked both ways with Translate Toolkit's TMX storage (the reader Weblate and Pootle use):
what we write, it reads unit for unit; what it writes, we import.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from transflow.catalog import is_translated, read_catalog
from transflow.cli import main
from transflow.errors import InputError
from transflow.inline import unescape_text
from transflow.interchange import read_tmx, render_tmx
from transflow.memoryio import memory_po_path
from transflow.project import read_project

from .conftest import needs_gettext
from .newsroom import copy_newsroom
from .smallproject import run_transflow

ttk_tmx = pytest.importorskip(
    "translate.storage.tmx",
    reason="Translate Toolkit is not installed (pip install -e '.[test]' brings it)",
)

# Attributes TMX 1.4b requires on <header>.
HEADER_REQUIRED = {"creationtool", "creationtoolversion", "segtype", "o-tmf", "adminlang",
                   "srclang", "datatype"}


def invoke(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["-C", str(root), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


def newsroom_pairs(root: Path, lang: str) -> list[tuple[str, str]]:
    """Distinct (msgid, msgstr) of every translated singular entry, in export order."""
    seen: dict[tuple[str, str], None] = {}
    for path in sorted((root / "locales" / lang).rglob("*.po")):
        for e in read_catalog(path):
            if e.msgid and not e.msgid_plural and is_translated(e):
                seen.setdefault((e.msgid, e.msgstr), None)
    return list(seen)


@pytest.fixture
def newsroom(tmp_path: Path) -> Path:
    return copy_newsroom(tmp_path / "newsroom")


# ----------------------------------------------------------------------------- export


@pytest.mark.parametrize("lang", ["ka", "ru"])
def test_export_is_read_by_translate_toolkit_unit_for_unit(newsroom: Path, lang: str) -> None:
    out = newsroom / f"{lang}.tmx"
    code, stdout, _ = invoke(newsroom, "memory", "export", "--lang", lang, str(out))
    assert code == 0
    pairs = newsroom_pairs(newsroom, lang)
    assert len(pairs) > 50
    assert stdout.strip() == f"{len(pairs)} units (en → {lang}) written to {out}"
    store = ttk_tmx.tmxfile.parsestring(out.read_bytes())
    assert store.sourcelanguage == "en"
    units = [u for u in store.units if u.istranslatable()]
    assert len(units) == len(pairs)
    for unit, (msgid, msgstr) in zip(units, pairs, strict=True):
        # A plain-text reader sees the light tags as their text, entities read.
        assert unit.source == unescape_text(msgid)
        assert unit.gettarget(lang) == unescape_text(msgstr)
    root = etree.fromstring(out.read_bytes())
    assert root.get("version") == "1.4"
    header = root.find("header")
    assert header is not None and HEADER_REQUIRED <= set(header.attrib)
    assert header.get("srclang") == "en" and header.get("segtype") == "paragraph"


def test_export_tags_are_bpt_ept_ph_and_deterministic(tmp_path: Path) -> None:
    pairs = [("Read <a1>OC &amp; Media</a1><br1/> now", "<a1>OC &amp; Media</a1><br1/> ახლა"),
             ("a &lt; b", "a &lt; b ka")]
    data = render_tmx(pairs, source_language="en", target_language="ka")
    assert data == render_tmx(pairs, source_language="en", target_language="ka")
    segs = etree.fromstring(data).findall(".//seg")
    assert etree.tostring(segs[0], encoding="unicode", with_tail=False) == (
        '<seg>Read <bpt i="1" x="1">&lt;a1&gt;</bpt>OC &amp; Media<ept i="1">&lt;/a1&gt;</ept>'
        '<ph x="2">&lt;br1/&gt;</ph> now</seg>')
    assert segs[2].text == "a < b" and len(segs[2]) == 0
    # Our own file reads back to the same notation exactly.
    read = read_tmx(data, tmp_path / "t.tmx", source_language="en", languages=["ka"])
    assert [(p.msgid, p.msgstr) for p in read.pairs["ka"]] == pairs
    assert read.skipped == ()


def test_export_skips_fuzzy_untranslated_and_repeats(newsroom: Path) -> None:
    fuzzy = [e for p in sorted((newsroom / "locales/ru").glob("*.po"))
             for e in read_catalog(p) if "fuzzy" in e.flags and e.msgstr]
    assert fuzzy, "the newsroom has fuzzy entries to leave out"
    out = newsroom / "ru.tmx"
    invoke(newsroom, "memory", "export", "--lang", "ru", str(out))
    data = out.read_bytes()
    store = ttk_tmx.tmxfile.parsestring(data)
    targets = [u.gettarget("ru") for u in store.units]
    for e in fuzzy:
        assert unescape_text(e.msgstr) not in targets
    keys = [(u.source, u.gettarget("ru")) for u in store.units]
    assert len(keys) == len(set(keys))
    invoke(newsroom, "memory", "export", "--lang", "ru", str(newsroom / "again.tmx"))
    assert (newsroom / "again.tmx").read_bytes() == data


def test_export_unknown_language_is_exit_2(newsroom: Path) -> None:
    code, _, err = invoke(newsroom, "memory", "export", "--lang", "de", str(newsroom / "x.tmx"))
    assert code == 2 and "'de' is not in this project" in err
    assert not (newsroom / "x.tmx").exists()


# ----------------------------------------------------------------------------- import


def test_round_trip_fills_the_memory_catalogue(newsroom: Path, tmp_path: Path) -> None:
    out = tmp_path / "ru.tmx"
    invoke(newsroom, "memory", "export", "--lang", "ru", str(out))
    fresh = copy_newsroom(tmp_path / "fresh")
    code, stdout, _ = invoke(fresh, "memory", "import", str(out))
    assert code == 0, stdout
    pairs = newsroom_pairs(newsroom, "ru")
    assert f"ru: {len(pairs)} added, 0 replaced, 0 unchanged (locales/memory/ru.po)" in stdout
    project = read_project(fresh / "transflow.toml")
    memory = read_catalog(memory_po_path(project, "ru"))
    got = {(e.msgid, e.msgstr) for e in memory if e.msgid}
    assert got == set(pairs)
    assert all(e.tcomment == "imported from ru.tmx" for e in memory if e.msgid)
    assert memory.metadata["Language"] == "ru"
    assert not memory_po_path(project, "ka").exists()


@needs_gettext
def test_memory_catalogue_passes_msgfmt_and_reimport_is_idempotent(newsroom: Path,
                                                                   tmp_path: Path) -> None:
    out = tmp_path / "ka.tmx"
    invoke(newsroom, "memory", "export", "--lang", "ka", str(out))
    invoke(newsroom, "memory", "import", str(out))
    path = newsroom / "locales/memory/ka.po"
    check = subprocess.run(["msgfmt", "-c", "-o", "/dev/null", str(path)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    before, stamp = path.read_bytes(), path.stat().st_mtime_ns
    code, stdout, _ = invoke(newsroom, "memory", "import", str(out))
    assert code == 0
    assert "ka: 0 added, 0 replaced," in stdout and "not changed" in stdout
    assert path.read_bytes() == before and path.stat().st_mtime_ns == stamp


def test_newer_import_replaces_and_keeps_the_rest(newsroom: Path, tmp_path: Path) -> None:
    first = render_tmx([("Hello", "Привет"), ("Bye", "Пока")], source_language="en",
                       target_language="ru-RU")
    second = render_tmx([("Hello", "Здравствуйте")], source_language="en-GB",
                        target_language="ru")
    (tmp_path / "a.tmx").write_bytes(first)
    (tmp_path / "b.tmx").write_bytes(second)
    invoke(newsroom, "memory", "import", str(tmp_path / "a.tmx"))
    code, stdout, _ = invoke(newsroom, "memory", "import", str(tmp_path / "b.tmx"))
    assert code == 0 and "ru: 0 added, 1 replaced, 0 unchanged" in stdout
    memory = {e.msgid: e for e in read_catalog(newsroom / "locales/memory/ru.po") if e.msgid}
    assert memory["Hello"].msgstr == "Здравствуйте"
    assert memory["Hello"].tcomment == "imported from b.tmx"
    assert memory["Bye"].msgstr == "Пока" and memory["Bye"].tcomment == "imported from a.tmx"


def test_translate_toolkit_tmx_is_imported(newsroom: Path, tmp_path: Path) -> None:
    store = ttk_tmx.tmxfile(sourcelanguage="en")
    # A PO-based tool writes our msgids' notation as plain text.
    store.addtranslation("Read <a1>OC Media</a1> today", "en",
                         "<a1>OC Media</a1>-ში წაიკითხეთ", "ka-GE")
    store.addtranslation("AT&amp;T and a < b", "en", "AT&amp;T და a < b", "ka")
    store.addtranslation("Checkpoint", "en", "Kontrollpunkt", "de-DE")
    unit = store.addsourceunit("Gali district", "en")
    unit.settarget("Гальский район", "ru-RU", append=True)
    unit.settarget("გალის რაიონი", "ka", append=True)
    out = tmp_path / "ttk.tmx"
    out.write_bytes(bytes(store))
    assert b"<!DOCTYPE tmx" in out.read_bytes()  # a DTD name is fine; it is never loaded
    code, stdout, _ = invoke(newsroom, "memory", "import", str(out))
    assert code == 0, stdout
    assert "ka: 3 added" in stdout and "ru: 1 added" in stdout
    assert "ignored languages not in this project: de-DE" in stdout
    ka = {e.msgid: e.msgstr for e in read_catalog(newsroom / "locales/memory/ka.po") if e.msgid}
    assert ka == {"Read <a1>OC Media</a1> today": "<a1>OC Media</a1>-ში წაიკითხეთ",
                  "AT&amp;T and a &lt; b": "AT&amp;T და a &lt; b",
                  "Gali district": "გალის რაიონი"}
    ru = read_catalog(newsroom / "locales/memory/ru.po")
    assert [(e.msgid, e.msgstr) for e in ru if e.msgid] == [("Gali district", "Гальский район")]


def _tmx(body: str, *, srclang: str = "en", tool: str = "SomeCAT") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<tmx version="1.4">\n'
            f'<header creationtool="{tool}" creationtoolversion="1" segtype="sentence" '
            f'o-tmf="x" adminlang="en" srclang="{srclang}" datatype="html"/>\n'
            f"<body>\n{body}\n</body>\n</tmx>\n").encode()


def test_html_inline_codes_of_other_tools_map_to_light_tags(tmp_path: Path) -> None:
    body = """<tu>
<tuv xml:lang="en"><seg>Read <bpt i="1" x="1">&lt;a href="https://oc-media.org"&gt;</bpt>OC<ept i="1">&lt;/a&gt;</ept> and <bpt i="2" x="2">&lt;a href="/b"&gt;</bpt>B<ept i="2">&lt;/a&gt;</ept><ph x="3">&lt;br/&gt;</ph></seg></tuv>
<tuv xml:lang="ru"><seg><bpt i="7" x="2">&lt;a href="/b"&gt;</bpt>Б<ept i="7">&lt;/a&gt;</ept> и <bpt i="8" x="1">&lt;a&gt;</bpt>OC<ept i="8">&lt;/a&gt;</ept><ph x="3">&lt;br&gt;</ph></seg></tuv>
</tu>
<tu>
<tuv xml:lang="en"><seg>Call <ph x="1">{0}</ph> now</seg></tuv>
<tuv xml:lang="ru"><seg>Звоните <ph x="1">{0}</ph></seg></tuv>
</tu>
<tu>
<tuv xml:lang="en"><seg>Isolated <it pos="begin">&lt;b&gt;</it>bold</seg></tuv>
<tuv xml:lang="ru"><seg>Отдельный <it pos="begin">&lt;b&gt;</it>жирный</seg></tuv>
</tu>
<tu>
<tuv xml:lang="en"><seg>One <bpt i="1">&lt;b&gt;</bpt>two<ept i="1">&lt;/b&gt;</ept></seg></tuv>
<tuv xml:lang="ru"><seg>Один два</seg></tuv>
</tu>
<tu>
<tuv xml:lang="en"><seg>a &lt; b &amp; <hi type="x">c</hi></seg></tuv>
<tuv xml:lang="ru"><seg>а &lt; б &amp; в</seg></tuv>
</tu>"""
    path = tmp_path / "cat.tmx"
    read = read_tmx(_tmx(body), path, source_language="en", languages=["ru"])
    assert [(p.msgid, p.msgstr) for p in read.pairs["ru"]] == [
        ("Read <a1>OC</a1> and <a2>B</a2><br1/>", "<a2>Б</a2> и <a1>OC</a1><br1/>"),
        ("a &lt; b &amp; c", "а &lt; б &amp; в"),
    ]
    assert len(read.skipped) == 3
    assert read.skipped[0].startswith(f"{path}:9: source segment: <ph> native code '{{0}}'")
    assert read.skipped[1].startswith(f"{path}:13: source segment: inline element <it>")
    assert read.skipped[2].startswith(f"{path}:19: ru segment: tags differ from the source's")


def test_skipped_units_are_counted_and_listed_with_v(newsroom: Path, tmp_path: Path) -> None:
    body = """<tu><tuv xml:lang="en"><seg>Call <ph>{0}</ph></seg></tuv>
<tuv xml:lang="ru"><seg>Звоните <ph>{0}</ph></seg></tuv></tu>
<tu><tuv xml:lang="en"><seg>Hello</seg></tuv><tuv xml:lang="ru"><seg>Привет</seg></tuv></tu>"""
    (tmp_path / "m.tmx").write_bytes(_tmx(body))
    code, stdout, stderr = invoke(newsroom, "memory", "import", str(tmp_path / "m.tmx"))
    assert code == 0
    assert "ru: 1 added" in stdout and "1 skipped" in stdout and stderr == ""
    code, _, stderr = invoke(newsroom, "-v", "memory", "import", str(tmp_path / "m.tmx"))
    assert f"skipped: {tmp_path / 'm.tmx'}:5:" in stderr  # line of the <tu>


def test_other_source_language_is_exit_2_with_the_header_line(newsroom: Path,
                                                               tmp_path: Path) -> None:
    path = tmp_path / "de.tmx"
    path.write_bytes(_tmx("<tu><tuv xml:lang='de'><seg>Hallo</seg></tuv></tu>", srclang="de"))
    code, _, err = invoke(newsroom, "memory", "import", str(path))
    assert code == 2
    assert err.strip() == (f"transflow: {path}:3: the memory's source language is 'de', this "
                           f"project's is 'en'")
    assert not (newsroom / "locales/memory").exists()


def test_not_tmx_and_wrong_version(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"a\.tmx:1: not a TMX file: the root element is <xliff>"):
        read_tmx(b"<xliff/>", tmp_path / "a.tmx", source_language="en", languages=["ru"])
    with pytest.raises(InputError, match=r"TMX version 2.0 is not supported"):
        read_tmx(b'<tmx version="2.0"><header srclang="en"/></tmx>', tmp_path / "a.tmx",
                 source_language="en", languages=["ru"])
    with pytest.raises(InputError, match=r"a\.tmx:1: TMX file without <header>"):
        read_tmx(b'<tmx version="1.4"><body/></tmx>', tmp_path / "a.tmx",
                 source_language="en", languages=["ru"])


# ----------------------------------------------------------------------------- hostile TMX

HOSTILE = {
    "xxe": b"""<?xml version="1.0"?>
<!DOCTYPE tmx [<!ENTITY xxe SYSTEM "SECRET_URI">]>
<tmx version="1.4"><header srclang="en"/><body><tu>
<tuv xml:lang="en"><seg>&xxe;</seg></tuv><tuv xml:lang="ru"><seg>x</seg></tuv>
</tu></body></tmx>
""",
    "billion-laughs": b"""<?xml version="1.0"?>
<!DOCTYPE tmx [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<tmx version="1.4"><header srclang="en"/><body><tu>
<tuv xml:lang="en"><seg>&lol9;</seg></tuv><tuv xml:lang="ru"><seg>x</seg></tuv>
</tu></body></tmx>
""",
    "parameter-entity": b"""<?xml version="1.0"?>
<!DOCTYPE tmx [<!ENTITY % p SYSTEM "SECRET_URI"> %p;]>
<tmx version="1.4"><header srclang="en"/><body/></tmx>
""",
    "external-dtd-entity": b"""<?xml version="1.0"?>
<!DOCTYPE tmx SYSTEM "http://127.0.0.1:9/tmx14.dtd">
<tmx version="1.4"><header srclang="en"/><body><tu>
<tuv xml:lang="en"><seg>&nbsp;x</seg></tuv><tuv xml:lang="ru"><seg>x</seg></tuv>
</tu></body></tmx>
""",
    "malformed": b"""<?xml version="1.0"?>
<tmx version="1.4"><header srclang="en"/><body><tu>
<tuv xml:lang="en"><seg>unclosed</tuv>
</tu></body></tmx>
""",
    "not-utf8": b'<?xml version="1.0" encoding="UTF-8"?>\n<tmx version="1.4">\xff\xfe</tmx>\n',
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_tmx_is_exit_2_with_file_and_line(name: str, tmp_path: Path) -> None:
    root = copy_newsroom(tmp_path / "newsroom")
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT", "utf-8")
    path = tmp_path / f"{name}.tmx"
    path.write_bytes(HOSTILE[name].replace(b"SECRET_URI", secret.as_uri().encode()))
    result = run_transflow(root, "memory", "import", str(path))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "TOP-SECRET" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"transflow: {path}:"), lines[0]
    line = lines[0][len(f"transflow: {path}:"):].split(":", 1)[0]
    assert line.isdigit()
    assert not (root / "locales/memory").exists()
    assert "lollol" not in result.stdout


def test_missing_tmx_file_is_exit_2(newsroom: Path, tmp_path: Path) -> None:
    code, _, err = invoke(newsroom, "memory", "import", str(tmp_path / "none.tmx"))
    assert code == 2 and err.strip() == f"transflow: {tmp_path / 'none.tmx'}: no such file"


# ----------------------------------------------------------------------------- extract fills


def test_imported_units_fill_a_new_article_exact_and_fuzzy(newsroom: Path,
                                                            tmp_path: Path) -> None:
    exact = "Border guards at the Sadakhlo crossing counted forty trucks on Monday."
    near = "Border guards at the Sadakhlo crossing counted forty-two trucks on Monday."
    tmx = render_tmx([(exact, "Пограничники на переходе Садахло в понедельник насчитали "
                               "сорок грузовиков.")], source_language="en", target_language="ru")
    (tmp_path / "agency.tmx").write_bytes(tmx)
    assert invoke(newsroom, "memory", "import", str(tmp_path / "agency.tmx"))[0] == 0
    (newsroom / "source" / "trucks.html").write_text(
        f"<html><body><p>{exact}</p><p>Another line.</p><p>{near}</p></body></html>", "utf-8")
    code, stdout, _ = invoke(newsroom, "extract")
    assert code == 0, stdout
    po = {e.msgid: e for e in read_catalog(newsroom / "locales/ru/trucks.po")}
    assert po[exact].msgstr.startswith("Пограничники") and "fuzzy" not in po[exact].flags
    assert po[near].msgstr.startswith("Пограничники") and "fuzzy" in po[near].flags


def test_memory_folder_is_not_an_article_language(newsroom: Path, tmp_path: Path) -> None:
    """An imported memory leaves status and check of the newsroom as they were."""
    before_status = invoke(newsroom, "status", "--json")[1]
    before_check = invoke(newsroom, "check", "--format", "json")[1]
    out = tmp_path / "ru.tmx"
    invoke(newsroom, "memory", "export", "--lang", "ru", str(out))
    invoke(newsroom, "memory", "import", str(out))
    assert invoke(newsroom, "status", "--json")[1] == before_status
    assert invoke(newsroom, "check", "--format", "json")[1] == before_check



def test_a_translation_with_broken_tags_is_exported_as_text_and_not_reimported(
        tmp_path: Path) -> None:
    pairs = [("Read <a1>OC</a1>", "Читайте <a1>OC"), ("Plain", "Просто")]
    data = render_tmx(pairs, source_language="en", target_language="ru")
    segs = etree.fromstring(data).findall(".//seg")
    assert [c.tag for c in segs[0]] == ["bpt", "ept"] and len(segs[1]) == 0  # the tag pair…
    assert segs[1].text == "Читайте <a1>OC"  # …and the broken target as plain text
    read = read_tmx(data, tmp_path / "b.tmx", source_language="en", languages=["ru"])
    assert [(p.msgid, p.msgstr) for p in read.pairs["ru"]] == [("Plain", "Просто")]
    assert len(read.skipped) == 1 and "tags differ from the source's" in read.skipped[0]


def test_catalogue_strings_without_light_tags_round_trip_exactly(tmp_path: Path) -> None:
    """A catalogue migrated from html2po has raw HTML in its msgids: exported as its
    characters, marked verbatim, and imported back as exactly those characters."""
    pairs = [('Read <a href="/en/x">OC &amp; Media</a>', '<a href="/en/x">OC &amp; Media</a>'),
             ("Tom & Jerry <3", "Том & Джерри <3"),
             ("a &lt; b <em1>c</em1>", "а &lt; б <em1>в</em1>")]
    data = render_tmx(pairs, source_language="en", target_language="ru")
    store = ttk_tmx.tmxfile.parsestring(data)
    assert [u.source for u in store.units] == [pairs[0][0], pairs[1][0], "a < b <em1>c</em1>"]
    read = read_tmx(data, tmp_path / "v.tmx", source_language="en", languages=["ru"])
    assert [(p.msgid, p.msgstr) for p in read.pairs["ru"]] == pairs
    assert read.skipped == ()
