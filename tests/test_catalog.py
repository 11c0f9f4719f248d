"""Catalogue creation, merge as msgmerge does, translation memory, writing."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import polib
import pytest

from transflow.catalog import (
    TranslationMemory,
    build_template,
    catalog_bytes,
    creation_date,
    merge_catalog,
    parse_catalog,
    read_catalog,
    render_catalog,
    strings_of,
    write_catalog,
)
from transflow.errors import CatalogError

from .conftest import corpus_html_pages, needs_corpus, needs_gettext

DATE = "2024-05-01 10:00+0000"


@dataclass(frozen=True, slots=True)
class Seg:
    msgid: str
    line: int
    context: str = "p"


def template(*texts: str) -> polib.POFile:
    return build_template([Seg(t, i + 10) for i, t in enumerate(texts)], "source/a.html",
                          project_id="a", date=DATE)  # fmt: skip


def translate(po: polib.POFile, prefix: str = "RU ") -> polib.POFile:
    for e in po:
        if not e.obsolete:
            e.msgstr = prefix + e.msgid
            e.flags = [f for f in e.flags if f != "fuzzy"]
    return po


def roundtrip(po: polib.POFile) -> polib.POFile:
    """Write and read back: what is on disk is what counts."""
    return parse_catalog(catalog_bytes(po), "x.po")


class FakeGlossary:
    def hints(self, msgid: str, lang: str) -> list[str]:
        return [f"Stepanakert → Степанакерт ({lang})"] if "Stepanakert" in msgid else []


# --- templates ------------------------------------------------------------------------------


def test_template_merges_duplicates_and_keeps_context() -> None:
    segs = [Seg("Title", 3, "title"), Seg("Hello world.", 7), Seg("Title", 9, "h1"),
            Seg("Hello world.", 12), Seg("A caption.", 20, "figcaption")]  # fmt: skip
    pot = build_template(segs, "source/a.html", project_id="a", date=DATE)
    assert [e.msgid for e in pot] == ["Title", "Hello world.", "A caption."]
    assert pot[0].occurrences == [("source/a.html", "3"), ("source/a.html", "9")]
    assert pot[0].comment == "title, h1"
    assert pot[2].comment == "figcaption"
    assert all(e.msgctxt is None for e in pot)
    assert pot.metadata["POT-Creation-Date"] == DATE
    assert pot.metadata["Content-Type"] == "text/plain; charset=UTF-8"
    text = render_catalog(pot)
    assert "#: source/a.html:3 source/a.html:9\n" in text
    assert text.startswith('msgid ""\nmsgstr ""\n"Project-Id-Version: a\\n"\n')


def test_creation_date_honours_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert creation_date() == "2023-11-14 22:13+0000"


def test_new_catalogue_header(tmp_path: Path) -> None:
    po, stats = merge_catalog(template("One.", "Two."), None, "ru")
    assert po.metadata["Language"] == "ru"
    assert po.metadata["Plural-Forms"].startswith("nplurals=3;")
    assert po.metadata["Content-Type"] == "text/plain; charset=UTF-8"
    assert po.metadata["POT-Creation-Date"] == DATE
    assert stats.new == 2 and stats.total == 2


def test_glossary_hints_are_extracted_comments() -> None:
    po, _ = merge_catalog(template("In Stepanakert today."), None, "ru", glossary=FakeGlossary())
    assert po[0].comment == "p\nglossary: Stepanakert → Степанакерт (ru)"
    assert "#. glossary: Stepanakert → Степанакерт (ru)\n" in render_catalog(po)


# --- merge: no translation is ever lost --------------------------------------------------------

V1 = ["Title of the story", "The minister said on Monday that talks would resume soon.",
      "Residents of the town gathered outside the hall to hear the news.",
      "A third paragraph closes the story with a quote from the mayor."]  # fmt: skip


def merged_after(new_texts: list[str]) -> tuple[polib.POFile, polib.POFile]:
    old, _ = merge_catalog(template(*V1), None, "ru")
    old = roundtrip(translate(old))
    new, _ = merge_catalog(template(*new_texts), old, "ru")
    return old, roundtrip(new)


def assert_nothing_lost(old: polib.POFile, new: polib.POFile) -> None:
    kept = set(strings_of(new))
    assert [s for s in strings_of(old) if s not in kept] == []


SCENARIOS = {
    "changed sentence": [V1[0], V1[1].replace("Monday", "Tuesday"), V1[2], V1[3]],
    "removed paragraph": [V1[0], V1[1], V1[3]],
    "added paragraph": [V1[0], "A brand new paragraph about something else.", *V1[1:]],
    "reordered": [V1[0], V1[3], V1[2], V1[1]],
    "split in two": [V1[0], "The minister said on Monday.", "Talks would resume soon.",
                     V1[2], V1[3]],
    "two merged into one": [V1[0], V1[1] + " " + V1[2], V1[3]],
    "everything rewritten": ["Completely different words", "Nothing alike at all here."],
}  # fmt: skip


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_merge_never_loses_a_translation(name: str) -> None:
    old, new = merged_after(SCENARIOS[name])
    assert_nothing_lost(old, new)
    assert [e.msgid for e in new if not e.obsolete] == SCENARIOS[name]


def test_changed_entry_is_fuzzy_with_previous_msgid() -> None:
    old, new = merged_after(SCENARIOS["changed sentence"])
    entry = new.find(SCENARIOS["changed sentence"][1])
    assert entry is not None and "fuzzy" in entry.flags
    assert entry.previous_msgid == V1[1]
    assert entry.msgstr == "RU " + V1[1]
    unchanged = new.find(V1[2])
    assert unchanged is not None and unchanged.msgstr == "RU " + V1[2]
    assert "fuzzy" not in unchanged.flags


def test_removed_entry_is_obsolete_and_revived() -> None:
    old, new = merged_after(SCENARIOS["removed paragraph"])
    gone = [e for e in new if e.obsolete]
    assert [e.msgid for e in gone] == [V1[2]]
    assert gone[0].msgstr == "RU " + V1[2]
    back, stats = merge_catalog(template(*V1), new, "ru")
    back = roundtrip(back)
    assert stats.revived == 1
    entry = back.find(V1[2])
    assert entry is not None and entry.msgstr == "RU " + V1[2] and "fuzzy" not in entry.flags
    assert not [e for e in back if e.obsolete]


def test_reverted_text_gets_its_translation_back() -> None:
    old, v2 = merged_after(SCENARIOS["changed sentence"])
    v2 = roundtrip(translate(v2, "RU2 "))  # the translator updates the fuzzy entry
    v3, _ = merge_catalog(template(*V1), v2, "ru")
    v3 = roundtrip(v3)
    assert_nothing_lost(v2, v3)
    entry = v3.find(V1[1])
    assert entry is not None and entry.msgstr.startswith("RU2 ")
    assert "fuzzy" in entry.flags


def test_translator_comments_and_flags_survive_a_merge() -> None:
    old, _ = merge_catalog(template(*V1), None, "ru")
    old = translate(old)
    old[1].tcomment = "checked with the desk"
    old[1].flags = ["fuzzy"]
    new, _ = merge_catalog(template(*V1), roundtrip(old), "ru")
    entry = roundtrip(new).find(V1[1])
    assert entry is not None
    assert entry.tcomment == "checked with the desk" and entry.flags == ["fuzzy"]


def test_untranslated_removed_entries_are_dropped() -> None:
    old, _ = merge_catalog(template(*V1), None, "ru")
    new, stats = merge_catalog(template(V1[0]), old, "ru")
    assert [e.msgid for e in new] == [V1[0]] and stats.obsolete == 0


def test_merge_is_idempotent() -> None:
    old, new = merged_after(SCENARIOS["split in two"])
    again, _ = merge_catalog(template(*SCENARIOS["split in two"]), new, "ru")
    assert render_catalog(again) == render_catalog(new)


# --- translation memory ---------------------------------------------------------------------


def memory_of(*pairs: tuple[str, str]) -> TranslationMemory:
    po = polib.POFile()
    for msgid, msgstr in pairs:
        po.append(polib.POEntry(msgid=msgid, msgstr=msgstr))
    po.append(polib.POEntry(msgid="Fuzzy one", msgstr="X", flags=["fuzzy"]))
    memory = TranslationMemory()
    memory.add_catalog(po)
    return memory


def test_memory_fills_new_entries() -> None:
    memory = memory_of(("Support independent journalism in the Caucasus.",
                        "Поддержите независимую журналистику на Кавказе."))  # fmt: skip
    texts = ["Support independent journalism in the Caucasus.",
             "Support independent journalism in the South Caucasus.", "Fuzzy one",
             "Something unrelated entirely."]  # fmt: skip
    po, stats = merge_catalog(template(*texts), None, "ru", memory=memory)
    exact, close, fuzzy_source, other = po
    assert exact.msgstr.startswith("Поддержите") and "fuzzy" not in exact.flags
    assert close.msgstr.startswith("Поддержите") and "fuzzy" in close.flags
    assert close.previous_msgid == texts[0]
    assert fuzzy_source.msgstr == "" and other.msgstr == ""
    assert stats.from_memory == 2 and stats.fuzzy == 1 and stats.new == 2


def test_memory_scales_without_quadratic_lookups() -> None:
    memory = memory_of(*((f"Sentence number {i} about topic {i % 97} in the region.",
                          f"Предложение {i}") for i in range(20000)))  # fmt: skip
    assert len(memory) == 20000
    found = memory.lookup("Sentence number 12345 about topic 26 in the regions.")
    assert found is not None and found[1] == "Предложение 12345"
    assert memory.lookup("Unrelated words only") is None


# --- files ----------------------------------------------------------------------------------


def test_write_catalog_only_when_bytes_change(tmp_path: Path) -> None:
    path = tmp_path / "ru" / "a.po"
    po, _ = merge_catalog(template(*V1), None, "ru")
    assert write_catalog(path, po) is True
    stamp = path.stat().st_mtime_ns
    assert write_catalog(path, read_catalog(path)) is False
    assert path.stat().st_mtime_ns == stamp
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_read_catalog_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogError) as info:
        read_catalog(tmp_path / "nope.po")
    assert "no such file" in str(info.value)


@needs_gettext
def test_written_catalogues_pass_msgfmt_and_msgcat(tmp_path: Path) -> None:
    old, new = merged_after(SCENARIOS["two merged into one"])
    for name, po in (("pot.pot", template(*V1)), ("old.po", old), ("new.po", new)):
        path = tmp_path / name
        write_catalog(path, po)
        result = subprocess.run(["msgfmt", "-c", "--check-header", "-o", "/dev/null", str(path)],
                                capture_output=True, text=True, check=True)  # fmt: skip
        # A template has no language: gettext's own POTs draw the same one warning.
        expected = "header field 'Language' missing" if name.endswith(".pot") else None
        assert [line for line in result.stderr.splitlines()
                if expected is None or expected not in line] == []  # fmt: skip
        assert subprocess.run(["msgcat", str(path)], capture_output=True,
                              check=True).stdout == path.read_bytes()  # fmt: skip


# --- the real pages ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_catalogues(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, Path, Path]]:
    from transflow.segment import extract_segments

    out = tmp_path_factory.mktemp("pages")
    made = []
    for page in corpus_html_pages():
        segments = extract_segments(page.read_bytes(), page)
        pot = build_template(segments, f"source/{page.name}", project_id=page.stem, date=DATE)
        pot_path = out / f"{page.stem}.pot"
        write_catalog(pot_path, pot)
        po, _ = merge_catalog(pot, None, "ja" if page.stem == "hukumusume" else "ru")
        for e in po:  # an identity translation exercises msgstr wrapping too
            e.msgstr = e.msgid
        po_path = out / f"{page.stem}.po"
        write_catalog(po_path, po)
        made.append((page.stem, pot_path, po_path))
    return made


@needs_corpus
@needs_gettext
def test_corpus_pages_give_msgcat_identical_catalogues(
    corpus_catalogues: list[tuple[str, Path, Path]],
) -> None:
    assert len(corpus_catalogues) == 54
    differ = []
    for _name, pot_path, po_path in corpus_catalogues:
        for path in (pot_path, po_path):
            cat = subprocess.run(["msgcat", str(path)], capture_output=True, check=True).stdout
            if cat != path.read_bytes():
                differ.append(path.name)
    assert differ == []


@needs_corpus
@needs_gettext
def test_corpus_page_catalogues_pass_msgfmt(corpus_catalogues: list[tuple[str, Path, Path]]) -> None:
    failed = []
    for _name, pot_path, po_path in corpus_catalogues:
        for path in (pot_path, po_path):
            result = subprocess.run(["msgfmt", "-c", "-o", "/dev/null", str(path)],
                                    capture_output=True, text=True)  # fmt: skip
            if result.returncode != 0:
                failed.append(f"{path.name}: {result.stderr[:200]}")
    assert failed == []
