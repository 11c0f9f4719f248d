"""Tests for TBX glossary import/export and XLIFF 1.2 export/import of PO catalogues."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path
from typing import Any

import polib
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from transflow.errors import GlossaryError, InputError
from transflow.glossary import load_glossary
from transflow.inline import escape_text
from transflow.interchange import (
    XLIFF_NS,
    apply_xliff,
    import_tbx,
    parse_tbx,
    parse_xml,
    read_glossary_terms,
    render_glossary_toml,
    render_tbx,
    render_xliff,
    unit_id,
)

from .conftest import CORPUS, REPO, corpus_po_files, needs_gettext

TBX_DIR = CORPUS / "tbx"
needs_tbx = pytest.mark.skipif(
    not TBX_DIR.is_dir(), reason=f"TBX corpus not found at {TBX_DIR} (set TRANSFLOW_SHARED)"
)
needs_po_corpus = pytest.mark.skipif(not corpus_po_files(), reason="PO corpus not found")
X = f"{{{XLIFF_NS}}}"

# ----------------------------------------------------------------------------- hostile XML

XXE = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE martif [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<martif type="TBX"><text><body><termEntry>
<langSet xml:lang="en"><tig><term>&xxe;</term></tig></langSet>
<langSet xml:lang="ka"><tig><term>x</term></tig></langSet>
</termEntry></body></text></martif>
"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
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
<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2"><file original="a"
 source-language="en" datatype="po"><body><trans-unit id="u1"><source>&lol9;</source>
</trans-unit></body></file></xliff>
"""


def test_xxe_is_refused_and_reads_no_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT", "utf-8")
    payload = XXE.replace(b"file:///etc/passwd", secret.as_uri().encode())
    with pytest.raises(InputError) as err:
        parse_tbx(payload, tmp_path / "evil.tbx")
    assert "TOP-SECRET" not in str(err.value)
    assert str(err.value).startswith(f"{tmp_path / 'evil.tbx'}:1: ")
    assert "entity" in str(err.value)


def test_billion_laughs_is_refused_without_expanding(tmp_path: Path) -> None:
    po = polib.POFile()
    # libxml2 may stop it first (amplification limit); else our refusal of entity declarations.
    with pytest.raises(InputError, match=r"bomb\.xlf:\d+: .*entity") as err:
        apply_xliff(po, BILLION_LAUGHS, tmp_path / "bomb.xlf")
    assert "lollol" not in str(err.value)
    assert len(po) == 0


def test_parameter_entity_xxe_is_refused(tmp_path: Path) -> None:
    payload = b'<!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><r>x</r>'
    with pytest.raises(InputError):
        parse_xml(payload, tmp_path / "p.xml")


def test_external_dtd_is_never_fetched(tmp_path: Path) -> None:
    # The MARTIF DOCTYPE names a DTD; a network or file DTD must not be loaded.
    data = b'<!DOCTYPE r SYSTEM "http://127.0.0.1:9/never.dtd"><r>ok</r>'
    assert parse_xml(data, tmp_path / "d.xml").text == "ok"


def test_undefined_entity_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"d\.xml:1: not well-formed XML: Entity 'nbsp'"):
        parse_xml(b"<r>&nbsp;</r>", tmp_path / "d.xml")


def test_malformed_xml_reports_path_and_line(tmp_path: Path) -> None:
    data = b'<?xml version="1.0"?>\n<martif>\n<text>\n<body>\n</text>\n</martif>\n'
    with pytest.raises(InputError) as err:
        parse_tbx(data, tmp_path / "bad.tbx")
    assert str(err.value).startswith(f"{tmp_path / 'bad.tbx'}:5: not well-formed XML")
    with pytest.raises(InputError, match=r"bad\.xlf:1: not well-formed XML"):
        apply_xliff(polib.POFile(), b"", tmp_path / "bad.xlf")


