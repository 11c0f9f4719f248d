"""PO syntax: the one strict, fast reader, and a writer identical to msgcat.

`parse_po` yields exactly the entries `polib.pofile` yields for a valid file (polib stays the
model), but checks the syntax as gettext does and reports `path:line: what is wrong`.
`parse_entries` is the same parser without the polib objects (check and status read with it).
`render_po` writes a catalogue the way GNU gettext 0.21's `msgcat` writes it (page width 79,
libunistring line breaking, flags normalised), so that a save in Poedit or a `msgcat` makes no diff.
"""

from __future__ import annotations

import codecs
import functools
import gettext
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polib

from transflow.errors import CatalogError
from transflow.linebreak import (
    BREAK_POSSIBLE,
    BREAK_PROHIBITED,
    BREAK_UNDEFINED,
    is_simple,
    simple_width_cuts,
    text_width,
    width_linebreaks,
)

PAGE_WIDTH = 79  # gettext's default `--width`; polib's 78 would make every long line differ

# Format-string kinds in gettext 0.21's order (`format_language[]`): msgcat writes them so.
FORMAT_LANGUAGES = (
    "c", "objc", "python", "python-brace", "java", "java-printf", "csharp", "javascript",
    "scheme", "lisp", "elisp", "librep", "ruby", "sh", "awk", "lua", "object-pascal",
    "smalltalk", "qt", "qt-plural", "kde", "kde-kuit", "boost", "tcl", "perl", "perl-brace",
    "php", "gcc-internal", "gfc-internal", "ycp",
)  # fmt: skip
_FORMAT_INDEX = {lang: i for i, lang in enumerate(FORMAT_LANGUAGES)}

# Directives that msgcat never breaks inside (write-po.c's FMTDIR spans), per format kind.
_DIRECTIVES: dict[str, re.Pattern[str]] = {
    "c": re.compile(
        r"%(?:\d+\$)?[-+ #0'I]*(?:\*(?:\d+\$)?|\d+)?(?:\.(?:\*(?:\d+\$)?|\d+)?)?"
        r"(?:hh|h|ll|l|L|q|j|z|Z|t)?(?:[diouxXeEfFgGaAcCsSpnm%]|<PRI\w+>)"
    ),
    "python": re.compile(
        r"%(?:\([^)]*\))?[-+ #0]*(?:\*|\d+)?(?:\.(?:\*|\d+)?)?[hlL]?[diouxXeEfFgGcrsa%]"
    ),
    "python-brace": re.compile(r"\{[^{}]*\}"),
    "javascript": re.compile(r"%(?:\d+\$)?[-+ #0]*\d*(?:\.\d+)?[bcdoxXsfjeEgGi%]"),
    "sh": re.compile(r"\$(?:[A-Za-z_]\w*|\{[A-Za-z_]\w*\})"),
}
_DIRECTIVES["objc"] = _DIRECTIVES["c"]

# Escapes gettext writes (write-po.c `is_escape` plus backslash and quote).
_ESCAPE_OUT = {
    "\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
    "\v": "\\v", "\\": "\\\\", '"': '\\"',
}  # fmt: skip
_NEEDS_ESCAPE = re.compile(r'[\a\b\f\n\r\t\v\\"]')
_ESCAPED_PAIR = re.compile(r"\\.", re.DOTALL)


def _escape_match(m: re.Match[str]) -> str:
    return _ESCAPE_OUT[m.group()]

# Escapes gettext reads (po-lex.c control_sequence); anything else after `\` is an error.
_ESCAPE_IN = {
    "n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v",
    "\\": "\\", '"': '"',
}  # fmt: skip
_ESCAPE_SEQ = re.compile(r"\\(?:([ntrabfv\\\"])|([0-7]{1,3})|x([0-9A-Fa-f]+)|(.|$))")
# A backslash before anything but a one-character escape (or a false alarm after `\\`).
_OTHER_ESCAPE = re.compile(r'\\[^ntrabfv\\"]')
_ESCAPE_PAIRS = tuple((f"\\{k}", v) for k, v in _ESCAPE_IN.items() if k != "\\")
_STRING = re.compile(r'"([^"\\]*(?:\\.[^"\\]*)*)"')
_PLAIN_KEYWORDS = frozenset(("msgid", "msgstr", "msgctxt", "msgid_plural"))
_KEYWORD = re.compile(r"(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?(?=[\s\"]|$)")
_CHARSET = re.compile(rb'"?Content-Type:.+? charset=([\w_\-:\.]+)')
_NPLURALS = re.compile(r"nplurals\s*=\s*(\d+)\s*;\s*plural\s*=")

# --------------------------------------------------------------------------- reading


