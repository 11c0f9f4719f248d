"""PO syntax: the reader yields polib's entries, the writer writes msgcat's bytes."""

from __future__ import annotations

import ctypes
import ctypes.util
import random
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

from transflow.errors import CatalogError
from transflow.linebreak import BREAK_POSSIBLE, possible_linebreaks, width_linebreaks
from transflow.pofile import parse_entries, parse_po, render_po

from .conftest import SHARED, corpus_po_files, needs_corpus, needs_gettext

FIELDS = ("msgid", "msgstr", "msgid_plural", "msgstr_plural", "msgctxt", "obsolete", "encoding",
          "comment", "tcomment", "occurrences", "flags", "previous_msgctxt", "previous_msgid",
          "previous_msgid_plural", "linenum")  # fmt: skip
GEN_CORPUS = SHARED / "bench" / "gen_corpus.py"


def msgcat(path: Path) -> bytes:
    return subprocess.run(["msgcat", str(path)], capture_output=True, check=True).stdout


def differences(path: Path) -> list[str]:
    """Every field where our reader and polib disagree (polib drops `#~|` lines: skipped)."""
    ours = parse_po(path.read_bytes(), path)
    theirs = polib.pofile(str(path), wrapwidth=79)
    out = [f"file.{attr}" for attr in ("header", "metadata", "metadata_is_fuzzy", "encoding")
           if getattr(ours, attr) != getattr(theirs, attr)]  # fmt: skip
    if len(ours) != len(theirs):
        return out + [f"{len(ours)} entries, polib {len(theirs)}"]
    for a, b in zip(ours, theirs, strict=True):
        for name in FIELDS:
            if b.obsolete and name.startswith("previous"):
                continue
            if getattr(a, name) != getattr(b, name):
                out.append(f"line {b.linenum}: {name}: {getattr(a, name)!r} != {getattr(b, name)!r}")
    return out


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A few articles of the benchmark corpus (its generator is stdlib-only)."""
    if not GEN_CORPUS.is_file():
        pytest.skip(f"benchmark generator not found at {GEN_CORPUS}")
    out = tmp_path_factory.mktemp("bench")
    subprocess.run([sys.executable, str(GEN_CORPUS), str(out / "c"), "--articles", "30",
                    "--seed", "7", "--jobs", "1"], check=True, capture_output=True)  # fmt: skip
    return sorted((out / "c" / "locales").glob("*/*.po"))


# --- equivalence ---------------------------------------------------------------------------


@needs_corpus
@pytest.mark.parametrize("path", corpus_po_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_reader_matches_polib_on_the_corpus(path: Path) -> None:
    assert differences(path) == []


def test_reader_matches_polib_on_synthetic_catalogues(synthetic: list[Path]) -> None:
    assert len(synthetic) == 60
    assert {str(p): differences(p) for p in synthetic} == {str(p): [] for p in synthetic}


@needs_corpus
@needs_gettext
@pytest.mark.parametrize("path", corpus_po_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_writer_matches_msgcat_on_the_corpus(path: Path) -> None:
    ours = render_po(parse_po(path.read_bytes(), path)).encode("utf-8")
    assert ours == msgcat(path)


@needs_gettext
def test_writer_matches_msgcat_on_synthetic_catalogues(synthetic: list[Path]) -> None:
    bad = [p.name for p in synthetic
           if render_po(parse_po(p.read_bytes(), p)).encode() != msgcat(p)]  # fmt: skip
    assert bad == []


# --- the writer on hard cases -------------------------------------------------------------

HARD = r'''# A header comment
#
msgid ""
msgstr ""
"Project-Id-Version: test\n"
"Content-Type: text/plain; charset=UTF-8\n"
"Plural-Forms: nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);\n"

#foo
#   spaced
#.x
#.
#: a.c:1   b.c  ./c.c:3 a.c:1 d:x
#, no-wrap, python-format, c-format, fuzzy, range: 1..5, wrap, foo, sh-format
#| msgid "old"
msgctxt "ctx"
msgid "a"
msgstr "b"

#, fuzzy
msgid "untranslated fuzzy: the flag goes"
msgstr ""

msgid "Very long line with \"quotes\" and a\ttab and a backslash \\ that goes on and on past the margin"
msgstr "Очень длинная строка с «кавычками» и табуляцией\t и обратной чертой \\, которая тянется за поля страницы"

msgid "Lines\nwith\nnewlines\n"
msgstr "Строки\nс\nпереводами\n"

#, c-format
msgid "%d file of %s in directory %-20s with a long tail so that it wraps around the margin %lu"
msgid_plural "%d files of %s in directory %-20s with a long tail so that it wraps around the margin %lu"
msgstr[0] "%d файл"
msgstr[1] "%d файла"
msgstr[2] "%d файлов"

msgid "日本語の文章は単語の間に空白がないので、行はどこでも折り返すことができます。これは長い文です。"
msgstr "中文句子也没有空格，因此可以在任何两个汉字之间换行。这是一个很长的句子，用来测试折行。"

msgid "a-very-long-hyphenated-compound-word-that-goes-on/and/on/with/slashes/too/until/the/margin/ends"
msgstr "https://example.org/a/very/long/url/that/has/no/spaces/at/all/in/it/and/goes/past/the/margin"

#~| msgid "older"
#~ msgid "gone"
#~ msgstr "ушло"

#~ msgid "gone untranslated"
#~ msgstr ""
'''.replace("#   spaced", "#   spaced  ")  # trailing spaces msgcat keeps


@needs_gettext
def test_writer_matches_msgcat_on_hard_cases(tmp_path: Path) -> None:
    path = tmp_path / "hard.po"
    path.write_text(HARD, "utf-8")
    ours = render_po(parse_po(path.read_bytes(), path)).encode("utf-8")
    assert ours.decode() == msgcat(path).decode()


@needs_gettext
def test_writer_matches_msgcat_on_random_text(tmp_path: Path) -> None:
    alphabet = list("aaaaaaeeiioo   -/.,;:!?()[]'\"%$\\\t\n0123") + [
        "\u2014", "\u2026", "\u00a0", "ж", "ქ", "«", "»", "\u201c", "\u201d", "日", "本", "。",
        "\u0301", "가", "\U0001F600", "\u200b"]  # fmt: skip
    rng = random.Random(5)
    blocks = ['msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n']
    for i in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(20, 260)))
        blocks.append(f'msgid "{i}"\nmsgstr "{_po_escape(text)}"\n')
    path = tmp_path / "random.po"
    path.write_text("\n".join(blocks), "utf-8")
    assert render_po(parse_po(path.read_bytes(), path)) == msgcat(path).decode()


def _po_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t").replace("\n", "\\n")


def _libunistring() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("unistring")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name)
    except OSError:
        return None


def test_line_breaking_matches_libunistring() -> None:
    lib = _libunistring()
    if lib is None:
        pytest.skip("libunistring is not installed")
    lib.u32_possible_linebreaks.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p,
                                            ctypes.c_char_p]  # fmt: skip
    lib.u32_width_linebreaks.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                                         ctypes.c_int, ctypes.c_int, ctypes.c_char_p,
                                         ctypes.c_char_p, ctypes.c_char_p]  # fmt: skip

    def ref(text: str, width: int | None = None) -> list[int]:
        arr = (ctypes.c_uint32 * len(text))(*map(ord, text))
        out = ctypes.create_string_buffer(len(text))
        if width is None:
            lib.u32_possible_linebreaks(arr, len(text), b"UTF-8", out)
        else:
            lib.u32_width_linebreaks(arr, len(text), width, 3, 0, None, b"UTF-8", out)
        return list(out.raw)

    alphabet = list("a0 -/.,;:!?()[]{}'\"%$#&*+=<>\\|@_~\t") + [
        "\u0301", "\u2060", "\u200b", "\u00a0", "\u2014", "\u2010", "\u00b4", "\u2026", "\u203c",
        "\u05d0", "\u4e00", "\u3002", "\u300c", "\u3041", "\u30fc", "\uac00", "\u1100", "\u1160",
        "\u11a8", "\U0001F1E6", "\u200d", "\u261d", "\U0001F3FB", "\u2028", "\u3008", "ж", "ქ",
        "\u201c", "«", "\u0e01", "\uff01"]  # fmt: skip
    rng = random.Random(1)
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))
        assert possible_linebreaks(text) == ref(text), repr(text)
        width = rng.randint(4, 30)
        assert width_linebreaks(text, width, 3) == ref(text, width), repr(text)
    assert BREAK_POSSIBLE == 2


# --- the reader ----------------------------------------------------------------------------


def test_reader_keeps_what_polib_keeps_and_more(tmp_path: Path) -> None:
    path = tmp_path / "hard.po"
    path.write_text(HARD, "utf-8")
    po = parse_po(path.read_bytes(), path)
    entry = po.find("a", msgctxt="ctx")
    assert entry is not None
    assert entry.occurrences == [("a.c", "1"), ("b.c", ""), ("./c.c", "3"), ("a.c", "1"),
                                 ("d:x", "")]  # fmt: skip
    assert entry.previous_msgid == "old"
    assert "fuzzy" in entry.flags and "python-format" in entry.flags
    gone = [e for e in po if e.obsolete]
    assert [e.msgid for e in gone] == ["gone", "gone untranslated"]
    assert gone[0].previous_msgid == "older"  # polib drops `#~|`; msgcat keeps it, so do we
    plural = po.find("%d file of %s in directory %-20s with a long tail so that it wraps "
                     "around the margin %lu")  # fmt: skip
    assert plural is not None and plural.msgstr_plural[2] == "%d файлов"
    assert po.metadata["Project-Id-Version"] == "test"


def test_reader_decodes_the_declared_charset(tmp_path: Path) -> None:
    text = ('msgid ""\nmsgstr "Content-Type: text/plain; charset=KOI8-R\\n"\n\n'
            'msgid "Hello"\nmsgstr "Привет"\n')  # fmt: skip
    path = tmp_path / "koi8.po"
    path.write_bytes(text.encode("koi8-r"))
    po = parse_po(path.read_bytes(), path)
    assert po.encoding.lower().replace("_", "-") == "koi8-r"
    assert po.find("Hello").msgstr == "Привет"
    assert po == polib.pofile(str(path))


BAD = {
    "unterminated": ('msgid "a\nmsgstr "b"\n', 1, "unterminated"),
    "garbage": ('msgid "a"\nmsgstr "b"\n\nthis is not PO\n', 4, "unexpected text"),
    "truncated": ('msgid "a"\nmsgstr "b"\n\nmsgid "c"\n', 4, "file ends"),
    "bad escape": ('msgid "a\\q"\nmsgstr "b"\n', 1, "invalid escape"),
    "text after string": ('msgid "a" x\nmsgstr "b"\n', 1, "after the closing quote"),
    "msgstr[N] without plural": ('msgid "a"\nmsgstr[0] "b"\n', 2, "without msgid_plural"),
    "msgstr before msgid": ('msgstr "b"\n', 1, "without a msgid"),
    "duplicate": ('msgid "a"\nmsgstr "b"\n\nmsgid "a"\nmsgstr "c"\n', 4, "duplicate"),
    "duplicate in context": ('msgctxt "m"\nmsgid "a"\nmsgstr ""\n\nmsgctxt "m"\nmsgid "a"\n'
                             'msgstr ""\n', 6, "duplicate"),
    "plural without header": ('msgid "a"\nmsgid_plural "as"\nmsgstr[0] "b"\nmsgstr[1] "bs"\n',
                              1, "Plural-Forms"),
    "wrong Plural-Forms": ('msgid ""\nmsgstr "Plural-Forms: two;\\n"\n\nmsgid "a"\n'
                           'msgid_plural "as"\nmsgstr[0] "b"\n', 1, "Plural-Forms"),
    "too many forms": ('msgid ""\nmsgstr "Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'
                       'msgid "a"\nmsgid_plural "as"\nmsgstr[0] "b"\nmsgstr[1] "c"\n'
                       'msgstr[2] "d"\n', 4, "nplurals=2"),
    "unknown keyword": ('msgid "a"\nmsgtxt "b"\n', 2, "unknown keyword"),
    "string continues nothing": ('"a"\n', 1, "continues nothing"),
    "comment inside entry": ('msgid "a"\n# note\nmsgstr "b"\n', 2, "between msgid and msgstr"),
}  # fmt: skip


@pytest.mark.parametrize("name", list(BAD))
def test_malformed_input_is_reported_with_path_and_line(tmp_path: Path, name: str) -> None:
    text, line, words = BAD[name]
    path = tmp_path / "bad.po"
    path.write_text(text, "utf-8")
    with pytest.raises(CatalogError) as info:
        parse_po(path.read_bytes(), path)
    assert info.value.line == line
    assert words in info.value.message
    assert str(info.value).startswith(f"{path}:{line}: ")


@pytest.mark.parametrize("name", list(BAD))
def test_light_entries_fail_as_parse_po_does(tmp_path: Path, name: str) -> None:
    """`parse_entries` (check, status) is the same parser: the same error, word for word."""
    data = BAD[name][0].encode("utf-8")
    with pytest.raises(CatalogError) as strict:
        parse_po(data, tmp_path / "bad.po")
    with pytest.raises(CatalogError) as light:
        parse_entries(data, tmp_path / "bad.po")
    assert str(light.value) == str(strict.value)


def _light_differences(path: Path) -> list[str]:
    """Fields where `parse_entries`' light entries differ from `parse_po`'s polib entries."""
    data = path.read_bytes()
    po, light = parse_po(data, path), parse_entries(data, path)
    out = [] if light.metadata == po.metadata else ["metadata"]
    if len(light.entries) != len(po):
        return out + [f"{len(light.entries)} light entries, {len(po)} polib entries"]
    for a, b in zip(light.entries, po, strict=True):
        for name in (*FIELDS, "msgid_line"):
            if name == "encoding":
                continue
            if getattr(a, name) != getattr(b, name):
                out.append(f"line {b.linenum}: {name}: {getattr(a, name)!r} != {getattr(b, name)!r}")
    return out


@needs_corpus
def test_light_entries_are_parse_po_entries_on_the_corpus() -> None:
    paths = corpus_po_files()
    assert {str(p): _light_differences(p) for p in paths} == {str(p): [] for p in paths}


def test_light_entries_are_parse_po_entries_on_synthetic_catalogues(synthetic: list[Path]) -> None:
    assert {str(p): _light_differences(p) for p in synthetic} == {str(p): [] for p in synthetic}


def _lex(token: str) -> str | None:
    """gettext's string lexer (po-lex.c), one character at a time; None for an error."""
    if len(token) < 2 or token[0] != '"' or token[-1] != '"':
        return None
    out, i, inner = [], 0, token[1:-1]
    simple = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v",
              "\\": "\\", '"': '"'}
    while i < len(inner):
        ch = inner[i]
        if ch == '"':
            return None
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = inner[i + 1: i + 2]
        if nxt in simple and nxt:
            out.append(simple[nxt])
            i += 2
        elif nxt and nxt in "01234567":
            j = i + 1
            while j < len(inner) and j < i + 4 and inner[j] in "01234567":
                j += 1
            out.append(chr(int(inner[i + 1: j], 8)))
            i = j
        elif nxt == "x" and inner[i + 2: i + 3] and inner[i + 2] in "0123456789abcdefABCDEF":
            j = i + 2
            while j < len(inner) and inner[j] in "0123456789abcdefABCDEF":
                j += 1
            out.append(chr(int(inner[i + 2: j], 16) & 0xFF))
            i = j
        else:
            return None
    return "".join(out)