def test_wrong_root_elements(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a TBX file: the root element is <html>"):
        parse_tbx(b"<html/>", tmp_path / "a.tbx")
    with pytest.raises(InputError, match="not an XLIFF file"):
        apply_xliff(polib.POFile(), b"<martif/>", tmp_path / "a.xlf")
    v2 = b'<xliff version="2.0" xmlns="urn:oasis:names:tc:xliff:document:2.0"/>'
    with pytest.raises(InputError, match="XLIFF version 2.0 is not supported"):
        apply_xliff(polib.POFile(), v2, tmp_path / "a.xlf")


# ----------------------------------------------------------------------------- TBX import


@needs_tbx
def test_weblate_georgian_tbx() -> None:
    path = TBX_DIR / "weblate-ka.tbx"
    result = import_tbx(path)
    terms = {t["id"]: t for t in result.terms}
    assert terms["bug"] == {"id": "bug", "en": "bug", "ka": "შეცდომა"}
    assert terms["gerrit"] == {"id": "gerrit", "en": "Gerrit", "translate": False}
    assert terms["changelog"]["ka"] == "ცვლილებათა სია"
    # `<term/>` targets are untranslated entries: skipped, with path:line.
    assert f"{path}:21: 'pull request' has no translation" in result.skipped
    assert "pull-request" not in terms
    assert len(result.terms) + len(result.skipped) == 93  # every entry accounted for
    assert all(t.get("ka") or t.get("translate") is False for t in result.terms)


@needs_tbx
def test_weblate_russian_tbx_merges_repeated_terms_and_keeps_notes() -> None:
    result = import_tbx(TBX_DIR / "weblate-ru.tbx")
    terms = {t["id"]: t for t in result.terms}
    assert terms["merge"] == {"id": "merge", "en": "merge", "ru": "объединить", "note": "Git merge"}
    # VCS appears twice with two renderings: both are kept, and both notes.
    assert terms["vcs"]["ru"] == ["система контроля версий", "СКВ"]
    assert "Для коротких фраз" in terms["vcs"]["note"]
    ids = [t["id"] for t in result.terms]
    assert len(ids) == len(set(ids))


@needs_tbx
@pytest.mark.parametrize("name", ["weblate-ka.tbx", "weblate-ru.tbx"])
def test_imported_toml_parses_back_and_loads_as_a_glossary(name: str, tmp_path: Path) -> None:
    result = import_tbx(TBX_DIR / name)
    text = render_glossary_toml(result.terms, comment=f"Imported from {name}")
    assert text.startswith(f"# Imported from {name}\n\n[[term]]\n")
    assert tomllib.loads(text)["term"] == list(result.terms)
    path = tmp_path / "glossary.toml"
    path.write_text(text, "utf-8")
    assert len(load_glossary(path).terms) == len(result.terms)


@needs_tbx
def test_terms_the_glossary_would_refuse_are_reported() -> None:
    path = TBX_DIR / "weblate-ru.tbx"
    result = import_tbx(path)
    # Weblate's own glossary has "сhart" with a Cyrillic "с": a typing slip our loader refuses.
    slip = [s for s in result.skipped if "mixes alphabets" in s]
    assert len(slip) == 1 and slip[0].startswith(f"{path}:")
    assert all("сhart" not in str(t["en"]) for t in result.terms)


TBX3 = """<?xml version="1.0" encoding="UTF-8"?>
<tbx type="TBX-Basic" style="dca" xml:lang="en" xmlns="urn:iso:std:iso:30042:ed-2">
<text><body>
<conceptEntry id="c1">
  <descrip type="definition">De facto capital of South Ossetia.</descrip>
  <langSec xml:lang="en-GB"><termSec><term>Tskhinvali</term></termSec></langSec>
  <langSec xml:lang="ru">
    <termSec><term>Цхинвали</term></termSec>
    <termSec><term>Цхинвал</term>
      <termNote type="administrativeStatus">deprecatedTerm-admn-sts</termNote></termSec>
  </langSec>
  <langSec xml:lang="ka"><termSec><term>ცხინვალი</term></termSec>
    <termSec><term>ცხინვალში</term><termNote type="termType">variant</termNote></termSec>
  </langSec>
</conceptEntry>
</body></text></tbx>
"""


def test_tbx3_with_status_variants_and_definition(tmp_path: Path) -> None:
    result = parse_tbx(TBX3.encode(), tmp_path / "t.tbx")
    assert result.terms == (
        {
            "id": "c1",
            "en": "Tskhinvali",
            "ru": "Цхинвали",
            "ka": "ცხინვალი",
            "note": "De facto capital of South Ossetia.",
            "forbidden": {"ru": ["Цхинвал"]},
            "forms": {"ka": ["ცხინვალში"]},
        },
    )


def test_languages_filter_and_map_to_project_codes(tmp_path: Path) -> None:
    data = TBX3.replace('xml:lang="ka"', 'xml:lang="ka-GE"').encode()
    result = parse_tbx(data, tmp_path / "t.tbx", languages=["ka"])
    assert result.terms[0]["ka"] == "ცხინვალი"
    assert "ru" not in result.terms[0] and "forbidden" not in result.terms[0]
    assert result.terms[0]["forms"] == {"ka": ["ცხინვალში"]}


def test_missing_tbx_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        import_tbx(tmp_path / "absent.tbx")


def test_existing_terms_are_not_duplicated_and_ids_do_not_clash(tmp_path: Path) -> None:
    data = """<martif type="TBX"><text><body>
<termEntry><langSet xml:lang="en"><tig><term>Baku</term></tig></langSet>
<langSet xml:lang="ru"><tig><term>Баку</term></tig></langSet></termEntry>
<termEntry><langSet xml:lang="en"><tig><term>Gori</term></tig></langSet>
<langSet xml:lang="ru"><tig><term>Гори</term></tig></langSet></termEntry>
</body></text></martif>""".encode()
    existing = [{"id": "baku", "en": "baku"}, {"id": "gori", "en": "Goris"}]
    result = parse_tbx(data, tmp_path / "g.tbx", existing=existing)
    assert [t["id"] for t in result.terms] == ["gori-2"]
    assert result.skipped == (
        f"{tmp_path / 'g.tbx'}:2: 'Baku' is already in the glossary as 'baku'",
    )


# ----------------------------------------------------------------------------- TBX export

GLOSSARY = """\
[[term]]
id = "stepanakert"
en = "Stepanakert"
ka = "სტეფანაკერტი"
ru = "Степанакерт"
note = "House style. Khankendi only when quoting Azerbaijani officials."
forbidden = { ka = ["ხანქენდი"], ru = ["Ханкенди"] }

[[term]]
id = "lachin-corridor"
en = ["Lachin Corridor", "Lachin road"]
ka = "ლაჩინის დერეფანი"
ru = "Лачинский коридор"
forms = { ka = ["ლაჩინის დერეფნის"] }

[[term]]
id = "oc-media"
en = "OC Media"
translate = false
case_sensitive = true
"""

_COMPARED = ("en", "ka", "ru", "note", "forbidden", "forms")


def _comparable(term: dict[str, Any]) -> dict[str, Any]:
    """The parts of a term that survive a TBX round trip."""
    return {k: term[k] for k in _COMPARED if k in term}


def test_tbx_export_round_trips_the_glossary(tmp_path: Path) -> None:
    path = tmp_path / "glossary.toml"
    path.write_text(GLOSSARY, "utf-8")
    terms = read_glossary_terms(path)
    tbx = render_tbx(terms, languages=["ka", "ru"])
    assert tbx.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<!DOCTYPE martif")
    assert render_tbx(terms, languages=["ka", "ru"]) == tbx  # deterministic
    back = {t["id"]: t for t in parse_tbx(tbx, tmp_path / "out.tbx").terms}
    for term in terms[:2]:
        assert _comparable(back[term["id"]]) == _comparable(term)
    # translate = false: the source form is the rendering in every language, and back.
    oc_media = etree.fromstring(tbx).find(".//termEntry[@id='oc-media']")
    assert oc_media is not None
    assert oc_media.xpath("langSet/@xml:lang") == ["en", "ka", "ru"]
    assert set(oc_media.xpath(".//term/text()")) == {"OC Media"}
    assert back["oc-media"] == {"id": "oc-media", "en": "OC Media", "translate": False}


def test_tbx_export_marks_forbidden_and_variants(tmp_path: Path) -> None:
    path = tmp_path / "glossary.toml"
    path.write_text(GLOSSARY, "utf-8")
    root = etree.fromstring(render_tbx(read_glossary_terms(path)))
    entry = root.find(".//termEntry[@id='stepanakert']")
    assert entry is not None
    deprecated = entry.xpath(".//tig[termNote='deprecatedTerm-admn-sts']/term/text()")
    assert deprecated == ["ხანქენდი", "Ханкенди"]
    variants = root.xpath(
        ".//termEntry[@id='lachin-corridor']//tig[termNote='variant']/term/text()"
    )
    assert variants == ["ლაჩინის დერეფნის"]


@pytest.mark.skipif(not (REPO / "glossary.toml").is_file(), reason="no newsroom glossary")
def test_newsroom_glossary_round_trips_through_tbx(tmp_path: Path) -> None:
    terms = read_glossary_terms(REPO / "glossary.toml")
    tbx = render_tbx(terms, languages=["ka", "ru"])
    back = {t["id"]: t for t in parse_tbx(tbx, tmp_path / "n.tbx").terms}
    assert len(back) == len(terms)
    for term in terms:
        if term.get("translate") is False:
            assert back[term["id"]].get("translate") is False, term["id"]
            continue
        got = _comparable(back[term["id"]])
        want = _comparable(term)
        for key in ("en", "ka", "ru"):  # one value or a list: the same renderings
            got[key] = [got[key]] if isinstance(got.get(key), str) else got.get(key)
            want[key] = [want[key]] if isinstance(want.get(key), str) else want.get(key)
        assert got == want, term["id"]


def test_glossary_without_ids_is_a_glossary_error(tmp_path: Path) -> None:
    path = tmp_path / "glossary.toml"
    path.write_text('[[term]]\nid = "ok"\nen = "A"\n\n[[term]]\nen = "Gori"\n', "utf-8")
    with pytest.raises(GlossaryError, match=r"glossary\.toml:5: term 2: missing required key 'id'"):
        read_glossary_terms(path)


_TOML_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {"id": st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True), "en": _TOML_TEXT},
            optional={
                "pt-BR": st.lists(_TOML_TEXT, min_size=1, max_size=3),
                "zh Hant": _TOML_TEXT,
                "note": _TOML_TEXT,
                "forbidden": st.dictionaries(
                    st.sampled_from(["ka", "ru"]), st.lists(_TOML_TEXT, max_size=2), max_size=2
                ),
                "translate": st.booleans(),
            },
        ),
        max_size=4,
    )
)
def test_rendered_toml_reads_back_exactly(terms: list[dict[str, Any]]) -> None:
    assert tomllib.loads(render_glossary_toml(terms)).get("term", []) == terms