class Entry:
    """One entry as the parser reads it, with polib's field names (`parse_po` makes it a
    `polib.POEntry`); `msgid_line` is the line of its `msgid` keyword."""

    __slots__ = (
        "msgid", "msgstr", "msgid_plural", "msgstr_plural", "msgctxt", "obsolete",
        "comment", "tcomment", "occurrences", "flags", "previous_msgctxt", "previous_msgid",
        "previous_msgid_plural", "linenum", "msgid_line", "has_msgstr", "raw_tc", "raw_gc",
    )  # fmt: skip

    def __init__(self, linenum: int) -> None:
        self.msgid = ""  # always set by the `msgid` line before the entry is complete
        self.msgstr = ""
        self.msgid_plural = ""
        self.msgstr_plural: dict[int, str] = {}
        self.msgctxt: str | None = None
        self.obsolete = 0
        self.comment = ""
        self.tcomment = ""
        self.occurrences: list[tuple[str, str]] = []
        self.flags: list[str] = []
        self.previous_msgctxt: str | None = None
        self.previous_msgid: str | None = None
        self.previous_msgid_plural: str | None = None
        self.linenum = linenum
        self.msgid_line = 0
        self.has_msgstr = False
        self.raw_tc: list[str] = []  # comment lines as written: gettext keeps what polib trims
        self.raw_gc: list[str] = []


def _entry_object(e: Entry) -> polib.POEntry:
    """A `polib.POEntry` with the same attributes polib's own parser would give it."""
    obj = polib.POEntry.__new__(polib.POEntry)
    obj.__dict__.update(
        msgid=e.msgid or "",
        msgstr=e.msgstr,
        msgid_plural=e.msgid_plural,
        msgstr_plural=e.msgstr_plural,
        msgctxt=e.msgctxt,
        obsolete=e.obsolete,
        encoding="utf-8",
        comment=e.comment,
        tcomment=e.tcomment,
        occurrences=e.occurrences,
        flags=e.flags,
        previous_msgctxt=e.previous_msgctxt,
        previous_msgid=e.previous_msgid,
        previous_msgid_plural=e.previous_msgid_plural,
        linenum=e.linenum,
    )
    extra = obj.__dict__
    extra["msgid_line"] = e.msgid_line  # where `msgid` is: what messages about the entry cite
    if e.raw_tc and "\n".join(_gettext_comment(r, 1) for r in e.raw_tc) != e.tcomment:
        extra["raw_tcomment"] = e.raw_tc
    if e.raw_gc and "\n".join(_gettext_comment(r, 2) for r in e.raw_gc) != e.comment:
        extra["raw_comment"] = e.raw_gc
    return obj


def _gettext_comment(raw: str, skip: int) -> str:
    """A comment's text as gettext keeps it: after the marker, less one space."""
    text = raw.lstrip()[skip:]
    return text[1:] if text.startswith(" ") else text


def _polib_tcomment(raw_lines: list[str]) -> str:
    """What polib makes of translator comment lines."""
    out = []
    for raw in raw_lines:
        line = raw.strip()
        if line == "#":
            line = "# "
        text = line.lstrip("#")
        out.append(text[1:] if text.startswith(" ") else text)
    return "\n".join(out)


def _polib_comment(raw_lines: list[str]) -> str:
    """What the reader makes of extracted comment lines (polib's text; empty ones skipped)."""
    lines = [raw.strip() for raw in raw_lines]
    return "\n".join(line[3:] if line[2:3].isspace() else line[2:]
                     for line in lines if line[2:].strip())


def detect_charset(data: bytes, path: Path | str = "") -> str:
    """The encoding a PO file's header declares (UTF-8 if none, or the `CHARSET` placeholder).

    An unknown charset is an error: the file cannot be read reliably.
    """
    match = _CHARSET.search(data)
    if match is None:
        return "utf-8"
    name = match.group(1).decode("ascii", "replace").strip()
    if name.upper() == "CHARSET":
        return "utf-8"
    try:
        codecs.lookup(name)
    except LookupError:
        line = data.count(b"\n", 0, match.start()) + 1
        raise CatalogError(f"unknown charset {name!r} in the Content-Type header", path,
                           line) from None
    return name


def _parser(data: bytes, path: Path | str) -> _Parser:
    """A parser over the decoded text; undecodable or binary data raises `CatalogError`."""
    encoding = detect_charset(data, path)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise CatalogError(f"invalid {encoding} byte sequence (the header says charset={encoding})",
                           path, line) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:  # gettext's tools would cut the string there; it is a damaged file
        raise CatalogError("NUL character (binary data in a text file)", path,
                           text.count("\n", 0, text.index("\x00")) + 1)
    return _Parser(text, path, encoding)


def parse_po(data: bytes, path: Path | str) -> polib.POFile:
    """Parse PO/POT bytes into a `polib.POFile`; any syntax error raises `CatalogError`."""
    parser = _parser(data, path)
    entries = parser.entries()
    header, metadata = parser.validate(entries)
    po = polib.POFile.__new__(polib.POFile)
    po.__dict__.update(
        fpath=str(path), wrapwidth=PAGE_WIDTH, encoding=parser.encoding,
        check_for_duplicates=False, header="", metadata={}, metadata_is_fuzzy=0,
    )  # fmt: skip
    po.header, raw_header = parser.header_comment()
    if raw_header is not None:
        po.__dict__["raw_header"] = raw_header
    list.extend(po, [_entry_object(e) for e in entries if e is not header])
    if header is not None:
        po.__dict__["metadata_is_fuzzy"] = header.flags
        po.__dict__["raw_metadata"] = header.msgstr  # msgcat keeps the header text as is
        po.metadata.update(metadata)
    return po