def test_string_escapes_match_a_character_lexer() -> None:
    """Every quoted token of up to 4 characters from a tricky alphabet: the reader's value
    (or its error) is the character-by-character lexer's."""
    import itertools

    alphabet = ["\\", '"', "n", "t", "x", "4", "7", "q", "й"]
    for size in range(5):
        for chars in itertools.product(alphabet, repeat=size):
            token = '"' + "".join(chars) + '"'
            want = _lex(token)
            data = f'msgid "a"\nmsgstr {token}\n'.encode()
            try:
                got: str | None = parse_entries(data, "x.po").entries[0].msgstr
            except CatalogError:
                got = None
            assert got == want, token


@needs_gettext
def test_comment_markers_without_a_space_read_as_gettext_reads_them(tmp_path: Path) -> None:
    """`#,fuzzy`, `#.note`, `#:a.html:3`: polib refuses them, msgcat reads them (no data lost)."""
    path = tmp_path / "x.po"
    path.write_text('#.note\n#:a.html:3 b.html\n#,fuzzy, c-format\nmsgid "a %d"\nmsgstr "b %d"\n',
                    "utf-8")
    po = parse_po(path.read_bytes(), path)
    assert (po[0].comment, po[0].occurrences, po[0].flags) == (
        "note", [("a.html", "3"), ("b.html", "")], ["fuzzy", "c-format"])
    assert render_po(po) == msgcat(path).decode()
    light = parse_entries(path.read_bytes(), path).entries[0]
    assert (light.comment, light.occurrences, light.flags) == (
        po[0].comment, po[0].occurrences, po[0].flags)


def test_invalid_utf8_under_a_utf8_header(tmp_path: Path) -> None:
    data = b'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\nmsgid "a"\nmsgstr "\xff"\n'
    with pytest.raises(CatalogError) as info:
        parse_po(data, tmp_path / "x.po")
    assert info.value.line == 5 and "UTF-8" in info.value.message.upper()


@needs_gettext
def test_what_we_reject_msgfmt_rejects_too(tmp_path: Path) -> None:
    for name, (text, _, _) in BAD.items():
        if name in ("comment inside entry",):
            continue  # gettext's grammar rejects it as well, but as a warning in some versions
        path = tmp_path / "bad.po"
        path.write_text(text, "utf-8")
        result = subprocess.run(["msgfmt", "-c", "-o", "/dev/null", str(path)],
                                capture_output=True)  # fmt: skip
        assert result.returncode != 0, name


def test_gettext_is_optional_for_the_writer() -> None:
    # The writer needs no gettext and no libunistring at run time: only its data table.
    assert shutil.which  # (the tests above compare with the real tools when present)
    po = parse_po(b'msgid "a"\nmsgstr "b"\n', "x.po")
    assert render_po(po) == 'msgid "a"\nmsgstr "b"\n'