# ----------------------------------------------------------------------------- XLIFF


def _catalogue() -> polib.POFile:
    po = polib.POFile(wrapwidth=79)
    po.metadata = {
        "Content-Type": "text/plain; charset=UTF-8",
        "Language": "ru",
        "Plural-Forms": "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && "
        "n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);",
    }
    po.append(
        polib.POEntry(
            msgid="Read on <a1>OC Media</a1>.<br1/>",
            msgstr="Читайте на <a1>OC Media</a1>.<br1/>",
            occurrences=[("source/goris.html", "12")],
            comment="p",
        )
    )
    po.append(
        polib.POEntry(
            msgid="Protesters gathered in Tbilisi.",
            msgstr="Протестующие собрались в Тифлисе.",
            flags=["fuzzy"],
            previous_msgid="Protesters gathered in Batumi.",
        )
    )
    po.append(polib.POEntry(msgid="AT&amp;T &lt;b&gt; left Baku."))
    po.append(
        polib.POEntry(
            msgid="%d village",
            msgid_plural="%d villages",
            msgstr_plural={0: "%d село", 1: "%d села", 2: "%d сёл"},
            flags=["c-format"],
        )
    )
    po.append(polib.POEntry(msgid="Old text.", msgstr="Старый текст.", obsolete=True))
    return po