@dataclass(frozen=True, slots=True)
class ParsedEntries:
    """A catalogue as `parse_entries` reads it: its entries (header left out) and header fields."""

    entries: list[Entry]
    metadata: dict[str, str]


def parse_entries(data: bytes, path: Path | str) -> ParsedEntries:
    """`parse_po`'s entries without building polib objects (for counting and checking).

    The same parser and the same errors as `parse_po`; each `Entry` has polib's field names
    and `msgid_line`, the line of its `msgid` keyword.
    """
    parser = _parser(data, path)
    entries = parser.entries()
    header, metadata = parser.validate(entries)
    if header is not None:
        entries = [e for e in entries if e is not header]
    return ParsedEntries(entries, metadata)


def plural_forms_problem(forms: str) -> str | None:
    """Why a `Plural-Forms` value is invalid (as `msgfmt -c` sees it), or None.

    >>> plural_forms_problem("nplurals=2; plural=(n != 1);") is None
    True
    >>> print(plural_forms_problem("nplurals=2; plural=n %% 10;"))
    Plural-Forms: invalid plural expression 'n %% 10'
    """
    return _plural_forms_problem(forms)


@functools.lru_cache(maxsize=64)
def _plural_forms_problem(forms: str) -> str | None:
    if "INTEGER" in forms and "EXPRESSION" in forms:
        return None  # the template placeholder
    m = _NPLURALS.search(forms)
    if m is None or int(m.group(1)) < 1:
        return f"Plural-Forms header is not valid: {forms!r}"
    expr = forms[m.end():].split(";")[0].strip()
    try:
        gettext.c2py(expr)
    except (ValueError, SyntaxError, RecursionError):
        return f"Plural-Forms: invalid plural expression {expr!r}"
    return None


def _fail(path: Path | str, line: int, message: str) -> CatalogError:
    return CatalogError(message, path, line)