def _units(xliff: bytes) -> dict[str, etree._Element]:
    root = etree.fromstring(xliff)
    return {u.get("id"): u for u in root.iter(f"{X}trans-unit")}


def test_xliff_export_structure() -> None:
    po = _catalogue()
    xliff = render_xliff(po, original="locales/ru/goris.po")
    root = etree.fromstring(xliff)
    file_el = root.find(f"{X}file")
    assert file_el is not None
    assert file_el.attrib == {
        "original": "locales/ru/goris.po",
        "source-language": "en",
        "datatype": "po",
        "target-language": "ru",
    }
    units = _units(xliff)
    linked = units[unit_id(po[0])]
    source = linked.find(f"{X}source")
    assert source is not None and source.text == "Read on "
    assert [(el.tag, el.get("id")) for el in source] == [(f"{X}g", "a1"), (f"{X}x", "br1")]
    target = linked.find(f"{X}target")
    assert target is not None and target.get("state") == "translated"
    assert linked.get("approved") == "yes"
    assert linked.find(f"{X}note").text == "p"  # type: ignore[union-attr]
    assert linked.xpath("string(.//*[@context-type='sourcefile'])") == "source/goris.html"
    fuzzy = units[unit_id(po[1])]
    assert fuzzy.find(f"{X}target").get("state") == "needs-review-translation"  # type: ignore[union-attr]
    assert fuzzy.get("approved") == "no"
    untranslated = units[unit_id(po[2])]
    assert untranslated.find(f"{X}target") is None
    # Entities of the notation are read: the CAT tool sees the characters themselves.
    assert untranslated.find(f"{X}source").text == "AT&T <b> left Baku."  # type: ignore[union-attr]
    group = root.find(f".//{X}group[@restype='x-gettext-plurals']")
    assert group is not None and group.get("id") == unit_id(po[3])
    assert [u.get("id") for u in group.iter(f"{X}trans-unit")] == [
        f"{unit_id(po[3])}[{i}]" for i in range(3)
    ]
    assert b"Old text" not in xliff  # obsolete entries are not exported


def test_tag_only_text_is_not_reindented(tmp_path: Path) -> None:
    po = polib.POFile()
    po.append(polib.POEntry(msgid="<a1>OC Media</a1>", msgstr="<a1>OC Media</a1>"))
    po.append(polib.POEntry(msgid="<br1/><em1><a1>Baku</a1></em1>"))
    xliff = render_xliff(po, original="x")
    assert b'<source><g id="a1">OC Media</g></source>' in xliff
    assert b'<source><x id="br1"/><g id="em1"><g id="a1">Baku</g></g></source>' in xliff
    result = apply_xliff(po, xliff, tmp_path / "x.xlf")
    assert (result.unchanged, result.problems) == (2, ())


def test_reimporting_an_untouched_export_changes_nothing(tmp_path: Path) -> None:
    po = _catalogue()
    before = str(po)
    result = apply_xliff(po, render_xliff(po, original="x"), tmp_path / "x.xlf")
    assert (result.updated, result.kept, result.problems) == (0, 0, ())
    assert result.unchanged == 4
    assert str(po) == before


def _edit(xliff: bytes, uid: str, text: str | None, state: str | None) -> bytes:
    """Set a unit's target as a CAT tool would (None text: remove the target)."""
    root = etree.fromstring(xliff)
    unit = next(u for u in root.iter(f"{X}trans-unit") if u.get("id") == uid)
    target = unit.find(f"{X}target")
    if target is not None:
        unit.remove(target)
    if text is not None:
        target = etree.Element(f"{X}target")
        unit.find(f"{X}source").addnext(target)  # type: ignore[union-attr]
        fragment = etree.fromstring(f'<t xmlns="{XLIFF_NS}">{text}</t>')
        target.text = fragment.text
        target.extend(list(fragment))
        if state is not None:
            target.set("state", state)
    if "approved" in unit.attrib:
        del unit.attrib["approved"]
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


_XML_CHARS = st.characters(
    blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"
) | st.sampled_from("\n\t\r&<> ")