class _Parser:
    """gettext's PO grammar, building entries the way polib's state machine does."""

    def __init__(self, text: str, path: Path | str, encoding: str) -> None:
        self.text = text
        self.path = path
        self.encoding = encoding
        self.header_comments: list[str] = []
        self.raw_header: list[str] = []

    def string(self, token: str, lineno: int) -> str:
        """The value of one quoted string token, escapes decoded."""
        if "\\" not in token and token.count('"') == 2 and token[-1] == '"' and token[0] == '"':
            return token[1:-1]
        m = _STRING.fullmatch(token)
        if m is None:
            if not token.startswith('"'):
                raise _fail(self.path, lineno, f"expected a quoted string, found {token[:30]!r}")
            if _STRING.match(token):
                raise _fail(self.path, lineno, "unexpected text after the closing quote")
            raise _fail(self.path, lineno, "unterminated string (no closing quote)")
        inner = m.group(1)
        if "\\" not in inner:
            return inner
        if _OTHER_ESCAPE.search(inner) is None:
            # Only one-character escapes (the usual case): `\\` first, left to right, as the
            # lexer reads them; then the others, which cannot overlap.
            pieces = inner.split("\\\\")
            for i, piece in enumerate(pieces):
                if "\\" in piece:
                    for escape, char in _ESCAPE_PAIRS:
                        if escape in piece:
                            piece = piece.replace(escape, char)
                    pieces[i] = piece
            return "\\".join(pieces)

        def decode(sm: re.Match[str]) -> str:
            if sm.group(1) is not None:
                return _ESCAPE_IN[sm.group(1)]
            if sm.group(2) is not None:
                return chr(int(sm.group(2), 8))
            if sm.group(3) is not None:
                return chr(int(sm.group(3), 16) & 0xFF)
            bad = sm.group(4) or "end of string"
            raise _fail(self.path, lineno, f"invalid escape sequence \\{bad}")

        return _ESCAPE_SEQ.sub(decode, inner)

    def comment(self, entry: Entry, line: str, raw: str, state: str, obsolete: int,
                lineno: int) -> str:  # fmt: skip
        """Read one comment line other than `#:` (stripped, `#~|` already `#|`); the new state."""
        kind = line[1:2]
        if kind == "|":
            body = line[2:].strip()
            if body.startswith('"'):
                if state == "pc":
                    entry.previous_msgctxt = (entry.previous_msgctxt or "") + self.string(body,
                                                                                         lineno)
                elif state == "pm":
                    entry.previous_msgid = (entry.previous_msgid or "") + self.string(body, lineno)
                elif state == "pp":
                    entry.previous_msgid_plural = (entry.previous_msgid_plural or "") + self.string(
                        body, lineno)
                else:
                    raise _fail(self.path, lineno, "#| string continues nothing")
                return state
            km = _KEYWORD.match(body)
            if km is None or km.group(1) == "msgstr" or km.group(2) is not None:
                raise _fail(self.path, lineno,
                            "#| must be followed by msgctxt, msgid or msgid_plural")
            value = self.string(body[km.end():].strip(), lineno)
            if km.group(1) == "msgctxt":
                entry.previous_msgctxt = value
                return "pc"
            if km.group(1) == "msgid":
                entry.previous_msgid = value
                return "pm"
            entry.previous_msgid_plural = value
            return "pp"
        if kind == ".":
            if not obsolete:
                entry.raw_gc.append(raw)
            if len(line) <= 2 or line[2:].strip() == "":
                return state  # polib skips an empty `#.`
            # polib drops the character after the marker; with none (`#.text`, which polib
            # refuses) gettext reads the text from right after it.
            text = line[3:] if line[2:3].isspace() else line[2:]
            entry.comment = entry.comment + "\n" + text if entry.comment else text
            return "gc"
        if kind == ",":
            if not line[2:].strip():
                return state
            text = line[3:] if line[2:3].isspace() else line[2:]  # `#,fuzzy` is fuzzy to gettext
            entry.flags += [f.strip() for f in text.split(",")]
            return "fl"
        if line == "#":
            line = "# "
        if state in ("st", "he"):
            self.header_comments.append(line[2:])
            self.raw_header.append(raw)
            return "he"
        if not obsolete:
            entry.raw_tc.append(raw)
        tcomment = line.lstrip("#")
        if tcomment.startswith(" "):
            tcomment = tcomment[1:]
        entry.tcomment = entry.tcomment + "\n" + tcomment if entry.tcomment else tcomment
        return "tc"

    def entries(self) -> list[Entry]:  # noqa: C901 - one state machine, kept in one place
        """Every entry of the text (the header entry too), in file order."""
        path = self.path
        entries: list[Entry] = []
        entry = Entry(0)
        # States as polib names them: st start, he header comment, tc/gc/oc/fl comments,
        # pc/pm/pp previous, ct msgctxt, mi msgid, mp msgid_plural, ms msgstr, mx msgstr[N].
        state = "st"
        target = ""  # the field a continuation line extends
        plural_index = 0
        string = self.string
        comment = self.comment
        lines = self.text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        lineno = 0

        def finish(linenum: int) -> Entry:
            entries.append(entry)
            return Entry(linenum)

        for lineno, raw in enumerate(lines, 1):
            line = raw.strip()
            if not line:
                continue
            obsolete = 0
            first = line[0]
            if first == "#" and line.startswith("#~"):
                if line.startswith("#~|"):
                    line = "#|" + line[3:]
                    obsolete = 1
                else:
                    rest = line[2:].strip()
                    if not rest:
                        continue
                    line = rest
                    obsolete = 1
                first = line[0]
            if first == '"':
                if line[-1] == '"' and "\\" not in line and line.count('"') == 2:
                    value = line[1:-1]  # the usual case, without a call
                else:
                    value = string(line, lineno)
                if target == "":
                    raise _fail(path, lineno, "a string continues nothing (no keyword before it)")
                if target == "msgstr":  # the usual continuations first, without getattr
                    entry.msgstr += value
                elif target == "msgid":
                    entry.msgid += value
                elif target == "msgstr_plural":
                    entry.msgstr_plural[plural_index] += value
                else:
                    setattr(entry, target, getattr(entry, target) + value)
                continue
            if first == "m":
                keyword, _, rest = line.partition(" ")
                index: str | None = None
                if keyword not in _PLAIN_KEYWORDS:
                    m = _KEYWORD.match(line)
                    if m is None:
                        raise _fail(path, lineno, f"unknown keyword {line.split()[0][:30]!r}")
                    keyword, index, rest = m.group(1), m.group(2), line[m.end():]
                rest = rest.strip()
                if rest[-1:] == '"' and "\\" not in rest and rest.count('"') == 2 and rest[0] == '"':
                    value = rest[1:-1]
                else:
                    value = string(rest, lineno)
                if keyword == "msgctxt" or keyword == "msgid":
                    if state in ("ms", "mx"):
                        entry = finish(lineno)
                    elif state in ("mi", "mp"):
                        raise _fail(path, lineno, f"{keyword} after a msgid that has no msgstr")
                    elif state == "ct" and keyword == "msgctxt":
                        raise _fail(path, lineno, "two msgctxt in one entry")
                    if index is not None:
                        raise _fail(path, lineno, f"{keyword} takes no [index]")
                    if keyword == "msgctxt":
                        entry.msgctxt = value
                        state, target = "ct", "msgctxt"
                    else:
                        entry.msgid = value
                        entry.obsolete = obsolete
                        entry.msgid_line = lineno
                        state, target = "mi", "msgid"
                elif keyword == "msgid_plural":
                    if state != "mi":
                        raise _fail(path, lineno, "msgid_plural without a msgid before it")
                    entry.msgid_plural = value
                    state, target = "mp", "msgid_plural"
                elif index is None:
                    if state == "mp":
                        raise _fail(path, lineno, "plural entry needs msgstr[0], msgstr[1]…, not msgstr")
                    if state != "mi":
                        raise _fail(path, lineno, "msgstr without a msgid before it")
                    entry.msgstr = value
                    entry.has_msgstr = True
                    state, target = "ms", "msgstr"
                else:
                    n = int(index)
                    if state == "mi":
                        raise _fail(path, lineno, f"msgstr[{n}] without msgid_plural")
                    if state not in ("mp", "mx"):
                        raise _fail(path, lineno, f"msgstr[{n}] without a msgid before it")
                    if n != len(entry.msgstr_plural):
                        raise _fail(path, lineno, f"msgstr[{n}] out of order "
                                    f"(expected msgstr[{len(entry.msgstr_plural)}])")
                    entry.msgstr_plural[n] = value
                    entry.has_msgstr = True
                    plural_index = n
                    state, target = "mx", "msgstr_plural"
                continue
            if first != "#":
                raise _fail(path, lineno, f"unexpected text {line[:40]!r} (not a comment, "
                            "keyword or quoted string)")
            # A comment line.
            if state in ("mi", "mp", "ct"):
                raise _fail(path, lineno, "comment between msgid and msgstr (msgstr missing?)")
            if state in ("ms", "mx"):
                entry = finish(lineno)
                state = "tc"  # a new entry has begun, even if this line (`#,`) adds nothing
            target = ""
            if line[1:2] == ":":  # references, the most frequent comment: read here, no call
                refs = line[2:].split()  # `#:a.html:3` too, as gettext reads it
                if refs:
                    for ref in refs:
                        fil, sep, num = ref.rpartition(":")
                        if not sep or not num.isdigit():
                            fil, num = ref, ""
                        entry.occurrences.append((fil, num))
                    state = "oc"
                continue
            state = comment(entry, line, raw, state, obsolete, lineno)
        if state in ("mi", "mp", "ct"):
            raise _fail(path, lineno, "file ends inside an entry (msgstr missing: truncated file?)")
        if state in ("ms", "mx"):
            entries.append(entry)
        elif state in ("pc", "pm", "pp"):
            raise _fail(path, lineno, "file ends after #| lines with no entry (truncated file?)")
        return entries

    def header_comment(self) -> tuple[str, list[str] | None]:
        """The file's header comment as polib reads it, and its raw lines if gettext's differ."""
        header = "\n".join(self.header_comments)
        raw = self.raw_header
        if raw and "\n".join(_gettext_comment(r, 1) for r in raw) != header:
            return header, raw
        return header, None

    def validate(self, entries: list[Entry]) -> tuple[Entry | None, dict[str, str]]:
        """Duplicate, header and plural checks; the header entry and its fields."""
        path = self.path
        header: Entry | None = None
        seen: dict[tuple[str | None, str], int] = {}
        plural_lines: list[int] = []
        for e in entries:
            if e.obsolete:
                continue
            key = (e.msgctxt, e.msgid or "")
            if key in seen:
                what = f"msgid {e.msgid!r}" + (f" in msgctxt {e.msgctxt!r}" if e.msgctxt else "")
                raise _fail(path, e.msgid_line, f"duplicate entry: {what[:80]} "
                            f"(first defined at line {seen[key]})")
            seen[key] = e.msgid_line
            if header is None and e.msgid == "":
                header = e
            if e.msgid_plural:
                plural_lines.append(e.msgid_line)
        metadata = parse_metadata(header.msgstr) if header is not None else {}
        forms = metadata.get("Plural-Forms")
        if forms is not None and header is not None and (problem := plural_forms_problem(forms)):
            raise _fail(path, header.msgid_line, problem)
        if plural_lines:
            self.check_plurals(metadata, entries, plural_lines, header)
        return header, metadata

    def check_plurals(
        self, metadata: dict[str, str], entries: list[Entry], plural_lines: list[int],
        header: Entry | None,
    ) -> None:  # fmt: skip
        """Plural entries need a valid `Plural-Forms` header and at most nplurals forms."""
        forms = metadata.get("Plural-Forms")
        where = header.msgid_line if header is not None else plural_lines[0]
        if forms is None:
            if str(self.path).endswith(".pot"):
                return
            raise _fail(self.path, where, "plural entries but no Plural-Forms header "
                        "(expected e.g. 'Plural-Forms: nplurals=2; plural=(n != 1);')")
        if "INTEGER" in forms and "EXPRESSION" in forms:
            return  # the template placeholder
        m = _NPLURALS.search(forms)
        if m is None:
            raise _fail(self.path, where, f"Plural-Forms header is not valid: {forms!r}")
        nplurals = int(m.group(1))
        for e in entries:
            if e.msgid_plural and not e.obsolete and len(e.msgstr_plural) != nplurals:
                raise _fail(self.path, e.msgid_line, f"{len(e.msgstr_plural)} plural forms "
                            f"(msgstr[0]…msgstr[{len(e.msgstr_plural) - 1}]) but the header says "
                            f"nplurals={nplurals}")


# --------------------------------------------------------------------------- writing


def _directive_inner(value: str, flags: _Flags) -> list[bool] | None:
    """For each character: inside a format directive but not its first character."""
    pattern = flags.directive
    if pattern is None or ("%" not in value and "{" not in value and "$" not in value):
        return None
    inner = [False] * len(value)
    found = False
    for m in pattern.finditer(value):
        for j in range(m.start() + 1, m.end()):
            inner[j] = True
        found = True
    return inner if found else None


class _Flags:
    """An entry's flags as gettext understands them (the last mention of each kind wins)."""

    __slots__ = ("fuzzy", "formats", "range", "wrap", "directive", "_lines")

    def __init__(self, flags: list[str]) -> None:
        self.fuzzy = False
        self.formats: list[str | None] = [None] * len(FORMAT_LANGUAGES)
        self.range: str | None = None
        self.wrap: bool | None = None
        for flag in flags:
            if flag == "fuzzy":
                self.fuzzy = True
            elif flag == "wrap":
                self.wrap = True
            elif flag == "no-wrap":
                self.wrap = False
            elif flag.endswith("-format"):
                name = flag[:-7]
                state: str | None = "yes"
                for prefix in ("no-", "possible-", "impossible-"):
                    if name.startswith(prefix) and name[len(prefix):] in _FORMAT_INDEX:
                        state, name = prefix[:-1], name[len(prefix):]
                        break
                if name in _FORMAT_INDEX:
                    self.formats[_FORMAT_INDEX[name]] = state
            elif flag.startswith("range:"):
                m = re.fullmatch(r"range:\s*(\d+)\s*\.\.\s*(\d+)", flag)
                if m and int(m.group(1)) < int(m.group(2)):
                    self.range = f"range: {int(m.group(1))}..{int(m.group(2))}"
        self._lines = (self._line(False), self._line(True))
        # msgcat keeps directives of the first possible format kind unbroken.
        self.directive: re.Pattern[str] | None = None
        for i, state in enumerate(self.formats):
            if state in ("yes", "possible"):
                self.directive = _DIRECTIVES.get(FORMAT_LANGUAGES[i])
                break

    def line(self, translated: bool) -> str | None:
        """The `#,` line msgcat writes, or None."""
        return self._lines[translated]

    def _line(self, translated: bool) -> str | None:
        parts = ["fuzzy"] if self.fuzzy and translated else []
        for i, state in enumerate(self.formats):
            if state in ("yes", "possible"):
                parts.append(f"{FORMAT_LANGUAGES[i]}-format")
            elif state == "no":
                parts.append(f"no-{FORMAT_LANGUAGES[i]}-format")
        if self.range:
            parts.append(self.range)
        if self.wrap is False:
            parts.append("no-wrap")
        return "#, " + ", ".join(parts) if parts else None