@st.composite
def notation_texts(draw: st.DrawFn, depth: int = 0) -> str:
    """Random well-formed notation: escaped text, void tags and nested tag pairs."""
    parts: list[str] = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.integers(0, 5 if depth < 2 else 3))
        if kind <= 2:
            parts.append(escape_text(draw(st.text(_XML_CHARS, max_size=12))))
        elif kind == 3:
            parts.append(f"<br{len(parts) + 1}/>")
        else:
            name = f"{draw(st.sampled_from(['a', 'em', 'span-x']))}{depth + 1}{len(parts) + 1}"
            parts.append(f"<{name}>{draw(notation_texts(depth + 1))}</{name}>")
    return "".join(parts)


@settings(max_examples=200, deadline=None)
@given(notation_texts(), notation_texts(), st.booleans())
def test_xliff_carries_any_notation_text_exactly(msgid: str, msgstr: str, fuzzy: bool) -> None:
    source = polib.POFile()
    source.append(polib.POEntry(msgid=msgid, msgstr=msgstr, flags=["fuzzy"] if fuzzy else []))
    xliff = render_xliff(source, original="x")
    fresh = polib.POFile()
    fresh.append(polib.POEntry(msgid=msgid))
    result = apply_xliff(fresh, xliff, Path("x.xlf"))
    assert result.problems == ()
    assert fresh[0].msgstr == msgstr
    assert ("fuzzy" in fresh[0].flags) == (fuzzy and bool(msgstr))


def test_translated_target_is_written_and_clears_fuzzy(tmp_path: Path) -> None:
    po = _catalogue()
    uid = unit_id(po[1])
    xliff = _edit(render_xliff(po, original="x"), uid, "Протестующие собрались в Тбилиси.", "final")
    result = apply_xliff(po, xliff, tmp_path / "x.xlf")
    assert result.updated == 1
    assert po[1].msgstr == "Протестующие собрались в Тбилиси."
    assert "fuzzy" not in po[1].flags
    assert po[1].previous_msgid is None  # `#|` goes with the fuzzy flag, as in msgmerge


def test_moved_tags_and_characters_come_back_as_notation(tmp_path: Path) -> None:
    po = _catalogue()
    xliff = render_xliff(po, original="x")
    xliff = _edit(xliff, unit_id(po[0]), '<x id="br1"/><g id="a1">OC Media</g>: читайте.', None)
    xliff = _edit(xliff, unit_id(po[2]), "AT&amp;T &lt;b&gt; ушла из Баку.", "translated")
    result = apply_xliff(po, xliff, tmp_path / "x.xlf")
    assert result.updated == 2
    assert po[0].msgstr == "<br1/><a1>OC Media</a1>: читайте."
    assert po[2].msgstr == "AT&amp;T &lt;b&gt; ушла из Баку."


def test_no_translation_is_ever_lost(tmp_path: Path) -> None:
    po = _catalogue()
    xliff = render_xliff(po, original="x")
    # An emptied target and a removed target change nothing.
    xliff = _edit(xliff, unit_id(po[0]), "", "translated")
    xliff = _edit(xliff, unit_id(po[1]), None, None)
    result = apply_xliff(po, xliff, tmp_path / "x.xlf")
    assert po[0].msgstr == "Читайте на <a1>OC Media</a1>.<br1/>"
    assert po[1].msgstr == "Протестующие собрались в Тифлисе."
    assert result.updated == 0


def test_a_draft_does_not_replace_an_approved_translation(tmp_path: Path) -> None:
    po = _catalogue()
    xliff = render_xliff(po, original="x")
    xliff = _edit(xliff, unit_id(po[0]), "Черновик.", "needs-review-translation")
    xliff = _edit(xliff, unit_id(po[2]), "AT&amp;T ушла.", "new")
    result = apply_xliff(po, xliff, tmp_path / "x.xlf")
    assert result.kept == 1
    assert po[0].msgstr == "Читайте на <a1>OC Media</a1>.<br1/>"
    # …but fills an untranslated entry, as fuzzy.
    assert po[2].msgstr == "AT&amp;T ушла."
    assert "fuzzy" in po[2].flags


def test_review_state_on_an_unchanged_target_marks_it_fuzzy(tmp_path: Path) -> None:
    po = _catalogue()
    xliff = render_xliff(po, original="x").replace(
        b'state="translated"', b'state="needs-review-translation"', 1
    )
    assert apply_xliff(po, xliff, tmp_path / "x.xlf").updated == 1
    assert "fuzzy" in po[0].flags
    assert po[0].msgstr == "Читайте на <a1>OC Media</a1>.<br1/>"