_FLAGS_CACHE: dict[tuple[str, ...], _Flags] = {}
_WRAP_CACHE: dict[tuple[str, str, str, bool | None, re.Pattern[str] | None], list[str]] = {}
_WRAP_CACHE_SIZE = 4_000  # msgids recur in an article's POT and every language's PO: render once (bounded: each entry holds a paragraph twice; 100,000 of them were 120 MB per extract worker)


def _flags_of(flags: list[str]) -> _Flags:
    key = tuple(flags)
    found = _FLAGS_CACHE.get(key)
    if found is None:
        found = _FLAGS_CACHE[key] = _Flags(flags)
    return found


def _wrap(
    out: list[str], prefix: str, name: str, value: str, flags: _Flags,
    inner: list[bool] | None,
) -> None:  # fmt: skip
    """Append `name "value"` lines as write-po.c's `wrap()` prints them."""
    if len(value) + len(name) < 60 and "\n" not in value and not _NEEDS_ESCAPE.search(value):
        if value.isascii() or is_simple(value):
            out.append(f'{prefix}{name} "{value}"')
            return
    key = (prefix, name, value, flags.wrap, flags.directive)
    lines = _WRAP_CACHE.get(key)
    if lines is None:
        lines = []
        _wrap_lines(lines, prefix, name, value, flags, inner)
        if len(_WRAP_CACHE) >= _WRAP_CACHE_SIZE:
            _WRAP_CACHE.clear()
        _WRAP_CACHE[key] = lines
    out.extend(lines)


def _wrap_lines(
    out: list[str], prefix: str, name: str, value: str, flags: _Flags,
    inner: list[bool] | None,
) -> None:  # fmt: skip
    after_break = len(prefix) + 1
    width = (PAGE_WIDTH if flags.wrap is not False else 1 << 30) - 1 - after_break
    first_line = True
    start = 0
    n = len(value)
    while True:
        end = value.find("\n", start)
        end = n if end < 0 else end + 1
        seg = value[start:end]
        more = end < n
        # Positions in the escaped portion where gettext forbids a break.
        prohibited: set[int] = set()
        if inner is None:
            if _NEEDS_ESCAPE.search(seg):
                portion = _NEEDS_ESCAPE.sub(_escape_match, seg)
                prohibited.update(m.start() + 1 for m in _ESCAPED_PAIR.finditer(portion))
            else:
                portion = seg
        elif _NEEDS_ESCAPE.search(seg):
            parts: list[str] = []
            pos = 0
            for j, ch in enumerate(seg, start):
                esc = _ESCAPE_OUT.get(ch)
                if inner is not None and inner[j]:
                    prohibited.add(pos)
                if esc is None:
                    parts.append(ch)
                    pos += 1
                else:
                    parts.append(esc)
                    prohibited.add(pos + 1)
                    pos += 2
            portion = "".join(parts)
        else:
            portion = seg
            prohibited.update(i - start for i in range(start, end) if inner[i])
        if seg.endswith("\n"):
            prohibited.add(len(portion) - 2)
        if first_line and portion:
            # Does the text go under an empty `name ""` line (several lines, or one that does
            # not fit after the keyword)? Then its cuts are those from column 0.
            below, cuts = _first_cuts(portion, width, len(name) + 1, prohibited, more)
            if below:
                out.append(f'{prefix}{name} ""')
                first_line = False
        else:
            cuts = _cuts(portion, width, 0, prohibited)
        head = f"{prefix}{name} " if first_line else prefix
        first_line = False
        if not cuts:
            out.append(f'{head}"{portion}"')
        else:
            pieces = [portion[a:b] for a, b in zip([0, *cuts], [*cuts, len(portion)], strict=True)]
            out.append(f'{head}"{pieces[0]}"')
            out.extend(f'{prefix}"{piece}"' for piece in pieces[1:])
        start = end
        if start >= n:
            break


def _first_cuts(portion: str, width: int, startcol: int, prohibited: set[int],
                more: bool) -> tuple[bool, list[int]]:  # fmt: skip
    """For a string's first portion: whether it goes below an empty `name ""` line, and its
    cuts (from column 0 if it does, else from `startcol`, after the keyword).

    As msgcat: below when more portions follow or when the portion breaks after the keyword.
    That is `_cuts` twice (from `startcol`, then from 0); for a simple text (`is_simple`, the
    usual case) once: a simple text too long for a line at all breaks, from any column,
    exactly when it has a break opportunity somewhere (`simple_width_cuts` takes the last one
    that fits, else the first after it), so the cuts from 0 say both. (Every long msgstr was
    broken twice: a tenth of rendering a catalogue.)
    """
    if more:
        return True, _cuts(portion, width, 0, prohibited)
    if is_simple(portion):
        n = len(portion)
        if startcol + n <= width:
            return False, []  # (fits after the keyword)
        if n > width:
            cuts = simple_width_cuts(portion, width, 0, prohibited)
            return bool(cuts), cuts
        # Fits a line of its own: below only if it can break after the keyword.
        return bool(simple_width_cuts(portion, width, startcol, prohibited)), []
    cuts = _cuts(portion, width, startcol, prohibited)
    if cuts:
        return True, _cuts(portion, width, 0, prohibited)
    return False, cuts


def _cuts(portion: str, width: int, startcol: int, prohibited: set[int]) -> list[int]:
    """Positions where msgcat breaks the escaped portion (libunistring's greedy fill)."""
    simple = is_simple(portion)
    if startcol + (len(portion) if simple else text_width(portion)) <= width:
        return []
    if simple:
        return simple_width_cuts(portion, width, startcol, prohibited)
    overrides = [BREAK_PROHIBITED if i in prohibited else BREAK_UNDEFINED for i in range(len(portion))]
    breaks = width_linebreaks(portion, width, startcol, overrides)
    return [i for i, b in enumerate(breaks) if b == BREAK_POSSIBLE]


def _references(occurrences: list[tuple[str, str]]) -> list[str]:
    """`#:` lines: gettext drops duplicates and `./`, and fills lines up to the page width."""
    if len(occurrences) == 1:  # the usual case: one reference always goes on one line
        fil, num = occurrences[0]
        while fil.startswith("./"):
            fil = fil[2:]
        return [f"#: {fil}:{num}" if num else f"#: {fil}"]
    lines: list[str] = []
    seen: set[tuple[str, str]] = set()
    current = "#:"
    column = 2
    for fil, num in occurrences:
        while fil.startswith("./"):
            fil = fil[2:]
        if (fil, num) in seen:
            continue
        seen.add((fil, num))
        ref = f"{fil}:{num}" if num else fil
        length = len(ref.encode("utf-8")) + 1
        if column > 2 and column + length > PAGE_WIDTH:
            lines.append(current)
            current = "#:"
            column = 2
        current += " " + ref
        column += length
    lines.append(current)
    return lines


def _comment_lines(marker: str, text: str) -> list[str]:
    return [f"{marker} {line}" if line else marker for line in text.split("\n")]


def _raw_comment_lines(marker: str, raw_lines: list[str]) -> list[str]:
    out = []
    for raw in raw_lines:
        text = _gettext_comment(raw, len(marker))
        out.append(f"{marker} {text}" if text else marker)
    return out