def test_plural_forms_import(tmp_path: Path) -> None:
    po = _catalogue()
    gid = unit_id(po[3])
    xliff = _edit(render_xliff(po, original="x"), f"{gid}[2]", "%d деревень", "translated")
    assert apply_xliff(po, xliff, tmp_path / "x.xlf").updated == 1
    assert po[3].msgstr_plural == {0: "%d село", 1: "%d села", 2: "%d деревень"}


def test_units_that_do_not_fit_are_reported_with_lines(tmp_path: Path) -> None:
    po = _catalogue()
    xliff = render_xliff(po, original="x")
    changed = _catalogue()
    changed[0].msgid = "Read on <a1>OC Media</a1> today.<br1/>"  # the article changed since
    result = apply_xliff(changed, xliff, tmp_path / "x.xlf")
    assert len(result.problems) == 1
    assert result.problems[0].startswith(f"{tmp_path / 'x.xlf'}:")
    assert "no such entry" in result.problems[0]
    assert changed[0].msgstr == "Читайте на <a1>OC Media</a1>.<br1/>"
    # A source edited in the CAT tool is not applied either.
    edited = xliff.replace(b"Protesters gathered", b"Protesters met")
    assert (
        "source text differs" in apply_xliff(_catalogue(), edited, tmp_path / "x.xlf").problems[0]
    )


def test_unsupported_inline_markup_is_reported_not_applied(tmp_path: Path) -> None:
    po = _catalogue()
    xliff = _edit(
        render_xliff(po, original="x"), unit_id(po[2]), 'AT<bpt id="1">&lt;b&gt;</bpt>T', None
    )
    result = apply_xliff(po, xliff, tmp_path / "x.xlf")
    assert "inline element <bpt> is not supported" in result.problems[0]
    assert po[2].msgstr == ""


def test_text_xml_cannot_carry_is_an_input_error(tmp_path: Path) -> None:
    po = _catalogue()
    po.append(polib.POEntry(msgid="bell\x07", msgstr=""))
    with pytest.raises(InputError, match="cannot be written as XLIFF"):
        render_xliff(po, original="x")


@needs_po_corpus
@pytest.mark.parametrize("path", corpus_po_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_catalogue_survives_an_xliff_round_trip(path: Path, tmp_path: Path) -> None:
    po = polib.pofile(str(path), wrapwidth=79)
    before = str(po)
    result = apply_xliff(po, render_xliff(po, original=path.name), tmp_path / "x.xlf")
    assert (result.updated, result.kept, result.problems) == (0, 0, ())
    assert str(po) == before


@needs_po_corpus
@needs_gettext
def test_cat_tool_translation_of_a_corpus_catalogue_passes_msgfmt(tmp_path: Path) -> None:
    path = next(p for p in corpus_po_files() if p.name == "django-contrib-humanize.po")
    po = polib.pofile(str(path), wrapwidth=79)
    translated_before = {e.msgid: e.msgstr for e in po.translated_entries()}
    root = etree.fromstring(render_xliff(po, original=path.name))
    filled = 0
    for unit in root.iter(f"{X}trans-unit"):  # the "translator" copies every source
        if unit.find(f"{X}target") is None:
            target = etree.Element(f"{X}target", state="translated")
            source = unit.find(f"{X}source")
            assert source is not None
            target.text, target[:] = (
                source.text,
                [etree.fromstring(etree.tostring(c)) for c in source],
            )
            source.addnext(target)
            filled += 1
    result = apply_xliff(po, etree.tostring(root, encoding="UTF-8"), tmp_path / "z.xlf")
    assert result.problems == () and filled > 0
    for entry in po.translated_entries():  # earlier translations untouched
        if entry.msgid in translated_before:
            assert entry.msgstr == translated_before[entry.msgid]
    assert len(po.untranslated_entries()) == 0
    out = tmp_path / "humanize.po"
    po.save(str(out))
    proc = subprocess.run(["msgfmt", "-c", "-o", "/dev/null", str(out)], capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode()