def _render_entry(out: list[str], e: polib.POEntry, obsolete: bool) -> None:
    raw = getattr(e, "raw_tcomment", None)
    if raw is not None and _polib_tcomment(raw) == e.tcomment:
        out.extend(_raw_comment_lines("#", raw))
    elif e.tcomment:
        out.extend(_comment_lines("#", e.tcomment))
    raw = getattr(e, "raw_comment", None)
    if raw is not None and _polib_comment(raw) == e.comment:
        out.extend(_raw_comment_lines("#.", raw))
    elif e.comment:
        out.extend(_comment_lines("#.", e.comment))
    if e.occurrences:
        out.extend(_references(e.occurrences))
    flags = _flags_of(e.flags)
    plural = bool(e.msgid_plural)
    forms = [e.msgstr_plural[k] for k in sorted(e.msgstr_plural)] if plural else [e.msgstr]
    translated = bool(forms and forms[0])
    flag_line = flags.line(translated)
    if flag_line:
        out.append(flag_line)
    prev = "#~| " if obsolete else "#| "
    plain = "#~ " if obsolete else ""
    no_inner = None
    if flags.directive is None:  # no format flag: nothing to keep unbroken (the usual case)
        _render_plain(out, e, flags, prev, plain, plural, forms)
        return
    if e.previous_msgctxt is not None:
        _wrap(out, prev, "msgctxt", e.previous_msgctxt, flags, no_inner)
    if e.previous_msgid is not None:
        _wrap(out, prev, "msgid", e.previous_msgid, flags, _directive_inner(e.previous_msgid, flags))
    if e.previous_msgid_plural is not None:
        _wrap(out, prev, "msgid_plural", e.previous_msgid_plural, flags,
              _directive_inner(e.previous_msgid_plural, flags))
    if e.msgctxt is not None:
        _wrap(out, plain, "msgctxt", e.msgctxt, flags, no_inner)
    _wrap(out, plain, "msgid", e.msgid, flags, _directive_inner(e.msgid, flags))
    if plural:
        _wrap(out, plain, "msgid_plural", e.msgid_plural, flags,
              _directive_inner(e.msgid_plural, flags))
        for i, form in enumerate(forms or [""]):
            _wrap(out, plain, f"msgstr[{i}]", form, flags, _directive_inner(form, flags))
    else:
        _wrap(out, plain, "msgstr", e.msgstr, flags, _directive_inner(e.msgstr, flags))


def _render_plain(out: list[str], e: polib.POEntry, flags: _Flags, prev: str, plain: str,
                  plural: bool, forms: list[str]) -> None:  # fmt: skip
    """`_render_entry`'s strings for an entry without format directives."""
    if e.previous_msgctxt is not None:
        _wrap(out, prev, "msgctxt", e.previous_msgctxt, flags, None)
    if e.previous_msgid is not None:
        _wrap(out, prev, "msgid", e.previous_msgid, flags, None)
    if e.previous_msgid_plural is not None:
        _wrap(out, prev, "msgid_plural", e.previous_msgid_plural, flags, None)
    if e.msgctxt is not None:
        _wrap(out, plain, "msgctxt", e.msgctxt, flags, None)
    _wrap(out, plain, "msgid", e.msgid, flags, None)
    if plural:
        _wrap(out, plain, "msgid_plural", e.msgid_plural, flags, None)
        for i, form in enumerate(forms or [""]):
            _wrap(out, plain, f"msgstr[{i}]", form, flags, None)
    else:
        _wrap(out, plain, "msgstr", e.msgstr, flags, None)


def header_entry(po: polib.POFile) -> polib.POEntry | None:
    """The header as an entry (msgid ""), or None when the catalogue has none."""
    has_header = bool(po.metadata) or isinstance(po.metadata_is_fuzzy, list)
    if not has_header:
        return None
    raw = getattr(po, "raw_metadata", None)
    if raw is not None and parse_metadata(raw) == po.metadata:
        msgstr = raw
    else:
        msgstr = "".join(f"{k}: {v}\n" for k, v in po.metadata.items())
    fuzzy: object = po.metadata_is_fuzzy
    flags: list[str] = list(fuzzy) if isinstance(fuzzy, list) else []
    entry = polib.POEntry(msgid="", msgstr=msgstr, tcomment=po.header, flags=flags)
    raw_header = getattr(po, "raw_header", None)
    if raw_header is not None:
        entry.__dict__["raw_tcomment"] = raw_header
    return entry


def parse_metadata(msgstr: str) -> dict[str, str]:
    """Header fields as polib reads them (continuation lines join the previous field)."""
    metadata: dict[str, str] = {}
    key = None
    for msg in msgstr.splitlines():
        try:
            key, val = msg.split(":", 1)
            metadata[key] = val.strip()
        except ValueError:
            if key is not None:
                metadata[key] += "\n" + msg.strip()
    return metadata


def render_po(po: polib.POFile) -> str:
    """The text `msgcat` would write for this catalogue (UTF-8 or the header's charset)."""
    out: list[str] = []
    blocks: list[tuple[polib.POEntry, bool]] = []
    header = header_entry(po)
    if header is not None:
        blocks.append((header, False))
    elif po.header:
        # polib files a comment above a header-less first entry as the file's header.
        out.extend(_comment_lines("#", po.header))
    blocks += [(e, False) for e in po if not e.obsolete]
    for e in po:
        if not e.obsolete:
            continue
        forms = [e.msgstr_plural[k] for k in sorted(e.msgstr_plural)] if e.msgid_plural else [
            e.msgstr]
        if forms and forms[0]:
            blocks.append((e, True))
    for i, (e, obsolete) in enumerate(blocks):
        if i:
            out.append("")
        _render_entry(out, e, obsolete)
    return "\n".join(out) + "\n" if out else ""


def catalog_charset(po: polib.POFile) -> str:
    """The charset the header declares (gettext's rule), `utf-8` when absent or a placeholder."""
    content_type = po.metadata.get("Content-Type", "")
    m = re.search(r"charset=([^\s;]+)", content_type)
    if m is None or m.group(1) == "CHARSET":
        return "utf-8"
    try:
        return codecs.lookup(m.group(1)).name
    except LookupError:
        return "utf-8"


Reader = Callable[[bytes, Path], polib.POFile]
